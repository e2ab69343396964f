package sim

import (
	"fmt"
	"math"
	"time"
)

// SeriesKind says what a Window describes, and so which of its figures it
// carries and how it is written in JSON.
type SeriesKind uint8

const (
	// ClientSeries: a client or a flow; the request counts, the latency
	// of successes and of every answered request, blame.
	ClientSeries SeriesKind = iota
	// ServiceSeries: a service or an operation; the request counts, the
	// latency of successes, the queue figures (services), blame.
	ServiceSeries
	// EdgeSeries: a call edge; its calls' counts (Sent: made; OK, Errors
	// with conflicts, Timeouts, Rejected with the bulkhead's refusals:
	// how they ended, before fallbacks; Degraded: failures a fallback
	// answered), the latency of the calls that succeeded and of every
	// call that ended, as the caller saw them (EdgeResult.Latency), and
	// the engine's verdict (judgeEdge).
	EdgeSeries
	TopicSeries // Topic; no latency
	GroupSeries // Group; Latency from append to processed
	StoreSeries // Store; Latency of replication
	SagaSeries  // Saga; no latency
	ViewSeries  // View; no latency
)

// Window is one time-series sample of any component, what happened in
// [Start, End): one type for every kind, so that a view reads any
// series' time, health and latency the same way. The common part is the
// window's span, the request counts (clients, flows, services,
// operations), one latency summary, the engine's verdict and, for the
// kinds that answer requests, where their failures originated. Each data
// kind's own figures are in its small typed struct (TopicFigures,
// GroupFigures, StoreFigures, SagaFigures, ViewFigures) behind the one
// Figures field, nil for the kinds that answer requests: one small
// allocation per data component and window, never per event.
//
// Every component keeps one window per Spec.Window for the whole run, so
// the fields are ordered to leave no padding between them (the small ones
// share the first word), and what only the data kinds carry is out of
// line: TestWindowSize pins the size, which the memory budget counts.
//
// In JSON a window is written as its kind's figures, flat, after its
// start in seconds (`t_s`, the CSV's first column): MarshalJSON.
type Window struct {
	Kind SeriesKind
	// Health is the engine's verdict on the window, the worst of its
	// indicators (DESIGN.md), and Reason the indicator that decided it;
	// Reason.By is Idle when nothing answered and nothing was wrong.
	Health Health
	// Services only: the longest queue of one instance. (A queue holds
	// requests, fewer than an event can address: int32 holds it.)
	QueueMax int32
	// Start and End bound the window; End - Start is the window's width
	// (Spec.Window), less for a run's last window when the run stopped
	// between two.
	Start, End time.Duration

	// Sent is what a client sent, or what reached a service.
	Sent     uint64
	OK       uint64
	Errors   uint64
	Timeouts uint64
	Rejected uint64
	Shed     uint64
	Limited  uint64 // refused by a rate limit (429)
	Wasted   uint64 // a service's completed work whose caller had given up
	Degraded uint64 // a client's successes that a fallback answered in part
	// Latency is, in ms, of successful requests (clients, flows, services,
	// operations) or calls (edges); of records from their append to
	// their processing (groups); of replication, from a write's start
	// until a replica applied it (stores).
	Latency Latency
	// LatencyAll is of every request answered, or call ended, in the
	// window, whatever its outcome (ClientResult.LatencyAll), ms: clients,
	// flows and edges only.
	LatencyAll Latency
	// Services only: busy workers / all workers, queued requests per
	// instance (time average).
	Utilisation float64
	QueueMean   float64

	Reason Reason
	// Blame is where the window's failures originated (clients, flows,
	// services and operations; a saga's failed sagas; a consumer group's
	// records lost, read twice or behind: provenance.go); nil when
	// nothing failed.
	Blame *Blame
	// Slow is where the slowness of its slow answers originated (clients,
	// flows and services: slowness.go); nil when none was slow.
	Slow *Blame
	// prov is the window's Provenance when it is neither Slow nor Blame
	// alone: both, when its latency and its failures both judge it.
	prov *Blame

	// Figures are a data kind's own figures, of the type its Kind says
	// (read them with Topic, Group, Store, Saga, View), and an edge's
	// when a breaker refused a call in the window (Edge); nil for the
	// other kinds. One interface (two words) in place of five pointers of
	// which four were always nil.
	Figures Figures
}

