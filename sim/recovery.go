package sim

import (
	"fmt"
	"slices"
	"time"
)

// The recovery verdict answers "after the fault ended, did the system come
// back?", the question of metastable failures (Bronson et al., HotOS 2021;
// Huang et al., OSDI 2022): a trigger pushes a vulnerable system into a
// bad state, and a sustaining effect, most often retries, keeps it there
// after the trigger is gone. For every client flow the engine says when
// its goodput was back, and for every consumer group the fault hit when
// it had caught up (groupRecovery), or that one was not by the end of the
// run, and,
// when one was not, what kept the bad state alive, read from what the
// engine counted after the fault's end: retries amplifying the load on a
// call edge, a service working through a backlog for callers who gave up,
// a breaker that keeps opening, a consumer lag that does not drain.
//
// A flow whose failures at the end of the run trace to another fault
// still going then has not failed to recover from this one: its trigger
// is not gone, so nothing is metastable yet (Bronson et al.'s abstract:
// a trigger causes "a bad state that persists even when the trigger is
// removed"; reference.md, "Metastable failures"). Its verdict is open,
// and names that fault.

// FlowRecovery is one client flow's verdict after one fault occurrence.
type FlowRecovery struct {
	Flow string `json:"flow"`
	// BeforeRPS is the flow's goodput (OK per second) over the cascade window
	// before the fault: the level it must come back to.
	BeforeRPS float64 `json:"goodput_before_rps"`
	Recovered bool    `json:"recovered"`
	// RecoveryS is the time from the fault's end until the flow's goodput
	// was back (see recoverHold); null when it did not recover by the end
	// of the run.
	RecoveryS *float64 `json:"recovery_s"`
	// UnderFault is, for a flow not back by the end, the other fault
	// occurrence (an index into Result.Cascades) still active over its
	// last recoverHold, to which at least minShare of its failures and
	// slow answers then trace: it is still under that fault, and did not
	// fail to recover from this one. null otherwise.
	UnderFault *int `json:"under_fault"`
}

// GroupRecovery is a consumer group's verdict after one fault occurrence
// whose blast radius it was in (groupRecovery).
type GroupRecovery struct {
	Group string `json:"group"`
	// BeforeS is the most its oldest unprocessed record had waited at a
	// window's close over the cascade window before the fault.
	BeforeS   float64 `json:"behind_before_s"`
	Recovered bool    `json:"recovered"`
	// RecoveryS is the time from the fault's end until it was back; null
	// when it was not by the end of the run.
	RecoveryS *float64 `json:"recovery_s"`
	// UnderFault is, for a group not back by the end, the other fault
	// occurrence still active over its last recoverHold to which at
	// least minShare of the records it was behind then trace, as a
	// flow's (FlowRecovery.UnderFault); null otherwise.
	UnderFault *int `json:"under_fault,omitempty"`
}

// SustainingCause is one effect that kept the bad state alive after the
// fault had ended, on a named component.
type SustainingCause struct {
	// Kind is "retries", "wasted_work", "breaker_cycling" or
	// "consumer_lag".
	Kind      string `json:"kind"`
	Component string `json:"component"` // an edge "caller->callee", a service, a group
	// Value is the figure the kind is judged on: attempts per call, the
	// share of completed work nobody waited for, breaker openings, lag
	// records at the end.
	Value float64 `json:"value"`
	What  string  `json:"what"` // the same in words, for a person
}

// Sustaining causes.
const (
	CauseRetries  = "retries"
	CauseWasted   = "wasted_work"
	CauseBreaker  = "breaker_cycling"
	CauseLag      = "consumer_lag"
	recoverShare  = 0.9             // goodput back to within 10% of its level before
	recoverHold   = 5 * time.Second // ... averaged over this long
	retryAmpFloor = 1.1             // attempts per call that count as retries amplifying
	wastedFloor   = 0.1             // share of completed work nobody waited for
	// A consumer group is back when it is no more than this many seconds
	// behind, or this many times its level before the fault, if higher:
	// a floor, since a group seconds behind by design (a slow poll
	// cadence) should not have to beat its own best.
	groupBackFloor  = 1.0
	groupBackFactor = 2.0
)

