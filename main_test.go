package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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
	// Twice payment's capacity into its unbounded queue.
	over := filepath.Join(t.TempDir(), "over.toml")
	os.WriteFile(over, []byte("[scenario]\nduration = \"600s\"\n[[client]]\nname = \"shoppers\"\ntarget = \"payment\"\nrate = 2000\n"+
		"[[service]]\nname = \"payment\"\nworkers = 10\nservice_time = \"10ms\"\n"), 0o644)
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
		{[]string{"run", "checkot"}, 2, `did you mean the built-in "checkout"`},
		{[]string{"run", bad}, 2, "bad.toml:3:10"},
		{[]string{"validate", "mm1", bad}, 2, "bad.toml:3:10"},
		{[]string{"run", "mm1", "--seed", "-1"}, 2, "--seed"},
		{[]string{"run", "mm1", "--duration", "soon"}, 2, "--duration"},
		{[]string{"run", "mm1", "--duration", "15s"}, 0, ""},
		{[]string{"run", "mm1", "checkout"}, 2, "one scenario"},
		{[]string{"run", "--bogus"}, 2, "bogus"},
		// Errors say what happened.
		{[]string{"run", "shop.toml"}, 2, "shop.toml: no such file"},
		{[]string{"run", "mm1", "--seed", ""}, 2, `invalid value "" for flag --seed`},
		{[]string{"bench", "mm1", "--seed", ""}, 2, `invalid value "" for flag --seed`},
		{[]string{"tui", "mm1"}, 2, "tui needs a terminal"}, // go test's stdin and stdout are none
		// --speed reads what :speed reads (tui.ParseSpeed): 10x as the
		// header writes it, and nothing infinite or beyond 1e6.
		{[]string{"tui", "mm1", "--speed", "10x"}, 2, "tui needs a terminal"},
		{[]string{"tui", "mm1", "--speed", "inf"}, 2, `--speed "inf": want 1, 10, 100 or max`},
		{[]string{"tui", "mm1", "--speed", "1e9"}, 2, `--speed "1e9"`},
		{[]string{"run", "mm1", "--variant", "base", "--duration", "15s"}, 0, ""},
		{[]string{"run", "mm1", "--variant", "fast"}, 2, "declares no [[variant]]"},
		{[]string{"help", "frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"run", over, "--memory", "16MiB"}, 1, "memory budget of 16 MiB exceeded at "},
		{[]string{"run", over, "--memory", "16MiB"}, 1, "payment's queue is unbounded and holds"},
		{[]string{"run", "mm1", "--duration", "15s", "--memory", "64MiB"}, 0, ""},
		{[]string{"run", "mm1", "--memory", "lots"}, 2, `--memory "lots"`},
		{[]string{"bench", over, "--memory", "16MiB", "--replications", "2", "--parallel", "1", "--out", t.TempDir()}, 1, "memory budget of 16 MiB exceeded"},
		{[]string{"bench", "mm1", "--replications", "100000000"}, 2, "--replications 100000000: at most 100000"},
		// Seeds base+i past the largest would wrap to 0, 1, ...
		{[]string{"bench", "mm1", "--replications", "2", "--seed", "18446744073709551615"}, 2, "pass the largest seed"},
		{[]string{"validate", "/dev/zero"}, 2, "/dev/zero is a device, not a regular file"},
	}
	for _, tt := range tests {
		code, _, errs := faultline(tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.stderr) {
			t.Errorf("faultline %q: exit %d, stderr %q; want exit %d and %q", tt.args, code, errs, tt.code, tt.stderr)
		}
	}
}

// TestColorEnv: only a non-empty NO_COLOR turns colour off
// (https://no-color.org), and TERM=dumb does.
func TestColorEnv(t *testing.T) {
	tests := []struct {
		noColor, term string
		want          bool
	}{
		{"", "xterm-256color", true},
		{"1", "xterm-256color", false},
		{"0", "xterm-256color", false}, // regardless of its value
		{"", "dumb", false},
	}
	for _, tt := range tests {
		t.Setenv("NO_COLOR", tt.noColor)
		t.Setenv("TERM", tt.term)
		if got := colorEnv(); got != tt.want {
			t.Errorf("NO_COLOR=%q TERM=%q: colour %v, want %v", tt.noColor, tt.term, got, tt.want)
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

// TestCSVKeepsEdgeSeries: run without --json keeps no edge series
// (sim.Spec.NoEdgeSeries), but with --csv it does, for the CSV writes them.
func TestCSVKeepsEdgeSeries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "series.csv")
	if code, _, errs := faultline("run", "checkout", "--duration", "20s", "--csv", path); code != 0 && code != 3 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), ",edge,"); n == 0 {
		t.Errorf("no edge rows in the CSV:\n%s", data)
	}
}

