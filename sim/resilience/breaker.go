package resilience

import (
	"fmt"
	"math"
	"time"
)

// WindowType says how a breaker's sliding window forgets old calls:
// Resilience4j's slidingWindowType.
type WindowType uint8

const (
	CountBased WindowType = iota // the last WindowSize calls
	TimeBased                    // the calls of the last WindowSize seconds
)

var windowTypeNames = [...]string{"count_based", "time_based"}

func (w WindowType) String() string {
	if int(w) < len(windowTypeNames) {
		return windowTypeNames[w]
	}
	return fmt.Sprintf("WindowType(%d)", w)
}

// BreakerConfig configures a Breaker. Each field is the Resilience4j
// CircuitBreakerConfig setting named in its comment, with its default
// (DefaultBreakerConfig).
type BreakerConfig struct {
	FailureRateThreshold  float64       // failureRateThreshold, percent, default 50
	SlowCallRateThreshold float64       // slowCallRateThreshold, percent, default 100
	SlowCallDuration      time.Duration // slowCallDurationThreshold, default 60s: a call taking longer is slow
	WindowType            WindowType    // slidingWindowType, default CountBased
	WindowSize            int           // slidingWindowSize: calls or seconds, default 100
	MinimumCalls          int           // minimumNumberOfCalls, default 100
	WaitInOpen            time.Duration // waitDurationInOpenState, default 60s
	PermittedInHalfOpen   int           // permittedNumberOfCallsInHalfOpenState, default 10
	// MaxWaitInHalfOpen is maxWaitDurationInHalfOpenState: how long HALF_OPEN
	// may wait for its permitted calls before it gives up and opens again.
	// The default 0 waits for them indefinitely.
	MaxWaitInHalfOpen time.Duration
	// AutomaticTransition is automaticTransitionFromOpenToHalfOpenEnabled
	// (default false): OPEN becomes HALF_OPEN when WaitInOpen has passed,
	// without waiting for a call to ask (NextTransition says when).
	AutomaticTransition bool
}

// DefaultBreakerConfig returns Resilience4j's defaults.
func DefaultBreakerConfig() BreakerConfig {
	return BreakerConfig{
		FailureRateThreshold:  50,
		SlowCallRateThreshold: 100,
		SlowCallDuration:      60 * time.Second,
		WindowType:            CountBased,
		WindowSize:            100,
		MinimumCalls:          100,
		WaitInOpen:            60 * time.Second,
		PermittedInHalfOpen:   10,
	}
}

// BreakerState is Resilience4j's CircuitBreaker.State, without METRICS_ONLY.
type BreakerState uint8

const (
	Closed     BreakerState = iota // calls pass; their outcomes may open the breaker
	Open                           // calls are short-circuited until WaitInOpen has passed
	HalfOpen                       // a few trial calls decide between Closed and Open
	ForcedOpen                     // manual: every call is short-circuited until Reset
	Disabled                       // manual: every call passes, nothing is recorded, until Reset
)

var breakerStateNames = [...]string{"CLOSED", "OPEN", "HALF_OPEN", "FORCED_OPEN", "DISABLED"}

func (s BreakerState) String() string {
	if int(s) < len(breakerStateNames) {
		return breakerStateNames[s]
	}
	return fmt.Sprintf("BreakerState(%d)", s)
}

// BreakerCounts are a breaker's outcomes since it was made, across all
// states, like a Hystrix dashboard row. Successful and Failed split the
// recorded calls; Slow counts those of either kind that were slow.
// NotPermitted counts short-circuited calls. FORCED_OPEN and DISABLED record
// no outcomes, as in Resilience4j.
type BreakerCounts struct {
	Successful, Failed, Slow, NotPermitted uint64
}

// maxBreakerWindow bounds the windows a breaker allocates, so that a config
// nobody validated cannot exhaust memory; it is far beyond any useful size.
const maxBreakerWindow = 1 << 20

