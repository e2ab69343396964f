package metrics

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

// lognormal returns n latencies spread log-normally over 1µs..10s, the range
// a simulated request plausibly takes.
func lognormal(n int, seed uint64) []int64 {
	r := rand.New(rand.NewPCG(seed, 0x6d657472696373))
	lo, hi := math.Log(1e3), math.Log(1e10)
	vs := make([]int64, n)
	for i := range vs {
		x := (lo+hi)/2 + r.NormFloat64()*(hi-lo)/6
		vs[i] = int64(math.Exp(min(max(x, lo), hi)))
	}
	return vs
}

func record(vs []int64) *Histogram {
	h := new(Histogram)
	for _, v := range vs {
		h.Record(v)
	}
	return h
}

func TestBucketBoundaries(t *testing.T) {
	for _, v := range []uint64{
		0, 1, 2, 126, 127, 128, 129, 254, 255, 256, 257, 510, 511, 512,
		1e3, 1e6, 1e6 + 1, 1e9, 1e10, 1<<62 - 1, 1 << 62, math.MaxInt64,
	} {
		i := bucketIndex(v)
		if i < 0 || i >= numBuckets {
			t.Errorf("bucketIndex(%d) = %d, out of [0, %d)", v, i, numBuckets)
			continue
		}
		lower, width := bucketBounds(i)
		if v < lower || v-lower >= width {
			t.Errorf("%d falls outside its bucket %d: [%d, %d+%d)", v, i, lower, lower, width)
		}
		if v < 256 && (width != 1 || bucketValue(i) != int64(v)) {
			t.Errorf("%d is not exact: bucket width %d, value %d", v, width, bucketValue(i))
		}
		if d := math.Abs(float64(bucketValue(i)) - float64(v)); d > float64(v)/256 {
			t.Errorf("bucketValue(%d) = %d for %d: error %g > 1/256", i, bucketValue(i), v, d/float64(v))
		}

		var h Histogram
		h.Record(int64(v))
		if h.Count() != 1 || h.Min() != int64(v) || h.Max() != int64(v) || h.Sum() != float64(v) {
			t.Errorf("Record(%d): count %d, min %d, max %d, sum %g", v, h.Count(), h.Min(), h.Max(), h.Sum())
		}
		if got := h.Quantile(0.5); got != int64(v) {
			t.Errorf("single record %d: Quantile(0.5) = %d", v, got)
		}
	}
}

// TestBucketsTile checks that the buckets cover int64 without gap or overlap,
// so that bucketIndex and bucketBounds agree everywhere, not only at the
// values picked above.
func TestBucketsTile(t *testing.T) {
	var next uint64
	for i := range numBuckets {
		lower, width := bucketBounds(i)
		if lower != next {
			t.Fatalf("bucket %d starts at %d, want %d", i, lower, next)
		}
		if i >= 2*subCount && width*subCount > lower {
			t.Fatalf("bucket %d: width %d too wide for lower bound %d", i, width, lower)
		}
		top := lower + width - 1
		if bucketIndex(lower) != i || bucketIndex(top) != i {
			t.Fatalf("bucket %d = [%d, %d], but indexes %d and %d", i, lower, top, bucketIndex(lower), bucketIndex(top))
		}
		next = top + 1
	}
	if next != 1<<63 {
		t.Fatalf("buckets end at %d, want 2^63", next)
	}
}

func TestSmallValuesExact(t *testing.T) {
	var h Histogram
	for v := range int64(256) {
		h.Record(v)
	}
	for v := range int64(256) {
		if got := h.Quantile(float64(v+1) / 256); got != v {
			t.Errorf("Quantile(%d/256) = %d, want %d", v+1, got, v)
		}
		if got, want := h.CountAbove(v), uint64(255-v); got != want {
			t.Errorf("CountAbove(%d) = %d, want %d", v, got, want)
		}
	}
}

