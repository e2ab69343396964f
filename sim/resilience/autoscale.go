package resilience

import (
	"math"
	"time"
)

// AutoscaleConfig configures a reactive autoscaler on CPU utilisation, like a
// Kubernetes HorizontalPodAutoscaler (autoscaling/v2) on CPU (Kubernetes
// docs, "Horizontal Pod Autoscaling", algorithm details and "Configurable
// scaling behavior"; kubernetes/kubernetes pkg/controller/podautoscaler
// horizontal.go and replica_calculator.go).
type AutoscaleConfig struct {
	TargetUtilisation float64       // e.g. 0.6; not positive: 0.8, autoscaling/v1's default
	Min, Max          int           // Min not positive: 1, the HPA's default; Max below Min: Min
	Interval          time.Duration // evaluation interval; not positive: 15s, the HPA controller's sync period
	// The stabilisation windows (behavior.scaleUp / scaleDown
	// .stabilizationWindowSeconds): a scale-up goes no higher than the
	// lowest recommendation of the last ScaleUpStabilization, a scale-down
	// no lower than the highest of the last ScaleDownStabilization. 0:
	// none. The HPA's defaults, which the scenario loader applies, are 0s
	// up and 300s down.
	ScaleUpStabilization, ScaleDownStabilization time.Duration
	// The rate policies, over PolicyPeriod: a scale-up adds at most the
	// larger of ScaleUpPods and ScaleUpPercent % of the count at the
	// period's start, a scale-down removes at most ScaleDownPercent % of it
	// (selectPolicy Max). Not positive: the HPA's defaults, 4 pods, 100 %,
	// 100 %, 15 s.
	ScaleUpPods, ScaleUpPercent, ScaleDownPercent int
	PolicyPeriod                                  time.Duration
	StartupDelay                                  time.Duration // the engine uses it: a new instance takes traffic only after this
}

// hpaTolerance is the HPA's default --horizontal-pod-autoscaler-tolerance.
const hpaTolerance = 0.1

// hpaSlack absorbs binary rounding: the HPA divides whole percentages, and
// 9 instances at 80% for a 60% target ask for 12, but 9 × 0.8/0.6 is
// 12.000000000000002, which would ask for 13.
const hpaSlack = 1e-9

// Reading is what the autoscaler sees at one evaluation.
type Reading struct {
	// Current is the instance count the autoscaler set (the HPA's
	// spec.replicas): ready instances and those not ready yet.
	Current int
	// Ready counts the instances that were ready over the whole interval
	// measured; Utilisation is their mean CPU use over it, a share of
	// their workers (NaN: none was ready).
	Ready       int
	Utilisation float64
}

// Autoscaler decides the instance count of a service, as the HPA does
// (with its default behaviour):
//
//   - desired = ceil(ready × utilisation / target), unchanged while the
//     ratio utilisation / target is within hpaTolerance of 1. On a
//     scale-up, the instances not ready count as using 0 %, which holds
//     the scale-up back (and cancels it if that brings the ratio within
//     the tolerance or below 1); on a scale-down they are left out
//     (replica_calculator.go, GetResourceReplicas);
//   - that recommendation is stabilised: the result is the current count,
//     raised to the lowest recommendation of the scale-up window and
//     lowered to the highest of the scale-down window
//     (stabilizeRecommendationWithBehaviors), so a scale-down happens only
//     once every recommendation of the last 300 s allows it;
//   - then limited by the rate policies (convertDesiredReplicasWithBehaviorRate)
//     and clamped to [Min, Max].
//
// A count outside [Min, Max] is brought back at once, as the HPA does
// before looking at metrics.
type Autoscaler struct {
	cfg  AutoscaleConfig
	recs []timed // recommendations within the longest stabilisation window
	ups  []timed // scale-ups within the policy period: instances added
	down []timed // scale-downs within it: instances removed
}

type timed struct {
	at int64
	n  int
}

// NewAutoscaler returns an autoscaler that has made no recommendation yet.
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
	if cfg.ScaleUpPods <= 0 {
		cfg.ScaleUpPods = 4
	}
	if cfg.ScaleUpPercent <= 0 {
		cfg.ScaleUpPercent = 100
	}
	if cfg.ScaleDownPercent <= 0 {
		cfg.ScaleDownPercent = 100
	}
	if cfg.PolicyPeriod <= 0 {
		cfg.PolicyPeriod = 15 * time.Second
	}
	return &Autoscaler{cfg: cfg}
}

