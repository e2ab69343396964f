package main

import (
	"strings"
	"testing"
)

// TestRunFlood pins the text summary of a fault that fires every 2 ms
// (testdata/flood.toml, about 10,000 occurrences in 40 s): the event log
// folds the repeated starts and ends, and the cascade trace the runs of
// occurrences after which nothing turned unhealthy, so that what changed
// shows in a page; --json keeps every event and occurrence.
func TestRunFlood(t *testing.T) {
	code, out, errs := faultline("run", "testdata/flood.toml", "--duration", "40s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if n := strings.Count(out, "\n"); n > 80 {
		t.Errorf("%d lines of text for a flood of faults, want at most 80", n)
	}
	golden(t, "run_flood.golden", out)
}
