package metrics

import (
	"math"
	"math/bits"
)

const (
	// subBits sets the precision: 1<<subBits linear buckets per power of two
	// puts a bucket's half-width at most 1/256 of any value in it.
	subBits  = 7
	subCount = 1 << subBits
	// maxShift is the bucket width exponent of the top octave, the one
	// holding math.MaxInt64: covering all of int64 spares Record a clamp.
	maxShift   = 63 - (subBits + 1)
	numBuckets = (maxShift + 2) * subCount
	// The counts are kept in pages of one octave (subCount buckets),
	// allocated when a value first falls in it.
	numPages = numBuckets / subCount
)

// Histogram counts non-negative int64 values (nanoseconds in faultline). The
// zero value is ready to use.
//
// Values below 256 get a bucket each; above, every power of two [2^k, 2^(k+1))
// is split into 128 equal buckets, so a bucket's midpoint is within 1/256 of
// every value in it. Count, Sum, Mean, Min and Max are exact; quantiles are
// within 1/256 relative error.
//
// The buckets cover the whole int64 range, 7296 counts, kept in 57 pages
// of one octave (1 KiB each) that are allocated when a value first falls in
// them: an empty Histogram is about 520 bytes, and one of latencies
// spanning four octaves about 4.5 KiB, where a flat array of every count
// would take 57 KiB whatever is recorded (a simulation holds several per
// component). Reset keeps the pages, so a Histogram reused window after
// window stops allocating once its octaves are there. Pass it by pointer:
// a copy shares its pages.
type Histogram struct {
	pages [numPages]*[subCount]uint64
	count uint64
	// The sum is a 128-bit integer: a float64 accumulator would round once
	// past 2^53 ns (about 104 days of total latency) and make Merge depend
	// on the order of operations.
	sumLo, sumHi uint64
	min, max     int64
	// lowIdx and highIdx bound the non-zero counts, so Reset, Merge and the
	// quantile scans touch only the occupied part of counts.
	lowIdx, highIdx int
}

// bucketIndex maps v to its bucket: the octave (shift) chooses the width and
// the top subBits+1 bits of v choose the bucket within it.
func bucketIndex(v uint64) int {
	shift := bits.Len64(v >> (subBits + 1))
	return shift<<subBits + int(v>>shift)
}

// bucketBounds returns the smallest value in bucket i and the bucket's width.
func bucketBounds(i int) (lower, width uint64) {
	shift := max(i>>subBits-1, 0)
	return uint64(i-shift<<subBits) << shift, 1 << shift
}

// bucketValue is the value that stands for every record in bucket i: the
// middle of its integer range, so the error is at most half a width.
func bucketValue(i int) int64 {
	lower, width := bucketBounds(i)
	return int64(lower + (width-1)/2)
}

// Record adds one value; v < 0 is recorded as 0.
func (h *Histogram) Record(v int64) {
	h.RecordN(v, 1)
}

// RecordN adds n copies of v; v < 0 is recorded as 0.
func (h *Histogram) RecordN(v int64, n uint64) {
	if n == 0 {
		return
	}
	v = max(v, 0)
	i := bucketIndex(uint64(v))
	if h.count == 0 {
		h.min, h.max = v, v
		h.lowIdx, h.highIdx = i, i
	} else {
		h.min = min(h.min, v)
		h.max = max(h.max, v)
		h.lowIdx = min(h.lowIdx, i)
		h.highIdx = max(h.highIdx, i)
	}
	p := h.pages[i>>subBits]
	if p == nil {
		p = new([subCount]uint64)
		h.pages[i>>subBits] = p
	}
	p[i&(subCount-1)] += n
	h.count += n
	hi, lo := bits.Mul64(uint64(v), n)
	h.addSum(lo, hi)
}

func (h *Histogram) addSum(lo, hi uint64) {
	var carry uint64
	h.sumLo, carry = bits.Add64(h.sumLo, lo, 0)
	h.sumHi, _ = bits.Add64(h.sumHi, hi, carry)
}

// at returns the count of bucket i.
func (h *Histogram) at(i int) uint64 {
	if p := h.pages[i>>subBits]; p != nil {
		return p[i&(subCount-1)]
	}
	return 0
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.count }

// Sum returns the sum of the recorded values, rounded once to float64.
func (h *Histogram) Sum() float64 { return uint128ToFloat(h.sumHi, h.sumLo) }

// Mean returns Sum/Count, or 0 when h is empty.
func (h *Histogram) Mean() float64 {
	if h.count == 0 {
		return 0
	}
	return h.Sum() / float64(h.count)
}

// Min returns the smallest recorded value, or 0 when h is empty.
func (h *Histogram) Min() int64 { return h.min }

// Max returns the largest recorded value, or 0 when h is empty.
func (h *Histogram) Max() int64 { return h.max }

// uint128ToFloat converts hi<<64|lo to the nearest float64. Converting the
// halves separately would round twice and could miss by one ulp.
func uint128ToFloat(hi, lo uint64) float64 {
	if hi == 0 {
		return float64(lo)
	}
	n := uint(bits.Len64(hi))
	top := hi<<(64-n) | lo>>n
	// top keeps 11 bits beyond float64's 53; folding the dropped bits into
	// its lowest one lets the conversion tell a tie from just above one.
	if lo&(1<<n-1) != 0 {
		top |= 1
	}
	return math.Ldexp(float64(top), int(n))
}

