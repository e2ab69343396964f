package sim_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sim"
)

// boutique is issue 18's Online Boutique case cut to its bones: shoppers
// call frontend, which calls currency on every request; currency turns ten
// times slower from 30 s to 60 s, with no error at all.
const boutique = `
[scenario]
name = "boutique"
duration = "90s"
warmup = "5s"
seed = 1

[[client]]
name = "shoppers"
target = "frontend"
rate = 50

[[service]]
name = "frontend"
instances = 2
workers = 32
service_time = "exp(2ms)"

[[service.call]]
to = "currency"

[[service]]
name = "currency"
instances = 2
workers = 32
service_time = "exp(5ms)"

[[fault]]
name = "currency-delay"
kind = "slowdown"
target = "currency"
factor = 10
start = "30s"
duration = "30s"
`

// TestSlowCalleeTurnsCallerUnhealthy: slowness is a failure too. A callee
// ten times slower, with no error, makes its caller and the users'
// flow unhealthy on latency: the fault's cascade has steps decided by
// latency, traced by provenance to the slowdown, and a blast radius. The
// code before it said "nothing turned unhealthy · blast radius 0.0%".
func TestSlowCalleeTurnsCallerUnhealthy(t *testing.T) {
	res := runTOML(t, boutique)
	if len(res.Cascades) != 1 {
		t.Fatalf("%d cascades, want 1", len(res.Cascades))
	}
	cr := res.Cascades[0]
	steps := map[string]sim.CascadeStep{}
	for _, st := range cr.Steps {
		steps[st.Component] = st
	}
	for _, name := range []string{"currency", "frontend", "shoppers"} {
		st, ok := steps[name]
		switch {
		case !ok:
			t.Errorf("%s is not a step of the slowdown: steps %+v", name, cr.Steps)
		case st.By != sim.ByLatency:
			t.Errorf("%s's step was decided by %s, want latency", name, st.By)
		case st.Share == nil || *st.Share < 0.9:
			t.Errorf("%s's step: share %v of its slow answers traced to the slowdown, want >= 0.9", name, st.Share)
		case st.DelayS > 3 || st.RecoveredS == nil || *st.RecoveredS < 60 || *st.RecoveredS > 63:
			t.Errorf("%s's step: delay %.3fs, recovered %v; want within 3s of the start and 60-63s", name, st.DelayS, st.RecoveredS)
		}
	}
	if cr.BlastRadius < 0.9 {
		t.Errorf("blast radius %.3f, want >= 0.9: every request went through currency", cr.BlastRadius)
	}
	for _, w := range res.Clients[0].Series {
		if w.Errors+w.Timeouts > 0 {
			t.Fatalf("window %s had failures: the case is slowness alone", w.Start)
		}
	}
}

// TestLatencyNoFalseAlarm: a steady run does not turn unhealthy on
// latency by chance. An M/M/1 at 70 % load, with small and large windows,
// over several seeds, judged against its own level before a fault on a
// service nobody calls: no window of the client or the server is slow.
func TestLatencyNoFalseAlarm(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rate    int
		service string
	}{
		{"700 per window", 700, "exp(1ms)"},
		{"70 per window", 70, "exp(10ms)"},
	} {
		src := fmt.Sprintf(`
[scenario]
name = "steady"
duration = "300s"
warmup = "5s"

[[client]]
name = "arrivals"
target = "server"
rate = %d

[[service]]
name = "server"
instances = 1
workers = 1
service_time = %q

[[service]]
name = "idle"
instances = 1
workers = 1
service_time = "1ms"

[[fault]]
kind = "pause"
target = "idle"
start = "60s"
duration = "10s"
`, tc.rate, tc.service)
		spec := loadSpec(t, src)
		for seed := uint64(1); seed <= 5; seed++ {
			t.Run(fmt.Sprintf("%s/seed %d", tc.name, seed), func(t *testing.T) {
				s, err := sim.New(spec, seed)
				if err != nil {
					t.Fatal(err)
				}
				res := s.Run()
				for _, ws := range [][]sim.Window{res.Clients[0].Series, res.Components[0].Series} {
					for _, w := range ws {
						if w.Reason.By == sim.ByLatency || w.Slow != nil {
							t.Fatalf("window %s: %s on %s (slow answers %+v)", w.Start, w.Health, w.Reason.By, w.Slow)
						}
					}
				}
				if st := res.Cascades[0].Steps; len(st) > 0 {
					t.Errorf("the pause of an idle service has steps %+v", st)
				}
			})
		}
	}
}

