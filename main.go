// Command faultline simulates microservice architectures and their partial
// failures in virtual time. See README.md and scenarios.md.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

const usage = `faultline simulates microservice architectures and their partial failures.

Usage:
  faultline run [SCENARIO] [--json] [--csv FILE] [--seed N] [--duration D]
                [--variant NAME] [--set path=value]... [--unset path]...
  faultline bench SCENARIO... [--replications N] [--set path=value]...
                [--sweep path=v1,v2,...]... [--parallel P] [--out DIR]
                [--format md,html,json,csv] [--shard i/n]
  faultline bench merge DIR... [--out DIR]
  faultline tui [SCENARIO] [--seed N] [--speed 1|10|100|max] [--paused]
  faultline validate SCENARIO...
  faultline list

SCENARIO is a built-in name (see 'faultline list') or a path to a .toml file;
run uses the default built-in scenario when none is given.
The scenario language is described in scenarios.md.

'faultline bench -h' lists every flag of bench.

Exit codes: 0 ok, 1 failure while running, 2 bad usage or bad scenario,
3 an SLO of the scenario was violated (run and bench), 130 bench interrupted.
`

// exitError carries the exit code a command wants; its message, if any, has
// not been printed yet.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func usageErr(format string, args ...any) error {
	return &exitError{code: 2, msg: fmt.Sprintf(format, args...) + "\nRun 'faultline help' for usage."}
}

func main() {
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
}

// cli runs one command and returns the process exit code.
func cli(args []string, stdout, stderr io.Writer) int {
	out := &checkedWriter{w: stdout}
	err := dispatch(args, out, stderr)
	var ee *exitError
	if out.err != nil && (!errors.As(err, &ee) || ee.code == exitSLO) {
		// Output lost is a failure, whatever the run found.
		err = &exitError{code: 1, msg: "writing the output: " + out.err.Error()}
	}
	if err == nil {
		return 0
	}
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, "faultline:", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "faultline:", err)
	return 1
}

func dispatch(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{code: 2}
	}
	switch args[0] {
	case "run":
		return runCmd(args[1:], stdout, stderr)
	case "bench":
		return benchCmd(args[1:], stdout, stderr)
	case "tui":
		return tuiCmd(args[1:], stderr)
	case "validate":
		return validateCmd(args[1:], stdout, stderr)
	case "list":
		return listCmd(args[1:], stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageErr("unknown command %q", args[0])
}
