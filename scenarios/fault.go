package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/internal/format"
	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/dist"
)

var (
	faultKeys = []string{"name", "kind", "target", "start", "duration", "every", "chance", "instances",
		"add", "direction", "probability", "factor", "workers", "startup_delay", "between", "one_way", "offset", "partition",
		"batch", "warmup", "warmup_factor", "new_errors", "new_factor", "rollback_after", "termination_grace_period", "growth", "limit"}
	faultKinds = sim.FaultKinds()
	directions = []string{"both", "requests", "responses"} // sim.Direction
)

// firstKindKey is where the keys of some kinds only begin in faultKeys.
const firstKindKey = 8

// kindSpec is what a kind of fault takes: the keys of its own (the
// required ones first). What it can target is sim's (sim.FaultTargets).
type kindSpec struct {
	keys     []string
	required int // keys[:required] are required
}

var (
	onService = sim.OnService | sim.OnInstance
	onBroker  = sim.OnBroker | sim.OnNode
	onStore   = sim.OnStore | sim.OnReplica
)

var kindSpecs = map[sim.FaultKind]kindSpec{
	sim.FaultLatency:    {keys: []string{"add", "direction"}, required: 1},
	sim.FaultErrors:     {keys: []string{"probability"}, required: 1},
	sim.FaultCrash:      {keys: []string{"startup_delay"}},
	sim.FaultPause:      {},
	sim.FaultLoss:       {keys: []string{"probability", "direction"}, required: 1},
	sim.FaultPartition:  {keys: []string{"between", "one_way"}, required: 1},
	sim.FaultBlackhole:  {},
	sim.FaultSlowdown:   {keys: []string{"factor"}, required: 1},
	sim.FaultCapacity:   {keys: []string{"workers"}, required: 1},
	sim.FaultSurge:      {keys: []string{"factor"}, required: 1},
	sim.FaultThrottle:   {keys: []string{"probability"}, required: 1},
	sim.FaultSkew:       {keys: []string{"offset"}, required: 1},
	sim.FaultLeaderLoss: {keys: []string{"partition"}},
	sim.FaultDeploy:     {keys: []string{"batch", "startup_delay", "warmup", "warmup_factor", "new_errors", "new_factor", "rollback_after", "termination_grace_period"}},
	sim.FaultLeak:       {keys: []string{"growth", "limit", "startup_delay"}, required: 1},
	sim.FaultDependency: {keys: []string{"add", "probability"}},
	sim.FaultRebuild:    {},
}

// kindKeys are the keys that only some kinds take, each with the example
// a missing required key's hint shows.
var kindKeys = map[string]string{
	"add":           `add = "800ms", the delay added to each request`,
	"direction":     `direction = "requests"`,
	"probability":   "probability = 0.5, the share of requests it hits",
	"factor":        "factor = 3",
	"workers":       "workers = 2, the workers left to each instance",
	"startup_delay": `startup_delay = "10s"`,
	"between":       `between = [["checkout"], ["payment"]]`,
	"one_way":       "one_way = true",
	"offset":        `offset = "-5s", how far the replica's clock runs ahead (negative: behind)`,
	"partition":     "partition = 0",
	"growth":        "growth = 0.1, the share by which the service time grows per minute of uptime",
}

