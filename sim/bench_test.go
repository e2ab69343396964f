package sim

import (
	"fmt"
	"testing"
	"time"

	"github.com/faultline/faultline/sim/dist"
	"github.com/faultline/faultline/sim/resilience"
)

// chain10 is a chain of 10 services with 4 workers each. Every request walks
// the whole chain, holding a worker at each hop until the rest of the chain
// has answered, so the first service is the busiest: the rate is set so that
// its utilisation is about 0.8.
func chain10(d time.Duration) *Spec {
	st, err := dist.Parse("exp(10us)")
	if err != nil {
		panic(err)
	}
	spec := &Spec{Name: "chain10", Duration: d, Clients: []Client{{Name: "load", Target: "s0", Rate: 32000}}}
	for i := range 10 {
		sv := Service{Name: fmt.Sprintf("s%d", i), Instances: 1, Workers: 4, Queue: Unbounded, ServiceTime: st}
		if i < 9 {
			sv.Calls = []Call{{To: fmt.Sprintf("s%d", i+1), Probability: 1, Fanout: 1}}
		}
		spec.Services = append(spec.Services, sv)
	}
	return spec
}

// BenchmarkChain10 measures requests per second of wall time through a chain
// of 10 services, with all metrics on. One op is one client request.
func BenchmarkChain10(b *testing.B) {
	// Size the run so that about b.N requests are sent.
	res, s := runBench(b, chain10(benchSpan(b, 32000)))
	c := res.Clients[0]
	b.ReportMetric(float64(c.OK)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64(s.Processed())/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(res.Components[0].Utilisation, "util_s0")
}

// BenchmarkChain10FaultElsewhere is chain10 with 16 workers a service,
// at a utilisation of about 0.94 (150,000 requests a second), and a
// service nobody calls paused for the whole run: the queue at the
// chain's head forms as it does with no fault, and each enqueue's trace
// to the fault its workers hold (heldFault) meets none. It walked up to
// 64 requests down the chain all the same while any fault lasted
// anywhere; it walks none now that the pause is on nothing the chain
// reaches.
func BenchmarkChain10FaultElsewhere(b *testing.B) {
	const rate = 150000
	spec := chain10(benchSpan(b, rate))
	spec.Clients[0].Rate = rate
	for i := range spec.Services {
		spec.Services[i].Workers = 16
	}
	spec.Services = append(spec.Services, Service{Name: "idle", Instances: 1, Workers: 1, Queue: Unbounded, ServiceTime: mustDist("1ms")})
	spec.Faults = []Fault{{Kind: FaultPause, Target: "idle", Params: PauseFault{}}}
	res, s := runBench(b, spec)
	c := res.Clients[0]
	b.ReportMetric(float64(c.OK)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64(s.Processed())/b.Elapsed().Seconds(), "events/s")
}

// TestSteadyStateAllocs runs the chain past its start-up, then checks that
// another stretch of virtual time allocates nothing per event: the pools and
// queues have reached their size, and the time series were made as long as
// the run at its start (reserveSeries), so that closing a window appends
// without growing them.
func TestSteadyStateAllocs(t *testing.T) {
	// Two window closes over the series of 11 components and 9 edges
	// allocate nothing (before the series were made as long as the run,
	// they grew 29 times in the two seconds measured). Nothing may scale
	// with the number of events.
	steadyAllocs(t, chain10(time.Hour), 5*time.Second)
	// The same with the latency side at work: a client objective that
	// every answer misses (each is counted as slow, by origin), and the
	// services judged against their level before a fault, at 3 s, on a
	// service nobody calls (the baselines are frozen then).
	slow := chain10(time.Hour)
	slow.Name = "chain10, slow answers"
	slow.Clients[0].LatencyObjective = LatencyObjective{Percentile: 99, Degraded: time.Microsecond}
	slow.Services = append(slow.Services, Service{Name: "idle", Instances: 1, Workers: 1, Queue: Unbounded})
	slow.Faults = []Fault{{Kind: FaultPause, Target: "idle", Start: 3 * time.Second}}
	steadyAllocs(t, slow, 5*time.Second)
	// The same chain with every service async, half its work after its
	// calls: giving a worker back and queueing for it again take nothing
	// either.
	async := chain10(time.Hour)
	async.Name = "chain10, async"
	for i := range async.Services {
		async.Services[i].Async, async.Services[i].AfterCalls = true, 0.5
	}
	steadyAllocs(t, async, 5*time.Second)
	// The same chain under CPU limits just above its load (0.32 cores a
	// service): quotas spent, throttled work and its timers, and the
	// stretches' heaps, allocate nothing either (cfs.go).
	limited := chain10(time.Hour)
	limited.Name = "chain10, cpu_limit"
	for i := range limited.Services {
		limited.Services[i].CPULimit, limited.Services[i].CPUPeriod = 0.4, DefaultCPUPeriod
	}
	steadyAllocs(t, limited, 5*time.Second)
	// The chain's last service frozen, and the queues bounded: every
	// worker up the chain waits on it, and the first service's queue
	// turns requests away. Tracing a refusal walks the workers ahead of
	// it down to the pause (provenance.go, heldFault) without allocating.
	stuck := chain10(time.Hour)
	for i := range stuck.Services {
		stuck.Services[i].Queue = 8
	}
	stuck.Faults = []Fault{{Kind: FaultPause, Target: "s9", Start: 3 * time.Second}}
	s, err := New(stuck, 1)
	if err != nil {
		t.Fatal(err)
	}
	s.RunUntil(5 * time.Second)
	var o origin
	if allocs := testing.AllocsPerRun(100, func() { o = s.queuedOrigin(0, 0, CauseQueueFull) }); allocs != 0 {
		t.Errorf("tracing a refusal behind the pause: %.0f allocations", allocs)
	}
	if o.fault != 1 {
		t.Errorf("a refusal at s0 traced to occurrence %d, want the pause's (1)", o.fault)
	}
}

// steadyAllocs runs spec past warm, then checks that two more seconds of
// virtual time allocate next to nothing, whatever the events.
func steadyAllocs(t *testing.T, spec *Spec, warm time.Duration) {
	t.Helper()
	s, err := New(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	s.RunUntil(warm)
	before := s.Processed()
	now := s.Now()
	allocs := testing.AllocsPerRun(1, func() {
		now += 2 * time.Second
		s.RunUntil(now)
	})
	events := s.Processed() - before
	// A few, where one per event would be millions: none for the chain,
	// 4 with its slow answers (their blame, a window's when it has any).
	if allocs > 10 {
		t.Errorf("%s: %.0f allocations over %d events", spec.Name, allocs, events)
	}
	t.Logf("%s: %.0f allocations over %d events", spec.Name, allocs, events)
}

// BenchmarkSnapshot measures what a live view pays a frame: a Snapshot of
// a run with 100 call edges and some 100,000 calls in flight (a front
// service fanning out to 100 backends that take 500 ms). One op is one
// Snapshot. The calls in flight per edge are counted in one pass over the
// pool, not one pass per edge.
func BenchmarkSnapshot(b *testing.B) {
	spec := &Spec{Name: "snapshot", Duration: time.Hour,
		Clients: []Client{{Name: "c", Target: "front", Rate: 2000}}}
	front := Service{Name: "front", Instances: 1, Workers: 1 << 20, Queue: Unbounded, ServiceTime: mustDist("1us")}
	for i := range 100 {
		name := fmt.Sprintf("b%d", i)
		front.Calls = append(front.Calls, Call{To: name, Probability: 1, Fanout: 1, Group: "all"})
		spec.Services = append(spec.Services, Service{Name: name, Instances: 1, Workers: 1 << 20, Queue: Unbounded, ServiceTime: mustDist("500ms")})
	}
	spec.Services = append(spec.Services, front)
	s, err := New(spec, 1)
	if err != nil {
		b.Fatal(err)
	}
	s.RunUntil(3 * time.Second)
	var inFlight uint64
	for b.Loop() {
		snap := s.Snapshot()
		inFlight = 0
		for _, e := range snap.Result.Edges {
			inFlight += e.InFlight
		}
	}
	b.ReportMetric(float64(inFlight), "calls-in-flight")
	b.ReportMetric(float64(len(s.calls.c)), "call-slots")
}

// BenchmarkKongAdmit sends 100,000 requests a second from 10,000 users
// through a gateway limited by Kong's plugin per address, with counters
// shared by its nodes: each request is counted against its user's
// windows (admit), one element of a slice made once (it hashed a map key
// twice per request).
func BenchmarkKongAdmit(b *testing.B) {
	const rate = 100_000
	k := KongLimit{Limits: resilience.FixedWindowLimits{5, 100, 0}, Cluster: true, ByIP: true}
	sp := &Spec{Name: "kong", Duration: time.Hour,
		Clients: []Client{{Name: "users", Target: "gw", Rate: rate, Keys: 10_000}},
		Services: []Service{
			{Name: "gw", Instances: 2, Workers: 1000, Queue: Unbounded, ServiceTime: mustDist("0s"),
				Gateway: &Gateway{Kong: &k}, Calls: []Call{{To: "a", Path: "/a", Weight: 1, Probability: 1, Fanout: 1}}},
			{Name: "a", Instances: 2, Workers: 1000, Queue: Unbounded, ServiceTime: mustDist("100us")},
		}}
	s, err := New(sp, 1)
	if err != nil {
		b.Fatal(err)
	}
	s.RunUntil(time.Second) // every user seen
	ev := s.Processed()
	b.ResetTimer()
	s.RunUntil(time.Second + time.Duration(float64(b.N)/rate*float64(time.Second)))
	el := b.Elapsed().Seconds()
	b.ReportMetric(float64(s.Processed()-ev)/el, "events/s")
	b.ReportMetric(float64(b.N)/el, "req/s")
}
