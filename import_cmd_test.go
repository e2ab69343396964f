package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportCmd: import writes a scenario that validate and run accept; a
// file that cannot be read is exit code 2 with the file named.
func TestImportCmd(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "hotel.toml")
	code, _, stderr := faultline("import", "importer/testdata/hotel-reservation-30traces.jaeger.json.gz", "-o", out)
	if code != 0 || !strings.Contains(stderr, "imported 30 traces, 330 spans: 6 services, 1 entry operations") {
		t.Fatalf("import: code %d, %s", code, stderr)
	}
	if code, stdout, stderr := faultline("validate", out); code != 0 {
		t.Fatalf("validate: code %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := faultline("run", out, "--duration", "20s"); code != 0 || !strings.Contains(stdout, "load-frontend-http-get-hotels") {
		t.Fatalf("run: code %d\n%s%s", code, stdout, stderr)
	}

	bad := filepath.Join(dir, "broken.json")
	os.WriteFile(bad, []byte(`{"data": [{"traceID": "1", "spans": [}]}`), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"import", bad}, bad + ": in the value starting at byte 10: invalid character"},
		{[]string{"import", filepath.Join(dir, "missing.json")}, "missing.json: open"},
		{[]string{"import"}, "import needs at least one trace file"},
		{[]string{"import", bad, "--format", "xml"}, `unknown format "xml"`},
		{[]string{"import", bad, "--sampled", "30"}, `--sampled "30": want a share in (0, 1]`},
		{[]string{"import", bad, "--columns", "trace"}, `want field=Header`},
	} {
		code, _, stderr := faultline(tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: code %d, %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}
