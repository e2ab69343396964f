package scenarios

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// BurntSushi/toml reports where a syntax error is, but not where a key or a
// value is written. The loader needs that for every semantic error, so it
// scans the source once more and builds an index from paths in the decoded
// tree to byte offsets.
//
// A path names a node the way the loader walks the tree: keys joined by
// dots, array elements as [i], e.g. service[2].call[0].timeout. Keys that are
// not bare TOML keys are quoted, so that a path is never ambiguous.
//
// The scanner runs only on source that toml.Decode accepted, so it may
// assume valid TOML; on anything else it must still terminate without
// panicking, because a wrong position is harmless and a crash is not.

// span is where a node is written.
type span struct {
	key int // the key; for a table header, the last name in the brackets
	val int // the value; for a table header, its opening '['
}

type index struct {
	src   string
	lines []int // byte offset where each line starts
	at    map[string]span
}

// join appends key to path.
func join(path, key string) string {
	if !isBareKey(key) {
		key = strconv.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// elem is the path of element i of the array at path.
func elem(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func isBareKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isBareKeyByte(s[i]) {
			return false
		}
	}
	return true
}

func isBareKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// newIndex knows the lines of src, which is all a syntax error needs; scan
// adds the paths.
func newIndex(src string) *index {
	ix := &index{src: src, lines: []int{0}, at: make(map[string]span)}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			ix.lines = append(ix.lines, i+1)
		}
	}
	return ix
}

// scan indexes every table, key and array element of the source.
func (ix *index) scan() {
	sc := scanner{s: ix.src, ix: ix, arrays: make(map[string]int)}
	sc.document()
}

// find returns where path is written. A node that is not in the index (a
// key inside something the scanner does not follow) falls back to its
// nearest indexed ancestor, and the document itself to its first byte.
func (ix *index) find(path string) span {
	for path != "" {
		if sp, ok := ix.at[path]; ok {
			return sp
		}
		path = parent(path)
	}
	return span{}
}

// parent strips the last key or [i] from path. Quoted keys may contain '.'
// and '[', so the path is cut only outside quotes.
func parent(path string) string {
	cut, quoted := 0, false
	for i := 0; i < len(path); i++ {
		switch c := path[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && (c == '.' || c == '['):
			cut = i
		}
	}
	return path[:cut]
}

// lineCol converts a byte offset to a 1-based line and byte column.
func (ix *index) lineCol(off int) (line, col int) {
	off = min(max(off, 0), len(ix.src))
	n := sort.Search(len(ix.lines), func(i int) bool { return ix.lines[i] > off })
	return n, off - ix.lines[n-1] + 1
}

// line returns line n (1-based) without its line ending, or "" past the end.
func (ix *index) line(n int) string {
	if n < 1 || n > len(ix.lines) {
		return ""
	}
	end := len(ix.src)
	if n < len(ix.lines) {
		end = ix.lines[n] - 1
	}
	return strings.TrimSuffix(ix.src[ix.lines[n-1]:end], "\r")
}

type scanner struct {
	s  string
	i  int
	ix *index
	// arrays counts the elements seen so far of each array of tables, by
	// resolved path, so that [[service.call]] resolves to the calls of the
	// most recent [[service]].
	arrays map[string]int
}

// record indexes path at sp unless it is already indexed: the first place
// that mentions a table is where it is defined.
func (sc *scanner) record(path string, sp span) {
	if _, ok := sc.ix.at[path]; !ok {
		sc.ix.at[path] = sp
	}
}

func (sc *scanner) peek(c byte) bool { return sc.i < len(sc.s) && sc.s[sc.i] == c }

// skip passes over spaces and comments, and over line breaks too when
// newlines is set (inside brackets, or between top-level items).
func (sc *scanner) skip(newlines bool) {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t':
			sc.i++
		case '\r', '\n':
			if !newlines {
				return
			}
			sc.i++
		case '#':
			for sc.i < len(sc.s) && sc.s[sc.i] != '\n' {
				sc.i++
			}
		default:
			return
		}
	}
}

