package tui

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
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
		{line: "fault loss payment 0.2", err: "a loss fault targets a link"},
		{line: "fault blackhole shoppers->frontend 5s", want: command{kind: cmdInject, fault: sim.Fault{Kind: sim.FaultBlackhole, Target: "shoppers->frontend", Duration: 5 * time.Second}}},
		{line: "fault partition frontend,catalog cart 10s", want: command{kind: cmdInject, fault: sim.Fault{Kind: sim.FaultPartition, Duration: 10 * time.Second, Params: sim.PartitionFault{Sides: [2][]string{{"frontend", "catalog"}, {"cart"}}}}}},
		{line: "fault partition frontend nowhere", err: `partition: no component "nowhere"`},
		{line: "fault surge payment 2", err: `surge: no client "payment"`},
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
