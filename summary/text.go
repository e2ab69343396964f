package summary

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/faultline/faultline/sim"
)

// maxEvents bounds the event log in the text summary; --json has all of it.
const maxEvents = 40

// Options are how Write renders a summary.
type Options struct {
	// Color colours each row's name by its health and the heads bold, in
	// ANSI escapes: for a terminal (the caller decides, from NO_COLOR and
	// TERM).
	Color bool
}

// Write prints the run's summary: clients, services, calls, data
// components, breakers, cascades, then the log of notable changes.
func Write(w io.Writer, res *sim.Result, o Options) {
	color := o.Color
	// Decimals, never an exponent: %g wrote a run of 1 ns "1e-09s".
	secs := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) + "s" }
	fmt.Fprintf(w, "%s · seed %d · %s virtual", res.Scenario, res.Seed, secs(res.DurationS))
	if res.WarmupS > 0 {
		fmt.Fprintf(w, " (first %s are warmup, not counted)", secs(res.WarmupS))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)

	writeTable(w, color, res.Clients, clientHealth, []column[sim.ClientResult]{
		{head: "CLIENT", cell: func(c sim.ClientResult) string { return c.Name }},
		{head: "TARGET", cell: func(c sim.ClientResult) string { return c.Target }},
		{head: "SENT", right: true, cell: func(c sim.ClientResult) string { return count(c.Sent) }},
		{head: "OK", right: true, cell: func(c sim.ClientResult) string { return count(c.OK) }},
		{head: "DEGRADED", right: true, optional: true, cell: func(c sim.ClientResult) string { return count(c.Degraded) }},
		{head: "ERROR", right: true, cell: func(c sim.ClientResult) string { return count(c.Error) }},
		{head: "TIMEOUT", right: true, cell: func(c sim.ClientResult) string { return count(c.Timeout) }},
		{head: "REJECTED", right: true, cell: func(c sim.ClientResult) string { return count(c.Rejected) }},
		{head: "SHED", right: true, optional: true, cell: func(c sim.ClientResult) string { return count(c.Shed) }},
		{head: "429", right: true, optional: true, cell: func(c sim.ClientResult) string { return count(c.RateLimited) }},
		{head: "SUCCESS", right: true, cell: func(c sim.ClientResult) string { return pct(c.SuccessRate) }},
		{head: "GOODPUT/s", right: true, cell: func(c sim.ClientResult) string { return rate(c.GoodputRPS) }},
	})
	fmt.Fprintln(w)

	// Latency of successes and of everything answered, side by side: during
	// an outage the first can fall while the second rises.
	lat := func(group string, of func(sim.ClientResult) sim.Latency) []column[sim.ClientResult] {
		return []column[sim.ClientResult]{
			{group: group, head: "MEAN", right: true, cell: func(c sim.ClientResult) string { return ms(of(c).Mean) }},
			{group: group, head: "P50", right: true, cell: func(c sim.ClientResult) string { return ms(of(c).P50) }},
			{group: group, head: "P90", right: true, cell: func(c sim.ClientResult) string { return ms(of(c).P90) }},
			{group: group, head: "P99", right: true, cell: func(c sim.ClientResult) string { return ms(of(c).P99) }},
			{group: group, head: "P99.9", right: true, cell: func(c sim.ClientResult) string { return ms(of(c).P999) }},
			{group: group, head: "MAX", right: true, cell: func(c sim.ClientResult) string { return ms(of(c).Max) }},
		}
	}
	writeTable(w, color, res.Clients, clientHealth, slices.Concat(
		[]column[sim.ClientResult]{{head: "LATENCY ms", cell: func(c sim.ClientResult) string { return c.Name }}},
		lat(latOK, func(c sim.ClientResult) sim.Latency { return c.Latency }),
		lat(latAll, func(c sim.ClientResult) sim.Latency { return c.LatencyAll }),
	))
	fmt.Fprintln(w)

	writeTable(w, color, res.Components, componentHealth, []column[sim.ComponentResult]{
		{head: "SERVICE", cell: func(c sim.ComponentResult) string { return c.Name }},
		{head: "INSTxWORKERS", right: true, cell: func(c sim.ComponentResult) string { return fmt.Sprintf("%dx%d", c.Instances, c.Workers) }},
		{head: "ARRIVALS", right: true, cell: func(c sim.ComponentResult) string { return count(c.Arrivals) }},
		{head: "OK", right: true, cell: func(c sim.ComponentResult) string { return count(c.OK) }},
		{head: "ERROR", right: true, cell: func(c sim.ComponentResult) string { return count(c.Error) }},
		{head: "REJECTED", right: true, cell: func(c sim.ComponentResult) string { return count(c.Rejected) }},
		{head: "SHED", right: true, optional: true, cell: func(c sim.ComponentResult) string { return count(c.Shed) }},
		{head: "429", right: true, optional: true, cell: func(c sim.ComponentResult) string { return count(c.RateLimited) }},
		{head: "WASTED", right: true, cell: func(c sim.ComponentResult) string { return count(c.Wasted) }},
		{head: "RATE/s", right: true, cell: func(c sim.ComponentResult) string { return rate(c.ThroughputRPS) }},
		{head: "UTIL", right: true, cell: func(c sim.ComponentResult) string { return pct(c.Utilisation) }},
		{head: "QUEUE mean/max", right: true, cell: func(c sim.ComponentResult) string { return fmt.Sprintf("%.1f/%d", c.QueueMean, c.QueueMax) }},
		{group: latOKms, head: "MEAN", right: true, cell: func(c sim.ComponentResult) string { return ms(c.Latency.Mean) }},
		{group: latOKms, head: "P50", right: true, cell: func(c sim.ComponentResult) string { return ms(c.Latency.P50) }},
		{group: latOKms, head: "P99", right: true, cell: func(c sim.ComponentResult) string { return ms(c.Latency.P99) }},
	})

	writeThrottling(w, res)
	writeOpsAndFlows(w, res, color)

	if edges := busyEdges(res.Edges); len(edges) > 0 {
		fmt.Fprintln(w)
		writeTable(w, color, edges, edgeHealth, []column[sim.EdgeResult]{
			{head: "CALL", cell: func(e sim.EdgeResult) string { return e.Name }},
			{head: "CALLS", right: true, cell: func(e sim.EdgeResult) string { return count(e.Calls) }},
			{head: "ATTEMPTS", right: true, cell: func(e sim.EdgeResult) string { return count(e.Attempts) }},
			{head: "AMPL", right: true, cell: func(e sim.EdgeResult) string { return fmt.Sprintf("%.2fx", e.Amplification) }},
			{head: "RETRIES", right: true, optional: true, cell: func(e sim.EdgeResult) string { return count(e.Retries) }},
			{head: "HEDGES", right: true, optional: true, cell: func(e sim.EdgeResult) string { return count(e.Hedges) }},
			{head: "CANCELLED", right: true, optional: true, cell: func(e sim.EdgeResult) string { return count(e.Cancelled) }},
			{head: "OK", right: true, cell: func(e sim.EdgeResult) string { return count(e.OK) }},
			{head: "ERROR", right: true, cell: func(e sim.EdgeResult) string { return count(e.Error) }},
			{head: "TIMEOUT", right: true, cell: func(e sim.EdgeResult) string { return count(e.Timeout) }},
			{head: "REJECTED", right: true, cell: func(e sim.EdgeResult) string { return count(e.Rejected) }},
			{head: "CONFLICT", right: true, optional: true, cell: func(e sim.EdgeResult) string { return count(e.Conflict) }},
			{head: "SHORT-CIRC", right: true, optional: true, cell: func(e sim.EdgeResult) string { return count(e.ShortCircuited) }},
			{head: "BULKHEAD", right: true, optional: true, cell: func(e sim.EdgeResult) string { return count(e.BulkheadFull) }},
			{head: "NO BUDGET", right: true, optional: true, cell: func(e sim.EdgeResult) string { return count(e.BudgetExhausted) }},
			{head: "RETRY OVERFLOW", right: true, optional: true, cell: func(e sim.EdgeResult) string { return count(e.RetryOverflow) }},
			{head: "FALLBACK", right: true, optional: true, cell: func(e sim.EdgeResult) string { return count(e.Fallbacks) }},
			{head: "EJECTED", right: true, optional: true, cell: func(e sim.EdgeResult) string { return count(e.Ejections) }},
			{head: "BREAKER", optional: true, cell: breakerCell},
			{head: "SCOPE", optional: true, cell: func(e sim.EdgeResult) string { return e.Scope }},
		})
		writeCallLatency(w, color, edges)
	}

	writeDataText(w, res, color)
	writeBreakerTimeline(w, res)
	writeCascades(w, res)

	if len(res.Events) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "EVENTS (virtual time)")
	nw := 0
	for _, e := range res.Events {
		nw = max(nw, len(e.Component))
	}
	lines := 0
	for i := 0; i < len(res.Events); {
		if lines == maxEvents {
			fmt.Fprintf(w, "  ... %d more (all of them are in --json)\n", len(res.Events)-i)
			break
		}
		lines++
		if p, n := repeats(res.Events, i); n > 0 {
			last := res.Events[i+n-1]
			fmt.Fprintf(w, "  %8.3fs  %-*s  ... the %s above, %d more times, to %.3fs\n",
				res.Events[i].TS, nw, "", plural(p, "line"), n/p, last.TS)
			i += n
			continue
		}
		e := res.Events[i]
		fmt.Fprintf(w, "  %8.3fs  %-*s  %s\n", e.TS, nw, e.Component, e.What)
		i++
	}
	if res.EventsDropped > 0 {
		fmt.Fprintf(w, "  ... and %d later events not logged: the log keeps its first %d\n", res.EventsDropped, len(res.Events))
	}
}

