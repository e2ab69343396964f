package sim_test

import (
	"slices"
	"testing"
	"time"

	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
)

// builtin loads a built-in scenario.
func builtin(t *testing.T, name string) *sim.Spec {
	t.Helper()
	file, data, err := scenarios.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := scenarios.Load(file, data)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func service(spec *sim.Spec, name string) *sim.Service {
	for i := range spec.Services {
		if spec.Services[i].Name == name {
			return &spec.Services[i]
		}
	}
	panic("no service " + name)
}

// mean averages f over the windows [from, to) of a component.
func mean(res *sim.Result, component string, from, to int, f func(sim.Window) float64) float64 {
	sum := 0.0
	for i := from; i < to; i++ {
		sum += f(window(res, component, i))
	}
	return sum / float64(to-from)
}

func goodput(w sim.Window) float64 { return float64(w.OK) }

// TestRetryStorm: without a budget the outage outlives its trigger by far;
// with a retry budget it ends with the trigger.
func TestRetryStorm(t *testing.T) {
	spec := builtin(t, "retry-storm")
	res, _ := run(t, spec)
	if g := mean(res, "users", 10, 20, goodput); g < 680 {
		t.Fatalf("goodput before the trigger %.0f/s, want about 700", g)
	}
	if g := mean(res, "users", 45, 90, goodput); g > 70 {
		t.Errorf("goodput 15 s after the trigger ended %.0f/s: the storm did not sustain itself", g)
	}
	if e := edge(t, res, "api->db"); e.Amplification < 1.5 {
		t.Errorf("retry amplification %.2f, want the retries to multiply the load", e.Amplification)
	}

	spec = builtin(t, "retry-storm")
	service(spec, "api").Calls[0].Retry.Budget = &sim.Budget{Percent: 0.1, MinPerSec: 10, TTL: 10 * time.Second}
	res, _ = run(t, spec)
	if g := mean(res, "users", 45, 90, goodput); g < 680 {
		t.Errorf("with a retry budget, goodput after the trigger %.0f/s, want recovery to about 700", g)
	}
}

// TestBreakerSavesCheckout: with the breaker the shop stays up through a
// slow payment service; without it, browsing fails too.
func TestBreakerSavesCheckout(t *testing.T) {
	spec := builtin(t, "breaker-saves-checkout")
	res, _ := run(t, spec)
	if c := res.Clients[0]; c.SuccessRate < 0.99 || c.Degraded == 0 {
		t.Errorf("with a breaker: success %.3f, %d degraded; want >= 0.99 and some degraded", c.SuccessRate, c.Degraded)
	}
	if !hasEvent(res, "checkout->payment", "breaker OPEN") {
		t.Error("the breaker never opened")
	}
	if c := res.Clients[0]; c.Timeout > 50 {
		t.Errorf("with a breaker, %d shoppers timed out", c.Timeout)
	}

	spec = builtin(t, "breaker-saves-checkout")
	call := &service(spec, "checkout").Calls[0]
	call.Breaker, call.Fallback = nil, false
	res, _ = run(t, spec)
	c := res.Clients[0]
	if c.SuccessRate > 0.9 {
		t.Errorf("without a breaker: success %.3f, want the shop to suffer", c.SuccessRate)
	}
	// More shoppers timed out than ever checked out: browsing, stuck behind
	// checkouts in the gateway's queue, timed out too.
	if checkouts := edge(t, res, "gateway->checkout").Calls; c.Timeout <= checkouts {
		t.Errorf("without a breaker: %d timeouts, %d checkouts; want browsing to time out too", c.Timeout, checkouts)
	}
}

// TestGatewaySPOF: one gateway instance down is absorbed, both down is a
// total outage.
func TestGatewaySPOF(t *testing.T) {
	res, _ := run(t, builtin(t, "gateway-spof"))
	ok := func(w sim.Window) float64 { return 1 - w.ErrorShare() }
	if s := mean(res, "shoppers", 22, 29, ok); s < 0.99 {
		t.Errorf("success with one gateway instance down %.3f", s)
	}
	if s := mean(res, "shoppers", 51, 64, ok); s > 0 {
		t.Errorf("success with both gateway instances down %.3f, want 0", s)
	}
	if s := mean(res, "shoppers", 70, 90, ok); s < 0.99 {
		t.Errorf("success after the restart %.3f", s)
	}
}

// TestNoisyNeighbour: round robin spreads the slow instance's tail to its
// callers; least_request mostly avoids it.
func TestNoisyNeighbour(t *testing.T) {
	res, _ := run(t, builtin(t, "noisy-neighbour"))
	// Two random choices both land on the slow instance one time in 16,
	// so least_request's p99 suffers too; its p90 does not.
	p90 := func(w sim.Window) float64 { return w.Latency.P90 }
	web, mobile := mean(res, "web-users", 25, 55, p90), mean(res, "mobile-users", 25, 55, p90)
	if web < 10*mobile {
		t.Errorf("p90 during the fault: web (round robin) %.1fms, mobile (least request) %.1fms; want web far worse", web, mobile)
	}
	errs := func(w sim.Window) float64 { return w.ErrorShare() }
	if web, mobile := mean(res, "web-users", 25, 55, errs), mean(res, "mobile-users", 25, 55, errs); web < 2*mobile {
		t.Errorf("error share during the fault: web %.3f, mobile %.3f; want web far worse", web, mobile)
	}
}

// TestHedgingTail: hedging cuts the p99 by an order of magnitude for about
// 5% more load.
func TestHedgingTail(t *testing.T) {
	res, _ := run(t, builtin(t, "hedging-tail"))
	plain, hedged := res.Clients[0].Latency.P99, res.Clients[1].Latency.P99
	if hedged > plain/5 {
		t.Errorf("p99 plain %.1fms, hedged %.1fms: want hedged 5x better", plain, hedged)
	}
	if a := edge(t, res, "hedged->storage").Amplification; a < 1.02 || a > 1.1 {
		t.Errorf("hedging amplification %.3f, want about 1.05", a)
	}
}

// TestOrderSaga: payment failures are compensated, a refund outage leaves
// inconsistent sagas, a notification outage only delays them.
func TestOrderSaga(t *testing.T) {
	res, _ := run(t, builtin(t, "order-saga"))
	sg := res.Sagas[0]
	if sg.Compensated < 300 || sg.Completed < 5000 {
		t.Errorf("completed %d, compensated %d", sg.Completed, sg.Compensated)
	}
	var during, outside, inconsistentOutside uint64
	for _, w := range sg.Series {
		s := int(w.Start.Seconds())
		if s >= 30 && s < 60 {
			during += w.Compensated
		} else {
			outside += w.Compensated
		}
		if s < 40 || s >= 52 {
			inconsistentOutside += w.Inconsistent
		}
	}
	// 30% of 50 sagas/s for 30 s during the fault; shipping's own 2%
	// outside it, about one a second.
	if during < 400 || outside > 150 {
		t.Errorf("compensations during the payment fault %d, outside it %d", during, outside)
	}
	if sg.Inconsistent == 0 || inconsistentOutside != 0 {
		t.Errorf("inconsistent %d, of which %d outside the refund outage", sg.Inconsistent, inconsistentOutside)
	}
	var peak uint64
	for _, w := range sg.Series[80:91] {
		peak = max(peak, w.Running)
	}
	if peak < 300 || sg.Running > 10 {
		t.Errorf("running: %d at the notification outage's peak, %d at the end", peak, sg.Running)
	}
}

// TestKafkaConsumerCrash: lag grows until the session timeout, the rebalance
// redelivers at most an auto-commit interval of records, and the group
// catches up.
func TestKafkaConsumerCrash(t *testing.T) {
	res, _ := run(t, builtin(t, "kafka-consumer-crash"))
	g := res.Groups[0]
	if g.Duplicates == 0 || g.Duplicates > 5*40*12/10 {
		t.Errorf("duplicates %d, want some, at most about 5 s of one member's records (200)", g.Duplicates)
	}
	if g.Lost != 0 || g.Rebalances != 2 {
		t.Errorf("lost %d, rebalances %d", g.Lost, g.Rebalances)
	}
	if g.MaxLagS < 15 {
		t.Errorf("max lag %.1fs: the crashed member's partitions should wait out the session timeout", g.MaxLagS)
	}
	if l := g.Series[44].LagS; l < 14 {
		t.Errorf("lag at 44 s %.1fs, want it grown since the crash at 30 s", l)
	}
	if g.LagS > 5.5 {
		t.Errorf("lag at the end %.1fs: the group should have caught up (to within the auto-commit interval)", g.LagS)
	}
}

// TestQuorumStaleness: under the partition the partial quorums serve stale
// reads and the strict quorums time out on the minority side.
func TestQuorumStaleness(t *testing.T) {
	res, _ := run(t, builtin(t, "quorum-staleness"))
	fast, safe := res.Stores[0], res.Stores[1]
	share := func(st sim.StoreResult, from, to int) float64 {
		var stale, reads uint64
		for _, w := range st.Series[from:to] {
			stale, reads = stale+w.Stale, reads+w.Reads
		}
		return float64(stale) / float64(reads)
	}
	if b, d := share(fast, 5, 30), share(fast, 35, 60); b > 0.02 || d < 0.2 {
		t.Errorf("fast: stale share %.3f before the partition, %.3f during it", b, d)
	}
	if safe.StaleReads != 0 || safe.Timeouts < 2500 {
		t.Errorf("safe: %d stale reads, %d timeouts", safe.StaleReads, safe.Timeouts)
	}
	if west := res.Clients[1]; west.Error < 2500 || res.Clients[0].Error != 0 {
		t.Errorf("errors: west %d, east %d", west.Error, res.Clients[0].Error)
	}
}

// TestCQRSProjectionLag: the burst makes the view lag and miss its users'
// writes; it drains afterwards.
func TestCQRSProjectionLag(t *testing.T) {
	res, _ := run(t, builtin(t, "cqrs-projection-lag"))
	v := res.Views[0]
	misses := func(from, to int) (n uint64) {
		for _, w := range v.Series[from:to] {
			n += w.Miss
		}
		return n
	}
	if before, during := misses(5, 30), misses(32, 50); during < 20*max(before, 1) {
		t.Errorf("read-your-writes misses: %d before the burst, %d during and after it", before, during)
	}
	if v.MaxLagS < 10 || v.LagS > 1 {
		t.Errorf("projection lag: max %.1fs, at the end %.1fs", v.MaxLagS, v.LagS)
	}
}

// TestMonolithVsMicroservices: a slow operation and a bad release of the
// monolith hit every flow; split into services, each hits only the flows
// that use the slow or redeployed part.
func TestMonolithVsMicroservices(t *testing.T) {
	file, data, err := scenarios.Open("monolith-vs-microservices")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		variant      string
		slow, deploy []string // the flows each fault hits
		slowRadius   float64
		deployRadius float64
	}{
		{"monolith", allFlows, allFlows, 1, 1},
		{"microservices", []string{"shoppers /search"}, []string{"shoppers /checkout"}, 0.40, 0.10},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			sc, err := scenarios.LoadScenario(file, data, scenarios.Options{Variant: tc.variant})
			if err != nil {
				t.Fatal(err)
			}
			res, _ := run(t, sc.Spec)
			slow, deploy := res.Cascades[0], res.Cascades[1]
			for _, c := range []struct {
				r      sim.CascadeResult
				flows  []string
				radius float64
			}{{slow, tc.slow, tc.slowRadius}, {deploy, tc.deploy, tc.deployRadius}} {
				got := slices.Clone(c.r.FlowsHit)
				slices.Sort(got)
				want := slices.Clone(c.flows)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%s hit %v, want %v", c.r.Name, got, want)
				}
				near(t, c.r.Name+" blast radius", c.r.BlastRadius, c.radius, 0.02)
			}
		})
	}
}

