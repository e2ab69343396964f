package resilience

import (
	"math"
	"testing"
	"time"
)

func TestTokenBucketSteps(t *testing.T) {
	type step struct {
		at       int64 // ms
		requests int
		allowed  int
		tokens   float64 // after the step
	}
	tests := []struct {
		name  string
		rps   float64
		burst int
		steps []step
	}{
		{"burst then steady", 10, 5, []step{
			{at: 0, requests: 7, allowed: 5, tokens: 0},
			{at: 50, requests: 1, allowed: 0, tokens: 0.5},
			{at: 100, requests: 2, allowed: 1, tokens: 0},
			{at: 200, requests: 1, allowed: 1, tokens: 0},
			{at: 300, requests: 1, allowed: 1, tokens: 0},
		}},
		{"refills up to burst only", 10, 5, []step{
			{at: 0, requests: 5, allowed: 5, tokens: 0},
			{at: 60_000, tokens: 5},
			{at: 60_000, requests: 6, allowed: 5, tokens: 0},
		}},
		{"time going back refills nothing", 10, 2, []step{
			{at: 1000, requests: 2, allowed: 2, tokens: 0},
			{at: 500, requests: 1, allowed: 0, tokens: 0},
			{at: 1100, requests: 1, allowed: 1, tokens: 0},
		}},
		{"fractional rate", 0.5, 1, []step{
			{at: 0, requests: 1, allowed: 1, tokens: 0},
			{at: 1000, requests: 1, allowed: 0, tokens: 0.5},
			{at: 2000, requests: 1, allowed: 1, tokens: 0},
		}},
		{"no refill", 0, 3, []step{
			{at: 0, requests: 2, allowed: 2, tokens: 1},
			{at: 3_600_000, requests: 2, allowed: 1, tokens: 0},
		}},
		{"zero burst", 100, 0, []step{
			{at: 0, requests: 1, allowed: 0, tokens: 0},
			{at: 1000, requests: 1, allowed: 0, tokens: 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewTokenBucket(tt.rps, tt.burst)
			if got := b.Tokens(0); got != float64(tt.burst) {
				t.Fatalf("starts with %v tokens, want %d", got, tt.burst)
			}
			for _, s := range tt.steps {
				now := s.at * int64(time.Millisecond)
				allowed := 0
				for range s.requests {
					if b.Allow(now) {
						allowed++
					}
				}
				if allowed != s.allowed {
					t.Errorf("at %d ms: %d of %d allowed, want %d", s.at, allowed, s.requests, s.allowed)
				}
				if got := b.Tokens(now); math.Abs(got-s.tokens) > 1e-9 {
					t.Errorf("at %d ms: %v tokens, want %v", s.at, got, s.tokens)
				}
			}
		})
	}
}

// TestTokenBucketLongRun sends requests evenly spaced (to the nanosecond)
// for an hour of virtual time at a multiple of the bucket's rate.
func TestTokenBucketLongRun(t *testing.T) {
	const hour = 3600.0
	tests := []struct {
		rps   float64
		burst int
		load  float64 // offered rate / rps
	}{
		{100, 1, 1},
		{100, 10, 2},
		{1000, 1, 1},
		{1000, 50, 2},
		{3, 2, 1}, // spacing 333333333.3 ns: rounded to whole ns
		{3, 2, 2},
		{0.5, 1, 1},
		{0.5, 1, 2},
		{7919, 3, 1},
		{7919, 3, 2},
	}
	for _, tt := range tests {
		b := NewTokenBucket(tt.rps, tt.burst)
		n := int(math.Round(hour * tt.rps * tt.load))
		allowed := 0
		for i := range n {
			if b.Allow(int64(float64(i) * 1e9 / (tt.rps * tt.load))) {
				allowed++
			}
		}
		rejected := float64(n-allowed) / float64(n)
		if wantRej := 1 - 1/tt.load; math.Abs(rejected-wantRej) > 0.001 {
			t.Errorf("rps %v burst %d at %vx: %.5f rejected, want %.3f", tt.rps, tt.burst, tt.load, rejected, wantRej)
		}
		// Exactly: at the rate nothing is rejected; above it the bucket
		// grants its burst plus rps per second of the run, give or take
		// the fraction of a token the last interval leaves.
		want := n
		if tt.load > 1 {
			want = tt.burst + int(hour*tt.rps)
		}
		if allowed < want-1 || allowed > want {
			t.Errorf("rps %v burst %d at %vx: %d of %d allowed, want %d", tt.rps, tt.burst, tt.load, allowed, n, want)
		}
	}
}

func TestTokenBucketAllocs(t *testing.T) {
	b := NewTokenBucket(100, 10)
	now := int64(0)
	if a := testing.AllocsPerRun(1000, func() {
		now += 3 * int64(time.Millisecond)
		b.Allow(now)
		b.Tokens(now)
	}); a != 0 {
		t.Errorf("%v allocations per call", a)
	}
}

// TestFillBucketSteps: Envoy's bucket gains tokens_per_fill at each tick of
// its fill timer, started when the bucket is created, and nothing between
// ticks (local_ratelimit_impl.cc, onFillTimer); it holds at most
// max_tokens, and a restart fills it and restarts the timer.
func TestFillBucketSteps(t *testing.T) {
	const ms = int64(1e6)
	b := NewFillBucket(3, 2, 1000*ms, 100*ms) // created at 100ms: ticks at 1.1s, 2.1s, ...
	for i := range 3 {
		if !b.Allow(200 * ms) {
			t.Fatalf("request %d of the first 3 refused: the bucket starts full", i+1)
		}
	}
	for _, tt := range []struct {
		at     int64
		tokens float64
	}{
		{200 * ms, 0},
		{1099 * ms, 0}, // no continuous refill before the tick
		{1100 * ms, 2}, // the first tick
		{2099 * ms, 2},
		{3100 * ms, 3}, // two more ticks, capped at max_tokens
	} {
		if got := b.Tokens(tt.at); got != tt.tokens {
			t.Errorf("tokens at %dms: %v, want %v", tt.at/ms, got, tt.tokens)
		}
	}
	b.Allow(1500 * ms) // takes one of the tick at 1.1s
	if got := b.Tokens(2000 * ms); got != 1 {
		t.Errorf("tokens at 2s: %v, want 1", got)
	}
	b.Restart(2050 * ms) // full again, its next tick at 3.05s
	if got := b.Tokens(3049 * ms); got != 3 {
		t.Errorf("tokens after a restart: %v, want 3", got)
	}
	for range 3 {
		b.Allow(3049 * ms)
	}
	if b.Allow(3049*ms) || b.Tokens(3050*ms) != 2 {
		t.Errorf("after a restart at 2.05s: tokens at 3.05s %v, want 2 (the restarted timer's first tick)", b.Tokens(3050*ms))
	}
}
