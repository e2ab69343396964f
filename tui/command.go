package tui

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/dist"
)

// faultUsage says what each kind of fault takes after its target. The
// duration is optional everywhere: without it the fault lasts to the end.
var faultUsage = map[sim.FaultKind]struct{ value, example string }{
	sim.FaultLatency:    {"ADD", "latency checkout->payment 500ms 30s"},
	sim.FaultErrors:     {"SHARE", "errors payment 0.5 20s"},
	sim.FaultThrottle:   {"SHARE", "throttle payment 30% 20s"},
	sim.FaultLoss:       {"SHARE", "loss checkout->payment 0.2 20s"},
	sim.FaultCrash:      {"", "crash payment#1 10s"},
	sim.FaultPause:      {"", "pause payment 5s"},
	sim.FaultBlackhole:  {"", "blackhole payment 10s"},
	sim.FaultSlowdown:   {"FACTOR", "slowdown payment#3 4 30s"},
	sim.FaultSurge:      {"FACTOR", "surge shoppers 3 20s"},
	sim.FaultCapacity:   {"WORKERS", "capacity payment 2 30s"},
	sim.FaultPartition:  {"", "partition frontend,catalog cart 10s"},
	sim.FaultSkew:       {"OFFSET", "skew db#2 -5s 30s"},
	sim.FaultLeaderLoss: {"", "leader_loss orders"},
	sim.FaultDeploy:     {"BATCH", "deploy checkout 1"},
	sim.FaultLeak:       {"GROWTH", "leak catalog 0.5 60s"},
	sim.FaultDependency: {"SHARE", "dependency payments-api 30% 20s"},
	sim.FaultRebuild:    {"", "rebuild order-history"},
}

// parsed is a command line, understood.
type parsed struct {
	cmd  command
	quit bool
	help bool
}

// parseCommand understands one : command line, through the registry's
// commands. Its errors are for the status line: short, and saying what
// would have been right.
func parseCommand(line string, spec *sim.Spec) (parsed, error) {
	args := fields(line)
	if len(args) == 0 {
		return parsed{}, errors.New("empty command")
	}
	reg := registry()
	b := findCommand(reg, args[0])
	if b == nil {
		var names []string
		for _, c := range reg {
			if c.ctx == ctxCommand {
				names = append(names, c.names[0])
			}
		}
		return parsed{}, fmt.Errorf("unknown command %q: try %s (Tab completes)", args[0], strings.Join(names, ", "))
	}
	return b.parse(args[1:], spec)
}

// usage is the error of a command given the wrong number of arguments.
func usage(name string, args []string, n int, example string) error {
	if len(args) != n {
		b := findCommand(registry(), name)
		return fmt.Errorf("usage: :%s, e.g. :%s", b.syntax(), example)
	}
	return nil
}

func parseSeed(args []string, _ *sim.Spec) (parsed, error) {
	if err := usage("seed", args, 1, "seed 7"); err != nil {
		return parsed{}, err
	}
	n, err := strconv.ParseUint(args[0], 10, 64)
	if err != nil {
		return parsed{}, fmt.Errorf("seed %q: want a non-negative integer", args[0])
	}
	return parsed{cmd: command{kind: cmdRestart, seed: n}}, nil
}

// parseGoto reads a virtual time as the command line reads --duration: a
// Go duration with its unit (time.ParseDuration), so that 90 is not taken
// for seconds here and refused there.
func parseGoto(args []string, spec *sim.Spec) (parsed, error) {
	if err := usage("goto", args, 1, "goto 1m30s"); err != nil {
		return parsed{}, err
	}
	d, err := time.ParseDuration(args[0])
	if _, isNumber := strconv.ParseFloat(args[0], 64); isNumber == nil && err != nil {
		return parsed{}, fmt.Errorf("goto %q: a time takes its unit, as on the command line: %ss", args[0], args[0])
	}
	if err != nil || d < 0 {
		return parsed{}, fmt.Errorf("goto %q: want a duration such as 90s or 1m30s", args[0])
	}
	if d > spec.Duration {
		return parsed{}, fmt.Errorf("goto %s: the scenario ends at %s", d, spec.Duration)
	}
	return parsed{cmd: command{kind: cmdGoto, at: d}}, nil
}

func parseSpeedCmd(args []string, _ *sim.Spec) (parsed, error) {
	if err := usage("speed", args, 1, "speed 10"); err != nil {
		return parsed{}, err
	}
	v, err := ParseSpeed(args[0])
	if err != nil {
		return parsed{}, fmt.Errorf("speed %w", err)
	}
	return parsed{cmd: command{kind: cmdSetSpeed, speed: v}}, nil
}

