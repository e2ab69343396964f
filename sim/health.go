package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/faultline/faultline/sim/resilience"
)

// The engine is the one judge of health (DESIGN.md, "one read model"):
// every window of every component carries its verdict, a Health and the
// Reason for it, decided once as the window closes, and the views colour
// what the engine decided instead of judging again.

// Indicator is what decided a window's health: one of DESIGN.md's
// indicators, the worst of which a component's health is.
type Indicator uint8

const (
	// ByNone: healthy, on the evidence of the window.
	ByNone Indicator = iota
	// Idle: nothing answered and nothing wrong in the component's state:
	// no evidence either way. The window's Health is Healthy and the
	// views draw it as idle.
	Idle
	// ByErrorShare: the share of answers that were not OK, with Kiali's
	// thresholds (HealthOf). Clients, flows, services, operations.
	ByErrorShare
	// ByFallbackShare: successes that a fallback answered in part, at
	// least 0.1% of the answers: users got less than they asked for.
	ByFallbackShare
	// ByBreakerOpen, ByBreakerHalfOpen: a breaker on a call to or from
	// the service (Reason.Edge), in Vizceral's Hystrix mapping
	// (breakerHealth): the callee failing, the caller degraded, while it
	// is open or half-open. They decide only when none of the
	// component's own indicators reaches their level (decidingOrder).
	ByBreakerOpen
	ByBreakerHalfOpen
	// ByInstancesDown (Value of Of instances), ByNoInstanceUp.
	ByInstancesDown
	ByNoInstanceUp
	// BySaturated: requests queue longer than the workers (Value queued
	// per instance, time average).
	BySaturated
	// ByLag: a consumer group or a view's projector is Value seconds
	// behind (lagHealth).
	ByLag
	// ByLossShare: a consumer group's duplicates and lost records, a
	// share (Value) of what it handled.
	ByLossShare
	// ByReadMisses: a view's reads that missed their own writes (Value, a
	// share of reads).
	ByReadMisses
	// ByStoreFailures: a store's stale reads, unavailable and timed-out
	// operations (Value, a share of its operations).
	ByStoreFailures
	// ByInconsistent: Value sagas left inconsistent in the window.
	ByInconsistent
	// ByStuck: sagas start and none completes (Value in flight).
	ByStuck
	// ByRolledBack: the share (Value) of the sagas that ended in the
	// window that were rolled back, of at least minEnded.
	ByRolledBack
	// ByOffline, ByUnderReplicated: Value partitions of a topic without a
	// leader, or with an ISR smaller than their replicas.
	ByOffline
	ByUnderReplicated
	// ByLatency: the window's successful answers were slow (slowness.go):
	// their Percentile-th percentile (Value, seconds) passed Limit
	// (seconds), the latency objective's threshold or a factor of the
	// component's own level before the first fault. Clients, flows,
	// services.
	ByLatency
)

var indicatorNames = [...]string{
	ByNone: "none", Idle: "idle", ByErrorShare: "error_share", ByFallbackShare: "fallback_share",
	ByBreakerOpen: "breaker_open", ByBreakerHalfOpen: "breaker_half_open", ByInstancesDown: "instances_down",
	ByNoInstanceUp: "no_instance_up", BySaturated: "saturated", ByLag: "lag", ByLossShare: "loss_share",
	ByReadMisses: "read_misses", ByStoreFailures: "store_failures", ByInconsistent: "inconsistent",
	ByStuck: "stuck", ByRolledBack: "rolled_back", ByOffline: "offline", ByUnderReplicated: "under_replicated",
	ByLatency: "latency",
}

func (i Indicator) String() string {
	if int(i) < len(indicatorNames) {
		return indicatorNames[i]
	}
	return fmt.Sprintf("Indicator(%d)", i)
}

// MarshalText writes the indicator by name in JSON.
func (i Indicator) MarshalText() ([]byte, error) { return []byte(i.String()), nil }

