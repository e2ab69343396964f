package sim_test

import (
	"testing"
	"time"

	"github.com/faultline/faultline/sim"
)

// TestLatencyOfAllAnswered checks the two latencies of a client when a
// fault turns its slow requests into timeouts: a tenth of the requests
// take 150 ms, the rest 10 ms, the client waits 200 ms, and from 20 s to
// 40 s the service takes 100 ms more. The slow tenth then times out: the
// p99 of successes falls from 150 ms to 110 ms (only the fast ones
// succeed), while the p99 of all answered requests rises to the 200 ms the
// client waited before giving up.
func TestLatencyOfAllAnswered(t *testing.T) {
	api := sim.Service{Name: "api", Instances: 1, Workers: 1000, Queue: sim.Unbounded,
		ServiceTime: mustDist(t, "mix(0.9 10ms, 0.1 150ms)")}
	spec := &sim.Spec{Name: "timeouts", Duration: 60 * time.Second, Window: time.Second,
		Clients:  []sim.Client{{Name: "users", Target: "api", Rate: 200, Timeout: 200 * time.Millisecond}},
		Services: []sim.Service{api},
		Faults: []sim.Fault{{Kind: sim.FaultLatency, Target: "api",
			Start: 20 * time.Second, Duration: 20 * time.Second, Params: sim.LatencyFault{Add: mustDist(t, "100ms")}}},
	}
	res, _ := run(t, spec)
	for _, tc := range []struct {
		name          string
		second        int
		okP99, allP99 float64
	}{
		{"before the fault", 10, 150, 150},
		{"during the fault", 30, 110, 200},
		{"after the fault", 50, 150, 150},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := window(res, "users", tc.second)
			near(t, "p99 of successes", w.Latency.P99, tc.okP99, 1)
			near(t, "p99 of all answered", w.LatencyAll.P99, tc.allP99, 1)
		})
	}
	c := res.Clients[0]
	if c.Timeout == 0 {
		t.Fatal("no timeout: the fault did not do what the test needs")
	}
	if got, want := c.LatencyAll.Count, c.OK+c.Error+c.Timeout+c.Rejected+c.Shed+c.RateLimited; got != want {
		t.Errorf("answered requests timed = %d, want %d", got, want)
	}
}

// TestLatencyAllCountsEveryOutcome checks that every outcome a client can
// see is timed once in the latency of all answered requests, in every
// window and in the totals: errors, timeouts, rejections by a full queue,
// connections refused while no instance is up, and successes.
func TestLatencyAllCountsEveryOutcome(t *testing.T) {
	tests := []struct {
		name  string
		fault sim.Fault
		want  func(c sim.ClientResult) uint64 // the outcome the fault must cause
	}{
		{"errors", sim.Fault{Kind: sim.FaultErrors, Target: "back", Params: sim.ErrorsFault{Probability: 0.3}}, func(c sim.ClientResult) uint64 { return c.Error }},
		{"timeouts", sim.Fault{Kind: sim.FaultLatency, Target: "back", Params: sim.LatencyFault{Add: mustDist(t, "2s")}}, func(c sim.ClientResult) uint64 { return c.Timeout }},
		{"rejections", sim.Fault{Kind: sim.FaultLatency, Target: "back", Params: sim.LatencyFault{Add: mustDist(t, "300ms")}}, func(c sim.ClientResult) uint64 { return c.Rejected }},
		{"refused: no instance up", sim.Fault{Kind: sim.FaultCrash, Target: "back"}, func(c sim.ClientResult) uint64 { return c.Error }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			back := sim.Service{Name: "back", Instances: 2, Workers: 4, Queue: 10, ServiceTime: mustDist(t, "10ms")}
			spec := &sim.Spec{Name: "outcomes", Duration: 30 * time.Second, Window: time.Second,
				Clients:  []sim.Client{{Name: "users", Target: "back", Rate: 200, Timeout: time.Second}},
				Services: []sim.Service{back},
			}
			tc.fault.Start, tc.fault.Duration = 10*time.Second, 10*time.Second
			spec.Faults = []sim.Fault{tc.fault}
			res, _ := run(t, spec) // checks the totals: CheckConservation
			c := res.Clients[0]
			if tc.want(c) == 0 {
				t.Fatalf("the fault caused none of the outcome it is for: %+v", c)
			}
			for _, w := range res.Series[0].Windows {
				if got, want := w.LatencyAll.Count, w.OK+w.Errors+w.Timeouts+w.Rejected+w.Shed+w.Limited; got != want {
					t.Errorf("window at %s: %d answered requests timed, want %d", w.Start, got, want)
				}
			}
		})
	}
}

// TestConstantArrivalsCount: evenly spaced arrivals at N per second for T
// seconds send N*T requests, whatever the rounding of 1e9/N, and a surge
// keeps their phase: the beat due when it starts or ends is sent.
func TestConstantArrivalsCount(t *testing.T) {
	tests := []struct {
		name  string
		rate  float64
		d     time.Duration
		surge float64 // from 5s to 10s when not 0
		want  uint64
	}{
		{"3/s for 10s", 3, 10 * time.Second, 0, 30},
		{"7/s for 3s", 7, 3 * time.Second, 0, 21},
		{"0.3/s for 10s", 0.3, 10 * time.Second, 0, 3},
		{"999/s for 2s", 999, 2 * time.Second, 0, 1998},
		{"10/s, surge x2 from 5s to 10s", 10, 20 * time.Second, 2, 50 + 100 + 100},
		{"3/s, surge x1", 3, 20 * time.Second, 1, 60},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := &sim.Spec{Name: "beat", Duration: tc.d,
				Clients:  []sim.Client{{Name: "users", Target: "back", Rate: tc.rate, Arrival: sim.Constant}},
				Services: []sim.Service{svc(t, "back", "1ms")},
			}
			if tc.surge != 0 {
				spec.Faults = []sim.Fault{{Kind: sim.FaultSurge, Target: "users", Start: 5 * time.Second, Duration: 5 * time.Second, Params: sim.SurgeFault{Factor: tc.surge}}}
			}
			res, _ := run(t, spec)
			if got := res.Clients[0].Sent; got != tc.want {
				t.Errorf("sent %d, want %d", got, tc.want)
			}
		})
	}
}

// TestClientTimeoutLeavesDownstreamDraws: a request its client gave up on
// still makes the draws of its way back, so a client's timeout changes
// nothing downstream where nothing else moved (common random numbers): back
// sees the same work and latencies whether the client waits 60ms or 1s.
func TestClientTimeoutLeavesDownstreamDraws(t *testing.T) {
	runWith := func(timeout time.Duration) sim.ComponentResult {
		back := sim.Service{Workers: 4, ServiceTime: mustDist(t, "exp(20ms)")}
		spec := twoTier(t, sim.Call{}, back, 30*time.Second)
		spec.Clients[0].Rate, spec.Clients[0].Timeout = 100, timeout
		spec.Network.Latency = mustDist(t, "exp(2ms)")
		res, _ := run(t, spec)
		c := res.Components[1]
		c.Wasted, c.Series = 0, nil // work done for nobody: the one figure the timeout moves
		return c
	}
	short, long := runWith(60*time.Millisecond), runWith(time.Second)
	if short.OK != long.OK || short.Latency != long.Latency {
		t.Errorf("back with a 60ms client timeout: %d ok, %+v; with 1s: %d ok, %+v", short.OK, short.Latency, long.OK, long.Latency)
	}
}
