package sim_test

import (
	"fmt"
	"math"
	"testing"
)

// TestMarkovServiceTime runs a service whose service time is
// markov(fast: 1ms for 900ms, slow: 50ms for 100ms) and reads its slow
// episodes off the client's 4 ms windows: a window is slow when its mean
// latency is. Each instance keeps its own chain (its own GC pauses), so
// with two instances both are slow together a share π² of the time, not π;
// and the episodes last the mean sojourn written (issue 18's bursts).
func TestMarkovServiceTime(t *testing.T) {
	const (
		fast, slow = 900.0, 100.0 // mean sojourns, ms
		win        = 4.0          // ms
		duration   = 400.0        // s
	)
	pi := slow / (fast + slow)
	for _, tt := range []struct {
		instances int
		threshold float64 // ms: mean window latency above it counts as slow
		share     float64 // share of slow windows
	}{
		{1, 25, pi},
		{2, 37, pi * pi}, // both instances slow: requests alternate between them
	} {
		t.Run(fmt.Sprint(tt.instances, " instances"), func(t *testing.T) {
			res := runTOML(t, fmt.Sprintf(`
[scenario]
duration = "%gs"
window = "%gms"
[[client]]
name = "users"
target = "gc"
rate = 5000
arrival = "constant"
timeout = "1s"
[[service]]
name = "gc"
instances = %d
workers = 1000
service_time = "markov(fast: 1ms for %gms, slow: 50ms for %gms)"
`, duration, win, tt.instances, fast, slow))
			var windows, slows, runs float64
			prev := false
			for _, s := range res.Series {
				if s.Component != "users" {
					continue
				}
				for _, w := range s.Windows {
					if w.Latency.Count == 0 {
						continue
					}
					windows++
					isSlow := w.Latency.Mean > tt.threshold
					if isSlow {
						slows++
						if !prev {
							runs++
						}
					}
					prev = isSlow
				}
			}
			// Windows decorrelate over an episode's length, so the share
			// has about (duration / cycle) independent pieces per state.
			share := slows / windows
			cycles := duration * 1000 / (fast + slow)
			if se := math.Sqrt(tt.share * (1 - tt.share) / cycles); math.Abs(share-tt.share) > 5*se {
				t.Errorf("share of slow windows %.4f, want %.4f within %.4f", share, tt.share, 5*se)
			}
			if tt.instances == 1 {
				// Exponential episodes: the mean of n of them has a
				// standard error of mean/sqrt(n); a window at each end
				// blurs an episode by up to one window.
				episode := slows / runs * win
				if se := slow / math.Sqrt(runs); math.Abs(episode-slow) > 5*se+win {
					t.Errorf("slow episodes last %.2fms on average, want %gms within %.2f", episode, slow, 5*se+win)
				}
				t.Logf("%.0f episodes of %.2fms, share %.4f (π %.4f)", runs, episode, share, tt.share)
			} else {
				t.Logf("share both slow %.4f (π² %.4f, π %.4f)", share, tt.share, pi)
			}
		})
	}
}
