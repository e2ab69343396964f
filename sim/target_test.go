package sim_test

import (
	"errors"
	"testing"

	"github.com/faultline/faultline/sim"
)

// TestParseTarget is the grammar of fault targets, as scenarios.md's
// "Target forms" writes them: every form, spacing, and what is wrong
// with a bad one, at which byte.
func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    sim.Target
		problem sim.TargetProblem
		pos     int // of the problem; -1: valid
	}{
		{"payment", sim.Target{Form: sim.TargetName, Name: "payment"}, 0, -1},
		{" orders ", sim.Target{Form: sim.TargetName, Name: "orders"}, 0, -1},
		{"payment#2", sim.Target{Form: sim.TargetMember, Name: "payment", Member: 2}, 0, -1},
		{"kafka # 3", sim.Target{Form: sim.TargetMember, Name: "kafka", Member: 3}, 0, -1},
		{"db#0", sim.Target{Form: sim.TargetMember, Name: "db", Member: 0}, 0, -1}, // a range error, the component's
		{"catalog.search", sim.Target{Form: sim.TargetOperation, Name: "catalog", Op: "search"}, 0, -1},
		{"checkout->payment", sim.Target{Form: sim.TargetLink, Caller: "checkout", Name: "payment"}, 0, -1},
		{"checkout -> payment", sim.Target{Form: sim.TargetLink, Caller: "checkout", Name: "payment"}, 0, -1},
		{"a.b#2", sim.Target{Form: sim.TargetMember, Name: "a.b", Member: 2}, 0, -1}, // "#" before "."
		{"", sim.Target{}, sim.TargetEmpty, 0},
		{"   ", sim.Target{}, sim.TargetEmpty, 0},
		{"->payment", sim.Target{Form: sim.TargetLink, Name: "payment"}, sim.TargetLinkEnd, 0},
		{"checkout-> ", sim.Target{Form: sim.TargetLink, Caller: "checkout"}, sim.TargetLinkEnd, 10},
		{"web->shop.search", sim.Target{Form: sim.TargetLink, Caller: "web", Name: "shop.search"}, sim.TargetLinkOperation, 9},
		{"web.x->shop", sim.Target{Form: sim.TargetLink, Caller: "web.x", Name: "shop"}, sim.TargetLinkOperation, 3},
		{"payment#x", sim.Target{Form: sim.TargetMember, Name: "payment"}, sim.TargetMemberNumber, 8},
		{"payment#", sim.Target{Form: sim.TargetMember, Name: "payment"}, sim.TargetMemberNumber, 8},
		{".search", sim.Target{Form: sim.TargetOperation, Op: "search"}, sim.TargetOperationPart, 0},
		{"catalog.", sim.Target{Form: sim.TargetOperation, Name: "catalog"}, sim.TargetOperationPart, 8},
	} {
		got, err := sim.ParseTarget(tc.in)
		if got != tc.want {
			t.Errorf("ParseTarget(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		var te *sim.TargetError
		switch {
		case tc.pos < 0 && err != nil:
			t.Errorf("ParseTarget(%q): %v", tc.in, err)
		case tc.pos < 0:
			if s := got.String(); tc.in == "checkout->payment" && s != tc.in {
				t.Errorf("String() = %q, want %q", s, tc.in)
			}
		case !errors.As(err, &te):
			t.Errorf("ParseTarget(%q): error %v, want a *TargetError", tc.in, err)
		case te.Problem != tc.problem || te.Pos != tc.pos:
			t.Errorf("ParseTarget(%q): problem %d at %d (%v), want %d at %d", tc.in, te.Problem, te.Pos, err, tc.problem, tc.pos)
		}
	}
}

// TestFaultValidate: the ranges of sim's table hold for a fault built by
// any driver, as the loader enforces them on a file.
func TestFaultValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    sim.Fault
		want string
	}{
		{"a surge of 1e9", sim.Fault{Kind: sim.FaultSurge, Target: "c", Params: sim.SurgeFault{Factor: 1e9}}, "factor must be in (0, 1000], got 1e+09"},
		{"leak growth 1e300", sim.Fault{Kind: sim.FaultLeak, Target: "s", Params: sim.LeakFault{Growth: 1e300, Limit: 3}}, "growth must be in (0, 1000], got 1e+300"},
		{"a partition of a service from itself", sim.Fault{Kind: sim.FaultPartition, Params: sim.PartitionFault{Sides: [2][]string{{"a"}, {"a"}}}}, `"a" is on both sides of the partition`},
		{"a replica and its store", sim.Fault{Kind: sim.FaultPartition, Params: sim.PartitionFault{Sides: [2][]string{{"db"}, {"db#2"}}}}, `"db#2" is on both sides of the partition, as part of "db"`},
		{"params of another kind", sim.Fault{Kind: sim.FaultCrash, Target: "s", Params: sim.SlowdownFault{Factor: 2}}, "a crash fault has the parameters of a slowdown fault"},
		{"a bad target", sim.Fault{Kind: sim.FaultCrash, Target: "s#x"}, `invalid member number "x" in "s#x"`},
		{"defaults are valid", sim.Fault{Kind: sim.FaultPause, Target: "s"}, ""},
	} {
		err := tc.f.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || err.Error()[:min(len(err.Error()), len(tc.want))] != tc.want):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}
