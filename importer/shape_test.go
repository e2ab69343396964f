package importer

import (
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sim/dist"
	"github.com/faultline/faultline/sim/metrics"
)

// hist records n values drawn by draw from a fixed stream.
func hist(n int, draw func(r *rand.Rand) float64) *metrics.Histogram {
	r := rand.New(rand.NewPCG(1, 2))
	var h metrics.Histogram
	for range n {
		h.Record(int64(draw(r) * 1e6)) // ms
	}
	return &h
}

// TestMultimodal: a second cluster beyond a valley is told from a long tail
// that thins out, a shoulder, and a handful of far values.
func TestMultimodal(t *testing.T) {
	uniform := func(lo, hi float64) func(*rand.Rand) float64 {
		return func(r *rand.Rand) float64 { return lo + (hi-lo)*r.Float64() }
	}
	tests := []struct {
		name string
		h    *metrics.Histogram
		want bool
	}{
		{"two clusters: 1 ms and 80 ms, 5 % far", hist(1000, func(r *rand.Rand) float64 {
			if r.Float64() < 0.05 {
				return uniform(70, 95)(r)
			}
			return uniform(0.5, 1.5)(r)
		}), true},
		{"lognormal tail", hist(5000, func(r *rand.Rand) float64 { return math.Exp(r.NormFloat64() * 1.2) }), false},
		{"pareto tail", hist(5000, func(r *rand.Rand) float64 { return math.Pow(1-r.Float64(), -1/1.5) }), false},
		{"shoulder: 1-2 ms and 2-4 ms", hist(1000, func(r *rand.Rand) float64 {
			if r.Float64() < 0.3 {
				return uniform(2, 4)(r)
			}
			return uniform(1, 2)(r)
		}), false},
		{"four far values of 1000", hist(1000, func(r *rand.Rand) float64 {
			if r.Float64() < 0.004 {
				return 80
			}
			return uniform(0.5, 1.5)(r)
		}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := multimodal(tt.h); got != tt.want {
				c, b := octaveCounts(tt.h, 1)
				t.Errorf("multimodal = %v, want %v (octaves %v, bounds %v)", got, tt.want, c, b)
			}
		})
	}
}

// TestDistributionShape: what distribution() writes draws what was seen.
// Two clusters become a histogram that draws nothing in the gap, where
// percentiles (p90 1.5 ms, p99 91 ms) drew values all across it; the few values above p99 are written one by
// one, so that 1 % of draws no longer spread evenly from p99 to the
// maximum (Online Boutique's get-supported-currencies: p99 1.9 ms, then
// 3.0, 4.2, 78 and 79 ms; a run's p99 landed anywhere up to 45 ms).
func TestDistributionShape(t *testing.T) {
	twoClusters := hist(1000, func(r *rand.Rand) float64 {
		if r.Float64() < 0.05 {
			return 70 + 25*r.Float64()
		}
		return 0.5 + r.Float64()
	})
	var sparseTail metrics.Histogram
	for i := range 417 {
		sparseTail.Record(int64(200+i) * 1000) // 0.2 .. 0.616 ms
	}
	for _, v := range []int64{3e6, 4.2e6, 78e6, 78.5e6} { // 4 of 421 above p99
		sparseTail.Record(v)
	}
	tests := []struct {
		name     string
		h        *metrics.Histogram
		prefix   string
		gapLo    time.Duration // no more than maxGap of draws in (gapLo, gapHi)
		gapHi    time.Duration
		maxGap   float64
		tailKeys int // percentile keys above p99 and below p100
	}{
		{"two clusters", twoClusters, "histogram(", 2 * time.Millisecond, 64 * time.Millisecond, 0, 0},
		// Between the third and the fourth value above p99, one draw in
		// 421 still falls (from p99 straight to p100, 1 in 105 did).
		{"sparse tail", &sparseTail, "percentiles(", 4300 * time.Microsecond, 77 * time.Millisecond, 0.003, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := distribution(tt.h)
			if !strings.HasPrefix(s, tt.prefix) {
				t.Fatalf("%s, want %s...)", s, tt.prefix)
			}
			if n := len(regexp.MustCompile(`p99\d+=`).FindAllString(s, -1)); n != tt.tailKeys {
				t.Errorf("%d keys above p99 in %s, want %d", n, s, tt.tailKeys)
			}
			d, err := dist.Parse(s)
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			r := rand.New(rand.NewPCG(3, 4))
			const n = 200000
			in := 0
			for range n {
				if v := time.Duration(d.Sample(r)); v > tt.gapLo && v < tt.gapHi {
					in++
				}
			}
			if share := float64(in) / n; share > tt.maxGap {
				t.Errorf("%s: %.4f of draws in (%s, %s), want at most %g", s, share, tt.gapLo, tt.gapHi, tt.maxGap)
			}
		})
	}
}

