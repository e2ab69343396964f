package importer

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/faultline/faultline/sim/metrics"
)

// The derivation works on invocations: the part of a trace that one service
// did for one request it received. An invocation starts at a span whose
// parent is missing or belongs to another service (the server span of a
// call, or a trace's root) and holds every span below it in the same
// service (its internal and client spans); a span of another service below
// it is a call it made, and starts an invocation of its own. So a service's
// operations are the names of its invocations' first spans, and the call
// graph links operations, not spans.

// opKey names an operation as the spans do. Pattern is "" but for the
// invocations that were the root of their trace: for those it names the
// set of operations the invocation called (callPattern), so that an entry
// operation's requests are kept apart by what they did (patterns.go).
type opKey struct{ service, op, pattern string }

func (k opKey) less(o opKey) int {
	return cmp.Or(cmp.Compare(k.service, o.service), cmp.Compare(k.op, o.op), cmp.Compare(k.pattern, o.pattern))
}

// opStats is what the traces show of one operation.
type opStats struct {
	key opKey
	// callees are the operations the invocations of an entry call
	// pattern called (key.pattern, spelt out); variant is the name of the
	// pattern once chosen (patterns.go).
	callees   []opKey
	variant   string
	count     int64 // invocations
	entries   int64 // of which were the root of their trace
	orphans   int64 // of which had a parent span the traces lack
	errors    int64 // invocations whose first span failed
	ownErrors int64 // of which none of their calls failed
	// own is the time of an invocation not covered by its calls (what
	// holds a worker at an async service, the import's assumption); hold
	// is its whole span, calls included, of the invocations that
	// succeeded, and failHold of those that failed: a run's latency is of
	// successful requests (sim.Latency), so the observed quantiles compare
	// with it only when they are of successes too (a fail-fast 503 of 1
	// ms among successes of 50 ms would pull the p50 down).
	own, hold, failHold metrics.Histogram
	// failOwn is the own time of the invocations that failed, apart: the
	// run draws a request's time and its failure independently, so fast
	// failures among own times would come out as fast successes (90 %
	// 503s in 1 ms made a 49 ms operation's simulated p50 1.09 ms).
	failOwn metrics.Histogram
	// ownSeries is the own times in the order read, with their instance,
	// for the episodes (shape.go).
	ownSeries []sample
	// holdSeries and failSeries are the same spans with their start, for
	// how alike neighbours in time are (interval.go).
	holdSeries, failSeries []sample
	// ownWithCalls and after sum, over the invocations that made calls,
	// their own time and the part of it after their last call ended.
	ownWithCalls, after float64
	calls               map[opKey]*edgeStats
	pairs               map[[2]opKey]*pairStats
}

// edgeStats is what the traces show of the calls of one operation to
// another.
type edgeStats struct {
	callee      opKey
	invocations int64         // caller invocations that made the call at least once
	total       int64         // calls in all
	counts      map[int]int64 // k -> caller invocations that made it k times
	multi       int64         // caller invocations that made it more than once...
	overlapped  int64         // ...and of those, the ones whose copies overlapped
	rankSum     float64       // the call's place among the callees, by first start
	failed      int64         // attempts whose callee span (or client span) failed
	// retries are the attempts that retried a failed one at once
	// (edges), retryGap the time from the failed attempts' ends to the
	// retries' starts in all, maxAttempts the most attempts of one call.
	retries, retryGap int64
	maxAttempts       int
	roundTrip         metrics.Histogram // network and queueing time there and back: client span - server span
	skewed            int64             // client spans shorter than their server span (clock skew)
	// rtSeries is the round trips with the callee's instance, for the
	// episodes of the callee (shape.go).
	rtSeries []sample
}

// pairStats counts, for two callees of an operation, the invocations that
// called both and those in which calls to the two overlapped in time.
type pairStats struct{ both, overlap int64 }