// SpeedHelp says what ParseSpeed takes; --speed and :speed both show it.
const SpeedHelp = "1, 10, 100 or max (any speed up to 1e6, 10x too)"

// maxSpeed bounds a speed: beyond it the pacing is max in all but name.
const maxSpeed = 1e6

// ParseSpeed reads a speed as --speed and :speed take it: max (0), or a
// number of virtual seconds per wall second, in (0, 1e6], optionally
// written with the header's x.
func ParseSpeed(s string) (float64, error) {
	if s == "max" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "x"), 64)
	if err != nil || !(v > 0) || v > maxSpeed {
		return 0, fmt.Errorf("%q: want %s", s, SpeedHelp)
	}
	return v, nil
}

func parseFaultCmd(args []string, spec *sim.Spec) (parsed, error) {
	f, err := parseFault(args, spec)
	if err != nil {
		return parsed{}, err
	}
	return parsed{cmd: command{kind: cmdInject, fault: f, desc: strings.Join(args, " ")}}, nil
}

// parseFault reads KIND TARGET [VALUE] [DURATION]; a partition reads
// SIDE SIDE [DURATION], each side a comma-separated list of names.
func parseFault(args []string, spec *sim.Spec) (sim.Fault, error) {
	if len(args) == 0 {
		return sim.Fault{}, fmt.Errorf("usage: :fault KIND TARGET [VALUE] [DURATION]; kinds: %s", strings.Join(sim.FaultKinds(), ", "))
	}
	kind, ok := faultKind(args[0])
	if !ok {
		return sim.Fault{}, fmt.Errorf("unknown fault kind %q: want one of %s", args[0], strings.Join(sim.FaultKinds(), ", "))
	}
	u := faultUsage[kind]
	usage := func() error {
		syntax := kind.String() + " TARGET"
		switch {
		case kind == sim.FaultPartition:
			syntax = "partition A,B C,D"
		case u.value != "":
			syntax += " " + u.value
		}
		return fmt.Errorf("usage: :fault %s [DURATION], e.g. :fault %s", syntax, u.example)
	}
	args = args[1:]
	f := sim.Fault{Kind: kind}
	// What follows the target: a value for some kinds, then a duration.
	nValue := 0
	if u.value != "" {
		nValue = 1
	}
	switch kind {
	case sim.FaultPartition:
		if len(args) < 2 || len(args) > 3 {
			return f, usage()
		}
		var p sim.PartitionFault
		for side := range 2 {
			for _, n := range strings.Split(args[side], ",") {
				if !isComponent(spec, n) {
					return f, fmt.Errorf("partition: no component %q", n)
				}
				p.Sides[side] = append(p.Sides[side], n)
			}
		}
		f.Params = p
		args = args[2:]
	default:
		if len(args) < 1+nValue || len(args) > 2+nValue {
			return f, usage()
		}
		f.Target = args[0]
		if err := checkTarget(spec, kind, f.Target); err != nil {
			return f, err
		}
		// The defaults of the scenario language for what a command
		// cannot say.
		f.Params = sim.DefaultParams(kind)
		if nValue == 1 {
			p, err := value(f.Params, args[1])
			if err != nil {
				return f, err
			}
			f.Params = p
		}
		args = args[1+nValue:]
	}
	if len(args) == 1 && kind == sim.FaultDeploy {
		return f, errors.New("a deploy takes no duration: it ends when its last batch is back")
	}
	if len(args) == 1 {
		d, err := time.ParseDuration(args[0])
		if err != nil || d <= 0 {
			return f, fmt.Errorf("duration %q: want a positive duration such as 30s (leave it out for until the end)", args[0])
		}
		f.Duration = d
	}
	// The ranges the scenario loader enforces, from sim's one table: a
	// surge of 1e9 or a slowdown of +Inf would stall the run.
	if err := f.Validate(); err != nil {
		return f, fmt.Errorf("%s: %v", kind, err)
	}
	return f, nil
}

func faultKind(s string) (sim.FaultKind, bool) {
	i := slices.Index(sim.FaultKinds(), s)
	return sim.FaultKind(i), i >= 0
}

