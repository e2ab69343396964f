package sim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/internal/format"
	"github.com/faultline/faultline/sim/dist"
)

// FaultParams are the parameters of one kind of fault: each kind has a type
// of its own, and Kind says which. A Fault whose Params is nil takes its
// kind's defaults (DefaultParams).
type FaultParams interface {
	Kind() FaultKind
	// check reports the first parameter outside its range, in the words
	// the scenario loader uses for the same key.
	check() error
}

// LatencyFault adds a draw of Add to each request's service time (on a
// service, instance or operation), to each message's hop in Direction (on a
// link), or to a data node's messages (broker node, store replica).
type LatencyFault struct {
	Add       dist.Dist
	Direction Direction // links only
}

// ErrorsFault fails each request that starts its work there with
// Probability.
type ErrorsFault struct{ Probability float64 }

// CrashFault takes instances down; at the end of the fault each restarts
// and takes traffic StartupDelay later.
type CrashFault struct{ StartupDelay time.Duration }

// PauseFault freezes its target: work stops, queues grow.
type PauseFault struct{}

// LossFault drops each message of a link with Probability, in Direction.
type LossFault struct {
	Probability float64
	Direction   Direction
}

// PartitionFault drops every message between Sides[0] and Sides[1]; with
// OneWay only those from Sides[0] to Sides[1]. A side names services,
// clients, brokers, stores, and broker nodes or store replicas ("kafka#2").
type PartitionFault struct {
	Sides  [2][]string
	OneWay bool
}

// BlackholeFault makes the requests to its target vanish.
type BlackholeFault struct{}

// SlowdownFault multiplies service time (or a data node's delays) by
// Factor.
type SlowdownFault struct{ Factor float64 }

// CapacityFault leaves each instance Workers workers.
type CapacityFault struct{ Workers int }

// SurgeFault multiplies a client's rate by Factor.
type SurgeFault struct{ Factor float64 }

// ThrottleFault answers a share Probability of requests at once with 429.
type ThrottleFault struct{ Probability float64 }

// SkewFault runs a store replica's clock Offset ahead (negative: behind).
type SkewFault struct{ Offset time.Duration }

// LeaderLossFault takes the leadership of Partition of its topic from its
// leader; -1 is every partition.
type LeaderLossFault struct{ Partition int }

// DeployFault restarts the target's instances Batch at a time (or
// BatchShare of them, rounded up, when Batch is 0): each drains, is down
// for StartupDelay, then serves with its service time multiplied by
// WarmupFactor for Warmup. A deploy has no duration: it ends when its last
// batch has warmed up.
type DeployFault struct {
	Batch        int
	BatchShare   float64
	StartupDelay time.Duration
	Warmup       time.Duration
	WarmupFactor float64
	// A bad release: the new version fails with NewErrors (when
	// HasNewErrors) and multiplies service time by NewFactor (when > 0).
	NewErrors    float64
	HasNewErrors bool
	NewFactor    float64
	// RollbackAfter, when > 0, rolls the old version back out this long
	// after the deploy began.
	RollbackAfter time.Duration
	// TerminationGracePeriod is how long a draining instance may finish
	// its work before it is killed (the pod's terminationGracePeriodSeconds,
	// 30 s in Kubernetes); 0 = 30 s.
	TerminationGracePeriod time.Duration
}

// LeakFault makes an instance's service time grow by Growth (a fraction)
// per minute of uptime; at Limit times its normal service time the
// instance crashes and restarts after StartupDelay.
type LeakFault struct {
	Growth       float64
	Limit        float64
	StartupDelay time.Duration
}

// DependencyFault browns out an external service: Add more latency, and a
// share Probability of its calls failing.
type DependencyFault struct {
	Add         dist.Dist
	Probability float64
}

// RebuildFault drops a view's read model and replays its topic from the
// start (the oldest record the topic retains), as a projection rebuild
// does (Axon's StreamingEventProcessor.resetTokens: a replay from the tail
// of the stream; docs.axoniq.io, "Streaming Event Processor", Replaying
// events). The view is stale until the projector has caught up with
// where the topic was when the rebuild began; a rebuild has no duration.
type RebuildFault struct{}

func (LatencyFault) Kind() FaultKind    { return FaultLatency }
func (ErrorsFault) Kind() FaultKind     { return FaultErrors }
func (CrashFault) Kind() FaultKind      { return FaultCrash }
func (PauseFault) Kind() FaultKind      { return FaultPause }
func (LossFault) Kind() FaultKind       { return FaultLoss }
func (PartitionFault) Kind() FaultKind  { return FaultPartition }
func (BlackholeFault) Kind() FaultKind  { return FaultBlackhole }
func (SlowdownFault) Kind() FaultKind   { return FaultSlowdown }
func (CapacityFault) Kind() FaultKind   { return FaultCapacity }
func (SurgeFault) Kind() FaultKind      { return FaultSurge }
func (ThrottleFault) Kind() FaultKind   { return FaultThrottle }
func (SkewFault) Kind() FaultKind       { return FaultSkew }
func (LeaderLossFault) Kind() FaultKind { return FaultLeaderLoss }
func (DeployFault) Kind() FaultKind     { return FaultDeploy }
func (LeakFault) Kind() FaultKind       { return FaultLeak }
func (DependencyFault) Kind() FaultKind { return FaultDependency }
func (RebuildFault) Kind() FaultKind    { return FaultRebuild }

