package summary

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/sim"
)

// TestRepeats checks which runs of the event log the text summary folds
// into one line: a line, or a pair of lines, repeated at least minRepeats
// more times, whole.
func TestRepeats(t *testing.T) {
	ev := func(whats ...string) []sim.EventResult {
		out := make([]sim.EventResult, len(whats))
		for i, w := range whats {
			out[i] = sim.EventResult{TS: float64(i), Component: "db", What: w}
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		evs       []sim.EventResult
		at        int
		period, n int
	}{
		{"a pair, three more times", ev("on", "off", "on", "off", "on", "off", "on", "off", "x"), 2, 2, 6},
		{"a pair and a half: whole pairs only", ev("on", "off", "on", "off", "on", "off", "on", "off", "on"), 2, 2, 6},
		{"a pair, twice more: written out", ev("on", "off", "on", "off", "on", "off"), 2, 0, 0},
		{"one line, three more times", ev("on", "on", "on", "on"), 1, 1, 3},
		{"nothing repeats", ev("a", "b", "c", "d", "e"), 2, 0, 0},
		{"the first line", ev("on", "on", "on", "on"), 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p, n := repeats(tc.evs, tc.at); p != tc.period || n != tc.n {
				t.Errorf("repeats at %d = period %d, %d events; want %d, %d", tc.at, p, n, tc.period, tc.n)
			}
		})
	}
}

// TestSagaSteps: the run text names the steps whose commands ran twice at
// their participant and those that met other sagas on their records, and
// only those.
func TestSagaSteps(t *testing.T) {
	res := &sim.Result{Sagas: []sim.SagaResult{{Name: "order", Mode: "orchestration", Started: 10, Completed: 9, Compensated: 1, Anomalous: 2,
		Steps: []sim.SagaStepResult{
			{Name: "reserve", Executions: 10, Compensations: 1, DirtyReads: 3, LostUpdates: 1},
			{Name: "charge", Executions: 12, Duplicates: 2},
			{Name: "ship", Executions: 9},
		}}}}
	var b strings.Builder
	Write(&b, res, Options{})
	out := b.String()
	for _, want := range []string{
		"saga order, step charge (not idempotent): ran 12 times, 2 duplicates; compensation ran 0 times, 0 duplicates\n",
		"saga order, step reserve, its records: 3 dirty reads, 1 lost updates, 0 refused by a semantic lock\n",
		"ANOMALOUS", "DUPS",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "step ship") || strings.Contains(out, "step reserve (") {
		t.Errorf("a step with nothing to report is listed:\n%s", out)
	}
}

// TestRowColourIsEngineHealth: a totals row is coloured by the engine's
// verdict on the component over the run (its Health field), not by a
// rule the summary applies to the row's figures again: rows whose
// figures look healthy show the health the engine decided.
func TestRowColourIsEngineHealth(t *testing.T) {
	res := &sim.Result{Scenario: "colours", DurationS: 10,
		Clients:    []sim.ClientResult{{Name: "shoppers", Sent: 100, OK: 100, SuccessRate: 1, Health: sim.Failing}},
		Components: []sim.ComponentResult{{Name: "front", Kind: "service", Arrivals: 100, OK: 100, Health: sim.Degraded}},
		Stores:     []sim.StoreResult{{Name: "kv", N: 3, W: 2, R: 2, Reads: 10, Health: sim.Degraded}},
	}
	var b strings.Builder
	Write(&b, res, Options{Color: true})
	for _, want := range []string{healthColor[sim.Failing] + "shoppers", healthColor[sim.Degraded] + "front", healthColor[sim.Degraded] + "kv"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no row starts %q in\n%s", want, b.String())
		}
	}
}

// TestCascadeSaysWhichLevelLatencyDecided: a CASCADE step marks latency
// on the level it decided: both ("on latency"), only the first (degraded
// on latency, then failing on errors: "degraded on latency"), or only
// the worst ("failing on latency"). The old text said "on latency"
// whenever the first change was slow, of a step that failed on errors.
func TestCascadeSaysWhichLevelLatencyDecided(t *testing.T) {
	for _, tc := range []struct {
		name      string
		by, worst sim.Indicator
		first, to sim.Health
		want      string // the step line's end
	}{
		{"latency both", sim.ByLatency, sim.ByLatency, sim.Degraded, sim.Failing, "recovered 71.0s · on latency"},
		{"one level on latency", sim.ByLatency, sim.ByLatency, sim.Failing, sim.Failing, "recovered 71.0s · on latency"},
		{"degraded on latency, failing on errors", sim.ByLatency, sim.ByErrorShare, sim.Degraded, sim.Failing, "recovered 71.0s · degraded on latency"},
		{"degraded on errors, failing on latency", sim.ByErrorShare, sim.ByLatency, sim.Degraded, sim.Failing, "recovered 71.0s · failing on latency"},
		{"errors both", sim.ByErrorShare, sim.ByErrorShare, sim.Degraded, sim.Failing, "recovered 71.0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := 71.0
			end := 70.0
			res := &sim.Result{Cascades: []sim.CascadeResult{{Name: "latency", Fault: "latency +800ms", Target: "payment", StartS: 40, EndS: &end,
				Steps: []sim.CascadeStep{{Component: "checkout", DelayS: 0.9, First: tc.first, Worst: tc.to, RecoveredS: &rec, By: tc.by, WorstBy: tc.worst}}}}}
			var b strings.Builder
			writeCascades(&b, res)
			var line string
			for _, l := range strings.Split(b.String(), "\n") {
				if strings.Contains(l, "checkout") {
					line = l
				}
			}
			if !strings.HasSuffix(line, tc.want) {
				t.Errorf("step line %q, want it to end %q", line, tc.want)
			}
		})
	}
}

