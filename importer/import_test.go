package importer

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math"
	"os"
	"path/filepath"
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
// counted, reported in the scenario's header, and its invocation still
// feeds its operation, but is not taken as a request from outside.
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
	if len(m.Clients) != 1 || m.Clients[0].Target != "web.home" {
		t.Errorf("clients %+v; want only web.home", m.Clients)
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
