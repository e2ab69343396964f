package dist

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/faultline/faultline/internal/suggest"
)

// maxDepth bounds mix nesting so that hostile input cannot recurse deeply.
const maxDepth = 16

// maxItems bounds the samples or bins of an empirical distribution: a
// million recorded latencies is plenty, and 32 MB of tables at most.
const maxItems = 1 << 20

// maxCount bounds a histogram's total count, so that running sums of whole
// counts stay exact in a float64.
const maxCount = 1 << 53

// maxStates bounds a markov chain; beyond a few states a scenario is better
// served by sampling a recording.
const maxStates = 16

// SyntaxError reports why Parse rejected its input.
type SyntaxError struct {
	Offset int    // byte offset in the input where the problem is
	Msg    string // what is wrong, and how to fix it where that is clear
}

func (e *SyntaxError) Error() string {
	return "offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Parse parses a distribution written in the syntax described in the package
// documentation. Errors are of type *SyntaxError. The file forms
// samples("name") and histogram("name") need ParseFiles.
func Parse(s string) (Dist, error) { return ParseFiles(s, nil) }

// ParseFiles is Parse where samples("name") and histogram("name") read the
// named file through read, which returns its contents: a scenario loader
// reads it next to the scenario, keeping IO out of this package. A nil read
// rejects the file forms.
func ParseFiles(s string, read func(name string) ([]byte, error)) (Dist, error) {
	p := parser{s: s, read: read}
	p.skipSpace()
	if p.pos == len(s) {
		return Dist{}, errorf(p.pos, "empty distribution; write 0s for no delay")
	}
	d, err := p.dist(0)
	if err != nil {
		return Dist{}, err
	}
	p.skipSpace()
	if p.pos < len(s) {
		if s[p.pos] == ')' {
			return Dist{}, errorf(p.pos, "unbalanced parentheses: unexpected ')'")
		}
		return Dist{}, errorf(p.pos, "unexpected %s after the distribution", p.found())
	}
	return d, nil
}

type param struct {
	name   string
	number bool // a plain number rather than a duration
}

type function struct {
	kind   kind
	params []param
}

var functions = map[string]function{
	"exp":       {kExp, []param{{"mean", false}}},
	"uniform":   {kUniform, []param{{"lo", false}, {"hi", false}}},
	"normal":    {kNormal, []param{{"mean", false}, {"stddev", false}}},
	"lognormal": {kLognormal, []param{{"median", false}, {"p99", false}}},
	"pareto":    {kPareto, []param{{"scale", false}, {"shape", true}}},
	"weibull":   {kWeibull, []param{{"scale", false}, {"shape", true}}},
}

// names lists every function, in the order error messages present them.
var names = []string{"exp", "uniform", "normal", "lognormal", "pareto", "weibull", "percentiles", "mix", "samples", "histogram", "markov"}

// aliases catch names people reach for that edit distance would not.
var aliases = map[string]string{
	"exponential": "exp",
	"gaussian":    "normal",
	"lognorm":     "lognormal",
	"percentile":  "percentiles",
	"mixture":     "mix",
	"empirical":   "samples",
	"sample":      "samples",
	"hist":        "histogram",
	"mmpp":        "markov",
	"modulated":   "markov",
}

func signature(name string) string {
	switch name {
	case "percentiles":
		return "percentiles takes (pNN=duration, ...), such as percentiles(p50=8ms, p99=90ms)"
	case "mix":
		return "mix takes (weight distribution, ...), such as mix(0.9 exp(1ms), 0.1 exp(10ms))"
	case "samples":
		return `samples takes (duration, ...) or a file name, such as samples(1.2ms, 1.3ms, 40ms) or samples("latencies.txt")`
	case "histogram":
		return `histogram takes (lo..hi: count, ...) or a file name, such as histogram(1ms..2ms: 40, 30ms..50ms: 10)`
	case "markov":
		return "markov takes (state: distribution for mean-sojourn, ...), such as markov(fast: exp(5ms) for 30s, slow: exp(80ms) for 2s)"
	}
	ps := functions[name].params
	list := make([]string, len(ps))
	for i, p := range ps {
		list[i] = p.name
	}
	return name + " takes (" + strings.Join(list, ", ") + ")"
}

// zLognormal is the standard normal 0.99-quantile, which ties a lognormal's
// p99 to its sigma.
const zLognormal = 2.3263478740408408

type parser struct {
	s    string
	pos  int
	read func(name string) ([]byte, error)
	// file: s is the contents of a samples or histogram file, whose items
	// are separated by commas or white space, with # comments.
	file bool
}

func errorf(off int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		case '#':
			if !p.file {
				return
			}
			for p.pos < len(p.s) && p.s[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

// word consumes a run of bytes up to whitespace or punctuation: a duration,
// a number, a function name, a percentile key, a state name or a bin.
func (p *parser) word() string {
	start := p.pos
	for p.pos < len(p.s) && strings.IndexByte(" \t\n\r(),=:", p.s[p.pos]) < 0 {
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *parser) peek(c byte) bool { return p.pos < len(p.s) && p.s[p.pos] == c }

// found describes what sits at the current position, for error messages.
func (p *parser) found() string {
	if p.pos == len(p.s) {
		return "end of input"
	}
	save := p.pos
	w := p.word()
	p.pos = save
	if w == "" {
		w = p.s[p.pos : p.pos+1]
	}
	return quote(w)
}

// quote shortens long tokens so that a huge input cannot make a huge message.
func quote(s string) string {
	const limit = 40
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	n := limit
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strconv.Quote(s[:n]) + "..."
}

// closeError explains why an argument list did not continue with ',' or ')'.
func (p *parser) closeError(name string, open int) *SyntaxError {
	if p.pos == len(p.s) {
		return errorf(p.pos, "unbalanced parentheses: missing ')' to close %s( at offset %d", name, open)
	}
	return errorf(p.pos, "expected ',' or ')' in %s(...), found %s", name, p.found())
}

// listNext passes the ',' or ')' after an item of name's argument list
// and reports whether it was the ')' that ends it.
func (p *parser) listNext(name string, open int) (end bool, err *SyntaxError) {
	p.skipSpace()
	switch {
	case p.peek(','):
		p.pos++
		return false, nil
	case p.peek(')'):
		p.pos++
		return true, nil
	}
	return false, p.closeError(name, open)
}

// missing reports an argument list item that is absent, as in "f(1ms,)".
func (p *parser) missing(name, what string, open int) *SyntaxError {
	if p.pos == len(p.s) {
		return p.closeError(name, open)
	}
	return errorf(p.pos, "expected %s in %s(...), found %s; %s", what, name, p.found(), signature(name))
}

func (p *parser) dist(depth int) (Dist, error) {
	p.skipSpace()
	start := p.pos
	name := p.word()
	if name == "" {
		return Dist{}, errorf(p.pos, "expected a distribution, found %s", p.found())
	}
	p.skipSpace()
	if !p.peek('(') {
		if _, ok := functions[name]; ok || slices.Contains(names, name) {
			return Dist{}, errorf(start, "%s needs arguments: %s", name, signature(name))
		}
		v, err := parseDuration(name, start)
		if err != nil {
			return Dist{}, err
		}
		return Dist{a: v}, nil
	}
	open := p.pos
	p.pos++
	switch name {
	case "percentiles":
		return p.percentiles(start, open)
	case "mix":
		if depth >= maxDepth {
			return Dist{}, errorf(start, "mix nested more than %d deep", maxDepth)
		}
		return p.mix(start, open, depth)
	case "samples", "histogram":
		return p.empirical(name, start, open)
	case "markov":
		if depth > 0 {
			return Dist{}, errorf(start, "markov must be the whole distribution, not part of a mix or a markov state: a state is a stretch of time, and a mixture component is not")
		}
		return p.markov(start, open, depth)
	}
	f, ok := functions[name]
	if !ok {
		return Dist{}, unknown(name, start, open)
	}
	return p.call(name, f, open)
}

func unknown(name string, start, open int) *SyntaxError {
	if _, err := time.ParseDuration(name); err == nil {
		return errorf(open, "unexpected '(' after the duration %s", quote(name))
	}
	if alias, ok := aliases[strings.ToLower(name)]; ok {
		return errorf(start, "unknown distribution %s; did you mean %s?", quote(name), alias)
	}
	best, bestDist := "", math.MaxInt
	if len(name) <= 2*len("percentiles") {
		lower := strings.ToLower(name)
		for _, n := range names {
			if d := suggest.Distance(lower, n); d < bestDist {
				best, bestDist = n, d
			}
		}
	}
	if bestDist <= (len(best)+1)/2 {
		return errorf(start, "unknown distribution %s; did you mean %s?", quote(name), best)
	}
	return errorf(start, "unknown distribution %s; known ones are %s", quote(name), strings.Join(names, ", "))
}

func parseDuration(w string, off int) (time.Duration, *SyntaxError) {
	d, err := time.ParseDuration(w)
	if err != nil {
		if isDecimal(w) {
			return 0, errorf(off, "%s is not a duration: it lacks a unit; use a Go duration such as 10ms", quote(w))
		}
		for _, unit := range []string{"ns", "us", "µs", "μs", "ms", "s", "m", "h"} {
			if num, ok := strings.CutSuffix(w, unit); ok && isDecimal(num) {
				return 0, errorf(off, "duration %s is out of range; the largest is about 2562047h", quote(w))
			}
		}
		return 0, errorf(off, "%s is not a duration; use a Go duration such as 10ms", quote(w))
	}
	if d < 0 {
		return 0, errorf(off, "negative duration %s; durations must be >= 0", quote(w))
	}
	return d, nil
}

// isDecimal reports whether s is a plain decimal number such as 10 or -1.5,
// which is what precedes the unit in a Go duration.
func isDecimal(s string) bool {
	s = strings.TrimLeft(s, "+-")
	digits := strings.Trim(s, "0123456789")
	return len(s) > len(digits) && (digits == "" || digits == ".")
}

func parseNumber(w string, off int, what string) (float64, *SyntaxError) {
	f, err := strconv.ParseFloat(w, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, errorf(off, "%s %s is out of range", what, quote(w))
	case err != nil:
		if _, derr := time.ParseDuration(w); derr == nil {
			return 0, errorf(off, "%s is a plain number, not a duration such as %s", what, quote(w))
		}
		return 0, errorf(off, "%s %s is not a number", what, quote(w))
	case math.IsInf(f, 0) || math.IsNaN(f):
		return 0, errorf(off, "%s must be a finite number, not %s", what, quote(w))
	case f <= 0:
		return 0, errorf(off, "%s must be positive, not %s", what, quote(w))
	}
	return f, nil
}

// call parses the arguments of a function whose parameters are plain
// durations and numbers, after its '('.
func (p *parser) call(name string, f function, open int) (Dist, error) {
	var durs [2]time.Duration
	var nums [2]float64
	var offs [2]int
	n := 0
	for {
		p.skipSpace()
		if n == 0 && p.peek(')') {
			break
		}
		off := p.pos
		w := p.word()
		if w == "" {
			return Dist{}, p.missing(name, "an argument", open)
		}
		p.skipSpace()
		if p.peek('(') {
			return Dist{}, errorf(off, "%s, not a nested distribution; only mix and markov nest distributions", signature(name))
		}
		if n == len(f.params) {
			return Dist{}, errorf(off, "%s; too many arguments", signature(name))
		}
		var err *SyntaxError
		if pr := f.params[n]; pr.number {
			nums[n], err = parseNumber(w, off, name+" "+pr.name)
		} else {
			durs[n], err = parseDuration(w, off)
		}
		if err != nil {
			return Dist{}, err
		}
		offs[n] = off
		n++
		if p.peek(',') {
			p.pos++
			continue
		}
		if !p.peek(')') {
			return Dist{}, p.closeError(name, open)
		}
		break
	}
	if n < len(f.params) {
		return Dist{}, errorf(p.pos, "%s; missing %s", signature(name), f.params[n].name)
	}
	p.pos++
	d := Dist{kind: f.kind, a: durs[0], b: durs[1]}
	switch f.kind {
	case kExp:
		if d.a == 0 {
			return Dist{}, errorf(offs[0], "exp mean must be positive; write 0s for no delay")
		}
	case kUniform:
		if d.a > d.b {
			return Dist{}, errorf(offs[1], "uniform needs lo <= hi, but %s > %s", formatDuration(d.a), formatDuration(d.b))
		}
	case kNormal:
		if d.b == 0 {
			return Dist{}, errorf(offs[1], "normal stddev must be positive; for a fixed value write %s", formatDuration(d.a))
		}
	case kLognormal:
		if d.a == 0 {
			return Dist{}, errorf(offs[0], "lognormal median must be positive")
		}
		if d.b < d.a {
			return Dist{}, errorf(offs[1], "lognormal needs p99 >= median, but %s < %s", formatDuration(d.b), formatDuration(d.a))
		}
		d.x = math.Log(float64(d.a))
		d.y = (math.Log(float64(d.b)) - d.x) / zLognormal
	case kPareto, kWeibull:
		if d.a == 0 {
			return Dist{}, errorf(offs[0], "%s scale must be positive", name)
		}
		d.x = nums[1]
		if f.kind == kPareto {
			d.y = -1 / d.x
		} else {
			d.y = 1 / d.x
		}
	}
	return d, nil
}

// percentiles parses "pNN=duration" pairs after "percentiles(".
func (p *parser) percentiles(start, open int) (Dist, error) {
	const name = "percentiles"
	t := &pctTable{ps: []float64{0}, xs: []time.Duration{0}}
	given, prevKey := 0, "p0"
	for {
		p.skipSpace()
		if given == 0 && p.peek(')') {
			return Dist{}, errorf(p.pos, "percentiles needs at least one point; %s", signature(name))
		}
		keyOff := p.pos
		key := p.word()
		if key == "" {
			return Dist{}, p.missing(name, "a key such as p99", open)
		}
		pr, err := parsePercentile(key, keyOff)
		if err != nil {
			return Dist{}, err
		}
		p.skipSpace()
		if !p.peek('=') {
			return Dist{}, errorf(p.pos, "expected '=' after %s, as in %s=90ms", key, key)
		}
		p.pos++
		p.skipSpace()
		valOff := p.pos
		w := p.word()
		if w == "" {
			return Dist{}, errorf(p.pos, "missing value for %s, as in %s=90ms", key, key)
		}
		x, err := parseDuration(w, valOff)
		if err != nil {
			return Dist{}, err
		}
		last := len(t.ps) - 1
		switch {
		case given > 0 && pr == t.ps[last]:
			return Dist{}, errorf(keyOff, "%s repeats %s", key, prevKey)
		case given > 0 && pr < t.ps[last]:
			return Dist{}, errorf(keyOff, "%s must come before %s; list percentiles in increasing order", key, prevKey)
		case x < t.xs[last]:
			return Dist{}, errorf(keyOff, "%s=%s is less than %s=%s; values must not decrease",
				key, formatDuration(x), prevKey, formatDuration(t.xs[last]))
		case pr == 0:
			t.xs[0] = x
		default:
			t.ps = append(t.ps, pr)
			t.xs = append(t.xs, x)
		}
		given++
		prevKey = key
		if end, err := p.listNext(name, open); err != nil {
			return Dist{}, err
		} else if end {
			break
		}
	}
	if len(t.ps) == 1 {
		return Dist{}, errorf(start, "percentiles needs a point above p0")
	}
	t.fit()
	return Dist{kind: kPercentiles, pct: t}, nil
}

// maxKeyDigits is beyond float64 precision, and keeps keys short enough to
// quote in error messages.
const maxKeyDigits = 20

// parsePercentile decodes a pNN key: the digits are the decimals of the
// probability, so p999 is 0.999; p0 and p100 are the ends.
func parsePercentile(key string, off int) (float64, *SyntaxError) {
	digits, ok := strings.CutPrefix(key, "p")
	if !ok || digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, errorf(off, "%s is not a percentile key; use keys such as p50, p99 or p999", quote(key))
	}
	switch {
	case len(digits) > maxKeyDigits:
		return 0, errorf(off, "percentile key %s has more than %d digits", quote(key), maxKeyDigits)
	case strings.Trim(digits, "0") == "":
		return 0, nil
	case digits == "100":
		return 1, nil
	case len(digits) == 1:
		return 0, errorf(off, "%s is ambiguous; write p%s0 for %s0%% or p0%s for %s%%", key, digits, digits, digits, digits)
	}
	f, _ := strconv.ParseFloat("0."+digits, 64) // digits only: cannot fail
	return f, nil
}

// fit derives the exponential tail and the mean once the points are known.
func (t *pctTable) fit() {
	k := len(t.ps) - 1
	if t.ps[k] < 1 {
		// The tail continues through the last two points with the same
		// exponential decay; with one given point the first is (0, p0).
		t.tail = float64(t.xs[k]-t.xs[k-1]) / math.Log((1-t.ps[k-1])/(1-t.ps[k]))
	}
	m := 0.0
	for i := range k {
		m += (t.ps[i+1] - t.ps[i]) * (float64(t.xs[i]) + float64(t.xs[i+1])) / 2
	}
	// The tail above p_k integrates in closed form to (1-p_k)(x_k + tail).
	m += (1 - t.ps[k]) * (float64(t.xs[k]) + t.tail)
	t.mean = m
}

// mix parses "weight distribution" pairs after "mix(".
func (p *parser) mix(start, open, depth int) (Dist, error) {
	const name = "mix"
	m := &mixTable{}
	sum := 0.0
	for {
		p.skipSpace()
		if len(m.comps) == 0 && p.peek(')') {
			return Dist{}, errorf(p.pos, "mix needs at least one component; %s", signature(name))
		}
		off := p.pos
		w := p.word()
		if w == "" {
			return Dist{}, p.missing(name, "a weight", open)
		}
		p.skipSpace()
		if _, err := strconv.ParseFloat(w, 64); err != nil {
			if _, derr := time.ParseDuration(w); derr == nil || p.peek('(') {
				return Dist{}, errorf(off, "missing weight before %s; mix components are written as weight then distribution, as in 0.5 exp(1ms)", quote(w))
			}
		}
		weight, err := parseNumber(w, off, "mix weight")
		if err != nil {
			return Dist{}, err
		}
		c, derr := p.dist(depth + 1)
		if derr != nil {
			return Dist{}, derr
		}
		sum += weight
		m.weights = append(m.weights, weight)
		m.cum = append(m.cum, sum)
		m.comps = append(m.comps, c)
		m.mean += weight * c.Mean()
		if end, err := p.listNext(name, open); err != nil {
			return Dist{}, err
		} else if end {
			break
		}
	}
	if math.Abs(sum-1) > 1e-9 {
		return Dist{}, errorf(start, "mix weights sum to %s; they must sum to 1", formatNumber(sum))
	}
	return Dist{kind: kMix, mix: m}, nil
}

// empirical parses samples(...) or histogram(...) after its '(': the items
// inline, or the name of a file that holds them.
func (p *parser) empirical(name string, start, open int) (Dist, error) {
	t := &empTable{hist: name == "histogram"}
	p.skipSpace()
	if p.peek('"') {
		return p.empiricalFile(name, t, open)
	}
	for {
		p.skipSpace()
		if len(t.lo) == 0 && p.peek(')') {
			return Dist{}, errorf(p.pos, "%s needs at least one item; %s", name, signature(name))
		}
		if err := p.item(name, t, open); err != nil {
			return Dist{}, err
		}
		if end, err := p.listNext(name, open); err != nil {
			return Dist{}, err
		} else if end {
			break
		}
	}
	d, ok := t.finish()
	if !ok {
		return Dist{}, errorf(start, "histogram needs a positive count")
	}
	return d, nil
}

// empiricalFile reads the items of samples("name") or histogram("name")
// from the file, and reports a problem in it at its line and column.
func (p *parser) empiricalFile(name string, t *empTable, open int) (Dist, error) {
	off := p.pos
	q, err := strconv.QuotedPrefix(p.s[p.pos:])
	if err != nil {
		return Dist{}, errorf(off, "unterminated file name in %s(...); write it in double quotes, as in %s(\"latencies.txt\")", name, name)
	}
	p.pos += len(q)
	file, _ := strconv.Unquote(q) // a valid quoted prefix: cannot fail
	p.skipSpace()
	if !p.peek(')') {
		if p.pos == len(p.s) {
			return Dist{}, p.closeError(name, open)
		}
		return Dist{}, errorf(p.pos, "%s takes a file name alone; found %s after it", name, p.found())
	}
	p.pos++
	switch {
	case file == "":
		return Dist{}, errorf(off, "empty file name in %s(...)", name)
	case p.read == nil:
		return Dist{}, errorf(off, "%s(%s) reads a file, which only a scenario file can name; list the items inline instead", name, quote(file))
	}
	data, rerr := p.read(file)
	if rerr != nil {
		return Dist{}, errorf(off, "%s(%s): %v", name, quote(file), rerr)
	}
	f := parser{s: string(data), file: true}
	for {
		f.skipSpace()
		if f.pos == len(f.s) {
			break
		}
		if err := f.item(name, t, 0); err != nil {
			line := 1 + strings.Count(f.s[:err.Offset], "\n")
			col := 1 + err.Offset - (strings.LastIndexByte(f.s[:err.Offset], '\n') + 1)
			return Dist{}, errorf(off, "%s:%d:%d: %s", file, line, col, err.Msg)
		}
		f.skipSpace()
		if f.peek(',') {
			f.pos++
		}
	}
	t.file = file
	d, ok := t.finish()
	if !ok {
		what := "samples"
		if t.hist {
			what = "bins with a count"
		}
		return Dist{}, errorf(off, "%s holds no %s; %s", quote(file), what, signature(name))
	}
	return d, nil
}

// item parses one sample ("1.2ms") or one bin ("1ms..2ms: 40") into t.
func (p *parser) item(name string, t *empTable, open int) *SyntaxError {
	off := p.pos
	w := p.word()
	what := "a duration"
	if t.hist {
		what = "a bin such as 1ms..2ms: 40"
	}
	switch {
	case w == "" && p.file:
		return errorf(p.pos, "expected %s, found %s", what, p.found())
	case w == "":
		return p.missing(name, what, open)
	case len(t.lo) == maxItems:
		return errorf(off, "%s holds more than %d items; keep a random subset of them", name, maxItems)
	}
	p.skipSpace()
	if p.peek('(') {
		return errorf(off, "%s, not a nested distribution; only mix and markov nest distributions", signature(name))
	}
	if !t.hist {
		x, err := parseDuration(w, off)
		if err != nil {
			return err
		}
		t.lo = append(t.lo, x)
		return nil
	}
	los, his, ok := strings.Cut(w, "..")
	if !ok {
		return errorf(off, "expected a bin lo..hi: count, such as 1ms..2ms: 40, found %s", quote(w))
	}
	lo, err := parseDuration(los, off)
	if err != nil {
		return err
	}
	hi, err := parseDuration(his, off+len(los)+len(".."))
	if err != nil {
		return err
	}
	bin := formatDuration(lo) + ".." + formatDuration(hi)
	if hi <= lo {
		return errorf(off, "bin %s is empty; a bin needs lo < hi (list single values with samples)", bin)
	}
	if n := len(t.lo); n > 0 {
		prev := formatDuration(t.lo[n-1]) + ".." + formatDuration(t.hi[n-1])
		if lo < t.lo[n-1] {
			return errorf(off, "bin %s must come before %s; list bins in increasing order", bin, prev)
		}
		if lo < t.hi[n-1] {
			return errorf(off, "bin %s overlaps %s; bins must not overlap", bin, prev)
		}
	}
	if !p.peek(':') {
		return errorf(p.pos, "expected ':' and a count after the bin %s, as in %s: 40", bin, bin)
	}
	p.pos++
	p.skipSpace()
	coff := p.pos
	cw := p.word()
	if cw == "" {
		return errorf(coff, "missing the count of bin %s, as in %s: 40", bin, bin)
	}
	c, perr := strconv.ParseUint(cw, 10, 64)
	switch {
	case perr != nil && isDecimal(cw):
		return errorf(coff, "the count of bin %s is %s; counts are whole numbers of observations", bin, quote(cw))
	case perr != nil:
		return errorf(coff, "the count of bin %s is %s, not a whole number", bin, quote(cw))
	}
	var prev uint64
	if n := len(t.cum); n > 0 {
		prev = uint64(t.cum[n-1]) // a whole number below 2^53: exact
	}
	if c > maxCount-prev {
		return errorf(coff, "histogram counts sum to more than 2^53; scale them down")
	}
	t.lo = append(t.lo, lo)
	t.hi = append(t.hi, hi)
	t.cum = append(t.cum, float64(prev+c))
	return nil
}

// finish sorts samples, drops empty bins (which draw nothing) and derives
// the running counts and the mean; false when nothing is left to draw.
func (t *empTable) finish() (Dist, bool) {
	if t.hist {
		k, prev := 0, 0.0
		for i := range t.lo {
			if t.cum[i] > prev {
				t.lo[k], t.hi[k], t.cum[k] = t.lo[i], t.hi[i], t.cum[i]
				k++
			}
			prev = t.cum[i]
		}
		t.lo, t.hi, t.cum = t.lo[:k], t.hi[:k], t.cum[:k]
	} else {
		slices.Sort(t.lo)
		t.cum = make([]float64, len(t.lo))
		for i := range t.cum {
			t.cum[i] = float64(i + 1)
		}
	}
	if len(t.lo) == 0 {
		return Dist{}, false
	}
	m := 0.0
	for i, lo := range t.lo {
		x := float64(lo)
		if t.hist {
			x = (x + float64(t.hi[i])) / 2
		}
		m += t.count(i) * x
	}
	t.mean = m / t.cum[len(t.cum)-1]
	return Dist{kind: kEmpirical, emp: t}, true
}

// markov parses "state: distribution for sojourn" items after "markov(".
func (p *parser) markov(start, open, depth int) (Dist, error) {
	const name = "markov"
	t := &markovTable{}
	var rows []jumpRow
	for {
		p.skipSpace()
		if len(t.names) == 0 && p.peek(')') {
			return Dist{}, errorf(p.pos, "markov needs at least two states; %s", signature(name))
		}
		off := p.pos
		state := p.word()
		switch {
		case state == "":
			return Dist{}, p.missing(name, "a state name", open)
		case !stateName(state):
			return Dist{}, errorf(off, "%s is not a state name; name each state with letters, digits, '_' or '-', as in slow: exp(80ms) for 2s", quote(state))
		case slices.Contains(t.names, state):
			return Dist{}, errorf(off, "state %s is named twice", state)
		case len(t.names) == maxStates:
			return Dist{}, errorf(off, "markov has more than %d states", maxStates)
		}
		p.skipSpace()
		if !p.peek(':') {
			return Dist{}, errorf(p.pos, "expected ':' after the state name %s, as in %s: exp(80ms) for 2s", state, state)
		}
		p.pos++
		c, err := p.dist(depth + 1)
		if err != nil {
			return Dist{}, err
		}
		p.skipSpace()
		forOff := p.pos
		if p.word() != "for" {
			p.pos = forOff
			return Dist{}, errorf(forOff, "expected 'for' and the mean time in state %s, as in %s: %s for 2s; found %s", state, state, c, p.found())
		}
		p.skipSpace()
		soff := p.pos
		sw := p.word()
		if sw == "" {
			return Dist{}, errorf(soff, "missing the mean time in state %s after 'for', as in for 2s", state)
		}
		m, serr := parseDuration(sw, soff)
		if serr != nil {
			return Dist{}, serr
		}
		if m == 0 {
			return Dist{}, errorf(soff, "the mean time in state %s must be positive", state)
		}
		t.names = append(t.names, state)
		t.sojourn = append(t.sojourn, m)
		t.mix.comps = append(t.mix.comps, c)
		p.skipSpace()
		thenOff := p.pos
		if p.word() == "then" {
			j, err := p.jumps(state)
			if err != nil {
				return Dist{}, err
			}
			rows = append(rows, j)
			p.skipSpace()
		} else {
			p.pos = thenOff
			rows = append(rows, jumpRow{})
		}
		if end, err := p.listNext(name, open); err != nil {
			return Dist{}, err
		} else if end {
			break
		}
	}
	if len(t.names) < 2 {
		return Dist{}, errorf(start, "markov needs at least two states; with one, write its distribution alone")
	}
	cyclic, err := t.resolve(rows, start)
	if err != nil {
		return Dist{}, err
	}
	var shares []float64
	var cycle float64
	if cyclic {
		// A state's share of time is its mean sojourn over the cycle's:
		// each state is visited once per cycle, whatever the order.
		for _, m := range t.sojourn {
			cycle += float64(m)
		}
		for _, m := range t.sojourn {
			shares = append(shares, float64(m)/cycle)
		}
	} else {
		shares, cycle = t.stationary()
	}
	sum := 0.0
	for i, w := range shares {
		sum += w
		t.mix.weights = append(t.mix.weights, w)
		t.mix.cum = append(t.mix.cum, sum)
		t.mix.mean += w * t.mix.comps[i].Mean()
	}
	// After 64 cycles the chain has forgotten where it was: with two
	// states the start's weight decays as exp(-(1/m1 + 1/m2) t), below
	// e^-256 by then. With a jump matrix, a cycle is the longest mean time
	// from any state to any other or back to itself, which bounds how long
	// the chain takes to forget where it started (D. Aldous and J. Fill,
	// Reversible Markov Chains and Random Walks on Graphs, ch. 4: mixing
	// times are within a constant of the maximal mean hitting time).
	t.forget = int64(min(64*cycle, maxSample))
	return Dist{kind: kMarkov, mk: t}, nil
}

// jumpRow is one state's then (...) as written, before its names resolve.
type jumpRow struct {
	written bool
	off     int // of then's '(' for errors about the whole row
	names   []string
	offs    []int
	p       []float64
}

// jumps parses then's (weight state, ...) after the state named from.
func (p *parser) jumps(from string) (jumpRow, error) {
	p.skipSpace()
	row := jumpRow{written: true, off: p.pos}
	if !p.peek('(') {
		return row, errorf(p.pos, "expected '(' after then, as in %s: exp(80ms) for 2s then (0.7 fast, 0.3 mid)", from)
	}
	p.pos++
	for {
		p.skipSpace()
		off := p.pos
		w := p.word()
		if w == "" {
			return row, errorf(off, "missing a probability and a state in then (...) of state %s, as in then (0.7 fast, 0.3 mid); found %s", from, p.found())
		}
		prob, err := strconv.ParseFloat(w, 64)
		if err != nil {
			return row, errorf(off, "%s is not a probability; then (...) lists a probability then a state, as in then (0.7 fast, 0.3 mid)", quote(w))
		}
		if !(prob > 0 && prob <= 1) {
			return row, errorf(off, "probability %s must be in (0, 1]", w)
		}
		p.skipSpace()
		soff := p.pos
		to := p.word()
		if to == "" {
			return row, errorf(soff, "missing the state after the probability %s, as in then (%s fast)", w, w)
		}
		if slices.Contains(row.names, to) {
			return row, errorf(soff, "state %s is named twice in then (...) of state %s", to, from)
		}
		row.names = append(row.names, to)
		row.offs = append(row.offs, soff)
		row.p = append(row.p, prob)
		p.skipSpace()
		if p.peek(',') {
			p.pos++
			continue
		}
		if !p.peek(')') {
			return row, errorf(p.pos, "expected ',' or ')' in then (...) of state %s; found %s", from, p.found())
		}
		p.pos++
		return row, nil
	}
}

// resolve turns the rows as written into the jump matrix: a state without
// then moves to the next in the list. cyclic reports that no row was
// written or each row written is that cycle's. The probabilities of a row must sum to 1, no state may jump to
// itself (its mean time already says how long it stays) and every state
// must be reachable from every other (otherwise the chain would leave some
// for good, and their share of time would depend on where it started).
func (t *markovTable) resolve(rows []jumpRow, start int) (cyclic bool, err error) {
	n := len(t.names)
	cyclic = true
	t.moves = make([]markovMove, n)
	for i, row := range rows {
		mv := &t.moves[i]
		if !row.written {
			mv.to, mv.p, mv.cum = []int32{int32((i + 1) % n)}, []float64{1}, []float64{1}
			continue
		}
		mv.written = true
		sum := 0.0
		for k, name := range row.names {
			j := slices.Index(t.names, name)
			switch {
			case j < 0:
				return false, errorf(row.offs[k], "%s is not a state of this markov; its states are %s", quote(name), strings.Join(t.names, ", "))
			case j == i:
				return false, errorf(row.offs[k], "state %s cannot move to itself: its mean time already says how long it stays; leave it out", name)
			}
			sum += row.p[k]
			mv.to = append(mv.to, int32(j))
			mv.p = append(mv.p, row.p[k])
			mv.cum = append(mv.cum, sum)
		}
		if math.Abs(sum-1) > 1e-9 {
			return false, errorf(row.off, "the probabilities after then in state %s sum to %s; they must sum to 1", t.names[i], formatNumber(sum))
		}
		if len(mv.to) > 1 || int(mv.to[0]) != (i+1)%n {
			cyclic = false
		}
	}
	for i := range n {
		seen := make([]bool, n)
		seen[i] = true
		stack := []int32{int32(i)}
		for len(stack) > 0 {
			k := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, j := range t.moves[k].to {
				if !seen[j] {
					seen[j] = true
					stack = append(stack, j)
				}
			}
		}
		if j := slices.Index(seen, false); j >= 0 {
			off := start
			if rows[i].written {
				off = rows[i].off
			}
			return false, errorf(off, "state %s never leads to state %s: every state must be reachable from every other, or the chain would leave some for good", t.names[i], t.names[j])
		}
	}
	return cyclic, nil
}

// stationary returns each state's share of time and the chain's longest
// mean time from any state to any other or back to itself. The jump chain
// visits state i a share v_i of its jumps, v = v P with sum(v) = 1; the
// time spent there is v_i times the mean sojourn, so the share of time is
// v_i m_i / sum_j v_j m_j (the semi-Markov limit, e.g. S. Ross,
// Stochastic Processes, 2nd ed., th. 4.8.3).
func (t *markovTable) stationary() (shares []float64, longest float64) {
	n := len(t.names)
	p := make([][]float64, n)
	for i, mv := range t.moves {
		p[i] = make([]float64, n)
		for k, j := range mv.to {
			p[i][j] += mv.p[k]
		}
	}
	// v (P - I) = 0 is n equations of rank n-1: replace the last by
	// sum(v) = 1. Row i of the system is column i of P - I.
	a := make([][]float64, n)
	b := make([]float64, n)
	for i := range n {
		a[i] = make([]float64, n)
		for j := range n {
			a[i][j] = p[j][i]
		}
		a[i][i]--
	}
	for j := range n {
		a[n-1][j] = 1
	}
	b[n-1] = 1
	v := solve(a, b)
	total := 0.0
	for i, m := range t.sojourn {
		total += v[i] * float64(m)
	}
	for i, m := range t.sojourn {
		shares = append(shares, v[i]*float64(m)/total)
		// The mean time between entries into i: total over v_i.
		longest = max(longest, total/v[i])
	}
	// Mean hitting times of each target j: h_j = 0 and, for i != j,
	// h_i = m_i + sum_k P_ik h_k.
	for j := range n {
		a := make([][]float64, n)
		b := make([]float64, n)
		for i := range n {
			a[i] = make([]float64, n)
			a[i][i] = 1
			if i == j {
				continue
			}
			for k := range n {
				a[i][k] -= p[i][k]
			}
			b[i] = float64(t.sojourn[i])
		}
		for _, h := range solve(a, b) {
			longest = max(longest, h)
		}
	}
	return shares, longest
}

// solve solves a x = b by Gaussian elimination with partial pivoting; a is
// small (at most maxStates rows) and not singular. It overwrites a and b.
func solve(a [][]float64, b []float64) []float64 {
	n := len(b)
	for c := range n {
		piv := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[piv][c]) {
				piv = r
			}
		}
		a[c], a[piv] = a[piv], a[c]
		b[c], b[piv] = b[piv], b[c]
		for r := c + 1; r < n; r++ {
			f := a[r][c] / a[c][c]
			for k := c; k < n; k++ {
				a[r][k] -= f * a[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	x := make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		s := b[r]
		for k := r + 1; k < n; k++ {
			s -= a[r][k] * x[k]
		}
		x[r] = s / a[r][r]
	}
	return x
}

// stateName reports whether s names a markov state: a letter, then
// letters, digits, '_' or '-'.
func stateName(s string) bool {
	for i, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '_' || c == '-')) {
			return false
		}
	}
	return s != ""
}
