package sim

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/faultline/faultline/sim/metrics"
)

// Slowness is a failure too. A client, client flow or service whose
// successful answers are slow is degraded or failing on latency, as it is
// on errors, and the cascade trace, blast radius, TUI and bench read it
// from its windows' Health like any other verdict. The rule, here and only
// here:
//
//   - with a latency objective (LatencyObjective: a client's, a gateway
//     route's for its flows, a service's), a window is degraded when the
//     objective's percentile of its successful answers passes Degraded,
//     failing when it passes Failing. This is a latency SLO in the form
//     of the Google SRE book's ("99% (averaged over 1 minute) of Get RPC
//     calls will complete in less than 100 ms", chapter "Service Level
//     Objectives", https://sre.google/sre-book/service-level-objectives/),
//     judged per window, with two thresholds as Kiali's health tolerances
//     have (degraded, failure: https://kiali.io/docs/configuration/health/);
//   - without one, a window is judged against the component's own level
//     before the first fault began: the p99 of the successful answers of
//     its windows after warmup and before that fault (its baseline, of at
//     least minBaseline answers, else there is none and no verdict). Past
//     LatencyFactor.Degraded times it (3 by default) the window is
//     degraded, past LatencyFactor.Failing (10) failing. No real system
//     defines these factors: 3x keeps noise out (an M/M/1 at 70 % load,
//     300 s, 20 seeds: its worst 1 s window's p99 was 2.5x its long-run
//     p99 at 700 answers a window, 2.1x at 70; TestLatencyNoFalseAlarm),
//     and 10x is the slowdown that made issue 18's Online Boutique root
//     "ten times slower" with no error at all.
//
// Only successful answers are timed for it: a failure is counted on the
// errors side already, and a timeout is no faster than its timeout.
//
// A slow answer is one over the lowest threshold in force; each window
// counts its slow answers by origin (Window.Slow), and an episode decided
// by latency is given to the faults they trace to, as failures are
// (provenance.go). An answer is slow because of the faults that added
// time on its path, and its origin is the one that added the most
// (request.late, a lateness), whatever the order its calls were made in:
//
//   - at a service, a request's own work is late by what the faults on its
//     instance added to it: a latency or dependency fault's draw, a
//     slowdown's share of the service time, a leak's or a bad release's
//     stretch, a pause that froze it mid-work. A fault that adds no time
//     (errors, a throttle's 429, abort) is never what made an answer slow,
//     even on the instance that served it;
//   - a request that waited in its instance's queue is late by that wait,
//     given, when it gets a worker, to the fault that the workers ahead
//     of it met when it was queued (queueFault: the queued rule of
//     provenance.go), else to the fault behind the work the service
//     last finished slowed by one, within a window (pressure: a backlog
//     a fault left, as for a queued failure), else to the fault the
//     workers meet as it gets one. A slow answer that did not wait is
//     not given the service's pressure, as it once was: what the
//     service's other work met says nothing of its own path;
//   - a call passes its callee's lateness up: of its attempts, the one
//     late by the most. Of a request's calls made one after the other,
//     the one late by the most decides; of calls made together (fan-out,
//     a gateway's backends), the one that answered last, whose time is
//     the group's (its critical path), if it was late itself: the others
//     ended before it, and their delays cost the caller nothing;
//   - a request late by its own work and by its calls is late by the
//     larger; at a tie, the fault that began first.
//
// With none of these, a slow answer has no fault behind it (plain load,
// network time, retries).
//
// Following the call that answered last of a group is how Jaeger finds
// a trace's critical path: "not all spans really contribute to the
// latency", and its algorithm "iterates through the last finishing
// children (LFCs)" of each span (jaegertracing/jaeger-ui issue 1288 and
// pull request 1975, packages/jaeger-ui/src/components/TracePage/
// CriticalPath).

