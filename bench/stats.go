package bench

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/faultline/faultline/sim/metric"
)

// Confidence is the level of every interval and test of a report.
const Confidence = 0.95

// Summary describes one metric of one cell across its replications.
type Summary struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"` // sample standard deviation (n-1)
	// CI is the half-width of the 95% confidence interval of the mean
	// (Student's t with n-1 degrees of freedom); 0 with fewer than two
	// replications, when it is unknown.
	CI  float64 `json:"ci95"`
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// Lo is the interval's lower end. Every metric faultline reports is zero
// or more, so an interval of a sample with no negative value stops at 0:
// Student's t knows nothing of that bound, and a lag of -2 s is nonsense.
func (s Summary) Lo() float64 {
	if lo := s.Mean - s.CI; lo > 0 || s.Min < 0 {
		return lo
	}
	return 0
}

// Hi is the interval's upper end.
func (s Summary) Hi() float64 { return s.Mean + s.CI }

// Interval is the confidence interval of the mean of a metric of unit u,
// within the values the metric can take: Student's t knows no bound, and
// a 0/1 figure (not_recovered) of two replications, 0 and 1, gets
// 0.5 +- 6.35, so [0, 685 %] for a share that cannot pass 100 %. The
// interval of a bounded mean is cut at the bound (the mean itself cannot
// lie outside it).
func (s Summary) Interval(u metric.Unit) (lo, hi float64) {
	lo, hi = s.Lo(), s.Hi()
	if u == metric.Share {
		lo, hi = max(lo, 0), min(hi, 1)
	}
	return lo, hi
}

// Summarize computes the summary of a sample.
func Summarize(xs []float64) Summary {
	s := Summary{N: len(xs)}
	if len(xs) == 0 {
		return s
	}
	s.Min, s.Max = slices.Min(xs), slices.Max(xs)
	if len(xs) == 1 {
		s.Mean = xs[0]
		return s
	}
	s.Mean, s.SD = stat.MeanStdDev(xs, nil)
	s.CI = tQuantile(float64(len(xs)-1)) * s.SD / math.Sqrt(float64(len(xs)))
	return s
}

// tQuantile is the two-sided critical value of Student's t at the
// report's confidence level.
func tQuantile(df float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(1 - (1-Confidence)/2)
}

// Difference is the comparison of a metric between a cell and its
// baseline: the difference of the means (cell minus baseline) with its
// confidence interval, by the test named in Test.
type Difference struct {
	Diff float64 `json:"diff"`
	CI   float64 `json:"ci95"` // half-width
	// DF is the degrees of freedom of the interval's t: n-1 pairs for a
	// paired test, Welch-Satterthwaite's for Welch's.
	DF float64 `json:"df"`
	P  float64 `json:"p"` // two-sided p-value
	// Significant is true when the interval excludes zero (p < 0.05).
	Significant bool `json:"significant"`
	// Test is the test that gave the interval: PairedT or WelchT.
	Test string `json:"test"`
}

// The tests a Difference can come from.
const (
	// PairedT is Student's t on the per-replication differences, when
	// the cell and its baseline ran the same replications with the same
	// seeds.
	PairedT = "paired"
	// WelchT is Welch's unpaired t-test, otherwise.
	WelchT = "welch"
)

// Paired compares two samples replication by replication: xs[i] and
// base[i] ran with the same seed, so they share their random numbers
// (the engine's draws do not depend on what other components decided)
// and are positively correlated. The difference of the means is the mean
// of the differences z[i] = xs[i] - base[i], and its interval is
// Student's t with n-1 degrees of freedom on their standard error
// sd(z)/sqrt(n) (MathWorld, "Paired t-Test"; R's t.test(paired = TRUE)).
// It is the paired-t interval of common random numbers, how simulation
// compares two systems whose replications share their random streams
// (Rossetti, Simulation Modeling and Arena, 4.4 "Statistical Issues When
// Comparing Two Systems", rossetti.github.io/RossettiArenaBook): Var(z)
// = Var(x) + Var(base) - 2 Cov(x, base), narrower than Welch's
// Var(x) + Var(base) by the covariance the shared seeds induce. As
// Welch's, with no spread in the differences a difference is exact,
// significant when it is not zero. xs and base must have the same length.
func Paired(xs, base []float64) Difference {
	z := make([]float64, len(xs))
	for i := range xs {
		z[i] = xs[i] - base[i]
	}
	s := Summarize(z)
	d := Difference{Diff: noNoise(s.Mean, Summarize(xs), Summarize(base)), P: 1, Test: PairedT}
	if s.N < 2 {
		return d // nothing is known of the spread
	}
	d.DF = float64(s.N - 1)
	if s.SD == 0 {
		if d.Diff != 0 {
			d.P, d.Significant = 0, true
		}
		return d
	}
	se := s.SD / math.Sqrt(float64(s.N))
	d.CI = s.CI
	d.P = 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: d.DF}.CDF(-math.Abs(d.Diff)/se)
	// Significant when the interval excludes zero, which is p < 0.05
	// save for rounding: said of the interval, so that the verdict and
	// the interval the report prints never disagree.
	d.Significant = math.Abs(d.Diff) > d.CI
	return d
}

// Welch compares two samples' summaries. With no spread in either
// sample, a difference is exact: significant when it is not zero.
func Welch(a, base Summary) Difference {
	d := Difference{Diff: noNoise(a.Mean-base.Mean, a, base), P: 1, Test: WelchT}
	if a.N < 2 || base.N < 2 {
		return d // nothing is known of the spread
	}
	va, vb := a.SD*a.SD/float64(a.N), base.SD*base.SD/float64(base.N)
	se := math.Sqrt(va + vb)
	if se == 0 {
		if d.Diff != 0 {
			d.P, d.Significant = 0, true
		}
		return d
	}
	d.DF = (va + vb) * (va + vb) / (va*va/float64(a.N-1) + vb*vb/float64(base.N-1))
	tt := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: d.DF}
	d.CI = tQuantile(d.DF) * se
	d.P = 2 * tt.CDF(-math.Abs(d.Diff)/se)
	d.Significant = d.P < 1-Confidence
	return d
}

// noNoise is diff, the difference of the means of samples a and base,
// or zero when it is within the rounding of their sums: replications
// that share their seeds often differ by amounts that cancel exactly,
// and float arithmetic leaves a residue of 1e-16 (a report printed
// "-1.1e-16 ms" for two variants of equal p50). The bound is the
// worst-case error of summing n values of the samples' largest
// magnitude, n units in the last place each, twice over.
func noNoise(diff float64, a, base Summary) float64 {
	m := max(math.Abs(a.Min), math.Abs(a.Max), math.Abs(base.Min), math.Abs(base.Max))
	if math.Abs(diff) <= 2*float64(a.N+base.N)*m*0x1p-52 {
		return 0
	}
	return diff
}

// Interval is the confidence interval of the difference of two means of
// unit u, cut at what a difference can be: two shares differ by at most
// one (-100..100 pt).
func (d Difference) Interval(u metric.Unit) (lo, hi float64) {
	lo, hi = d.Diff-d.CI, d.Diff+d.CI
	if u == metric.Share {
		lo, hi = max(lo, -1), min(hi, 1)
	}
	return lo, hi
}