// edgeMark is an edge's counters when a window closed, cumulative, so
// that the difference of two marks is what happened between them. They
// are kept modulo 2^32: the difference of two, in uint32 arithmetic, is
// exact while fewer than 2^32 calls pass between them, and a mark takes
// 12 bytes, not 24 (every edge keeps one for every window of the run:
// 2,820 edges and 600 windows in the synthetic 1,000-service topology,
// 20 MB saved).
type edgeMark struct {
	calls, attempts, opens uint32
}

// markEdges records every edge's counters at the close of a window.
func (s *Sim) markEdges() {
	for _, ref := range s.edges {
		e := &s.services[ref.svc].calls[ref.edge]
		e.marks = append(e.marks, edgeMark{calls: uint32(e.stats.calls), attempts: uint32(e.stats.attempts), opens: uint32(e.opens)})
	}
}

// recovery sets occurrence k's verdict on cr: per client flow and per
// consumer group in its blast radius (cr.FlowsHit, set before), and, when
// one did not recover, the sustaining causes. A fault still going, one
// that began before any window after warmup, or one that ended less than
// recoverHold before the end of the run has none.
//
// A fault that fires again less than recoverHold after an occurrence
// ended has not ended for its flows: they had no time to show a recovery
// before it struck again, and a verdict "recovered" after one of its
// occurrences would sit beside steps that, summed over its repeats, did
// not recover. The occurrences of such a run, each beginning less than
// recoverHold after the last ended, get one verdict, on the first of
// them, judged after the last one's end against the level before the
// first began; the others get none.
func (s *Sim) recovery(k int, cr *CascadeResult) {
	start, end, first := s.occurrenceRun(k)
	if !first || end < 0 {
		return
	}
	// Window i covers [i*window, (i+1)*window); only whole windows count.
	whole := int(s.winStart / s.window)
	from := int((end + s.window - 1) / s.window) // the first window after the end
	t0 := max(start-s.cascadeWindow, s.warmup, 0)
	before0 := int((t0 + s.window - 1) / s.window)
	before1 := int(start / s.window) // windows [before0, before1) end by the start
	hold := int((int64(recoverHold) + s.window - 1) / s.window)
	if before1 <= before0 || from+hold > whole {
		// No level to come back to, or less than the hold left in the
		// run (or seen so far) after the fault: no verdict yet.
		return
	}
	all, open := true, false
	var slowest float64
	verdict := func(name string, ws []Window) {
		ws = ws[:min(len(ws), whole)]
		var ok uint64
		for _, w := range ws[before0:min(before1, len(ws))] {
			ok += w.OK
		}
		level := float64(ok) / float64(before1-before0)
		if level == 0 {
			return // nothing to come back to
		}
		fr := FlowRecovery{Flow: name, BeforeRPS: level / (float64(s.window) / 1e9)}
		var sum uint64
		for i := from; i < len(ws); i++ {
			sum += ws[i].OK
			if i-hold >= from {
				sum -= ws[i-hold].OK
			}
			if i-hold+1 < from || float64(sum) < recoverShare*level*float64(hold) {
				continue
			}
			// The goodput of windows [i-hold+1, i] is back.
			t := max(0, float64(int64(i-hold+1)*s.window-end)/1e9)
			fr.Recovered, fr.RecoveryS = true, &t
			slowest = max(slowest, t)
			break
		}
		if !fr.Recovered {
			if u := s.stillUnder(ws, max(from, whole-hold), whole); u >= 0 {
				fr.UnderFault, open = &u, true
			}
		}
		all = all && (fr.Recovered || fr.UnderFault != nil)
		cr.Recovery = append(cr.Recovery, fr)
	}
	for i := range s.clients {
		c := &s.clients[i]
		if len(c.flows) == 0 {
			verdict(c.spec.Name, c.series)
			continue
		}
		for j := range c.flows {
			verdict(c.flows[j].name, c.flows[j].series)
		}
	}
	for i := range s.groups {
		g := &s.groups[i]
		if g.view >= 0 || !slices.Contains(cr.FlowsHit, g.label()) {
			continue
		}
		gr := s.groupRecovery(g, before0, before1, from, whole, end)
		if gr.Recovered {
			slowest = max(slowest, *gr.RecoveryS)
		} else if u := s.stillUnder(g.series, max(from, whole-hold), whole); u >= 0 {
			gr.UnderFault, open = &u, true
		}
		all = all && (gr.Recovered || gr.UnderFault != nil)
		cr.GroupRecovery = append(cr.GroupRecovery, gr)
	}
	if len(cr.Recovery) == 0 && len(cr.GroupRecovery) == 0 {
		return
	}
	if all && open {
		return // every flow back, but for those still under another fault: no verdict yet
	}
	cr.Recovered = &all
	if all {
		cr.RecoveryS = &slowest
		return
	}
	cr.SustainedBy = s.sustaining(before0, before1, from, whole)
}

