package sim

import (
	"testing"
	"unsafe"
)

// TestRequestSize pins the size of a request on a 64-bit machine: the pool
// holds one per request in flight, and the engine reads one at every
// event. 128 bytes is two cache lines; eight bools in place of the flags
// made it 136, a third.
func TestRequestSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes pinned for 64-bit words")
	}
	if got := unsafe.Sizeof(request{}); got != 128 {
		t.Errorf("a request is %d bytes, want 128: order its fields to leave no padding, yes/no facts in flags", got)
	}
}

// TestRequestFlags: each fact is its own bit, set and cleared alone.
func TestRequestFlags(t *testing.T) {
	all := []reqFlag{reqAbandoned, reqFailed, reqDegraded, reqCrashed, reqWorking, reqCounted, reqInProc, reqReleased}
	for i, f := range all {
		var r request
		r.set(f, true)
		for j, g := range all {
			if r.is(g) != (i == j) {
				t.Errorf("set flag %d: flag %d is %v", i, j, r.is(g))
			}
		}
		r.set(f, false)
		if r.flags != 0 {
			t.Errorf("cleared flag %d: flags %08b", i, r.flags)
		}
	}
}

// TestUnsplitmix: unsplitmix gives back what splitmix mixed, as Kong's
// counters need a request key's index (kongSlot).
func TestUnsplitmix(t *testing.T) {
	for _, x := range []uint64{0, 1, 3, 999, 1 << 31, 1<<64 - 1, 0x9e3779b97f4a7c15} {
		if got := unsplitmix(splitmix(x)); got != x {
			t.Errorf("unsplitmix(splitmix(%#x)) = %#x", x, got)
		}
	}
}