// Breaker is Resilience4j's CircuitBreakerStateMachine over virtual time:
//
//   - CLOSED permits every call and records its outcome in a sliding window.
//     Once the window holds MinimumCalls outcomes (at most WindowSize for a
//     count-based window), a failure rate >= FailureRateThreshold or a
//     slow-call rate >= SlowCallRateThreshold opens the breaker.
//   - OPEN short-circuits every call until WaitInOpen has passed; then the
//     next Allow (or, with AutomaticTransition, Advance) makes it HALF_OPEN.
//     A call at exactly WaitInOpen after opening finds it over, the instant
//     the automatic transition happens; Resilience4j's lazy check waits for
//     an instant strictly after, a nanosecond apart.
//   - HALF_OPEN permits PermittedInHalfOpen calls and decides on their
//     outcomes alone, as soon as min(MinimumCalls, PermittedInHalfOpen) of
//     them have answered: over a threshold, OPEN with a new wait; else
//     CLOSED.
//   - FORCED_OPEN and DISABLED are manual and last until Reset.
//
// CLOSED and HALF_OPEN start with an empty window, as Resilience4j makes new
// metrics for them. OPEN keeps the window that opened it, as Resilience4j
// does, so that Rates tells why it opened; outcomes of calls permitted
// before still land there but no longer change the state.
//
// Transitions that are due by time alone happen when the breaker is next
// consulted at a later now, so the engine may call Advance only at the times
// NextTransition gives. A Breaker is not safe for concurrent use.
type Breaker struct {
	failureThreshold float64
	slowThreshold    float64
	slowCall         int64
	wait             int64
	maxHalfOpen      int64
	permitted        int
	automatic        bool

	state       BreakerState
	until       int64 // OPEN: when it may turn HALF_OPEN; HALF_OPEN: when it gives up (with maxHalfOpen)
	permits     int   // HALF_OPEN: calls it may still let through
	main        breakerWindow
	half        breakerWindow // HALF_OPEN's own, and OPEN's after it
	inHalf      bool          // whether half, not main, is the current window
	counts      BreakerCounts
	transitions uint64
}

// NewBreaker returns a CLOSED breaker. The loader validates configs; this
// only makes nonsense harmless: sizes below 1 count as 1 and sizes above
// 2^20 as 2^20, negative durations as 0. A threshold of 0 opens at any rate,
// one above 100 (or NaN) never.
func NewBreaker(cfg BreakerConfig) *Breaker {
	size := min(max(cfg.WindowSize, 1), maxBreakerWindow)
	permitted := min(max(cfg.PermittedInHalfOpen, 1), maxBreakerWindow)
	b := &Breaker{
		failureThreshold: cfg.FailureRateThreshold,
		slowThreshold:    cfg.SlowCallRateThreshold,
		slowCall:         int64(max(cfg.SlowCallDuration, 0)),
		wait:             int64(max(cfg.WaitInOpen, 0)),
		maxHalfOpen:      int64(max(cfg.MaxWaitInHalfOpen, 0)),
		permitted:        permitted,
		automatic:        cfg.AutomaticTransition,
		// Resilience4j's HALF_OPEN metrics are a count-based window of
		// permittedNumberOfCallsInHalfOpenState calls, and a count-based
		// window needs min(minimumNumberOfCalls, its size) calls to decide
		// (CircuitBreakerMetrics.forHalfOpen and its constructor): with
		// fewer minimum calls than permitted, HALF_OPEN decides early.
		half: breakerWindow{ring: make([]uint8, permitted), min: min(max(cfg.MinimumCalls, 1), permitted)},
	}
	b.main.min = max(cfg.MinimumCalls, 1)
	if cfg.WindowType == TimeBased {
		b.main.buckets = make([]callTally, size)
	} else {
		b.main.ring = make([]uint8, size)
		// Resilience4j: a count-based window could never hold more.
		b.main.min = min(b.main.min, size)
	}
	return b
}

