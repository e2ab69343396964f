package importer

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/faultline/faultline/sim/metrics"
)

// The shape of what was observed, beyond its percentiles: a distribution
// with two clusters and an empty middle, and slowness that comes in
// episodes. Each is written only where the traces show it (scenarios.md,
// "Import rules").

// A time series of one operation's own times, or of the round trips of the
// calls to one service, is kept for the episodes: at most maxSeries points,
// the first read, so that memory stays bounded however long the files.
const maxSeries = 1 << 16

// sample is one observation: when it started, its value, the instance (of
// the operation's service, or the callee's) that it belongs to, and which
// of the series pooled it came from (src).
type sample struct {
	at, v     int64
	inst, src int32
}

func appendSample(s []sample, x sample) []sample {
	if len(s) >= maxSeries {
		return s
	}
	return append(s, x)
}

// Multi-modal distributions. percentiles(...) runs straight from one
// percentile to the next, so between a cluster of fast values and one of
// slow values it draws values nobody saw (Online Boutique's currency
// convert: 91 % under 4 ms and 4 % near 80 ms, where percentiles drew 9 %
// spread from 2 to 83 ms). A histogram draws nothing in an empty bin.
const (
	// A second mode needs this share of the values and at least
	// minModeCount of them, and a valley before it of at most
	// 1/valleyRatio of its own count, on octave bins.
	minModeShare = 0.02
	minModeCount = 5
	valleyRatio  = 4
	// binsPerOctave is the histogram's resolution: bins 19 % wide.
	binsPerOctave = 4
)

// octaveCounts counts h's values in bins from its minimum up, each
// 2^(1/perOctave) times as wide as the one before, and returns the bins'
// bounds (len(counts) + 1 of them), rounded to 3 significant digits so
// that they read well: a bin holds the values in (lower, upper].
func octaveCounts(h *metrics.Histogram, perOctave int) (counts []uint64, bounds []int64) {
	lo := max(h.Min(), 1)
	bounds = []int64{roundDown3(lo - 1)}
	for b := float64(lo); ; {
		b *= math.Pow(2, 1/float64(perOctave))
		hi := roundUp3(min(int64(math.Ceil(b)), h.Max()))
		if hi <= bounds[len(bounds)-1] {
			continue
		}
		counts = append(counts, h.CountAbove(bounds[len(bounds)-1])-h.CountAbove(hi))
		bounds = append(bounds, hi)
		if hi >= h.Max() {
			return counts, bounds
		}
	}
}

// roundUp3 and roundDown3 round n to 3 significant digits, up or down.
func roundUp3(n int64) int64 {
	p := sigStep(n)
	return (n + p - 1) / p * p
}

func roundDown3(n int64) int64 {
	p := sigStep(n)
	return n / p * p
}

// sigStep is the unit of n's third significant digit.
func sigStep(n int64) int64 {
	p := int64(1)
	for n >= 1000*p {
		p *= 10
	}
	return p
}

// multimodal tells whether h has a second cluster: on octave bins, a local
// peak other than the highest bin, holding at least minModeShare of the
// values and minModeCount, with a bin between the two whose count is at
// most a 1/valleyRatio of that peak's. A long tail that thins out has no
// second peak, and a shoulder no valley, so neither counts.
func multimodal(h *metrics.Histogram) bool {
	if h.Count() < 2*minModeCount || h.Max() <= 2*max(h.Min(), 1) {
		return false
	}
	c, _ := octaveCounts(h, 1)
	top := 0
	for i := range c {
		if c[i] > c[top] {
			top = i
		}
	}
	need := max(uint64(minModeCount), uint64(math.Ceil(minModeShare*float64(h.Count()))))
	for q := range c {
		if q == top || c[q] < need || (q > 0 && c[q-1] > c[q]) || (q+1 < len(c) && c[q+1] > c[q]) {
			continue
		}
		lo, hi := min(q, top), max(q, top)
		for v := lo + 1; v < hi; v++ {
			if c[v]*valleyRatio <= c[q] {
				return true
			}
		}
	}
	return false
}