// Figures are the figures of one data kind's window: *TopicFigures,
// *GroupFigures, *StoreFigures, *SagaFigures or *ViewFigures; or an
// edge's, *EdgeFigures.
type Figures interface{ figures() }

func (*EdgeFigures) figures() {}

func (*TopicFigures) figures() {}
func (*GroupFigures) figures() {}
func (*StoreFigures) figures() {}
func (*SagaFigures) figures()  {}
func (*ViewFigures) figures()  {}

// Topic returns a topic's window's own figures; nil for other kinds.
func (w *Window) Topic() *TopicFigures { f, _ := w.Figures.(*TopicFigures); return f }

// Group returns a consumer group's window's own figures; nil for other
// kinds.
func (w *Window) Group() *GroupFigures { f, _ := w.Figures.(*GroupFigures); return f }

// Store returns a store's window's own figures; nil for other kinds.
func (w *Window) Store() *StoreFigures { f, _ := w.Figures.(*StoreFigures); return f }

// Saga returns a saga's window's own figures; nil for other kinds.
func (w *Window) Saga() *SagaFigures { f, _ := w.Figures.(*SagaFigures); return f }

// View returns a CQRS view's window's own figures; nil for other kinds.
func (w *Window) View() *ViewFigures { f, _ := w.Figures.(*ViewFigures); return f }

// Edge returns a call edge's window's own figures: zero when no breaker
// refused a call in the window, and for other kinds.
func (w *Window) Edge() EdgeFigures {
	if f, ok := w.Figures.(*EdgeFigures); ok {
		return *f
	}
	return EdgeFigures{}
}

// EdgeFigures are a call edge's own figures in a window, beside its
// common counts. A window has them only when they are not zero: one small
// allocation at the close of a window in which a breaker refused calls,
// none otherwise (TestSteadyStateAllocs).
type EdgeFigures struct {
	// ShortCircuited counts the calls an open breaker refused: they ended
	// as errors, and are among the window's Errors (Hystrix's dashboard
	// shows them apart, as short-circuited).
	ShortCircuited uint64
}

// TopicFigures are a topic's own figures in a window. Its health:
// judgeTopic; idle when nothing was produced or lost and every partition
// is fully replicated.
type TopicFigures struct {
	Produced uint64 `json:"produced"`
	// Produce errors, records lost to an unclean leader election, and
	// the acknowledged ones among them (TopicResult's), when any.
	ProduceErrors uint64 `json:"produce_errors,omitempty"`
	Lost          uint64 `json:"lost,omitempty"`
	LostAcked     uint64 `json:"lost_acked,omitempty"`
}

// GroupFigures are a consumer group's own figures in a window.
type GroupFigures struct {
	Consumed   uint64  `json:"consumed"`
	Duplicates uint64  `json:"duplicates"`
	Lost       uint64  `json:"lost"`
	Dropped    uint64  `json:"dropped,omitempty"` // failed records given up on without a dead-letter topic
	LagRecords int64   `json:"lag_records"`       // the most seen at a window's end or a broker tick
	LagS       float64 `json:"lag_s"`             // likewise, the age of the oldest uncommitted record
	// BehindS is how long the oldest record not yet processed had waited
	// at the window's close: what lagHealth judges.
	BehindS float64 `json:"behind_s"`
}

// StoreFigures are a store's own figures in a window.
type StoreFigures struct {
	Reads       uint64 `json:"reads"`
	Writes      uint64 `json:"writes"`
	Stale       uint64 `json:"stale"`
	Unavailable uint64 `json:"unavailable"`
	Timeouts    uint64 `json:"timeouts"`               // operations whose quorum did not answer in time, when they gave up
	LostUpdates uint64 `json:"lost_updates,omitempty"` // acknowledged writes that last-writer-wins discards
}

// SagaFigures are a saga's own figures in a window.
type SagaFigures struct {
	Started      uint64 `json:"started"`
	Completed    uint64 `json:"completed"`
	Compensated  uint64 `json:"compensated"`
	Inconsistent uint64 `json:"inconsistent"`
	Running      uint64 `json:"running"`
	// Anomalous: sagas whose participants were found, as their commands
	// settled in the window, to disagree with the outcome recorded.
	Anomalous uint64 `json:"anomalous,omitempty"`
}