// kindsTaking lists the kinds that take key, for messages.
func kindsTaking(key string) string {
	var names []string
	for i, name := range faultKinds {
		if slices.Contains(kindSpecs[sim.FaultKind(i)].keys, key) {
			names = append(names, strconv.Quote(name))
		}
	}
	if len(names) == 1 {
		return "kind " + names[0]
	}
	return "kinds " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// faultDef is what resolveFaults needs of a fault once every component is
// known.
type faultDef struct {
	t         *table
	idx       int // in spec.Faults
	kindOK    bool
	batch     int    // a deploy's batch as a count, or 0
	target    string // as written; "" when absent or not a string
	count     int    // instances as a count, or 0
	workersOK bool   // workers is valid
	sidesOK   bool   // between has the right shape
	partOK    bool   // partition is valid
}

func (b *builder) fault(i int, t *table) sim.Fault {
	f := sim.Fault{Chance: 1}
	label := fmt.Sprintf("[[fault]] #%d", i+1)
	if l, ok := b.bench.over.added[b.ix.find(t.path)]; ok {
		label = l // a fault a variant adds
	}
	t.what = label
	t.known(faultKeys...)
	d := faultDef{t: t, idx: i}
	if n, ok := t.name("name"); ok {
		// A kind's name would make a path such as fault.latency.add and a
		// cascade named "latency" ambiguous.
		if slices.Contains(faultKinds, n) {
			t.valErr("name", fmt.Sprintf("a fault may not be named %q, a kind of fault", n),
				"name it for what it does to what: \"payment-slow\", \"db-crash\"")
		} else {
			f.Name = n
			t.what = fmt.Sprintf("[[fault]] %q", n)
		}
	}
	if t.require("kind", `kind = "latency"`) {
		if k, ok := t.str("kind"); ok {
			if n := slices.IndexFunc(faultKinds, func(name string) bool { return strings.EqualFold(name, k) }); n >= 0 {
				f.Kind, d.kindOK = sim.FaultKind(n), true
				if f.Name == "" {
					t.what = fmt.Sprintf("%s (%s)", label, faultKinds[n])
				}
			} else {
				t.valErr("kind", fmt.Sprintf("unknown fault kind %q", k), enumHint(k, faultKinds))
			}
		}
	}
	b.faultTarget(t, &f, &d)
	b.faultTiming(t, &f)
	b.faultInstances(t, &f, &d)
	r := &faultReader{b: b, t: t, f: &f, d: &d, seen: make(map[string]bool)}
	if d.kindOK {
		r.kindKeys(kindSpecs[f.Kind])
		f.Params = paramReaders[f.Kind](r)
	} else {
		// An unknown kind: each key of some kinds is checked for its
		// own sake, once.
		for _, read := range paramReaders {
			read(r)
		}
	}
	b.faults = append(b.faults, d)
	return f
}

// faultNames reports a fault name that an earlier fault has already: a
// path selects a fault by its name, and bench compares its cascade across
// variants by it.
func (b *builder) faultNames() {
	first := map[string]*table{}
	for _, d := range b.faults {
		n := b.spec.Faults[d.idx].Name
		if n == "" {
			continue
		}
		if f, dup := first[n]; dup {
			line, _ := b.ix.lineCol(b.ix.find(join(f.path, "name")).val)
			d.t.valErr("name", fmt.Sprintf("duplicate fault name %q: the [[fault]] on line %d has it already", n, line),
				"each fault needs a name of its own")
			continue
		}
		first[n] = d.t
	}
}

// faultTarget reads the target key, whose grammar resolveFaults applies
// once every component is known.
func (b *builder) faultTarget(t *table, f *sim.Fault, d *faultDef) {
	switch {
	case d.kindOK && f.Kind == sim.FaultPartition:
		if t.has("target") {
			t.keyErr("target", "a partition has no target", "it cuts every link between the two sets of components of between")
		}
	case !d.kindOK && !t.has("target"):
		// What the target should be depends on the kind.
	case t.require("target", `target = "payment"`):
		if s, ok := t.str("target"); ok {
			d.target = s
			if strings.TrimSpace(s) == "" {
				t.valErr("target", "target is empty", `name a service ("payment"), an instance ("payment#2"), a link ("checkout->payment") or a client`)
				d.target = ""
			}
		}
	}
}

// faultTiming reads when a fault happens: start, duration, every, chance.
func (b *builder) faultTiming(t *table, f *sim.Fault) {
	if t.require("start", `start = "30s"`) {
		if s, ok := t.nonNegative("start"); ok {
			if b.pastEnd(s) {
				t.valErr("start", fmt.Sprintf("start (%s) must be before the end of the run (duration = %s)", dur(s), dur(b.spec.Duration)), "")
			} else {
				f.Start = s
			}
		}
	}
	durOK := false
	deploy := f.Kind == sim.FaultDeploy // the zero Kind is latency: a deploy is known
	if deploy && t.has("duration") {
		t.keyErr("duration", "a deploy has no duration: it ends when its last batch has warmed up",
			"remove duration; rollback_after rolls a bad release back, every repeats the deploy")
	} else if f.Kind == sim.FaultRebuild && t.has("duration") {
		t.keyErr("duration", "a rebuild has no duration: it ends when the view has caught up",
			"remove duration; every repeats the rebuild")
	} else if dd, ok := t.duration("duration"); ok {
		if dd <= 0 {
			t.valErr("duration", fmt.Sprintf("duration must be positive, got %s", dur(dd)), "omit duration to keep the fault until the end of the run")
		} else {
			f.Duration, durOK = dd, true
		}
	}
	if t.has("every") {
		if e, ok := t.positiveDuration("every"); ok {
			switch {
			case !t.has("duration") && !deploy && f.Kind != sim.FaultRebuild:
				t.keyErr("every", "every repeats a fault that ends: it needs a duration", "a fault without duration lasts until the end of the run")
			case durOK && e <= f.Duration:
				t.valErr("every", fmt.Sprintf("every (%s) must be longer than the fault's duration (%s)", dur(e), dur(f.Duration)),
					"each occurrence would begin before the previous one ends")
			default:
				f.Every = e
			}
		}
	}
	if c, ok := t.fraction("chance", true); ok {
		f.Chance = c
	}
}

// faultInstances reads instances: a count, turned into a share once the
// target's instances are known, or a share.
func (b *builder) faultInstances(t *table, f *sim.Fault, d *faultDef) {
	v, ok := t.m["instances"]
	if !ok {
		return
	}
	switch n := v.(type) {
	case int64:
		if n < 1 {
			t.valErr("instances", fmt.Sprintf("instances must be at least 1, got %d", n), `a count of instances, or a share such as "50%"`)
		} else {
			d.count = int(min(n, maxInstances+1))
		}
	case string:
		if sh, ok := share(n); ok {
			f.Share = sh
		} else {
			t.valErr("instances", fmt.Sprintf("instances %q is neither a count nor a share", n), `write a count (instances = 2) or a percentage in (0%, 100%] (instances = "50%")`)
		}
	default:
		t.typeErr("instances", v, `a count or a share such as "50%"`, "")
	}
}

// faultReader reads the keys of one kind of fault into its parameters.
// Each method reads one key, when present, over the default the
// parameter holds; ranges are sim's, as the engine and the TUI check them.
type faultReader struct {
	b    *builder
	t    *table
	f    *sim.Fault // the common fields, read already
	d    *faultDef
	seen map[string]bool // keys read: each is read once
}

// kindKeys requires the keys kind k cannot go without and refuses those
// of other kinds.
func (r *faultReader) kindKeys(spec kindSpec) {
	t, k := r.t, r.f.Kind
	for _, key := range faultKeys[firstKindKey:] {
		at := slices.Index(spec.keys, key)
		switch {
		case !t.has(key) && at >= 0 && at < spec.required:
			t.require(key, kindKeys[key])
		case t.has(key) && at < 0:
			hint := fmt.Sprintf("kind %q takes no key of its own", k)
			if len(spec.keys) > 0 {
				hint = fmt.Sprintf("kind %q takes %s", k, andList(spec.keys))
			}
			t.keyErr(key, fmt.Sprintf("%s applies only to faults of %s", key, kindsTaking(key)), hint)
			r.seen[key] = true
		}
	}
}

// take says whether key is to be read now: present, and not read yet.
func (r *faultReader) take(key string) bool {
	if !r.t.has(key) || r.seen[key] {
		return false
	}
	r.seen[key] = true
	return true
}

func (r *faultReader) dist(key string, to *dist.Dist) {
	if r.take(key) {
		if v, ok := r.t.dist(key); ok {
			*to = v
		}
	}
}

func (r *faultReader) direction(to *sim.Direction) {
	if r.take("direction") {
		if n, ok := r.t.enum("direction", directions); ok {
			*to = sim.Direction(n)
		}
	}
}

// share reads a fraction in sim.ShareRange (or [0, 1] when closed).
func (r *faultReader) share(key string, open bool, to *float64, set *bool) {
	if r.take(key) {
		if v, ok := r.t.fraction(key, open); ok {
			*to = v
			if set != nil {
				*set = true
			}
		}
	}
}

func (r *faultReader) number(key string, rng sim.Range, hint string, to *float64) {
	if r.take(key) {
		if v, ok := r.t.number(key, within(rng), hint); ok {
			*to = v
		}
	}
}

func (r *faultReader) nonNegative(key string, to *time.Duration) {
	if r.take(key) {
		if v, ok := r.t.nonNegative(key); ok {
			*to = v
		}
	}
}

// within is a sim.Range as the loader's interval.
func within(r sim.Range) interval {
	return interval{Lo: r.Lo, Hi: r.Hi, LoOpen: r.LoOpen, HiOpen: r.HiOpen}
}

const factorHint = "3 makes it three times slower (slowdown) or busier (surge)"

// paramReaders read each kind's own keys, over sim.DefaultParams.
var paramReaders = [...]func(r *faultReader) sim.FaultParams{
	sim.FaultLatency: func(r *faultReader) sim.FaultParams {
		p := sim.LatencyFault{}
		r.dist("add", &p.Add)
		r.direction(&p.Direction)
		return p
	},
	sim.FaultErrors: func(r *faultReader) sim.FaultParams {
		p := sim.ErrorsFault{}
		r.share("probability", true, &p.Probability, nil)
		return p
	},
	sim.FaultCrash: func(r *faultReader) sim.FaultParams {
		p := sim.CrashFault{}
		r.nonNegative("startup_delay", &p.StartupDelay)
		return p
	},
	sim.FaultPause: func(*faultReader) sim.FaultParams { return sim.PauseFault{} },
	sim.FaultLoss: func(r *faultReader) sim.FaultParams {
		p := sim.LossFault{}
		r.share("probability", true, &p.Probability, nil)
		r.direction(&p.Direction)
		return p
	},
	sim.FaultPartition: func(r *faultReader) sim.FaultParams {
		p := sim.PartitionFault{}
		if r.take("between") {
			p.Sides, r.d.sidesOK = sides(r.t)
		}
		if r.take("one_way") {
			p.OneWay, _ = r.t.boolean("one_way")
		}
		return p
	},
	sim.FaultBlackhole: func(*faultReader) sim.FaultParams { return sim.BlackholeFault{} },
	sim.FaultSlowdown: func(r *faultReader) sim.FaultParams {
		p := sim.SlowdownFault{}
		r.number("factor", sim.FactorRange, factorHint, &p.Factor)
		return p
	},
	sim.FaultCapacity: func(r *faultReader) sim.FaultParams {
		p := sim.CapacityFault{}
		if r.take("workers") {
			p.Workers, r.d.workersOK = r.t.integer("workers", int64(sim.WorkersRange.Lo), maxInt)
		}
		return p
	},
	sim.FaultSurge: func(r *faultReader) sim.FaultParams {
		p := sim.SurgeFault{}
		r.number("factor", sim.FactorRange, factorHint, &p.Factor)
		return p
	},
	sim.FaultThrottle: func(r *faultReader) sim.FaultParams {
		p := sim.ThrottleFault{}
		r.share("probability", true, &p.Probability, nil)
		return p
	},
	sim.FaultSkew: func(r *faultReader) sim.FaultParams {
		p := sim.SkewFault{}
		if !r.take("offset") {
			return p
		}
		if o, ok := r.t.duration("offset"); ok {
			switch {
			case o == 0:
				r.t.valErr("offset", "offset must not be zero", `a skew fault moves a clock: "5s" ahead, "-5s" behind`)
			case o > sim.MaxOffset || o < -sim.MaxOffset:
				r.t.valErr("offset", fmt.Sprintf("offset must be within ±%s, got %s", dur(sim.MaxOffset), dur(o)), "")
			default:
				p.Offset = o
			}
		}
		return p
	},
	sim.FaultLeaderLoss: func(r *faultReader) sim.FaultParams {
		p := sim.DefaultParams(sim.FaultLeaderLoss).(sim.LeaderLossFault)
		if !r.take("partition") {
			return p
		}
		if n, isInt := r.t.m["partition"].(int64); isInt && n == -1 {
			r.t.valErr("partition", "partition must be >= 0, got -1", "leave partition out for every partition of the topic")
		} else if n, ok := r.t.integer("partition", 0, maxPartitions-1); ok {
			p.Partition, r.d.partOK = n, true
		}
		return p
	},
	sim.FaultDeploy:  func(r *faultReader) sim.FaultParams { return r.deploy() },
	sim.FaultRebuild: func(*faultReader) sim.FaultParams { return sim.RebuildFault{} },
	sim.FaultLeak: func(r *faultReader) sim.FaultParams {
		p := sim.DefaultParams(sim.FaultLeak).(sim.LeakFault)
		r.number("growth", sim.GrowthRange, "0.1 makes the service time grow by 10% per minute of uptime", &p.Growth)
		r.number("limit", sim.LimitRange, "3 crashes an instance when it serves three times slower than normal", &p.Limit)
		r.nonNegative("startup_delay", &p.StartupDelay)
		return p
	},
	sim.FaultDependency: func(r *faultReader) sim.FaultParams {
		p := sim.DependencyFault{}
		if r.d.kindOK && !r.t.has("add") && !r.t.has("probability") {
			r.t.headerErr(fmt.Sprintf("%s needs add, probability, or both", r.t.what),
				`add add = "2s", the latency the dependency adds, and/or probability = 0.3, the share of its calls that fail`)
		}
		r.dist("add", &p.Add)
		r.share("probability", true, &p.Probability, nil)
		return p
	},
}

// deploy reads a deploy's keys: its batches, its restarts, and a bad
// release with its rollback.
func (r *faultReader) deploy() sim.DeployFault {
	t, f := r.t, r.f
	p := sim.DefaultParams(sim.FaultDeploy).(sim.DeployFault)
	if r.take("batch") {
		r.batch(&p)
	}
	r.nonNegative("startup_delay", &p.StartupDelay)
	r.nonNegative("warmup", &p.Warmup)
	if r.take("warmup_factor") {
		if !t.has("warmup") {
			t.keyErr("warmup_factor", "warmup_factor applies only with warmup",
				"warmup is how long a restarted instance serves slowly, warmup_factor how many times slower")
		} else if x, ok := t.number("warmup_factor", within(sim.WarmupFactorRange), "1 is no warm-up; 2 serves twice as slowly while warming up"); ok {
			p.WarmupFactor = x
		}
	}
	r.share("new_errors", false, &p.NewErrors, &p.HasNewErrors)
	r.number("new_factor", sim.FactorRange, "3 makes the new version three times slower", &p.NewFactor)
	// A pod's terminationGracePeriodSeconds, 30 s by default
	// (k8s.io/api core/v1 DefaultTerminationGracePeriodSeconds).
	if r.take("termination_grace_period") {
		if d, ok := t.positiveDuration("termination_grace_period"); ok {
			p.TerminationGracePeriod = d
		}
	}
	if !r.take("rollback_after") {
		return p
	}
	if rb, ok := t.positiveDuration("rollback_after"); ok {
		switch {
		case !t.has("new_errors") && !t.has("new_factor"):
			t.keyErr("rollback_after", "rollback_after applies only to a bad release",
				"set new_errors or new_factor, what is wrong with the new version; a good release is not rolled back")
		case r.b.pastEnd(f.Start + rb):
			t.valErr("rollback_after", fmt.Sprintf("the rollback would begin at %s, after the end of the run (duration = %s)", dur(f.Start+rb), dur(r.b.spec.Duration)),
				"shorten rollback_after, or leave it out to keep the bad release")
		case f.Every > 0 && rb >= f.Every:
			t.valErr("rollback_after", fmt.Sprintf("rollback_after (%s) must be shorter than every (%s)", dur(rb), dur(f.Every)),
				"each deploy would begin before the previous one is rolled back")
		default:
			p.RollbackAfter = rb
		}
	}
	return p
}

// batch reads a deploy's batch: a count of instances, or a share of
// them as "25%" or 0.25.
func (r *faultReader) batch(p *sim.DeployFault) {
	t := r.t
	const want = `a count of instances (batch = 2) or a share of them (batch = "25%" or batch = 0.25)`
	switch v := t.m["batch"].(type) {
	case int64:
		if v < 1 {
			t.valErr("batch", fmt.Sprintf("batch must be at least 1, got %d", v), want)
			return
		}
		p.Batch = int(min(v, maxInstances+1))
		r.d.batch = p.Batch
	case float64:
		if !sim.BatchShareRange.Contains(v) || v == 1 {
			hint := want
			if v == 1 {
				hint = `write batch = 1 for one instance at a time, or batch = "100%" for all of them at once`
			} else if v > 1 && v == math.Trunc(v) && v < 1e15 {
				hint = fmt.Sprintf("write batch = %d", int64(v))
			}
			t.valErr("batch", fmt.Sprintf("batch must be an integer >= 1 or a share in (0, 1), got %g", v), hint)
			return
		}
		p.Batch, p.BatchShare = 0, v
	case string:
		sh, ok := share(v)
		if !ok {
			t.valErr("batch", fmt.Sprintf("batch %q is neither a count nor a share", v), want)
			return
		}
		p.Batch, p.BatchShare = 0, sh
	default:
		t.typeErr("batch", v, `a count or a share such as "25%"`, "")
	}
}

// share reads a percentage such as "50%" into a fraction in (0, 1].
func share(s string) (float64, bool) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || !(f > 0 && f <= 100) {
		return 0, false
	}
	return f / 100, true
}

