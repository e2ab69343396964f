package tui

import (
	"github.com/faultline/faultline/sim"
	"github.com/gdamore/tcell/v2"
)

// Health colours (DESIGN.md's visual vocabulary).
const (
	colHealthy  = tcell.ColorGreen
	colDegraded = tcell.ColorYellow
	colFailing  = tcell.ColorRed
	colFault    = tcell.ColorPurple
	colDim      = tcell.ColorGray
)

// theme turns meaning into style. With NO_COLOR every style is plain and
// health is spelled with markers instead (https://no-color.org).
type theme struct {
	noColor bool
}

func (t theme) plain() tcell.Style { return tcell.StyleDefault }

func (t theme) fg(c tcell.Color) tcell.Style {
	if t.noColor {
		return tcell.StyleDefault
	}
	return tcell.StyleDefault.Foreground(c)
}

func (t theme) bold() tcell.Style { return tcell.StyleDefault.Bold(true) }

// reverse marks a selection; it is not a colour, so NO_COLOR keeps it.
func (t theme) reverse() tcell.Style { return tcell.StyleDefault.Reverse(true) }

func (t theme) dim() tcell.Style { return t.fg(colDim) }

func (t theme) health(h sim.Health, idle bool) tcell.Style {
	if idle {
		return t.dim()
	}
	switch h {
	case sim.Failing:
		return t.fg(colFailing)
	case sim.Degraded:
		return t.fg(colDegraded)
	}
	return t.fg(colHealthy)
}

// marker is the health of a component as a glyph: a coloured dot, or with
// NO_COLOR a glyph that says it without colour.
func (t theme) marker(h sim.Health, idle bool) rune {
	if !t.noColor {
		if idle {
			return '○'
		}
		return '●'
	}
	switch {
	case idle:
		return '·'
	case h == sim.Failing:
		return '✗'
	case h == sim.Degraded:
		return '~'
	}
	return '✓'
}

// faultBg shades the cells of a time axis that fall in a fault window.
func (t theme) faultBg(st tcell.Style) tcell.Style {
	if t.noColor {
		return st
	}
	return st.Background(tcell.ColorMaroon)
}