// Allow reports whether a call may go through now; false means it is
// short-circuited (Resilience4j's CallNotPermittedException). A permitted
// call must later be given to Record or Release.
func (b *Breaker) Allow(now int64) bool {
	b.catchUp(now, true)
	switch b.state {
	case Closed, Disabled:
		return true
	case HalfOpen:
		if b.permits > 0 {
			b.permits--
			return true
		}
	}
	b.counts.NotPermitted++
	return false
}

// Record takes the outcome of a permitted call that ends at now after
// duration: failed, or a success. A call longer than SlowCallDuration is
// slow as well, whether it failed or not; one of exactly SlowCallDuration is
// not, as Resilience4j compares with ">" (the threshold above which calls
// are slow).
func (b *Breaker) Record(now, duration int64, failed bool) {
	b.catchUp(now, false)
	if b.state == ForcedOpen || b.state == Disabled {
		return
	}
	slow := duration > b.slowCall
	if failed {
		b.counts.Failed++
	} else {
		b.counts.Successful++
	}
	if slow {
		b.counts.Slow++
	}
	w := b.window()
	w.add(now, failed, slow)
	if b.state == Open {
		return
	}
	failure, slowRate, ok := w.rates()
	if !ok {
		return
	}
	if failure >= b.failureThreshold || slowRate >= b.slowThreshold {
		b.open(now)
	} else if b.state == HalfOpen {
		b.fresh(Closed, now)
	}
}

// Release gives back the permission of a call that ended without an outcome
// to record, such as one cancelled. Only HALF_OPEN counts permissions.
func (b *Breaker) Release() {
	if b.state == HalfOpen && b.permits < b.permitted {
		b.permits++
	}
}

// State is the breaker's state as of the last call that gave it a time.
func (b *Breaker) State() BreakerState { return b.state }

// NextTransition says when time alone will change the state: with
// AutomaticTransition, when OPEN turns HALF_OPEN; with MaxWaitInHalfOpen,
// when HALF_OPEN gives up and opens again. ok is false when no such time is
// pending.
func (b *Breaker) NextTransition() (at int64, ok bool) {
	if (b.state == Open && b.automatic) || (b.state == HalfOpen && b.maxHalfOpen > 0) {
		return b.until, true
	}
	return 0, false
}

// Advance applies the transitions NextTransition announced that are due by
// now.
func (b *Breaker) Advance(now int64) { b.catchUp(now, false) }

// ForceOpen moves to FORCED_OPEN.
func (b *Breaker) ForceOpen(now int64) { b.fresh(ForcedOpen, now) }

// Disable moves to DISABLED.
func (b *Breaker) Disable(now int64) { b.fresh(Disabled, now) }

// Reset moves to CLOSED with an empty window, from any state.
func (b *Breaker) Reset(now int64) { b.fresh(Closed, now) }

// Rates gives the failure and slow-call rates, in percent, of the current
// window and the number of calls in it. The rates are -1 while the window
// holds fewer calls than it needs to decide. A time-based window is as of
// its last recorded call.
func (b *Breaker) Rates() (failurePct, slowPct float64, calls int) {
	w := b.window()
	failurePct, slowPct, _ = w.rates()
	return failurePct, slowPct, w.sum.calls
}

// Counts returns the outcomes since the breaker was made.
func (b *Breaker) Counts() BreakerCounts { return b.counts }

// Transitions counts the breaker's state changes, so that the engine learns
// of one without a callback: it compares the count before and after a
// call and then reads State.
func (b *Breaker) Transitions() uint64 { return b.transitions }

// catchUp applies the transitions due by now: HALF_OPEN's give-up, which
// Resilience4j schedules whenever it is configured, and then OPEN's end,
// which needs AutomaticTransition unless a call is asking (toHalfOpen).
func (b *Breaker) catchUp(now int64, toHalfOpen bool) {
	if b.state == HalfOpen && b.maxHalfOpen > 0 && now >= b.until {
		b.open(now)
	}
	if b.state == Open && (toHalfOpen || b.automatic) && now >= b.until {
		b.set(HalfOpen)
		b.half.reset(now)
		b.inHalf = true
		b.permits = b.permitted
		b.until = breakerDeadline(now, b.maxHalfOpen)
	}
}