// Config returns the configuration with defaults applied; the engine should
// take Interval and StartupDelay from it.
func (a *Autoscaler) Config() AutoscaleConfig { return a.cfg }

// Decide returns the instance count to run from now on, and records the
// change, if any, for the rate policies.
func (a *Autoscaler) Decide(now int64, r Reading) int {
	cur := r.Current
	var want int
	switch {
	case cur > a.cfg.Max:
		want = a.cfg.Max
	case cur < a.cfg.Min:
		want = a.cfg.Min
	case r.Ready == 0 || math.IsNaN(r.Utilisation):
		// The HPA skips a metric it cannot read, and records nothing.
		return cur
	default:
		want = a.limit(now, cur, a.stabilise(now, cur, a.recommend(r)))
	}
	switch {
	case want > cur:
		a.ups = append(prune(a.ups, now-int64(a.cfg.PolicyPeriod)), timed{now, want - cur})
	case want < cur:
		a.down = append(prune(a.down, now-int64(a.cfg.PolicyPeriod)), timed{now, cur - want})
	}
	return want
}

// recommend is the replica calculator's answer for a CPU metric.
func (a *Autoscaler) recommend(r Reading) int {
	ratio := r.Utilisation / a.cfg.TargetUtilisation
	unready := r.Current - r.Ready
	if unready > 0 && ratio > 1 {
		// Scaling up: the instances not ready count as using nothing.
		ratio = ratio * float64(r.Ready) / float64(r.Current)
		if ratio <= 1+hpaTolerance+hpaSlack {
			return r.Current // within the tolerance, or no longer up
		}
		return ceilSlack(float64(r.Current) * ratio)
	}
	if math.Abs(ratio-1) <= hpaTolerance+hpaSlack {
		return r.Current
	}
	// Scaling down (or up with every instance ready): the instances not
	// ready are left out.
	return ceilSlack(float64(r.Ready) * ratio)
}

func ceilSlack(x float64) int {
	if r := math.Round(x); math.Abs(x-r) < hpaSlack {
		x = r
	}
	if x >= math.MaxInt32 {
		return math.MaxInt32
	}
	return int(math.Ceil(x))
}

// stabilise records recommendation rec and returns the current count moved
// towards it only as far as the windows allow.
func (a *Autoscaler) stabilise(now int64, cur, rec int) int {
	up, down := rec, rec
	upCut, downCut := now-int64(a.cfg.ScaleUpStabilization), now-int64(a.cfg.ScaleDownStabilization)
	for _, r := range a.recs {
		if r.at > upCut {
			up = min(up, r.n)
		}
		if r.at > downCut {
			down = max(down, r.n)
		}
	}
	a.recs = append(prune(a.recs, min(upCut, downCut)), timed{now, rec})
	return min(max(cur, up), down)
}

// limit applies the rate policies and [Min, Max] to a change from cur to
// want. The count at the start of the period is the current one less the
// changes made within it.
func (a *Autoscaler) limit(now int64, cur, want int) int {
	cut := now - int64(a.cfg.PolicyPeriod)
	start := cur
	for _, e := range a.ups {
		if e.at > cut {
			start -= e.n
		}
	}
	for _, e := range a.down {
		if e.at > cut {
			start += e.n
		}
	}
	switch {
	case want > cur:
		byPods := start + a.cfg.ScaleUpPods
		byPercent := int(math.Ceil(float64(start) * (1 + float64(a.cfg.ScaleUpPercent)/100)))
		return min(want, max(max(byPods, byPercent), cur), a.cfg.Max)
	case want < cur:
		byPercent := int(float64(start) * (1 - float64(a.cfg.ScaleDownPercent)/100))
		return max(want, min(byPercent, cur), a.cfg.Min)
	}
	return want
}

// prune drops the entries at or before cut, in place.
func prune(ts []timed, cut int64) []timed {
	k := 0
	for _, t := range ts {
		if t.at > cut {
			ts[k] = t
			k++
		}
	}
	return ts[:k]
}