func TestNegativeRecordedAsZero(t *testing.T) {
	var h Histogram
	h.Record(-5)
	h.RecordN(math.MinInt64, 2)
	if h.Count() != 3 || h.Sum() != 0 || h.Min() != 0 || h.Max() != 0 || h.CountAbove(-1) != 3 {
		t.Errorf("negatives: count %d, sum %g, min %d, max %d, above -1 %d",
			h.Count(), h.Sum(), h.Min(), h.Max(), h.CountAbove(-1))
	}
}

func TestEmpty(t *testing.T) {
	var h Histogram
	if h.Count() != 0 || h.Sum() != 0 || h.Mean() != 0 || h.Min() != 0 || h.Max() != 0 ||
		h.Quantile(0.5) != 0 || h.Quantile(1) != 0 || h.CountAbove(-1) != 0 {
		t.Errorf("empty histogram is not all zero: %+v", h.Summarize())
	}
	if s := h.Summarize(); s != (Summary{}) {
		t.Errorf("empty Summarize() = %+v", s)
	}
	h.RecordN(42, 0)
	if h != (Histogram{}) {
		t.Error("RecordN(v, 0) changed the histogram")
	}
}

func TestQuantileRelativeError(t *testing.T) {
	vs := lognormal(100_000, 1)
	h := record(vs)
	sorted := slices.Sorted(slices.Values(vs))

	var sum int64
	for _, v := range vs {
		sum += v
	}
	n := len(vs)
	if h.Count() != uint64(n) || h.Sum() != float64(sum) || h.Mean() != float64(sum)/float64(n) ||
		h.Min() != sorted[0] || h.Max() != sorted[n-1] {
		t.Fatalf("count %d, sum %g, mean %g, min %d, max %d; want %d, %d, %g, %d, %d",
			h.Count(), h.Sum(), h.Mean(), h.Min(), h.Max(),
			n, sum, float64(sum)/float64(n), sorted[0], sorted[n-1])
	}

	qs := []float64{0.9999, 0.99999}
	for i := range 1001 {
		qs = append(qs, float64(i)/1000)
	}
	for _, q := range qs {
		rank := max(int(math.Ceil(q*float64(n))), 1)
		want := sorted[rank-1]
		got := h.Quantile(q)
		if d := math.Abs(float64(got - want)); d > float64(want)/256 {
			t.Errorf("Quantile(%g) = %d, exact %d: relative error %.5f > 1/256", q, got, want, d/float64(want))
		}
	}
	if h.Quantile(0) != h.Min() || h.Quantile(1) != h.Max() {
		t.Errorf("Quantile(0), Quantile(1) = %d, %d; want Min %d, Max %d", h.Quantile(0), h.Quantile(1), h.Min(), h.Max())
	}
	if h.Quantile(-1) != h.Min() || h.Quantile(math.NaN()) != h.Min() || h.Quantile(2) != h.Max() {
		t.Errorf("out-of-range q not clamped: Quantile(-1, NaN, 2) = %d, %d, %d",
			h.Quantile(-1), h.Quantile(math.NaN()), h.Quantile(2))
	}
}

func TestSumIsExact(t *testing.T) {
	var h Histogram
	h.RecordN(math.MaxInt64, math.MaxUint32)
	h.Record(math.MaxInt64)
	h.Record(1)
	want, _ := new(big.Float).SetInt(new(big.Int).Add(
		new(big.Int).Mul(big.NewInt(math.MaxInt64), new(big.Int).SetUint64(math.MaxUint32+1)),
		big.NewInt(1))).Float64()
	if got := h.Sum(); got != want {
		t.Errorf("Sum() = %g, want %g", got, want)
	}
}