// Range is the interval a numeric parameter must lie in.
type Range struct {
	Lo, Hi         float64
	LoOpen, HiOpen bool
}

// Contains reports whether x lies in r (never for NaN).
func (r Range) Contains(x float64) bool {
	return (x > r.Lo || !r.LoOpen && x == r.Lo) && (x < r.Hi || !r.HiOpen && x == r.Hi)
}

func (r Range) String() string {
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	if math.IsInf(r.Hi, 1) {
		if r.LoOpen {
			return "> " + num(r.Lo)
		}
		return ">= " + num(r.Lo)
	}
	open, shut := "[", "]"
	if r.LoOpen {
		open = "("
	}
	if r.HiOpen {
		shut = ")"
	}
	return fmt.Sprintf("in %s%s, %s%s", open, num(r.Lo), num(r.Hi), shut)
}

// MaxFactor bounds every factor (slowdown, surge, leak growth and limit,
// a deploy's warm-up and new version): a thousand times slower or busier
// is far beyond any real incident, and more is a slip of the keyboard that
// would stall a run (a surge of 1e9 schedules a billion arrivals a second).
const MaxFactor = 1000

// MaxOffset bounds a skew fault's clock offset, either way.
const MaxOffset = 24 * time.Hour

// The ranges of the fault parameters, one place for the loader, the TUI's
// :fault and the engine (Fault.Validate).
var (
	ShareRange        = Range{Lo: 0, Hi: 1, LoOpen: true}                      // probability: (0, 1]
	NewErrorsRange    = Range{Lo: 0, Hi: 1}                                    // a bad release may fail nothing
	FactorRange       = Range{Lo: 0, Hi: MaxFactor, LoOpen: true}              // slowdown, surge, new_factor
	WarmupFactorRange = Range{Lo: 1, Hi: MaxFactor}                            // 1 is no warm-up
	GrowthRange       = Range{Lo: 0, Hi: MaxFactor, LoOpen: true}              // per minute of uptime
	LimitRange        = Range{Lo: 1, Hi: MaxFactor, LoOpen: true}              // a multiple of the normal service time
	BatchShareRange   = Range{Lo: 0, Hi: 1, LoOpen: true}                      // a share of the instances
	WorkersRange      = Range{Lo: 0, Hi: math.Inf(1)}                          // at most the service's workers, checked with it
	PartitionRange    = Range{Lo: -1, Hi: math.Inf(1)}                         // -1: every partition
	rangeCount        = Range{Lo: 1, Hi: math.Inf(1)}                          // a count of instances
	rangeNonNegative  = Range{Lo: 0, Hi: float64(math.MaxInt64)}               // a duration >= 0
	rangeOffset       = Range{Lo: -float64(MaxOffset), Hi: float64(MaxOffset)} // a clock offset
)

// DefaultParams are the parameters a fault of kind k takes for the keys a
// scenario leaves out: the scenario language's defaults, in one place.
func DefaultParams(k FaultKind) FaultParams {
	switch k {
	case FaultLatency:
		return LatencyFault{}
	case FaultErrors:
		return ErrorsFault{}
	case FaultCrash:
		return CrashFault{}
	case FaultPause:
		return PauseFault{}
	case FaultLoss:
		return LossFault{}
	case FaultPartition:
		return PartitionFault{}
	case FaultBlackhole:
		return BlackholeFault{}
	case FaultSlowdown:
		return SlowdownFault{}
	case FaultCapacity:
		return CapacityFault{}
	case FaultSurge:
		return SurgeFault{}
	case FaultThrottle:
		return ThrottleFault{}
	case FaultSkew:
		return SkewFault{}
	case FaultLeaderLoss:
		return LeaderLossFault{Partition: -1} // every partition of the topic
	case FaultDeploy:
		return DeployFault{Batch: 1, WarmupFactor: 2} // one instance at a time
	case FaultLeak:
		return LeakFault{Limit: 3} // crashes at three times the normal service time
	case FaultDependency:
		return DependencyFault{}
	case FaultRebuild:
		return RebuildFault{}
	}
	return nil
}

// Targets is a set of the things a fault can target, as a scenario's
// target names them (the grammar is ParseTarget's).
type Targets uint16

