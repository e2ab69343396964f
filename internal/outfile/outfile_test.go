package outfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestWrite checks what each kind of path becomes: a regular file is
// replaced whole with the mode of a new file or its own; a link still
// links, to the new data; a FIFO and a device stay what they are and get
// the data written through them.
func TestWrite(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0o027))
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) (path string) // makes what is at path
		check func(t *testing.T, dir, path string)
	}{
		{"a new file: 0644 less the umask", func(t *testing.T, dir string) string {
			return filepath.Join(dir, "new.csv")
		}, func(t *testing.T, dir, path string) {
			wantFile(t, path, "data", 0o640)
		}},
		{"a regular file keeps its mode", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "old.csv")
			must(t, os.WriteFile(path, []byte("old data, longer"), 0o600))
			must(t, os.Chmod(path, 0o604))
			return path
		}, func(t *testing.T, dir, path string) {
			wantFile(t, path, "data", 0o604)
		}},
		{"a link to a regular file still links", func(t *testing.T, dir string) string {
			must(t, os.WriteFile(filepath.Join(dir, "real.csv"), []byte("old"), 0o644))
			must(t, os.Chmod(filepath.Join(dir, "real.csv"), 0o644)) // whatever the umask
			path := filepath.Join(dir, "link.csv")
			must(t, os.Symlink("real.csv", path))
			return path
		}, func(t *testing.T, dir, path string) {
			wantLink(t, path, "real.csv")
			wantFile(t, filepath.Join(dir, "real.csv"), "data", 0o644)
		}},
		{"a dangling link: its target is made", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "link.csv")
			must(t, os.Symlink("made.csv", path))
			return path
		}, func(t *testing.T, dir, path string) {
			wantLink(t, path, "made.csv")
			wantFile(t, filepath.Join(dir, "made.csv"), "data", 0o640)
		}},
		{"a link to a device is written through", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "null.csv")
			must(t, os.Symlink(os.DevNull, path))
			return path
		}, func(t *testing.T, dir, path string) {
			wantLink(t, path, os.DevNull)
			if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
				t.Errorf("%s is no longer a device: %v %v", os.DevNull, fi.Mode(), err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.setup(t, dir)
			if err := WriteFile(path, []byte("data")); err != nil {
				t.Fatal(err)
			}
			tt.check(t, dir, path)
			noTemp(t, dir)
		})
	}
}

// TestWriteFIFO: a FIFO at the path is written through to its reader and
// stays a FIFO (a rename put a regular file in its place, and the reader
// got nothing).
func TestWriteFIFO(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	got := make(chan string)
	go func() {
		f, err := os.Open(path)
		if err != nil {
			got <- err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	if err := WriteFile(path, []byte("data")); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "data" {
		t.Errorf("the reader got %q, want %q", s, "data")
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("%s is no longer a FIFO: %v", path, fi.Mode())
	}
	noTemp(t, dir)
}

// TestWriteErrors: a failed write leaves the old file whole and no
// temporary file, and its error names the path given, not the temporary
// file.
func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.csv")
	must(t, os.WriteFile(old, []byte("old"), 0o644))
	parentFile := filepath.Join(dir, "file")
	must(t, os.WriteFile(parentFile, nil, 0o644))
	failing := errors.New("disk full")
	tests := []struct {
		name  string
		path  string
		write func(io.Writer) error
		want  string
	}{
		{"the writer fails", old, func(w io.Writer) error { w.Write([]byte("half")); return failing }, "disk full"},
		{"no such directory", filepath.Join(dir, "none", "x.csv"), nil, filepath.Join(dir, "none", "x.csv") + ": no such file"},
		{"a directory", dir, nil, dir + ": is a directory"},
		{"under a file", filepath.Join(parentFile, "x.csv"), nil, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write := tt.write
			if write == nil {
				write = func(w io.Writer) error { _, err := w.Write([]byte("data")); return err }
			}
			err := Write(tt.path, write)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), ".tmp-") {
				t.Errorf("error %v, want one with %q that does not name the temporary file", err, tt.want)
			}
			wantFile(t, old, "old", 0o644)
			noTemp(t, dir)
		})
	}
}

// TestCheckDir: a directory is made, a file cannot be made under a file,
// and the probe leaves nothing behind.
func TestCheckDir(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "a", "b")
	if err := CheckDir(out); err != nil {
		t.Fatal(err)
	}
	if ents, err := os.ReadDir(out); err != nil || len(ents) != 0 {
		t.Errorf("%s: %v %v, want an empty directory", out, ents, err)
	}
	file := filepath.Join(dir, "file")
	must(t, os.WriteFile(file, nil, 0o644))
	if err := CheckDir(filepath.Join(file, "out")); err == nil {
		t.Error("a directory under a file: no error")
	}
	if err := Check(filepath.Join(dir, "none", "x.csv")); err == nil {
		t.Error("Check of a file in a missing directory: no error")
	}
	if err := Check(filepath.Join(out, "x.csv")); err != nil {
		t.Error(err)
	}
	noTemp(t, out)
}

// TestSameFile: a path to the regular file f writes to is the same file;
// a device is not, as writing through it loses nothing.
func TestSameFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	f, err := os.Create(path)
	must(t, err)
	defer f.Close()
	link := filepath.Join(dir, "link")
	must(t, os.Symlink(path, link))
	fi, err := f.Stat()
	must(t, err)
	if !SameFile(path, fi) || !SameFile(link, fi) {
		t.Error("the file and a link to it are not the same file as itself")
	}
	if SameFile(filepath.Join(dir, "other"), fi) {
		t.Error("a missing file is the same file")
	}
	null, err := os.Stat(os.DevNull)
	must(t, err)
	if SameFile(os.DevNull, null) {
		t.Error("a device is the same file: writing through it loses nothing")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantFile(t *testing.T, path, data string, perm fs.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != perm {
		t.Errorf("%s: mode %v, want a regular file with %v", path, fi.Mode(), perm)
	}
	if b, _ := os.ReadFile(path); string(b) != data {
		t.Errorf("%s holds %q, want %q", path, b, data)
	}
}

func wantLink(t *testing.T, path, to string) {
	t.Helper()
	if dest, err := os.Readlink(path); err != nil || dest != to {
		t.Errorf("%s: link to %q (%v), want a link to %q", path, dest, err, to)
	}
}

// noTemp checks that no temporary file is left in dir.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}