// value reads the one value a command gives a fault, over its kind's
// defaults p. Its range is checked with the rest, by Fault.Validate.
func value(p sim.FaultParams, s string) (sim.FaultParams, error) {
	switch p := p.(type) {
	case sim.LatencyFault:
		d, err := dist.Parse(s)
		if err != nil {
			return p, fmt.Errorf("latency %q: want a duration or a distribution such as 500ms or exp(200ms)", s)
		}
		p.Add = d
		return p, nil
	case sim.ErrorsFault:
		v, err := parseShare(s)
		p.Probability = v
		return p, shareErr(p.Kind(), s, err)
	case sim.ThrottleFault:
		v, err := parseShare(s)
		p.Probability = v
		return p, shareErr(p.Kind(), s, err)
	case sim.LossFault:
		v, err := parseShare(s)
		p.Probability = v
		return p, shareErr(p.Kind(), s, err)
	case sim.SlowdownFault:
		v, err := parseFactor(p.Kind(), s)
		p.Factor = v
		return p, err
	case sim.SurgeFault:
		v, err := parseFactor(p.Kind(), s)
		p.Factor = v
		return p, err
	case sim.SkewFault:
		d, err := time.ParseDuration(s)
		if err != nil || d == 0 {
			return p, fmt.Errorf("skew %q: want a clock offset such as -5s (behind) or 2s (ahead)", s)
		}
		p.Offset = d
		return p, nil
	case sim.DeployFault:
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return p, fmt.Errorf("deploy %q: want how many instances restart at a time, such as 1", s)
		}
		p.Batch = n
		return p, nil
	case sim.LeakFault:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return p, fmt.Errorf("leak %q: want the growth of service time per minute up, such as 0.5 (+50%%)", s)
		}
		p.Growth = v
		return p, nil
	case sim.DependencyFault:
		v, err := parseShare(s)
		if err != nil {
			return p, fmt.Errorf("dependency %q: want the share of requests that fail, such as 0.3 or 30%%", s)
		}
		p.Probability = v
		return p, nil
	case sim.CapacityFault:
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return p, fmt.Errorf("capacity %q: want the workers each instance keeps, such as 2", s)
		}
		p.Workers = n
		return p, nil
	}
	return p, nil
}

func shareErr(k sim.FaultKind, s string, err error) error {
	if err != nil {
		return fmt.Errorf("%s %q: want a share such as 0.5 or 50%%", k, s)
	}
	return nil
}

// parseFactor reads a factor such as 4 or 4x; its range is sim's.
func parseFactor(k sim.FaultKind, s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "x"), 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q: want a positive factor such as 4", k, s)
	}
	return v, nil
}

