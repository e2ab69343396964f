package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOpenLimits checks that Open reads only regular files of at most
// MaxFileSize: /dev/zero used to be read until memory ran out, and a named
// pipe nobody writes to blocked for ever.
func TestOpenLimits(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, MaxFileSize+1); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.toml")
	if runtime.GOOS != "windows" {
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ok := filepath.Join(dir, "ok.toml")
	if err := os.WriteFile(ok, []byte(minScenario+minClient+minService), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"/dev/zero", "/dev/zero", "is a device, not a regular file"},
		{"a named pipe", fifo, "is a named pipe, not a regular file"},
		{"a directory", dir, "is a directory, not a regular file"},
		{"a file over 16 MiB", big, "is 16.0 MiB, larger than a scenario may be (16 MiB)"},
		{"a scenario", ok, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(tc.path); errors.Is(err, os.ErrNotExist) {
				t.Skip("no", tc.path)
			}
			type result struct {
				data []byte
				err  error
			}
			done := make(chan result, 1)
			go func() {
				_, data, err := Open(tc.path)
				done <- result{data, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Open did not return")
			}
			switch {
			case tc.want == "" && r.err != nil:
				t.Fatalf("Open: %v", r.err)
			case tc.want != "" && (r.err == nil || !strings.Contains(r.err.Error(), tc.want)):
				t.Fatalf("Open: %v (read %d bytes), want an error with %q", r.err, len(r.data), tc.want)
			}
		})
	}
}

// TestNestingDepth checks that a scenario nested deeper than MaxDepth is
// an error at the place it gets too deep, before the TOML decoder, which
// nests a map per level (a dotted key of 20,000 parts ran out of memory),
// and that brackets and dots in strings, comments and numbers do not count.
func TestNestingDepth(t *testing.T) {
	deep := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	for _, tc := range []struct {
		name, src string
		at        int // the offset reported, or -1 when within bounds
	}{
		{"arrays 20,000 deep", "a = " + deep("[", "]", 20000), 4 + MaxDepth},
		{"inline tables 13,000 deep", "a = " + deep("{b=", "}", 13000), 4 + 3*MaxDepth},
		{"a dotted key of 20,000 parts", "a" + strings.Repeat(".a", 20000) + " = 1", 2*MaxDepth + 1},
		{"a table header of 20,000 parts", "[a" + strings.Repeat(".a", 20000) + "]", 2 * MaxDepth},
		{"arrays 32 deep", "a = " + deep("[", "]", MaxDepth), -1},
		{"brackets in strings and comments", `a = "[[[[{{{{` + strings.Repeat("[", 100) + `" # ` + strings.Repeat("{", 100) + "\nb = '" + strings.Repeat("[", 100) + "'\nc = \"\"\"\n" + strings.Repeat("[", 100) + "\n\"\"\"\n", -1},
		{"floats and dotted strings", "a = 1.5\nb = \"1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27.28.29.30.31.32.33.34\"\n" + "c = [" + strings.Repeat("1.5, ", 100) + "]\n", -1},
		{"tables and arrays of tables", "[[service]]\nname = \"a\"\n[[service.call]]\nto = \"b\"\n[service.call.retry]\nmax_attempts = 3\n", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkDepth(tc.src); got != tc.at {
				t.Errorf("checkDepth = %d, want %d", got, tc.at)
			}
			if tc.at < 0 {
				return
			}
			_, err := Load("deep.toml", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), "nested more than 32 levels deep") {
				t.Errorf("Load: %v", err)
			}
		})
	}
}