// TestLatencyObjective: an explicit objective judges from the first
// window, fault or none. The service's answers are exp(10ms), p99 46 ms;
// the client's also carry two network hops each way.
func TestLatencyObjective(t *testing.T) {
	for _, tc := range []struct {
		name      string
		objective string
		want      sim.Health
	}{
		{"met", `{ percentile = 99, degraded = "100ms" }`, sim.Healthy},
		{"missed", `{ percentile = 99, degraded = "30ms", failing = "100ms" }`, sim.Degraded},
		{"missed far", `{ percentile = 99, degraded = "10ms", failing = "30ms" }`, sim.Failing},
		{"median met", `{ percentile = 50, degraded = "10ms" }`, sim.Healthy},
		{"median missed", `{ percentile = 50, failing = "5ms" }`, sim.Failing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runTOML(t, fmt.Sprintf(`
[scenario]
name = "objective"
duration = "20s"

[[client]]
name = "users"
target = "api"
rate = 200
latency_objective = %s

[[service]]
name = "api"
instances = 1
workers = 64
service_time = "exp(10ms)"
latency_objective = %s
`, tc.objective, tc.objective))
			for _, ws := range [][]sim.Window{res.Clients[0].Series, res.Components[0].Series} {
				for _, w := range ws[1:] {
					if w.Health != tc.want {
						t.Fatalf("window %s: %s (%+v), want %s", w.Start, w.Health, w.Reason, tc.want)
					}
					if tc.want != sim.Healthy && (w.Reason.By != sim.ByLatency || w.Slow == nil || w.Slow.NoFault == 0 || w.Slow.Faulted > 0) {
						t.Fatalf("window %s: reason %+v, slow answers %+v; want latency, traced to no fault", w.Start, w.Reason, w.Slow)
					}
				}
			}
		})
	}
}

// TestRouteLatencyObjective: a gateway route's objective judges its flow
// instead of its client's.
func TestRouteLatencyObjective(t *testing.T) {
	res := runTOML(t, `
[scenario]
name = "routes"
duration = "20s"

[[client]]
name = "users"
target = "edge"
rate = 200
latency_objective = { degraded = "1s" }

[[gateway]]
name = "edge"
workers = 64

[[gateway.route]]
path = "/fast"
to = "api"

[[gateway.route]]
path = "/strict"
to = "api"
latency_objective = { percentile = 90, degraded = "5ms" }

[[service]]
name = "api"
instances = 1
workers = 64
service_time = "exp(10ms)"
`)
	want := map[string]sim.Health{"users /fast": sim.Healthy, "users /strict": sim.Degraded}
	for _, f := range res.Clients[0].Flows {
		for _, w := range f.Series[1:] {
			if w.Health != want[f.Name] {
				t.Fatalf("%s window %s: %s (%+v), want %s", f.Name, w.Start, w.Health, w.Reason, want[f.Name])
			}
		}
	}
}

// TestLatencyBaseline: without an objective, the level before the first
// fault judges: a 10x slower callee fails its caller at the default
// factors, only degrades it when failing needs 20x, and leaves it alone
// when degraded needs 20x too; a fault from the start leaves no level
// before it, and no verdict.
func TestLatencyBaseline(t *testing.T) {
	for _, tc := range []struct {
		name, from, to string
		want           sim.Health
	}{
		{"default factors", "", "", sim.Failing},
		{"failing at 20x", "seed = 1", "seed = 1\nlatency_factor = { failing = 20 }", sim.Degraded},
		{"degraded at 20x", "seed = 1", "seed = 1\nlatency_factor = { degraded = 20, failing = 50 }", sim.Healthy},
		{"fault from the start", `start = "30s"`, `start = "0s"`, sim.Healthy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runTOML(t, strings.Replace(boutique, tc.from, tc.to, 1))
			worst := sim.Healthy
			for _, w := range res.Clients[0].Series {
				if w.Reason.By == sim.ByLatency {
					worst = max(worst, w.Health)
				}
			}
			if worst != tc.want {
				t.Errorf("the worst of shoppers' windows on latency: %s, want %s", worst, tc.want)
			}
		})
	}
}