type serviceStats struct {
	name      string
	instances map[string]struct{}
	// instID numbers the instances for the series (shape.go).
	instID map[string]int32
	// ops by operation name, followed for an entry call pattern by the
	// pattern (which starts with a NUL byte).
	ops map[string]*opStats
	// patterns counts the entry call patterns kept apart per operation.
	patterns map[string]int
	// concurrent is the most invocations seen in progress at once on
	// one instance within one trace (concurrency).
	concurrent int
	// detached counts, per operation name, the invocations whose caller
	// did not wait for them (detached): kept here, by name, since they
	// are never entries and so never kept apart by call pattern.
	detached map[string]int64
}

// aggregator folds complete traces into per-operation statistics; it keeps
// nothing of a trace once folded.
type aggregator struct {
	services map[string]*serviceStats

	traces, spans int64
	orphanSpans   int64 // spans whose parent span is not in their trace
	// detachedInvocations are invocations their caller did not wait for.
	detachedInvocations int64
	duplicateSpans      int64 // spans whose id another span of the trace has (left out)
	skippedSpans        int64 // spans without timing (left out)
	formats             []Format
	roots               int64
	firstRoot           int64
	lastRoot            int64
	firstStart          int64
	lastEnd             int64
	ratios              map[float64]int64 // sampler ratios the root spans carry
	rootsWithoutRatio   int64

	// failedCalls counts, per call (the caller's operation, without its
	// call pattern, and the callee), the calls that failed and, second,
	// those of them whose caller did not fail (fallback).
	failedCalls map[[2]opKey][2]int64

	// outlived counts, per call edge (the caller's operation, without its
	// call pattern, and the callee's), its invocations and, second, those
	// that outlived their caller (outlived); the survey fold fills it.
	// detachedEdges are the edges the fold that follows drives as work
	// not waited for: most of their invocations outlived their caller.
	survey        bool
	outlived      map[[2]opKey][2]int64
	detachedEdges map[[2]opKey]bool

	// fits holds, per call edge and host pair, the shifts that would put
	// the callee's server spans within their caller's span (skew.go); the
	// survey fills it. skew is the shift the fold that follows applies to
	// each host pair's callees (a clock offset between the two hosts).
	fits map[skewEdge]fit
	skew map[hostPair]int64

	// rtBursts are the episodes of the round trips to each callee
	// (shape.go), found once all is read.
	rtBursts map[string]bursts

	// Scratch, reused from trace to trace.
	idx     map[string]int32
	first   []int32 // first child of a span, in start order; -1 none
	next    []int32 // next sibling
	nchild  []int32
	order   []int32
	work    []invocationRef
	stack   []int32
	calls   []call
	keys    []opKey
	running []running
	// overlaps' scratch.
	overlapSeen            []bool
	activeStart, activeEnd []int64
	callKey                []int32
	// shift's scratch (skew.go).
	shiftStack []int32
}

type invocationRef struct {
	span                    int32
	entry, orphan, detached bool
}

// call is one call an invocation made: the callee's first span, and the
// interval the caller waited for it (its client span when there is one).
type call struct {
	child, client int32
	start, end    int64
	key           opKey
}

func newAggregator() *aggregator {
	return &aggregator{services: map[string]*serviceStats{}, ratios: map[float64]int64{}, idx: map[string]int32{}, failedCalls: map[[2]opKey][2]int64{}, outlived: map[[2]opKey][2]int64{}, fits: map[skewEdge]fit{}}
}

// surveyed is an aggregator for the fold after the survey a: the call
// edges most of whose invocations outlived their caller are detached.
func surveyed(a *aggregator) *aggregator {
	b := newAggregator()
	b.detachedEdges = map[[2]opKey]bool{}
	for e, n := range a.outlived {
		if 2*n[1] > n[0] {
			b.detachedEdges[e] = true
		}
	}
	b.skew = clockOffsets(a.fits, b.detachedEdges)
	return b
}

func (a *aggregator) service(name string) *serviceStats {
	s := a.services[name]
	if s == nil {
		s = &serviceStats{name: name, instances: map[string]struct{}{}, instID: map[string]int32{}, ops: map[string]*opStats{}, patterns: map[string]int{}, detached: map[string]int64{}}
		a.services[name] = s
	}
	return s
}

