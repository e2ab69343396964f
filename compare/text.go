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
// observed, simulated and the relative error of the simulated one; then
// the MAPEs of p50 and p99.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"operation", "count", "", "", "rate/s", "", "", "p50 ms", "", "", "p90 ms", "", "", "p99 ms", "", "", "errors", ""}
	sub := []string{"", "obs", "sim", "err", "obs", "sim", "err", "obs", "sim", "err", "obs", "sim", "err", "obs", "sim", "err", "obs", "sim"}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	fmt.Fprintln(tw, strings.Join(sub, "\t")+"\t")
	for _, row := range r.Operations {
		o, s := row.Observed, row.Simulated
		cells := []string{row.Service + "." + row.Operation}
		for _, p := range [][2]float64{{o.Count, s.Count}, {o.RatePerS, s.RatePerS}, {o.P50, s.P50}, {o.P90, s.P90}, {o.P99, s.P99}} {
			cells = append(cells, format.Sig3(p[0]), format.Sig3(p[1]), relText(RelErr(p[0], p[1])))
		}
		cells = append(cells, format.Percent(o.ErrorShare), format.Percent(s.ErrorShare))
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d operations compared; MAPE of p50 %s %%, of p99 %s %%\n", len(r.Operations), format.Sig3(r.P50MAPE), format.Sig3(r.P99MAPE))
	for _, m := range r.Missing {
		fmt.Fprintf(w, "not in the scenario: %s\n", m)
	}
	return err
}

// relText writes a relative error as a signed whole percentage.
func relText(e float64) string {
	if math.IsInf(e, 0) {
		return "new"
	}
	return fmt.Sprintf("%+.0f%%", e*100)
}
