package compare

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/importer"
	"github.com/faultline/faultline/internal/golden"
	"github.com/faultline/faultline/sim"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestMAPE: the mean of the absolute relative errors, in percent.
func TestMAPE(t *testing.T) {
	for _, tt := range []struct {
		name           string
		obs, simulated []float64
		want           float64
	}{
		{"none", nil, nil, 0},
		{"exact", []float64{10, 20}, []float64{10, 20}, 0},
		{"over and under count alike", []float64{100, 100}, []float64{110, 90}, 10},
		{"mixed", []float64{10, 200, 4}, []float64{15, 150, 4}, (50 + 25 + 0) / 3.0},
		// A span of 0 us (zipkin-lens's smartthings trace has them)
		// lasted under the recorder's 1 us: the error is against 1 us.
		{"observed zero floored at 1 us", []float64{0, 10}, []float64{0.001, 12}, (100 + 20) / 2.0},
		{"both zero left out", []float64{0, 10}, []float64{0, 12}, 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var errs []float64
			for i := range tt.obs {
				errs = append(errs, LatencyErr(tt.obs[i], tt.simulated[i]))
			}
			if got := MAPE(errs); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("MAPE %g; want %g", got, tt.want)
			}
		})
	}
	if e := RelErr(0, 1); !math.IsInf(e, 1) {
		t.Errorf("RelErr(0, 1) = %g; want +Inf", e)
	}
}

