package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/faultline/faultline/sim/metrics"
	"github.com/faultline/faultline/sim/resilience"
)

// Result is what a run measured. Aggregates cover the time after warmup:
// requests sent (or arrived) before it are not counted.
type Result struct {
	Scenario   string            `json:"scenario"`
	Seed       uint64            `json:"seed"`
	DurationS  float64           `json:"duration_s"`
	WarmupS    float64           `json:"warmup_s"`
	TimeS      float64           `json:"time_s"` // virtual time reached: DurationS once the run is done
	Clients    []ClientResult    `json:"clients"`
	Components []ComponentResult `json:"components"`
	Edges      []EdgeResult      `json:"edges"`
	Brokers    []BrokerResult    `json:"brokers,omitempty"`
	Topics     []TopicResult     `json:"topics,omitempty"`
	Groups     []GroupResult     `json:"groups,omitempty"`
	Stores     []StoreResult     `json:"stores,omitempty"`
	Sagas      []SagaResult      `json:"sagas,omitempty"`
	Views      []ViewResult      `json:"views,omitempty"`
	// Cascades says how each fault occurrence spread: what turned
	// unhealthy after it, in order, and its blast radius.
	Cascades []CascadeResult `json:"cascades"`
	// Faults are the fault occurrences, in order of their starts: Faults[k]
	// and Cascades[k] are the same occurrence.
	Faults []FaultSpan   `json:"faults"`
	Events []EventResult `json:"events"`
	// EventsDropped counts the events past the log's bound (the first
	// 100,000 are kept): they happened, but are not listed.
	EventsDropped uint64 `json:"events_dropped"`
	// Series holds every client's and service's time series, clients
	// first, for run's --csv, the TUI and bench; in JSON each client and
	// component carries its own (ClientResult.Series), as every flow,
	// operation and data component does.
	Series []Series `json:"-"`
}

// Latency summarises a set of latencies, in milliseconds: of successful
// requests unless its field says otherwise (latency_all_ms). Count is how
// many there were. It is the one latency summary of the result, of totals
// and windows alike: the histogram's own (metrics.Summary).
type Latency = metrics.Summary

func latencyOf(h *metrics.Histogram) Latency { return h.Summarize() }

// ClientResult is one client's view: every request it sent ends in exactly
// one of OK, Error, Timeout, Rejected, Shed, or is still InFlight at the end.
type ClientResult struct {
	Name        string `json:"name"`
	Target      string `json:"target"`
	Sent        uint64 `json:"sent"`
	OK          uint64 `json:"ok"`
	Error       uint64 `json:"error"`
	Timeout     uint64 `json:"timeout"`
	Rejected    uint64 `json:"rejected"`
	Shed        uint64 `json:"shed"`
	RateLimited uint64 `json:"rate_limited"`
	InFlight    uint64 `json:"in_flight"`
	// Degraded counts the OK requests that a fallback answered in part.
	Degraded    uint64  `json:"degraded"`
	SuccessRate float64 `json:"success_rate"` // OK / answered (sent - in flight)
	GoodputRPS  float64 `json:"goodput_rps"`  // OK per second after warmup
	// Latency is of successful requests, from send to answer.
	Latency Latency `json:"latency_ms"`
	// LatencyAll is of every answered request, whatever its outcome: from
	// its send to its outcome as the client saw it: the answer for OK,
	// error, rejected, shed and rate limited, the client's timeout for a
	// timeout, 0 for a connection refused at once (no instance up). Its
	// count is OK + Error + Timeout + Rejected + Shed + RateLimited. During
	// an outage Latency can fall (the slow requests turn into timeouts,
	// which it leaves out) while LatencyAll rises.
	LatencyAll Latency `json:"latency_all_ms"`
	// Flows splits the client's requests by gateway route or by operation
	// of its target, when it has several.
	Flows []FlowResult `json:"flows,omitempty"`
	// Health is the engine's verdict on the whole run (judgeTotals).
	Health Health `json:"-"`
	// Series is the client's time series, one Window per window.
	Series []Window `json:"series,omitempty" series:"client"`
}

