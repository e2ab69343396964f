package tui

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/sim"
)

// row is one line of the component table, from the latest window.
type row struct {
	name, kind string
	series     int // index into Result.Series
	rate       float64
	errShare   float64
	p50, p99   float64
	queue      float64 // mean per instance; -1 for clients
	util       float64 // -1 for clients
	up, total  int     // instances; 0/0 for clients
	breaker    string  // state of the busiest outgoing edge with a breaker
	health     sim.Health
	idle       bool // nothing answered in the window: health unknown
	stalled    bool // requests came or wait, and none was answered
	ok         uint64
	lines      []string // a data component's box in the topology says these
}

// lastWindow returns the latest window of a series.
func lastWindow(se *sim.Series) (sim.Window, bool) {
	if len(se.Windows) == 0 {
		return sim.Window{}, false
	}
	return se.Windows[len(se.Windows)-1], true
}

// rows computes the table from a frame, in scenario order: clients first,
// then services and gateways. Health follows DESIGN.md: the error share of
// the latest window with Kiali's thresholds, and an open breaker marks its
// callee failing and its caller at least degraded.
func rows(f *Frame) []row {
	res := f.Snap.Result
	if res == nil {
		return nil
	}
	secs := f.Window.Seconds()
	out := make([]row, 0, len(res.Clients)+len(res.Components))
	add := func(r row) {
		w, ok := lastWindow(&res.Series[r.series])
		if ok {
			r.rate = float64(w.Sent) / secs
			r.errShare = w.ErrorShare()
			r.p50, r.p99 = w.Latency.P50, w.Latency.P99
			if r.queue >= 0 {
				r.queue, r.util = w.QueueMean, w.Utilisation
			}
			answered := w.OK + w.Errors + w.Timeouts + w.Rejected + w.Shed + w.Limited
			r.idle = answered == 0
			r.ok = w.OK
			r.health = sim.HealthOf(r.errShare)
			if r.idle && (w.Utilisation > 0 || w.QueueMean > 0 || w.Sent > 0) {
				// Work came or waits, and nothing was answered: stalled,
				// not idle.
				r.idle, r.stalled, r.health = false, true, sim.Failing
			}
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
	index := make(map[string]int, len(out))
	for i := range out {
		index[out[i].name] = i
	}
	busiest := make(map[string]uint64)
	for _, e := range res.Edges {
		if e.Breaker == "" {
			continue
		}
		from, to, _ := strings.Cut(e.Name, "->")
		to, _, _ = strings.Cut(to, " ") // "db (read)": a store's operation
		// "shop.search": the call of one operation, or to one.
		from, _, _ = strings.Cut(from, ".")
		to, _, _ = strings.Cut(to, ".")
		if i, ok := index[from]; ok && (out[i].breaker == "" || e.Calls > busiest[from]) {
			out[i].breaker, busiest[from] = e.Breaker, e.Calls
		}
		switch e.Breaker {
		case "OPEN", "FORCED_OPEN":
			worsen(out, index, to, sim.Failing)
			worsen(out, index, from, sim.Degraded)
		case "HALF_OPEN":
			// Trial calls are deciding: the callee is not trusted yet.
			worsen(out, index, to, sim.Degraded)
		}
	}
	return out
}

func worsen(rs []row, index map[string]int, name string, h sim.Health) {
	if i, ok := index[name]; ok && h > rs[i].health {
		rs[i].health = h
		rs[i].idle = false
	}
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

// faultSpan is one occurrence of a fault, from the event log.
type faultSpan struct {
	component string // what the engine says it hit: "payment", "payment#1", "a->b"
	what      string // "latency +800ms", "crash (manual)"
	start     time.Duration
	end       time.Duration // -1 while active
}

// faultSpans pairs the "fault ... started" and "fault ... ended" events of
// the log. The engine logs both with the same component and description.
func faultSpans(events []sim.EventResult) []faultSpan {
	var out []faultSpan
	// The spans still open, per component and description, oldest first:
	// an end closes the oldest, without a scan of every span so far (a
	// fault that fires every 2 ms has 30,000 a minute, and this runs at
	// every frame).
	open := map[[2]string][]int{}
	for _, e := range events {
		rest, ok := strings.CutPrefix(e.What, "fault ")
		if !ok {
			continue
		}
		t := time.Duration(e.TS * float64(time.Second))
		if what, ok := strings.CutSuffix(rest, " started"); ok {
			key := [2]string{e.Component, what}
			open[key] = append(open[key], len(out))
			out = append(out, faultSpan{component: e.Component, what: what, start: t, end: -1})
			continue
		}
		if what, ok := strings.CutSuffix(rest, " ended"); ok {
			key := [2]string{e.Component, what}
			if q := open[key]; len(q) > 0 {
				out[q[0]].end = t
				open[key] = q[1:]
			}
		}
	}
	return out
}

// activeFaults counts the spans still going.
func activeFaults(spans []faultSpan) int {
	n := 0
	for _, s := range spans {
		if s.end < 0 {
			n++
		}
	}
	return n
}

// inFault reports whether any fault was active during [start, start+w).
func inFault(spans []faultSpan, start, w time.Duration) bool {
	for _, s := range spans {
		if s.start < start+w && (s.end < 0 || s.end > start) {
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
		name, _, _ := strings.Cut(edges[i].Name, " (")
		c := countsOf(&edges[i])
		o := m[name]
		m[name] = edgeCounts{o.ok + c.ok, o.shortCircuited + c.shortCircuited, o.timeout + c.timeout,
			o.rejected + c.rejected, o.failure + c.failure}
	}
	return m
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
