package scenarios

import (
	"fmt"
	"io"
	"io/fs"
	"os"
)

// The loader bounds what it reads, so that no file can exhaust memory or
// the stack before the engine's own memory budget applies: /dev/zero, a
// named pipe nobody writes to, a 50 MB file of services, a value nested
// ten thousand levels deep. The largest built-in scenario is a few KB.
const (
	// MaxFileSize is the largest scenario file read: 16 MiB.
	MaxFileSize = 16 << 20
	// MaxDepth is how deeply arrays, inline tables and dotted keys may
	// nest: a scenario needs three or four levels.
	MaxDepth = 32
	// MaxDuration is the longest a run may last, however its duration
	// is set (the file, --set, --duration, compare's --windows).
	MaxDuration = maxDuration
)

// readFile reads a scenario file. It must be a regular file (a device or
// a named pipe could block for ever or never end), of at most MaxFileSize
// bytes; the read itself is bounded too, since a file may grow meanwhile.
func readFile(path string) ([]byte, error) { return readBounded(path, "a scenario") }

// readBounded reads a file of what kind ("a scenario", "a samples file")
// under the bounds of readFile.
func readBounded(path, what string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s, not a regular file: %s is read from a file", path, fileKind(fi.Mode()), what)
	}
	if fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s is %s, larger than %s may be (%d MiB)", path, sizeMiB(fi.Size()), what, MaxFileSize>>20)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s is larger than %s may be (%d MiB)", path, what, MaxFileSize>>20)
	}
	return data, nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

func sizeMiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// checkDepth returns the offset at which src nests deeper than MaxDepth,
// or -1. It counts the brackets and braces of values and the parts of
// dotted keys, outside strings and comments: the TOML decoder nests a map
// per part and recurses per level, so depth costs memory and stack. It
// runs before the decoder, on any text, so it only needs to be right
// about nesting, not about the rest of the syntax.
func checkDepth(src string) int {
	var (
		stack   []byte // the open brackets and braces
		keyMode = true // reading a key: at a line's start at the top level, in a header, after { or , in an inline table
		dots    int    // the parts of the key being read, beyond the first
	)
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '"', '\'':
			i = skipString(src, i)
			continue
		case '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i-- // the newline is handled below
			continue
		case '\n':
			if len(stack) == 0 {
				keyMode, dots = true, 0
			}
		case '=':
			keyMode, dots = false, 0
		case '.':
			if keyMode {
				dots++
			}
		case '[':
			if keyMode && len(stack) == 0 {
				// A table header: its key follows.
				if i+1 < len(src) && src[i+1] == '[' {
					i++
				}
				stack = append(stack, 'h')
				break
			}
			stack = append(stack, '[')
			keyMode = false
		case '{':
			stack = append(stack, '{')
			keyMode, dots = true, 0
		case ']', '}':
			if n := len(stack); n > 0 {
				if stack[n-1] == 'h' && i+1 < len(src) && src[i+1] == ']' {
					i++
				}
				stack = stack[:n-1]
			}
			if len(stack) == 0 {
				keyMode, dots = false, 0
			}
		case ',':
			if n := len(stack); n > 0 && stack[n-1] == '{' {
				keyMode, dots = true, 0
			}
		}
		if len(stack)+dots > MaxDepth {
			return i
		}
	}
	return -1
}

// skipString returns the offset of the last byte of the string that
// starts at i: basic or literal, on one line or several.
func skipString(src string, i int) int {
	q := src[i]
	if i+2 < len(src) && src[i+1] == q && src[i+2] == q {
		end := string([]byte{q, q, q})
		for j := i + 3; j+2 < len(src); j++ {
			if q == '"' && src[j] == '\\' {
				j++
				continue
			}
			if src[j:j+3] == end {
				// A closing run may be longer: """"" ends at its last quote.
				for j+3 < len(src) && src[j+3] == q {
					j++
				}
				return j + 2
			}
		}
		return len(src) - 1
	}
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			if q == '"' {
				j++
			}
		case q, '\n':
			return j
		}
	}
	return len(src) - 1
}
