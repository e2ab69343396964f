package scenarios

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/sim"
)

// TestBuiltinFaultsInTheGrammar: every fault of every built-in loads to
// typed parameters of its kind, within sim's ranges, and to a target the
// grammar reads back as written: the loader, the TUI and the engine agree.
func TestBuiltinFaultsInTheGrammar(t *testing.T) {
	for _, b := range List() {
		file, data, err := Open(b.Name)
		if err != nil {
			t.Fatal(err)
		}
		spec, err := Load(file, data)
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range spec.Faults {
			if f.Params == nil || f.Params.Kind() != f.Kind {
				t.Errorf("%s fault %d: params %#v for kind %s", b.Name, i+1, f.Params, f.Kind)
			}
			if err := f.Validate(); err != nil {
				t.Errorf("%s fault %d: %v", b.Name, i+1, err)
			}
			if f.Kind == sim.FaultPartition {
				continue
			}
			if tg, err := sim.ParseTarget(f.Target); err != nil || tg.String() != f.Target {
				t.Errorf("%s fault %d: target %q reads as %q (%v)", b.Name, i+1, f.Target, tg.String(), err)
			}
		}
	}
}

// TestSagaCommandLinks: a saga's start service sends commands to its
// participants (an orchestration's steps, the compensations in both
// modes) over the network, so a link fault from it to one of them names a
// link in use, as one on a call does; a choreography's step is an event,
// not a command, and its link stays unused. The old loader knew only
// calls and routes, and refused the first two.
func TestSagaCommandLinks(t *testing.T) {
	const base = withBroker + `
[[service]]
name = "pay"
consume = [{ topic = "orders" }]

[[service]]
name = "refund"

[[saga]]
name = "order"
start = "s"
`
	for _, tc := range []struct {
		name, mode, target string
		ok                 bool
	}{
		{"an orchestration's step", "orchestration", "s->pay", true},
		{"a compensation", "choreography", "s->refund", true},
		{"a choreography's step", "choreography", "s->pay", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := base + "mode = \"" + tc.mode + "\"\n"
			if tc.mode == "choreography" {
				src += "broker = \"kafka\"\nstep = [{ service = \"pay\", compensation = \"refund\", topic = \"orders\" }]\n"
			} else {
				src += "step = [{ service = \"pay\", compensation = \"refund\" }]\n"
			}
			src += "\n[[fault]]\nkind = \"loss\"\ntarget = \"" + tc.target + "\"\nprobability = 1\nstart = \"1s\"\n"
			_, err := Load("saga.toml", []byte(src))
			if !tc.ok && err != nil && !strings.Contains(err.Error(), "nothing uses the link") {
				t.Errorf("load: %v, want nothing uses the link", err)
			}
			if (err == nil) != tc.ok {
				t.Errorf("load: %v, want ok %v", err, tc.ok)
			}
		})
	}
}
