package sim

import (
	"fmt"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/faultline/faultline/sim/dist"
	"github.com/faultline/faultline/sim/resilience"
)

func mustDist(s string) dist.Dist {
	d, err := dist.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// wide is one service of n instances of 4 workers behind one client: the
// shape whose set-up and faults must cost linear time in n.
func wide(n int, rate float64, st string, d time.Duration) *Spec {
	return &Spec{Name: "wide", Duration: d,
		Clients:  []Client{{Name: "c", Target: "api", Rate: rate}},
		Services: []Service{{Name: "api", Instances: n, Workers: 4, Queue: 10, ServiceTime: mustDist(st)}}}
}

// BenchmarkSetup100k sets up one service of 100,000 instances: set-up must
// be linear in instances (it was quadratic: 42 s).
func BenchmarkSetup100k(b *testing.B) {
	const n = 100_000
	sp := wide(n, 100, "10ms", time.Second)
	for b.Loop() {
		if _, err := New(sp, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/instance")
}

// BenchmarkCrashHalf20k crashes half of 20,000 instances, each holding
// requests, every second for 10 s: a crash must cost linear time in the
// instances it hits and the requests they hold.
func BenchmarkCrashHalf20k(b *testing.B) {
	sp := wide(20000, 20000, "1s", 10*time.Second)
	sp.Faults = []Fault{{Kind: FaultCrash, Target: "api", Share: 0.5, Duration: 500 * time.Millisecond, Every: time.Second}}
	var events uint64
	for b.Loop() {
		s, err := New(sp, 1)
		if err != nil {
			b.Fatal(err)
		}
		s.Run()
		events += s.Processed()
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// many is n services of one instance each, each called by its own client.
func many(n int) *Spec {
	sp := &Spec{Name: "many", Duration: time.Second}
	st := mustDist("exp(5ms)")
	for i := range n {
		name := fmt.Sprintf("s%d", i)
		sp.Services = append(sp.Services, Service{Name: name, Instances: 1, Workers: 4, Queue: 10, ServiceTime: st})
		sp.Clients = append(sp.Clients, Client{Name: "c" + name, Target: name, Rate: 1})
	}
	return sp
}

func heapAfter(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.GC()
	runtime.ReadMemStats(&b)
	return b.HeapAlloc - a.HeapAlloc
}

// TestMemoryPerService checks that a service costs at most 20 KB at rest
// (set up, one instance, with its client) and after a second of traffic:
// the latency histograms allocate the octaves they use, not all 57 of
// them (which took about 230 KB per service and 115 KB per client).
func TestMemoryPerService(t *testing.T) {
	const n = 2000
	sp := many(n)
	var s *Sim
	rest := heapAfter(func() { s, _ = New(sp, 1) }) / n
	run := heapAfter(func() { s.Run() }) / n
	runtime.KeepAlive(s)
	t.Logf("%d B per service at rest, %d B more after a run", rest, run)
	if rest > 20_000 || rest+run > 20_000 {
		t.Errorf("%d B per service at rest and %d B after a run, want at most 20,000", rest, rest+run)
	}
}

// BenchmarkMemory10kServices reports the heap that 10,000 services of one
// instance each, with a client each, take after set-up and after a run.
func BenchmarkMemory10kServices(b *testing.B) {
	const n = 10_000
	sp := many(n)
	for b.Loop() {
		var s *Sim
		rest := heapAfter(func() { s, _ = New(sp, 1) })
		run := heapAfter(func() { s.Run() })
		runtime.KeepAlive(s)
		b.ReportMetric(float64(rest)/n, "B/service")
		b.ReportMetric(float64(rest+run)/n, "B/service-run")
		b.ReportMetric(float64(rest+run)/1e6, "MB")
	}
}

// BenchmarkMemoryInFlight holds about a million requests in flight: one
// worker whose first request takes an hour, and an unbounded queue fed at
// a million requests a second. It reports the heap per request in flight
// (its slot, its queue entry, its events).
func BenchmarkMemoryInFlight(b *testing.B) {
	sp := &Spec{Name: "inflight", Duration: time.Hour,
		Clients:  []Client{{Name: "c", Target: "slow", Rate: 1e6}},
		Services: []Service{{Name: "slow", Instances: 1, Workers: 1, Queue: Unbounded, ServiceTime: mustDist("1h")}}}
	for b.Loop() {
		s, err := New(sp, 1)
		if err != nil {
			b.Fatal(err)
		}
		h := heapAfter(func() { s.RunUntil(time.Second) })
		live := s.reqs.live
		runtime.KeepAlive(s)
		b.ReportMetric(float64(live), "in-flight")
		b.ReportMetric(float64(h)/float64(live), "B/request")
	}
}

// TestSeriesReservedWithinBudget: the series are made as long as the run
// only when all of them fit its memory budget; a run of more windows than
// the budget holds (a millisecond window over a thousand hours: 3.6e9 per
// series) grows its series as it goes, for the budget to stop, and does
// not try to allocate them at its start.
func TestSeriesReservedWithinBudget(t *testing.T) {
	for _, tc := range []struct {
		name             string
		duration, window time.Duration
		memory           int64
		want             int
	}{
		{"an hour of seconds", time.Hour, time.Second, 0, 3600},
		{"a thousand hours of milliseconds", 1000 * time.Hour, time.Millisecond, 0, 0},
		{"an hour of seconds past a 1 MiB budget", time.Hour, time.Second, 1 << 20, 0}, // 4 x 3600 x 312 B
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := many(2)
			sp.Duration, sp.Window, sp.Memory = tc.duration, tc.window, tc.memory
			var s *Sim
			heap := heapAfter(func() {
				var err error
				if s, err = New(sp, 1); err != nil {
					t.Fatal(err)
				}
			})
			for _, ws := range [][]Window{s.clients[0].series, s.clients[1].series, s.services[0].series, s.services[1].series} {
				if cap(ws) != tc.want {
					t.Errorf("room for %d windows, want %d", cap(ws), tc.want)
				}
			}
			// (heapAfter's difference wraps when the heap shrank: signed.)
			if limit := int64(tc.want)*4*windowBytes + 1<<20; int64(heap) > limit {
				t.Errorf("set-up took %d B, want at most %d", heap, limit)
			}
		})
	}
}

// BenchmarkMemoryLongRun reports the heap that an hour of 1 s windows
// takes per window: a chain of 20 services (20 services, 19 calls and a
// client: 40 series, 144,000 windows) at 5 requests a second, and the
// bytes the run allocated in all, copies of growing series included.
func BenchmarkMemoryLongRun(b *testing.B) {
	sp := chain10(time.Hour)
	sp.Services = nil
	for i := range 20 {
		sv := Service{Name: fmt.Sprintf("s%d", i), Instances: 1, Workers: 4, Queue: 10, ServiceTime: mustDist("exp(1ms)")}
		if i < 19 {
			sv.Calls = []Call{{To: fmt.Sprintf("s%d", i+1), Probability: 1, Fanout: 1}}
		}
		sp.Services = append(sp.Services, sv)
	}
	sp.Clients[0].Rate = 5
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s, err := New(sp, 1)
		if err != nil {
			b.Fatal(err)
		}
		res := s.Run()
		runtime.GC()
		runtime.ReadMemStats(&after)
		windows := 0
		for _, c := range res.Clients {
			windows += len(c.Series)
		}
		for _, c := range res.Components {
			windows += len(c.Series)
		}
		for _, e := range res.Edges {
			windows += len(e.Series)
		}
		runtime.KeepAlive(res)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(windows), "B/window")
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/1e6, "MB-allocated")
	}
}

