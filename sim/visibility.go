package sim

import (
	"math"
	"slices"
	"time"
)

// t-visibility as Bailis et al. define it ("Probabilistically Bounded
// Staleness for Practical Partial Quorums", VLDB 2012, section 3): the
// probability that a read that starts exactly t after a write committed
// returns that write or a newer one. Each read is filed by its own t, the
// time from the commit of its key's newest committed version to the
// read's start, in a bin of a fine log-spaced grid, so that the curve
// does not depend on when the workload happens to read (pooling every
// read at least t after its write would).

// visEdges are the bins' edges: the R10 preferred numbers (1, 1.25, 1.6,
// 2, 2.5, 3.15, 4, 5, 6.3, 8; ISO 3) times 10 us .. 10 s, ending at 100 s:
// ten bins a decade, each about 26 % wider than the one before. Bin 0
// holds t < 10 us, bin k (1..70) [visEdges[k-1], visEdges[k]), the last
// t >= 100 s.
var visEdges = func() [71]int64 {
	mant := [...]int64{1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000, 6300, 8000} // x 10 ns
	var e [71]int64
	scale := int64(10)
	for d := range 7 {
		for k, m := range mant {
			e[d*10+k] = m * scale
		}
		scale *= 10
	}
	e[70] = int64(100 * time.Second)
	return e
}()

// visBins is the number of bins of the curve: one below, seventy inside
// and one beyond the grid.
const visBins = len(visEdges) + 1

// visBin counts the reads filed in one bin.
type visBin struct {
	reads, fresh uint64
	sumT         float64 // of the reads' t, in ns: the bin's mean t is where the curve is drawn
}

// visFile files a read that started t after the commit it should see.
// It allocates nothing: a binary search in a fixed array.
func visFile(bins *[visBins]visBin, t int64, fresh bool) {
	i, found := slices.BinarySearch(visEdges[:], t)
	if found {
		i++ // an edge starts its bin
	}
	b := &bins[i]
	b.reads++
	b.sumT += float64(t)
	if fresh {
		b.fresh++
	}
}

// visCurve turns the bins into the reported curve (the bins that have
// reads, in order of t) and reads t for 99 % and 99.9 % off it.
//
// The raw share of fresh reads of a bin is noisy where it has few reads,
// and PBS's curve is nondecreasing in t (a replica that has a version
// keeps it, or a newer one). The t values are read on the monotone
// (isotonic) fit of the raw shares, weighted by reads: the pool adjacent
// violators algorithm, the maximum-likelihood nondecreasing curve for
// binomial counts (Barlow et al., "Statistical Inference under Order
// Restrictions", 1972). Each point's Fit is its pooled block's share.
func visCurve(bins *[visBins]visBin) (pts []VisPoint, t99, t999 TVis) {
	var blocks []visBlock
	for i := range bins {
		b := &bins[i]
		if b.reads == 0 {
			continue
		}
		p := VisPoint{TMS: b.sumT / float64(b.reads) / 1e6, Reads: b.reads, Fresh: float64(b.fresh) / float64(b.reads)}
		if i > 0 {
			p.FromMS = float64(visEdges[i-1]) / 1e6
		}
		if i < len(visEdges) {
			p.ToMS = float64(visEdges[i]) / 1e6
		}
		pts = append(pts, p)
		blocks = append(blocks, visBlock{b.reads, b.fresh, 1})
		// Pool while the last block's share is not above the one before
		// it: below, the fit must pool them; equal, pooling changes no
		// fitted share and counts all the reads behind it.
		for n := len(blocks); n >= 2 && blocks[n-2].share() >= blocks[n-1].share(); n-- {
			a, z := blocks[n-2], blocks[n-1]
			blocks[n-2] = visBlock{a.reads + z.reads, a.fresh + z.fresh, a.n + z.n}
			blocks = blocks[:n-1]
		}
	}
	// supp[i] is the number of reads behind point i's fitted share.
	supp := make([]uint64, len(pts))
	i := 0
	for _, bl := range blocks {
		for range bl.n {
			pts[i].Fit = bl.share()
			supp[i] = bl.reads
			i++
		}
	}
	return pts, visAt(pts, supp, 0.99), visAt(pts, supp, 0.999)
}

// visBlock is a run of adjacent points pooled by the monotone fit.
type visBlock struct {
	reads, fresh uint64
	n            int // points pooled
}

func (b visBlock) share() float64 { return float64(b.fresh) / float64(b.reads) }

// visAt is the smallest t at which the fit reaches q, interpolated
// between the last point below q and the first at or above it; as the fit
// is nondecreasing it stays at or above q from there on.
func visAt(pts []VisPoint, supp []uint64, q float64) TVis {
	for i, p := range pts {
		if p.Fit < q {
			continue
		}
		if i == 0 {
			// Already there at the shortest t read: t is at most this.
			return TVis{MS: optional(p.TMS), Reads: supp[0], AtMost: true}
		}
		a := pts[i-1]
		f := (q - a.Fit) / (p.Fit - a.Fit)
		if p.Fit < 1 {
			// The stale share 1 - fit is interpolated geometrically: it
			// decays about exponentially in t (exactly so with
			// exponential WARS delays), and a straight line between two
			// points of that convex decay would put t too late.
			f = math.Log((1-q)/(1-a.Fit)) / math.Log((1-p.Fit)/(1-a.Fit))
		}
		return TVis{MS: optional(a.TMS + f*(p.TMS-a.TMS)), Reads: supp[i-1] + supp[i]}
	}
	if len(pts) == 0 {
		return TVis{}
	}
	return TVis{Reads: supp[len(supp)-1]}
}
