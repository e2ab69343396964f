package sim_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/faultline/faultline/sim"
)

// edgeOf returns the edge named name of res.
func edgeOf(t *testing.T, res *sim.Result, name string) sim.EdgeResult {
	t.Helper()
	for _, e := range res.Edges {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("no edge %s", name)
	return sim.EdgeResult{}
}

func componentOf(t *testing.T, res *sim.Result, name string) sim.ComponentResult {
	t.Helper()
	for _, c := range res.Components {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no component %s", name)
	return sim.ComponentResult{}
}

// within reports whether got is within rel of want.
func within(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Abs(want)
}

// edgeChain is client -> a -> b, where b answers at once and the edge a->b
// has the network keys given: a call's latency is then its network time.
func edgeChain(rate, duration int, keys string) string {
	return fmt.Sprintf(`
[scenario]
name = "edge"
duration = "%ds"
seed = 3

[[client]]
name = "c"
target = "a"
rate = %d

[[service]]
name = "a"
workers = 100000
service_time = "0s"

  [[service.call]]
  to = "b"
  %s

[[service]]
name = "b"
workers = 100000
service_time = "0s"
`, duration, rate, keys)
}

// TestEdgeNetworkTime: an edge's latency, response_latency and round_trip
// delay its requests and responses as scenarios.md says, and the call's
// latency at the caller is their sum when the callee answers at once.
func TestEdgeNetworkTime(t *testing.T) {
	tests := []struct {
		name   string
		keys   string
		wantMS float64 // every call's latency
	}{
		{"latency each way", `latency = "2ms"`, 4},
		{"response latency replaces the response's", `latency = "2ms"` + "\n" + `response_latency = "5ms"`, 7},
		{"requests only", `latency = "2ms"` + "\n" + `response_latency = "0s"`, 2},
		{"round trip", `round_trip = "6ms"`, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runTOML(t, edgeChain(100, 10, tt.keys))
			e := edgeOf(t, res, "a->b")
			if e.Latency.Count == 0 || e.Latency.Count != e.OK {
				t.Fatalf("%d calls timed, %d ok", e.Latency.Count, e.OK)
			}
			for _, got := range []float64{e.Latency.P50, e.Latency.Max, e.LatencyAll.P99} {
				if !within(got, tt.wantMS, 0.005) {
					t.Errorf("call latency %.4f ms, want %.4g ms (%+v)", got, tt.wantMS, e.Latency)
				}
			}
		})
	}
}

// TestRoundTripKeepsItsDistribution: a round trip drawn once per attempt
// reaches the caller with its own quantiles, where the same figures halved
// and drawn one way each do not (the sum of two heavy-tailed draws has a
// higher median and a lighter tail than twice one). This is what a trace
// import gives: the observed client span less server span, whole.
func TestRoundTripKeepsItsDistribution(t *testing.T) {
	const p50, p99 = 1.0, 50.0 // ms, of lognormal(1ms, 50ms)
	tests := []struct {
		name  string
		keys  string
		exact bool // the call latency has the round trip's quantiles
	}{
		{"round trip drawn once", `round_trip = "lognormal(1ms, 50ms)"`, true},
		{"two one-way halves", `latency = "lognormal(500us, 25ms)"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runTOML(t, edgeChain(2000, 60, tt.keys))
			l := edgeOf(t, res, "a->b").Latency
			t.Logf("%d calls: p50 %.3f ms (round trip %.3g), p99 %.2f ms (%.3g)", l.Count, l.P50, p50, l.P99, p99)
			// 120,000 draws: the sampling error is under 1 % at p50
			// and about 2 % at p99.
			ok := within(l.P50, p50, 0.03) && within(l.P99, p99, 0.08)
			if ok != tt.exact {
				t.Errorf("p50 %.3f ms, p99 %.2f ms: within the round trip's quantiles = %v, want %v", l.P50, l.P99, ok, tt.exact)
			}
			if !tt.exact && l.P50 < 1.2*p50 {
				t.Errorf("two halves: p50 %.3f ms, want the median inflated by more than 20 %%", l.P50)
			}
		})
	}
}

// TestCallLatencyIsCalleePlusNetwork: without faults, retries or waiting
// at the caller, a call's latency as the caller sees it is the callee's own
// latency (arrival to the end of its work) plus the network there and
// back, quantile by quantile.
func TestCallLatencyIsCalleePlusNetwork(t *testing.T) {
	res := runTOML(t, `
[scenario]
name = "chain"
duration = "60s"
warmup = "5s"
seed = 7

[network]
latency = "1500us"

[[client]]
name = "c"
target = "a"
rate = 300

[[service]]
name = "a"
workers = 100000
service_time = "exp(2ms)"

  [[service.call]]
  to = "b"

[[service]]
name = "b"
instances = 2
workers = 4
service_time = "lognormal(3ms, 20ms)"

  [[service.call]]
  to = "c2"
  round_trip = "uniform(1ms, 3ms)"

[[service]]
name = "c2"
workers = 100000
service_time = "exp(1ms)"
`)
	for _, tt := range []struct{ edge, callee string }{{"a->b", "b"}, {"b->c2", "c2"}} {
		e, c := edgeOf(t, res, tt.edge), componentOf(t, res, tt.callee)
		if e.Error+e.Timeout+e.Rejected != 0 {
			t.Fatalf("%s: failures %+v", tt.edge, e)
		}
		// The network time of a->b is 3 ms there and back; b->c2's round
		// trip has mean 2 ms. The calls counted and the callee's
		// requests counted differ only at the warmup's edge.
		net := map[string]float64{"a->b": 3, "b->c2": 2}[tt.edge]
		if got, want := e.Latency.Mean, c.Latency.Mean+net; !within(got, want, 0.01) {
			t.Errorf("%s: mean call latency %.3f ms, want %s's %.3f + %.1f ms", tt.edge, got, tt.callee, c.Latency.Mean, net)
		}
		if tt.edge == "a->b" {
			// A constant network time shifts every quantile.
			for _, q := range []struct {
				name        string
				call, calle float64
			}{{"p50", e.Latency.P50, c.Latency.P50}, {"p99", e.Latency.P99, c.Latency.P99}, {"p99.9", e.Latency.P999, c.Latency.P999}} {
				if !within(q.call, q.calle+net, 0.01) {
					t.Errorf("%s %s: call %.3f ms, callee %.3f + %.0f ms", tt.edge, q.name, q.call, q.calle, net)
				}
			}
		}
	}
}

// TestCallLatencyCountsEveryCall: every call that ended is timed once, in
// latency_all_ms, and the successes in latency_ms, whatever the policies
// did to it (retries, timeouts, an open breaker, a fallback); the windows
// time the same calls, and a timed-out call waited its timeout.
func TestCallLatencyCountsEveryCall(t *testing.T) {
	res := runTOML(t, `
[scenario]
name = "policies"
duration = "40s"
seed = 5

[[client]]
name = "c"
target = "a"
rate = 200

[[service]]
name = "a"
workers = 100000
service_time = "1ms"

  [[service.call]]
  to = "b"
  timeout = "50ms"
  fallback = true
  circuit_breaker = { minimum_number_of_calls = 20, sliding_window_size = 20, wait_duration_in_open_state = "2s" }
  retry = { max_attempts = 3, base = "2ms", cap = "10ms", per_try_timeout = "20ms" }

[[service]]
name = "b"
workers = 8
service_time = "exp(5ms)"
errors = 0.05

[[fault]]
kind = "latency"
target = "b"
start = "10s"
duration = "10s"
add = "30ms"
`)
	e := edgeOf(t, res, "a->b")
	ended := e.OK + e.Error + e.Timeout + e.Rejected + e.Conflict
	if e.LatencyAll.Count != ended || e.Latency.Count != e.OK {
		t.Errorf("timed %d calls (%d ok), %d ended (%d ok)", e.LatencyAll.Count, e.Latency.Count, ended, e.OK)
	}
	if e.Timeout == 0 || e.Retries == 0 || e.ShortCircuited == 0 {
		t.Fatalf("the scenario should time out, retry and short-circuit calls: %+v", e)
	}
	var windows, windowsOK uint64
	for _, w := range e.Series {
		windows += w.LatencyAll.Count
		windowsOK += w.Latency.Count
	}
	if windows != e.LatencyAll.Count || windowsOK != e.Latency.Count {
		t.Errorf("windows timed %d calls (%d ok), the run %d (%d ok)", windows, windowsOK, e.LatencyAll.Count, e.Latency.Count)
	}
	if e.LatencyAll.Max < 50 || e.LatencyAll.Max > 50.5 {
		t.Errorf("the slowest call took %.2f ms, want the 50 ms deadline", e.LatencyAll.Max)
	}
	if e.Latency.Max >= 50 {
		t.Errorf("a successful call took %.2f ms, past its deadline", e.Latency.Max)
	}
}
