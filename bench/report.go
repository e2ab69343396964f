package bench

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/faultline/faultline/sim/metric"
)

// Report is everything a bench found, computed from the matrix and its
// runs only, so that a merge of shards gives the same report as one run.
type Report struct {
	Matrix *Matrix `json:"matrix"`
	// Partial is true when some runs are missing (interrupted, or shards
	// not merged); Done of Total runs are in the report.
	Partial bool `json:"partial"`
	Done    int  `json:"runs_done"`
	Total   int  `json:"runs_total"`
	// Metrics are the rows of the report: one per metric of a component,
	// each with a summary per cell.
	Metrics     []MetricRow     `json:"metrics"`
	Comparisons []Comparison    `json:"comparisons"`
	SLOs        []SLOResult     `json:"slos"`
	Series      []CellSeries    `json:"series"`
	Runs        []RunValues     `json:"runs"`
	Faults      []FaultSpan     `json:"faults"`
	metrics     map[Key]int     // index in Metrics
	repeats     map[string]bool // the fault cascades of later occurrences (Run.Repeats)
	byCell      map[int][]Run   // the runs of each cell
}

// MetricRow is one metric of one component across the cells.
type MetricRow struct {
	Key    string    `json:"key"`
	Scope  string    `json:"scope"`
	Target string    `json:"target"`
	Metric string    `json:"metric"`
	Unit   string    `json:"unit"`
	Higher bool      `json:"higher_is_better"`
	Cells  []Summary `json:"cells"` // by cell index; N = 0 where the cell has no value
	// Shown is true for the rows the Markdown and HTML reports print; the
	// JSON has them all.
	Shown bool `json:"shown"`
	key   Key
	m     metric.Metric
}

// Comparison is a metric of a cell against its baseline cell.
type Comparison struct {
	Cell     int    `json:"cell"`
	Baseline int    `json:"baseline"`
	Key      string `json:"key"`
	Difference
	// Verdict is "better", "worse" or "no significant difference", by the
	// metric's direction.
	Verdict string `json:"verdict"`
}

// RunValues is one run's metrics, for the JSON and CSV reports.
type RunValues struct {
	Cell   int                `json:"cell"`
	Rep    int                `json:"replication"`
	Seed   uint64             `json:"seed"`
	Values map[string]float64 `json:"values"`
}

// CellSeries is the time series of one cell across its replications:
// per window, the mean and the range.
type CellSeries struct {
	Cell    int     `json:"cell"`
	Key     string  `json:"key"`
	WindowS float64 `json:"window_s"`
	Mean    Floats  `json:"mean"`
	Min     Floats  `json:"min"`
	Max     Floats  `json:"max"`
}

// Verdicts.
const (
	Better  = "better"
	Worse   = "worse"
	NoDiff  = "no significant difference"
	NoValue = "no data"
)

// shownMetrics are the client metrics the Markdown and HTML reports show,
// in order; every metric of the other scopes is shown, and any metric an
// SLO names.
var shownMetrics = []string{"success_rate", "goodput", "p50", "p99", "p999", "p99_all", "error_share", "timeout_share", "rejected_share", "degraded_share"}

// NewReport computes the statistics of the runs, which must be in job
// order (as Execute and Merge return them).
func NewReport(m *Matrix, runs []Run) *Report {
	r := &Report{Matrix: m, Done: len(runs), Total: m.Jobs(), Partial: len(runs) < m.Jobs(),
		metrics: map[Key]int{}, byCell: map[int][]Run{}, repeats: map[string]bool{}}
	for _, run := range runs {
		r.byCell[run.Cell] = append(r.byCell[run.Cell], run)
		for _, name := range run.Repeats {
			r.repeats[name] = true
		}
		r.Runs = append(r.Runs, RunValues{Cell: run.Cell, Rep: run.Rep, Seed: run.Seed, Values: run.Values})
	}
	r.rows()
	r.compare()
	r.checkSLOs()
	r.series()
	return r
}

