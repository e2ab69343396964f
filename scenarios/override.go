package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/faultline/faultline/internal/suggest"
)

// Override is one change to a scenario, made to its decoded TOML tree
// before the Spec is built, so that an overridden value is checked like one
// written in the file. Path addresses a key by names: tables by key, an
// element of an array of tables by its name (calls by "to", routes by
// "path", faults by "name", or by "kind" when unique among the unnamed
// ones), or by its 1-based number:
//
//	service.payment.call.fraud.retry.max_attempts
//	client.shoppers.rate
//	fault.currency-delay.add
//	fault.1.add
//
// Keys that are missing along the path are created, so that a variant can
// add a table the base does not have (circuit_breaker = {}); the loader
// then checks them as if they had been written.
type Override struct {
	Path  string
	Value any  // a decoded TOML value; nil when Unset
	Unset bool // remove the key (or array element) instead
	// Add appends Value, a table, to the array of tables at Path instead:
	// a fault a [[variant]] adds.
	Add bool
	// Text is the override as written ("client.shoppers.rate=200"), for
	// reports.
	Text string

	// Where the override was written, for errors: a command-line flag
	// (flag, its argument, and offsets in it), or a key of a [[variant]]
	// in the file (file offsets).
	flag           string
	keyOff, valOff int
	quoted         bool   // the path is one quoted key in the file: segments are inside it
	from           string // for Add, the table's path in the index, whose positions the added element takes
	label          string // for Add, how messages name the table: [[variant.fault]] #1 of "x"
}

// ParseOverride parses a command-line "path=value" given to flag (such as
// "--set"). The value is a TOML value; a word that is not one (200ms,
// round_robin) is taken as a string, so that quotes are rarely needed.
func ParseOverride(flag, arg string) (Override, error) {
	path, val, ok := strings.Cut(arg, "=")
	if !ok {
		return Override{}, fmt.Errorf("%s %q: want path=value, such as client.shoppers.rate=200", flag, arg)
	}
	if err := checkPath(flag, strings.TrimSpace(path)); err != nil {
		return Override{}, err
	}
	ws := len(path) - len(strings.TrimLeft(path, " "))
	return Override{
		Path: strings.TrimSpace(path), Value: parseValue(val), Text: arg,
		flag: flag, keyOff: ws, valOff: len(path) + 1 + len(val) - len(strings.TrimLeft(val, " ")),
	}, nil
}

// ParseUnset parses a command-line path to remove, given to flag.
func ParseUnset(flag, arg string) (Override, error) {
	if err := checkPath(flag, strings.TrimSpace(arg)); err != nil {
		return Override{}, err
	}
	return Override{Path: strings.TrimSpace(arg), Unset: true, Text: arg, flag: flag,
		keyOff: len(arg) - len(strings.TrimLeft(arg, " "))}, nil
}

// ParseSweep parses "path=v1,v2,..." given to flag into one override per
// value. Commas inside quotes, brackets or braces do not split.
func ParseSweep(flag, arg string) ([]Override, error) {
	path, vals, ok := strings.Cut(arg, "=")
	if !ok || strings.TrimSpace(vals) == "" {
		return nil, fmt.Errorf("%s %q: want path=v1,v2,..., such as client.shoppers.rate=200,400,800", flag, arg)
	}
	if err := checkPath(flag, strings.TrimSpace(path)); err != nil {
		return nil, err
	}
	var out []Override
	off := len(path) + 1
	for _, v := range splitTop(vals) {
		text := strings.TrimSpace(path) + "=" + strings.TrimSpace(v)
		if strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("%s %q: empty value", flag, arg)
		}
		out = append(out, Override{Path: strings.TrimSpace(path), Value: parseValue(v), Text: text, flag: flag,
			keyOff: len(path) - len(strings.TrimLeft(path, " ")), valOff: off + len(v) - len(strings.TrimLeft(v, " "))})
		off += len(v) + 1
	}
	// The argument, not one value, is what an error shows.
	for i := range out {
		out[i].Text = arg
	}
	return out, nil
}

// String is the override as a person would write it on the command line.
func (o Override) String() string {
	switch {
	case o.Unset:
		return "unset " + o.Path
	case o.Add:
		return "add " + o.Path + " " + ValueString(o.Value)
	}
	return o.Path + "=" + ValueString(o.Value)
}