// histogramDist writes h as a histogram(...) distribution on bins
// binsPerOctave to the octave, leaving out the empty ones.
func histogramDist(h *metrics.Histogram) string {
	c, b := octaveCounts(h, binsPerOctave)
	var parts []string
	for i, n := range c {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s..%s: %d", fmtNsExact(b[i]), fmtNsExact(b[i+1]), n))
		}
	}
	return "histogram(" + strings.Join(parts, ", ") + ")"
}

// multimodalComment says why a distribution is a histogram.
const multimodalComment = "its values fall in separate clusters (a second peak beyond a valley): written as histogram(...), which draws nothing between them, where percentiles(...) would"

// fmtNsExact writes nanoseconds as a duration that parses back to the same
// value (time.ParseDuration reads decimal fractions exactly), so that
// adjacent bins share a bound exactly.
func fmtNsExact(ns int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"ms", 1e6}, {"us", 1e3}} {
		if ns >= u.size {
			frac := strings.TrimRight(fmt.Sprintf("%0*d", len(strconv.FormatInt(u.size, 10))-1, ns%u.size), "0")
			if frac != "" {
				frac = "." + frac
			}
			return fmt.Sprintf("%d%s%s", ns/u.size, frac, u.name)
		}
	}
	return fmt.Sprintf("%dns", ns)
}

// Where the values bend. percentiles(...) draws straight from one point
// written to the next, and the fixed points (p90, p99) may lie on either
// side of a bend: Online Boutique's round trips from recommendationservice
// to list-products were 2.3 ms at p90, 2.7 ms at p95, 4.1 ms at p96, 14 ms
// at p97 and 41 ms at p99, and a straight line from p90 to p99 drew 9 % of
// them spread evenly from 2.3 to 41 ms, where two thirds of those lay under
// 3 ms; its operation, which adds its own time, that round trip and
// list-products' time (bent the same way), came out at p90 23 ms against
// the 7.8 ms observed, though the sum of the three drawn independently
// from the values recorded gives 7.8 ms. So the line is refined where it
// strays: while some value observed (at its quantile) lies farther than
// bendTolerance, by ratio, from the line through the points around it,
// the one that strays the most becomes a point too, and so on (the
// top-down polygonal approximation of U. Ramer, "An iterative procedure
// for the polygonal approximation of plane curves", Computer Graphics and
// Image Processing 1(3), 1972, and D. H. Douglas and T. K. Peucker,
// Cartographica 10(2), 1973, with the distance measured in value at the
// same quantile), up to maxBends points added.
const (
	// maxBends is the most points bend adds: a handful place a bend's
	// corners; more would write the values one by one.
	maxBends = 12
	// bendCandidates is the most quantiles tried: each value's own rank
	// up to this many values, else this many evenly spaced quantiles.
	bendCandidates = 1024
)

// bendTolerance is a quarter octave, the width of histogramDist's bins, as
// a ratio: values within it of the line are drawn as closely as a
// histogram of the same values would draw them.
var bendTolerance = math.Pow(2, 1/float64(binsPerOctave))

// knot is a point of percentiles(...): the quantile q (as its key writes
// it: keyQuantile), the value there and its rank r among the values.
type knot struct {
	q float64
	v int64
	r uint64
}

// keyQuantile rounds q to the 6 decimals a key holds.
func keyQuantile(q float64) float64 { return math.Round(q*1e6) / 1e6 }

// key writes k's quantile as a percentiles key: its decimals, at least
// two (p5 would be ambiguous), p0 and p100 at the ends.
func (k knot) key() string {
	switch k.q {
	case 0:
		return "p0"
	case 1:
		return "p100"
	}
	d := strings.TrimRight(strings.TrimPrefix(strconv.FormatFloat(k.q, 'f', 6, 64), "0."), "0")
	if len(d) < 2 {
		d += "0"
	}
	return "p" + d
}

