package importer

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/faultline/faultline/sim/metrics"
)

// Confidence of an observed quantile. A quantile read from n spans is one
// draw: another minute of the same system gives another. Its
// distribution-free interval takes two order statistics of the spans, the
// ranks chosen from the binomial distribution of how many of n values fall
// below the true quantile, so that no shape is assumed (Hahn and Meeker,
// Statistical Intervals, 1991, as R's confintr::ci_quantile computes it,
// type "binomial", probs 0.025 and 0.975; GAIL's quantileCI takes the same
// ranks: lower X(binoinv(alpha/2)), upper X(binoinv(1-alpha/2)+1)). With
// few spans an upper bound of a high quantile does not exist: a p99 needs
// 368 spans before even the slowest one bounds it at 95 %.

// QuantileConfidence is the coverage of the intervals the import reports.
const QuantileConfidence = 0.95

// Interval is a confidence interval of an observed quantile. High is
// negative when the spans are too few to bound the quantile from above
// (the true one may lie beyond the slowest span); Low is 0 when they are
// too few to bound it from below.
type Interval struct {
	Low, High time.Duration
}

// Contains says whether d lies in the interval.
func (iv Interval) Contains(d time.Duration) bool {
	return d >= iv.Low && (iv.High < 0 || d <= iv.High)
}

// quantileRanks returns the 1-based ranks of the order statistics that
// bound the q-quantile of n values with coverage at least conf: lo is the
// smallest k with P(B <= k) >= (1-conf)/2, B ~ Binomial(n, q), 0 when that
// is k = 0 (no value bounds it below); hi is one more than the smallest k
// with P(B <= k) >= 1-(1-conf)/2, n+1 when that passes the largest value.
// P(X(lo) <= x_q <= X(hi)) >= P(lo <= B <= hi-1) >= conf.
func quantileRanks(n int64, q, conf float64) (lo, hi int64) {
	a := (1 - conf) / 2
	lo, hi = -1, -1
	var cdf float64
	lq, lp := math.Log(q), math.Log1p(-q)
	ln1, _ := math.Lgamma(float64(n) + 1)
	for k := int64(0); k <= n; k++ {
		lk, _ := math.Lgamma(float64(k) + 1)
		lnk, _ := math.Lgamma(float64(n-k) + 1)
		cdf += math.Exp(ln1 - lk - lnk + float64(k)*lq + float64(n-k)*lp)
		if lo < 0 && cdf >= a {
			lo = k
		}
		if cdf >= 1-a {
			return lo, k + 1
		}
	}
	// Rounding left the sum a hair under 1 - a: the last value is n.
	return max(lo, 0), n + 1
}

// effectiveCount is how many independent spans n spans are worth for a
// quantile q: spans close in time are alike (a slow episode makes several
// requests slow), so the share of them above the quantile varies more
// from one minute to the next than independent draws would. It is
// n / (1 + 2 sum (1 - k/n) r_k), r_k the autocorrelation at lag k of the
// indicator "above the q-quantile" in start order, summed from lag 1 up to
// the first lag under 0.1 or 10 log10 n lags (the effective sample size
// of a correlated series, Bayley and Hammersley 1946, as PEcAnRTM's neff
// computes it from R's acf: rdrr.io/github/ashiklom/PEcAnRTM/src/R/neff.R).
// s is sorted in place; it may hold fewer spans than n (the first read).
func effectiveCount(n int64, s []sample, threshold int64) float64 {
	m := len(s)
	if m < 3 {
		return float64(n)
	}
	slices.SortFunc(s, func(x, y sample) int { return cmp.Compare(x.at, y.at) })
	var mean float64
	for _, x := range s {
		if x.v > threshold {
			mean++
		}
	}
	mean /= float64(m)
	dev := func(i int) float64 {
		if s[i].v > threshold {
			return 1 - mean
		}
		return -mean
	}
	c0 := mean * (1 - mean)
	if c0 == 0 {
		return float64(n)
	}
	tau := 1.0
	for k := 1; k <= int(10*math.Log10(float64(m))) && k < m; k++ {
		var c float64
		for i := 0; i+k < m; i++ {
			c += dev(i) * dev(i+k)
		}
		r := c / float64(m) / c0
		if r < 0.1 {
			break
		}
		tau += 2 * (1 - float64(k)/float64(m)) * r
	}
	return float64(n) / tau
}

// quantileInterval is the interval of the q-quantile of the values h
// holds (to its bucket resolution), s the same values with their starts
// (or the first of them): the ranks are those of the effective count of
// spans (effectiveCount), read as shares of the spans.
func quantileInterval(h *metrics.Histogram, s []sample, q float64) Interval {
	n := int64(h.Count())
	if n == 0 {
		return Interval{High: -1}
	}
	ne := effectiveCount(n, s, h.Quantile(q))
	k := max(int64(math.Round(ne)), 1)
	lo, hi := quantileRanks(k, q, QuantileConfidence)
	iv := Interval{High: -1}
	// Quantile(p) is the value of rank ceil(p n): (r - 0.5) / k is rank
	// r of k.
	if lo > 0 {
		iv.Low = time.Duration(h.Quantile((float64(lo) - 0.5) / float64(k)))
	}
	if hi <= k {
		iv.High = time.Duration(h.Quantile((float64(hi) - 0.5) / float64(k)))
	}
	return iv
}