// MarshalText writes a health by name in JSON: "healthy", "degraded",
// "failing".
func (h Health) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// Reason is why a window's health is what it is: the indicator that
// decided it and its figure. Its zero value is ByNone.
type Reason struct {
	By Indicator `json:"by"`
	// Value is the indicator's figure: a share in [0, 1] for the shares,
	// queued requests per instance (saturated), instances down, seconds
	// behind (lag), sagas (inconsistent, stuck), partitions (offline,
	// under_replicated).
	Value float64 `json:"value,omitempty"`
	Of    int     `json:"of,omitempty"`   // instances_down: instances in all
	Edge  string  `json:"edge,omitempty"` // breaker_open, breaker_half_open: the call, "caller->callee"
	// latency: the percentile judged, and the threshold it passed, in
	// seconds.
	Percentile float64 `json:"percentile,omitempty"`
	Limit      float64 `json:"limit,omitempty"`
}

// floorText is how the event log says a state indicator of a service:
// one a service's answers alone do not show.
func (r Reason) floorText() string {
	switch r.By {
	case ByBreakerOpen:
		return "breaker open on " + r.Edge
	case ByBreakerHalfOpen:
		return "breaker half open on " + r.Edge
	case ByNoInstanceUp:
		return "no instance up"
	case ByInstancesDown:
		return fmt.Sprintf("%d of %d instances down", int(r.Value), r.Of)
	case BySaturated:
		return fmt.Sprintf("saturated: %.0f queued per instance", r.Value)
	}
	return ""
}

// judgeAnswers is the verdict of a client's, flow's, service's or
// operation's window: the worst of its indicators (DESIGN.md): its
// answers' error share with Kiali's thresholds, fallbacks, their latency
// (sl, nil for an operation: slowness.go), and the floors the
// component's state sets (state: instances, queue) and the breakers
// around it set (br). The Reason is the indicator that decided: the worst
// one, and of those at that level the first in decidingOrder. onset is
// when the deciding cause began: the first failure (or answer by a
// fallback, or slow answer) of the window, or when the floor's state
// began.
func (s *Sim) judgeAnswers(w *Window, t *tally, sl *slowness, state, br breakerFloor) (l Health, r Reason, onset int64) {
	n := w.outcomes()
	if n == 0 && state.level == Healthy && br.level == Healthy {
		return Healthy, Reason{By: Idle}, s.winStart // nothing answered: no evidence either way
	}
	share := w.ErrorShare()
	byShare := HealthOf(share)
	cands := [...]breakerFloor{
		{byShare, Reason{By: ByErrorShare, Value: share}, 0, false},
		fallbackFloor(w.Degraded, n),
		{}, // latency: slowness is a failure too
		state,
		br,
	}
	cands[2].level, cands[2].why = sl.judge(&t.lat)
	d := decide(cands[:])
	// The window is given to what made it unhealthy: its slow answers
	// when its latency does, its failures when their share or the
	// fallbacks do, or when something else decided (a state, whose
	// failures are its evidence).
	w.settleProvenance(d.why.By, d.why.By != ByLatency || cands[0].level > Healthy || cands[1].level > Healthy, cands[2].level > Healthy)
	l, r, onset = d.level, d.why, s.winStart
	switch r.By {
	case ByErrorShare:
		if t.anyBad {
			onset = t.firstBad
		}
	case ByFallbackShare:
		onset = t.firstDegraded // the first answer by a fallback
	case ByLatency:
		if t.slowN > 0 {
			onset = t.firstSlow // the first answer over the threshold
		} else if t.anyBad {
			onset = t.firstBad
		}
	default: // a floor: a state of the component or of a breaker
		if byShare < l {
			onset = max(onset, d.at) // when the state changed
		} else if t.anyBad {
			onset = t.firstBad // its errors alone made the level
		}
	}
	if l == Healthy {
		r = Reason{}
	}
	return l, r, onset
}

