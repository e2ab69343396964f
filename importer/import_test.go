package importer

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/scenarios"
)

// The tiny files hold one system in each format: two traces of api's
// "GET /checkout". Trace 1 (at t0, 100 ms) calls pay (client span 10-40 ms,
// server 12-38 ms) and, overlapping it, stock (10.5-30.5 ms, server
// 11.5-29.5 ms); trace 2 (at t0 + 1 s, 60 ms) calls pay only (5-35 ms,
// server 7-33 ms), and pay fails. By hand:
//   - api's own time: 100 - |[10,40] u [10.5,30.5]| = 70 ms, and 60 - 30 =
//     30 ms; p50 (nearest rank of 2) = 30 ms, p100 = 70 ms; after the calls
//     60 + 25 of 100 ms: after_calls 0.85;
//   - pay's own time 26 ms twice, its one-way network time (30 - 26) / 2 =
//     2 ms; its own error share 1/2; stock's network time (20 - 18) / 2 = 1 ms;
//   - calls: pay with probability 1, then stock with 0.5, in one group
//     (they overlapped in the one request that made both);
//   - the entry rate: 2 roots over (1 s between them x 2/1) = 1 request/s.
func TestImportFormats(t *testing.T) {
	tests := []struct {
		name string
		file string
		opts Options
		// instances of pay: the Zipkin file names hosts by address, the
		// others by pod.
		format Format
	}{
		{"jaeger query API JSON", "tiny.jaeger.json", Options{}, Jaeger},
		{"OTLP JSON lines (collector file exporter)", "tiny.otlp.jsonl", Options{}, OTLP},
		{"zipkin v2 with shared spans", "tiny.zipkin.json", Options{}, Zipkin},
		{"csv with mapped headers", "tiny-other-headers.csv", Options{Columns: mustColumns(t, "trace=tid,span=sid,parent=pid,start=start_ms,duration=dur_ms")}, CSV},
		{"csv with the format named", "tiny-other-headers.csv", Options{Format: CSV, Columns: mustColumns(t, "trace=tid,span=sid,parent=pid,start=start_ms:ms,duration=dur_ms")}, CSV},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Import([]string{filepath.Join("testdata", tt.file)}, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if m.Observed.Traces != 2 || m.Observed.Spans != 8 || m.Observed.OrphanSpans != 0 {
				t.Errorf("read %d traces, %d spans, %d orphans; want 2, 8, 0", m.Observed.Traces, m.Observed.Spans, m.Observed.OrphanSpans)
			}
			if !strings.Contains(m.Description, string(tt.format)) {
				t.Errorf("description %q does not name format %s", m.Description, tt.format)
			}
			var names []string
			for _, s := range m.Services {
				names = append(names, s.Name+"/"+s.Operations[0].Name)
			}
			if got := strings.Join(names, " "); got != "api/get-checkout pay/charge stock/reserve" {
				t.Errorf("services/operations %q", got)
			}
			if len(m.Clients) != 1 || m.Clients[0].Target != "api.get-checkout" || math.Abs(m.Clients[0].Rate-1) > 1e-9 {
				t.Errorf("clients %+v; want one at api.get-checkout, 1/s", m.Clients)
			}
			api, pay, stock := m.Services[0].Operations[0], m.Services[1].Operations[0], m.Services[2].Operations[0]
			checkPercentiles(t, "api's own time", api.ServiceTime, "p0=30ms, p10=30ms, p25=30ms, p50=30ms, p75=70ms, p90=70ms, p99=70ms, p100=70ms")
			if api.AfterCalls != 0.85 {
				t.Errorf("api's after_calls %g; want 0.85", api.AfterCalls)
			}
			checkPercentiles(t, "pay's own time", pay.ServiceTime, "p0=26ms, p10=26ms, p25=26ms, p50=26ms, p75=26ms, p90=26ms, p99=26ms, p100=26ms")
			if pay.Errors != 0.5 || api.Errors != 0 || stock.Errors != 0 {
				t.Errorf("own error shares api %g, pay %g, stock %g; want 0, 0.5, 0", api.Errors, pay.Errors, stock.Errors)
			}
			if len(api.Calls) != 2 {
				t.Fatalf("api's calls %+v; want 2", api.Calls)
			}
			c0, c1 := api.Calls[0], api.Calls[1]
			if c0.To != "pay.charge" || c0.Probability != 1 || c1.To != "stock.reserve" || c1.Probability != 0.5 {
				t.Errorf("calls %s p=%g, %s p=%g; want pay.charge 1, stock.reserve 0.5", c0.To, c0.Probability, c1.To, c1.Probability)
			}
			if c0.Group == "" || c0.Group != c1.Group {
				t.Errorf("groups %q, %q: overlapping calls should share one", c0.Group, c1.Group)
			}
			// The round trip, client span less server span, whole.
			if c0.Latency != "" || c1.Latency != "" {
				t.Errorf("one-way latencies %q, %q; want the round trip alone", c0.Latency, c1.Latency)
			}
			checkPercentiles(t, "pay's round trip", c0.RoundTrip, "p0=4ms, p10=4ms, p25=4ms, p50=4ms, p75=4ms, p90=4ms, p99=4ms, p100=4ms")
			checkPercentiles(t, "stock's round trip", c1.RoundTrip, "p0=2ms, p10=2ms, p25=2ms, p50=2ms, p75=2ms, p90=2ms, p99=2ms, p100=2ms")
			if m.Services[0].Instances != 1 || m.Services[1].Instances != 1 {
				t.Errorf("instances %d, %d; want 1, 1", m.Services[0].Instances, m.Services[1].Instances)
			}
			loadScenario(t, m)
		})
	}
}

