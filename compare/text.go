package compare

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/faultline/faultline/internal/format"
)

// WriteText writes the report as a table: per operation, each figure
// observed, simulated and the relative error of the simulated one, and
// for p50 and p99 the observed figure's 95 % interval (from order
// statistics: "[12.1, -)" has no upper bound, too few spans), the error
// marked "*" when the simulated figure lies inside it; then the MAPEs of
// p50, p90 and p99, how many simulated quantiles the intervals hold, and
// that the quantiles are of successes on both sides (Operation's P50).
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"operation", "count", "", "", "rate/s", "", "", "p50 ms", "", "", "", "p90 ms", "", "", "p99 ms", "", "", "", "errors", ""}
	sub := []string{"", "obs", "sim", "err", "obs", "sim", "err", "obs", "sim", "err", "obs 95%", "obs", "sim", "err", "obs", "sim", "err", "obs 95%", "obs", "sim"}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	fmt.Fprintln(tw, strings.Join(sub, "\t")+"\t")
	var in50, in99 int
	for _, row := range r.Operations {
		o, s := row.Observed, row.Simulated
		cells := []string{row.Service + "." + row.Operation}
		for _, p := range [][2]float64{{o.Count, s.Count}, {o.RatePerS, s.RatePerS}} {
			cells = append(cells, format.Sig3(p[0]), format.Sig3(p[1]), relText(RelErr(p[0], p[1])))
		}
		cells = append(cells, quantileCells(o.P50, s.P50, o.P50CI, &in50)...)
		cells = append(cells, format.Sig3(o.P90), format.Sig3(s.P90), relText(LatencyErr(o.P90, s.P90)))
		cells = append(cells, quantileCells(o.P99, s.P99, o.P99CI, &in99)...)
		cells = append(cells, format.Percent(o.ErrorShare), format.Percent(s.ErrorShare))
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s compared; MAPE of p50 %s %%, of p90 %s %%, of p99 %s %%\n", format.Plural(len(r.Operations), "operation"), format.Sig3(r.P50MAPE), format.Sig3(r.P90MAPE), format.Sig3(r.P99MAPE))
	fmt.Fprintf(w, "* inside the observed figure's 95 %% interval: %d of %d p50s, %d of %d p99s\n", in50, len(r.Operations), in99, len(r.Operations))
	fmt.Fprintln(w, "the quantiles are of successes: observed of the successful spans (of all when all failed), simulated of the successful requests; counts, rates and errors of all")
	for _, n := range r.NoSuccess {
		fmt.Fprintf(w, "counted 100 %% off in the MAPEs: %s, which the run answered with no success (its latency is of successful requests; the traces show successes)\n", n)
	}
	if r.Unscored > 0 {
		fmt.Fprintf(w, "left out of the MAPEs: %s observed and simulated at 0 ms, or failed throughout on both sides\n", format.Plural(r.Unscored, "operation"))
	}
	for _, m := range r.Missing {
		fmt.Fprintf(w, "not in the scenario: %s\n", m)
	}
	return err
}

// quantileCells are a quantile's cells: observed, simulated, error
// (starred when the interval holds the simulated figure), interval.
func quantileCells(obs, simulated float64, ci *CI, in *int) []string {
	e := relText(LatencyErr(obs, simulated))
	iv := ""
	if ci != nil {
		if ci.Contains(simulated) {
			e += "*"
			*in++
		}
		hi := "-"
		if !math.IsInf(ci[1], 1) {
			hi = format.Sig3(ci[1])
		}
		iv = "[" + format.Sig3(ci[0]) + ", " + hi + ")"
		if hi != "-" {
			iv = iv[:len(iv)-1] + "]"
		}
	}
	return []string{format.Sig3(obs), format.Sig3(simulated), e, iv}
}

// relText writes a relative error as a signed whole percentage.
func relText(e float64) string {
	switch {
	case math.IsInf(e, 0):
		return "new"
	case math.IsNaN(e):
		return "+0%"
	}
	return fmt.Sprintf("%+.0f%%", e*100)
}
