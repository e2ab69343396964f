package scenarios

import (
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
