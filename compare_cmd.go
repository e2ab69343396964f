package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/faultline/faultline/scenarios"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/compare"
	"github.com/faultline/faultline/importer"
	"github.com/faultline/faultline/sim"
)

// compareCmd runs a scenario at the load of the traces given and sets each
// operation's figures beside the observed ones (package compare).
// compareFlags are the flags of compare.
type compareFlags struct {
	asJSON                   *bool
	seed                     seedFlag
	format, sampled, columns *string
	minSpans                 *int64
	windows                  *string
}

func (f *compareFlags) register(fs *flag.FlagSet) {
	f.asJSON = fs.Bool("json", false, "print the comparison as one JSON object")
	fs.Var(&f.seed, "seed", "override the scenario's seed, a non-negative `integer`")
	f.format = fs.String("format", "auto", "the trace files' format: auto, jaeger, otlp, zipkin or csv")
	f.sampled = fs.String("sampled", "", "the share of requests the traces hold (as import's)")
	f.columns = fs.String("columns", "", "CSV columns for other headers (as import's)")
	f.minSpans = fs.Int64("min-spans", 50, "compare the operations with at least this many `spans`")
	f.windows = fs.String("windows", "auto", "run this many times the traces' window (`N`): the simulated quantiles then vary less than one window's; auto: enough that each operation compared gets about 1000 requests (at most 100 windows)")
}

func compareCmd(args []string, stdout, stderr io.Writer) error {
	var f compareFlags
	pos, err := parseFlags("compare", f.register, args)
	if err != nil {
		return err
	}
	asJSON, format, sampled, columns, minSpans := f.asJSON, f.format, f.sampled, f.columns, f.minSpans
	if len(pos) < 2 {
		return usageErr("compare needs a scenario and at least one trace file")
	}
	windows := 0 // auto
	if *f.windows != "auto" {
		if windows, err = strconv.Atoi(*f.windows); err != nil || windows < 1 {
			return usageErr("--windows %s: want auto or a whole number, at least 1", *f.windows)
		}
	}
	opts, err := importOptions(*format, *sampled, *columns)
	if err != nil {
		return err
	}
	spec, err := load(pos[0], stderr)
	if err != nil {
		return err
	}
	f.seed.override(spec)
	m, err := importer.Import(pos[1:], opts)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	// The run lasts the warmup and --windows times the traces' window:
	// held to the loader's limit on a duration, in floating point so
	// that a huge --windows cannot overflow the product; auto takes no
	// more windows than fit.
	win := m.Observed.Window
	tooLong := func(n int) bool {
		return win > 0 && float64(spec.Warmup)+float64(n)*float64(win) > float64(scenarios.MaxDuration)
	}
	if windows == 0 {
		windows = compare.AutoWindows(m, *minSpans)
		if tooLong(windows) {
			windows = max(1, int((scenarios.MaxDuration-spec.Warmup)/win))
		}
	}
	if tooLong(windows) {
		return usageErr("--windows %d: the run would last %d times the traces' window of %s, past the %s a run may last; at most %d",
			windows, windows, win.Round(time.Millisecond), scenarios.MaxDuration, (scenarios.MaxDuration-spec.Warmup)/win)
	}
	for _, n := range compare.AtObservedLoad(spec, m, windows) {
		fmt.Fprintln(stderr, "faultline:", n)
	}
	spec.NoEdgeSeries = true // compare reads operations' totals, no call's windows
	s, err := sim.New(spec, spec.Seed)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	// drive builds no result when the engine stopped the run (its memory
	// budget): that would take several times the budget again.
	res := drive(context.Background(), s, nil)
	if err := s.Err(); err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	rep := compare.Compare(m, res, compare.Options{MinSpans: *minSpans, Windows: windows})
	if len(rep.Operations) == 0 {
		return &exitError{code: 1, msg: noneCompared(m, &rep, *minSpans)}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	runFor := ""
	if windows > 1 {
		runFor = fmt.Sprintf(", run %d times as long, counts per window", windows)
	}
	fmt.Fprintf(stdout, "%s at the traces' load (%s, %s of arrivals%s), seed %d\n\n", spec.Name, strconv.Quote(pos[1]), m.Observed.Window.Round(1e6), runFor, spec.Seed)
	return rep.WriteText(stdout)
}

// noneCompared says why a comparison holds no operation. Printed, it read
// "0 operations compared; MAPE of p50 0 %", a perfect score, with exit
// code 0: a CI step would have passed on nothing.
func noneCompared(m *importer.Model, rep *compare.Report, minSpans int64) string {
	if len(rep.Missing) > 0 {
		return fmt.Sprintf("compare: nothing to compare: the operations with %d spans or more are not in the scenario (%s)", minSpans, strings.Join(rep.Missing, ", "))
	}
	most, name := int64(0), ""
	for _, s := range m.Services {
		for _, op := range s.Operations {
			if op.Count > most {
				most, name = op.Count, s.Name+"."+op.Name
			}
		}
	}
	return fmt.Sprintf("compare: nothing to compare: no operation of the traces has --min-spans %d spans (the most, %s, has %d); lower --min-spans, or record more traces", minSpans, name, most)
}
