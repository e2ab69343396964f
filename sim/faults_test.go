package sim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sim"
)

// faultRun runs the two-tier system (200 req/s, front -> back, 2 instances
// of back doing 10ms of work) with fault f from 10s to 20s of a 30s run, and
// returns the result; conservation is checked as for every run.
func faultRun(t *testing.T, f sim.Fault, c sim.Call) *sim.Result {
	t.Helper()
	back := sim.Service{Instances: 2, Workers: 100, ServiceTime: mustDist(t, "10ms")}
	spec := twoTier(t, c, back, 30*time.Second)
	spec.Clients[0].Arrival = sim.Constant
	spec.Clients[0].Timeout = time.Second
	f.Start, f.Duration = 10*time.Second, 10*time.Second
	spec.Faults = []sim.Fault{f}
	res, _ := run(t, spec)
	return res
}

// window returns a component's window at second i.
func window(res *sim.Result, component string, i int) sim.Window {
	for _, s := range res.Series {
		if s.Component == component {
			return s.Windows[i]
		}
	}
	panic("no component " + component)
}

// TestFaultKinds checks, for every kind, what a window inside the fault
// shows compared with one outside it.
func TestFaultKinds(t *testing.T) {
	per := sim.Call{Timeout: 200 * time.Millisecond}
	tests := []struct {
		name  string
		fault sim.Fault
		call  sim.Call
		check func(t *testing.T, in, out sim.Window, res *sim.Result)
	}{
		{"latency on a service", sim.Fault{Kind: sim.FaultLatency, Target: "back", Params: sim.LatencyFault{Add: mustDist(t, "50ms")}}, sim.Call{},
			func(t *testing.T, in, out sim.Window, _ *sim.Result) {
				near(t, "p50 in", in.Latency.P50, 60, 1)
				near(t, "p50 out", out.Latency.P50, 10, 0.2)
			}},
		{"latency on a link, requests only", sim.Fault{Kind: sim.FaultLatency, Target: "front->back", Params: sim.LatencyFault{Add: mustDist(t, "30ms"), Direction: sim.Requests}}, sim.Call{},
			func(t *testing.T, in, out sim.Window, _ *sim.Result) {
				near(t, "p50 in", in.Latency.P50, 40, 1)
			}},
		{"latency on a link, both ways", sim.Fault{Kind: sim.FaultLatency, Target: "front->back", Params: sim.LatencyFault{Add: mustDist(t, "30ms")}}, sim.Call{},
			func(t *testing.T, in, out sim.Window, _ *sim.Result) {
				near(t, "p50 in", in.Latency.P50, 70, 1)
			}},
		{"errors", sim.Fault{Kind: sim.FaultErrors, Target: "back", Params: sim.ErrorsFault{Probability: 0.3}}, sim.Call{},
			func(t *testing.T, in, out sim.Window, _ *sim.Result) {
				near(t, "error share in", in.ErrorShare(), 0.3, 0.1)
				near(t, "error share out", out.ErrorShare(), 0, 0)
			}},
		{"throttle", sim.Fault{Kind: sim.FaultThrottle, Target: "back", Params: sim.ThrottleFault{Probability: 0.4}}, sim.Call{},
			func(t *testing.T, in, out sim.Window, res *sim.Result) {
				near(t, "error share in", in.ErrorShare(), 0.4, 0.12)
				if res.Components[1].RateLimited == 0 {
					t.Error("back answered no 429")
				}
			}},
		{"slowdown", sim.Fault{Kind: sim.FaultSlowdown, Target: "back", Params: sim.SlowdownFault{Factor: 3}}, sim.Call{},
			func(t *testing.T, in, out sim.Window, _ *sim.Result) {
				near(t, "p50 in", in.Latency.P50, 30, 0.5)
			}},
		{"capacity", sim.Fault{Kind: sim.FaultCapacity, Target: "back", Params: sim.CapacityFault{Workers: 1}}, sim.Call{},
			func(t *testing.T, in, out sim.Window, res *sim.Result) {
				// 2 workers left for 200/s of 10ms: utilisation 1.
				near(t, "back's utilisation in", window(res, "back", 15).Utilisation, 1, 0.01)
				near(t, "back's utilisation out", window(res, "back", 25).Utilisation, 0.01, 0.001)
			}},
		{"loss", sim.Fault{Kind: sim.FaultLoss, Target: "front->back", Params: sim.LossFault{Probability: 0.2}}, per,
			func(t *testing.T, in, out sim.Window, _ *sim.Result) {
				// Each call is lost on the way there or back: 1-0.8^2 = 36%.
				near(t, "error share in", in.ErrorShare(), 0.36, 0.1)
			}},
		{"blackhole a service", sim.Fault{Kind: sim.FaultBlackhole, Target: "back"}, per,
			func(t *testing.T, in, out sim.Window, _ *sim.Result) {
				near(t, "error share in", in.ErrorShare(), 1, 0)
				near(t, "p50 out", out.Latency.P50, 10, 0.2)
			}},
		{"partition", sim.Fault{Kind: sim.FaultPartition, Params: sim.PartitionFault{Sides: [2][]string{{"front"}, {"back"}}}}, per,
			func(t *testing.T, in, out sim.Window, _ *sim.Result) {
				near(t, "error share in", in.ErrorShare(), 1, 0)
			}},
		{"one-way partition of the way back", sim.Fault{Kind: sim.FaultPartition, Params: sim.PartitionFault{Sides: [2][]string{{"back"}, {"front"}}, OneWay: true}}, per,
			func(t *testing.T, in, out sim.Window, res *sim.Result) {
				near(t, "error share in", in.ErrorShare(), 1, 0)
				// Requests get through: back still does the work, wasted.
				if w := window(res, "back", 15); w.OK == 0 {
					t.Error("back did no work: the requests were cut too")
				}
			}},
		{"pause", sim.Fault{Kind: sim.FaultPause, Target: "back", Duration: 0}, sim.Call{},
			func(t *testing.T, in, out sim.Window, res *sim.Result) {
				b := window(res, "back", 12)
				if b.OK != 0 || b.QueueMax == 0 {
					t.Errorf("paused back completed %d, queue max %d", b.OK, b.QueueMax)
				}
				// Work resumes at 20s: the client's 1s timeout ended the
				// requests that waited on it, which then complete as waste.
				if w := window(res, "back", 20); w.OK == 0 {
					t.Error("back did not resume after the pause")
				}
				if res.Components[0].Wasted == 0 {
					t.Error("no wasted work after the pause")
				}
			}},
		{"crash one instance", sim.Fault{Kind: sim.FaultCrash, Target: "back#1", Params: sim.CrashFault{StartupDelay: 2 * time.Second}}, sim.Call{},
			func(t *testing.T, in, out sim.Window, res *sim.Result) {
				// The survivor takes all the traffic; only requests caught
				// at the crash fail.
				near(t, "error share in", in.ErrorShare(), 0, 0)
				if !hasEvent(res, "back#1", "crashed") || !hasEvent(res, "back#1", "restarted: taking traffic again") {
					t.Error("crash or restart not logged")
				}
				if e := res.Events; len(e) == 0 {
					t.Error("no events")
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := faultRun(t, tt.fault, tt.call)
			tt.check(t, window(res, "load", 15), window(res, "load", 25), res)
			if !hasEvent(res, "", "") && len(res.Events) == 0 {
				t.Error("the fault was not logged")
			}
		})
	}
}

// TestCrashLosesWork: a crash ends the requests the instance held at once,
// with errors, and nothing is left dangling.
func TestCrashLosesWork(t *testing.T) {
	back := sim.Service{Instances: 1, Workers: 100, ServiceTime: mustDist(t, "500ms")}
	spec := twoTier(t, sim.Call{}, back, 30*time.Second)
	spec.Faults = []sim.Fault{{Kind: sim.FaultCrash, Target: "back", Start: 10 * time.Second, Duration: 5 * time.Second, Params: sim.CrashFault{StartupDelay: time.Second}}}
	res, _ := run(t, spec)
	// About 100 requests were in flight (200/s x 0.5s) and failed; for the
	// next 6s nothing was up: every request failed at once.
	c := res.Clients[0]
	near(t, "errors", float64(c.Error), 100+200*6, 60)
}

// TestCallerCrashEndsItsCalls: a crash of the caller drops the calls its
// requests were waiting on; each ends as cancelled by the caller (gRPC's
// CANCELLED), so the edge's calls still add up (run checks conservation).
func TestCallerCrashEndsItsCalls(t *testing.T) {
	back := sim.Service{ServiceTime: mustDist(t, "500ms")}
	spec := twoTier(t, sim.Call{}, back, 30*time.Second)
	spec.Faults = []sim.Fault{{Kind: sim.FaultCrash, Target: "front", Start: 10 * time.Second, Duration: 5 * time.Second, Params: sim.CrashFault{StartupDelay: time.Second}}}
	res, _ := run(t, spec)
	// About 100 calls were waiting on back (200/s x 0.5s) when front died.
	e := edge(t, res, "front->back")
	near(t, "calls cancelled by the caller", float64(e.CallerCancelled), 100, 10)
}

// TestCapacityFaultUtilisation: a capacity fault removes the workers at
// work only as their requests finish, so they count as capacity until then
// and utilisation never passes 100 %, in any window or over the run.
func TestCapacityFaultUtilisation(t *testing.T) {
	back := sim.Service{Workers: 10, Queue: 1000, ServiceTime: mustDist(t, "1s")}
	spec := twoTier(t, sim.Call{}, back, 30*time.Second)
	spec.Clients[0].Rate = 20
	spec.Faults = []sim.Fault{{Kind: sim.FaultCapacity, Target: "back", Start: 10 * time.Second, Duration: 10 * time.Second, Params: sim.CapacityFault{Workers: 2}}}
	res, _ := run(t, spec)
	for i := range 30 {
		if w := window(res, "back", i); w.Utilisation > 1+1e-9 {
			t.Errorf("window at %s: utilisation %.3f", w.Start, w.Utilisation)
		}
	}
	c := res.Components[1]
	if c.Name != "back" || c.Utilisation > 1+1e-9 || c.Utilisation < 0.95 {
		t.Errorf("%s: utilisation %.3f over the run, want about 1 (saturated) and not above", c.Name, c.Utilisation)
	}
}

// TestRepeatingFault: `every` repeats a fault, `chance` skips occurrences.
func TestRepeatingFault(t *testing.T) {
	spec := twoTier(t, sim.Call{}, sim.Service{ServiceTime: mustDist(t, "1ms")}, 100*time.Second)
	spec.Faults = []sim.Fault{{Kind: sim.FaultErrors, Target: "back", Start: 5 * time.Second,
		Duration: time.Second, Every: 10 * time.Second, Chance: 0.5, Params: sim.ErrorsFault{Probability: 1}}}
	res, _ := run(t, spec)
	n := 0
	for _, e := range res.Events {
		if e.What == "fault errors 100% started" {
			n++
		}
	}
	if n < 2 || n > 8 {
		t.Errorf("%d of 10 occurrences happened with chance 0.5", n)
	}
}

// TestPauseHoldsProgress: a paused process makes no progress. A call that
// answers during the pause does not let the waiting request complete, and
// the refusals the process itself makes (a throttle's 429, a full queue)
// wait for the pause to end too; only then are they answered.
func TestPauseHoldsProgress(t *testing.T) {
	pause := sim.Fault{Kind: sim.FaultPause, Target: "front", Start: 10 * time.Second, Duration: 5 * time.Second}
	t.Run("call answered during the pause", func(t *testing.T) {
		// Requests that reached front at 8s-10s wait on back until
		// 11s-13s, inside the pause.
		spec := twoTier(t, sim.Call{}, sim.Service{ServiceTime: mustDist(t, "3s")}, 30*time.Second)
		spec.Clients[0].Arrival = sim.Constant
		spec.Faults = []sim.Fault{pause}
		res, _ := run(t, spec)
		for i := 10; i < 15; i++ {
			if w := window(res, "front", i); w.OK != 0 {
				t.Errorf("paused front completed %d requests in second %d", w.OK, i)
			}
		}
		// At the end of the pause the 600 requests answered during it
		// complete at once.
		near(t, "completed at the end of the pause", float64(window(res, "front", 15).OK), 600, 1)
	})
	t.Run("throttled during the pause", func(t *testing.T) {
		spec := twoTier(t, sim.Call{}, sim.Service{ServiceTime: mustDist(t, "1ms")}, 30*time.Second)
		spec.Clients[0].Arrival = sim.Constant
		spec.Faults = []sim.Fault{pause, {Kind: sim.FaultThrottle, Target: "front", Start: 10 * time.Second, Duration: 10 * time.Second, Params: sim.ThrottleFault{Probability: 1}}}
		res, _ := run(t, spec)
		for i := 10; i < 15; i++ {
			if w := window(res, "load", i); w.Limited != 0 {
				t.Errorf("paused front answered %d 429s in second %d", w.Limited, i)
			}
		}
		near(t, "429s at the end of the pause", float64(window(res, "load", 15).Limited), 1000+200, 1)
	})
	t.Run("throttled during the pause, caller gone", func(t *testing.T) {
		// The client gives up after 1s, before the pause ends: the
		// service still answers its 429s then, and counts them as 429s,
		// not as the client's timeouts (run checks conservation).
		spec := twoTier(t, sim.Call{}, sim.Service{ServiceTime: mustDist(t, "1ms")}, 30*time.Second)
		spec.Clients[0].Arrival = sim.Constant
		spec.Clients[0].Timeout = time.Second
		spec.Faults = []sim.Fault{pause, {Kind: sim.FaultThrottle, Target: "front", Start: 10 * time.Second, Duration: 10 * time.Second, Params: sim.ThrottleFault{Probability: 1}}}
		res, _ := run(t, spec)
		if w := window(res, "front", 15); w.Limited < 1000 {
			t.Errorf("front answered %d 429s at the end of the pause, want the 1000 it held", w.Limited)
		}
	})
	t.Run("queue full during the pause", func(t *testing.T) {
		spec := twoTier(t, sim.Call{}, sim.Service{ServiceTime: mustDist(t, "1ms")}, 30*time.Second)
		spec.Clients[0].Arrival = sim.Constant
		spec.Services[0].Queue = 10
		spec.Faults = []sim.Fault{pause}
		res, _ := run(t, spec)
		for i := 10; i < 15; i++ {
			if w := window(res, "load", i); w.Rejected != 0 {
				t.Errorf("paused front rejected %d requests in second %d", w.Rejected, i)
			}
		}
		near(t, "rejected at the end of the pause", float64(window(res, "load", 15).Rejected), 1000-10, 1)
	})
}

// TestOverlappingPauses: two pauses over the same instance at once freeze
// it once, from the start of the first to the end of the last; the work
// they interrupted needs what it had left, not the overlap counted twice.
func TestOverlappingPauses(t *testing.T) {
	// One request a second, 5.5s of work each: those that started at 5s to
	// 9s are interrupted at 10s and finish at 17s + what they had left,
	// 12.5s after they arrived; those that arrive during the pause start
	// at 17s and take as long at most.
	spec := twoTier(t, sim.Call{}, sim.Service{ServiceTime: mustDist(t, "5.5s")}, 40*time.Second)
	spec.Clients[0].Arrival, spec.Clients[0].Rate = sim.Constant, 1
	spec.Faults = []sim.Fault{
		{Kind: sim.FaultPause, Target: "back", Start: 10 * time.Second, Duration: 5 * time.Second},
		{Kind: sim.FaultPause, Target: "back", Start: 12 * time.Second, Duration: 5 * time.Second},
	}
	res, _ := run(t, spec)
	c := res.Clients[0]
	near(t, "max latency (ms)", c.Latency.Max, 12500, 125)
	if done := window(res, "back", 25); done.OK != 1 {
		t.Errorf("back completed %d requests at 25s, want 1 (after the pause)", done.OK)
	}
}

// TestBlackholeFreesAbandoned: a request whose caller gave up while it was
// on its way, and that then vanishes into a blackhole, is freed: its timeout
// has already fired and nothing else would.
func TestBlackholeFreesAbandoned(t *testing.T) {
	for _, c := range []sim.Call{
		{Timeout: 200 * time.Millisecond}, // the call's deadline abandons it
		{Timeout: time.Second, Retry: &sim.Retry{MaxAttempts: 1, PerTryTimeout: 200 * time.Millisecond}}, // its own timeout
	} {
		spec := twoTier(t, c, sim.Service{ServiceTime: mustDist(t, "1ms")}, 30*time.Second)
		spec.Faults = []sim.Fault{
			{Kind: sim.FaultLatency, Target: "front->back", Start: 10 * time.Second, Duration: 10 * time.Second, Params: sim.LatencyFault{Add: mustDist(t, "300ms"), Direction: sim.Requests}},
			{Kind: sim.FaultBlackhole, Target: "back", Start: 10 * time.Second, Duration: 10 * time.Second},
		}
		res, s := run(t, spec)
		if res.Clients[0].Error < 1900 {
			t.Errorf("%d errors during the blackhole, want about 2000", res.Clients[0].Error)
		}
		if err := s.CheckPool(); err != nil {
			t.Error(err)
		}
	}
}

// TestFaultNamesItsInstances: a fault on some of a service's instances is
// logged under the instances it hit, and under a count once they are more
// than a line can list (a share of 10,000 instances would be a line of
// hundreds of kilobytes).
func TestFaultNamesItsInstances(t *testing.T) {
	tests := []struct {
		share float64
		want  string
	}{
		{0.15, "back#"}, // 3 of 20, named
		{0.55, "back[11 of 20]"},
	}
	for _, tt := range tests {
		back := sim.Service{Instances: 20, Workers: 10, ServiceTime: mustDist(t, "1ms")}
		spec := twoTier(t, sim.Call{}, back, 5*time.Second)
		spec.Faults = []sim.Fault{{Kind: sim.FaultLatency, Target: "back", Share: tt.share, Start: time.Second, Duration: time.Second, Params: sim.LatencyFault{Add: mustDist(t, "1ms")}}}
		res, _ := run(t, spec)
		var got []string
		for _, e := range res.Events {
			if strings.HasPrefix(e.What, "fault ") {
				got = append(got, e.Component)
			}
		}
		if len(got) != 2 || got[0] != got[1] || !strings.HasPrefix(got[0], tt.want) {
			t.Errorf("share %v: fault logged as %q, want %q... at its start and end", tt.share, got, tt.want)
		}
		if tt.want == "back#" && strings.Count(got[0], "#") != 3 {
			t.Errorf("share %v: %q names %d instances, want 3", tt.share, got[0], strings.Count(got[0], "#"))
		}
	}
}

// logSpans is how the views read fault windows before the result had
// them: "fault ... started" and "fault ... ended" events paired by
// component and description, the oldest open one first.
func logSpans(res *sim.Result) []sim.FaultSpan {
	var out []sim.FaultSpan
	open := map[[2]string][]int{}
	for _, e := range res.Events {
		rest, ok := strings.CutPrefix(e.What, "fault ")
		if !ok {
			continue
		}
		t := time.Duration(e.TS * float64(time.Second))
		if what, ok := strings.CutSuffix(rest, " started"); ok {
			key := [2]string{e.Component, what}
			open[key] = append(open[key], len(out))
			out = append(out, sim.FaultSpan{Component: e.Component, What: what, Start: t, End: -1})
		} else if what, ok := strings.CutSuffix(rest, " ended"); ok {
			key := [2]string{e.Component, what}
			if q := open[key]; len(q) > 0 {
				out[q[0]].End = t
				open[key] = q[1:]
			}
		}
	}
	return out
}

// TestFaultSpansTyped: for every built-in, the result's typed fault spans
// are the ones the event log's text gave, each naming its fault's kind and
// parameters, and the fault events point at them.
func TestFaultSpansTyped(t *testing.T) {
	runBuiltins(t, func(t *testing.T, res *sim.Result) {
		want := logSpans(res)
		if len(res.Faults) != len(want) || len(res.Faults) != len(res.Cascades) {
			t.Fatalf("%d spans, %d cascades; the log has %d", len(res.Faults), len(res.Cascades), len(want))
		}
		// A deploy ends when it has finished, rollback included: the log
		// says so in words of its own, which the text's reading missed.
		for _, e := range res.Events {
			if e.Kind == sim.EventFaultEnded && !strings.HasPrefix(e.What, "fault ") {
				if w := &want[e.Fault]; w.End < 0 {
					w.End = time.Duration(e.TS * float64(time.Second))
				}
			}
		}
		for k, f := range res.Faults {
			w := want[k]
			if f.Component != w.Component || f.What != w.What || time.Duration(f.Start.Seconds()*float64(time.Second)) != w.Start ||
				(f.End < 0) != (w.End < 0) || f.End >= 0 && time.Duration(f.End.Seconds()*float64(time.Second)) != w.End {
				t.Errorf("span %d: %+v, the log says %+v", k, f, w)
			}
			if f.Params == nil || f.Params.Kind != f.Kind || !strings.HasPrefix(f.What, f.Kind.String()) && f.Kind != sim.FaultPartition {
				t.Errorf("span %d %s: kind %s, params %+v", k, f.What, f.Kind, f.Params)
			}
			if c := res.Cascades[k]; c.Target != f.Component || c.StartS != f.Start.Seconds() {
				t.Errorf("span %d: %s at %v, its cascade %s at %gs", k, f.Component, f.Start, c.Target, c.StartS)
			}
		}
		for _, e := range res.Events {
			switch e.Kind {
			case sim.EventFaultStarted, sim.EventFaultEnded:
				if e.Fault < 0 || e.Fault >= len(res.Faults) || res.Faults[e.Fault].Component != e.Component && res.Faults[e.Fault].Target != e.Component {
					t.Errorf("%.3fs %s %s: fault %d", e.TS, e.Component, e.What, e.Fault)
				}
			}
		}
	})
}