func (a *aggregator) op(k opKey) *opStats {
	s := a.service(k.service)
	o := s.ops[k.op+k.pattern]
	if o == nil {
		o = &opStats{key: k, calls: map[opKey]*edgeStats{}, pairs: map[[2]opKey]*pairStats{}}
		s.ops[k.op+k.pattern] = o
		if k.pattern != "" {
			s.patterns[k.op]++
		}
	}
	return o
}

// addTrace folds one complete trace.
func (a *aggregator) addTrace(sp []Span) {
	a.traces++
	a.spans += int64(len(sp))
	clear(a.idx)
	n := len(sp)
	a.first = fill(a.first, n, -1)
	a.next = fill(a.next, n, -1)
	a.nchild = fill(a.nchild, n, 0)
	dropped := make(map[int32]bool)
	// Zipkin's shared spans: the server half of an RPC may reuse the id of
	// its client half (zipkin2-api.yaml, "shared"). It becomes a child of
	// the client span, and the callee's own spans that name the shared id as
	// their parent become its children.
	shared := map[string]int32{}
	for i := range sp {
		s := &sp[i]
		if a.firstStart == 0 || s.Start < a.firstStart {
			a.firstStart = s.Start
		}
		a.lastEnd = max(a.lastEnd, s.End)
		j, dup := a.idx[s.SpanID]
		if !dup {
			a.idx[s.SpanID] = int32(i)
			continue
		}
		o := &sp[j]
		switch {
		case s.Kind == KindServer && o.Kind == KindClient:
			shared[s.SpanID] = int32(i)
			s.ParentID, s.SpanID = s.SpanID, s.SpanID+"/server"
			a.idx[s.SpanID] = int32(i)
		case s.Kind == KindClient && o.Kind == KindServer:
			shared[s.SpanID] = j
			o.ParentID, o.SpanID = o.SpanID, o.SpanID+"/server"
			a.idx[o.SpanID] = j
			a.idx[s.SpanID] = int32(i)
		default:
			a.duplicateSpans++
			dropped[int32(i)] = true
		}
	}
	a.order = a.order[:0]
	for i := range sp {
		if !dropped[int32(i)] {
			a.order = append(a.order, int32(i))
		}
	}
	slices.SortStableFunc(a.order, func(x, y int32) int { return cmp.Compare(sp[x].Start, sp[y].Start) })
	a.work = a.work[:0]
	last := fill([]int32(nil), n, -1) // the last child appended to each span
	for _, i := range a.order {
		s := &sp[i]
		if s.ParentID == "" {
			a.work = append(a.work, invocationRef{span: i, entry: true})
			continue
		}
		p, ok := a.idx[s.ParentID]
		if srv, isShared := shared[s.ParentID]; isShared && srv != i && sp[srv].Service == s.Service {
			p, ok = srv, true
		}
		if !ok || p == i {
			a.orphanSpans++
			a.work = append(a.work, invocationRef{span: i, orphan: true})
			continue
		}
		if last[p] < 0 {
			a.first[p] = i
		} else {
			a.next[last[p]] = i
		}
		last[p] = i
		a.nchild[p]++
	}
	a.running = a.running[:0]
	for len(a.work) > 0 {
		w := a.work[0]
		a.work = a.work[1:]
		a.invocation(sp, w)
	}
	if !a.survey {
		a.concurrency()
	}
}

// running is one invocation's span, for concurrency.
type running struct {
	service, instance string
	at                int64
	delta             int // +1 at its start, -1 at its end
}

// concurrency raises each service's concurrent to the most invocations of
// it that were in progress at once on one instance within the trace just
// read (a fan-out's copies, calls of a group): the instance served them
// at once, so it had that many workers at least.
func (a *aggregator) concurrency() {
	slices.SortFunc(a.running, func(x, y running) int {
		return cmp.Or(cmp.Compare(x.service, y.service), cmp.Compare(x.instance, y.instance), cmp.Compare(x.at, y.at), cmp.Compare(x.delta, y.delta))
	})
	n := 0
	for i, r := range a.running {
		if i > 0 && (r.service != a.running[i-1].service || r.instance != a.running[i-1].instance) {
			n = 0
		}
		n += r.delta
		if s := a.services[r.service]; n > s.concurrent {
			s.concurrent = n
		}
	}
}

