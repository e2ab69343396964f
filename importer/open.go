package importer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Format is a trace file's format.
type Format string

// The formats import reads. Auto sniffs each file's first bytes.
const (
	Auto   Format = "auto"
	Jaeger Format = "jaeger"
	OTLP   Format = "otlp"
	Zipkin Format = "zipkin"
	CSV    Format = "csv"
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Auto, Jaeger, OTLP, Zipkin, CSV:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q: want auto, jaeger, otlp, zipkin or csv", s)
}

// FileError is a trace file that cannot be read: broken, empty, or of an
// unknown shape. Pos says where, when it is known ("line 12", "byte 4096").
type FileError struct {
	File string
	Pos  string
	Err  error
}

func (e *FileError) Error() string {
	if e.Pos != "" {
		return fmt.Sprintf("%s: %s: %v", e.File, e.Pos, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// posError is an error a reader knows the position of; the caller adds the
// file name.
type posError struct {
	pos string
	err error
}

func (e *posError) Error() string { return e.pos + ": " + e.err.Error() }

func atByte(off int64, err error) error {
	return &posError{pos: fmt.Sprintf("byte %d", off), err: err}
}

// valueError places an error in a JSON value (a trace, a span, a request)
// by where the value starts: the decoder's own offsets count from where it
// last refilled its buffer.
func valueError(off int64, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("the file ends in the middle of a JSON value (truncated?)")
	}
	return &posError{pos: fmt.Sprintf("in the value starting at byte %d", off), err: err}
}

// jsonPos places a decoding error: a syntax or type error at its own
// offset, anything else where the decoder stood.
func jsonPos(dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return atByte(se.Offset, err)
	case errors.As(err, &te):
		return atByte(te.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return atByte(dec.InputOffset(), errors.New("the file ends in the middle of a JSON value (truncated?)"))
	}
	return atByte(dec.InputOffset(), err)
}

// traceFile is one open trace file, decompressed when it is gzip (read as
// is: the format is sniffed from the decompressed bytes).
type traceFile struct {
	r     *bufio.Reader
	close func() error
}

// gzipReader says what its stream's errors mean (a truncated or corrupt
// file), where the readers above would pass them on as they are
// ("unexpected EOF").
type gzipReader struct{ zr *gzip.Reader }

func (g gzipReader) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	if err != nil && err != io.EOF {
		err = gzipError(err)
	}
	return n, err
}

// gzipError says what a gzip stream's error means.
func gzipError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errors.New("a gzip file that ends early (truncated?)")
	}
	return fmt.Errorf("gzip: %v", err)
}

func openTrace(path string) (*traceFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, 1<<16)
	// gzip's magic number, RFC 1952 section 2.3.1: ID1 = 31, ID2 = 139.
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, gzipError(err)
		}
		return &traceFile{r: bufio.NewReaderSize(gzipReader{zr}, 1<<16), close: func() error { zr.Close(); return f.Close() }}, nil
	}
	return &traceFile{r: br, close: f.Close}, nil
}

// sniff tells a file's format from its first bytes: a JSON object whose
// keys are Jaeger's (data, or a trace's traceID/spans/processes) or OTLP's
// (resourceSpans, or Tempo's batches); a JSON array of Zipkin v2 spans (traceId, id, ...), of
// Zipkin traces (arrays of spans) or of Jaeger traces, or one Zipkin span
// alone; or a text table
// whose first line has commas.
func sniff(r *bufio.Reader) (Format, error) {
	head, err := r.Peek(1 << 16)
	if err != nil && len(head) == 0 {
		if err == io.EOF {
			return "", errors.New("the file is empty")
		}
		return "", err
	}
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	if len(trimmed) == 0 {
		return "", errors.New("the file is empty")
	}
	switch trimmed[0] {
	case '{', '[':
		return sniffJSON(trimmed)
	}
	line, _, _ := bytes.Cut(trimmed, []byte("\n"))
	if bytes.Count(line, []byte(",")) >= 3 {
		return CSV, nil
	}
	return "", errors.New("unknown shape: neither JSON (Jaeger, OTLP, Zipkin) nor a CSV table with a header line")
}

// sniffJSON reads the first object's keys, skipping values, until one of
// them names a format.
func sniffJSON(head []byte) (Format, error) {
	dec := json.NewDecoder(bytes.NewReader(head))
	first, _ := dec.Token()
	inArray := first == json.Delim('[')
	if inArray {
		tok, err := dec.Token()
		switch {
		case err != nil:
			return "", errors.New("unknown shape: a JSON array that does not hold objects")
		case tok == json.Delim(']'):
			return "", errors.New("the file holds an empty JSON array: no spans")
		case tok == json.Delim('['):
			return Zipkin, nil // Zipkin's /api/v2/traces: a list of traces, each a list of spans
		case tok != json.Delim('{'):
			return "", errors.New("unknown shape: a JSON array that does not hold objects")
		}
	}
	var seen []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		key, _ := tok.(string)
		switch key {
		case "data", "traceID", "spans", "processes", "spanID", "operationName":
			return Jaeger, nil
		case "resourceSpans", "resource_spans", "batches":
			if !inArray {
				return OTLP, nil
			}
		case "traceId", "id", "parentId", "localEndpoint", "remoteEndpoint":
			// An object alone is one Zipkin span when it has a key
			// only a Zipkin span has ("id" alone could be anything's).
			if inArray || key != "id" {
				return Zipkin, nil
			}
		}
		seen = append(seen, fmt.Sprintf("%q", key))
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			break
		}
	}
	shape := "keys " + strings.Join(seen, ", ")
	if len(seen) == 0 {
		shape = "an object with no keys" // {}, or [{}]: not "(keys )"
	}
	return "", fmt.Errorf("unknown JSON shape (%s): want Jaeger (data, or traceID/spans/processes), OTLP (resourceSpans) or Zipkin v2 (an array of spans with traceId, id)", shape)
}
