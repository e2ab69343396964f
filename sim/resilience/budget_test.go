package resilience

import (
	"testing"
	"time"
)

const budgetSecond = int64(time.Second)

func TestRetryBudgetShare(t *testing.T) {
	tests := []struct {
		name      string
		percent   float64
		minPerSec float64
		requests  int
		want      int // retries allowed right after the requests
	}{
		{"20% of 1000", 0.2, 0, 1000, 200},
		{"20% of 1000 plus reserve", 0.2, 10, 1000, 300},
		{"10% of 1000", 0.1, 0, 1000, 100},
		// Finagle truncates 1000/0.3 to 3333 units a retry.
		{"30% of 1000", 0.3, 0, 1000, 300},
		{"20% of 4", 0.2, 0, 4, 0},
		{"reserve only", 0, 10, 1000, 100},
		{"empty", 0, 0, 1000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewRetryBudget(tt.percent, tt.minPerSec, 10*time.Second)
			for i := range tt.requests {
				b.Deposit(int64(i) * budgetSecond / int64(tt.requests))
			}
			got := 0
			for b.TryWithdraw(budgetSecond) {
				got++
				if got > 10*tt.want+10 {
					break
				}
			}
			if got != tt.want {
				t.Errorf("%d retries allowed, want %d", got, tt.want)
			}
		})
	}
}

// TestRetryBudgetExpiry follows the balance of a budget with 20%, no
// reserve and ttl 10 s (slices of 1 s) through deposits and withdrawals.
func TestRetryBudgetExpiry(t *testing.T) {
	type step struct {
		at       int64 // ms
		deposits int
		retries  int // attempted
		allowed  int
		balance  float64 // after the step
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"deposits expire after ttl", []step{
			{at: 0, deposits: 1000, balance: 200},
			{at: 9999, balance: 200},
			{at: 10000, balance: 0},
		}},
		{"expiry is by slice", []step{
			{at: 500, deposits: 50, balance: 10},
			{at: 1999, deposits: 50, balance: 20},
			{at: 9999, balance: 20},
			{at: 10000, balance: 10},
			{at: 10999, balance: 10},
			{at: 11000, balance: 0},
		}},
		{"a retry outlives its deposit", []step{
			{at: 0, deposits: 5, balance: 1},
			{at: 5000, retries: 2, allowed: 1, balance: 0},
			{at: 10000, balance: -1},
			{at: 12000, deposits: 5, retries: 1, balance: 0},
			{at: 15000, retries: 1, allowed: 1, balance: 0},
		}},
		{"long idle clears the ring", []step{
			{at: 3000, deposits: 100, retries: 5, allowed: 5, balance: 15},
			{at: 1_000_000, balance: 0},
			{at: 1_000_500, deposits: 10, balance: 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewRetryBudget(0.2, 0, 10*time.Second)
			for _, s := range tt.steps {
				now := s.at * int64(time.Millisecond)
				for range s.deposits {
					b.Deposit(now)
				}
				allowed := 0
				for range s.retries {
					if b.TryWithdraw(now) {
						allowed++
					}
				}
				if allowed != s.allowed {
					t.Errorf("at %d ms: %d of %d retries allowed, want %d", s.at, allowed, s.retries, s.allowed)
				}
				if got := b.Balance(now); got != s.balance {
					t.Errorf("at %d ms: balance %v, want %v", s.at, got, s.balance)
				}
			}
		})
	}
}

// TestRetryBudgetReserve retries every 10 ms with no requests: the reserve
// of minPerSec * ttl retries is spent at once and refills a ttl later.
func TestRetryBudgetReserve(t *testing.T) {
	tests := []struct {
		minPerSec float64
		ttl       time.Duration
		run       int64 // s
		want      int
	}{
		{10, 10 * time.Second, 60, 600},
		{10, 10 * time.Second, 10, 100},
		{10, 10 * time.Second, 11, 200},
		{5, 2 * time.Second, 20, 100},
		{0.5, 10 * time.Second, 60, 30},
	}
	for _, tt := range tests {
		b := NewRetryBudget(0.2, tt.minPerSec, tt.ttl)
		got := 0
		for now := int64(0); now < tt.run*budgetSecond; now += 10 * int64(time.Millisecond) {
			if b.TryWithdraw(now) {
				got++
			}
		}
		if got != tt.want {
			t.Errorf("min %v/s, ttl %v, %d s: %d retries, want %d", tt.minPerSec, tt.ttl, tt.run, got, tt.want)
		}
	}
}

