package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
	"github.com/gdamore/tcell/v2"
)

// TestHealthColoursAreEngines: for every built-in scenario and every
// frame the TUI draws (one per window, mid-window, to the end), the colour
// of each table row's health marker is the engine's verdict on that
// component's latest window, and so are the consistency pane's and the
// topology's data boxes: the TUI judges nothing itself.
func TestHealthColoursAreEngines(t *testing.T) {
	for _, b := range scenarios.List() {
		t.Run(b.Name, func(t *testing.T) {
			spec := loadSpec(t, b.Name)
			s, err := sim.New(spec, spec.Seed)
			if err != nil {
				t.Fatal(err)
			}
			win := spec.Window
			if win <= 0 {
				win = time.Second
			}
			u := newUI(b.Name, spec, false)
			scr := tcell.NewSimulationScreen("UTF-8")
			if err := scr.Init(); err != nil {
				t.Fatal(err)
			}
			defer scr.Fini()
			scr.SetSize(200, 120)
			frames, checked := 0, 0
			for at := win / 2; ; at += win {
				s.RunUntil(at)
				snap := s.Snapshot()
				u.apply(Frame{Snap: snap, Window: win})
				u.draw(scr)
				scr.Show()
				frames++
				checked += checkColours(t, u, scr, snap.Result, at)
				if snap.Done || t.Failed() {
					break
				}
			}
			if checked == 0 {
				t.Errorf("%d frames, no health marker found on screen", frames)
			}
		})
	}
}

// checkColours compares one drawn frame with the engine's verdicts and
// returns how many table markers it checked.
func checkColours(t *testing.T, u *UI, scr tcell.SimulationScreen, res *sim.Result, at time.Duration) int {
	t.Helper()
	want := map[string]tcell.Style{}
	for _, se := range res.Series {
		if n := len(se.Windows); n > 0 {
			w := se.Windows[n-1]
			want[se.Component] = u.th.health(w.Health, w.Reason.By == sim.Idle)
		} else {
			want[se.Component] = u.th.health(sim.Healthy, true)
		}
	}
	cells, w, h := scr.GetContents()
	checked := 0
	for y := 0; y < h; y++ {
		var line []rune
		for x := 0; x < w; x++ {
			if r := cells[y*w+x].Runes; len(r) > 0 {
				line = append(line, r[0])
			} else {
				line = append(line, ' ')
			}
		}
		if len(line) < 3 || line[0] != '●' && line[0] != '○' {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSpace(string(line[2:])), " ")
		st, ok := want[name]
		if !ok {
			continue // clipped, or a flow
		}
		fg, _, _ := cells[y*w].Style.Decompose()
		wfg, _, _ := st.Decompose()
		if fg != wfg {
			t.Errorf("%v: %s's marker is %v, the engine says %v", at, name, fg, wfg)
		}
		checked++
	}
	verdicts := map[string]sim.Health{}
	idle := map[string]bool{}
	note := func(kind, name string, h sim.Health, r sim.Reason) {
		verdicts[kind+" "+name], idle[kind+" "+name] = h, r.By == sim.Idle
	}
	for _, g := range res.Groups {
		if n := len(g.Series); n > 0 {
			note("group", g.Name, g.Series[n-1].Health, g.Series[n-1].Reason)
		}
	}
	for _, st := range res.Stores {
		if n := len(st.Series); n > 0 {
			note("store", st.Name, st.Series[n-1].Health, st.Series[n-1].Reason)
		}
	}
	for _, sg := range res.Sagas {
		if n := len(sg.Series); n > 0 {
			note("saga", sg.Name, sg.Series[n-1].Health, sg.Series[n-1].Reason)
		}
	}
	for _, v := range res.Views {
		if n := len(v.Series); n > 0 {
			note("view", v.Name, v.Series[n-1].Health, v.Series[n-1].Reason)
		}
	}
	for _, tp := range res.Topics {
		if n := len(tp.Series); n > 0 {
			note("topic", tp.Name, tp.Series[n-1].Health, tp.Series[n-1].Reason)
		}
	}
	for _, l := range u.cons {
		if h, ok := verdicts[l.kind+" "+l.name]; ok && (l.health != h || l.idle != idle[l.kind+" "+l.name]) {
			t.Errorf("%v: consistency %s %s is %v (idle %v), the engine says %v", at, l.kind, l.name, l.health, l.idle, h)
		}
	}
	for key, r := range u.data {
		kind := r.kind
		if h, ok := verdicts[kind+" "+r.name]; ok && (r.health != h || r.idle != idle[kind+" "+r.name]) {
			t.Errorf("%v: topology %s is %v (idle %v), the engine says %v", at, key, r.health, r.idle, h)
		}
	}
	return checked
}