// bend adds to ks, points of h in increasing quantile from p0 to p100,
// the quantiles of h where the straight lines between them stray farthest
// from its values, while some strays by more than bendTolerance (by
// ratio) and at most maxBends. A value strays when the line passes outside the step of
// the empirical quantile function there, from its own value to the next
// rank's (read at rank r of n, the function jumps to the next value just
// after r/n, and a line through the jump follows it). A point added
// leaves at least minModeCount ranks to the points on either side of it,
// so that the values on each side show the line straying rather than one
// value's place among its neighbours (near p99 a sample's next value may
// be far: a bend there would draw the run's p99 on one side of the gap or
// the other, as chance puts it).
func bend(h *metrics.Histogram, ks []knot) []knot {
	n := h.Count()
	m := min(n, bendCandidates)
	type cand struct {
		knot
		next int64 // the value of the next rank
	}
	cands := make([]cand, 0, m)
	at := func(r uint64) int64 { return h.Quantile((float64(r) - 0.5) / float64(n)) }
	for i := uint64(1); i < m; i++ {
		q := keyQuantile(float64(i) / float64(m))
		r := uint64(math.Round(q * float64(n)))
		cands = append(cands, cand{knot{q: q, v: at(r), r: r}, at(r + 1)})
	}
	for range maxBends {
		worst, best := bendTolerance, -1
		seg := 0
		for i, c := range cands {
			for seg+1 < len(ks) && ks[seg+1].q <= c.q {
				seg++
			}
			a, b := ks[seg], ks[min(seg+1, len(ks)-1)]
			if c.q <= a.q || c.q >= b.q || c.r < a.r+minModeCount || c.r+minModeCount > b.r {
				continue
			}
			line := float64(a.v) + float64(b.v-a.v)*(c.q-a.q)/(b.q-a.q)
			d := 1.0 // the ratio of the line to the step, or of the step to the line
			switch lo, hi := float64(c.v), float64(c.next); {
			case line < lo:
				d = lo / max(line, 1)
			case line > hi:
				d = line / max(hi, 1)
			}
			if d > worst {
				worst, best = d, i
			}
		}
		if best < 0 {
			break
		}
		c := cands[best].knot
		i, _ := slices.BinarySearchFunc(ks, c.q, func(k knot, q float64) int { return cmp.Compare(k.q, q) })
		ks = slices.Insert(ks, i, c)
	}
	return ks
}

// Slowness in episodes: in a real service a slow call makes the next one
// likely slow (a GC pause, a noisy neighbour, a queue behind a stalled
// event loop). Drawn independently, the calls of one request are slow one
// by one, and a page that makes ten of them is slower at the median and
// less spread at p99 than observed. Read in time order per instance, a
// series whose slow and fast values come in runs is written as
// markov(fast: ... for T1, slow: ... for T2), which switches in time as
// the runs did (scenarios.md, "Slowness in episodes").
const (
	// minSeries is the fewest values a series needs to be tested.
	minSeries = 100
	// minBurstCorrelation is the least lag-1 correlation of the slow/fast
	// indicator, P(slow | slow) - P(slow | fast), that counts as
	// episodes; it must also be 4 standard errors (4/sqrt(n)) above 0.
	// For a two-state Markov chain that difference is the second
	// eigenvalue of its transition matrix and its lag-1 autocorrelation,
	// the lag-k one its k-th power (A. M. Sabatini, "Why memory matters: a
	// tale of two Markov chains",
	// https://amsabatini.netlify.app/posts/markov_chain_acf/).
	minBurstCorrelation = 0.4
	// minRuns is the fewest complete slow episodes needed to estimate
	// their mean length.
	minRuns = 5
)

// burstQuantiles are the thresholds tried: slow is above the p50, p55, ...
// or p95 of the values. The indicator of a two-state series correlates the
// most when the threshold parts the states, at the slow state's share.
var burstQuantiles = []float64{0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95}

// bursts is what a series shows of its episodes.
type bursts struct {
	q                float64 // slow: a value above this quantile of the series' values, rescaled
	afterSlow        float64 // P(slow | the previous was slow)
	afterFast        float64 // P(slow | the previous was fast)
	fastFor, slowFor float64 // mean episode lengths, ns
	n                int
	th               int64  // the threshold, rescaled: in units of a source's scale
	levels           levels // more than two levels, when the series shows them
}