// sides reads a partition's between: two non-empty arrays of names. Whether
// the names exist is checked once every component is known.
func sides(t *table) (out [2][]string, ok bool) {
	const want = `two arrays of component names, such as between = [["checkout"], ["payment", "fraud"]]`
	v := t.m["between"]
	list, isArray := v.([]any)
	if !isArray {
		t.typeErr("between", v, "an array", want)
		return out, false
	}
	if len(list) != 2 {
		t.valErr("between", fmt.Sprintf("between must hold exactly two sets of components, not %d", len(list)), want)
		return out, false
	}
	ok = true
	for s, e := range list {
		names, isArray := e.([]any)
		if !isArray {
			t.elemErr("between", s, fmt.Sprintf("each side of between must be an array of names, not %s", typeName(e)), want)
			ok = false
			continue
		}
		if len(names) == 0 {
			t.elemErr("between", s, "a side of between is empty", "each side needs at least one component")
			ok = false
			continue
		}
		for j, n := range names {
			name, isStr := n.(string)
			if !isStr {
				t.l.errorAt(t.l.ix.find(elem(elem(join(t.path, "between"), s), j)).val,
					fmt.Sprintf("each element of a side must be a component name, not %s", typeName(n)), "")
				ok = false
				continue
			}
			out[s] = append(out[s], name)
		}
	}
	return out, ok
}

