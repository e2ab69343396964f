package importer

import (
	"cmp"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/sim/dist"
	"github.com/faultline/faultline/sim/metrics"
)

const (
	// targetUtilisation and maxWaitProbability choose the assumed worker
	// pool: the smallest one that keeps the observed load at most half
	// busy and lets at most 0.1 % of requests wait for a worker. The waits
	// the traces saw are in the callers' round trips (client span less
	// server span) already; at 1 %, the run's own waits (behind an 85 ms
	// convert) landed at the p99 of currencyservice's 0.3 ms operation.
	targetUtilisation  = 0.5
	maxWaitProbability = 0.001
	// maxTailPoints is the most values above p99 written one by one
	// (distribution).
	maxTailPoints = 10
	// parallelShare: two calls (or the copies of one) whose intervals
	// overlapped in more than this share of the invocations that made
	// both are taken as issued at once.
	parallelShare = 0.5
)

// model turns the statistics into a scenario.
func (a *aggregator) model(files []string, opts Options) *Model {
	m := &Model{Name: opts.Name}
	window := a.window()
	ratio, ratioFrom := a.sampleRatio(opts.Sampled)
	m.Observed = Observed{
		Traces: a.traces, Spans: a.spans, OrphanSpans: a.orphanSpans,
		DuplicateSpans: a.duplicateSpans, SkippedSpans: a.skippedSpans,
		Window: time.Duration(window), SampleRatio: ratio,
	}
	secs := float64(window) / 1e9
	dur := max(time.Duration(math.Ceil(secs))*time.Second, 10*time.Second)
	m.Duration = min(dur, 24*time.Hour)
	m.Warmup = min(10*time.Second, (m.Duration / 10).Round(time.Second))
	var srcs []string
	for i, f := range files {
		srcs = append(srcs, fmt.Sprintf("%s (%s)", filepath.Base(f), a.formats[i]))
	}
	m.Description = "imported from traces: " + strings.Join(srcs, ", ")

	// Names: the spans' names made into scenario names, unique.
	svcRaw := make([]string, 0, len(a.services))
	for name := range a.services {
		svcRaw = append(svcRaw, name)
	}
	slices.Sort(svcRaw)
	for _, raw := range svcRaw {
		splitEntries(a.services[raw])
	}
	a.findRoundTripBursts(svcRaw)
	used := map[string]bool{}
	svcName := map[string]string{}
	for _, raw := range svcRaw {
		svcName[raw] = unique(used, sanitize(raw, "service"))
	}
	opName := map[opKey]string{}
	for _, raw := range svcRaw {
		s := a.services[raw]
		opsUsed := map[string]bool{}
		for _, o := range sortedOps(s) {
			name := sanitizeOp(o.key.op)
			if o.variant != "" {
				name += "-" + o.variant
			}
			opName[o.key] = unique(opsUsed, name)
		}
	}
	target := func(k opKey) string { return svcName[k.service] + "." + opName[k] }

	for _, raw := range svcRaw {
		s := a.services[raw]
		svc := Service{Name: svcName[raw], Instances: max(len(s.instances), 1)}
		var spans int64
		var names []string
		perOp := map[string]int64{}
		for _, o := range s.ops {
			perOp[o.key.op] += o.count
		}
		for _, o := range sortedOps(s) {
			op := o.key.op
			spans += o.count
			if !slices.Contains(names, op) {
				names = append(names, op)
			}
			sop := a.operation(o, opName[o.key], secs, ratio, target)
			if o.variant != "" {
				sop.Comments = append([]string{patternComment(o, perOp[op])}, sop.Comments...)
			}
			svc.Operations = append(svc.Operations, sop)
			// Requests that came from no caller the scenario holds: the
			// root spans, and the invocations whose caller is missing
			// (orphans) or did not wait for them (detached). Each kind
			// is a client of its own at its observed rate, so that the
			// run's counts are the observed ones.
			addClient := func(prefix string, n int64, from string) {
				if n == 0 {
					return
				}
				rate := float64(n) / secs / ratio
				m.Clients = append(m.Clients, Client{
					Name:   prefix + "-" + svcName[raw] + "-" + opName[o.key],
					Entry:  prefix == clientPrefixes[0],
					Target: target(o.key),
					Rate:   rate,
					Comments: []string{fmt.Sprintf("%d %s of %q over %s, sampled %s: %s requests/s, Poisson arrivals",
						n, from, op, fmtSeconds(secs), fmtShare(ratio), fmtNum(rate))},
				})
			}
			addClient(clientPrefixes[0], o.entries, "root spans")
			addClient(clientPrefixes[1], o.orphans, "spans whose parent span the files do not hold (a caller the traces do not show)")
			if o.key.pattern == "" {
				addClient(clientPrefixes[2], s.detached[op], "invocations their caller did not wait for (consumer spans, FOLLOWS_FROM, or outliving their caller's span)")
			}
		}
		svc.Comments = append(svc.Comments, fmt.Sprintf("from %d invocations (first spans) of service %q: operations %s", spans, raw, quoteList(names, 8)))
		if len(s.instances) > 0 {
			svc.InstancesNote = fmt.Sprintf("instances = %d: the distinct pods (hosts) that recorded its spans: %s", len(s.instances), quoteList(sortedKeys(s.instances), 4))
		} else {
			svc.InstancesNote, svc.InstancesAssumed = "instances = 1: the spans do not name the pod or host that recorded them", true
		}
		svc.ConcurrencyModel = "async"
		svc.Workers, svc.Assumptions = a.workers(s, svc.Instances, secs, ratio, svc.Assumptions)
		m.Services = append(m.Services, svc)
	}
	for i := range m.Clients {
		m.Clients[i].Name = unique(used, m.Clients[i].Name)
	}
	slices.SortFunc(m.Clients, func(x, y Client) int { return cmp.Compare(x.Name, y.Name) })
	fanoutWorkers(m)
	cut := unrollCycles(m)

	h := []string{
		fmt.Sprintf("Imported by 'faultline import' from %s.", strings.Join(srcs, ", ")),
		fmt.Sprintf("Read %d traces, %d spans; entry requests started over %s.", a.traces, a.spans, fmtSeconds(secs)),
		fmt.Sprintf("Rates are counts divided by the sampled share %s (%s).", fmtShare(ratio), ratioFrom),
	}
	if a.orphanSpans > 0 {
		h = append(h, fmt.Sprintf("%d spans name a parent span the files do not hold: each counts as the first span of an invocation, which a client of its own (orphan-...) drives at the rate observed, as a request from a caller the traces do not show.", a.orphanSpans))
	}
	if a.detachedInvocations > 0 {
		h = append(h, fmt.Sprintf("%d invocations were not waited for by their caller (consumer spans, FOLLOWS_FROM references, or work that outlived its caller's span): each is left out of its caller's calls and driven by a client of its own (async-...) at the rate observed; a fault that slows the caller does not slow their arrivals in the run.", a.detachedInvocations))
	}
	h = append(h, a.skewNotes()...)
	if a.duplicateSpans > 0 {
		h = append(h, fmt.Sprintf("%d spans repeat the id of another span of their trace and are left out.", a.duplicateSpans))
	}
	if a.skippedSpans > 0 {
		h = append(h, fmt.Sprintf("%d spans have no start time (incomplete) and are left out.", a.skippedSpans))
	}
	h = append(h, cut...)
	h = append(h, "",
		"From the traces: services and instances, operations, the calls between them "+
			"with their probabilities, counts (repeat) and order (parallel when their spans overlapped), "+
			"each operation's own time (its span less the time covered by its calls) as percentiles "+
			"(a histogram where it falls in separate clusters, markov where it comes in episodes), "+
			"its own error share, the round trip of calls with client spans (markov where the round trips "+
			"to a service come in episodes), entry rates.",
		"",
		"Assumed, since traces cannot show them: worker pools (chosen per service below), "+
			"queues without limit, no timeouts or circuit breakers, no retries but those the traces show "+
			"(a failed call tried again at once). Traces of a system "+
			"that was not saturated cannot show its capacity: the run matches them at the "+
			"observed load, not beyond it.")
	m.Header = h
	return m
}

