package sim_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/resilience"
)

// edge finds an edge's result by name.
func edge(t *testing.T, res *sim.Result, name string) sim.EdgeResult {
	t.Helper()
	for _, e := range res.Edges {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("no edge %s", name)
	return sim.EdgeResult{}
}

// hasEvent reports whether component logged substr. An edge's name
// ("front->back") matches what any of its caller instances' policies log
// ("front#2->back").
func hasEvent(res *sim.Result, component, substr string) bool {
	for _, e := range res.Events {
		if (e.Component == component || holderOf(e.Component) == component) && strings.Contains(e.What, substr) {
			return true
		}
	}
	return false
}

// holderOf strips the caller instance from the name of a per-instance
// policy's events: "front#2->back" is "front->back".
func holderOf(name string) string {
	caller, callee, ok := strings.Cut(name, "->")
	if !ok {
		return name
	}
	if i := strings.LastIndexByte(caller, '#'); i >= 0 {
		caller = caller[:i]
	}
	return caller + "->" + callee
}

// twoTier is a front service calling a back service with the given call.
func twoTier(t *testing.T, c sim.Call, back sim.Service, d time.Duration) *sim.Spec {
	c.To, c.Probability, c.Fanout = "back", 1, 1
	back.Name = "back"
	if back.Instances == 0 {
		back.Instances = 1
	}
	if back.Workers == 0 {
		back.Workers = 1000
	}
	if back.Queue == 0 {
		back.Queue = sim.Unbounded
	}
	return &sim.Spec{
		Name: "two", Duration: d,
		Clients:  []sim.Client{{Name: "load", Target: "front", Rate: 200}},
		Services: []sim.Service{svc(t, "front", "0s", c), back},
	}
}

// TestRetries: with independent failures p and n attempts, a call succeeds
// with probability 1 - p^n and makes 1 + p + ... + p^(n-1) attempts.
func TestRetries(t *testing.T) {
	back := sim.Service{ServiceTime: mustDist(t, "1ms"), Errors: 0.5}
	rt := &sim.Retry{MaxAttempts: 3, Backoff: resilience.Backoff{Base: time.Millisecond, Multiplier: 2}}
	rt.On[sim.Error] = true
	res, _ := run(t, twoTier(t, sim.Call{Retry: rt}, back, 100*time.Second))
	e := edge(t, res, "front->back")
	near(t, "call success", float64(e.OK)/float64(e.Calls), 1-0.125, 0.01)
	near(t, "retry amplification", e.Amplification, 1.75, 0.02)
	near(t, "client success", res.Clients[0].SuccessRate, 0.875, 0.01)
}

// TestRetryBudget: a 20% Finagle budget with no minimum caps the retries of
// a callee that always fails at a fifth of the calls.
func TestRetryBudget(t *testing.T) {
	back := sim.Service{ServiceTime: mustDist(t, "1ms"), Errors: 1}
	rt := &sim.Retry{MaxAttempts: 3, Backoff: resilience.Backoff{Base: time.Millisecond, Multiplier: 2},
		Budget: &sim.Budget{Percent: 0.2, TTL: 10 * time.Second}}
	rt.On[sim.Error] = true
	res, _ := run(t, twoTier(t, sim.Call{Retry: rt}, back, 100*time.Second))
	e := edge(t, res, "front->back")
	near(t, "retry amplification", e.Amplification, 1.2, 0.02)
	if e.BudgetExhausted == 0 {
		t.Error("no retry was refused by the budget")
	}
}

// TestBreaker: a breaker in front of a failing callee opens, short-circuits
// calls while open, probes in half open, and closes again once the callee
// recovers. With a fallback the shoppers see degraded successes instead.
func TestBreaker(t *testing.T) {
	cfg := resilience.DefaultBreakerConfig()
	cfg.WindowSize, cfg.MinimumCalls, cfg.WaitInOpen, cfg.PermittedInHalfOpen = 20, 20, 2*time.Second, 5
	back := sim.Service{ServiceTime: mustDist(t, "1ms")}
	spec := twoTier(t, sim.Call{Breaker: &cfg}, back, 30*time.Second)
	spec.Faults = []sim.Fault{{Kind: sim.FaultErrors, Target: "back", Start: 10 * time.Second, Duration: 10 * time.Second, Params: sim.ErrorsFault{Probability: 1}}}
	res, _ := run(t, spec)
	e := edge(t, res, "front->back")
	if e.ShortCircuited < 1000 {
		t.Errorf("%d calls short-circuited, want most of the 2000 during the fault", e.ShortCircuited)
	}
	if e.Breaker != "CLOSED" {
		t.Errorf("breaker %s at the end, want CLOSED", e.Breaker)
	}
	for _, s := range []string{"breaker OPEN", "breaker HALF_OPEN", "breaker CLOSED"} {
		if !hasEvent(res, "front->back", s) {
			t.Errorf("no %q in the event log", s)
		}
	}
	// Timeouts open it too: the attempts the call gives up on are the
	// failures, and the log and the automatic half-open hear of it.
	slow := twoTier(t, sim.Call{Breaker: &cfg, Timeout: 100 * time.Millisecond}, back, 30*time.Second)
	slow.Faults = []sim.Fault{{Kind: sim.FaultLatency, Target: "back", Start: 10 * time.Second, Duration: 10 * time.Second, Params: sim.LatencyFault{Add: mustDist(t, "1s")}}}
	sres, _ := run(t, slow)
	for _, s := range []string{"breaker OPEN", "breaker HALF_OPEN", "breaker CLOSED"} {
		if !hasEvent(sres, "front->back", s) {
			t.Errorf("timeouts: no %q in the event log", s)
		}
	}
	// The callee was spared most of the 2000 calls made during the fault.
	if back := res.Components[1]; back.Arrivals > 6000-1000 {
		t.Errorf("back got %d of 6000 requests", back.Arrivals)
	}

	spec = twoTier(t, sim.Call{Breaker: &cfg, Fallback: true}, back, 30*time.Second)
	spec.Faults = []sim.Fault{{Kind: sim.FaultErrors, Target: "back", Start: 10 * time.Second, Duration: 10 * time.Second, Params: sim.ErrorsFault{Probability: 1}}}
	res, _ = run(t, spec)
	c := res.Clients[0]
	if c.Error != 0 || c.Degraded < 1900 {
		t.Errorf("with a fallback: %d errors, %d degraded; want 0 and about 2000", c.Error, c.Degraded)
	}
}

// TestHedging: a hedge after 10ms against a 5% tail of 100ms cuts the p99
// to about the hedge delay plus a fast answer; the loser is cancelled.
func TestHedging(t *testing.T) {
	back := sim.Service{Instances: 4, ServiceTime: mustDist(t, "mix(0.95 2ms, 0.05 100ms)")}
	plain, _ := run(t, twoTier(t, sim.Call{}, back, 50*time.Second))
	hedged, _ := run(t, twoTier(t, sim.Call{Hedge: &sim.Hedge{Delay: 10 * time.Millisecond, MaxCopies: 2}}, back, 50*time.Second))
	if p := plain.Clients[0].Latency.P99; p < 99 {
		t.Errorf("plain p99 %.1fms, want the 100ms tail", p)
	}
	if p := hedged.Clients[0].Latency.P99; p > 13 {
		t.Errorf("hedged p99 %.1fms, want about 12ms", p)
	}
	e := edge(t, hedged, "front->back")
	near(t, "hedges per call", float64(e.Hedges)/float64(e.Calls), 0.05, 0.01)
	if e.Cancelled == 0 || e.Cancelled > e.Hedges {
		t.Errorf("%d cancelled of %d hedges", e.Cancelled, e.Hedges)
	}
}

// TestBulkhead: at most N calls in flight on the edge, the rest refused.
func TestBulkhead(t *testing.T) {
	back := sim.Service{ServiceTime: mustDist(t, "100ms")}
	res, _ := run(t, twoTier(t, sim.Call{Bulkhead: 10}, back, 20*time.Second))
	// 200/s for 100ms is 20 in flight on average; 10 may pass.
	e := edge(t, res, "front->back")
	near(t, "share refused", float64(e.BulkheadFull)/float64(e.Calls), 0.5, 0.1)
	if res.Components[1].InSystemMean > 10.01 {
		t.Errorf("back held %.2f requests on average, above the bulkhead", res.Components[1].InSystemMean)
	}
}

// TestLeastRequest: with one instance ten times slower, power-of-two
// choices sends it far less traffic than round robin does.
func TestLeastRequest(t *testing.T) {
	mk := func(p resilience.Policy) *sim.Result {
		back := sim.Service{Instances: 4, ServiceTime: mustDist(t, "exp(10ms)")}
		spec := twoTier(t, sim.Call{Balancer: p, ChoiceCount: 2}, back, 60*time.Second)
		spec.Faults = []sim.Fault{{Kind: sim.FaultSlowdown, Target: "back#1", Params: sim.SlowdownFault{Factor: 10}}}
		res, _ := run(t, spec)
		return res
	}
	rr, lr := mk(resilience.RoundRobin), mk(resilience.LeastRequest)
	if rr.Clients[0].Latency.Mean < 1.5*lr.Clients[0].Latency.Mean {
		t.Errorf("mean latency round robin %.1fms, least request %.1fms: want least request clearly better",
			rr.Clients[0].Latency.Mean, lr.Clients[0].Latency.Mean)
	}
}

// TestLeastRequestBlackhole: Envoy's least_request compares the requests
// the caller has outstanding to each host (rq_active), which counts the
// requests a blackholed host swallows until they time out. So power-of-two
// choices soon avoids the blackhole: it takes it only when both draws land
// on it, about 1 pick in 16 of 4 hosts, where round robin sends it 1 in 4.
// (Counting the callee's busy workers and queue instead, the blackhole
// looks idle and draws 7 picks in 16.) Either scope counts the caller's
// own requests.
func TestLeastRequestBlackhole(t *testing.T) {
	mk := func(p resilience.Policy, scope sim.Scope) sim.EdgeResult {
		back := sim.Service{Instances: 4, ServiceTime: mustDist(t, "exp(10ms)")}
		spec := twoTier(t, sim.Call{Balancer: p, ChoiceCount: 2, Timeout: time.Second, Scope: scope}, back, 60*time.Second)
		spec.Services[0].Instances = 4
		spec.Faults = []sim.Fault{{Kind: sim.FaultBlackhole, Target: "back#2"}}
		res, _ := run(t, spec)
		return edge(t, res, "front->back")
	}
	share := func(e sim.EdgeResult) float64 { return float64(e.OK) / float64(e.Calls) }
	rr := share(mk(resilience.RoundRobin, sim.PerInstance))
	near(t, "round robin success share", rr, 0.75, 0.01)
	for _, scope := range []sim.Scope{sim.PerInstance, sim.PerService} {
		if lr := share(mk(resilience.LeastRequest, scope)); lr < 0.9 {
			t.Errorf("scope %s: least_request success share %.3f, round robin %.3f: want least_request to avoid the blackhole (about 15/16)", scope, lr, rr)
		}
	}
}

// TestBreakerScope: a breaker lives in each caller process, as
// Resilience4j does in each JVM, so each of 4 caller instances fills its
// own window with its quarter of the calls. The windows hold 20 successes
// when the callee starts failing at 10 s; 10 failures make the 50 % that
// opens a breaker. A shared breaker sees them in 10 calls at 200/s, about
// 0.05 s; each per-instance breaker in its own 10 calls at 50/s, 0.2 s, and
// each opens on its own.
func TestBreakerScope(t *testing.T) {
	tests := []struct {
		scope       sim.Scope
		opens       int
		first, last float64 // when breakers opened, in seconds
	}{
		{sim.PerInstance, 4, 10.2, 10.2},
		{sim.PerService, 1, 10.05, 10.05},
	}
	for _, tt := range tests {
		t.Run(tt.scope.String(), func(t *testing.T) {
			cfg := resilience.DefaultBreakerConfig()
			cfg.WindowSize, cfg.MinimumCalls = 20, 20
			back := sim.Service{ServiceTime: mustDist(t, "1ms")}
			spec := twoTier(t, sim.Call{Breaker: &cfg, Scope: tt.scope}, back, 20*time.Second)
			spec.Services[0].Instances = 4
			spec.Faults = []sim.Fault{{Kind: sim.FaultErrors, Target: "back", Start: 10 * time.Second, Duration: 10 * time.Second, Params: sim.ErrorsFault{Probability: 1}}}
			res, _ := run(t, spec)
			var at []float64
			holders := map[string]bool{}
			for _, e := range res.Events {
				if holderOf(e.Component) == "front->back" && strings.Contains(e.What, "breaker OPEN") {
					at = append(at, e.TS)
					holders[e.Component] = true
				}
			}
			if len(at) != tt.opens || len(holders) != tt.opens {
				t.Fatalf("%d breakers opened %d times, want %d once each", len(holders), len(at), tt.opens)
			}
			near(t, "first open", at[0], tt.first, 0.03)
			near(t, "last open", at[len(at)-1], tt.last, 0.03)
			e := edge(t, res, "front->back")
			if e.Scope != tt.scope.String() || e.Breakers != tt.opens || e.BreakersOpen != tt.opens || e.Breaker != "OPEN" {
				t.Errorf("edge scope %q, %d of %d breakers open (%s), want %q and all %d open", e.Scope, e.BreakersOpen, e.Breakers, e.Breaker, tt.scope, tt.opens)
			}
		})
	}
}

// TestOutlierDetection: an instance that always fails is ejected, and the
// error rate falls to what the ejection leaves.
func TestOutlierDetection(t *testing.T) {
	od := resilience.DefaultOutlierConfig()
	od.AlwaysEjectOneHost = true
	back := sim.Service{Instances: 4, ServiceTime: mustDist(t, "1ms")}
	spec := twoTier(t, sim.Call{Outlier: &od}, back, 60*time.Second)
	spec.Faults = []sim.Fault{{Kind: sim.FaultErrors, Target: "back#2", Params: sim.ErrorsFault{Probability: 1}}}
	res, _ := run(t, spec)
	e := edge(t, res, "front->back")
	if e.Ejections == 0 || !hasEvent(res, "front->back", "ejected back#2") {
		t.Fatalf("back#2 never ejected")
	}
	// Without ejection a quarter of the calls would fail.
	if share := float64(e.Error) / float64(e.Calls); share > 0.05 {
		t.Errorf("error share %.3f with outlier detection", share)
	}
}

// TestOutlierEjectsBlackhole: an instance that never answers fails its
// calls at the call's deadline, with no per-try timeout; Envoy's router
// reports each such timeout to outlier detection as a 504, so after 5 in a
// row the instance is ejected and the calls stop timing out.
func TestOutlierEjectsBlackhole(t *testing.T) {
	od := resilience.DefaultOutlierConfig()
	od.AlwaysEjectOneHost = true
	back := sim.Service{Instances: 4, ServiceTime: mustDist(t, "1ms")}
	spec := twoTier(t, sim.Call{Outlier: &od, Timeout: 100 * time.Millisecond}, back, 20*time.Second)
	spec.Faults = []sim.Fault{{Kind: sim.FaultBlackhole, Target: "back#2"}}
	res, _ := run(t, spec)
	e := edge(t, res, "front->back")
	if !hasEvent(res, "front->back", "ejected back#2") {
		t.Fatalf("back#2 never ejected: %d of %d calls timed out", e.Timeout, e.Calls)
	}
	// Without ejection a quarter of the calls would time out; with it,
	// the first 5 and those sent in the 100 ms before it do, then those
	// of each return from ejection (every 30 s and more: none in 20 s).
	if e.Timeout > 20 {
		t.Errorf("%d of %d calls timed out with outlier detection", e.Timeout, e.Calls)
	}
}

// TestOutlierSuccessRate: back#6 fails 10% of its requests and the other
// five 1%; none fails 5 times in a row, so only Envoy's success-rate
// detector can eject back#6, at the review that ends the first 10 s
// interval. It needs 5 hosts with 100 requests in the interval, and one
// ejection of 6 hosts (17%) is over the default max_ejection_percent.
func TestOutlierSuccessRate(t *testing.T) {
	tests := []struct {
		name       string
		rate       float64 // calls per second, spread over 6 hosts
		maxPercent float64
		ejected    bool
	}{
		{"ejected within one interval", 200, 20, true},
		{"too little volume per host", 50, 20, false}, // 83 requests per host per interval
		{"max_ejection_percent 10", 200, 10, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			od := resilience.DefaultOutlierConfig()
			od.MaxEjectionPercent = tt.maxPercent
			back := sim.Service{Instances: 6, ServiceTime: mustDist(t, "1ms"), Errors: 0.01}
			spec := twoTier(t, sim.Call{Outlier: &od}, back, 15*time.Second)
			spec.Clients[0].Rate = tt.rate
			spec.Faults = []sim.Fault{{Kind: sim.FaultErrors, Target: "back#6", Params: sim.ErrorsFault{Probability: 0.1}}}
			res, _ := run(t, spec)
			var at float64 = -1
			for _, ev := range res.Events {
				if ev.Component == "front->back" && strings.Contains(ev.What, "on their success rate") {
					at = ev.TS
					break
				}
			}
			if got := at >= 0; got != tt.ejected {
				t.Fatalf("ejected on success rate: %v (at %vs), want %v", got, at, tt.ejected)
			}
			if tt.ejected && at != 10 {
				t.Errorf("ejected at %vs, want 10s, the end of the first interval", at)
			}
		})
	}
}