const (
	OnService   Targets = 1 << iota // a service or a gateway: "payment"
	OnInstance                      // one instance: "payment#2"
	OnLink                          // a link: "checkout->payment"
	OnClient                        // a client: "shoppers"
	OnBroker                        // a broker, all its nodes: "kafka"
	OnNode                          // one broker node: "kafka#2"
	OnStore                         // a store, all its replicas: "db"
	OnReplica                       // one store replica: "db#2"
	OnView                          // a view: "order-view"
	OnTopic                         // a topic: "orders"
	OnOperation                     // one operation of a service: "catalog.search"
)

const (
	onPool   = OnService | OnInstance
	onBroker = OnBroker | OnNode
	onStore  = OnStore | OnReplica
)

// faultTargets is what each kind of fault can target: the one table of
// the loader, drivers' commands (the TUI's :fault) and the engine, beside
// the kinds' defaults (DefaultParams). A partition targets nothing: its
// sides name components.
var faultTargets = [...]Targets{
	FaultLatency:    onPool | OnOperation | OnLink | onBroker | onStore,
	FaultErrors:     onPool | OnOperation,
	FaultCrash:      onPool | onBroker | onStore | OnView,
	FaultPause:      onPool | onBroker | onStore | OnView,
	FaultLoss:       OnLink,
	FaultPartition:  0,
	FaultBlackhole:  onPool | OnLink,
	FaultSlowdown:   onPool | OnOperation | onBroker | onStore | OnView,
	FaultCapacity:   onPool,
	FaultSurge:      OnClient,
	FaultThrottle:   onPool,
	FaultSkew:       onStore,
	FaultLeaderLoss: OnTopic,
	FaultDeploy:     OnService,
	FaultLeak:       onPool,
	FaultDependency: OnService, // an external one
	FaultRebuild:    OnView,
}

// FaultTargets says what a fault of kind k can target.
func FaultTargets(k FaultKind) Targets {
	if int(k) < len(faultTargets) {
		return faultTargets[k]
	}
	return 0
}

// CheckTarget says that a fault of kind k cannot target a thing of kind
// got, and what it takes, in the loader's words; nil when it can.
func (k FaultKind) CheckTarget(got Targets) error {
	if FaultTargets(k)&got != 0 {
		return nil
	}
	return fmt.Errorf("a %s fault cannot target %s: it takes %s", k, got.noun(), FaultTargets(k))
}

// noun names one kind of target, short.
func (t Targets) noun() string {
	for _, n := range []struct {
		t    Targets
		noun string
	}{{OnService, "a service"}, {OnInstance, "an instance"}, {OnLink, "a link"}, {OnClient, "a client"},
		{OnBroker, "a broker"}, {OnNode, "a broker node"}, {OnStore, "a store"}, {OnReplica, "a store replica"},
		{OnView, "a view"}, {OnTopic, "a topic"}, {OnOperation, "an operation"}} {
		if t&n.t != 0 {
			return n.noun
		}
	}
	return "nothing"
}

