package sim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/resilience"
)

// countEvents counts the log entries whose text contains substr.
func countEvents(res *sim.Result, substr string) int {
	n := 0
	for _, e := range res.Events {
		if strings.Contains(e.What, substr) {
			n++
		}
	}
	return n
}

// TestRecordsAndSagaStepsPickAnOperation: a record consumed by a service
// with operations, and a saga command to one, are served by an operation
// drawn by weight, as any request that names only the service.
func TestRecordsAndSagaStepsPickAnOperation(t *testing.T) {
	ops := []sim.Operation{{Name: "a", Weight: 3}, {Name: "b", Weight: 1}}
	t.Run("consumer", func(t *testing.T) {
		spec := pipeline(t, sim.AcksAll, sim.CommitAfter)
		spec.Services[1].Operations = ops
		res, _ := run(t, spec)
		a, b := operation(res, "worker", "a"), operation(res, "worker", "b")
		if a.Arrivals+b.Arrivals == 0 {
			t.Fatal("no record served")
		}
		near(t, "share of records served by a", float64(a.Arrivals)/float64(a.Arrivals+b.Arrivals), 0.75, 0.03)
	})
	t.Run("saga", func(t *testing.T) {
		spec := sagaSpec(t, sim.Orchestration, 0)
		for i := range spec.Services {
			if spec.Services[i].Name == "shipping" {
				spec.Services[i].Operations = ops
			}
		}
		res, _ := run(t, spec)
		a, b := operation(res, "shipping", "a"), operation(res, "shipping", "b")
		if a.Arrivals+b.Arrivals == 0 {
			t.Fatal("no command served")
		}
		near(t, "share of commands served by a", float64(a.Arrivals)/float64(a.Arrivals+b.Arrivals), 0.75, 0.05)
	})
}