// resolveFaults checks what the faults name, now that every component is
// known, and finishes them: the target as the engine reads it, the share of
// instances.
func (b *builder) resolveFaults() {
	b.faultNames()
	links := b.links()
	for _, d := range b.faults {
		f := &b.spec.Faults[d.idx]
		t := d.t
		if d.kindOK && f.Kind == sim.FaultPartition {
			if d.sidesOK {
				b.partition(t, f.Params.(sim.PartitionFault).Sides, b.talks(links))
			}
			if t.has("instances") {
				t.keyErr("instances", "instances does not apply to a partition", "a partition cuts links between whole components")
			}
			continue
		}
		if d.target == "" {
			continue
		}
		tg, ok := b.target(t, d, f.Kind, links)
		if !ok {
			continue
		}
		f.Target = tg.String()
		if !d.kindOK {
			continue
		}
		if tg.form&sim.FaultTargets(f.Kind) == 0 {
			what := sim.FaultTargets(f.Kind).String()
			if f.Kind == sim.FaultDependency {
				what = "an external service"
			}
			t.valErr("target", fmt.Sprintf("kind %q targets %s, not %s", f.Kind, what, tg.describe()), kindTargetHint(f.Kind, tg.form))
			continue
		}
		if p, ok := f.Params.(sim.LeaderLossFault); ok && d.partOK && tg.topic.partitionsOK {
			if n := b.spec.Brokers[tg.topic.broker].Topics[tg.topic.topic].Partitions; p.Partition >= n {
				t.valErr("partition", fmt.Sprintf("topic %q has %d partition%s: no partition %d", tg.name, n, plural(n), p.Partition),
					fmt.Sprintf("partitions are numbered from 0: 0 .. %d; leave partition out for all of them", n-1))
			}
		}
		if f.Kind == sim.FaultSurge {
			if c := b.spec.Clients[tg.idx]; c.Users > 0 {
				t.valErr("target", fmt.Sprintf("a surge multiplies an open-loop client's rate; %q is closed loop (users = %d)", c.Name, c.Users),
					"change its users instead, or target a client with a rate or a schedule")
			}
		}
		if t.has("direction") && f.Kind == sim.FaultLatency && tg.form != sim.OnLink {
			t.keyErr("direction", "direction applies only to a latency fault on a link (\"caller->callee\")",
				"on a service, the delay adds to the service time, which has no direction")
		}
		if f.Kind == sim.FaultDependency && !(tg.kind == kindService && b.spec.Services[tg.idx].External) {
			t.valErr("target", fmt.Sprintf("a dependency fault targets an external service; %s %q is not one", tg.kind, tg.name),
				"mark a third-party service with external = true; for a service of your own, use latency and errors faults")
		}
		if f.Kind == sim.FaultDeploy && d.batch > 0 && b.pools[tg.idx].instancesOK {
			if n := maxCount(&b.spec.Services[tg.idx]); d.batch > n {
				t.valErr("batch", fmt.Sprintf("batch (%d) must be at most the %d instances of %q", d.batch, n, tg.name),
					fmt.Sprintf(`batch = "100%%" restarts all of them at once`))
			}
		}
		if p, ok := f.Params.(sim.CapacityFault); ok && d.workersOK && b.pools[tg.idx].workersOK {
			if w := b.spec.Services[tg.idx].Workers; p.Workers > w {
				t.valErr("workers", fmt.Sprintf("workers (%d) must not exceed the %d workers of %q", p.Workers, w, b.spec.Services[tg.idx].Name),
					"a capacity fault sets the workers left to each instance")
			}
		}
		if !t.has("instances") {
			continue
		}
		switch f.Kind {
		case sim.FaultDeploy:
			t.keyErr("instances", "instances does not apply to a deploy", "a deploy restarts every instance of its target; batch says how many at a time")
			continue
		case sim.FaultDependency:
			t.keyErr("instances", "instances does not apply to a dependency fault", "an external dependency browns out as a whole")
			continue
		}
		if tg.form == sim.OnOperation {
			t.keyErr("instances", "instances applies only to a service or gateway target, not to an operation",
				fmt.Sprintf("a fault on an operation acts on all the instances of %q; target %q to pick some of them", tg.name, tg.name))
			f.Share = 0
			continue
		}
		if tg.form != sim.OnService {
			t.keyErr("instances", fmt.Sprintf("instances applies only to a service or gateway target, not to %s", tg.describe()),
				"it picks part of a service's instances at random; an instance or a link is one thing already")
			f.Share = 0
			continue
		}
		if d.count > 0 && b.pools[tg.idx].instancesOK {
			if n := b.spec.Services[tg.idx].Instances; d.count > n {
				t.valErr("instances", fmt.Sprintf("instances (%d) must be at most the %d instances of %q", d.count, n, tg.name), "")
			} else {
				f.Share = float64(d.count) / float64(n)
			}
		}
	}
}

