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
	checkEdgeColours(t, u, res, at)
	return checked
}

// checkEdgeColours compares the health of every edge the topology draws
// with the engine's verdict on its latest window: a service's calls' own
// (the worst of the calls the line stands for, a store's read and write),
// a client's its client's.
func checkEdgeColours(t *testing.T, u *UI, res *sim.Result, at time.Duration) {
	t.Helper()
	type verdict struct {
		h    sim.Health
		idle bool
	}
	// By caller and callee: the line stands for every call between them,
	// whichever operations call and are called (sim.EdgeID).
	type ends struct{ from, to string }
	want := map[ends]verdict{}
	for _, e := range res.Edges {
		k := ends{e.ID.Caller, e.ID.Callee}
		v, seen := want[k]
		if !seen {
			v = verdict{sim.Healthy, true}
		}
		if n := len(e.Series); n > 0 && e.Series[n-1].Reason.By != sim.Idle {
			if h := e.Series[n-1].Health; v.idle || h > v.h {
				v = verdict{h, false}
			}
		}
		want[k] = v
	}
	clients := map[string]verdict{}
	for i, c := range res.Clients {
		if n := len(res.Series[i].Windows); n > 0 {
			w := res.Series[i].Windows[n-1]
			clients[c.Name] = verdict{w.Health, w.Reason.By == sim.Idle}
		} else {
			clients[c.Name] = verdict{sim.Healthy, true}
		}
	}
	topo := u.topology(200, 120)
	rows := u.nodeRows()
	checked := 0
	for i := range topo.edges {
		e := &topo.edges[i]
		from, to := &topo.nodes[e.call.from], &topo.nodes[e.call.to]
		v, ok := want[ends{from.name, to.name}]
		if from.client {
			v, ok = clients[from.name]
		}
		if !ok {
			continue // an edge the engine does not time (a record from a topic)
		}
		_, h, idle := u.edgeState(topo, e, rows)
		if h != v.h || idle != v.idle {
			t.Errorf("%v: edge %s->%s drawn %v (idle %v), the engine says %v (idle %v)", at, from.name, to.name, h, idle, v.h, v.idle)
		}
		checked++
	}
	if len(topo.edges) > 0 && checked == 0 {
		t.Errorf("%v: none of %d edges checked", at, len(topo.edges))
	}
}