// ViewFigures are a CQRS view's own figures in a window.
type ViewFigures struct {
	Reads      uint64  `json:"reads"`
	Miss       uint64  `json:"read_your_writes_misses"`
	LagRecords int64   `json:"lag_records"`
	LagS       float64 `json:"lag_s"`
	BehindS    float64 `json:"behind_s"` // as GroupFigures.BehindS
}

// Last returns the latest window of a series, false when it has none.
func Last(ws []Window) (Window, bool) {
	if len(ws) == 0 {
		return Window{}, false
	}
	return ws[len(ws)-1], true
}

// MarshalJSON writes the window as its kind's figures, flat, after its
// start in seconds: the layout of the `run --json` contract (schema.go).
func (w Window) MarshalJSON() ([]byte, error) {
	return withStart(w.Start, w.jsonFields())
}

// JSONShape says what a window of kind k writes in JSON after its start,
// for the JSON Schema: a result's series says its kind in its field's
// `series` tag.
func (k SeriesKind) JSONShape() any { return Window{Kind: k}.jsonFields() }

var seriesNames = [...]string{ClientSeries: "client", ServiceSeries: "service", EdgeSeries: "edge",
	TopicSeries: "topic", GroupSeries: "group", StoreSeries: "store", SagaSeries: "saga", ViewSeries: "view"}

func (k SeriesKind) String() string {
	if int(k) < len(seriesNames) {
		return seriesNames[k]
	}
	return "unknown"
}

// jsonFields is the window in its kind's JSON layout: its figures, then
// the verdict (health, reason), then where its failures originated.
func (w Window) jsonFields() any {
	switch w.Kind {
	case EdgeSeries:
		return edgeJSON{w.Sent, w.OK, w.Errors, w.Timeouts, w.Rejected, w.Degraded, w.Latency, w.LatencyAll, w.Health, w.Reason}
	case TopicSeries:
		return topicJSON{orZero(w.Topic()), w.Health, w.Reason}
	case GroupSeries:
		return groupJSON{orZero(w.Group()), w.Latency, w.Health, w.Reason, w.Blame}
	case StoreSeries:
		return storeJSON{orZero(w.Store()), w.Latency, w.Health, w.Reason}
	case SagaSeries:
		return sagaJSON{orZero(w.Saga()), w.Health, w.Reason, w.Blame}
	case ViewSeries:
		return viewJSON{orZero(w.View()), w.Health, w.Reason, w.Blame}
	}
	var all *Latency
	if w.Kind == ClientSeries {
		all = &w.LatencyAll
	}
	return requestJSON{w.Sent, w.OK, w.Errors, w.Timeouts, w.Rejected, w.Shed, w.Limited, w.Wasted, w.Degraded,
		w.Latency, all, w.Utilisation, w.QueueMean, w.QueueMax, w.Health, w.Reason, w.Blame, w.Slow}
}

