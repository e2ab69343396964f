package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompareCmd: compare runs an imported scenario at its traces' load
// and prints the table or the JSON; too few arguments are exit code 2.
func TestCompareCmd(t *testing.T) {
	traces := "importer/testdata/hotel-reservation-30traces.jaeger.json.gz"
	out := filepath.Join(t.TempDir(), "hotel.toml")
	if code, _, stderr := faultline("import", traces, "-o", out); code != 0 {
		t.Fatalf("import: code %d, %s", code, stderr)
	}
	code, stdout, stderr := faultline("compare", out, traces, "--min-spans", "20")
	if code != 0 || !strings.Contains(stdout, "frontend.http-get-hotels") || !strings.Contains(stdout, "6 operations compared; MAPE of p50") {
		t.Fatalf("compare: code %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = faultline("compare", out, traces, "--json", "--min-spans", "20")
	if code != 0 || !strings.Contains(stdout, `"p50_mape":`) || !strings.Contains(stdout, `"rate_per_s":`) {
		t.Fatalf("compare --json: code %d\n%s", code, stdout)
	}
	// With the default --min-spans (50) no operation of 30 traces is
	// compared: an error, not "MAPE of p50 0 %" and exit code 0.
	if code, stdout, stderr := faultline("compare", out, traces); code != 1 || stdout != "" ||
		!strings.Contains(stderr, "no operation of the traces has --min-spans 50 spans (the most, ") {
		t.Errorf("compare of nothing: code %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, stderr := faultline("compare", out); code != 2 || !strings.Contains(stderr, "compare needs a scenario and at least one trace file") {
		t.Errorf("compare without traces: code %d, %s", code, stderr)
	}
}

// TestCompareWindows: --windows 5 runs five times the traces' window and
// gives the counts per window (about the observed 30, as one window's
// are), the run's length in the heading; --windows 0 is a usage error.
func TestCompareWindows(t *testing.T) {
	traces := "importer/testdata/hotel-reservation-30traces.jaeger.json.gz"
	out := filepath.Join(t.TempDir(), "hotel.toml")
	if code, _, stderr := faultline("import", traces, "-o", out); code != 0 {
		t.Fatalf("import: code %d, %s", code, stderr)
	}
	code, stdout, stderr := faultline("compare", out, traces, "--min-spans", "20", "--windows", "5", "--json")
	if code != 0 {
		t.Fatalf("compare --windows 5: code %d\n%s", code, stderr)
	}
	var rep struct {
		Operations []struct {
			Service   string
			Simulated struct{ Count float64 }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || len(rep.Operations) == 0 {
		t.Fatalf("%v\n%s", err, stdout)
	}
	for _, op := range rep.Operations {
		if op.Simulated.Count < 20 || op.Simulated.Count > 40 {
			t.Errorf("%s: %g simulated spans per window; want about 30", op.Service, op.Simulated.Count)
		}
	}
	if code, stdout, _ := faultline("compare", out, traces, "--min-spans", "20", "--windows", "5"); code != 0 || !strings.Contains(stdout, "run 5 times as long, counts per window") {
		t.Errorf("compare --windows 5: code %d\n%s", code, stdout)
	}
	if code, _, stderr := faultline("compare", out, traces, "--windows", "0"); code != 2 || !strings.Contains(stderr, "--windows 0: want auto or a whole number, at least 1") {
		t.Errorf("compare --windows 0: code %d, %s", code, stderr)
	}
	// A run longer than a scenario may last (24h) is refused, as the
	// loader refuses the duration: 100,000 windows of 4.2 s ran for
	// minutes, and 1e10 overflowed the run's length.
	for _, n := range []string{"100000", "10000000000"} {
		if code, _, stderr := faultline("compare", out, traces, "--windows", n); code != 2 || !strings.Contains(stderr, "past the 24h0m0s a run may last; at most 20742") {
			t.Errorf("compare --windows %s: code %d, %s", n, code, stderr)
		}
	}
}
