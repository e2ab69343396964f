package resilience

import (
	"math"
	"testing"
	"time"
)

// TestAutoscalerHPA checks the replica calculator with every instance
// ready, and no window or policy in the way.
func TestAutoscalerHPA(t *testing.T) {
	tests := []struct {
		name     string
		current  int
		util     float64
		target   float64
		min, max int
		want     int
	}{
		{"scale up", 3, 0.9, 0.6, 1, 20, 5},               // ceil(3 × 1.5) = ceil(4.5)
		{"exact product", 9, 0.8, 0.6, 1, 20, 12},         // not ceil(12.000000000000002)
		{"scale down", 4, 0.3, 0.6, 1, 20, 2},             // 4 × 0.5
		{"scale down rounds up", 10, 0.53, 0.6, 1, 20, 9}, // ceil(8.83)
		{"just past the band", 10, 0.67, 0.6, 1, 20, 12},  // ceil(11.17)
		{"inside the band", 5, 0.65, 0.6, 1, 20, 5},       // ratio 1.083
		{"band top is inside", 10, 0.66, 0.6, 1, 20, 10},  // ratio 1.1
		{"band bottom is inside", 10, 0.54, 0.6, 1, 20, 10},
		{"on target", 7, 0.6, 0.6, 1, 20, 7},
		{"clamped to max", 4, 3.0, 0.5, 1, 10, 10}, // 24 wanted
		{"clamped to min", 4, 0.01, 0.6, 2, 10, 2}, // ceil(0.07) = 1 wanted
		{"idle", 4, 0, 0.6, 1, 10, 1},
		{"huge utilisation", 4, 1e300, 0.6, 1, 10, 10},
		{"above max, in the band", 12, 0.6, 0.6, 1, 10, 10},
		{"below min, in the band", 1, 0.6, 0.6, 3, 10, 3},
		{"nothing measured", 4, math.NaN(), 0.6, 1, 10, 4},
	}
	for _, tt := range tests {
		a := NewAutoscaler(AutoscaleConfig{TargetUtilisation: tt.target, Min: tt.min, Max: tt.max, ScaleUpPods: 1000})
		r := Reading{Current: tt.current, Ready: tt.current, Utilisation: tt.util}
		if got := a.Decide(0, r); got != tt.want {
			t.Errorf("%s: Decide(%d instances at %v, target %v) = %d, want %d", tt.name, tt.current, tt.util, tt.target, got, tt.want)
		}
	}
}

// TestAutoscalerNotReady: instances not ready yet count as using 0 % on a
// scale-up and are left out on a scale-down (replica_calculator.go).
func TestAutoscalerNotReady(t *testing.T) {
	tests := []struct {
		name           string
		current, ready int
		util           float64
		want           int
	}{
		// 4 ready at 90 % for 60 %: 6 wanted; the 2 starting count 0 %:
		// ratio 1.5 × 4/6 = 1, within the tolerance: no change. Counting
		// them at the ready instances' use would ask for ceil(6 × 1.5) = 9.
		{"starting instances hold a scale-up back", 6, 4, 0.9, 6},
		// 4 ready at 120 %: ratio 2 × 4/6 = 1.33, ceil(6 × 1.33) = 8.
		{"scale-up counts the starting ones at 0 %", 6, 4, 1.2, 8},
		// 4 ready at 30 %: ceil(4 × 0.5) = 2; the starting ones are left out.
		{"scale-down leaves them out", 6, 4, 0.3, 2},
		{"none ready", 6, 0, math.NaN(), 6},
	}
	for _, tt := range tests {
		a := NewAutoscaler(AutoscaleConfig{TargetUtilisation: 0.6, Min: 1, Max: 20, ScaleUpPods: 1000})
		r := Reading{Current: tt.current, Ready: tt.ready, Utilisation: tt.util}
		if got := a.Decide(0, r); got != tt.want {
			t.Errorf("%s: Decide(%d instances, %d ready at %v) = %d, want %d", tt.name, tt.current, tt.ready, tt.util, got, tt.want)
		}
	}
}

