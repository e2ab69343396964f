package importer

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// An entry operation often serves several kinds of request under one span
// name: a web front end's one handler ("Recv.", "HTTP GET /") renders the
// home page, a product page, the cart and the checkout, each calling other
// operations. Written as one operation, its calls would be drawn
// independently of each other with their overall probabilities, and every
// simulated request would be a blend of the pages, slower than most real
// ones and faster than the slowest. So the requests of an entry operation
// are told apart by their call pattern, the set of operations an
// invocation called (not how many times: the number of items in a cart
// varies within one page), and each pattern that is common enough becomes
// an operation of its own, with its own client, own time and calls.
const (
	// maxPatterns is the most call patterns one entry operation is split
	// into; the less common ones are merged into one more, "-other".
	maxPatterns = 8
	// minPatternShare is the share of the operation's invocations a
	// pattern needs to stand alone: below it, it is merged into "-other".
	minPatternShare = 0.02
	// minPatternCount is the fewest invocations a pattern needs to stand
	// alone, whatever its share: its own time is written as percentiles,
	// which a handful of spans do not give.
	minPatternCount = 20
	// maxTrackedPatterns bounds the patterns kept apart while reading
	// (the patterns of a trace file are few, but nothing guarantees it):
	// the invocations of any pattern after these go to one overflow.
	maxTrackedPatterns = 256
	overflowPattern    = "\x00\x00overflow"
)

// callPattern returns the key of the set of operations the current
// invocation called (a.calls), and leaves that set, sorted, in a.keys. A
// pattern starts with a NUL byte, so that it cannot be confused with the
// "" of invocations that were not entries.
func (a *aggregator) callPattern(service, op string) string {
	a.keys = a.keys[:0]
	for i := range a.calls {
		if !slices.Contains(a.keys, a.calls[i].key) {
			a.keys = append(a.keys, a.calls[i].key)
		}
	}
	slices.SortFunc(a.keys, opKey.less)
	var b strings.Builder
	b.WriteByte(0)
	for i, k := range a.keys {
		if i > 0 {
			b.WriteByte('\x1e')
		}
		b.WriteString(k.service)
		b.WriteByte('\x1f')
		b.WriteString(k.op)
	}
	p := b.String()
	s := a.services[service]
	if s != nil && s.ops[op+p] == nil && s.patterns[op] >= maxTrackedPatterns {
		return overflowPattern
	}
	return p
}

// splitEntries decides, for each operation of s, whether its entry
// invocations stand apart by call pattern, and leaves in s.ops one
// opStats per operation the scenario will have: an operation invoked only
// as an entry, in more than one common pattern, keeps one per common
// pattern (at most maxPatterns, each with at least minPatternShare of its
// invocations and minPatternCount) plus "-other" for the rest, when at
// least two stand alone; any other is merged back into one, keyed with
// pattern "".
func splitEntries(s *serviceStats) {
	byOp := map[string][]*opStats{}
	for _, o := range s.ops {
		byOp[o.key.op] = append(byOp[o.key.op], o)
	}
	ops := map[string]*opStats{}
	for _, name := range sortedKeys(byOp) {
		group := byOp[name]
		slices.SortFunc(group, func(x, y *opStats) int {
			return cmp.Or(cmp.Compare(y.count, x.count), cmp.Compare(x.key.pattern, y.key.pattern))
		})
		var total int64
		invokedInside := false
		for _, o := range group {
			total += o.count
			invokedInside = invokedInside || o.key.pattern == ""
		}
		var kept, rest []*opStats
		for _, o := range group {
			if len(kept) < maxPatterns && o.key.pattern != overflowPattern && float64(o.count) >= minPatternShare*float64(total) && o.count >= minPatternCount {
				kept = append(kept, o)
			} else {
				rest = append(rest, o)
			}
		}
		if invokedInside || len(kept) < 2 {
			m := mergeOps(opKey{service: s.name, op: name}, group)
			ops[name] = m
			continue
		}
		if len(rest) > 0 {
			kept = append(kept, mergeOps(opKey{s.name, name, "\x00\x00other"}, rest))
			kept[len(kept)-1].variant = "other"
		}
		namePatterns(kept)
		for _, o := range kept {
			ops[name+o.key.pattern] = o
		}
	}
	s.ops = ops
}

