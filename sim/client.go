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
	seq     uint64  // requests sent, for request keys
	link    link    // to the target
	surge   float64 // rate multiplier of active surge faults
	arrGen  uint32  // bumped when the rate changes: the planned arrival is void
	route   int32   // the gateway route of every request, or -1: by weight
	op      int32   // the target's operation of every request, or -1: by weight
	// flows are the client's requests by gateway route, or by operation
	// of its target: one per route or operation when there are several.
	flows []flow

	agg, win tally
	series   []Window
	health   healthTracker
	slow     slowness

	// Constant arrivals keep exact rational spacing: beat k after the
	// anchor beatFrom, at rate beatRate, is at beatFrom + round(k*1e9/rate),
	// so that rounding never accumulates (N per second for T seconds is
	// N*T requests). lastBeat is the last beat sent.
	beatFrom, lastBeat int64
	beats              int64
	beatRate           float64
}

// tally counts outcomes over some stretch of time: the whole run after warmup,
// or one window.
type tally struct {
	sent     uint64 // for a service: arrivals
	n        [numOutcomes]uint64
	wasted   uint64
	degraded uint64 // successes that a fallback answered in part
	// firstDegraded is when the first of them came, as firstBad.
	firstDegraded int64
	lat           metrics.Histogram // latencies of successful requests
	// all times every answered request, whatever its outcome, from its
	// send to its outcome as the client saw it (a timeout at the client's
	// timeout): the latency of what users waited for, which does not fall
	// when slow requests turn into timeouts. Only clients and their flows
	// have one (newAllTally); a service's is nil, so a service pays a
	// pointer for it, not a histogram.
	all *metrics.Histogram
	// firstBad is when the first outcome other than OK came, if any did:
	// the onset of trouble within a window, finer than the window.
	firstBad int64
	anyBad   bool
	// blame counts its failures by origin (provenance.go): windows only.
	blame blameTally
	// slowAt is the latency threshold in force (slowness.go), 0: none; an
	// answer over it is slow: slowN of them, the first at firstSlow, by
	// origin in slow. Windows of clients, flows and services only.
	slowAt    int64
	slowN     uint64
	firstSlow int64
	slow      blameTally
}

func (t *tally) count(o Outcome, now int64) {
	if o != OK && !t.anyBad {
		t.firstBad, t.anyBad = now, true
	}
	t.n[o]++
}

// answer counts an outcome of a client's request that took lat from its
// send, and times it.
func (t *tally) answer(o Outcome, lat, now int64) {
	t.count(o, now)
	t.all.Record(lat)
	if o == OK {
		t.lat.Record(lat)
	}
}

// timeAll gives a client's or a flow's tallies their histogram of every
// answered request.
func timeAll(agg, win *tally) {
	agg.all, win.all = new(metrics.Histogram), new(metrics.Histogram)
}

func (t *tally) outcomes() uint64 {
	var n uint64
	for _, c := range t.n {
		n += c
	}
	return n
}

func (t *tally) reset() {
	t.sent, t.n, t.wasted, t.degraded = 0, [numOutcomes]uint64{}, 0, 0
	t.blame, t.slow, t.slowN = blameTally{}, blameTally{}, 0
	t.anyBad = false
	t.lat.Reset() // cheap: the histogram clears only the buckets it used
	if t.all != nil {
		t.all.Reset()
	}
}

