package resilience

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func retryRand() *rand.Rand { return rand.New(rand.NewPCG(42, 0xbac0ff)) }

func TestJitterNames(t *testing.T) {
	tests := []struct {
		in     string
		want   Jitter
		wantOK bool
	}{
		{"none", JitterNone, true},
		{"full", JitterFull, true},
		{"equal", JitterEqual, true},
		{"decorrelated", JitterDecorrelated, true},
		{"envoy", JitterEnvoy, true},
		{"Full", JitterFull, true},
		{"DECORRELATED", JitterDecorrelated, true},
		{"", 0, false},
		{"exponential", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseJitter(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseJitter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
		if ok && got.String() != jitterNames[got] {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
	for j := range Jitter(len(jitterNames)) {
		if back, ok := ParseJitter(j.String()); !ok || back != j {
			t.Errorf("ParseJitter(%q) = %v, %v; want %v", j.String(), back, ok, j)
		}
	}
	if got := Jitter(9).String(); got != "Jitter(9)" {
		t.Errorf("Jitter(9).String() = %q", got)
	}
}

// TestJitterDistribution draws 100k sleeps per case and checks their range
// and mean against the formula (all in milliseconds).
func TestJitterDistribution(t *testing.T) {
	const draws = 100_000
	exp := func(j Jitter) Backoff {
		return Backoff{Base: 100 * time.Millisecond, Cap: 10 * time.Second, Multiplier: 2, Jitter: j}
	}
	ms := int64(time.Millisecond)
	tests := []struct {
		name         string
		b            Backoff
		n            int
		prev         int64
		lo, hi, mean float64
	}{
		{"none first", exp(JitterNone), 0, 0, 100, 100, 100},
		{"none n=3", exp(JitterNone), 3, 0, 800, 800, 800},
		{"none capped", exp(JitterNone), 10, 0, 10000, 10000, 10000},
		{"full first", exp(JitterFull), 0, 0, 0, 100, 50},
		{"full n=4", exp(JitterFull), 4, 0, 0, 1600, 800},
		{"full capped", exp(JitterFull), 20, 0, 0, 10000, 5000},
		{"equal first", exp(JitterEqual), 0, 0, 50, 100, 75},
		{"equal n=4", exp(JitterEqual), 4, 0, 800, 1600, 1200},
		{"equal capped", exp(JitterEqual), 20, 0, 5000, 10000, 7500},
		{"decorrelated first", exp(JitterDecorrelated), 0, 0, 100, 300, 200},
		{"decorrelated prev 1s", exp(JitterDecorrelated), 5, 1000 * ms, 100, 3000, 1550},
		// min(10000, U(100, 15000)): uniform below the cap, the rest at it.
		{"decorrelated capped", exp(JitterDecorrelated), 5, 5000 * ms, 100, 10000,
			9900.0/14900*(100+10000)/2 + 5000.0/14900*10000},
		{"constant", Backoff{Base: 100 * time.Millisecond}, 7, 0, 100, 100, 100},
		{"constant full", Backoff{Base: 100 * time.Millisecond, Multiplier: 1, Jitter: JitterFull}, 7, 0, 0, 100, 50},
		{"multiplier 1.5", Backoff{Base: 100 * time.Millisecond, Multiplier: 1.5, Jitter: JitterEqual}, 2, 0, 112.5, 225, 168.75},
		// Envoy's JitteredExponentialBackOffStrategy: [0, 25 ms x 2^(N-1))
		// for retry N, the interval held at max_interval 250 ms.
		{"envoy retry 1", EnvoyBackoff(), 0, 0, 0, 25, 12.5},
		{"envoy retry 2", EnvoyBackoff(), 1, 0, 0, 50, 25},
		{"envoy retry 3", EnvoyBackoff(), 2, 0, 0, 100, 50},
		{"envoy retry 4", EnvoyBackoff(), 3, 0, 0, 200, 100},
		{"envoy retry 5 capped", EnvoyBackoff(), 4, 0, 0, 250, 125},
		{"envoy retry 10", EnvoyBackoff(), 9, 0, 0, 250, 125},
		{"envoy linear", Backoff{Base: 10 * time.Millisecond, Multiplier: 1, Jitter: JitterEnvoy}, 3, 0, 0, 10, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := retryRand()
			lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
			for range draws {
				d := float64(tt.b.Delay(tt.n, tt.prev, r)) / float64(ms)
				lo, hi, sum = min(lo, d), max(hi, d), sum+d
			}
			mean := sum / draws
			// 1% of the width is over ten standard errors of the mean, and
			// 100k draws come that close to both ends of a uniform.
			tol := 0.01 * (tt.hi - tt.lo)
			if lo < tt.lo || hi > tt.hi {
				t.Errorf("range [%v, %v] outside [%v, %v]", lo, hi, tt.lo, tt.hi)
			}
			if lo-tt.lo > tol || tt.hi-hi > tol {
				t.Errorf("range [%v, %v] does not fill [%v, %v]", lo, hi, tt.lo, tt.hi)
			}
			if math.Abs(mean-tt.mean) > tol {
				t.Errorf("mean %v, want %v ± %v", mean, tt.mean, tol)
			}
		})
	}
}

func TestBackoffOverflow(t *testing.T) {
	backoffs := []Backoff{
		{Base: time.Second, Multiplier: 2},
		{Base: time.Second, Multiplier: 10, Jitter: JitterFull},
		{Base: time.Second, Multiplier: 2, Jitter: JitterEqual},
		{Base: time.Second, Multiplier: 2, Jitter: JitterDecorrelated},
		{Base: time.Second, Multiplier: 2, Jitter: JitterEnvoy},
		{Base: time.Second, Multiplier: 1, Jitter: JitterEnvoy},
		{Base: time.Hour, Cap: 30 * time.Second, Multiplier: 2},
		{Base: time.Second, Cap: 30 * time.Second, Multiplier: 3, Jitter: JitterFull},
		{Base: time.Second, Cap: 30 * time.Second, Multiplier: 2, Jitter: JitterEqual},
		{Base: time.Second, Cap: 30 * time.Second, Jitter: JitterDecorrelated},
		{Base: time.Second, Cap: 30 * time.Second, Multiplier: 2, Jitter: JitterEnvoy},
		{Base: math.MaxInt64, Multiplier: math.MaxFloat64, Jitter: JitterEnvoy},
		{Base: time.Second, Multiplier: math.Inf(1), Jitter: JitterEnvoy},
		{Multiplier: 2, Jitter: JitterFull},
	}
	r := retryRand()
	for _, b := range backoffs {
		for _, n := range []int{1000, math.MaxInt32} {
			for _, prev := range []int64{0, int64(time.Second), math.MaxInt64} {
				for range 100 {
					d := b.Delay(n, prev, r)
					if d < 0 || d > maxDelay || (b.Cap > 0 && d > int64(b.Cap)) {
						t.Fatalf("%+v.Delay(%d, %d) = %d", b, n, prev, d)
					}
				}
			}
		}
	}
	// Without jitter or a cap the delay saturates rather than wrapping.
	if d := (Backoff{Base: time.Second, Multiplier: 2}).Delay(1000, 0, r); d != maxDelay {
		t.Errorf("uncapped n=1000: %d, want %d", d, int64(maxDelay))
	}
}

func TestEnvoyBackoff(t *testing.T) {
	want := Backoff{Base: 25 * time.Millisecond, Cap: 250 * time.Millisecond, Multiplier: 2, Jitter: JitterEnvoy}
	if got := EnvoyBackoff(); got != want {
		t.Errorf("EnvoyBackoff() = %+v, want %+v", got, want)
	}
}

func TestBackoffAllocs(t *testing.T) {
	r := retryRand()
	for j := range Jitter(len(jitterNames)) {
		b := Backoff{Base: 10 * time.Millisecond, Cap: time.Second, Multiplier: 2, Jitter: j}
		var prev int64
		n := 0
		if a := testing.AllocsPerRun(1000, func() {
			prev = b.Delay(n%8, prev, r)
			n++
		}); a != 0 {
			t.Errorf("%v: %v allocations per Delay", j, a)
		}
	}
}