// FlowResult is a client's requests along one route or to one operation.
type FlowResult struct {
	Name        string  `json:"name"` // "shoppers /checkout", "shoppers search"
	Sent        uint64  `json:"sent"`
	OK          uint64  `json:"ok"`
	Failed      uint64  `json:"failed"` // error, timeout, rejected, shed or rate limited
	SuccessRate float64 `json:"success_rate"`
	Latency     Latency `json:"latency_ms"`     // of successful requests
	LatencyAll  Latency `json:"latency_all_ms"` // of every answered request (ClientResult.LatencyAll)
	// Health is the engine's verdict on the whole run (judgeTotals).
	Health Health   `json:"-"`
	Series []Window `json:"series,omitempty" series:"client"`
}

// OperationResult is one operation of a service, after warmup.
type OperationResult struct {
	Name        string  `json:"name"`
	Arrivals    uint64  `json:"arrivals"`
	OK          uint64  `json:"ok"`
	Failed      uint64  `json:"failed"` // error, rejected, shed or rate limited
	SuccessRate float64 `json:"success_rate"`
	Latency     Latency `json:"latency_ms"` // of successful requests
	// Health is the engine's verdict on the whole run (judgeTotals).
	Health Health   `json:"-"`
	Series []Window `json:"series,omitempty" series:"service"`
}

// ComponentResult is one service's view. Arrivals = OK + Error + Rejected +
// Shed + InProgress.
type ComponentResult struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Instances   int    `json:"instances"`    // configured
	InstancesUp int    `json:"instances_up"` // taking traffic at the end (crashes, autoscaling)
	Workers     int    `json:"workers"`
	Arrivals    uint64 `json:"arrivals"`
	OK          uint64 `json:"ok"`
	Error       uint64 `json:"error"`
	Rejected    uint64 `json:"rejected"`
	Shed        uint64 `json:"shed"`
	RateLimited uint64 `json:"rate_limited"`
	InProgress  uint64 `json:"in_progress"`
	// Wasted counts requests completed after their caller had given up.
	Wasted        uint64  `json:"wasted"`
	ThroughputRPS float64 `json:"throughput_rps"` // completed (OK or Error) per second
	Utilisation   float64 `json:"utilisation"`    // busy workers / workers of instances up, time average
	InSystemMean  float64 `json:"in_system_mean"` // busy + queued requests (+ an async service's waiting on calls), time average (Little's L)
	QueueMean     float64 `json:"queue_mean"`     // queued requests per instance up, time average
	QueueMax      int     `json:"queue_max"`      // longest queue of one instance
	// Latency is the time from arrival to the end of the work, queueing and
	// downstream calls included, of requests that succeeded.
	Latency Latency `json:"latency_ms"`
	// Operations are the service's endpoints, when it declares them.
	Operations []OperationResult `json:"operations,omitempty"`
	External   bool              `json:"external,omitempty"` // a third-party dependency
	// CPUThrottling is what its instances' cgroups report under its
	// cpu_limit; nil without one.
	CPUThrottling *CPUThrottling `json:"cpu_throttling,omitempty"`
	// Health is the engine's verdict on the whole run (judgeTotals).
	Health Health `json:"-"`
	// Series is the service's time series, one Window per window.
	Series []Window `json:"series,omitempty" series:"service"`
}

// CPUThrottling is a service's CFS bandwidth statistics under its
// cpu_limit, summed over its instances: the kernel's cpu.stat
// (docs.kernel.org/scheduler/sched-bwc.html, "Statistics") and cAdvisor's
// container_cpu_cfs_periods_total, _throttled_periods_total and
// _throttled_seconds_total.
type CPUThrottling struct {
	CPULimit float64 `json:"cpu_limit"` // cores per instance
	// Periods counts the periods in which an instance had work
	// (nr_periods), Throttled those in which its work waited on the spent
	// quota (nr_throttled), and ThrottledS that wait (throttled_time).
	Periods    uint64  `json:"nr_periods"`
	Throttled  uint64  `json:"nr_throttled"`
	ThrottledS float64 `json:"throttled_time_s"`
	// ThrottledShare is Throttled / Periods, the share Kubernetes alerts
	// on (CPUThrottlingHigh: throttled periods over periods).
	ThrottledShare float64 `json:"throttled_share"`
}

