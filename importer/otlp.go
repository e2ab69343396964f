package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// readOTLP reads OTLP JSON as the OpenTelemetry Collector's file exporter
// writes it: one ExportTraceServiceRequest ({"resourceSpans": [...]}) per
// line (a file of one pretty-printed request is read too). Each request is
// decoded by the Collector's own pdata library, so that the OTLP JSON
// mapping (hex trace and span ids, enum kinds and status codes as numbers,
// 64-bit times as strings) is the Collector's, not a copy of it.
func readOTLP(r io.Reader, emit func(*Span) error) error {
	dec := json.NewDecoder(r)
	var u ptrace.JSONUnmarshaler
	for {
		off := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			return nil
		} else if err != nil {
			return valueError(off, err)
		}
		if len(raw) == 0 || raw[0] != '{' {
			return atByte(off, errors.New("not OTLP JSON: want one {\"resourceSpans\": [...]} object per line"))
		}
		td, err := u.UnmarshalTraces(raw)
		if err != nil {
			return atByte(off, fmt.Errorf("OTLP JSON: %v", err))
		}
		if err := emitOTLP(td, off, emit); err != nil {
			return err
		}
	}
}

func emitOTLP(td ptrace.Traces, off int64, emit func(*Span) error) error {
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		attrs := rs.Resource().Attributes()
		service := "unknown_service" // the SDKs' default service.name (resource semantic conventions)
		if v, ok := attrs.Get("service.name"); ok && v.AsString() != "" {
			service = v.AsString()
		}
		var instance string
		for _, key := range []string{"k8s.pod.name", "service.instance.id", "host.name"} {
			if v, ok := attrs.Get(key); ok && v.AsString() != "" {
				instance = v.AsString()
				break
			}
		}
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				sp := spans.At(k)
				if sp.TraceID().IsEmpty() || sp.SpanID().IsEmpty() {
					return atByte(off, fmt.Errorf("a span without traceId or spanId (name %q)", sp.Name()))
				}
				s := Span{
					TraceID:   sp.TraceID().String(),
					SpanID:    sp.SpanID().String(),
					Service:   service,
					Instance:  instance,
					Operation: sp.Name(),
					Start:     int64(sp.StartTimestamp()),
					End:       int64(sp.EndTimestamp()),
					Kind:      otlpKind(sp.Kind()),
					Error:     sp.Status().Code() == ptrace.StatusCodeError,
				}
				if !sp.ParentSpanID().IsEmpty() {
					s.ParentID = sp.ParentSpanID().String()
				}
				if s.End < s.Start {
					return atByte(off, fmt.Errorf("span %s ends before it starts", s.SpanID))
				}
				if err := emit(&s); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func otlpKind(k ptrace.SpanKind) Kind {
	switch k {
	case ptrace.SpanKindServer:
		return KindServer
	case ptrace.SpanKindClient:
		return KindClient
	case ptrace.SpanKindProducer:
		return KindProducer
	case ptrace.SpanKindConsumer:
		return KindConsumer
	case ptrace.SpanKindInternal:
		return KindInternal
	}
	return KindUnspecified
}
