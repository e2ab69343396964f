package sim

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/sim/resilience"
)

// WindowHead is what every window of every kind of component carries:
// when it began and the engine's verdict on it. Each kind's window
// (Window for clients, flows, services and operations; TopicWindow,
// GroupWindow, StoreWindow, SagaWindow, ViewWindow) embeds it beside its
// own figures, so that a view reads any series' time and health the same
// way (Head, Last) and the rule that decided it stays here. In JSON, Start
// is a window's `t_s`, in seconds, as the CSV's column (withStart), and
// health and reason follow the kind's figures.
type WindowHead struct {
	Start time.Duration `json:"-"`
	// Health is the engine's verdict on the window, the worst of its
	// indicators (DESIGN.md), and Reason the indicator that decided it;
	// Reason.By is Idle when nothing answered and nothing was wrong.
	Health Health `json:"health"`
	Reason Reason `json:"reason,omitzero"`
}

// Head returns the window's common part.
func (h WindowHead) Head() WindowHead { return h }

// Windowed is a window of any kind of component.
type Windowed interface{ Head() WindowHead }

// Last returns the latest window of a series, false when it has none.
func Last[W Windowed](ws []W) (W, bool) {
	if len(ws) == 0 {
		var zero W
		return zero, false
	}
	return ws[len(ws)-1], true
}

// Window is one time-series sample of a client, flow, service or
// operation: what happened in [Start, Start+window).
type Window struct {
	// Sent is what a client sent, or what reached a service.
	Sent     uint64 `json:"sent"`
	OK       uint64 `json:"ok"`
	Errors   uint64 `json:"error"`
	Timeouts uint64 `json:"timeout"`
	Rejected uint64 `json:"rejected"`
	Shed     uint64 `json:"shed"`
	Limited  uint64 `json:"rate_limited"` // refused by a rate limit (429)
	Wasted   uint64 `json:"wasted"`       // a service's completed work whose caller had given up
	Degraded uint64 `json:"degraded"`     // a client's successes that a fallback answered in part
	// Latency is of successful requests, ms.
	Latency Latency `json:"latency_ms"`
	// LatencyAll is of every request answered in the window, whatever its
	// outcome (ClientResult.LatencyAll), ms: clients and flows only, nil
	// for services and operations.
	LatencyAll *Latency `json:"latency_all_ms,omitempty"`
	// Services only: busy workers / all workers, queued requests per
	// instance (time average), and the longest queue of one instance.
	Utilisation float64 `json:"utilisation"`
	QueueMean   float64 `json:"queue_mean"`
	QueueMax    int     `json:"queue_max"`
	WindowHead
	// Blame is where the window's failures originated (clients, flows,
	// services and operations; provenance.go); null when nothing failed.
	Blame *Blame `json:"blame"`
}

// EdgeWindow is one time-series sample of a call edge: the latency of the
// calls that ended in [Start, Start+window), as the caller saw them
// (EdgeResult.Latency). Their counts are the summaries' counts.
type EdgeWindow struct {
	Start      time.Duration `json:"-"`
	Latency    Latency       `json:"latency_ms"`     // of calls that succeeded
	LatencyAll Latency       `json:"latency_all_ms"` // of every call that ended
}

// MarshalJSON writes the window with its start in seconds.
func (w EdgeWindow) MarshalJSON() ([]byte, error) {
	type fields EdgeWindow
	return withStart(w.Start, fields(w))
}

// MarshalJSON writes the window with its start in seconds.
func (w Window) MarshalJSON() ([]byte, error) {
	type fields Window
	return withStart(w.Start, fields(w))
}

func (w *Window) outcomes() uint64 {
	return w.OK + w.Errors + w.Timeouts + w.Rejected + w.Shed + w.Limited
}

// ErrorShare is the share of the window's outcomes that were not OK.
func (w *Window) ErrorShare() float64 {
	n := w.outcomes()
	if n == 0 {
		return 0
	}
	return float64(n-w.OK) / float64(n)
}