// EdgeResult is what happened on one call edge, caller->callee. A call is
// one logical call; its attempts are the first try, retries and hedges.
type EdgeResult struct {
	Name string `json:"name"` // "caller->callee": ID.String()
	// ID is who calls what, typed, for a view: it never parses Name.
	ID       EdgeID `json:"-"`
	Calls    uint64 `json:"calls"`
	Attempts uint64 `json:"attempts"`
	Retries  uint64 `json:"retries"`
	Hedges   uint64 `json:"hedges"`
	// Cancelled counts attempts abandoned because another attempt of the
	// same call answered first (hedging).
	Cancelled       uint64  `json:"cancelled"`
	OK              uint64  `json:"ok"`
	Error           uint64  `json:"error"`
	Timeout         uint64  `json:"timeout"`
	Rejected        uint64  `json:"rejected"`                 // rejected, shed or rate limited by the callee
	Conflict        uint64  `json:"conflict,omitempty"`       // conditional writes to a store that found the key changed
	ShortCircuited  uint64  `json:"short_circuited"`          // refused by an open breaker
	BulkheadFull    uint64  `json:"bulkhead_full"`            // refused by the bulkhead
	BudgetExhausted uint64  `json:"budget_exhausted"`         // retries, and hedged copies, the budget or throttle refused
	RetryOverflow   uint64  `json:"retry_overflow,omitempty"` // retries over max_retries or the retry_budget (Envoy's upstream_rq_retry_overflow)
	Fallbacks       uint64  `json:"fallbacks"`                // failures turned into degraded successes
	Amplification   float64 `json:"retry_amplification"`      // attempts / calls
	// Scope says who holds the edge's breaker, retry budget or throttle,
	// outlier detection, bulkhead and least_request counts: "instance"
	// (each caller instance its own) or "service" (one shared); empty when
	// the edge has none of them.
	Scope string `json:"scope,omitempty"`
	// Breaker is the breaker's state at the end; with one breaker per
	// caller instance, the most severe of their states (OPEN, then
	// HALF_OPEN, then CLOSED), and BreakersOpen how many of the Breakers
	// count as open, half-open ones included, as for the edge's health
	// (breakerOpen: Hystrix's isOpen()).
	Breaker string `json:"breaker,omitempty"`
	// BreakerState is Breaker typed, for a view that colours it; CLOSED
	// when the edge has no breaker (Breakers is 0).
	BreakerState   resilience.BreakerState `json:"-"`
	Breakers       int                     `json:"breakers,omitempty"`
	BreakersOpen   int                     `json:"breakers_open,omitempty"`
	BreakerChanges uint64                  `json:"breaker_transitions,omitempty"` // of all its breakers
	Ejections      uint64                  `json:"ejections,omitempty"`           // outlier detection, by all holders
	// Latency is of the calls that succeeded, as the caller saw them: from
	// the call's start to its end, every attempt, back-off and hedge
	// included, so the callee's latency plus the network's and the
	// caller's policies. LatencyAll is of every call that ended, whatever
	// its outcome (before a fallback): a timed-out call at its timeout, a
	// short-circuited one at once. Its count is OK + Error + Timeout +
	// Rejected + Conflict.
	Latency    Latency `json:"latency_ms"`
	LatencyAll Latency `json:"latency_all_ms"`
	// Health is the engine's verdict on the whole run (judgeTotals).
	Health Health `json:"-"`
	// Series is the edge's calls window by window: their counts, latency
	// and the engine's verdict on them (judgeEdge).
	Series []Window `json:"series,omitempty" series:"edge"`

	// CallerCancelled counts calls dropped because their caller went away
	// (its instance crashed): gRPC's CANCELLED. InFlight counts calls
	// still waiting at the end. With them every call has one ending:
	// Calls = OK + Error + Timeout + Rejected + Conflict + BulkheadFull +
	// CallerCancelled + InFlight (short-circuited calls are errors).
	CallerCancelled uint64 `json:"caller_cancelled,omitempty"`
	InFlight        uint64 `json:"in_flight,omitempty"`
}

