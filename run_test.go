package main

import (
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
)

// fakeTerminal makes run believe stderr is a terminal (or not), on a wall
// clock that moves step at every reading; it returns the readings' count.
func fakeTerminal(t *testing.T, terminal bool, step time.Duration) *int {
	t.Helper()
	clock, term := runClock, runTerminal
	t.Cleanup(func() { runClock, runTerminal = clock, term })
	now, readings := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 0
	runClock = func() time.Time { readings++; now = now.Add(step); return now }
	runTerminal = func(io.Writer) bool { return terminal }
	return &readings
}

var progressLine = regexp.MustCompile(`^run: [0-9.]+s of 30s virtual \([0-9]+%\)  [0-9.]+[kM]? events/s  ETA [0-9hms.]+$`)

// TestRunProgress: a run that takes more than progressAfter of wall time
// on a terminal shows its progress on stderr, redrawn in place and cleared
// before the summary; a short run, or one whose stderr is no terminal,
// shows nothing. stdout is byte for byte the same either way.
func TestRunProgress(t *testing.T) {
	args := []string{"run", "mm1", "--duration", "30s"}
	fakeTerminal(t, false, 0)
	_, plainOut, plainErr := faultline(args...)
	_, plainJSON, _ := faultline(append(args, "--json")...)
	for _, tc := range []struct {
		name     string
		terminal bool
		step     time.Duration // wall time per reading of the clock
		shown    bool
	}{
		{"long run on a terminal", true, 50 * time.Millisecond, true},
		{"short run on a terminal", true, 10 * time.Microsecond, false},
		{"long run, no terminal", false, 50 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			readings := fakeTerminal(t, tc.terminal, tc.step)
			code, out, errs := faultline(args...)
			wall := time.Duration(*readings) * tc.step
			if code != 0 || out != plainOut {
				t.Fatalf("exit %d; stdout differs from a run without progress", code)
			}
			if _, js, _ := faultline(append(args, "--json")...); js != plainJSON {
				t.Error("--json output differs from a run without progress")
			}
			progress, summary, _ := strings.Cut(errs, "simulated ")
			if !tc.shown {
				if progress != "" || !strings.HasPrefix(plainErr, "simulated ") {
					t.Errorf("stderr before the summary: %q", progress)
				}
				return
			}
			// Every draw starts by going back to the line's start and
			// erasing it; the last erases the line for good.
			draws := strings.Split(progress, "\r\x1b[K")
			if len(draws) < 3 || draws[0] != "" || draws[len(draws)-1] != "" {
				t.Fatalf("progress not drawn in place and cleared: %.300q", progress)
			}
			for _, d := range draws[1 : len(draws)-1] {
				if !progressLine.MatchString(d) {
					t.Fatalf("progress line %q", d)
				}
			}
			if max := int(wall / progressEvery); len(draws)-2 > max {
				t.Errorf("%d draws in %s of wall time, want at most one every %s", len(draws)-2, wall, progressEvery)
			}
			if strings.Contains(summary, "\r") {
				t.Errorf("progress after the summary: %q", summary)
			}
			t.Logf("%d draws, first %q, last %q", len(draws)-2, draws[1], draws[len(draws)-2])
		})
	}
}

// TestStoppedRunBuildsNoResult: a run the engine stops on its memory
// budget ends with its error and no result. drive used to build the
// Result all the same, from the fault occurrences that had outgrown the
// budget: 424 MiB of allocations for a budget of 64 MiB, about 13 GB of
// memory and minutes for the default 2 GiB (a crash every 2 ns).
func TestStoppedRunBuildsNoResult(t *testing.T) {
	src := `[scenario]
duration = "10s"
[[client]]
name = "u"
target = "api"
rate = 100
[[service]]
name = "api"
queue = 10
service_time = "1ms"
[[fault]]
kind = "crash"
target = "api"
start = "0s"
duration = "1ns"
every = "2ns"
`
	spec, err := scenarios.Load("flood.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	spec.Memory = 4 << 20
	s, err := sim.New(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	res := drive(context.Background(), s, nil)
	var be *sim.BudgetError
	if res != nil || !errors.As(s.Err(), &be) {
		t.Errorf("drive = %p, err %v; want no result and a BudgetError", res, s.Err())
	}
}