// parseShare reads 0.5 or 50%, in (0, 1].
func parseShare(s string) (float64, error) {
	scale := 1.0
	if t, ok := strings.CutSuffix(s, "%"); ok {
		s, scale = t, 100
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	v /= scale
	if !(v > 0 && v <= 1) {
		return 0, errors.New("out of range")
	}
	return v, nil
}

// checkOperation validates a fault on one operation.
func checkOperation(spec *sim.Spec, svc, op string) error {
	i := slices.IndexFunc(spec.Services, func(s sim.Service) bool { return s.Name == svc })
	if i < 0 {
		return fmt.Errorf("no service %q", svc)
	}
	var names []string
	for _, o := range spec.Services[i].Operations {
		if o.Name == op {
			return nil
		}
		names = append(names, o.Name)
	}
	if len(names) == 0 {
		return fmt.Errorf("%s has no operations", svc)
	}
	return fmt.Errorf("%s has no operation %q (it has %s)", svc, op, strings.Join(names, ", "))
}

// checkTarget validates a fault's target against the scenario, so that a
// typo is caught on the status line at once, with what would have worked.
// The grammar is sim.ParseTarget's, and what a kind can target
// sim.FaultTargets', as in a scenario file and in the engine.
func checkTarget(spec *sim.Spec, kind sim.FaultKind, target string) error {
	tg, err := sim.ParseTarget(target)
	if err != nil {
		return err
	}
	switch tg.Form {
	case sim.TargetLink:
		if err := kind.CheckTarget(sim.OnLink); err != nil {
			return err
		}
		if _, on, ok := dataNodes(spec, tg.Name); ok {
			// As the loader says: the engine's links join callers to
			// services; a data component's messages have their own faults.
			return fmt.Errorf("%q is %s: a link ends at the service or gateway a call goes to", tg.Name, on)
		}
		if !calls(spec, tg.Caller, tg.Name) {
			return fmt.Errorf("no call %s: links are caller->callee, e.g. %s", target, anyLink(spec))
		}
		return nil
	case sim.TargetOperation:
		if err := kind.CheckTarget(sim.OnOperation); err != nil {
			return err
		}
		return checkOperation(spec, tg.Name, tg.Op)
	}
	name := tg.Name
	if tg.Form == sim.TargetName {
		switch {
		case slices.ContainsFunc(spec.Clients, func(c sim.Client) bool { return c.Name == name }):
			return kind.CheckTarget(sim.OnClient)
		case slices.Contains(topics(spec), name):
			return kind.CheckTarget(sim.OnTopic)
		}
	}
	if n, on, ok := dataNodes(spec, name); ok {
		if tg.Form == sim.TargetMember {
			if tg.Member < 1 || tg.Member > n {
				return fmt.Errorf("%s has nodes #1 to #%d", name, n)
			}
			on = members[on]
		}
		return kind.CheckTarget(on)
	}
	i := slices.IndexFunc(spec.Services, func(s sim.Service) bool { return s.Name == name })
	switch t := sim.FaultTargets(kind); {
	case i >= 0:
	case t&sim.OnTopic != 0:
		return fmt.Errorf("%s: no topic %q (topics: %s)", kind, name, strings.Join(topics(spec), ", "))
	case t&sim.OnClient != 0:
		return fmt.Errorf("%s: no client %q", kind, name)
	default:
		return fmt.Errorf("no service %q", name)
	}
	if tg.Form == sim.TargetMember {
		if tg.Member < 1 || tg.Member > spec.Services[i].Instances {
			return fmt.Errorf("%s has instances #1 to #%d", name, spec.Services[i].Instances)
		}
		return kind.CheckTarget(sim.OnInstance)
	}
	if kind == sim.FaultDependency && !spec.Services[i].External {
		return fmt.Errorf("a dependency fault targets an external service; %q is not one", name)
	}
	return kind.CheckTarget(sim.OnService)
}

// members is what one member of a data component is, as a target.
var members = map[sim.Targets]sim.Targets{sim.OnBroker: sim.OnNode, sim.OnStore: sim.OnReplica, sim.OnView: sim.OnView}

func isComponent(spec *sim.Spec, name string) bool {
	if tg, err := sim.ParseTarget(name); tg.Form == sim.TargetMember {
		n, _, isData := dataNodes(spec, tg.Name)
		return isData && err == nil && tg.Member >= 1 && tg.Member <= n
	}
	_, _, isData := dataNodes(spec, name)
	return isData || slices.ContainsFunc(spec.Services, func(s sim.Service) bool { return s.Name == name }) ||
		slices.ContainsFunc(spec.Clients, func(c sim.Client) bool { return c.Name == name })
}

// dataNodes finds a broker, store or view by name: how many nodes it has
// (replicas of a store, nodes of a broker) and what it is.
func dataNodes(spec *sim.Spec, name string) (int, sim.Targets, bool) {
	for _, b := range spec.Brokers {
		if b.Name == name {
			return b.Nodes, sim.OnBroker, true
		}
	}
	for _, st := range spec.Stores {
		if st.Name == name {
			return st.Replicas, sim.OnStore, true
		}
	}
	for _, v := range spec.Views {
		if v.Name == name {
			return 1, sim.OnView, true
		}
	}
	return 0, 0, false
}

// topics lists the scenario's topics.
func topics(spec *sim.Spec) []string {
	var out []string
	for _, b := range spec.Brokers {
		for _, t := range b.Topics {
			out = append(out, t.Name)
		}
	}
	return out
}

// calls reports whether from (a client or a service) calls to.
func calls(spec *sim.Spec, from, to string) bool {
	for _, c := range spec.Clients {
		if c.Name == from && c.Target == to {
			return true
		}
	}
	for _, s := range spec.Services {
		if s.Name == from && slices.ContainsFunc(s.AllCalls(), func(c sim.Call) bool { return c.To == to }) {
			return true
		}
	}
	return false
}

// anyLink names a link of the scenario, for examples in messages.
func anyLink(spec *sim.Spec) string {
	for _, s := range spec.Services {
		if len(s.Calls) > 0 {
			return s.Name + "->" + s.Calls[0].To
		}
	}
	if len(spec.Clients) > 0 {
		return spec.Clients[0].Name + "->" + spec.Clients[0].Target
	}
	return "caller->callee"
}

// fields splits a command line on spaces, except inside parentheses, so
// that a distribution such as uniform(5ms, 15ms) stays one argument.
func fields(s string) []string {
	var out []string
	var cur strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')':
			depth = max(0, depth-1)
		case r == ' ' || r == '\t':
			if depth == 0 {
				if cur.Len() > 0 {
					out = append(out, cur.String())
					cur.Reset()
				}
				continue
			}
		}
		cur.WriteRune(r)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