// kindTargetHint says what a kind of fault does to its target, of form
// got.
func kindTargetHint(k sim.FaultKind, got sim.Targets) string {
	switch {
	case k == sim.FaultSkew:
		return `skew moves the clock of a store's replicas: target a store ("db", all its replicas) or one replica ("db#2")`
	case k == sim.FaultLeaderLoss:
		return "leader_loss takes the leadership of a topic's partitions from their leaders: target a topic"
	case got == sim.OnOperation:
		return `only kinds "latency", "errors" and "slowdown" act on one operation; target the service for the others`
	case k == sim.FaultDependency:
		return "a dependency fault browns out a third-party service: target a [[service]] with external = true"
	case k == sim.FaultDeploy:
		return "a deploy restarts every instance of a service or gateway, batch at a time: target the service; batch says how many at once"
	case got == sim.OnTopic:
		return `a topic's partitions lose their leaders with kind = "leader_loss"; for the broker's nodes, target the broker`
	case got&(onBroker|onStore|sim.OnView) != 0:
		var kinds []string
		for i, name := range faultKinds {
			if sim.FaultTargets(sim.FaultKind(i))&got != 0 {
				kinds = append(kinds, strconv.Quote(name))
			}
		}
		return fmt.Sprintf("%s takes the kinds %s, and may be a side of a \"partition\"", got.String(), format.OrList(kinds))
	}
	switch k {
	case sim.FaultLoss:
		return `loss drops messages on a link; for a service that fails requests use kind = "errors"`
	case sim.FaultSurge:
		return "a surge multiplies a client's rate"
	case sim.FaultLatency, sim.FaultBlackhole:
		return "on a service it acts on its requests, on a link on the messages between caller and callee"
	}
	return "it acts on the instances of a service or gateway; for a link use kind = \"latency\", \"loss\" or \"blackhole\""
}