// checkPercentiles compares a percentiles() distribution with the figures
// worked out by hand, within the histograms' 1/256 relative error.
func checkPercentiles(t *testing.T, what, dist, want string) {
	t.Helper()
	inner, ok := strings.CutPrefix(dist, "percentiles(")
	if !ok {
		t.Errorf("%s: %q is not a percentiles() distribution", what, dist)
		return
	}
	got := strings.Split(strings.TrimSuffix(inner, ")"), ", ")
	exp := strings.Split(want, ", ")
	if len(got) != len(exp) {
		t.Errorf("%s: %s; want percentiles(%s)", what, dist, want)
		return
	}
	for i := range got {
		gk, gv, _ := strings.Cut(got[i], "=")
		wk, wv, _ := strings.Cut(exp[i], "=")
		gd, err1 := time.ParseDuration(gv)
		wd, err2 := time.ParseDuration(wv)
		if gk != wk || err1 != nil || err2 != nil || math.Abs(float64(gd-wd)) > float64(wd)/256 {
			t.Errorf("%s: %s; want percentiles(%s)", what, dist, want)
			return
		}
	}
}

func mustColumns(t *testing.T, s string) Columns {
	t.Helper()
	c, err := ParseColumns(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// loadScenario writes the model and checks that the scenario loader
// accepts it as it is.
func loadScenario(t *testing.T, m *Model) string {
	t.Helper()
	var b bytes.Buffer
	if err := m.WriteTOML(&b); err != nil {
		t.Fatal(err)
	}
	if _, err := scenarios.Load("imported.toml", b.Bytes()); err != nil {
		t.Fatalf("the scenario does not load: %v\n%s", err, b.String())
	}
	return b.String()
}

// TestImportOtherShapes: shapes the recorders' own tools write besides
// the usual ones, each read as its format. Jaeger UI's trace model keeps
// one trace under "data" (jaeger-ui's TraceFlamegraph/testTrace.json); a
// Zipkin span may stand alone, not in an array (zipkin's
// benchmarks/src/test/resources/zipkin2-client.json); Jaeger's anonymizer
// writes an array of spans (cmd/anonymizer/app/uiconv/fixtures/
// trace_success.json). They were "not an array of traces", "unknown
// shape" and "no spans" before.
func TestImportOtherShapes(t *testing.T) {
	tests := []struct {
		name, content string
		format        Format
		spans         int64
	}{
		{"jaeger UI trace model: data holds one trace",
			`{"data": {"traceID": "t1", "services": [{"name": "api"}], "spans": [` +
				`{"traceID": "t1", "spanID": "a", "operationName": "GET", "references": [], "startTime": 1700000000000000, "duration": 5000, "processID": "p1"},` +
				`{"traceID": "t1", "spanID": "b", "operationName": "query", "references": [{"refType": "CHILD_OF", "traceID": "t1", "spanID": "a"}], "startTime": 1700000000001000, "duration": 2000, "processID": "p2"}],` +
				` "processes": {"p1": {"serviceName": "api"}, "p2": {"serviceName": "db"}}}, "id": "t1", "state": "DONE"}`,
			Jaeger, 2},
		{"jaeger array of spans, each with its process (jaeger's anonymizer, uiconv)",
			`[{"traceID": "t1", "spanID": "a", "operationName": "GET", "references": [], "startTime": 1700000000000000, "duration": 5000, "process": {"serviceName": "api", "tags": []}},` +
				`{"traceID": "t1", "spanID": "b", "operationName": "query", "references": [{"refType": "CHILD_OF", "traceID": "t1", "spanID": "a"}], "startTime": 1700000000001000, "duration": 2000, "process": {"serviceName": "db", "tags": []}}]`,
			Jaeger, 2},
		{"zipkin span alone",
			`{"traceId": "86154a4ba6e91385", "id": "4d1e00c0db9010db", "kind": "SERVER", "name": "get /", "timestamp": 1472470996199000, "duration": 207000, "localEndpoint": {"serviceName": "frontend"}}`,
			Zipkin, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "traces.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := Import([]string{path}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Observed.Spans != tt.spans || !strings.Contains(m.Description, "("+string(tt.format)+")") {
				t.Errorf("read %d spans as %q; want %d as %s", m.Observed.Spans, m.Description, tt.spans, tt.format)
			}
			loadScenario(t, m)
		})
	}
}