func TestUint128ToFloat(t *testing.T) {
	type pair struct{ hi, lo uint64 }
	cases := []pair{
		{0, 0}, {0, math.MaxUint64}, {1, 0}, {math.MaxUint64, math.MaxUint64},
		// 2^64 + 2^12 lies halfway between two float64s: ties go to even,
		// down here but up once any lower bit is set.
		{1, 1 << 12}, {1, 1<<12 | 1}, {1, 3 << 12}, {1 << 20, 1 << 31}, {1 << 20, 1<<31 | 1},
	}
	r := rand.New(rand.NewPCG(2, 3))
	for range 1000 {
		cases = append(cases, pair{r.Uint64() >> r.UintN(64), r.Uint64()})
	}
	for _, c := range cases {
		x := new(big.Int).Lsh(new(big.Int).SetUint64(c.hi), 64)
		x.Or(x, new(big.Int).SetUint64(c.lo))
		want, _ := new(big.Float).SetInt(x).Float64()
		if got := uint128ToFloat(c.hi, c.lo); got != want {
			t.Errorf("uint128ToFloat(%#x, %#x) = %g, want %g", c.hi, c.lo, got, want)
		}
	}
}

// same reports whether a and b hold the same records: their pages may
// differ where one has a page of zeros and the other none.
func same(a, b *Histogram) bool {
	for i := range numBuckets {
		if a.at(i) != b.at(i) {
			return false
		}
	}
	x, y := *a, *b
	x.pages, y.pages = [numPages]*[subCount]uint64{}, [numPages]*[subCount]uint64{}
	return x == y
}

func TestMerge(t *testing.T) {
	vs := lognormal(20_000, 4)
	all := record(vs)
	a, b := record(vs[:7_000]), record(vs[7_000:])
	a.Merge(b)
	if !same(a, all) {
		t.Error("merging two halves differs from recording everything into one")
	}

	var empty Histogram
	a.Merge(&empty)
	if !same(a, all) {
		t.Error("merging an empty histogram changed the result")
	}
	empty.Merge(all)
	if !same(&empty, all) {
		t.Error("merging into an empty histogram differs from the source")
	}

	twice := record(vs)
	for _, v := range vs {
		twice.Record(v)
	}
	all.Merge(all)
	if !same(all, twice) {
		t.Error("merging a histogram into itself differs from recording everything twice")
	}
}

func TestReset(t *testing.T) {
	h := record(lognormal(5_000, 5))
	h.Record(0)
	h.Record(math.MaxInt64)
	h.Reset()
	if !same(h, &Histogram{}) {
		t.Fatal("Reset left state behind")
	}
	vs := lognormal(5_000, 6)
	for _, v := range vs {
		h.Record(v)
	}
	if !same(h, record(vs)) {
		t.Error("a reset and reused histogram differs from a fresh one")
	}
}

func TestCountAbove(t *testing.T) {
	vs := lognormal(20_000, 7)
	h := record(vs)
	sorted := slices.Sorted(slices.Values(vs))

	thresholds := []int64{-1, 0, sorted[0] - 1, sorted[0], h.Max() - 1, h.Max(), math.MaxInt64}
	for i := 0; i < len(sorted); i += 97 {
		v := sorted[i]
		lower, width := bucketBounds(bucketIndex(uint64(v)))
		thresholds = append(thresholds, v-1, v, v+1, int64(lower), int64(lower+width-1))
	}
	for _, v := range thresholds {
		var exact, missed uint64
		for _, r := range vs {
			if r > v {
				exact++
				if v >= 0 && bucketIndex(uint64(r)) == bucketIndex(uint64(v)) {
					missed++
				}
			}
		}
		want := exact - missed
		if v < h.Min() || v >= h.Max() {
			want = exact
		}
		if got := h.CountAbove(v); got != want {
			t.Errorf("CountAbove(%d) = %d, want %d (exact %d)", v, got, want, exact)
		}
	}
}

