package bench

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/faultline/faultline/internal/format"
	"github.com/faultline/faultline/sim/metric"
)

// table is a report table, written as Markdown or HTML from one model so
// that both reports say the same.
type table struct {
	title string // a heading above it; "" for none
	note  string // a line under the heading
	head  []string
	rows  [][]string
	// right marks the columns that hold numbers.
	right []bool
	// status, when set, gives each row a class for HTML ("met", "violated",
	// "better", "worse").
	status []string
}

// variantTable lists the cells and what makes each.
func (r *Report) variantTable() table {
	t := table{head: []string{"variant", "scenario", "what it changes"}, right: []bool{false, false, false}}
	for c, cell := range r.Matrix.Cells {
		// A variant's description says it best; the changes it makes are
		// in the JSON report, and those of the command line are listed.
		ch := "(as written)"
		switch {
		case cell.Description != "":
			ch = cell.Description
			if n := len(cell.Changes) - cell.VariantChanges; n > 0 {
				ch += "; " + strings.Join(cell.Changes[cell.VariantChanges:], "; ")
			}
		case len(cell.Changes) > 0:
			ch = strings.Join(cell.Changes, "; ")
		}
		if c == r.baselineCell(c) {
			ch += " — baseline"
		}
		t.rows = append(t.rows, []string{r.cellName(c), cell.Scenario, ch})
	}
	return t
}

// baselineCell returns c itself when it is a baseline, else its baseline.
func (r *Report) baselineCell(c int) int {
	if b := r.Matrix.BaselineOf(c); b >= 0 {
		return b
	}
	return c
}

// metricTables is one table per shown metric: a row per cell with its
// summary and its difference from the baseline.
func (r *Report) metricTables() []table {
	var out []table
	base := r.Matrix.Baseline
	mixed := r.tests() == mixedTests
	for _, row := range r.Metrics {
		if !row.Shown {
			continue
		}
		dir := "lower is better"
		if row.Higher {
			dir = "higher is better"
		}
		t := table{
			title: fmt.Sprintf("%s · %s", row.Target, row.Metric),
			note:  fmt.Sprintf("%s %s: %s (%s)", row.Scope, row.Target, row.m.Doc, dir),
			head:  []string{"variant", "mean", "95% CI", "sd", "min", "max", "vs " + base},
			right: []bool{false, true, true, true, true, true, false},
		}
		u := row.m.Unit
		for c := range r.Matrix.Cells {
			s := row.Cells[c]
			if s.N == 0 {
				t.rows = append(t.rows, []string{r.cellName(c), "–", "–", "–", "–", "–", NoValue})
				t.status = append(t.status, "")
				continue
			}
			ci := "n < 2"
			if s.N >= 2 {
				lo, hi := s.Interval(u)
				ci = fmt.Sprintf("[%s, %s]", u.Format(lo), u.Format(hi))
			}
			vs, status := "baseline", ""
			if cmpr, ok := r.comparison(c, row.Key); ok {
				vs, status = diffText(u, cmpr), cmpr.Verdict
				if mixed && cmpr.Test == WelchT && cmpr.Verdict != NoValue {
					vs += " (Welch)"
				}
			}
			t.rows = append(t.rows, []string{r.cellName(c), u.Format(s.Mean), ci, sdText(u, s.SD), u.Format(s.Min), u.Format(s.Max), vs})
			t.status = append(t.status, status)
		}
		out = append(out, t)
	}
	return out
}

func sdText(u metric.Unit, sd float64) string {
	if u == metric.Share {
		return fmt.Sprintf("%.3g pt", sd*100)
	}
	return u.Format(sd)
}

// diffText writes a difference with its interval and verdict:
// "+8.6 pt [+7.5, +9.7] better".
func diffText(u metric.Unit, c Comparison) string {
	if c.Verdict == NoValue {
		return NoValue
	}
	s := u.FormatDiff(c.Diff)
	if c.CI > 0 {
		lo, hi := c.Interval(u)
		s += fmt.Sprintf(" [%s, %s]", u.FormatDiff(lo), u.FormatDiff(hi))
	}
	return s + " " + c.Verdict
}