// TestImportRejectsBadFiles: a file that is broken, empty or of an unknown
// shape is a *FileError naming the file and, where it can, the position.
func TestImportRejectsBadFiles(t *testing.T) {
	tests := []struct {
		name, content string
		format        Format
		want          string
	}{
		{"empty", "", Auto, "the file is empty"},
		{"blank", "  \n\n", Auto, "the file is empty"},
		{"unknown JSON", `{"foo": 1, "bar": [1]}`, Auto, `unknown JSON shape (keys "foo", "bar")`},
		{"empty JSON object", `{}`, Auto, "unknown JSON shape (an object with no keys)"},
		{"array of empty objects", `[{}]`, Auto, "unknown JSON shape (an object with no keys)"},
		{"plain text", "hello world\n", Auto, "unknown shape"},
		{"empty zipkin array", `[]`, Auto, "empty JSON array"},
		{"jaeger without spans", `{"data": []}`, Auto, "no spans in this jaeger file"},
		{"truncated jaeger", `{"data": [{"traceID": "1", "spans": [{"spanID": "a"`, Auto, "byte "},
		{"broken jaeger", `{"data": [{"traceID": "1", "spans": [}]}`, Auto, "in the value starting at byte 10: invalid character '}'"},
		{"jaeger span with unknown process", `{"data": [{"traceID": "1", "spans": [{"spanID": "a", "processID": "p9", "startTime": 1, "duration": 1}], "processes": {}}]}`, Auto, `names process "p9"`},
		{"otlp garbage line", "{\"resourceSpans\": []}\nnot json\n", OTLP, "byte "},
		{"csv without needed columns", "a,b,c,d\n1,2,3,4\n", Auto, "line 1: the header (a,b,c,d) has no column for trace, span, parent, operation, start, service or pod, end or duration"},
		{"csv bad time", "TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano\n1,a,root,x,op,soon,5\n", Auto, `line 2: start "soon"`},
		{"csv ends before it starts", "TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano\n1,a,root,x,op,9,5\n", Auto, "line 2: the span ends before it starts"},
		{"zipkin negative duration", `[{"traceId": "1", "id": "a", "timestamp": 100, "duration": -5, "localEndpoint": {"serviceName": "x"}}]`, Auto, "byte 1: span a: negative duration -5"},
		{"gzip cut short", "\x1f\x8b\x08\x00garbage", Auto, "a gzip file that ends early (truncated?)"},
		{"gzip corrupt", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbagegarbage", Auto, "gzip: flate: corrupt input"},
		{"csv duration without unit", "TraceID,SpanID,ParentID,PodName,OperationName,Start,Took\n1,a,root,x,op,9,5\n", CSV, "no column for end or duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "traces.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Import([]string{path}, Options{Format: tt.format})
			fe, ok := err.(*FileError)
			if !ok {
				t.Fatalf("error %v (%T); want a *FileError", err, err)
			}
			if !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q; want the file and %q", fe, tt.want)
			}
		})
	}
}

