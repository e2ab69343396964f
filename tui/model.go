package tui

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/resilience"
)

// row is one line of the component table, from the latest window.
type row struct {
	name, kind string
	series     int // index into Result.Series; -1 for a broker, which has none
	rate       float64
	errShare   float64
	p50, p99   float64
	queue      float64 // mean per instance; -1 for clients
	util       float64 // -1 for clients
	up, total  int     // instances; 0/0 for clients
	// breaker is the state of the busiest outgoing edge with a breaker;
	// hasBreaker says there is one.
	breaker    resilience.BreakerState
	hasBreaker bool
	// health is the engine's verdict on the latest window, and why what
	// decided it; idle when nothing answered and nothing was wrong.
	health sim.Health
	why    sim.Reason
	idle   bool
	ok     uint64
	lines  []string // a data component's box in the topology says these
}

// verdict is how the views show the engine's verdict on a window: its
// health, and idle when it had no evidence either way. The engine
// decides health (sim/health.go); the views only colour it.
func verdict(w *sim.Window) (sim.Health, bool) {
	return w.Health, w.Reason.By == sim.Idle
}

// rows computes the table from a frame, in scenario order: clients first,
// then services and gateways, each with the engine's verdict on its latest
// window (its error share with Kiali's thresholds, the breakers around it
// in Vizceral's mapping, its instances and queue).
func rows(f *Frame) []row {
	res := f.Snap.Result
	if res == nil {
		return nil
	}
	secs := f.Window.Seconds()
	out := make([]row, 0, len(res.Clients)+len(res.Components))
	add := func(r row) {
		w, ok := sim.Last(res.Series[r.series].Windows)
		if ok {
			r.rate = float64(w.Sent) / secs
			r.errShare = w.ErrorShare()
			r.p50, r.p99 = w.Latency.P50, w.Latency.P99
			if r.queue >= 0 {
				r.queue, r.util = w.QueueMean, w.Utilisation
			}
			r.ok = w.OK
			r.why = w.Reason
			r.health, r.idle = verdict(&w)
		} else {
			r.idle = true
		}
		out = append(out, r)
	}
	for i, c := range res.Clients {
		add(row{name: c.Name, kind: "client", series: i, queue: -1, util: -1})
	}
	for i, c := range res.Components {
		add(row{name: c.Name, kind: c.Kind, series: len(res.Clients) + i, up: c.InstancesUp, total: c.Instances})
	}
	for _, b := range res.Brokers {
		out = append(out, brokerRow(res, &b, secs))
	}
	index := make(map[string]int, len(out))
	for i := range out {
		index[out[i].name] = i
	}
	busiest := make(map[string]uint64)
	for _, e := range res.Edges {
		if e.Breakers == 0 {
			continue
		}
		from := e.ID.Caller // of the service, whichever operation calls
		if i, ok := index[from]; ok && (!out[i].hasBreaker || e.Calls > busiest[from]) {
			out[i].breaker, out[i].hasBreaker, busiest[from] = e.BreakerState, true, e.Calls
		}
	}
	return out
}

// brokerRow is a broker's line in the table: its nodes up, the records its
// topics took in the latest window, and the worst of the engine's verdicts
// on them (a topic is failing while a partition has no leader, degraded
// while one is under-replicated). It has no requests of its own: no
// error share, latency or queue.
func brokerRow(res *sim.Result, b *sim.BrokerResult, secs float64) row {
	r := row{name: b.Name, kind: "broker", series: -1, queue: -1, util: -1, up: b.NodesUp, total: b.Nodes, idle: true}
	for _, t := range res.Topics {
		if t.Broker != b.Name {
			continue
		}
		w, ok := sim.Last(t.Series)
		if !ok {
			continue
		}
		r.rate += float64(w.Topic().Produced) / secs
		if h, idle := verdict(&w); !idle && (r.idle || h > r.health) {
			r.health, r.why, r.idle = h, w.Reason, false
		}
	}
	return r
}

// sortKey is a column the table can be sorted by.
type sortKey uint8

const (
	sortNone sortKey = iota // scenario order
	sortName
	sortRate
	sortErrors
	sortP99
	sortUtil
)

// sortRows orders rows by key; numeric columns put the largest first, like
// k9s, and reverse flips that.
func sortRows(rs []row, k sortKey, reverse bool) {
	if k == sortNone {
		return
	}
	val := func(r *row) float64 {
		switch k {
		case sortRate:
			return r.rate
		case sortErrors:
			return r.errShare
		case sortP99:
			return r.p99
		case sortUtil:
			return r.util
		}
		return 0
	}
	slices.SortStableFunc(rs, func(a, b row) int {
		var c int
		if k == sortName {
			c = strings.Compare(a.name, b.name)
		} else {
			c = cmp.Compare(val(&b), val(&a))
		}
		if reverse {
			c = -c
		}
		return c
	})
}