// TestRetryConcurrency: against a callee that always fails after 50 ms,
// two retries per call at 200 calls/s would be 400 retries/s; Envoy's
// max_retries 3 keeps 3 in flight, each held for the 50 ms of its attempt,
// so at most 60/s, and counts the rest as overflows.
func TestRetryConcurrency(t *testing.T) {
	tests := []struct {
		name     string
		cap      *resilience.ConcurrencyBudget
		maxPerS  float64
		overflow bool
	}{
		{"no cap", nil, 410, false},
		{"max_retries 3", &resilience.ConcurrencyBudget{MinConcurrency: 3}, 60, true},
		{"retry_budget, min_retry_concurrency 10", &resilience.ConcurrencyBudget{Percent: 0.2, MinConcurrency: 10}, 200, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			back := sim.Service{ServiceTime: mustDist(t, "50ms"), Errors: 1}
			rt := &sim.Retry{MaxAttempts: 3, Concurrency: tt.cap}
			rt.On[sim.Error] = true
			res, _ := run(t, twoTier(t, sim.Call{Retry: rt}, back, 20*time.Second))
			e := edge(t, res, "front->back")
			perS := float64(e.Retries) / 20
			if perS > tt.maxPerS {
				t.Errorf("%.0f retries/s, want at most %.0f", perS, tt.maxPerS)
			}
			if !tt.overflow && perS < 390 {
				t.Errorf("%.0f retries/s without a cap, want about 400", perS)
			}
			if got := e.RetryOverflow > 0; got != tt.overflow {
				t.Errorf("RetryOverflow = %d, want overflows %v", e.RetryOverflow, tt.overflow)
			}
			t.Logf("%.0f retries/s, %d overflows", perS, e.RetryOverflow)
		})
	}
}

