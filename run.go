package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/faultline/faultline/internal/format"
	"github.com/faultline/faultline/internal/outfile"
	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/metric"
	"github.com/faultline/faultline/summary"
)

// load resolves and loads one scenario; a bad scenario is exit code 2 with
// every error rendered.
func load(arg string, stderr io.Writer) (*sim.Spec, error) {
	name, data, err := scenarios.Open(arg)
	if err != nil {
		return nil, &exitError{code: 2, msg: err.Error()}
	}
	spec, err := scenarios.Load(name, data)
	if err != nil {
		var list scenarios.ErrorList
		if errors.As(err, &list) {
			fmt.Fprint(stderr, list.Render(useColor(stderr)))
			return nil, &exitError{code: 2, msg: fmt.Sprintf("%s: %d error(s)", name, len(list))}
		}
		return nil, &exitError{code: 2, msg: err.Error()}
	}
	return spec, nil
}

// loadOne loads the one scenario a command takes, the default when none is
// named.
func loadOne(cmd string, pos []string, stderr io.Writer) (*sim.Spec, error) {
	if len(pos) > 1 {
		return nil, usageErr("%s takes one scenario, got %d", cmd, len(pos))
	}
	arg := scenarios.Default()
	if len(pos) == 1 {
		arg = pos[0]
	}
	return load(arg, stderr)
}

// memoryFlag registers --memory, the run's memory budget.
func memoryFlag(fs *flag.FlagSet, what string) *string {
	return fs.String("memory", "2GiB", "stop "+what+" cleanly when it holds more than `SIZE` (e.g. 512MiB, 4GiB)")
}

// parseMemory reads a --memory size: a number with an optional unit, KiB,
// MiB, GiB or TiB (KB, MB, GB, TB and K, M, G, T are taken as the same
// powers of two).
func parseMemory(v string) (int64, error) {
	num := strings.TrimRight(v, "KMGTiBb")
	unit := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(v[len(num):]), "B"), "I")
	shift, ok := map[string]uint{"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[unit]
	x, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if !ok || err != nil || !(x > 0) || x*float64(uint64(1)<<shift) > 1<<50 {
		return 0, usageErr("--memory %q: want a size such as 512MiB or 4GiB", v)
	}
	if b := int64(x * float64(uint64(1)<<shift)); b >= 1<<20 {
		return b, nil
	}
	return 0, usageErr("--memory %q: want at least 1MiB", v)
}

// seedFlag is a --seed: a non-negative integer, and whether it was given.
// An empty value is an error, not "no seed": a script's unset variable
// ("--seed $SEED") must not silently run the scenario's own seed.
type seedFlag struct {
	n   uint64
	set bool
}

func (s *seedFlag) String() string {
	if s == nil || !s.set {
		return ""
	}
	return strconv.FormatUint(s.n, 10)
}

func (s *seedFlag) Set(v string) error {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return errors.New("want a non-negative integer")
	}
	s.n, s.set = n, true
	return nil
}

// override applies the seed to spec, if one was given.
func (s *seedFlag) override(spec *sim.Spec) {
	if s.set {
		spec.Seed = s.n
	}
}

// runFlags are the flags of run.
type runFlags struct {
	asJSON, series             *bool
	csvPath, duration, variant *string
	memory                     *string
	seed                       seedFlag
	ov                         overrideFlags
}

func (f *runFlags) register(fs *flag.FlagSet) {
	f.asJSON = fs.Bool("json", false, "print the result as one JSON object (its shape: 'faultline schema')")
	f.series = fs.Bool("series", true, "with --json, include every component's per-window series (false: the totals only)")
	f.csvPath = fs.String("csv", "", "write the per-window time series to `FILE` (\"-\": standard output, after the report)")
	fs.Var(&f.seed, "seed", "override the scenario's seed, a non-negative `integer`")
	f.duration = fs.String("duration", "", "override the scenario's duration, a Go `duration` such as 60s")
	f.variant = fs.String("variant", "", "run the scenario's [[variant]] `NAME` instead of the base (\"base\": the scenario as written)")
	f.memory = memoryFlag(fs, "the run")
	f.ov.register(fs)
}

func runCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run")
	var f runFlags
	f.register(fs)
	pos, err := parseInto(fs, args)
	if err != nil {
		return err
	}
	asJSON, series, csvPath, duration, variant := f.asJSON, f.series, f.csvPath, f.duration, f.variant
	overrides, err := f.ov.parse()
	if err != nil {
		return err
	}
	budget, err := parseMemory(*f.memory)
	if err != nil {
		return err
	}
	if *csvPath != "" && *csvPath != "-" {
		if err := checkCSVPath(*csvPath, stdout); err != nil {
			return err
		}
	}
	if *duration != "" {
		// Through the loader, as if written in the file: its limits
		// hold, and an error points at the flag.
		ov, err := scenarios.ParseOverride("--duration", "scenario.duration="+*duration)
		if err != nil {
			return usageErr("%v", err)
		}
		overrides = append(overrides, ov)
	}
	sc, err := loadScenario(pos, scenarios.Options{Variant: *variant, Overrides: overrides}, stderr)
	if err != nil {
		return err
	}
	spec := sc.Spec
	f.seed.override(spec)
	spec.Memory = budget
	// The edges' series are the bulk of a large graph's windows, and only
	// the JSON with its series and the CSV write them.
	spec.NoEdgeSeries = !(*asJSON && *series) && *csvPath == ""
	for _, w := range scenarios.Warnings(spec) {
		fmt.Fprintln(stderr, "faultline: warning:", w)
	}
	for i, f := range spec.Faults {
		if f.Start >= spec.Duration {
			// The loader leaves these in a run cut short on the command
			// line; say what it leaves out.
			fmt.Fprintf(stderr, "faultline: fault %d (%s on %s) starts at %s, after the run ends: it does not happen\n",
				i+1, f.Kind, cmp.Or(f.Target, "network"), f.Start)
		}
	}
	s, err := sim.New(spec, spec.Seed)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	wall := time.Now()
	var p *runProgress
	if runTerminal(stderr) {
		p = &runProgress{w: stderr, now: runClock, start: runClock()}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res := drive(ctx, s, p)
	elapsed := time.Since(wall)
	if err := s.Err(); err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	if res == nil {
		return &exitError{code: exitInterrupted, msg: fmt.Sprintf("interrupted at %s of virtual time: no result", s.Now())}
	}
	// The report comes first: a CSV that cannot be written loses only
	// itself.
	var sloErr error
	if *asJSON {
		out := res
		if !*series {
			out = res.WithoutSeries()
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
		// stdout holds one JSON object; the SLOs go to stderr.
		sloErr = checkSLOs(stderr, sc.SLOs, res)
	} else {
		summary.Write(stdout, res, summary.Options{Color: useColor(stdout)})
		// Wall time goes to stderr: stdout is the same for the same
		// scenario and seed, byte for byte.
		fmt.Fprintf(stderr, "simulated %gs in %s: %d events, %.1fM events/s\n", res.DurationS,
			elapsed.Round(time.Millisecond), s.Processed(), float64(s.Processed())/max(elapsed.Seconds(), 1e-9)/1e6)
		sloErr = checkSLOs(stdout, sc.SLOs, res)
	}
	switch *csvPath {
	case "":
	case "-":
		// Standard output, after the report, as --csv /dev/stdout: "-"
		// made a file named "-". POSIX's Utility Syntax Guideline 13
		// (Base Definitions 12.2): "-" means standard output when an
		// output file is meant.
		if err := summary.WriteCSV(stdout, res); err != nil {
			return err
		}
	default:
		if err := outfile.Write(*csvPath, func(w io.Writer) error { return summary.WriteCSV(w, res) }); err != nil {
			return &exitError{code: 1, msg: "--csv: " + err.Error()}
		}
	}
	return sloErr
}

// checkCSVPath finds out before a run whether --csv can be written, and
// refuses the file stdout goes to ("--json --csv out > out"): the CSV
// would replace it and the report written there would be lost.
func checkCSVPath(path string, stdout io.Writer) error {
	if f, ok := stdout.(statter); ok {
		if fi, err := f.Stat(); err == nil && outfile.SameFile(path, fi) {
			return usageErr("--csv %s is the file stdout goes to: the CSV would overwrite the report; write it to another file", path)
		}
	}
	if err := outfile.Check(path); err != nil {
		return &exitError{code: 1, msg: "--csv: " + err.Error()}
	}
	return nil
}

// runClock and runTerminal are the wall clock and the terminal test of
// run's progress line; tests replace them.
var (
	runClock    = time.Now
	runTerminal = useColor
)

const (
	// progressAfter is how long a run goes before it shows its progress:
	// a short run prints nothing more than before.
	progressAfter = 2 * time.Second
	// progressEvery bounds the redraws to a few a second.
	progressEvery = 250 * time.Millisecond
)

// runProgress is the line a long run shows on a terminal's stderr: virtual
// time done, events/s and an ETA, redrawn in place and cleared at the end,
// so that nothing of it stays on the screen, in stdout or in a file.
type runProgress struct {
	w     io.Writer
	now   func() time.Time
	start time.Time
	next  time.Time // when the line may be redrawn
	shown bool
}

// drive runs s to its end and returns its result, or nil when ctx is
// cancelled (Ctrl-C, SIGTERM) or the engine stopped the run (s.Err: its
// memory budget, time stuck at an instant). It advances in calls of bounded work
// (RunFor) and checks ctx between them, so that a signal stops even a run
// whose virtual time barely advances. With a progress line it advances in
// slices of virtual time and reads the wall clock between them: the engine
// never sees the clock, and slices do not change what a run does (RunUntil
// runs every event up to its limit, as the TUI and bench drive it).
func drive(ctx context.Context, s *sim.Sim, p *runProgress) *sim.Result {
	end := s.Duration()
	// The slice adapts to aim at 25-100 ms of wall time: short enough to
	// redraw on time, long enough that the clock costs nothing.
	slice, last := end, time.Time{}
	if p != nil {
		slice, last = time.Millisecond, p.now()
	}
	for !s.Done() && s.Err() == nil {
		if ctx.Err() != nil {
			if p != nil {
				p.clear()
			}
			return nil
		}
		reached := s.RunFor(min(s.Now()+slice, end), eventsPerCheck)
		if p == nil {
			continue
		}
		t := p.now()
		switch d := t.Sub(last); {
		case reached && d < 25*time.Millisecond:
			slice = min(2*slice, end)
		case d > 100*time.Millisecond && slice > time.Microsecond:
			slice /= 2
		}
		last = t
		p.update(t, s.Now(), end, s.Processed())
	}
	if p != nil {
		p.clear()
	}
	if s.Err() != nil {
		// No result: one built from what outgrew the budget takes
		// several times the budget again (424 MiB of allocations for
		// 64 MiB of fault occurrences; 13 GB of memory for 2 GiB).
		return nil
	}
	return s.Run()
}

// eventsPerCheck is how many events a run goes between checks for a
// signal: tens of milliseconds of wall time.
const eventsPerCheck = 1 << 20

func (p *runProgress) update(t time.Time, virt, end time.Duration, events uint64) {
	elapsed := t.Sub(p.start)
	if elapsed < progressAfter || t.Before(p.next) {
		return
	}
	p.next, p.shown = t.Add(progressEvery), true
	eta := time.Duration(float64(elapsed) * float64(end-virt) / float64(max(virt, 1)))
	fmt.Fprintf(p.w, "\r\x1b[Krun: %ss of %ss virtual (%.0f%%)  %s events/s  ETA %s",
		strconv.FormatFloat(virt.Seconds(), 'f', 1, 64), strconv.FormatFloat(end.Seconds(), 'f', -1, 64),
		100*float64(virt)/float64(end), perSecond(float64(events)/elapsed.Seconds()), eta.Round(time.Second))
}

// perSecond writes a rate with three figures at most: 950, 12.3k, 4.6M.
func perSecond(x float64) string {
	switch {
	case x >= 1e6:
		return strconv.FormatFloat(x/1e6, 'f', 1, 64) + "M"
	case x >= 1e3:
		return strconv.FormatFloat(x/1e3, 'f', 1, 64) + "k"
	}
	return strconv.FormatFloat(x, 'f', 0, 64)
}

// clear erases the line, if it was drawn, before the summary is written.
func (p *runProgress) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

func validateCmd(args []string, stdout, stderr io.Writer) error {
	args, err := parseFlags("validate", noFlags, args)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usageErr("validate needs at least one scenario")
	}
	bad := 0
	for _, a := range args {
		spec, err := load(a, stderr)
		if err != nil {
			var ee *exitError
			if errors.As(err, &ee) && ee.msg != "" {
				fmt.Fprintln(stderr, "faultline:", ee.msg)
			}
			bad++
			continue
		}
		fmt.Fprintf(stdout, "%s: ok (%s)\n", a, inventory(spec))
		for _, w := range scenarios.Warnings(spec) {
			fmt.Fprintf(stdout, "%s: warning: %s\n", a, w)
		}
	}
	if bad > 0 {
		return &exitError{code: 2}
	}
	return nil
}

