package bench

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/scenarios"
)

// TestStabilityMapBuiltin benches the built-in metastable-retries on a
// small grid, load against the trigger's duration, one replication per
// point of each variant: without a budget the map has both regions, a
// light load that recovers and a heavy load with a long trigger that
// stays down; with the retry budget the same heavy point recovers. The
// HTML report draws the maps and stability.csv lists them.
func TestStabilityMapBuiltin(t *testing.T) {
	name, data, err := scenarios.Open("metastable-retries")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Plan(Config{Sources: []Source{{Arg: name, File: name, Data: data}}, Replications: 1, Duration: 30 * time.Second,
		Sweeps: [][]scenarios.Override{sweep(t, "client.users.rate=300,700"), sweep(t, "fault.capacity.duration=100ms,2s")}})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := Execute(context.Background(), m, Options{Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	r := NewReport(m, runs)
	got := map[string]float64{}
	for _, mc := range r.StabilityMap() {
		got[mc.Variant+" "+mc.X+" "+mc.Y] = mc.Recovered
		if mc.Fault != "capacity" || mc.Runs != 1 {
			t.Errorf("cell %+v: want the capacity fault's verdict of one run", mc)
		}
	}
	want := map[string]float64{
		"retries 300 100ms": 1, "retries 300 2s": 1, "retries 700 100ms": 1, "retries 700 2s": 0,
		"retry-budget 300 100ms": 1, "retry-budget 300 2s": 1, "retry-budget 700 100ms": 1, "retry-budget 700 2s": 1,
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s recovered %v (in the map: %v), want %v", k, g, ok, w)
		}
	}
	var html, csv bytes.Buffer
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"<h3>Stability map</h3>", "retries · capacity: share of runs that recovered", "retry-budget · capacity: time to recover"} {
		if !strings.Contains(html.String(), s) {
			t.Errorf("the HTML report lacks %q", s)
		}
	}
	if err := r.WriteStabilityCSV(&csv); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(csv.String(), "\n"); lines != 1+8 {
		t.Errorf("stability.csv has %d lines, want a header and 8 cells:\n%s", lines, csv.String())
	}
	if !strings.Contains(csv.String(), "metastable-retries,retries,capacity,700,2s,1,0,,,0\n") {
		t.Errorf("stability.csv lacks the point that stays down:\n%s", csv.String())
	}
}

// TestStabilityMapNeedsTwoKeys: one swept key draws no map.
func TestStabilityMapNeedsTwoKeys(t *testing.T) {
	m := plan(t, Config{Replications: 1, Sweeps: [][]scenarios.Override{sweep(t, "client.users.rate=100,200")}})
	runs, err := Execute(context.Background(), m, Options{Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	if mc := NewReport(m, runs).StabilityMap(); mc != nil {
		t.Errorf("a map of one swept key: %+v", mc)
	}
}

// repeatingTOML: a latency fault on db that repeats every 8 s, four
// times in the 30 s run (5, 13, 21, 29 s).
const repeatingTOML = `
[scenario]
name = "repeating"
duration = "30s"
warmup = "2s"
seed = 7

[[client]]
name = "users"
target = "api"
rate = 200
timeout = "1s"

[[service]]
name = "api"
workers = 64
service_time = "exp(2ms)"

  [[service.call]]
  to = "db"
  timeout = "200ms"

[[service]]
name = "db"
workers = 16
service_time = "exp(5ms)"

[[fault]]
kind = "latency"
target = "db"
add = "150ms"
start = "5s"
duration = "2s"
every = "8s"
`

// TestStabilityMapOfTheTrigger: a repeating fault's map is of its first
// occurrence only; the runs say which cascades are later occurrences, from
// the engine's typed occurrence number (sim.CascadeResult.Occurrence), and
// the map reads that instead of looking for " #" in the names.
func TestStabilityMapOfTheTrigger(t *testing.T) {
	m, err := Plan(Config{Sources: []Source{{Arg: "repeating.toml", File: "repeating.toml", Data: []byte(repeatingTOML)}}, Replications: 1,
		Sweeps: [][]scenarios.Override{sweep(t, "client.users.rate=100,200"), sweep(t, "fault.latency.add=50ms,150ms")}})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := Execute(context.Background(), m, Options{Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range runs {
		if !slices.Equal(run.Repeats, []string{"latency #2", "latency #3", "latency #4"}) {
			t.Errorf("run %d: repeats %q, want the second to the fourth occurrences", run.Cell, run.Repeats)
		}
	}
	cells := NewReport(m, runs).StabilityMap()
	for _, mc := range cells {
		if mc.Fault != "latency" {
			t.Errorf("the map has a cell of %q, want the first occurrence's only", mc.Fault)
		}
	}
	if len(cells) != 4 {
		t.Errorf("%d cells, want 4 (2 x 2)", len(cells))
	}
}
