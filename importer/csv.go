package importer

import (
	"encoding/csv"
	"errors"
	"fmt"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The fields of a span table, and the headers each is found under when no
// --columns mapping names its column (compared without case, "_" and "-").
var csvFields = []csvField{
	{"trace", []string{"traceid", "trace"}},
	{"span", []string{"spanid", "span", "id"}},
	{"parent", []string{"parentid", "parentspanid", "parent", "parentspan"}},
	{"service", []string{"service", "servicename"}},
	{"pod", []string{"podname", "pod", "instance", "hostname", "cmdbid"}},
	{"operation", []string{"operationname", "operation", "spanname", "name"}},
	{"start", []string{"starttimeunixnano", "starttime", "start", "timestamp", "starttimemillis", "starttimemicros", "starttimens", "starttimeus", "starttimems"}},
	{"end", []string{"endtimeunixnano", "endtime", "end", "endtimemillis", "endtimemicros", "endtimens", "endtimeus", "endtimems"}},
	{"duration", []string{"duration", "durationns", "durationus", "durationms", "durationnanos", "durationmicros", "durationmillis", "elapsed", "latency"}},
	{"error", []string{"error", "iserror", "haserror"}},
	{"status", []string{"status", "statuscode", "spanstatus", "otelstatuscode"}},
	{"kind", []string{"kind", "spankind"}},
}

type csvField struct {
	field   string
	headers []string
}

// Columns maps the fields of a span table to its headers, for tables whose
// headers are not the usual ones: field=Header, with a unit for a time
// (start=ts:ms, duration=Duration:us; ns, us, ms or s).
type Columns map[string]column

type column struct {
	header string
	unit   time.Duration // 0: from the header's name or the values' size
}

// ParseColumns reads a --columns value: "trace=tid,span=sid,duration=dur:us".
func ParseColumns(s string) (Columns, error) {
	cols := Columns{}
	if strings.TrimSpace(s) == "" {
		return cols, nil
	}
	for _, part := range strings.Split(s, ",") {
		field, header, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || header == "" {
			return nil, fmt.Errorf("column mapping %q: want field=Header", part)
		}
		if !slices.ContainsFunc(csvFields, func(f csvField) bool { return f.field == field }) {
			return nil, fmt.Errorf("column mapping %q: unknown field %q (trace, span, parent, service, pod, operation, start, end, duration, error, status, kind)", part, field)
		}
		c := column{header: header}
		if h, unit, ok := strings.Cut(header, ":"); ok {
			u, err := parseUnit(unit)
			if err != nil {
				return nil, fmt.Errorf("column mapping %q: %v", part, err)
			}
			c = column{header: h, unit: u}
		}
		cols[field] = c
	}
	return cols, nil
}

func parseUnit(s string) (time.Duration, error) {
	switch s {
	case "ns":
		return time.Nanosecond, nil
	case "us", "µs":
		return time.Microsecond, nil
	case "ms":
		return time.Millisecond, nil
	case "s":
		return time.Second, nil
	}
	return 0, fmt.Errorf("unknown unit %q: want ns, us, ms or s", s)
}

// unitFromHeader reads a unit from a header's name ("StartTimeUnixNano",
// "duration_ms"); 0 when it names none.
func unitFromHeader(h string) time.Duration {
	h = strings.ToLower(h)
	switch {
	case strings.Contains(h, "nano") || strings.HasSuffix(h, "ns"):
		return time.Nanosecond
	case strings.Contains(h, "micro") || strings.HasSuffix(h, "us"):
		return time.Microsecond
	case strings.Contains(h, "milli") || strings.HasSuffix(h, "ms"):
		return time.Millisecond
	}
	return 0
}

func normHeader(h string) string {
	return strings.NewReplacer("_", "", "-", "", " ", "", ".", "").Replace(strings.ToLower(strings.TrimSpace(h)))
}

// readCSV reads a span table: one span a row, with a header line. It needs
// trace, span, parent, service or pod, operation, start, and end or
// duration.
func readCSV(r io.Reader, cols Columns, emit func(*Span) error) error {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return csvPos(cr, err)
	}
	idx := map[string]int{}
	units := map[string]time.Duration{}
	for field, c := range cols {
		i := slices.Index(header, c.header)
		if i < 0 {
			return &posError{pos: "line 1", err: fmt.Errorf("--columns names %q for %s, which the header (%s) lacks", c.header, field, strings.Join(header, ","))}
		}
		idx[field], units[field] = i, c.unit
	}
	for _, f := range csvFields {
		if _, ok := idx[f.field]; ok {
			continue
		}
		for i, h := range header {
			if slices.Contains(f.headers, normHeader(h)) {
				idx[f.field] = i
				break
			}
		}
	}
	for _, f := range []string{"start", "end", "duration"} {
		if i, ok := idx[f]; ok && units[f] == 0 {
			units[f] = unitFromHeader(header[i])
		}
	}
	var missing []string
	for _, f := range []string{"trace", "span", "parent", "operation", "start"} {
		if _, ok := idx[f]; !ok {
			missing = append(missing, f)
		}
	}
	_, hasService := idx["service"]
	_, hasPod := idx["pod"]
	if !hasService && !hasPod {
		missing = append(missing, "service or pod")
	}
	_, hasEnd := idx["end"]
	_, hasDur := idx["duration"]
	if !hasEnd && !hasDur {
		missing = append(missing, "end or duration")
	}
	if len(missing) > 0 {
		return &posError{pos: "line 1", err: fmt.Errorf("the header (%s) has no column for %s: name them with --columns, e.g. --columns trace=tid,span=sid", strings.Join(header, ","), strings.Join(missing, ", "))}
	}
	if !hasEnd && units["duration"] == 0 {
		return &posError{pos: "line 1", err: fmt.Errorf("the unit of column %q is not known: name it with --columns duration=%s:us (or ns, ms, s)", header[idx["duration"]], header[idx["duration"]])}
	}
	get := func(rec []string, f string) string {
		if i, ok := idx[f]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvPos(cr, err)
		}
		line, _ := cr.FieldPos(0)
		bad := func(format string, args ...any) error {
			return &posError{pos: fmt.Sprintf("line %d", line), err: fmt.Errorf(format, args...)}
		}
		s := Span{
			TraceID:   get(rec, "trace"),
			SpanID:    get(rec, "span"),
			ParentID:  get(rec, "parent"),
			Operation: get(rec, "operation"),
			Kind:      csvKind(get(rec, "kind")),
			Error:     csvError(get(rec, "error")) || csvStatus(get(rec, "status")),
		}
		if s.TraceID == "" || s.SpanID == "" {
			return bad("no trace or span id")
		}
		if isRootParent(s.ParentID) {
			s.ParentID = ""
		}
		if hasPod {
			s.Instance = get(rec, "pod")
			s.Service = podService(s.Instance)
		}
		if hasService {
			s.Service = get(rec, "service")
		}
		if s.Service == "" {
			return bad("no service or pod name")
		}
		if s.Start, err = csvTime(get(rec, "start"), units["start"]); err != nil {
			return bad("start %q: %v", get(rec, "start"), err)
		}
		if hasEnd {
			if s.End, err = csvTime(get(rec, "end"), units["end"]); err != nil {
				return bad("end %q: %v", get(rec, "end"), err)
			}
		} else {
			d, err := strconv.ParseFloat(get(rec, "duration"), 64)
			if err != nil || d < 0 {
				return bad("duration %q: want a number >= 0", get(rec, "duration"))
			}
			s.End = s.Start + int64(math.Round(d*float64(units["duration"])))
		}
		if s.End < s.Start {
			return bad("the span ends before it starts")
		}
		if err := emit(&s); err != nil {
			return err
		}
	}
}

