package main

import (
	"io"
	"os"
	"strconv"

	"github.com/faultline/faultline/tui"
)

// tuiCmd opens the interactive terminal UI on a scenario. Flags and exit
// codes are those of run: 2 for bad usage or a bad scenario, whose errors
// are printed before the screen would open.
func tuiCmd(args []string, stderr io.Writer) error {
	fs := newFlagSet("tui", stderr)
	seed := fs.String("seed", "", "override the scenario's seed")
	speed := fs.String("speed", "1", "virtual seconds per wall second: 1, 10, 100 or max")
	paused := fs.Bool("paused", false, "start paused")
	memory := memoryFlag(fs, "the simulation")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return &exitError{code: 2}
	}
	var sp float64
	if *speed != "max" {
		sp, err = strconv.ParseFloat(*speed, 64)
		if err != nil || !(sp > 0) {
			return usageErr("--speed %q: want a positive number such as 10, or max", *speed)
		}
	}
	spec, err := loadOne("tui", pos, stderr)
	if err != nil {
		return err
	}
	if spec.Memory, err = parseMemory(*memory); err != nil {
		return err
	}
	if err := overrideSeed(spec, *seed); err != nil {
		return err
	}
	_, noColor := os.LookupEnv("NO_COLOR")
	err = tui.Run(tui.Options{Name: spec.Name, Spec: spec, Seed: spec.Seed, Speed: sp, Paused: *paused, NoColor: noColor})
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	return nil
}