// TestQueueTimeout sheds requests that waited too long, and LIFO serves
// the newest first.
func TestQueueTimeout(t *testing.T) {
	one := sim.Service{Name: "one", Instances: 1, Workers: 1, Queue: sim.Unbounded,
		ServiceTime: mustDist(t, "10ms"), QueueTimeout: 50 * time.Millisecond}
	res, _ := run(t, &sim.Spec{Name: "qt", Duration: 20 * time.Second,
		Clients: []sim.Client{{Name: "load", Target: "one", Rate: 150, Arrival: sim.Constant}}, Services: []sim.Service{one}})
	c := res.Clients[0]
	// Capacity is 100/s of the 150/s: a third must be shed.
	near(t, "shed share", float64(c.Shed)/float64(c.Sent), 1.0/3, 0.03)
	if c.Latency.Max > 61 {
		t.Errorf("max latency %.1fms beyond queue timeout + service time", c.Latency.Max)
	}
}

// TestAutoscale: a service loaded beyond its target utilisation scales up
// after its interval, and new instances take traffic after start-up.
func TestAutoscale(t *testing.T) {
	s := sim.Service{Name: "s", Instances: 2, Workers: 4, Queue: 100, ServiceTime: mustDist(t, "exp(20ms)"),
		Autoscale: &resilience.AutoscaleConfig{TargetUtilisation: 0.5, Min: 2, Max: 10, Interval: 10 * time.Second,
			ScaleDownStabilization: 20 * time.Second, StartupDelay: 5 * time.Second}}
	res, _ := run(t, &sim.Spec{Name: "as", Duration: 120 * time.Second,
		Clients: []sim.Client{{Name: "load", Target: "s", Rate: 300}}, Services: []sim.Service{s}})
	if !hasEvent(res, "s", "scaled up") {
		t.Fatal("never scaled up")
	}
	w := res.Series[1].Windows
	if u := w[len(w)-1].Utilisation; u > 0.65 || u < 0.35 {
		t.Errorf("utilisation at the end %.2f, want near the 0.5 target", u)
	}
}