// Health is a component's state in the visual vocabulary of DESIGN.md.
type Health uint8

const (
	Healthy  Health = iota // error share < 0.1%
	Degraded               // 0.1% to 10%
	Failing                // > 10%
)

func (h Health) String() string {
	switch h {
	case Healthy:
		return "healthy"
	case Degraded:
		return "degraded"
	case Failing:
		return "failing"
	}
	return "unknown"
}

// HealthOf classifies an error share with Kiali's thresholds.
func HealthOf(errShare float64) Health {
	switch {
	case errShare > 0.10:
		return Failing
	case errShare >= 0.001:
		return Degraded
	}
	return Healthy
}

// healthTracker turns per-window health into transitions worth logging. A
// new level must hold for two windows in a row, so that a rate hovering at a
// threshold does not fill the log.
type healthTracker struct {
	level     Health
	candidate Health
	since     int64 // when the candidate level's cause began
	streak    int
	// reason and why are the candidate's cause, recorded at since, and
	// its account in the event log.
	reason Reason
	why    string
	// split is a change confirmed on the way to the one observe reports:
	// degraded for one cause, then failing for another that began later.
	split    bool
	splitAt  int64
	splitL   Health
	splitR   Reason
	splitWhy string
}

// observe feeds one window's level, whose cause r began at onset. It
// reports whether to record the window's account as the candidate's
// (h.why: the caller renders it) and whether the tracked level changed;
// h.split says a change came before that one.
//
// A change is dated at the onset of its first window, and told with the
// cause in force then: a later window of the same change may refresh the
// figures of that cause (the error share it reached), but not replace it
// with a cause that began after the date (a breaker that opened while the
// change was being confirmed). No event is dated before its cause. A
// window worse than the candidate for a new cause (a saturated queue,
// then errors) confirms the candidate as of its onset, and the worse level
// as of the new cause's; winStart is the window's start.
func (h *healthTracker) observe(l Health, onset, winStart int64, r Reason) (record, changed bool) {
	h.split = false
	if l == h.level {
		h.streak = 0
		return false, false
	}
	// A move the same way as the candidate's (degraded, then failing)
	// continues it: the change began with the first of them.
	sameWay := h.streak > 0 && (l > h.level) == (h.candidate > h.level)
	sameCause := r.By == h.reason.By && r.Edge == h.reason.Edge
	switch {
	case sameWay && l > h.candidate && h.candidate > h.level && !sameCause:
		// The milder change is told apart only when it began before
		// this window: one dated at its start (a window that closed as
		// an instance crashed, then this one with the refusals) is the
		// worse one, or this window would begin with two verdicts.
		if h.since < winStart {
			h.split, h.splitAt, h.splitL, h.splitR, h.splitWhy = true, h.since, h.candidate, h.reason, h.why
		}
		h.candidate, h.since, h.reason, record = l, max(onset, h.since), r, true
	case sameWay || l == h.candidate && h.streak > 0:
		h.candidate = l
		if sameCause {
			h.reason, record = r, true
		}
	default:
		h.candidate, h.since, h.reason, h.streak, record = l, onset, r, 0, true
	}
	h.streak++
	if h.streak < 2 {
		return record, false
	}
	h.level, h.streak = l, 0
	return record, true
}