func TestRetryBudgetInvalid(t *testing.T) {
	tests := []struct {
		name             string
		percent, minRate float64
		ttl              time.Duration
	}{
		{"negative percent", -0.1, 10, 10 * time.Second},
		{"negative min", 0.2, -1, 10 * time.Second},
		{"zero ttl", 0.2, 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			NewRetryBudget(tt.percent, tt.minRate, tt.ttl)
		})
	}
}

func TestRetryBudgetAllocs(t *testing.T) {
	b := NewRetryBudget(0.2, 10, 10*time.Second)
	now := int64(0)
	if a := testing.AllocsPerRun(1000, func() {
		now += 37 * int64(time.Millisecond)
		b.Deposit(now)
		b.TryWithdraw(now)
		b.Balance(now)
	}); a != 0 {
		t.Errorf("%v allocations per call", a)
	}
}

// TestRetryThrottle follows gRFC A6's example configuration, maxTokens 10
// and tokenRatio 0.1.
func TestRetryThrottle(t *testing.T) {
	type step struct {
		failures, successes int
		tokens              float64
		allow               bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"4 failures leave retries on", []step{
			{failures: 4, tokens: 6, allow: true},
		}},
		{"5 failures stop retries", []step{
			{failures: 5, tokens: 5, allow: false},
		}},
		{"successes restore", []step{
			{failures: 5, tokens: 5, allow: false},
			{successes: 1, tokens: 5.1, allow: true},
			{failures: 1, tokens: 4.1, allow: false},
			{successes: 9, tokens: 5, allow: false},
			{successes: 1, tokens: 5.1, allow: true},
			{successes: 1000, tokens: 10, allow: true},
		}},
		{"floor at zero", []step{
			{failures: 50, tokens: 0, allow: false},
			{successes: 50, tokens: 5, allow: false},
			{successes: 1, tokens: 5.1, allow: true},
		}},
		{"full stays full", []step{
			{successes: 3, tokens: 10, allow: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := NewRetryThrottle(10, 0.1)
			for i, s := range tt.steps {
				for range s.failures {
					th.OnFailure()
				}
				for range s.successes {
					th.OnSuccess()
				}
				if th.Tokens() != s.tokens || th.Allow() != s.allow {
					t.Errorf("step %d: tokens %v allow %v, want %v %v", i, th.Tokens(), th.Allow(), s.tokens, s.allow)
				}
			}
		})
	}
}

func TestRetryThrottleAllocs(t *testing.T) {
	th := NewRetryThrottle(10, 0.1)
	if a := testing.AllocsPerRun(1000, func() {
		th.OnFailure()
		th.OnSuccess()
		th.Allow()
	}); a != 0 {
		t.Errorf("%v allocations per call", a)
	}
}

func TestConcurrencyBudget(t *testing.T) {
	envoy := EnvoyConcurrencyBudget()
	maxRetries := ConcurrencyBudget{MinConcurrency: 3}
	tests := []struct {
		name            string
		c               ConcurrencyBudget
		active, retries int
		wantMax         int
		wantAllow       bool
	}{
		{"idle", envoy, 0, 0, 3, true},
		{"min floor", envoy, 0, 2, 3, true},
		{"min reached", envoy, 0, 3, 3, false},
		{"14 active truncates to 2, floor 3", envoy, 14, 2, 3, true},
		{"15 active", envoy, 15, 3, 3, false},
		{"24 active truncates", envoy, 24, 3, 4, true},
		{"25 active", envoy, 25, 4, 5, true},
		{"100 active", envoy, 100, 19, 20, true},
		{"100 active, budget spent", envoy, 100, 20, 20, false},
		{"max_retries default", maxRetries, 1000, 2, 3, true},
		{"max_retries reached", maxRetries, 1000, 3, 3, false},
	}
	for _, tt := range tests {
		if got := tt.c.Max(tt.active); got != tt.wantMax {
			t.Errorf("%s: Max(%d) = %d, want %d", tt.name, tt.active, got, tt.wantMax)
		}
		if got := tt.c.Allow(tt.active, tt.retries); got != tt.wantAllow {
			t.Errorf("%s: Allow(%d, %d) = %v, want %v", tt.name, tt.active, tt.retries, got, tt.wantAllow)
		}
	}
}
