package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/faultline/faultline/internal/suggest"
)

// argKind says what a command's positional arguments are, for completion.
type argKind uint8

const (
	argNone     argKind = iota
	argScenario         // built-in names and .toml files
	argDir              // directories (bench merge)
	argCommand          // command names (help)
	argShell            // bash, zsh, fish (completion)
)

// command is one row of the command table. Dispatch, the usage, each
// command's help and shell completion all read the same table, so they
// cannot disagree (the shape of tui/keys.go, as k9s's action registry).
type command struct {
	name    string // one word, or two for a subcommand ("bench merge")
	args    string // the positional arguments in the synopsis
	summary string // one line, for the usage
	about   string // what it does, for its help; may span lines
	example string // one or more command lines, for its help
	// flags registers the command's flags on fs, with the same builder the
	// command parses with: help and completion list whatever it registers.
	flags    func(fs *flag.FlagSet)
	complete argKind
	run      func(args []string, stdout, stderr io.Writer) error
}

// commands returns the table, in the order of the usage.
func commands() []command {
	return []command{
		{name: "run", args: "[SCENARIO]", summary: "run a scenario once and print what happened",
			about: `Runs SCENARIO (a built-in name or a .toml file; the default built-in
when none is given) and prints a summary, or one JSON object with --json
(its shape: 'faultline schema'). Exit code 3 when an SLO is violated.`,
			example: `faultline run checkout --seed 7 --duration 60s
faultline run retry-storm --json > retry-storm.json`,
			flags: func(fs *flag.FlagSet) { new(runFlags).register(fs) }, complete: argScenario, run: runCmd},
		{name: "bench", args: "SCENARIO...", summary: "compare variants over many seeds and write a report",
			about: `Runs each scenario's variants (its [[variant]] tables, or the scenario as
written, named "base") at every point of the sweeps, --replications times
each, with seeds base+0, base+1, ...; writes the report into --out and
prints the Markdown report. Exit codes: 3 an SLO violated, 130 interrupted
(the partial report is written).`,
			example: `faultline bench resilience-shootout --replications 20 --out bench-out
faultline bench checkout --sweep client.shoppers.rate=100,200,400`,
			flags: func(fs *flag.FlagSet) { new(benchFlags).register(fs) }, complete: argScenario, run: benchCmd},
		{name: "bench merge", args: "DIR|FILE...", summary: "combine the partial results of sharded benches",
			about: `Reads the partial results that 'bench --shard i/n' wrote and writes the
report of all of them. Exit code 1 when a shard is missing or was
interrupted: the report is written, and says it is partial.`,
			example: `faultline bench merge shard-0 shard-1 shard-2 --out bench-out`,
			flags:   func(fs *flag.FlagSet) { new(mergeFlags).register(fs) }, complete: argDir, run: benchMergeCmd},
		{name: "tui", args: "[SCENARIO]", summary: "watch a scenario live and inject faults by hand",
			about: `Opens the interactive terminal UI on SCENARIO (the default built-in when
none is given). It needs a terminal on stdin and stdout.`,
			example: `faultline tui checkout --speed 10`,
			flags:   func(fs *flag.FlagSet) { new(tuiFlags).register(fs) }, complete: argScenario,
			run: func(args []string, _, stderr io.Writer) error { return tuiCmd(args, stderr) }},
		{name: "validate", args: "SCENARIO...", summary: "check scenarios and print every error",
			about:   `Loads each SCENARIO and prints what it has, or every error in it.`,
			example: `faultline validate shop.toml  # shop.toml: your own file`,
			flags:   noFlags, complete: argScenario, run: validateCmd},
		{name: "list", summary: "list the built-in scenarios",
			about:   `Prints the built-in scenarios with a line on each; * marks the default.`,
			example: `faultline list`, flags: noFlags,
			run: func(args []string, stdout, _ io.Writer) error {
				if _, err := parseFlags("list", noFlags, args); err != nil {
					return err
				}
				return listCmd(args, stdout)
			}},
		{name: "import", args: "FILE...", summary: "build a scenario from trace files",
			about: `Reads trace files (Jaeger JSON, OTLP JSON, Zipkin v2 JSON, CSV span
tables; gzip or not) and writes a scenario: services, operations, the call
graph, own times as distributions and entry rates, with what the traces
cannot tell marked as assumptions. See scenarios.md, "Importing traces and
manifests".`,
			example: `faultline import traces.json.gz --sampled 0.3 -o shop.toml  # traces.json.gz: your own file`,
			flags:   func(fs *flag.FlagSet) { new(importFlags).register(fs) }, run: importCmd},
		{name: "compare", args: "SCENARIO TRACES...", summary: "run a scenario at the traces' load and compare it with them",
			about: `Runs SCENARIO at the load the trace files show (their entry rates and
duration) and prints, per operation with enough spans, the observed and
simulated count, rate, p50, p90, p99 and error share with the relative
error of each, then the mean absolute percentage error of p50, p90 and p99.
See scenarios.md, "Comparing with traces".`,
			example: `faultline compare hotel.toml load25.jaeger.json.gz  # your own files`,
			flags:   func(fs *flag.FlagSet) { new(compareFlags).register(fs) }, complete: argScenario, run: compareCmd},
		{name: "schema", summary: "print the JSON Schema of 'run --json'",
			about:   `Prints the JSON Schema (draft 2020-12) of the object 'faultline run --json' writes, generated from the program's own types.`,
			example: `faultline schema > faultline-run.schema.json`, flags: noFlags, run: schemaCmd},
		{name: "version", summary: "print the version and commit this binary was built from",
			about:   `Prints the module version and the VCS commit from the build information (with "modified" when the work tree had changes).`,
			example: `faultline version`, flags: noFlags, run: versionCmd},
		{name: "completion", args: "bash|zsh|fish", summary: "print a shell completion script",
			about: `Prints a script that completes commands, flags, built-in scenario names
and .toml files. Load it in the shell's startup file:
  bash: source <(faultline completion bash)
  zsh:  source <(faultline completion zsh)
  fish: faultline completion fish | source`,
			example: `faultline completion bash > ~/.local/share/bash-completion/completions/faultline`,
			flags:   noFlags, complete: argShell, run: completionCmd},
		{name: "help", args: "[COMMAND]", summary: "print this usage, or a command's flags and an example",
			example: `faultline help run`, flags: noFlags, complete: argCommand, run: helpCmd},
	}
}