// repeats reports how many events from i on repeat, whole, the period
// (1 or 2) of events just before them: a fault that starts and ends every
// 2 ms writes the same two lines 30,000 times a minute, which the summary
// prints once with a count. It returns 0 for fewer than minRepeats
// repetitions, which read as well written out. This is syslog's "last
// message repeated n times" (rsyslog's $RepeatedMsgReduction, which counts
// a message as repeated when its text and source are identical:
// https://www.rsyslog.com/doc/configuration/action/rsconf1_repeatedmsgreduction.html),
// extended to a pair of lines; rsyslog calls it a misfeature because the
// repeats are lost, so here only the text folds them: --json has them all.
func repeats(evs []sim.EventResult, i int) (period, n int) {
	same := func(a, b sim.EventResult) bool { return a.Component == b.Component && a.What == b.What }
	for p := 1; p <= 2; p++ {
		if i < p {
			break
		}
		k := i
		for k < len(evs) && same(evs[k], evs[k-p]) {
			k++
		}
		if n := (k - i) / p * p; n/p >= minRepeats {
			return p, n
		}
	}
	return 0, 0
}

// minRepeats is the fewest repetitions of a line, or of a pair of lines,
// that the event log and the cascade trace summarise in one line.
const minRepeats = 3

// The groups of latency columns: every table says which requests its
// latencies are of.
const (
	latOK    = "successful requests"
	latAll   = "all answered requests"
	latOKms  = "successful, ms"
	latAllMs = "all answered, ms"
)