// TestImportCountsOrphans: a span whose parent is not in the file is
// counted, reported in the scenario's header, and its invocation feeds its
// operation and is driven by a client of its own (orphan-...) at its
// observed rate, so that the run reaches db.query as often as the traces
// did (before, the run reached it half as often: only through web.home).
func TestImportCountsOrphans(t *testing.T) {
	csv := "TraceID,SpanID,ParentID,ServiceName,OperationName,StartTimeUnixNano,EndTimeUnixNano\n" +
		"t1,a,root,web,home,1700000000000000000,1700000000010000000\n" +
		"t1,b,a,db,query,1700000000001000000,1700000000004000000\n" +
		"t2,c,root,web,home,1700000001000000000,1700000001010000000\n" +
		"t2,d,gone,db,query,1700000001001000000,1700000001004000000\n"
	path := filepath.Join(t.TempDir(), "spans.csv")
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Import([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Observed.OrphanSpans != 1 {
		t.Errorf("orphan spans %d; want 1", m.Observed.OrphanSpans)
	}
	if len(m.Clients) != 2 || m.Clients[0].Target != "web.home" || m.Clients[1].Name != "orphan-db-query" || m.Clients[1].Rate != 0.5 {
		t.Errorf("clients %+v; want web.home at 1/s and orphan-db-query at 0.5/s", m.Clients)
	}
	// web.home made the call in 1 of its 2 requests: the orphan's parent
	// is not known to be web.home.
	if c := m.Services[1].Operations[0].Calls; len(c) != 1 || c[0].Probability != 0.5 {
		t.Errorf("web.home's calls %+v; want db.query with probability 0.5", c)
	}
	if m.Services[0].Operations[0].Count != 2 {
		t.Errorf("db.query counted %d times; want 2 (the orphan too)", m.Services[0].Operations[0].Count)
	}
	if out := loadScenario(t, m); !strings.Contains(out, "# 1 spans name a parent span the files do not hold") {
		t.Errorf("the header does not report the orphan:\n%s", out)
	}
}

// TestImportSequentialRepeats: a call repeated one after the other is one
// call with repeat, the observed count (a whole number when every request
// made it as many times, else a histogram of the counts, so that how the
// counts go together is kept, not only their mean); copies that overlap
// are a fanout.
func TestImportSequentialRepeats(t *testing.T) {
	tests := []struct {
		name   string
		prices func(r int) int // request r's calls to price, in sequence
		want   string
	}{
		{"count varies", func(r int) int { return r + 1 },
			`price.get p=1 x1 repeat="histogram(1: 1, 2: 1, 3: 1, 4: 1)", stock.check p=1 x2 repeat=`},
		{"count fixed", func(int) int { return 3 },
			`price.get p=1 x1 repeat=3, stock.check p=1 x2 repeat=`},
		{"some requests make none", func(r int) int { return r % 2 * 2 },
			`price.get p=0.5 x1 repeat=2, stock.check p=1 x2 repeat=`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("TraceID,SpanID,ParentID,ServiceName,OperationName,StartTimeUnixNano,EndTimeUnixNano\n")
			const t0 = 1700000000000000000
			ms := int64(time.Millisecond)
			// Request r (0..3) calls price in sequence, and stock
			// twice at once.
			for r := 0; r < 4; r++ {
				start := t0 + int64(r)*int64(time.Second)
				fmt.Fprintf(&b, "t%d,root%d,root,web,home,%d,%d\n", r, r, start, start+100*ms)
				for i := 0; i < tt.prices(r); i++ {
					fmt.Fprintf(&b, "t%d,p%d-%d,root%d,price,get,%d,%d\n", r, r, i, r, start+int64(1+10*i)*ms, start+int64(9+10*i)*ms)
				}
				for i := 0; i < 2; i++ {
					fmt.Fprintf(&b, "t%d,s%d-%d,root%d,stock,check,%d,%d\n", r, r, i, r, start+50*ms, start+60*ms)
				}
			}
			path := filepath.Join(t.TempDir(), "spans.csv")
			if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := Import([]string{path}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range m.Services[2].Operations[0].Calls {
				got = append(got, fmt.Sprintf("%s p=%g x%d repeat=%s", c.To, c.Probability, c.Fanout, c.Repeat))
			}
			if strings.Join(got, ", ") != tt.want {
				t.Errorf("calls\n %s\nwant\n %s", strings.Join(got, ", "), tt.want)
			}
			loadScenario(t, m)
		})
	}
}

// TestImportReadsGzip: a gzip file is read as is, whatever its name.
func TestImportReadsGzip(t *testing.T) {
	data, err := os.ReadFile("testdata/tiny.zipkin.json")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	path := filepath.Join(t.TempDir(), "spans")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Import([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Observed.Spans != 8 {
		t.Errorf("read %d spans; want 8", m.Observed.Spans)
	}
}

// TestImportDetachedWork: work its caller did not wait for is not a call
// of the caller (the run would make the caller wait for it) but a request
// of its own, driven by an async-... client at its observed rate: a
// CONSUMER span below a PRODUCER (zipkin-lens's messaging.json), a span
// that FOLLOWS_FROM its parent, a callee that outlived its caller's span
// by more than half its length and by 10 ms or more, on most of that
// call edge's invocations. A callee that starts before its client span
// (clock skew) but fits in it, or overruns its caller by less than half
// its length or by less than 10 ms (skew), stays a call, and so does an
// edge only some of whose invocations outlived the caller. Before, each was a call: the run made the producer wait
// for the consumer's whole work.
func TestImportDetachedWork(t *testing.T) {
	const header = "TraceID,SpanID,ParentID,ServiceName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Kind\n"
	// Two traces a second apart; offsets in ms from each trace's start.
	rows := func(lines ...string) string {
		var b strings.Builder
		b.WriteString(header)
		for tr := 0; tr < 2; tr++ {
			t0 := int64(1700000000000000000) + int64(tr)*int64(time.Second)
			for _, l := range lines {
				// id,parent,service,operation,start ms,end ms,kind;
				// parent "-" for the root.
				var id, parent, svc, op, kind string
				var s, e int64
				fmt.Sscanf(strings.ReplaceAll(l, ",", " "), "%s %s %s %s %d %d %s", &id, &parent, &svc, &op, &s, &e, &kind)
				if parent == "-" {
					parent = "root"
				} else {
					parent += fmt.Sprint(tr)
				}
				fmt.Fprintf(&b, "t%d,%s%d,%s,%s,%s,%d,%d,%s\n", tr, id, tr, parent, svc, op, t0+s*int64(time.Millisecond), t0+e*int64(time.Millisecond), kind)
			}
		}
		return b.String()
	}
	tests := []struct {
		name    string
		csv     string
		calls   string // api.post's calls
		clients string
	}{
		{"consumer below a producer",
			rows("a,-,api,post,0,10,server", "p,a,api,publish,2,3,producer", "c,p,worker,consume,50,90,consumer"),
			"", "async-worker-consume load-api-post"},
		{"callee outlives its caller",
			rows("a,-,api,post,0,10,server", "c,a,mailer,send,5,200,server"),
			"", "async-mailer-send load-api-post"},
		{"callee starts before its client span (skew) but fits in it",
			rows("a,-,api,post,0,10,server", "cl,a,api,get,2,8,client", "s,cl,db,get,1,6,server"),
			"db.get", "load-api-post"},
		{"callee overruns its caller by less than half its length (skew)",
			rows("a,-,api,post,0,10,server", "s,a,db,get,4,11,server"),
			"db.get", "load-api-post"},
		{"an ordinary call",
			rows("a,-,api,post,0,10,server", "s,a,db,get,2,8,server"),
			"db.get", "load-api-post"},
		// Server spans only, the callee's host ahead: the last call
		// overruns by more than half its length, but by less than the
		// 10 ms NTP keeps hosts within (skewMargin). Before, it was
		// work not waited for (skew.json: 548 of 1800 calls).
		{"callee overruns by more than half its length, under the skew margin",
			rows("a,-,api,post,0,10,server", "s1,a,db,get,2,5,server", "s2,a,db,get,5,8,server", "s3,a,db,get,9,13,server"),
			"db.get", "load-api-post"},
		// One of an edge's three invocations outlives the caller by 25
		// ms: the edge is a call the caller waits for (most of its
		// invocations are), not split into calls and async work.
		{"one of an edge's invocations outlives its caller",
			rows("a,-,api,post,0,30,server", "s1,a,db,get,2,5,server", "s2,a,db,get,5,8,server", "s3,a,db,get,25,55,server"),
			"db.get", "load-api-post"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "spans.csv")
			if err := os.WriteFile(path, []byte(tt.csv), 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := Import([]string{path}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var calls, clients []string
			for _, s := range m.Services {
				if s.Name == "api" {
					for _, c := range s.Operations[0].Calls {
						calls = append(calls, c.To)
					}
				}
			}
			for _, c := range m.Clients {
				clients = append(clients, c.Name)
				if math.Abs(c.Rate-1) > 1e-9 {
					t.Errorf("client %s at %g/s; want 1 (2 over 2 s)", c.Name, c.Rate)
				}
			}
			if got := strings.Join(calls, " "); got != tt.calls {
				t.Errorf("api.post's calls %q; want %q", got, tt.calls)
			}
			if got := strings.Join(clients, " "); got != tt.clients {
				t.Errorf("clients %q; want %q", got, tt.clients)
			}
			loadScenario(t, m)
		})
	}
}

// TestImportJaegerFollowsFrom: a Jaeger span whose only reference is
// FOLLOWS_FROM is not waited for by its parent (OpenTracing's references).
func TestImportJaegerFollowsFrom(t *testing.T) {
	var traces []string
	for tr := 0; tr < 2; tr++ {
		t0 := 1700000000000000 + tr*1000000
		traces = append(traces, fmt.Sprintf(`{"traceID": "t%d", "spans": [`+
			`{"traceID": "t%d", "spanID": "a", "operationName": "post", "references": [], "startTime": %d, "duration": 10000, "processID": "p1"},`+
			`{"traceID": "t%d", "spanID": "b", "operationName": "audit", "references": [{"refType": "FOLLOWS_FROM", "traceID": "t%d", "spanID": "a"}], "startTime": %d, "duration": 2000, "processID": "p2"}],`+
			` "processes": {"p1": {"serviceName": "api"}, "p2": {"serviceName": "auditor"}}}`, tr, tr, t0, tr, tr, t0+3000))
	}
	path := filepath.Join(t.TempDir(), "traces.json")
	if err := os.WriteFile(path, []byte(`{"data": [`+strings.Join(traces, ",")+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Import([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Services[0].Operations[0].Calls; m.Services[0].Name != "api" || len(c) != 0 {
		t.Errorf("api's calls %+v; want none", c)
	}
	if len(m.Clients) != 2 || m.Clients[0].Name != "async-auditor-audit" {
		t.Errorf("clients %+v; want async-auditor-audit and load-api-post", m.Clients)
	}
}

// TestImportOTLPProtoJSON: OTLP as the protobuf JSON mapping writes it
// (ids in base64, as Grafana Tempo's trace API and its test data hold
// them, and Tempo's "batches" for resourceSpans) reads as the same
// spans as OTLP/JSON's hex ids; before, pdata refused the ids ("length
// mismatch") and "batches" was an unknown shape.
func TestImportOTLPProtoJSON(t *testing.T) {
	data, err := os.ReadFile("testdata/tiny.otlp.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	b64 := func(hexID string) string {
		b, err := hex.DecodeString(hexID)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	ids := regexp.MustCompile(`"(traceId|spanId|parentSpanId)": "([0-9a-f]+)"`)
	protoJSON := ids.ReplaceAllStringFunc(string(data), func(s string) string {
		m := ids.FindStringSubmatch(s)
		return fmt.Sprintf("%q: %q", m[1], b64(m[2]))
	})
	for _, tt := range []struct{ name, content string }{
		{"base64 ids", protoJSON},
		{"base64 ids under batches", strings.ReplaceAll(protoJSON, `"resourceSpans"`, `"batches"`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "traces.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := Import([]string{path}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Observed.Traces != 2 || m.Observed.Spans != 8 || m.Observed.OrphanSpans != 0 || len(m.Clients) != 1 {
				t.Errorf("read %d traces, %d spans, %d orphans, %d clients; want 2, 8, 0, 1", m.Observed.Traces, m.Observed.Spans, m.Observed.OrphanSpans, len(m.Clients))
			}
		})
	}
}

// spanTable writes a CSV span table of n traces a second apart, each of
// the rows given as id,parent,service,operation,start ms,end ms,error
// (parent "-" for the root), ids and parents made unique per trace.
func spanTable(t *testing.T, n int, rows ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("TraceID,SpanID,ParentID,ServiceName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Error\n")
	for tr := 0; tr < n; tr++ {
		t0 := int64(1700000000000000000) + int64(tr)*int64(time.Second)
		for _, r := range rows {
			f := strings.Split(r, ",")
			if len(f) != 7 {
				t.Fatalf("row %q: want 7 fields", r)
			}
			parent := "root"
			if f[1] != "-" {
				parent = fmt.Sprintf("%s-%d", f[1], tr)
			}
			s, _ := strconv.ParseInt(f[4], 10, 64)
			e, _ := strconv.ParseInt(f[5], 10, 64)
			fmt.Fprintf(&b, "t%d,%s-%d,%s,%s,%s,%d,%d,%s\n", tr, f[0], tr, parent, f[2], f[3], t0+s*int64(time.Millisecond), t0+e*int64(time.Millisecond), f[6])
		}
	}
	path := filepath.Join(t.TempDir(), "spans.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestImportUnrollsCycles: a call that comes back to a service waiting
// upstream (api calls web back while web's page waits on api) goes to a
// copy of the service holding the operation called, web-reentry, which
// the scenario language accepts (it refuses a cycle between services).
// Before, the call was left out, and all below it was never reached in
// the run (zipkin-lens's smartthings trace lost 13 operations so).
func TestImportUnrollsCycles(t *testing.T) {
	path := spanTable(t, 4,
		"a,-,web,page,0,50,false",
		"b,a,api,get,5,40,false",
		"c,b,web,callback,10,30,false",
		"d,c,db,query,12,20,false")
	m, err := Import([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range m.Services {
		for _, o := range s.Operations {
			for _, c := range o.Calls {
				got = append(got, s.Name+"."+o.Name+"->"+c.To)
			}
		}
		if s.CopyOf != "" {
			got = append(got, s.Name+"(copy of "+s.CopyOf+")")
		}
	}
	want := "api.get->web-reentry.callback web.callback->db.query web.page->api.get web-reentry.callback->db.query web-reentry(copy of web)"
	if strings.Join(got, " ") != want {
		t.Errorf("calls\n %s\nwant\n %s", strings.Join(got, " "), want)
	}
	out := loadScenario(t, m)
	if strings.Contains(out, "NOT EXPRESSED") {
		t.Errorf("a call was left out:\n%s", out)
	}
}

// TestImportUnrollsCyclesPerChain: the bound of 8 copies counts the
// copies along one chain of calls, as the doc says, not in the whole
// graph: a page calling ten services, each of which calls the page's
// service back once, is ten chains with one copy each, and none is cut.
// Counted over the graph, the calls of svc8 and svc9 back to web were
// left out.
func TestImportUnrollsCyclesPerChain(t *testing.T) {
	rows := []string{"a,-,web,page,0,100,false"}
	for i := range 10 {
		s := 5 + 9*i
		rows = append(rows,
			fmt.Sprintf("s%d,a,svc%d,op,%d,%d,false", i, i, s, s+8),
			fmt.Sprintf("c%d,s%d,web,cb,%d,%d,false", i, i, s+1, s+7))
	}
	m, err := Import([]string{spanTable(t, 4, rows...)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	copies := 0
	for _, s := range m.Services {
		if s.CopyOf == "web" {
			copies++
		}
	}
	if out := loadScenario(t, m); strings.Contains(out, "NOT EXPRESSED") || copies != 10 {
		t.Errorf("%d copies of web; want 10, none cut:\n%s", copies, out)
	}
}

// TestImportFallback: a call that failed while its caller's span did not
// falls back (the caller carried on); one whose caller failed with it does
// not (the run fails the caller through it, as the traces show). Before,
// every failed call failed its caller in the run.
func TestImportFallback(t *testing.T) {
	for _, tt := range []struct {
		name        string
		pageFailed  string
		wantFallbck bool
	}{
		{"caller carried on", "false", true},
		{"caller failed with it", "true", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := spanTable(t, 4,
				"a,-,web,page,0,50,"+tt.pageFailed,
				"b,a,recs,get,5,40,true")
			m, err := Import([]string{path}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			c := m.Services[1].Operations[0].Calls[0]
			fallback := slices.ContainsFunc(c.Extra, func(k Key) bool { return k.Name == "fallback" && k.Value == "true" })
			if fallback != tt.wantFallbck {
				t.Errorf("call %s: fallback %v; want %v", c.To, fallback, tt.wantFallbck)
			}
			loadScenario(t, m)
		})
	}
}

// TestImportRetries: a failed call followed at once by another to the
// same callee, no other call between, is a retry: the call retries
// (max_attempts, the mean gap as a constant back-off), and is neither
// repeated nor falls back, since the request did not carry on past a
// failure but tried again. Before, it was repeat = 2 and fallback = true
// (retries.json). A failed call followed by a call elsewhere, or two
// calls that succeeded, are no retries.
func TestImportRetries(t *testing.T) {
	for _, tt := range []struct {
		name          string
		rows          []string
		retry, repeat string
		wantFallbck   bool
	}{
		{"failed then again at once", []string{"a,-,web,page,0,20,false", "b,a,recs,get,1,3,true", "c,a,recs,get,4,9,false"},
			`{ max_attempts = 2, backoff = "constant", base = "1ms", jitter = "none" }`, "", false},
		{"failed twice then succeeded", []string{"a,-,web,page,0,20,false", "b,a,recs,get,1,3,true", "c,a,recs,get,3,5,true", "d,a,recs,get,5,9,false"},
			`{ max_attempts = 3, backoff = "constant", base = "0ns", jitter = "none" }`, "", false},
		{"two calls that succeeded", []string{"a,-,web,page,0,20,false", "b,a,recs,get,1,3,false", "c,a,recs,get,4,9,false"},
			"", "2", false},
		{"a call elsewhere between", []string{"a,-,web,page,0,20,false", "b,a,recs,get,1,3,true", "x,a,ads,get,3,4,false", "c,a,recs,get,4,9,false"},
			"", "2", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Import([]string{spanTable(t, 4, tt.rows...)}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			loadScenario(t, m)
			for _, s := range m.Services {
				for _, c := range s.Operations[0].Calls {
					if c.To != "recs.get" {
						continue
					}
					var retry string
					fallback := false
					for _, k := range c.Extra {
						switch k.Name {
						case "retry":
							retry = k.Value
						case "fallback":
							fallback = k.Value == "true"
						}
					}
					if retry != tt.retry || c.Repeat != tt.repeat || fallback != tt.wantFallbck {
						t.Errorf("retry %q, repeat %q, fallback %v; want %q, %q, %v", retry, c.Repeat, fallback, tt.retry, tt.repeat, tt.wantFallbck)
					}
				}
			}
		})
	}
}

// TestImportConcurrentWorkers: a service that served a fan-out's copies at
// once had that many workers at least, whatever the load asks for (a
// request a second of 8 x 20 ms own time asks for two or three); and the run issues
// a fanout's copies at the same moment, so a service called with fanout 8
// gets 8 workers even when the traces' copies, staggered, overlapped 4 at
// a time. Before, the run queued the copies behind two workers, and the
// page took 4 times as long.
func TestImportConcurrentWorkers(t *testing.T) {
	for _, tt := range []struct {
		name    string
		stagger int // ms between the copies' starts
	}{
		{"copies at once", 0},
		{"copies staggered, 4 at a time", 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rows := []string{"a,-,web,page,0,80,false"}
			for i := range 8 {
				s := 5 + tt.stagger*i
				rows = append(rows, fmt.Sprintf("c%d,a,db,get,%d,%d,false", i, s, s+20))
			}
			m, err := Import([]string{spanTable(t, 4, rows...)}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if c := m.Services[1].Operations[0].Calls[0]; c.Fanout != 8 {
				t.Fatalf("fanout %d; want 8", c.Fanout)
			}
			if db := m.Services[0]; db.Name != "db" || db.Workers != 8 {
				t.Errorf("%s: %d workers; want 8", db.Name, db.Workers)
			}
			if web := m.Services[1]; web.Workers >= 8 {
				t.Errorf("%s: %d workers; want the load's few (its invocations never overlapped)", web.Name, web.Workers)
			}
			loadScenario(t, m)
		})
	}
}

// TestImportCountsWithinLimits: a call made more times per request than a
// scenario takes (fanout and repeat go up to dist.MaxCount, 10,000) is
// written at that most, and said so; before, the scenario did not load
// ("fanout must be in 1..10000, got 12000").
func TestImportCountsWithinLimits(t *testing.T) {
	for _, tt := range []struct {
		name     string
		parallel bool
		want     string
	}{
		{"copies at once", true, "fanout=10000 repeat="},
		{"one after the other", false, "fanout=1 repeat=10000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const n = 12000
			rows := []string{fmt.Sprintf("a,-,web,page,0,%d,false", 20*n+10)}
			for i := range n {
				s := 1
				if !tt.parallel {
					s = 1 + 20*i
				}
				rows = append(rows, fmt.Sprintf("c%d,a,db,get,%d,%d,false", i, s, s+10))
			}
			m, err := Import([]string{spanTable(t, 2, rows...)}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			c := m.Services[1].Operations[0].Calls[0]
			if got := fmt.Sprintf("fanout=%d repeat=%s", c.Fanout, c.Repeat); got != tt.want {
				t.Errorf("%s; want %s", got, tt.want)
			}
			if out := loadScenario(t, m); !strings.Contains(out, "NOT EXPRESSED") {
				t.Error("the scenario does not say what it left out")
			}
		})
	}
}