// window is the time over which the traces' requests arrived: the span of
// the root spans' starts, stretched by one mean gap so that n requests
// over it have rate n / window; or the time the spans cover, when fewer
// than two traces have a root.
func (a *aggregator) window() int64 {
	if a.roots >= 2 && a.lastRoot > a.firstRoot {
		return int64(float64(a.lastRoot-a.firstRoot) * float64(a.roots) / float64(a.roots-1))
	}
	return max(a.lastEnd-a.firstStart, int64(time.Second))
}

// sampleRatio is the share of requests the traces hold: the one given, or
// the one every root span says its sampler used, or 1.
func (a *aggregator) sampleRatio(given float64) (float64, string) {
	if given > 0 {
		return given, "given with --sampled"
	}
	if len(a.ratios) == 1 && a.rootsWithoutRatio == 0 {
		for r := range a.ratios {
			return r, "the probabilistic sampler's ratio the root spans carry (sampler.param)"
		}
	}
	return 1, "the traces say no sampler ratio; give --sampled when they were sampled"
}

func (a *aggregator) operation(o *opStats, name string, secs, ratio float64, target func(opKey) string) Operation {
	// The observed quantiles are of the successful spans, as a run's
	// latency is of successful requests; of the failed ones when none
	// succeeded (compare's rules for an operation failed throughout).
	hold, series, of := &o.hold, o.holdSeries, ""
	switch {
	case o.hold.Count() == 0:
		hold, series, of = &o.failHold, o.failSeries, " (all failed)"
	case o.errors > 0:
		of = fmt.Sprintf(" (its %d successful ones)", o.hold.Count())
	}
	// The service time is of the successful invocations' own times (of
	// the failed ones' when none succeeded): a run's failure takes its
	// request's drawn time, so failures that were fast would otherwise be
	// drawn as fast successes; they hold their worker a success's time
	// instead, which an unsaturated system does not show.
	own := &o.own
	if own.Count() == 0 {
		own = &o.failOwn
	}
	op := Operation{
		Name:        name,
		ServiceTime: distribution(own),
		Count:       o.count,
		RatePerSec:  float64(o.count) / secs / ratio,
		P50:         time.Duration(hold.Quantile(0.5)),
		P90:         time.Duration(hold.Quantile(0.9)),
		P99:         time.Duration(hold.Quantile(0.99)),
		P50CI:       quantileInterval(hold, series, 0.5),
		P99CI:       quantileInterval(hold, series, 0.99),
		ErrorShare:  float64(o.errors) / float64(o.count),
	}
	op.Comments = append(op.Comments, fmt.Sprintf("%q: %d spans, %s/s; whole span p50 %s, p99 %s%s; own time (less its calls) p50 %s, p99 %s",
		o.key.op, o.count, fmtNum(op.RatePerSec), fmtDur(hold.Quantile(0.5)), fmtDur(hold.Quantile(0.99)), of,
		fmtDur(own.Quantile(0.5)), fmtDur(own.Quantile(0.99))))
	episodes := false
	if b, ok := findBursts(o.ownSeries); ok {
		if d, ok := markovDist(o.ownSeries, b); ok {
			op.ServiceTime, episodes = d, true
			op.Comments = append(op.Comments, b.comment("its own times"))
		}
	}
	if multimodal(own) && !episodes {
		op.Comments = append(op.Comments, multimodalComment)
	}
	if o.ownErrors > 0 {
		op.Errors = roundSig(float64(o.ownErrors)/float64(o.count), 3)
		op.Comments = append(op.Comments, fmt.Sprintf("errors: %d of its spans failed while none of their calls did", o.ownErrors))
	}
	if o.errors > o.ownErrors {
		op.Comments = append(op.Comments, fmt.Sprintf("%d more failed with a failed call: the run makes those fail through the call", o.errors-o.ownErrors))
	}
	if o.ownWithCalls > 0 {
		if ac := math.Round(o.after/o.ownWithCalls*100) / 100; ac > 0 {
			op.AfterCalls = min(ac, 1)
		}
	}
	op.Calls = a.writeCalls(o, target)
	return op
}