// fill makes s n long, every element v, reusing its array.
func fill[T any](s []T, n int, v T) []T {
	s = slices.Grow(s[:0], n)[:n]
	for i := range s {
		s[i] = v
	}
	return s
}

// invocation folds one invocation and queues the invocations of its calls.
func (a *aggregator) invocation(sp []Span, w invocationRef) {
	t := w.span
	top := &sp[t]
	// The invocation's spans in its own service, and the calls below them.
	a.calls = a.calls[:0]
	a.stack = append(a.stack[:0], t)
	for len(a.stack) > 0 {
		s := a.stack[len(a.stack)-1]
		a.stack = a.stack[:len(a.stack)-1]
		for c := a.first[s]; c >= 0; c = a.next[c] {
			if sp[c].Service == top.Service {
				a.stack = append(a.stack, c)
				continue
			}
			cl := int32(-1)
			iv := &sp[c]
			if s != t && a.isClientSpan(sp, s) {
				cl, iv = s, &sp[s]
			}
			callee := &sp[c]
			e := [2]opKey{{service: top.Service, op: top.Operation}, {service: callee.Service, op: callee.Operation}}
			if a.survey {
				n := a.outlived[e]
				n[0]++
				if outlived(top, callee, iv) {
					n[1]++
				}
				a.outlived[e] = n
			}
			if callee.Kind == KindConsumer || callee.FollowsFrom || a.detachedEdges[e] {
				a.work = append(a.work, invocationRef{span: c, detached: true})
				continue
			}
			if cl < 0 {
				// A call seen by its server span alone: its times are
				// on the callee host's clock (skew.go).
				if a.survey {
					a.fitIn(e, &sp[s], callee)
				} else if d := a.skew[pairOf(&sp[s], callee)]; d != 0 {
					a.shift(sp, c, d)
				}
			}
			a.calls = append(a.calls, call{child: c, client: cl, start: iv.Start, end: iv.End, key: opKey{service: sp[c].Service, op: sp[c].Operation}})
			a.work = append(a.work, invocationRef{span: c})
		}
	}
	if a.survey {
		return // it only counts the edges' invocations that outlived their caller
	}
	k := opKey{service: top.Service, op: top.Operation}
	if w.entry {
		k.pattern = a.callPattern(top.Service, top.Operation)
	}
	o := a.op(k)
	if w.entry && o.count == 0 && k.pattern != overflowPattern {
		o.callees = slices.Clone(a.keys)
	}
	if top.Instance != "" {
		a.services[top.Service].instances[top.Instance] = struct{}{}
	}
	o.count++
	if w.entry {
		o.entries++
		a.roots++
		if a.roots == 1 || top.Start < a.firstRoot {
			a.firstRoot = top.Start
		}
		a.lastRoot = max(a.lastRoot, top.Start)
		if top.SampleRatio > 0 {
			a.ratios[top.SampleRatio]++
		} else {
			a.rootsWithoutRatio++
		}
	}
	if w.orphan {
		o.orphans++
	}
	// A span of 0 takes no worker: its end sorts before its start.
	a.running = append(a.running, running{top.Service, top.Instance, top.Start, 1}, running{top.Service, top.Instance, top.End, -1})
	if w.detached {
		a.services[top.Service].detached[top.Operation]++
		a.detachedInvocations++
	}
	if top.Error {
		o.failHold.Record(top.End - top.Start)
		o.failSeries = appendSample(o.failSeries, sample{at: top.Start, v: top.End - top.Start})
	} else {
		o.hold.Record(top.End - top.Start)
		o.holdSeries = appendSample(o.holdSeries, sample{at: top.Start, v: top.End - top.Start})
	}

	slices.SortFunc(a.calls, func(x, y call) int { return cmp.Or(cmp.Compare(x.start, y.start), cmp.Compare(x.child, y.child)) })

	// Own time: the span less the union of the calls' intervals within it.
	var covered, cur0, cur1 int64
	cur0, cur1 = -1, -1
	lastEnd := top.Start
	failed := false
	for i := range a.calls {
		c := &a.calls[i]
		s, e := max(c.start, top.Start), min(c.end, top.End)
		lastEnd = max(lastEnd, e)
		if sp[c.child].Error || (c.client >= 0 && sp[c.client].Error) {
			failed = true
		}
		if e <= s {
			continue
		}
		if s > cur1 {
			covered += cur1 - cur0
			cur0, cur1 = s, e
		} else {
			cur1 = max(cur1, e)
		}
	}
	covered += cur1 - cur0
	own := top.End - top.Start - covered
	if top.Error {
		o.failOwn.Record(own)
	} else {
		o.own.Record(own)
	}
	o.ownSeries = appendSample(o.ownSeries, sample{at: top.Start, v: own, inst: a.instanceID(top.Service, top.Instance)})
	if len(a.calls) > 0 {
		o.ownWithCalls += float64(own)
		o.after += float64(max(top.End-lastEnd, 0))
	}
	if top.Error {
		o.errors++
		if !failed {
			o.ownErrors++
		}
	}
	a.edges(sp, o, top.Error)
}

