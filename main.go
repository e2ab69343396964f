// Command faultline simulates microservice architectures and their partial
// failures in virtual time. See README.md and scenarios.md.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

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

// helpRequest is what a command returns for -h or --help: its help goes to
// stdout and the exit code is 0, as for 'faultline help COMMAND'.
type helpRequest struct{ cmd *command }

func (h *helpRequest) Error() string { return "help requested" }

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
	var hr *helpRequest
	if errors.As(err, &hr) {
		writeCommandHelp(out, hr.cmd)
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

// dispatch finds the command in the table (commands.go) and runs it.
func dispatch(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		writeUsage(stderr)
		return &exitError{code: 2}
	}
	switch args[0] {
	case "-h", "-help", "--help":
		writeUsage(stdout)
		return nil
	case "-v", "-version", "--version":
		// The version command, as most CLIs take these flags (docker's
		// "-v, --version  Print version information and quit").
		args = append([]string{"version"}, args[1:]...)
	case "__complete": // the completion scripts' callback (completion.go)
		return completeCmd(args[1:], stdout)
	}
	cmd, rest := findCommand(args)
	if cmd == nil {
		return unknownCommand(args[0])
	}
	return cmd.run(rest, stdout, stderr)
}
