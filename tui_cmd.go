package main

import (
	"errors"
	"flag"
	"io"
	"os"

	"github.com/faultline/faultline/tui"
)

// tuiTerminal reports whether stdin and stdout are terminals, which the
// TUI draws on and reads keys from.
var tuiTerminal = func() bool { return isTerminal(os.Stdin) && isTerminal(os.Stdout) }

// tuiFlags are the flags of tui.
type tuiFlags struct {
	seed   seedFlag
	speed  *string
	memory *string
	paused *bool
}

func (f *tuiFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.seed, "seed", "override the scenario's seed, a non-negative `integer`")
	f.speed = fs.String("speed", "1", "virtual seconds per wall second, `SPEED`: "+tui.SpeedHelp)
	f.paused = fs.Bool("paused", false, "start paused")
	f.memory = memoryFlag(fs, "the simulation")
}

// tuiCmd opens the interactive terminal UI on a scenario. Flags and exit
// codes are those of run: 2 for bad usage or a bad scenario, whose errors
// are printed before the screen would open, and 130 when a signal (SIGINT,
// SIGTERM, SIGHUP) ends it.
func tuiCmd(args []string, stderr io.Writer) error {
	fs := newFlagSet("tui")
	var f tuiFlags
	f.register(fs)
	pos, err := parseInto(fs, args)
	if err != nil {
		return err
	}
	speed, paused := f.speed, f.paused
	// One reading of a speed for --speed and :speed (tui.ParseSpeed).
	sp, err := tui.ParseSpeed(*speed)
	if err != nil {
		return usageErr("--speed %v", err)
	}
	spec, err := loadOne("tui", pos, stderr)
	if err != nil {
		return err
	}
	f.seed.override(spec)
	if spec.Memory, err = parseMemory(*f.memory); err != nil {
		return err
	}
	if !tuiTerminal() {
		return &exitError{code: 2, msg: "tui needs a terminal: stdin or stdout is not one (for a report in a file or pipe, use 'faultline run')"}
	}
	err = tui.Run(tui.Options{Name: spec.Name, Spec: spec, Seed: spec.Seed, Speed: sp, Paused: *paused, NoColor: !colorEnv()})
	switch {
	case errors.Is(err, tui.ErrInterrupted):
		// The terminal is restored; exit as run and bench do on a signal.
		return &exitError{code: exitInterrupted, msg: err.Error()}
	case err != nil:
		return &exitError{code: 1, msg: err.Error()}
	}
	return nil
}