// groupRecovery is the verdict on consumer group g, hit by a fault that
// ended at end: it is back once the oldest record it has not processed
// (BehindS, what lagHealth judges) has waited no more than
// max(groupBackFloor, groupBackFactor x its level before the fault), the
// most it was behind in windows [b0, b1), at the close of every window
// for recoverHold, from window from on (of the whole windows before to).
// Seconds behind, not records, since its lag in records follows the
// producers' rate, its age does not; a group that drained its backlog
// is back there, one still catching up, or stuck, is not.
func (s *Sim) groupRecovery(g *group, b0, b1, from, to int, end int64) GroupRecovery {
	behind := func(i int) float64 {
		if f := g.series[i].Group(); f != nil {
			return f.BehindS
		}
		return 0
	}
	ws := min(len(g.series), to)
	gr := GroupRecovery{Group: g.label()}
	for i := b0; i < min(b1, ws); i++ {
		gr.BeforeS = max(gr.BeforeS, behind(i))
	}
	limit := max(groupBackFloor, groupBackFactor*gr.BeforeS)
	hold := int((int64(recoverHold) + s.window - 1) / s.window)
	run := 0
	for i := from; i < ws; i++ {
		if behind(i) > limit {
			run = 0
			continue
		}
		if run++; run < hold {
			continue
		}
		// Windows [i-hold+1, i] closed with the group caught up.
		t := max(0, float64(int64(i-hold+1)*s.window-end)/1e9)
		gr.Recovered, gr.RecoveryS = true, &t
		break
	}
	return gr
}

// stillUnder is the fault occurrence still active over windows
// [from, to) of a flow's windows ws (going on at the end of the run, or
// ended less than recoverHold before it) to which most of the flow's
// failures and slow answers there trace, at least minShare of them; -1
// when none. A repeating fault's failures trace to the occurrence active
// at their origin: it counts by its latest occurrence.
func (s *Sim) stillUnder(ws []Window, from, to int) int {
	tail := int64(from) * s.window
	var total uint64
	type tally struct {
		oc int
		n  uint64
	}
	var by []tally // a few faults at most, in order of first origin
	count := func(b *Blame) {
		if b == nil {
			return
		}
		total += b.Faulted + b.NoFault
		for _, o := range b.Origins {
			if o.Fault == nil {
				continue
			}
			own := s.occOf[s.occurs[*o.Fault].fault]
			l := int(own[len(own)-1])
			if end := s.occurs[l].end; end >= 0 && end <= tail {
				continue // over before the span: the flow had its chance
			}
			if i := slices.IndexFunc(by, func(t tally) bool { return t.oc == l }); i >= 0 {
				by[i].n += o.N
			} else {
				by = append(by, tally{l, o.N})
			}
		}
	}
	for i := from; i < min(to, len(ws)); i++ {
		count(ws[i].Blame)
		count(ws[i].Slow)
	}
	best := -1
	var most uint64
	for _, t := range by {
		if t.n > most {
			best, most = t.oc, t.n
		}
	}
	if best < 0 || float64(most) < minShare*float64(total) {
		return -1
	}
	return best
}