// TestCascadeStepWorstBy: in checkout, payment's +800 ms turns payment,
// checkout, frontend and shoppers degraded on latency; payment fails on
// latency too, while the others fail on errors (checkout's 1 s call to
// payment times out: error share 52.6%). Each step says what decided its
// worst level apart from its first: the old trace had only the first's,
// and run's CASCADE said "on latency" of steps that failed on errors.
func TestCascadeStepWorstBy(t *testing.T) {
	spec := builtin(t, "checkout")
	s, err := sim.New(spec, spec.Seed)
	if err != nil {
		t.Fatal(err)
	}
	res := s.Run()
	want := map[string][2]sim.Indicator{
		"payment":  {sim.ByLatency, sim.ByLatency},
		"checkout": {sim.ByLatency, sim.ByErrorShare},
		"frontend": {sim.ByLatency, sim.ByErrorShare},
		"shoppers": {sim.ByLatency, sim.ByErrorShare},
	}
	steps := res.Cascades[0].Steps
	if len(steps) != len(want) {
		t.Fatalf("%d steps, want %d", len(steps), len(want))
	}
	for _, st := range steps {
		w := want[st.Component]
		if st.By != w[0] || st.WorstBy != w[1] || st.Worst != sim.Failing {
			t.Errorf("%s: %s by %s, %s by %s; want failing by %s after %s", st.Component, st.First, st.By, st.Worst, st.WorstBy, w[1], w[0])
		}
	}
}

// TestOneRouteLatencyObjective: a client whose gateway has one route is
// that route's only flow, so the route's objective judges the client (it
// was read only when the gateway had several routes, and dropped here).
func TestOneRouteLatencyObjective(t *testing.T) {
	res := runTOML(t, `
[scenario]
name = "one-route"
duration = "20s"

[[client]]
name = "users"
target = "edge"
rate = 200

[[gateway]]
name = "edge"
workers = 64

[[gateway.route]]
path = "/strict"
to = "api"
latency_objective = { percentile = 90, degraded = "5ms" }

[[service]]
name = "api"
instances = 1
workers = 64
service_time = "exp(10ms)"
`)
	for _, w := range res.Clients[0].Series[1:] {
		if w.Health != sim.Degraded || w.Reason.By != sim.ByLatency {
			t.Fatalf("users window %s: %s (%+v), want degraded on latency by its route's objective", w.Start, w.Health, w.Reason)
		}
	}
}

// TestWindowBlamedForSlowAndFailed: a window is given to what made it
// unhealthy, its slow answers and its failures both when both judge it
// (Window.Provenance), in proportion to the answers each spoiled. Shop
// calls b, then a; from 10 s to 30 s a answers 300 ms slower (past the shoppers' failing
// objective, 200 ms: every answer is slow) while b fails a share of its
// requests. At 6% of failures the shoppers are failing on latency and
// degraded on errors; at 30% failing on both, and the error share names
// it. Either way the latency fault spoiled the answers that came back and
// the errors fault the rest: their shares of the windows' provenance are
// 1-p and p, and each fault's cascade has a step for the shoppers with
// that share (0.939/0.061 and 0.700/0.300 seen). The defect: a window's
// provenance was its deciding side's alone, so the errors fault got
// nothing of a window failing on latency (no step), and the latency fault
// nothing of one failing on errors.
func TestWindowBlamedForSlowAndFailed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		errors float64
		by     sim.Indicator
	}{
		{"failing on latency, degraded on errors", 0.06, sim.ByLatency},
		{"failing on errors and on latency", 0.3, sim.ByErrorShare},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runTOML(t, fmt.Sprintf(`
[scenario]
name = "slow-and-failed"
duration = "40s"
seed = 1

[[client]]
name = "shoppers"
target = "shop"
rate = 1000
timeout = "5s"
latency_objective = { percentile = 99, degraded = "100ms", failing = "200ms" }

[[service]]
name = "shop"
instances = 2
workers = 200
service_time = "1ms"

[[service.call]]
to = "b"
timeout = "5s"

[[service.call]]
to = "a"
timeout = "5s"

[[service]]
name = "a"
instances = 2
workers = 200
service_time = "1ms"

[[service]]
name = "b"
instances = 2
workers = 200
service_time = "1ms"

[[fault]]
kind = "latency"
target = "a"
add = "300ms"
start = "10s"
duration = "20s"

[[fault]]
kind = "errors"
target = "b"
probability = %g
start = "10s"
duration = "20s"
`, tc.errors))
			var byFault [2]uint64
			var all uint64
			for _, w := range res.Clients[0].Series {
				if w.Start < 12*time.Second || w.Start >= 28*time.Second {
					continue
				}
				if w.Health != sim.Failing || w.Reason.By != tc.by {
					t.Errorf("%v: %s by %s, want failing by %s", w.Start, w.Health, w.Reason.By, tc.by)
				}
				b := w.Provenance()
				if b == nil {
					t.Fatalf("%v: no provenance", w.Start)
				}
				all += b.Faulted + b.NoFault
				for _, o := range b.Origins {
					if o.Fault != nil {
						byFault[*o.Fault] += o.N
					}
				}
			}
			for k, want := range []float64{1 - tc.errors, tc.errors} {
				got := float64(byFault[k]) / float64(all)
				if math.Abs(got-want) > 0.03 {
					t.Errorf("%s: %.3f of the windows' provenance, want %.2f", res.Faults[k].What, got, want)
				}
				st := cascadeStep(res.Cascades[k], "shoppers")
				if st == nil || st.Share == nil || math.Abs(*st.Share-want) > 0.03 {
					t.Errorf("%s: shoppers' step %+v, want one of share %.2f", res.Faults[k].What, st, want)
				} else {
					t.Logf("%s: %.3f of the windows' provenance, shoppers' step share %.3f", res.Faults[k].What, got, *st.Share)
				}
			}
		})
	}
}

