package sim

// Outcome is how a request ended for whoever waited on it.
type Outcome uint8

const (
	OK       Outcome = iota // answered successfully
	Error                   // answered with a failure (its own, or a failed call)
	Timeout                 // the caller stopped waiting
	Rejected                // refused at once: the instance's queue was full
	Shed                    // dropped before its work began: it waited longer than the queue timeout
	Limited                 // refused by a rate limit: an HTTP 429
	// Conflict: a store's conditional write found that the key had changed
	// since the version it was conditioned on (an HTTP 412, Cassandra's
	// [applied] = false). Only a call's attempt ends so; the request whose
	// call failed with it ends in Error.
	Conflict
	numOutcomes
)

func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Error:
		return "error"
	case Timeout:
		return "timeout"
	case Rejected:
		return "rejected"
	case Shed:
		return "shed"
	case Limited:
		return "rate_limited"
	case Conflict:
		return "conflict"
	}
	return "unknown"
}

// request is one unit of work at one service: a client's request, or one
// downstream call. Requests live in a pool and refer to each other by index,
// so the engine neither allocates nor gives the GC pointers to chase.
type request struct {
	gen    uint32 // bumped when the slot is freed: events of a dead request are ignored
	svc    int32  // the service that handles it
	inst   int32  // the instance it reached
	parent int32  // the call this request is an attempt of, or noParent, fromRecord, fromSaga
	origin int32  // the client (for a root) or the edge index in the caller's service
	// ver is the version of its key that the request's last store read
	// returned: a conditional write of the key is conditioned on it.
	ver     uint32
	from    int32  // an attempt's calling service, still known once its call has ended; a saga command's sagaCommand
	reps    int32  // a repeated call's repetitions left, the one out included; 0: not repeating
	key     uint64 // the client request's key, for ring-hash balancing
	route   int32  // at a gateway: the route it takes
	op      int32  // the operation of its service
	sent    int64  // when the caller sent it
	arrived int64  // when it reached its service
	after   int64  // work left for after the calls, ns
	stage   int32  // the call group being waited on
	pending int32  // calls of that group still out
	// org is where its failure (or a fallback's answer) originated, the
	// first one it met; late the fault that added the most time on its
	// path so far, for its slowness and a timeout above it (slowness.go).
	org  origin
	late lateness
	call int32 // the last call it started, for a timeout's walk down the path

	outcome  Outcome
	refusal  Outcome // a refusal decided during a pause, answered when it ends
	state    reqState
	flags    reqFlag // its yes/no facts, one bit each
	segStart int64   // when its current stretch of work was scheduled, for pauses
	back     int64   // the response's share of a round trip drawn at the send (an edge's round_trip)
}

// reqFlag is one of a request's yes/no facts. They share one byte: as
// eight bools they took the request to 136 bytes, a third cache line for
// every request in flight; as bits it is 128, two (TestRequestSize).
type reqFlag uint8

const (
	// reqAbandoned: the caller gave up (timeout). The request still runs
	// to its end, but nobody waits for the answer: wasted work.
	reqAbandoned reqFlag = 1 << iota
	reqFailed            // its own error, or a call failed: it ends in Error
	reqDegraded          // a call's fallback answered in place of the callee
	reqCrashed           // its instance is crashing: its calls are being cancelled
	reqWorking           // a worker took it: it is no longer queued
	reqCounted           // sent after warmup: counts in the caller's aggregates
	// reqInProc: an in-process call of an operation of its caller's own
	// service, run on the caller's worker: it takes no worker and no
	// queue place, and counts in its operation's figures only.
	reqInProc
	// reqReleased: at an async service, it gave its worker back while its
	// calls are out, and holds none until it takes one again for the work
	// after them (a queued request with it set is such a one).
	reqReleased
)

// svcCounted reports whether request r, at its service, counts in the
// service's aggregates: it arrived after warmup. (Derived from its
// arrival rather than kept as a flag: with one more flag the request
// would take a third cache line.)
func (s *Sim) svcCounted(r *request) bool { return r.arrived >= s.warmup }

// is reports whether the request has fact f.
func (r *request) is(f reqFlag) bool { return r.flags&f != 0 }

// set gives the request fact f, or takes it away.
func (r *request) set(f reqFlag, on bool) {
	if on {
		r.flags |= f
	} else {
		r.flags &^= f
	}
}

// reqState is where a request is in its life at its service.
type reqState uint8

const (
	inTransit reqState = iota // on its way to the service
	atService                 // queued or being worked on
	ended                     // answered (or rejected); the response is on its way back
	lost                      // dropped on the way, either way: only the caller's timeout frees it
)

// reqPool recycles request slots. It grows while the number of requests in
// flight grows, and stops allocating once that number is steady.
type reqPool struct {
	r []request
	// seat is, for a request holding a worker, its place in its
	// instance's work list: kept beside the requests, not in them, which
	// fill two cache lines (TestRequestSize).
	seat []int32
	free []int32
	live int
	made uint64 // slots handed out so far: a change says the pool changed
}

// alloc returns a free slot, or -1 when an event could no longer address it.
func (p *reqPool) alloc() int32 {
	p.made++
	if n := len(p.free); n > 0 {
		i := p.free[n-1]
		p.free = p.free[:n-1]
		p.live++
		return i
	}
	if len(p.r) > maxArg {
		return -1
	}
	p.live++
	p.r = append(p.r, request{})
	p.seat = append(p.seat, -1)
	return int32(len(p.r) - 1)
}

// freeRequest frees request i. A saga's command ends here, whatever
// became of it: its run may be waiting for it to settle.
func (s *Sim) freeRequest(i int32) {
	r := &s.reqs.r[i]
	parent, run := r.parent, r.origin
	s.reqs.release(i)
	if parent == fromSaga {
		s.sagaCommandEnded(run)
	}
}

func (p *reqPool) release(i int32) {
	p.live--
	r := &p.r[i]
	*r = request{gen: r.gen + 1}
	p.free = append(p.free, i)
}

// seat lists request i among those holding a worker of instance in.
func (s *Sim) seat(in *instance, i int32) {
	s.reqs.seat[i] = int32(len(in.work))
	in.work = append(in.work, i)
}

// unseat takes request i off instance in's work list: the last one
// listed takes its place.
func (s *Sim) unseat(in *instance, i int32) {
	k, last := s.reqs.seat[i], in.work[len(in.work)-1]
	in.work[k] = last
	s.reqs.seat[last] = k
	in.work = in.work[:len(in.work)-1]
}