// target is a resolved fault target.
type target struct {
	form  sim.Targets
	name  string // as the engine reads it: spacing removed; the service of an operation
	op    string // of an operation
	idx   int    // the service or gateway (also of an instance), client, broker, store or view
	kind  compKind
	topic topicDef // of a topic
}

// String writes the target as the engine reads it: "catalog.search" for
// an operation.
func (tg target) String() string {
	if tg.form == sim.OnOperation {
		return tg.name + "." + tg.op
	}
	return tg.name
}

func (tg target) describe() string {
	switch tg.form {
	case sim.OnInstance:
		return "an instance"
	case sim.OnLink:
		return "a link"
	case sim.OnClient:
		return "a client"
	case sim.OnNode:
		return "a broker node"
	case sim.OnReplica:
		return "a store replica"
	case sim.OnTopic:
		return "a topic"
	case sim.OnOperation:
		return "an operation"
	}
	return "a " + tg.kind.String()
}

// formOf is the form of a component named without "#n".
func formOf(k compKind) sim.Targets {
	switch k {
	case kindClient:
		return sim.OnClient
	case kindBroker:
		return sim.OnBroker
	case kindStore:
		return sim.OnStore
	case kindView:
		return sim.OnView
	}
	return sim.OnService
}

// candidates says which components a fault of kind k (when kindOK) may
// name, for the message and hint about an unknown name: the noun and the
// headers, and the kinds. With members, only those with numbered members
// count. The kinds of data component the file does not use are left out,
// unless nothing would be left.
func (b *builder) candidates(k sim.FaultKind, kindOK, members bool) (noun, headers string, kinds []compKind) {
	forms := onService | sim.OnLink
	if kindOK {
		forms = sim.FaultTargets(k)
	}
	if members {
		forms &= sim.OnInstance | sim.OnNode | sim.OnReplica
	}
	var all []compKind
	if forms&(onService|sim.OnLink) != 0 {
		all = append(all, kindService, kindGateway)
	}
	if forms&sim.OnClient != 0 {
		all = append(all, kindClient)
	}
	if forms&onBroker != 0 {
		all = append(all, kindBroker)
	}
	if forms&onStore != 0 {
		all = append(all, kindStore)
	}
	if forms&sim.OnView != 0 {
		all = append(all, kindView)
	}
	for _, c := range all {
		if c.pool() || c == kindClient || b.tablesOf(c) > 0 {
			kinds = append(kinds, c)
		}
	}
	if len(kinds) == 0 {
		kinds = all
	}
	var nouns, hdrs []string
	for _, c := range kinds {
		nouns = append(nouns, c.String())
		hdrs = append(hdrs, header(c.String()))
	}
	return format.OrList(nouns), format.OrList(hdrs), kinds
}