// writeThrottling prints, under the services, a line for each service with
// a cpu_limit: the share of its periods with work in which the quota ran
// out (what Kubernetes' CPUThrottlingHigh alerts on), and the time its
// work waited for the next period.
func writeThrottling(w io.Writer, res *sim.Result) {
	for _, c := range res.Components {
		if t := c.CPUThrottling; t != nil {
			fmt.Fprintf(w, "%s cpu_limit %sm: throttled in %s of periods (%s of %s), %.1fs in all\n", c.Name,
				strconv.FormatFloat(t.CPULimit*1000, 'f', -1, 64), pct(t.ThrottledShare), count(t.Throttled), count(t.Periods), t.ThrottledS)
		}
	}
}

// column is one column of a summary table. An optional column is shown
// only when some row has something in it, so that a scenario without
// breakers is not given a column of zeros. Columns side by side with the
// same group are headed by it, on a line above their heads.
type column[T any] struct {
	group    string
	head     string
	right    bool
	optional bool
	cell     func(T) string
}

// writeTable lays out rows in columns measured on their plain text, so that
// colour codes do not upset the alignment; the first cell of each row is
// coloured by the row's health.
func writeTable[T any](w io.Writer, color bool, rows []T, health func(T) sim.Health, cols []column[T]) {
	grid := make([][]string, len(rows))
	for i, r := range rows {
		for _, c := range cols {
			grid[i] = append(grid[i], c.cell(r))
		}
	}
	var show []int
	for j, c := range cols {
		used := !c.optional
		for i := range rows {
			if v := grid[i][j]; v != "0" && v != "" {
				used = true
			}
		}
		if used {
			show = append(show, j)
		}
	}
	width := make([]int, len(cols))
	for _, j := range show {
		width[j] = len([]rune(cols[j].head))
		for i := range rows {
			width[j] = max(width[j], len([]rune(grid[i][j])))
		}
	}
	line := func(cells []string, style func(j int, s string) string) {
		var b strings.Builder
		for k, j := range show {
			c := cells[j]
			pad := strings.Repeat(" ", width[j]-len([]rune(c)))
			cell := c + pad
			if cols[j].right {
				cell = pad + c
			}
			if k > 0 {
				b.WriteString("  ")
			}
			b.WriteString(style(j, cell))
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	// A group's label starts over its first column; the last column of
	// the group widens if the label needs it.
	groups := make([]string, len(cols))
	for k := 0; k < len(show); k++ {
		g := cols[show[k]].group
		if g == "" || (k > 0 && cols[show[k-1]].group == g) {
			continue
		}
		end, span := k, width[show[k]]
		for end+1 < len(show) && cols[show[end+1]].group == g {
			end++
			span += 2 + width[show[end]]
		}
		width[show[end]] += max(0, len([]rune(g))-span)
		groups[show[k]] = g
	}
	if slices.ContainsFunc(groups, func(g string) bool { return g != "" }) {
		var b strings.Builder
		at := 0 // the column of the next character
		x := 0  // where the current column starts
		for k, j := range show {
			if k > 0 {
				x += 2
			}
			if g := groups[j]; g != "" {
				b.WriteString(strings.Repeat(" ", max(0, x-at)))
				b.WriteString(g)
				at = max(x, at) + len([]rune(g))
			}
			x += width[j]
		}
		fmt.Fprintln(w, b.String())
	}
	heads := make([]string, len(cols))
	for j, c := range cols {
		heads[j] = c.head
	}
	line(heads, func(_ int, s string) string {
		if color {
			return "\x1b[1m" + s + "\x1b[0m"
		}
		return s
	})
	for i, r := range rows {
		h := health(r)
		line(grid[i], func(j int, s string) string {
			if color && j == 0 {
				return healthColor[h] + s + "\x1b[0m"
			}
			return s
		})
	}
}

var healthColor = [...]string{sim.Healthy: "\x1b[32m", sim.Degraded: "\x1b[33m", sim.Failing: "\x1b[31m"}

// A row's colour is the engine's verdict on the component over the run
// (its Health field): the views do not judge health again.
func clientHealth(c sim.ClientResult) sim.Health       { return c.Health }
func componentHealth(c sim.ComponentResult) sim.Health { return c.Health }
func edgeHealth(e sim.EdgeResult) sim.Health           { return e.Health }

// breakerCell is an edge's breaker state, with how many of its caller
// instances' breakers are open when there are several.
func breakerCell(e sim.EdgeResult) string {
	if e.Breakers > 1 && e.BreakersOpen > 0 {
		return fmt.Sprintf("%s %d/%d", e.Breaker, e.BreakersOpen, e.Breakers)
	}
	return e.Breaker
}

// writeCallLatency prints each busy edge's latency as its caller saw it,
// from the call to its end, attempts and back-off included (scenarios.md,
// "Latency"): of the calls that succeeded, and of every call that ended.
func writeCallLatency(w io.Writer, color bool, edges []sim.EdgeResult) {
	lat := func(group string, of func(sim.EdgeResult) sim.Latency) []column[sim.EdgeResult] {
		return []column[sim.EdgeResult]{
			{group: group, head: "MEAN", right: true, cell: func(e sim.EdgeResult) string { return ms(of(e).Mean) }},
			{group: group, head: "P50", right: true, cell: func(e sim.EdgeResult) string { return ms(of(e).P50) }},
			{group: group, head: "P90", right: true, cell: func(e sim.EdgeResult) string { return ms(of(e).P90) }},
			{group: group, head: "P99", right: true, cell: func(e sim.EdgeResult) string { return ms(of(e).P99) }},
			{group: group, head: "P99.9", right: true, cell: func(e sim.EdgeResult) string { return ms(of(e).P999) }},
		}
	}
	fmt.Fprintln(w)
	writeTable(w, color, edges, edgeHealth, slices.Concat(
		[]column[sim.EdgeResult]{{head: "CALL LATENCY ms", cell: func(e sim.EdgeResult) string { return e.Name }}},
		lat("successful calls", func(e sim.EdgeResult) sim.Latency { return e.Latency }),
		lat("all ended calls", func(e sim.EdgeResult) sim.Latency { return e.LatencyAll }),
	))
}

// busyEdges keeps the edges that saw calls after warmup.
func busyEdges(all []sim.EdgeResult) []sim.EdgeResult {
	var out []sim.EdgeResult
	for _, e := range all {
		if e.Calls > 0 {
			out = append(out, e)
		}
	}
	return out
}

// maxTransitions bounds one breaker's timeline in the text summary.
const maxTransitions = 12

// writeBreakerTimeline prints each breaker's states in order, from the
// typed breaker events of the log: the Hystrix dashboard's question "when
// was it open?".
func writeBreakerTimeline(w io.Writer, res *sim.Result) {
	var names []string
	steps := map[string][]string{}
	for _, e := range res.Events {
		if e.Kind != sim.EventBreaker {
			continue
		}
		if _, seen := steps[e.Component]; !seen {
			names = append(names, e.Component)
		}
		steps[e.Component] = append(steps[e.Component], fmt.Sprintf("%s %.1fs", e.Breaker, e.TS))
	}
	if len(names) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "BREAKERS (state from virtual time)")
	nw := 0
	for _, n := range names {
		nw = max(nw, len(n))
	}
	for _, n := range names {
		st := steps[n]
		more := ""
		if len(st) > maxTransitions {
			more = fmt.Sprintf(" ... %d more", len(st)-maxTransitions)
			st = st[:maxTransitions]
		}
		fmt.Fprintf(w, "  %-*s  CLOSED -> %s%s\n", nw, n, strings.Join(st, " -> "), more)
	}
}

// writeCascades prints how each fault spread: what turned unhealthy after
// it, in order, with the delay from its start, and its blast radius.
func writeCascades(w io.Writer, res *sim.Result) {
	if len(res.Cascades) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "CASCADE (what turned unhealthy after each fault, in order; * a client flow)")
	for i := 0; i < len(res.Cascades); i++ {
		c := res.Cascades[i]
		times, last, run := "", c, res.Cascades[i:i+1]
		if n := quietRun(res.Cascades[i:]); n >= minRepeats {
			// A fault that fires every few ms, and after which nothing
			// changed: one entry for the run of its occurrences.
			times, last, run = fmt.Sprintf(" %d times", n), res.Cascades[i+n-1], res.Cascades[i:i+n]
			i += n - 1
		}
		span := fmt.Sprintf("from %.1fs", c.StartS)
		if last.EndS != nil {
			span += fmt.Sprintf(" to %.1fs", *last.EndS)
		}
		radius := fmt.Sprintf("blast radius %s of the traffic", pct(c.BlastRadius))
		if len(c.FlowsHit) > 0 {
			radius += " (" + strings.Join(c.FlowsHit, ", ") + ")"
		}
		fmt.Fprintf(w, "  %s: %s%s %s · %s\n", c.Target, c.Fault, times, span, radius)
		if len(c.Steps) == 0 {
			fmt.Fprintln(w, "     nothing turned unhealthy")
			writeRecoveryRun(w, res.Cascades, run)
			continue
		}
		nw := 0
		for _, st := range c.Steps {
			nw = max(nw, len(st.Component))
		}
		for _, st := range c.Steps {
			mark := " "
			if st.Flow {
				mark = "*"
			}
			level := st.First.String()
			if st.Worst != st.First {
				level += " -> " + st.Worst.String()
			}
			rec := "not recovered"
			switch {
			case st.RecoveredS != nil && st.Outlived:
				// Its part ended; the component did not recover then.
				rec = fmt.Sprintf("fault's part ended %.1fs, then other causes", *st.RecoveredS)
			case st.RecoveredS != nil:
				rec = fmt.Sprintf("recovered %.1fs", *st.RecoveredS)
			}
			// Slowness, not errors, turned it: say which of its levels
			// when the other was reached on errors (degraded on latency,
			// then failing on errors).
			switch lat, worstLat := st.By == sim.ByLatency, st.WorstBy == sim.ByLatency; {
			case lat && (worstLat || st.Worst == st.First):
				rec += " · on latency"
			case lat:
				rec += " · " + st.First.String() + " on latency"
			case worstLat && st.Worst != st.First:
				rec += " · " + st.Worst.String() + " on latency"
			}
			switch {
			case st.Repeats:
				// Provenance summed over a repeating fault's occurrences.
				rec += fmt.Sprintf(" · %s of its failures over its repeats", pct(*st.Share))
			case st.Share != nil && *st.Share < 0.995:
				// Provenance: the part of its failures (and slow answers)
				// this fault caused.
				rec += fmt.Sprintf(" · %s of its failures", pct(*st.Share))
			}
			fmt.Fprintf(w, "    %9s %s %-*s  %-20s %s\n", fmt.Sprintf("+%.3fs", st.DelayS), mark, nw, st.Component, level, rec)
		}
		writeRecovery(w, res.Cascades, c)
	}
}

