package resilience

import (
	"math"
	"time"
)

// AutoscaleConfig configures a reactive autoscaler on utilisation, like a
// Kubernetes HorizontalPodAutoscaler on CPU (Kubernetes docs, "Horizontal Pod
// Autoscaling", algorithm details).
type AutoscaleConfig struct {
	TargetUtilisation float64       // e.g. 0.6; not positive: 0.8, autoscaling/v1's default
	Min, Max          int           // Min not positive: 1, the HPA's default; Max below Min: Min
	Interval          time.Duration // evaluation interval; not positive: 15s, the HPA controller's sync period
	Cooldown          time.Duration // no scale-down (and no second scale-up) within this of the last change, e.g. 60s; 0: none
	StartupDelay      time.Duration // the engine uses it: a new instance takes traffic only after this
}

// hpaTolerance is the HPA's default --horizontal-pod-autoscaler-tolerance.
const hpaTolerance = 0.1

// hpaSlack absorbs binary rounding: the HPA divides whole percentages, and
// 9 instances at 80% for a 60% target ask for 12, but 9 × 0.8/0.6 is
// 12.000000000000002, which would ask for 13.
const hpaSlack = 1e-9

// Autoscaler decides the instance count of a service, as the HPA does:
// desired = ceil(current × utilisation / target), unchanged while the ratio
// utilisation / target is within hpaTolerance of 1, clamped to [Min, Max].
// A count outside [Min, Max] is brought back at once, as the HPA does before
// looking at metrics.
//
// Cooldown blocks any change within Cooldown of the previous one. That is
// the HPA before Kubernetes 1.12, which forbade a scale-up for 3 minutes and
// a scale-down for 5 after any rescale, here with one window. Today's HPA
// instead scales down to the highest recommendation of a 5-minute
// stabilisation window and scales up at once.
type Autoscaler struct {
	cfg        AutoscaleConfig
	lastChange int64
	changed    bool
}

// NewAutoscaler returns an autoscaler that has made no change yet, so its
// first decision is free of any cooldown.
func NewAutoscaler(cfg AutoscaleConfig) *Autoscaler {
	if cfg.TargetUtilisation <= 0 {
		cfg.TargetUtilisation = 0.8
	}
	if cfg.Min <= 0 {
		cfg.Min = 1
	}
	cfg.Max = max(cfg.Max, cfg.Min)
	if cfg.Interval <= 0 {
		cfg.Interval = 15 * time.Second
	}
	return &Autoscaler{cfg: cfg}
}

// Config returns the configuration with defaults applied; the engine should
// take Interval and StartupDelay from it.
func (a *Autoscaler) Config() AutoscaleConfig { return a.cfg }

// Decide returns the desired instance count given the utilisation measured
// over the last interval and the current count, and counts a change as made
// at now. A NaN utilisation (nothing measured) changes nothing, as the HPA
// skips a metric it cannot read.
func (a *Autoscaler) Decide(now int64, utilisation float64, current int) int {
	desired := a.desired(now, utilisation, current)
	if desired != current {
		a.lastChange, a.changed = now, true
	}
	return desired
}

func (a *Autoscaler) desired(now int64, utilisation float64, current int) int {
	switch {
	case current > a.cfg.Max:
		return a.cfg.Max
	case current < a.cfg.Min:
		return a.cfg.Min
	case a.changed && now-a.lastChange < int64(a.cfg.Cooldown), math.IsNaN(utilisation):
		return current
	}
	ratio := utilisation / a.cfg.TargetUtilisation
	if math.Abs(ratio-1) <= hpaTolerance+hpaSlack {
		return current
	}
	x := float64(current) * ratio
	if r := math.Round(x); math.Abs(x-r) < hpaSlack {
		x = r
	}
	if x >= float64(a.cfg.Max) {
		return a.cfg.Max
	}
	return max(int(math.Ceil(x)), a.cfg.Min)
}