// skipLine passes the rest of the line, which in valid TOML after a header
// or a top-level value holds at most a comment.
func (sc *scanner) skipLine() {
	for sc.i < len(sc.s) && sc.s[sc.i] != '\n' {
		sc.i++
	}
}

func (sc *scanner) document() {
	table := "" // resolved path of the current [table] or [[array]] element
	for {
		sc.skip(true)
		if sc.i >= len(sc.s) {
			return
		}
		start := sc.i
		if sc.s[sc.i] == '[' {
			table = sc.header()
		} else {
			sc.keyValue(table)
		}
		sc.skipLine()
		if sc.i == start {
			sc.i++ // not TOML: move on rather than loop
		}
	}
}

// header reads [a.b] or [[a.b]] and returns the path it opens.
func (sc *scanner) header() string {
	open := sc.i
	sc.i++
	array := sc.peek('[')
	if array {
		sc.i++
	}
	names, offs := sc.key()
	path := ""
	for k, name := range names {
		path = join(path, name)
		sp := span{key: offs[k], val: open}
		sc.record(path, sp)
		if k == len(names)-1 && array {
			n := sc.arrays[path]
			sc.arrays[path] = n + 1
			path = elem(path, n)
			sc.record(path, sp)
		} else if n := sc.arrays[path]; n > 0 {
			// [a.b] and [[a.b]] extend the last element of an array a.
			path = elem(path, n-1)
		}
	}
	return path
}

// keyValue reads key = value under table.
func (sc *scanner) keyValue(table string) {
	names, offs := sc.key()
	if len(names) == 0 {
		return
	}
	path := table
	for k, name := range names[:len(names)-1] {
		path = join(path, name)
		sc.record(path, span{key: offs[k], val: offs[k]})
	}
	path = join(path, names[len(names)-1])
	sc.skip(false)
	if sc.peek('=') {
		sc.i++
	}
	sc.skip(false)
	sc.ix.at[path] = span{key: offs[len(offs)-1], val: sc.i}
	sc.value(path)
}

// key reads a possibly dotted key and returns its parts and their offsets.
func (sc *scanner) key() (names []string, offs []int) {
	for {
		sc.skip(false)
		off := sc.i
		var name string
		if sc.peek('"') || sc.peek('\'') {
			q := sc.s[sc.i]
			raw := sc.str()
			name = raw
			if q == '"' {
				// Escapes in keys are rare; an escape Unquote does not know
				// only costs a position, which then falls back to the table.
				if u, err := strconv.Unquote(`"` + raw + `"`); err == nil {
					name = u
				}
			}
		} else {
			for sc.i < len(sc.s) && isBareKeyByte(sc.s[sc.i]) {
				sc.i++
			}
			if sc.i == off {
				return names, offs
			}
			name = sc.s[off:sc.i]
		}
		names = append(names, name)
		offs = append(offs, off)
		sc.skip(false)
		if !sc.peek('.') {
			return names, offs
		}
		sc.i++
	}
}

func (sc *scanner) value(path string) {
	if sc.i >= len(sc.s) {
		return
	}
	switch sc.s[sc.i] {
	case '"', '\'':
		sc.str()
	case '[':
		sc.array(path)
	case '{':
		sc.inlineTable(path)
	default:
		sc.scalar()
	}
}

func (sc *scanner) array(path string) {
	sc.i++
	for n := 0; ; {
		sc.skip(true)
		if sc.i >= len(sc.s) {
			return
		}
		switch sc.s[sc.i] {
		case ']':
			sc.i++
			return
		case ',':
			sc.i++
			continue
		}
		start := sc.i
		p := elem(path, n)
		sc.ix.at[p] = span{key: start, val: start}
		sc.value(p)
		n++
		if sc.i == start {
			sc.i++
		}
	}
}

func (sc *scanner) inlineTable(path string) {
	sc.i++
	for {
		sc.skip(true)
		if sc.i >= len(sc.s) {
			return
		}
		switch sc.s[sc.i] {
		case '}':
			sc.i++
			return
		case ',':
			sc.i++
			continue
		}
		start := sc.i
		sc.keyValue(path)
		if sc.i == start {
			sc.i++
		}
	}
}