// writeRecoveryRun prints the verdict of one occurrence, or of a folded
// run of them, how many did not recover.
func writeRecoveryRun(w io.Writer, all, run []sim.CascadeResult) {
	if len(run) == 1 {
		writeRecovery(w, all, run[0])
		return
	}
	down := 0
	for _, c := range run {
		if c.Recovered != nil && !*c.Recovered {
			down++
		}
	}
	if down > 0 {
		fmt.Fprintf(w, "    DID NOT RECOVER after %d of them\n", down)
	}
}

// writeRecovery prints the engine's metastability verdict on a fault: how
// long after its end each client flow's goodput was back, and each
// consumer group hit by it had caught up, or that one was not, and what
// sustained the bad state; or that a flow or group is still under
// another fault of all (the run's cascades), its verdict open.
func writeRecovery(w io.Writer, all []sim.CascadeResult, c sim.CascadeResult) {
	var back, down, under []string
	stillUnder := func(name string, k int) {
		o := all[k]
		span := "to the end"
		if o.EndS != nil {
			span = fmt.Sprintf("until %.1fs", *o.EndS)
		}
		under = append(under, fmt.Sprintf("%s (under %s on %s, from %.1fs %s)", name, o.Fault, o.Target, o.StartS, span))
	}
	for _, f := range c.Recovery {
		switch {
		case f.Recovered:
			back = append(back, fmt.Sprintf("%s %.1fs", f.Flow, *f.RecoveryS))
		case f.UnderFault != nil:
			stillUnder(f.Flow, *f.UnderFault)
		default:
			down = append(down, fmt.Sprintf("%s (%.0f/s before)", f.Flow, f.BeforeRPS))
		}
	}
	for _, g := range c.GroupRecovery {
		switch {
		case g.Recovered:
			back = append(back, fmt.Sprintf("%s %.1fs", g.Group, *g.RecoveryS))
		case g.UnderFault != nil:
			stillUnder(g.Group, *g.UnderFault)
		default:
			down = append(down, fmt.Sprintf("%s (%.1fs behind before)", g.Group, g.BeforeS))
		}
	}
	if len(back) > 0 {
		fmt.Fprintf(w, "    recovered after the fault's end: %s\n", strings.Join(back, ", "))
	}
	if len(under) > 0 {
		fmt.Fprintf(w, "    not back by the end, still under another fault: %s\n", strings.Join(under, ", "))
	}
	if len(down) == 0 {
		return
	}
	fmt.Fprintf(w, "    DID NOT RECOVER by the end: %s\n", strings.Join(down, ", "))
	if len(c.SustainedBy) == 0 {
		fmt.Fprintln(w, "      sustained by: nothing the engine counts (no retries, wasted work, breaker cycling or lag)")
	}
	for k, cause := range c.SustainedBy {
		head := "      sustained by: "
		if k > 0 {
			head = "                    "
		}
		fmt.Fprintln(w, head+cause.What)
	}
}