// mixedTests is what tests returns when some differences are paired and
// others Welch's.
const mixedTests = "mixed"

// tests names the test of every difference the report has a value for:
// PairedT, WelchT, mixedTests, or "" when there is none.
func (r *Report) tests() string {
	test := ""
	for _, cmpr := range r.Comparisons {
		switch {
		case cmpr.Verdict == NoValue:
		case test == "":
			test = cmpr.Test
		case test != cmpr.Test:
			return mixedTests
		}
	}
	return test
}

func (r *Report) comparison(c int, key string) (Comparison, bool) {
	for _, cmpr := range r.Comparisons {
		if cmpr.Cell == c && cmpr.Key == key {
			return cmpr, true
		}
	}
	return Comparison{}, false
}

// sloTable lists every SLO of every cell.
func (r *Report) sloTable() table {
	t := table{head: []string{"variant", "objective", "mean", "replications violating", "status"},
		right: []bool{false, false, true, true, false}}
	for _, s := range r.SLOs {
		val := "–"
		if s.HasVal {
			val = s.ValueText()
		}
		label := s.SLO.Label()
		if s.SLO.Name != "" {
			label += " (" + s.Text + ")"
		}
		t.rows = append(t.rows, []string{r.cellName(s.Cell), label, val, fmt.Sprintf("%d of %d", s.Violations, s.N), s.Status()})
		t.status = append(t.status, map[bool]string{true: "met", false: "violated"}[s.Met])
	}
	return t
}

// headline are the metrics that decide the suggestion, by scope: what
// the users see of a request, the four golden signals of Google's SRE
// book less saturation ("Monitoring Distributed Systems": errors, latency
// of successful requests, traffic served; a cause, not a symptom, which
// the other three show), and for the data components the freshness and
// completeness of what they hold: the worst consumer lag (Kafka's
// records-lag-max, the consumer's headline metric), stale reads, a view's
// lag and its read-your-writes misses, completed sagas. The lag at the
// end is not one: a few records in flight when the run stops move it.
var headline = map[metric.Scope][]string{
	metric.Client:    {"success_rate", "p99", "goodput"},
	metric.Group:     {"max_consumer_lag"},
	metric.Store:     {"staleness"},
	metric.ReadModel: {"projection_lag", "ryw_miss_share"},
	metric.Saga:      {"completed_share"},
}

// isHeadline reports whether a metric key is a headline metric.
func isHeadline(k Key) bool { return slices.Contains(headline[k.Scope], k.Metric) }

// tally is what differs significantly between a cell and its baseline,
// in the three groups the verdict names: the headline metrics, which
// decide; the others, which break a tie; and the faults' cascades, which
// are shown and not scored (a fault's cascade measures what got worse
// than before it, so that a design healthier at rest has more to lose and
// would be penalised for it).
type tally struct {
	headBetter, headWorse, otherBetter, otherWorse []string
	faults                                         []string
}

// score orders two tallies: the net of the headline metrics first, then
// the net of the others.
func (t tally) score() [2]int {
	return [2]int{len(t.headBetter) - len(t.headWorse), len(t.otherBetter) - len(t.otherWorse)}
}

// tallyOf sorts the significant differences of a cell from its baseline.
func (r *Report) tallyOf(c int) tally {
	var t tally
	for _, cmpr := range r.Comparisons {
		if cmpr.Cell != c || cmpr.Verdict != Better && cmpr.Verdict != Worse {
			continue
		}
		k, _ := ParseKey(cmpr.Key)
		u := r.Metrics[r.metrics[k]].m.Unit
		what := fmt.Sprintf("%s (%s)", metricName(k), u.FormatDiff(cmpr.Diff))
		better := cmpr.Verdict == Better
		switch {
		case k.Scope == metric.Fault:
			t.faults = append(t.faults, what+" "+cmpr.Verdict)
		case isHeadline(k) && better:
			t.headBetter = append(t.headBetter, what)
		case isHeadline(k):
			t.headWorse = append(t.headWorse, what)
		case better:
			t.otherBetter = append(t.otherBetter, what)
		default:
			t.otherWorse = append(t.otherWorse, what)
		}
	}
	return t
}