// writeCalls writes an operation's calls in the order they were first made, with
// their probabilities, their copies, and groups of calls made at once.
func (a *aggregator) writeCalls(o *opStats, target func(opKey) string) []Call {
	edges := make([]*edgeStats, 0, len(o.calls))
	for _, e := range o.calls {
		edges = append(edges, e)
	}
	slices.SortFunc(edges, func(x, y *edgeStats) int {
		return cmp.Or(cmp.Compare(x.rankSum/float64(x.invocations), y.rankSum/float64(y.invocations)), x.callee.less(y.callee))
	})
	parallel := func(x, y *edgeStats) bool {
		pk := [2]opKey{x.callee, y.callee}
		if x.callee.less(y.callee) > 0 {
			pk = [2]opKey{y.callee, x.callee}
		}
		p := o.pairs[pk]
		return p != nil && float64(p.overlap) > parallelShare*float64(p.both)
	}
	var out []Call
	var group []*edgeStats
	groups := 0
	closeGroup := func() {
		if len(group) > 1 {
			groups++
			for i := len(out) - len(group); i < len(out); i++ {
				out[i].Group = fmt.Sprintf("g%d", groups)
			}
		}
		group = group[:0]
	}
	for _, e := range edges {
		c := Call{To: target(e.callee), Probability: roundSig(float64(e.invocations)/float64(o.count), 3), Fanout: 1}
		made := fmt.Sprintf("%d of %d requests (%s) made it", e.invocations, o.count, fmtShare(float64(e.invocations)/float64(o.count)))
		maxCount := 0
		for k := range e.counts {
			maxCount = max(maxCount, k)
		}
		if e.roundTrip.Count() > 0 {
			// The observed round trip whole, drawn once per attempt: two
			// independent one-way halves of a heavy-tailed distribution
			// add up to a higher median and a lighter tail than observed
			// (scenarios.md, "Network time on an edge").
			c.RoundTrip = distribution(&e.roundTrip)
			made += fmt.Sprintf("; round_trip: network and queueing time there and back, client span less server span, from %d pairs", e.roundTrip.Count())
			if e.skewed > 0 {
				made += fmt.Sprintf(" (%d client spans shorter than their server span, clock skew, counted as 0)", e.skewed)
			}
			if b, ok := a.rtBursts[e.callee.service]; ok {
				if d, ok := markovDist(e.rtSeries, b); ok {
					c.RoundTrip = d
					made += "; " + b.comment("the round trips of the calls to "+e.callee.service)
				}
			} else if multimodal(&e.roundTrip) {
				made += "; " + multimodalComment
			}
		}
		c.Comments = append(c.Comments, made)
		// A caller that carried on when its call failed: the call
		// falls back (scenarios.md, fallback), or the run would fail
		// the caller through it, as the traces did not.
		if f := a.failedCalls[[2]opKey{{service: o.key.service, op: o.key.op}, e.callee}]; f[0] > 0 && 2*f[1] > f[0] {
			c.Extra = append(c.Extra, Key{Name: "fallback", Value: "true", Comment: fmt.Sprintf("%d of its %d failed calls left their caller's span without an error: it carried on", f[1], f[0])})
		}
		// A failed attempt followed at once by another call to the same
		// callee is a retry (edges): the call retries (scenarios.md,
		// [service.call.retry]), after the mean gap observed, with no
		// jitter, as many attempts as the most seen, not repeat with a
		// fallback. max_attempts above 10 takes a call timeout: 10.
		if e.retries > 0 {
			most := min(e.maxAttempts, 10)
			c.Extra = append(c.Extra, Key{Name: "retry",
				Value:   fmt.Sprintf(`{ max_attempts = %d, backoff = "constant", base = %s, jitter = "none" }`, most, quote(fmtDur(e.retryGap/e.retries))),
				Comment: fmt.Sprintf("%d failed attempts were followed at once by another to %s.%s: retries, %d attempts at most", e.retries, e.callee.service, e.callee.op, e.maxAttempts)})
		}
		switch {
		case maxCount <= 1:
		case float64(e.overlapped) > parallelShare*float64(e.multi):
			mean := float64(e.total) / float64(e.invocations)
			c.Fanout = max(int(math.Round(mean)), 1)
			c.Comments = append(c.Comments, fmt.Sprintf("copies at once (fanout): 1 to %d per request, mean %s; written as %d", maxCount, fmtNum(mean), c.Fanout))
			if c.Fanout > dist.MaxCount {
				c.Comments = append(c.Comments, fmt.Sprintf("NOT EXPRESSED: a fanout above %d, the most a scenario takes: written as %d", dist.MaxCount, dist.MaxCount))
				c.Fanout = dist.MaxCount
			}
		default:
			// Repeated one after the other, a number of times that varies
			// from request to request: one call with repeat, its count
			// drawn from the counts observed (scenarios.md, repeat), so
			// that how the counts go together is kept, not only their
			// mean. probability keeps the share of requests that made it.
			closeGroup()
			// Counts above the most a scenario repeats a call are
			// written as that most, and said so.
			counts := map[int]int64{}
			for k, n := range e.counts {
				counts[min(k, dist.MaxCount)] += n
			}
			if maxCount > dist.MaxCount {
				c.Comments = append(c.Comments, fmt.Sprintf("NOT EXPRESSED: counts above %d, the most a scenario repeats a call, written as %d", dist.MaxCount, dist.MaxCount))
			}
			ks := make([]int, 0, len(counts))
			for k := range counts {
				ks = append(ks, k)
			}
			slices.Sort(ks)
			if len(ks) == 1 {
				c.Repeat = strconv.Itoa(ks[0])
			} else {
				bins := make([]string, len(ks))
				for i, k := range ks {
					bins[i] = fmt.Sprintf("%d: %d", k, counts[k])
				}
				c.Repeat = quote("histogram(" + strings.Join(bins, ", ") + ")")
			}
			c.Comments = append(c.Comments, fmt.Sprintf("made %d to %d times per request (mean %s), one after the other: repeat, the count drawn from the counts observed",
				ks[0], ks[len(ks)-1], fmtNum(float64(e.total)/float64(e.invocations))))
			if e.failed > 0 {
				c.Comments = append(c.Comments, fmt.Sprintf("%d of its calls failed", e.failed))
			}
			out = append(out, c)
			continue
		}
		if e.failed > 0 {
			c.Comments = append(c.Comments, fmt.Sprintf("%d of its calls failed", e.failed))
		}
		joined := len(group) > 0
		for _, g := range group {
			joined = joined && parallel(g, e)
		}
		if !joined {
			closeGroup()
		}
		group = append(group, e)
		out = append(out, c)
	}
	closeGroup()
	return out
}

