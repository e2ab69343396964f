package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline/faultline/sim"
)

// FuzzLoad checks that Load never panics and that what it returns is
// usable: a Spec the engine accepts, or errors that point inside the file.
// Crashers found by go test -fuzz are kept under testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	for _, b := range List() {
		data, err := library.ReadFile(b.Name + ".toml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	files, err := filepath.Glob("testdata/*/*.toml")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(indexSource))
	f.Add([]byte(subTableSource))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := Load("fuzz.toml", data)
		if err == nil {
			if spec == nil {
				t.Fatal("Load returned neither a spec nor an error")
			}
			// Everything the loader accepts, the engine must accept too;
			// until the engine runs the data components, only what it runs.
			if _, err := sim.New(spec, spec.Seed); err != nil {
				t.Fatalf("sim.New rejects a loaded spec: %v", err)
			}
			return
		}
		list, ok := err.(ErrorList)
		if !ok || len(list) == 0 || spec != nil {
			t.Fatalf("Load = %v, %#v; want no spec and a non-empty ErrorList", spec, err)
		}
		lines := strings.Split(string(data), "\n")
		for i, e := range list {
			if e.Line < 1 || e.Line > len(lines) || e.Col < 1 {
				t.Fatalf("error %q at %d:%d, outside the file of %d lines", e.Msg, e.Line, e.Col, len(lines))
			}
			if want := strings.TrimSuffix(lines[e.Line-1], "\r"); e.Source != want {
				t.Fatalf("error %q on line %d has source %q, want %q", e.Msg, e.Line, e.Source, want)
			}
			if e.Col > len(e.Source)+1 {
				t.Fatalf("error %q at column %d, past the end of %q", e.Msg, e.Col, e.Source)
			}
			if i > 0 && (e.Line < list[i-1].Line || e.Line == list[i-1].Line && e.Col < list[i-1].Col) {
				t.Fatalf("errors out of order: %v before %v", list[i-1], e)
			}
		}
		list.Render(false)
		list.Render(true)
	})
}