// faultMetricNames say what a fault's cascade metric measures, so that a
// verdict reads "propagation delay of fault latency", not "latency
// propagation".
var faultMetricNames = map[string]string{
	"blast_radius":   "blast radius",
	"propagation":    "propagation delay",
	"components_hit": "components hit",
	"recovery_time":  "recovery time",
	"not_recovered":  "share of runs not recovered",
}

// metricName is how a verdict names a metric of a component:
// "shoppers p99", "propagation delay of fault latency".
func metricName(k Key) string {
	if k.Scope == metric.Fault {
		return fmt.Sprintf("%s of fault %s", cmp.Or(faultMetricNames[k.Metric], k.Metric), k.Target)
	}
	return k.Target + " " + k.Metric
}

// verdicts summarises, per cell, what differs significantly from the
// baseline, in the groups of its tally.
func (r *Report) verdicts() []string {
	var lines []string
	for c := range r.Matrix.Cells {
		if r.Matrix.BaselineOf(c) < 0 {
			continue
		}
		base := r.Matrix.BaselineOf(c)
		line := fmt.Sprintf("**%s** vs %s: ", r.cellName(c), r.cellName(base))
		// An interrupted bench may have no run of a cell: that is no
		// finding, and unequal counts are said, not hidden.
		n, nb := len(r.byCell[c]), len(r.byCell[base])
		if n == 0 || nb == 0 {
			lines = append(lines, line+"no data (no run finished).")
			continue
		}
		if n != nb {
			line += fmt.Sprintf("(%s against %d) ", format.Plural(n, "run"), nb)
		}
		t := r.tallyOf(c)
		var parts []string
		if s := betterWorse(t.headBetter, t.headWorse); s != "" {
			parts = append(parts, "Headline metrics: "+s)
		}
		if s := betterWorse(t.otherBetter, t.otherWorse); s != "" {
			parts = append(parts, "Other metrics: "+s)
		}
		if len(t.faults) > 0 {
			parts = append(parts, "Fault cascades (not scored): "+strings.Join(t.faults, ", "))
		}
		if len(parts) == 0 {
			line += "no significant difference."
		} else {
			line += strings.Join(parts, ". ") + "."
		}
		lines = append(lines, line)
	}
	return lines
}

// betterWorse lists the metrics that are better, then worse.
func betterWorse(better, worse []string) string {
	var parts []string
	if len(better) > 0 {
		parts = append(parts, "better on "+strings.Join(better, ", "))
	}
	if len(worse) > 0 {
		parts = append(parts, "worse on "+strings.Join(worse, ", "))
	}
	return strings.Join(parts, "; ")
}