// workers chooses a service's concurrency model and worker pool, which
// traces cannot show. A span shows two things: its own time, the work it
// did, and the time its calls covered, which it spent waiting. Whether a
// thread of a bounded pool was pinned during the wait is not in the trace,
// so the import takes the model that adds nothing the trace does not show:
// async (a goroutine per request, as Go's net/http and grpc-go serve; an
// event loop, as Node.js and Netty do), whose workers are the capacity for
// the own time only. Sizing a pool of waiting threads from the span times
// instead fits the normal load as well, but puts a limit the traces never
// saw at exactly the point a slow dependency tests: under a fault that
// holds each request for seconds, such a pool saturates and the
// simulation answers in seconds more than the system did.
//
// The pool is the smallest count that keeps the observed own-time load
// (rate x mean own time) at most half of the pool, and lets a request find
// all workers busy with probability at most maxWaitProbability (Erlang C,
// M/M/c: at an async service the own work is what queues, TestAsyncOwnTimeMMc).
func (a *aggregator) workers(s *serviceStats, instances int, secs, ratio float64, notes []string) (int, []string) {
	var load float64 // requests at their own work at once, per instance
	for _, o := range s.ops {
		// Every invocation held its worker, failed or not.
		load += float64(o.count) / secs / ratio * (o.own.Sum() + o.failOwn.Sum()) / float64(max(o.own.Count()+o.failOwn.Count(), 1)) / 1e9
	}
	load /= float64(instances)
	c := poolFor(load)
	if s.concurrent > c {
		notes = append(notes, fmt.Sprintf("workers = %d, not the %d the load asks for: one request's trace shows %d of its invocations in progress at once on one instance (a fan-out, calls issued together), which it served at once", s.concurrent, c, s.concurrent))
		c = s.concurrent
	}
	notes = append(notes, `concurrency_model = "async": a request gives its worker back while its calls are out, as a goroutine per request (Go's net/http, grpc-go) or an event loop (Node.js, Netty) does; traces cannot tell. Set "thread" and the pool's size for a service whose threads wait on their calls (a bounded thread pool, such as Tomcat's 200)`)
	notes = append(notes, fmt.Sprintf("workers = %d: the traces show %s requests at their own work at once per instance (rate x mean own time, the span less its calls); %d workers keep utilisation at %s, with at most %s of requests waiting for one (Erlang C; the waits observed are in the callers' round trips already). The real capacity cannot be seen in traces of a system that was not saturated", c, fmtNum(load), c, fmtShare(load/float64(c)), fmtShare(maxWaitProbability)))
	notes = append(notes, "queue: unbounded (the default): traces cannot show a queue limit")
	return c, notes
}

