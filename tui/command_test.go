package tui

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/dist"
)

func TestParseCommand(t *testing.T) {
	spec := loadSpec(t, "checkout")
	for _, tc := range []struct {
		line string
		want command
		err  string
	}{
		{line: "fault crash payment#1 10s", want: command{kind: cmdInject, fault: sim.Fault{Kind: sim.FaultCrash, Target: "payment#1", Duration: 10 * time.Second}}},
		{line: "fault errors payment 50%", want: command{kind: cmdInject, fault: sim.Fault{Kind: sim.FaultErrors, Target: "payment", Params: sim.ErrorsFault{Probability: 0.5}}}},
		{line: "fault slowdown search#3 4 30s", err: `no service "search"`},
		{line: "fault slowdown payment 4x 30s", want: command{kind: cmdInject, fault: sim.Fault{Kind: sim.FaultSlowdown, Target: "payment", Duration: 30 * time.Second, Params: sim.SlowdownFault{Factor: 4}}}},
		{line: "fault capacity payment 2", want: command{kind: cmdInject, fault: sim.Fault{Kind: sim.FaultCapacity, Target: "payment", Params: sim.CapacityFault{Workers: 2}}}},
		{line: "fault loss checkout->payment 0.2 5s", want: command{kind: cmdInject, fault: sim.Fault{Kind: sim.FaultLoss, Target: "checkout->payment", Duration: 5 * time.Second, Params: sim.LossFault{Probability: 0.2}}}},
		{line: "fault loss payment 0.2", err: "a loss fault cannot target a service: it takes a link"},
		{line: "fault blackhole shoppers->frontend 5s", want: command{kind: cmdInject, fault: sim.Fault{Kind: sim.FaultBlackhole, Target: "shoppers->frontend", Duration: 5 * time.Second}}},
		{line: "fault partition frontend,catalog cart 10s", want: command{kind: cmdInject, fault: sim.Fault{Kind: sim.FaultPartition, Duration: 10 * time.Second, Params: sim.PartitionFault{Sides: [2][]string{{"frontend", "catalog"}, {"cart"}}}}}},
		{line: "fault partition frontend nowhere", err: `partition: no component "nowhere"`},
		{line: "fault surge payment 2", err: "a surge fault cannot target a service: it takes a client"},
		{line: "fault crash payment 10s extra", err: "usage: :fault crash TARGET [DURATION]"},
		{line: "fault crash payment -5s", err: `duration "-5s"`},
		{line: "fault", err: "usage: :fault KIND TARGET"},
		{line: "seed 7", want: command{kind: cmdRestart, seed: 7}},
		{line: "seed -1", err: `seed "-1"`},
		{line: "goto 1m30s", want: command{kind: cmdGoto, at: 90 * time.Second}},
		{line: "goto", err: "usage: :goto TIME"},
		{line: "speed max", want: command{kind: cmdSetSpeed, speed: 0}},
		{line: "speed 10x", want: command{kind: cmdSetSpeed, speed: 10}},
		{line: "speed 0", err: `speed "0"`},
	} {
		got, err := parseCommand(tc.line, spec)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.line, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		got.cmd.desc = ""
		if !sameCommand(got.cmd, tc.want) {
			t.Errorf("%q: got %+v, want %+v", tc.line, got.cmd, tc.want)
		}
	}
}

func sameCommand(a, b command) bool {
	fa, fb := a.fault, b.fault
	params := func(f sim.Fault) sim.FaultParams {
		if f.Params == nil {
			return sim.DefaultParams(f.Kind)
		}
		return f.Params
	}
	return a.kind == b.kind && a.speed == b.speed && a.seed == b.seed && a.at == b.at &&
		fa.Kind == fb.Kind && fa.Target == fb.Target && fa.Duration == fb.Duration &&
		reflect.DeepEqual(params(fa), params(fb))
}

func TestFields(t *testing.T) {
	got := strings.Join(fields("fault latency a->b mix(0.9 exp(1ms), 0.1 10ms)  30s"), "|")
	if want := "fault|latency|a->b|mix(0.9 exp(1ms), 0.1 10ms)|30s"; got != want {
		t.Errorf("fields = %q, want %q", got, want)
	}
}

// TestFaultCommandRanges: :fault enforces the ranges a scenario file
// does, with the loader's words, through the command path the TUI takes
// (parse, then inject into a running engine). Before, a surge of 1e9, a
// leak growth of 1e300, a slowdown of inf or a partition of a service
// from itself reached the engine and froze or crashed the TUI.
func TestFaultCommandRanges(t *testing.T) {
	file, data, err := scenarios.Open("checkout")
	if err != nil {
		t.Fatal(err)
	}
	spec := loadSpec(t, "checkout")
	for _, tc := range []struct {
		line  string
		fault string // the same fault in a scenario file
		want  string // the loader's message, which :fault must give too
	}{
		{"fault surge shoppers 1e9 10s", `kind = "surge"` + "\ntarget = \"shoppers\"\nfactor = 1e9", "factor must be in (0, 1000], got 1e+09"},
		{"fault leak payment 1e300", `kind = "leak"` + "\ntarget = \"payment\"\ngrowth = 1e300", "growth must be in (0, 1000], got 1e+300"},
		{"fault slowdown payment inf", `kind = "slowdown"` + "\ntarget = \"payment\"\nfactor = inf", "factor must be a finite number, not +Inf"},
		{"fault partition payment payment", `kind = "partition"` + "\nbetween = [[\"payment\"], [\"payment\"]]", `"payment" is on both sides of the partition`},
	} {
		toml := string(data) + "\n[[fault]]\nstart = \"1s\"\n" + tc.fault + "\n"
		if _, err := scenarios.Load(file, []byte(toml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s in a file: error %v, want %q", tc.line, err, tc.want)
		}
		p, err := parseCommand(tc.line, spec)
		if err == nil {
			// What the TUI does with a parsed command: inject it.
			var s *sim.Sim
			if s, err = sim.New(spec, 1); err != nil {
				t.Fatal(err)
			}
			s.RunUntil(time.Second)
			err = s.Inject(p.cmd.fault)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.line, err, tc.want)
		}
	}
}

