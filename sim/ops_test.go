package sim_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/resilience"
)

func component(res *sim.Result, name string) sim.ComponentResult {
	for _, c := range res.Components {
		if c.Name == name {
			return c
		}
	}
	panic("no component " + name)
}

func operation(res *sim.Result, svc, op string) sim.OperationResult {
	for _, o := range component(res, svc).Operations {
		if o.Name == op {
			return o
		}
	}
	panic("no operation " + svc + "." + op)
}

// TestOperationsShareWorkers: a slow operation holds the workers its
// service's other operations need (a monolith); split into two services,
// the fast one does not notice.
func TestOperationsShareWorkers(t *testing.T) {
	slow := sim.Fault{Kind: sim.FaultSlowdown, Start: 10 * time.Second, Duration: 20 * time.Second, Params: sim.SlowdownFault{Factor: 100}}
	// One service, two operations, 8 workers: 100/s of each at 5 ms is
	// 1 worker busy; slowed to 500 ms, the slow one needs 50.
	mono := svc(t, "mono", "5ms")
	mono.Workers, mono.Queue = 8, 1000
	mono.Operations = []sim.Operation{{Name: "fast", Weight: 1}, {Name: "slow", Weight: 1}}
	f := slow
	f.Target = "mono.slow"
	spec := &sim.Spec{Name: "mono", Duration: 40 * time.Second, Services: []sim.Service{mono}, Faults: []sim.Fault{f},
		Clients: []sim.Client{
			{Name: "fast-users", Target: "mono", Operation: "fast", Rate: 100, Timeout: 2 * time.Second},
			{Name: "slow-users", Target: "mono", Operation: "slow", Rate: 100, Timeout: 2 * time.Second}}}
	res, _ := run(t, spec)
	if got := window(res, "fast-users", 20); got.OK > 10 {
		t.Errorf("monolith: the fast operation answered %d requests in second 20, want it starved", got.OK)
	}
	if o := operation(res, "mono", "fast"); o.Failed == 0 {
		t.Errorf("monolith: the fast operation never failed: %+v", o)
	}

	// Two services, the same capacity each.
	a, b := svc(t, "fast", "5ms"), svc(t, "slow", "5ms")
	a.Workers, b.Workers, a.Queue, b.Queue = 8, 8, 1000, 1000
	f = slow
	f.Target = "slow"
	spec = &sim.Spec{Name: "split", Duration: 40 * time.Second, Services: []sim.Service{a, b}, Faults: []sim.Fault{f},
		Clients: []sim.Client{
			{Name: "fast-users", Target: "fast", Rate: 100, Timeout: 2 * time.Second},
			{Name: "slow-users", Target: "slow", Rate: 100, Timeout: 2 * time.Second}}}
	res, _ = run(t, spec)
	if got := window(res, "fast-users", 20); got.OK < 95 || got.Latency.P99 > 50 {
		t.Errorf("split: the fast service in second 20: %d OK, p99 %.1f ms; want it untouched", got.OK, got.Latency.P99)
	}
}

