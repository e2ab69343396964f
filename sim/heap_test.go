package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestHeapOrder pushes random events, many at equal times, and checks that
// they come out ordered by (time, scheduling order).
func TestHeapOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h eventHeap
	var want []event
	for i := range 5000 {
		e := event{at: int64(rng.IntN(200)), seq: uint64(i)}
		h.push(e)
		want = append(want, e)
		if i%7 == 0 { // interleave pops with pushes
			got := h.pop()
			j := slices.IndexFunc(want, func(w event) bool { return w == got })
			for _, w := range want {
				if w.before(&got) {
					t.Fatalf("popped %+v while %+v was pending", got, w)
				}
			}
			want = slices.Delete(want, j, j+1)
		}
	}
	slices.SortFunc(want, func(a, b event) int {
		if a.before(&b) {
			return -1
		}
		return 1
	})
	for i, w := range want {
		if got := h.pop(); got != w {
			t.Fatalf("pop %d = %+v, want %+v", i, got, w)
		}
	}
	if h.len() != 0 {
		t.Fatalf("heap has %d events left", h.len())
	}
}

// BenchmarkEngineHold is the classic hold model: with 1000 events pending,
// pop the earliest and push one at a random later time.
func BenchmarkEngineHold(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h eventHeap
	var seq uint64
	for range 1000 {
		seq++
		h.push(event{at: int64(rng.ExpFloat64() * 1e6), seq: seq})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		e := h.pop()
		seq++
		h.push(event{at: e.at + int64(rng.ExpFloat64()*1e6), seq: seq})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
