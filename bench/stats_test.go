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

// TestPaired checks the paired interval against examples worked by hand
// and with R. "five" by hand: differences 2 1 0 2 3, mean 1.6, sd
// sqrt(5.2/4) = 1.140175, standard error 0.509902, t(0.975, 4) =
// 2.776445, so 1.6 ± 1.415715 (t = 3.1379). "sleep" is R's
// t.test(extra ~ group, data = sleep, paired = TRUE): mean difference
// -1.58, t = -4.0621, df = 9, p = 0.002833, interval [-2.4598858,
// -0.7001142]; Welch's on the same data is not significant (p = 0.0794).
func TestPaired(t *testing.T) {
	sleep1 := []float64{0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0}
	sleep2 := []float64{1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4}
	tests := []struct {
		name           string
		a, b           []float64
		diff, ci, df   float64
		p              float64
		sig            bool
		tol, tolP      float64
		wantWelchNoSig bool
	}{
		{name: "five", a: []float64{10, 12, 9, 11, 13}, b: []float64{8, 11, 9, 9, 10},
			diff: 1.6, ci: 1.415715, df: 4, p: 0.0349, sig: true, tol: 1e-5, tolP: 5e-4},
		{name: "sleep", a: sleep1, b: sleep2,
			diff: -1.58, ci: 0.8798857, df: 9, p: 0.002833, sig: true, tol: 1e-6, tolP: 1e-6, wantWelchNoSig: true},
		{name: "exact shift", a: []float64{5, 7, 9}, b: []float64{3, 5, 7}, diff: 2, df: 2, sig: true},
		{name: "identical", a: []float64{1, 2, 3}, b: []float64{1, 2, 3}, df: 2, p: 1},
		{name: "one pair", a: []float64{1}, b: []float64{100}, diff: -99, p: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Paired(tt.a, tt.b)
			near(t, "diff", d.Diff, tt.diff, 1e-9)
			near(t, "ci", d.CI, tt.ci, tt.tol)
			near(t, "df", d.DF, tt.df, 0)
			if tt.tolP > 0 {
				near(t, "p", d.P, tt.p, tt.tolP)
			}
			if d.Significant != tt.sig || d.Test != PairedT {
				t.Errorf("significant %v, test %q; want %v, paired", d.Significant, d.Test, tt.sig)
			}
			if w := Welch(Summarize(tt.a), Summarize(tt.b)); tt.wantWelchNoSig && w.Significant {
				t.Errorf("Welch's is significant too (p = %.4f): the example does not tell the tests apart", w.P)
			}
		})
	}
}

// TestDifferenceOfEqualMeansIsZero: two variants' p50s from a bench of
// saga-orchestration-vs-choreography, of equal means whose paired
// differences (0, +0.016384, +0.032768, -0.049152) cancel exactly: the
// difference is 0, by either test, not the float residue the report
// printed ("-1.1e-16 ms [-0.056 ms, +0.056 ms]"). A real difference of
// 1e-9 stays.
func TestDifferenceOfEqualMeansIsZero(t *testing.T) {
	base := []float64{3.678207, 3.383295, 3.366911, 3.645439}
	for _, tc := range []struct {
		name  string
		xs    []float64
		equal bool
	}{
		{"equal means", []float64{3.678207, 3.399679, 3.399679, 3.596287}, true},
		{"1e-9 apart", []float64{3.678207, 3.399679, 3.399679, 3.596287 + 4e-9}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, w := Paired(tc.xs, base), Welch(Summarize(tc.xs), Summarize(base))
			for _, d := range []Difference{p, w} {
				if (d.Diff == 0) != tc.equal {
					t.Errorf("%s: difference %g, want zero %v", d.Test, d.Diff, tc.equal)
				}
			}
		})
	}
}