func noFlags(*flag.FlagSet) {}

// findCommand returns the command args name and the arguments after its
// name; a subcommand ("bench merge") wins over its parent.
func findCommand(args []string) (*command, []string) {
	table := commands()
	var best *command
	rest := args
	for i := range table {
		words := strings.Fields(table[i].name)
		if len(words) > len(args) || !slicesEqual(words, args[:len(words)]) {
			continue
		}
		if best == nil || len(words) > len(strings.Fields(best.name)) {
			best, rest = &table[i], args[len(words):]
		}
	}
	return best, rest
}

func slicesEqual(a, b []string) bool { return strings.Join(a, " ") == strings.Join(b, " ") }

func unknownCommand(name string) error {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	if s := suggest.Closest(name, names); s != "" {
		return usageErr("unknown command %q; did you mean %q?", name, s)
	}
	return usageErr("unknown command %q", name)
}

// writeUsage writes the usage of faultline: every command of the table.
func writeUsage(w io.Writer) {
	fmt.Fprint(w, `faultline simulates microservice architectures and their partial failures.

Usage:
  faultline COMMAND [ARGUMENTS] [FLAGS]

Commands:
`)
	table := commands()
	width := 0
	for _, c := range table {
		width = max(width, len(c.name))
	}
	for _, c := range table {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprint(w, `
SCENARIO is a built-in name (see 'faultline list') or a path to a .toml file.
The scenario language is described in scenarios.md.
Run 'faultline help COMMAND' (or 'faultline COMMAND --help') for a command's
arguments, flags and an example.

Exit codes: 0 ok, 1 failure while running, 2 bad usage or bad scenario,
3 an SLO of the scenario was violated (run and bench), 130 interrupted
by a signal (Ctrl-C or SIGTERM; bench writes its partial report; in tui,
whose Ctrl-C key quits, SIGINT, SIGTERM or SIGHUP).
`)
}

// writeCommandHelp writes one command's synopsis, description, flags (read
// from its flag set) and example.
func writeCommandHelp(w io.Writer, c *command) {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.flags(fs)
	synopsis := "faultline " + c.name
	if c.args != "" {
		synopsis += " " + c.args
	}
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		synopsis += " [flags]"
	}
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", synopsis, c.summary)
	if c.about != "" {
		fmt.Fprintf(w, "\n%s\n", c.about)
	}
	if hasFlags {
		fmt.Fprint(w, "\nFlags:\n")
		fs.VisitAll(func(f *flag.Flag) {
			arg, usage := flag.UnquoteUsage(f)
			head := "  --" + f.Name
			if !isBoolFlag(f) {
				head += " " + strings.ToUpper(arg)
			}
			fmt.Fprintf(w, "%s\n      %s", head, usage)
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
				fmt.Fprintf(w, " (default %s)", f.DefValue)
			}
			fmt.Fprintln(w)
		})
	}
	fmt.Fprint(w, "\nExample:\n")
	for _, line := range strings.Split(c.example, "\n") {
		fmt.Fprintf(w, "  %s\n", line)
	}
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// parseFlags builds a command's flag set with register and parses args,
// flags before or after the positional arguments ("run checkout --json"
// as well as "run --json checkout"). -h and --help are a helpRequest; a
// mistyped flag names the closest one.
func parseFlags(name string, register func(*flag.FlagSet), args []string) ([]string, error) {
	fs := newFlagSet(name)
	register(fs)
	return parseInto(fs, args)
}

