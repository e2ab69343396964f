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

// TestAsyncDrainWaitsForCalls: a deploy drains an instance until it holds
// nothing, and at an async service a request out on its calls holds no
// worker yet is still the instance's to answer: the drain waits for it.
// With a grace period longer than the calls (300 ms) no request is lost;
// with a shorter one the kill at its end takes the requests still out on
// their calls with it, as it would a thread service's.
func TestAsyncDrainWaitsForCalls(t *testing.T) {
	tests := []struct {
		name  string
		grace time.Duration
		lost  bool
	}{
		{"grace past the calls", 30 * time.Second, false},
		{"grace shorter than the calls", 100 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := svc(t, "api", "2ms", call("back"))
			api.Instances, api.Workers, api.Async = 2, 4, true
			spec := &sim.Spec{Name: "deploy-async", Duration: 30 * time.Second,
				Services: []sim.Service{api, svc(t, "back", "300ms")}, Clients: []sim.Client{open(100, "api")},
				Faults: []sim.Fault{{Kind: sim.FaultDeploy, Target: "api", Start: 10 * time.Second,
					Params: sim.DeployFault{Batch: 1, StartupDelay: time.Second, TerminationGracePeriod: tt.grace}}}}
			res, _ := run(t, spec)
			c := res.Clients[0]
			t.Logf("errors %d, timeouts %d, rejected %d", c.Error, c.Timeout, c.Rejected)
			if lost := c.Error+c.Timeout+c.Rejected > 0; lost != tt.lost {
				t.Errorf("requests lost: %v, want %v", lost, tt.lost)
			}
		})
	}
}

// TestDeployFailuresTraceToTheDeploy: what an instance a deploy took
// down or restarted cold does to requests is the deploy's doing, as a
// crash's is the crash's: refusals while it drains and starts (no
// instance up), what a drain cut short at its grace period loses, and the
// slow answers of its warm-up (warmup_factor, a normal rollout with no bad
// release). Before, all of these traced to no fault: the deploy left the
// instance's downOcc as it was, and the warm-up carried no occurrence.
func TestDeployFailuresTraceToTheDeploy(t *testing.T) {
	for _, tc := range []struct {
		name         string
		serviceTime  string
		deploy       string
		slow         bool // count the slow answers (Slow), not the failures (Blame)
		from, before time.Duration
	}{
		{name: "the only instance restarting", serviceTime: "5ms",
			deploy: `startup_delay = "3s"`, from: 10 * time.Second, before: 13 * time.Second},
		{name: "a drain cut short at its grace period", serviceTime: "3s",
			deploy: `startup_delay = "1s"` + "\ntermination_grace_period = \"1s\"", from: 10 * time.Second, before: 13 * time.Second},
		{name: "the warm-up of a normal rollout", serviceTime: "10ms", slow: true,
			deploy: `startup_delay = "1s"` + "\nwarmup = \"5s\"\nwarmup_factor = 20", from: 11 * time.Second, before: 17 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runTOML(t, `
[scenario]
name = "deploy-blame"
duration = "30s"
seed = 1

[[client]]
name = "users"
target = "api"
rate = 100
timeout = "30s"
latency_objective = { percentile = 99, failing = "100ms" }

[[service]]
name = "api"
instances = 1
workers = 1000
service_time = "`+tc.serviceTime+`"

[[fault]]
kind = "deploy"
target = "api"
start = "10s"
batch = 1
`+tc.deploy+"\n")
			var faulted, none uint64
			for _, w := range res.Clients[0].Series {
				b := w.Blame
				if tc.slow {
					b = w.Slow
				}
				if w.Start < tc.from || w.Start >= tc.before || b == nil {
					continue
				}
				faulted += b.Faulted
				none += b.NoFault
			}
			t.Logf("%s: %d traced to the deploy, %d to no fault", tc.name, faulted, none)
			if faulted == 0 || none > 0 {
				t.Errorf("%d traced to the deploy, %d to no fault; want all to the deploy", faulted, none)
			}
		})
	}
}