// LatencyObjective is a latency service level objective: the Percentile-th
// percentile (0 < Percentile < 100) of a window's successful answers stays
// at or under Degraded, and under Failing. A zero threshold is not
// checked; a zero Percentile means no objective.
type LatencyObjective struct {
	Percentile float64
	Degraded   time.Duration
	Failing    time.Duration
}

// LatencyFactor is how far past its own level before the first fault a
// component without a latency objective must be to be degraded, and
// failing; zero fields take the defaults.
type LatencyFactor struct {
	Degraded, Failing float64
}

const (
	// defaultLatencyPercentile is the percentile the baseline rule
	// compares, and an objective's when it names none: p99, the SRE
	// book's example and Kiali's and Prometheus' usual latency panel.
	defaultLatencyPercentile = 99
	DefaultDegradedFactor    = 3
	DefaultFailingFactor     = 10
	// minBaseline is the fewest answers a baseline's p99 is worth
	// anything with: fewer, and its "p99" is its maximum.
	minBaseline = 100
)

// slowness is the latency side of a client's, flow's or service's health.
type slowness struct {
	q      float64 // the percentile judged, as a quantile
	obj    bool    // a latency objective set the thresholds
	factor LatencyFactor
	// base gathers the successful answers before the first fault, until
	// freeze sets the thresholds from it.
	base metrics.Histogram
	// degraded and failing are the thresholds on the window's quantile,
	// ns; 0: none (yet).
	degraded, failing int64
}

func (sl *slowness) init(obj LatencyObjective, f LatencyFactor) {
	sl.q = defaultLatencyPercentile / 100.0
	sl.factor = LatencyFactor{Degraded: DefaultDegradedFactor, Failing: DefaultFailingFactor}
	if f.Degraded > 0 {
		sl.factor.Degraded = f.Degraded
	}
	if f.Failing > 0 {
		sl.factor.Failing = f.Failing
	}
	if obj.Percentile > 0 {
		sl.q, sl.obj = obj.Percentile/100, true
		sl.degraded, sl.failing = int64(max(obj.Degraded, 0)), int64(max(obj.Failing, 0))
	}
}

// learn adds a window's successful answers to the baseline: the windows
// after warmup closed before the first fault began.
func (sl *slowness) learn(s *Sim, h *metrics.Histogram) {
	if !sl.obj && len(s.occurs) == 0 && s.winStart >= s.warmup {
		sl.base.Merge(h)
	}
}

// freeze ends the baseline as the first fault begins, and sets the
// thresholds from it.
func (sl *slowness) freeze() {
	if sl.obj || sl.base.Count() < minBaseline {
		return
	}
	b := float64(sl.base.Quantile(sl.q))
	sl.degraded, sl.failing = nanos(b*sl.factor.Degraded), nanos(b*sl.factor.Failing)
	sl.base = metrics.Histogram{} // no longer needed
}

// slowAt is the lowest threshold in force: an answer over it is slow. 0:
// none.
func (sl *slowness) slowAt() int64 {
	if sl.degraded > 0 {
		return sl.degraded
	}
	return sl.failing
}

// judge is the latency side's verdict on a window's successful answers
// h. A nil slowness (an operation's) never judges.
func (sl *slowness) judge(h *metrics.Histogram) (Health, Reason) {
	if sl == nil || h.Count() == 0 || sl.slowAt() == 0 {
		return Healthy, Reason{}
	}
	v := h.Quantile(sl.q)
	l := Healthy
	switch {
	case sl.failing > 0 && v > sl.failing:
		l = Failing
	case sl.degraded > 0 && v > sl.degraded:
		l = Degraded
	}
	if l == Healthy {
		return Healthy, Reason{}
	}
	return l, Reason{By: ByLatency, Value: seconds(v), Percentile: sl.q * 100, Limit: seconds(sl.limit(l))}
}