// TestOperationFault: a fault on one operation leaves the others alone.
func TestOperationFault(t *testing.T) {
	s := svc(t, "api", "1ms")
	s.Operations = []sim.Operation{{Name: "read", Weight: 3}, {Name: "write", Weight: 1}}
	spec := &sim.Spec{Name: "ops", Duration: 20 * time.Second, Services: []sim.Service{s}, Clients: []sim.Client{open(400, "api")},
		Faults: []sim.Fault{{Kind: sim.FaultErrors, Target: "api.write", Start: 0, Params: sim.ErrorsFault{Probability: 1}}}}
	res, _ := run(t, spec)
	r, w := operation(res, "api", "read"), operation(res, "api", "write")
	if r.Failed != 0 || w.OK != 0 {
		t.Errorf("read %+v, write %+v: want only writes to fail", r, w)
	}
	near(t, "share of reads", float64(r.Arrivals)/float64(r.Arrivals+w.Arrivals), 0.75, 0.02)
	if fl := res.Clients[0].Flows; len(fl) != 2 || fl[0].Name != "load read" || fl[1].SuccessRate != 0 {
		t.Errorf("flows %+v", fl)
	}
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

// TestDeployBatches: a rolling restart never has more than batch instances
// out; each restarted instance is slow while it warms up; a bad release
// fails until its rollback.
func TestDeployBatches(t *testing.T) {
	s := svc(t, "api", "10ms")
	s.Instances, s.Workers = 6, 4
	spec := &sim.Spec{Name: "deploy", Duration: 120 * time.Second, Services: []sim.Service{s}, Clients: []sim.Client{open(300, "api")},
		Faults: []sim.Fault{{Kind: sim.FaultDeploy, Target: "api", Start: 10 * time.Second, Params: sim.DeployFault{Batch: 2, StartupDelay: 3 * time.Second, Warmup: 5 * time.Second, WarmupFactor: 3, HasNewErrors: true, NewErrors: 0.5, RollbackAfter: 40 * time.Second}}}}
	sm, err := sim.New(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	minUp := 6
	for at := time.Duration(0); at < spec.Duration; at += 100 * time.Millisecond {
		sm.RunUntil(at)
		minUp = min(minUp, sm.Result().Components[0].InstancesUp)
	}
	res := sm.Run()
	if err := res.CheckConservation(); err != nil {
		t.Fatal(err)
	}
	if minUp != 4 {
		t.Errorf("fewest instances up %d, want 6 - batch = 4", minUp)
	}
	var batches, finished int
	for _, e := range res.Events {
		if strings.Contains(e.What, " batch ") {
			batches++
		}
		if strings.Contains(e.What, "finished") {
			finished++
		}
	}
	if batches != 6 || finished != 2 {
		t.Errorf("%d batches, %d finished: want 3 for the deploy and 3 for its rollback", batches, finished)
	}
	// The bad release fails half its requests once every instance runs it
	// (about 40 s), and not after the rollback.
	if w := window(res, "load", 45); w.ErrorShare() < 0.4 {
		e := w.ErrorShare()
		t.Errorf("error share at 45 s %.2f, want the bad release's 0.5", e)
	}
	if w := window(res, "load", 110); w.ErrorShare() != 0 {
		e := w.ErrorShare()
		t.Errorf("error share at 110 s %.2f after the rollback", e)
	}
	if c := res.Cascades[0]; c.Name != "deploy" || c.EndS == nil || *c.EndS < 30 || c.BlastRadius != 1 {
		t.Errorf("cascade of the deploy: %+v", c)
	}
}

// TestLeak: service time grows with uptime until the instance crashes and
// restarts; then it grows again from zero.
func TestLeak(t *testing.T) {
	s := svc(t, "api", "10ms")
	s.Workers = 100
	spec := &sim.Spec{Name: "leak", Duration: 60 * time.Second, Services: []sim.Service{s}, Clients: []sim.Client{open(50, "api")},
		Faults: []sim.Fault{{Kind: sim.FaultLeak, Target: "api", Start: 0, Params: sim.LeakFault{Growth: 10, Limit: 3, StartupDelay: time.Second}}}}
	res, _ := run(t, spec)
	// +10x a minute reaches 3x after 12 s up: crashes at 12, 25, 38, 51 s.
	var crashes []float64
	for _, e := range res.Events {
		if strings.Contains(e.What, "out of memory") {
			crashes = append(crashes, e.TS)
		}
	}
	if !slices.Equal(crashes, []float64{12, 25, 38, 51}) {
		t.Errorf("out of memory at %v, want 12, 25, 38, 51 s", crashes)
	}
	near(t, "latency at 6 s (x2)", window(res, "api", 6).Latency.Mean, 20+0.8, 1)
	near(t, "latency just after a restart (x1)", window(res, "api", 13).Latency.Mean, 10.8, 1)
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

// TestDependencyBrownout: a third-party dependency gets slower and fails.
func TestDependencyBrownout(t *testing.T) {
	ext := svc(t, "payments-api", "20ms")
	ext.External = true
	spec := &sim.Spec{Name: "dep", Duration: 30 * time.Second,
		Services: []sim.Service{svc(t, "checkout", "1ms", call("payments-api")), ext},
		Clients:  []sim.Client{open(100, "checkout")},
		Faults:   []sim.Fault{{Kind: sim.FaultDependency, Target: "payments-api", Start: 10 * time.Second, Duration: 10 * time.Second, Params: sim.DependencyFault{Add: mustDist(t, "200ms"), Probability: 0.3}}}}
	res, _ := run(t, spec)
	w := window(res, "load", 15)
	near(t, "error share during the brownout", w.ErrorShare(), 0.3, 0.1)
	if w.Latency.P50 < 200 {
		t.Errorf("p50 %.0f ms during the brownout, want +200 ms", w.Latency.P50)
	}
	if !component(res, "payments-api").External {
		t.Error("payments-api is not reported external")
	}
}

// TestCascadeOrder: a failure at the bottom of a chain climbs it, one hop
// at a time: the trace lists the components in that order.
func TestCascadeOrder(t *testing.T) {
	spec := &sim.Spec{Name: "chain", Duration: 30 * time.Second, Network: sim.Network{Latency: mustDist(t, "5ms")},
		Services: []sim.Service{svc(t, "a", "1ms", call("b")), svc(t, "b", "1ms", call("c")), svc(t, "c", "1ms")},
		Clients:  []sim.Client{open(100, "a")},
		Faults:   []sim.Fault{{Kind: sim.FaultErrors, Target: "c", Start: 10 * time.Second, Duration: 5 * time.Second, Params: sim.ErrorsFault{Probability: 1}}}}
	res, _ := run(t, spec)
	c := res.Cascades[0]
	var names []string
	for _, st := range c.Steps {
		names = append(names, st.Component)
		if st.Worst != sim.Failing || st.RecoveredS == nil || *st.RecoveredS < 15 || *st.RecoveredS > 17 {
			t.Errorf("step %+v", st)
		}
	}
	if !slices.Equal(names, []string{"c", "b", "a", "load"}) {
		t.Errorf("cascade order %v, want c, b, a, load", names)
	}
	if c.BlastRadius != 1 || c.FirstFlowS == nil || *c.FirstFlowS < 0.01 {
		t.Errorf("blast radius %.2f, first flow after %v s", c.BlastRadius, c.FirstFlowS)
	}
}

// TestBlastRadiusOfALeaf: a fault on a leaf that one route uses hits that
// route's flow only: the radius is its share of the traffic.
func TestBlastRadiusOfALeaf(t *testing.T) {
	gw := sim.Service{Name: "gw", Instances: 1, Workers: 100, Queue: sim.Unbounded, ServiceTime: mustDist(t, "0s"),
		Gateway: &sim.Gateway{}, Calls: []sim.Call{
			{To: "search", Path: "/search", Weight: 3, Probability: 1, Fanout: 1},
			{To: "pay", Path: "/pay", Weight: 1, Probability: 1, Fanout: 1}}}
	spec := &sim.Spec{Name: "leaf", Duration: 30 * time.Second,
		Services: []sim.Service{gw, svc(t, "search", "2ms"), svc(t, "pay", "2ms")},
		Clients:  []sim.Client{{Name: "users", Target: "gw", Rate: 400}},
		Faults:   []sim.Fault{{Kind: sim.FaultErrors, Target: "pay", Start: 10 * time.Second, Duration: 10 * time.Second, Params: sim.ErrorsFault{Probability: 1}}}}
	res, _ := run(t, spec)
	c := res.Cascades[0]
	if !slices.Equal(c.FlowsHit, []string{"users /pay"}) {
		t.Errorf("flows hit %v, want only users /pay", c.FlowsHit)
	}
	near(t, "blast radius", c.BlastRadius, 0.25, 0.02)
}