// EventResult is an Event for output. What is its text, rendered by the
// engine for people; Kind and the fields after it say the same typed, for
// a reader (a view, a test) that must not parse What.
type EventResult struct {
	TS        float64   `json:"t_s"`
	Component string    `json:"component"`
	What      string    `json:"what"`
	Kind      EventKind `json:"kind"`
	// Health and Reason: a health change's new level and its cause, in
	// force at TS (kind "health" only).
	Health Health `json:"-"`
	Reason Reason `json:"-"`
	// Breaker is a breaker transition's new state (kind "breaker" only).
	Breaker resilience.BreakerState `json:"-"`
	// Fault indexes Result.Faults: the occurrence a fault event starts or
	// ends, or the one a change for the worse followed; -1 when none.
	Fault int `json:"-"`
}

// EventJSON is the JSON shape of an EventResult: only the typed fields its
// kind has, health and reason for a health change, breaker for a
// transition, fault when it names one.
type EventJSON struct {
	TS        float64   `json:"t_s"`
	Component string    `json:"component"`
	What      string    `json:"what"`
	Kind      EventKind `json:"kind"`
	Health    *Health   `json:"health,omitempty"`
	Reason    *Reason   `json:"reason,omitempty"`
	Breaker   string    `json:"breaker,omitempty"`
	Fault     *int      `json:"fault,omitempty"`
}

// JSONShape says what MarshalJSON writes, for the JSON Schema.
func (EventResult) JSONShape() any { return EventJSON{} }

// MarshalJSON writes the event as an EventJSON.
func (e EventResult) MarshalJSON() ([]byte, error) {
	o := EventJSON{TS: e.TS, Component: e.Component, What: e.What, Kind: e.Kind}
	switch e.Kind {
	case EventHealth:
		o.Health = &e.Health
		if e.Health != Healthy {
			o.Reason = &e.Reason
		}
	case EventBreaker:
		o.Breaker = e.Breaker.String()
	}
	if e.Fault >= 0 {
		o.Fault = &e.Fault
	}
	return json.Marshal(o)
}

// FaultSpan is one occurrence of a fault: what it was, what it hit, and
// when it was active.
type FaultSpan struct {
	Kind FaultKind `json:"kind"`
	// Component is what it hit as the event log names it: "payment",
	// "payment#1", "checkout->payment"; Target is the fault's target as
	// the scenario gave it.
	Component string `json:"component"`
	Target    string `json:"target"`
	What      string `json:"what"` // "latency +800ms", as the event log says it
	// Start and End are virtual times; End is -1 while it lasts. In JSON
	// start_s and end_s, in seconds (end_s null while it lasts).
	Start time.Duration `json:"-"`
	End   time.Duration `json:"-"`
	// Fault indexes the run's faults: the scenario's, in order, then those
	// injected during the run. Params are its parameters (shared with the
	// Sim: read them, do not change them).
	Fault  int    `json:"fault"`
	Params *Fault `json:"-"`
	Manual bool   `json:"manual,omitempty"` // injected by a driver during the run (the TUI's :fault)
}

// FaultSpanJSON is the JSON shape of a FaultSpan: its times in seconds,
// end_s null while it lasts.
type FaultSpanJSON struct {
	Kind      FaultKind `json:"kind"`
	Component string    `json:"component"`
	Target    string    `json:"target"`
	What      string    `json:"what"`
	Fault     int       `json:"fault"`
	Manual    bool      `json:"manual,omitempty"`
	StartS    float64   `json:"start_s"`
	EndS      *float64  `json:"end_s"`
}

// JSONShape says what MarshalJSON writes, for the JSON Schema.
func (FaultSpan) JSONShape() any { return FaultSpanJSON{} }

// MarshalJSON writes the span as a FaultSpanJSON.
func (f FaultSpan) MarshalJSON() ([]byte, error) {
	o := FaultSpanJSON{Kind: f.Kind, Component: f.Component, Target: f.Target, What: f.What,
		Fault: f.Fault, Manual: f.Manual, StartS: f.Start.Seconds()}
	if f.End >= 0 {
		o.EndS = optional(f.End.Seconds())
	}
	return json.Marshal(o)
}

// Active reports whether the occurrence was active at some time in
// [from, to).
func (f *FaultSpan) Active(from, to time.Duration) bool {
	return f.Start < to && (f.End < 0 || f.End > from)
}