// decidingOrder is which indicator names a window's health when several
// reach its level, for every kind that answers requests (judgeAnswers)
// and for call edges (judgeEdge): the component's own state first (no
// instance up, instances down, a saturated queue; for an edge, its own
// breaker open or half-open, which short-circuits its calls: the cause of
// its failures), then its own answers (errors, slowness, fallbacks), and
// last the breakers around a service, which are its callers' judgement
// of those answers (Vizceral's Hystrix mapping, DESIGN.md). A callee that
// is slow and behind an open breaker is failing on latency; the breaker
// names it only when nothing of its own does (its callers sent it nothing
// while the breaker was open). The order is a fixed list, so the same
// window always gets the same reason.
var decidingOrder = [...]deciding{{ByNoInstanceUp, false}, {ByInstancesDown, false}, {BySaturated, false},
	{ByBreakerOpen, false}, {ByBreakerHalfOpen, false}, {ByErrorShare, false}, {ByLatency, false},
	{ByFallbackShare, false}, {ByBreakerOpen, true}, {ByBreakerHalfOpen, true}}

// deciding is an indicator's place in decidingOrder: around says it is a
// breaker on a call to or from the service judged, not the component's
// own.
type deciding struct {
	by     Indicator
	around bool
}

// decide is the candidate that names a window's verdict: the worst, and
// of those at its level the first in decidingOrder.
func decide(cands []breakerFloor) breakerFloor {
	d := cands[0]
	for _, c := range cands[1:] {
		if outranks(c, d) {
			d = c
		}
	}
	return d
}

// outranks reports whether candidate c names a window's verdict rather
// than d: it is worse, or as bad and before it in decidingOrder.
func outranks(c, d breakerFloor) bool {
	return c.level > d.level || c.level == d.level && c.level > Healthy && decidesBefore(c, d)
}

// decidesBefore reports whether candidate a names a level before b.
func decidesBefore(a, b breakerFloor) bool {
	ka, kb := deciding{a.why.By, a.around}, deciding{b.why.By, b.around}
	for _, x := range decidingOrder {
		switch x {
		case ka:
			return ka != kb
		case kb:
			return false
		}
	}
	return false
}

// fallbackFloor is what the answers a fallback gave (degraded, of n)
// say: degraded from DegradedShare of them, as users (or the caller)
// got less than they asked for.
func fallbackFloor(degraded, n uint64) breakerFloor {
	if degraded == 0 || float64(degraded) < DegradedShare*float64(n) {
		return breakerFloor{}
	}
	return breakerFloor{Degraded, Reason{By: ByFallbackShare, Value: float64(degraded) / float64(n)}, 0, false}
}

// answersWhy is the event log's account of a window of answers' health:
// the figure of the indicator that decided it (r.By) first, its error
// share, its fallbacks (the share they answered), its latency or the
// state floor, then the error share beside it when that was not the
// decider and some answers failed: a saturated queue or an instance down
// is not told as "error share 0.0%".
func answersWhy(share, fallbacks float64, r Reason) string {
	errs := fmt.Sprintf("error share %.1f%%", share*100)
	var why string
	switch {
	case r.By == ByErrorShare:
		return errs
	case r.By == ByFallbackShare:
		why = fmt.Sprintf("%.1f%% answered by a fallback", fallbacks*100)
	case r.By == ByLatency:
		why = r.latencyText()
	default:
		why = r.floorText()
	}
	if why == "" {
		return errs // no figure of its own to lead with
	}
	if share > 0 {
		why += ", " + errs
	}
	return why
}