// TestCSVColumnUnits: every column of --csv says its unit in its name
// (scenarios.md, "Units in CSV"): a duration, rate or share has its
// suffix, and a column without one holds counts, whole numbers, but for
// queue_mean, the time average of a count.
func TestCSVColumnUnits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "series.csv")
	if code, _, errs := faultline("run", "checkout", "--duration", "20s", "--csv", path); code != 0 && code != 3 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	averaged := map[string]bool{"queue_mean": true}
	for i, col := range rows[0] {
		if col == "component" || col == "kind" || averaged[col] {
			continue
		}
		var unit string
		for _, u := range []string{"_s", "_ms", "_per_s", "_share"} {
			if strings.HasSuffix(col, u) {
				unit = u
			}
		}
		for _, r := range rows[1:] {
			if r[i] == "" {
				continue
			}
			x, err := strconv.ParseFloat(r[i], 64)
			switch {
			case err != nil:
				t.Errorf("column %s: %q is not a number", col, r[i])
			case unit == "" && x != math.Trunc(x):
				t.Errorf("column %s holds %s: a fraction in a column named as a count; name its unit", col, r[i])
			case unit == "_share" && (x < 0 || x > 1):
				t.Errorf("column %s holds %s, outside 0..1", col, r[i])
			default:
				continue
			}
			break
		}
	}
}

// TestJSONSeriesMatchCSV checks that --json carries the per-window series
// --csv writes: a window in JSON for every CSV row, of every kind of
// component, with the same figures; and that --series=false leaves them
// out.
func TestJSONSeriesMatchCSV(t *testing.T) {
	for _, name := range []string{"monolith-vs-microservices", "kafka-consumer-crash", "order-saga", "cqrs-projection-lag", "quorum-staleness"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "series.csv")
			code, js, errs := faultline("run", name, "--duration", "20s", "--json", "--csv", path)
			if code != 0 && code != 3 { // 3: an SLO broken, which is fine here
				t.Fatalf("exit %d: %s", code, errs)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			col := map[string]int{}
			for i, h := range rows[0] {
				col[h] = i
			}
			// Every window in the JSON, by kind, component and start.
			type window = map[string]any
			got := map[string]window{}
			var res map[string]any
			if err := json.Unmarshal([]byte(js), &res); err != nil {
				t.Fatal(err)
			}
			list := func(v any) []any { l, _ := v.([]any); return l }
			add := func(kind string, c any) {
				m := c.(map[string]any)
				for _, w := range list(m["series"]) {
					w := w.(map[string]any)
					got[fmt.Sprintf("%s %s %v", kind, m["name"], w["t_s"])] = w
				}
			}
			for _, c := range list(res["clients"]) {
				add("client", c)
				for _, f := range list(c.(map[string]any)["flows"]) {
					add("flow", f)
				}
			}
			for _, c := range list(res["components"]) {
				m := c.(map[string]any)
				add("service", c) // the CSV's kind for a gateway too
				for _, o := range list(m["operations"]) {
					o := o.(map[string]any)
					add("operation", map[string]any{"name": fmt.Sprint(m["name"], ".", o["name"]), "series": o["series"]})
				}
			}
			for _, k := range []struct{ section, kind string }{{"edges", "edge"}, {"topics", "topic"}, {"groups", "group"}, {"stores", "store"}, {"sagas", "saga"}, {"views", "view"}} {
				for _, c := range list(res[k.section]) {
					add(k.kind, c)
				}
			}
			if len(got) != len(rows)-1 {
				t.Errorf("%d windows in --json, %d rows in --csv", len(got), len(rows)-1)
			}
			num := func(v any) string {
				f, ok := v.(float64)
				if !ok {
					return fmt.Sprint(v)
				}
				return strconv.FormatFloat(f, 'f', -1, 64)
			}
			for _, r := range rows[1:] {
				key := fmt.Sprintf("%s %s %s", r[col["kind"]], r[col["component"]], r[col["t_s"]])
				w, ok := got[key]
				if !ok {
					t.Errorf("no JSON window for the CSV row %s", key)
					continue
				}
				switch r[col["kind"]] {
				case "edge":
					lat := func(k, stat string) any { m, _ := w[k].(map[string]any); return m[stat] }
					for csvCol, v := range map[string]any{"sent": w["calls"], "ok": w["ok"], "error": w["error"],
						"timeout": w["timeout"], "rejected": w["rejected"],
						"latency_p99_ms": lat("latency_ms", "p99"), "latency_all_p99_ms": lat("latency_all_ms", "p99")} {
						if want := r[col[csvCol]]; num(v) != want {
							t.Errorf("%s: %s is %s in the CSV, %s in the JSON", key, csvCol, want, num(v))
						}
					}
				case "client", "flow", "service", "operation":
					lat := func(k string) any { m, _ := w[k].(map[string]any); return m["p99"] }
					for csvCol, v := range map[string]any{"sent": w["sent"], "ok": w["ok"], "timeout": w["timeout"],
						"latency_p99_ms": lat("latency_ms"), "latency_all_p99_ms": lat("latency_all_ms")} {
						if want := r[col[csvCol]]; want != "" && num(v) != want {
							t.Errorf("%s: %s is %s in the CSV, %s in the JSON", key, csvCol, want, num(v))
						}
					}
				}
			}
			_, short, _ := faultline("run", name, "--duration", "20s", "--json", "--series=false")
			if strings.Contains(short, `"series"`) || len(short) >= len(js) {
				t.Errorf("--series=false: %d bytes, with series %d; series still in it: %v", len(short), len(js), strings.Contains(short, `"series"`))
			}
		})
	}
}

