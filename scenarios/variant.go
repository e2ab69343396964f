package scenarios

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/faultline/faultline/internal/suggest"
	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/metric"
)

var (
	variantKeys = []string{"name", "description", "set", "unset", "fault"}
)

// Scenario is a loaded scenario with what the engine does not need: the
// variants it declares and its service level objectives, which 'run' and
// 'bench' check.
type Scenario struct {
	Spec     *sim.Spec
	Variants []Variant // as declared; none means the base scenario only
	SLOs     []metric.SLO
	// Variant is the variant the Spec was built with, "" for the base.
	Variant string
}

// Variant is a named set of changes to the base scenario, declared by a
// [[variant]] table. Unset paths are removed first, then Set applied, then
// its [[variant.fault]] tables added after the file's faults.
type Variant struct {
	Name        string
	Description string
	Changes     []Override // unset ones first, then set ones, each group sorted by path; then the added faults in order
}

// Options change a scenario as it is loaded.
type Options struct {
	// Variant names a [[variant]] of the file to apply first; "" loads the
	// base scenario.
	Variant string
	// Overrides are applied after the variant, in order: --set, --unset,
	// a sweep's values.
	Overrides []Override
}

// LoadScenario parses and validates a scenario like Load, with its
// variants and SLOs, and builds the Spec of the base scenario changed by
// opts. An override that does not apply is an error located on it.
func LoadScenario(filename string, data []byte, opts Options) (*Scenario, error) {
	b, err := load(filename, data, opts)
	if err != nil {
		return nil, err
	}
	return &Scenario{Spec: b.spec, Variants: b.bench.variants, SLOs: b.bench.slos, Variant: opts.Variant}, nil
}

// benchDefs is what the builder reads for bench and run besides the Spec.
type benchDefs struct {
	original map[string]any // the tree before any override, to check variants on
	variants []Variant
	slos     []metric.SLO
	over     *overrider
	data     []byte // the file, to build a variant that adds faults in full
	variant  string // the variant being loaded, "" for the base
}

// load is Load with options: it applies the chosen variant and the
// overrides to the decoded tree, then builds the Spec from it.
func load(filename string, data []byte, opts Options) (*builder, error) {
	l := &loader{file: filename, ix: newIndex(string(data))}
	switch {
	case len(data) > MaxFileSize:
		l.errorAt(0, fmt.Sprintf("the scenario is %s, larger than a scenario may be (%d MiB)", sizeMiB(int64(len(data))), MaxFileSize>>20), "split it, or generate fewer components")
		return nil, l.errs
	case checkDepth(l.ix.src) >= 0:
		l.errorAt(checkDepth(l.ix.src), fmt.Sprintf("nested more than %d levels deep (arrays, inline tables and the parts of dotted keys)", MaxDepth),
			"a scenario needs a few levels: use [[tables]] instead of deep inline values")
		return nil, l.errs
	}
	var root map[string]any
	if _, err := toml.Decode(l.ix.src, &root); err != nil {
		// The tree is unusable after a syntax error, so this is the only
		// error of the file.
		var pe toml.ParseError
		if errors.As(err, &pe) {
			off := syntaxOffset(l.ix.src, pe)
			l.errorAt(off, "syntax error: "+pe.Message, syntaxHint(l.ix, pe.Message, off))
		} else {
			l.errorAt(0, err.Error(), "")
		}
		return nil, l.errs
	}
	l.ix.scan()
	b := newBuilder(l, filename)
	ov := &overrider{l: l, fileLines: len(l.ix.lines)}
	b.bench.over = ov
	b.bench.original = deepCopy(root).(map[string]any)
	b.bench.data, b.bench.variant = data, opts.Variant
	if opts.Variant != "" {
		v, err := findVariant(b, root, opts.Variant)
		if err != nil {
			return nil, err
		}
		for _, o := range v {
			ov.apply(root, o, true)
		}
	}
	for _, o := range opts.Overrides {
		ov.apply(root, o, true)
		b.cut = b.cut || o.flag != "" && o.Path == "scenario.duration"
	}
	b.build(&table{l: l, what: "the top level", m: root})
	l.dropConsequential()
	if len(l.errs) > 0 {
		ov.fixErrors()
		slices.SortStableFunc(l.errs, func(a, b *Error) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
		})
		// A variant's path is tried twice when that variant is loaded: once
		// to apply it, once to check every variant; and a variant built in
		// full finds the file's own errors again: say each once.
		seen := map[Error]bool{}
		l.errs = slices.DeleteFunc(l.errs, func(e *Error) bool {
			dup := seen[*e]
			seen[*e] = true
			return dup
		})
		return nil, l.errs
	}
	return b, nil
}

// BaseVariant names the scenario as written when it declares no
// [[variant]]: bench labels its runs so, and "run --variant base" repeats
// one of them.
const BaseVariant = "base"

// findVariant returns the changes of the named variant, read from the
// untouched tree; a variant that is not declared is an error naming those
// that are.
func findVariant(b *builder, root map[string]any, name string) ([]Override, error) {
	var names []string
	for i, m := range asTables(root["variant"]) {
		n, _ := m["name"].(string)
		names = append(names, n)
		if n == name {
			t := &table{l: b.loader, path: elem("variant", i), what: fmt.Sprintf("[[variant]] %q", n), m: m}
			return variantChanges(t), nil
		}
	}
	if len(names) == 0 {
		if name == BaseVariant {
			return nil, nil // the scenario as written, as bench names it
		}
		return nil, fmt.Errorf("%s declares no [[variant]], so it has no variant %q", b.file, name)
	}
	msg := fmt.Sprintf("%s has no variant %q; its variants: %s", b.file, name, strings.Join(names, ", "))
	if s := suggest.Closest(name, names); s != "" {
		msg = fmt.Sprintf("%s has no variant %q; did you mean %q?", b.file, name, s)
	}
	return nil, errors.New(msg)
}

