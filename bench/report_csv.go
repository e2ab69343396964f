package bench

import (
	"encoding/csv"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/faultline/faultline/sim/metric"
)

// csvName is how the CSV files name a metric or a series: its key with
// its unit as a suffix, as every CSV column of faultline carries its unit
// in its name (scenarios.md, "Units in CSV"): _ms and _s for durations,
// _per_s for rates, _share for a fraction in 0..1, _ratio for a
// multiplier, and no suffix for a count. A name that ends with its suffix
// already keeps it once (error_share), and a series no metric measures is
// named with its unit already (sent_per_s) or is a count (running).
func csvName(key string) string {
	k, ok := ParseKey(key)
	if !ok {
		return key
	}
	m, ok := metric.Lookup(k.Scope, k.Metric)
	if !ok {
		return key
	}
	suffix := unitSuffix[m.Unit]
	if strings.HasSuffix(key, suffix) {
		return key
	}
	return key + suffix
}

// unitSuffix is the suffix of a metric's unit in a CSV column's name.
var unitSuffix = map[metric.Unit]string{
	metric.Ms: "_ms", metric.Seconds: "_s", metric.PerSec: "_per_s", metric.Share: "_share", metric.Ratio: "_ratio", metric.Count: "",
}

// WriteRunsCSV writes one row per run (replication x cell): the cell,
// its sweep values, the seed, and every metric in a column of its own,
// named by csvName ("client/shoppers/p99_ms").
func (r *Report) WriteRunsCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"variant", "scenario", "replication", "seed"}
	head = append(head, r.Matrix.SweepKeys...)
	for _, row := range r.Metrics {
		head = append(head, csvName(row.Key))
	}
	cw.Write(head)
	for _, run := range r.Runs {
		c := r.Matrix.Cells[run.Cell]
		rec := []string{c.Variant, c.Scenario, strconv.Itoa(run.Rep), strconv.FormatUint(run.Seed, 10)}
		rec = append(rec, c.Point...)
		for _, row := range r.Metrics {
			v, ok := run.Values[row.Key]
			rec = append(rec, num(v, ok))
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// WriteSeriesCSV writes the time series in long form: one row per cell,
// series and window, with the mean and range across replications; the
// key column names the series by csvName, as runs.csv names its metric.
func (r *Report) WriteSeriesCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"variant", "scenario", "point", "key", "t_s", "mean", "min", "max"})
	for _, s := range r.Series {
		c := r.Matrix.Cells[s.Cell]
		pt := ""
		for i, v := range c.Point {
			if i > 0 {
				pt += " "
			}
			pt += r.Matrix.SweepKeys[i] + "=" + v
		}
		for i := range s.Mean {
			t := float64(i) * s.WindowS
			cw.Write([]string{c.Variant, c.Scenario, pt, csvName(s.Key), strconv.FormatFloat(t, 'f', -1, 64),
				num(s.Mean[i], true), num(s.Min[i], true), num(s.Max[i], true)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteComparisonsCSV writes one row per comparison of a metric of a
// cell with its baseline, as the reports' "vs" column: the difference
// (cell minus baseline, in the unit of the metric's csvName), its 95%
// interval cut as the tables cut it, the degrees of freedom and p-value,
// the test that gave them (paired or welch) and the verdict.
func (r *Report) WriteComparisonsCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"variant", "scenario"}
	head = append(head, r.Matrix.SweepKeys...)
	head = append(head, "baseline", "key", "diff", "ci95_lo", "ci95_hi", "df", "p", "test", "verdict")
	cw.Write(head)
	for _, cmpr := range r.Comparisons {
		c := r.Matrix.Cells[cmpr.Cell]
		rec := []string{c.Variant, c.Scenario}
		rec = append(rec, c.Point...)
		rec = append(rec, r.Matrix.Cells[cmpr.Baseline].Variant, csvName(cmpr.Key))
		if cmpr.Verdict == NoValue {
			rec = append(rec, "", "", "", "", "", "", cmpr.Verdict)
		} else {
			k, _ := ParseKey(cmpr.Key)
			lo, hi := cmpr.Interval(r.Metrics[r.metrics[k]].m.Unit)
			rec = append(rec, num(cmpr.Diff, true), num(lo, true), num(hi, true),
				num(cmpr.DF, cmpr.DF > 0), num(cmpr.P, true), cmpr.Test, cmpr.Verdict)
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// num writes a value, empty when there is none.
func num(x float64, ok bool) string {
	if !ok || math.IsNaN(x) || math.IsInf(x, 0) {
		return ""
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}
