package tui

import (
	"github.com/gdamore/tcell/v2"
)

// canvas is a clipped rectangle of the screen. Every pane draws through one,
// so a pane can never scribble over its neighbours, whatever the terminal
// size.
type canvas struct {
	s          tcell.Screen
	x, y, w, h int
}

func (c canvas) put(x, y int, r rune, st tcell.Style) {
	if x < 0 || y < 0 || x >= c.w || y >= c.h {
		return
	}
	c.s.SetContent(c.x+x, c.y+y, r, nil, st)
}

// text writes s from (x, y) and returns the column after it. Every rune
// takes one column: names come from scenario files, and the glyphs used
// here are all narrow.
func (c canvas) text(x, y int, s string, st tcell.Style) int {
	for _, r := range s {
		c.put(x, y, r, st)
		x++
	}
	return x
}

// textMax writes at most n columns of s, ending in "…" when it cuts.
func (c canvas) textMax(x, y, n int, s string, st tcell.Style) int {
	return c.text(x, y, clip(s, n), st)
}

func (c canvas) fill(st tcell.Style) {
	for y := 0; y < c.h; y++ {
		for x := 0; x < c.w; x++ {
			c.put(x, y, ' ', st)
		}
	}
}

// sub is the part of c at (x, y) of size w x h, clipped to c.
func (c canvas) sub(x, y, w, h int) canvas {
	w = max(0, min(w, c.w-x))
	h = max(0, min(h, c.h-y))
	return canvas{s: c.s, x: c.x + x, y: c.y + y, w: w, h: h}
}

// clip shortens s to n columns, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	return string(r[:n-1]) + "…"
}

// pad right-aligns (n > 0) or left-aligns (n < 0) s in |n| columns.
func pad(s string, n int) string {
	w := len([]rune(s))
	switch {
	case n > 0 && w < n:
		return spaces(n-w) + s
	case n < 0 && w < -n:
		return s + spaces(-n-w)
	}
	return s
}

func spaces(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = ' '
	}
	return string(b)
}

// Line drawing: a cell collects the directions lines leave it in, and gets
// the box-drawing glyph that joins them.
const (
	lineUp uint8 = 1 << iota
	lineDown
	lineLeft
	lineRight
)

var lineGlyphs = map[uint8]rune{
	lineLeft | lineRight:                     '─',
	lineLeft:                                 '─',
	lineRight:                                '─',
	lineUp | lineDown:                        '│',
	lineUp:                                   '│',
	lineDown:                                 '│',
	lineDown | lineRight:                     '┌',
	lineDown | lineLeft:                      '┐',
	lineUp | lineRight:                       '└',
	lineUp | lineLeft:                        '┘',
	lineUp | lineDown | lineRight:            '├',
	lineUp | lineDown | lineLeft:             '┤',
	lineLeft | lineRight | lineDown:          '┬',
	lineLeft | lineRight | lineUp:            '┴',
	lineUp | lineDown | lineLeft | lineRight: '┼',
}

// lines accumulates line segments before they are drawn.
type lines struct {
	bits  map[[2]int]uint8
	style map[[2]int]tcell.Style
}

func newLines() *lines {
	return &lines{bits: map[[2]int]uint8{}, style: map[[2]int]tcell.Style{}}
}

func (l *lines) add(x, y int, b uint8, st tcell.Style) {
	p := [2]int{x, y}
	l.bits[p] |= b
	// The worst edge through a cell colours it: a red line stays visible
	// where it crosses a green one.
	if old, ok := l.style[p]; !ok || rank(st) > rank(old) {
		l.style[p] = st
	}
}

// hline draws from x0 to x1 (inclusive) on row y.
func (l *lines) hline(x0, x1, y int, st tcell.Style) {
	if x0 > x1 {
		x0, x1 = x1, x0
	}
	for x := x0; x <= x1; x++ {
		var b uint8
		if x > x0 {
			b |= lineLeft
		}
		if x < x1 {
			b |= lineRight
		}
		if x0 == x1 {
			b = lineLeft | lineRight
		}
		l.add(x, y, b, st)
	}
}

// vline draws from y0 to y1 (inclusive) in column x.
func (l *lines) vline(x, y0, y1 int, st tcell.Style) {
	if y0 > y1 {
		y0, y1 = y1, y0
	}
	for y := y0; y <= y1; y++ {
		var b uint8
		if y > y0 {
			b |= lineUp
		}
		if y < y1 {
			b |= lineDown
		}
		l.add(x, y, b, st)
	}
}

func (l *lines) draw(c canvas) {
	for p, b := range l.bits {
		c.put(p[0], p[1], lineGlyphs[b], l.style[p])
	}
}

// rank orders line styles by how alarming their colour is.
func rank(st tcell.Style) int {
	fg, _, _ := st.Decompose()
	switch fg {
	case colFailing:
		return 3
	case colDegraded:
		return 2
	case colHealthy:
		return 1
	}
	return 0
}