// cascadeStep is c's step of the component or flow named, nil if none.
func cascadeStep(c sim.CascadeResult, name string) *sim.CascadeStep {
	for i := range c.Steps {
		if c.Steps[i].Component == name {
			return &c.Steps[i]
		}
	}
	return nil
}

// TestSlowAnswerBlamedOnWhatAddedTime: a slow answer is blamed on the
// fault that added the most time on its path, whatever the order of its
// calls: of calls one after the other the one late by the most, of calls
// made together (a group) the one that answered last if it was late
// itself. Shop calls a and b; from 10 s to 30 s faults on a and b; the
// shoppers' objective (100 ms failing) makes every answer slow while a
// fault adds 300 ms. The defect: a request was late by any fault on the
// instance that served it, an errors fault too, and the call that
// answered last overwrote its caller's lateness, so with shop calling a
// (300 ms slower) then b (errors) every slow answer was b's errors
// fault's (8524 of 8524), with two latency faults the one on the later
// call took them all (8994 of 8994 to b's 150 ms), and in a group whose
// last answer was b's own 400 ms, a's faster answer gave all 8517 to a
// fault (b's errors fault, which had set b's lateness).
func TestSlowAnswerBlamedOnWhatAddedTime(t *testing.T) {
	errs := `kind = "errors"
probability = 0.05`
	lat := func(d string) string {
		return `kind = "latency"
add = "` + d + `"`
	}
	for _, tc := range []struct {
		name      string
		first     string // the call made first: "a" or "b"
		group     bool   // a and b called together
		faultA    string // the fault on a, then on b
		faultB    string
		timeB     string // b's service time
		wantFault int    // the fault every slow answer is blamed on: 0 a's, 1 b's, -1 none
	}{
		{"a slowed then b erring", "a", false, lat("300ms"), errs, "1ms", 0},
		{"b erring then a slowed", "b", false, lat("300ms"), errs, "1ms", 0},
		{"a slowed most then b", "a", false, lat("300ms"), lat("150ms"), "1ms", 0},
		{"b then a slowed most", "b", false, lat("300ms"), lat("150ms"), "1ms", 0},
		{"a and b together, a slowed, b erring", "a", true, lat("300ms"), errs, "1ms", 0},
		{"b and a together, a slowed, b erring", "b", true, lat("300ms"), errs, "1ms", 0},
		{"a and b together, a answers last", "a", true, lat("300ms"), lat("150ms"), "1ms", 0},
		{"b and a together, a answers last", "b", true, lat("300ms"), lat("150ms"), "1ms", 0},
		// b takes 400 ms of its own: a, 150 ms slower, answers first and
		// costs shop nothing; its slow answers have no fault behind them.
		{"a and b together, b answers last unslowed", "a", true, lat("150ms"), errs, "400ms", -1},
		{"b and a together, b answers last unslowed", "b", true, lat("150ms"), errs, "400ms", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			group := ""
			if tc.group {
				group = `group = "both"`
			}
			second := map[string]string{"a": "b", "b": "a"}[tc.first]
			res := runTOML(t, fmt.Sprintf(`
[scenario]
name = "slow-blame"
duration = "40s"
seed = 1

[[client]]
name = "shoppers"
target = "shop"
rate = 500
timeout = "5s"
latency_objective = { percentile = 99, failing = "100ms" }

[[service]]
name = "shop"
instances = 2
workers = 400
service_time = "1ms"

[[service.call]]
to = "%s"
timeout = "5s"
%s

[[service.call]]
to = "%s"
timeout = "5s"
%s

[[service]]
name = "a"
instances = 2
workers = 400
service_time = "1ms"

[[service]]
name = "b"
instances = 2
workers = 400
service_time = "%s"

[[fault]]
target = "a"
start = "10s"
duration = "20s"
%s

[[fault]]
target = "b"
start = "10s"
duration = "20s"
%s
`, tc.first, group, second, group, tc.timeB, tc.faultA, tc.faultB))
			var byFault [2]uint64
			var all uint64
			for _, w := range res.Clients[0].Series {
				if w.Start < 11*time.Second || w.Start >= 29*time.Second {
					continue
				}
				if w.Slow == nil {
					t.Fatalf("%v: no slow answers", w.Start)
				}
				all += w.Slow.Faulted + w.Slow.NoFault
				for _, o := range w.Slow.Origins {
					if o.Fault != nil {
						byFault[*o.Fault] += o.N
					}
				}
			}
			t.Logf("%d slow answers: %d blamed on a's fault, %d on b's", all, byFault[0], byFault[1])
			if tc.wantFault < 0 {
				if byFault[0]+byFault[1] > 0 {
					t.Errorf("%d of %d slow answers blamed on a fault, want none", byFault[0]+byFault[1], all)
				}
				return
			}
			if got := float64(byFault[tc.wantFault]) / float64(all); got < 0.99 {
				t.Errorf("%.3f of the slow answers blamed on %s, want all", got, res.Faults[tc.wantFault].What)
			}
		})
	}
}