func csvPos(cr *csv.Reader, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &posError{pos: fmt.Sprintf("line %d, column %d", pe.Line, pe.Column), err: pe.Err}
	}
	if err == io.EOF {
		return errors.New("the file is empty")
	}
	return err
}

// isRootParent tells the parent ids that mean "no parent": empty, a word
// (Nezha's tables write "root"), or all zeros (an invalid span id in W3C
// Trace Context and OTLP).
func isRootParent(p string) bool {
	switch strings.ToLower(p) {
	case "", "root", "null", "none", "nil", "-":
		return true
	}
	return strings.Trim(p, "0") == ""
}

// csvError reads an error column: true, 1, yes, error, or OTLP's
// STATUS_CODE_ERROR mean failed; anything else (false, 0, empty) not.
func csvError(v string) bool {
	switch strings.ToLower(v) {
	case "true", "1", "yes", "error", "status_code_error":
		return true
	}
	return false
}

// csvStatus reads a status column: a span status by name (error,
// STATUS_CODE_ERROR, failed), OTLP's status code by number (2 is
// STATUS_CODE_ERROR, 1 OK, 0 UNSET: opentelemetry-proto trace.proto,
// Status.StatusCode), or an HTTP status, of which a 5xx is an error
// (OpenTelemetry's HTTP semantic conventions, status for server spans).
// A 1 here is OTLP's OK, not "failed" as in an error column.
func csvStatus(v string) bool {
	if v == "" {
		return false
	}
	switch strings.ToLower(v) {
	case "error", "status_code_error", "fail", "failed", "failure":
		return true
	}
	n, ok := smallInt(v)
	return ok && (n == 2 || n >= 500 && n < 600)
}

// csvKind reads a kind column: the names kindFromName reads, OTLP's
// SPAN_KIND_SERVER form, or OTLP's numbers (trace.proto, SpanKind: 1
// internal, 2 server, 3 client, 4 producer, 5 consumer).
func csvKind(v string) Kind {
	if v == "" {
		return KindUnspecified
	}
	if n, ok := smallInt(v); ok && n >= 1 && n <= 5 {
		return otlpKind(ptrace.SpanKind(n))
	}
	if len(v) > len("span_kind_") && strings.EqualFold(v[:len("span_kind_")], "span_kind_") {
		v = v[len("span_kind_"):]
	}
	return kindFromName(strings.ToLower(v))
}

// csvTime reads a time: a number in the column's unit, or, with no unit
// known, an epoch time whose size tells its unit (a time after 2001 has
// 10 digits in s, 13 in ms, 16 in us, 19 in ns); or an RFC 3339 time.
func csvTime(v string, unit time.Duration) (int64, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if unit == 0 {
			switch a := math.Abs(f); {
			case a >= 1e17:
				unit = time.Nanosecond
			case a >= 1e14:
				unit = time.Microsecond
			case a >= 1e11:
				unit = time.Millisecond
			default:
				unit = time.Second
			}
		}
		if unit == time.Nanosecond {
			// Exact: a float64 holds nanoseconds since 1970 only to 256 ns.
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return n, nil
			}
		}
		return int64(math.Round(f * float64(unit))), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return 0, errors.New("want a number (epoch time) or an RFC 3339 time")
	}
	return t.UnixNano(), nil
}

// smallInt reads a whole number of up to 3 digits without strconv's error
// (which allocates, for every row of a table whose column is a word).
func smallInt(v string) (int, bool) {
	if len(v) == 0 || len(v) > 3 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
		n = 10*n + int(v[i]-'0')
	}
	return n, true
}
