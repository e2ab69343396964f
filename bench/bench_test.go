package bench

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gold "github.com/faultline/faultline/internal/golden"
	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/metric"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func source(t *testing.T) Source {
	t.Helper()
	data, err := os.ReadFile("testdata/small.toml")
	if err != nil {
		t.Fatal(err)
	}
	return Source{Arg: "testdata/small.toml", File: "small.toml", Data: data}
}

func sweep(t *testing.T, arg string) []scenarios.Override {
	t.Helper()
	o, err := scenarios.ParseSweep("--sweep", arg)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func plan(t *testing.T, cfg Config) *Matrix {
	t.Helper()
	cfg.Sources = []Source{source(t)}
	m, err := Plan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// dataPlan plans a small bench of a built-in scenario of the data half:
// kafka-consumer-crash cut to 40 s (billing#2 crashes at 30 s), 2
// replications.
func dataPlan(t *testing.T) *Matrix {
	t.Helper()
	name, data, err := scenarios.Open("kafka-consumer-crash")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Plan(Config{Sources: []Source{{Arg: name, File: name, Data: data}}, Replications: 2, Duration: 40 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// golden compares got with a file under testdata; -update rewrites it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	gold.Check(t, filepath.Join("testdata", name), string(got), *update)
}

// reportJSON runs a matrix and returns its JSON report.
func reportJSON(t *testing.T, m *Matrix, opt Options) []byte {
	t.Helper()
	runs, err := Execute(context.Background(), m, opt)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := NewReport(m, runs).WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		labels []string
		keys   []string
	}{
		{"variants", Config{Replications: 2}, []string{"plain", "retry"}, nil},
		{"one variant", Config{Replications: 2, Variants: []string{"retry"}}, []string{"retry"}, nil},
		{"sweep", Config{Replications: 1, Sweeps: [][]scenarios.Override{sweep(t, "client.users.rate=100,200,300")}},
			[]string{"plain rate=100", "plain rate=200", "plain rate=300", "retry rate=100", "retry rate=200", "retry rate=300"},
			[]string{"client.users.rate"}},
		{"cross product", Config{Replications: 1, Variants: []string{"plain"}, Sweeps: [][]scenarios.Override{
			sweep(t, "client.users.rate=100,200"), sweep(t, "service.api.workers=4,8")}},
			[]string{"plain rate=100 workers=4", "plain rate=100 workers=8", "plain rate=200 workers=4", "plain rate=200 workers=8"},
			[]string{"client.users.rate", "service.api.workers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := plan(t, tt.cfg)
			var labels []string
			for _, c := range m.Cells {
				labels = append(labels, c.Label)
			}
			if !slices.Equal(labels, tt.labels) || !slices.Equal(m.SweepKeys, tt.keys) {
				t.Errorf("cells %q keys %q; want %q %q", labels, m.SweepKeys, tt.labels, tt.keys)
			}
			if m.Jobs() != len(tt.labels)*tt.cfg.Replications {
				t.Errorf("%d jobs", m.Jobs())
			}
		})
	}
	// The swept values reach the spec.
	m := plan(t, Config{Replications: 1, Variants: []string{"plain"}, Sweeps: [][]scenarios.Override{sweep(t, "service.api.workers=4,8")}})
	if m.Cells[0].spec.Services[0].Workers != 4 || m.Cells[1].spec.Services[0].Workers != 8 {
		t.Error("the sweep did not change the spec")
	}
	for _, bad := range []Config{
		{Replications: 0},
		{Replications: 1, Variants: []string{"nosuch"}},
		{Replications: 1, Baseline: "nosuch"},
		{Replications: 1, Sweeps: [][]scenarios.Override{sweep(t, "client.users.rat=1,2")}},
	} {
		bad.Sources = []Source{source(t)}
		if _, err := Plan(bad); err == nil {
			t.Errorf("Plan(%+v) accepted it", bad)
		}
	}
}

// TestParallelIdentical: the report does not depend on the number of
// workers, and replication i runs with seed base+i.
func TestParallelIdentical(t *testing.T) {
	m := plan(t, Config{Replications: 4})
	seq := reportJSON(t, m, Options{Parallel: 1})
	par := reportJSON(t, m, Options{Parallel: 3})
	if !bytes.Equal(seq, par) {
		t.Fatal("--parallel 1 and 3 gave different reports")
	}
	// Likewise with the series of a consumer group.
	dm := dataPlan(t)
	if seq, par := reportJSON(t, dm, Options{Parallel: 1}), reportJSON(t, dm, Options{Parallel: 2}); !bytes.Equal(seq, par) {
		t.Fatal("kafka-consumer-crash: --parallel 1 and 2 gave different reports")
	} else if !bytes.Contains(seq, []byte(`"key": "group/billing/consumer_lag"`)) {
		t.Error("kafka-consumer-crash: the JSON report has no consumer lag series")
	}
	runs, _ := Execute(context.Background(), m, Options{Parallel: 2})
	for _, r := range runs {
		if r.Seed != 7+uint64(r.Rep) {
			t.Errorf("cell %d replication %d ran with seed %d, want %d", r.Cell, r.Rep, r.Seed, 7+r.Rep)
		}
	}
}

// TestShardMerge: three shards merged give the report of one run.
func TestShardMerge(t *testing.T) {
	m := plan(t, Config{Replications: 3})
	whole := reportJSON(t, m, Options{Parallel: 2})
	var dirs []string
	for i := range 3 {
		dir := t.TempDir()
		runs, err := Execute(context.Background(), m, Options{Parallel: 1, Shard: Shard{I: i, N: 3}})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 2 {
			t.Errorf("shard %d ran %d jobs, want 2 of 6", i, len(runs))
		}
		if _, err := WritePartial(dir, &Partial{Matrix: m, Shard: Shard{I: i, N: 3}, Runs: runs}); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	parts, err := ReadPartials(dirs)
	if err != nil {
		t.Fatal(err)
	}
	mm, runs, complete, err := Merge(parts)
	if err != nil || !complete {
		t.Fatalf("Merge: complete %v, %v", complete, err)
	}
	var b bytes.Buffer
	NewReport(mm, runs).WriteJSON(&b)
	if !bytes.Equal(b.Bytes(), whole) {
		t.Error("the merged report differs from the report of one run")
	}
	// A missing shard gives a partial report; a shard twice is an error.
	if _, runs, complete, _ := Merge(parts[:2]); complete || len(runs) != 4 {
		t.Errorf("two of three shards: complete %v, %d runs", complete, len(runs))
	}
	if _, _, _, err := Merge([]*Partial{parts[0], parts[0]}); err == nil {
		t.Error("a shard merged twice was accepted")
	}
}

func TestInterrupted(t *testing.T) {
	m := plan(t, Config{Replications: 2})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	runs, err := Execute(ctx, m, Options{Parallel: 2})
	if err == nil {
		t.Fatal("no error from a cancelled bench")
	}
	rep := NewReport(m, runs)
	var b bytes.Buffer
	rep.WriteMarkdown(&b)
	if !rep.Partial || !strings.Contains(b.String(), "Partial report") {
		t.Errorf("partial %v:\n%s", rep.Partial, b.String())
	}
}

func TestParseShard(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		arg, k8s, slurm string
		want            Shard
		bad             bool
	}{
		{arg: "1/4", want: Shard{1, 4}},
		{arg: "4", k8s: "3", want: Shard{3, 4}},
		{arg: "4", slurm: "2", want: Shard{2, 4}},
		{arg: "4", k8s: "1", slurm: "2", want: Shard{1, 4}},
		{arg: "4", bad: true},
		{arg: "4/4", bad: true},
		{arg: "0", bad: true},
		{arg: "a/b", bad: true},
	}
	for _, tt := range tests {
		env["JOB_COMPLETION_INDEX"], env["SLURM_ARRAY_TASK_ID"] = tt.k8s, tt.slurm
		got, err := ParseShard(tt.arg, getenv)
		if (err != nil) != tt.bad || (!tt.bad && got != tt.want) {
			t.Errorf("ParseShard(%q) k8s %q slurm %q = %v, %v", tt.arg, tt.k8s, tt.slurm, got, err)
		}
	}
}

// TestReportGolden pins the Markdown report of a small fixed bench.
func TestReportGolden(t *testing.T) {
	m := plan(t, Config{Replications: 3})
	runs, err := Execute(context.Background(), m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep := NewReport(m, runs)
	var b bytes.Buffer
	if err := rep.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "small.golden.md", b.Bytes())
	// comparisons.csv says which test gave each difference.
	b.Reset()
	if err := rep.WriteComparisonsCSV(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "small-comparisons.golden.csv", b.Bytes())
	// Every format writes, and the HTML is self-contained.
	dir := t.TempDir()
	files, err := rep.WriteFiles(dir, Formats)
	if err != nil || len(files) != 6 {
		t.Fatalf("WriteFiles: %v %v", files, err)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if !bytes.Contains(page, []byte("<svg")) || bytes.Contains(page, []byte("http://")) && !bytes.Contains(page, []byte("xmlns")) {
		t.Error("the HTML report has no inline chart")
	}
	for _, ext := range []string{`src="http`, `href="http`, "<script"} {
		if bytes.Contains(page, []byte(ext)) {
			t.Errorf("the HTML report loads %s: it must open offline", ext)
		}
	}
}

func TestProgressPlain(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, false)
	p.Start(2, 1)
	p.Done(0, "a", 0, 0)
	p.Done(1, "a", 1, 0)
	p.Finish()
	if got := b.String(); !strings.HasPrefix(got, "bench: 2 runs on 1 workers\n") || !strings.Contains(got, "2/2 runs done") || strings.Contains(got, "\r") {
		t.Errorf("plain progress:\n%q", got)
	}
	b.Reset()
	p = NewProgress(&b, true)
	p.Start(2, 1)
	p.Done(0, "a", 0, 0)
	if !strings.Contains(b.String(), "\r") || !strings.Contains(b.String(), "ETA") {
		t.Errorf("terminal progress: %q", b.String())
	}
}

// TestProgressAdvance: on a terminal the bar moves by the share of virtual
// time done within a run, not only when the run completes, and redraws at
// most every redrawEvery of wall time.
func TestProgressAdvance(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, true).(*progress)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	p.Start(2, 2)
	bars := func() []string { // the bars drawn so far
		var out []string
		for _, line := range strings.Split(b.String(), "\r\x1b[K")[1:] {
			out = append(out, line[:strings.Index(line, "]")+1])
		}
		return out
	}
	steps := []struct {
		after time.Duration
		job   int
		frac  float64
		want  string // the last bar drawn
		draws int
	}{
		{time.Second, 0, 0.5, "[#######.......................]", 1}, // 0.5 of 2 runs: 7 of 30
		{50 * time.Millisecond, 1, 0.5, "[#######.......................]", 1},
		{time.Second, 0, 1, "[######################........]", 2}, // 1.5 of 2
	}
	for i, st := range steps {
		now = now.Add(st.after)
		p.Advance(st.job, st.frac)
		got := bars()
		if len(got) != st.draws || got[len(got)-1] != st.want {
			t.Errorf("step %d: bars %q, want %d ending in %s", i, got, st.draws, st.want)
		}
	}
	p.Done(0, "a", 0, 0) // job 0 ends: its share counts as a whole run, no more
	if got := bars(); got[len(got)-1] != "[######################........]" || !strings.Contains(b.String(), "1/2 runs") {
		t.Errorf("after Done: %q", b.String())
	}
	if strings.Contains(b.String(), "\n") {
		t.Errorf("a bar ends a line: %q", b.String())
	}
}

// TestExecuteAdvances: Execute tells the progress how far each run has
// got after every slice of virtual time, in order, before the run is done.
func TestExecuteAdvances(t *testing.T) {
	m := plan(t, Config{Replications: 1})
	rec := &recorder{}
	if _, err := Execute(context.Background(), m, Options{Parallel: 1, Progress: rec}); err != nil {
		t.Fatal(err)
	}
	// small.toml runs 20 s: slices of 5 s report 0.25, 0.5 and 0.75, then
	// the run is done.
	want := []string{"advance 0 0.25", "advance 0 0.5", "advance 0 0.75", "done 0"}
	if !slices.Equal(rec.log[:min(len(rec.log), len(want))], want) {
		t.Errorf("progress told %q, want it to start with %q", rec.log, want)
	}
}

type recorder struct {
	mu  sync.Mutex
	log []string
}

func (r *recorder) Start(total, workers int) {}
func (r *recorder) Finish()                  {}
func (r *recorder) Advance(job int, frac float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, fmt.Sprintf("advance %d %g", job, frac))
}
func (r *recorder) Done(job int, label string, rep int, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, fmt.Sprintf("done %d", job))
}

