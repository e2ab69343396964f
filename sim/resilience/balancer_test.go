package resilience

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// lbHosts is a callee with n instances, some down, each with a request count.
type lbHosts struct {
	active []int
	down   []bool
	n      int // Len, at most len(active)
}

func newLBHosts(n int, down ...int) *lbHosts {
	h := &lbHosts{active: make([]int, n), down: make([]bool, n), n: n}
	for _, i := range down {
		h.down[i] = true
	}
	return h
}

func (h *lbHosts) Len() int             { return h.n }
func (h *lbHosts) Active(i int) int     { return h.active[i] }
func (h *lbHosts) Available(i int) bool { return !h.down[i] }
func (h *lbHosts) Listed() int          { return h.availableCount() }

// Version is the hosts down, one bit each for the first 64: with every
// listed host available, Pick never keeps a "none available" over it.
func (h *lbHosts) Version() (v uint64) {
	for i := range min(h.n, 64) {
		if h.down[i] {
			v |= 1 << i
		}
	}
	return v
}
func (h *lbHosts) availableCount() (n int) {
	for i := range h.n {
		if !h.down[i] {
			n++
		}
	}
	return n
}

func lbRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		in   string
		want Policy
		ok   bool
	}{
		{"round_robin", RoundRobin, true},
		{"random", Random, true},
		{"least_request", LeastRequest, true},
		{"ring_hash", RingHash, true},
		{"LEAST_REQUEST", LeastRequest, true}, // Envoy's enum spelling
		{"maglev", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParsePolicy(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParsePolicy(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok && got.String() != policyNames[got] {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
	if s := Policy(9).String(); s != "Policy(9)" {
		t.Errorf("Policy(9).String() = %q", s)
	}
}

func TestBalancerRoundRobin(t *testing.T) {
	tests := []struct {
		name string
		n    int
		down []int
	}{
		{"all up", 4, nil},
		{"one down", 5, []int{2}},
		{"ends down", 5, []int{0, 4}},
		{"one up", 3, []int{0, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newLBHosts(tt.n, tt.down...)
			b := NewBalancer(RoundRobin, 0, 0, tt.n)
			r := lbRand(1)
			prev := b.Pick(h, 0, r)
			counts := make([]int, tt.n)
			counts[prev]++
			up := h.availableCount()
			for range 3*up - 1 {
				got := b.Pick(h, 0, r)
				want := (prev + 1) % tt.n
				for h.down[want] {
					want = (want + 1) % tt.n
				}
				if got != want {
					t.Fatalf("after %d picked %d, want %d", prev, got, want)
				}
				counts[got]++
				prev = got
			}
			for i, c := range counts {
				if want := 3 * btoi(!h.down[i]); c != want {
					t.Errorf("host %d picked %d times in 3 rounds, want %d", i, c, want)
				}
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestBalancerRoundRobinCursor checks that a host coming back does not pull
// the cursor back: the rotation goes on from where it was.
func TestBalancerRoundRobinCursor(t *testing.T) {
	h := newLBHosts(5)
	b := NewBalancer(RoundRobin, 0, 0, 5)
	r := lbRand(2)
	p := b.Pick(h, 0, r)
	next := (p + 1) % 5
	h.down[next] = true
	if got, want := b.Pick(h, 0, r), (p+2)%5; got != want {
		t.Fatalf("with %d down, picked %d, want %d", next, got, want)
	}
	h.down[next] = false
	if got, want := b.Pick(h, 0, r), (p+3)%5; got != want {
		t.Fatalf("after %d came back, picked %d, want %d", next, got, want)
	}
}

// TestBalancerRoundRobinStart checks that clients do not all start on the
// same host, as Envoy seeds its round-robin index at random.
func TestBalancerRoundRobinStart(t *testing.T) {
	const n = 10
	h := newLBHosts(n)
	starts := map[int]bool{}
	for seed := range uint64(50) {
		starts[NewBalancer(RoundRobin, 0, 0, n).Pick(h, 0, lbRand(seed))] = true
	}
	// 50 uniform starts land on at most 4 of the 10 hosts with probability
	// below C(10,4) × 0.4^50 < 1e-17.
	if len(starts) < n/2 {
		t.Errorf("50 clients started on only %d distinct hosts", len(starts))
	}
}

func TestBalancerNoneAvailable(t *testing.T) {
	for p := range RingHash + 1 {
		t.Run(p.String(), func(t *testing.T) {
			b := NewBalancer(p, 0, 0, 4)
			r := lbRand(3)
			if got := b.Pick(newLBHosts(4, 0, 1, 2, 3), 7, r); got != -1 {
				t.Errorf("all down: picked %d, want -1", got)
			}
			if got := b.Pick(newLBHosts(0), 7, r); got != -1 {
				t.Errorf("no hosts: picked %d, want -1", got)
			}
		})
	}
}

// TestBalancerRandomUniform runs Pearson's chi-square test over the available
// hosts. The statistic has df = up-1 degrees of freedom, mean df and variance
// 2·df; the bound is its mean plus 5 standard deviations, which a uniform
// picker exceeds with probability below 1e-4 for these df (the chi-square
// tail is heavier than a normal one). The seeds are fixed, so the test is
// deterministic; the bound is what makes it meaningful.
func TestBalancerRandomUniform(t *testing.T) {
	tests := []struct {
		name string
		n    int
		down []int
	}{
		{"all up", 8, nil},
		{"some down", 8, []int{1, 4, 5}},
		// 98 of 100 down: rejection sampling nearly always falls back to the scan.
		{"scan", 100, seq(2, 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newLBHosts(tt.n, tt.down...)
			b := NewBalancer(Random, 0, 0, tt.n)
			r := lbRand(4)
			up := h.availableCount()
			const perHost = 10000
			counts := make([]int, tt.n)
			for range perHost * up {
				i := b.Pick(h, 0, r)
				if i < 0 || h.down[i] {
					t.Fatalf("picked unavailable host %d", i)
				}
				counts[i]++
			}
			chi2 := 0.0
			for i, c := range counts {
				if !h.down[i] {
					d := float64(c - perHost)
					chi2 += d * d / perHost
				}
			}
			df := float64(up - 1)
			if bound := df + 5*math.Sqrt(2*df); chi2 > bound {
				t.Errorf("chi-square %.1f > %.1f (df %.0f): counts %v", chi2, bound, df, counts)
			}
		})
	}
}

func seq(from, to int) []int {
	s := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// TestBalancerLeastRequest checks the power of d choices. Envoy draws the d
// hosts with replacement, so the one idle host among n equally loaded others
// is picked exactly when one of the d independent uniform draws hits it:
// P = 1 - (1 - 1/n)^d. The tolerance is 5 standard errors of a binomial
// proportion over the trials.
func TestBalancerLeastRequest(t *testing.T) {
	tests := []struct {
		choices int
		want    float64
	}{
		{1, 0.1},             // one draw: plain random
		{0, 1 - 0.9*0.9},     // the default, 2: 0.19
		{2, 1 - 0.9*0.9},     // 0.19
		{3, 1 - 0.9*0.9*0.9}, // 0.271
	}
	const n, idle, trials = 10, 6, 200000
	for _, tt := range tests {
		h := newLBHosts(n)
		for i := range h.active {
			h.active[i] = 5
		}
		h.active[idle] = 0
		b := NewBalancer(LeastRequest, tt.choices, 0, n)
		r := lbRand(5)
		hits := 0
		for range trials {
			if b.Pick(h, 0, r) == idle {
				hits++
			}
		}
		got := float64(hits) / trials
		tol := 5 * math.Sqrt(tt.want*(1-tt.want)/trials)
		if math.Abs(got-tt.want) > tol {
			t.Errorf("choices %d: idle host picked %.4f of the time, want %.4f ± %.4f", tt.choices, got, tt.want, tol)
		}
	}
}

func TestBalancerLeastRequestRules(t *testing.T) {
	tests := []struct {
		name   string
		active []int
		down   []int
		check  func(t *testing.T, got, firstDraw int)
	}{
		{
			// Equal counts: Envoy replaces the candidate only on a strict <.
			name: "tie keeps the first drawn", active: []int{3, 3, 3, 3},
			check: func(t *testing.T, got, first int) {
				if got != first {
					t.Errorf("picked %d, want the first drawn, %d", got, first)
				}
			},
		},
		{
			name: "idle host down", active: []int{4, 0, 4, 4}, down: []int{1},
			check: func(t *testing.T, got, _ int) {
				if got == 1 {
					t.Errorf("picked unavailable host 1")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newLBHosts(len(tt.active), tt.down...)
			copy(h.active, tt.active)
			b := NewBalancer(LeastRequest, 2, 0, len(tt.active))
			for seed := range uint64(100) {
				// With every host up, a draw is one IntN on the caller's
				// stream, so a twin stream shows the first draw.
				first := lbRand(seed).IntN(len(tt.active))
				tt.check(t, b.Pick(h, 0, lbRand(seed)), first)
			}
		})
	}
}

// ringKeys maps keys 0..k-1 to hosts.
func ringKeys(b *Balancer, h Hosts, k int) []int {
	got := make([]int, k)
	for key := range got {
		got[key] = b.Pick(h, uint64(key), nil)
	}
	return got
}

func TestBalancerRingHashSticky(t *testing.T) {
	h := newLBHosts(10)
	b := NewBalancer(RingHash, 0, 0, 10)
	first := ringKeys(b, h, 1000)
	again := ringKeys(b, h, 1000)
	fresh := ringKeys(NewBalancer(RingHash, 0, 0, 10), h, 1000)
	seen := map[int]bool{}
	for key := range first {
		if again[key] != first[key] || fresh[key] != first[key] {
			t.Fatalf("key %d went to %d, then %d, and %d on a new ring", key, first[key], again[key], fresh[key])
		}
		seen[first[key]] = true
	}
	if len(seen) != 10 {
		t.Errorf("1000 keys reached only %d of 10 hosts", len(seen))
	}
}

// TestBalancerRingHashRemoval checks consistent hashing: taking one host of
// n out moves only its own keys, about 1/n of them. A host's share of the
// ring is the sum of its v arcs, each about Exp(mean 1/(n·v)), so its
// standard deviation is about 1/(n·√v); over k keys the sampling adds
// √(p(1-p)/k). The tolerance is 5 of the combined standard deviations.
func TestBalancerRingHashRemoval(t *testing.T) {
	const n, v, k, gone = 10, 100, 20000, 9
	tests := []struct {
		name   string
		remove func(h *lbHosts)
	}{
		{"host down", func(h *lbHosts) { h.down[gone] = true }},
		{"scaled in", func(h *lbHosts) { h.n = gone }}, // the ring is rebuilt for 9 hosts
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newLBHosts(n)
			b := NewBalancer(RingHash, 0, v, n)
			before := ringKeys(b, h, k)
			tt.remove(h)
			after := ringKeys(b, h, k)
			moved := 0
			for key := range before {
				switch {
				case after[key] == gone:
					t.Fatalf("key %d still goes to the removed host", key)
				case before[key] != gone && after[key] != before[key]:
					t.Fatalf("key %d moved from %d to %d though its host stayed", key, before[key], after[key])
				case after[key] != before[key]:
					moved++
				}
			}
			p := 1.0 / n
			sd := math.Hypot(p/math.Sqrt(v), math.Sqrt(p*(1-p)/k))
			if got := float64(moved) / k; math.Abs(got-p) > 5*sd {
				t.Errorf("%.4f of the keys moved, want %.4f ± %.4f", got, p, 5*sd)
			}
			h.n, h.down[gone] = n, false
			for key, host := range ringKeys(b, h, k) {
				if host != before[key] {
					t.Fatalf("key %d went to %d after the host came back, was %d", key, host, before[key])
				}
			}
		})
	}
}

func TestBalancerAllocs(t *testing.T) {
	for p := range RingHash + 1 {
		t.Run(p.String(), func(t *testing.T) {
			h := newLBHosts(16, 3, 7)
			for i := range h.active {
				h.active[i] = i % 5
			}
			var hosts Hosts = h
			b := NewBalancer(p, 0, 0, 16)
			r := lbRand(6)
			key := uint64(0)
			if a := testing.AllocsPerRun(1000, func() {
				key++
				b.Pick(hosts, key, r)
			}); a != 0 {
				t.Errorf("Pick allocates %.1f times per call", a)
			}
		})
	}
}

// noneListed is a callee of n hosts of which none is in the endpoints,
// counting the questions Pick asks about single hosts.
type noneListed struct{ n, asked int }

func (h *noneListed) Len() int           { return h.n }
func (h *noneListed) Active(int) int     { h.asked++; return 0 }
func (h *noneListed) Available(int) bool { h.asked++; return false }
func (h *noneListed) Listed() int        { return 0 }
func (h *noneListed) Version() uint64    { return 0 }

// noneAvailable is a callee of n hosts, all listed and all ejected or
// unhealthy until up is set (at Version ver), counting the questions Pick
// asks about single hosts.
type noneAvailable struct {
	n, asked, up int
	ver          uint64
}

func (h *noneAvailable) Len() int       { return h.n }
func (h *noneAvailable) Active(int) int { h.asked++; return 0 }
func (h *noneAvailable) Available(i int) bool {
	h.asked++
	return i == h.up
}
func (h *noneAvailable) Listed() int     { return h.n }
func (h *noneAvailable) Version() uint64 { return h.ver }

// TestPickNoneAvailableScansOncePerChange: with every listed host ejected
// by outlier detection or unhealthy to health checks, Pick refuses (Envoy's
// "no healthy upstream", UH) after one scan, then at once, asking about no
// host, until a host's availability changes (Version): then it looks
// again and finds the host that came back. Before, every refusal asked
// about every host (round robin: n questions per refusal at 10,000 hosts).
func TestPickNoneAvailableScansOncePerChange(t *testing.T) {
	for _, p := range []Policy{RoundRobin, Random, LeastRequest, RingHash} {
		for _, n := range []int{10, 10_000} {
			b := NewBalancer(p, 0, 1, n)
			h := &noneAvailable{n: n, up: -1}
			r := lbRand(1)
			if got := b.Pick(h, 42, r); got != -1 {
				t.Fatalf("%v over %d hosts: picked %d with none available", p, n, got)
			}
			if h.asked == 0 {
				t.Errorf("%v over %d hosts: refused without looking", p, n)
			}
			h.asked = 0
			for range 3 {
				if got := b.Pick(h, 42, r); got != -1 {
					t.Fatalf("%v over %d hosts: picked %d with none available", p, n, got)
				}
			}
			if h.asked != 0 {
				t.Errorf("%v over %d hosts: 3 refusals with nothing changed asked about %d hosts, want 0", p, n, h.asked)
			}
			h.up, h.ver = n-1, 1 // a host returned
			if got := b.Pick(h, 42, r); got != n-1 {
				t.Errorf("%v over %d hosts: picked %d after host %d returned", p, n, got, n-1)
			}
		}
	}
}

// BenchmarkPickNoneAvailable measures a refusal by a callee whose listed
// hosts are all ejected or unhealthy, at 10 and 10,000 hosts: the two
// should cost the same.
func BenchmarkPickNoneAvailable(b *testing.B) {
	for _, n := range []int{10, 10_000} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			bal := NewBalancer(RoundRobin, 0, 0, n)
			h := &noneAvailable{n: n, up: -1}
			r := lbRand(1)
			for b.Loop() {
				if bal.Pick(h, 0, r) != -1 {
					b.Fatal("picked a host")
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "picks/s")
		})
	}
}

// TestPickNoneListedIsO1: with no host in the endpoints (every instance of
// the callee crashed), every policy refuses at once without asking about
// any host, whatever the host count: a crashed service of 10,000
// instances costs its callers no more per call than one of 10. Before,
// round robin asked Available of every host, and random and least_request
// drew 8 hosts and then scanned them all twice.
func TestPickNoneListedIsO1(t *testing.T) {
	for _, p := range []Policy{RoundRobin, Random, LeastRequest, RingHash} {
		for _, n := range []int{10, 10_000} {
			b := NewBalancer(p, 0, 1, n)
			h := &noneListed{n: n}
			if got := b.Pick(h, 42, lbRand(1)); got != -1 {
				t.Errorf("%v over %d hosts: picked %d, want -1", p, n, got)
			}
			if h.asked != 0 {
				t.Errorf("%v over %d hosts: asked about %d hosts, want 0", p, n, h.asked)
			}
		}
	}
}

// BenchmarkPickNoneListed measures a refusal by a callee with no host in
// the endpoints, at 10 and 10,000 hosts: the two should cost the same.
func BenchmarkPickNoneListed(b *testing.B) {
	for _, n := range []int{10, 10_000} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			bal := NewBalancer(RoundRobin, 0, 0, n)
			h := &noneListed{n: n}
			r := lbRand(1)
			for b.Loop() {
				if bal.Pick(h, 0, r) != -1 {
					b.Fatal("picked a host")
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "picks/s")
		})
	}
}
