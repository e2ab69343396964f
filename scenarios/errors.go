package scenarios

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is one problem in a scenario file, located precisely enough for a
// user to fix it without hunting: the line, the byte column, and the line
// itself so that Render can draw a caret under the column.
type Error struct {
	File      string
	Line, Col int    // 1-based; Col counts bytes, like the Go toolchain's columns
	Msg       string // what is wrong
	Hint      string // how to fix it, when there is something to say
	Source    string // the offending line, without its line ending
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// ErrorList is every problem of one file, sorted by line and column, so that
// a user fixes them all in one pass instead of one run per mistake.
type ErrorList []*Error

func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// ANSI styles for Render; kept minimal so that any terminal shows them.
const (
	ansiBold  = "\x1b[1m"
	ansiRed   = "\x1b[1;31m"
	ansiCyan  = "\x1b[36m"
	ansiReset = "\x1b[0m"
)

// Render formats the errors for a human: the location and message, the
// source line with its number, a caret under the column, and the hint.
// With color, it adds ANSI styles; without, the output is plain text.
func (l ErrorList) Render(color bool) string {
	style := func(s, code string) string {
		if !color {
			return s
		}
		return code + s + ansiReset
	}
	var b strings.Builder
	for _, e := range l {
		b.WriteString(style(fmt.Sprintf("%s:%d:%d:", e.File, e.Line, e.Col), ansiBold))
		b.WriteString(" " + e.Msg + "\n")
		num := strconv.Itoa(e.Line)
		gutter := strings.Repeat(" ", max(5, len(num)))
		fmt.Fprintf(&b, "%*s | %s\n", len(gutter), num, printable(e.Source))
		fmt.Fprintf(&b, "%s | %s%s\n", gutter, caretPad(e.Source, e.Col), style("^", ansiRed))
		if e.Hint != "" {
			b.WriteString(style("hint:", ansiCyan) + " " + e.Hint + "\n")
		}
	}
	return b.String()
}

// printable replaces what a terminal would interpret (escape sequences,
// carriage returns) or cannot show (invalid UTF-8), so that a hostile file
// cannot rewrite the user's screen; each replacement keeps one column, so
// the caret stays aligned.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s { // invalid UTF-8 ranges as utf8.RuneError, one per byte
		if r != '\t' && !unicode.IsPrint(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

// caretPad is the indentation that puts a caret under byte column col of
// line: one space per character before it, and tabs kept as tabs so that
// they expand the same way on both lines.
func caretPad(line string, col int) string {
	prefix := line[:min(max(col-1, 0), len(line))]
	var b strings.Builder
	for _, r := range prefix {
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	// A column past the end of the line (an error at the line ending or at
	// the end of the file) sits just after the last character.
	b.WriteString(strings.Repeat(" ", max(col-1-len(prefix), 0)))
	return b.String()
}