// TestAutoscalerBehavior steps through decisions 15 s apart with the HPA's
// default behaviour: scale-ups at once (at most max(4, 100 %) per 15 s),
// scale-downs to the highest recommendation of the last 300 s.
func TestAutoscalerBehavior(t *testing.T) {
	type step struct {
		at      int64 // seconds
		util    float64
		current int
		want    int
	}
	tests := []struct {
		name     string
		up, down time.Duration
		steps    []step
	}{
		{"scale-up at once, scale-down after 300 s", 0, 300 * time.Second, []step{
			{0, 0.9, 4, 6},
			{15, 0.2, 6, 6},  // recommends 2, but 6 was recommended 15 s ago
			{285, 0.2, 6, 6}, // 6 is 285 s old
			{300, 0.2, 6, 2}, // 6 is 300 s old: out of the window
		}},
		{"the highest of the window wins", 0, 300 * time.Second, []step{
			{0, 1.2, 4, 8},
			{15, 0.45, 8, 8},  // recommends 6
			{30, 0.15, 8, 8},  // recommends 2
			{300, 0.15, 8, 6}, // the 8 has left the window, the 6 not yet
			{315, 0.15, 6, 2},
		}},
		{"a scale-up window", 45 * time.Second, 0, []step{
			{0, 0.3, 4, 2},
			{15, 1.2, 2, 2}, // recommends 4, but 2 was recommended 15 s ago
			{45, 1.2, 2, 4}, // the 2 is 45 s old
		}},
		{"scale-up rate: max(4 pods, 100 %) per 15 s", 0, 0, []step{
			{0, 6, 2, 6},    // 20 wanted; 2 + 4
			{15, 6, 6, 12},  // 60 wanted (max 20); 6 × 2
			{20, 6, 12, 12}, // the 15 s since 12 was 6 ago
			{30, 6, 12, 20}, // 12 × 2, then the max
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAutoscaler(AutoscaleConfig{TargetUtilisation: 0.6, Min: 2, Max: 20,
				ScaleUpStabilization: tt.up, ScaleDownStabilization: tt.down})
			for _, s := range tt.steps {
				r := Reading{Current: s.current, Ready: s.current, Utilisation: s.util}
				if got := a.Decide(s.at*int64(time.Second), r); got != s.want {
					t.Errorf("at %ds, %d instances at %v: Decide = %d, want %d", s.at, s.current, s.util, got, s.want)
				}
			}
		})
	}
}

// TestAutoscalerScaleDownRate: scale_down_percent limits how many go per
// 15 s.
func TestAutoscalerScaleDownRate(t *testing.T) {
	a := NewAutoscaler(AutoscaleConfig{TargetUtilisation: 0.6, Min: 1, Max: 20, ScaleDownPercent: 50})
	steps := []struct {
		at            int64
		current, want int
	}{{0, 16, 8}, {10, 8, 8}, {15, 8, 4}, {30, 4, 2}}
	for _, s := range steps {
		if got := a.Decide(s.at*int64(time.Second), Reading{Current: s.current, Ready: s.current, Utilisation: 0.01}); got != s.want {
			t.Errorf("at %ds, %d instances: Decide = %d, want %d", s.at, s.current, got, s.want)
		}
	}
}

func TestAutoscalerDefaults(t *testing.T) {
	hpa := AutoscaleConfig{ScaleUpPods: 4, ScaleUpPercent: 100, ScaleDownPercent: 100, PolicyPeriod: 15 * time.Second}
	tests := []struct {
		name string
		cfg  AutoscaleConfig
		want AutoscaleConfig
	}{
		{"zero", AutoscaleConfig{}, AutoscaleConfig{TargetUtilisation: 0.8, Min: 1, Max: 1, Interval: 15 * time.Second}},
		{"max below min", AutoscaleConfig{TargetUtilisation: 0.5, Min: 3, Max: 2, Interval: time.Second},
			AutoscaleConfig{TargetUtilisation: 0.5, Min: 3, Max: 3, Interval: time.Second}},
		{"kept", AutoscaleConfig{TargetUtilisation: 0.6, Min: 2, Max: 8, Interval: 30 * time.Second, ScaleDownStabilization: time.Minute,
			ScaleUpPods: 1, ScaleUpPercent: 10, ScaleDownPercent: 5, PolicyPeriod: time.Minute, StartupDelay: 5 * time.Second},
			AutoscaleConfig{TargetUtilisation: 0.6, Min: 2, Max: 8, Interval: 30 * time.Second, ScaleDownStabilization: time.Minute,
				ScaleUpPods: 1, ScaleUpPercent: 10, ScaleDownPercent: 5, PolicyPeriod: time.Minute, StartupDelay: 5 * time.Second}},
	}
	for _, tt := range tests {
		want := tt.want
		if want.PolicyPeriod == 0 {
			want.ScaleUpPods, want.ScaleUpPercent, want.ScaleDownPercent, want.PolicyPeriod = hpa.ScaleUpPods, hpa.ScaleUpPercent, hpa.ScaleDownPercent, hpa.PolicyPeriod
		}
		if got := NewAutoscaler(tt.cfg).Config(); got != want {
			t.Errorf("%s: Config() = %+v, want %+v", tt.name, got, want)
		}
	}
}
