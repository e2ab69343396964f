package bench

import (
	"fmt"
	"slices"
	"strings"

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
				ci = fmt.Sprintf("[%s, %s]", u.Format(s.Lo()), u.Format(s.Hi()))
			}
			vs, status := "baseline", ""
			if cmpr, ok := r.comparison(c, row.Key); ok {
				vs, status = diffText(u, cmpr), cmpr.Verdict
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
		s += fmt.Sprintf(" [%s, %s]", u.FormatDiff(c.Diff-c.CI), u.FormatDiff(c.Diff+c.CI))
	}
	return s + " " + c.Verdict
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

// verdicts summarises, per cell, what differs significantly from the
// baseline, and suggests a choice.
func (r *Report) verdicts() []string {
	var lines []string
	for c := range r.Matrix.Cells {
		if r.Matrix.BaselineOf(c) < 0 {
			continue
		}
		var better, worse []string
		for _, cmpr := range r.Comparisons {
			if cmpr.Cell != c {
				continue
			}
			k, _ := ParseKey(cmpr.Key)
			u := r.Metrics[r.metrics[k]].m.Unit
			what := fmt.Sprintf("%s %s (%s)", k.Target, k.Metric, u.FormatDiff(cmpr.Diff))
			switch cmpr.Verdict {
			case Better:
				better = append(better, what)
			case Worse:
				worse = append(worse, what)
			}
		}
		line := fmt.Sprintf("**%s** vs %s: ", r.cellName(c), r.cellName(r.Matrix.BaselineOf(c)))
		switch {
		case len(better) == 0 && len(worse) == 0:
			line += "no significant difference."
		default:
			var parts []string
			if len(better) > 0 {
				parts = append(parts, "better on "+strings.Join(better, ", "))
			}
			if len(worse) > 0 {
				parts = append(parts, "worse on "+strings.Join(worse, ", "))
			}
			line += strings.Join(parts, "; ") + "."
		}
		lines = append(lines, line)
	}
	return lines
}

// suggestion names the cell to choose when there is no sweep: of those
// that meet every SLO (all of them when there is none), the one with the
// most significant improvements over the baseline net of regressions,
// ties to the earlier. It returns "" when every cell breaks an SLO.
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
	score := make([]int, len(r.Matrix.Cells))
	for _, cmpr := range r.Comparisons {
		if !counts(cmpr) {
			continue
		}
		switch cmpr.Verdict {
		case Better:
			score[cmpr.Cell]++
		case Worse:
			score[cmpr.Cell]--
		}
	}
	best := -1
	for c := range r.Matrix.Cells {
		if failed[c] {
			continue
		}
		if best < 0 || score[c] > score[best] || score[c] == score[best] && r.headToHead(c, best) > 0 {
			best = c
		}
	}
	if best < 0 {
		return "No variant meets every SLO."
	}
	var ok []string
	for c := range r.Matrix.Cells {
		if !failed[c] {
			ok = append(ok, r.cellName(c))
		}
	}
	why := "it"
	if len(r.SLOs) > 0 {
		why = fmt.Sprintf("of the variants that meet every SLO (%s), it", strings.Join(ok, ", "))
	}
	if best == r.baselineCell(best) {
		return fmt.Sprintf("Suggested: **%s** (the baseline): %s has the best record; no other variant improves on it without breaking an SLO.", r.cellName(best), why)
	}
	nb, nw := 0, 0
	for _, cmpr := range r.Comparisons {
		if cmpr.Cell == best && counts(cmpr) {
			nb += map[bool]int{true: 1}[cmpr.Verdict == Better]
			nw += map[bool]int{true: 1}[cmpr.Verdict == Worse]
		}
	}
	return fmt.Sprintf("Suggested: **%s**: %s is significantly better than %s on %d metrics and worse on %d (ties are broken by the means, metric by metric).",
		r.cellName(best), why, r.Matrix.Baseline, nb, nw)
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

// counts reports whether a comparison weighs in the suggestion. A fault's
// cascade does not: it measures what got worse than before the fault, so a
// design that is healthier at rest has more to lose and would be penalised
// for it. The cascade metrics are shown, not scored.
func counts(c Comparison) bool {
	k, ok := ParseKey(c.Key)
	return ok && k.Scope != metric.Fault
}