// TestHeaderDurations: the first line writes the run's length and warmup
// as decimals however short they are: a run of 1 ns read "1e-09s virtual".
func TestHeaderDurations(t *testing.T) {
	for _, tc := range []struct {
		duration, warmup float64
		want             string
	}{
		{120, 10, "x · seed 1 · 120s virtual (first 10s are warmup, not counted)\n"},
		{1e-9, 0, "x · seed 1 · 0.000000001s virtual\n"},
		{0.05, 2.5e-5, "x · seed 1 · 0.05s virtual (first 0.000025s are warmup, not counted)\n"},
		{86400, 0, "x · seed 1 · 86400s virtual\n"},
	} {
		var b strings.Builder
		Write(&b, &sim.Result{Scenario: "x", Seed: 1, DurationS: tc.duration, WarmupS: tc.warmup}, Options{})
		if got, _, _ := strings.Cut(b.String(), "\n"); got+"\n" != tc.want {
			t.Errorf("header %q, want %q", got, tc.want)
		}
	}
}

// TestLatencyUnderAMicrosecond: a latency under a microsecond (a 1 ns
// service time) reads "<0.001" in the ms columns; it read "1e-06".
func TestLatencyUnderAMicrosecond(t *testing.T) {
	lat := sim.Latency{Mean: 1.9e-06, P50: 2e-06, P90: 4e-06, P99: 7e-06, P999: 1e-05, Max: 0.0011}
	res := &sim.Result{Scenario: "x", Seed: 1, DurationS: 10,
		Clients: []sim.ClientResult{{Name: "users", Target: "api", Sent: 10, OK: 10, SuccessRate: 1, Latency: lat, LatencyAll: lat}}}
	var b strings.Builder
	Write(&b, res, Options{})
	var line string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(l, "users") && strings.Contains(l, "0.001") {
			line = l
		}
	}
	if strings.Contains(line, "e-0") || strings.Count(line, "<0.001") != 10 || !strings.HasSuffix(line, " 0.001") {
		t.Errorf("latency row %q, want <0.001 for each figure under a microsecond, 0.001 for the max", line)
	}
}

// TestRecoveryStillUnderAnotherFault: a flow or group not back by the
// end, still under another fault, is told so, with that fault, and not "DID NOT
// RECOVER ... sustained by: nothing the engine counts".
func TestRecoveryStillUnderAnotherFault(t *testing.T) {
	end, one := 15.0, 1
	res := &sim.Result{Cascades: []sim.CascadeResult{
		{Name: "latency", Fault: "latency +50ms", Target: "db", StartS: 5, EndS: &end,
			Recovery:      []sim.FlowRecovery{{Flow: "users", BeforeRPS: 103, UnderFault: &one}},
			GroupRecovery: []sim.GroupRecovery{{Group: "group billing", UnderFault: &one}}},
		{Name: "errors", Fault: "errors 50%", Target: "api", StartS: 8},
	}}
	var b strings.Builder
	writeCascades(&b, res)
	out := b.String()
	if want := "not back by the end, still under another fault: users (under errors 50% on api, from 8.0s to the end), group billing (under errors 50% on api, from 8.0s to the end)"; !strings.Contains(out, want) {
		t.Errorf("cascade\n%s\nwant %q", out, want)
	}
	if strings.Contains(out, "DID NOT RECOVER") || strings.Contains(out, "sustained by") {
		t.Errorf("cascade\n%s\nclaims a failure to recover", out)
	}
}

// TestThrottlingLine: a service with a cpu_limit gets a line of its CFS
// throttling under the services table; one without gets none.
func TestThrottlingLine(t *testing.T) {
	res := &sim.Result{Scenario: "x", Components: []sim.ComponentResult{
		{Name: "api", CPUThrottling: &sim.CPUThrottling{CPULimit: 0.2, Periods: 3, Throttled: 2, ThrottledS: 0.16, ThrottledShare: 2.0 / 3}},
		{Name: "db"},
	}}
	var b strings.Builder
	Write(&b, res, Options{})
	if want := "api cpu_limit 200m: throttled in 66.7% of periods (2 of 3), 0.2s in all\n"; !strings.Contains(b.String(), want) {
		t.Errorf("no line %q in\n%s", want, b.String())
	}
	if n := strings.Count(b.String(), "cpu_limit"); n != 1 {
		t.Errorf("%d cpu_limit lines, want 1:\n%s", n, b.String())
	}
}