// findBursts tests a series for episodes. It sorts s by instance, then
// time. A value is slow when it is above a quantile of the series' values,
// each in units of its own source's scale (rescaled); the quantile tried
// is the one whose indicator correlates the most. The episodes' lengths
// are the mean time from the first value of a run to the first of the
// next, over runs with both ends in the series.
func findBursts(s []sample) (bursts, bool) {
	if len(s) < minSeries {
		return bursts{}, false
	}
	slices.SortFunc(s, func(x, y sample) int { return cmp.Or(cmp.Compare(x.inst, y.inst), cmp.Compare(x.at, y.at)) })
	s = rescaled(s)
	sorted := make([]int64, len(s))
	for i, x := range s {
		sorted[i] = x.v
	}
	slices.Sort(sorted)
	slow := make([]bool, len(s))
	var best bursts
	var bestSlow []bool
	bestR := -1.0
	for _, q := range burstQuantiles {
		for i, x := range s {
			slow[i] = x.v > quantileOf(sorted, q)
		}
		var n [2][2]float64 // [previous slow][this slow]
		for i := 1; i < len(s); i++ {
			if s[i].inst == s[i-1].inst {
				n[b2i(slow[i-1])][b2i(slow[i])]++
			}
		}
		if n[1][0]+n[1][1] == 0 || n[0][0]+n[0][1] == 0 {
			continue
		}
		b := bursts{q: q, afterSlow: n[1][1] / (n[1][0] + n[1][1]), afterFast: n[0][1] / (n[0][0] + n[0][1]), n: len(s)}
		if r := b.afterSlow - b.afterFast; r > bestR {
			best, bestR, bestSlow = b, r, slices.Clone(slow)
		}
	}
	if bestR < minBurstCorrelation || bestR < 4/math.Sqrt(float64(len(s))) {
		return bursts{}, false
	}
	var sum, runs [2]float64
	for i := 0; i < len(s); {
		j := i + 1
		for j < len(s) && s[j].inst == s[i].inst && bestSlow[j] == bestSlow[i] {
			j++
		}
		// A run [i, j) is complete when the one before it is in the
		// same instance and the one after it too.
		if i > 0 && s[i-1].inst == s[i].inst && j < len(s) && s[j].inst == s[i].inst {
			k := b2i(bestSlow[i])
			sum[k] += float64(s[j].at - s[i].at)
			runs[k]++
		}
		i = j
	}
	if runs[1] < minRuns || runs[0] < minRuns || sum[0] <= 0 || sum[1] <= 0 {
		return bursts{}, false
	}
	best.fastFor, best.slowFor = sum[0]/runs[0], sum[1]/runs[1]
	best.th = quantileOf(sorted, best.q)
	if l, ok := findLevels(s, sorted, best.q); ok {
		best.levels = l
	}
	return best, true
}

// Episodes on more than two levels: a service throttled by its CPU quota
// (CFS bandwidth control stalls a container for the rest of its 100 ms
// period once it has used its quota,
// https://docs.kernel.org/scheduler/sched-bwc.html) answers in a few
// milliseconds, or one, two, three periods later; a storm of the upper
// levels holds single lower values, and short stalls come alone. Two states
// cannot hold both: a slow run above one threshold ends at the first lower
// value. With K levels (slow above K-1 quantiles of the rescaled values)
// the chain of levels, its jumps counted run to run, keeps storms as
// returns between the upper levels.
const maxLevels = 4

// levels is a chain of more than two levels a series shows.
type levels struct {
	qs    []float64   // thresholds: level i is above the levelEdge at qs[i-1], at most the one at qs[i]
	edges []int64     // those levelEdges, rescaled: in units of a source's scale
	stay  []float64   // mean run length per level, ns: first value to the next run's first
	jump  [][]float64 // run-to-run transition shares, no self jumps
	gain  float64     // BIC gain over the best two levels, nats
}