// scalar passes a number, boolean or date-time.
func (sc *scanner) scalar() {
	start := sc.i
	sc.pass()
	// A date-time may separate the date from the time with a space.
	if tok := sc.s[start:sc.i]; len(tok) == len("2006-01-02") && tok[4] == '-' &&
		sc.i+1 < len(sc.s) && sc.s[sc.i] == ' ' && sc.s[sc.i+1] >= '0' && sc.s[sc.i+1] <= '9' {
		sc.i++
		sc.pass()
	}
}

func (sc *scanner) pass() {
	for sc.i < len(sc.s) && !strings.ContainsRune(" \t\r\n,]}#", rune(sc.s[sc.i])) {
		sc.i++
	}
}

// str passes a string of any of TOML's four kinds and returns its body
// between the delimiters, escapes untouched.
func (sc *scanner) str() string {
	q := sc.s[sc.i]
	basic := q == '"'
	delim := strings.Repeat(string(q), 3)
	if strings.HasPrefix(sc.s[sc.i:], delim) {
		sc.i += len(delim)
		start := sc.i
		for sc.i < len(sc.s) {
			switch c := sc.s[sc.i]; {
			case basic && c == '\\':
				sc.i += 2
			case strings.HasPrefix(sc.s[sc.i:], delim):
				// Up to two quotes may end the body just before the
				// closing delimiter: """a""""" is a"".
				run := 3
				for run < 5 && sc.i+run < len(sc.s) && sc.s[sc.i+run] == q {
					run++
				}
				body := sc.s[start : sc.i+run-3]
				sc.i += run
				return body
			default:
				sc.i++
			}
		}
		sc.i = len(sc.s)
		return sc.s[start:]
	}
	sc.i++
	start := sc.i
	for sc.i < len(sc.s) {
		switch c := sc.s[sc.i]; {
		case basic && c == '\\':
			sc.i += 2
		case c == q:
			sc.i++
			return sc.s[start : sc.i-1]
		case c == '\n':
			return sc.s[start:sc.i]
		default:
			sc.i++
		}
	}
	sc.i = len(sc.s)
	return sc.s[start:]
}

// stringByte returns the offset in src of byte n of the value of the string
// whose literal starts at off, following escapes and the rules of
// multi-line strings, so that a caret can point inside the string at the
// byte a parser of the value complained about. When off is not a string,
// it returns off.
func stringByte(src string, off, n int) int {
	if off >= len(src) || (src[off] != '"' && src[off] != '\'') {
		return off
	}
	q := src[off]
	multi := strings.HasPrefix(src[off:], strings.Repeat(string(q), 3))
	i := off + 1
	if multi {
		i = off + 3
		// A line break right after the opening delimiter is not part of
		// the value.
		if strings.HasPrefix(src[i:], "\r\n") {
			i += 2
		} else if strings.HasPrefix(src[i:], "\n") {
			i++
		}
	}
	for i < len(src) && n > 0 {
		c := src[i]
		if q == '\'' || c != '\\' {
			if !multi && c == q {
				break
			}
			i++
			n--
			continue
		}
		if i+1 >= len(src) {
			break
		}
		switch e := src[i+1]; e {
		case 'x', 'u', 'U':
			width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			hex := src[i+2 : min(i+2+width, len(src))]
			r, err := strconv.ParseUint(hex, 16, 32)
			size := 3 // what an invalid rune becomes
			if err == nil && utf8.ValidRune(rune(r)) {
				size = utf8.RuneLen(rune(r))
			}
			i += 2 + len(hex)
			n -= size
		case ' ', '\t', '\r', '\n':
			// A line-ending backslash drops the whitespace after it.
			i++
			for i < len(src) && strings.IndexByte(" \t\r\n", src[i]) >= 0 {
				i++
			}
		default:
			i += 2
			n--
		}
	}
	return min(i, len(src))
}