// Quantile returns a value v such that at least a fraction q of the records
// are <= v, within 1/256 relative error and clamped into [Min, Max]. q is
// clamped into [0, 1] (NaN counts as 0); Quantile(0) is Min and Quantile(1)
// is Max. It returns 0 when h is empty.
func (h *Histogram) Quantile(q float64) int64 {
	if h.count == 0 || !(q > 0) {
		return h.min
	}
	if q >= 1 {
		return h.max
	}
	var v [1]int64
	h.quantiles([]float64{q}, v[:])
	return v[0]
}

// CountAbove returns how many records are strictly greater than v. Records
// in v's own bucket are never counted (the bucket's lower bound is <= v), so
// the answer may fall short by those of them that exceed v, but never
// overcounts. It is exact when v < 256 (buckets there hold a single value),
// when v is the top of its bucket, when v < Min, or when v >= Max.
func (h *Histogram) CountAbove(v int64) uint64 {
	if h.count == 0 || v >= h.max {
		return 0
	}
	if v < h.min {
		return h.count
	}
	var n uint64
	for i := bucketIndex(uint64(v)) + 1; i <= h.highIdx; i++ {
		n += h.at(i)
	}
	return n
}

// Merge adds every record of o to h; o is unchanged unless it is h, in which
// case every count doubles.
func (h *Histogram) Merge(o *Histogram) {
	if o.count == 0 {
		return
	}
	if h.count == 0 {
		h.min, h.max = o.min, o.max
		h.lowIdx, h.highIdx = o.lowIdx, o.highIdx
	} else {
		h.min = min(h.min, o.min)
		h.max = max(h.max, o.max)
		h.lowIdx = min(h.lowIdx, o.lowIdx)
		h.highIdx = max(h.highIdx, o.highIdx)
	}
	for k := o.lowIdx >> subBits; k <= o.highIdx>>subBits; k++ {
		op := o.pages[k]
		if op == nil {
			continue
		}
		hp := h.pages[k]
		if hp == nil {
			hp = new([subCount]uint64)
			h.pages[k] = hp
		}
		for j := range op {
			hp[j] += op[j]
		}
	}
	h.count += o.count
	h.addSum(o.sumLo, o.sumHi)
}

// Reset empties h, clearing only the pages that were used; it keeps them.
func (h *Histogram) Reset() {
	for _, p := range h.pages[h.lowIdx>>subBits : h.highIdx>>subBits+1] {
		if p != nil {
			clear(p[:])
		}
	}
	h.count = 0
	h.sumLo, h.sumHi = 0, 0
	h.min, h.max = 0, 0
	h.lowIdx, h.highIdx = 0, 0
}

// pageSpan is the part [lo, hi) of page k within buckets [low, high].
func pageSpan(k, low, high int) (lo, hi int) {
	lo, hi = 0, subCount
	if k == low>>subBits {
		lo = low & (subCount - 1)
	}
	if k == high>>subBits {
		hi = high&(subCount-1) + 1
	}
	return lo, hi
}

// Summary is what a window of latencies reduces to: written into time series.
// Latencies are in milliseconds; Count is how many there were.
type Summary struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

// Summarize reduces h, whose values are nanoseconds, to a Summary in
// milliseconds. An empty h gives the zero Summary.
func (h *Histogram) Summarize() Summary {
	const nsPerMs = 1e6
	var q [4]int64
	if h.count > 0 {
		h.quantiles([]float64{0.5, 0.9, 0.99, 0.999}, q[:])
	}
	return Summary{
		Count: h.count,
		Mean:  h.Mean() / nsPerMs,
		P50:   float64(q[0]) / nsPerMs,
		P90:   float64(q[1]) / nsPerMs,
		P99:   float64(q[2]) / nsPerMs,
		P999:  float64(q[3]) / nsPerMs,
		Max:   float64(h.max) / nsPerMs,
	}
}

// quantiles sets out[k] to Quantile(qs[k]) for qs in (0, 1), ascending,
// in one scan of the buckets rather than one each (a window's summary
// asks four, for every component and edge, every window). h must not be
// empty.
func (h *Histogram) quantiles(qs []float64, out []int64) {
	k := 0
	rank := func(q float64) uint64 { return min(max(uint64(math.Ceil(q*float64(h.count))), 1), h.count) }
	want := rank(qs[0])
	var seen uint64
	for pg := h.lowIdx >> subBits; pg <= h.highIdx>>subBits; pg++ {
		p := h.pages[pg]
		if p == nil {
			continue
		}
		lo, hi := pageSpan(pg, h.lowIdx, h.highIdx)
		for j := lo; j < hi; j++ {
			seen += p[j]
			for seen >= want {
				out[k] = min(max(bucketValue(pg<<subBits+j), h.min), h.max)
				if k++; k == len(qs) {
					return
				}
				want = rank(qs[k])
			}
		}
	}
	for ; k < len(qs); k++ {
		out[k] = h.max
	}
}
