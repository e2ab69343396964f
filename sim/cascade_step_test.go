package sim_test

import (
	"testing"

	"github.com/faultline/faultline/sim"
)

// TestCascadeStepLastsUntilHealthyForGood: a cascade step recovers when
// its component was last healthy again for good within the fault's
// influence, whatever came between: a later episode of the same fault's
// doing extends it, and so do windows after the fault's last failure in
// which the component had no failure at all but was still unhealthy (a
// breaker still open). The defects: checkout's step covered only its
// first episode ("recovered 35.0s" in breaker-saves-checkout, though the
// event log has it unhealthy again until 66 s); in
// monolith-vs-microservices the bad release turns shoppers /account
// degraded seven times from 88 s to 154 s, and its step said "recovered
// 89.0s".
func TestCascadeStepLastsUntilHealthyForGood(t *testing.T) {
	for _, tc := range []struct {
		name      string
		spec      func(t *testing.T) *sim.Spec
		fault     int // its cascade in the result
		component string
		want      float64
	}{
		{"breaker-saves-checkout checkout", named("breaker-saves-checkout"), 0, "checkout", 66},
		{"breaker-saves-checkout payment", named("breaker-saves-checkout"), 0, "payment", 66},
		{"slow callee checkout", func(t *testing.T) *sim.Spec { return slowCallee(t, "") }, 0, "checkout", 30},
		{"slow callee payment", func(t *testing.T) *sim.Spec { return slowCallee(t, "") }, 0, "payment", 30},
		{"bad release shoppers /account", named("monolith-vs-microservices"), 1, "shoppers /account", 154},
		{"bad release shoppers /checkout", named("monolith-vs-microservices"), 1, "shoppers /checkout", 153},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := run(t, tc.spec(t))
			last := -1.0 // the component's last recovery in the log, before the next fault
			next := float64(1 << 40)
			if tc.fault+1 < len(res.Cascades) {
				next = res.Cascades[tc.fault+1].StartS
			}
			for _, e := range res.Events {
				if e.Kind == sim.EventHealth && e.Component == tc.component && e.Health == sim.Healthy && e.TS < next {
					last = e.TS
				}
			}
			if last != tc.want {
				t.Fatalf("%s's last recovery at %gs, want %gs", tc.component, last, tc.want)
			}
			cr := res.Cascades[tc.fault]
			for _, st := range cr.Steps {
				if st.Component != tc.component {
					continue
				}
				if st.RecoveredS == nil || *st.RecoveredS != tc.want {
					t.Errorf("step %s recovered %v, want %gs", st.Component, fmtOpt(st.RecoveredS), tc.want)
				}
				return
			}
			t.Errorf("%s is no step of %s", tc.component, cr.Name)
		})
	}
}

func fmtOpt(x *float64) any {
	if x == nil {
		return "never"
	}
	return *x
}

func named(name string) func(t *testing.T) *sim.Spec {
	return func(t *testing.T) *sim.Spec { return builtin(t, name) }
}
