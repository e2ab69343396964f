package importer

import (
	"testing"
	"time"

	"github.com/faultline/faultline/sim/metrics"
)

// TestQuantileRanks: the order statistics that bound a quantile at 95 %.
// The median of 100 lies between the 40th and the 61st value (Conover,
// Practical Nonparametric Statistics, the textbook's example); a p99 of
// 54 spans is bounded only from below, by the 52nd (the third slowest),
// and 368 spans are the fewest whose slowest bounds it from above.
func TestQuantileRanks(t *testing.T) {
	for _, tt := range []struct {
		name   string
		n      int64
		q      float64
		lo, hi int64
	}{
		{"median of 100", 100, 0.5, 40, 61},
		{"median of 20", 20, 0.5, 6, 15},
		{"p99 of 54: no upper bound", 54, 0.99, 52, 55},
		{"p99 of 367: still none", 367, 0.99, 359, 368},
		{"p99 of 368: the slowest bounds it", 368, 0.99, 360, 368},
		{"p99 of 1000", 1000, 0.99, 983, 997},
		{"median of 5: nothing bounds it either way", 5, 0.5, 0, 6},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if lo, hi := quantileRanks(tt.n, tt.q, 0.95); lo != tt.lo || hi != tt.hi {
				t.Errorf("ranks %d, %d; want %d, %d", lo, hi, tt.lo, tt.hi)
			}
		})
	}
}

// TestQuantileInterval: spans in runs of alike values (ten slow, ten
// fast, in time) are worth fewer independent ones than spans that
// alternate, so the interval of their median is wider; both hold the
// median, and both say the values they come from.
func TestQuantileInterval(t *testing.T) {
	const n = 400
	build := func(slow func(i int) bool) (*metrics.Histogram, []sample) {
		var h metrics.Histogram
		var s []sample
		for i := range n {
			v := int64(1000 + i) // distinct values, 1 us apart
			if slow(i) {
				v += 1e6
			}
			h.Record(v)
			s = append(s, sample{at: int64(i) * int64(time.Millisecond), v: v})
		}
		return &h, s
	}
	hAlt, sAlt := build(func(i int) bool { return i%2 == 1 })
	hRun, sRun := build(func(i int) bool { return i/10%2 == 1 })
	if ne := effectiveCount(n, sAlt, hAlt.Quantile(0.5)); ne != n {
		t.Errorf("alternating values: effective count %g; want %d", ne, n)
	}
	ne := effectiveCount(n, sRun, hRun.Quantile(0.5))
	if ne > n/5 {
		t.Errorf("runs of ten: effective count %g; want under %d", ne, n/5)
	}
	alt := quantileInterval(hAlt, sAlt, 0.5)
	run := quantileInterval(hRun, sRun, 0.5)
	width := func(iv Interval) time.Duration { return iv.High - iv.Low }
	if !alt.Contains(time.Duration(hAlt.Quantile(0.5))) || !run.Contains(time.Duration(hRun.Quantile(0.5))) {
		t.Errorf("intervals %v, %v do not hold their medians", alt, run)
	}
	if !(width(run) > width(alt)) || alt.High < 0 || run.High < 0 {
		t.Errorf("interval of runs %v not wider than of alternating values %v", run, alt)
	}
}
