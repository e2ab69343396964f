package resilience

// TokenBucket is one gateway instance's rate limit. Two refills exist:
//
//   - Envoy's local rate limit (envoy.filters.http.local_ratelimit, the
//     type.v3.TokenBucket message: max_tokens, tokens_per_fill,
//     fill_interval): the bucket starts with max_tokens and a timer adds
//     tokens_per_fill every fill_interval from the moment the filter is
//     created, up to max_tokens; between two ticks nothing is added
//     (source/extensions/filters/common/local_ratelimit/
//     local_ratelimit_impl.cc, onFillTimer). The bucket "is shared across
//     all workers, thus the rate limits are applied per Envoy process":
//     each gateway instance has its own.
//   - Go's golang.org/x/time/rate.Limiter (the rps and burst keys): burst
//     tokens, full at the start, refilled continuously at rps per second.
//
// The bucket counts refills afresh from integer nanoseconds since its
// epoch, so that rounding does not accumulate in time: over any run, however
// long, the tokens granted are the rate times its length to within the last
// place of a float64.
type TokenBucket struct {
	perFill, max, tokens float64
	// interval is the fill interval (ns); 0 refills continuously, perFill
	// tokens per second.
	interval    int64
	epoch, last int64 // ns
}

// NewTokenBucket returns a full bucket refilled continuously, as
// x/time/rate does. rps 0 never refills; burst 0 rejects every request.
func NewTokenBucket(rps float64, burst int) TokenBucket {
	return TokenBucket{perFill: max(rps, 0), max: float64(burst), tokens: float64(burst)}
}

// NewFillBucket returns Envoy's bucket, full at now, its fill timer started
// then: tokensPerFill tokens every interval (ns, > 0), at most maxTokens.
func NewFillBucket(maxTokens, tokensPerFill int, interval, now int64) TokenBucket {
	return TokenBucket{perFill: float64(tokensPerFill), max: float64(maxTokens), tokens: float64(maxTokens),
		interval: interval, epoch: now, last: now}
}

// Restart fills the bucket as a new process creates it at now: an
// instance that restarts starts with a full bucket and a new fill timer.
func (b *TokenBucket) Restart(now int64) {
	b.tokens, b.epoch, b.last = b.max, now, now
}

// Allow reports whether a request arriving now may pass, and if so takes its
// token.
func (b *TokenBucket) Allow(now int64) bool {
	b.tokens = b.at(now)
	b.last = max(b.last, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Tokens is the token count at now. It leaves the bucket as it is: refilling
// in two steps may round differently from one, and a display must not change
// what the simulation does next.
func (b *TokenBucket) Tokens(now int64) float64 { return b.at(now) }

func (b *TokenBucket) at(now int64) float64 {
	if now <= b.last {
		return b.tokens
	}
	if b.interval > 0 {
		// The timer ticks at epoch + k·interval: the ticks in (last, now].
		ticks := (now-b.epoch)/b.interval - (b.last-b.epoch)/b.interval
		return min(b.max, b.tokens+float64(ticks)*b.perFill)
	}
	// Multiply before dividing so that whole tokens come out exact.
	return min(b.max, b.tokens+float64(now-b.last)*b.perFill/1e9)
}