// judgeEdge is the verdict on a call edge's window, the worst of: its
// breakers, in Vizceral's Hystrix mapping (DESIGN.md, "Visual
// vocabulary": an open breaker on a call marks it failing, and a
// half-open one too, as Hystrix's isOpen() holds: breakerOpen), the share
// of its calls that neither succeeded nor were answered by a fallback,
// with Kiali's thresholds (HealthOf, as judgeTotals judges the edge over
// the run), fallbacks (at least 0.1% of the calls: the caller got less
// than it asked for, as for a client), and the latency of its successful
// calls against their level before the first fault (slowness.go); at one
// level, the first in decidingOrder names it, as for a service. Nothing
// ended and no breaker open: idle.
func (s *Sim) judgeEdge(w *Window, e *edge) (Health, Reason) {
	var floor breakerFloor
	for _, p := range e.pol {
		br := p.breaker
		if br == nil {
			break // no holder has one
		}
		// The edge is the call the breaker guards: failing while it
		// counts as open, as its callee is (breakerHealth); its own
		// state, as an instance down is a service's.
		if open, by := breakerOpen(br.State()); open && (floor.level < Failing || by == ByBreakerOpen) {
			floor = breakerFloor{Failing, Reason{By: by, Edge: s.edgeNames[e.id]}, 0, false}
		}
	}
	n := w.outcomes()
	if n == 0 && floor.level == Healthy {
		return Healthy, Reason{By: Idle}
	}
	cands := [...]breakerFloor{{}, {}, {}, floor}
	if n > 0 {
		share := float64(n-w.OK-min(w.Degraded, n-w.OK)) / float64(n)
		cands[0] = breakerFloor{HealthOf(share), Reason{By: ByErrorShare, Value: share}, 0, false}
		cands[1] = fallbackFloor(w.Degraded, n)
	}
	cands[2].level, cands[2].why = e.slow.judge(&e.win.ok)
	d := decide(cands[:])
	if d.level == Healthy {
		return Healthy, Reason{}
	}
	return d.level, d.why
}

// breakerOpen reports whether a breaker in state st counts as open in
// DESIGN.md's Hystrix mapping (Vizceral), and the indicator that says so:
// open or forced open, and half-open too, as Hystrix's HalfOpenState
// reports isOpen() until a trial call closes it (hystrix-core
// HystrixCircuitBreaker.java). breakerHealth, judgeEdge and judgeTotals
// read it, so that a window's verdict and the run's agree.
func breakerOpen(st resilience.BreakerState) (bool, Indicator) {
	switch st {
	case resilience.Open, resilience.ForcedOpen:
		return true, ByBreakerOpen
	case resilience.HalfOpen:
		return true, ByBreakerHalfOpen
	}
	return false, ByBreakerOpen
}

// seconds is a duration in seconds, as the reasons give lag.
func seconds(ns int64) float64 { return float64(ns) / float64(time.Second) }

// judgeTotals decides the health of every client, service, operation and
// call edge over the whole run, from its totals (after warmup), with the
// same thresholds as its windows (HealthOf, Kiali's): the colour of a
// run's totals row. A component that answered nothing is healthy. The
// data kinds are judged by their windows' rules (judgeTopic, ...).
func (r *Result) judgeTotals() {
	for i := range r.Clients {
		c := &r.Clients[i]
		c.Health = rateHealth(c.SuccessRate, c.OK+c.Error+c.Timeout+c.Rejected+c.Shed+c.RateLimited)
		for j := range c.Flows {
			f := &c.Flows[j]
			f.Health = rateHealth(f.SuccessRate, f.OK+f.Failed)
		}
	}
	for i := range r.Components {
		c := &r.Components[i]
		c.Health = shareHealth(c.OK, c.OK+c.Error+c.Rejected+c.Shed+c.RateLimited)
		for j := range c.Operations {
			o := &c.Operations[j]
			o.Health = rateHealth(o.SuccessRate, o.OK+o.Failed)
		}
	}
	for i := range r.Edges {
		e := &r.Edges[i]
		// Vizceral's Hystrix mapping: a breaker open at the end marks the
		// edge failing; else the calls that neither succeeded nor were
		// answered by a fallback.
		if open, _ := breakerOpen(e.BreakerState); e.Breakers > 0 && open {
			e.Health = Failing
		} else {
			e.Health = shareHealth(e.OK+e.Fallbacks, e.Calls)
		}
	}
	// The data kinds' totals are judged as their results are built
	// (result_data.go), by the rule of their windows (judgeTopic, ...).
}

// The data kinds' rules: one per kind, which judges a window on its
// figures as it closes and the run on its totals (with the state at the
// end for what a window reads at its close: partitions, lag), so that
// the same figures get the same verdict at either level. Each returns
// Idle when there is nothing to judge: a window stays idle, a run is
// healthy (runHealth).

