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

// edgeCounts are an edge's calls over Hystrix's rolling window, as its
// dashboard shows them, read from the engine's windows of the edge.
type edgeCounts struct {
	ok, shortCircuited, timeout, rejected, failure uint64
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

// rolling is the length of the rolling window of edge counts: Hystrix's
// default metrics.rollingStats.timeInMilliseconds, of
// metrics.rollingStats.numBuckets (10) buckets; the engine's windows are
// the buckets (Netflix/Hystrix wiki, Configuration).
const rolling = 10 * time.Second

// recentCounts sums an edge's windows that end within the rolling window
// before now (the latest one at least): with windows of a second, the
// last 10, the oldest partly before it, as Hystrix's oldest bucket is
// while its newest fills. The counts are in the engine's own split of its
// calls (Window: a call the bulkhead refused is rejected, a conflict an
// error; EdgeFigures: the errors an open breaker short-circuited), and
// says the span they cover: 0 before the first window closed.
func recentCounts(e *sim.EdgeResult, now time.Duration) (edgeCounts, time.Duration) {
	var c edgeCounts
	var from, to time.Duration
	for i := len(e.Series) - 1; i >= 0; i-- {
		w := &e.Series[i]
		if i < len(e.Series)-1 && w.End <= now-rolling {
			break
		}
		sc := w.Edge().ShortCircuited
		c.ok += w.OK
		c.shortCircuited += sc
		c.timeout += w.Timeouts
		c.rejected += w.Rejected
		c.failure += w.Errors - sc
		from = w.Start
		to = max(to, w.End)
	}
	return c, to - from
}