// poolFor is the smallest pool that keeps an offered load (in erlangs) at
// most targetUtilisation busy and lets at most maxWaitProbability of
// requests wait.
func poolFor(load float64) int {
	c := 1
	for ; c < 100000; c++ {
		if load/float64(c) <= targetUtilisation && erlangC(c, load) <= maxWaitProbability {
			break
		}
	}
	return c
}

// erlangC is the probability that a request waits in an M/M/c queue with
// offered load a (in erlangs), from Erlang B's recursion
// B(k) = a B(k-1) / (k + a B(k-1)), C = B / (1 - (a/c)(1 - B)).
func erlangC(c int, a float64) float64 {
	if a <= 0 {
		return 0
	}
	if a >= float64(c) {
		return 1
	}
	b := 1.0
	for k := 1; k <= c; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b / (1 - a/float64(c)*(1-b))
}

// fanoutWorkers gives a service called with a fanout at least as many
// workers per instance as the copies each instance gets at once (the
// balancer spreads them): the run issues a fanout's copies at the same
// moment, where the traces' copies, overlapping, were each served without
// waiting for a worker (their wait would be in the round trips). A pool
// sized from the load alone queued them, and the fanned-out operation
// answered several times slower than observed.
func fanoutWorkers(m *Model) {
	idx := map[string]int{}
	for i, s := range m.Services {
		idx[s.Name] = i
	}
	for _, s := range m.Services {
		for _, o := range s.Operations {
			for _, c := range o.Calls {
				if c.Fanout <= 1 {
					continue
				}
				callee := &m.Services[idx[serviceOf(c.To)]]
				need := (c.Fanout + max(callee.Instances, 1) - 1) / max(callee.Instances, 1)
				if need > callee.Workers {
					callee.Assumptions = append(callee.Assumptions, fmt.Sprintf("workers = %d, not %d: %s.%s sends %d copies at once (fanout), %d to each instance, which served them without waiting for a worker", need, callee.Workers, s.Name, o.Name, c.Fanout, need))
					callee.Workers = need
				}
			}
		}
	}
}

