package importer

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCSVStatusAndKind: a status column is read as a span status (a name,
// OTLP's code 2 = STATUS_CODE_ERROR, an HTTP 5xx), not as an error flag: 1
// is OTLP's OK there, and 2 its ERROR, which an error column's reading had
// backwards. A kind column takes OTLP's names and numbers too.
func TestCSVStatusAndKind(t *testing.T) {
	for _, tt := range []struct {
		name, header, value string
		wantErr             bool
		wantKind            Kind
	}{
		{"status OTLP OK", "status_code", "1", false, KindUnspecified},
		{"status OTLP ERROR", "status_code", "2", true, KindUnspecified},
		{"status OTLP name", "StatusCode", "STATUS_CODE_ERROR", true, KindUnspecified},
		{"status HTTP 503", "status", "503", true, KindUnspecified},
		{"status HTTP 404", "status", "404", false, KindUnspecified},
		{"status Ok", "status", "Ok", false, KindUnspecified},
		{"error flag 1", "error", "1", true, KindUnspecified},
		{"error flag false", "is_error", "false", false, KindUnspecified},
		{"kind OTLP number", "kind", "3", false, KindClient},
		{"kind OTLP name", "span_kind", "SPAN_KIND_CONSUMER", false, KindConsumer},
		{"kind Zipkin name", "kind", "SERVER", false, KindServer},
	} {
		t.Run(tt.name, func(t *testing.T) {
			csv := "trace_id,span_id,parent_span_id,service_name,operation_name,start_time,duration_ms," + tt.header + "\n" +
				"t1,a,,web,home,1700000000000,5," + tt.value + "\n"
			path := filepath.Join(t.TempDir(), "spans.csv")
			if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
				t.Fatal(err)
			}
			var got []Span
			if _, err := scan(path, Auto, nil, new(int64), func(s *Span) error { got = append(got, *s); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Error != tt.wantErr || got[0].Kind != tt.wantKind {
				t.Errorf("spans %+v; want one with error %v, kind %d", got, tt.wantErr, tt.wantKind)
			}
		})
	}
}

// TestCSVHeaders: the headers of other span tables are found by
// themselves (before, each was "no column for ..."): parent_span and
// cmdb_id (a pod) as the AIOps challenge tables name them, startTimeMillis
// and durationMicros with their units in their names.
func TestCSVHeaders(t *testing.T) {
	for _, tt := range []struct{ name, csv string }{
		{"parent_span and cmdb_id", "trace_id,span_id,parent_span,cmdb_id,operation_name,timestamp,duration_ms\nt1,a,,web-0,home,1700000000000,5\n"},
		{"units in the names", "traceId,spanId,parentSpanId,serviceName,name,startTimeMillis,durationMicros\nt1,a,,web,home,1700000000000,5000\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "spans.csv")
			if err := os.WriteFile(path, []byte(tt.csv), 0o644); err != nil {
				t.Fatal(err)
			}
			var got []Span
			if _, err := scan(path, Auto, nil, new(int64), func(s *Span) error { got = append(got, *s); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Service != "web" || got[0].End-got[0].Start != 5e6 {
				t.Errorf("spans %+v; want one of web, 5 ms", got)
			}
		})
	}
}
