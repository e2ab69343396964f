package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
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
	if !errors.Is(err, fs.ErrNotExist) || strings.ContainsAny(arg, `/\`) {
		return "", nil, err
	}
	// A bare word that is not a file was most likely meant as a built-in.
	msg := fmt.Sprintf("%q is neither a built-in scenario nor a file", arg)
	if s := suggest(strings.TrimSuffix(arg, ".toml"), names); s != "" {
		return "", nil, fmt.Errorf("%s; did you mean %q?", msg, s)
	}
	return "", nil, fmt.Errorf("%s; built-in scenarios: %s (see 'faultline list')", msg, strings.Join(names, ", "))
}
