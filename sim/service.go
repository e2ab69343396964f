package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/faultline/faultline/sim/dist"
)

// service is a pool of instances; each instance has workers and a FIFO
// waiting room. A request holds a worker from the start of its work until its
// response leaves, including the time it waits on downstream calls, so a slow
// dependency exhausts its callers' workers (thread-per-request).
type service struct {
	s       *Sim
	spec    *Service
	rng     *rand.Rand
	insts   []instance
	rr      int // round-robin cursor over instances
	calls   []edge
	stages  []int32 // calls[stages[k]:stages[k+1]] are issued together
	faults  []int32 // active faults, in start order
	faultEr float64 // probability that an active errors fault fails a request

	busy, queued int // totals over instances

	// Time integrals of busy workers and queued requests since lastT, for
	// utilisation and mean queue length; agg* since warmup, win* this window.
	lastT             int64
	aggBusy, aggQueue float64
	winBusy, winQueue float64
	aggQMax, winQMax  int
	aggStart          int64 // when the aggregates started: warmup or 0

	agg, win tally
	series   []Window
	health   healthTracker
	overflow bool // rejected requests in the last window
}

// edge is one compiled downstream call.
type edge struct {
	to      int32
	timeout int64
	prob    float64
	fanout  int
	latency dist.Dist
}

type instance struct {
	busy int
	q    ring
}

func (sv *service) init(s *Sim, spec *Service, byName map[string]int32) {
	sv.s, sv.spec = s, spec
	sv.rng = s.stream("service/" + spec.Name)
	sv.insts = make([]instance, spec.Instances)
	sv.stages = append(sv.stages, 0)
	for i, c := range spec.Calls {
		lat := s.spec.Network.Latency
		if c.HasLatency {
			lat = c.Latency
		}
		sv.calls = append(sv.calls, edge{to: byName[c.To], timeout: int64(c.Timeout), prob: c.Probability, fanout: c.Fanout, latency: lat})
		if i+1 == len(spec.Calls) || c.Group == "" || spec.Calls[i+1].Group != c.Group {
			sv.stages = append(sv.stages, int32(i+1))
		}
	}
}

// account brings the time integrals up to now; call it before busy or queued
// change.
func (sv *service) account(now int64) {
	dt := float64(now - sv.lastT)
	b, q := float64(sv.busy)*dt, float64(sv.queued)*dt
	sv.aggBusy += b
	sv.winBusy += b
	sv.aggQueue += q
	sv.winQueue += q
	sv.lastT = now
}

func (sv *service) resetAggregates(now int64) {
	sv.account(now)
	sv.aggBusy, sv.aggQueue, sv.aggQMax = 0, 0, 0
	sv.aggStart = now
	sv.agg.reset()
}

// sendRequest creates a request from a caller (a client when parent is
// noParent) to service to, and plans its arrival and its caller's timeout.
func (s *Sim) sendRequest(parent, origin, to int32, lat dist.Dist, timeout int64) int32 {
	i := s.reqs.alloc()
	if i < 0 {
		// The system is hopelessly overloaded: hundreds of millions of
		// requests in flight. Stop rather than exhaust memory.
		s.err = fmt.Errorf("more than %d requests in flight at %s: the scenario is far beyond capacity", maxArg, time.Duration(s.now))
		return -1
	}
	r := &s.reqs.r[i]
	r.svc, r.parent, r.origin, r.sent = to, parent, origin, s.now
	var d int64
	if !lat.IsZero() {
		d = lat.Sample(s.senderRNG(parent, origin))
	}
	s.schedule(s.now+d, evDeliver, i, r.gen)
	if timeout > 0 {
		s.schedule(s.now+timeout, evTimeout, i, r.gen)
	}
	return i
}

// senderRNG is the stream that draws a hop's latency: the caller's.
func (s *Sim) senderRNG(parent, origin int32) *rand.Rand {
	if parent == noParent {
		return s.clients[origin].rng
	}
	return s.services[s.reqs.r[parent].svc].rng
}

// deliver admits a request that reached its service: a free worker takes it,
// or it waits in the chosen instance's queue, or it is rejected.
func (s *Sim) deliver(i int32) {
	r := &s.reqs.r[i]
	sv := &s.services[r.svc]
	r.arrived = s.now
	r.state = atService
	r.svcCount = s.now >= s.warmup
	if r.svcCount {
		sv.agg.sent++
	}
	sv.win.sent++
	n := int32(sv.rr % len(sv.insts))
	sv.rr++
	r.inst = n
	in := &sv.insts[n]
	switch {
	case in.busy < sv.spec.Workers:
		sv.start(i)
	case sv.spec.Queue == Unbounded || in.q.len() < sv.spec.Queue:
		sv.account(s.now)
		in.q.push(i)
		sv.queued++
		if l := in.q.len(); l > sv.aggQMax || l > sv.winQMax {
			sv.aggQMax = max(sv.aggQMax, l)
			sv.winQMax = max(sv.winQMax, l)
		}
	default:
		r.outcome = Rejected
		r.state = ended
		if r.svcCount {
			sv.agg.count(Rejected, s.now)
		}
		sv.win.count(Rejected, s.now)
		s.respond(i)
	}
}