// findLevels looks for more than two levels in s, sorted by instance and
// time. For each K from 2 to maxLevels and each choice of K-1 thresholds
// among burstQuantiles, it scores the chain of levels read one value
// after another by the Bayesian information criterion of a Markov chain
// against independent draws on the same levels: 2 ln LR - (K-1)^2 ln n,
// where (K-1)^2 is the parameters the chain adds (G. Schwarz, "Estimating
// the dimension of a model", Ann. Statist. 6(2), 1978; for the order of a
// Markov chain, R. W. Katz, Technometrics 23(3), 1981). More than two
// levels are kept when their best score passes the best two-level one, and
// every level has minRuns complete runs, so that its mean time and jumps
// are measured, and every level leads to every other.
func findLevels(s []sample, sorted []int64, q0 float64) (levels, bool) {
	// The two-state threshold's fast values stay one level; the slow side
	// is split at the quantiles of burstQuantiles from q0 up, each
	// threshold in the widest gap of the values (sorted) near the
	// quantile (levelEdge).
	var grid []float64
	for _, q := range burstQuantiles {
		if q >= q0 {
			grid = append(grid, q)
		}
	}
	var edges []int64
	for _, q := range grid {
		edges = append(edges, levelEdge(sorted, q))
	}
	n := len(s)
	lv := make([]int, n)
	// score is the BIC of the chain of levels at the thresholds grid[ix[0]],
	// grid[ix[1]], ..., leaving the levels in lv.
	score := func(ix []int) float64 {
		k := len(ix) + 1
		for i, x := range s {
			l := 0
			for l < len(ix) && x.v > edges[ix[l]] {
				l++
			}
			lv[i] = l
		}
		var pair [maxLevels][maxLevels]float64
		var from, to [maxLevels]float64
		var pairs float64
		for i := 1; i < n; i++ {
			if s[i].inst == s[i-1].inst {
				pair[lv[i-1]][lv[i]]++
				from[lv[i-1]]++
				to[lv[i]]++
				pairs++
			}
		}
		ll := 0.0
		for a := range k {
			for b := range k {
				if c := pair[a][b]; c > 0 {
					ll += c * (math.Log(c/from[a]) - math.Log(to[b]/pairs))
				}
			}
		}
		return 2*ll - float64((k-1)*(k-1))*math.Log(pairs)
	}
	best2 := math.Inf(-1)
	for i := range grid {
		best2 = max(best2, score([]int{i}))
	}
	var best levels
	bestScore := best2
	var try func(ix []int, from int)
	try = func(ix []int, from int) {
		if len(ix) >= 2 {
			if sc := score(ix); sc > bestScore {
				qs := make([]float64, len(ix))
				for i, j := range ix {
					qs[i] = grid[j]
				}
				if l, ok := levelChain(s, lv, qs); ok {
					for _, j := range ix {
						l.edges = append(l.edges, edges[j])
					}
					best, bestScore = l, sc
					best.gain = (sc - best2) / 2
				}
			}
		}
		if len(ix) == maxLevels-1 {
			return
		}
		for i := from; i < len(grid); i++ {
			try(append(slices.Clone(ix), i), i+1)
		}
	}
	try(nil, 0)
	return best, best.qs != nil
}

// levelEdge is the threshold of level q among sorted values: the value
// below the widest gap (by ratio) among those within 2.5 % of ranks of
// the q-quantile (half the step of burstQuantiles), so that a level's edge falls between clusters of values
// (the periods of a throttled service) rather than inside one, where the
// sliver on the wrong side would look like a level of its own.
func levelEdge(sorted []int64, q float64) int64 {
	n := len(sorted) - 1
	lo := max(int((q-0.025)*float64(n)), 0)
	hi := min(int((q+0.025)*float64(n)), n-1)
	best, bestGap := int((q)*float64(n)), -1.0
	for i := lo; i <= hi; i++ {
		if g := float64(sorted[i+1]+1) / float64(sorted[i]+1); g > bestGap {
			best, bestGap = i, g
		}
	}
	return sorted[best]
}

