package resilience

import (
	"math"
	"testing"
	"time"
)

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
		a := NewAutoscaler(AutoscaleConfig{TargetUtilisation: tt.target, Min: tt.min, Max: tt.max})
		if got := a.Decide(0, tt.util, tt.current); got != tt.want {
			t.Errorf("%s: Decide(%d instances at %v, target %v) = %d, want %d", tt.name, tt.current, tt.util, tt.target, got, tt.want)
		}
	}
}

// TestAutoscalerCooldown steps through decisions 15 s apart with a 60 s
// cooldown: after a change, neither direction moves until 60 s have passed,
// but a count outside [Min, Max] is corrected at once.
func TestAutoscalerCooldown(t *testing.T) {
	type step struct {
		at      int64 // seconds
		util    float64
		current int
		want    int
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"up then blocked both ways", []step{
			{0, 0.9, 4, 6},
			{15, 0.9, 6, 6}, // no second scale-up
			{30, 0.3, 6, 6}, // no scale-down
			{59, 0.3, 6, 6},
			{60, 0.3, 6, 3}, // cooldown over
			{75, 0.9, 3, 3}, // the scale-down started a new one
		}},
		{"no change, no cooldown", []step{
			{0, 0.6, 4, 4},
			{15, 0.9, 4, 6},
		}},
		{"range is enforced during cooldown", []step{
			{0, 0.9, 4, 6},
			{15, 0.6, 12, 10},
			{30, 0.6, 1, 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAutoscaler(AutoscaleConfig{TargetUtilisation: 0.6, Min: 2, Max: 10, Cooldown: 60 * time.Second})
			for _, s := range tt.steps {
				if got := a.Decide(s.at*int64(time.Second), s.util, s.current); got != s.want {
					t.Errorf("at %ds, %d instances at %v: Decide = %d, want %d", s.at, s.current, s.util, got, s.want)
				}
			}
		})
	}
}

func TestAutoscalerDefaults(t *testing.T) {
	tests := []struct {
		name string
		cfg  AutoscaleConfig
		want AutoscaleConfig
	}{
		{"zero", AutoscaleConfig{}, AutoscaleConfig{TargetUtilisation: 0.8, Min: 1, Max: 1, Interval: 15 * time.Second}},
		{"max below min", AutoscaleConfig{TargetUtilisation: 0.5, Min: 3, Max: 2, Interval: time.Second},
			AutoscaleConfig{TargetUtilisation: 0.5, Min: 3, Max: 3, Interval: time.Second}},
		{"kept", AutoscaleConfig{TargetUtilisation: 0.6, Min: 2, Max: 8, Interval: 30 * time.Second, Cooldown: time.Minute, StartupDelay: 5 * time.Second},
			AutoscaleConfig{TargetUtilisation: 0.6, Min: 2, Max: 8, Interval: 30 * time.Second, Cooldown: time.Minute, StartupDelay: 5 * time.Second}},
	}
	for _, tt := range tests {
		if got := NewAutoscaler(tt.cfg).Config(); got != tt.want {
			t.Errorf("%s: Config() = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
