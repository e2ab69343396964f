package resilience

import (
	"testing"
	"time"
)

// TestFixedWindow: Kong's windows start on whole periods; a request passes
// while every period's count is under its limit and is then counted in
// all of them; a refused one is not counted.
func TestFixedWindow(t *testing.T) {
	ms := int64(time.Millisecond)
	for _, tt := range []struct {
		name   string
		limits FixedWindowLimits
		at     []int64 // ms
		passed int
	}{
		{"5 a second within one second", FixedWindowLimits{5, 0, 0}, []int64{0, 100, 200, 300, 400, 500, 600}, 5},
		// 5 at the end of a second and 5 at the start of the next: twice
		// the limit within 200 ms.
		{"a boundary lets twice through", FixedWindowLimits{5, 0, 0}, []int64{900, 910, 920, 930, 940, 950, 1000, 1010, 1020, 1030, 1040, 1050}, 10},
		{"the minute's limit binds", FixedWindowLimits{5, 7, 0}, []int64{0, 1, 2, 3, 4, 1000, 1001, 1002, 2000}, 7},
		{"a refused request is not counted", FixedWindowLimits{2, 3, 0}, []int64{0, 1, 2, 3, 1000, 1001}, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var w FixedWindow
			passed := 0
			for _, at := range tt.at {
				if w.Allow(&tt.limits, at*ms) {
					passed++
				}
			}
			if passed != tt.passed {
				t.Errorf("passed %d, want %d", passed, tt.passed)
			}
		})
	}
}