// TestDurationFlagChecked: --duration goes through the loader like the
// file's duration, for run and bench: its limits hold (24 h at most, longer
// than the warmup) with errors on the flag and exit code 2, where run took
// any duration (a 25 h run) and bench too. A run cut short leaves out the
// faults after its end with a word on stderr, not an error.
func TestDurationFlagChecked(t *testing.T) {
	dir := t.TempDir()
	quiet := filepath.Join(dir, "quiet.toml")
	os.WriteFile(quiet, []byte(`[scenario]
name = "quiet"
duration = "10s"
warmup = "2s"
window = "1h"

[[client]]
name = "users"
target = "api"
rate = 0.001

[[service]]
name = "api"
service_time = "1ms"
`), 0o644)
	out := filepath.Join(dir, "out")
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"run", quiet, "--duration", "25h"}, 2, "--duration:1:19: duration must be at most 24h0m0s, got 25h0m0s"},
		{[]string{"bench", quiet, "--duration", "25h", "--replications", "1", "--out", out}, 2, "--duration:1:19: duration must be at most 24h0m0s"},
		{[]string{"run", quiet, "--duration", "1s"}, 2, "quiet.toml:4:10: warmup (2s) must be shorter than duration (1s)"},
		{[]string{"run", quiet, "--duration", "-1s"}, 2, "--duration:1:19: duration must be positive"},
		{[]string{"run", "checkout", "--duration", "20s"}, 0, "fault 1 (latency on payment) starts at 40s, after the run ends"},
		{[]string{"run", "checkout", "--set", "scenario.duration=20s"}, 0, "fault 1 (latency on payment) starts at 40s"},
	}
	for _, tt := range tests {
		code, _, errs := faultline(tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.stderr) {
			t.Errorf("faultline %q: exit %d, stderr %q; want exit %d and %q", tt.args, code, errs, tt.code, tt.stderr)
		}
	}
}

