package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/faultline/faultline/compare"
	"github.com/faultline/faultline/importer"
	"github.com/faultline/faultline/sim"
)

// compareCmd runs a scenario at the load of the traces given and sets each
// operation's figures beside the observed ones (package compare).
func compareCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare", stderr)
	asJSON := fs.Bool("json", false, "print the comparison as one JSON object")
	seed := fs.String("seed", "", "override the scenario's seed")
	format := fs.String("format", "auto", "the trace files' format: auto, jaeger, otlp, zipkin or csv")
	sampled := fs.String("sampled", "", "the share of requests the traces hold (as import's)")
	columns := fs.String("columns", "", "CSV columns for other headers (as import's)")
	minSpans := fs.Int64("min-spans", 50, "compare the operations with at least this many spans")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return &exitError{code: 2}
	}
	if len(pos) < 2 {
		return usageErr("compare needs a scenario and at least one trace file")
	}
	opts, err := importOptions(*format, *sampled, *columns)
	if err != nil {
		return err
	}
	spec, err := load(pos[0], stderr)
	if err != nil {
		return err
	}
	if err := overrideSeed(spec, *seed); err != nil {
		return err
	}
	m, err := importer.Import(pos[1:], opts)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	for _, n := range compare.AtObservedLoad(spec, m) {
		fmt.Fprintln(stderr, "faultline:", n)
	}
	s, err := sim.New(spec, spec.Seed)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	res := s.Run()
	if err := s.Err(); err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	rep := compare.Compare(m, res, compare.Options{MinSpans: *minSpans})
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "%s at the traces' load (%s, %s of arrivals), seed %d\n\n", spec.Name, strconv.Quote(pos[1]), m.Observed.Window.Round(1e6), spec.Seed)
	return rep.WriteText(stdout)
}
