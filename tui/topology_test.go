package tui

import (
	"testing"
	"time"

	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/dist"
)

func TestTopologyLayers(t *testing.T) {
	tp := newTopology(loadSpec(t, "checkout"), false, false)
	want := map[string]int{"shoppers": 0, "frontend": 1, "catalog": 2, "cart": 2, "checkout": 2, "payment": 3, "inventory": 3, "fraud": 4}
	for _, n := range tp.nodes {
		if n.dummy {
			t.Errorf("checkout has no long edge, but %s has a placeholder", n.name)
			continue
		}
		if n.layer != want[n.name] {
			t.Errorf("%s in layer %d, want %d", n.name, n.layer, want[n.name])
		}
	}
}

// A call that skips a layer runs through a placeholder, never through a
// box, and every segment's ports lie on its boxes' sides.
func TestTopologyLongEdge(t *testing.T) {
	d, _ := dist.Parse("1ms")
	svc := func(name string, calls ...string) sim.Service {
		s := sim.Service{Name: name, Instances: 1, Workers: 1, ServiceTime: d}
		for _, c := range calls {
			s.Calls = append(s.Calls, sim.Call{To: c, Fanout: 1})
		}
		return s
	}
	spec := &sim.Spec{Name: "long", Duration: time.Second,
		Clients:  []sim.Client{{Name: "c", Target: "a", Rate: 1}},
		Services: []sim.Service{svc("a", "b", "d"), svc("b", "d2"), svc("d2", "d"), svc("d")}}
	for _, detailed := range []bool{false, true} {
		tp := newTopology(spec, detailed, false)
		dummies := 0
		for _, n := range tp.nodes {
			if n.dummy {
				dummies++
			}
		}
		if dummies != 2 { // a->d spans layers 1 to 4
			t.Errorf("%d placeholders, want 2", dummies)
		}
		for _, e := range tp.edges {
			from, to := tp.nodes[e.from], tp.nodes[e.to]
			if e.sy < from.y || e.sy >= from.y+from.h || e.ty < to.y || e.ty >= to.y+to.h {
				t.Errorf("edge %s: ports %d,%d outside its boxes", e.name, e.sy, e.ty)
			}
			if e.cx >= 0 && (e.cx < from.x+from.w || e.cx >= to.x) {
				t.Errorf("edge %s: channel %d not between its boxes", e.name, e.cx)
			}
		}
		// No two boxes overlap.
		for i, a := range tp.nodes {
			for _, b := range tp.nodes[i+1:] {
				if a.x < b.x+b.w && b.x < a.x+a.w && a.y < b.y+b.h && b.y < a.y+a.h {
					t.Errorf("%s and %s overlap", a.name, b.name)
				}
			}
		}
	}
}
