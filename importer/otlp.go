package importer

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

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
		if err != nil || td.SpanCount() == 0 {
			// Grafana Tempo's trace API ({"batches": [...]}, its test
			// data) and Go's jsonpb write ids in base64, the protobuf
			// JSON mapping of bytes, where OTLP/JSON requires hex
			// (opentelemetry-proto docs/specification.md, JSON Protobuf
			// Encoding): read them too.
			if fixed, ok := otlpFromProtoJSON(raw); ok {
				td, err = u.UnmarshalTraces(fixed)
			}
		}
		if err != nil {
			msg, _, _ := strings.Cut(err.Error(), ", error found in") // the decoder's multi-line context
			return atByte(off, fmt.Errorf("OTLP JSON: %s", msg))
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

// otlpFromProtoJSON rewrites a request in the protobuf JSON mapping into
// OTLP/JSON: "batches" (Tempo's name) as resourceSpans, and every span's
// and link's traceId, spanId and parentSpanId from base64 into hex. ok is
// false when there was nothing to rewrite.
func otlpFromProtoJSON(raw []byte) ([]byte, bool) {
	var req map[string]any
	if json.Unmarshal(raw, &req) != nil {
		return nil, false
	}
	changed := false
	if b, ok := req["batches"]; ok && req["resourceSpans"] == nil {
		req["resourceSpans"], changed = b, true
		delete(req, "batches")
	}
	rss, _ := req["resourceSpans"].([]any)
	for _, rs := range rss {
		rsm, _ := rs.(map[string]any)
		for _, scopeKey := range []string{"scopeSpans", "instrumentationLibrarySpans"} {
			sss, _ := rsm[scopeKey].([]any)
			for _, ss := range sss {
				ssm, _ := ss.(map[string]any)
				spans, _ := ssm["spans"].([]any)
				for _, sp := range spans {
					spm, _ := sp.(map[string]any)
					changed = hexIDs(spm) || changed
					links, _ := spm["links"].([]any)
					for _, l := range links {
						lm, _ := l.(map[string]any)
						changed = hexIDs(lm) || changed
					}
				}
			}
		}
	}
	if !changed {
		return nil, false
	}
	out, err := json.Marshal(req)
	return out, err == nil
}

// hexIDs rewrites the base64 ids of a span or link as hex: a value that
// is not hex of 32 or 16 digits and decodes from base64 into 16 or 8
// bytes.
func hexIDs(m map[string]any) bool {
	changed := false
	for _, k := range []string{"traceId", "spanId", "parentSpanId"} {
		v, _ := m[k].(string)
		if v == "" || (len(v) == 32 || len(v) == 16) && isHex(v) {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(v); err == nil && (len(b) == 16 || len(b) == 8) {
			m[k], changed = hex.EncodeToString(b), true
		}
	}
	return changed
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}
