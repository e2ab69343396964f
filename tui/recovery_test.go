package tui

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/sim"
)

// TestRecoveryLine: the foot of the event log says the engine's verdict
// on the latest fault that ended, and what sustains a state that did not
// recover.
func TestRecoveryLine(t *testing.T) {
	yes, no, two := true, false, 2.0
	twelve, one := 12.0, 1
	tests := []struct {
		name   string
		cs     []sim.CascadeResult
		want   string
		health sim.Health
		ok     bool
	}{
		{"no verdict yet", []sim.CascadeResult{{Name: "capacity"}}, "", sim.Healthy, false},
		{"recovered", []sim.CascadeResult{{Name: "capacity", Target: "db", EndS: &twelve, Recovered: &yes, RecoveryS: &two}},
			"after capacity on db (ended 12.0s): every flow recovered, the last 2.0s after the end", sim.Healthy, true},
		{"stays down", []sim.CascadeResult{{Name: "capacity", Target: "db", EndS: &twelve, Recovered: &no,
			Recovery:    []sim.FlowRecovery{{Flow: "users"}},
			SustainedBy: []sim.SustainingCause{{Kind: sim.CauseRetries, What: "retries on api->db: 2.27 attempts per call (1.00 before the fault)"}}}},
			"after capacity on db (ended 12.0s): users did not recover · sustained by retries on api->db", sim.Failing, true},
		{"still under another fault", []sim.CascadeResult{{Name: "capacity", Target: "db", EndS: &twelve,
			Recovery: []sim.FlowRecovery{{Flow: "users", UnderFault: &one}}}, {Name: "errors", Target: "api"}},
			"after capacity on db (ended 12.0s): users still under errors on api", sim.Degraded, true},
		{"group still under another fault", []sim.CascadeResult{{Name: "crash", Target: "billing#2", EndS: &twelve,
			GroupRecovery: []sim.GroupRecovery{{Group: "group billing", UnderFault: &one}}}, {Name: "crash", Target: "billing"}},
			"after crash on billing#2 (ended 12.0s): group billing still under crash on billing", sim.Degraded, true},
		{"one down, one group under another fault", []sim.CascadeResult{{Name: "capacity", Target: "db", EndS: &twelve, Recovered: &no,
			Recovery:      []sim.FlowRecovery{{Flow: "users"}},
			GroupRecovery: []sim.GroupRecovery{{Group: "group billing", UnderFault: &one}}}, {Name: "crash", Target: "billing"}},
			"after capacity on db (ended 12.0s): users did not recover", sim.Failing, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line, h, ok := recoveryLine(&sim.Result{Cascades: tt.cs})
			if ok != tt.ok || h != tt.health || !strings.HasPrefix(line, tt.want) {
				t.Errorf("got %q %v %v, want %q %v %v", line, h, ok, tt.want, tt.health, tt.ok)
			}
		})
	}
}