// TestImportEpisodes: testdata/episodes.csv.gz is a web page calling a
// cache (no client span: its own time counts) and then a db (with a client
// span: a round trip). The cache's own time is 0.1-0.2 ms for 1.5 s, then
// 5-8 ms for 0.5 s, over and over; the db's round trip 0.8-1.2 ms for
// 1 s, then 40-60 ms for 0.25 s; a page every 50 ms for 20 s.
// testdata/no-episodes.csv.gz has the same values with the slow ones
// shuffled in time. Episodes become markov(...) with the episodes' mean
// lengths; without them the two clusters are a histogram.
func TestImportEpisodes(t *testing.T) {
	sojourns := regexp.MustCompile(`markov\(fast: .* for ([0-9.]+[a-z]+), slow: .* for ([0-9.]+[a-z]+)\)`)
	tests := []struct {
		file                 string
		cacheFast, cacheSlow time.Duration // 0: not markov
		dbFast, dbSlow       time.Duration
	}{
		{"episodes.csv.gz", 1500 * time.Millisecond, 500 * time.Millisecond, time.Second, 250 * time.Millisecond},
		{"no-episodes.csv.gz", 0, 0, 0, 0},
	}
	check := func(t *testing.T, what, d string, fast, slow time.Duration) {
		t.Helper()
		m := sojourns.FindStringSubmatch(d)
		if fast == 0 {
			if !strings.HasPrefix(d, "histogram(") {
				t.Errorf("%s = %s, want a histogram(...)", what, d)
			}
			return
		}
		if m == nil {
			t.Fatalf("%s = %s, want markov(fast: ... for %s, slow: ... for %s)", what, d, fast, slow)
		}
		for i, want := range []time.Duration{fast, slow} {
			got, err := time.ParseDuration(m[i+1])
			if err != nil || math.Abs(float64(got-want)) > 0.05*float64(want) {
				t.Errorf("%s: episode %d lasts %s, want %s within 5 %%", what, i, m[i+1], want)
			}
		}
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, err := Import([]string{"testdata/" + tt.file}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var cache, db string
			for _, s := range m.Services {
				for _, op := range s.Operations {
					if s.Name == "cache" {
						cache = op.ServiceTime
					}
					for _, c := range op.Calls {
						if c.To == "db.query" {
							db = c.RoundTrip
						}
					}
				}
			}
			check(t, "cache's service_time", cache, tt.cacheFast, tt.cacheSlow)
			check(t, "the db call's round_trip", db, tt.dbFast, tt.dbSlow)
			loadScenario(t, m)
		})
	}
}

// TestFindLevels draws a series from a chain, one value every 5 ms on one
// instance, and checks what findBursts makes of it. A chain of three
// levels (a CPU-throttled service: a few ms, one 100 ms period, two) is
// found with its levels' mean times and jumps; a two-state chain, whose
// values within a state are independent, stays two states.
func TestFindLevels(t *testing.T) {
	tests := []struct {
		name   string
		chain  string
		levels int // 0: two states
		stay   []time.Duration
		jump   [][]float64
	}{
		{"three levels", "markov(fast: uniform(1ms, 3ms) for 300ms then (0.8 mid, 0.2 slow), " +
			"mid: uniform(85ms, 95ms) for 60ms then (0.6 fast, 0.4 slow), " +
			"slow: uniform(185ms, 195ms) for 150ms then (0.2 fast, 0.8 mid))", 3,
			[]time.Duration{300 * time.Millisecond, 60 * time.Millisecond, 150 * time.Millisecond},
			[][]float64{{0, 0.8, 0.2}, {0.6, 0, 0.4}, {0.2, 0.8, 0}}},
		{"two states", "markov(fast: uniform(1ms, 3ms) for 300ms, slow: uniform(85ms, 195ms) for 150ms)", 0, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := dist.Parse(tt.chain)
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(1, 2))
			var g dist.Regime
			var s []sample
			for i := range 20000 {
				at := int64(i) * 5e6
				s = append(s, sample{at: at, v: d.SampleAt(r, at, &g)})
			}
			b, ok := findBursts(s)
			if !ok {
				t.Fatal("no episodes found")
			}
			got := len(b.levels.qs) + 1
			if b.levels.qs == nil {
				got = 0
			}
			if got != tt.levels {
				t.Fatalf("levels %d (thresholds %v), want %d", got, b.levels.qs, tt.levels)
			}
			for i, want := range tt.stay {
				// A level's runs end on a grid of 5 ms, and each has an
				// exponential length: a few hundred of them.
				if st := b.levels.stay[i]; math.Abs(st-float64(want))/float64(want) > 0.15 {
					t.Errorf("level %d lasts %.4gms, want %s within 15 %%", i, st/1e6, want)
				}
				for j, p := range tt.jump[i] {
					if math.Abs(b.levels.jump[i][j]-p) > 0.08 {
						t.Errorf("jump %d -> %d: %.3f, want %.2f within 0.08", i, j, b.levels.jump[i][j], p)
					}
				}
			}
			dd, ok := markovDist(s, b)
			if !ok {
				t.Fatal("markovDist refused")
			}
			if _, err := dist.Parse(dd); err != nil {
				t.Errorf("%s: %v", dd, err)
			}
			t.Logf("%s", dd)
		})
	}
}

