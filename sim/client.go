package sim

import (
	"math"
	"math/rand/v2"

	"github.com/faultline/faultline/sim/metrics"
)

// client is a source of requests: open loop (arrivals whatever happens) or
// closed loop (users who wait for an answer before they send again).
type client struct {
	s       *Sim
	idx     int32
	spec    *Client
	target  int32
	rng     *rand.Rand
	timeout int64
	peak    float64 // the highest rate of the schedule: the thinning bound

	agg, win tally
	series   []Window
	health   healthTracker
}

// tally counts outcomes over some stretch of time: the whole run after warmup,
// or one window.
type tally struct {
	sent     uint64 // for a service: arrivals
	ok       uint64
	errors   uint64
	timeouts uint64
	rejected uint64
	wasted   uint64
	lat      metrics.Histogram // latencies of successful requests
	// firstBad is when the first outcome other than OK came, if any did:
	// the onset of trouble within a window, finer than the window.
	firstBad int64
	anyBad   bool
}

func (t *tally) count(o Outcome, now int64) {
	if o != OK && !t.anyBad {
		t.firstBad, t.anyBad = now, true
	}
	switch o {
	case OK:
		t.ok++
	case Error:
		t.errors++
	case Timeout:
		t.timeouts++
	case Rejected:
		t.rejected++
	}
}

func (t *tally) outcomes() uint64 { return t.ok + t.errors + t.timeouts + t.rejected }

func (t *tally) reset() {
	t.sent, t.ok, t.errors, t.timeouts, t.rejected, t.wasted = 0, 0, 0, 0, 0, 0
	t.anyBad = false
	t.lat.Reset() // cheap: the histogram clears only the buckets it used
}

func (c *client) init(s *Sim, idx int32, spec *Client, target int32) {
	c.s, c.idx, c.spec, c.target = s, idx, spec, target
	c.rng = s.stream("client/" + spec.Name)
	c.timeout = int64(spec.Timeout)
	c.peak = spec.Rate
	for _, st := range spec.Schedule {
		c.peak = math.Max(c.peak, st.Rate)
	}
}

func (c *client) start() {
	if c.spec.Users > 0 {
		for range c.spec.Users {
			// Each user thinks before its first request, so that users do
			// not all fire at time zero in lockstep.
			c.s.schedule(c.s.now+c.spec.ThinkTime.Sample(c.rng), evThinkDone, c.idx, 0)
		}
		return
	}
	if c.spec.Arrival == Constant && c.rate(0) > 0 {
		// Evenly spaced requests start on the beat: N per second for T
		// seconds is N*T requests.
		c.s.schedule(0, evArrival, c.idx, 0)
		return
	}
	c.scheduleArrival()
}

// rate returns the open-loop rate at virtual time t.
func (c *client) rate(t int64) float64 {
	r := c.spec.Rate
	for _, st := range c.spec.Schedule {
		at := int64(st.At)
		if t < at {
			break
		}
		if st.Ramp > 0 && t < at+int64(st.Ramp) {
			f := float64(t-at) / float64(st.Ramp)
			return r + f*(st.Rate-r)
		}
		r = st.Rate
	}
	return r
}

// nextChange returns the first schedule step after t, or the end of the run.
func (c *client) nextChange(t int64) int64 {
	for _, st := range c.spec.Schedule {
		if int64(st.At) > t {
			return int64(st.At)
		}
	}
	return c.s.end
}

// scheduleArrival plans the next open-loop request. Poisson arrivals with a
// varying rate are drawn by thinning (Lewis and Shedler): candidates at the
// peak rate, each kept with probability rate(t)/peak.
func (c *client) scheduleArrival() {
	if c.peak <= 0 {
		return
	}
	t := c.s.now
	for t < c.s.end {
		if c.spec.Arrival == Constant {
			r := c.rate(t)
			if r <= 0 {
				t = c.nextChange(t)
				continue
			}
			t += max(int64(1e9/r), 1)
			break
		}
		t += int64(c.rng.ExpFloat64() / c.peak * 1e9)
		if r := c.rate(t); r >= c.peak || c.rng.Float64()*c.peak < r {
			break
		}
	}
	if t < c.s.end {
		c.s.schedule(t, evArrival, c.idx, 0)
	}
}

func (c *client) arrival() {
	c.send()
	c.scheduleArrival()
}

// send starts a request to the client's target.
func (c *client) send() {
	s := c.s
	counted := s.now >= s.warmup
	if counted {
		c.agg.sent++
	}
	c.win.sent++
	if r := s.sendRequest(noParent, c.idx, c.target, s.spec.Network.Latency, c.timeout); r >= 0 {
		s.reqs.r[r].counted = counted
	}
}

// done records the outcome of one of the client's requests and, for a closed
// loop, lets the user think before the next one.
func (c *client) done(r *request) {
	s := c.s
	if r.counted {
		c.agg.count(r.outcome, s.now)
		if r.outcome == OK {
			c.agg.lat.Record(s.now - r.sent)
		}
	}
	c.win.count(r.outcome, s.now)
	if r.outcome == OK {
		c.win.lat.Record(s.now - r.sent)
	}
	if c.spec.Users > 0 {
		s.schedule(s.now+c.spec.ThinkTime.Sample(c.rng), evThinkDone, c.idx, 0)
	}
}