// TestGateway: routes by weight, and the token bucket's excess gets 429s.
func TestGateway(t *testing.T) {
	gw := sim.Service{Name: "gw", Instances: 1, Workers: 100, Queue: sim.Unbounded, ServiceTime: mustDist(t, "0s"),
		Gateway: &sim.Gateway{RPS: 150, Burst: 10},
		Calls: []sim.Call{
			{To: "a", Path: "/a", Weight: 3, Probability: 1, Fanout: 1},
			{To: "b", Path: "/b", Weight: 1, Probability: 1, Fanout: 1},
		}}
	res, _ := run(t, &sim.Spec{Name: "gw", Duration: 100 * time.Second,
		Clients:  []sim.Client{{Name: "load", Target: "gw", Rate: 200}},
		Services: []sim.Service{gw, svc(t, "a", "1ms"), svc(t, "b", "1ms")}})
	c := res.Clients[0]
	near(t, "rate limited share", float64(c.RateLimited)/float64(c.Sent), 0.25, 0.02)
	a, b := edge(t, res, "gw->a"), edge(t, res, "gw->b")
	near(t, "share of route /a", float64(a.Calls)/float64(a.Calls+b.Calls), 0.75, 0.02)
}

// TestGatewayDefaultRouteTimeout: an Envoy route that sets no timeout
// gives up on the upstream after 15 s (RouteAction.timeout's default) and
// answers 504, an error; timeout = "0s" disables it. The service behind
// takes 20 s and the client waits forever: without the default every
// request would succeed after 20 s.
func TestGatewayDefaultRouteTimeout(t *testing.T) {
	for _, tt := range []struct {
		name, timeout string
		ok, errors    bool
		latency       float64 // of every answered request, ms
	}{
		{"no timeout: Envoy's 15 s", "", false, true, 15000},
		{"timeout 0s: none", `timeout = "0s"`, true, false, 20000},
		{"timeout 25s", `timeout = "25s"`, true, false, 20000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runTOML(t, `
[scenario]
name = "route-timeout"
duration = "60s"
[[client]]
name = "c"
target = "edge"
rate = 1
arrival = "constant"
[[gateway]]
name = "edge"
  [[gateway.route]]
  path = "/"
  to = "slow"
  `+tt.timeout+`
[[service]]
name = "slow"
service_time = "20s"
workers = 100
`)
			c := res.Clients[0]
			if (c.OK > 0) != tt.ok || (c.Error > 0) != tt.errors {
				t.Errorf("ok %d, error %d: want ok %v, errors %v", c.OK, c.Error, tt.ok, tt.errors)
			}
			near(t, "latency of answered requests", c.LatencyAll.P50, tt.latency, 1)
		})
	}
}

