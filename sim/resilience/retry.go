package resilience

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// Jitter is how a backoff randomises its sleeps. The first four are the
// algorithms of the AWS Architecture Blog post "Exponential Backoff And
// Jitter" (Marc Brooker, 2015); JitterEnvoy is Envoy's retry back-off,
// which in Envoy's code is full jitter (see EnvoyBackoff).
type Jitter uint8

const (
	// JitterNone is the zero Jitter so that a Backoff written without one
	// sleeps exactly its formula.
	JitterNone Jitter = iota
	JitterFull
	JitterEqual
	JitterDecorrelated
	JitterEnvoy
)

var jitterNames = [...]string{"none", "full", "equal", "decorrelated", "envoy"}

func (j Jitter) String() string {
	if int(j) < len(jitterNames) {
		return jitterNames[j]
	}
	return fmt.Sprintf("Jitter(%d)", j)
}

// ParseJitter reads a jitter name, ignoring case like ParsePolicy.
func ParseJitter(s string) (Jitter, bool) {
	for i, name := range jitterNames {
		if strings.EqualFold(s, name) {
			return Jitter(i), true
		}
	}
	return 0, false
}

// maxDelay bounds every delay so that the engine's now+delay cannot
// overflow int64 while now is below 2^62 ns (146 years of virtual time),
// whatever the retry number or the lack of a cap.
const maxDelay = 1 << 62

// Backoff is the sleep between a failed attempt and its retry.
//
// Multiplier 0 is taken as 1, so that a Backoff with only a Base sleeps a
// constant Base.
type Backoff struct {
	Base       time.Duration // first sleep (exponential) or every sleep (constant)
	Cap        time.Duration // 0 = no cap
	Multiplier float64       // 2 for exponential, 1 for constant
	Jitter     Jitter
}

// EnvoyBackoff is Envoy's default retry back-off (router filter, "Retry
// semantics"; config.core.v3.BackoffStrategy): base_interval 25 ms,
// max_interval 10 times that. Envoy's code
// (source/common/common/backoff_strategy.cc,
// JitteredExponentialBackOffStrategy::nextBackOffMs) draws retry N = 1, 2,
// ... from [0, base x 2^(N-1)), the interval doubling until it would pass
// max_interval and then staying there: 0-25 ms, 0-50, 0-100, 0-200, then
// 0-250 ms. (The router docs' [0, (2^N-1) x base) is an older version.)
func EnvoyBackoff() Backoff {
	return Backoff{Base: 25 * time.Millisecond, Cap: 250 * time.Millisecond, Multiplier: 2, Jitter: JitterEnvoy}
}

// Delay returns the sleep in nanoseconds before retry n (n = 0 for the first
// retry), given the previous sleep prev (only decorrelated jitter reads it;
// 0 before the first retry). With sleep_n = min(Cap, Base * Multiplier^n):
//
//   - none: sleep_n
//   - full: U(0, sleep_n)
//   - equal: sleep_n/2 + U(0, sleep_n/2)
//   - decorrelated: min(Cap, U(Base, 3*prev)), with prev = Base for the
//     first retry; n and Multiplier play no part, as in the AWS post.
//   - envoy: the same as full: Envoy's [0, min(max_interval, base x
//     2^(N-1))) for retry N = n+1 with Multiplier 2.
//
// Draws are continuous nanoseconds where Envoy draws whole milliseconds.
func (b Backoff) Delay(n int, prev int64, r *rand.Rand) int64 {
	base := float64(b.Base)
	if base <= 0 {
		return 0
	}
	limit := float64(maxDelay)
	if b.Cap > 0 {
		limit = min(limit, float64(b.Cap))
	}
	m := b.Multiplier
	if m == 0 {
		m = 1
	}
	if b.Jitter == JitterDecorrelated {
		p := float64(prev)
		if prev <= 0 {
			p = base
		}
		return toDelay(min(limit, base+r.Float64()*(3*p-base)))
	}
	sleep := min(limit, base*math.Pow(m, float64(n)))
	switch b.Jitter {
	case JitterFull, JitterEnvoy:
		sleep *= r.Float64()
	case JitterEqual:
		sleep = sleep/2 + r.Float64()*sleep/2
	}
	return toDelay(sleep)
}

// toDelay converts a sleep to nanoseconds. Only a degenerate Multiplier
// (infinite or negative) can make the sleep NaN or negative: it becomes 0.
func toDelay(x float64) int64 {
	if !(x > 0) {
		return 0
	}
	return int64(min(x, maxDelay))
}
