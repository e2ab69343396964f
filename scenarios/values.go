package scenarios

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/internal/suggest"
	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/dist"
)

// loader collects the errors of one file. It never stops at the first one:
// each check reports and moves on, and Load returns them all.
type loader struct {
	file string
	ix   *index
	errs ErrorList
	// invalid holds the names defined with an invalid spelling, each
	// reported where it is defined; a reference to one is not also
	// "unknown" (see dropConsequential).
	invalid map[string]bool
}

// dropConsequential removes the "unknown X" errors about a name whose
// definition was already reported as invalid: the reference is right, the
// definition is wrong, and one error at the definition says so (as a
// compiler reports a bad declaration once, not at every use).
func (l *loader) dropConsequential() {
	if len(l.invalid) == 0 {
		return
	}
	l.errs = slices.DeleteFunc(l.errs, func(e *Error) bool {
		if !strings.HasPrefix(e.Msg, "unknown ") {
			return false
		}
		for n := range l.invalid {
			if strings.Contains(e.Msg, strconv.Quote(n)) {
				return true
			}
		}
		return false
	})
}

func (l *loader) errorAt(off int, msg, hint string) {
	line, col := l.ix.lineCol(off)
	src := l.ix.line(line)
	// An offset on the "\r" of a "\r\n" is past the line as shown; keep
	// the caret just after its end.
	col = min(col, len(src)+1)
	l.errs = append(l.errs, &Error{File: l.file, Line: line, Col: col, Msg: msg, Hint: hint, Source: src})
}

// table is one TOML table being checked against the schema.
type table struct {
	l    *loader
	path string // where it is in the index
	what string // how messages name it: [scenario], [[service]] "payment"
	m    map[string]any
}

func (t *table) has(key string) bool {
	_, ok := t.m[key]
	return ok
}

// keyErr reports a problem with a key itself, with the caret on the key.
func (t *table) keyErr(key, msg, hint string) {
	t.l.errorAt(t.l.ix.find(join(t.path, key)).key, msg, hint)
}

// valErr reports a problem with a key's value, with the caret on the value.
func (t *table) valErr(key, msg, hint string) {
	t.l.errorAt(t.l.ix.find(join(t.path, key)).val, msg, hint)
}

// headerErr reports a problem with the table as a whole, at its header.
func (t *table) headerErr(msg, hint string) {
	t.l.errorAt(t.l.ix.find(t.path).val, msg, hint)
}

// known reports every key of t that is not one of keys, suggesting the
// nearest. Keys are visited in sorted order so that the errors, which are
// then sorted by position, come out the same on every run.
func (t *table) known(keys ...string) {
	for _, k := range sortedKeys(t.m) {
		if slices.Contains(keys, k) {
			continue
		}
		hint := "known keys: " + strings.Join(keys, ", ")
		if s := suggest.Closest(k, keys); s != "" {
			hint = fmt.Sprintf("did you mean %q?", s)
		}
		t.keyErr(k, fmt.Sprintf("unknown key %q in %s", k, t.what), hint)
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// require reports key as missing, pointing at the table's header, and says
// whether it is there. example is a line the user could add.
func (t *table) require(key, example string) bool {
	if t.has(key) {
		return true
	}
	t.headerErr(fmt.Sprintf("missing required key %q in %s", key, t.what), "add "+example)
	return false
}

// typeName names the TOML type of a decoded value, with its article.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return "a date-time"
}

func (t *table) typeErr(key string, v any, want, hint string) {
	t.valErr(key, fmt.Sprintf("%s must be %s, not %s", key, want, typeName(v)), hint)
}

// unquoteHint helps the common slip of quoting a number.
func unquoteHint(key string, v any) string {
	if s, ok := v.(string); ok {
		if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return fmt.Sprintf("remove the quotes: %s = %s", key, strings.TrimSpace(s))
		}
	}
	return ""
}

func (t *table) str(key string) (string, bool) {
	v, ok := t.m[key]
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		t.typeErr(key, v, "a string", fmt.Sprintf("quote it: %s = \"...\"", key))
	}
	return s, ok
}

// float reads a number; TOML integers count, since rate = 200 is natural.
func (t *table) float(key string) (float64, bool) {
	v, ok := t.m[key]
	if !ok {
		return 0, false
	}
	var f float64
	switch n := v.(type) {
	case int64:
		f = float64(n)
	case float64:
		f = n
	default:
		t.typeErr(key, v, "a number", unquoteHint(key, v))
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		t.valErr(key, fmt.Sprintf("%s must be a finite number, not %v", key, f), "")
		return 0, false
	}
	return f, true
}

