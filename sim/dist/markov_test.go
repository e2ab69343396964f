package dist_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/faultline/faultline/sim/dist"
)

// TestMarkovDraws draws a two-state markov distribution on one regime every
// step and checks what a consumer sees against the chain's closed forms.
// Sampled every Δ, a chain with mean sojourns fast and slow is a discrete
// Markov chain: the share of time in slow is π = slow / (fast + slow), and
// with κ = 1/fast + 1/slow
//
//	P(slow | slow before) = π + (1-π) e^{-κΔ}
//	P(slow | fast before) = π (1 - e^{-κΔ})
//
// (Karlin and Taylor, A First Course in Stochastic Processes, the two-state
// chain). The states' values are apart (fast below 2ms, slow from 50ms), so
// every draw tells its state. The lag-1 autocorrelation of the draws is the
// indicator's, e^{-κΔ}, scaled by the share of the variance between the
// states; a run of slow draws lasts 1/(1-P(slow|slow)) draws on average.
func TestMarkovDraws(t *testing.T) {
	tests := []struct {
		name       string
		fast, slow float64 // mean sojourns, ns
		step       float64 // time between draws, ns
	}{
		// Draws every 1 ms, slow episodes of 5 ms every 35 ms: the
		// recording's 0.8 after a slow call against 0.03 after a fast one.
		{"bursts", 30e6, 5e6, 1e6},
		// Draws far apart (beyond 64 cycles, where a regime forgets and
		// restarts from the share of time): independent of each other.
		{"sparse", 30e6, 5e6, 5e9},
		// Draws much finer than the episodes: runs measure the sojourn.
		{"fine", 300e6, 50e6, 1e6},
	}
	const draws = 1_000_000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustParse(t, "markov(fast: uniform(0s, 2ms) for "+ns(tt.fast)+", slow: uniform(50ms, 150ms) for "+ns(tt.slow)+")")
			pi := tt.slow / (tt.fast + tt.slow)
			decay := math.Exp(-(1/tt.fast + 1/tt.slow) * tt.step)
			wantSS, wantSF := pi+(1-pi)*decay, pi*(1-decay)

			r := rand.New(rand.NewPCG(3, 4))
			var g dist.Regime
			var slows, nSlow, nSS, nFast, nFS, runs float64
			var sum, sumSq, sumLag float64
			prev, prevSlow := 0.0, false
			for i := range draws {
				x := float64(d.SampleAt(r, int64(float64(i)*tt.step), &g))
				slow := x >= 50e6
				switch {
				case i == 0:
				case prevSlow:
					nSlow++
					nSS += boolf(slow)
				default:
					nFast++
					nFS += boolf(slow)
				}
				if i > 0 {
					sumLag += x * prev
				}
				if slow && (i == 0 || !prevSlow) {
					runs++
				}
				slows += boolf(slow)
				sum += x
				sumSq += x * x
				prev, prevSlow = x, slow
			}
			// The share of a correlated indicator varies (1+decay)/(1-decay)
			// times as much as that of independent draws.
			share := slows / draws
			if se := math.Sqrt(pi * (1 - pi) / draws * (1 + decay) / (1 - decay)); math.Abs(share-pi) > k*se {
				t.Errorf("share of slow draws %.4f, want %.4f within %.4f", share, pi, k*se)
			}
			// The sampled chain's transition estimates are binomial given
			// the number of draws leaving each state.
			gotSS, gotSF := nSS/nSlow, nFS/nFast
			if se := math.Sqrt(wantSS * (1 - wantSS) / nSlow); math.Abs(gotSS-wantSS) > k*se {
				t.Errorf("P(slow | slow) = %.4f, want %.4f within %.4f", gotSS, wantSS, k*se)
			}
			if se := math.Sqrt(wantSF * (1 - wantSF) / nFast); math.Abs(gotSF-wantSF) > k*se {
				t.Errorf("P(slow | fast) = %.4f, want %.4f within %.4f", gotSF, wantSF, k*se)
			}
			// Lag-1 autocorrelation: Cov = (μs-μf)² π(1-π) e^{-κΔ}.
			muF, muS := 1e6, 100e6
			varF, varS := 2e6*2e6/12, 100e6*100e6/12
			mu := (1-pi)*muF + pi*muS
			variance := (1-pi)*(varF+muF*muF) + pi*(varS+muS*muS) - mu*mu
			wantRho := (muS - muF) * (muS - muF) * pi * (1 - pi) * decay / variance
			m := sum / draws
			rho := (sumLag/(draws-1) - m*m) / (sumSq/draws - m*m)
			// The chain decorrelates in 1/(1-decay) draws, so the
			// estimate has about draws*(1-decay) independent pieces.
			if se := 1 / math.Sqrt(draws*(1-decay)+1); math.Abs(rho-wantRho) > k*se {
				t.Errorf("lag-1 autocorrelation %.4f, want %.4f within %.4f", rho, wantRho, k*se)
			}
			// Runs of slow draws last 1/(1-P(slow|slow)) draws, whose
			// standard deviation is about the mean; with fine draws that
			// is the mean sojourn, slow, plus half a step.
			meanRun := slows / runs * tt.step
			wantRun := tt.step / (1 - wantSS)
			if se := wantRun / math.Sqrt(runs); math.Abs(meanRun-wantRun) > k*se+tt.step {
				t.Errorf("slow runs last %.4gns on average, want %.4gns within %.3g", meanRun, wantRun, k*se+tt.step)
			}
			if tt.name == "fine" && math.Abs(meanRun-tt.slow)/tt.slow > 0.05 {
				t.Errorf("slow episodes last %.4gns, want the sojourn %.4gns within 5%%", meanRun, tt.slow)
			}
			t.Logf("share %.4f (π %.4f), P(s|s) %.4f (%.4f), P(s|f) %.4f (%.4f), ρ %.4f (%.4f), slow run %.4gms (%.4gms)",
				share, pi, gotSS, wantSS, gotSF, wantSF, rho, wantRho, meanRun/1e6, wantRun/1e6)
		})
	}
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// ns writes nanoseconds as a duration the parser reads.
func ns(x float64) string { return time.Duration(x).String() }