// levelChain measures the chain of levels lv of s, at thresholds qs: the mean time
// of each level's complete runs and the shares of the level each run goes
// to next; ok is false when a level has fewer than minRuns complete runs
// or some level never leads to another.
func levelChain(s []sample, lv []int, qs []float64) (levels, bool) {
	k := len(qs) + 1
	sum := make([]float64, k)
	runs := make([]float64, k)
	next := make([][]float64, k)
	for i := range next {
		next[i] = make([]float64, k)
	}
	for i := 0; i < len(s); {
		j := i + 1
		for j < len(s) && s[j].inst == s[i].inst && lv[j] == lv[i] {
			j++
		}
		if j < len(s) && s[j].inst == s[i].inst {
			next[lv[i]][lv[j]]++
			if i > 0 && s[i-1].inst == s[i].inst {
				sum[lv[i]] += float64(s[j].at - s[i].at)
				runs[lv[i]]++
			}
		}
		i = j
	}
	l := levels{qs: slices.Clone(qs), stay: make([]float64, k), jump: next}
	for a := range k {
		if runs[a] < minRuns || sum[a] <= 0 {
			return levels{}, false
		}
		l.stay[a] = sum[a] / runs[a]
		total := 0.0
		for _, c := range next[a] {
			total += c
		}
		for b := range k {
			next[a][b] /= total
		}
	}
	// Every level reachable from every other: k steps of the chain from
	// each level reach all.
	for a := range k {
		seen := make([]bool, k)
		seen[a] = true
		for range k {
			for b := range k {
				if seen[b] {
					for c := range k {
						if next[b][c] > 0 {
							seen[c] = true
						}
					}
				}
			}
		}
		if slices.Contains(seen, false) {
			return levels{}, false
		}
	}
	return l, true
}

// A source's values are read in units of its own scale, its p25: the
// calls of one edge are slower or faster than another's (a longer network
// path, a bigger payload), but slow at the same times, so a value is slow
// when it is more than so many times its source's usual. Not when it is
// above a quantile of its own source's values: the sources of one series
// are not slow equally often (Online Boutique's list-products page met
// currencyservice's stalls in 39 % of its calls, the other callers in 18
// to 29 %), and a quantile common to all would put the stalls of the
// source that met the most of them on its fast side, drawn alone in calm
// time. The p25 is a calm value of a source slow less than three times in
// four, though not at the same rank among its calm values: the more often
// slow, the higher up, so the sources' scales part a little from one
// another as their slow shares do. A series of one source (an operation's
// own times) reads the same either way.
const (
	scaleQuantile = 0.25
	// scaleUnit is a source's scale in rescaled values (fixed point).
	scaleUnit = 1 << 16
)

// rescaled returns the samples of s, in the same order, each value in
// units of its source's scale (scaleUnit to a scale), all of one source.
func rescaled(s []sample) []sample {
	bySrc := map[int32][]int64{}
	for _, x := range s {
		bySrc[x.src] = append(bySrc[x.src], x.v)
	}
	scale := map[int32]float64{}
	for src, vs := range bySrc {
		slices.Sort(vs)
		scale[src] = float64(max(quantileOf(vs, scaleQuantile), 1))
	}
	out := make([]sample, len(s))
	for i, x := range s {
		out[i] = sample{at: x.at, v: int64(float64(x.v) / scale[x.src] * scaleUnit), inst: x.inst}
	}
	return out
}

// quantileOf is the q-quantile of sorted values, one of them.
func quantileOf(sorted []int64, q float64) int64 {
	return sorted[int(q*float64(len(sorted)-1))]
}

// markovDist writes the values of s, one source's, as markov(fast: ... for
// T1, slow: ... for T2) with b's episode lengths, slow above b's
// threshold once rescaled; ok is false when either state has fewer than minModeCount
// values.
func markovDist(s []sample, b bursts) (string, bool) {
	if len(s) == 0 {
		return "", false
	}
	scaled := rescaled(s)
	if b.levels.qs != nil {
		return levelsDist(s, scaled, b.levels)
	}
	var fast, slow metrics.Histogram
	for i, x := range s {
		if scaled[i].v > b.th {
			slow.Record(x.v)
		} else {
			fast.Record(x.v)
		}
	}
	if fast.Count() < minModeCount || slow.Count() < minModeCount {
		return "", false
	}
	return fmt.Sprintf("markov(fast: %s for %s, slow: %s for %s)",
		distribution(&fast), fmtDur(int64(b.fastFor)), distribution(&slow), fmtDur(int64(b.slowFor))), true
}

