package dist

import (
	"strconv"
	"strings"
	"time"
)

// Dist is a distribution of non-negative durations, a small value type.
// The zero Dist is the constant 0.
type Dist struct {
	// Parameters are kept exactly as written so that String round-trips;
	// whatever Sample would otherwise recompute on every call is derived
	// once when the Dist is built.
	kind kind
	a, b time.Duration // duration parameters, in the order they are written
	x, y float64       // kind-specific numbers, see the kind constants
	pct  *pctTable
	mix  *mixTable
	emp  *empTable
	mk   *markovTable
}

type kind uint8

const (
	kConst       kind = iota // a: value
	kExp                     // a: mean
	kUniform                 // a: lo, b: hi
	kNormal                  // a: mean, b: stddev (of the untruncated normal)
	kLognormal               // a: median, b: p99; x: mu, y: sigma
	kPareto                  // a: scale; x: shape, y: -1/shape
	kWeibull                 // a: scale; x: shape, y: 1/shape
	kPercentiles             // pct
	kMix                     // mix
	kEmpirical               // emp: samples or histogram
	kMarkov                  // mk
)

// pctTable is the inverse CDF of a percentiles distribution: linear between
// the points, then an exponential tail of rate 1/tail beyond the last one.
type pctTable struct {
	ps   []float64       // strictly increasing, ps[0] == 0
	xs   []time.Duration // non-decreasing, xs[0] is the p0 value
	tail float64         // mean excess of the tail; 0 when capped by p100 or flat
	mean float64
}

type mixTable struct {
	weights []float64 // as written, for String and the mixture CDF
	cum     []float64 // running sums of weights, for picking a component
	comps   []Dist
	mean    float64
}

// empTable is an empirical distribution: bins in increasing order that do
// not overlap, each drawn in proportion to its count, then uniformly within
// it. A sample is a bin of width 0 and count 1, so samples are drawn
// exactly as written.
type empTable struct {
	file string // the file the data came from; "" when written inline
	hist bool   // histogram(...): hi and counts; samples(...) have neither
	lo   []time.Duration
	hi   []time.Duration
	cum  []float64 // running sums of the counts: whole numbers, so exact
	mean float64
}

// markovTable is a Markov-modulated distribution: a chain that stays in
// each state for an exponential time of the state's mean sojourn, draws
// from the state's distribution meanwhile, then moves to another state:
// one picked from its row of the jump matrix (then (...)), or without one
// the next state in the order written, from the last back to the first.
// The state belongs to the consumer (a Regime); the table is shared.
type markovTable struct {
	names   []string
	sojourn []time.Duration // mean time in each state, as written
	moves   []markovMove    // each state's row of the jump matrix
	// mix holds the states weighted by their share of time, sojourn[i] /
	// sum(sojourn): what a draw finds with no regime, or at a random time.
	mix mixTable
	// forget is the idle gap after which a regime restarts from that
	// share of time instead of replaying every switch it missed.
	forget int64
}

// markovMove is one state's row of the jump matrix: where the chain goes
// when it leaves the state.
type markovMove struct {
	to      []int32   // the states it may go to, in the order written
	p       []float64 // their probabilities, as written
	cum     []float64 // running sums of p, for picking one
	written bool      // given by then (...); otherwise to is the next state
}

// Constant returns the distribution that always yields d. Negative durations
// are clamped to 0, because a Dist only holds non-negative durations.
func Constant(d time.Duration) Dist { return Dist{a: max(d, 0)} }

// IsZero reports whether d is the constant 0.
func (d Dist) IsZero() bool { return d.kind == kConst && d.a == 0 }

// String returns the canonical form of d, which Parse accepts and maps back
// to the same distribution.
func (d Dist) String() string {
	switch d.kind {
	case kExp:
		return "exp(" + formatDuration(d.a) + ")"
	case kUniform:
		return "uniform(" + formatDuration(d.a) + ", " + formatDuration(d.b) + ")"
	case kNormal:
		return "normal(" + formatDuration(d.a) + ", " + formatDuration(d.b) + ")"
	case kLognormal:
		return "lognormal(" + formatDuration(d.a) + ", " + formatDuration(d.b) + ")"
	case kPareto:
		return "pareto(" + formatDuration(d.a) + ", " + formatNumber(d.x) + ")"
	case kWeibull:
		return "weibull(" + formatDuration(d.a) + ", " + formatNumber(d.x) + ")"
	case kPercentiles:
		var sb strings.Builder
		sb.WriteString("percentiles(")
		sep := ""
		for i, p := range d.pct.ps {
			if i == 0 && d.pct.xs[0] == 0 {
				continue // p0=0s is the default
			}
			sb.WriteString(sep)
			sb.WriteString(percentileKey(p))
			sb.WriteByte('=')
			sb.WriteString(formatDuration(d.pct.xs[i]))
			sep = ", "
		}
		sb.WriteByte(')')
		return sb.String()
	case kMix:
		var sb strings.Builder
		sb.WriteString("mix(")
		for i, c := range d.mix.comps {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(formatNumber(d.mix.weights[i]))
			sb.WriteByte(' ')
			sb.WriteString(c.String())
		}
		sb.WriteByte(')')
		return sb.String()
	case kEmpirical:
		return d.emp.String()
	case kMarkov:
		var sb strings.Builder
		sb.WriteString("markov(")
		for i, c := range d.mk.mix.comps {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(d.mk.names[i])
			sb.WriteString(": ")
			sb.WriteString(c.String())
			sb.WriteString(" for ")
			sb.WriteString(formatDuration(d.mk.sojourn[i]))
			if mv := d.mk.moves[i]; mv.written {
				sb.WriteString(" then (")
				for j, to := range mv.to {
					if j > 0 {
						sb.WriteString(", ")
					}
					sb.WriteString(formatNumber(mv.p[j]))
					sb.WriteByte(' ')
					sb.WriteString(d.mk.names[to])
				}
				sb.WriteByte(')')
			}
		}
		sb.WriteByte(')')
		return sb.String()
	}
	return formatDuration(d.a)
}

func (t *empTable) String() string {
	name := "samples"
	if t.hist {
		name = "histogram"
	}
	if t.file != "" {
		return name + "(" + strconv.Quote(t.file) + ")"
	}
	var sb strings.Builder
	sb.WriteString(name)
	sb.WriteByte('(')
	for i, lo := range t.lo {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(formatDuration(lo))
		if t.hist {
			sb.WriteString("..")
			sb.WriteString(formatDuration(t.hi[i]))
			sb.WriteString(": ")
			// Whole, never in exponent form (1e+06), which the
			// parser refuses as a count.
			sb.WriteString(strconv.FormatFloat(t.count(i), 'f', -1, 64))
		}
	}
	sb.WriteByte(')')
	return sb.String()
}

// formatDuration spells microseconds "us" rather than "µs" so that canonical
// forms stay ASCII and can be typed back in.
func formatDuration(d time.Duration) string {
	s := d.String()
	if t, ok := strings.CutSuffix(s, "µs"); ok {
		return t + "us"
	}
	return s
}

// formatNumber uses the shortest form that parses back to exactly f.
func formatNumber(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// percentileKey is the inverse of parsing a pNN key: the decimal digits of p
// after "0.", at least two of them so that 0.5 reads p50 rather than p5.
func percentileKey(p float64) string {
	switch p {
	case 0:
		return "p0"
	case 1:
		return "p100"
	}
	digits := strconv.FormatFloat(p, 'f', -1, 64)[len("0."):]
	if len(digits) == 1 {
		digits += "0"
	}
	return "p" + digits
}