func orZero[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// The JSON layouts of the kinds' windows. A client's and a service's
// share one, latency_all_ms omitted for services.
type (
	requestJSON struct {
		Sent        uint64   `json:"sent"`
		OK          uint64   `json:"ok"`
		Errors      uint64   `json:"error"`
		Timeouts    uint64   `json:"timeout"`
		Rejected    uint64   `json:"rejected"`
		Shed        uint64   `json:"shed"`
		Limited     uint64   `json:"rate_limited"`
		Wasted      uint64   `json:"wasted"`
		Degraded    uint64   `json:"degraded"`
		Latency     Latency  `json:"latency_ms"`
		LatencyAll  *Latency `json:"latency_all_ms,omitempty"`
		Utilisation float64  `json:"utilisation"`
		QueueMean   float64  `json:"queue_mean"`
		QueueMax    int32    `json:"queue_max"`
		Health      Health   `json:"health"`
		Reason      Reason   `json:"reason,omitzero"`
		Blame       *Blame   `json:"blame"`
		Slow        *Blame   `json:"slow,omitempty"`
	}
	edgeJSON struct {
		Calls      uint64  `json:"calls"`
		OK         uint64  `json:"ok"`
		Errors     uint64  `json:"error"`
		Timeouts   uint64  `json:"timeout"`
		Rejected   uint64  `json:"rejected"`
		Fallbacks  uint64  `json:"fallbacks"`
		Latency    Latency `json:"latency_ms"`     // of calls that succeeded
		LatencyAll Latency `json:"latency_all_ms"` // of every call that ended
		Health     Health  `json:"health"`
		Reason     Reason  `json:"reason,omitzero"`
	}
	topicJSON struct {
		TopicFigures
		Health Health `json:"health"`
		Reason Reason `json:"reason,omitzero"`
	}
	groupJSON struct {
		GroupFigures
		EndToEnd Latency `json:"end_to_end_ms"`
		Health   Health  `json:"health"`
		Reason   Reason  `json:"reason,omitzero"`
		Blame    *Blame  `json:"blame"`
	}
	storeJSON struct {
		StoreFigures
		ReplicationLag Latency `json:"replication_lag_ms"`
		Health         Health  `json:"health"`
		Reason         Reason  `json:"reason,omitzero"`
	}
	sagaJSON struct {
		SagaFigures
		Health Health `json:"health"`
		Reason Reason `json:"reason,omitzero"`
		Blame  *Blame `json:"blame"`
	}
	viewJSON struct {
		ViewFigures
		Health Health `json:"health"`
		Reason Reason `json:"reason,omitzero"`
		Blame  *Blame `json:"blame"`
	}
)

// Provenance is the provenance of what made the window unhealthy, or of
// its failures when it is healthy: the origins of its slow answers (Slow)
// when its latency judges it unhealthy, and of its failures (Blame) when
// its error share or fallbacks judge it unhealthy or something other
// than latency decided it, both together when both do, each answer
// counted once (a slow answer succeeded, a failure did not): a window
// failing on latency from one fault while another fails 5% of its
// answers is given to both, in proportion to the answers each spoiled
// (judgeAnswers sets it). Its Origins are then at most twelve. The
// cascade, the blast radius and tui's "why is this red" read it.
func (w *Window) Provenance() *Blame {
	if w.prov != nil {
		return w.prov
	}
	if w.Reason.By == ByLatency {
		return w.Slow
	}
	return w.Blame
}

// settleProvenance sets what Provenance returns, from which sides of the
// window judge it unhealthy: its failures (fail) and its slow answers
// (slow); by is what decided it, the window's Reason.By to be. Only a
// window of both, or of the side its reason does not name, keeps a
// provenance of its own.
func (w *Window) settleProvenance(by Indicator, fail, slow bool) {
	var p *Blame
	switch {
	case fail && slow:
		p = mergeBlame(w.Blame, w.Slow)
	case slow:
		p = w.Slow
	default:
		p = w.Blame
	}
	named := w.Blame
	if by == ByLatency {
		named = w.Slow
	}
	w.prov = nil
	if p != named {
		w.prov = p
	}
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
	Healthy  Health = iota // error share < DegradedShare
	Degraded               // DegradedShare to FailingShare
	Failing                // > FailingShare
)

// Kiali's default thresholds of the share of errors (its health_config
// rate tolerance for 5xx and gRPC errors: degraded 0, failure 10, read
// as "if the rate of application errors is >= 0.1% Kiali will show
// Degraded health and if > 10% will show Failure health",
// https://kiali.io/docs/configuration/health). HealthOf judges with
// them, judgeAnswers and judgeEdge the share answered by a fallback with
// the first, and a view that explains the colours reads them here.
const (
	DegradedShare = 0.001 // at least this share: degraded
	FailingShare  = 0.10  // over this share: failing
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
	case errShare > FailingShare:
		return Failing
	case errShare >= DegradedShare:
		return Degraded
	}
	return Healthy
}