// TestDeployOverACrashedInstance: a deploy that reaches an instance that a
// crash fault holds down counts it restarted at once; when the crash ends
// and it comes back, it must not count a second time, which would end the
// batch under way early and take two instances out at once with batch = 1.
func TestDeployOverACrashedInstance(t *testing.T) {
	s := svc(t, "api", "5ms")
	s.Instances, s.Workers = 4, 20
	spec := &sim.Spec{Name: "deploy-crash", Duration: 40 * time.Second, Services: []sim.Service{s}, Clients: []sim.Client{open(100, "api")},
		Faults: []sim.Fault{
			{Kind: sim.FaultCrash, Target: "api#1", Start: 5 * time.Second, Duration: 8 * time.Second, Params: sim.CrashFault{StartupDelay: 500 * time.Millisecond}},
			{Kind: sim.FaultDeploy, Target: "api", Start: 10 * time.Second, Params: sim.DeployFault{Batch: 1, StartupDelay: 2 * time.Second, Warmup: 2 * time.Second, WarmupFactor: 2}}}}
	sm, err := sim.New(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	minUp := 4
	for at := 14 * time.Second; at < spec.Duration; at += 50 * time.Millisecond {
		sm.RunUntil(at)
		minUp = min(minUp, sm.Result().Components[0].InstancesUp)
	}
	res := sm.Run()
	if err := res.CheckConservation(); err != nil {
		t.Fatal(err)
	}
	if minUp != 3 {
		t.Errorf("fewest instances up after the crash %d, want 4 - batch = 3", minUp)
	}
	// #1 is counted at 10 s; #2 restarts 10-12 and warms up to 14; #3 to
	// 18; #4 to 22.
	if c := res.Cascades[1]; c.EndS == nil || *c.EndS != 22 {
		t.Errorf("the deploy ended at %v s, want 22s", c.EndS)
	}
}

// TestStaleInstanceUp: an instance whose restart was planned twice comes
// up at the later plan only; the earlier plan's event must not bring it up
// while a deploy drains it.
func TestStaleInstanceUp(t *testing.T) {
	s := svc(t, "api", "3s")
	s.Instances = 2
	spec := &sim.Spec{Name: "stale-up", Duration: 30 * time.Second, Services: []sim.Service{s}, Clients: []sim.Client{open(10, "api")},
		Faults: []sim.Fault{
			// #1 restarts at 10 + 5 = 15 s...
			{Kind: sim.FaultCrash, Target: "api#1", Start: 5 * time.Second, Duration: 5 * time.Second, Params: sim.CrashFault{StartupDelay: 5 * time.Second}},
			// ...but a second crash ends at 12 s with no start-up time:
			// it is up at 12 s.
			{Kind: sim.FaultCrash, Target: "api#1", Start: 11 * time.Second, Duration: time.Second},
			// At 13 s a deploy drains #1, which holds 3 s requests until
			// about 16 s.
			{Kind: sim.FaultDeploy, Target: "api", Start: 13 * time.Second, Params: sim.DeployFault{Batch: 1, StartupDelay: time.Second, HasNewErrors: true, NewErrors: 1}}}}
	res, _ := run(t, spec)
	for _, e := range res.Events {
		if e.Component == "api#1" && strings.Contains(e.What, "started the new version") && e.TS < 16 {
			t.Errorf("at %.3fs: api#1 %s; it drains until about 16 s, then starts in 1 s", e.TS, e.What)
		}
	}
	// Every instance runs the bad release after the deploy.
	if w := window(res, "load", 29); w.ErrorShare() < 0.99 {
		t.Errorf("error share %.2f at 29 s, want every instance on the new release", w.ErrorShare())
	}
}

// TestStaleDrainKill: the grace period of one drain must not kill a later
// drain of the same instance (a rollback, or the next deploy).
func TestStaleDrainKill(t *testing.T) {
	s := svc(t, "api", "2s")
	s.Instances = 1
	spec := &sim.Spec{Name: "stale-kill", Duration: 60 * time.Second, Services: []sim.Service{s}, Clients: []sim.Client{open(10, "api")},
		Faults: []sim.Fault{{Kind: sim.FaultDeploy, Target: "api", Start: 10 * time.Second, Params: sim.DeployFault{Batch: 1, NewFactor: 1.01, RollbackAfter: 29 * time.Second}}}}
	res, _ := run(t, spec)
	// The deploy drains #1 at 10 s (a kill is due at 40 s if it still
	// drains then); the rollback drains it again at 39 s, for 2 s.
	if n := countEvents(res, "crashed"); n != 0 {
		t.Errorf("%d crashes: a drain that finished in 2 s was killed by an earlier drain's grace period", n)
	}
}

// TestRetiredWhileDraining: an instance that the autoscaler retires while
// a deploy drains it must still count as done, or the deploy stalls.
func TestRetiredWhileDraining(t *testing.T) {
	s := svc(t, "api", "2s")
	s.Instances, s.Workers = 4, 100
	s.Autoscale = &resilience.AutoscaleConfig{TargetUtilisation: 0.8, Min: 1, Max: 4, Interval: time.Second}
	spec := &sim.Spec{Name: "retire-drain", Duration: 30 * time.Second, Services: []sim.Service{s}, Clients: []sim.Client{open(1, "api")},
		Faults: []sim.Fault{{Kind: sim.FaultDeploy, Target: "api", Start: 500 * time.Millisecond, Params: sim.DeployFault{BatchShare: 1}}}}
	res, _ := run(t, spec)
	if n := countEvents(res, "scaled down"); n == 0 {
		t.Fatal("the autoscaler did not scale down: the test does not test anything")
	}
	if n := countEvents(res, "deploy finished"); n != 1 {
		t.Errorf("deploy finished %d times, want once", n)
	}
}

// TestSeveralLeaks: a second leak starting does not reset the growth of
// the first, whose instance has been up since the start.
func TestSeveralLeaks(t *testing.T) {
	s := svc(t, "api", "10ms")
	spec := &sim.Spec{Name: "leaks", Duration: 60 * time.Second, Services: []sim.Service{s}, Clients: []sim.Client{open(100, "api")},
		Faults: []sim.Fault{
			{Kind: sim.FaultLeak, Target: "api", Start: 0, Params: sim.LeakFault{Growth: 1, Limit: 100}},
			{Kind: sim.FaultLeak, Target: "api", Start: 30 * time.Second, Params: sim.LeakFault{Growth: 0.001, Limit: 100}}}}
	res, _ := run(t, spec)
	// At 45 s the first leak alone is 1 + 0.75: 17.5 ms.
	near(t, "latency at 45 s", window(res, "api", 45).Latency.Mean, 17.5, 0.3)
}

// TestOperationFaultsCompose: a latency and a slowdown fault on one
// operation act as the same faults on the whole service: the slowdown
// multiplies the service time, the latency adds to it, whatever the order
// of the faults.
func TestOperationFaultsCompose(t *testing.T) {
	for _, op := range []string{"", "a"} {
		s := svc(t, "api", "10ms")
		s.Operations = []sim.Operation{{Name: "a", Weight: 1}}
		target := "api"
		if op != "" {
			target += "." + op
		}
		spec := &sim.Spec{Name: "compose", Duration: 10 * time.Second, Services: []sim.Service{s}, Clients: []sim.Client{open(10, "api")},
			Faults: []sim.Fault{
				{Kind: sim.FaultLatency, Target: target, Params: sim.LatencyFault{Add: mustDist(t, "100ms")}},
				{Kind: sim.FaultSlowdown, Target: target, Params: sim.SlowdownFault{Factor: 2}}}}
		res, _ := run(t, spec)
		near(t, "latency with faults on operation "+op, res.Components[0].Latency.Mean, 120, 1)
	}
}

// TestScaledUpAfterABadRelease: an instance that the autoscaler starts
// after a deploy runs the version deployed, not the one before it: a slow
// release that makes the service scale up stays slow on every instance.
func TestScaledUpAfterABadRelease(t *testing.T) {
	s := svc(t, "api", "10ms")
	s.Instances, s.Workers = 2, 10
	s.Autoscale = &resilience.AutoscaleConfig{TargetUtilisation: 0.5, Min: 2, Max: 8, Interval: 5 * time.Second, StartupDelay: time.Second}
	spec := &sim.Spec{Name: "scale-bad", Duration: 60 * time.Second, Services: []sim.Service{s}, Clients: []sim.Client{open(80, "api")},
		Faults: []sim.Fault{{Kind: sim.FaultDeploy, Target: "api", Start: 5 * time.Second, Params: sim.DeployFault{BatchShare: 1, NewFactor: 20}}}}
	res, _ := run(t, spec)
	if countEvents(res, "scaled up") == 0 {
		t.Fatal("the autoscaler did not scale up: the test does not test anything")
	}
	if c := component(res, "api"); c.InstancesUp <= 2 {
		t.Fatalf("%d instances up at the end, want more than 2", c.InstancesUp)
	}
	// 200 ms on every instance of the new version.
	if m := window(res, "api", 55).Latency.Mean; m < 190 {
		t.Errorf("mean latency %.0f ms at 55 s, want about 200: the instances added run the old version", m)
	}
}

// TestRetryKeepsItsOperation: a retry sends the same request again, to
// the same operation: a call that names only the service draws its
// operation once, not once per attempt.
func TestRetryKeepsItsOperation(t *testing.T) {
	back := sim.Service{ServiceTime: mustDist(t, "1ms"),
		Operations: []sim.Operation{{Name: "good", Weight: 1}, {Name: "bad", Weight: 1, HasErrors: true, Errors: 1}}}
	rt := &sim.Retry{MaxAttempts: 4, Backoff: resilience.Backoff{Base: time.Millisecond, Multiplier: 2}}
	rt.On[sim.Error] = true
	res, _ := run(t, twoTier(t, sim.Call{Retry: rt}, back, 100*time.Second))
	// Half the calls go to bad and fail all four attempts.
	near(t, "client success", res.Clients[0].SuccessRate, 0.5, 0.02)
	good, bad := operation(res, "back", "good"), operation(res, "back", "bad")
	near(t, "attempts per call to bad", float64(bad.Arrivals)/float64(good.Arrivals), 4, 0.1)
}

// TestRollbackDuringTheDeploy: a rollback due while the deploy rolls out
// waits for the current batch only, and starts as soon as it is done; the
// log counts the instances each restarted.
func TestRollbackDuringTheDeploy(t *testing.T) {
	s := svc(t, "api", "5ms")
	s.Instances = 4
	spec := &sim.Spec{Name: "rollback", Duration: 30 * time.Second, Services: []sim.Service{s}, Clients: []sim.Client{open(100, "api")},
		Faults: []sim.Fault{{Kind: sim.FaultDeploy, Target: "api", Start: 10 * time.Second, Params: sim.DeployFault{Batch: 1, StartupDelay: 1250 * time.Millisecond, Warmup: time.Second, WarmupFactor: 2, HasNewErrors: true, NewErrors: 0.5, RollbackAfter: 3 * time.Second}}}}
	res, _ := run(t, spec)
	// Batch 1 is done at 12.25 s, batch 2 at 14.5 s: the rollback, due at
	// 13 s, starts then, over #1 and #2.
	want := map[string]float64{
		"deploy finished: 2 instances restarted in 2 batches":   14.5,
		"rollback batch 1 of 2: #1 restarting":                  14.5,
		"rollback finished: 2 instances restarted in 2 batches": 19,
	}
	for _, e := range res.Events {
		if at, ok := want[e.What]; ok {
			if e.TS != at {
				t.Errorf("%q at %.3fs, want %.3fs", e.What, e.TS, at)
			}
			delete(want, e.What)
		}
	}
	for what := range want {
		t.Errorf("no %q in the log", what)
	}
}
