package dist_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sim/dist"
)

func TestParseRoundTrip(t *testing.T) {
	tests := []struct{ in, want string }{
		{"10ms", "10ms"},
		{" \t10ms\n", "10ms"},
		{"0", "0s"},
		{"1.5ms", "1.5ms"},
		{"235us", "235us"},
		{"235µs", "235us"},
		{"90m", "1h30m0s"},
		{"exp(10ms)", "exp(10ms)"},
		{"exp( 10ms )", "exp(10ms)"},
		{"uniform(5ms,15ms)", "uniform(5ms, 15ms)"},
		{"uniform(0s, 0s)", "uniform(0s, 0s)"},
		{"normal(10ms, 2ms)", "normal(10ms, 2ms)"},
		{"normal(0s, 2ms)", "normal(0s, 2ms)"},
		{"lognormal(10ms, 80ms)", "lognormal(10ms, 80ms)"},
		{"lognormal(10ms, 10ms)", "lognormal(10ms, 10ms)"},
		{"pareto(235us, 10)", "pareto(235us, 10)"},
		{"pareto(1ms, 1e-3)", "pareto(1ms, 0.001)"},
		{"pareto(1ms, 0x1p-1)", "pareto(1ms, 0.5)"},
		{"weibull(10ms, 1.5)", "weibull(10ms, 1.5)"},
		{"percentiles(p50=8ms, p90=20ms, p99=90ms, p999=300ms)", "percentiles(p50=8ms, p90=20ms, p99=90ms, p999=300ms)"},
		{"percentiles( p99 = 90ms )", "percentiles(p99=90ms)"},
		{"percentiles(p0=0s, p5000=1ms)", "percentiles(p50=1ms)"},
		{"percentiles(p00=1ms, p05=2ms, p100=3ms)", "percentiles(p0=1ms, p05=2ms, p100=3ms)"},
		{"percentiles(p25=1ms,p75=1ms)", "percentiles(p25=1ms, p75=1ms)"},
		{"percentiles(p00000000000000000001=1ms)", "percentiles(p00000000000000000001=1ms)"},
		{"percentiles(p99999999999999999999=1ms)", "percentiles(p100=1ms)"},
		{"mix(0.9 pareto(235us, 10), 0.1 exp(600us))", "mix(0.9 pareto(235us, 10), 0.1 exp(600us))"},
		{"mix(1 10ms)", "mix(1 10ms)"},
		{"mix(.25 1ms,0.75 2ms)", "mix(0.25 1ms, 0.75 2ms)"},
		{"mix(0.5 mix(0.5 1ms, 0.5 2ms), 0.5 percentiles(p99=1s))", "mix(0.5 mix(0.5 1ms, 0.5 2ms), 0.5 percentiles(p99=1s))"},
		{"mix(0.3333333333 1ms, 0.3333333333 2ms, 0.3333333334 3ms)", "mix(0.3333333333 1ms, 0.3333333333 2ms, 0.3333333334 3ms)"},
		{"samples(40ms, 1.2ms,1.3ms, 1.2ms)", "samples(1.2ms, 1.2ms, 1.3ms, 40ms)"},
		{"samples( 0s )", "samples(0s)"},
		{"histogram(1ms..2ms: 40, 30ms..50ms:10)", "histogram(1ms..2ms: 40, 30ms..50ms: 10)"},
		{"histogram(0s..1ms: 0, 1ms..2ms: 3, 2ms..4ms: 0, 4ms..5ms: 1)", "histogram(1ms..2ms: 3, 4ms..5ms: 1)"},
		// A count of a million or more is written whole: "1e+06" is no
		// count the parser takes (found by FuzzParse).
		{"histogram(0..1s:1000000)", "histogram(0s..1s: 1000000)"},
		{"markov(fast: lognormal(5ms, 20ms) for 30s, slow: lognormal(80ms, 400ms) for 2s)", "markov(fast: lognormal(5ms, 20ms) for 30s, slow: lognormal(80ms, 400ms) for 2s)"},
		{"markov( a:1ms for 1s,b : exp(1ms)  for 2s , c-3_x: mix(1 samples(2ms, 1ms)) for 3ms)", "markov(a: 1ms for 1s, b: exp(1ms) for 2s, c-3_x: mix(1 samples(1ms, 2ms)) for 3ms)"},
		{"mix(0.5 samples(1ms), 0.5 histogram(1ms..2ms: 1))", "mix(0.5 samples(1ms), 0.5 histogram(1ms..2ms: 1))"},
		{"markov(a: 1ms for 1s then(0.25 c,0.75 b), b: 2ms for 2s, c: 3ms for 3s then ( 1 a ))", "markov(a: 1ms for 1s then (0.25 c, 0.75 b), b: 2ms for 2s, c: 3ms for 3s then (1 a))"},
	}
	for _, tt := range tests {
		d, err := dist.Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := d.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
		again, err := dist.Parse(tt.want)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.want, err)
		} else if got := again.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want it unchanged", tt.want, got)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in     string
		offset int
		msg    string // a substring of the message
	}{
		{"", 0, "empty distribution"},
		{"   ", 3, "empty distribution"},
		{"10xs", 0, `"10xs" is not a duration; use a Go duration such as 10ms`},
		{"10", 0, `"10" is not a duration: it lacks a unit`},
		{"-5ms", 0, `negative duration "-5ms"`},
		{"exp(3000000h)", 4, `duration "3000000h" is out of range`},
		{"exp(-1ms)", 4, "negative duration"},
		{"expo(1ms)", 0, `unknown distribution "expo"; did you mean exp?`},
		{"lognormall(1ms, 2ms)", 0, "did you mean lognormal?"},
		{"Weibull(1ms, 2)", 0, "did you mean weibull?"},
		{"gaussian(1ms, 2ms)", 0, "did you mean normal?"},
		{"zzzzzz(1ms)", 0, "known ones are exp, uniform"},
		{"10ms(", 4, "unexpected '(' after the duration"},
		{"exp", 0, "exp needs arguments: exp takes (mean)"},
		{"exp()", 4, "exp takes (mean); missing mean"},
		{"lognormal(10ms)", 14, "lognormal takes (median, p99); missing p99"},
		{"lognormal(1ms, 2ms, 3ms)", 20, "lognormal takes (median, p99); too many arguments"},
		{"exp(10ms", 8, "unbalanced parentheses: missing ')' to close exp( at offset 3"},
		{"exp(10ms))", 9, "unbalanced parentheses: unexpected ')'"},
		{")", 0, `expected a distribution, found ")"`},
		{"exp(10ms) x", 10, `unexpected "x" after the distribution`},
		{"exp(1ms 2ms)", 8, `expected ',' or ')' in exp(...), found "2ms"`},
		{"uniform(1ms,,2ms)", 12, "expected an argument"},
		{"exp(exp(1ms))", 4, "only mix and markov nest"},
		{"exp(0s)", 4, "exp mean must be positive"},
		{"uniform(15ms, 5ms)", 14, "uniform needs lo <= hi"},
		{"normal(1ms, 0s)", 12, "normal stddev must be positive"},
		{"lognormal(0s, 1ms)", 10, "lognormal median must be positive"},
		{"lognormal(10ms, 5ms)", 16, "lognormal needs p99 >= median"},
		{"pareto(0s, 2)", 7, "pareto scale must be positive"},
		{"pareto(1ms, 0)", 12, "pareto shape must be positive"},
		{"pareto(1ms, 2ms)", 12, "pareto shape is a plain number, not a duration"},
		{"pareto(1ms, NaN)", 12, "must be a finite number"},
		{"pareto(1ms, 1e999)", 12, "out of range"},
		{"weibull(1ms, x)", 13, `weibull shape "x" is not a number`},
		{"percentiles", 0, "percentiles needs arguments"},
		{"percentiles()", 12, "at least one point"},
		{"percentiles(p50=10ms, p90=5ms)", 22, "p90=5ms is less than p50=10ms; values must not decrease"},
		{"percentiles(p90=10ms, p50=20ms)", 22, "p50 must come before p90"},
		{"percentiles(p50=1ms, p500=2ms)", 21, "p500 repeats p50"},
		{"percentiles(p5=1ms)", 12, "p5 is ambiguous; write p50 for 50% or p05 for 5%"},
		{"percentiles(p" + strings.Repeat("9", 21) + "=1ms)", 12, "more than 20 digits"},
		{"percentiles(q50=1ms)", 12, `"q50" is not a percentile key`},
		{"percentiles(p50 1ms)", 16, "expected '=' after p50"},
		{"percentiles(p50=)", 16, "missing value for p50"},
		{"percentiles(p50=1ms", 19, "missing ')' to close percentiles("},
		{"percentiles(p0=1ms)", 0, "needs a point above p0"},
		{"mix(0.5 1ms, 0.4 2ms)", 0, "mix weights sum to 0.9; they must sum to 1"},
		{"mix(exp(1ms))", 4, `missing weight before "exp"`},
		{"mix(1ms)", 4, `missing weight before "1ms"`},
		{"mix(-1 1ms)", 4, "mix weight must be positive"},
		{"mix(heavy 1ms)", 4, `mix weight "heavy" is not a number`},
		{"mix()", 4, "mix needs at least one component"},
		{"mix(1 ", 6, "expected a distribution, found end of input"},
		{"mix(0.5 1ms 0.5 2ms)", 12, `expected ',' or ')' in mix(...), found "0.5"`},
		{strings.Repeat("mix(1 ", 17) + "1ms" + strings.Repeat(")", 17), 16 * len("mix(1 "), "mix nested more than 16 deep"},
		{strings.Repeat("x", 1000) + "(", 0, `"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"...; known ones are`},
		{"samples", 0, "samples needs arguments: samples takes (duration, ...) or a file name"},
		{"samples()", 8, "samples needs at least one item"},
		{"samples(1ms, x)", 13, `"x" is not a duration`},
		{"samples(1ms,)", 12, "expected a duration in samples(...)"},
		{"samples(1ms 2ms)", 12, `expected ',' or ')' in samples(...), found "2ms"`},
		{"samples(exp(1ms))", 8, "not a nested distribution"},
		{`samples("lat.txt")`, 8, `samples("lat.txt") reads a file, which only a scenario file can name`},
		{`samples("lat.txt`, 8, "unterminated file name"},
		{`samples("lat.txt" 1ms)`, 18, `samples takes a file name alone; found "1ms"`},
		{`samples("")`, 8, "empty file name"},
		{"empirical(1ms)", 0, "did you mean samples?"},
		{"histogram()", 10, "histogram needs at least one item"},
		{"histogram(1ms: 4)", 10, `expected a bin lo..hi: count, such as 1ms..2ms: 40, found "1ms"`},
		{"histogram(1ms..x: 4)", 15, `"x" is not a duration`},
		{"histogram(2ms..1ms: 4)", 10, "bin 2ms..1ms is empty; a bin needs lo < hi"},
		{"histogram(1ms..2ms 4)", 19, "expected ':' and a count after the bin 1ms..2ms"},
		{"histogram(1ms..2ms:)", 19, "missing the count of bin 1ms..2ms"},
		{"histogram(1ms..2ms: 1.5)", 20, "counts are whole numbers of observations"},
		{"histogram(1ms..2ms: -1)", 20, "counts are whole numbers"},
		{"histogram(1ms..2ms: many)", 20, `is "many", not a whole number`},
		{"histogram(1ms..3ms: 1, 2ms..4ms: 1)", 23, "bin 2ms..4ms overlaps 1ms..3ms"},
		{"histogram(2ms..3ms: 1, 1ms..2ms: 1)", 23, "bin 1ms..2ms must come before 2ms..3ms"},
		{"histogram(1ms..2ms: 0)", 0, "histogram needs a positive count"},
		{"histogram(1ms..2ms: 9007199254740992, 2ms..3ms: 1)", 48, "counts sum to more than 2^53"},
		{"markov", 0, "markov needs arguments: markov takes (state: distribution for mean-sojourn, ...)"},
		{"markov()", 7, "markov needs at least two states"},
		{"markov(fast: 1ms for 1s)", 0, "markov needs at least two states; with one, write its distribution alone"},
		{"markov(1ms for 1s, b: 1ms for 1s)", 7, `"1ms" is not a state name`},
		{"markov(9a: 1ms for 1s)", 7, `"9a" is not a state name`},
		{"markov(a: 1ms for 1s, a: 2ms for 1s)", 22, "state a is named twice"},
		{"markov(a 1ms for 1s)", 9, "expected ':' after the state name a, as in a: exp(80ms) for 2s"},
		{"markov(a: 1ms, b: 2ms for 1s)", 13, "expected 'for' and the mean time in state a, as in a: 1ms for 2s; found \",\""},
		{"markov(a: 1ms 1s)", 14, "expected 'for' and the mean time in state a"},
		{"markov(a: 1ms for)", 17, "missing the mean time in state a after 'for'"},
		{"markov(a: 1ms for 0s, b: 1ms for 1s)", 18, "the mean time in state a must be positive"},
		{"markov(a: 1ms for 1, b: 1ms for 1s)", 18, `"1" is not a duration: it lacks a unit`},
		{"markov(a: 1ms for 1s b: 1ms for 1s)", 21, `expected ',' or ')' in markov(...), found "b"`},
		{"markov(a: markov(b: 1ms for 1s, c: 1ms for 1s) for 1s, d: 1ms for 1s)", 10, "markov must be the whole distribution"},
		{"mix(1 markov(a: 1ms for 1s, b: 1ms for 1s))", 6, "markov must be the whole distribution"},
		{"markov(" + stateList(17) + ")", 7 + 16*len("s00: 1ms for 1s, "), "markov has more than 16 states"},
		{"mmpp(a: 1ms for 1s)", 0, "did you mean markov?"},
		{"markov(a: 1ms for 1s then 1 b, b: 1ms for 1s)", 26, "expected '(' after then"},
		{"markov(a: 1ms for 1s then (b), b: 1ms for 1s)", 27, `"b" is not a probability`},
		{"markov(a: 1ms for 1s then (0 b), b: 1ms for 1s)", 27, "probability 0 must be in (0, 1]"},
		{"markov(a: 1ms for 1s then (1.5 b), b: 1ms for 1s)", 27, "probability 1.5 must be in (0, 1]"},
		{"markov(a: 1ms for 1s then (1), b: 1ms for 1s)", 28, "missing the state after the probability 1"},
		{"markov(a: 1ms for 1s then (0.5 b, 0.5 b), b: 1ms for 1s)", 38, "state b is named twice in then (...) of state a"},
		{"markov(a: 1ms for 1s then (1 b; c), b: 1ms for 1s)", 32, "expected ',' or ')' in then (...) of state a"},
		{"markov(a: 1ms for 1s then (1 x), b: 1ms for 1s)", 29, `"x" is not a state of this markov; its states are a, b`},
		{"markov(a: 1ms for 1s then (1 a), b: 1ms for 1s)", 29, "state a cannot move to itself"},
		{"markov(a: 1ms for 1s then (0.5 b, 0.4 c), b: 1ms for 1s, c: 1ms for 1s)", 26, "the probabilities after then in state a sum to 0.9; they must sum to 1"},
		{"markov(a: 1ms for 1s then (1 b), b: 1ms for 1s then (1 a), c: 1ms for 1s)", 26, "state a never leads to state c"},
		{"markov(a: 1ms for 1s, b: 1ms for 1s, c: 1ms for 1s then (1 b))", 0, "state b never leads to state a"},
	}
	for _, tt := range tests {
		_, err := dist.Parse(tt.in)
		var se *dist.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) error = %v, want a *SyntaxError", tt.in, err)
			continue
		}
		if se.Offset != tt.offset || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("Parse(%.60q) error at %d: %q\nwant at %d: %q", tt.in, se.Offset, se.Msg, tt.offset, tt.msg)
		}
	}
}

