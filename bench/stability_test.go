package bench

import (
	"bytes"
	"context"
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