// --speed and :speed read a speed the one way their help says.
func TestParseSpeed(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"1", 1, true}, {"10", 10, true}, {"10x", 10, true}, {"2.5", 2.5, true}, {"1e6", 1e6, true}, {"max", 0, true},
		{"0", 0, false}, {"-1", 0, false}, {"inf", 0, false}, {"NaN", 0, false}, {"1e7", 0, false}, {"fast", 0, false}, {"", 0, false},
	} {
		got, err := ParseSpeed(tc.in)
		if (err == nil) != tc.ok || tc.ok && got != tc.want {
			t.Errorf("ParseSpeed(%q) = %v, %v; want %v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestFaultTargetsAgree: the loader, the TUI's :fault and the engine read
// one table of what each kind of fault can target (sim.FaultTargets):
// for every kind and a target of every form (service, instance, link,
// client, broker, node, store, replica, view, topic, operation, and an
// external service), the three accept the same faults. Before the table
// they disagreed: the TUI refused a rebuild of a view, and the TUI and the
// engine took a latency fault on a view, which the loader refuses.
func TestFaultTargetsAgree(t *testing.T) {
	// Each kind's own keys, in TOML and as the engine's parameters.
	params := map[sim.FaultKind]struct {
		toml string
		p    sim.FaultParams
	}{
		sim.FaultLatency:    {`add = "100ms"`, sim.LatencyFault{Add: dist.Constant(100 * time.Millisecond)}},
		sim.FaultErrors:     {"probability = 0.5", sim.ErrorsFault{Probability: 0.5}},
		sim.FaultLoss:       {"probability = 0.5", sim.LossFault{Probability: 0.5}},
		sim.FaultSlowdown:   {"factor = 2", sim.SlowdownFault{Factor: 2}},
		sim.FaultCapacity:   {"workers = 1", sim.CapacityFault{Workers: 1}},
		sim.FaultSurge:      {"factor = 2", sim.SurgeFault{Factor: 2}},
		sim.FaultThrottle:   {"probability = 0.5", sim.ThrottleFault{Probability: 0.5}},
		sim.FaultSkew:       {`offset = "1s"`, sim.SkewFault{Offset: time.Second}},
		sim.FaultLeak:       {"growth = 0.1", sim.LeakFault{Growth: 0.1, Limit: 3}},
		sim.FaultDependency: {`add = "100ms"`, sim.DependencyFault{Add: dist.Constant(100 * time.Millisecond)}},
	}
	for _, name := range []string{"monolith-vs-microservices", "cqrs-projection-lag", "quorum-staleness"} {
		filename, src, err := scenarios.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		base, err := scenarios.Load(filename, src)
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range targetsOf(base) {
			for k := range sim.FaultKinds() {
				kind := sim.FaultKind(k)
				if kind == sim.FaultPartition {
					continue // no target: its sides name components
				}
				pr := params[kind]
				if pr.p == nil {
					pr.p = sim.DefaultParams(kind)
				}
				f := sim.Fault{Kind: kind, Target: target, Start: time.Second, Duration: time.Second, Params: pr.p}
				dur := `duration = "1s"`
				if kind == sim.FaultDeploy || kind == sim.FaultRebuild {
					// They end when the last batch is back, when the view
					// has caught up.
					f.Duration, dur = 0, ""
				}
				toml := fmt.Sprintf("\n[[fault]]\nkind = %q\ntarget = %q\nstart = \"1s\"\n%s\n%s\n", kind, target, dur, pr.toml)
				_, lerr := scenarios.Load(filename, append(slices.Clip(src), toml...))
				terr := checkTarget(base, kind, target)
				spec := *base
				spec.Faults = append(slices.Clip(base.Faults), f)
				_, eerr := sim.New(&spec, 1)
				if (lerr == nil) != (terr == nil) || (lerr == nil) != (eerr == nil) {
					t.Errorf("%s: %s on %q: loader %v; TUI %v; engine %v", name, kind, target, lerr, terr, eerr)
				}
			}
		}
	}
}

// targetsOf is a target of every form the scenario has.
func targetsOf(spec *sim.Spec) []string {
	var out []string
	for _, sv := range spec.Services {
		if len(sv.Operations) > 0 {
			out = append(out, sv.Name+"."+sv.Operations[0].Name)
		}
		if len(sv.Calls) > 0 {
			out = append(out, sv.Name+"->"+sv.Calls[0].To)
		}
	}
	if len(spec.Services) > 0 {
		out = append(out, spec.Services[0].Name, spec.Services[0].Name+"#1")
	}
	if i := slices.IndexFunc(spec.Services, func(s sim.Service) bool { return s.External }); i >= 0 {
		out = append(out, spec.Services[i].Name)
	}
	if len(spec.Clients) > 0 {
		out = append(out, spec.Clients[0].Name)
	}
	for _, b := range spec.Brokers {
		out = append(out, b.Name, b.Name+"#1")
		for _, tp := range b.Topics {
			out = append(out, tp.Name)
		}
	}
	for _, st := range spec.Stores {
		out = append(out, st.Name, st.Name+"#1")
	}
	for _, v := range spec.Views {
		out = append(out, v.Name)
	}
	return out
}