// stateList is n markov states named s00, s01, ...
func stateList(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf("s%02d: 1ms for 1s", i))
	}
	return strings.Join(parts, ", ")
}

func TestZero(t *testing.T) {
	var zero dist.Dist
	if !zero.IsZero() || zero.String() != "0s" || zero.Mean() != 0 || zero.Quantile(0.99) != 0 {
		t.Errorf("zero Dist: IsZero %v, String %q, Mean %v, Quantile %v", zero.IsZero(), zero, zero.Mean(), zero.Quantile(0.99))
	}
	if d := dist.Constant(-time.Second); !d.IsZero() {
		t.Errorf("Constant(-1s) = %v, want it clamped to 0", d)
	}
	if d := dist.Constant(time.Millisecond); d.IsZero() || d.String() != "1ms" {
		t.Errorf("Constant(1ms) = %v, IsZero %v", d, d.IsZero())
	}
	for _, s := range []string{"0s", "exp(1ns)", "uniform(0s, 0s)", "mix(1 0s)"} {
		if d := mustParse(t, s); d.IsZero() != (s == "0s") {
			t.Errorf("Parse(%q).IsZero() = %v", s, d.IsZero())
		}
	}
}

// n is the sample size of the distribution tests; the tolerances below are
// derived from it.
const n = 200_000