// limit is the threshold, ns, a window's quantile passes to be at level
// l: the degraded one for degraded when there is one, else the failing
// one. A change confirmed at a milder level than the window that began
// it is told by its own level's threshold (healthTracker.atLevel).
func (sl *slowness) limit(l Health) int64 {
	if l == Degraded && sl.degraded > 0 {
		return sl.degraded
	}
	return sl.failing
}

// freezeBaselines sets every component's latency thresholds from its
// baseline as the run's first fault begins.
func (s *Sim) freezeBaselines() {
	for i := range s.clients {
		c := &s.clients[i]
		c.slow.freeze()
		c.win.slowAt = c.slow.slowAt()
		for j := range c.flows {
			f := &c.flows[j]
			f.slow.freeze()
			f.win.slowAt = f.slow.slowAt()
		}
	}
	for i := range s.services {
		sv := &s.services[i]
		sv.slow.freeze()
		sv.win.slowAt = sv.slow.slowAt()
	}
	for _, ref := range s.edges {
		s.services[ref.svc].calls[ref.edge].slow.freeze()
	}
}

// lateness is what made a request slow (the rules above): the fault
// (occurrence + 1; 0: none) that added the most time on its path, at
// component comp, and that time, by, in µs. Microseconds in an int32
// span 35 minutes, and keep a request in two cache lines
// (TestRequestSize).
type lateness struct {
	comp, fault int32
	by          int32
}

func (l lateness) set() bool { return l.fault > 0 }

// lateCause is lateness l as a timeout's origin: comp had not answered
// in time. A pause froze comp's work rather than slowing it, and is told
// as one (CausePause), as hereOrigin tells a request still frozen: the
// call answered once the pause ended, and the time lost is the pause's.
func (s *Sim) lateCause(l lateness) origin {
	c := CauseLate
	if isPause(s.faults[s.occurs[l.fault-1].fault].p) {
		c = CausePause
	}
	return origin{comp: l.comp, fault: l.fault, cause: c}
}

// lateBy is the lateness of d ns that fault f (occurrence + 1) added at
// comp; none when it added nothing.
func lateBy(comp, f int32, d int64) lateness {
	if f <= 0 || d <= 0 {
		return lateness{}
	}
	return lateness{comp: comp, fault: f, by: int32(min((d+999)/1000, math.MaxInt32))}
}

// worse is the one of l and m that added more time; at a tie, the fault
// that began first (occurrences are numbered by their start), so that it
// does not matter which of them was met first.
func (l lateness) worse(m lateness) lateness {
	switch {
	case !m.set():
		return l
	case !l.set(), m.by > l.by, m.by == l.by && m.fault < l.fault:
		return m
	}
	return l
}

// noteSlow counts a successful answer of service comp that took lat, if
// it is slow, with the origin of its slowness: the fault that added the
// most time on its path (late), else none.
func (t *tally) noteSlow(lat, now int64, late lateness, comp int32, occurs []occurrence) {
	if t.slowAt == 0 || lat <= t.slowAt {
		return
	}
	if t.slowN == 0 {
		t.firstSlow = now
	}
	t.slowN++
	o := origin{comp: comp, cause: CauseSlow}
	if late.set() {
		o.comp, o.fault = late.comp, late.fault
	}
	t.slow.add(o, occurs)
}

// latencyText is the event log's account of a latency verdict: "p99
// latency 1.201s over 429ms".
func (r Reason) latencyText() string {
	return fmt.Sprintf("p%s latency %v over %v", strconv.FormatFloat(r.Percentile, 'f', -1, 64), short(r.Value), short(r.Limit))
}

// short is a duration of s seconds to about three significant digits, or
// to the millisecond from 100 ms on.
func short(s float64) time.Duration {
	d := time.Duration(s * 1e9)
	unit := time.Millisecond
	for lim := 100 * time.Millisecond; d < lim && unit > time.Nanosecond; lim /= 10 {
		unit /= 10
	}
	return d.Round(unit)
}
