package sim_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/faultline/faultline/sim"
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

// asyncCaller is a front of 2 workers whose requests work 10 ms and then
// wait on a back service that takes 500 ms, at 20 requests/s: a service
// calling it, or a gateway routing to it.
func asyncCaller(gateway bool, model string) string {
	front := `
[[service]]
name = "front"
workers = 2
queue = 50
service_time = "exp(10ms)"
concurrency_model = %q

[[service.call]]
to = "back"
`
	if gateway {
		front = `
[[gateway]]
name = "front"
workers = 2
queue = 50
service_time = "exp(10ms)"
concurrency_model = %q
route = [{ path = "/", to = "back" }]
`
	}
	return `
[scenario]
name = "async"
duration = "60s"
warmup = "10s"
seed = 1

[[client]]
name = "users"
target = "front"
rate = 20
timeout = "3s"
` + fmt.Sprintf(front, model) + `
[[service]]
name = "back"
workers = 100
service_time = "500ms"
`
}

// TestConcurrencyModel: at 20 requests/s, a front whose requests hold a
// worker through a 500 ms call needs 20 x 0.51 = 10 workers busy; with 2
// (thread-per-request) it saturates: its queue fills, requests are
// rejected and time out. A front that gives the worker back while the call
// is out (async: a goroutine per request, an event loop) needs 20 x 10 ms
// = 0.2 of a worker, answers everything, in about 500 ms plus its own
// time and a short wait, and counts only the working ones as busy.
func TestConcurrencyModel(t *testing.T) {
	tests := []struct {
		name     string
		gateway  bool
		model    string
		saturate bool
	}{
		{"service thread", false, "thread", true},
		{"service async", false, "async", false},
		{"gateway thread", true, "thread", true},
		{"gateway async", true, "async", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runTOML(t, asyncCaller(tt.gateway, tt.model))
			c := res.Clients[0]
			var front sim.ComponentResult
			for _, cr := range res.Components {
				if cr.Name == "front" {
					front = cr
				}
			}
			failed := c.Timeout + c.Rejected + c.Error
			t.Logf("%s: sent %d, ok %d, timeout %d, rejected %d; p50 %.1f ms, p99 %.1f ms; utilisation %.3f, in system %.2f",
				tt.name, c.Sent, c.OK, c.Timeout, c.Rejected, c.Latency.P50, c.Latency.P99, front.Utilisation, front.InSystemMean)
			if tt.saturate {
				if failed < c.Sent/2 {
					t.Errorf("%d of %d requests failed; a saturated front fails most", failed, c.Sent)
				}
				if front.Utilisation < 0.99 {
					t.Errorf("utilisation %.3f; want its 2 workers always busy", front.Utilisation)
				}
				return
			}
			if failed > 0 {
				t.Errorf("%d of %d requests failed; want none", failed, c.Sent)
			}
			if c.Latency.P50 < 500 || c.Latency.P50 > 520 {
				t.Errorf("p50 %.1f ms; want 500 ms of call plus a few ms of own time", c.Latency.P50)
			}
			if c.Latency.P99 > 560 {
				t.Errorf("p99 %.1f ms; want 500 ms + the p99 of exp(10ms) (46 ms) and a short wait", c.Latency.P99)
			}
			// Busy workers only: 0.2 erlangs over 2 workers.
			if math.Abs(front.Utilisation-0.1) > 0.01 {
				t.Errorf("utilisation %.3f; want 0.1 (20/s x 10 ms over 2 workers)", front.Utilisation)
			}
			// Little's law over every request at the front, waiting on
			// its call or not: 20/s x 0.51 s.
			if math.Abs(front.InSystemMean-10.2) > 0.5 {
				t.Errorf("in_system_mean %.2f; want about 10.2 (Little: 20/s x 510 ms)", front.InSystemMean)
			}
		})
	}
}

// TestAsyncWithoutCallsIsThread: a service that makes no call never waits
// on one, so the concurrency model changes nothing: every figure of an
// M/M/2 with a bounded queue, a queue timeout and errors is byte-identical.
func TestAsyncWithoutCallsIsThread(t *testing.T) {
	src := func(model string) string {
		return fmt.Sprintf(`
[scenario]
name = "mmc"
duration = "30s"
seed = 3

[[client]]
name = "users"
target = "server"
rate = 190
timeout = "200ms"

[[service]]
name = "server"
workers = 2
queue = 20
queue_timeout = "50ms"
errors = 0.01
service_time = "exp(10ms)"
concurrency_model = %q
`, model)
	}
	want := figures(t, loadSpec(t, src("thread")))
	if got := figures(t, loadSpec(t, src("async"))); got != want {
		t.Error("async without calls differs from thread")
	}
}

// TestAsyncResumeIsAdmitted: a request that takes a worker again for its
// work after its calls was admitted already. With no waiting room (queue =
// 0) a new request that finds the worker busy is rejected, yet the resumed
// ones still queue (the queue's maximum is above 0); and a queue timeout of
// 1 µs, which sheds any new request that waits, sheds none of them, since
// their work has begun. A crash of the front meanwhile loses the requests
// out on their calls with the others, and a pause holds back the ones whose
// calls answer during it (conservation and the pool are checked by run).
func TestAsyncResumeIsAdmitted(t *testing.T) {
	res := runTOML(t, `
[scenario]
name = "resume"
duration = "40s"
warmup = "5s"
seed = 2

[[client]]
name = "users"
target = "front"
rate = 60
timeout = "2s"

[[service]]
name = "front"
workers = 1
queue = 0
queue_timeout = "1us"
service_time = "exp(10ms)"
after_calls = 0.5
concurrency_model = "async"

[[service.call]]
to = "back"

[[service]]
name = "back"
workers = 100
service_time = "exp(50ms)"

[[fault]]
kind = "crash"
target = "front"
start = "20s"
duration = "2s"

[[fault]]
kind = "pause"
target = "front"
start = "30s"
duration = "1s"
`)
	front := res.Components[0]
	t.Logf("front: arrivals %d, ok %d, rejected %d, shed %d, error %d, queue max %d", front.Arrivals, front.OK, front.Rejected, front.Shed, front.Error, front.QueueMax)
	if front.QueueMax == 0 {
		t.Error("no request queued; the resumed ones queue even with queue = 0")
	}
	if front.Rejected == 0 {
		t.Error("no new request was rejected at a busy worker with queue = 0")
	}
	if front.Shed != 0 {
		t.Errorf("%d requests shed; a resumed request is never shed", front.Shed)
	}
	if front.Error == 0 {
		t.Error("the crash lost no request")
	}
}