// faultSpans lists every fault occurrence so far.
func (s *Sim) faultSpans() []FaultSpan {
	out := make([]FaultSpan, len(s.occurs))
	for k := range s.occurs {
		oc := &s.occurs[k]
		f := &s.faults[oc.fault]
		out[k] = FaultSpan{Kind: f.spec.Kind, Component: oc.target, Target: f.spec.Target, What: oc.what,
			Start: time.Duration(oc.start), End: time.Duration(oc.end), Fault: int(oc.fault), Params: f.spec, Manual: f.manual}
	}
	return out
}

// Series is one component's time series.
type Series struct {
	Component string
	Kind      string // "client" or "service"
	Windows   []Window
}

// Result summarises the run so far; after the run it is the final result.
func (s *Sim) Result() *Result {
	span := float64(s.now-s.warmup) / 1e9
	perSec := func(n uint64) float64 {
		if span <= 0 {
			return 0
		}
		return float64(n) / span
	}
	res := &Result{
		Scenario:  s.spec.Name,
		Seed:      s.seed,
		DurationS: float64(s.end) / 1e9,
		WarmupS:   float64(s.warmup) / 1e9,
		TimeS:     float64(s.now) / 1e9,
	}
	inFlight := make([]uint64, len(s.clients))
	inProgress := make([]uint64, len(s.services))
	for i := range s.reqs.r {
		r := &s.reqs.r[i]
		if r.parent == noParent && r.is(reqCounted) && !r.is(reqAbandoned) {
			inFlight[r.origin]++
		}
		if r.state == atService && s.svcCounted(r) && r.svc >= 0 && !r.is(reqInProc) {
			inProgress[r.svc]++ // an in-process call is no arrival at its service
		}
	}
	for i := range s.clients {
		c := &s.clients[i]
		a := &c.agg
		cr := ClientResult{
			Name: c.spec.Name, Target: c.spec.Target,
			Sent: a.sent, OK: a.n[OK], Error: a.n[Error], Timeout: a.n[Timeout], Rejected: a.n[Rejected],
			Shed: a.n[Shed], RateLimited: a.n[Limited],
			Degraded: a.degraded,
			InFlight: inFlight[i], GoodputRPS: perSec(a.n[OK]), Latency: latencyOf(&a.lat), LatencyAll: latencyOf(a.all),
			Series: c.series,
		}
		if n := a.outcomes(); n > 0 {
			cr.SuccessRate = float64(a.n[OK]) / float64(n)
		}
		for j := range c.flows {
			f := &c.flows[j]
			fr := FlowResult{Name: f.name, Sent: f.agg.sent, Series: f.series}
			fr.OK, fr.Failed, fr.SuccessRate, fr.Latency = f.agg.summary()
			fr.LatencyAll = latencyOf(f.agg.all)
			cr.Flows = append(cr.Flows, fr)
		}
		res.Clients = append(res.Clients, cr)
		res.Series = append(res.Series, Series{Component: c.spec.Name, Kind: "client", Windows: c.series})
	}
	for i := range s.services {
		sv := &s.services[i]
		// The integrals up to now, without moving the service's own
		// accounting: reading a result must not change the run, not even
		// in the order of its floating-point sums.
		dt := float64(s.now - sv.lastT)
		busy, queue := sv.aggBusy+float64(sv.busy)*dt, sv.aggQueue+float64(sv.queued)*dt
		wait := sv.aggWait + float64(sv.waiting)*dt
		capacity, insts := sv.aggCap+float64(sv.capNow)*dt, sv.aggInst+float64(sv.instsNow)*dt
		a := &sv.agg
		kind := "service"
		if sv.spec.Gateway != nil {
			kind = "gateway"
		}
		cr := ComponentResult{
			Name: sv.spec.Name, Kind: kind, Instances: sv.spec.Instances, InstancesUp: sv.instsNow, Workers: sv.spec.Workers,
			Arrivals: a.sent, OK: a.n[OK], Error: a.n[Error], Rejected: a.n[Rejected], Shed: a.n[Shed],
			RateLimited: a.n[Limited], InProgress: inProgress[i],
			Wasted: a.wasted, ThroughputRPS: perSec(a.n[OK] + a.n[Error]), QueueMax: sv.aggQMax,
			Latency: latencyOf(&a.lat), Series: sv.series,
		}
		if t := float64(s.now - sv.aggStart); t > 0 {
			cr.InSystemMean = (busy + queue + wait) / t
		}
		if capacity > 0 {
			cr.Utilisation = busy / capacity
			cr.QueueMean = queue / insts
		}
		cr.External = sv.spec.External
		cr.CPUThrottling = sv.throttling(s.now)
		for j := range sv.ops {
			if !sv.perOp {
				break // the implicit operation: the service itself
			}
			o := &sv.ops[j]
			or := OperationResult{Name: o.name, Arrivals: o.agg.sent, Series: o.series}
			or.OK, or.Failed, or.SuccessRate, or.Latency = o.agg.summary()
			cr.Operations = append(cr.Operations, or)
		}
		res.Components = append(res.Components, cr)
		res.Series = append(res.Series, Series{Component: sv.spec.Name, Kind: "service", Windows: sv.series})
	}
	callsInFlight := s.callsInFlight()
	for k, ref := range s.edges {
		e := &s.services[ref.svc].calls[ref.edge]
		st := &e.stats
		er := EdgeResult{
			ID: s.edgeID(ref.svc, ref.edge), Calls: st.calls, Attempts: st.attempts, Retries: st.retries,
			Hedges: st.hedges, Cancelled: st.cancelled, OK: st.out[OK], Error: st.out[Error], Timeout: st.out[Timeout],
			Conflict: st.out[Conflict], Rejected: st.out[Rejected] + st.out[Shed] + st.out[Limited], ShortCircuited: st.shortCircuited, BulkheadFull: st.bulkheaded,
			BudgetExhausted: st.budgetExhausted, RetryOverflow: st.retryOverflow, Fallbacks: st.fallbacks, BreakerChanges: e.transitions,
			Series:          e.series,
			CallerCancelled: st.callerCancelled, InFlight: callsInFlight[k],
		}
		er.Name = er.ID.String()
		ok, all := summaries(&e.agg, &e.win, &s.allCalls) // the windows closed, and the one being filled
		er.Latency, er.LatencyAll = Latency(ok), Latency(all)
		if st.calls > 0 {
			er.Amplification = float64(st.attempts) / float64(st.calls)
		}
		e.policyResult(&er)
		res.Edges = append(res.Edges, er)
	}
	s.dataResult(res)
	res.judgeTotals()
	res.Cascades = s.cascades()
	res.Faults = s.faultSpans()
	res.EventsDropped = s.logDropped
	res.Events = make([]EventResult, len(s.log))
	for i, e := range s.log {
		res.Events[i] = EventResult{TS: e.T.Seconds(), Component: e.Component, What: e.What, Kind: e.Kind,
			Health: e.Health, Reason: e.Reason, Breaker: e.Breaker, Fault: e.Fault}
	}
	return res
}