// rows lays out the metric rows in registry order, components in the
// order of their first appearance.
func (r *Report) rows() {
	seen := map[Key]bool{}
	var keys []Key
	for _, run := range r.Runs {
		for _, k := range sortedMapKeys(run.Values) {
			key, _ := ParseKey(k)
			if !seen[key] {
				seen[key] = true
				keys = append(keys, key)
			}
		}
	}
	order := map[string]int{}
	for i, mt := range metric.All() {
		order[string(mt.Scope)+"/"+mt.Name] = i
	}
	firstSeen := map[string]int{}
	for i, k := range keys {
		id := string(k.Scope) + "/" + k.Target
		if _, ok := firstSeen[id]; !ok {
			firstSeen[id] = i
		}
	}
	scopeOrder := map[metric.Scope]int{}
	for i, s := range metric.Scopes() {
		scopeOrder[s] = i
	}
	slices.SortStableFunc(keys, func(a, b Key) int {
		return cmp.Or(cmp.Compare(scopeOrder[a.Scope], scopeOrder[b.Scope]),
			cmp.Compare(firstSeen[string(a.Scope)+"/"+a.Target], firstSeen[string(b.Scope)+"/"+b.Target]),
			cmp.Compare(order[string(a.Scope)+"/"+a.Metric], order[string(b.Scope)+"/"+b.Metric]))
	})
	slo := map[Key]bool{}
	for _, c := range r.Matrix.Cells {
		for _, s := range c.SLOs {
			slo[Key{s.Scope, s.Target, s.Metric}] = true
		}
	}
	for _, k := range keys {
		mt, ok := metric.Lookup(k.Scope, k.Metric)
		if !ok {
			continue // a metric this build does not know, from a newer shard
		}
		row := MetricRow{Key: k.String(), Scope: string(k.Scope), Target: k.Target, Metric: k.Metric,
			Unit: mt.Unit.String(), Higher: mt.Higher, key: k, m: mt}
		nonzero := false
		for c := range r.Matrix.Cells {
			var xs []float64
			for _, run := range r.byCell[c] {
				if x, ok := run.Values[row.Key]; ok {
					xs = append(xs, x)
				}
			}
			s := Summarize(xs)
			if s.Min != 0 || s.Max != 0 {
				nonzero = true
			}
			row.Cells = append(row.Cells, s)
		}
		switch k.Scope {
		case metric.Client:
			row.Shown = slices.Contains(shownMetrics, k.Metric) && nonzero
		case metric.Service:
			row.Shown = false
		case metric.Edge:
			// Amplification is 1 on an edge without retries or hedges.
			row.Shown = k.Metric == "retry_amplification" && slices.ContainsFunc(row.Cells, func(s Summary) bool { return s.N > 0 && s.Max > 1.0005 })
		default:
			row.Shown = true
		}
		row.Shown = row.Shown || slo[k]
		r.metrics[k] = len(r.Metrics)
		r.Metrics = append(r.Metrics, row)
	}
}

// compare sets every shown metric of every cell against its baseline:
// by a paired test when the two ran the same replications with the same
// seeds (bench's default: replication i of every cell runs with seed
// base+i), by Welch's unpaired test when they did not (a variant or a
// second scenario with a seed of its own, a replication missing from a
// partial report, a metric with no value in some run).
func (r *Report) compare() {
	for c := range r.Matrix.Cells {
		b := r.Matrix.BaselineOf(c)
		if b < 0 {
			continue
		}
		for _, row := range r.Metrics {
			if !row.Shown {
				continue
			}
			x, base := row.Cells[c], row.Cells[b]
			cmpr := Comparison{Cell: c, Baseline: b, Key: row.Key, Verdict: NoValue}
			if x.N > 0 && base.N > 0 {
				if xs, bs, ok := r.pairs(c, b, row.Key); ok {
					cmpr.Difference = Paired(xs, bs)
				} else {
					cmpr.Difference = Welch(x, base)
				}
				cmpr.Verdict = NoDiff
				if cmpr.Significant {
					if (cmpr.Diff > 0) == row.Higher {
						cmpr.Verdict = Better
					} else {
						cmpr.Verdict = Worse
					}
				}
			}
			r.Comparisons = append(r.Comparisons, cmpr)
		}
	}
}