// healthTracker turns per-window health into transitions worth logging. A
// new level must hold for two windows in a row, so that a rate hovering at a
// threshold does not fill the log.
type healthTracker struct {
	label     string // a data component's name in the log (noteDataHealth)
	level     Health
	candidate Health
	since     int64 // when the candidate level's cause began
	streak    int
	// reason and acct are the candidate's cause, recorded at since, and
	// the figures the event log tells it by; reasonL is the level of the window
	// they were recorded from, which a milder window of another cause
	// may confirm (failing on latency, then degraded by a breaker):
	// atLevel then tells the reason at the level announced.
	reason  Reason
	reasonL Health
	acct    account
	// blame is the provenance of the window acct was recorded from,
	// which a change confirmed on the way keeps (splitBlame).
	blame *Blame
	// split is a change confirmed on the way to the one observe reports:
	// degraded for one cause, then failing for another that began later.
	// It is told by its own window's figures and blamed on that window's
	// provenance, not the later window's: the later cause may have begun
	// after the split change's date, when nothing of it had failed.
	split      bool
	splitAt    int64
	splitL     Health
	splitR     Reason
	splitAcct  account
	splitBlame *Blame
	// eased says the window just observed is milder than the candidate
	// was (easedFrom), for another cause (failing on errors for one
	// window, then degraded by fallbacks): the candidate eases to its
	// level, dated and told by the first window's cause, and account
	// says that cause's figures held the worse level one window.
	eased     bool
	easedFrom Health
}

// account records a, the figures of the window observe has just
// recorded, and b, where its failures originated. After an eased window the first window's account stays,
// marked as the worse level's, so that a change confirmed degraded is not
// told with failing figures alone; the milder window's cause is not
// named, as it may have begun after the change's date.
func (h *healthTracker) account(a account, b *Blame) {
	if h.eased {
		h.acct.easedFrom = h.easedFrom
		return
	}
	h.acct, h.blame = a, b
}

// account is what the event log tells of a window's verdict, kept as
// figures until a change is logged (text), so that judging a window
// formats nothing: a data kind's window's own figures, or the error
// share of a window of answers and the share a fallback answered.
type account struct {
	fig                 Figures
	errShare, fallbacks float64
	// easedFrom, when not Healthy, marks the account as that level's,
	// held one window before the change eased (healthTracker.eased).
	easedFrom Health
}

// text is the event log's account of a verdict for reason r.
func (a *account) text(r Reason) string {
	why := ""
	if a.fig != nil {
		why = dataWhy(a.fig, r)
	} else {
		why = answersWhy(a.errShare, a.fallbacks, r)
	}
	if a.easedFrom != Healthy {
		why += fmt.Sprintf(" (%s for one window)", a.easedFrom)
	}
	return why
}