var allFlows = []string{"shoppers /search", "shoppers /product", "shoppers /cart", "shoppers /checkout", "shoppers /account"}

// TestCASContention: 50 writers read-modify-write one key at once, and
// retry their conflicts with exponential backoff. Without jitter the
// losers of a round come back together and collide again; with full
// jitter they are spread out (AWS Architecture Blog, "Exponential Backoff
// And Jitter"): fewer attempts per write, every write done, and far lower
// latency.
func TestCASContention(t *testing.T) {
	file, data, err := scenarios.Open("cas-contention")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]sim.Result{}
	for _, v := range []string{"no-jitter", "full-jitter"} {
		sc, err := scenarios.LoadScenario(file, data, scenarios.Options{Variant: v})
		if err != nil {
			t.Fatal(err)
		}
		res, _ := run(t, sc.Spec)
		got[v] = *res
	}
	none, full := got["no-jitter"], got["full-jitter"]
	en, ef := edge(t, &none, "app->db (conditional_write)"), edge(t, &full, "app->db (conditional_write)")
	if en.Retries == 0 || none.Stores[0].Conflicts == 0 {
		t.Fatalf("no contention: %d retries, %d conflicts", en.Retries, none.Stores[0].Conflicts)
	}
	if ef.Amplification > 0.85*en.Amplification {
		t.Errorf("attempts per write: %.2f with full jitter, %.2f without; want full jitter well below", ef.Amplification, en.Amplification)
	}
	cn, cf := none.Clients[0], full.Clients[0]
	if cf.OK < cn.OK || cf.Error != 0 {
		t.Errorf("writes done: %d of %d with full jitter (%d failed), %d without", cf.OK, cf.Sent, cf.Error, cn.OK)
	}
	if cf.Latency.P99 > cn.Latency.P99/4 || cf.Latency.P50 > cn.Latency.P50/2 {
		t.Errorf("latency p50/p99: %.0f/%.0f ms with full jitter, %.0f/%.0f ms without; want far lower", cf.Latency.P50, cf.Latency.P99, cn.Latency.P50, cn.Latency.P99)
	}
}