// variantChanges reads the unset and set keys of a [[variant]] into
// overrides located in the file. Type errors are reported by variants().
func variantChanges(t *table) []Override {
	var out []Override
	if list, ok := t.m["unset"].([]any); ok {
		for i, e := range list {
			p, ok := e.(string)
			if !ok {
				continue
			}
			sp := t.l.ix.find(elem(join(t.path, "unset"), i))
			out = append(out, Override{Path: p, Unset: true, Text: p, keyOff: sp.val, valOff: sp.val, quoted: true})
		}
	}
	if set, ok := t.m["set"].(map[string]any); ok {
		var sets []Override
		flatten(t.l.ix, join(t.path, "set"), "", set, &sets)
		slices.SortStableFunc(sets, func(a, b Override) int { return strings.Compare(a.Path, b.Path) })
		out = append(out, sets...)
	}
	name, _ := t.m["name"].(string)
	for j, m := range variantFaults(t) {
		from := elem(join(t.path, "fault"), j)
		sp := t.l.ix.find(from)
		out = append(out, Override{Path: "fault", Value: m, Add: true, Text: "add fault " + ValueString(m),
			keyOff: sp.key, valOff: sp.val, from: from, label: fmt.Sprintf("[[variant.fault]] #%d of %q", j+1, name)})
	}
	return out
}

// variantFaults returns the [[variant.fault]] tables of a variant; those
// that are not tables are reported by variants().
func variantFaults(t *table) []map[string]any {
	switch v := t.m["fault"].(type) {
	case []map[string]any:
		return v
	case []any:
		var out []map[string]any
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// flatten turns the set table of a variant, whose keys are paths written
// as one quoted key ("client.shoppers.rate" = 200) or as nested tables,
// into one override per value.
func flatten(ix *index, ixPath, prefix string, m map[string]any, out *[]Override) {
	for _, k := range sortedKeys(m) {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		kp := join(ixPath, k)
		if sub, ok := m[k].(map[string]any); ok && len(sub) > 0 {
			flatten(ix, kp, p, sub, out)
			continue
		}
		sp := ix.find(kp)
		quoted := prefix == "" && sp.key < len(ix.src) && ix.src[sp.key] == '"' && strings.Contains(k, ".")
		*out = append(*out, Override{Path: p, Value: m[k], Text: p + " = " + ValueString(m[k]), keyOff: sp.key, valOff: sp.val, quoted: quoted})
	}
}

// variants checks the [[variant]] tables: their keys, unique names, and
// that every path applies to the base scenario.
func (b *builder) variants(root *table) {
	seen := map[string]bool{}
	clean := len(b.loader.errs) == 0 // the file as written builds
	for i, t := range root.tables("variant", "[[variant]]") {
		t.what = fmt.Sprintf("[[variant]] #%d", i+1)
		v := Variant{}
		if t.require("name", `name = "breaker"`) {
			if n, ok := t.name("name"); ok {
				v.Name = n
				t.what = fmt.Sprintf("[[variant]] %q", n)
				if seen[n] {
					t.valErr("name", fmt.Sprintf("duplicate variant name %q", n), "each variant needs a name of its own")
				}
				seen[n] = true
			}
		}
		t.known(variantKeys...)
		if s, ok := t.str("description"); ok {
			v.Description = s
		}
		if t.has("set") {
			if _, ok := t.m["set"].(map[string]any); !ok {
				t.typeErr("set", t.m["set"], "a table", `set = { "client.shoppers.rate" = 400 }`)
			}
		}
		if t.has("unset") {
			list, ok := t.m["unset"].([]any)
			if !ok {
				t.typeErr("unset", t.m["unset"], "an array of paths", `unset = ["service.checkout.call.payment.circuit_breaker"]`)
			}
			for j, e := range list {
				if _, ok := e.(string); !ok {
					t.elemErr("unset", j, fmt.Sprintf("each path to unset must be a string, not %s", typeName(e)), "")
				}
			}
		}
		faults := t.tables("fault", "[[variant.fault]]")
		v.Changes = variantChanges(t)
		// The paths must apply to the base; their values are checked when
		// the variant is loaded, like values written in the file.
		trial := deepCopy(b.bench.original).(map[string]any)
		for _, o := range v.Changes {
			b.bench.over.apply(trial, o, false)
		}
		b.bench.variants = append(b.bench.variants, v)
		// Whether a fault fits depends on the whole variant (a target the
		// variant gives more instances), so a variant that adds faults is
		// built in full when the file as written is loaded: its faults are
		// checked before any run of it, by the same code as the file's.
		if len(faults) > 0 && b.bench.variant == "" && v.Name != "" && clean {
			b.checkVariant(v.Name)
		}
	}
}

// checkVariant loads the file with the named variant and reports its
// errors as the file's.
func (b *builder) checkVariant(name string) {
	_, err := load(b.file, b.bench.data, Options{Variant: name})
	var list ErrorList
	if errors.As(err, &list) {
		b.loader.errs = append(b.loader.errs, list...)
	}
}