// judgeTopic: failing while a partition has no leader (offline),
// degraded while one is under-replicated; failing too when an
// acknowledged record was lost (an unclean leader election broke the
// producer's acks), and by Kiali's thresholds on the share of records
// that failed to be produced or were lost (ByLossShare). At one level,
// the partitions' state names it, as a component's own state does
// (decidingOrder).
func judgeTopic(f *TopicFigures, offline, under int) (Health, Reason) {
	n := f.Produced + f.ProduceErrors
	if n == 0 && f.Lost == 0 && offline == 0 && under == 0 {
		return Healthy, Reason{By: Idle}
	}
	cands := [...]breakerFloor{{}, {}, {}}
	if offline > 0 {
		cands[0] = breakerFloor{level: Failing, why: Reason{By: ByOffline, Value: float64(offline)}}
	}
	if under > 0 {
		cands[1] = breakerFloor{level: Degraded, why: Reason{By: ByUnderReplicated, Value: float64(under)}}
	}
	if n > 0 || f.Lost > 0 {
		share := float64(f.ProduceErrors+f.Lost) / float64(max(n, f.Lost))
		l := HealthOf(share)
		if f.LostAcked > 0 {
			l = Failing
		}
		cands[2] = breakerFloor{level: l, why: Reason{By: ByLossShare, Value: share}}
	}
	return verdict(cands[:])
}

// judgeGroup: a consumer group is degraded when a record waited 1 s to be
// processed, failing at 10 s (lagHealth, behind: at the window's close,
// or the run's end), and by Kiali's thresholds on the share of the
// records it handled that it read twice, lost, or gave up on without a
// dead-letter topic (ByLossShare). At one level, its lag names it.
func judgeGroup(f *GroupFigures, behind int64) (Health, Reason) {
	n := f.Consumed + f.Duplicates + f.Lost
	if n == 0 && behind == 0 {
		return Healthy, Reason{By: Idle}
	}
	share := 0.0
	if n > 0 {
		share = float64(f.Duplicates+f.Lost+f.Dropped) / float64(n)
	}
	return verdict([]breakerFloor{
		{level: lagHealth(behind), why: Reason{By: ByLag, Value: seconds(behind)}},
		{level: HealthOf(share), why: Reason{By: ByLossShare, Value: share}},
	})
}

// judgeView: a CQRS view by Kiali's thresholds on the share of its reads
// that missed their own writes, and by its projector's lag (lagHealth);
// at one level, its misses name it.
func judgeView(f *ViewFigures, behind int64) (Health, Reason) {
	if f.Reads == 0 && behind == 0 {
		return Healthy, Reason{By: Idle}
	}
	share := 0.0
	if f.Reads > 0 {
		share = float64(f.Miss) / float64(f.Reads)
	}
	return verdict([]breakerFloor{
		{level: HealthOf(share), why: Reason{By: ByReadMisses, Value: share}},
		{level: lagHealth(behind), why: Reason{By: ByLag, Value: seconds(behind)}},
	})
}

// judgeStore: a store by Kiali's thresholds on the share of its
// operations that read a stale value, found no quorum, timed out, or were
// acknowledged writes that last-writer-wins discarded.
func judgeStore(f *StoreFigures) (Health, Reason) {
	n := f.Reads + f.Writes
	if n == 0 {
		return Healthy, Reason{By: Idle}
	}
	share := float64(f.Stale+f.Unavailable+f.Timeouts+f.LostUpdates) / float64(n)
	return verdict([]breakerFloor{{level: HealthOf(share), why: Reason{By: ByStoreFailures, Value: share}}})
}

// judgeSaga: a saga fails when one was left inconsistent (a compensation
// failed) or anomalous (its participants disagree with its recorded
// outcome); it is degraded when sagas start and none completes (they wait
// on a step: stuck); else by Kiali's thresholds on the share of the sagas
// that ended that were rolled back, once at least minEnded ended: a share
// of a handful is noise (one rollback in two would read "failing").
func judgeSaga(f *SagaFigures) (Health, Reason) {
	ended := f.Completed + f.Compensated + f.Inconsistent
	switch {
	case f.Inconsistent+f.Anomalous > 0:
		return Failing, Reason{By: ByInconsistent, Value: float64(f.Inconsistent + f.Anomalous)}
	case f.Completed == 0 && f.Running > 0 && f.Started > 0:
		return Degraded, Reason{By: ByStuck, Value: float64(f.Running)}
	case ended >= minEnded:
		share := float64(f.Compensated) / float64(ended)
		return verdict([]breakerFloor{{level: HealthOf(share), why: Reason{By: ByRolledBack, Value: share}}})
	}
	return Healthy, Reason{By: Idle}
}

