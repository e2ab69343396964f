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

// TestAnswersWhyLeadsWithTheDecider: the event log tells a window's
// verdict by the figure of the indicator that decided it (Reason.By)
// first, the error share beside it only when some answers failed. A
// saturated queue read "degraded: error share 0.0%, saturated: 38 queued
// per instance" (breaker-saves-checkout, mm1).
func TestAnswersWhyLeadsWithTheDecider(t *testing.T) {
	for _, tc := range []struct {
		name             string
		share, fallbacks float64
		r                Reason
		want             string
	}{
		{"error share", 0.214, 0, Reason{By: ByErrorShare, Value: 0.214}, "error share 21.4%"},
		{"saturated, no errors", 0, 0, Reason{By: BySaturated, Value: 38}, "saturated: 38 queued per instance"},
		{"saturated, some errors", 0.004, 0, Reason{By: BySaturated, Value: 38}, "saturated: 38 queued per instance, error share 0.4%"},
		{"instances down", 0, 0, Reason{By: ByInstancesDown, Value: 1, Of: 3}, "1 of 3 instances down"},
		{"breaker open", 0, 0, Reason{By: ByBreakerOpen, Edge: "checkout->payment"}, "breaker open on checkout->payment"},
		{"fallbacks", 0.001, 0.05, Reason{By: ByFallbackShare, Value: 0.05}, "5.0% answered by a fallback, error share 0.1%"},
		{"latency, no errors", 0, 0, Reason{By: ByLatency, Percentile: 99, Value: 0.055, Limit: 0.05}, "p99 latency 55ms over 50ms"},
		{"latency, some errors", 0.02, 0, Reason{By: ByLatency, Percentile: 99, Value: 0.055, Limit: 0.05}, "p99 latency 55ms over 50ms, error share 2.0%"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := answersWhy(tc.share, tc.fallbacks, tc.r); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRecoveryDatedAtItsFirstHealthyWindow: a change is confirmed over two
// windows and dated at the onset of its first; a recovery from failing
// through one degraded window is dated at the healthy window, not the
// degraded one, so that nothing is told healthy at a time its window was
// not. In monolith-vs-microservices the shoppers client, degraded in the
// window from 62 s (its pooled p99 1.08 s over 546 ms), was "recovered
// 62.0s" while its flows, failing in that window, recovered at 63 s. A
// worsening through a milder window still begins with the first.
func TestRecoveryDatedAtItsFirstHealthyWindow(t *testing.T) {
	const sec = int64(1e9)
	for _, tc := range []struct {
		name   string
		levels []Health // one a window, from 10 s
		want   Health   // the level the last window confirms
		at     int64    // dated at
	}{
		{"failing, degraded, healthy", []Health{Failing, Failing, Degraded, Healthy}, Healthy, 13 * sec},
		{"failing, healthy, healthy", []Health{Failing, Failing, Healthy, Healthy}, Healthy, 12 * sec},
		{"failing, degraded, degraded", []Health{Failing, Failing, Degraded, Degraded}, Degraded, 12 * sec},
		{"healthy, degraded, failing", []Health{Degraded, Failing}, Failing, 10 * sec},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h healthTracker
			changed := false
			for i, l := range tc.levels {
				at := int64(10+i) * sec
				_, changed = h.observe(l, at, at, Reason{By: ByLatency})
			}
			if !changed || h.level != tc.want || h.since != tc.at {
				t.Errorf("changed %v to %v at %.0fs, want %v at %.0fs", changed, h.level, float64(h.since)/1e9, tc.want, float64(tc.at)/1e9)
			}
		})
	}
}