// namePatterns names each pattern after the operation it called that the
// fewest of its operation's invocations called (the one that tells it
// apart), not already the name of a more common pattern: "recv" calling
// place-order becomes "recv-place-order". A pattern without calls is
// "no-calls".
func namePatterns(group []*opStats) {
	calledBy := map[opKey]int64{}
	for _, o := range group {
		for _, k := range o.callees {
			calledBy[k] += o.count
		}
	}
	used := map[string]bool{}
	for _, o := range group {
		if o.variant != "" {
			continue
		}
		if len(o.callees) == 0 {
			o.variant = "no-calls"
			continue
		}
		cands := slices.Clone(o.callees)
		slices.SortFunc(cands, func(x, y opKey) int {
			return cmp.Or(cmp.Compare(calledBy[x], calledBy[y]), cmp.Compare(sanitizeOp(x.op), sanitizeOp(y.op)), x.less(y))
		})
		o.variant = sanitizeOp(cands[0].op)
		for _, c := range cands {
			if n := sanitizeOp(c.op); !used[n] {
				o.variant = n
				break
			}
		}
		used[o.variant] = true
	}
}

// mergeOps folds the statistics of several opStats of one operation into
// one.
func mergeOps(k opKey, group []*opStats) *opStats {
	if len(group) == 1 && group[0].key.pattern == k.pattern {
		return group[0]
	}
	m := &opStats{key: k, calls: map[opKey]*edgeStats{}, pairs: map[[2]opKey]*pairStats{}}
	for _, o := range group {
		m.count += o.count
		m.entries += o.entries
		m.orphans += o.orphans
		m.errors += o.errors
		m.ownErrors += o.ownErrors
		m.own.Merge(&o.own)
		m.failOwn.Merge(&o.failOwn)
		m.hold.Merge(&o.hold)
		m.failHold.Merge(&o.failHold)
		for _, x := range o.ownSeries {
			m.ownSeries = appendSample(m.ownSeries, x)
		}
		for _, x := range o.holdSeries {
			m.holdSeries = appendSample(m.holdSeries, x)
		}
		for _, x := range o.failSeries {
			m.failSeries = appendSample(m.failSeries, x)
		}
		m.ownWithCalls += o.ownWithCalls
		m.after += o.after
		for ck, e := range o.calls {
			me := m.calls[ck]
			if me == nil {
				me = &edgeStats{callee: ck, counts: map[int]int64{}}
				m.calls[ck] = me
			}
			me.invocations += e.invocations
			me.total += e.total
			for n, c := range e.counts {
				me.counts[n] += c
			}
			me.multi += e.multi
			me.overlapped += e.overlapped
			me.rankSum += e.rankSum
			me.failed += e.failed
			me.retries += e.retries
			me.retryGap += e.retryGap
			me.maxAttempts = max(me.maxAttempts, e.maxAttempts)
			me.roundTrip.Merge(&e.roundTrip)
			me.skewed += e.skewed
			for _, x := range e.rtSeries {
				me.rtSeries = appendSample(me.rtSeries, x)
			}
		}
		for pk, p := range o.pairs {
			mp := m.pairs[pk]
			if mp == nil {
				mp = &pairStats{}
				m.pairs[pk] = mp
			}
			mp.both += p.both
			mp.overlap += p.overlap
		}
	}
	return m
}

// patternComment says which invocations a split operation stands for.
func patternComment(o *opStats, total int64) string {
	share := fmtShare(float64(o.count) / float64(total))
	switch {
	case o.variant == "other":
		return fmt.Sprintf("call pattern \"other\": %d of the %d invocations of %q (%s), whose call patterns were each too rare to stand alone (under %s or %d invocations, or beyond the %d most common)",
			o.count, total, o.key.op, share, fmtShare(minPatternShare), minPatternCount, maxPatterns)
	case len(o.callees) == 0:
		return fmt.Sprintf("call pattern %q: %d of the %d invocations of %q (%s), which called nothing", o.variant, o.count, total, o.key.op, share)
	}
	var names []string
	for _, k := range o.callees {
		names = append(names, k.service+" "+k.op)
	}
	return fmt.Sprintf("call pattern %q: %d of the %d invocations of %q (%s), which called exactly these operations: %s",
		o.variant, o.count, total, o.key.op, share, quoteList(names, 12))
}
