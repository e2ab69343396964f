package scenarios

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/sim"
)

func TestBuiltinsLoad(t *testing.T) {
	list := List()
	if len(list) == 0 {
		t.Fatal("List() is empty")
	}
	for _, b := range list {
		t.Run(b.Name, func(t *testing.T) {
			name, data, err := Open(b.Name)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if name != b.Name+".toml" {
				t.Errorf("Open(%q) file name = %q, want %q", b.Name, name, b.Name+".toml")
			}
			spec, err := Load(name, data)
			if list, ok := err.(ErrorList); ok {
				t.Fatalf("Load:\n%s", list.Render(false))
			} else if err != nil {
				t.Fatal(err)
			}
			if spec.Name != b.Name {
				t.Errorf("[scenario] name = %q, want the file's name %q", spec.Name, b.Name)
			}
			if _, err := sim.New(spec, spec.Seed); err != nil {
				t.Errorf("sim.New: %v", err)
			}
		})
	}
}

func TestList(t *testing.T) {
	list := List()
	if !slices.IsSortedFunc(list, func(a, b Builtin) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("List() is not sorted: %v", list)
	}
	for _, b := range list {
		if b.Summary == "" || strings.ContainsAny(b.Summary, "\r\n") {
			t.Errorf("%s: summary %q, want one non-empty line", b.Name, b.Summary)
		}
	}
	names := make([]string, len(list))
	for i, b := range list {
		names[i] = b.Name
	}
	if !slices.Contains(names, Default()) {
		t.Errorf("Default() = %q is not among the built-ins %v", Default(), names)
	}
	list[0].Name = "changed"
	if List()[0].Name == "changed" {
		t.Error("List() returns its internal slice")
	}
}

func TestOpen(t *testing.T) {
	var names []string
	for _, b := range List() {
		names = append(names, b.Name)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "mine.toml")
	if err := os.WriteFile(file, []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		arg      string
		wantName string // "" when an error is expected
		wantErr  string // a substring of the error
	}{
		{arg: "mm1", wantName: "mm1.toml"},
		{arg: file, wantName: file},
		{arg: "mm2", wantErr: `mm2: no such file, and no built-in scenario of that name; did you mean the built-in "mm1"?`},
		{arg: "chekout.toml", wantErr: `chekout.toml: no such file; did you mean the built-in "checkout"?`},
		{arg: "shop.toml", wantErr: "shop.toml: no such file"},
		{arg: "nosuch", wantErr: `nosuch: no such file, and no built-in scenario of that name; built-in scenarios: ` + strings.Join(names, ", ") + " (see 'faultline list')"},
		{arg: filepath.Join(dir, "missing.toml"), wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.arg), func(t *testing.T) {
			name, data, err := Open(tt.arg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Open(%q) error = %v, want one containing %q", tt.arg, err, tt.wantErr)
				}
				return
			}
			if err != nil || name != tt.wantName || len(data) == 0 {
				t.Fatalf("Open(%q) = %q, %d bytes, %v; want %q", tt.arg, name, len(data), err, tt.wantName)
			}
		})
	}
}
