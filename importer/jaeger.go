package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Jaeger's JSON, as its query API (/api/traces) and its UI's export write
// it: {"data": [trace, ...]} (the UI's single-trace export and an array of
// traces are read too), each trace {"traceID", "spans": [...],
// "processes": {"p1": {"serviceName", "tags"}}}; a span has spanID,
// operationName, references (CHILD_OF / FOLLOWS_FROM), startTime and
// duration in microseconds, tags and processID (or an embedded process).
// The model: jaegertracing/jaeger model/json/model.go.
type jaegerTrace struct {
	TraceID   string                   `json:"traceID"`
	Spans     []jaegerSpan             `json:"spans"`
	Processes map[string]jaegerProcess `json:"processes"`
}

type jaegerSpan struct {
	TraceID       string         `json:"traceID"`
	SpanID        string         `json:"spanID"`
	ParentSpanID  string         `json:"parentSpanID"` // the deprecated field, before references
	OperationName string         `json:"operationName"`
	References    []jaegerRef    `json:"references"`
	StartTime     int64          `json:"startTime"`
	Duration      int64          `json:"duration"`
	Tags          []jaegerTag    `json:"tags"`
	ProcessID     string         `json:"processID"`
	Process       *jaegerProcess `json:"process"`
}

type jaegerRef struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

type jaegerTag struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

type jaegerProcess struct {
	ServiceName string      `json:"serviceName"`
	Tags        []jaegerTag `json:"tags"`
}

func readJaeger(r io.Reader, emit func(*Span) error) error {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return jsonPos(dec, err)
	}
	switch tok {
	case json.Delim('['):
		return jaegerTraces(dec, emit)
	case json.Delim('{'):
	default:
		return atByte(0, errors.New("not Jaeger JSON: want an object or an array of traces"))
	}
	return jaegerObject(dec, emit)
}

// jaegerObject reads an object whose '{' was read, up to its '}': either
// the query API's envelope {"data": [...], "total": ...}, whose data is an
// array of traces (or one trace, as the UI's own trace model holds it), or
// one trace. Keys come in any order, so a lone trace is decoded whole.
func jaegerObject(dec *json.Decoder, emit func(*Span) error) error {
	var one jaegerTrace
	start := dec.InputOffset()
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonPos(dec, err)
		}
		var err2 error
		switch tok {
		case "data":
			var t json.Token
			if t, err2 = dec.Token(); err2 == nil {
				switch t {
				case nil: // "data": null
				case json.Delim('['):
					err2 = jaegerTraces(dec, emit)
				case json.Delim('{'):
					err2 = jaegerObject(dec, emit)
				default:
					return atByte(dec.InputOffset(), errors.New(`"data" is neither an array of traces nor a trace`))
				}
			}
		case "traceID":
			err2 = dec.Decode(&one.TraceID)
		case "spans":
			err2 = dec.Decode(&one.Spans)
		case "processes":
			err2 = dec.Decode(&one.Processes)
		default:
			var skip json.RawMessage
			err2 = dec.Decode(&skip)
		}
		if err2 != nil {
			var pe *posError
			if errors.As(err2, &pe) {
				return err2
			}
			return jsonPos(dec, err2)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return jsonPos(dec, err)
	}
	if len(one.Spans) > 0 {
		return emitJaeger(&one, start, emit)
	}
	return nil
}

// jaegerTraces decodes the traces of an array whose '[' was read, one at a
// time: a trace is the unit Jaeger returns whole. An element that is a
// span (spanID, its process embedded), as Jaeger's anonymizer and its
// uiconv write spans one by one, is read as a trace of that span.
func jaegerTraces(dec *json.Decoder, emit func(*Span) error) error {
	for dec.More() {
		off := dec.InputOffset()
		// One decoding for either: a trace's keys and a span's.
		var e struct {
			jaegerSpan
			Spans     []jaegerSpan             `json:"spans"`
			Processes map[string]jaegerProcess `json:"processes"`
		}
		if err := dec.Decode(&e); err != nil {
			return valueError(off, err)
		}
		t := jaegerTrace{TraceID: e.TraceID, Spans: e.Spans, Processes: e.Processes}
		if len(t.Spans) == 0 && e.SpanID != "" {
			t.Spans = []jaegerSpan{e.jaegerSpan}
		}
		if err := emitJaeger(&t, off, emit); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return jsonPos(dec, err)
	}
	return nil
}

func emitJaeger(t *jaegerTrace, off int64, emit func(*Span) error) error {
	for i := range t.Spans {
		js := &t.Spans[i]
		p := js.Process
		if p == nil {
			pp, ok := t.Processes[js.ProcessID]
			if !ok {
				return atByte(off, fmt.Errorf("trace %s: span %s names process %q, which the trace's processes do not hold", t.TraceID, js.SpanID, js.ProcessID))
			}
			p = &pp
		}
		s := Span{
			TraceID:   js.TraceID,
			SpanID:    js.SpanID,
			ParentID:  js.ParentSpanID,
			Service:   p.ServiceName,
			Instance:  jaegerInstance(p.Tags),
			Operation: js.OperationName,
			Start:     js.StartTime * 1000,
			End:       (js.StartTime + js.Duration) * 1000,
		}
		if s.TraceID == "" {
			s.TraceID = t.TraceID
		}
		if s.ParentID == "" {
			s.ParentID, s.FollowsFrom = jaegerParent(js.References)
		}
		var sampler string
		var param float64
		for _, tag := range js.Tags {
			switch tag.Key {
			case "span.kind":
				s.Kind = kindFromName(tagString(tag.Value))
			case "error":
				// OpenTracing's error tag (semantic conventions: a bool).
				s.Error = tagString(tag.Value) == "true"
			case "otel.status_code":
				// An OpenTelemetry span translated to Jaeger (the
				// collector's jaeger translator) carries its status here.
				s.Error = s.Error || tagString(tag.Value) == "ERROR"
			case "sampler.type":
				sampler = tagString(tag.Value)
			case "sampler.param":
				param, _ = strconv.ParseFloat(tagString(tag.Value), 64)
			}
		}
		// Jaeger's clients tag the root span of a sampled trace with the
		// sampler that chose it (jaeger-client-go tracer.go, samplerType /
		// samplerParam tags).
		if sampler == "probabilistic" && param > 0 && param <= 1 {
			s.SampleRatio = param
		}
		if s.SpanID == "" || s.TraceID == "" {
			return atByte(off, fmt.Errorf("a span without traceID or spanID (operation %q)", s.Operation))
		}
		if js.Duration < 0 {
			return atByte(off, fmt.Errorf("span %s: negative duration %d", s.SpanID, js.Duration))
		}
		if err := emit(&s); err != nil {
			return err
		}
	}
	return nil
}

// jaegerParent is the span a CHILD_OF reference names, else the first
// reference's (FOLLOWS_FROM): the span that caused this one, and whether
// it did not wait for it (followsFrom).
func jaegerParent(refs []jaegerRef) (parent string, followsFrom bool) {
	for _, r := range refs {
		if r.RefType == "CHILD_OF" {
			return r.SpanID, false
		}
	}
	if len(refs) > 0 {
		return refs[0].SpanID, refs[0].RefType == "FOLLOWS_FROM"
	}
	return "", false
}

// jaegerInstance names the process that recorded a span: its pod, its host
// name, or its address, as its tracer tagged it.
func jaegerInstance(tags []jaegerTag) string {
	for _, key := range []string{"k8s.pod.name", "hostname", "host.name", "ip"} {
		for _, t := range tags {
			if t.Key == key {
				return tagString(t.Value)
			}
		}
	}
	return ""
}

func tagString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}
