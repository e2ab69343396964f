package bench

import (
	"bytes"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.6g, want %.6g (± %g)", what, got, want, tol)
	}
}

// TestSummarize checks against values computed by hand and with R:
// t.test(c(2, 4, 4, 4, 5, 5, 7, 9)) gives mean 5, sd 2.13809, and the 95%
// interval [3.21253, 6.78747] (t(0.975, 7) = 2.364624).
func TestSummarize(t *testing.T) {
	tests := []struct {
		name                 string
		xs                   []float64
		mean, sd, ci, lo, hi float64
	}{
		{"eight", []float64{2, 4, 4, 4, 5, 5, 7, 9}, 5, 2.13809, 1.78747, 2, 9},
		{"two", []float64{1, 3}, 2, 1.41421, 12.7062, 1, 3}, // t(0.975, 1) = 12.7062
		{"constant", []float64{4, 4, 4}, 4, 0, 0, 4, 4},
		{"one", []float64{7}, 7, 0, 0, 7, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Summarize(tt.xs)
			near(t, "mean", s.Mean, tt.mean, 1e-9)
			near(t, "sd", s.SD, tt.sd, 1e-5)
			near(t, "ci", s.CI, tt.ci, 1e-4)
			near(t, "min", s.Min, tt.lo, 0)
			near(t, "max", s.Max, tt.hi, 0)
			if s.N != len(tt.xs) {
				t.Errorf("n = %d", s.N)
			}
		})
	}
}

// TestWelch checks the first example of Wikipedia's "Welch's t-test":
// a = 27.5 21.0 19.0 23.6 17.0 17.9 16.9 20.1 21.9 22.6 23.1 19.6 19.0 21.7 21.4
// b = 27.1 22.0 20.8 23.4 23.4 23.5 25.8 22.0 24.8 20.2 21.9 22.1 22.9 20.5 24.4
// t = -2.46, df = 24.9, p = 0.021; the means differ by 20.82 - 22.9867 =
// -2.1667, and the interval is that ± t(0.975, 24.99) * |diff| / |t| =
// ± 2.0596 * 0.88244 = ± 1.8175.
func TestWelch(t *testing.T) {
	a := Summarize([]float64{27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4})
	b := Summarize([]float64{27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4})
	d := Welch(a, b)
	near(t, "diff", d.Diff, -2.16667, 1e-5)
	near(t, "df", d.DF, 24.9885, 1e-3)
	near(t, "p", d.P, 0.02135, 1e-4)
	near(t, "t", d.Diff/(d.CI/tQuantile(d.DF)), -2.4553, 1e-3)
	near(t, "lo", d.Diff-d.CI, -3.9842, 1e-3)
	near(t, "hi", d.Diff+d.CI, -0.3492, 1e-3)
	if !d.Significant {
		t.Error("not significant at 95%")
	}

	tests := []struct {
		name string
		a, b []float64
		sig  bool
	}{
		{"same", []float64{1, 2, 3}, []float64{1, 2, 3}, false},
		{"exact shift", []float64{5, 5}, []float64{3, 3}, true},
		{"identical constants", []float64{5, 5}, []float64{5, 5}, false},
		{"overlapping", []float64{1, 5, 9}, []float64{2, 6, 8}, false},
		{"one replication", []float64{1}, []float64{100}, false},
	}
	for _, tt := range tests {
		if d := Welch(Summarize(tt.a), Summarize(tt.b)); d.Significant != tt.sig {
			t.Errorf("%s: significant = %v, want %v (%+v)", tt.name, d.Significant, tt.sig, d)
		}
	}
}

// TestIntervalsWithinRange: the report's intervals stay within what a
// metric can take: a share within 0..100 %, a difference of shares within
// -100..100 pt. not_recovered of two replications, 0 and 1, has a mean of
// 0.5 +- 6.35 by Student's t (t(0.975, 1) = 12.7), which ran to 685 %.
func TestIntervalsWithinRange(t *testing.T) {
	m := &Matrix{Scenarios: []string{"s"}, Baseline: "a", Replications: 2, Cells: []Cell{
		{Scenario: "s", Variant: "a", Label: "a"}, {Scenario: "s", Variant: "b", Label: "b"}}}
	key := "fault/crash/not_recovered"
	runs := []Run{
		{Cell: 0, Rep: 0, Values: map[string]float64{key: 0}}, {Cell: 0, Rep: 1, Values: map[string]float64{key: 1}},
		{Cell: 1, Rep: 0, Values: map[string]float64{key: 1}}, {Cell: 1, Rep: 1, Values: map[string]float64{key: 1}},
	}
	var b bytes.Buffer
	if err := NewReport(m, runs).WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	for _, f := range regexp.MustCompile(`([-+]?[0-9.]+)(%| pt)`).FindAllStringSubmatch(b.String(), -1) {
		x, _ := strconv.ParseFloat(f[1], 64)
		if f[2] == "%" && (x < 0 || x > 100) || f[2] == " pt" && (x < -100 || x > 100) {
			t.Errorf("%s%s: out of range\n%s", f[1], f[2], b.String())
		}
	}
	if !strings.Contains(b.String(), "[0.00%, 100%]") || !strings.Contains(b.String(), "[-100 pt, +100 pt]") {
		t.Errorf("want the intervals cut at 0 and 100 %%, -100 and +100 pt:\n%s", b.String())
	}
}