// pairs returns a metric's values in cell c and in its baseline b,
// replication by replication, when the two share their seeds: every run
// of either that measured it has a twin in the other, at the same
// replication and with the same seed, so that they drew the same random
// numbers. ok is false when one has no twin: the pairs would then not
// cover the cells' summaries, and their difference of means would not be
// the one the report shows.
func (r *Report) pairs(c, b int, key string) (xs, base []float64, ok bool) {
	twins := map[int]Run{}
	nb := 0
	for _, run := range r.byCell[b] {
		if _, has := run.Values[key]; has {
			twins[run.Rep] = run
			nb++
		}
	}
	for _, run := range r.byCell[c] {
		x, has := run.Values[key]
		if !has {
			continue
		}
		twin, found := twins[run.Rep]
		if !found || twin.Seed != run.Seed {
			return nil, nil, false
		}
		xs, base = append(xs, x), append(base, twin.Values[key])
	}
	return xs, base, len(base) == nb
}

// series averages the time series of each cell window by window.
func (r *Report) series() {
	for c, cell := range r.Matrix.Cells {
		runs := r.byCell[c]
		if len(runs) == 0 {
			continue
		}
		for _, k := range sortedMapKeys(runs[0].Series) {
			n := len(runs[0].Series[k])
			cs := CellSeries{Cell: c, Key: k, WindowS: cell.WindowS, Mean: make(Floats, n), Min: make(Floats, n), Max: make(Floats, n)}
			for i := range n {
				sum, cnt := 0.0, 0
				lo, hi := math.Inf(1), math.Inf(-1)
				for _, run := range runs {
					s := run.Series[k]
					if i >= len(s) || math.IsNaN(s[i]) {
						continue
					}
					sum += s[i]
					cnt++
					lo, hi = min(lo, s[i]), max(hi, s[i])
				}
				cs.Mean[i], cs.Min[i], cs.Max[i] = math.NaN(), math.NaN(), math.NaN()
				if cnt > 0 {
					cs.Mean[i], cs.Min[i], cs.Max[i] = sum/float64(cnt), lo, hi
				}
			}
			r.Series = append(r.Series, cs)
		}
		// Fault windows: those of the first replication of each cell,
		// without repeats; a fault with a chance may differ between
		// replications, and the first stands for them on the charts.
		for _, f := range runs[0].Faults {
			if !slices.Contains(r.Faults, f) {
				r.Faults = append(r.Faults, f)
			}
		}
	}
	slices.SortStableFunc(r.Faults, func(a, b FaultSpan) int { return cmp.Compare(a.Start, b.Start) })
}

// Row returns the row of a metric key, if any cell measured it.
func (r *Report) Row(k Key) (MetricRow, bool) {
	i, ok := r.metrics[k]
	if !ok {
		return MetricRow{}, false
	}
	return r.Metrics[i], true
}

// SeriesOf returns the series of a cell for a key.
func (r *Report) SeriesOf(cell int, key string) (CellSeries, bool) {
	for _, s := range r.Series {
		if s.Cell == cell && s.Key == key {
			return s, true
		}
	}
	return CellSeries{}, false
}

// Components lists the components of a scope that have metrics, in
// order.
func (r *Report) Components(scope metric.Scope) []string {
	var out []string
	for _, row := range r.Metrics {
		if row.key.Scope == scope && !slices.Contains(out, row.Target) {
			out = append(out, row.Target)
		}
	}
	return out
}

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// cellName is how tables name a cell.
func (r *Report) cellName(c int) string {
	return strings.TrimSpace(r.Matrix.Cells[c].Label)
}