// fraction reads a probability or a share in [0, 1]; with open, 0 is
// excluded too.
func (t *table) fraction(key string, open bool) (float64, bool) {
	f, ok := t.float(key)
	if !ok {
		return 0, false
	}
	if f < 0 || f > 1 || open && f == 0 {
		rng := "[0, 1]"
		if open {
			rng = "(0, 1]"
		}
		hint := ""
		if f > 1 && f <= 100 {
			hint = fmt.Sprintf("a fraction, not a percentage: for %g%%, write %s = %g", f, key, f/100)
		}
		t.valErr(key, fmt.Sprintf("%s must be in %s, got %g", key, rng, f), hint)
		return 0, false
	}
	return f, true
}

// integer reads an integer in [lo, hi].
func (t *table) integer(key string, lo, hi int64) (int, bool) {
	v, ok := t.m[key]
	if !ok {
		return 0, false
	}
	n, ok := v.(int64)
	if !ok {
		hint := unquoteHint(key, v)
		if f, isFloat := v.(float64); isFloat && f == math.Trunc(f) && math.Abs(f) < 1e15 {
			hint = fmt.Sprintf("write %s = %d", key, int64(f))
		}
		t.typeErr(key, v, "an integer", hint)
		return 0, false
	}
	if n < lo || n > hi {
		msg := fmt.Sprintf("%s must be >= %d, got %d", key, lo, n)
		if hi < math.MaxInt64 {
			msg = fmt.Sprintf("%s must be in %d..%d, got %d", key, lo, hi, n)
		}
		t.valErr(key, msg, "")
		return 0, false
	}
	return int(n), true
}

// count reads a count distribution: a whole number, or a string that
// dist.ParseCount reads ("uniform(1, 9)", "samples(...)",
// "histogram(n: weight, ...)"), with the caret on the byte it rejected.
func (t *table) count(key string) (dist.Count, bool) {
	v, ok := t.m[key]
	if !ok {
		return dist.Count{}, false
	}
	if s, isStr := v.(string); isStr {
		c, err := dist.ParseCount(s)
		if err != nil {
			off := t.l.ix.find(join(t.path, key)).val
			msg := err.Error()
			var se *dist.SyntaxError
			if errors.As(err, &se) {
				off = stringByte(t.l.ix.src, off, se.Offset)
				msg = se.Msg
			}
			t.l.errorAt(off, fmt.Sprintf("invalid %s: %s", key, msg), `a count is a whole number, or "uniform(1, 9)", "samples(0, 1, 9)" or "histogram(1: 30, 9: 70)"`)
			return dist.Count{}, false
		}
		return c, true
	}
	n, ok := t.integer(key, 0, dist.MaxCount)
	return dist.ConstCount(n), ok
}

func (t *table) duration(key string) (time.Duration, bool) {
	v, ok := t.m[key]
	if !ok {
		return 0, false
	}
	s, ok := v.(string)
	if !ok {
		hint := `durations are quoted strings with a unit, such as "250ms" or "2s"`
		switch v.(type) {
		case int64, float64:
			hint = fmt.Sprintf(`durations are quoted strings with a unit: %s = "%vs" or "%vms"`, key, v, v)
		}
		t.typeErr(key, v, "a duration", hint)
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		hint := `write a Go duration such as "250ms", "2s" or "1m30s"; units are ns, us, ms, s, m, h`
		if _, ferr := strconv.ParseFloat(s, 64); ferr == nil {
			hint = fmt.Sprintf("add a unit: %q or %q", s+"s", s+"ms")
		}
		t.valErr(key, fmt.Sprintf("%s %q is not a duration", key, s), hint)
		return 0, false
	}
	return d, true
}

// nonNegative reads a duration that must be >= 0.
func (t *table) nonNegative(key string) (time.Duration, bool) {
	d, ok := t.duration(key)
	if ok && d < 0 {
		t.valErr(key, fmt.Sprintf("%s must not be negative, got %s", key, dur(d)), "")
		return 0, false
	}
	return d, ok
}

