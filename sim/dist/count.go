package dist

import (
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// MaxCount is the largest count a Count may draw.
const MaxCount = 10000

// Count is a distribution of a whole number of times something happens,
// such as how many times a call is made in sequence. Like Dist it is an
// immutable value; its zero value always draws 0.
type Count struct {
	lo, hi int32   // uniform over lo..hi when vals is nil
	vals   []int32 // the values, each with weight cum[i] - cum[i-1]
	cum    []uint64
}

// ConstCount draws n every time.
func ConstCount(n int) Count { return Count{lo: int32(n), hi: int32(n)} }

// Sample draws a count.
func (c Count) Sample(rng *rand.Rand) int {
	if c.vals == nil {
		if c.hi == c.lo {
			return int(c.lo)
		}
		return int(c.lo) + rng.IntN(int(c.hi-c.lo)+1)
	}
	x := rng.Uint64N(c.cum[len(c.cum)-1])
	return int(c.vals[sort.Search(len(c.cum), func(i int) bool { return c.cum[i] > x })])
}

// Mean is the expected count.
func (c Count) Mean() float64 {
	if c.vals == nil {
		return float64(c.lo+c.hi) / 2
	}
	var s, prev float64
	for i, v := range c.vals {
		s += float64(v) * (float64(c.cum[i]) - prev)
		prev = float64(c.cum[i])
	}
	return s / prev
}

// ParseCount parses a count distribution: "uniform(a, b)", each whole
// number from a to b equally likely; "samples(0, 1, 1, 9)", each listed
// value equally likely (one listed twice, twice as likely); or
// "histogram(1: 30, 9: 70)", value: weight pairs, as an observed count
// distribution is written. Values are whole numbers in 0..MaxCount. A
// constant count is an integer, not a string: the loader reads it.
func ParseCount(s string) (Count, error) {
	open := strings.IndexByte(s, '(')
	name := strings.TrimSpace(s[:max(open, 0)])
	if open < 0 || !strings.HasSuffix(strings.TrimSpace(s), ")") {
		return Count{}, errorf(0, `want uniform(a, b), samples(n, ...) or histogram(n: weight, ...), got %s`, quote(s))
	}
	end := strings.LastIndexByte(s, ')')
	var args []string
	var offs []int
	off := open + 1
	for _, a := range strings.Split(s[open+1:end], ",") {
		lead := len(a) - len(strings.TrimLeft(a, " \t"))
		args, offs = append(args, strings.TrimSpace(a)), append(offs, off+lead)
		off += len(a) + 1
	}
	num := func(i int, w string) (int32, error) {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 0 || n > MaxCount {
			return 0, errorf(offs[i], "want a whole number in 0..%d, got %s", MaxCount, quote(w))
		}
		return int32(n), nil
	}
	var c Count
	switch name {
	case "uniform":
		if len(args) != 2 {
			return Count{}, errorf(open, "uniform(a, b) takes two whole numbers, got %d arguments", len(args))
		}
		lo, err := num(0, args[0])
		if err != nil {
			return Count{}, err
		}
		hi, err := num(1, args[1])
		if err != nil {
			return Count{}, err
		}
		if hi < lo {
			return Count{}, errorf(offs[1], "uniform(a, b) needs a <= b, got %d > %d", lo, hi)
		}
		return Count{lo: lo, hi: hi}, nil
	case "samples", "histogram":
		var total uint64
		for i, a := range args {
			v, w := a, "1"
			if name == "histogram" {
				var found bool
				if v, w, found = strings.Cut(a, ":"); !found {
					return Count{}, errorf(offs[i], "a histogram of counts lists value: weight, got %s", quote(a))
				}
			}
			n, err := num(i, v)
			if err != nil {
				return Count{}, err
			}
			wt, err := strconv.ParseUint(strings.TrimSpace(w), 10, 32)
			if err != nil {
				return Count{}, errorf(offs[i], "a weight is a whole number >= 0, got %s", quote(strings.TrimSpace(w)))
			}
			if wt == 0 {
				continue
			}
			total += wt
			c.vals, c.cum = append(c.vals, n), append(c.cum, total)
		}
		if total == 0 {
			return Count{}, errorf(open, "%s(...) needs at least one value of weight > 0", name)
		}
		return c, nil
	}
	return Count{}, errorf(0, "unknown count distribution %s: want uniform(a, b), samples(n, ...) or histogram(n: weight, ...)", quote(name))
}