// verdict is the candidate that decides (decide), as a window's verdict:
// healthy has no reason.
func verdict(cands []breakerFloor) (Health, Reason) {
	d := decide(cands)
	if d.level == Healthy {
		return Healthy, Reason{}
	}
	return d.level, d.why
}

// runHealth is a run's health by a data kind's rule: idle is healthy.
func runHealth(l Health, _ Reason) Health { return l }

// shareHealth judges ok successes of n outcomes, rateHealth a success
// rate of n outcomes, failHealth bad ones of n. Nothing is healthy.
func shareHealth(ok, n uint64) Health { return failHealth(n-ok, n) }

func rateHealth(success float64, n uint64) Health {
	if n == 0 {
		return Healthy
	}
	return HealthOf(1 - success)
}

func failHealth(bad, n uint64) Health {
	if n == 0 {
		return Healthy
	}
	return HealthOf(float64(bad) / float64(n))
}

// logsAfter reports whether event a, already in the log, goes after e in
// it. The log is in order of time; at one instant, in the order of
// causality: what happened (a fault, a crash, a breaker's transition, a
// queue that filled or drained) before the health changes it explains,
// and of those, the change of a component before the changes of the
// components that depend on it (causeRank): payment recovers, then the
// checkout that calls it, then the client. Otherwise in the order logged.
func (s *Sim) logsAfter(a, e *Event) bool {
	switch {
	case a.T != e.T:
		return a.T > e.T
	case a.Kind != EventHealth:
		return false
	case e.Kind != EventHealth:
		return true
	}
	return s.causeRank(a.Component) > s.causeRank(e.Component)
}

// causeRank is how high a component stands in the call graph: a store or
// topic 0, a service one above the highest it calls (1 when it calls
// none), a consumer group or a view one above its consuming service, a
// client's flows one above the service the client targets and the client
// one above its flows, a saga above every service. A name it does not
// know ranks last.
func (s *Sim) causeRank(name string) int {
	if s.causeRanks == nil {
		s.causeRanks = s.rankComponents()
	}
	if r, ok := s.causeRanks[name]; ok {
		return r
	}
	return math.MaxInt
}

func (s *Sim) rankComponents() map[string]int {
	height := make([]int, len(s.services)) // 0: not yet known
	var up func(i int32) int
	up = func(i int32) int {
		switch height[i] {
		case -1:
			return 0 // a cycle: the call back adds nothing
		case 0:
			height[i] = -1
			h := 1
			for j := range s.services[i].calls {
				if e := &s.services[i].calls[j]; e.kind == toService {
					h = max(h, up(e.to)+1)
				}
			}
			height[i] = h
		}
		return height[i]
	}
	m := map[string]int{}
	top := 1
	for i := range s.services {
		m[s.services[i].spec.Name] = up(int32(i))
		top = max(top, height[i])
	}
	for i := range s.stores {
		m["store "+s.stores[i].spec.Name] = 0
	}
	for i := range s.topics {
		m["topic "+s.topics[i].spec.Name] = 0
	}
	for i := range s.groups {
		if g := &s.groups[i]; g.svc >= 0 {
			m[g.label()] = height[g.svc] + 1
		} else {
			m[g.label()] = top + 1
		}
	}
	for i := range s.views {
		m["view "+s.views[i].spec.Name] = top + 2
	}
	for i := range s.sagas {
		m["saga "+s.sagas[i].spec.Name] = top + 1
	}
	for i := range s.clients {
		c := &s.clients[i]
		h := height[c.target] + 1
		for j := range c.flows {
			m[c.flows[j].name] = h
		}
		if len(c.flows) > 0 {
			h++
		}
		m[c.spec.Name] = max(m[c.spec.Name], h)
	}
	return m
}
