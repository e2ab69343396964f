package sim

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/sim/metrics"
	"github.com/faultline/faultline/sim/resilience"
)

// Window is one time-series sample of a component: what happened in
// [Start, Start+window). In JSON (the `series` of a client, flow, service
// or operation) Start is `t_s`, in seconds, as the CSV's column.
type Window struct {
	Start time.Duration `json:"-"`
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
	Latency metrics.Summary `json:"latency_ms"`
	// LatencyAll is of every request answered in the window, whatever its
	// outcome (ClientResult.LatencyAll), ms: clients and flows only, nil
	// for services and operations.
	LatencyAll *metrics.Summary `json:"latency_all_ms,omitempty"`
	// Services only: busy workers / all workers, queued requests per
	// instance (time average), and the longest queue of one instance.
	Utilisation float64 `json:"utilisation"`
	QueueMean   float64 `json:"queue_mean"`
	QueueMax    int     `json:"queue_max"`
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
	since     int64 // when the candidate level began
	streak    int
}

// observe feeds one window's level, which began at onset, and reports
// whether the tracked level changed.
func (h *healthTracker) observe(l Health, onset int64) bool {
	if l == h.level {
		h.streak = 0
		return false
	}
	// A move the same way as the candidate's (degraded, then failing)
	// continues it: the change began with the first of them.
	sameWay := h.streak > 0 && (l > h.level) == (h.candidate > h.level)
	switch {
	case sameWay:
		h.candidate = l
	case l != h.candidate || h.streak == 0:
		h.candidate, h.since, h.streak = l, onset, 0
	}
	h.streak++
	if h.streak < 2 {
		return false
	}
	h.level, h.streak = l, 0
	return true
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
		c.series = append(c.series, w)
		s.noteHealth(c.spec.Name, len(c.flows) == 0, &c.health, &w, &c.win)
		c.win.reset()
		for j := range c.flows {
			f := &c.flows[j]
			fw := f.win.window(start)
			f.series = append(f.series, fw)
			s.noteHealth(f.name, true, &f.health, &fw, &f.win)
			f.win.reset()
		}
	}
	floors := s.breakerHealth()
	for i := range s.services {
		sv := &s.services[i]
		sv.account(s.now)
		w := sv.win.window(start)
		if sv.winCap > 0 {
			w.Utilisation = sv.winBusy / sv.winCap
			w.QueueMean = sv.winQueue / sv.winInst
		}
		w.QueueMax = sv.winQMax
		sv.series = append(sv.series, w)
		if sv.perOp {
			for j := range sv.ops {
				o := &sv.ops[j]
				o.series = append(o.series, o.win.window(start))
				o.win.reset()
			}
		}
		floor, because, at := floors[i].level, floors[i].why, floors[i].at
		if l, why, t := sv.stateHealth(&w); l > floor {
			floor, because, at = l, why, t
		}
		s.noteHealthAtLeast(sv.spec.Name, false, &sv.health, &w, &sv.win, floor, because, at)
		switch over := w.Rejected > 0; {
		case over && !sv.overflow:
			s.logAt(sv.win.firstBad, sv.spec.Name, "queue full: rejecting requests")
		case !over && sv.overflow:
			s.logAt(s.winStart, sv.spec.Name, "queue no longer full")
		}
		sv.overflow = w.Rejected > 0
		sv.winBusy, sv.winQueue, sv.winQMax, sv.winCap, sv.winInst = 0, 0, 0, 0, 0
		sv.win.reset()
	}
	s.closeDataWindows(start)
	s.markEdges()
	s.winStart = s.now
}

func (t *tally) window(start time.Duration) Window {
	w := Window{
		Start: start, Sent: t.sent, OK: t.n[OK], Errors: t.n[Error], Timeouts: t.n[Timeout],
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

// noteHealth logs a component's change of health. The change is dated at
// its onset, not when it was confirmed: the first failure of the window in
// which it began, or the start of the first window of a recovery. That
// keeps the log in the order the cascade happened.
func (s *Sim) noteHealth(name string, flow bool, h *healthTracker, w *Window, t *tally) {
	s.noteHealthAtLeast(name, flow, h, w, t, Healthy, "", 0)
}

// noteHealthAtLeast is noteHealth with a floor from elsewhere than the
// window's outcomes: a breaker open on a call to or from the component.
func (s *Sim) noteHealthAtLeast(name string, flow bool, h *healthTracker, w *Window, t *tally, floor Health, because string, floorAt int64) {
	if w.outcomes() == 0 && floor == Healthy {
		return // nothing answered: no evidence either way
	}
	share := w.ErrorShare()
	l := HealthOf(share)
	if l == Healthy && float64(w.Degraded) >= 0.001*float64(w.outcomes()) && w.Degraded > 0 {
		// Answered by a fallback: users got less than they asked for.
		l = Degraded
	}
	l = max(l, floor)
	onset := s.winStart
	switch {
	case floor > HealthOf(share) && floor == l:
		onset = max(onset, floorAt) // when the breaker changed
	case HealthOf(share) < l && t.degraded > 0:
		onset = t.firstDegraded // the first answer by a fallback
	case l != Healthy && t.anyBad:
		onset = t.firstBad
	}
	if !h.observe(l, onset) {
		return
	}
	after := s.noteChange(h.since, name, flow, h.level)
	if h.level == Healthy {
		s.logAt(h.since, name, "recovered: healthy")
		return
	}
	why := fmt.Sprintf("error share %.1f%%", share*100)
	if w.Degraded > 0 && HealthOf(share) < h.level {
		why += fmt.Sprintf(", %.1f%% answered by a fallback", float64(w.Degraded)/float64(w.outcomes())*100)
	}
	if floor == h.level && because != "" {
		why += ", " + because
	}
	s.logAt(h.since, name, fmt.Sprintf("%s: %s%s", h.level, why, after))
}

// breakerFloor is what the breakers around a service say of its health.
type breakerFloor struct {
	level Health
	why   string
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
	raise := func(svc int32, l Health, what string, ref edgeRef, t int64) {
		if l > fl[svc].level {
			fl[svc] = breakerFloor{l, what + s.edgeName(ref.svc, ref.edge), t}
		}
	}
	for _, ref := range s.edges {
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
					raise(e.to, Failing, "breaker open on ", ref, p.brAt)
				case st == resilience.HalfOpen:
					raise(e.to, Degraded, "breaker half open on ", ref, p.brAt)
				}
			}
			if open {
				raise(ref.svc, Degraded, "breaker open on ", ref, p.brAt)
			}
		}
	}
	return fl
}

// stateHealth is what a service's state says of it, beyond its answers:
// instances down (crashed, restarting) degrade it, none up fails it; a
// queue longer than its workers (saturated: requests wait more than they
// are served) degrades it.
func (sv *service) stateHealth(w *Window) (Health, string, int64) {
	down, since := 0, sv.s.winStart
	for i := range sv.insts {
		if in := &sv.insts[i]; !in.up && !in.retired {
			down++
			since = max(since, in.crashedAt) // when it went down
		}
	}
	switch {
	case down > 0 && sv.instsNow == 0:
		return Failing, "no instance up", since
	case down > 0:
		return Degraded, fmt.Sprintf("%d of %d instances down", down, down+sv.instsNow), since
	case w.QueueMean >= float64(sv.spec.Workers) && w.QueueMean > 0:
		return Degraded, fmt.Sprintf("saturated: %.0f queued per instance", w.QueueMean), sv.s.winStart
	}
	return Healthy, "", 0
}