// andList joins words as "a", "a and b", "a, b and c".
func andList(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// target resolves the target of fault d of kind k (when d.kindOK): the
// grammar is sim.ParseTarget's; what it names is checked here, with
// messages that say what exists.
func (b *builder) target(t *table, d faultDef, k sim.FaultKind, links map[string][]string) (target, bool) {
	s := strings.TrimSpace(d.target)
	pt, perr := sim.ParseTarget(s)
	switch pt.Form {
	case sim.TargetLink:
		from, to := pt.Caller, pt.Name
		name := pt.String()
		if from == "" || to == "" {
			t.valErr("target", perr.Error(), `write "caller->callee", such as "checkout->payment"`)
			return target{}, false
		}
		caller, ok := b.comps[from]
		if !ok {
			t.valErr("target", fmt.Sprintf("unknown component %q in link %q", from, name), b.nameHint(from, "component", kindService, kindGateway, kindClient))
			return target{}, false
		}
		callee, ok := b.comps[to]
		switch {
		case perr != nil: // names an operation
			t.valErr("target", perr.Error(),
				fmt.Sprintf("write %q; the messages of all the operations take the same link", strings.Split(from, ".")[0]+"->"+strings.Split(to, ".")[0]))
			return target{}, false
		case !ok:
			t.valErr("target", fmt.Sprintf("unknown service or gateway %q in link %q", to, name), b.nameHint(to, "[[service]] or [[gateway]]", kindService, kindGateway))
			return target{}, false
		case callee.kind == kindClient:
			t.valErr("target", fmt.Sprintf("%q is a client: a link ends at the service or gateway it calls", to), "")
			return target{}, false
		case !callee.kind.pool():
			t.valErr("target", fmt.Sprintf("%q is a %s: a link ends at the service or gateway a call goes to", to, callee.kind),
				fmt.Sprintf("to delay the messages of the %s, use a latency fault on %q", callee.kind, to))
			return target{}, false
		case !slices.Contains(links[from], to):
			hint := fmt.Sprintf("%q calls nothing", from)
			if caller.kind == kindClient {
				hint = fmt.Sprintf("client %q targets %q", from, b.spec.Clients[caller.idx].Target)
			} else if l := links[from]; len(l) > 0 {
				hint = fmt.Sprintf("%q calls %s", from, strings.Join(quoteAll(l), ", "))
			}
			t.valErr("target", fmt.Sprintf("nothing uses the link %q: %q does not call %q", name, from, to), hint)
			return target{}, false
		}
		return target{form: sim.OnLink, name: name, idx: callee.idx, kind: callee.kind}, true
	case sim.TargetMember:
		name := pt.Name
		c, ok := b.comps[name]
		if !ok {
			if _, isTopic := b.topics[name]; isTopic {
				t.valErr("target", fmt.Sprintf("%q is a topic: a topic has partitions, not numbered members", name),
					`a leader_loss fault on one partition takes partition = n`)
				return target{}, false
			}
			noun, headers, kinds := b.candidates(k, d.kindOK, true)
			t.valErr("target", fmt.Sprintf("unknown %s %q", noun, name), b.nameHint(name, headers, kinds...))
			return target{}, false
		}
		var count int
		var countOK bool
		var form sim.Targets
		member := "instance"
		switch c.kind {
		case kindService, kindGateway:
			count, countOK, form = b.spec.Services[c.idx].Instances, b.pools[c.idx].instancesOK, sim.OnInstance
		case kindBroker:
			count, countOK, form, member = b.spec.Brokers[c.idx].Nodes, b.brokerOK[c.idx], sim.OnNode, "node"
		case kindStore:
			count, countOK, form, member = b.spec.Stores[c.idx].Replicas, b.storeOK[c.idx], sim.OnReplica, "replica"
		default:
			t.valErr("target", fmt.Sprintf("%q is a %s: it has no numbered members", name, c.kind),
				fmt.Sprintf("services and gateways have instances, brokers nodes and stores replicas; write %q", name))
			return target{}, false
		}
		n := pt.Member
		switch {
		case perr != nil:
			_, num, _ := strings.Cut(s, "#")
			t.valErr("target", fmt.Sprintf("invalid %s number %q in %q", member, strings.TrimSpace(num), s), fmt.Sprintf("write %s#n, n a whole number from 1", name))
			return target{}, false
		case !countOK:
			return target{}, false
		case n < 1 || n > count:
			t.valErr("target", fmt.Sprintf("%q has %d %s%s: no %s #%d", name, count, member, plural(count), member, n),
				fmt.Sprintf("%ss are numbered from 1: %s#1 .. %s#%d", member, name, name, count))
			return target{}, false
		}
		return target{form: form, name: pt.String(), idx: c.idx, kind: c.kind}, true
	case sim.TargetOperation:
		return b.operationTarget(t, s, pt, perr)
	}
	tp, isTopic := b.topics[s]
	c, ok := b.comps[s]
	switch {
	case isTopic && (k == sim.FaultLeaderLoss && d.kindOK || !ok):
		return target{form: sim.OnTopic, name: s, topic: tp}, true
	case ok:
		return target{form: formOf(c.kind), name: s, idx: c.idx, kind: c.kind}, true
	case k == sim.FaultLeaderLoss && d.kindOK:
		t.valErr("target", fmt.Sprintf("unknown topic %q", s), b.topicHint(s, -1))
	default:
		noun, headers, kinds := b.candidates(k, d.kindOK, false)
		t.valErr("target", fmt.Sprintf("unknown %s %q", noun, s), b.nameHint(s, headers, kinds...))
	}
	return target{}, false
}

// operationTarget resolves the target s, pt "name.op", an operation.
func (b *builder) operationTarget(t *table, s string, pt sim.Target, perr error) (target, bool) {
	name, op := pt.Name, pt.Op
	c, ok := b.comps[name]
	switch {
	case perr != nil:
		t.valErr("target", perr.Error(),
			`write "service.operation", such as "catalog.search", or the service alone for all its operations`)
	case !ok:
		t.valErr("target", fmt.Sprintf("unknown service %q", name), b.nameHint(name, "[[service]]", kindService))
	case c.kind != kindService:
		t.valErr("target", fmt.Sprintf("%q is a %s: only a service has operations", name, c.kind), fmt.Sprintf("target %q", name))
	case b.operation(ref{t: t, key: "target", name: name, op: op}, c):
		return target{form: sim.OnOperation, name: name, op: op, idx: c.idx, kind: kindService}, true
	}
	return target{}, false
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strconv.Quote(n)
	}
	return out
}

// links lists, for each component with a valid name, the components it
// sends requests to: a client its target, a service its calls' callees, a
// gateway its routes', a saga's start service the participants it sends
// commands to (an orchestration's steps, and the compensations in both
// modes). Only callees that are services or gateways count.
func (b *builder) links() map[string][]string {
	out := make(map[string][]string)
	add := func(from, to string) {
		if c, ok := b.comps[to]; ok && c.kind.pool() && !slices.Contains(out[from], to) {
			out[from] = append(out[from], to)
		}
	}
	for i, c := range b.spec.Clients {
		if cc, ok := b.comps[c.Name]; ok && cc.kind == kindClient && cc.idx == i {
			add(c.Name, c.Target)
		}
	}
	for i, s := range b.spec.Services {
		if cc, ok := b.comps[s.Name]; ok && cc.kind.pool() && cc.idx == i {
			for _, c := range s.AllCalls() {
				if cc, ok := b.comps[c.To]; ok && cc.kind == kindService {
					add(s.Name, c.To)
				}
			}
		}
	}
	for _, sg := range b.spec.Sagas {
		if c, ok := b.comps[sg.Start]; !ok || !c.kind.pool() {
			continue
		}
		for _, st := range sg.Steps {
			if sg.Mode == sim.Orchestration {
				add(sg.Start, st.Service)
			}
			add(sg.Start, st.Compensation)
		}
	}
	return out
}