// maxCopies bounds the copies of one service unrollCycles makes: a chain
// of calls that comes back to a service more often than this (or calls
// of operations that go round among themselves) is cut instead.
const maxCopies = 8

// unrollCycles keeps calls that come back to a service already waiting
// upstream (a -> b -> a: a callback, b asking a for more) without a cycle
// between services, which the scenario language refuses since a
// service's operations share its workers. The call that closes the cycle
// goes to a copy of the service holding the one operation called (and its
// calls, unrolled in turn), named <service>-reentry; the copy has the
// service's instances and workers but its own (the real service shares
// them), as its comments say. A chain that comes back to one service more
// than maxCopies times (operations that call each other round) is cut, each cut named in
// the header and at its operation. It returns the header's notes.
func unrollCycles(m *Model) []string {
	idx := map[string]int{}
	for i, s := range m.Services {
		idx[s.Name] = i
	}
	used := map[string]bool{}
	for _, s := range m.Services {
		used[s.Name] = true
	}
	for _, c := range m.Clients {
		used[c.Name] = true
	}
	copies := map[string]int{} // on the chain being visited, per service
	var state []int            // 0 new, 1 on the path, 2 done; grows with the copies
	var notes []string
	var visit func(i int)
	visit = func(i int) {
		state[i] = 1
		for oi := range m.Services[i].Operations {
			kept := m.Services[i].Operations[oi].Calls[:0]
			for _, c := range m.Services[i].Operations[oi].Calls {
				callee, op, _ := strings.Cut(c.To, ".")
				j := idx[callee]
				copied := ""
				if state[j] == 1 {
					base := m.Services[j].Name
					if m.Services[j].CopyOf != "" {
						base = m.Services[j].CopyOf
					}
					s, o := &m.Services[i], &m.Services[i].Operations[oi]
					if copies[base] >= maxCopies {
						note := fmt.Sprintf("NOT EXPRESSED: a call of %s.%s to %s, left out: it comes back to %s more than %d times along one chain of calls, which a scenario cannot hold (its services may not call round)", s.Name, o.Name, c.To, base, maxCopies)
						notes = append(notes, note)
						o.Comments = append(o.Comments, note)
						continue
					}
					copies[base]++
					copied = base
					j = copyService(m, j, op, unique(used, base+"-reentry"))
					idx[m.Services[j].Name] = j
					state = append(state, 0)
					c.To = m.Services[j].Name + "." + op
					c.Comments = append(c.Comments, fmt.Sprintf("to a copy of %s: the call comes back to it while it waits upstream, a cycle of calls between services, which a scenario cannot hold", base))
				}
				if state[j] == 0 {
					visit(j)
				}
				if copied != "" {
					// The copy's chain is done: maxCopies bounds the
					// copies along one chain, not in the whole graph
					// (ten services calling their caller back, each once,
					// are ten chains of one).
					copies[copied]--
				}
				kept = append(kept, c)
			}
			m.Services[i].Operations[oi].Calls = kept
		}
		state[i] = 2
	}
	// From the entries first, so that the calls kept are the ones in
	// the direction requests came (a page calling an API, not the
	// API's callback calling the page).
	state = make([]int, len(m.Services))
	for _, c := range m.Clients {
		if i := idx[serviceOf(c.Target)]; state[i] == 0 {
			visit(i)
		}
	}
	for i := 0; i < len(m.Services); i++ {
		if state[i] == 0 {
			visit(i)
		}
	}
	var names []string
	for _, s := range m.Services {
		if s.CopyOf != "" {
			names = append(names, s.Name)
		}
	}
	if len(names) > 0 {
		notes = append(notes, fmt.Sprintf("Calls that come back to a service waiting upstream (a cycle of calls between services, which a scenario cannot hold) go to copies of it that hold the operation called: %s. A copy has its service's instances and workers, but its own.", strings.Join(names, ", ")))
	}
	return notes
}

