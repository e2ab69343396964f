package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/faultline/faultline/importer"
)

// importFlags are the flags of import.
type importFlags struct {
	format, sampled, columns, out *string
}

func (f *importFlags) register(fs *flag.FlagSet) {
	f.format = fs.String("format", "auto", "the files' format: auto, jaeger, otlp, zipkin or csv")
	f.sampled = fs.String("sampled", "", "the share of requests the traces hold (0.3 for 30 % sampling); default: the sampler ratio Jaeger's root spans carry, else 1")
	f.columns = fs.String("columns", "", "CSV columns for other headers: field=Header[:unit],... (fields trace, span, parent, service, pod, operation, start, end, duration, error, kind)")
	f.out = fs.String("o", "", "write the scenario to this `file` instead of standard output")
}

// importCmd builds a scenario from trace files. A file that cannot be read
// (missing, broken, empty, of an unknown shape) is exit code 2.
func importCmd(args []string, stdout, stderr io.Writer) error {
	var f importFlags
	pos, err := parseFlags("import", f.register, args)
	if err != nil {
		return err
	}
	format, sampled, columns, out := f.format, f.sampled, f.columns, f.out
	if len(pos) == 0 {
		return usageErr("import needs at least one trace file")
	}
	opts := importer.Options{}
	if opts.Format, err = importer.ParseFormat(*format); err != nil {
		return usageErr("--format: %v", err)
	}
	if *sampled != "" {
		r, err := strconv.ParseFloat(*sampled, 64)
		if err != nil || !(r > 0 && r <= 1) {
			return usageErr("--sampled %q: want a share in (0, 1], such as 0.3", *sampled)
		}
		opts.Sampled = r
	}
	if opts.Columns, err = importer.ParseColumns(*columns); err != nil {
		return usageErr("--columns: %v", err)
	}
	m, err := importer.Import(pos, opts)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	if *out == "" {
		err = m.WriteTOML(stdout)
	} else {
		var f *os.File
		if f, err = os.Create(*out); err == nil {
			err = errors.Join(m.WriteTOML(f), f.Close())
		}
	}
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	o := m.Observed
	fmt.Fprintf(stderr, "imported %d traces, %d spans: %d services, %d entry operations", o.Traces, o.Spans, len(m.Services), len(m.Clients))
	if o.OrphanSpans > 0 {
		fmt.Fprintf(stderr, "; %d spans whose parent is missing (counted as invocations, not as entries)", o.OrphanSpans)
	}
	fmt.Fprintln(stderr)
	return nil
}
