package sim

import (
	"math"
	"testing"
	"time"
)

// TestVisFileBins: a read is filed in the bin whose [from, to) holds its
// t; an edge starts its bin.
func TestVisFileBins(t *testing.T) {
	for _, c := range []struct {
		t   time.Duration
		bin int
	}{
		{0, 0}, {9999, 0}, {10 * time.Microsecond, 1}, {12499, 1}, {12500, 2},
		{time.Millisecond, 21}, {80 * time.Second, 70}, {100*time.Second - 1, 70}, {100 * time.Second, 71}, {time.Hour, 71},
	} {
		var bins [visBins]visBin
		visFile(&bins, int64(c.t), true)
		if bins[c.bin].reads != 1 {
			t.Errorf("t = %v: not in bin %d", c.t, c.bin)
		}
	}
}

// TestVisCurve: the t values are read on the monotone fit of the shares,
// with the reads behind the points they lie between.
func TestVisCurve(t *testing.T) {
	ms := int64(time.Millisecond)
	type read struct {
		t            int64
		reads, fresh uint64
	}
	cases := []struct {
		name      string
		reads     []read
		t99, t999 TVis
	}{
		{"none", nil, TVis{}, TVis{}},
		// 1 - fit: 0.1, then 0.001: 0.01 is half way in its logarithm.
		{"geometric", []read{{ms, 1000, 900}, {3 * ms, 1000, 999}}, TVis{MS: optional(2), Reads: 2000}, TVis{MS: optional(3), Reads: 2000}},
		// Reaching 1: linear.
		{"to one", []read{{ms, 100, 98}, {2 * ms, 100, 100}}, TVis{MS: optional(1.5), Reads: 200}, TVis{MS: optional(1.95), Reads: 200}},
		{"at most", []read{{5 * ms, 10, 10}, {9 * ms, 30, 30}}, TVis{MS: optional(5), Reads: 40, AtMost: true}, TVis{MS: optional(5), Reads: 40, AtMost: true}},
		// A late dip is pooled with the point before it: 0.999 and 0.9
		// weigh 1000 and 1000 reads, 0.9495 for both; never 99 %.
		{"late dip", []read{{ms, 1000, 999}, {9 * ms, 1000, 900}}, TVis{Reads: 2000}, TVis{Reads: 2000}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var bins [visBins]visBin
			for _, r := range c.reads {
				for i := range r.reads {
					visFile(&bins, r.t, i < r.fresh)
				}
			}
			_, t99, t999 := visCurve(&bins)
			for _, g := range []struct{ got, want TVis }{{t99, c.t99}, {t999, c.t999}} {
				if (g.got.MS == nil) != (g.want.MS == nil) || g.got.MS != nil && math.Abs(*g.got.MS-*g.want.MS) > 1e-9 || g.got.Reads != g.want.Reads || g.got.AtMost != g.want.AtMost {
					t.Errorf("got %+v, want %+v", g.got, g.want)
				}
			}
		})
	}
}
