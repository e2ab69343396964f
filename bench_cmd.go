package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/faultline/faultline/bench"
	"github.com/faultline/faultline/internal/outfile"
	"github.com/faultline/faultline/scenarios"
)

// maxReplications bounds --replications: every run's result stays in
// memory for the statistics (a few KB to a few MB each), and 100,000
// replications already give intervals far narrower than any effect worth
// reporting.
const maxReplications = 100_000

// Exit codes of a bench beyond 0, 1 and 2.
const (
	exitSLO         = 3   // an SLO was violated (run and bench)
	exitInterrupted = 130 // Ctrl-C: the partial report was written
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// overrideFlags are the flags that change a scenario, shared by run and
// bench.
type overrideFlags struct {
	set, unset listFlag
}

func (o *overrideFlags) register(fs *flag.FlagSet) {
	fs.Var(&o.set, "set", "set a scenario key, `path=value` (repeatable): client.shoppers.rate=200")
	fs.Var(&o.unset, "unset", "remove a scenario key or table, `path` (repeatable): service.checkout.call.payment.circuit_breaker")
}

// parse reads the overrides in the order unset, then set, like a variant.
func (o *overrideFlags) parse() ([]scenarios.Override, error) {
	var out []scenarios.Override
	for _, a := range o.unset {
		ov, err := scenarios.ParseUnset("--unset", a)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		out = append(out, ov)
	}
	for _, a := range o.set {
		ov, err := scenarios.ParseOverride("--set", a)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		out = append(out, ov)
	}
	return out, nil
}

// loadErr turns a loader error into exit code 2, rendering every problem.
func loadErr(err error, name string, stderr io.Writer) error {
	var list scenarios.ErrorList
	if errors.As(err, &list) {
		fmt.Fprint(stderr, list.Render(useColor(stderr)))
		return &exitError{code: 2, msg: fmt.Sprintf("%s: %d error(s)", name, len(list))}
	}
	return &exitError{code: 2, msg: err.Error()}
}

// loadScenario loads the scenario run takes, with a variant and
// overrides.
func loadScenario(pos []string, opts scenarios.Options, stderr io.Writer) (*scenarios.Scenario, error) {
	if len(pos) > 1 {
		return nil, usageErr("run takes one scenario, got %d", len(pos))
	}
	arg := scenarios.Default()
	if len(pos) == 1 {
		arg = pos[0]
	}
	name, data, err := scenarios.Open(arg)
	if err != nil {
		return nil, &exitError{code: 2, msg: err.Error()}
	}
	sc, err := scenarios.LoadScenario(name, data, opts)
	if err != nil {
		return nil, loadErr(err, name, stderr)
	}
	return sc, nil
}

// benchFlags are the flags of bench.
type benchFlags struct {
	reps, parallel                          *int
	ov                                      overrideFlags
	sweeps, variants                        listFlag
	baseline, out, formats, duration, shard *string
	memory                                  *string
	seed                                    seedFlag
}

func (f *benchFlags) register(fs *flag.FlagSet) {
	f.reps = fs.Int("replications", 10, "runs of each variant, with seeds base+0 .. base+N-1")
	f.ov.register(fs)
	fs.Var(&f.sweeps, "sweep", "run every value of a key, `path=v1,v2,...` (repeatable: the cross product)")
	fs.Var(&f.variants, "variant", "run only this [[variant]] `NAME` (repeatable)")
	f.baseline = fs.String("baseline", "", "compare the other variants with this `NAME` (default: the first)")
	f.parallel = fs.Int("parallel", 0, "`runs` at once (0: one per core)")
	f.out = fs.String("out", "bench-out", "write the report files into `DIR`")
	f.formats = fs.String("format", "md,html,json,csv", "report `formats`: md, html, json, csv")
	fs.Var(&f.seed, "seed", "base seed, a non-negative `integer` (default: each scenario's seed)")
	f.duration = fs.String("duration", "", "override each scenario's duration, a Go `duration` such as 60s")
	f.memory = fs.String("memory", "2GiB", "stop cleanly when the runs at once hold more than `SIZE` in all (each run gets SIZE / --parallel)")
	f.shard = fs.String("shard", "", "run shard `i/n` of the runs and write a partial result (n alone: i from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID)")
}

// mergeFlags are the flags of bench merge.
type mergeFlags struct{ out, formats *string }

func (f *mergeFlags) register(fs *flag.FlagSet) {
	f.out = fs.String("out", "bench-out", "write the report files into `DIR`")
	f.formats = fs.String("format", "md,html,json,csv", "report `formats`: md, html, json, csv")
}

func benchCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "merge" {
		return benchMergeCmd(args[1:], stdout, stderr)
	}
	fs := newFlagSet("bench")
	var f benchFlags
	f.register(fs)
	pos, err := parseInto(fs, args)
	if err != nil {
		return err
	}
	reps, ov, sweeps, variants, baseline, out, formats, duration, shard := f.reps, f.ov, f.sweeps, f.variants, f.baseline, f.out, f.formats, f.duration, f.shard
	parallel := f.parallel
	if *parallel == 0 {
		*parallel = runtime.NumCPU()
	}
	if len(pos) == 0 {
		return usageErr("bench needs at least one scenario")
	}
	if *reps < 1 {
		return usageErr("--replications %d: want at least 1", *reps)
	}
	if *reps > maxReplications {
		return usageErr("--replications %d: at most %d (a bench keeps every run's result in memory)", *reps, maxReplications)
	}
	if *parallel < 1 {
		return usageErr("--parallel %d: want at least 1 (0: one per core)", *parallel)
	}
	budget, err := parseMemory(*f.memory)
	if err != nil {
		return err
	}
	fmts, err := bench.ParseFormats(*formats)
	if err != nil {
		return usageErr("--format: %v", err)
	}
	cfg := bench.Config{Replications: *reps, Variants: variants, Baseline: *baseline}
	if cfg.Overrides, err = ov.parse(); err != nil {
		return err
	}
	for _, s := range sweeps {
		vals, err := scenarios.ParseSweep("--sweep", s)
		if err != nil {
			return usageErr("%v", err)
		}
		cfg.Sweeps = append(cfg.Sweeps, vals)
	}
	if f.seed.set && f.seed.n > math.MaxUint64-uint64(*reps-1) {
		// The seeds base+0 .. base+N-1 would wrap to 0, 1, ...: the
		// report's "seeds 18446744073709551615..0" and seeds another
		// bench from 0 runs too.
		return usageErr("--seed %d: the seeds %d .. +%d pass the largest seed, %d: a lower --seed", f.seed.n, f.seed.n, *reps-1, uint64(math.MaxUint64))
	}
	cfg.Seed, cfg.SeedSet = f.seed.n, f.seed.set
	if *duration != "" {
		d, err := time.ParseDuration(*duration)
		if err != nil || d <= 0 {
			return usageErr("--duration %q: want a positive Go duration such as 60s", *duration)
		}
		cfg.Duration = d
	}
	var sh bench.Shard
	if *shard != "" {
		if sh, err = bench.ParseShard(*shard, os.Getenv); err != nil {
			return usageErr("%v", err)
		}
	}
	for _, a := range pos {
		name, data, err := scenarios.Open(a)
		if err != nil {
			return &exitError{code: 2, msg: err.Error()}
		}
		cfg.Sources = append(cfg.Sources, bench.Source{Arg: a, File: name, Data: data})
	}
	m, err := bench.Plan(cfg)
	if err != nil {
		return loadErr(err, "bench", stderr)
	}

	// Found out now, not after every run has finished and its results
	// are lost.
	if err := outfile.CheckDir(*out); err != nil {
		return &exitError{code: 1, msg: "--out: " + err.Error()}
	}
	// Signals are caught until the report is written, not only while the
	// runs go: one that came as the report was written used to kill bench
	// with the Markdown half printed and the files not yet written missing.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	wall := time.Now()
	perRun := budget / int64(min(*parallel, max(m.Jobs(), 1)))
	runs, err := bench.Execute(ctx, m, bench.Options{Parallel: *parallel, Memory: perRun, Shard: sh, Progress: bench.NewProgress(stderr, isTerminal(stderr))})
	interrupted := errors.Is(err, context.Canceled)
	if err != nil && !interrupted {
		return &exitError{code: 1, msg: err.Error()}
	}
	fmt.Fprintf(stderr, "bench: %d runs in %s on %d workers\n", len(runs), time.Since(wall).Round(time.Millisecond), min(*parallel, max(m.Jobs(), 1)))
	if *shard != "" {
		path, err := bench.WritePartial(*out, &bench.Partial{Matrix: m, Shard: sh, Interrupted: interrupted, Runs: runs})
		if err != nil {
			return &exitError{code: 1, msg: err.Error()}
		}
		fmt.Fprintf(stdout, "wrote %s: shard %s, %d runs; combine the shards with 'faultline bench merge'\n", path, sh, len(runs))
		if interrupted {
			return &exitError{code: exitInterrupted, msg: "interrupted: the shard's result is partial"}
		}
		return lateSignal(ctx, nil)
	}
	err = report(bench.NewReport(m, runs), *out, fmts, interrupted, stdout, stderr)
	if interrupted {
		return err
	}
	return lateSignal(ctx, err)
}