// TestMarkovJumps draws a three-state markov distribution with a jump
// matrix (then (...)) on one regime and checks the chain against theory.
// A continuous-time chain that stays an exponential time of mean m_i in
// state i and then jumps to j with probability P_ij has generator Q,
// Q_ii = -1/m_i and Q_ij = P_ij/m_i; its share of time in i is
// v_i m_i / sum_j v_j m_j, v the stationary distribution of P (the
// embedded jump chain); sampled every Δ it is the discrete chain
// exp(QΔ), whose lag-1 autocorrelation of draws is
// (sum_ij w_i exp(QΔ)_ij μ_i μ_j - μ²) / σ² (Karlin and Taylor, A First
// Course in Stochastic Processes, ch. 4). The states' values are apart,
// so that each draw tells its state.
func TestMarkovJumps(t *testing.T) {
	const spec = "markov(a: uniform(0s, 2ms) for 30ms then (0.8 b, 0.2 c), " +
		"b: uniform(10ms, 20ms) for 5ms then (0.5 a, 0.5 c), " +
		"c: uniform(50ms, 150ms) for 10ms then (1 b))"
	m := []float64{30e6, 5e6, 10e6}
	P := [][]float64{{0, 0.8, 0.2}, {0.5, 0, 0.5}, {0, 1, 0}}
	mu := []float64{1e6, 15e6, 100e6}
	vars := []float64{2e6 * 2e6 / 12, 10e6 * 10e6 / 12, 100e6 * 100e6 / 12}
	// v = v P by power iteration on the lazy chain (P + I)/2, which has
	// the same v and converges although P may be periodic.
	v := []float64{1. / 3, 1. / 3, 1. / 3}
	for range 10000 {
		nv := make([]float64, 3)
		for i := range 3 {
			nv[i] += v[i] / 2
			for j := range 3 {
				nv[j] += v[i] * P[i][j] / 2
			}
		}
		v = nv
	}
	var total float64
	for i := range 3 {
		total += v[i] * m[i]
	}
	w := make([]float64, 3)
	for i := range 3 {
		w[i] = v[i] * m[i] / total
	}
	state := func(x float64) int {
		switch {
		case x < 5e6:
			return 0
		case x < 30e6:
			return 1
		}
		return 2
	}
	d := mustParse(t, spec)
	if got := d.Mean(); math.Abs(got-(w[0]*mu[0]+w[1]*mu[1]+w[2]*mu[2])) > 1 {
		t.Errorf("Mean() = %.6g, want the time-weighted %.6g", got, w[0]*mu[0]+w[1]*mu[1]+w[2]*mu[2])
	}

	t.Run("fine", func(t *testing.T) {
		// Draws every 50us: runs of one state measure its sojourns and
		// the state after a run its jump (a visit shorter than a step is
		// missed: 1 % of b's, well inside the bounds).
		const draws, step = 4_000_000, 50e3
		r := rand.New(rand.NewPCG(5, 6))
		var g dist.Regime
		var inState, runs, runLen [3]float64
		var jumps [3][3]float64
		prev := -1
		for i := range draws {
			s := state(float64(d.SampleAt(r, int64(float64(i)*step), &g)))
			inState[s]++
			if s != prev {
				if prev >= 0 {
					jumps[prev][s]++
				}
				runs[s]++
			}
			runLen[s]++
			prev = s
		}
		for i := range 3 {
			share := inState[i] / draws
			// A state's share varies as its visits do: about w(1-w)/visits
			// per visit count, taken generously.
			if se := math.Sqrt(w[i] * (1 - w[i]) / runs[i]); math.Abs(share-w[i]) > k*se {
				t.Errorf("state %d: share of time %.4f, want %.4f within %.4f", i, share, w[i], k*se)
			}
			meanRun := runLen[i] / runs[i] * step
			if se := m[i] / math.Sqrt(runs[i]); math.Abs(meanRun-m[i]) > k*se+step {
				t.Errorf("state %d: mean sojourn %.4gms, want %.4gms within %.3gms", i, meanRun/1e6, m[i]/1e6, (k*se+step)/1e6)
			}
			left := jumps[i][0] + jumps[i][1] + jumps[i][2]
			for j := range 3 {
				got := jumps[i][j] / left
				if se := math.Sqrt(P[i][j]*(1-P[i][j])/left) + 1/left; math.Abs(got-P[i][j]) > k*se+0.01 {
					t.Errorf("jump %d -> %d: share %.4f, want %.4f within %.4f", i, j, got, P[i][j], k*se+0.01)
				}
			}
			t.Logf("state %d: share %.4f (%.4f), sojourn %.4gms (%.4gms), jumps %.3f %.3f %.3f", i, share, w[i], meanRun/1e6, m[i]/1e6,
				jumps[i][0]/left, jumps[i][1]/left, jumps[i][2]/left)
		}
	})

	t.Run("lag1", func(t *testing.T) {
		// Draws every 5 ms, about a sojourn: consecutive draws are
		// correlated as exp(QΔ) says.
		const draws, step = 1_000_000, 5e6
		var q [3][3]float64
		for i := range 3 {
			q[i][i] = -step / m[i]
			for j := range 3 {
				if j != i {
					q[i][j] = P[i][j] * step / m[i]
				}
			}
		}
		e := expm(q)
		var mean, second, cov float64
		for i := range 3 {
			mean += w[i] * mu[i]
			second += w[i] * (vars[i] + mu[i]*mu[i])
			for j := range 3 {
				cov += w[i] * e[i][j] * mu[i] * mu[j]
			}
		}
		wantRho := (cov - mean*mean) / (second - mean*mean)

		r := rand.New(rand.NewPCG(7, 8))
		var g dist.Regime
		var sum, sumSq, sumLag, prevX float64
		var from [3]float64
		var to [3][3]float64
		prev := -1
		for i := range draws {
			x := float64(d.SampleAt(r, int64(float64(i)*step), &g))
			s := state(x)
			if i > 0 {
				sumLag += x * prevX
				from[prev]++
				to[prev][s]++
			}
			sum += x
			sumSq += x * x
			prevX, prev = x, s
		}
		mm := sum / draws
		rho := (sumLag/(draws-1) - mm*mm) / (sumSq/draws - mm*mm)
		// Bartlett's variance of a lag-1 estimate, (1+ρ²)/(1-ρ²)/n, twice
		// over for a series that is not Gaussian.
		if se := 2 * math.Sqrt((1+wantRho*wantRho)/(1-wantRho*wantRho)/draws); math.Abs(rho-wantRho) > k*se {
			t.Errorf("lag-1 autocorrelation %.4f, want %.4f within %.4f", rho, wantRho, k*se)
		}
		for i := range 3 {
			for j := range 3 {
				got := to[i][j] / from[i]
				if se := math.Sqrt(e[i][j] * (1 - e[i][j]) / from[i]); math.Abs(got-e[i][j]) > k*se {
					t.Errorf("P(%d after %d in %gms) = %.4f, want %.4f within %.4f", j, i, step/1e6, got, e[i][j], k*se)
				}
			}
		}
		t.Logf("lag-1 autocorrelation %.4f (%.4f)", rho, wantRho)
	})
}