// TestGatewayBucketPerInstance: Envoy's local rate limit is a token bucket
// per Envoy process, so two gateway instances admit twice one's limit, and
// crashing one halves the admitted rate (its bucket goes with it). Each
// instance admits 50 a second here, by Envoy's bucket (50 tokens every
// second) or by x/time/rate's (rps 50, burst 50); the clients send 400 a
// second. One shared bucket would admit 50 a second throughout.
func TestGatewayBucketPerInstance(t *testing.T) {
	for _, tt := range []struct {
		name string
		g    sim.Gateway
	}{
		{"envoy fill_interval", sim.Gateway{MaxTokens: 50, TokensPerFill: 50, FillInterval: time.Second}},
		{"rps and burst", sim.Gateway{RPS: 50, Burst: 50}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gw := sim.Service{Name: "gw", Instances: 2, Workers: 100, Queue: sim.Unbounded, ServiceTime: mustDist(t, "0s"),
				Gateway: &tt.g, Calls: []sim.Call{{To: "a", Path: "/a", Weight: 1, Probability: 1, Fanout: 1}}}
			res, _ := run(t, &sim.Spec{Name: "gw", Duration: 30 * time.Second,
				Clients:  []sim.Client{{Name: "load", Target: "gw", Rate: 400, Arrival: sim.Constant}},
				Services: []sim.Service{gw, svc(t, "a", "1ms")},
				Faults:   []sim.Fault{{Kind: sim.FaultCrash, Target: "gw#1", Start: 10 * time.Second, Duration: 10 * time.Second}}})
			w := res.Series[0].Windows
			near(t, "admitted a second, both up", float64(w[5].OK), 100, 2)
			near(t, "admitted a second, one crashed", float64(w[15].OK), 50, 2)
			near(t, "admitted a second, restarted", float64(w[25].OK), 100, 2)
		})
	}
}

// kongGateway is a gateway of n instances, round robin from its clients,
// limited by Kong's plugin k, in front of a fast service.
func kongGateway(t *testing.T, n int, k sim.KongLimit) []sim.Service {
	gw := sim.Service{Name: "gw", Instances: n, Workers: 100, Queue: sim.Unbounded, ServiceTime: mustDist(t, "0s"),
		Gateway: &sim.Gateway{Kong: &k}, Calls: []sim.Call{{To: "a", Path: "/a", Weight: 1, Probability: 1, Fanout: 1}}}
	return []sim.Service{gw, svc(t, "a", "1ms")}
}

// TestKongWindowBoundary: Kong counts in fixed windows that start on whole
// periods, so a client that starts sending 400 a second at 59.5 s against
// a limit of 100 a minute gets 100 through before 60 s and 100 more right
// after: twice the limit within 0.75 s. A bucket of 100 tokens
// refilled at 100 a minute would let 100 through, and then about 1.7 a
// second.
func TestKongWindowBoundary(t *testing.T) {
	res, _ := run(t, &sim.Spec{Name: "kong", Duration: 61 * time.Second,
		Clients: []sim.Client{{Name: "load", Target: "gw", Rate: 0, Arrival: sim.Constant,
			Schedule: []sim.RateStep{{At: 59500 * time.Millisecond, Rate: 400}}}},
		Services: kongGateway(t, 1, sim.KongLimit{Limits: resilience.FixedWindowLimits{0, 100, 0}})})
	w := res.Series[0].Windows
	if w[59].OK != 100 || w[60].OK != 100 {
		t.Errorf("admitted %d in [59 s, 60 s) and %d in [60 s, 61 s): want 100 and 100, twice the limit within 0.75 s", w[59].OK, w[60].OK)
	}
}

