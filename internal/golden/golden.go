// Package golden compares test output with files under testdata/, which
// the -update flag of each package's tests rewrites:
//
//	var update = flag.Bool("update", false, "rewrite the golden files under testdata/")
//
//	func TestReport(t *testing.T) {
//		golden.Check(t, "testdata/report.golden", got, *update)
//	}
package golden

import (
	"os"
	"testing"
)

// Check fails t when got differs from the file at path, showing got; with
// update it writes got to the file instead.
func Check(t testing.TB, path, got string, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it); got:\n%s", path, got)
	}
}