func serviceOf(target string) string {
	s, _, _ := strings.Cut(target, ".")
	return s
}

// copyService appends a copy of service j holding its operation op alone,
// its calls as they are, and returns the copy's index.
func copyService(m *Model, j int, op, name string) int {
	orig := m.Services[j]
	base := orig.Name
	if orig.CopyOf != "" {
		base = orig.CopyOf
	}
	cp := orig
	cp.Name, cp.CopyOf = name, base
	cp.Comments = append([]string{fmt.Sprintf("a copy of service %q for the calls that come back to it while it waits upstream (a cycle of calls between services, which a scenario cannot hold): its operation %q alone, with the service's instances and workers, but its own workers (the real service shares them)", base, op)}, orig.Comments...)
	cp.Assumptions = slices.Clone(orig.Assumptions)
	cp.Extra = slices.Clone(orig.Extra)
	cp.Operations = nil
	for _, o := range orig.Operations {
		if o.Name == op {
			o.Calls = slices.Clone(o.Calls)
			o.Comments = slices.Clone(o.Comments)
			cp.Operations = append(cp.Operations, o)
		}
	}
	m.Services = append(m.Services, cp)
	return len(m.Services) - 1
}

// distribution writes a histogram of durations as a distribution: a
// histogram(...) when it has separate clusters (shape.go), else
// percentiles(...), piecewise linear through its minimum, p10, p25, p50,
// p75, p90, p99 and its maximum (p100, so that no draw exceeds what was
// seen), with points added where the values bend away from the straight
// line between those (bend, shape.go). Above p99 the values are few: a
// straight line from p99 to the maximum would spread that 1 % evenly over
// what may be a wide gap (417 values whose top five are 1.9, 3.0, 4.2, 78
// and 79 ms drew 1 % of values anywhere from 1.9 to 79 ms, and a run's p99
// fell there one time in two). So when at most maxTailPoints values lie
// above p99, each is written at its own rank r of n as p(r/n), the
// empirical distribution point by point; with more, p999 is written.
func distribution(h *metrics.Histogram) string {
	if h.Count() == 0 || h.Max() == 0 {
		return "0s"
	}
	if multimodal(h) {
		return histogramDist(h)
	}
	var ks []knot
	for _, q := range []float64{0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99} {
		ks = append(ks, knot{q: q, v: h.Quantile(q), r: max(uint64(math.Ceil(q*float64(h.Count()))), 1)})
	}
	n := h.Count()
	r99 := uint64(math.Ceil(0.99 * float64(n)))
	switch {
	case n-r99 <= maxTailPoints:
		for r := r99 + 1; r < n; r++ {
			ks = append(ks, knot{q: keyQuantile(float64(r) / float64(n)), v: h.Quantile(float64(r) / float64(n)), r: r})
		}
	default:
		ks = append(ks, knot{q: 0.999, v: h.Quantile(0.999), r: uint64(math.Ceil(0.999 * float64(n)))})
	}
	ks = append(ks, knot{q: 1, v: h.Max(), r: n})
	ks = bend(h, ks)
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = k.key() + "=" + fmtDur(k.v)
	}
	return "percentiles(" + strings.Join(parts, ", ") + ")"
}

