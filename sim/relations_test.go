package sim_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/resilience"
)

// fullRelations runs the metamorphic relations over every built-in at its
// full length; without it, over a few built-ins cut to 20 s (go test ./...
// stays quick).
var fullRelations = flag.Bool("relations.full", false, "check the metamorphic relations on every built-in at full length")

// relationSpecs returns the built-ins the relations run on.
func relationSpecs(t *testing.T) ([]string, []*sim.Spec) {
	names := []string{"checkout", "retry-storm", "breaker-saves-checkout"}
	if *fullRelations {
		names = names[:0]
		for _, b := range scenarios.List() {
			names = append(names, b.Name)
		}
	}
	var out []*sim.Spec
	for _, n := range names {
		spec := builtin(t, n)
		if !*fullRelations {
			spec.Duration = min(spec.Duration, 20*time.Second)
			spec.Warmup = min(spec.Warmup, spec.Duration/4)
		}
		out = append(out, spec)
	}
	return names, out
}

// figures is what a relation compares: every client, component and edge,
// with their time series, as JSON.
func figures(t *testing.T, spec *sim.Spec) string {
	t.Helper()
	res, _ := run(t, spec)
	b, err := json.Marshal([]any{res.Clients, res.Components, res.Edges, res.Topics, res.Groups, res.Stores})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestZeroSizeFaults: a fault that changes nothing (+0 latency, a factor-1
// slowdown or surge, a capacity that removes no worker) leaves every figure
// byte-identical, from its start to its end.
func TestZeroSizeFaults(t *testing.T) {
	names, specs := relationSpecs(t)
	for k, spec := range specs {
		name := names[k]
		if len(spec.Clients) == 0 || len(spec.Services) == 0 {
			continue
		}
		base := figures(t, spec)
		sv, cl := spec.Services[len(spec.Services)-1], spec.Clients[0]
		faults := []sim.Fault{
			{Kind: sim.FaultLatency, Target: sv.Name, Params: sim.LatencyFault{Add: mustDist(t, "0s")}},
			{Kind: sim.FaultSlowdown, Target: sv.Name, Params: sim.SlowdownFault{Factor: 1}},
			{Kind: sim.FaultSurge, Target: cl.Name, Params: sim.SurgeFault{Factor: 1}},
			{Kind: sim.FaultCapacity, Target: sv.Name, Params: sim.CapacityFault{Workers: sv.Workers}},
		}
		for _, f := range faults {
			t.Run(name+"/"+f.Kind.String(), func(t *testing.T) {
				s := *spec
				f.Start, f.Duration = spec.Duration/4, spec.Duration/2
				s.Faults = append(append([]sim.Fault(nil), spec.Faults...), f)
				if got := figures(t, &s); got != base {
					t.Errorf("a zero-size %s fault on %s changed the figures", f.Kind, f.Target)
				}
			})
		}
	}
}

// chainTOML is a simple chain, client -> front -> back, whose every
// duration is multiplied by k and every rate divided by k, with its
// services named front and back and front's instances and workers given
// (each worker serves 25 requests/s, the client sends 60/s): a deploy of front (its drain cut short by
// termination_grace_period), a short slowdown of back that turns health
// (so the cascade trace has steps, and with an unscaled cascade_window the
// deploy's step at k = 3 falls outside its reach), and the cascade window.
func chainTOML(k float64, front, back string, instances, workers int) string {
	d := func(ms float64) string { return fmt.Sprintf("%gms", ms*k) }
	return fmt.Sprintf(`
[scenario]
duration = %q
warmup = %q
window = %q
cascade_window = %q
seed = 7

[network]
latency = %q

[[client]]
name = "users"
target = %q
rate = %g
timeout = %q

[[service]]
name = %q
instances = %d
workers = %d
service_time = "exp(%s)"
  [[service.call]]
  to = %q
  timeout = %q

[[service]]
name = %q
instances = 2
workers = 4
service_time = "exp(%s)"

[[fault]]
kind = "deploy"
target = %q
start = %q
startup_delay = %q
warmup = %q
termination_grace_period = %q

[[fault]]
kind = "slowdown"
target = %q
factor = 20
start = %q
duration = %q
`, d(40000), d(2000), d(1000), d(5000), d(1), front, 60/k, d(1500),
		front, instances, workers, d(40), back, d(300), back, d(15),
		front, d(10000), d(2000), d(2000), d(30),
		back, d(22000), d(1500))
}

// loadSpec loads a scenario.
func loadSpec(t *testing.T, src string) *sim.Spec {
	t.Helper()
	spec, err := scenarios.Load("relation.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// loadRun loads a scenario and runs it.
func loadRun(t *testing.T, src string) *sim.Result {
	t.Helper()
	spec, err := scenarios.Load("relation.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	res, _ := run(t, spec)
	return res
}

// TestTimeScaling: every duration times k and every rate divided by k (the
// cascade window and a deploy's grace period included) sends and answers
// the same requests, and scales every latency and every cascade delay by
// k: a draw is its distribution's quantile of the same uniform number, so
// only whole-nanosecond rounding differs.
func TestTimeScaling(t *testing.T) {
	base := loadRun(t, chainTOML(1, "front", "back", 3, 2))
	for _, k := range []float64{0.5, 3} {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			res := loadRun(t, chainTOML(k, "front", "back", 3, 2))
			b, r := base.Clients[0], res.Clients[0]
			if r.Sent != b.Sent || r.OK != b.OK || r.Error != b.Error || r.Timeout != b.Timeout || r.Rejected != b.Rejected {
				t.Errorf("x%g: sent %d ok %d timeout %d rejected %d, want %d %d %d %d",
					k, r.Sent, r.OK, r.Timeout, r.Rejected, b.Sent, b.OK, b.Timeout, b.Rejected)
			}
			if b.Error+b.Timeout+b.Rejected == 0 {
				t.Error("the deploy's grace period killed nothing: the relation tests too little")
			}
			for _, q := range []struct {
				name      string
				got, want float64
			}{{"mean", r.Latency.Mean, b.Latency.Mean}, {"p50", r.Latency.P50, b.Latency.P50}, {"p99", r.Latency.P99, b.Latency.P99}} {
				if ratio := q.got / q.want / k; math.Abs(ratio-1) > 0.02 {
					t.Errorf("x%g: latency %s %.3f ms, want %.3f ms x %g (ratio %.4f)", k, q.name, q.got, q.want, k, ratio)
				}
			}
			steps := 0
			for _, c := range base.Cascades {
				steps += len(c.Steps)
			}
			if steps == 0 {
				t.Fatalf("no fault changed any health: the relation tests no cascade (%+v)", base.Cascades)
			}
			if len(res.Cascades) != len(base.Cascades) {
				t.Fatalf("x%g: %d cascades, want %d", k, len(res.Cascades), len(base.Cascades))
			}
			for c, bc := range base.Cascades {
				if len(res.Cascades[c].Steps) != len(bc.Steps) {
					t.Fatalf("x%g: cascade %s: steps %+v, want %+v", k, bc.Name, res.Cascades[c].Steps, bc.Steps)
				}
				for i, st := range res.Cascades[c].Steps {
					if want := bc.Steps[i].DelayS * k; st.Component != bc.Steps[i].Component || math.Abs(st.DelayS-want) > 0.01*k {
						t.Errorf("x%g: cascade %s: step %s at +%.3fs, want %s at +%.3fs", k, bc.Name, st.Component, st.DelayS, bc.Steps[i].Component, want)
					}
				}
			}
		})
	}
}

// consumeTOML is a small consume scenario whose every duration is
// multiplied by k: a consumer instance crashes, and the group removes it at
// the first broker tick after its session timeout.
func consumeTOML(k float64) string {
	d := func(ms float64) string { return fmt.Sprintf("%gms", ms*k) }
	return fmt.Sprintf(`
[scenario]
duration = %q
window = %q
seed = 3

[[client]]
name = "shoppers"
target = "orders"
rate = %g

[[service]]
name = "orders"
instances = 1
workers = 8
service_time = "exp(%s)"
  [[service.publish]]
  topic = "placed"

[[service]]
name = "billing"
instances = 2
workers = 2
service_time = "exp(%s)"
  [[service.consume]]
  topic = "placed"
  group = "billing"

[[broker]]
name = "kafka"
tick = %q
session_timeout = %q
rebalance = %q
  [[broker.topic]]
  name = "placed"
  partitions = 4

[[fault]]
kind = "crash"
target = "billing#1"
start = %q
`, d(60000), d(1000), 50/k, d(2), d(10), d(1000), d(15000), d(3000), d(20300))
}

// TestTimeScalingBrokerTick: with the broker's tick and session timeout
// scaled by k, a crashed consumer leaves its group k times as late after
// its crash (a removal happens at a tick, so an unscaled 1 s tick would
// round it to whole seconds).
func TestTimeScalingBrokerTick(t *testing.T) {
	left := func(res *sim.Result) float64 {
		for _, e := range res.Events {
			if strings.Contains(e.What, "left: no heartbeat") {
				return e.TS
			}
		}
		t.Fatal("the crashed consumer never left its group")
		return 0
	}
	base := left(loadRun(t, consumeTOML(1)))
	if base < 20.3+15 {
		t.Fatalf("removed at %.3fs, before its session timeout (crash 20.3s + 15s)", base)
	}
	for _, k := range []float64{0.3, 3} {
		if got := left(loadRun(t, consumeTOML(k))); math.Abs(got-base*k) > 1e-6*k {
			t.Errorf("x%g: removed at %.4fs, want %.4fs x %g = %.4fs", k, got, base, k, base*k)
		}
	}
}

// TestInertResilience: a policy that can never act gives exactly the figures
// of no policy, on every client and component (an edge reports its
// policies, so its figures differ): retries with
// max_attempts = 1 (Resilience4j's maxAttempts counts the first call), and
// a breaker whose minimum_number_of_calls exceeds what its time-based
// window of one second can hold at the call's rate (it never computes a
// failure rate, so never opens).
func TestInertResilience(t *testing.T) {
	names, specs := relationSpecs(t)
	edit := func(spec *sim.Spec, f func(c *sim.Call)) *sim.Spec {
		s := *spec
		s.Services = append([]sim.Service(nil), spec.Services...)
		for i := range s.Services {
			s.Services[i].Calls = append([]sim.Call(nil), s.Services[i].Calls...)
			for j := range s.Services[i].Calls {
				f(&s.Services[i].Calls[j])
			}
		}
		return &s
	}
	cases := []struct {
		name       string
		inert, off func(c *sim.Call)
	}{
		{"retry-one-attempt",
			func(c *sim.Call) { c.Retry = &sim.Retry{MaxAttempts: 1} },
			func(c *sim.Call) { c.Retry = nil }},
		{"breaker-that-cannot-open",
			func(c *sim.Call) {
				b := resilience.DefaultBreakerConfig()
				b.WindowType, b.WindowSize, b.MinimumCalls = resilience.TimeBased, 1, 1<<30
				c.Breaker = &b
			},
			func(c *sim.Call) { c.Breaker = nil }},
	}
	for k, spec := range specs {
		for _, tc := range cases {
			t.Run(names[k]+"/"+tc.name, func(t *testing.T) {
				got, _ := run(t, edit(spec, tc.inert))
				want, _ := run(t, edit(spec, tc.off))
				g, _ := json.Marshal([]any{got.Clients, got.Components})
				w, _ := json.Marshal([]any{want.Clients, want.Components})
				if string(g) != string(w) {
					t.Errorf("%s changed the figures of %s", tc.name, names[k])
				}
			})
		}
	}
}

// TestMonotonicity: more capacity at a saturated service never hurts its
// client: with front's workers, then its instances, at 1, 2 and 4 (25, 50
// and 100 requests/s against 60/s sent), the client's success share never
// drops and the median latency of its answered requests never rises
// (equality allowed: at 1 and 2 workers most requests time out, so both
// medians are the timeout). The median of its successful requests alone
// is no such relation: in collapse the few that succeed are the early
// ones (618 ms at 1 worker, 1237 ms at 2).
func TestMonotonicity(t *testing.T) {
	for _, tc := range []struct {
		name string
		toml func(n int) string
	}{
		{"workers", func(n int) string { return chainTOML(1, "front", "back", 1, n) }},
		{"instances", func(n int) string { return chainTOML(1, "front", "back", n, 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var prev *sim.ClientResult
			for _, n := range []int{1, 2, 4} {
				res := loadRun(t, tc.toml(n))
				c := res.Clients[0]
				if prev == nil && c.SuccessRate > 0.9 {
					t.Fatalf("%s 1: success %.3f: front is not saturated, the relation tests too little", tc.name, c.SuccessRate)
				}
				if prev != nil && (c.SuccessRate < prev.SuccessRate || c.LatencyAll.P50 > prev.LatencyAll.P50) {
					t.Errorf("%s %d: success %.4f p50 %.2f ms, with half as many: success %.4f p50 %.2f ms",
						tc.name, n, c.SuccessRate, c.LatencyAll.P50, prev.SuccessRate, prev.LatencyAll.P50)
				}
				prev = &c
			}
		})
	}
}

// TestRenaming: renaming every component of the chain changes its random
// streams (each is seeded by its component's name) but not its statistics.
// Over 5 seeds each, the means of the client's mean latency and success
// share agree within 3 standard errors of their difference: the runs are
// deterministic, so the test cannot flake, and 3 standard errors is about
// the two-sided 98 % point of Student's t at the 4 to 8 degrees of freedom
// of two samples of 5, while a defect that reads names (a sort, a map
// order, a name-keyed default) moves a figure by far more.
func TestRenaming(t *testing.T) {
	names := func(src string) []float64 {
		spec := loadSpec(t, src)
		var lat, ok []float64
		for seed := uint64(1); seed <= 5; seed++ {
			s, err := sim.New(spec, seed)
			if err != nil {
				t.Fatal(err)
			}
			res := s.Run()
			if err := res.CheckConservation(); err != nil {
				t.Fatal(err)
			}
			lat = append(lat, res.Clients[0].Latency.Mean)
			ok = append(ok, res.Clients[0].SuccessRate)
		}
		return append(meanSE(lat), meanSE(ok)...)
	}
	base := names(chainTOML(1, "front", "back", 3, 2))
	renamed := names(strings.Replace(chainTOML(1, "gateway", "ledger", 3, 2), `name = "users"`, `name = "buyers"`, 1))
	if base[0] == renamed[0] && base[2] == renamed[2] {
		t.Fatal("renaming changed no figure: the streams are not seeded by name, the relation tests nothing")
	}
	for i, q := range []string{"mean latency (ms)", "success share"} {
		a, b := base[2*i:2*i+2], renamed[2*i:2*i+2]
		if se := math.Hypot(a[1], b[1]); math.Abs(a[0]-b[0]) > 3*se {
			t.Errorf("%s: %.4f renamed, %.4f before, differ by more than 3 standard errors (%.4f)", q, b[0], a[0], se)
		}
	}
}

// meanSE is a sample's mean and the standard error of that mean.
func meanSE(x []float64) []float64 {
	var m, v float64
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	for _, x := range x {
		v += (x - m) * (x - m)
	}
	return []float64{m, math.Sqrt(v / float64(len(x)-1) / float64(len(x)))}
}