// occurrenceRun is the run of occurrence k's fault that k belongs to: the
// start of its first occurrence, the end of its last (-1 while that one
// lasts), and whether k is the first. An occurrence begun less than
// recoverHold after the fault's previous one ended continues its run.
func (s *Sim) occurrenceRun(k int) (start, end int64, first bool) {
	oc := &s.occurs[k]
	own := s.occOf[oc.fault]
	p, _ := slices.BinarySearch(own, int32(k))
	if p > 0 {
		if prev := &s.occurs[own[p-1]]; prev.end >= 0 && oc.start < after(prev.end, int64(recoverHold)) {
			return 0, 0, false
		}
	}
	end = oc.end
	for _, j := range own[p+1:] {
		if end < 0 || s.occurs[j].start >= after(end, int64(recoverHold)) {
			break
		}
		end = s.occurs[j].end
	}
	return oc.start, end, true
}

// sustaining lists what kept the bad state alive in windows [from, to),
// after the fault, against windows [b0, b1) before it.
func (s *Sim) sustaining(b0, b1, from, to int) []SustainingCause {
	if from >= to {
		return nil // the run ended with the fault: nothing seen after it
	}
	var out []SustainingCause
	mark := func(ms []edgeMark, i int) edgeMark {
		if i <= 0 || len(ms) == 0 {
			return edgeMark{}
		}
		return ms[min(i, len(ms))-1] // the counters at the end of window i-1
	}
	for _, ref := range s.edges {
		e := &s.services[ref.svc].calls[ref.edge]
		a, b := mark(e.marks, from), mark(e.marks, to)
		name := s.edgeName(ref.svc, ref.edge)
		// Retries: more attempts per call than before the fault, the
		// load amplification that sustains a retry storm.
		if calls := b.calls - a.calls; calls > 0 {
			amp := float64(b.attempts-a.attempts) / float64(calls)
			pa, pb := mark(e.marks, b0), mark(e.marks, b1)
			ampBefore := 1.0
			if n := pb.calls - pa.calls; n > 0 {
				ampBefore = float64(pb.attempts-pa.attempts) / float64(n)
			}
			if amp >= retryAmpFloor && amp >= retryAmpFloor*ampBefore {
				out = append(out, SustainingCause{Kind: CauseRetries, Component: name, Value: amp,
					What: fmt.Sprintf("retries on %s: %.2f attempts per call (%.2f before the fault)", name, amp, ampBefore)})
			}
		}
		// A breaker that opens again and again after the fault: it
		// half-opens, the first calls fail, and it opens once more.
		if opens := b.opens - a.opens; opens >= 2 {
			out = append(out, SustainingCause{Kind: CauseBreaker, Component: name, Value: float64(opens),
				What: fmt.Sprintf("breaker on %s cycling: opened %d times after the fault ended", name, opens)})
		}
	}
	for i := range s.services {
		sv := &s.services[i]
		share := func(ws []Window) float64 {
			var wasted, done uint64
			for _, w := range ws {
				wasted += w.Wasted
				done += w.OK + w.Errors
			}
			if done == 0 {
				return 0
			}
			return float64(wasted) / float64(done)
		}
		ws := sv.series[:min(len(sv.series), to)]
		after := share(ws[min(from, len(ws)):])
		before := share(ws[min(b0, len(ws)):min(b1, len(ws))])
		if after >= wastedFloor && after > before {
			var q float64
			for _, w := range ws[min(from, len(ws)):] {
				q = max(q, w.QueueMean)
			}
			out = append(out, SustainingCause{Kind: CauseWasted, Component: sv.spec.Name, Value: after,
				What: fmt.Sprintf("wasted work on %s: %.0f%% of its completed work answered callers who had given up (queue up to %.0f per instance)",
					sv.spec.Name, after*100, q)})
		}
	}
	for i := range s.groups {
		g := &s.groups[i]
		if g.view >= 0 || len(g.series) < to || from >= to {
			continue
		}
		first, last := g.series[from].Group().LagRecords, g.series[to-1].Group().LagRecords
		if last > 0 && last >= first {
			out = append(out, SustainingCause{Kind: CauseLag, Component: g.label(), Value: float64(last),
				What: fmt.Sprintf("consumer lag of %s not draining: %d records after the fault, %d at the end", g.label(), first, last)})
		}
	}
	return out
}