// k is how many standard errors a sample statistic may stray.
const k = 5

// draw returns n sorted samples of d from a fixed seed.
func draw(d dist.Dist) []float64 {
	r := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = float64(d.Sample(r))
	}
	slices.Sort(xs)
	return xs
}

// checkMean compares the sample mean with want within k standard errors,
// estimating the standard error from the sample itself.
func checkMean(t *testing.T, xs []float64, want float64) {
	t.Helper()
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	mean := sum / n
	ss := 0.0
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	se := math.Sqrt(ss/(n-1)) / math.Sqrt(n)
	if math.Abs(mean-want) > k*se+0.5 { // samples are rounded to whole nanoseconds
		t.Errorf("sample mean %.6g, want %.6g within %.3g", mean, want, k*se)
	}
}

// checkQuantiles checks that each sample p-quantile lies between q(p-δ) and
// q(p+δ), where δ is k standard errors of the empirical CDF at p. That bounds
// the error in probability, so no density estimate is needed.
func checkQuantiles(t *testing.T, label string, xs []float64, q func(p float64) float64) {
	t.Helper()
	for _, p := range []float64{0.5, 0.9, 0.99} {
		delta := k * math.Sqrt(p*(1-p)/n)
		got := xs[int(p*n)]
		lo, hi := q(p-delta)-0.5, q(p+delta)+0.5 // samples are rounded to whole nanoseconds
		if got < lo || got > hi {
			t.Errorf("sample p%g = %.6g, want %s(p%g) = %.6g in [%.6g, %.6g]", p*100, got, label, p*100, q(p), lo, hi)
		}
	}
}