// open keeps the current window: see Breaker.
func (b *Breaker) open(now int64) {
	b.set(Open)
	b.until = breakerDeadline(now, b.wait)
}

// fresh moves to s with an empty main window.
func (b *Breaker) fresh(s BreakerState, now int64) {
	b.set(s)
	b.main.reset(now)
	b.inHalf = false
}

func (b *Breaker) set(s BreakerState) {
	if b.state != s {
		b.state = s
		b.transitions++
	}
}

func (b *Breaker) window() *breakerWindow {
	if b.inHalf {
		return &b.half
	}
	return &b.main
}

// breakerDeadline is now+d, saturated so that a huge wait means never rather than
// overflowing into the past.
func breakerDeadline(now, d int64) int64 {
	if now > math.MaxInt64-d {
		return math.MaxInt64
	}
	return now + d
}

// callTally counts the outcomes of some calls.
type callTally struct{ calls, failed, slow int }

func (t *callTally) add(o callTally) {
	t.calls += o.calls
	t.failed += o.failed
	t.slow += o.slow
}

func (t *callTally) sub(o callTally) {
	t.calls -= o.calls
	t.failed -= o.failed
	t.slow -= o.slow
}

// breakerWindow is a sliding window of outcomes: Resilience4j's
// FixedSizeSlidingWindowMetrics (ring is set) or SlidingTimeWindowMetrics
// (buckets is set). Both keep a running sum, so that deciding costs O(1).
type breakerWindow struct {
	// Count based: the last len(ring) outcomes, a byte each (failed | slow<<1);
	// once the ring is full, next is the oldest, which the next outcome replaces.
	ring []uint8
	next int
	// Time based: bucket s%len(buckets) holds the outcomes of second s, for
	// the seconds in (head-len(buckets), head]; the other buckets are zero.
	buckets []callTally
	head    int64
	sum     callTally
	min     int // outcomes needed before the rates count
}

func (w *breakerWindow) reset(now int64) {
	w.next, w.sum = 0, callTally{}
	clear(w.buckets)
	w.head = breakerSecond(now)
}

func (w *breakerWindow) add(now int64, failed, slow bool) {
	o := callTally{calls: 1}
	if failed {
		o.failed = 1
	}
	if slow {
		o.slow = 1
	}
	if w.buckets != nil {
		w.slide(breakerSecond(now))
		w.buckets[w.head%int64(len(w.buckets))].add(o)
	} else {
		if w.sum.calls == len(w.ring) {
			old := w.ring[w.next]
			w.sum.sub(callTally{1, int(old & 1), int(old >> 1)})
		}
		w.ring[w.next] = uint8(o.failed | o.slow<<1)
		if w.next++; w.next == len(w.ring) {
			w.next = 0
		}
	}
	w.sum.add(o)
}

// slide moves the window's newest second to s, evicting the seconds that
// fall out. A gap as long as the window empties it at once. An s before head
// (time never runs back in the engine) leaves the window where it is, so the
// outcome counts in the newest second.
func (w *breakerWindow) slide(s int64) {
	if s <= w.head {
		return
	}
	n := int64(len(w.buckets))
	if s-w.head >= n {
		clear(w.buckets)
		w.sum = callTally{}
	} else {
		for t := w.head + 1; t <= s; t++ {
			bk := &w.buckets[t%n]
			w.sum.sub(*bk)
			*bk = callTally{}
		}
	}
	w.head = s
}

// rates is Resilience4j's getFailureRate and getSlowCallRate: -1 below the
// minimum number of calls.
func (w *breakerWindow) rates() (failurePct, slowPct float64, ok bool) {
	if w.sum.calls < w.min {
		return -1, -1, false
	}
	n := float64(w.sum.calls)
	return float64(w.sum.failed) * 100 / n, float64(w.sum.slow) * 100 / n, true
}

// breakerSecond is the one-second bucket of virtual time now, counted from 0.
func breakerSecond(now int64) int64 { return max(now, 0) / int64(time.Second) }
