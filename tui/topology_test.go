package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/scenarios"
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
			name := callName(tp, &e)
			if e.sy < from.y || e.sy >= from.y+from.h || e.ty < to.y || e.ty >= to.y+to.h {
				t.Errorf("edge %s: ports %d,%d outside its boxes", name, e.sy, e.ty)
			}
			if e.cx >= 0 && (e.cx < from.x+from.w || e.cx >= to.x) {
				t.Errorf("edge %s: channel %d not between its boxes", name, e.cx)
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

// An edge's label never sits on a row of its gap that another edge runs
// on too, where it would read as the other edge's: in quorum-staleness
// with the store fast down, web-west's calls to fast fail, and their
// first row is the row on which web-east's calls to safe arrive.
func TestEdgeLabelOnItsOwnRow(t *testing.T) {
	h := newHarness(t, "quorum-staleness", 160, 48, false)
	h.command("goto 45s")
	h.command("fault crash fast 20s")
	h.command("goto 47s")
	for _, l := range strings.Split(h.text(), "\n") {
		// web-west's box, then its first row out: "│ web-west │─12%──┘└▶│ safe".
		_, after, ok := strings.Cut(l, "│ web-west")
		if !ok {
			continue
		}
		_, gap, _ := strings.Cut(after, "│")
		if gap, _, _ = strings.Cut(gap, "▶"); strings.Contains(gap, "%") {
			t.Errorf("a label on a shared row: %q", l)
		}
	}
	// The rule in the layout, for every built-in scenario and size.
	for _, b := range scenarios.List() {
		name := b.Name
		spec := loadSpec(t, name)
		tp := newTopology(spec, true, false)
		for _, extra := range []int{0, 40} {
			tp.widen(extra)
			for i, e := range tp.edges {
				x, y, n, ok := tp.labelSpot(i)
				if !ok || !e.first {
					continue
				}
				for k, o := range tp.edges {
					if k != i && tp.nodes[o.from].layer == tp.nodes[e.from].layer && (o.sy == y || o.cx >= 0 && o.ty == y) {
						t.Errorf("%s: the label of %s at (%d,%d) shares its row with %s", name, callName(tp, &e), x, y, callName(tp, &o))
					}
				}
				if n < 1 {
					t.Errorf("%s: the label of %s has %d columns", name, callName(tp, &e), n)
				}
			}
		}
	}
}

// A store's box says what its figures are: the stale share of reads, and
// the operations that failed for want of a quorum (err) or in time (to).
func TestStoreBoxSaysWhatItShows(t *testing.T) {
	h := newHarness(t, "quorum-staleness", 160, 48, false)
	h.command("goto 45s")
	s := h.text()
	for _, want := range []string{"│ fast          │", "│ stale 46%     │", "│ err 0 to 0    │", "│ err 0 to 94   │"} {
		if !strings.Contains(s, want) {
			t.Errorf("the topology lacks %q:\n%s", want, s)
		}
	}
}

// A broker has a row in the table, with its nodes up, and its topics'
// boxes in the topology name it and its nodes up; selecting it lists its
// topics.
func TestBrokerInTableAndTopology(t *testing.T) {
	h := newHarness(t, "kafka-consumer-crash", 160, 48, false)
	h.command("goto 45s")
	h.command("fault crash kafka#1 10s")
	h.keys("/kafka<Enter>")
	s := squeeze(h.text())
	for _, want := range []string{
		"● kafka broker 119 - - - - - 2/3 -",
		"── kafka · broker · 2/3 up",
		"topic orders · 119/s · 6 partitions",
		"│ kafka 2/3 │",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
}

// callName names the call a segment belongs to, for a test's messages.
func callName(tp *topology, e *topoEdge) string {
	return tp.nodes[e.call.from].name + "->" + tp.nodes[e.call.to].name
}