// Snapshot is a consistent view of a run in progress, for a driver that shows
// it live. It shares nothing with the Sim: the Sim can go on while a Snapshot
// is read on another goroutine.
type Snapshot struct {
	Now      time.Duration
	Duration time.Duration
	Done     bool
	Result   *Result
}

// Snapshot copies the state of the run so far.
func (s *Sim) Snapshot() Snapshot {
	res := s.Result()
	for i := range res.Series {
		res.Series[i].Windows = slices.Clone(res.Series[i].Windows)
	}
	// The clients' and services' own Series are the same slices.
	for i := range res.Clients {
		res.Clients[i].Series = res.Series[i].Windows
	}
	for i := range res.Components {
		res.Components[i].Series = res.Series[len(res.Clients)+i].Windows
	}
	for i := range res.Clients {
		for j := range res.Clients[i].Flows {
			res.Clients[i].Flows[j].Series = slices.Clone(res.Clients[i].Flows[j].Series)
		}
	}
	for i := range res.Components {
		for j := range res.Components[i].Operations {
			res.Components[i].Operations[j].Series = slices.Clone(res.Components[i].Operations[j].Series)
		}
	}
	// The data series share their backing arrays with the Sim too.
	for i := range res.Topics {
		res.Topics[i].Series = slices.Clone(res.Topics[i].Series)
	}
	for i := range res.Groups {
		res.Groups[i].Series = slices.Clone(res.Groups[i].Series)
	}
	for i := range res.Stores {
		res.Stores[i].Series = slices.Clone(res.Stores[i].Series)
	}
	for i := range res.Sagas {
		res.Sagas[i].Series = slices.Clone(res.Sagas[i].Series)
	}
	for i := range res.Views {
		res.Views[i].Series = slices.Clone(res.Views[i].Series)
	}
	for i := range res.Edges {
		res.Edges[i].Series = slices.Clone(res.Edges[i].Series)
	}
	return Snapshot{Now: time.Duration(s.now), Duration: time.Duration(s.end), Done: s.done, Result: res}
}