// TestDataReport: a bench of a scenario with a consumer group keeps its
// lag series, draws them under their own heading, and writes them to
// series.csv (pinned in a golden file, with the Markdown report).
func TestDataReport(t *testing.T) {
	m := dataPlan(t)
	runs, err := Execute(context.Background(), m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range runs {
		for _, k := range []string{"group/billing/consumer_lag", "group/billing/lag_records", "client/shoppers/p99"} {
			if len(run.Series[k]) != 40 {
				t.Errorf("replication %d: series %s has %d windows, want 40", run.Rep, k, len(run.Series[k]))
			}
		}
		// billing#2 crashes at 30 s: its partitions wait for the session
		// timeout, and the lag grows by a second a second.
		if lag := run.Series["group/billing/consumer_lag"]; len(lag) == 40 && (lag[38] < 8 || lag[20] > 6) {
			t.Errorf("replication %d: lag %.1f s at 20 s, %.1f s at 38 s; want it low, then growing", run.Rep, lag[20], lag[38])
		}
	}
	rep := NewReport(m, runs)
	var md bytes.Buffer
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	golden(t, "kafka.golden.md", md.Bytes())
	var csv bytes.Buffer
	if err := rep.WriteSeriesCSV(&csv); err != nil {
		t.Fatal(err)
	}
	// The data rows of series.csv: the client rows are the small bench's.
	var rows []string
	for i, l := range strings.SplitAfter(csv.String(), "\n") {
		if i == 0 || strings.Contains(l, ",group/") {
			rows = append(rows, l)
		}
	}
	if len(rows) != 1+2*40 {
		t.Errorf("series.csv has %d rows of the group, want 80", len(rows)-1)
	}
	golden(t, "kafka-series.golden.csv", []byte(strings.Join(rows, "")))
	var page bytes.Buffer
	if err := rep.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<h3>Clients</h3>", "<h3>Consumer lag</h3>",
		"group billing: consumer lag (age of the oldest uncommitted record, most per window) over virtual time (series group/billing/consumer_lag_s in series.csv). Shaded: fault windows: billing#2 crash 30-40s.",
		"group billing: consumer lag in records (most per window) over virtual time (series group/billing/lag_records in series.csv)."} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("the HTML report lacks %q", want)
		}
	}
	for _, absent := range []string{"Store staleness", "Sagas in flight", "Views:"} {
		if strings.Contains(page.String(), absent) {
			t.Errorf("the HTML report has %q without such a component", absent)
		}
	}
	if n := strings.Count(page.String(), "<svg"); n != 8 {
		t.Errorf("%d charts, want 8: 6 of the client (p99_all among them), 2 of the group", n)
	}
}