// expm is exp(q) for a 3x3 generator times a step: scaled down by 2^10,
// a Taylor series, then squared back.
func expm(q [3][3]float64) [3][3]float64 {
	const halvings = 10
	var a, e, term [3][3]float64
	for i := range 3 {
		for j := range 3 {
			a[i][j] = q[i][j] / (1 << halvings)
		}
		e[i][i], term[i][i] = 1, 1
	}
	mul := func(x, y [3][3]float64) (z [3][3]float64) {
		for i := range 3 {
			for j := range 3 {
				for l := range 3 {
					z[i][j] += x[i][l] * y[l][j]
				}
			}
		}
		return z
	}
	for n := 1; n <= 20; n++ {
		term = mul(term, a)
		for i := range 3 {
			for j := range 3 {
				term[i][j] /= float64(n)
				e[i][j] += term[i][j]
			}
		}
	}
	for range halvings {
		e = mul(e, e)
	}
	return e
}

// TestMarkovCycleIsJumpMatrix: a chain written without then cycles
// through its states in order, and writing that cycle as a jump matrix
// moves the chain, and so its draws, exactly alike: a row with one way
// out draws nothing from the stream.
func TestMarkovCycleIsJumpMatrix(t *testing.T) {
	tests := []struct{ plain, jumps string }{
		{"markov(fast: exp(1ms) for 30ms, slow: exp(80ms) for 5ms)",
			"markov(fast: exp(1ms) for 30ms then (1 slow), slow: exp(80ms) for 5ms then (1 fast))"},
		{"markov(a: exp(1ms) for 3ms, b: exp(5ms) for 2ms, c: exp(9ms) for 1ms)",
			"markov(a: exp(1ms) for 3ms then (1 b), b: exp(5ms) for 2ms, c: exp(9ms) for 1ms then (1 a))"},
	}
	for _, tt := range tests {
		t.Run(tt.plain, func(t *testing.T) {
			d, e := mustParse(t, tt.plain), mustParse(t, tt.jumps)
			if d.Mean() != e.Mean() {
				t.Errorf("means %v and %v differ", d.Mean(), e.Mean())
			}
			if !d.SameChain(e) {
				t.Errorf("SameChain is false")
			}
			r1, r2 := rand.New(rand.NewPCG(1, 2)), rand.New(rand.NewPCG(1, 2))
			var g1, g2 dist.Regime
			for i := range 100_000 {
				now := int64(i) * 700_000
				if x, y := d.SampleAt(r1, now, &g1), e.SampleAt(r2, now, &g2); x != y {
					t.Fatalf("draw %d: %d against %d", i, x, y)
				}
			}
		})
	}
}