func (c *client) init(s *Sim, idx int32, spec *Client, target int32) {
	c.s, c.idx, c.spec, c.target = s, idx, spec, target
	c.rng = s.stream("client/" + spec.Name)
	c.timeout = int64(spec.Timeout)
	c.surge = 1
	c.route = -1
	for i, call := range s.services[target].spec.Calls {
		if spec.Route != "" && call.Path == spec.Route {
			c.route = int32(i)
		}
	}
	sv := &s.services[target]
	c.op = -1
	if spec.Operation != "" {
		c.op = sv.opIndex(spec.Operation)
	}
	var names []string
	switch {
	case sv.spec.Gateway != nil && len(sv.spec.Calls) > 1:
		for _, r := range sv.spec.Calls {
			names = append(names, r.Path)
		}
	case sv.spec.Gateway == nil && len(sv.ops) > 1:
		for _, o := range sv.ops {
			names = append(names, o.name)
		}
	}
	timeAll(&c.agg, &c.win)
	// A client whose requests all take one route (the gateway has one, or
	// the client names one) is that route's only flow: the route's
	// objective, when it has one, judges it.
	obj := spec.LatencyObjective
	if sv.spec.Gateway != nil {
		r := c.route
		if len(sv.spec.Calls) == 1 {
			r = 0
		}
		if r >= 0 && sv.spec.Calls[r].LatencyObjective.Percentile > 0 {
			obj = sv.spec.Calls[r].LatencyObjective
		}
	}
	c.slow.init(obj, s.spec.LatencyFactor)
	c.win.slowAt = c.slow.slowAt()
	for k, n := range names {
		c.flows = append(c.flows, flow{name: spec.Name + " " + n})
		f := &c.flows[len(c.flows)-1]
		timeAll(&f.agg, &f.win)
		// A route's own objective, else its client's.
		obj := spec.LatencyObjective
		if sv.spec.Gateway != nil && sv.spec.Calls[k].LatencyObjective.Percentile > 0 {
			obj = sv.spec.Calls[k].LatencyObjective
		}
		f.slow.init(obj, s.spec.LatencyFactor)
		f.win.slowAt = f.slow.slowAt()
	}
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
			c.s.schedule(after(c.s.now, c.spec.ThinkTime.Sample(c.rng)), evThinkDone, c.idx, 0)
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

// refreshSurge recomputes the client's rate multiplier from its active
// surge faults and, when it changed, plans its next arrival at the new rate.
// Poisson arrivals have no memory, so drawing the next one afresh from now
// is exact; constant arrivals keep their phase: the next beat comes one new
// gap after the last one sent (or now, if that is past). A surge that
// changes nothing (factor 1) leaves the planned arrival, and the random
// stream, untouched.
func (c *client) refreshSurge() {
	surge := 1.0
	for i := range c.s.faults {
		if f := &c.s.faults[i]; f.active && f.client == c.idx {
			if p, ok := f.p.(SurgeFault); ok {
				surge *= p.Factor
			}
		}
	}
	if surge == c.surge {
		return
	}
	c.surge = surge
	c.arrGen++
	c.scheduleArrival()
}

// rate returns the open-loop rate at virtual time t.
func (c *client) rate(t int64) float64 {
	return c.baseRate(t) * c.surge
}

func (c *client) baseRate(t int64) float64 {
	r := c.spec.Rate
	for _, st := range c.spec.Schedule {
		at := int64(st.At)
		if t < at {
			break
		}
		if st.Ramp > 0 && t < after(at, int64(st.Ramp)) {
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
	peak := c.peak * c.surge
	if peak <= 0 {
		return
	}
	if c.spec.Arrival == Constant {
		c.scheduleBeat()
		return
	}
	t := c.s.now
	for t < c.s.end {
		t = after(t, nanos(c.rng.ExpFloat64()/peak*1e9))
		if r := c.rate(t); r >= peak || c.rng.Float64()*peak < r {
			break
		}
	}
	if t < c.s.end {
		c.s.schedule(t, evArrival, c.idx, c.arrGen)
	}
}

// scheduleBeat plans the next constant-rate arrival after the last beat.
// The rate is read at the last beat; a new rate (a step of the schedule, a
// ramp, a surge) anchors the count at that beat.
func (c *client) scheduleBeat() {
	last := c.lastBeat
	for last < c.s.end {
		r := c.rate(last)
		nc := c.nextChange(last)
		if r <= 0 {
			last, c.beatRate = nc, 0
			continue
		}
		if r != c.beatRate {
			c.beatFrom, c.beats, c.beatRate = last, 0, r
		}
		c.beats++
		next := after(c.beatFrom, nanos(math.Round(float64(c.beats)*1e9/r)))
		if next > nc {
			// The beat at this rate would skip the next step of the
			// schedule: plan again from the step.
			last, c.beatRate = nc, 0
			continue
		}
		if next < c.s.now {
			// A faster rate from now (a surge began) puts the next
			// beat in the past: it is due at once, and counts anew.
			c.beatFrom, c.beats, next = c.s.now, 0, c.s.now
		}
		if next < c.s.end {
			c.s.schedule(next, evArrival, c.idx, c.arrGen)
		}
		return
	}
}

func (c *client) arrival() {
	c.lastBeat = c.s.now
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
	sv := &s.services[c.target]
	host := sv.lb.Pick(&sv.hosts, 0, c.rng)
	if host < 0 {
		// Every instance is down: the connection is refused at once.
		route, op := c.pickRoute(sv), sv.opFor(c.op, c.rng)
		org := s.serviceOrigin(c.target, CauseNoInstance, 0)
		if f := c.flow(route, op); f != nil {
			f.sent(counted)
			f.answer(Error, counted, 0, s.now)
			f.win.blame.add(org, s.occurs)
		}
		c.win.blame.add(org, s.occurs)
		c.refused(counted)
		return
	}
	if r := s.sendRequest(noParent, c.idx, c.target, int32(host), s.spec.Network.Latency, c.timeout); r >= 0 {
		rq := &s.reqs.r[r]
		rq.set(reqCounted, counted)
		rq.key = c.key()
		rq.route = c.pickRoute(sv)
		rq.op = sv.opFor(c.op, c.rng)
		if f := c.flow(rq.route, rq.op); f != nil {
			f.sent(counted)
		}
	}
}

// flow returns the flow of a request by its route or operation, or nil
// when the client has a single flow: the client itself.
func (c *client) flow(route, op int32) *flow {
	switch {
	case len(c.flows) == 0:
		return nil
	case c.s.services[c.target].spec.Gateway != nil:
		return &c.flows[route]
	}
	return &c.flows[op]
}

// key draws the key of a new request: one of Keys, or a fresh one.
func (c *client) key() uint64 {
	c.seq++
	if c.spec.Keys > 0 {
		return splitmix(uint64(c.rng.IntN(c.spec.Keys)))
	}
	return splitmix(c.seq ^ uint64(c.idx)<<48)
}

// pickRoute chooses the gateway route of a new request: the client's own,
// or one drawn by the routes' weights.
func (c *client) pickRoute(sv *service) int32 {
	switch {
	case sv.spec.Gateway == nil:
		return 0
	case c.route >= 0:
		return c.route
	}
	cum := sv.routeCum
	x := c.rng.Float64() * cum[len(cum)-1]
	for i, w := range cum {
		if x < w {
			return int32(i)
		}
	}
	return int32(len(cum) - 1)
}

// refused counts a request that found no instance to connect to: an
// error, answered at once.
func (c *client) refused(counted bool) {
	s := c.s
	if counted {
		c.agg.answer(Error, 0, s.now)
	}
	c.win.answer(Error, 0, s.now)
	if c.spec.Users > 0 {
		s.schedule(after(s.now, c.spec.ThinkTime.Sample(c.rng)), evThinkDone, c.idx, 0)
	}
}

// done records the outcome of one of the client's requests and, for a closed
// loop, lets the user think before the next one.
func (c *client) done(r *request) {
	s := c.s
	lat := s.now - r.sent
	if r.is(reqCounted) {
		c.agg.answer(r.outcome, lat, s.now)
		if r.outcome == OK && r.is(reqDegraded) {
			c.agg.degraded++
		}
	}
	c.win.answer(r.outcome, lat, s.now)
	if r.outcome == OK && r.is(reqDegraded) {
		c.win.noteDegraded(s.now)
	}
	bad := r.outcome != OK || r.is(reqDegraded)
	if bad && !r.org.set() {
		r.org = origin{comp: r.svc, cause: CauseError}
	}
	if bad {
		c.win.blame.add(r.org, s.occurs)
	}
	if r.outcome == OK {
		c.win.noteSlow(lat, s.now, r.late, r.svc, s.occurs)
	}
	if f := c.flow(r.route, r.op); f != nil {
		f.answer(r.outcome, r.is(reqCounted), lat, s.now)
		if r.outcome == OK && r.is(reqDegraded) {
			f.win.noteDegraded(s.now)
		}
		if bad {
			f.win.blame.add(r.org, s.occurs)
		}
		if r.outcome == OK {
			f.win.noteSlow(lat, s.now, r.late, r.svc, s.occurs)
		}
	}
	if c.spec.Users > 0 {
		s.schedule(after(s.now, c.spec.ThinkTime.Sample(c.rng)), evThinkDone, c.idx, 0)
	}
}

// flow is a client's requests along one route or to one operation: the
// unit of a fault's blast radius.
type flow struct {
	name     string // "shoppers /checkout", "shoppers search"
	agg, win tally
	series   []Window
	health   healthTracker
	slow     slowness
}

func (f *flow) sent(counted bool) {
	if counted {
		f.agg.sent++
	}
	f.win.sent++
}

func (f *flow) answer(o Outcome, counted bool, lat, now int64) {
	if counted {
		f.agg.answer(o, lat, now)
	}
	f.win.answer(o, lat, now)
}

func (t *tally) noteDegraded(now int64) {
	if t.degraded == 0 {
		t.firstDegraded = now
	}
	t.degraded++
}