// TestDataSeries: the series of stores, sagas and views, from windows made
// by hand: shares are 0 without reads, counts become rates over the
// window, the last cut short by the end of the run.
func TestDataSeries(t *testing.T) {
	// Windows [from, to) in seconds, the last cut short at 2.5 s.
	at := func(k sim.SeriesKind, from, to float64) sim.Window {
		return sim.Window{Kind: k, Start: time.Duration(from * 1e9), End: time.Duration(to * 1e9)}
	}
	store := func(from, to float64, f sim.StoreFigures) sim.Window {
		w := at(sim.StoreSeries, from, to)
		w.Figures = &f
		return w
	}
	saga := func(from, to float64, f sim.SagaFigures) sim.Window {
		w := at(sim.SagaSeries, from, to)
		w.Figures = &f
		return w
	}
	view := func(from, to float64, f sim.ViewFigures) sim.Window {
		w := at(sim.ViewSeries, from, to)
		w.Figures = &f
		return w
	}
	res := &sim.Result{DurationS: 2.5,
		Stores: []sim.StoreResult{{Name: "kv", Series: []sim.Window{
			store(0, 1, sim.StoreFigures{Reads: 10, Stale: 4, Unavailable: 3, Timeouts: 1}),
			store(1, 2, sim.StoreFigures{Reads: 0, Unavailable: 2}),
			store(2, 2.5, sim.StoreFigures{Reads: 5, Stale: 5, Timeouts: 1})}}},
		Sagas: []sim.SagaResult{{Name: "order", Series: []sim.Window{saga(0, 1, sim.SagaFigures{Running: 3}), saga(1, 2, sim.SagaFigures{Running: 7})}}},
		Views: []sim.ViewResult{{Name: "history", Series: []sim.Window{
			view(0, 1, sim.ViewFigures{Reads: 4, Miss: 1, LagS: 0.5}), view(1, 2, sim.ViewFigures{LagS: 2})}}},
	}
	got := map[string]Floats{}
	dataSeries(res, func(scope metric.Scope, comp, name string, f Floats) {
		got[Key{scope, comp, name}.String()] = f
	})
	want := map[string]Floats{
		"store/kv/staleness":          {0.4, 0, 1},
		"store/kv/unavailable_per_s":  {3, 2, 0},
		"store/kv/timeouts_per_s":     {1, 0, 2},
		"saga/order/running":          {3, 7},
		"view/history/projection_lag": {0.5, 2},
		"view/history/ryw_miss_share": {0.25, 0},
	}
	if len(got) != len(want) {
		t.Errorf("series %v, want the keys of %v", sortedMapKeys(got), sortedMapKeys(want))
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
}

// crnTOML is a shop whose two variants differ only in the users' timeout:
// the users call api, which calls db; reports call db directly, so that
// their latency moves only with db's load, the same in both variants but
// for the work the users abandon.
const crnTOML = `
[scenario]
name = "crn"
duration = "15s"
warmup = "2s"
seed = 3

[[client]]
name = "users"
target = "api"
rate = 150
timeout = "1s"

[[client]]
name = "reports"
target = "db"
rate = 60

[[service]]
name = "api"
instances = 2
workers = 32
service_time = "exp(2ms)"

  [[service.call]]
  to = "db"

[[service]]
name = "db"
instances = 1
workers = 8
service_time = "lognormal(10ms, 60ms)"

[[variant]]
name = "patient"

[[variant]]
name = "hasty"
set = { "client.users.timeout" = "30ms" }
`

// TestPairedNarrowerWithCommonRandomNumbers: the variants of a bench run
// the same seeds and every draw a component makes is its own, so a metric
// the variants' difference barely reaches moves alike in both, replication
// by replication. The paired interval of the difference takes that
// correlation off; Welch's, which the report used before, does not.
func TestPairedNarrowerWithCommonRandomNumbers(t *testing.T) {
	m, err := Plan(Config{Sources: []Source{{Arg: "crn.toml", File: "crn.toml", Data: []byte(crnTOML)}}, Replications: 6})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := Execute(context.Background(), m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := NewReport(m, runs)
	// The reports' latency, downstream of db, which does the work the
	// users abandon all the same: a paired difference of exactly 0
	// against Welch's ± 5.7 ms (p99) and ± 0.36 ms (p50); and the users'
	// own goodput, which the timeout does move: -13.5/s ± 1.8 against
	// Welch's ± 5.1.
	for _, key := range []string{"client/reports/p99", "client/reports/p50", "client/users/goodput"} {
		k, _ := ParseKey(key)
		row, ok := r.Row(k)
		cmpr, found := r.comparison(1, key)
		if !ok || !found {
			t.Fatalf("%s: no row or no comparison", key)
		}
		welch := Welch(row.Cells[1], row.Cells[0])
		t.Logf("%s: %+.4g ± %.4g in the report, ± %.4g by Welch's", key, cmpr.Diff, cmpr.CI, welch.CI)
		if cmpr.CI >= welch.CI {
			t.Errorf("%s: the difference %+.4g has an interval ± %.4g, no narrower than Welch's ± %.4g", key, cmpr.Diff, cmpr.CI, welch.CI)
		}
	}
}