// sanitize makes a name of the scenario language (^[a-z][a-z0-9_-]*$) from
// a span's: lower case, camel case split with '-', other characters '-'.
func sanitize(s, fallback string) string {
	var b strings.Builder
	prevLower := false
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			if prevLower {
				b.WriteByte('-')
			}
			b.WriteRune(r + ('a' - 'A'))
			prevLower = false
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_':
			b.WriteRune(r)
			prevLower = r != '_'
		default:
			b.WriteByte('-')
			prevLower = false
		}
	}
	out := strings.Trim(b.String(), "-_")
	for strings.Contains(out, "--") {
		out = strings.ReplaceAll(out, "--", "-")
	}
	if out == "" {
		return fallback
	}
	if out[0] < 'a' || out[0] > 'z' {
		out = fallback + "-" + out
	}
	return out
}

// sanitizeOp names an operation: a gRPC method's full name
// ("/pkg.Service/Method", "pkg.Service/Method") by its method, anything
// else ("HTTP GET /hotels") whole.
func sanitizeOp(op string) string {
	t := strings.TrimPrefix(op, "/")
	if svc, method, ok := strings.Cut(t, "/"); ok && strings.Contains(svc, ".") && !strings.ContainsAny(t, " ") && !strings.Contains(method, "/") {
		if n := sanitize(method, ""); n != "" {
			return n
		}
	}
	return sanitize(op, "op")
}

func unique(used map[string]bool, name string) string {
	n := name
	for i := 2; used[n]; i++ {
		n = fmt.Sprintf("%s-%d", name, i)
	}
	used[n] = true
	return n
}

// sortedOps are a service's operations by name, the call patterns of one
// by how common they are.
func sortedOps(s *serviceStats) []*opStats {
	ops := make([]*opStats, 0, len(s.ops))
	for _, o := range s.ops {
		ops = append(ops, o)
	}
	slices.SortFunc(ops, func(x, y *opStats) int {
		return cmp.Or(cmp.Compare(x.key.op, y.key.op), cmp.Compare(b2i(x.variant == "other"), b2i(y.variant == "other")), cmp.Compare(y.count, x.count), cmp.Compare(x.key.pattern, y.key.pattern))
	})
	return ops
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func quoteList(names []string, most int) string {
	var q []string
	for i, n := range names {
		if i == most {
			q = append(q, fmt.Sprintf("and %d more", len(names)-most))
			break
		}
		q = append(q, strconv.Quote(n))
	}
	return strings.Join(q, ", ")
}

// fmtDur writes nanoseconds as a Go duration with 4 significant digits.
func fmtDur(ns int64) string {
	switch {
	case ns < 1000:
		return strconv.FormatInt(ns, 10) + "ns"
	case ns < 1e6:
		return fmtNum(float64(ns)/1e3) + "us"
	case ns < 1e9:
		return fmtNum(float64(ns)/1e6) + "ms"
	}
	return fmtNum(float64(ns)/1e9) + "s"
}

func fmtSeconds(s float64) string { return fmtNum(s) + " s" }

func fmtShare(x float64) string { return fmtNum(x*100) + " %" }

// fmtNum writes a number with 4 significant digits, without an exponent.
func fmtNum(x float64) string { return strconv.FormatFloat(roundSig(x, 4), 'f', -1, 64) }

func roundSig(x float64, digits int) float64 {
	if x == 0 || math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	p := math.Pow(10, float64(digits)-math.Ceil(math.Log10(math.Abs(x))))
	return math.Round(x*p) / p
}