func (s *Sim) closeWindow() {
	dt := s.now - s.winStart
	if dt <= 0 {
		return
	}
	start := time.Duration(s.winStart)
	for i := range s.clients {
		c := &s.clients[i]
		w := c.win.window(start)
		w.Blame = s.blame(&c.win.blame)
		s.noteHealth(c.spec.Name, len(c.flows) == 0, &c.health, &w, &c.win)
		c.series = append(c.series, w)
		c.win.reset()
		for j := range c.flows {
			f := &c.flows[j]
			fw := f.win.window(start)
			fw.Blame = s.blame(&f.win.blame)
			s.noteHealth(f.name, true, &f.health, &fw, &f.win)
			f.series = append(f.series, fw)
			f.win.reset()
		}
	}
	floors := s.breakerHealth()
	for i := range s.services {
		sv := &s.services[i]
		sv.account(s.now)
		w := sv.win.window(start)
		w.Blame = s.blame(&sv.win.blame)
		if sv.winCap > 0 {
			w.Utilisation = sv.winBusy / sv.winCap
			w.QueueMean = sv.winQueue / sv.winInst
		}
		w.QueueMax = sv.winQMax
		if sv.perOp {
			for j := range sv.ops {
				o := &sv.ops[j]
				ow := o.win.window(start)
				ow.Blame = s.blame(&o.win.blame)
				// An operation's answers judge it; the state of the
				// service it shares judges the service.
				ow.Health, ow.Reason, _ = s.judgeAnswers(&ow, &o.win, Reason{}, Healthy, 0)
				o.series = append(o.series, ow)
				o.win.reset()
			}
		}
		fl := floors[i]
		if l, why, t := sv.stateHealth(&w); l > fl.level {
			fl = breakerFloor{l, why, t}
		}
		s.noteHealthAtLeast(sv.spec.Name, false, &sv.health, &w, &sv.win, fl)
		sv.series = append(sv.series, w)
		switch over := w.Rejected > 0; {
		case over && !sv.overflow:
			s.logEvent(Event{T: time.Duration(sv.win.firstBad), Component: sv.spec.Name, Kind: EventQueueFull, What: "queue full: rejecting requests"})
		case !over && sv.overflow:
			s.logEvent(Event{T: time.Duration(s.winStart), Component: sv.spec.Name, Kind: EventQueueDrained, What: "queue no longer full"})
		}
		sv.overflow = w.Rejected > 0
		sv.winBusy, sv.winQueue, sv.winQMax, sv.winCap, sv.winInst = 0, 0, 0, 0, 0
		sv.win.reset()
	}
	s.closeDataWindows(start)
	for _, ref := range s.edges {
		e := &s.services[ref.svc].calls[ref.edge]
		ok, all := summaries(&e.win, &e.pre, &s.allCalls)
		e.series = append(e.series, EdgeWindow{Start: start, Latency: ok, LatencyAll: all})
		e.agg.merge(&e.win)
		e.win.reset()
		e.pre.reset()
	}
	s.markEdges()
	s.winStart = s.now
}

func (t *tally) window(start time.Duration) Window {
	w := Window{
		WindowHead: WindowHead{Start: start}, Sent: t.sent, OK: t.n[OK], Errors: t.n[Error], Timeouts: t.n[Timeout],
		Rejected: t.n[Rejected], Shed: t.n[Shed], Limited: t.n[Limited], Wasted: t.wasted, Degraded: t.degraded,
		Latency: t.lat.Summarize(),
	}
	if t.all != nil {
		// One small allocation per client or flow and window, not per
		// event: it spares every service's window the room.
		all := t.all.Summarize()
		w.LatencyAll = &all
	}
	return w
}

// noteHealth judges a client's or flow's window (judgeAnswers), and logs
// a change of its health. The change is dated at its onset, not when it
// was confirmed: the first failure of the window in which it began, or
// the start of the first window of a recovery. That keeps the log in the
// order the cascade happened.
func (s *Sim) noteHealth(name string, flow bool, h *healthTracker, w *Window, t *tally) {
	s.noteHealthAtLeast(name, flow, h, w, t, breakerFloor{})
}

// noteHealthAtLeast is noteHealth with a floor from elsewhere than the
// window's outcomes: a breaker open on a call to or from the component,
// instances down, a saturated queue.
func (s *Sim) noteHealthAtLeast(name string, flow bool, h *healthTracker, w *Window, t *tally, fl breakerFloor) {
	l, r, onset := s.judgeAnswers(w, t, fl.why, fl.level, fl.at)
	w.Health, w.Reason = l, r
	if r.By == Idle {
		return // nothing answered: no evidence either way
	}
	record, changed := h.observe(l, onset, s.winStart, r)
	if record && l != Healthy {
		h.why = answersWhy(w, l, r)
	}
	if !changed {
		return
	}
	s.logHealth(name, flow, h)
}