// start gives request i a worker of its instance and plans its own work.
func (sv *service) start(i int32) {
	s := sv.s
	r := &s.reqs.r[i]
	sv.account(s.now)
	sv.insts[r.inst].busy++
	sv.busy++
	if p := sv.spec.Errors; p > 0 && sv.rng.Float64() < p {
		r.failed = true
	}
	if sv.faultEr > 0 && sv.rng.Float64() < sv.faultEr {
		r.failed = true
	}
	work := sv.spec.ServiceTime.Sample(sv.rng)
	for _, f := range sv.faults {
		if ft := &s.faults[f]; ft.spec.Kind == FaultLatency {
			work += ft.spec.Add.Sample(ft.rng)
		}
	}
	r.after = int64(float64(work) * sv.spec.AfterCalls)
	s.schedule(s.now+work-r.after, evWorkDone, i, r.gen)
}

func (s *Sim) workDone(i int32) {
	r := &s.reqs.r[i]
	if r.failed {
		s.complete(i, Error)
		return
	}
	r.stage = 0
	s.advance(i)
}

// advance issues the calls of the request's current stage, skipping stages
// whose calls all fell to their probability; with no stage left it does the
// work after the calls.
func (s *Sim) advance(i int32) {
	sv := &s.services[s.reqs.r[i].svc]
	for {
		r := &s.reqs.r[i]
		k := int(r.stage)
		if k+1 >= len(sv.stages) {
			if r.after > 0 {
				s.schedule(s.now+r.after, evAfterDone, i, r.gen)
			} else {
				s.complete(i, OK)
			}
			return
		}
		var n int32
		for c := sv.stages[k]; c < sv.stages[k+1]; c++ {
			e := &sv.calls[c]
			if e.prob < 1 && sv.rng.Float64() >= e.prob {
				continue
			}
			for range e.fanout {
				if s.sendRequest(i, c, e.to, e.latency, e.timeout) < 0 {
					return // the run is over: s.err says why
				}
				n++
			}
		}
		// sendRequest may have grown the pool: fetch the request again.
		r = &s.reqs.r[i]
		if n > 0 {
			r.pending = n
			return
		}
		r.stage++
	}
}

// callDone tells request i that one of its calls ended with o.
func (s *Sim) callDone(i int32, o Outcome) {
	r := &s.reqs.r[i]
	r.pending--
	if o != OK {
		r.failed = true
	}
	if r.pending > 0 {
		return
	}
	if r.failed {
		s.complete(i, Error)
		return
	}
	r.stage++
	s.advance(i)
}

// complete ends request i's work: its worker goes to the next request in the
// queue and its response starts back to the caller.
func (s *Sim) complete(i int32, o Outcome) {
	r := &s.reqs.r[i]
	r.outcome = o
	r.state = ended
	sv := &s.services[r.svc]
	sv.account(s.now)
	in := &sv.insts[r.inst]
	in.busy--
	sv.busy--
	if r.svcCount {
		sv.agg.count(o, s.now)
		if o == OK {
			sv.agg.lat.Record(s.now - r.arrived)
		}
		if r.abandoned {
			sv.agg.wasted++
		}
	}
	sv.win.count(o, s.now)
	if o == OK {
		sv.win.lat.Record(s.now - r.arrived)
	}
	if r.abandoned {
		sv.win.wasted++
	}
	if in.q.len() > 0 {
		sv.queued--
		sv.start(in.q.pop())
	}
	s.respond(i)
}

// respond sends request i's answer back over the hop it came by.
func (s *Sim) respond(i int32) {
	r := &s.reqs.r[i]
	if r.abandoned {
		// Nobody waits for the answer, and the caller may be gone.
		s.reqs.release(i)
		return
	}
	lat := s.spec.Network.Latency
	if r.parent != noParent {
		lat = s.services[s.reqs.r[r.parent].svc].calls[r.origin].latency
	}
	var d int64
	if !lat.IsZero() {
		d = lat.Sample(s.services[r.svc].rng)
	}
	s.schedule(s.now+d, evResponse, i, r.gen)
}

// response delivers request i's answer to whoever still waits for it.
func (s *Sim) response(i int32) {
	r := &s.reqs.r[i]
	switch {
	case r.abandoned:
	case r.parent == noParent:
		s.clients[r.origin].done(r)
	default:
		parent, o := r.parent, r.outcome
		s.reqs.release(i)
		s.callDone(parent, o)
		return
	}
	s.reqs.release(i)
}

// timeout fires when a caller's patience with request i runs out.
func (s *Sim) timeout(i int32, gen uint32) {
	r := &s.reqs.r[i]
	if r.gen != gen || r.abandoned {
		return
	}
	r.abandoned = true
	r.outcome = Timeout
	if r.parent == noParent {
		s.clients[r.origin].done(r)
		return
	}
	s.callDone(r.parent, Timeout)
}