// observe feeds one window's level, whose cause r began at onset. It
// reports whether to record the window's account as the candidate's
// (h.acct: the caller gives it) and whether the tracked level changed;
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
	h.split, h.eased = false, false
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
			h.split, h.splitAt, h.splitL, h.splitR, h.splitAcct, h.splitBlame = true, h.since, h.candidate, h.reason, h.acct, h.blame
		}
		h.candidate, h.since, h.reason, h.reasonL, record = l, max(onset, h.since), r, l, true
	case sameWay && l < h.candidate && h.candidate < h.level:
		// Better again (failing, a degraded window, then a healthy
		// one): the recovery is dated at its first healthy window. A
		// component is healthy when a window of its says so; dated at
		// the degraded one, a client would recover before its flows
		// still failing then.
		h.candidate, h.since, h.reason, h.reasonL, record = l, onset, r, l, true
	case sameWay || l == h.candidate && h.streak > 0:
		if l > h.level && l < h.candidate && !sameCause {
			h.eased, h.easedFrom, record = true, h.candidate, true
		}
		h.candidate = l
		if sameCause {
			h.reason, h.reasonL, record = r, l, true
		}
	default:
		h.candidate, h.since, h.reason, h.reasonL, h.streak, record = l, onset, r, l, 0, true
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
	start, end := time.Duration(s.winStart), time.Duration(s.now)
	for i := range s.clients {
		c := &s.clients[i]
		w := c.win.window(ClientSeries, start, end)
		w.Blame, w.Slow = s.blame(&c.win.blame), s.blame(&c.win.slow)
		s.noteHealth(c.spec.Name, len(c.flows) == 0, &c.health, &w, &c.win, &c.slow)
		s.keepWindow(&c.series, &w)
		c.win.reset()
		for j := range c.flows {
			f := &c.flows[j]
			fw := f.win.window(ClientSeries, start, end)
			fw.Blame, fw.Slow = s.blame(&f.win.blame), s.blame(&f.win.slow)
			s.noteHealth(f.name, true, &f.health, &fw, &f.win, &f.slow)
			s.keepWindow(&f.series, &fw)
			f.win.reset()
		}
	}
	floors := s.breakerHealth()
	for i := range s.services {
		sv := &s.services[i]
		sv.account(s.now)
		w := sv.win.window(ServiceSeries, start, end)
		w.Blame, w.Slow = s.blame(&sv.win.blame), s.blame(&sv.win.slow)
		if sv.winCap > 0 {
			w.Utilisation = sv.winBusy / sv.winCap
			w.QueueMean = sv.winQueue / sv.winInst
		}
		w.QueueMax = int32(sv.winQMax)
		if sv.perOp {
			for j := range sv.ops {
				o := &sv.ops[j]
				ow := o.win.window(ServiceSeries, start, end)
				ow.Blame = s.blame(&o.win.blame)
				// An operation's answers judge it; the state of the
				// service it shares judges the service.
				ow.Health, ow.Reason, _ = s.judgeAnswers(&ow, &o.win, nil, breakerFloor{}, breakerFloor{})
				s.keepWindow(&o.series, &ow)
				o.win.reset()
			}
		}
		l, why, t := sv.stateHealth(&w)
		s.noteHealthAtLeast(sv.spec.Name, false, &sv.health, &w, &sv.win, &sv.slow, breakerFloor{l, why, t, false}, floors[i])
		s.keepWindow(&sv.series, &w)
		switch over := sv.full; {
		case over && !sv.overflow:
			s.logEvent(Event{T: time.Duration(sv.fullAt), Component: sv.spec.Name, Kind: EventQueueFull, What: "queue full: rejecting requests"})
		case !over && sv.overflow:
			s.logEvent(Event{T: time.Duration(s.winStart), Component: sv.spec.Name, Kind: EventQueueDrained, What: "queue no longer full"})
		}
		sv.overflow, sv.full = sv.full, false
		sv.winBusy, sv.winQueue, sv.winQMax, sv.winCap, sv.winInst = 0, 0, 0, 0, 0
		sv.win.reset()
	}
	s.closeDataWindows(start, end)
	s.closeEdgeWindows(start, end)
	s.markEdges()
	s.winStart = s.now
}

// closeEdgeWindows closes every call edge's window: its calls' counts
// and latency as the caller saw them, and the engine's verdict on them
// (judgeEdge), which the TUI colours the edge with.
func (s *Sim) closeEdgeWindows(start, end time.Duration) {
	s.nameEdges()
	for _, ref := range s.edges {
		e := &s.services[ref.svc].calls[ref.edge]
		ok, all := summaries(&e.win, &e.pre, &s.allCalls)
		d, b := &e.stats, &e.winBase
		w := Window{Kind: EdgeSeries, Start: start, End: end, Latency: ok, LatencyAll: all,
			Sent: d.calls - b.calls, OK: d.out[OK] - b.out[OK],
			Errors:   d.out[Error] - b.out[Error] + d.out[Conflict] - b.out[Conflict],
			Timeouts: d.out[Timeout] - b.out[Timeout],
			// A call the bulkhead refused never started: Hystrix counts
			// it rejected, as the callee's refusals.
			Rejected: d.out[Rejected] - b.out[Rejected] + d.bulkheaded - b.bulkheaded,
			Degraded: d.fallbacks - b.fallbacks}
		if sc := d.shortCircuited - b.shortCircuited; sc > 0 {
			w.Figures = &EdgeFigures{ShortCircuited: sc}
		}
		w.Health, w.Reason = s.judgeEdge(&w, e)
		e.slow.learn(s, &e.win.ok)
		if !s.spec.NoEdgeSeries {
			s.keepWindow(&e.series, &w)
		}
		e.winBase = e.stats
		e.agg.merge(&e.win)
		e.win.reset()
		e.pre.reset()
	}
}

