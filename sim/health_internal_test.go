package sim

import (
	"testing"

	"github.com/faultline/faultline/sim/resilience"
)

// TestBreakerOpenIsHystrixMapping: the one rule that a window's callee,
// caller and edge, and the run's edge, read: open, forced open and
// half-open count as open (Hystrix's HalfOpenState reports isOpen()), each
// named by its indicator. The edge window counted half-open as degraded
// and the run's total as healthy, while the callee counted it failing.
func TestBreakerOpenIsHystrixMapping(t *testing.T) {
	for _, tc := range []struct {
		st   resilience.BreakerState
		open bool
		by   Indicator
	}{
		{resilience.Closed, false, ByBreakerOpen},
		{resilience.Disabled, false, ByBreakerOpen},
		{resilience.Open, true, ByBreakerOpen},
		{resilience.ForcedOpen, true, ByBreakerOpen},
		{resilience.HalfOpen, true, ByBreakerHalfOpen},
	} {
		if open, by := breakerOpen(tc.st); open != tc.open || open && by != tc.by {
			t.Errorf("%s: open %v by %v, want %v by %v", tc.st, open, by, tc.open, tc.by)
		}
	}
	r := &Result{Edges: []EdgeResult{{Name: "a->b", Breakers: 1, BreakerState: resilience.HalfOpen, Calls: 10, OK: 10}}}
	r.judgeTotals()
	if r.Edges[0].Health != Failing {
		t.Errorf("an edge whose breaker is half-open at the end: %s, want failing", r.Edges[0].Health)
	}
}