// TestCompareNoSuccess: an operation the traces show succeeding that the
// run answered with no success has no simulated latency; the MAPEs count
// it 100 % off and the report names it. Left out, a run whose requests all
// failed scored a MAPE of 0 %.
func TestCompareNoSuccess(t *testing.T) {
	m := &importer.Model{Services: []importer.Service{{Name: "api", Operations: []importer.Operation{
		{Name: "get", Count: 100, P50: 10 * time.Millisecond, P90: 12 * time.Millisecond, P99: 20 * time.Millisecond, ErrorShare: 0.4},
		{Name: "put", Count: 100, P50: 10 * time.Millisecond, P90: 12 * time.Millisecond, P99: 20 * time.Millisecond},
		{Name: "bad", Count: 100, P50: 10 * time.Millisecond, P90: 12 * time.Millisecond, P99: 20 * time.Millisecond, ErrorShare: 1},
	}}}}
	res := &sim.Result{DurationS: 10, Components: []sim.ComponentResult{{Name: "api", Operations: []sim.OperationResult{
		{Name: "get", Arrivals: 100, Failed: 100},
		{Name: "put", Arrivals: 100, OK: 100, Latency: sim.Latency{P50: 10, P90: 12, P99: 20}},
		{Name: "bad", Arrivals: 100, Failed: 100},
	}}}}
	rep := Compare(m, res, Options{MinSpans: 50})
	for _, tt := range []struct {
		name      string
		got, want float64
	}{
		{"p50 MAPE: get 100 % off, put exact, bad left out", rep.P50MAPE, 50},
		{"p99 MAPE", rep.P99MAPE, 50},
		{"unscored: bad failed throughout on both sides", float64(rep.Unscored), 1},
	} {
		if math.Abs(tt.got-tt.want) > 1e-9 {
			t.Errorf("%s: %g; want %g", tt.name, tt.got, tt.want)
		}
	}
	if fmt.Sprint(rep.NoSuccess) != "[api.get]" {
		t.Errorf("no_success %v; want [api.get]", rep.NoSuccess)
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"no_success":["api.get"]`, `"unscored":1`, `"missing":[]`} {
		if !strings.Contains(string(js), k) {
			t.Errorf("JSON lacks %s: %s", k, js)
		}
	}
}

// TestAutoWindows: the run lasts enough windows that the least counted
// operation compared gets about 1000 requests: a recording of one trace
// is compared with 100 windows' run, one of 50 spans with 20, a full one
// with one; a sampled recording's spans count as the requests they stand
// for (before, 60 spans at 30 % took 17 windows, not 5).
func TestAutoWindows(t *testing.T) {
	model := func(counts ...int64) *importer.Model {
		m := &importer.Model{Services: []importer.Service{{Name: "s"}}}
		for _, c := range counts {
			m.Services[0].Operations = append(m.Services[0].Operations, importer.Operation{Count: c})
		}
		return m
	}
	sampled := func(ratio float64, counts ...int64) *importer.Model {
		m := model(counts...)
		m.Observed.SampleRatio = ratio
		return m
	}
	failing := func(share float64, count int64) *importer.Model {
		m := model(count)
		m.Services[0].Operations[0].ErrorShare = share
		return m
	}
	for _, tt := range []struct {
		name     string
		m        *importer.Model
		minSpans int64
		want     int
	}{
		{"one trace", model(1, 3), 1, 100},
		{"fewest compared 50", model(50, 4000), 50, 20},
		{"fewer than min-spans not compared", model(7, 400), 50, 3},
		{"fewest compared 100", model(100, 500), 50, 10},
		{"all have 1000", model(1000, 5000), 50, 1},
		{"none compared", model(3), 50, 1},
		{"min-spans 0 counts as 1", model(0, 30), 0, 34},
		{"30 % sampled: 60 spans are 200 requests", sampled(0.3, 60, 4000), 50, 5},
		{"30 % sampled: 300 spans are 1000 requests", sampled(0.3, 300), 50, 1},
		{"sampled share 0 counts as 1", sampled(0, 60), 50, 17},
		// 1000 spans of which 90 % failed are 100 successes, what the
		// simulated quantiles rest on; failed throughout, all count.
		{"90 % failed: 1000 spans are 100 successes", failing(0.9, 1000), 50, 10},
		{"failed throughout: its failures count", failing(1, 1000), 50, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := AutoWindows(tt.m, tt.minSpans); got != tt.want {
				t.Errorf("AutoWindows = %d; want %d", got, tt.want)
			}
		})
	}
}

// TestReportOutput pins the table and the JSON of a comparison of the
// hotel reservation's 30-trace fixture with its imported scenario.
func TestReportOutput(t *testing.T) {
	spec, m := importAndLoad(t, filepath.Join("..", "importer", "testdata", "hotel-reservation-30traces.jaeger.json.gz"), "")
	rep := runAtMin(t, spec, m, 20, 1)
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/hotel-30traces.golden", text.String(), *update)
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/hotel-30traces.json.golden", string(js)+"\n", *update)
}

// TestFits: a simulated quantile fits within the tolerance of the
// observed one, or anywhere inside the observed one's interval (another
// sample of as many spans could have put it there); an interval without
// an upper bound holds everything above its low end.
func TestFits(t *testing.T) {
	for _, tt := range []struct {
		name           string
		obs, simulated float64
		ci             *CI
		want           bool
	}{
		{"within tolerance", 100, 130, &CI{95, 105}, true},
		{"outside both", 100, 140, &CI{95, 105}, false},
		{"inside the interval only", 100, 60, &CI{50, 120}, true},
		{"no upper bound", 100, 300, &CI{80, math.Inf(1)}, true},
		{"below an unbounded interval", 100, 50, &CI{80, math.Inf(1)}, false},
		{"no interval (simulated side)", 100, 140, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Fits(tt.obs, tt.simulated, tt.ci, 0.35); got != tt.want {
				t.Errorf("Fits = %v; want %v", got, tt.want)
			}
		})
	}
	if b, err := json.Marshal(CI{1.5, math.Inf(1)}); err != nil || string(b) != "[1.5,null]" {
		t.Errorf("JSON %s, %v; want [1.5,null]", b, err)
	}
}

// TestAtObservedLoadByName: an imported scenario's clients take the rate
// of the traces' client of their own name. An operation that is a root in
// one trace and an orphan in another has two clients at one target; taken
// by target, each got the sum, and the run drove it twice as hard.
func TestAtObservedLoadByName(t *testing.T) {
	csv := "TraceID,SpanID,ParentID,ServiceName,OperationName,StartTimeUnixNano,EndTimeUnixNano\n" +
		"t1,a,root,web,home,1700000000000000000,1700000000010000000\n" +
		"t2,b,gone,web,home,1700000001000000000,1700000001010000000\n" +
		"t3,c,root,web,home,1700000002000000000,1700000002010000000\n"
	path := filepath.Join(t.TempDir(), "spans.csv")
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, m := importAndLoad(t, path, "")
	AtObservedLoad(spec, m, 1)
	var total float64
	for _, c := range spec.Clients {
		total += c.Rate
	}
	var want float64
	for _, c := range m.Clients {
		want += c.Rate
	}
	if len(spec.Clients) != 2 || math.Abs(total-want) > 1e-9 {
		t.Errorf("%d clients, %g requests/s in all; want 2, %g (the traces' root and orphan rates)", len(spec.Clients), total, want)
	}
}

// TestAtObservedLoadUnmatched: a client the import made (load-, orphan-,
// async-<service>-<operation>) with no counterpart in the traces compared
// stands for requests those traces did not have: rate 0. A client the
// author wrote keeps its load. Kept, an import's async-backend-q drove
// 9.1/s of work that traces of another window held inside their calls.
func TestAtObservedLoadUnmatched(t *testing.T) {
	m := &importer.Model{Clients: []importer.Client{{Name: "load-gateway-get", Target: "gateway.get", Rate: 10}}}
	spec := &sim.Spec{Clients: []sim.Client{
		{Name: "load-gateway-get", Target: "gateway", Operation: "get", Rate: 12},
		{Name: "async-backend-q", Target: "backend", Operation: "q", Rate: 9.1},
		{Name: "orphan-backend-q-2", Target: "backend", Operation: "q", Rate: 3},
		{Name: "batch", Target: "backend", Operation: "q", Rate: 5},
	}}
	notes := AtObservedLoad(spec, m, 1)
	for i, want := range []float64{10, 0, 0, 5} {
		if c := spec.Clients[i]; c.Rate != want {
			t.Errorf("client %s: rate %g; want %g", c.Name, c.Rate, want)
		}
	}
	if len(notes) != 3 || !strings.Contains(notes[0], "async-backend-q") || !strings.Contains(notes[0], "rate is set to 0") {
		t.Errorf("notes %q; want one per client not matched", notes)
	}
}

// TestCompareCopies: an operation the import copied into another service
// (web-reentry, for api's call back to web while web waits upstream) is
// compared once, under its service of the traces, with the run's figures
// of the original and the copy together: web.callback's requests all go
// to the copy, so the original alone compared -100 %.
func TestCompareCopies(t *testing.T) {
	var b strings.Builder
	b.WriteString("TraceID,SpanID,ParentID,ServiceName,OperationName,StartTimeUnixNano,EndTimeUnixNano\n")
	for tr := range 60 {
		t0 := int64(1700000000000000000) + int64(tr)*int64(time.Second)
		ms := int64(time.Millisecond)
		fmt.Fprintf(&b, "t%d,a%d,root,web,page,%d,%d\n", tr, tr, t0, t0+50*ms)
		fmt.Fprintf(&b, "t%d,b%d,a%d,api,get,%d,%d\n", tr, tr, tr, t0+5*ms, t0+40*ms)
		fmt.Fprintf(&b, "t%d,c%d,b%d,web,callback,%d,%d\n", tr, tr, tr, t0+10*ms, t0+30*ms)
	}
	path := filepath.Join(t.TempDir(), "spans.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, m := importAndLoad(t, path, "")
	rep := runAtMin(t, spec, m, 50, AutoWindows(m, 50))
	var rows []string
	for _, r := range rep.Operations {
		rows = append(rows, r.Service+"."+r.Operation)
		if math.Abs(RelErr(r.Observed.Count, r.Simulated.Count)) > 0.2 || math.Abs(RelErr(r.Observed.P50, r.Simulated.P50)) > 0.05 {
			t.Errorf("%s.%s: count %g, p50 %g ms simulated; observed %g, %g ms", r.Service, r.Operation, r.Simulated.Count, r.Simulated.P50, r.Observed.Count, r.Observed.P50)
		}
	}
	if got := strings.Join(rows, " "); got != "api.get web.callback web.page" {
		t.Errorf("operations compared %q; want api.get web.callback web.page", got)
	}
}

// failFastTrace writes a span table of one entry operation, api's GET
// /x, 20 a second for a minute on four pods: 40 % of the spans fail fast
// (a 503 in 1 ms), the others succeed in 48 to 52 ms.
func failFastTrace(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("trace_id,span_id,parent_span_id,service,pod,operation,start_time_ms,duration_ms,status\n")
	for i := range 1200 {
		dur, status := 48+0.4*float64(i*7%11), "200"
		if i%5 == 0 || i%5 == 2 {
			dur, status = 1, "503"
		}
		fmt.Fprintf(&b, "%032x,%016x,root,api,api-7d9f8c6b5d-%c,GET /x,%.1f,%.1f,%s\n", i+1, i+1, 'a'+rune(i%4), 1700000000000+50*float64(i), dur, status)
	}
	p := filepath.Join(t.TempDir(), "fail-fast.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCompareSuccessesOnly: the observed quantiles are of the successful
// spans, as the run's are of successful requests. A trace where 40 % of
// an operation's spans fail fast in 1 ms and the others take 48 to 52 ms
// has an observed p50 of 50 ms and a p99 of 52 ms. Before, the failed
// spans were in the observed quantiles: p50 48.4 ms, near the successes' 17th
// percentile. The scenario imported from it scores its p50 and p99
// within 2 %: its service time is of the successful invocations' own
// times, since the run draws a failure's and a success's time alike
// (with the failed spans' 1 ms among them, 40 % of its successes took
// 1 ms and its p50 was -7 %).
func TestCompareSuccessesOnly(t *testing.T) {
	spec, m := importAndLoad(t, failFastTrace(t), "")
	rep := runAtMin(t, spec, m, 50, 1)
	var b bytes.Buffer
	rep.WriteText(&b)
	t.Log(b.String())
	if len(rep.Operations) != 1 {
		t.Fatalf("%d operations compared; want 1", len(rep.Operations))
	}
	r := rep.Operations[0]
	for _, tt := range []struct {
		name      string
		got, want float64
		tol       float64
	}{
		{"observed p50", r.Observed.P50, 50, 0.5},
		{"observed p99", r.Observed.P99, 52, 0.5},
		{"observed error share", r.Observed.ErrorShare, 0.4, 0.001},
		{"p50 error %", 100 * LatencyErr(r.Observed.P50, r.Simulated.P50), 0, 2},
		{"p99 error %", 100 * LatencyErr(r.Observed.P99, r.Simulated.P99), 0, 2},
	} {
		if math.Abs(tt.got-tt.want) > tt.tol {
			t.Errorf("%s: %g; want %g ± %g", tt.name, tt.got, tt.want, tt.tol)
		}
	}
}