func (t *tally) window(k SeriesKind, start, end time.Duration) Window {
	w := Window{
		Kind: k, Start: start, End: end, Sent: t.sent, OK: t.n[OK], Errors: t.n[Error], Timeouts: t.n[Timeout],
		Rejected: t.n[Rejected], Shed: t.n[Shed], Limited: t.n[Limited], Wasted: t.wasted, Degraded: t.degraded,
		Latency: t.lat.Summarize(),
	}
	if t.all != nil {
		w.LatencyAll = t.all.Summarize()
	}
	return w
}

// noteHealth judges a client's or flow's window (judgeAnswers), and logs
// a change of its health. The change is dated at its onset, not when it
// was confirmed: the first failure of the window in which it began, or
// the start of the first window of a recovery. That keeps the log in the
// order the cascade happened.
func (s *Sim) noteHealth(name string, flow bool, h *healthTracker, w *Window, t *tally, sl *slowness) {
	s.noteHealthAtLeast(name, flow, h, w, t, sl, breakerFloor{}, breakerFloor{})
}

// noteHealthAtLeast is noteHealth with floors from elsewhere than the
// window's outcomes: its state (instances down, a saturated queue) and a
// breaker open on a call to or from the component. sl is its latency side, which learns
// its level before the first fault from the window.
func (s *Sim) noteHealthAtLeast(name string, flow bool, h *healthTracker, w *Window, t *tally, sl *slowness, state, br breakerFloor) {
	l, r, onset := s.judgeAnswers(w, t, sl, state, br)
	w.Health, w.Reason = l, r
	sl.learn(s, &t.lat)
	if r.By == Idle {
		return // nothing answered: no evidence either way
	}
	a := account{errShare: w.ErrorShare()}
	if n := w.outcomes(); w.Degraded > 0 && n > 0 {
		a.fallbacks = float64(w.Degraded) / float64(n)
	}
	s.noteVerdict(name, flow, h, w, onset, a, sl)
}

// noteVerdict feeds a window's verdict to its component's tracker (h,
// observe), and logs the change it confirms: one path for every kind. a
// is the window's figures, which the log tells the change by; sl the
// component's latency side, nil for a data kind.
func (s *Sim) noteVerdict(name string, flow bool, h *healthTracker, w *Window, onset int64, a account, sl *slowness) {
	record, changed := h.observe(w.Health, onset, s.winStart, w.Reason)
	if record && w.Health != Healthy {
		h.account(a, w.Provenance())
	}
	if !changed {
		return
	}
	h.atLevel(sl)
	// Where the failures that confirmed the change originated: those the
	// cascade counts of the window (Provenance: its slow answers and its
	// failed ones, when both sides judged it), so that the log and the
	// trace read one decision.
	s.logHealth(name, flow, h, w.Provenance())
}

// atLevel makes the figures of a confirmed change those of the level it
// announces. A change is told by the cause in force at its date, which
// may have been recorded from a worse window than the level that held
// for two windows: failing on latency for one window, then degraded by
// an open breaker, is a change to degraded, on latency, and the
// threshold it passed is the degraded one, not the failing one the
// first window passed. The other indicators give a measured figure (an
// error share, seconds behind), which is past the announced level's
// threshold too, and no threshold of their own.
func (h *healthTracker) atLevel(sl *slowness) {
	if h.reason.By != ByLatency || h.reasonL == h.level || sl == nil {
		return
	}
	h.reason.Limit, h.reasonL = seconds(sl.limit(h.level)), h.level
}

// logHealth logs the change of health h has just confirmed, with the
// reason recorded at its onset, after the one confirmed on the way (with
// the provenance of its own window); b is where the confirming window's
// failures originated (nil: not known).
func (s *Sim) logHealth(name string, flow bool, h *healthTracker, b *Blame) {
	if h.split {
		s.logChange(name, flow, h.splitAt, h.splitL, h.splitR, &h.splitAcct, h.splitBlame)
	}
	s.logChange(name, flow, h.since, h.level, h.reason, &h.acct, b)
}

func (s *Sim) logChange(name string, flow bool, at int64, l Health, r Reason, a *account, b *Blame) {
	after, oc := s.noteChange(at, name, flow, l, r.By, b)
	e := Event{T: time.Duration(at), Component: name, Kind: EventHealth, Health: l, Fault: oc}
	if l == Healthy {
		e.What = "recovered: healthy"
	} else {
		e.Reason = r
		e.What = fmt.Sprintf("%s: %s%s", l, a.text(r), after)
	}
	s.logEvent(e)
}