// lateSignal is bench's exit once its runs had all finished: a signal that
// came while the report was written left it whole, and still ends bench
// with exit code 130, as an interruption does (an SLO violation gives way
// to it, as in report); a report that could not be written keeps its
// error.
func lateSignal(ctx context.Context, err error) error {
	var ee *exitError
	if ctx.Err() == nil || err != nil && !(errors.As(err, &ee) && ee.code == exitSLO) {
		return err
	}
	return &exitError{code: exitInterrupted, msg: "interrupted after the runs had finished: the report is whole"}
}

// report writes the report files and prints the Markdown; an SLO
// violation is exit code 3, an interruption 130.
func report(rep *bench.Report, dir string, fmts []string, interrupted bool, stdout, stderr io.Writer) error {
	files, err := rep.WriteFiles(dir, fmts)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	if err := rep.WriteMarkdown(stdout); err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintln(stderr, "wrote", f)
	}
	switch {
	case interrupted:
		return &exitError{code: exitInterrupted, msg: fmt.Sprintf("interrupted: the report covers %d of %d runs", rep.Done, rep.Total)}
	case bench.Violated(rep.SLOs):
		return &exitError{code: exitSLO, msg: "an SLO was violated"}
	}
	return nil
}

func benchMergeCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench merge")
	var f mergeFlags
	f.register(fs)
	pos, err := parseInto(fs, args)
	if err != nil {
		return err
	}
	out, formats := f.out, f.formats
	if len(pos) == 0 {
		return usageErr("bench merge needs the directories (or files) the shards wrote")
	}
	fmts, err := bench.ParseFormats(*formats)
	if err != nil {
		return usageErr("--format: %v", err)
	}
	if err := outfile.CheckDir(*out); err != nil {
		return &exitError{code: 1, msg: "--out: " + err.Error()}
	}
	parts, err := bench.ReadPartials(pos)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	m, runs, complete, err := bench.Merge(parts)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	rep := bench.NewReport(m, runs)
	if err := report(rep, *out, fmts, false, stdout, stderr); err != nil || complete {
		return err
	}
	// The report is written and says Partial; the exit code says it too,
	// so that a pipeline does not publish it as the whole.
	return &exitError{code: 1, msg: fmt.Sprintf("bench merge: %d of %d runs: some shards are missing or were interrupted; the report is partial", len(runs), m.Jobs())}
}

// isTerminal reports whether w is a terminal, for the progress bar.
func isTerminal(w io.Writer) bool {
	f, ok := w.(statter)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