// activeFaults counts the fault occurrences still going.
func activeFaults(spans []sim.FaultSpan) int {
	n := 0
	for _, s := range spans {
		if s.End < 0 {
			n++
		}
	}
	return n
}

// inFault reports whether any fault was active during [start, start+w).
func inFault(spans []sim.FaultSpan, start, w time.Duration) bool {
	for i := range spans {
		if spans[i].Active(start, start+w) {
			return true
		}
	}
	return false
}

// edgeCounts are an edge's outcomes, as the Hystrix dashboard shows them.
type edgeCounts struct {
	ok, shortCircuited, timeout, rejected, failure uint64
}

// countsOf splits an edge's outcomes the Hystrix way. The engine ends a
// short-circuited call as an Error, so failures are the errors that were
// not short-circuits; a call the bulkhead refused never started and has no
// outcome, so it is added to the rejections.
func countsOf(e *sim.EdgeResult) edgeCounts {
	return edgeCounts{ok: e.OK, shortCircuited: e.ShortCircuited, timeout: e.Timeout,
		rejected: e.Rejected + e.BulkheadFull, failure: e.Error - min(e.Error, e.ShortCircuited)}
}

func (c edgeCounts) minus(o edgeCounts) edgeCounts {
	return edgeCounts{c.ok - o.ok, c.shortCircuited - o.shortCircuited, c.timeout - o.timeout,
		c.rejected - o.rejected, c.failure - o.failure}
}

func (c edgeCounts) total() uint64 {
	return c.ok + c.shortCircuited + c.timeout + c.rejected + c.failure
}

// errShare is the share of calls that did not succeed.
func (c edgeCounts) errShare() float64 {
	if n := c.total(); n > 0 {
		return float64(n-c.ok) / float64(n)
	}
	return 0
}

// rolling is the length of the rolling window of edge counts (Hystrix's
// default metrics.rollingStats.timeInMilliseconds).
const rolling = 10 * time.Second

// edgeHistory turns the engine's cumulative edge counts into rolling ones:
// it keeps the counts of recent frames and subtracts the oldest one within
// the rolling window.
type edgeHistory struct {
	run     int
	samples []edgeSample
}

type edgeSample struct {
	at     time.Duration
	counts map[string]edgeCounts
}

// observe records a frame; a restart or a jump back in time starts afresh.
func (h *edgeHistory) observe(f *Frame) {
	if f.Snap.Result == nil {
		return
	}
	if f.Run != h.run || len(h.samples) > 0 && f.Snap.Now < h.samples[len(h.samples)-1].at {
		h.run, h.samples = f.Run, nil
		if f.Base != nil {
			h.samples = append(h.samples, edgeSample{at: f.Base.at, counts: countMap(f.Base.edges)})
		}
	}
	h.samples = append(h.samples, edgeSample{at: f.Snap.Now, counts: countMap(f.Snap.Result.Edges)})
	// Keep one sample at or before the start of the window as the base.
	cut := 0
	for i := range h.samples {
		if h.samples[i].at <= f.Snap.Now-rolling {
			cut = i
		}
	}
	h.samples = h.samples[cut:]
}

// countMap keys edge counts by "caller->callee": the operations of a call
// to a store ("orders->db (read)", "(write)") add up on the one line the
// topology draws.
func countMap(edges []sim.EdgeResult) map[string]edgeCounts {
	m := make(map[string]edgeCounts, len(edges))
	for i := range edges {
		name := edgeKey(edges[i].Name)
		c := countsOf(&edges[i])
		o := m[name]
		m[name] = edgeCounts{o.ok + c.ok, o.shortCircuited + c.shortCircuited, o.timeout + c.timeout,
			o.rejected + c.rejected, o.failure + c.failure}
	}
	return m
}

// edgeKey is the key of an edge in countMap: its name without the
// operation of a call to a store.
func edgeKey(name string) string {
	k, _, _ := strings.Cut(name, " (")
	return k
}

// recent returns an edge's counts over the rolling window, and the span they
// cover: less than the window after a restart, 0 when there is only the
// cumulative count to go by.
func (h *edgeHistory) recent(name string) (edgeCounts, time.Duration, bool) {
	if len(h.samples) == 0 {
		return edgeCounts{}, 0, false
	}
	last := h.samples[len(h.samples)-1]
	cur, ok := last.counts[name]
	if !ok {
		return edgeCounts{}, 0, false
	}
	first := h.samples[0]
	if len(h.samples) == 1 {
		return cur, 0, true
	}
	return cur.minus(first.counts[name]), last.at - first.at, true
}