// Work a caller did not wait for is not one of its calls (the run drives
// it as a request of its own, build.go): a CONSUMER span (OpenTelemetry's
// span kinds: "there is often no direct critical path latency
// relationship between producer and consumer spans",
// opentelemetry-specification specification/trace/api.md, SpanKind), a
// span that FOLLOWS_FROM its parent ("some parent Spans do not depend in
// any way on the result of their child Spans", opentracing
// specification.md, References between Spans), each decided per span;
// and a call edge (caller operation to callee operation) most of whose
// invocations outlived their caller, decided per edge over all the
// traces. Per invocation, a callee host's clock skew turned a third of an
// ordinary call's invocations into work not waited for (the last of three
// calls, a host 1.5 ms ahead); an edge is one thing in the code that
// makes it, and is driven as one.

// outlived tells whether a callee outlived its caller by a clear margin:
// run from the call's start, it would end after the caller's first span
// by more than half its length and by skewMargin or more. The call's start
// is its client span's when there is one (the caller's clock), else the
// callee's own, which another host's clock may shift: an overrun shorter
// than that is taken as skew, not as work left behind. A call can start no
// earlier than its caller (a span of 0 us waited for nothing).
func outlived(top, callee, call *Span) bool {
	length := callee.End - callee.Start
	over := max(call.Start, top.Start) + length - top.End
	return over > length/2 && over >= skewMargin
}

// skewMargin is the clock skew between hosts an overrun must exceed to be
// taken as work left behind: NTP keeps clocks within about 10 ms over the
// public Internet and 1 ms on a LAN (https://timetoolsltd.com/ntp/ntp-timing-accuracy/,
// "Public Internet NTP Servers: <10ms").
const skewMargin = int64(10 * time.Millisecond)

// instanceID numbers an instance of a service; "" (not recorded) is one
// more.
func (a *aggregator) instanceID(service, instance string) int32 {
	s := a.service(service)
	id, ok := s.instID[instance]
	if !ok {
		id = int32(len(s.instID))
		s.instID[instance] = id
	}
	return id
}

// isClientSpan tells whether a span of the caller's service is the client
// side of the one call below it: a span of kind client, or of no stated
// kind whose one child is in another service. A span with several children
// in other services (retries, a batch) stands for no single call.
func (a *aggregator) isClientSpan(sp []Span, s int32) bool {
	if a.nchild[s] != 1 {
		return false
	}
	switch sp[s].Kind {
	case KindClient, KindProducer:
		return true
	case KindUnspecified:
		return sp[a.first[s]].Service != sp[s].Service
	}
	return false
}

