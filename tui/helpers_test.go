package tui

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"

	gold "github.com/faultline/faultline/internal/golden"
	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
	"github.com/gdamore/tcell/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// loadSpec loads a built-in scenario.
func loadSpec(t testing.TB, name string) *sim.Spec {
	t.Helper()
	file, data, err := scenarios.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := scenarios.Load(file, data)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// harness is a UI driven inline, drawn on a simulation screen.
type harness struct {
	t      testing.TB
	ui     *UI
	eng    *engine
	screen tcell.SimulationScreen
	quit   bool
}

func newHarness(t testing.TB, scenario string, w, h int, noColor bool) *harness {
	t.Helper()
	return specHarness(t, scenario, loadSpec(t, scenario), w, h, noColor)
}

// specHarness is a harness for a scenario of the test's own.
func specHarness(t testing.TB, scenario string, spec *sim.Spec, w, h int, noColor bool) *harness {
	t.Helper()
	u, e, err := inline(Options{Name: scenario, Spec: spec, Seed: spec.Seed, Speed: 1, Paused: true, NoColor: noColor})
	if err != nil {
		t.Fatal(err)
	}
	s := tcell.NewSimulationScreen("UTF-8")
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Fini)
	s.SetSize(w, h)
	hs := &harness{t: t, ui: u, eng: e, screen: s}
	u.quit = func() { hs.quit = true }
	return hs
}

// keys types a sequence: single runes, or names in angle brackets such as
// <Esc>, <Enter>, <Tab>, <Up>, <Down>, <Backspace>.
func (h *harness) keys(seq string) {
	named := map[string]tcell.Key{"Esc": tcell.KeyEscape, "Enter": tcell.KeyEnter, "Tab": tcell.KeyTab,
		"Up": tcell.KeyUp, "Down": tcell.KeyDown, "Backspace": tcell.KeyBackspace2, "End": tcell.KeyEnd, "C-c": tcell.KeyCtrlC}
	for len(seq) > 0 {
		if seq[0] == '<' {
			if i := strings.IndexByte(seq, '>'); i > 1 {
				if k, ok := named[seq[1:i]]; ok {
					h.ui.key(tcell.NewEventKey(k, 0, tcell.ModNone))
					seq = seq[i+1:]
					continue
				}
			}
		}
		r := []rune(seq)[0]
		h.ui.key(tcell.NewEventKey(tcell.KeyRune, r, tcell.ModNone))
		seq = seq[len(string(r)):]
	}
}

// command types a : command and Enter.
func (h *harness) command(c string) { h.keys(":" + c + "<Enter>") }

// text draws the UI and returns the screen as lines of text.
func (h *harness) text() string {
	// The simulation screen leaves the cell after a wide glyph (the
	// breaker row's ⚡) as the last frame drew it, where a terminal shows
	// the glyph's second half: start each frame from a blank screen, so
	// that what shows there does not depend on the frame before.
	h.screen.Clear()
	h.screen.Show()
	h.ui.draw(h.screen)
	h.screen.Show()
	return screenText(h.screen)
}

func screenText(s tcell.SimulationScreen) string {
	cells, w, hgt := s.GetContents()
	var b strings.Builder
	for y := 0; y < hgt; y++ {
		var line strings.Builder
		for x := 0; x < w; x++ {
			c := cells[y*w+x]
			if len(c.Runes) == 0 {
				line.WriteRune(' ')
				continue
			}
			line.WriteString(string(c.Runes))
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// styleAt returns the style of the first cell on screen showing text.
func styleAt(s tcell.SimulationScreen, text string) (tcell.Style, bool) {
	cells, w, hgt := s.GetContents()
	for y := 0; y < hgt; y++ {
		var line []rune
		for x := 0; x < w; x++ {
			if r := cells[y*w+x].Runes; len(r) > 0 {
				line = append(line, r[0])
			} else {
				line = append(line, ' ')
			}
		}
		if i := strings.Index(string(line), text); i >= 0 {
			col := len([]rune(string(line)[:i]))
			return cells[y*w+col].Style, true
		}
	}
	return tcell.StyleDefault, false
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	gold.Check(t, filepath.Join("testdata", name), got, *update)
}