// levelNames name the levels of a chain of three or four.
var levelNames = [][]string{3: {"fast", "mid", "slow"}, 4: {"fast", "mid", "slow", "slower"}}

// levelsDist writes the values of s, one source's (scaled: rescaled(s)),
// as a markov(...) of l's levels, each level with its values, its mean
// time and its jumps in then (...).
func levelsDist(s, scaled []sample, l levels) (string, bool) {
	k := len(l.qs) + 1
	hs := make([]metrics.Histogram, k)
	for j, x := range s {
		i := 0
		for i < len(l.edges) && scaled[j].v > l.edges[i] {
			i++
		}
		hs[i].Record(x.v)
	}
	var sb strings.Builder
	sb.WriteString("markov(")
	for i := range k {
		if hs[i].Count() < minModeCount {
			return "", false
		}
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "%s: %s for %s then (", levelNames[k][i], distribution(&hs[i]), fmtDur(int64(l.stay[i])))
		// Shares in ten-thousandths, the last taking the rounding, so
		// that they sum to 1 exactly as the loader requires.
		var to []int
		var parts []int64
		left := int64(10000)
		for j, p := range l.jump[i] {
			if p > 0 {
				to = append(to, j)
				parts = append(parts, int64(math.Round(p*10000)))
			}
		}
		for x := range parts[:len(parts)-1] {
			left -= parts[x]
		}
		parts[len(parts)-1] = left
		sep := ""
		for x, j := range to {
			if parts[x] <= 0 {
				continue
			}
			fmt.Fprintf(&sb, "%s%s %s", sep, strconv.FormatFloat(float64(parts[x])/10000, 'f', -1, 64), levelNames[k][j])
			sep = ", "
		}
		sb.WriteByte(')')
	}
	sb.WriteByte(')')
	return sb.String(), true
}

// burstComment says what the series showed.
func (b bursts) comment(what string) string {
	if l := b.levels; l.qs != nil {
		k := len(l.qs) + 1
		var th, st []string
		for _, q := range l.qs {
			th = append(th, fmt.Sprintf("p%d", int(math.Round(q*100))))
		}
		for i := range k {
			st = append(st, levelNames[k][i]+" "+fmtDur(int64(l.stay[i])))
		}
		return fmt.Sprintf("%s come in episodes on %d levels (parted at the %s of the values, each in units of its source's p25; %d values): a chain of the levels read in time order per instance explains them better than two by %s nats of the Bayesian information criterion; mean times %s; each level's jumps counted run to run: written as markov(...) with then (...)",
			what, k, strings.Join(th, ", "), b.n, fmtNum(l.gain), strings.Join(st, ", "))
	}
	return fmt.Sprintf("%s come in episodes: in time order per instance, one above the p%d (of the values, each in units of its source's p25) was followed by one above it with probability %s, one below it with probability %s (%d values); fast episodes last %s on average, slow ones %s: written as markov(...), each state with the values on its side",
		what, int(math.Round(b.q*100)), fmtNum(b.afterSlow), fmtNum(b.afterFast), b.n,
		fmtDur(int64(b.fastFor)), fmtDur(int64(b.slowFor)))
}

// findRoundTripBursts tests, for each service called with client spans,
// the round trips of all the calls to it, in time order per instance of
// the callee: slowness there (a queue before the server span, a stalled
// event loop) is the callee's, whoever calls. Each call's round trip is
// then a markov(...) of its own values, switching as the callee's
// episodes did.
func (a *aggregator) findRoundTripBursts(services []string) {
	pooled := map[string][]sample{}
	var src int32
	for _, raw := range services {
		for _, o := range sortedOps(a.services[raw]) {
			for _, e := range o.calls {
				for _, x := range e.rtSeries {
					x.src = src
					pooled[e.callee.service] = append(pooled[e.callee.service], x)
				}
				src++
			}
		}
	}
	a.rtBursts = map[string]bursts{}
	for _, raw := range services {
		if b, ok := findBursts(pooled[raw]); ok {
			a.rtBursts[raw] = b
		}
	}
}