// TestCSVPaths: --csv replaces a regular file whole with mode 0644 less
// the umask (it was 0600), writes through what is not a regular file (a
// FIFO, a link to one, a device: they were replaced by a regular file),
// prints the report even when the CSV cannot be written and names the
// path, not a temporary file, and refuses the file stdout goes to
// ("--json --csv out > out" lost the JSON).
func TestCSVPaths(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	link := filepath.Join(dir, "link.csv")
	os.Symlink(fifo, link)
	for _, path := range []string{fifo, link} {
		got := make(chan int)
		go func() { // the reader at the other end
			b, _ := os.ReadFile(path)
			got <- strings.Count(string(b), "\n")
		}()
		if code, _, errs := faultline("run", "mm1", "--duration", "12s", "--csv", path); code != 0 {
			t.Fatalf("--csv %s: exit %d: %s", path, code, errs)
		}
		select {
		case n := <-got:
			if n != 1+12*2 {
				t.Errorf("--csv %s: the reader got %d lines, want 25", path, n)
			}
		case <-time.After(10 * time.Second):
			// A file renamed over the FIFO: its reader waits forever.
			t.Fatalf("--csv %s: nothing was written to the FIFO", path)
		}
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO became %v", fi.Mode())
	}
	if dest, err := os.Readlink(link); err != nil || dest != fifo {
		t.Errorf("the link became %q %v", dest, err)
	}

	plain := filepath.Join(dir, "series.csv")
	defer syscall.Umask(syscall.Umask(0o022))
	if code, _, errs := faultline("run", "mm1", "--duration", "12s", "--csv", plain); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if fi, err := os.Stat(plain); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("--csv made a file of mode %v, want 0644 (as the reports)", fi.Mode())
	}

	if _, err := os.Stat("/dev/full"); err == nil {
		code, out, errs := faultline("run", "mm1", "--duration", "12s", "--csv", "/dev/full")
		if code != 1 || !strings.Contains(out, "arrivals") || !strings.Contains(errs, "--csv: write /dev/full: no space left on device") {
			t.Errorf("--csv /dev/full: exit %d, stderr %q, report printed: %v; want exit 1, the report and the error", code, errs, strings.Contains(out, "arrivals"))
		}
	}
	missing := filepath.Join(dir, "none", "x.csv")
	code, _, errs := faultline("run", "mm1", "--duration", "12s", "--csv", missing)
	if code != 1 || !strings.Contains(errs, missing+": no such file") || strings.Contains(errs, "simulated") {
		t.Errorf("--csv in a missing directory: exit %d, stderr %q; want exit 1 before the run, naming %s", code, errs, missing)
	}

	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var errb bytes.Buffer
	if code := cli([]string{"run", "mm1", "--json", "--csv", out.Name()}, out, &errb); code != 2 || !strings.Contains(errb.String(), "is the file stdout goes to") {
		t.Errorf("--csv to stdout's file: exit %d, stderr %q; want exit 2", code, errb.String())
	}
}

// TestStdoutWriteErrors: a command whose output cannot be written exits 1
// with a message (it exited 0), through a failing writer and /dev/full.
func TestStdoutWriteErrors(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full:", err)
	}
	defer full.Close()
	for _, args := range [][]string{{"list"}, {"validate", "mm1"}, {"run", "mm1", "--duration", "12s"}, {"run", "mm1", "--duration", "12s", "--json"}} {
		for _, w := range []io.Writer{full, failingWriter{}} {
			var errb bytes.Buffer
			if code := cli(args, w, &errb); code != 1 || !strings.Contains(errb.String(), "faultline: writing the output:") {
				t.Errorf("faultline %q > %T: exit %d, stderr %q; want exit 1 and the write error", args, w, code, errb.String())
			}
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken") }

// TestDashIsStdout: "-" names standard output, for run --csv (after the
// report, as /dev/stdout) and import -o; both made a file named "-".
func TestDashIsStdout(t *testing.T) {
	dir := t.TempDir()
	wd, _ := os.Getwd()
	t.Cleanup(func() { os.Chdir(wd) })
	traces, _ := filepath.Abs("importer/testdata/tiny.jaeger.json")
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	code, out, errs := faultline("run", "mm1", "--duration", "12s", "--csv", "-")
	if code != 0 || !strings.HasPrefix(out, "mm1 · seed 1") || !strings.Contains(out, "\nt_s,component,kind,") {
		t.Errorf("run --csv -: exit %d, stderr %q, stdout %.200q; want the report, then the CSV", code, errs, out)
	}
	code, out, errs = faultline("import", traces, "-o", "-")
	if code != 0 || !strings.Contains(out, "[scenario]") {
		t.Errorf("import -o -: exit %d, stderr %q; want the scenario on stdout", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "-")); err == nil {
		t.Error(`a file named "-" was written`)
	}
}
