package importer

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
)

// Options are the choices of an import.
type Options struct {
	// Format of every file; Auto (or "") sniffs each.
	Format Format
	// Sampled is the share of requests the traces were sampled with: rates
	// are counts divided by it. 0: the ratio Jaeger's root spans say they
	// were sampled with (sampler.type probabilistic), else 1.
	Sampled float64
	// Columns names the columns of CSV span tables with other headers.
	Columns Columns
	// Name of the scenario; by default the first file's name.
	Name string
}

// Import reads trace files and builds the scenario they show. A file that
// is broken, empty or of an unknown shape is a *FileError.
//
// Memory stays bounded by the traces in progress, not by the file: a first
// pass counts the spans of each trace (a map of trace ids), a second one
// surveys which call edges outlive their caller (work not waited for) and
// the clock offsets between hosts (skew.go), a third keeps the spans of a trace until its last one has been read, folds
// the trace into per-operation statistics (counts, and histograms of constant
// size) and lets it go. Files written in time order (as exporters and
// Jaeger's API write them) hold only the traces that overlap in time at
// once.
func Import(files []string, opts Options) (*Model, error) {
	if len(files) == 0 {
		return nil, errors.New("no trace file")
	}
	if opts.Format == "" {
		opts.Format = Auto
	}
	if opts.Sampled < 0 || opts.Sampled > 1 {
		return nil, fmt.Errorf("sampled ratio %g: want a share in (0, 1]", opts.Sampled)
	}
	agg, err := read(files, opts)
	if err != nil {
		return nil, err
	}
	if opts.Name == "" {
		opts.Name = baseName(files[0])
	}
	return agg.model(files, opts), nil
}

func read(files []string, opts Options) (*aggregator, error) {
	remaining := map[string]int32{}
	formats := make([]Format, len(files))
	for i, f := range files {
		n := 0
		var skipped int64
		format, err := scan(f, opts.Format, opts.Columns, &skipped, func(s *Span) error {
			remaining[s.TraceID]++
			n++
			return nil
		})
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, &FileError{File: f, Err: fmt.Errorf("no spans in this %s file", format)}
		}
		formats[i] = format
	}
	// Two folds: the first surveys which call edges outlive their
	// caller (derive.go, outlived) and the hosts' clock offsets
	// (skew.go), the second folds the traces with those edges detached
	// and those offsets corrected.
	survey := newAggregator()
	survey.survey = true
	if err := fold(survey, files, formats, opts, maps.Clone(remaining)); err != nil {
		return nil, err
	}
	agg := surveyed(survey)
	agg.formats = formats
	if err := fold(agg, files, formats, opts, remaining); err != nil {
		return nil, err
	}
	return agg, nil
}

// fold reads the files' spans into agg trace by trace: a trace is folded
// once remaining (its span count) of its spans have been read.
func fold(agg *aggregator, files []string, formats []Format, opts Options, remaining map[string]int32) error {
	open := map[string][]Span{}
	for i, f := range files {
		_, err := scan(f, formats[i], opts.Columns, &agg.skippedSpans, func(s *Span) error {
			tr := append(open[s.TraceID], *s)
			remaining[s.TraceID]--
			if remaining[s.TraceID] > 0 {
				open[s.TraceID] = tr
				return nil
			}
			delete(open, s.TraceID)
			delete(remaining, s.TraceID)
			agg.addTrace(tr)
			return nil
		})
		if err != nil {
			return err
		}
	}
	// Traces whose span count changed between the passes (a file being
	// written to): fold what there is, in a fixed order.
	var left []string
	for id := range open {
		left = append(left, id)
	}
	slices.Sort(left)
	for _, id := range left {
		agg.addTrace(open[id])
	}
	return nil
}

// scan reads one file in the given format (sniffing it for Auto) and
// returns the format it read.
func scan(path string, format Format, cols Columns, skipped *int64, emit func(*Span) error) (Format, error) {
	tf, err := openTrace(path)
	if err != nil {
		return format, &FileError{File: path, Err: err}
	}
	defer tf.close()
	if format == Auto {
		if format, err = sniff(tf.r); err != nil {
			return format, &FileError{File: path, Err: err}
		}
	}
	switch format {
	case Jaeger:
		err = readJaeger(tf.r, emit)
	case OTLP:
		err = readOTLP(tf.r, emit)
	case Zipkin:
		err = readZipkin(tf.r, emit, skipped)
	case CSV:
		err = readCSV(tf.r, cols, emit)
	}
	if err != nil {
		fe := &FileError{File: path, Err: err}
		var pe *posError
		if errors.As(err, &pe) {
			fe.Pos, fe.Err = pe.pos, pe.err
		}
		return format, fe
	}
	return format, nil
}

// baseName is a file's name without its directory and extensions.
func baseName(path string) string {
	b := filepath.Base(path)
	for _, ext := range []string{".gz", ".json", ".jsonl", ".csv", ".txt"} {
		b = strings.TrimSuffix(b, ext)
	}
	return b
}