// TestEpisodesOfSourcesSlowUnequally: two callers of one service meet its
// stalls (a shared chain: 1-3 ms for 2 s, 90-110 ms for 0.5 s, a fifth of
// the time) unequally. The steady one calls in half the ticks of 10 ms,
// whatever the state, and meets stalls in about 20 % of its calls, its
// times as drawn; the other's calls pile up in the stalls (8 in 10 ticks
// there, 3 in 10 outside), about 40 % of its calls (Online Boutique's
// callers of currencyservice met its stalls in 18 to 39 % of their
// calls), and take twice as long (a longer path). Each source's two
// states must part its own clusters. With the thresholds at quantiles of
// each source's own values (the old rule), the one quantile cut the
// steady caller's fast values and the other's stalls apart: four levels,
// the steady caller's "slow" level of 3 ms values.
func TestEpisodesOfSourcesSlowUnequally(t *testing.T) {
	b2i32 := func(b bool) int32 { return int32(b2i(b)) }
	d, err := dist.Parse("markov(fast: uniform(2ms, 3ms) for 2s, slow: uniform(80ms, 120ms) for 500ms)")
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	var g dist.Regime
	var pooled []sample
	bySrc := [2][]sample{}
	for i := range 40000 {
		// Each caller at a random time within the tick of 10 ms, the
		// steady one half the ticks, the other as often as the state
		// says: calls come in no fixed order, and each draws its own
		// value from the state at its time.
		tick := int64(i) * 10e6
		stall := d.SampleAt(r, tick, &g) > 50e6
		at := [2]int64{tick + r.Int64N(10e6), tick + r.Int64N(10e6)}
		call := [2]bool{r.Float64() < 0.5, r.Float64() < map[bool]float64{false: 0.3, true: 0.8}[stall]}
		for _, src := range []int32{b2i32(at[1] < at[0]), b2i32(at[1] >= at[0])} {
			if call[src] {
				v := d.SampleAt(r, at[src], &g) * int64(src+1)
				bySrc[src] = append(bySrc[src], sample{at: at[src], v: v})
				pooled = append(pooled, sample{at: at[src], v: v, src: src})
			}
		}
	}
	b, ok := findBursts(pooled)
	if !ok {
		t.Fatal("no episodes found")
	}
	// quantile draws the q-quantile of a state's distribution.
	quantile := func(t *testing.T, md, state string, q float64) time.Duration {
		t.Helper()
		s := md[strings.Index(md, state+": ")+len(state)+2:]
		d, err := dist.Parse(s[:strings.Index(s, " for ")])
		if err != nil {
			t.Fatalf("%s: %v", md, err)
		}
		r := rand.New(rand.NewPCG(5, 6))
		v := make([]int64, 20000)
		for i := range v {
			v[i] = d.Sample(r)
		}
		slices.Sort(v)
		return time.Duration(v[int(q*float64(len(v)-1))])
	}
	for _, tt := range []struct {
		name        string
		src         int
		fastAtMost  time.Duration // the fast cluster's values
		slowAtLeast time.Duration // the stalls'
	}{
		{"steady caller", 0, 3 * time.Millisecond, 80 * time.Millisecond},
		{"caller piling up in the stalls", 1, 6 * time.Millisecond, 160 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			md, ok := markovDist(bySrc[tt.src], b)
			if !ok {
				t.Fatal("markovDist refused")
			}
			if !strings.HasPrefix(md, "markov(fast: ") || strings.Contains(md, "mid: ") {
				t.Fatalf("%s: want two states", md)
			}
			// Three in four of each state's values are of its cluster
			// (a threshold on a grid of quantiles may cut a little into
			// one of them).
			if x := quantile(t, md, "fast", 0.75); x > tt.fastAtMost+tt.fastAtMost/20 {
				t.Errorf("fast state's p75 %s, want at most %s: %s", x, tt.fastAtMost, md)
			}
			if x := quantile(t, md, "slow", 0.25); x < tt.slowAtLeast-tt.slowAtLeast/20 {
				t.Errorf("slow state's p25 %s, want at least %s: %s", x, tt.slowAtLeast, md)
			}
		})
	}
}