// TestKongPolicy: with policy local each of the gateway's two nodes counts
// on its own (Kong: "counters are stored in-memory on the node"), so a
// limit of 50 a second admits 100 a second; with cluster the nodes share
// their counters and admit 50. limit_by consumer counts each client apart,
// so two clients get 50 each; limit_by ip counts each address (each user
// key of a client), so a client of 4 users gets 4 x 50.
func TestKongPolicy(t *testing.T) {
	second := resilience.FixedWindowLimits{50, 0, 0}
	for _, tt := range []struct {
		name    string
		k       sim.KongLimit
		clients []sim.Client
		want    float64 // admitted a second, all clients
	}{
		{"local, 2 nodes", sim.KongLimit{Limits: second}, nil, 100},
		{"cluster, 2 nodes", sim.KongLimit{Limits: second, Cluster: true}, nil, 50},
		{"cluster, 2 consumers", sim.KongLimit{Limits: second, Cluster: true},
			[]sim.Client{{Name: "other", Target: "gw", Rate: 400, Arrival: sim.Constant}}, 100},
		{"cluster, by ip, 4 users", sim.KongLimit{Limits: second, Cluster: true, ByIP: true}, nil, 200},
		// A client without keys is one address: 4 x 50 and 50.
		{"cluster, by ip, 4 users and a client", sim.KongLimit{Limits: second, Cluster: true, ByIP: true},
			[]sim.Client{{Name: "other", Target: "gw", Rate: 400, Arrival: sim.Constant}}, 250},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clients := append([]sim.Client{{Name: "load", Target: "gw", Rate: 400, Arrival: sim.Constant, Keys: 4}}, tt.clients...)
			res, _ := run(t, &sim.Spec{Name: "kong", Duration: 20 * time.Second, Clients: clients, Services: kongGateway(t, 2, tt.k)})
			var ok uint64
			for _, c := range res.Clients {
				ok += c.OK
			}
			near(t, "admitted a second", float64(ok)/20, tt.want, 1)
		})
	}
}

// TestSurgeAndSchedule: a surge multiplies the client's rate only while it
// lasts.
func TestSurge(t *testing.T) {
	spec := &sim.Spec{Name: "surge", Duration: 30 * time.Second,
		Clients:  []sim.Client{{Name: "load", Target: "s", Rate: 100, Arrival: sim.Constant}},
		Services: []sim.Service{svc(t, "s", "1ms")},
		Faults:   []sim.Fault{{Kind: sim.FaultSurge, Target: "load", Start: 10 * time.Second, Duration: 10 * time.Second, Params: sim.SurgeFault{Factor: 3}}}}
	res, _ := run(t, spec)
	w := res.Series[0].Windows
	near(t, "before", float64(w[5].Sent), 100, 1)
	near(t, "during", float64(w[15].Sent), 300, 1)
	near(t, "after", float64(w[25].Sent), 100, 1)
}

var _ = math.Abs

// TestHedgeCaps: hedged copies count as attempts, so a retry policy's
// max_attempts caps them with the retries; max_copies caps the copies in
// flight at once.
func TestHedgeCaps(t *testing.T) {
	// Every attempt fails after 50ms; a hedge every 10ms could send three
	// copies, but two attempts in all are allowed.
	back := sim.Service{ServiceTime: mustDist(t, "50ms"), Errors: 1}
	rt := &sim.Retry{MaxAttempts: 2, Backoff: resilience.Backoff{Base: time.Millisecond}}
	rt.On[sim.Error] = true
	res, _ := run(t, twoTier(t, sim.Call{Retry: rt, Hedge: &sim.Hedge{Delay: 10 * time.Millisecond, MaxCopies: 3}}, back, 10*time.Second))
	e := edge(t, res, "front->back")
	if e.Attempts > 2*e.Calls {
		t.Errorf("%d attempts for %d calls, with max_attempts 2", e.Attempts, e.Calls)
	}
	near(t, "attempts per call", e.Amplification, 2, 0.01)

	// With more attempts allowed, max_copies bounds the copies out at once:
	// two by two, a retry and its hedge, up to 6 attempts.
	rt = &sim.Retry{MaxAttempts: 6, Backoff: resilience.Backoff{Base: time.Millisecond}}
	rt.On[sim.Error] = true
	res, _ = run(t, twoTier(t, sim.Call{Retry: rt, Hedge: &sim.Hedge{Delay: 10 * time.Millisecond, MaxCopies: 2}}, back, 10*time.Second))
	e = edge(t, res, "front->back")
	if e.Attempts > 6*e.Calls {
		t.Errorf("%d attempts for %d calls, with max_attempts 6", e.Attempts, e.Calls)
	}
	near(t, "attempts per call", e.Amplification, 6, 0.1)
	near(t, "hedges per call", float64(e.Hedges)/float64(e.Calls), 3, 0.1)
}

// TestStaleHedgeTimer: a hedge is planned from the attempt in flight. A
// first attempt refused at once is retried after 20ms; the retry answers
// within 90ms, before its own hedge delay of 100ms, so no hedge is ever
// due: the timer planned for the first attempt must not send one.
func TestStaleHedgeTimer(t *testing.T) {
	back := sim.Service{ServiceTime: mustDist(t, "90ms")}
	rt := &sim.Retry{MaxAttempts: 3, Backoff: resilience.Backoff{Base: 20 * time.Millisecond}}
	rt.On[sim.Limited] = true
	spec := twoTier(t, sim.Call{Retry: rt, Hedge: &sim.Hedge{Delay: 100 * time.Millisecond, MaxCopies: 2}}, back, 10*time.Second)
	spec.Faults = []sim.Fault{{Kind: sim.FaultThrottle, Target: "back", Params: sim.ThrottleFault{Probability: 0.5}}}
	res, _ := run(t, spec)
	e := edge(t, res, "front->back")
	if e.Retries == 0 {
		t.Fatal("no retries")
	}
	if e.Hedges != 0 {
		t.Errorf("%d hedges sent by timers of earlier attempts (%d retries)", e.Hedges, e.Retries)
	}
}