// CheckConservation verifies DESIGN.md's conservation law on a result: every
// request a client sent ended in exactly one outcome or is still in flight,
// so did every call on an edge, and every request that reached a service was answered, rejected, or is
// still there. In-flight counts come from the request pool, not from the
// outcome counters, so a request counted twice or never is caught.
func (r *Result) CheckConservation() error {
	var errs []error
	for _, c := range r.Clients {
		answered := c.OK + c.Error + c.Timeout + c.Rejected + c.Shed + c.RateLimited
		if answered+c.InFlight != c.Sent {
			errs = append(errs, fmt.Errorf("client %s: sent %d != ok %d + error %d + timeout %d + rejected %d + shed %d + rate limited %d + in flight %d",
				c.Name, c.Sent, c.OK, c.Error, c.Timeout, c.Rejected, c.Shed, c.RateLimited, c.InFlight))
		}
		if c.LatencyAll.Count != answered {
			errs = append(errs, fmt.Errorf("client %s: %d answered requests timed, of %d answered", c.Name, c.LatencyAll.Count, answered))
		}
		for _, f := range c.Flows {
			if f.LatencyAll.Count != f.OK+f.Failed {
				errs = append(errs, fmt.Errorf("flow %s: %d answered requests timed, of %d answered", f.Name, f.LatencyAll.Count, f.OK+f.Failed))
			}
		}
	}
	for _, e := range r.Edges {
		if ended := e.OK + e.Error + e.Timeout + e.Rejected + e.Conflict; e.LatencyAll.Count != ended || e.Latency.Count != e.OK {
			errs = append(errs, fmt.Errorf("edge %s: %d calls timed (%d ok), of %d ended (%d ok)", e.Name, e.LatencyAll.Count, e.Latency.Count, ended, e.OK))
		}
		if got := e.OK + e.Error + e.Timeout + e.Rejected + e.Conflict + e.BulkheadFull + e.CallerCancelled + e.InFlight; got != e.Calls {
			errs = append(errs, fmt.Errorf("edge %s: calls %d != ok %d + error %d + timeout %d + rejected %d + conflict %d + bulkhead full %d + caller cancelled %d + in flight %d",
				e.Name, e.Calls, e.OK, e.Error, e.Timeout, e.Rejected, e.Conflict, e.BulkheadFull, e.CallerCancelled, e.InFlight))
		}
		// Every call the bulkhead admits makes a first attempt or is
		// short-circuited at it; a short circuit may also end a call at
		// a retry, after its first attempt, so the short-circuited are a
		// bound, not a term. A call that found no instance made an
		// attempt that failed, and is in the first attempts.
		if first := e.Attempts - e.Retries - e.Hedges; e.Attempts < e.Retries+e.Hedges ||
			e.Calls < first+e.BulkheadFull || e.Calls > first+e.ShortCircuited+e.BulkheadFull {
			errs = append(errs, fmt.Errorf("edge %s: calls %d, not between first attempts %d (attempts %d - retries %d - hedges %d) + bulkhead full %d and that + short-circuited %d",
				e.Name, e.Calls, first, e.Attempts, e.Retries, e.Hedges, e.BulkheadFull, e.ShortCircuited))
		}
	}
	for _, c := range r.Components {
		if got := c.OK + c.Error + c.Rejected + c.Shed + c.RateLimited + c.InProgress; got != c.Arrivals {
			errs = append(errs, fmt.Errorf("service %s: arrivals %d != ok %d + error %d + rejected %d + shed %d + rate limited %d + in progress %d",
				c.Name, c.Arrivals, c.OK, c.Error, c.Rejected, c.Shed, c.RateLimited, c.InProgress))
		}
	}
	errs = append(errs, r.checkData())
	return errors.Join(errs...)
}