// quietRun counts the occurrences at the head of cs that are of the same
// fault as the first (what it did, to what) and after which nothing
// turned unhealthy.
func quietRun(cs []sim.CascadeResult) int {
	n := 0
	for n < len(cs) && len(cs[n].Steps) == 0 && cs[n].Fault == cs[0].Fault && cs[n].Target == cs[0].Target {
		n++
	}
	return n
}

// opRow is an operation of a service, or a flow of a client, for the
// tables that split them.
type opRow struct {
	name             string
	sent, ok, failed uint64
	success          float64
	lat              sim.Latency  // of successful requests
	all              *sim.Latency // of every answered request: flows only
	health           sim.Health
}

// writeOpsAndFlows prints the operations of the services that declare
// them and the flows of the clients that have several.
func writeOpsAndFlows(w io.Writer, res *sim.Result, color bool) {
	var ops, flows []opRow
	for _, c := range res.Components {
		for _, o := range c.Operations {
			ops = append(ops, opRow{c.Name + "." + o.Name, o.Arrivals, o.OK, o.Failed, o.SuccessRate, o.Latency, nil, o.Health})
		}
	}
	for _, c := range res.Clients {
		for _, f := range c.Flows {
			flows = append(flows, opRow{f.Name, f.Sent, f.OK, f.Failed, f.SuccessRate, f.Latency, &f.LatencyAll, f.Health})
		}
	}
	for _, t := range []struct {
		head, sent string
		rows       []opRow
	}{{"OPERATION", "ARRIVALS", ops}, {"FLOW", "SENT", flows}} {
		if len(t.rows) == 0 {
			continue
		}
		cols := []column[opRow]{
			{head: t.head, cell: func(r opRow) string { return r.name }},
			{head: t.sent, right: true, cell: func(r opRow) string { return count(r.sent) }},
			{head: "OK", right: true, cell: func(r opRow) string { return count(r.ok) }},
			{head: "FAILED", right: true, cell: func(r opRow) string { return count(r.failed) }},
			{head: "SUCCESS", right: true, cell: func(r opRow) string {
				if r.ok+r.failed == 0 {
					return "-" // nothing answered
				}
				return pct(r.success)
			}},
			{group: latOKms, head: "MEAN", right: true, cell: func(r opRow) string { return ms(r.lat.Mean) }},
			{group: latOKms, head: "P50", right: true, cell: func(r opRow) string { return ms(r.lat.P50) }},
			{group: latOKms, head: "P99", right: true, cell: func(r opRow) string { return ms(r.lat.P99) }},
		}
		if t.rows[0].all != nil {
			cols = append(cols,
				column[opRow]{group: latAllMs, head: "MEAN", right: true, cell: func(r opRow) string { return ms(r.all.Mean) }},
				column[opRow]{group: latAllMs, head: "P50", right: true, cell: func(r opRow) string { return ms(r.all.P50) }},
				column[opRow]{group: latAllMs, head: "P99", right: true, cell: func(r opRow) string { return ms(r.all.P99) }})
		}
		fmt.Fprintln(w)
		writeTable(w, color, t.rows, func(r opRow) sim.Health { return r.health }, cols)
	}
}