// dist reads a distribution drawn afresh each time. A markov(...) one is
// refused: its state needs a consumer that keeps it, which only service
// times (per instance), latencies (per link) and round trips (per callee)
// have.
func (t *table) dist(key string) (dist.Dist, bool) {
	d, ok := t.modulated(key)
	if ok && d.Modulated() {
		t.valErr(key, fmt.Sprintf("%s cannot be a markov distribution: nothing here keeps its state", key),
			"markov(...) keeps a state per service instance (service_time), per link (latency) or per callee (round_trip); write the distribution of one state here")
		return dist.Dist{}, false
	}
	return d, ok
}

// modulated reads a distribution that may be markov(...), for a key whose
// consumer keeps the chain's state. A syntax error inside the string puts
// the caret on the byte the distribution parser complained about.
func (t *table) modulated(key string) (dist.Dist, bool) {
	v, ok := t.m[key]
	if !ok {
		return dist.Dist{}, false
	}
	s, ok := v.(string)
	if !ok {
		hint := `distributions are quoted strings, such as "10ms", "exp(10ms)" or "lognormal(20ms, 120ms)"`
		switch v.(type) {
		case int64, float64:
			hint = fmt.Sprintf(`a constant is a quoted duration: %s = "%vms"`, key, v)
		}
		t.typeErr(key, v, "a distribution", hint)
		return dist.Dist{}, false
	}
	d, err := dist.ParseFiles(s, t.l.readData)
	if err != nil {
		off := t.l.ix.find(join(t.path, key)).val
		msg := err.Error()
		var se *dist.SyntaxError
		if errors.As(err, &se) {
			off = stringByte(t.l.ix.src, off, se.Offset)
			msg = se.Msg
		}
		t.l.errorAt(off, fmt.Sprintf("invalid %s: %s", key, msg), "")
		return dist.Dist{}, false
	}
	return d, true
}

// readData reads the file that samples("name") or histogram("name")
// names, relative to the scenario file's directory, so that a scenario and
// its recorded latencies travel together. The built-in scenarios list their
// samples inline: they are embedded, and have no directory.
func (l *loader) readData(name string) ([]byte, error) {
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(l.file), name)
	}
	data, err := readBounded(path, "a samples file")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no such file %s (a file name is relative to the scenario's directory)", strconv.Quote(path))
	}
	return data, err
}

// dur formats a duration the way it is typed: "us" rather than "µs", so
// that a message can be copied back into the file.
func dur(d time.Duration) string {
	return strings.Replace(d.String(), "µs", "us", 1)
}

// namePattern leaves out '#', '.' and '>', which later features use to
// address instances ("svc#2") and edges ("a->b").
var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// name reads a component name.
func (t *table) name(key string) (string, bool) {
	s, ok := t.str(key)
	if !ok {
		return "", false
	}
	if !namePattern.MatchString(s) {
		hint := "names start with a lowercase letter, then lowercase letters, digits, '_' or '-'"
		if fixed := strings.ToLower(s); fixed != s && namePattern.MatchString(fixed) {
			hint = fmt.Sprintf("names are lowercase: %q", fixed)
		}
		t.valErr(key, fmt.Sprintf("invalid name %q", s), hint)
		if t.l.invalid == nil {
			t.l.invalid = map[string]bool{}
		}
		t.l.invalid[s] = true
		return "", false
	}
	return s, true
}

// table returns the single table under key, or nil when it is absent or
// is not a table (which it reports).
func (t *table) table(key, header string) *table {
	v, ok := t.m[key]
	if !ok {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		hint := ""
		if _, isArray := v.([]map[string]any); isArray {
			hint = fmt.Sprintf("write %s once, not [%s]", header, header)
		}
		t.keyErr(key, fmt.Sprintf("%s must be a table, not %s", key, typeName(v)), hint)
		return nil
	}
	return &table{l: t.l, path: join(t.path, key), what: header, m: m}
}

// tables returns the array of tables under key, reporting what is not.
func (t *table) tables(key, header string) []*table {
	v, ok := t.m[key]
	if !ok {
		return nil
	}
	path := join(t.path, key)
	var out []*table
	switch v := v.(type) {
	case []map[string]any:
		for i, m := range v {
			out = append(out, &table{l: t.l, path: elem(path, i), what: header, m: m})
		}
	case []any:
		for i, e := range v {
			if m, ok := e.(map[string]any); ok {
				out = append(out, &table{l: t.l, path: elem(path, i), what: header, m: m})
				continue
			}
			t.l.errorAt(t.l.ix.find(elem(path, i)).val, fmt.Sprintf("each element of %s must be a table, not %s", key, typeName(e)), "")
		}
	default:
		hint := ""
		if _, isTable := v.(map[string]any); isTable {
			if sub := t.l.subHeaderAt(t.l.ix.find(path).key); sub != "" {
				// No [key] was written: a nested header such as
				// [[gateway.route]], with no [[gateway]] above it, made
				// key a plain table (TOML implies the parents of a
				// header's dotted key).
				t.keyErr(key, fmt.Sprintf("%s has no %s above it", sub, header),
					fmt.Sprintf("write a %s, with its name, above it: each %s belongs to the %s written before it", header, sub, header))
				return nil
			}
			hint = fmt.Sprintf("write %s instead of %s", header, header[1:len(header)-1])
		}
		t.keyErr(key, fmt.Sprintf("%s must be an array of tables, not %s", key, typeName(v)), hint)
	}
	return out
}