// String names the things of a set, for messages: "a service or gateway,
// a store, or one instance or store replica ("name#n")".
func (t Targets) String() string {
	var parts, members []string
	for _, n := range []struct {
		t    Targets
		name string
	}{{OnService, "a service or gateway"}, {OnBroker, "a broker"}, {OnStore, "a store"}, {OnView, "a view"}} {
		if t&n.t != 0 {
			parts = append(parts, n.name)
		}
	}
	for _, n := range []struct {
		t    Targets
		name string
	}{{OnInstance, "instance"}, {OnNode, "broker node"}, {OnReplica, "store replica"}} {
		if t&n.t != 0 {
			members = append(members, n.name)
		}
	}
	if len(members) > 0 {
		parts = append(parts, fmt.Sprintf("one %s (\"name#n\")", format.OrList(members)))
	}
	for _, n := range []struct {
		t    Targets
		name string
	}{{OnLink, `a link ("caller->callee")`}, {OnClient, "a client"}, {OnTopic, "a topic"}, {OnOperation, `an operation ("service.operation")`}} {
		if t&n.t != 0 {
			parts = append(parts, n.name)
		}
	}
	switch len(parts) {
	case 0:
		return "nothing"
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + ", or " + parts[len(parts)-1]
}

// rangeErr says that key's value x lies outside r, as the loader says it.
func rangeErr(key string, x float64, r Range) error {
	switch {
	case r.Contains(x):
		return nil
	case math.IsInf(x, 0) || math.IsNaN(x):
		return fmt.Errorf("%s must be a finite number, not %v", key, x)
	}
	return fmt.Errorf("%s must be %s, got %g", key, r, x)
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (LatencyFault) check() error  { return nil } // a distribution draws no negative delay
func (p ErrorsFault) check() error { return rangeErr("probability", p.Probability, ShareRange) }
func (p CrashFault) check() error {
	return rangeErr("startup_delay", float64(p.StartupDelay), rangeNonNegative)
}
func (PauseFault) check() error      { return nil }
func (RebuildFault) check() error    { return nil }
func (p LossFault) check() error     { return rangeErr("probability", p.Probability, ShareRange) }
func (BlackholeFault) check() error  { return nil }
func (p SlowdownFault) check() error { return rangeErr("factor", p.Factor, FactorRange) }
func (p CapacityFault) check() error { return rangeErr("workers", float64(p.Workers), WorkersRange) }
func (p SurgeFault) check() error    { return rangeErr("factor", p.Factor, FactorRange) }
func (p ThrottleFault) check() error { return rangeErr("probability", p.Probability, ShareRange) }
func (p LeaderLossFault) check() error {
	return rangeErr("partition", float64(p.Partition), PartitionRange)
}

func (p SkewFault) check() error {
	if p.Offset == 0 {
		return fmt.Errorf("offset must not be zero")
	}
	return rangeErr("offset", float64(p.Offset), rangeOffset)
}

func (p DeployFault) check() error {
	batch := rangeErr("batch", float64(p.Batch), rangeCount)
	if p.Batch == 0 {
		batch = rangeErr("batch", p.BatchShare, BatchShareRange)
	}
	newErrors := error(nil)
	if p.HasNewErrors {
		newErrors = rangeErr("new_errors", p.NewErrors, NewErrorsRange)
	}
	newFactor := error(nil)
	if p.NewFactor != 0 {
		newFactor = rangeErr("new_factor", p.NewFactor, FactorRange)
	}
	warmupFactor := error(nil)
	if p.Warmup > 0 {
		warmupFactor = rangeErr("warmup_factor", p.WarmupFactor, WarmupFactorRange)
	}
	return firstErr(batch,
		rangeErr("startup_delay", float64(p.StartupDelay), rangeNonNegative),
		rangeErr("warmup", float64(p.Warmup), rangeNonNegative),
		warmupFactor,
		newErrors, newFactor,
		rangeErr("rollback_after", float64(p.RollbackAfter), rangeNonNegative))
}

func (p LeakFault) check() error {
	return firstErr(rangeErr("growth", p.Growth, GrowthRange), rangeErr("limit", p.Limit, LimitRange),
		rangeErr("startup_delay", float64(p.StartupDelay), rangeNonNegative))
}

func (p DependencyFault) check() error {
	if p.Add.IsZero() && p.Probability == 0 {
		return fmt.Errorf("a dependency fault needs add, probability, or both")
	}
	if p.Probability == 0 {
		return nil
	}
	return rangeErr("probability", p.Probability, ShareRange)
}

// check refuses a partition that separates nothing from itself: a
// component on both sides, whole or as a member ("db" and "db#2").
func (p PartitionFault) check() error {
	for _, a := range p.Sides[0] {
		for _, b := range p.Sides[1] {
			ta, errA := ParseTarget(a)
			tb, errB := ParseTarget(b)
			if errA != nil || errB != nil {
				continue // the engine reports a name it cannot find
			}
			if ta.Name == tb.Name && (ta.Member == 0 || tb.Member == 0 || ta.Member == tb.Member) {
				if a == b {
					return fmt.Errorf("%q is on both sides of the partition", a)
				}
				return fmt.Errorf("%q is on both sides of the partition, as part of %q", b, a)
			}
		}
	}
	if len(p.Sides[0]) == 0 || len(p.Sides[1]) == 0 {
		return fmt.Errorf("a side of the partition is empty")
	}
	return nil
}

// Params returns the fault's parameters: its own, or its kind's defaults.
func (f *Fault) params() FaultParams {
	if f.Params == nil {
		return DefaultParams(f.Kind)
	}
	return f.Params
}

// Validate checks what a fault says by itself, whoever built it (the
// loader, a driver's command, Go code): that its parameters are of its
// kind and within their ranges, and that its target is well formed. Where
// it names components is checked against a run (New, Inject).
func (f *Fault) Validate() error {
	if int(f.Kind) >= len(faultKinds) {
		return fmt.Errorf("unknown fault kind %d", f.Kind)
	}
	p := f.params()
	if p.Kind() != f.Kind {
		return fmt.Errorf("a %s fault has the parameters of a %s fault", f.Kind, p.Kind())
	}
	if err := p.check(); err != nil {
		return err
	}
	if f.Kind != FaultPartition {
		if _, err := ParseTarget(f.Target); err != nil {
			return err
		}
	}
	return firstErr(rangeErr("chance", f.Chance, Range{Lo: 0, Hi: 1}), rangeErr("instances", f.Share, Range{Lo: 0, Hi: 1}))
}