// breakerFloor is one indicator's verdict on a window, a candidate for
// its health (decide): what the breakers around a service say of it
// (around), or a state of the component (instances, queue, an edge's own
// breaker), or what its answers say.
type breakerFloor struct {
	level  Health
	why    Reason
	at     int64 // when the state that decided it began
	around bool  // a breaker on a call to or from the service judged
}

// breakerHealth sets, for every service, what the breakers around it say
// of it, in the Hystrix mapping of Vizceral: an open breaker on a call
// marks the callee failing and the caller degraded. A half-open breaker
// is still open in that mapping: Hystrix's circuit reports isOpen() true
// in its HalfOpenState, until a trial call succeeds and closes it
// (hystrix-core HystrixCircuitBreaker.java), and the dashboard Vizceral
// reads shows it open. So a breaker cycling open, half-open, open
// against a callee that stays slow holds its callee failing and its
// caller degraded throughout, rather than flapping at each trial (the
// reason says which state it was in). One pass over the edges serves
// every service, so a window's close stays linear in the edges.
func (s *Sim) breakerHealth() []breakerFloor {
	if len(s.brFloor) != len(s.services) {
		s.brFloor = make([]breakerFloor, len(s.services))
	}
	fl := s.brFloor
	for i := range fl {
		fl[i] = breakerFloor{}
	}
	s.nameEdges()
	raise := func(svc int32, l Health, by Indicator, k int, t int64) {
		if c := (breakerFloor{l, Reason{By: by, Edge: s.edgeNames[k]}, t, true}); outranks(c, fl[svc]) {
			fl[svc] = c
		}
	}
	for k, ref := range s.edges {
		e := &s.services[ref.svc].calls[ref.edge]
		for _, p := range e.pol {
			br := p.breaker
			if br == nil {
				break // no holder has one
			}
			open, by := breakerOpen(br.State())
			if !open {
				continue
			}
			if e.kind == toService {
				raise(e.to, Failing, by, k, p.brAt)
			}
			raise(ref.svc, Degraded, by, k, p.brAt)
		}
	}
	return fl
}

// nameEdges names the edges once: a reason names its edge at every
// window without building the name again.
func (s *Sim) nameEdges() {
	if len(s.edgeNames) != len(s.edges) {
		s.edgeNames = make([]string, len(s.edges))
		for k, ref := range s.edges {
			s.edgeNames[k] = s.edgeName(ref.svc, ref.edge)
		}
	}
}

// stateHealth is what a service's state says of it, beyond its answers:
// instances down (crashed, restarting) degrade it, none up fails it; a
// queue longer than its workers (saturated: requests wait more than they
// are served) degrades it.
//
// The state is the window's worst: an instance that came back within the
// window (it takes traffic from readyAt) counts as down in it, so that a
// recovery is dated no earlier than the restart that made it, not at the
// start of a window the instance spent down.
//
// None was up at some moment of the window when no instance up now was up
// through it and the instances came back only after the last went down:
// back at staggered times, one was always up, and the window is degraded.
func (sv *service) stateHealth(w *Window) (Health, Reason, int64) {
	down, back, since := 0, 0, sv.s.winStart
	firstBack := int64(math.MaxInt64)
	for i := range sv.insts {
		in := &sv.insts[i]
		switch {
		case !in.up && !in.retired:
			down++
			since = max(since, in.crashedAt) // when it went down
		case in.up && in.crashedAt >= 0 && in.readyAt > sv.s.winStart:
			back++
			since = max(since, in.crashedAt)
			firstBack = min(firstBack, in.readyAt)
		}
	}
	switch {
	case down+back > 0 && sv.instsNow == back && since < firstBack:
		return Failing, Reason{By: ByNoInstanceUp}, since
	case down+back > 0:
		return Degraded, Reason{By: ByInstancesDown, Value: float64(down + back), Of: down + sv.instsNow}, since
	case w.QueueMean >= float64(sv.spec.Workers) && w.QueueMean > 0:
		return Degraded, Reason{By: BySaturated, Value: w.QueueMean}, sv.s.winStart
	}
	return Healthy, Reason{}, 0
}