func listCmd(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return usageErr("list takes no arguments")
	}
	list := scenarios.List()
	w := 0
	for _, b := range list {
		w = max(w, len(b.Name))
	}
	for _, b := range list {
		mark := " "
		if b.Name == scenarios.Default() {
			mark = "*"
		}
		fmt.Fprintf(stdout, "%s %-*s  %s\n", mark, w, b.Name, b.Summary)
	}
	fmt.Fprintln(stdout, "\n* the default scenario of 'faultline run'")
	return nil
}

// useColor reports whether w is a terminal and the environment allows
// colour (colorEnv).
func useColor(w io.Writer) bool {
	if !colorEnv() {
		return false
	}
	return isTerminal(w)
}

// statter is an *os.File, or the checkedWriter around one.
type statter interface{ Stat() (os.FileInfo, error) }

// checkedWriter is stdout as the commands see it: it remembers the first
// write error, so that a report lost to a full disk or a closed pipe is
// exit code 1 and a message, not a silent 0.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

// Stat is that of the file written to, for the terminal tests.
func (c *checkedWriter) Stat() (os.FileInfo, error) {
	if f, ok := c.w.(statter); ok {
		return f.Stat()
	}
	return nil, errors.ErrUnsupported
}

// colorEnv reports whether the environment allows colour: not when
// NO_COLOR is set to a non-empty value (https://no-color.org: "when
// present and not an empty string (regardless of its value)"), nor on a
// terminal that declares itself dumb (TERM=dumb, as GNU ls and git read
// it: no escape sequences).
func colorEnv() bool {
	return os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// inventory counts what a scenario has, leaving out the kinds it has none
// of (except clients and services, which every scenario has).
func inventory(spec *sim.Spec) string {
	gateways := 0
	for _, sv := range spec.Services {
		if sv.Gateway != nil {
			gateways++
		}
	}
	parts := []string{format.Plural(len(spec.Clients), "client"), format.Plural(len(spec.Services)-gateways, "service")}
	for _, k := range []struct {
		n    int
		what string
	}{
		{gateways, "gateway"}, {len(spec.Brokers), "broker"}, {len(spec.Stores), "store"}, {len(spec.Sagas), "saga"},
		{len(spec.Views), "view"}, {len(spec.Faults), "fault"},
	} {
		if k.n > 0 {
			parts = append(parts, format.Plural(k.n, k.what))
		}
	}
	return strings.Join(parts, ", ")
}

// checkSLOs prints the SLO results of a run to w and returns exit code 3
// when one is violated.
func checkSLOs(w io.Writer, slos []metric.SLO, res *sim.Result) error {
	if len(slos) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "SLOS")
	violated := false
	for _, c := range metric.Checks(slos, res) {
		val := "no data"
		if c.HasVal {
			val = "was " + c.ValueText()
		}
		fmt.Fprintf(w, "  %-8s  %s: %s\n", c.Status(), c.SLO.Label(), val)
		violated = violated || !c.Met
	}
	if violated {
		return &exitError{code: exitSLO, msg: "an SLO was violated"}
	}
	return nil
}