// TestSignificantOnlyWhenPairedIntervalExcludesZero: when a variant and
// its baseline ran the same seeds, the report's verdict is the paired
// interval's, whatever Welch's says; when they did not, Welch's decides.
// "sleep" is R's sleep data (+5, so that it is a latency): paired p =
// 0.0028, Welch's p = 0.079. "anticorrelated": 4..8 against 5..1, a
// difference of 3 that Welch's calls significant ([+0.69, +5.31]) and
// the paired interval does not ([-0.93, +6.93]).
func TestSignificantOnlyWhenPairedIntervalExcludesZero(t *testing.T) {
	var sleep1, sleep2 []float64
	for i, x := range []float64{0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0} {
		sleep1 = append(sleep1, x+5)
		sleep2 = append(sleep2, []float64{1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4}[i]+5)
	}
	tests := []struct {
		name      string
		x, base   []float64
		seedShift uint64 // added to the variant's seeds: 0 shares them
		test      string
		verdict   string
	}{
		{"sleep, shared seeds", sleep1, sleep2, 0, PairedT, Better},
		{"sleep, own seeds", sleep1, sleep2, 100, WelchT, NoDiff},
		{"anticorrelated, shared seeds", []float64{4, 5, 6, 7, 8}, []float64{5, 4, 3, 2, 1}, 0, PairedT, NoDiff},
		{"anticorrelated, own seeds", []float64{4, 5, 6, 7, 8}, []float64{5, 4, 3, 2, 1}, 100, WelchT, Worse},
	}
	const key = "client/users/p99"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(tt.x)
			m := &Matrix{Scenarios: []string{"s"}, Baseline: "a", Replications: n, Cells: []Cell{
				{Scenario: "s", Variant: "a", Label: "a", Seed: 1}, {Scenario: "s", Variant: "b", Label: "b", Seed: 1 + tt.seedShift}}}
			var runs []Run
			for c, xs := range [][]float64{tt.base, tt.x} {
				for i, x := range xs {
					runs = append(runs, Run{Cell: c, Rep: i, Seed: m.Cells[c].Seed + uint64(i), Values: map[string]float64{key: x}})
				}
			}
			r := NewReport(m, runs)
			cmpr, ok := r.comparison(1, key)
			if !ok {
				t.Fatal("no comparison")
			}
			lo, hi := cmpr.Diff-cmpr.CI, cmpr.Diff+cmpr.CI
			if cmpr.Test != tt.test || cmpr.Verdict != tt.verdict || cmpr.Significant != (lo > 0 || hi < 0) {
				t.Errorf("test %q verdict %q, interval [%.3f, %.3f] significant %v; want %q %q",
					cmpr.Test, cmpr.Verdict, lo, hi, cmpr.Significant, tt.test, tt.verdict)
			}
			var md, csv bytes.Buffer
			r.WriteMarkdown(&md)
			r.WriteComparisonsCSV(&csv)
			say := map[string]string{PairedT: "by a paired t-test", WelchT: "by Welch's unpaired t-test"}[tt.test]
			if !strings.Contains(md.String(), say) || !strings.Contains(csv.String(), ","+tt.test+",") {
				t.Errorf("the reports do not say the test is %s:\n%s\n%s", tt.test, md.String(), csv.String())
			}
		})
	}
}

// TestPairedWhereEveryRunHasATwin: a metric missing from one run of the
// variant (no successful request, so no latency) has no twin for the
// baseline's value: that difference is Welch's, marked in the table, and
// the others stay paired.
func TestPairedWhereEveryRunHasATwin(t *testing.T) {
	m := &Matrix{Scenarios: []string{"s"}, Baseline: "a", Replications: 3, Cells: []Cell{
		{Scenario: "s", Variant: "a", Label: "a", Seed: 1}, {Scenario: "s", Variant: "b", Label: "b", Seed: 1}}}
	p99, good := "client/users/p99", "client/users/goodput"
	var runs []Run
	for c := range 2 {
		for i := range 3 {
			v := map[string]float64{p99: float64(10 + i + c), good: float64(100 + i + 2*c)}
			if c == 1 && i == 2 {
				delete(v, p99)
			}
			runs = append(runs, Run{Cell: c, Rep: i, Seed: 1 + uint64(i), Values: v})
		}
	}
	r := NewReport(m, runs)
	for key, want := range map[string]string{p99: WelchT, good: PairedT} {
		if cmpr, _ := r.comparison(1, key); cmpr.Test != want {
			t.Errorf("%s: test %q, want %q", key, cmpr.Test, want)
		}
	}
	var md bytes.Buffer
	r.WriteMarkdown(&md)
	if !strings.Contains(md.String(), "where marked (Welch)") || strings.Count(md.String(), " (Welch) |") != 1 {
		t.Errorf("the Markdown report does not mark the one Welch difference:\n%s", md.String())
	}
}
