package resilience

import (
	"fmt"
	"math"
	"time"
)

// budgetSlices is how many slices a RetryBudget cuts its ttl into: Finagle's
// WindowedAdder uses 10, so a deposit lives between 0.9 and 1 ttl.
const budgetSlices = 10

// budgetScale is Finagle's ScaleFactor: a request deposits 1000 units and a
// retry costs 1000/percent of them, so that the accounting is in integers
// and 1000 requests at 20% pay for exactly 200 retries, with no rounding.
const budgetScale = 1000

// RetryBudget is Finagle's retry budget (com.twitter.finagle.service.
// RetryBudget, the TokenRetryBudget over a leaky TokenBucket): retries may
// add percentCanRetry of the requests made within the last ttl, plus
// minRetriesPerSec * ttl retries that are always available.
//
// Every request deposits budgetScale units, a retry withdraws
// budgetScale/percent units (truncated, as Finagle does, and at least 1),
// and the reserve minRetriesPerSec * ttl retries' worth is added to the
// balance. Deposits and withdrawals both expire after ttl: an expired
// deposit stops paying for retries, and an expired withdrawal gives its
// units back, which is how the reserve refills. So the balance goes negative
// when retries outlive the deposits that paid for them, as in Finagle.
//
// Like Finagle's WindowedAdder the window is a ring of 10 slices of ttl/10,
// and an entry expires when its slice leaves the ring: after between 0.9 and
// 1 ttl. Finagle starts a new slice at the first operation after the old one
// ended; here slices are aligned to multiples of ttl/10 from time 0, so that
// expiry does not depend on when the budget happens to be consulted.
type RetryBudget struct {
	deposit, withdrawal, reserve int64 // units

	width int64 // of a slice, in ns
	slice int64 // the newest slice in the ring: now/width at the last call
	sum   int64 // of ring
	ring  [budgetSlices]int64
}

// NewRetryBudget returns an empty budget. percent is a fraction (0.2 = 20%,
// Finagle's default; Finagle allows up to 1000), minPerSec is
// minRetriesPerSec (Finagle's default 10), ttl Finagle's ttl (10 s by
// default; Finagle requires 1 to 60 s, any ttl of at least 10 ns works here).
// With percent 0 retries cost 1 unit and are paid from the reserve alone.
func NewRetryBudget(percent, minPerSec float64, ttl time.Duration) *RetryBudget {
	if !(percent >= 0) || !(minPerSec >= 0) || ttl < budgetSlices {
		panic(fmt.Sprintf("resilience: invalid retry budget (percent %v, min %v/s, ttl %v)", percent, minPerSec, ttl))
	}
	b := &RetryBudget{width: int64(ttl) / budgetSlices, withdrawal: 1}
	if percent > 0 {
		b.deposit = budgetScale
		b.withdrawal = max(1, int64(budgetScale/percent))
	}
	b.reserve = int64(minPerSec * ttl.Seconds() * float64(b.withdrawal))
	return b
}

// Deposit records a first attempt (a request, not a retry).
func (b *RetryBudget) Deposit(now int64) {
	b.advance(now)
	b.add(b.deposit)
}

// TryWithdraw reports whether a retry may be made now, and if so spends it.
func (b *RetryBudget) TryWithdraw(now int64) bool {
	b.advance(now)
	if b.sum+b.reserve < b.withdrawal {
		return false
	}
	b.add(-b.withdrawal)
	return true
}

// Balance is the number of retries available now, fractional between whole
// retries, negative while retries outlive the deposits that paid for them.
func (b *RetryBudget) Balance(now int64) float64 {
	b.advance(now)
	return float64(b.sum+b.reserve) / float64(b.withdrawal)
}

func (b *RetryBudget) add(units int64) {
	b.ring[b.slice%budgetSlices] += units
	b.sum += units
}

// advance expires the slices that have left the window by now. A now before
// the newest slice (time does not go back) changes nothing.
func (b *RetryBudget) advance(now int64) {
	s := now / b.width
	if s <= b.slice {
		return
	}
	if s-b.slice >= budgetSlices {
		b.ring = [budgetSlices]int64{}
		b.sum = 0
	} else {
		for k := b.slice + 1; k <= s; k++ {
			b.sum -= b.ring[k%budgetSlices]
			b.ring[k%budgetSlices] = 0
		}
	}
	b.slice = s
}

// RetryThrottle is gRPC's retry throttling (gRFC A6, "gRPC Retry Design",
// retryThrottling in the service config): a token count starts at
// maxTokens; every failed call takes 1 and every successful one gives back
// tokenRatio, within [0, maxTokens]; no call is retried (or hedged) while
// the count is at or below maxTokens/2. The caller decides what a failure
// is: A6 counts the statuses the policy retries.
//
// Tokens are counted in thousandths, as grpc-java does, because A6 keeps
// three decimal places of tokenRatio and so that long runs do not drift;
// unlike grpc-java, which truncates, tokenRatio is rounded to the
// thousandth, so that 1.001 (1000.9999... thousandths in float64) is not
// read as 1.000.
type RetryThrottle struct {
	tokens, max, ratio int64 // thousandths of a token
}

// NewRetryThrottle returns a full throttle. A6's service config example has
// maxTokens 10 and tokenRatio 0.1; A6 takes maxTokens as a whole number
// from 1 to 1000.
func NewRetryThrottle(maxTokens, tokenRatio float64) *RetryThrottle {
	m := int64(math.Round(maxTokens * 1000))
	return &RetryThrottle{tokens: m, max: m, ratio: int64(math.Round(tokenRatio * 1000))}
}

// OnSuccess records a successful call.
func (t *RetryThrottle) OnSuccess() { t.tokens = min(t.max, t.tokens+t.ratio) }

// OnFailure records a failed call whose status A6 counts: one the retry
// policy retries or the hedging policy holds non-fatal.
func (t *RetryThrottle) OnFailure() { t.tokens = max(0, t.tokens-1000) }

// Allow reports whether a retry may be sent; it spends nothing.
func (t *RetryThrottle) Allow() bool { return 2*t.tokens > t.max }

// Tokens is the token count.
func (t *RetryThrottle) Tokens() float64 { return float64(t.tokens) / 1000 }

// ConcurrencyBudget is Envoy's retry budget (config.cluster.v3.
// CircuitBreakers.Thresholds.RetryBudget): retries in flight may number
// budget_percent of the active requests, and at least min_retry_concurrency.
// Envoy counts as active the cluster's requests plus its pending requests,
// retries included, and truncates the percentage to a whole number of
// retries, as Max does.
//
// ConcurrencyBudget{MinConcurrency: 3} is Envoy's max_retries circuit-breaking
// threshold at its default, which applies when no retry budget is configured.
type ConcurrencyBudget struct {
	Percent        float64 // budget_percent as a fraction: 0.2 is Envoy's 20.0
	MinConcurrency int     // min_retry_concurrency
}

// EnvoyConcurrencyBudget is Envoy's retry budget at its defaults:
// budget_percent 20%, min_retry_concurrency 3.
func EnvoyConcurrencyBudget() ConcurrencyBudget {
	return ConcurrencyBudget{Percent: 0.2, MinConcurrency: 3}
}

// Max is the number of retries that may be in flight with activeRequests
// requests active.
func (c ConcurrencyBudget) Max(activeRequests int) int {
	return max(int(c.Percent*float64(activeRequests)), c.MinConcurrency)
}

// Allow reports whether one more retry may start while activeRetries are in
// flight.
func (c ConcurrencyBudget) Allow(activeRequests, activeRetries int) bool {
	return activeRetries < c.Max(activeRequests)
}