// newFlagSet returns an empty flag set of a command; its errors are
// written once, by cli.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseInto parses args into an already built flag set; see parseFlags.
func parseInto(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, flagErr(fs, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, emptyFlag(fs)
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// emptyFlag refuses a flag given an empty value (--csv ""), as --seed ""
// is refused: an empty value is what a script's unset variable gives
// (--csv "$OUT"), and taken as "not given" it would run without the CSV,
// or with the scenario's own duration, and exit 0. Every flag of faultline
// that takes a value needs a non-empty one; a boolean reads "true" or
// "false".
func emptyFlag(fs *flag.FlagSet) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err == nil && f.Value.String() == "" {
			err = &exitError{code: 2, msg: fmt.Sprintf("%s: --%s \"\": an empty value (an unset variable in a script?) is not the same as leaving the flag out\nRun 'faultline help %s' for its flags.", fs.Name(), f.Name, fs.Name())}
		}
	})
	return err
}

// flagErr turns an error of the flag package into a usage error that
// spells flags as the help does (--name) and suggests the flag a typo
// meant.
func flagErr(fs *flag.FlagSet, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		cmd, _ := findCommand(strings.Fields(fs.Name()))
		return &helpRequest{cmd: cmd}
	}
	help := fmt.Sprintf("\nRun 'faultline help %s' for its flags.", fs.Name())
	if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: "); ok {
		name = strings.TrimLeft(name, "-")
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if s := suggest.Closest(name, names); s != "" {
			return &exitError{code: 2, msg: fmt.Sprintf("%s: unknown flag --%s; did you mean --%s?%s", fs.Name(), name, s, help)}
		}
		return &exitError{code: 2, msg: fmt.Sprintf("%s: unknown flag --%s%s", fs.Name(), name, help)}
	}
	msg := strings.ReplaceAll(err.Error(), "flag -", "flag --")
	return &exitError{code: 2, msg: fmt.Sprintf("%s: %s%s", fs.Name(), msg, help)}
}

func helpCmd(args []string, stdout, _ io.Writer) error {
	args, err := parseFlags("help", noFlags, args)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		writeUsage(stdout)
		return nil
	}
	cmd, rest := findCommand(args)
	if cmd == nil || len(rest) > 0 {
		return unknownCommand(strings.Join(args, " "))
	}
	writeCommandHelp(stdout, cmd)
	return nil
}