// edges folds the calls of one invocation (a.calls, in start order) into
// its operation's call statistics; callerFailed says whether the
// invocation's first span failed.
func (a *aggregator) edges(sp []Span, o *opStats, callerFailed bool) {
	a.keys = a.keys[:0]
	for i := range a.calls {
		if !slices.Contains(a.keys, a.calls[i].key) {
			a.keys = append(a.keys, a.calls[i].key)
		}
	}
	for rank, k := range a.keys {
		e := o.calls[k]
		if e == nil {
			e = &edgeStats{callee: k, counts: map[int]int64{}}
			o.calls[k] = e
		}
		// A call is one or more attempts: a call that failed and was
		// followed by another to the same callee, started after it
		// ended with no other call in between, was retried (the retry
		// is an attempt of the same call, not a call of its own). The
		// call failed when its last attempt did.
		count, overlapped := 0, false
		var maxEnd int64
		prev, prevFailed, attempts := -1, false, 0
		ek := [2]opKey{{service: o.key.service, op: o.key.op}, k}
		callDone := func(failed bool) {
			if !failed {
				return
			}
			f := a.failedCalls[ek]
			f[0]++
			if !callerFailed {
				f[1]++
			}
			a.failedCalls[ek] = f
		}
		for i := range a.calls {
			c := &a.calls[i]
			if c.key != k {
				continue
			}
			failed := sp[c.child].Error || (c.client >= 0 && sp[c.client].Error)
			if failed {
				e.failed++
			}
			if prevFailed && prev == i-1 && c.start >= a.calls[prev].end {
				attempts++
				e.retries++
				e.retryGap += c.start - a.calls[prev].end
			} else {
				if count > 0 {
					callDone(prevFailed)
					if c.start < maxEnd {
						overlapped = true
					}
				}
				count++
				attempts = 1
			}
			e.maxAttempts = max(e.maxAttempts, attempts)
			maxEnd = max(maxEnd, c.end)
			prev, prevFailed = i, failed
			if c.client >= 0 {
				d := (sp[c.client].End - sp[c.client].Start) - (sp[c.child].End - sp[c.child].Start)
				if d < 0 {
					e.skewed++
					d = 0
				}
				e.roundTrip.Record(d)
				e.rtSeries = appendSample(e.rtSeries, sample{at: sp[c.client].Start, v: d, inst: a.instanceID(sp[c.child].Service, sp[c.child].Instance)})
			}
		}
		callDone(prevFailed)
		e.invocations++
		e.total += int64(count)
		e.counts[count]++
		e.rankSum += float64(rank)
		if count > 1 {
			e.multi++
			if overlapped {
				e.overlapped++
			}
		}
	}
	a.overlaps()
	k := len(a.keys)
	for i, ki := range a.keys {
		for j, kj := range a.keys[i+1:] {
			pk := [2]opKey{ki, kj}
			if ki.less(kj) > 0 {
				pk = [2]opKey{kj, ki}
			}
			p := o.pairs[pk]
			if p == nil {
				p = &pairStats{}
				o.pairs[pk] = p
			}
			p.both++
			if a.overlapSeen[i*k+i+1+j] {
				p.overlap++
			}
		}
	}
}

// overlaps marks, in a.overlaps (k x k, k the callees in a.keys), the
// pairs of callees a call to one of which overlapped a call to the other
// in the current invocation: two intervals overlap when each starts
// before the other ends. One sweep over the calls in start order, keeping
// per callee the calls still running (their earliest start and latest
// end): O(calls x callees), where comparing every call with every other
// took minutes on a trace of thousands of sequential calls.
func (a *aggregator) overlaps() {
	k := len(a.keys)
	a.overlapSeen = fill(a.overlapSeen, k*k, false)
	a.activeEnd = fill(a.activeEnd, k, math.MinInt64)
	a.activeStart = fill(a.activeStart, k, 0)
	a.callKey = a.callKey[:0]
	for i := range a.calls {
		a.callKey = append(a.callKey, int32(slices.Index(a.keys, a.calls[i].key)))
	}
	for i := range a.calls {
		c := &a.calls[i]
		x := int(a.callKey[i])
		for y := range k {
			// A call of y that has not ended when c starts, and started
			// before c ends (the sort puts it no later than c).
			if y != x && a.activeEnd[y] > c.start && a.activeStart[y] < c.end {
				a.overlapSeen[x*k+y], a.overlapSeen[y*k+x] = true, true
			}
		}
		if a.activeEnd[x] <= c.start { // the calls of x before c have all ended
			a.activeStart[x] = c.start
		}
		a.activeEnd[x] = max(a.activeEnd[x], c.end)
	}
}
