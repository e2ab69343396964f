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
