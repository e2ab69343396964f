package sim_test

import (
	"math"
	"testing"
	"time"

	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/dist"
)

func mustDist(t testing.TB, s string) dist.Dist {
	t.Helper()
	d, err := dist.Parse(s)
	if err != nil {
		t.Fatalf("dist.Parse(%q): %v", s, err)
	}
	return d
}

// erlangC is the probability that an arrival waits in an M/M/c queue with
// offered load a = lambda/mu (reference.md).
func erlangC(c int, a float64) float64 {
	term, sum := 1.0, 0.0 // term = a^k / k!
	for k := 0; k < c; k++ {
		sum += term
		term *= a / float64(k+1)
	}
	top := term * float64(c) / (float64(c) - a)
	return top / (sum + top)
}

// mmc runs an M/M/c queue: Poisson arrivals at lambda per second, c workers,
// exponential service with mean 1/mu.
func mmc(t *testing.T, lambda, mu float64, c int, d time.Duration, seed uint64) (*sim.Result, *sim.Sim) {
	t.Helper()
	spec := &sim.Spec{
		Name: "mmc", Duration: d, Warmup: 20 * time.Second,
		Clients: []sim.Client{{Name: "arrivals", Target: "server", Rate: lambda}},
		Services: []sim.Service{{
			Name: "server", Instances: 1, Workers: c, Queue: sim.Unbounded,
			ServiceTime: mustDist(t, "exp("+time.Duration(1e9/mu).String()+")"),
		}},
	}
	s, err := sim.New(spec, seed)
	if err != nil {
		t.Fatal(err)
	}
	res := s.Run()
	if err := res.CheckConservation(); err != nil {
		t.Fatal(err)
	}
	return res, s
}

// TestQueueingTheory checks the mean time in system of M/M/1 and M/M/c
// against the closed forms of reference.md, and Little's law on the same
// measurements. Run lengths are chosen so that the standard error of the
// mean is about a third of the tolerance (M/M/1 at rho = 0.9 needs millions
// of customers: its waiting times are strongly autocorrelated).
func TestQueueingTheory(t *testing.T) {
	if testing.Short() {
		t.Skip("long validation run")
	}
	tests := []struct {
		name   string
		lambda float64
		mu     float64
		c      int
		d      time.Duration
	}{
		{"M/M/1 rho=0.5", 500, 1000, 1, 400 * time.Second},
		{"M/M/1 rho=0.9", 900, 1000, 1, 4000 * time.Second},
		{"M/M/4 rho=0.9", 3600, 1000, 4, 1000 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, _ := mmc(t, tt.lambda, tt.mu, tt.c, tt.d, 1)
			a := tt.lambda / tt.mu
			wantW := erlangC(tt.c, a)/(float64(tt.c)*tt.mu-tt.lambda) + 1/tt.mu
			gotW := res.Clients[0].Latency.Mean / 1e3
			if rel := math.Abs(gotW-wantW) / wantW; rel > 0.03 {
				t.Errorf("mean time in system %.4gms, theory %.4gms (%.1f%% off, want <= 3%%)", gotW*1e3, wantW*1e3, rel*100)
			}
			sv := res.Components[0]
			if want := a / float64(tt.c); math.Abs(sv.Utilisation-want) > 0.01 {
				t.Errorf("utilisation %.4f, want %.4f", sv.Utilisation, want)
			}
			// Little's law: L = lambda * W, both measured over the same
			// window after warmup.
			lambda := float64(sv.Arrivals) / (res.DurationS - res.WarmupS)
			L := lambda * sv.Latency.Mean / 1e3
			if rel := math.Abs(sv.InSystemMean-L) / L; rel > 0.02 {
				t.Errorf("Little's law: L = %.4f measured, lambda*W = %.4f (%.2f%% off, want <= 2%%)", sv.InSystemMean, L, rel*100)
			}
			// A stable queue holds a handful of requests at the end, not a
			// backlog: requests that vanish would show up here.
			if n := res.Clients[0].InFlight; n > 200 {
				t.Errorf("%d requests still in flight at the end", n)
			}
		})
	}
}

// TestFanoutTail runs the built-in fanout scenario: a request waiting for 100
// leaves, each slower than its p99 one time in a hundred, is slower than the
// leaves' p99 with probability 1 - 0.99^100 = 63.4% (The Tail at Scale).
func TestFanoutTail(t *testing.T) {
	name, data, err := scenarios.Open("fanout")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := scenarios.Load(name, data)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(spec, spec.Seed)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run().CheckConservation(); err != nil {
		t.Fatal(err)
	}
	leafP99 := s.Latencies("leaf").Quantile(0.99)
	users := s.Latencies("users")
	share := float64(users.CountAbove(leafP99)) / float64(users.Count())
	want := 1 - math.Pow(0.99, 100)
	if math.Abs(share-want) > 0.02 {
		t.Errorf("%.1f%% of requests slower than the leaves' p99 (%v), want %.1f%% +- 2 points",
			share*100, time.Duration(leafP99), want*100)
	}
}

// TestAsyncOwnTimeMMc: at an async service whose requests work first
// (after_calls = 0) and then wait on a call of a constant 200 ms, the
// workers serve only the own work: an M/M/c queue (reference.md), so the
// time in system is the M/M/c one plus the 200 ms, utilisation is a/c, and
// Little's law holds over every request held, waiting on the call or not.
func TestAsyncOwnTimeMMc(t *testing.T) {
	if testing.Short() {
		t.Skip("long validation run")
	}
	const lambda, mu, c = 1400.0, 1000.0, 2
	spec := &sim.Spec{
		Name: "async mmc", Duration: 220 * time.Second, Warmup: 20 * time.Second,
		Clients: []sim.Client{{Name: "arrivals", Target: "server", Rate: lambda}},
		Services: []sim.Service{{
			Name: "server", Instances: 1, Workers: c, Queue: sim.Unbounded, Async: true,
			ServiceTime: mustDist(t, "exp(1ms)"),
			Calls:       []sim.Call{{To: "back", Probability: 1, Fanout: 1}},
		}, {
			Name: "back", Instances: 1, Workers: 1000, Queue: sim.Unbounded,
			ServiceTime: mustDist(t, "200ms"),
		}},
	}
	s, err := sim.New(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	res := s.Run()
	if err := res.CheckConservation(); err != nil {
		t.Fatal(err)
	}
	a := lambda / mu
	wantW := erlangC(c, a)/(c*mu-lambda) + 1/mu
	sv := res.Components[0]
	gotW := sv.Latency.Mean/1e3 - 0.2
	if rel := math.Abs(gotW-wantW) / wantW; rel > 0.03 {
		t.Errorf("mean time in system less the call %.4gms, M/M/%d theory %.4gms (%.1f%% off, want <= 3%%)", gotW*1e3, c, wantW*1e3, rel*100)
	}
	if want := a / c; math.Abs(sv.Utilisation-want) > 0.01 {
		t.Errorf("utilisation %.4f, want %.4f", sv.Utilisation, want)
	}
	arrivals := float64(sv.Arrivals) / (res.DurationS - res.WarmupS)
	if L := arrivals * sv.Latency.Mean / 1e3; math.Abs(sv.InSystemMean-L)/L > 0.02 {
		t.Errorf("Little's law: L = %.4f measured, lambda*W = %.4f", sv.InSystemMean, L)
	}
}