// checkClosedForm compares Quantile with the formula at the tested points.
func checkClosedForm(t *testing.T, d dist.Dist, q func(p float64) float64) {
	t.Helper()
	for _, p := range []float64{0, 0.1, 0.5, 0.9, 0.99, 0.999} {
		if got, want := d.Quantile(p), q(p); !near(got, want, 1e-9) {
			t.Errorf("Quantile(%g) = %.12g, want %.12g", p, got, want)
		}
	}
}

func near(got, want, rel float64) bool {
	return got == want || math.Abs(got-want) <= rel*math.Max(math.Abs(got), math.Abs(want))
}

func mustParse(t *testing.T, s string) dist.Dist {
	t.Helper()
	d, err := dist.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkDist runs the sample checks shared by every distribution test: the
// sample mean against both Mean and the closed form, and the sample quantiles
// against both Quantile and the closed form.
func checkDist(t *testing.T, s string, mean float64, q func(p float64) float64) {
	t.Helper()
	d := mustParse(t, s)
	if got := d.Mean(); !near(got, mean, 1e-9) {
		t.Errorf("Mean() = %.12g, want %.12g", got, mean)
	}
	checkClosedForm(t, d, q)
	xs := draw(d)
	if xs[0] < 0 {
		t.Errorf("negative sample %v", xs[0])
	}
	checkMean(t, xs, d.Mean())
	checkQuantiles(t, "Quantile", xs, d.Quantile)
	checkQuantiles(t, "formula", xs, q)
}

// z is the standard normal quantile.
func z(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

func TestConstant(t *testing.T) {
	checkDist(t, "10ms", 1e7, func(float64) float64 { return 1e7 })
}

func TestExp(t *testing.T) {
	const mean = 10e6
	checkDist(t, "exp(10ms)", mean, func(p float64) float64 { return -mean * math.Log(1-p) })
}

func TestUniform(t *testing.T) {
	const lo, hi = 5e6, 15e6
	checkDist(t, "uniform(5ms, 15ms)", (lo+hi)/2, func(p float64) float64 { return lo + p*(hi-lo) })
}

func TestNormal(t *testing.T) {
	t.Run("untruncated", func(t *testing.T) {
		// At five standard deviations the truncation is below 1e-6 of the mass.
		const mu, sigma = 10e6, 2e6
		d := mustParse(t, "normal(10ms, 2ms)")
		for p, zp := range map[float64]float64{0.5: 0, 0.9: 1.2815515655446004, 0.99: 2.3263478740408408} {
			if got, want := d.Quantile(p), mu+sigma*zp; !near(got, want, 1e-6) {
				t.Errorf("Quantile(%g) = %.9g, want %.9g", p, got, want)
			}
		}
		if got := d.Mean(); !near(got, mu, 1e-6) {
			t.Errorf("Mean() = %v, want %v", got, mu)
		}
		xs := draw(d)
		checkMean(t, xs, d.Mean())
		checkQuantiles(t, "Quantile", xs, d.Quantile)
		checkQuantiles(t, "formula", xs, func(p float64) float64 { return mu + sigma*z(p) })
	})
	t.Run("truncated", func(t *testing.T) {
		const mu, sigma = 1e6, 2e6
		a := -mu / sigma
		phi := math.Exp(-a*a/2) / math.Sqrt(2*math.Pi)
		cdfA := (1 + math.Erf(a/math.Sqrt2)) / 2
		mean := mu + sigma*phi/(1-cdfA)
		checkDist(t, "normal(1ms, 2ms)", mean, func(p float64) float64 {
			return max(mu+sigma*z(cdfA+p*(1-cdfA)), 0) // rounding can dip below the support at p = 0
		})
	})
}

func TestLognormal(t *testing.T) {
	const median, p99 = 10e6, 80e6
	sigma := math.Log(p99/median) / 2.3263478740408408
	d := mustParse(t, "lognormal(10ms, 80ms)")
	if got := d.Quantile(0.5); !near(got, median, 1e-12) {
		t.Errorf("Quantile(0.5) = %v, want the median %v", got, median)
	}
	if got := d.Quantile(0.99); !near(got, p99, 1e-12) {
		t.Errorf("Quantile(0.99) = %v, want the given p99 %v", got, p99)
	}
	checkDist(t, "lognormal(10ms, 80ms)", median*math.Exp(sigma*sigma/2), func(p float64) float64 {
		return median * math.Exp(sigma*z(p))
	})
}

func TestPareto(t *testing.T) {
	const xm, alpha = 235e3, 10.0
	checkDist(t, "pareto(235us, 10)", alpha*xm/(alpha-1), func(p float64) float64 {
		return xm * math.Pow(1-p, -1/alpha)
	})
	if m := mustParse(t, "pareto(235us, 1)").Mean(); !math.IsInf(m, 1) {
		t.Errorf("pareto with shape 1 has Mean %v, want +Inf", m)
	}
}

func TestWeibull(t *testing.T) {
	const lambda, shape = 10e6, 1.5
	checkDist(t, "weibull(10ms, 1.5)", lambda*math.Gamma(1+1/shape), func(p float64) float64 {
		return lambda * math.Pow(-math.Log(1-p), 1/shape)
	})
}

func TestPercentiles(t *testing.T) {
	d := mustParse(t, "percentiles(p50=8ms, p90=20ms, p99=90ms, p999=300ms)")
	points := []struct{ p, x float64 }{{0.5, 8e6}, {0.9, 20e6}, {0.99, 90e6}, {0.999, 300e6}}
	xs := draw(d)
	for _, pt := range points {
		if got := d.Quantile(pt.p); !near(got, pt.x, 1e-12) {
			t.Errorf("Quantile(%g) = %v, want %v", pt.p, got, pt.x)
		}
		if got := xs[int(pt.p*n)]; !near(got, pt.x, 0.01) {
			t.Errorf("sample p%g = %v, want %v within 1%%", pt.p*100, got, pt.x)
		}
	}
	checkMean(t, xs, d.Mean())
	checkQuantiles(t, "Quantile", xs, d.Quantile)

	// Beyond p999 the tail is exponential: each further factor of 10 in
	// 1-p adds the same 210ms it took to go from p99 to p999.
	if got, want := d.Quantile(0.9999), 510e6; !near(got, want, 1e-9) {
		t.Errorf("tail Quantile(0.9999) = %v, want %v", got, want)
	}
	// With one point, the inverse CDF is linear from 0 up to it and the
	// exponential through it beyond.
	const x99 = 90e6
	tail := x99 / math.Log(100)
	one := mustParse(t, "percentiles(p99=90ms)")
	checkDist(t, "percentiles(p99=90ms)", 0.99*x99/2+0.01*(x99+tail), func(p float64) float64 {
		if p <= 0.99 {
			return p / 0.99 * x99
		}
		return x99 * math.Log(1/(1-p)) / math.Log(100)
	})
	if got := one.Quantile(1); !math.IsInf(got, 1) {
		t.Errorf("uncapped Quantile(1) = %v, want +Inf", got)
	}
	// p0 and p100 bound the support.
	checkDist(t, "percentiles(p0=2ms, p100=4ms)", 3e6, func(p float64) float64 { return 2e6 + p*2e6 })
}

func TestMix(t *testing.T) {
	const xm, alpha, w = 235e3, 10.0, 0.9
	const expMean = 600e3
	cdf := func(x float64) float64 {
		pareto := 0.0
		if x >= xm {
			pareto = 1 - math.Pow(xm/x, alpha)
		}
		return w*pareto + (1-w)*(1-math.Exp(-x/expMean))
	}
	s := "mix(0.9 pareto(235us, 10), 0.1 exp(600us))"
	d := mustParse(t, s)
	mean := w*alpha*xm/(alpha-1) + (1-w)*expMean
	if got := d.Mean(); !near(got, mean, 1e-12) {
		t.Errorf("Mean() = %v, want %v", got, mean)
	}
	for _, p := range []float64{0.01, 0.5, 0.9, 0.99, 0.999} {
		if got := cdf(d.Quantile(p)); math.Abs(got-p) > 1e-12 {
			t.Errorf("CDF(Quantile(%g)) = %v", p, got)
		}
	}
	xs := draw(d)
	checkMean(t, xs, mean)
	checkQuantiles(t, "Quantile", xs, d.Quantile)
	// The empirical CDF at the formula's quantiles is an independent check.
	for _, p := range []float64{0.5, 0.9, 0.99} {
		x := d.Quantile(p)
		frac := float64(sort.Search(n, func(i int) bool { return xs[i] > x })) / n
		if delta := k * math.Sqrt(p*(1-p)/n); math.Abs(frac-cdf(x)) > delta {
			t.Errorf("fraction of samples <= %v is %v, want %v within %v", x, frac, cdf(x), delta)
		}
	}
}

// TestSamples checks that samples(...) draws exactly the values given, each
// equally often, and never between two clusters, where percentiles(...)
// would interpolate.
func TestSamples(t *testing.T) {
	// Two clusters, as a recording with a cache hit and a miss shows.
	values := []float64{1.1e6, 1.2e6, 1.2e6, 1.3e6, 1.5e6, 40e6, 42e6, 45e6}
	d := mustParse(t, "samples(1.1ms, 1.2ms, 1.2ms, 1.3ms, 1.5ms, 40ms, 42ms, 45ms)")
	mean := 0.0
	for _, v := range values {
		mean += v / float64(len(values))
	}
	if got := d.Mean(); !near(got, mean, 1e-12) {
		t.Errorf("Mean() = %v, want %v", got, mean)
	}
	// The quantile is the empirical one: the smallest value whose share
	// of the samples at or below it reaches p.
	for _, tt := range []struct{ p, want float64 }{{0, 1.1e6}, {0.125, 1.1e6}, {0.13, 1.2e6}, {0.5, 1.3e6}, {0.6, 1.5e6}, {0.63, 40e6}, {0.99, 45e6}, {1, 45e6}} {
		if got := d.Quantile(tt.p); got != tt.want {
			t.Errorf("Quantile(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	xs := draw(d)
	checkMean(t, xs, mean)
	counts := map[float64]int{}
	for _, x := range xs {
		counts[x]++
	}
	for v, c := range counts {
		want := 0
		for _, u := range values {
			if u == v {
				want++
			}
		}
		if want == 0 {
			t.Errorf("drew %v, which is not a sample", v)
			continue
		}
		// Each value is drawn with probability want/len(values).
		p := float64(want) / float64(len(values))
		if se := math.Sqrt(p * (1 - p) / n); math.Abs(float64(c)/n-p) > k*se {
			t.Errorf("drew %v a share %v of the time, want %v within %v", v, float64(c)/n, p, k*se)
		}
	}
}

// TestHistogram checks that histogram(...) draws each bin in proportion to
// its count, uniformly within it, and nothing in the gaps between bins.
func TestHistogram(t *testing.T) {
	d := mustParse(t, "histogram(1ms..2ms: 30, 2ms..5ms: 10, 30ms..50ms: 10)")
	// The CDF rises linearly across each bin and stays flat over the gap.
	q := func(p float64) float64 {
		switch v := p * 50; {
		case v <= 30:
			return 1e6 + v/30*1e6
		case v <= 40:
			return 2e6 + (v-30)/10*3e6
		default:
			return 30e6 + (v-40)/10*20e6
		}
	}
	checkDist(t, "histogram(1ms..2ms: 30, 2ms..5ms: 10, 30ms..50ms: 10)", (30*1.5e6+10*3.5e6+10*40e6)/50, q)
	for _, x := range draw(d) {
		if x < 1e6 || x > 5e6 && x < 30e6 || x > 50e6 {
			t.Fatalf("drew %v, outside every bin", x)
		}
	}
	// A mixture inverts the CDF numerically; it must land on the same
	// quantiles, which checks the histogram's CDF.
	m := mustParse(t, "mix(1 histogram(1ms..2ms: 30, 2ms..5ms: 10, 30ms..50ms: 10))")
	for _, p := range []float64{0.1, 0.5, 0.7, 0.9} {
		if got, want := m.Quantile(p), q(p); !near(got, want, 1e-9) {
			t.Errorf("mix Quantile(%v) = %v, want %v", p, got, want)
		}
	}
}

// TestParseFiles checks the file forms, samples("name") and
// histogram("name"): items separated by commas or white space, with #
// comments, and errors at the file's line and column.
func TestParseFiles(t *testing.T) {
	files := map[string]string{
		"lat.txt":   "# currencyservice, recorded\n1.2ms 1.3ms\n40ms, 1.1ms # a miss\n\n",
		"bins.txt":  "1ms..2ms: 3\n30ms..50ms: 1, # tail\n",
		"bad.txt":   "1ms\n2ms 3xs\n",
		"badh.txt":  "1ms..2ms: 3\n  1ms..3ms: 1\n",
		"empty.txt": "# nothing yet\n",
	}
	read := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, fmt.Errorf("open %s: no such file", name)
	}
	for _, tt := range []struct{ in, want string }{
		{`samples("lat.txt")`, "samples(1.1ms, 1.2ms, 1.3ms, 40ms)"},
		{`histogram( "bins.txt" )`, "histogram(1ms..2ms: 3, 30ms..50ms: 1)"},
	} {
		d, err := dist.ParseFiles(tt.in, read)
		if err != nil {
			t.Errorf("ParseFiles(%q): %v", tt.in, err)
			continue
		}
		if got := d.String(); got != strings.TrimSpace(strings.ReplaceAll(tt.in, " ", "")) {
			t.Errorf("ParseFiles(%q).String() = %q, want the file form kept", tt.in, got)
		}
		if inline := mustParse(t, tt.want); d.Mean() != inline.Mean() || d.Quantile(0.6) != inline.Quantile(0.6) {
			t.Errorf("ParseFiles(%q) differs from %s", tt.in, tt.want)
		}
	}
	for _, tt := range []struct {
		in     string
		offset int
		msg    string
	}{
		{`samples("bad.txt")`, 8, `bad.txt:2:5: "3xs" is not a duration`},
		{`histogram("badh.txt")`, 10, "badh.txt:2:3: bin 1ms..3ms overlaps 1ms..2ms"},
		{`samples("empty.txt")`, 8, `"empty.txt" holds no samples`},
		{`histogram("lat.txt")`, 10, `lat.txt:2:1: expected a bin lo..hi: count`},
		{`samples("none.txt")`, 8, `samples("none.txt"): open none.txt: no such file`},
	} {
		_, err := dist.ParseFiles(tt.in, read)
		var se *dist.SyntaxError
		if !errors.As(err, &se) || se.Offset != tt.offset || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("ParseFiles(%q) error = %v, want at %d: %q", tt.in, err, tt.offset, tt.msg)
		}
	}
}

func TestQuantileEnds(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		s      string
		q0, q1 float64
	}{
		{"10ms", 1e7, 1e7},
		{"exp(1ms)", 0, inf},
		{"uniform(1ms, 2ms)", 1e6, 2e6},
		{"normal(1ms, 1ms)", 0, inf},
		{"lognormal(1ms, 1ms)", 1e6, 1e6},
		{"lognormal(1ms, 2ms)", 0, inf},
		{"pareto(1ms, 2)", 1e6, inf},
		{"weibull(1ms, 2)", 0, inf},
		{"percentiles(p0=1ms, p100=2ms)", 1e6, 2e6},
		{"mix(0.5 uniform(1ms, 2ms), 0.5 uniform(3ms, 4ms))", 1e6, 4e6},
		{"mix(0.5 1ms, 0.5 exp(1ms))", 0, inf},
	}
	for _, tt := range tests {
		d := mustParse(t, tt.s)
		if q0, q1 := d.Quantile(0), d.Quantile(1); q0 != tt.q0 || q1 != tt.q1 {
			t.Errorf("%s: Quantile(0), Quantile(1) = %v, %v; want %v, %v", tt.s, q0, q1, tt.q0, tt.q1)
		}
		if q := d.Quantile(math.NaN()); !math.IsNaN(q) {
			t.Errorf("%s: Quantile(NaN) = %v", tt.s, q)
		}
	}
}

func TestSampleClamps(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range []string{"pareto(1ms, 0.01)", "2562047h47m16.854775807s", "lognormal(1h, 1000000h)"} {
		d := mustParse(t, s)
		for range 1000 {
			if v := d.Sample(r); v < 0 || v >= 1<<62 {
				t.Fatalf("%s: sample %d outside [0, 1<<62)", s, v)
			}
		}
	}
}

func TestSampleDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range []string{
		"10ms",
		"exp(10ms)",
		"uniform(5ms, 15ms)",
		"normal(1ms, 2ms)",
		"lognormal(10ms, 80ms)",
		"pareto(235us, 10)",
		"weibull(10ms, 1.5)",
		"percentiles(p50=8ms, p90=20ms, p99=90ms, p999=300ms)",
		"mix(0.9 pareto(235us, 10), 0.05 exp(600us), 0.05 mix(0.5 1ms, 0.5 percentiles(p99=1s)))",
		"samples(1ms, 2ms, 40ms)",
		"histogram(1ms..2ms: 30, 30ms..50ms: 10)",
		"markov(fast: lognormal(5ms, 20ms) for 30s, slow: samples(80ms, 400ms) for 2s)",
	} {
		d := mustParse(t, s)
		var sink int64
		if allocs := testing.AllocsPerRun(1000, func() { sink += d.Sample(r) }); allocs != 0 {
			t.Errorf("%s: Sample allocates %v times per call", s, allocs)
		}
		var g dist.Regime
		now := int64(0)
		if allocs := testing.AllocsPerRun(1000, func() { now += 1e8; sink += d.SampleAt(r, now, &g) }); allocs != 0 {
			t.Errorf("%s: SampleAt allocates %v times per call", s, allocs)
		}
	}
}

func ExampleParse() {
	d, err := dist.Parse("mix(0.9 pareto(235us, 10), 0.1 exp(600us))")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d)
	fmt.Println("mean", time.Duration(d.Mean()).Round(time.Microsecond))
	r := rand.New(rand.NewPCG(1, 2))
	for range 3 {
		fmt.Println(time.Duration(d.Sample(r)))
	}

	_, err = dist.Parse("lognormal(10ms)")
	fmt.Println(err)
	// Output:
	// mix(0.9 pareto(235us, 10), 0.1 exp(600us))
	// mean 295µs
	// 250µs
	// 248.579µs
	// 246.842µs
	// offset 14: lognormal takes (median, p99); missing p99
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"10ms", "exp(10ms)", "uniform(5ms, 15ms)", "normal(10ms, 2ms)", "lognormal(10ms, 80ms)",
		"pareto(235us, 10)", "weibull(10ms, 1.5)",
		"percentiles(p50=8ms, p90=20ms, p99=90ms, p999=300ms)", "percentiles(p0=1ms, p05=2ms, p100=3ms)",
		"mix(0.9 pareto(235us, 10), 0.1 exp(600us))", "mix(0.5 mix(0.5 1ms, 0.5 2ms), 0.5 percentiles(p99=1s))",
		"expo(1ms)", "exp(10ms", "mix(1 ", "percentiles(p5=1ms)",
		"samples(1.2ms, 1.3ms, 40ms)", "histogram(1ms..2ms: 40, 30ms..50ms: 10)", `samples("lat.txt")`,
		"markov(fast: lognormal(5ms, 20ms) for 30s, slow: lognormal(80ms, 400ms) for 2s)",
		"markov(a: 1ms for 1s, b: mix(0.5 samples(1ms), 0.5 exp(2ms)) for 5ms, c: 0s for 1ns)",
		"histogram(1ms..2ms: 1, 1ms..3ms: 1)", "markov(a: 1ms for 1s)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := dist.Parse(s)
		if err != nil {
			var se *dist.SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(s) {
				t.Fatalf("Parse(%q): bad error %#v", s, err)
			}
			return
		}
		canon := d.String()
		again, err := dist.Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse: %v", s, canon, err)
		}
		if got := again.String(); got != canon {
			t.Fatalf("Parse(%q) = %q, which parses to %q", s, canon, got)
		}
		if again.Mean() != d.Mean() || again.Quantile(0.9) != d.Quantile(0.9) {
			t.Fatalf("Parse(%q) and its canonical form %q differ", s, canon)
		}
		r := rand.New(rand.NewPCG(1, 2))
		var g dist.Regime
		for i := range 10 {
			if v := d.Sample(r); v < 0 || v >= 1<<62 {
				t.Fatalf("%s: sample %d outside [0, 1<<62)", canon, v)
			}
			if v := d.SampleAt(r, int64(i)<<58, &g); v < 0 || v >= 1<<62 {
				t.Fatalf("%s: sample %d outside [0, 1<<62)", canon, v)
			}
		}
		if m := d.Mean(); !(m >= 0) {
			t.Fatalf("%s: Mean() = %v", canon, m)
		}
		prev := 0.0
		for _, p := range []float64{0, 0.5, 0.99, 1} {
			q := d.Quantile(p)
			if !(q >= prev) {
				t.Fatalf("%s: Quantile(%v) = %v, below %v", canon, p, q, prev)
			}
			prev = q
		}
	})
}