// TestNoEdgeSeriesBudget: a run that keeps no edge series reserves no
// windows for its edges and counts none in its memory budget; its edges'
// counters at each window's close (the recoveries read them) are kept all
// the same. A chain of 10 services (a client, 10 services, 9 edges) over
// 60 one-second windows.
func TestNoEdgeSeriesBudget(t *testing.T) {
	const windows = 60
	for _, tc := range []struct {
		name    string
		off     bool
		series  int64 // series that hold windows
		edgeCap int   // room for windows in an edge's series
	}{
		{"edge series kept", false, 1 + 10 + 9, windows},
		{"edge series off", true, 1 + 10, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := chain10(windows * time.Second)
			sp.Clients[0].Rate = 100
			sp.NoEdgeSeries = tc.off
			s, err := New(sp, 1)
			if err != nil {
				t.Fatal(err)
			}
			e := &s.services[0].calls[0]
			if cap(e.series) != tc.edgeCap || cap(e.marks) != windows {
				t.Errorf("room for %d windows and %d marks on an edge, want %d and %d", cap(e.series), cap(e.marks), tc.edgeCap, windows)
			}
			s.Run()
			if g := s.growths()[2]; g.n != tc.series*windows || g.bytes != tc.series*windows*windowBytes {
				t.Errorf("budget counts %d windows (%d B), want %d", g.n, g.bytes, tc.series*windows)
			}
			if n := len(e.series); n != tc.edgeCap {
				t.Errorf("%d windows in an edge's series after the run, want %d", n, tc.edgeCap)
			}
			if n := len(e.marks); n != windows {
				t.Errorf("%d marks on an edge after the run, want %d", n, windows)
			}
		})
	}
}

