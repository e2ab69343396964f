package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"

	"github.com/faultline/faultline/internal/suggest"
)

// library holds the built-in scenarios, so that the binary runs them with
// no files around.
//
//go:embed *.toml
var library embed.FS

// Builtin is a scenario that ships with faultline.
type Builtin struct {
	Name    string // what to type: faultline run NAME
	Summary string // its [scenario] description
}

// List returns the built-in scenarios, sorted by name.
func List() []Builtin { return slices.Clone(builtins()) }

var builtins = sync.OnceValue(func() []Builtin {
	entries, _ := fs.Glob(library, "*.toml") // the pattern is valid
	var out []Builtin
	for _, e := range entries {
		data, _ := library.ReadFile(e) // embedded: cannot fail
		// Only the description is needed; a built-in that does not load is
		// caught by the tests, and listing it anyway lets a user see it.
		var doc struct {
			Scenario struct{ Description string }
		}
		_, _ = toml.Decode(string(data), &doc)
		out = append(out, Builtin{Name: strings.TrimSuffix(e, ".toml"), Summary: doc.Scenario.Description})
	}
	slices.SortFunc(out, func(a, b Builtin) int { return strings.Compare(a.Name, b.Name) })
	return out
})

// Default is the built-in scenario 'faultline run' uses when given none.
func Default() string { return "checkout" }

// Open resolves what a user typed: the name of a built-in scenario ("mm1")
// or the path of a file. It returns the name to show in messages and the
// contents. A built-in name wins over a file of the same name in the
// current directory, so that "faultline run mm1" means the same everywhere.
func Open(arg string) (filename string, data []byte, err error) {
	names := make([]string, 0, len(builtins()))
	for _, b := range builtins() {
		names = append(names, b.Name)
	}
	if slices.Contains(names, arg) {
		filename = arg + ".toml"
		data, err = library.ReadFile(filename)
		return filename, data, err
	}
	data, err = readFile(arg)
	if err == nil {
		return arg, data, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", nil, err
	}
	// Say what happened first: there is no such file. A path or a .toml
	// name was meant as a file; a bare word most likely as a built-in.
	msg := fmt.Sprintf("%s: no such file", arg)
	if !strings.ContainsAny(arg, `/\`) && !strings.HasSuffix(arg, ".toml") {
		msg = fmt.Sprintf("%s: no such file, and no built-in scenario of that name", arg)
	}
	if s := suggest.Closest(strings.TrimSuffix(filepath.Base(arg), ".toml"), names); s != "" {
		return "", nil, fmt.Errorf("%s; did you mean the built-in %q?", msg, s)
	}
	if strings.ContainsAny(arg, `/\`) || strings.HasSuffix(arg, ".toml") {
		return "", nil, errors.New(msg)
	}
	return "", nil, fmt.Errorf("%s; built-in scenarios: %s (see 'faultline list')", msg, strings.Join(names, ", "))
}