// suggestion names the cell to choose when there is no sweep: of those
// that meet every SLO (all of them when there is none), the one with the
// most significant improvements over the baseline net of regressions on
// the headline metrics; a tie goes to the net of the other metrics, then
// to the means, metric by metric, then to the earlier cell. The headline
// metrics decide so that a design is not dismissed for incidental
// differences that outnumber what its users see (ten per-group lag
// figures against one success rate), and so that the choice does not flip
// with the replications on a metric whose significance is borderline. It
// returns "" when there is nothing to choose from.
func (r *Report) suggestion() string {
	if len(r.Matrix.SweepKeys) > 0 || len(r.Matrix.Cells) < 2 {
		return ""
	}
	failed := map[int]bool{}
	for _, s := range r.SLOs {
		if !s.Met {
			failed[s.Cell] = true
		}
	}
	tallies := make([]tally, len(r.Matrix.Cells))
	for c := range r.Matrix.Cells {
		tallies[c] = r.tallyOf(c)
	}
	best, empty := -1, 0
	for c := range r.Matrix.Cells {
		if len(r.byCell[c]) == 0 {
			empty++ // an interrupted bench: nothing to judge it by
			continue
		}
		if failed[c] {
			continue
		}
		if best < 0 {
			best = c
			continue
		}
		if d := cmp.Compare(tallies[c].score()[0], tallies[best].score()[0]); d != 0 {
			if d > 0 {
				best = c
			}
			continue
		}
		if d := cmp.Compare(tallies[c].score()[1], tallies[best].score()[1]); d > 0 || d == 0 && r.headToHead(c, best) > 0 {
			best = c
		}
	}
	if best < 0 && empty > 0 {
		return fmt.Sprintf("No variant with runs meets every SLO; %d have no run.", empty)
	}
	if best < 0 {
		return "No variant meets every SLO."
	}
	var ok []string
	for c := range r.Matrix.Cells {
		if !failed[c] && len(r.byCell[c]) > 0 {
			ok = append(ok, r.cellName(c))
		}
	}
	among, it := "", "it"
	if len(r.SLOs) > 0 {
		among = fmt.Sprintf(" that meets every SLO (%s)", strings.Join(ok, ", "))
		it = fmt.Sprintf("of the variants that meet every SLO (%s), it", strings.Join(ok, ", "))
	}
	rule := "The headline metrics decide (the clients' success_rate, p99 and goodput; the data components' max_consumer_lag, staleness, projection_lag, ryw_miss_share and completed_share); the others break a tie; the faults' cascades are not scored."
	if best == r.baselineCell(best) {
		return fmt.Sprintf("Suggested: **%s** (the baseline): no other variant%s is better on the headline metrics, net of those it is worse on, nor as good on them and better on the others. %s",
			r.cellName(best), among, rule)
	}
	t := tallies[best]
	why := fmt.Sprintf("%s is significantly better than %s on %s and worse on %d", it, r.Matrix.Baseline,
		format.Plural(len(t.headBetter), "headline metric"), len(t.headWorse))
	switch {
	case t.score()[0] == 0 && t.score()[1] == 0:
		// Neither tally decided: headToHead did, on the means. Say so,
		// rather than that the other metrics broke the tie.
		why += fmt.Sprintf(" (a tie, on the other metrics too: better on %d, worse on %d; the means decided, metric by metric)", len(t.otherBetter), len(t.otherWorse))
		if r.Matrix.Replications < 2 {
			why += "; one replication gives no confidence interval, so no difference can be significant: run more (--replications)"
		}
	case t.score()[0] == 0:
		why += fmt.Sprintf(" (a tie, broken by the other metrics: better on %d, worse on %d)", len(t.otherBetter), len(t.otherWorse))
	default:
		why += fmt.Sprintf("; on the other metrics better on %d, worse on %d", len(t.otherBetter), len(t.otherWorse))
	}
	return fmt.Sprintf("Suggested: **%s**: %s. %s", r.cellName(best), why, rule)
}

// headToHead breaks a tie between two cells: the count of shown metrics
// on which a's mean is better than b's, less those on which it is worse.
func (r *Report) headToHead(a, b int) int {
	n := 0
	for _, row := range r.Metrics {
		x, y := row.Cells[a], row.Cells[b]
		if !row.Shown || x.N == 0 || y.N == 0 || x.Mean == y.Mean {
			continue
		}
		if (x.Mean > y.Mean) == row.Higher {
			n++
		} else {
			n--
		}
	}
	return n
}

// seedsText says which seeds ran.
func (r *Report) seedsText() string {
	var seeds []string
	for _, c := range r.Matrix.Cells {
		s := fmt.Sprintf("%d..%d", c.Seed, c.Seed+uint64(r.Matrix.Replications)-1)
		if r.Matrix.Replications == 1 {
			s = fmt.Sprint(c.Seed)
		}
		if !slices.Contains(seeds, s) {
			seeds = append(seeds, s)
		}
	}
	return strings.Join(seeds, ", ")
}
