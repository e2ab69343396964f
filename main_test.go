package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	gold "github.com/faultline/faultline/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// faultline runs the CLI in-process and returns its exit code and output.
func faultline(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = cli(args, &out, &errb)
	return code, out.String(), errb.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	gold.Check(t, filepath.Join("testdata", name), got, *update)
}

// TestRunGolden pins the text summary of the built-in scenarios.
func TestRunGolden(t *testing.T) {
	for _, args := range [][]string{
		{"run", "checkout"},
		{"run", "mm1", "--duration", "60s"},
		{"run", "fanout", "--duration", "20s", "--seed", "3"},
		{"run", "breaker-saves-checkout"},
		{"run", "retry-storm", "--duration", "40s"},
		{"run", "kafka-consumer-crash"},
		{"run", "order-saga", "--duration", "60s"},
		{"run", "quorum-staleness", "--duration", "45s"},
		{"run", "cqrs-projection-lag", "--duration", "60s"},
		{"run", "monolith-vs-microservices", "--duration", "100s"},
	} {
		t.Run(strings.Join(args[1:], " "), func(t *testing.T) {
			code, out, errs := faultline(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			golden(t, "run_"+args[1]+".golden", out)
		})
	}
}

// TestJSONDeterministic: the same scenario and seed give byte-identical JSON
// whatever GOMAXPROCS is; another seed gives other numbers.
func TestJSONDeterministic(t *testing.T) {
	runJSON := func(procs int, seed string) string {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		code, out, errs := faultline("run", "checkout", "--json", "--seed", seed)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		return out
	}
	a, b := runJSON(1, "1"), runJSON(2, "1")
	if a != b {
		t.Error("GOMAXPROCS=1 and 2 gave different JSON for the same seed")
	}
	if a == runJSON(2, "2") {
		t.Error("seeds 1 and 2 gave the same JSON")
	}
	// The core contract of DESIGN.md.
	var res struct {
		Scenario  *string  `json:"scenario"`
		Seed      *uint64  `json:"seed"`
		DurationS *float64 `json:"duration_s"`
		Clients   []struct {
			Name                               string
			Sent, OK, Error, Timeout, Rejected *uint64
			Latency                            map[string]float64 `json:"latency_ms"`
		} `json:"clients"`
		Components []struct{ Name, Kind string } `json:"components"`
		Events     []struct {
			TS        *float64 `json:"t_s"`
			Component string   `json:"component"`
			What      string   `json:"what"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(a), &res); err != nil {
		t.Fatal(err)
	}
	if res.Scenario == nil || *res.Scenario != "checkout" || res.Seed == nil || res.DurationS == nil || *res.DurationS != 120 {
		t.Errorf("scenario, seed or duration_s missing: %.200s", a)
	}
	c := res.Clients[0]
	if c.Sent == nil || c.OK == nil || c.Error == nil || c.Timeout == nil || c.Rejected == nil {
		t.Errorf("client counts missing")
	}
	for _, k := range []string{"mean", "p50", "p90", "p99", "p999", "max"} {
		if _, ok := c.Latency[k]; !ok {
			t.Errorf("latency_ms.%s missing", k)
		}
	}
	if len(res.Components) != 7 || res.Components[0].Kind != "service" {
		t.Errorf("components: %+v", res.Components)
	}
	if len(res.Events) == 0 || res.Events[0].What != "fault latency +800ms started" || *res.Events[0].TS != 40 {
		t.Errorf("first event: %+v", res.Events)
	}
}

func TestExitCodes(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("[scenario]\nduration = \"1s\"\nwarmup = \"x\"\n"), 0o644)
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"run", "mm1", "--duration", "15s"}, 0, ""},
		{[]string{"validate", "mm1", "checkout", "fanout"}, 0, ""},
		{[]string{"list"}, 0, ""},
		{[]string{}, 2, "Usage"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"run", "checkot"}, 2, `did you mean "checkout"`},
		{[]string{"run", bad}, 2, "bad.toml:3:10"},
		{[]string{"validate", "mm1", bad}, 2, "bad.toml:3:10"},
		{[]string{"run", "mm1", "--seed", "-1"}, 2, "--seed"},
		{[]string{"run", "mm1", "--duration", "soon"}, 2, "--duration"},
		{[]string{"run", "mm1", "--duration", "15s"}, 0, ""},
		{[]string{"run", "mm1", "checkout"}, 2, "one scenario"},
		{[]string{"run", "--bogus"}, 2, "bogus"},
	}
	for _, tt := range tests {
		code, _, errs := faultline(tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.stderr) {
			t.Errorf("faultline %q: exit %d, stderr %q; want exit %d and %q", tt.args, code, errs, tt.code, tt.stderr)
		}
	}
}

func TestCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "series.csv")
	if code, _, errs := faultline("run", "mm1", "--duration", "12s", "--csv", path); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	// A header, then 12 one-second windows for each of 2 components.
	if len(lines) != 1+12*2 {
		t.Fatalf("%d lines, want 25:\n%s", len(lines), data)
	}
	if !strings.HasPrefix(lines[0], "t_s,component,kind,sent,ok,") || !strings.HasPrefix(lines[1], "0,arrivals,client,") {
		t.Errorf("unexpected CSV start:\n%s\n%s", lines[0], lines[1])
	}
}