// TestRetryBeforeDeadline: a retry whose back-off would end at or after the
// call's deadline is not made: the call fails at once with the attempt's
// outcome, and the retry is neither counted nor charged to the budget.
func TestRetryBeforeDeadline(t *testing.T) {
	// Attempts fail after 1ms; a retry sleeps 50ms; the deadline is 100ms:
	// the first retry starts at 51ms, the second would start at 102ms.
	back := sim.Service{ServiceTime: mustDist(t, "1ms"), Errors: 1}
	for _, budget := range []*sim.Budget{nil, {Percent: 1, TTL: 10 * time.Second}} {
		// A budget of one retry per call: enough, when the retry that
		// is not made is not charged.
		rt := &sim.Retry{MaxAttempts: 3, Backoff: resilience.Backoff{Base: 50 * time.Millisecond}, Budget: budget}
		rt.On[sim.Error] = true
		res, _ := run(t, twoTier(t, sim.Call{Timeout: 100 * time.Millisecond, Retry: rt}, back, 10*time.Second))
		e := edge(t, res, "front->back")
		near(t, "retries per call", float64(e.Retries)/float64(e.Calls), 1, 0.01)
		near(t, "attempts per call", e.Amplification, 2, 0.01)
		if e.Timeout != 0 || e.BudgetExhausted != 0 {
			t.Errorf("%d calls timed out, %d retries refused by the budget: want none", e.Timeout, e.BudgetExhausted)
		}
		near(t, "calls failed", float64(e.Error)/float64(e.Calls), 1, 0.01)
	}
}

// TestHedgesCountSent: the hedges counter counts the copies sent, not the
// hedge timers that found no instance to send a copy to.
func TestHedgesCountSent(t *testing.T) {
	// One call a second, 20ms each way: every call is hedged after 10ms,
	// except the one at 10.02s, whose instance crashes at 10.025s, before
	// its hedge is due, and the one at 11.02s, which finds no instance and
	// fails at once: one attempt (Envoy's 503 "no healthy upstream"), no
	// hedge.
	spec := twoTier(t, sim.Call{Hedge: &sim.Hedge{Delay: 10 * time.Millisecond, MaxCopies: 2}}, sim.Service{ServiceTime: mustDist(t, "1ms")}, 30*time.Second)
	spec.Clients[0].Arrival, spec.Clients[0].Rate = sim.Constant, 1
	spec.Network.Latency = mustDist(t, "20ms")
	spec.Faults = []sim.Fault{{Kind: sim.FaultCrash, Target: "back", Start: 10025 * time.Millisecond, Duration: time.Second}}
	res, _ := run(t, spec)
	e := edge(t, res, "front->back")
	if e.Calls != 30 || e.Hedges != 28 || e.Attempts != 28*2+2 {
		t.Errorf("%d calls, %d attempts, %d hedges; want 30, 58, 28", e.Calls, e.Attempts, e.Hedges)
	}
}

// TestOutlierIgnores429: as in Envoy, consecutive_5xx counts 5xx answers
// (errors, timeouts, rejections, sheds), not a 429: an instance that
// throttles every request is not ejected. The breaker, as Resilience4j's,
// records any failed call, a 429 included, and opens.
func TestOutlierIgnores429(t *testing.T) {
	od := resilience.DefaultOutlierConfig()
	od.AlwaysEjectOneHost = true
	back := sim.Service{Instances: 4, ServiceTime: mustDist(t, "1ms")}
	spec := twoTier(t, sim.Call{Outlier: &od}, back, 60*time.Second)
	spec.Faults = []sim.Fault{{Kind: sim.FaultThrottle, Target: "back#2", Params: sim.ThrottleFault{Probability: 1}}}
	res, _ := run(t, spec)
	if e := edge(t, res, "front->back"); e.Ejections != 0 {
		t.Errorf("%d ejections of an instance that answers 429", e.Ejections)
	}

	cfg := resilience.DefaultBreakerConfig()
	cfg.WindowSize, cfg.MinimumCalls = 20, 20
	spec = twoTier(t, sim.Call{Breaker: &cfg}, sim.Service{ServiceTime: mustDist(t, "1ms")}, 30*time.Second)
	spec.Faults = []sim.Fault{{Kind: sim.FaultThrottle, Target: "back", Start: 10 * time.Second, Duration: 10 * time.Second, Params: sim.ThrottleFault{Probability: 1}}}
	res, _ = run(t, spec)
	if !hasEvent(res, "front->back", "breaker OPEN") {
		t.Error("the breaker did not open on 429s")
	}
}

// TestThrottleCountsRetryableFailures: gRFC A6's retry throttle takes a
// token only for a failure the policy would retry. Half the attempts are
// refused with a 429, which retry_on does not list, and 2 % of the rest
// fail with an error, which it does: the 429s must not drain the tokens,
// so that every error is retried.
func TestThrottleCountsRetryableFailures(t *testing.T) {
	back := sim.Service{ServiceTime: mustDist(t, "1ms"), Errors: 0.02}
	rt := &sim.Retry{MaxAttempts: 3, Backoff: resilience.Backoff{Base: time.Millisecond}, Throttle: &sim.Throttle{MaxTokens: 10, TokenRatio: 0.1}}
	rt.On[sim.Error] = true
	spec := twoTier(t, sim.Call{Retry: rt}, back, 20*time.Second)
	spec.Faults = []sim.Fault{{Kind: sim.FaultThrottle, Target: "back", Params: sim.ThrottleFault{Probability: 0.5}}}
	res, _ := run(t, spec)
	e := edge(t, res, "front->back")
	if e.BudgetExhausted != 0 {
		t.Errorf("%d retries refused by the throttle (%d made): the 429s took its tokens", e.BudgetExhausted, e.Retries)
	}
	// About 1 % of the first attempts fail with an error and are retried.
	near(t, "retries per call", float64(e.Retries)/float64(e.Calls), 0.01, 0.005)
	near(t, "calls refused with a 429", float64(e.Rejected)/float64(e.Calls), 0.5, 0.02)
}