// TestDistributionBends: percentiles(...) draws what was recorded between
// its fixed points too. A stall cluster above p95 (Online Boutique's round
// trips from recommendationservice to list-products: 96 % from 1.45 to
// 2.85 ms, then the slow ones as recorded) drew 9 % of values spread
// evenly from p90 to p99, 2.3 to 41 ms, where 4 % lay above 4 ms; a
// lognormal's p95 came out 40 % high on the straight line from p90 to
// p99. The drawn p50, p90 and p95 must be within a quarter octave of the
// values' own, and the share drawn above twice the p95 within half of
// the recorded share (the straight line drew 2.6 times that share of the
// stalls); a handful of values keeps the fixed points alone.
func TestDistributionBends(t *testing.T) {
	var stalls metrics.Histogram
	for i := range 348 {
		stalls.Record(1450000 + int64(i)*4000) // 1.45 .. 2.84 ms
	}
	for _, v := range []float64{4.1, 6.9, 12.5, 13.7, 19.3, 30.9, 34.8, 35.8, 37.3, 37.9, 40.5, 40.7, 48.4, 52.6, 52.9} {
		stalls.Record(int64(v * 1e6))
	}
	var few metrics.Histogram
	for i := range 18 {
		few.Record(int64(1+i*i) * 1e5)
	}
	tests := []struct {
		name  string
		h     *metrics.Histogram
		bends bool // whether points beyond the fixed ones are written
	}{
		{"stall cluster above p95", &stalls, true},
		{"lognormal", hist(5000, func(r *rand.Rand) float64 { return math.Exp(r.NormFloat64()) }), true},
		{"18 values", &few, false},
	}
	fixed := regexp.MustCompile(`^p(0|10|25|50|75|90|99|999|100|99\d{4})$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := distribution(tt.h)
			if !strings.HasPrefix(s, "percentiles(") {
				t.Fatalf("%s, want percentiles(...)", s)
			}
			bent := false
			for _, kv := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(s, "percentiles("), ")"), ", ") {
				k, _, _ := strings.Cut(kv, "=")
				bent = bent || !fixed.MatchString(k)
			}
			if bent != tt.bends {
				t.Errorf("%s: points beyond the fixed ones %v, want %v", s, bent, tt.bends)
			}
			if !tt.bends {
				return
			}
			d, err := dist.Parse(s)
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			r := rand.New(rand.NewPCG(5, 6))
			var drawn metrics.Histogram
			for range 200000 {
				drawn.Record(int64(d.Sample(r)))
			}
			for _, q := range []float64{0.5, 0.9, 0.95} {
				want, got := float64(tt.h.Quantile(q)), float64(drawn.Quantile(q))
				if max(got/want, want/got) > bendTolerance {
					t.Errorf("%s: p%g drawn %s, recorded %s", s, q*100, time.Duration(got), time.Duration(want))
				}
			}
			// The share above twice the p95: what a sum of such times
			// meets at its p90.
			x := 2 * tt.h.Quantile(0.95)
			want := float64(tt.h.CountAbove(x)) / float64(tt.h.Count())
			got := float64(drawn.CountAbove(x)) / float64(drawn.Count())
			if math.Abs(got-want)/want > 0.5 {
				t.Errorf("%s: %.4f of draws above %s, recorded %.4f", s, got, time.Duration(x), want)
			}
		})
	}
}