// logHealth logs the change of health h has just confirmed, with the
// reason recorded at its onset, after the one confirmed on the way.
func (s *Sim) logHealth(name string, flow bool, h *healthTracker) {
	if h.split {
		s.logChange(name, flow, h.splitAt, h.splitL, h.splitR, h.splitWhy)
	}
	s.logChange(name, flow, h.since, h.level, h.reason, h.why)
}

func (s *Sim) logChange(name string, flow bool, at int64, l Health, r Reason, why string) {
	after, oc := s.noteChange(at, name, flow, l, r.By)
	e := Event{T: time.Duration(at), Component: name, Kind: EventHealth, Health: l, Fault: oc}
	if l == Healthy {
		e.What = "recovered: healthy"
	} else {
		e.Reason = r
		e.What = fmt.Sprintf("%s: %s%s", l, why, after)
	}
	s.logEvent(e)
}

// breakerFloor is what the breakers around a service say of its health.
type breakerFloor struct {
	level Health
	why   Reason
	at    int64 // when the breaker that decided it changed state
}

// breakerHealth sets, for every service, what the breakers around it say
// of it, in the Hystrix mapping of Vizceral: an open breaker on a call
// marks the callee failing and the caller degraded; a half-open one the
// callee degraded. One pass over the edges serves every service, so a
// window's close stays linear in the edges.
func (s *Sim) breakerHealth() []breakerFloor {
	if len(s.brFloor) != len(s.services) {
		s.brFloor = make([]breakerFloor, len(s.services))
	}
	fl := s.brFloor
	for i := range fl {
		fl[i] = breakerFloor{}
	}
	if len(s.edgeNames) != len(s.edges) {
		// Named once: a reason names its edge at every window without
		// building the name again.
		s.edgeNames = make([]string, len(s.edges))
		for k, ref := range s.edges {
			s.edgeNames[k] = s.edgeName(ref.svc, ref.edge)
		}
	}
	raise := func(svc int32, l Health, by Indicator, k int, t int64) {
		if l > fl[svc].level {
			fl[svc] = breakerFloor{l, Reason{By: by, Edge: s.edgeNames[k]}, t}
		}
	}
	for k, ref := range s.edges {
		e := &s.services[ref.svc].calls[ref.edge]
		for _, p := range e.pol {
			br := p.breaker
			if br == nil {
				break // no holder has one
			}
			st := br.State()
			if st == resilience.Closed || st == resilience.Disabled {
				continue
			}
			open := st == resilience.Open || st == resilience.ForcedOpen
			if e.kind == toService {
				switch {
				case open:
					raise(e.to, Failing, ByBreakerOpen, k, p.brAt)
				case st == resilience.HalfOpen:
					raise(e.to, Degraded, ByBreakerHalfOpen, k, p.brAt)
				}
			}
			if open {
				raise(ref.svc, Degraded, ByBreakerOpen, k, p.brAt)
			}
		}
	}
	return fl
}

// stateHealth is what a service's state says of it, beyond its answers:
// instances down (crashed, restarting) degrade it, none up fails it; a
// queue longer than its workers (saturated: requests wait more than they
// are served) degrades it.
func (sv *service) stateHealth(w *Window) (Health, Reason, int64) {
	down, since := 0, sv.s.winStart
	for i := range sv.insts {
		if in := &sv.insts[i]; !in.up && !in.retired {
			down++
			since = max(since, in.crashedAt) // when it went down
		}
	}
	switch {
	case down > 0 && sv.instsNow == 0:
		return Failing, Reason{By: ByNoInstanceUp}, since
	case down > 0:
		return Degraded, Reason{By: ByInstancesDown, Value: float64(down), Of: down + sv.instsNow}, since
	case w.QueueMean >= float64(sv.spec.Workers) && w.QueueMean > 0:
		return Degraded, Reason{By: BySaturated, Value: w.QueueMean}, sv.s.winStart
	}
	return Healthy, Reason{}, 0
}
