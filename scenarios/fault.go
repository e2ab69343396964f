package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/faultline/faultline/sim"
)

var (
	faultKeys = []string{"kind", "target", "start", "duration", "every", "chance", "instances",
		"add", "direction", "probability", "factor", "workers", "startup_delay", "between", "one_way"}
	faultKinds = sim.FaultKinds()
	directions = []string{"both", "requests", "responses"} // sim.Direction
)

// maxFactor bounds slowdown and surge factors: a thousand times slower or
// busier is far beyond any real incident, and more is a slip of the keyboard.
const maxFactor = 1000

// targetForm is how a fault's target is written; a set of them says which
// a kind of fault takes.
type targetForm uint8

const (
	formService  targetForm = 1 << iota // a service or a gateway: "payment"
	formInstance                        // one instance: "payment#2"
	formLink                            // a link: "checkout->payment"
	formClient                          // a client: "shoppers"
)

// describe names the forms of a set, for messages.
func (f targetForm) describe() string {
	var parts []string
	if f&formService != 0 {
		parts = append(parts, "a service or gateway")
	}
	if f&formInstance != 0 {
		parts = append(parts, `one instance ("name#n")`)
	}
	if f&formLink != 0 {
		parts = append(parts, `a link ("caller->callee")`)
	}
	if f&formClient != 0 {
		parts = append(parts, "a client")
	}
	switch len(parts) {
	case 0:
		return "nothing"
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + ", or " + parts[len(parts)-1]
}

// kindSpec is what a kind of fault takes: the keys of its own (the
// required ones first) and its target forms, none for a partition.
type kindSpec struct {
	keys     []string
	required int // keys[:required] are required
	targets  targetForm
}

var onService = formService | formInstance

var kindSpecs = map[sim.FaultKind]kindSpec{
	sim.FaultLatency:   {keys: []string{"add", "direction"}, required: 1, targets: onService | formLink},
	sim.FaultErrors:    {keys: []string{"probability"}, required: 1, targets: onService},
	sim.FaultCrash:     {keys: []string{"startup_delay"}, targets: onService},
	sim.FaultPause:     {targets: onService},
	sim.FaultLoss:      {keys: []string{"probability", "direction"}, required: 1, targets: formLink},
	sim.FaultPartition: {keys: []string{"between", "one_way"}, required: 1},
	sim.FaultBlackhole: {targets: onService | formLink},
	sim.FaultSlowdown:  {keys: []string{"factor"}, required: 1, targets: onService},
	sim.FaultCapacity:  {keys: []string{"workers"}, required: 1, targets: onService},
	sim.FaultSurge:     {keys: []string{"factor"}, required: 1, targets: formClient},
	sim.FaultThrottle:  {keys: []string{"probability"}, required: 1, targets: onService},
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
	target    string // as written; "" when absent or not a string
	count     int    // instances as a count, or 0
	workersOK bool   // workers is valid
	sidesOK   bool   // between has the right shape
}

func (b *builder) fault(i int, t *table) sim.Fault {
	f := sim.Fault{Chance: 1}
	t.what = fmt.Sprintf("[[fault]] #%d", i+1)
	t.known(faultKeys...)
	d := faultDef{t: t, idx: i}
	if t.require("kind", `kind = "latency"`) {
		if k, ok := t.str("kind"); ok {
			if n := slices.IndexFunc(faultKinds, func(name string) bool { return strings.EqualFold(name, k) }); n >= 0 {
				f.Kind, d.kindOK = sim.FaultKind(n), true
				t.what = fmt.Sprintf("[[fault]] #%d (%s)", i+1, faultKinds[n])
			} else {
				t.valErr("kind", fmt.Sprintf("unknown fault kind %q", k), enumHint(k, faultKinds))
			}
		}
	}
	spec := kindSpecs[f.Kind]

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
	if t.require("start", `start = "30s"`) {
		if s, ok := t.nonNegative("start"); ok {
			if b.durOK && s >= b.spec.Duration {
				t.valErr("start", fmt.Sprintf("start (%s) must be before the end of the run (duration = %s)", dur(s), dur(b.spec.Duration)), "")
			} else {
				f.Start = s
			}
		}
	}
	durOK := false
	if dd, ok := t.duration("duration"); ok {
		if dd <= 0 {
			t.valErr("duration", fmt.Sprintf("duration must be positive, got %s", dur(dd)), "omit duration to keep the fault until the end of the run")
		} else {
			f.Duration, durOK = dd, true
		}
	}
	if t.has("every") {
		if e, ok := t.positiveDuration("every"); ok {
			switch {
			case !t.has("duration"):
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
	if v, ok := t.m["instances"]; ok {
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
	// The keys of some kinds only: with an unknown kind, each is checked
	// for its own sake.
	read := func(key string) bool {
		if !t.has(key) {
			if d.kindOK && slices.Index(spec.keys, key) >= 0 && slices.Index(spec.keys, key) < spec.required {
				t.require(key, kindKeys[key])
			}
			return false
		}
		if d.kindOK && !slices.Contains(spec.keys, key) {
			hint := fmt.Sprintf("kind %q takes no key of its own", f.Kind)
			if len(spec.keys) > 0 {
				hint = fmt.Sprintf("kind %q takes %s", f.Kind, strings.Join(spec.keys, " and "))
			}
			t.keyErr(key, fmt.Sprintf("%s applies only to faults of %s", key, kindsTaking(key)), hint)
			return false
		}
		return true
	}
	if read("add") {
		f.Add, _ = t.dist("add")
	}
	if read("direction") {
		if n, ok := t.enum("direction", directions); ok {
			f.Direction = sim.Direction(n)
		}
	}
	if read("probability") {
		f.Probability, _ = t.fraction("probability", true)
	}
	if read("factor") {
		f.Factor, _ = t.number("factor", interval{lo: 0, hi: maxFactor, loOpen: true}, "3 makes it three times slower (slowdown) or busier (surge)")
	}
	if read("workers") {
		f.Workers, d.workersOK = t.integer("workers", 0, maxInt)
	}
	if read("startup_delay") {
		f.StartupDelay, _ = t.nonNegative("startup_delay")
	}
	if read("between") {
		f.Sides, d.sidesOK = sides(t)
	}
	if read("one_way") {
		f.OneWay, _ = t.boolean("one_way")
	}

	b.faults = append(b.faults, d)
	return f
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
	links := b.links()
	for _, d := range b.faults {
		f := &b.spec.Faults[d.idx]
		t := d.t
		if d.kindOK && f.Kind == sim.FaultPartition {
			if d.sidesOK {
				b.partition(t, f, links)
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
		f.Target = tg.name
		if !d.kindOK {
			continue
		}
		spec := kindSpecs[f.Kind]
		if tg.form&spec.targets == 0 {
			t.valErr("target", fmt.Sprintf("kind %q targets %s, not %s", f.Kind, spec.targets.describe(), tg.describe()), kindTargetHint(f.Kind))
			continue
		}
		if f.Kind == sim.FaultSurge {
			if c := b.spec.Clients[tg.idx]; c.Users > 0 {
				t.valErr("target", fmt.Sprintf("a surge multiplies an open-loop client's rate; %q is closed loop (users = %d)", c.Name, c.Users),
					"change its users instead, or target a client with a rate or a schedule")
			}
		}
		if t.has("direction") && f.Kind == sim.FaultLatency && tg.form != formLink {
			t.keyErr("direction", "direction applies only to a latency fault on a link (\"caller->callee\")",
				"on a service, the delay adds to the service time, which has no direction")
		}
		if f.Kind == sim.FaultCapacity && d.workersOK && b.pools[tg.idx].workersOK {
			if w := b.spec.Services[tg.idx].Workers; f.Workers > w {
				t.valErr("workers", fmt.Sprintf("workers (%d) must not exceed the %d workers of %q", f.Workers, w, b.spec.Services[tg.idx].Name),
					"a capacity fault sets the workers left to each instance")
			}
		}
		if !t.has("instances") {
			continue
		}
		if tg.form != formService {
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

// kindTargetHint says what a kind of fault does to its target.
func kindTargetHint(k sim.FaultKind) string {
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
	form targetForm
	name string // as the engine reads it: spacing removed
	idx  int    // the service or gateway (also of an instance), or the client
	kind compKind
}

func (tg target) describe() string {
	switch tg.form {
	case formInstance:
		return "an instance"
	case formLink:
		return "a link"
	case formClient:
		return "a client"
	}
	return "a " + tg.kind.String()
}

// target resolves the target of fault d of kind k (when d.kindOK).
func (b *builder) target(t *table, d faultDef, k sim.FaultKind, links map[string][]string) (target, bool) {
	s := strings.TrimSpace(d.target)
	if from, to, isLink := strings.Cut(s, "->"); isLink {
		from, to = strings.TrimSpace(from), strings.TrimSpace(to)
		name := from + "->" + to
		if from == "" || to == "" {
			t.valErr("target", fmt.Sprintf("link %q needs a caller and a callee", s), `write "caller->callee", such as "checkout->payment"`)
			return target{}, false
		}
		caller, ok := b.comps[from]
		if !ok {
			t.valErr("target", fmt.Sprintf("unknown component %q in link %q", from, name), b.nameHint(from, "component", kindService, kindGateway, kindClient))
			return target{}, false
		}
		callee, ok := b.comps[to]
		switch {
		case !ok:
			t.valErr("target", fmt.Sprintf("unknown service or gateway %q in link %q", to, name), b.nameHint(to, "[[service]] or [[gateway]]", kindService, kindGateway))
			return target{}, false
		case callee.kind == kindClient:
			t.valErr("target", fmt.Sprintf("%q is a client: a link ends at the service or gateway it calls", to), "")
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
		return target{form: formLink, name: name, idx: callee.idx, kind: callee.kind}, true
	}
	if name, num, isInst := strings.Cut(s, "#"); isInst {
		name, num = strings.TrimSpace(name), strings.TrimSpace(num)
		c, ok := b.comps[name]
		switch {
		case !ok:
			t.valErr("target", fmt.Sprintf("unknown service or gateway %q", name), b.nameHint(name, "[[service]] or [[gateway]]", kindService, kindGateway))
			return target{}, false
		case c.kind == kindClient:
			t.valErr("target", fmt.Sprintf("%q is a client: only services and gateways have instances", name), "")
			return target{}, false
		}
		n, err := strconv.Atoi(num)
		count := b.spec.Services[c.idx].Instances
		switch {
		case err != nil:
			t.valErr("target", fmt.Sprintf("invalid instance number %q in %q", num, s), fmt.Sprintf("write %s#n, n a whole number from 1", name))
			return target{}, false
		case !b.pools[c.idx].instancesOK:
			return target{}, false
		case n < 1 || n > count:
			t.valErr("target", fmt.Sprintf("%q has %d instance%s: no instance #%d", name, count, plural(count), n),
				fmt.Sprintf("instances are numbered from 1: %s#1 .. %s#%d", name, name, count))
			return target{}, false
		}
		return target{form: formInstance, name: name + "#" + strconv.Itoa(n), idx: c.idx, kind: c.kind}, true
	}
	c, ok := b.comps[s]
	if !ok {
		if k == sim.FaultSurge {
			t.valErr("target", fmt.Sprintf("unknown client %q", s), b.nameHint(s, "[[client]]", kindClient))
		} else {
			t.valErr("target", fmt.Sprintf("unknown service or gateway %q", s), b.nameHint(s, "[[service]] or [[gateway]]", kindService, kindGateway))
		}
		return target{}, false
	}
	if c.kind == kindClient {
		return target{form: formClient, name: s, idx: c.idx, kind: c.kind}, true
	}
	return target{form: formService, name: s, idx: c.idx, kind: c.kind}, true
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
// gateway its routes'. Only callees that are services or gateways count.
func (b *builder) links() map[string][]string {
	out := make(map[string][]string)
	add := func(from, to string) {
		if c, ok := b.comps[to]; ok && c.kind != kindClient && !slices.Contains(out[from], to) {
			out[from] = append(out[from], to)
		}
	}
	for i, c := range b.spec.Clients {
		if cc, ok := b.comps[c.Name]; ok && cc.kind == kindClient && cc.idx == i {
			add(c.Name, c.Target)
		}
	}
	for i, s := range b.spec.Services {
		if cc, ok := b.comps[s.Name]; ok && cc.kind != kindClient && cc.idx == i {
			for _, c := range s.Calls {
				if cc, ok := b.comps[c.To]; ok && cc.kind == kindService {
					add(s.Name, c.To)
				}
			}
		}
	}
	return out
}

// partition checks the names of a partition's sides, that the sides do not
// overlap, and that the partition cuts at least one link.
func (b *builder) partition(t *table, f *sim.Fault, links map[string][]string) {
	side := make(map[string]int) // the side each name is on
	ok := true
	for s, names := range f.Sides {
		for j, name := range names {
			at := t.l.ix.find(elem(elem(join(t.path, "between"), s), j)).val
			if _, known := b.comps[name]; !known {
				hint := b.nameHint(name, "component", kindService, kindGateway, kindClient)
				if base, _, isInst := strings.Cut(name, "#"); isInst {
					hint = fmt.Sprintf("a partition separates whole components: write %q", base)
				}
				t.l.errorAt(at, fmt.Sprintf("unknown component %q in between", name), hint)
				ok = false
				continue
			}
			if prev, seen := side[name]; seen {
				if prev == s {
					t.l.errorAt(at, fmt.Sprintf("%q is listed twice on the same side", name), "")
				} else {
					t.l.errorAt(at, fmt.Sprintf("%q is on both sides of the partition", name), "the two sides must be disjoint")
				}
				ok = false
				continue
			}
			side[name] = s
		}
	}
	if !ok {
		return
	}
	for from, tos := range links {
		s, in := side[from]
		if !in {
			continue
		}
		for _, to := range tos {
			if o, in := side[to]; in && o != s {
				return
			}
		}
	}
	t.valErr("between", "the partition cuts nothing: no component of one side calls one of the other",
		"a partition drops the messages of the links between its sides; put a caller on one side and its callee on the other")
}