// BenchmarkRefusalOrigin calls a service of n instances that fails
// every request (its own errors, no fault) through a circuit breaker
// that has opened: each call is refused at the breaker, and its origin
// traced (serviceOrigin). The cost per refusal must not depend on the
// callee's instances: it walked all of them on every refusal (at 10,000
// instances about 100 times the cost at 10: 60-90 us against 0.7 us).
func BenchmarkRefusalOrigin(b *testing.B) {
	for _, n := range []int{10, 10_000} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			const rate = 100_000
			br := resilience.DefaultBreakerConfig() // open for 60 s
			sp := wide(n, rate, "1ms", time.Minute)
			sp.Services[0].Errors = 1
			sp.Clients[0].Target = "front"
			sp.Services = append(sp.Services, Service{Name: "front", Instances: 1, Workers: 100, Queue: Unbounded, ServiceTime: mustDist("0s"),
				Calls: []Call{{To: "api", Probability: 1, Fanout: 1, Breaker: &br}}})
			s, err := New(sp, 1)
			if err != nil {
				b.Fatal(err)
			}
			const warm = 100 * time.Millisecond // the breaker opens after 100 calls
			s.RunUntil(warm)
			ev := s.Processed()
			b.ResetTimer()
			s.RunUntil(warm + time.Duration(float64(b.N)/rate*float64(time.Second)))
			el := b.Elapsed().Seconds()
			b.ReportMetric(float64(s.Processed()-ev)/el, "events/s")
			b.ReportMetric(float64(b.N)/el, "req/s")
		})
	}
}

// TestEdgeMarkSize: every edge keeps a mark of its counters for every
// window of the run, so a mark holds them modulo 2^32 in 12 bytes (it
// took 24), and the difference of two is still exact across a wrap.
func TestEdgeMarkSize(t *testing.T) {
	if n := unsafe.Sizeof(edgeMark{}); n != 12 {
		t.Errorf("an edge mark takes %d bytes, want 12", n)
	}
	before, after := uint64(1)<<32-10, uint64(1)<<32+5 // cumulative calls
	a, b := edgeMark{calls: uint32(before)}, edgeMark{calls: uint32(after)}
	if d := b.calls - a.calls; d != 15 {
		t.Errorf("calls between marks across a wrap: %d, want 15", d)
	}
}
