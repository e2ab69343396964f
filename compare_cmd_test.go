package main

import (
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
	if code, _, stderr := faultline("compare", out); code != 2 || !strings.Contains(stderr, "compare needs a scenario and at least one trace file") {
		t.Errorf("compare without traces: code %d, %s", code, stderr)
	}
}