// TestSlowAnswerInQueueTraced: a slow answer that waited in a queue is
// late by its wait, given as it gets a worker to the fault the workers
// ahead of it held when it was queued (or hold then); one that met no
// fault on its path, queued or not, has none behind it, however recent
// the service's work slowed by a fault. The defect was the pressure rule
// for slow answers (the fault behind the work the service last finished
// slowed by one): it missed a pause below, whose frozen work carried no
// lateness (old: 0 of the 563 slow answers from 10 s to 15 s traced to
// the pause, new 563), and gave a fault answers that never met it: half
// of api's requests call c, which no fault touches, yet 560 of 625 slow
// answers (0.896) were traced to b's latency fault because api's recent
// work met it (new: 297, 0.475, b's half).
func TestSlowAnswerInQueueTraced(t *testing.T) {
	for _, tc := range []struct {
		name    string
		workers int    // api's
		calls   string // api's calls
		fault   string // on b, from 10 s to 13 s
		lo, hi  float64
	}{
		{"b paused, api's requests queued behind its workers", 20, `
[[service.call]]
to = "b"
timeout = "10s"
`, `kind = "pause"`, 0.95, 1},
		{"half the answers from c, no fault on their path", 400, `
[[service.call]]
to = "b"
timeout = "10s"
probability = 0.5

[[service.call]]
to = "c"
timeout = "10s"
probability = 0.5
`, `kind = "latency"
add = "300ms"`, 0.4, 0.6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runTOML(t, `
[scenario]
name = "slow-queue"
duration = "20s"
seed = 1

[[client]]
name = "users"
target = "api"
rate = 200
timeout = "30s"
latency_objective = { percentile = 99, failing = "100ms" }

[[service]]
name = "api"
instances = 1
workers = `+fmt.Sprint(tc.workers)+`
service_time = "1ms"
`+tc.calls+`
[[service]]
name = "b"
instances = 1
workers = 400
service_time = "1ms"

[[service]]
name = "c"
instances = 1
workers = 100
service_time = "300ms"

[[fault]]
target = "b"
start = "10s"
duration = "3s"
`+tc.fault+"\n")
			var traced, all uint64
			for _, w := range res.Clients[0].Series {
				if w.Start < 10*time.Second || w.Start >= 15*time.Second || w.Slow == nil {
					continue
				}
				all += w.Slow.Faulted + w.Slow.NoFault
				traced += w.Slow.Faulted
			}
			got := float64(traced) / float64(max(all, 1))
			t.Logf("%d of %d slow answers from 10 s to 15 s traced to %s: %.3f", traced, all, res.Faults[0].What, got)
			if all == 0 || got < tc.lo || got > tc.hi {
				t.Errorf("%.3f of the slow answers traced to %s, want %.2f-%.2f", got, res.Faults[0].What, tc.lo, tc.hi)
			}
		})
	}
}

