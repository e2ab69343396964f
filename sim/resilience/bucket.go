package resilience

// TokenBucket is a gateway's rate limit (rps and burst) with the semantics
// of Go's golang.org/x/time/rate.Limiter: a bucket of burst tokens, full at
// the start, refilled at rps tokens per second of virtual time; a request
// takes a token or is rejected. Envoy's local rate limit is the same bucket
// refilled in steps of fill_interval rather than continuously.
//
// The bucket keeps the time of its last refill and a fractional token count.
// Each refill adds rps times the whole interval since the last one, computed
// afresh from integer nanoseconds, so that rounding does not accumulate in
// time: over any run, however long, the tokens granted are rps times its
// length to within the last place of a float64.
type TokenBucket struct {
	rps, burst, tokens float64
	last               int64 // ns
}

// NewTokenBucket returns a full bucket. rps 0 never refills; burst 0 rejects
// every request, as x/time/rate does.
func NewTokenBucket(rps float64, burst int) *TokenBucket {
	return &TokenBucket{rps: max(rps, 0), burst: float64(burst), tokens: float64(burst)}
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
	// Multiply before dividing so that whole tokens come out exact.
	return min(b.burst, b.tokens+float64(now-b.last)*b.rps/1e9)
}
