package dist

import (
	"math/rand/v2"
	"slices"
)

// Regime is where one consumer of a Markov-modulated distribution stands:
// its state and the virtual time at which it leaves it. Each consumer (a
// service instance, a network link) keeps its own, so that each has its own
// slow episodes; the Dist stays an immutable value shared by all of them.
//
// The zero Regime has not started: its first draw finds the chain as at a
// random time, in state i with probability sojourn[i] / sum(sojourn) and
// with an exponential time left there (which is exact, as sojourns are
// memoryless). A Regime is a small value and never allocates.
type Regime struct {
	until int64 // when the current state ends
	state int32
	on    bool // started
}

// Modulated reports whether d is a markov(...) distribution, whose draws
// depend on a Regime: Sample ignores the state, SampleAt keeps it.
func (d Dist) Modulated() bool { return d.kind == kMarkov }

// SameChain reports whether d and o are markov(...) distributions whose
// chains move alike: the same number of states with the same mean times
// and the same jump matrix, so that one Regime can serve both (each still
// draws from its own states' distributions).
func (d Dist) SameChain(o Dist) bool {
	if d.kind != kMarkov || o.kind != kMarkov || !slices.Equal(d.mk.sojourn, o.mk.sojourn) {
		return false
	}
	for i, mv := range d.mk.moves {
		ov := o.mk.moves[i]
		if !slices.Equal(mv.to, ov.to) || !slices.Equal(mv.p, ov.p) {
			return false
		}
	}
	return true
}

// SampleAt draws one value at virtual time now (nanoseconds, in [0, 1<<62))
// for the consumer whose state g holds: a markov distribution first moves
// g's chain to now, drawing the sojourns it completed from r, then draws
// from the state it is in. Every other distribution ignores now and g and
// draws as Sample. A consumer's times must not decrease. It never
// allocates.
//
// The chain switches in virtual time, not per draw: "slow for 2s" means
// that a slow episode lasts 2 s on average however many draws fall in it,
// so the chance that a slow draw follows a slow one rises with the rate of
// draws, as in a real service whose GC pause holds every request it meets.
func (d Dist) SampleAt(r *rand.Rand, now int64, g *Regime) int64 {
	if d.kind != kMarkov {
		return d.Sample(r)
	}
	m := d.mk
	if !g.on || now-g.until > m.forget {
		// First use, or idle so long that the chain's state then says
		// nothing about its state now: start from the share of time.
		g.state = int32(m.mix.index(r.Float64()))
		g.until = now + m.stay(r, g.state)
		g.on = true
	}
	for g.until <= now {
		g.state = m.move(r, g.state)
		g.until += m.stay(r, g.state)
	}
	return m.mix.comps[g.state].Sample(r)
}

// stay draws the time spent in state i, at least 1 ns so that the chain
// always moves forward.
func (m *markovTable) stay(r *rand.Rand, i int32) int64 {
	return max(nanos(r.ExpFloat64()*float64(m.sojourn[i])), 1)
}

// move picks the state that follows i from its row of the jump matrix. A
// row with one way out (the cycle of a chain without then) draws nothing,
// so such a chain uses r exactly as before jump matrices existed.
func (m *markovTable) move(r *rand.Rand, i int32) int32 {
	mv := &m.moves[i]
	if len(mv.to) == 1 {
		return mv.to[0]
	}
	u := r.Float64()
	for k, c := range mv.cum[:len(mv.cum)-1] {
		if u < c {
			return mv.to[k]
		}
	}
	// The last way out takes whatever rounding leaves above the sums.
	return mv.to[len(mv.to)-1]
}