// talks lists, for each component with a valid name, the components it
// exchanges messages with, both ways: the links, and the messages of the
// data components (a service and the stores and views it calls, the
// brokers of the topics it publishes to or consumes, a view and the broker
// of its topic, an orchestration's coordinator and its participants).
func (b *builder) talks(links map[string][]string) map[string]map[string]bool {
	out := make(map[string]map[string]bool)
	add := func(x, y string) {
		if _, ok := b.comps[x]; !ok || x == y {
			return
		}
		if _, ok := b.comps[y]; !ok {
			return
		}
		for _, p := range [2][2]string{{x, y}, {y, x}} {
			if out[p[0]] == nil {
				out[p[0]] = make(map[string]bool)
			}
			out[p[0]][p[1]] = true
		}
	}
	for from, tos := range links {
		for _, to := range tos {
			add(from, to)
		}
	}
	brokerOf := func(topic string) string {
		if tp, ok := b.topics[topic]; ok {
			return b.spec.Brokers[tp.broker].Name
		}
		return ""
	}
	for _, s := range b.spec.Services {
		for _, c := range s.AllCalls() {
			if cc, ok := b.comps[c.To]; ok && (cc.kind == kindStore || cc.kind == kindView) {
				add(s.Name, c.To)
			}
		}
		for _, p := range s.Publishes {
			add(s.Name, brokerOf(p.Topic))
		}
		for _, c := range s.Consumes {
			add(s.Name, brokerOf(c.Topic))
		}
	}
	for _, v := range b.spec.Views {
		add(v.Name, brokerOf(v.Topic))
	}
	for _, sg := range b.spec.Sagas {
		if sg.Mode == sim.Choreography {
			// The start service publishes the first step's event.
			add(sg.Start, sg.Broker)
		}
	}
	return out
}

// member is one element of a side of a partition: a component, or one
// node of a broker or replica of a store (n >= 1).
type member struct {
	name string
	n    int
}

// overlaps says whether two members name something in common.
func (m member) overlaps(o member) bool {
	return m.name == o.name && (m.n == 0 || o.n == 0 || m.n == o.n)
}

// sideMember resolves one name of a side, reporting what is wrong with it
// at off.
func (b *builder) sideMember(name string, off int) (member, bool) {
	pt, perr := sim.ParseTarget(name)
	if pt.Form != sim.TargetMember {
		c, ok := b.comps[name]
		switch {
		case !ok:
			noun, headers := "component", "component"
			kinds := []compKind{kindService, kindGateway, kindClient, kindBroker, kindStore}
			b.errorAt(off, fmt.Sprintf("unknown %s %q in between", noun, name), b.nameHint(name, headers, kinds...))
		case c.kind == kindView:
			b.errorAt(off, fmt.Sprintf("%q is a view: a view is not a side of a partition", name),
				"partition the broker it consumes from, or crash or pause the view")
		default:
			return member{name: name}, true
		}
		return member{}, false
	}
	base := pt.Name
	c, ok := b.comps[base]
	var count int
	var countOK bool
	what := "node"
	switch {
	case !ok:
		b.errorAt(off, fmt.Sprintf("unknown component %q in between", name), b.nameHint(base, "[[broker]] or [[store]]", kindBroker, kindStore))
		return member{}, false
	case c.kind == kindBroker:
		count, countOK = b.spec.Brokers[c.idx].Nodes, b.brokerOK[c.idx]
	case c.kind == kindStore:
		count, countOK, what = b.spec.Stores[c.idx].Replicas, b.storeOK[c.idx], "replica"
	default:
		b.errorAt(off, fmt.Sprintf("unknown component %q in between", name),
			fmt.Sprintf("a partition separates whole services: write %q (only broker nodes and store replicas are named one by one)", base))
		return member{}, false
	}
	n := pt.Member
	switch {
	case perr != nil:
		_, num, _ := strings.Cut(name, "#")
		b.errorAt(off, fmt.Sprintf("invalid %s number %q in %q", what, strings.TrimSpace(num), name), fmt.Sprintf("write %s#n, n a whole number from 1", base))
	case !countOK:
	case n < 1 || n > count:
		b.errorAt(off, fmt.Sprintf("%q has %d %s%s: no %s #%d", base, count, what, plural(count), what, n),
			fmt.Sprintf("%ss are numbered from 1: %s#1 .. %s#%d", what, base, base, count))
	default:
		return member{name: base, n: n}, true
	}
	return member{}, false
}

// partition checks the names of a partition's sides, that the sides do not
// overlap, and that the partition cuts at least one link, and writes the
// members of brokers and stores as the engine reads them ("kafka#2").
func (b *builder) partition(t *table, names [2][]string, talks map[string]map[string]bool) {
	var sides [2][]member
	ok := true
	for s, names := range names {
		for j, name := range names {
			at := t.l.ix.find(elem(elem(join(t.path, "between"), s), j)).val
			m, valid := b.sideMember(name, at)
			if !valid {
				ok = false
				continue
			}
			if m.n > 0 {
				names[j] = m.String()
			}
			dup := false
			for o := range sides {
				for _, p := range sides[o] {
					if !p.overlaps(m) || dup {
						continue
					}
					dup = true
					switch {
					case o == s && p == m:
						t.l.errorAt(at, fmt.Sprintf("%q is listed twice on the same side", name), "")
					case o == s:
						t.l.errorAt(at, fmt.Sprintf("%q overlaps %q on the same side", name, p.String()), "a whole broker or store includes all its nodes or replicas")
					case p == m:
						t.l.errorAt(at, fmt.Sprintf("%q is on both sides of the partition", name), "the two sides must be disjoint")
					default:
						t.l.errorAt(at, fmt.Sprintf("%q is on both sides of the partition, as part of %q", name, p.String()),
							"the two sides must be disjoint; a whole broker or store includes all its nodes or replicas")
					}
				}
			}
			if dup {
				ok = false
				continue
			}
			sides[s] = append(sides[s], m)
		}
	}
	if !ok {
		return
	}
	for _, x := range sides[0] {
		for _, y := range sides[1] {
			if x.name != y.name && talks[x.name][y.name] || x.name == y.name && x.n != y.n {
				return
			}
		}
	}
	t.valErr("between", "the partition cuts nothing: no component of one side exchanges messages with one of the other",
		"a partition drops the messages between its sides; put a caller on one side and its callee on the other")
}

func (m member) String() string {
	if m.n > 0 {
		return m.name + "#" + strconv.Itoa(m.n)
	}
	return m.name
}