// subHeaderAt returns the header written at off when it names a table
// inside another, such as [[gateway.route]] (with its brackets), or "".
func (l *loader) subHeaderAt(off int) string {
	src := l.ix.src
	start := strings.LastIndexByte(src[:off], '\n') + 1
	line, _, _ := strings.Cut(src[start:], "\n")
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "[") {
		return ""
	}
	closing := "]"
	if strings.HasPrefix(line, "[[") {
		closing = "]]"
	}
	end := strings.Index(line, closing)
	if end < 0 || !strings.Contains(line[:end], ".") {
		return ""
	}
	return line[:end+len(closing)]
}

// boolean reads true or false.
func (t *table) boolean(key string) (bool, bool) {
	v, ok := t.m[key]
	if !ok {
		return false, false
	}
	b, ok := v.(bool)
	if !ok {
		hint := fmt.Sprintf("write %s = true or %s = false", key, key)
		if s, isStr := v.(string); isStr && (strings.EqualFold(s, "true") || strings.EqualFold(s, "false")) {
			hint = fmt.Sprintf("remove the quotes: %s = %s", key, strings.ToLower(s))
		}
		t.typeErr(key, v, "a boolean", hint)
	}
	return b, ok
}

// interval is the range a number read from a scenario must lie in: the
// engine's sim.Range, so that a file and a driver (the TUI's :fault) are
// held to the same bounds and say them the same way.
type interval = sim.Range

// percent is a share in percent, 0 excluded.
var percent = interval{Lo: 0, Hi: 100, LoOpen: true}

// number reads a number in r; hint, when not empty, helps with a value
// outside it.
func (t *table) number(key string, r interval, hint string) (float64, bool) {
	f, ok := t.float(key)
	if !ok {
		return 0, false
	}
	if !r.Contains(f) {
		t.valErr(key, fmt.Sprintf("%s must be %s, got %g", key, r, f), hint)
		return 0, false
	}
	return f, true
}

// positiveDuration reads a duration that must be > 0.
func (t *table) positiveDuration(key string) (time.Duration, bool) {
	d, ok := t.duration(key)
	if ok && d <= 0 {
		t.valErr(key, fmt.Sprintf("%s must be positive, got %s", key, dur(d)), "")
		return 0, false
	}
	return d, ok
}

// enum reads a string that must be one of values (ignoring case, so that
// an enum copied from Java or Envoy, COUNT_BASED, is accepted) and returns
// its index.
func (t *table) enum(key string, values []string) (int, bool) {
	s, ok := t.str(key)
	if !ok {
		return 0, false
	}
	for i, v := range values {
		if strings.EqualFold(s, v) {
			return i, true
		}
	}
	t.valErr(key, fmt.Sprintf("unknown %s %q", key, s), enumHint(s, values))
	return 0, false
}

// elemErr reports a problem with element i of the array under key.
func (t *table) elemErr(key string, i int, msg, hint string) {
	t.l.errorAt(t.l.ix.find(elem(join(t.path, key), i)).val, msg, hint)
}

// sub returns the table under key, written [header] or inline, or nil when
// it is absent or not a table. what names it in messages.
func (t *table) sub(key, header, what string) *table {
	return t.subOr(key, header, what, fmt.Sprintf("write a %s header with its keys; an empty table, %s = {}, takes every default", header, key))
}

// subOr is sub with hint for a value that is not a table.
func (t *table) subOr(key, header, what, hint string) *table {
	v, ok := t.m[key]
	if !ok {
		return nil
	}
	switch v.(type) {
	case map[string]any, []map[string]any:
	default:
		t.typeErr(key, v, "a table", hint)
		return nil
	}
	st := t.table(key, header)
	if st != nil {
		st.what = what
	}
	return st
}