// TestErrorsFaultNeverSlowsQueuedAnswers: an errors fault adds no time,
// so the waits of the answers queued behind a busy worker are not its:
// neither through what the worker holds (hereOrigin) nor through the
// pressure its fast failures used to renew (complete). Before, 607 of
// 607 slow answers during the fault were traced to it.
func TestErrorsFaultNeverSlowsQueuedAnswers(t *testing.T) {
	res := runTOML(t, `
[scenario]
name = "q"
duration = "30s"
seed = 1

[[client]]
name = "users"
target = "api"
rate = 180
timeout = "30s"
latency_objective = { percentile = 99, failing = "30ms" }

[[service]]
name = "api"
instances = 1
workers = 1
service_time = "5ms"

[[fault]]
kind = "errors"
target = "api"
probability = 0.5
start = "10s"
duration = "20s"
`)
	var before, beforeF, during, duringF uint64
	for _, w := range res.Clients[0].Series {
		if w.Slow == nil {
			continue
		}
		if w.Start < 10*time.Second {
			before += w.Slow.Faulted + w.Slow.NoFault
			beforeF += w.Slow.Faulted
		} else {
			during += w.Slow.Faulted + w.Slow.NoFault
			duringF += w.Slow.Faulted
		}
	}
	t.Logf("slow before fault %d (faulted %d); during errors fault %d, traced to the errors fault %d", before, beforeF, during, duringF)
	if duringF > 0 {
		t.Errorf("%d of %d slow answers blamed on an errors fault, which adds no time", duringF, during)
	}
}

// TestEventLogNamesTheProvenance: the event log's "after X" names the
// fault the window's provenance gives most of its spoiled answers, as
// the cascade's shares do: shoppers failing on latency (3 % of its calls
// slowed by a) with 6.9 % errors from b, 507 slow answers against 1584
// failed. Before, the log named the latency on a, the side that decided
// the level, while the cascade gave 0.754 of the step to the errors on b.
func TestEventLogNamesTheProvenance(t *testing.T) {
	res := runTOML(t, `
[scenario]
name = "sf"
duration = "40s"
seed = 1

[[client]]
name = "shoppers"
target = "shop"
rate = 1000
timeout = "5s"
latency_objective = { percentile = 99, degraded = "100ms", failing = "200ms" }

[[service]]
name = "shop"
instances = 2
workers = 200
service_time = "1ms"

[[service.call]]
to = "b"
timeout = "5s"

[[service.call]]
to = "a"
timeout = "5s"
probability = 0.03

[[service]]
name = "a"
instances = 2
workers = 200
service_time = "1ms"

[[service]]
name = "b"
instances = 2
workers = 200
service_time = "1ms"

[[fault]]
kind = "latency"
target = "a"
add = "300ms"
start = "10s"
duration = "20s"

[[fault]]
kind = "errors"
target = "b"
probability = 0.08
start = "10s"
duration = "20s"
`)
	var said string
	for _, e := range res.Events {
		if e.Component == "shoppers" && e.Health != sim.Healthy {
			said = e.What
			break
		}
	}
	share := map[string]float64{}
	for _, c := range res.Cascades {
		for _, st := range c.Steps {
			if st.Component == "shoppers" && st.Share != nil {
				share[c.Name] = *st.Share
			}
		}
	}
	if !strings.Contains(said, "after the errors on b") || share["errors"] <= share["latency"] {
		t.Errorf("event %q; cascade shares %v: want the log to name what most of the failures trace to, as the cascade does", said, share)
	}
}
