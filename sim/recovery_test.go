package sim_test

import (
	"slices"
	"testing"
	"time"

	"github.com/faultline/faultline/sim"
)

// TestRecoveryVerdict checks the metastability verdict on the built-in
// metastable-retries (a db that loses 6 of its 10 workers at 10 s, under
// 700 requests/s with up to 3 retries per call): a trigger too short to
// build a backlog of 100 ms of the db's work recovers at once; a 2 s one
// does not, and the verdict names the retries on api->db and the wasted
// work on db as what sustains it (Bronson et al., HotOS 2021). With a
// retry budget, the same 2 s trigger recovers.
func TestRecoveryVerdict(t *testing.T) {
	tests := []struct {
		name      string
		trigger   time.Duration
		budget    bool
		recovered bool
		causes    []string // kinds and components, "retries api->db"
	}{
		{"below the boundary", 100 * time.Millisecond, false, true, nil},
		{"above the boundary", 2 * time.Second, false, false, []string{"retries api->db", "wasted_work db"}},
		{"above, with a retry budget", 2 * time.Second, true, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := builtin(t, "metastable-retries")
			spec.Faults[0].Duration = tt.trigger
			if tt.budget {
				service(spec, "api").Calls[0].Retry.Budget = &sim.Budget{Percent: 0.1, MinPerSec: 10, TTL: 10 * time.Second}
			}
			res, _ := run(t, spec)
			if len(res.Cascades) != 1 {
				t.Fatalf("%d cascades, want the one fault's", len(res.Cascades))
			}
			c := res.Cascades[0]
			if c.Recovered == nil || len(c.Recovery) != 1 {
				t.Fatalf("no verdict: %+v", c)
			}
			f := c.Recovery[0]
			if f.Flow != "users" || f.BeforeRPS < 650 || f.BeforeRPS > 750 {
				t.Errorf("flow %q with %.0f/s before, want users at about 700/s", f.Flow, f.BeforeRPS)
			}
			if *c.Recovered != tt.recovered || f.Recovered != tt.recovered {
				t.Fatalf("recovered %v (flow %v), want %v", *c.Recovered, f.Recovered, tt.recovered)
			}
			if tt.recovered {
				if f.RecoveryS == nil || c.RecoveryS == nil || *f.RecoveryS > 10 {
					t.Errorf("recovery time %v, want one within 10 s of the end", f.RecoveryS)
				}
			} else if f.RecoveryS != nil || c.RecoveryS != nil {
				t.Errorf("recovery time %v for a flow that did not recover, want null", *f.RecoveryS)
			}
			var got []string
			for _, cause := range c.SustainedBy {
				got = append(got, cause.Kind+" "+cause.Component)
				if cause.Kind == sim.CauseRetries && cause.Value < 1.5 {
					t.Errorf("retries cause with %.2f attempts per call, want the load amplified", cause.Value)
				}
			}
			if !slices.Equal(got, tt.causes) {
				t.Errorf("sustained by %q, want %q", got, tt.causes)
			}
		})
	}
}

// TestRecoveryVerdictNeedsAnEnd: a fault that lasts to the end of the run
// has no verdict: nothing came after it.
func TestRecoveryVerdictNeedsAnEnd(t *testing.T) {
	spec := builtin(t, "metastable-retries")
	spec.Faults[0].Duration = 0
	res, _ := run(t, spec)
	if c := res.Cascades[0]; c.Recovered != nil || c.Recovery != nil {
		t.Errorf("verdict %v %+v on a fault that never ended", *c.Recovered, c.Recovery)
	}
}
