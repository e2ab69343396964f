package dist

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/faultline/faultline/internal/suggest"
)

// maxDepth bounds mix nesting so that hostile input cannot recurse deeply.
const maxDepth = 16

// SyntaxError reports why Parse rejected its input.
type SyntaxError struct {
	Offset int    // byte offset in the input where the problem is
	Msg    string // what is wrong, and how to fix it where that is clear
}

func (e *SyntaxError) Error() string {
	return "offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Parse parses a distribution written in the syntax described in the package
// documentation. Errors are of type *SyntaxError.
func Parse(s string) (Dist, error) {
	p := parser{s: s}
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
var names = []string{"exp", "uniform", "normal", "lognormal", "pareto", "weibull", "percentiles", "mix"}

// aliases catch names people reach for that edit distance would not.
var aliases = map[string]string{
	"exponential": "exp",
	"gaussian":    "normal",
	"lognorm":     "lognormal",
	"percentile":  "percentiles",
	"mixture":     "mix",
}

func signature(name string) string {
	switch name {
	case "percentiles":
		return "percentiles takes (pNN=duration, ...), such as percentiles(p50=8ms, p99=90ms)"
	case "mix":
		return "mix takes (weight distribution, ...), such as mix(0.9 exp(1ms), 0.1 exp(10ms))"
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
	s   string
	pos int
}

func errorf(off int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// word consumes a run of bytes up to whitespace or punctuation: a duration,
// a number, a function name or a percentile key.
func (p *parser) word() string {
	start := p.pos
	for p.pos < len(p.s) && strings.IndexByte(" \t\n\r(),=", p.s[p.pos]) < 0 {
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
		if _, ok := functions[name]; ok || name == "percentiles" || name == "mix" {
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
			return Dist{}, errorf(off, "%s, not a nested distribution; only mix nests distributions", signature(name))
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
		p.skipSpace()
		if p.peek(',') {
			p.pos++
			continue
		}
		if !p.peek(')') {
			return Dist{}, p.closeError(name, open)
		}
		p.pos++
		break
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
		p.skipSpace()
		if p.peek(',') {
			p.pos++
			continue
		}
		if !p.peek(')') {
			return Dist{}, p.closeError(name, open)
		}
		p.pos++
		break
	}
	if math.Abs(sum-1) > 1e-9 {
		return Dist{}, errorf(start, "mix weights sum to %s; they must sum to 1", formatNumber(sum))
	}
	return Dist{kind: kMix, mix: m}, nil
}
