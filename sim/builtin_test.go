package sim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// TestGatewaySPOF: one gateway instance crashed is out of the endpoints
// a second later (the kubelet sees the exit, the endpoints and kube-proxy
// follow), and the survivor absorbs its share: only the requests of that
// second fail. Were the endpoints updated as slowly as the default
// readiness probe notices a hung instance (30 s), half the requests would
// fail until it is back. Both down is a total outage.
func TestGatewaySPOF(t *testing.T) {
	spec := builtin(t, "gateway-spof")
	res, _ := run(t, spec)
	ok := func(w sim.Window) float64 { return 1 - w.ErrorShare() }
	near(t, "success in the second one gateway instance is listed though down", mean(res, "shoppers", 20, 21, ok), 0.5, 0.05)
	if s := mean(res, "shoppers", 21, 35, ok); s < 0.99 {
		t.Errorf("success with one gateway instance down, out of the endpoints at 21 s: %.3f", s)
	}
	service(spec, "gateway").EndpointUpdateDelay = 30 * time.Second
	slow, _ := run(t, spec)
	near(t, "success with one gateway instance down, still listed", mean(slow, "shoppers", 22, 35, ok), 0.5, 0.03)
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
			during += w.Saga().Compensated
		} else {
			outside += w.Saga().Compensated
		}
		if s < 40 || s >= 52 {
			inconsistentOutside += w.Saga().Inconsistent
		}
	}
	// 30% of 50 sagas/s for 30 s during the fault; shipping's own 2%
	// outside it, about one a second.
	if during < 400 || outside > 150 {
		t.Errorf("compensations during the payment fault %d, outside it %d", during, outside)
	}
	// The refunds that meet the refund outage are retried by the saga's
	// retry policy (Temporal's defaults) and land after it: late, not
	// inconsistent.
	if sg.Inconsistent != 0 || inconsistentOutside != 0 {
		t.Errorf("inconsistent %d, of which %d outside the refund outage", sg.Inconsistent, inconsistentOutside)
	}
	var peak uint64
	for _, w := range sg.Series[80:91] {
		peak = max(peak, w.Saga().Running)
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
	if l := g.Series[44].Group().LagS; l < 14 {
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
			stale, reads = stale+w.Store().Stale, reads+w.Store().Reads
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
			n += w.View().Miss
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

// variant loads a variant of a built-in scenario.
func variant(t *testing.T, name, v string) *sim.Spec {
	t.Helper()
	file, data, err := scenarios.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.LoadScenario(file, data, scenarios.Options{Variant: v})
	if err != nil {
		t.Fatal(err)
	}
	return sc.Spec
}

func client(res *sim.Result, name string) sim.ClientResult {
	for _, c := range res.Clients {
		if c.Name == name {
			return c
		}
	}
	panic("no client " + name)
}

// group returns a consumer group's result.
func group(res *sim.Result, name string) sim.GroupResult {
	for _, g := range res.Groups {
		if g.Name == name {
			return g
		}
	}
	panic("no group " + name)
}

// maxLagS is a group's largest lag over the windows [from, to).
func maxLagS(g sim.GroupResult, from, to int) float64 {
	m := 0.0
	for _, w := range g.Series[from:to] {
		m = max(m, w.Group().LagS)
	}
	return m
}

// TestRestVsEvents: called synchronously, shipping's outage fails every
// order and a slow notification slows them; behind an OrderPlaced event
// the orders all succeed, fast, and the outage shows as shipping's lag
// (the time to consistency) instead. The slow notification consumer does
// not touch shipping's group: each group has its own offsets.
func TestRestVsEvents(t *testing.T) {
	rest, _ := run(t, variant(t, "rest-vs-events", "rest"))
	events, _ := run(t, variant(t, "rest-vs-events", "events"))
	crash := func(res *sim.Result) float64 { // shoppers' success while shipping is down
		return mean(res, "shoppers", 31, 60, func(w sim.Window) float64 { return 1 - w.ErrorShare() })
	}
	slowP99 := func(res *sim.Result) float64 { // shoppers' p99 while notification is slow
		return mean(res, "shoppers", 111, 130, func(w sim.Window) float64 { return w.Latency.P99 })
	}
	r, e := rest.Clients[0], events.Clients[0]
	if c := crash(rest); c > 0.01 {
		t.Errorf("rest: %.1f%% of orders succeed while shipping is down, want none", 100*c)
	}
	if c := crash(events); c < 0.999 {
		t.Errorf("events: %.1f%% of orders succeed while shipping is down, want all", 100*c)
	}
	if r.SuccessRate > 0.8 || e.SuccessRate < 0.999 {
		t.Errorf("success: rest %.3f, events %.3f; want about 0.75 (the 35 s outage of 150 s) and 1", r.SuccessRate, e.SuccessRate)
	}
	if r.Latency.P50 < 2*e.Latency.P50 {
		t.Errorf("p50: rest %.1f ms, events %.1f ms; want the two blocking calls to double it at least", r.Latency.P50, e.Latency.P50)
	}
	if rs, es := slowP99(rest), slowP99(events); rs < 200 || es > 100 {
		t.Errorf("p99 while notification is slow: rest %.0f ms, events %.0f ms", rs, es)
	}
	for _, g := range rest.Groups {
		if g.Consumed != 0 {
			t.Errorf("rest: group %s consumed %d records, want none: nothing is published", g.Name, g.Consumed)
		}
	}
	ship, note := group(events, "shipping"), group(events, "notification")
	// Shipping consumes again only once the crashed members' sessions
	// (45 s) expire and the group rebalances: 48 s after the crash.
	if ship.MaxLagS < 45 || ship.EndToEnd.P99 < 10e3 || ship.LagS > 1 {
		t.Errorf("events: shipping's lag max %.1f s, at the end %.1f s, end-to-end p99 %.0f ms", ship.MaxLagS, ship.LagS, ship.EndToEnd.P99)
	}
	if ship.Lost != 0 || ship.DeadLettered != 0 || note.DeadLettered != 0 {
		t.Errorf("events: shipping lost %d, dead letters %d and %d", ship.Lost, ship.DeadLettered, note.DeadLettered)
	}
	if s, n := maxLagS(ship, 111, 131), maxLagS(note, 111, 131); s > 1 || n < 10 {
		t.Errorf("while notification is slow: shipping's lag %.1f s, notification's %.1f s; want it confined to notification", s, n)
	}
}

// TestSharedDatabase: one service's slow query on a shared database fails
// all three services; on a database each, with the same 24 connections,
// only its own (which then has only its own 8 connections to be slow on).
func TestSharedDatabase(t *testing.T) {
	shared, _ := run(t, variant(t, "shared-database", "shared"))
	split, _ := run(t, variant(t, "shared-database", "per-service"))
	near(t, "shared: blast radius", shared.Cascades[0].BlastRadius, 1, 0.01)
	// report-users send 40 of the 1240 requests/s.
	near(t, "per-service: blast radius", split.Cascades[0].BlastRadius, 40.0/1240, 0.005)
	during := func(res *sim.Result, client string) float64 {
		return mean(res, client, 35, 70, func(w sim.Window) float64 { return 1 - w.ErrorShare() })
	}
	for _, c := range []string{"order-users", "catalog-users"} {
		if s, p := during(shared, c), during(split, c); s > 0.5 || p < 0.999 {
			t.Errorf("%s' success during the slow query: shared %.3f, per-service %.3f", c, s, p)
		}
		// Over the run: in the windows of the collapse hardly any request
		// succeeds, so they have no latency to show.
		p99 := func(res *sim.Result) float64 { return client(res, c).Latency.P99 }
		if s, p := p99(shared), p99(split); s < 10*p {
			t.Errorf("%s' p99: shared %.0f ms, per-service %.0f ms", c, s, p)
		}
	}
	// The culprit fares better shared: its slow queries take the
	// connections the others would have used.
	if s, p := client(shared, "report-users").SuccessRate, client(split, "report-users").SuccessRate; s < p+0.05 {
		t.Errorf("report-users' success: shared %.3f, per-service %.3f; want shared ahead", s, p)
	}
}

// TestSagaOrchestrationVsChoreography: the orchestrator's crash stalls the
// sagas it holds for the outage (their p99 duration spans it), while a
// choreography's go on; a participant's crash compensates orchestrated
// sagas (a command finds nobody) and delays choreographed ones (their
// events wait in the topic), which end neither compensated nor on time.
func TestSagaOrchestrationVsChoreography(t *testing.T) {
	file, data, err := scenarios.Open("saga-orchestration-vs-choreography")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		variant          string
		p99Min, p99Max   float64 // seconds
		compMin, compMax float64 // compensated share of the sagas that ended
	}{
		{"orchestration-coordinator-crash", 14, 17, 0, 0.02},
		{"choreography-coordinator-crash", 2, 7, 0, 0},
		// A participant down is unavailability: its commands are retried
		// (Temporal's policy), so the sagas wait as in a choreography
		// rather than roll back.
		// The sagas whose charge failed with the crash, at 20 s, retry
		// at 21, 23, 27 and 35 s (1 s, doubling); the last comes at the
		// instant payment restarts, before it takes traffic, and the next
		// is at 51 s: a doubling backoff can wait twice the outage.
		{"orchestration-participant-crash", 14, 33, 0, 0.02},
		{"choreography-participant-crash", 15, 30, 0, 0},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			sc, err := scenarios.LoadScenario(file, data, scenarios.Options{Variant: tc.variant})
			if err != nil {
				t.Fatal(err)
			}
			res, _ := run(t, sc.Spec)
			sg := res.Sagas[0]
			p99 := sg.Duration.P99 / 1000
			comp := float64(sg.Compensated) / float64(sg.Started-sg.Running)
			t.Logf("p99 %.1fs, compensated %.1f%%, running at the end %d", p99, comp*100, sg.Running)
			if p99 < tc.p99Min || p99 > tc.p99Max {
				t.Errorf("p99 duration %.1fs, want %.0fs to %.0fs", p99, tc.p99Min, tc.p99Max)
			}
			if comp < tc.compMin || comp > tc.compMax {
				t.Errorf("compensated share %.3f, want %.2f to %.2f", comp, tc.compMin, tc.compMax)
			}
		})
	}
}

