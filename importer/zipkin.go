package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// Zipkin's v2 span model (zipkin-api, zipkin2-api.yaml): timestamp and
// duration in microseconds, kind CLIENT/SERVER/PRODUCER/CONSUMER, the
// recording service in localEndpoint, an "error" tag on a failed span, and
// shared = true on a server span that reuses its client's span id (B3's
// single span per RPC).
type zipkinSpan struct {
	TraceID       string            `json:"traceId"`
	ParentID      string            `json:"parentId"`
	ID            string            `json:"id"`
	Kind          string            `json:"kind"`
	Name          string            `json:"name"`
	Timestamp     int64             `json:"timestamp"`
	Duration      int64             `json:"duration"`
	Shared        bool              `json:"shared"`
	LocalEndpoint *zipkinEndpoint   `json:"localEndpoint"`
	Tags          map[string]string `json:"tags"`
}

type zipkinEndpoint struct {
	ServiceName string `json:"serviceName"`
	IPv4        string `json:"ipv4"`
	IPv6        string `json:"ipv6"`
	Port        int    `json:"port"`
}

// readZipkin reads a JSON array of v2 spans (what /api/v2/spans takes and a
// trace's JSON is), or of traces, each an array of spans (what
// /api/v2/traces returns), one element at a time; or one span alone (as
// zipkin's own benchmarks keep one), read as an array of one.
func readZipkin(br *bufio.Reader, emit func(*Span) error, skipped *int64) error {
	var r io.Reader = br
	if firstByte(br) == '{' {
		r = io.MultiReader(strings.NewReader("["), br, strings.NewReader("]"))
	}
	dec := json.NewDecoder(r)
	if tok, err := dec.Token(); err != nil {
		return jsonPos(dec, err)
	} else if tok != json.Delim('[') {
		return atByte(0, errors.New("not Zipkin v2 JSON: want an array of spans"))
	}
	for dec.More() {
		off := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return valueError(off, err)
		}
		var spans []zipkinSpan
		var err error
		if len(raw) > 0 && raw[0] == '[' {
			err = json.Unmarshal(raw, &spans)
		} else {
			spans = make([]zipkinSpan, 1)
			err = json.Unmarshal(raw, &spans[0])
		}
		if err != nil {
			return valueError(off, err)
		}
		for i := range spans {
			zs := &spans[i]
			if zs.TraceID == "" || zs.ID == "" {
				return atByte(off, fmt.Errorf("a span without traceId or id (name %q)", zs.Name))
			}
			if zs.Timestamp == 0 {
				// An incomplete span (Zipkin allows them): without its
				// timing it says nothing about time.
				*skipped++
				continue
			}
			if zs.Duration < 0 {
				return atByte(off, fmt.Errorf("span %s: negative duration %d", zs.ID, zs.Duration))
			}
			s := Span{
				TraceID:   zs.TraceID,
				SpanID:    zs.ID,
				ParentID:  zs.ParentID,
				Operation: zs.Name,
				Start:     zs.Timestamp * 1000,
				End:       (zs.Timestamp + zs.Duration) * 1000,
				Kind:      kindFromName(zs.Kind),
			}
			if zs.LocalEndpoint != nil {
				s.Service = zs.LocalEndpoint.ServiceName
				if ip := zs.LocalEndpoint.IPv4 + zs.LocalEndpoint.IPv6; ip != "" {
					s.Instance = ip
					if zs.LocalEndpoint.Port != 0 {
						s.Instance = net.JoinHostPort(ip, strconv.Itoa(zs.LocalEndpoint.Port))
					}
				}
			}
			if s.Service == "" {
				s.Service = "unknown"
			}
			_, s.Error = zs.Tags["error"]
			if err := emit(&s); err != nil {
				return err
			}
		}
	}
	return nil
}

// firstByte is the first byte of a file past a UTF-8 byte order mark and
// white space, 0 when the first 64 KiB hold none.
func firstByte(br *bufio.Reader) byte {
	head, _ := br.Peek(1 << 16)
	head = bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(head) == 0 {
		return 0
	}
	return head[0]
}