// withStart marshals the fields of a window (a struct type without
// methods, so that this does not recurse) after its start in seconds,
// `t_s`, the CSV's first column.
func withStart(start time.Duration, fields any) ([]byte, error) {
	b, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	head := strconv.AppendFloat([]byte(`{"t_s":`), start.Seconds(), 'f', -1, 64)
	if len(b) > 2 { // not "{}"
		head = append(head, ',')
	}
	return append(head, b[1:]...), nil
}

// WithoutSeries returns a copy of r without its time series: what a
// reader of the totals alone marshals (bench reads every replication's
// result), a fraction of the size. r is unchanged.
func (r *Result) WithoutSeries() *Result {
	c := *r
	c.Series = nil
	c.Clients = slices.Clone(r.Clients)
	for i := range c.Clients {
		cl := &c.Clients[i]
		cl.Series = nil
		cl.Flows = slices.Clone(cl.Flows)
		for j := range cl.Flows {
			cl.Flows[j].Series = nil
		}
	}
	c.Components = slices.Clone(r.Components)
	for i := range c.Components {
		cm := &c.Components[i]
		cm.Series = nil
		cm.Operations = slices.Clone(cm.Operations)
		for j := range cm.Operations {
			cm.Operations[j].Series = nil
		}
	}
	c.Edges = withoutSeries(r.Edges, func(e *EdgeResult) { e.Series = nil })
	c.Topics = withoutSeries(r.Topics, func(t *TopicResult) { t.Series = nil })
	c.Groups = withoutSeries(r.Groups, func(g *GroupResult) { g.Series = nil })
	c.Stores = withoutSeries(r.Stores, func(st *StoreResult) { st.Series = nil })
	c.Sagas = withoutSeries(r.Sagas, func(sg *SagaResult) { sg.Series = nil })
	c.Views = withoutSeries(r.Views, func(v *ViewResult) { v.Series = nil })
	return &c
}

// Latencies returns the latency histogram of a client or service since
// warmup (successful requests only), or nil for an unknown name. It is the
// live histogram: read it, do not change it. Merging the histograms of
// several runs gives exact pooled percentiles.
func (s *Sim) Latencies(component string) *metrics.Histogram {
	for i := range s.clients {
		if s.clients[i].spec.Name == component {
			return &s.clients[i].agg.lat
		}
	}
	for i := range s.services {
		if s.services[i].spec.Name == component {
			return &s.services[i].agg.lat
		}
	}
	return nil
}

// summary is what a result says of a tally: successes, failures of any
// kind, the success rate and the latency of successes.
func (t *tally) summary() (ok, failed uint64, rate float64, lat Latency) {
	ok, n := t.n[OK], t.outcomes()
	if n > 0 {
		rate = float64(ok) / float64(n)
	}
	return ok, n - ok, rate, latencyOf(&t.lat)
}

// policyResult fills in the state of an edge's policies over their holders.
func (e *edge) policyResult(er *EdgeResult) {
	c := e.spec
	if c.Breaker != nil || c.Outlier != nil || c.Bulkhead > 0 || c.Balancer == resilience.LeastRequest ||
		(c.Retry != nil && (c.Retry.Budget != nil || c.Retry.Throttle != nil)) {
		er.Scope = c.Scope.String()
	}
	worst := -1
	for _, p := range e.pol {
		if p.outlier != nil {
			er.Ejections += p.outlier.Ejections()
		}
		br := p.breaker
		if br == nil {
			continue
		}
		er.Breakers++
		st := br.State()
		rank := 0 // closed or disabled
		switch st {
		case resilience.Open, resilience.ForcedOpen:
			rank = 2
		case resilience.HalfOpen:
			rank = 1
		}
		if open, _ := breakerOpen(st); open {
			// Counted by the rule the edge's health reads: a half-open
			// breaker is still open until a trial call closes it.
			er.BreakersOpen++
		}
		if rank > worst {
			worst, er.Breaker, er.BreakerState = rank, st.String(), st
		}
	}
}

// withoutSeries is a copy of xs, each element cleared of its series by
// clear.
func withoutSeries[T any](xs []T, clear func(*T)) []T {
	out := slices.Clone(xs)
	for i := range out {
		clear(&out[i])
	}
	return out
}