func TestSummarize(t *testing.T) {
	var h Histogram
	for ms := int64(1); ms <= 1000; ms++ {
		h.Record(ms * 1e6)
	}
	got := h.Summarize()
	want := Summary{Count: 1000, Mean: 500.5, P50: 500, P90: 900, P99: 990, P999: 999, Max: 1000}
	if got.Count != want.Count || got.Mean != want.Mean || got.Max != want.Max {
		t.Errorf("Summarize() = %+v, want %+v", got, want)
	}
	for _, p := range []struct{ got, want float64 }{
		{got.P50, want.P50}, {got.P90, want.P90}, {got.P99, want.P99}, {got.P999, want.P999},
	} {
		if math.Abs(p.got-p.want) > p.want/256 {
			t.Errorf("Summarize() = %+v, want within 1/256 of %+v", got, want)
		}
	}
}

// scanQuantile is Quantile as a scan of every bucket for one rank.
func scanQuantile(h *Histogram, q float64) int64 {
	if h.count == 0 {
		return h.min
	}
	rank := min(max(uint64(math.Ceil(q*float64(h.count))), 1), h.count)
	var seen uint64
	for i := h.lowIdx; i <= h.highIdx; i++ {
		if seen += h.at(i); seen >= rank {
			return min(max(bucketValue(i), h.min), h.max)
		}
	}
	return h.max
}

// TestSummarizeIsQuantile: Summarize's one scan, and Quantile, give each
// percentile as a scan for its rank alone does, on spreads that fill
// whole pages, a few buckets of one page, one bucket, and many equal
// ranks (few records).
func TestSummarizeIsQuantile(t *testing.T) {
	for _, tt := range []struct {
		name string
		vs   []int64
	}{
		{"lognormal", lognormal(10_000, 11)},
		{"few", lognormal(3, 12)},
		{"one value", []int64{5_000_000, 5_000_000}},
		{"one page", []int64{1 << 20, 1<<20 + 1<<14, 1<<20 + 5<<14, 1<<21 - 1}},
		{"empty", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := record(tt.vs)
			got := h.Summarize()
			for _, p := range []struct {
				q   float64
				got float64
			}{{0.5, got.P50}, {0.9, got.P90}, {0.99, got.P99}, {0.999, got.P999}} {
				want := scanQuantile(h, p.q)
				if p.got != float64(want)/1e6 {
					t.Errorf("Summarize's p%g = %g ms, want %d ns", p.q*100, p.got, want)
				}
				if got := h.Quantile(p.q); got != want {
					t.Errorf("Quantile(%g) = %d, want %d", p.q, got, want)
				}
			}
		})
	}
}

func TestNoAllocations(t *testing.T) {
	h := record(lognormal(1_000, 8))
	o := record(lognormal(1_000, 9))
	for name, f := range map[string]func(){
		"Record":     func() { h.Record(123_456_789) },
		"RecordN":    func() { h.RecordN(987_654, 3) },
		"Quantile":   func() { h.Quantile(0.99) },
		"CountAbove": func() { h.CountAbove(1e6) },
		"Merge":      func() { h.Merge(o) },
		"Summarize":  func() { h.Summarize() },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s allocates %g times per call", name, n)
		}
	}
}

func BenchmarkRecord(b *testing.B) {
	vs := lognormal(1<<12, 10)
	var h Histogram
	for i := 0; b.Loop(); i++ {
		h.Record(vs[i&(len(vs)-1)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func ExampleHistogram() {
	var h Histogram
	for ms := int64(1); ms <= 100; ms++ {
		h.Record(ms * 1_000_000) // nanoseconds
	}
	s := h.Summarize()
	fmt.Printf("n=%d mean=%.1fms p50=%.2fms p99=%.2fms max=%.0fms\n", s.Count, s.Mean, s.P50, s.P99, s.Max)
	fmt.Println(h.CountAbove(90_000_000), "above 90ms")
	// Output:
	// n=100 mean=50.5ms p50=49.94ms p99=98.83ms max=100ms
	// 10 above 90ms
}

// BenchmarkSummarize summarises a window's latencies: four percentiles,
// in one scan of the buckets.
func BenchmarkSummarize(b *testing.B) {
	h := record(lognormal(1_000, 13))
	for b.Loop() {
		h.Summarize()
	}
}