// TestHedgeFailures: gRFC A6's hedging policy. A failure listed in
// non_fatal_on sends the next copy at once; any other failure ends the call
// at once and cancels the copies still out.
func TestHedgeFailures(t *testing.T) {
	nonFatal := func(h *sim.Hedge) *sim.Hedge { h.NonFatalOn[sim.Error] = true; return h }
	t.Run("non-fatal sends the next copy at once", func(t *testing.T) {
		// Half the copies fail after 1ms; the hedge delay is far longer,
		// so a call that waited for it would take 100ms per copy.
		back := sim.Service{ServiceTime: mustDist(t, "1ms"), Errors: 0.5}
		for _, tt := range []struct {
			name              string
			hedge             *sim.Hedge
			success, attempts float64
		}{
			// 1 - 0.5^3 of the calls succeed, with 1 + 0.5 + 0.25 attempts.
			{"non_fatal_on error", nonFatal(&sim.Hedge{Delay: 100 * time.Millisecond, MaxCopies: 3}), 0.875, 1.75},
			// Fatal: the first failure ends the call.
			{"default: every failure is fatal", &sim.Hedge{Delay: 100 * time.Millisecond, MaxCopies: 3}, 0.5, 1},
		} {
			t.Run(tt.name, func(t *testing.T) {
				res, _ := run(t, twoTier(t, sim.Call{Hedge: tt.hedge}, back, 20*time.Second))
				e := edge(t, res, "front->back")
				near(t, "call success", float64(e.OK)/float64(e.Calls), tt.success, 0.02)
				near(t, "attempts per call", e.Amplification, tt.attempts, 0.03)
				if p := res.Clients[0].Latency.P99; p >= 10 {
					t.Errorf("client p99 %.1fms: the next copy waited for the hedge delay", p)
				}
			})
		}
	})
	t.Run("fatal ends the call and cancels the copies", func(t *testing.T) {
		// One call a second, round robin over two instances: each first
		// copy goes to back#1, which takes 50ms more, and its hedge after
		// 10ms to back#2, which fails every request. A fallback answers
		// for a failed call, so that the client's latency shows when the
		// call ended.
		for _, tt := range []struct {
			name      string
			hedge     *sim.Hedge
			errorRate float64
			p99       float64 // ms
		}{
			{"default: the error ends the call at once", &sim.Hedge{Delay: 10 * time.Millisecond, MaxCopies: 2}, 1, 11},
			{"non_fatal_on error: the first copy still wins", nonFatal(&sim.Hedge{Delay: 10 * time.Millisecond, MaxCopies: 2}), 0, 51},
		} {
			t.Run(tt.name, func(t *testing.T) {
				spec := twoTier(t, sim.Call{Hedge: tt.hedge, Fallback: true}, sim.Service{Instances: 2, ServiceTime: mustDist(t, "1ms")}, 30*time.Second)
				spec.Clients[0].Arrival, spec.Clients[0].Rate = sim.Constant, 1
				spec.Faults = []sim.Fault{
					{Kind: sim.FaultLatency, Target: "back#1", Params: sim.LatencyFault{Add: mustDist(t, "50ms")}},
					{Kind: sim.FaultErrors, Target: "back#2", Params: sim.ErrorsFault{Probability: 1}},
				}
				res, _ := run(t, spec)
				e := edge(t, res, "front->back")
				if e.Hedges != e.Calls {
					t.Fatalf("%d hedges for %d calls: want every call hedged", e.Hedges, e.Calls)
				}
				near(t, "calls failed", float64(e.Error)/float64(e.Calls), tt.errorRate, 0)
				near(t, "client p99 (ms)", res.Clients[0].Latency.P99, tt.p99, 0.5)
			})
		}
	})
}

// TestThrottleStopsHedges: gRFC A6 throttles hedged copies as it does
// retries: once failures have brought the tokens to half of max_tokens, no
// further copy is sent.
func TestThrottleStopsHedges(t *testing.T) {
	back := sim.Service{ServiceTime: mustDist(t, "50ms"), Errors: 1}
	rt := &sim.Retry{MaxAttempts: 3, Backoff: resilience.Backoff{Base: time.Millisecond}, Throttle: &sim.Throttle{MaxTokens: 10, TokenRatio: 0.1}}
	rt.On[sim.Error] = true
	res, _ := run(t, twoTier(t, sim.Call{Retry: rt, Hedge: &sim.Hedge{Delay: 10 * time.Millisecond, MaxCopies: 2}}, back, 10*time.Second))
	e := edge(t, res, "front->back")
	// Only the calls of the first 60ms or so, before five failures have
	// answered, are hedged.
	if e.Hedges > 15 {
		t.Errorf("%d hedges of %d calls sent with the throttle empty", e.Hedges, e.Calls)
	}
	if e.BudgetExhausted < e.Calls/2 {
		t.Errorf("%d copies and retries refused by the throttle, of %d calls", e.BudgetExhausted, e.Calls)
	}
}