// ValueString writes a decoded TOML value compactly: strings bare when
// they read back as the same string, so that "200ms" shows as 200ms.
func ValueString(v any) string {
	switch v := v.(type) {
	case string:
		if s, ok := parseValue(v).(string); ok && s == v && v != "" && !strings.ContainsAny(v, ",= \"") {
			return v
		}
		return strconv.Quote(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = ValueString(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		var parts []string
		for _, k := range sortedKeys(v) {
			parts = append(parts, k+" = "+ValueString(v[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

func checkPath(flag, path string) error {
	if path == "" {
		return fmt.Errorf("%s: empty path", flag)
	}
	for _, seg := range strings.Split(path, ".") {
		if seg == "" {
			return fmt.Errorf("%s %q: empty segment in the path", flag, path)
		}
	}
	return nil
}

// parseValue reads a TOML value, or takes the text as a string when it is
// not one.
func parseValue(s string) any {
	s = strings.TrimSpace(s)
	var m map[string]any
	if _, err := toml.Decode("v = "+s, &m); err == nil {
		if v, ok := m["v"]; ok {
			return v
		}
	}
	return s
}

// splitTop splits s at commas outside quotes, brackets and braces.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// arrayTables are the keys that hold arrays of tables, whose elements a
// path selects by name; a path through one that is absent cannot create it.
var arrayTables = []string{"client", "service", "gateway", "fault", "operation", "call", "route", "schedule", "variant", "slo",
	"broker", "topic", "publish", "consume", "store", "saga", "step", "view"}

// selectors are the keys that name an element of an array of tables, in
// the order they are tried.
var selectors = []string{"name", "path", "to", "kind", "target"}

// optionalNames are the arrays of tables whose elements may go without a
// name: one that has a name is chosen by it (or its number) only, so that
// naming a fault, or adding a named one, leaves the unnamed ones chosen by
// their kind as before. Choosing elements by a unique key rather than by
// position, so that adding or deleting one leaves the others where they
// are, is how Kubernetes' strategic merge patch treats a list of objects
// (containers merged, added and deleted by their patchMergeKey, name):
// kubernetes/community, contributors/devel/sig-api-machinery/strategic-merge-patch.md.
var optionalNames = []string{"fault"}

// overrider applies overrides to the tree and records, in the index, where
// each changed node was written, so that the loader's errors about an
// overridden value point at the override.
type overrider struct {
	l *loader
	// fileLines is the number of lines of the file; the index holds the
	// command-line overrides as lines after them, so that an error can
	// show them with a caret.
	fileLines int
	flagLines map[int]string // line number in the index -> flag
	// added names the tables added by a variant, by where they are
	// written, for the loader's messages about them.
	added map[span]string
}

// place is where one segment and the value of an override are, as offsets
// in the index's source.
type place struct {
	segs []int
	val  int
}

// locate returns the offsets of an override's segments and value in the
// index's source, appending a command-line override to it.
func (ov *overrider) locate(o Override) place {
	segs := strings.Split(o.Path, ".")
	p := place{segs: make([]int, len(segs))}
	base := o.keyOff
	if o.flag != "" {
		ix := ov.l.ix
		ix.src += "\n"
		ix.lines = append(ix.lines, len(ix.src))
		if ov.flagLines == nil {
			ov.flagLines = make(map[int]string)
		}
		ov.flagLines[len(ix.lines)] = o.flag
		start := len(ix.src)
		ix.src += o.Text
		base += start
		p.val = start + o.valOff
	} else {
		p.val = o.valOff
		if !o.quoted {
			for i := range p.segs {
				p.segs[i] = o.keyOff
			}
			return p
		}
		base++ // past the opening quote
	}
	off := base
	for i, s := range segs {
		p.segs[i] = off
		off += len(s) + 1
	}
	if o.Unset {
		p.val = p.segs[len(segs)-1]
	}
	return p
}

// fixErrors moves the errors located on command-line overrides to their
// flag: "--set:1:18" rather than a line past the end of the file.
func (ov *overrider) fixErrors() {
	for _, e := range ov.l.errs {
		if f, ok := ov.flagLines[e.Line]; ok {
			e.File, e.Line = f, 1
		}
	}
}

// apply makes one override in root and reports whether it could. Its
// errors are the loader's, located on the override.
func (ov *overrider) apply(root map[string]any, o Override, record bool) bool {
	if o.Add {
		return ov.add(root, o, record)
	}
	pl := ov.locate(o)
	segs := strings.Split(o.Path, ".")
	var cur any = root
	path := "" // in the index's notation
	what := "the scenario"
	for i, seg := range segs {
		last := i == len(segs)-1
		switch node := cur.(type) {
		case map[string]any:
			v, ok := node[seg]
			next := join(path, seg)
			if !ok {
				if path == "" {
					hint := "the tables of a scenario: " + strings.Join(topTables, ", ")
					if s := suggest.Closest(seg, topTables); s != "" {
						hint = fmt.Sprintf("did you mean %q?", s)
					}
					if slices.Contains(topTables, seg) {
						hint = fmt.Sprintf("add a %s to the file first", header(seg))
					}
					ov.l.errorAt(pl.segs[i], fmt.Sprintf("the scenario has no %s", header(seg)), hint)
					return false
				}
				if o.Unset {
					ov.l.errorAt(pl.segs[i], fmt.Sprintf("%s has no key %q to remove", what, seg), keysHint(seg, node))
					return false
				}
				if slices.Contains(arrayTables, seg) && !last {
					ov.l.errorAt(pl.segs[i], fmt.Sprintf("%s has no %q elements to choose from", what, seg), "add them to the file first")
					return false
				}
				if last {
					node[seg] = o.Value
				} else {
					v = map[string]any{}
					node[seg] = v
				}
				if record {
					ov.l.ix.at[next] = span{key: pl.segs[i], val: pl.val}
				}
				if last {
					return true
				}
				cur, path, what = v, next, fmt.Sprintf("%q", strings.Join(segs[:i+1], "."))
				continue
			}
			if last {
				if o.Unset {
					delete(node, seg)
				} else {
					node[seg] = o.Value
					if record {
						ov.l.ix.at[next] = span{key: pl.segs[i], val: pl.val}
					}
				}
				return true
			}
			cur, path, what = v, next, fmt.Sprintf("%q", strings.Join(segs[:i+1], "."))
		case []map[string]any, []any:
			elems := asTables(node)
			k, msg, hint := pick(elems, seg, slices.Contains(optionalNames, segs[i-1]))
			if k < 0 {
				ov.l.errorAt(pl.segs[i], fmt.Sprintf("%s: %s", what, msg), hint)
				return false
			}
			next := elem(path, k)
			if last {
				if !o.Unset {
					ov.l.errorAt(pl.segs[i], fmt.Sprintf("%s %s is a table: set one of its keys", what, seg), keysHint("", elems[k]))
					return false
				}
				parentMap, key := ov.parentOf(root, segs[:i])
				rest := slices.Delete(slices.Clone(elems), k, k+1)
				parentMap[key] = rest
				if record {
					ov.shift(path, k, len(elems))
				}
				return true
			}
			cur, path, what = elems[k], next, fmt.Sprintf("%q", strings.Join(segs[:i+1], "."))
		default:
			ov.l.errorAt(pl.segs[i], fmt.Sprintf("%s is %s, not a table: %q has nothing under it", what, typeName(cur), strings.Join(segs[:i], ".")), "")
			return false
		}
	}
	return true
}

// parentOf returns the map holding the array that segs addresses, and its
// key there; segs has been resolved already.
func (ov *overrider) parentOf(root map[string]any, segs []string) (map[string]any, string) {
	var cur any = root
	var parent map[string]any
	key := ""
	for _, seg := range segs {
		switch node := cur.(type) {
		case map[string]any:
			parent, key, cur = node, seg, node[seg]
		case []map[string]any, []any:
			elems := asTables(node)
			k, _, _ := pick(elems, seg, slices.Contains(optionalNames, key))
			cur = elems[k]
		}
	}
	return parent, key
}

// shift renumbers the index after element k of the array at path (of n
// elements) was removed, so that the elements after it keep their
// positions in the file.
func (ov *overrider) shift(path string, k, n int) {
	for j := k; j < n; j++ {
		ov.copyIndex(elem(path, j+1), elem(path, j))
	}
}

// copyIndex makes the node at path to, and everything under it, take the
// positions of the node at from in the index.
func (ov *overrider) copyIndex(from, to string) {
	at := ov.l.ix.at
	under := func(p, root string) bool {
		return p == root || strings.HasPrefix(p, root+".") || strings.HasPrefix(p, root+"[")
	}
	for p := range at {
		if under(p, to) {
			delete(at, p)
		}
	}
	moved := map[string]span{}
	for p, sp := range at {
		if under(p, from) {
			moved[to+p[len(from):]] = sp
		}
	}
	for p, sp := range moved {
		at[p] = sp
	}
}

// add appends the table of an Add override to the array of tables at its
// path, a top-level key. Recorded, the element takes the positions of the
// table where it was written, so that the loader's errors about it point
// into the [[variant]].
func (ov *overrider) add(root map[string]any, o Override, record bool) bool {
	v, ok := root[o.Path]
	elems := asTables(v)
	if ok && elems == nil {
		return false // not an array of tables: the loader reports the file's key
	}
	root[o.Path] = append(slices.Clone(elems), deepCopy(o.Value).(map[string]any))
	if record {
		ov.copyIndex(o.from, elem(o.Path, len(elems)))
		if ov.added == nil {
			ov.added = make(map[span]string)
		}
		ov.added[ov.l.ix.find(o.from)] = o.label
	}
	return true
}

// asTables views an array of tables either way the decoder gives it.
func asTables(v any) []map[string]any {
	switch v := v.(type) {
	case []map[string]any:
		return v
	case []any:
		out := make([]map[string]any, 0, len(v))
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			} else {
				out = append(out, map[string]any{})
			}
		}
		return out
	}
	return nil
}

// pick finds the element of an array of tables that seg names: by its
// 1-based number, or by the first selector key that some element has equal
// to seg; with optional (names are optional in this array), an element
// with a name only by that. It returns -1 and a message and a hint when
// none or several do.
func pick(elems []map[string]any, seg string, optional bool) (int, string, string) {
	if n, err := strconv.Atoi(seg); err == nil {
		if n >= 1 && n <= len(elems) {
			return n - 1, "", ""
		}
		return -1, fmt.Sprintf("no element #%d", n), fmt.Sprintf("there are %d; they are numbered from 1", len(elems))
	}
	var names []string
	for _, key := range selectors {
		var hits []int
		for i, e := range elems {
			if _, named := e["name"]; optional && named && key != "name" {
				continue
			}
			if s, ok := e[key].(string); ok {
				if s == seg {
					hits = append(hits, i+1)
				}
				// The hint lists the elements by the first key they are
				// named by: a client's name, not its target.
				if (len(names) == 0 || names[0] == key) && !slices.Contains(names[min(1, len(names)):], s) {
					if len(names) == 0 {
						names = append(names, key)
					}
					names = append(names, s)
				}
			}
		}
		switch len(hits) {
		case 0:
			continue
		case 1:
			return hits[0] - 1, "", ""
		}
		nums := make([]string, len(hits))
		for i, h := range hits {
			nums[i] = strconv.Itoa(h)
		}
		return -1, fmt.Sprintf("%d elements have %s = %q", len(hits), key, seg),
			fmt.Sprintf("choose one by its number: %s", strings.Join(nums, " or "))
	}
	hint := "choose an element by its name or its number (from 1)"
	switch {
	case optional:
		names = addresses(elems)
	case len(names) > 0:
		names = names[1:] // the key they are named by
	}
	if s := suggest.Closest(seg, names); s != "" {
		hint = fmt.Sprintf("did you mean %q?", s)
	} else if len(names) > 0 {
		hint = "known: " + strings.Join(names, ", ")
	}
	return -1, fmt.Sprintf("no element named %q", seg), hint
}

// addresses lists how a path chooses each element of an array whose
// names are optional: by its name, else by its kind when no other unnamed
// element has it, else by its number.
func addresses(elems []map[string]any) []string {
	kinds := map[string]int{}
	for _, e := range elems {
		if _, named := e["name"]; !named {
			if k, ok := e["kind"].(string); ok {
				kinds[k]++
			}
		}
	}
	var out []string
	for i, e := range elems {
		n, named := e["name"].(string)
		k, _ := e["kind"].(string)
		switch {
		case named:
		case k != "" && kinds[k] == 1:
			n = k
		default:
			n = strconv.Itoa(i + 1)
		}
		if !slices.Contains(out, n) { // a duplicate name is reported on its own
			out = append(out, n)
		}
	}
	return out
}

// keysHint suggests the nearest key of m to seg.
func keysHint(seg string, m map[string]any) string {
	keys := sortedKeys(m)
	if s := suggest.Closest(seg, keys); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	if len(keys) == 0 {
		return ""
	}
	return "its keys: " + strings.Join(keys, ", ")
}

// deepCopy copies a decoded TOML tree, so that overrides can be tried on
// it without changing the original.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = deepCopy(e)
		}
		return m
	case []map[string]any:
		out := make([]map[string]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e).(map[string]any)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}