// TestPollingCadence: pulled stages add their periods' waits to the chain's
// staleness, and a misaligned cadence (30 s feeding 60 s) adds about
// P1/2 + P2/2 = 45 s on average where push adds milliseconds.
func TestPollingCadence(t *testing.T) {
	file, data, err := scenarios.Open("polling-cadence")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		variant      string
		mean, tol    float64 // seconds: the chain's mean, billing + ledger
		ledgerP99Max float64 // seconds
	}{
		{"push", 0.011, 0.005, 0.1},
		{"aligned", 20, 1.5, 6},
		{"misaligned", 45, 2, 47},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			sc, err := scenarios.LoadScenario(file, data, scenarios.Options{Variant: tc.variant})
			if err != nil {
				t.Fatal(err)
			}
			res, _ := run(t, sc.Spec)
			billing, ledger := res.Groups[0].EndToEnd, res.Groups[1].EndToEnd
			near(t, "end to end mean (s)", (billing.Mean+ledger.Mean)/1000, tc.mean, tc.tol)
			if ledger.P99/1000 > tc.ledgerP99Max {
				t.Errorf("ledger p99 %.1fs, want under %.0fs", ledger.P99/1000, tc.ledgerP99Max)
			}
		})
	}
}

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

// TestNoEdgeSeries: a run that keeps no edge series (Spec.NoEdgeSeries,
// what `run` without --json or --csv, and bench, ask for) has the same
// result as one that keeps them, figure for figure, cascades, recoveries,
// events and every other series included, but for its edges' series,
// which are empty.
func TestNoEdgeSeries(t *testing.T) {
	for _, name := range []string{"breaker-saves-checkout", "retry-storm", "kafka-consumer-crash", "checkout", "gateway-spof", "metastable-retries"} {
		t.Run(name, func(t *testing.T) {
			spec := builtin(t, name)
			with, _ := run(t, spec)
			off := *spec
			off.NoEdgeSeries = true
			without, _ := run(t, &off)
			if len(with.Edges) == 0 {
				t.Fatal("no edges")
			}
			for i := range with.Edges {
				if len(with.Edges[i].Series) == 0 {
					t.Errorf("edge %s: no series when kept", with.Edges[i].Name)
				}
				if n := len(without.Edges[i].Series); n != 0 {
					t.Errorf("edge %s: %d windows kept with NoEdgeSeries", without.Edges[i].Name, n)
				}
				with.Edges[i].Series = nil
			}
			a, err := json.Marshal(with)
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(without)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("results differ beyond the edge series:\n%s", firstDiff(a, b))
			}
		})
	}
}

// firstDiff shows where two JSON texts part.
func firstDiff(a, b []byte) string {
	i := 0
	for i < min(len(a), len(b)) && a[i] == b[i] {
		i++
	}
	from := max(i-200, 0)
	return fmt.Sprintf("kept:    ...%s\nwithout: ...%s", a[from:min(i+200, len(a))], b[from:min(i+200, len(b))])
}
