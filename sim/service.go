package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/faultline/faultline/sim/dist"
	"github.com/faultline/faultline/sim/resilience"
)

// service is a pool of instances; each instance has workers and a FIFO
// waiting room. A request holds a worker from the start of its work until its
// response leaves, including the time it waits on downstream calls, so a slow
// dependency exhausts its callers' workers (thread-per-request); at an async
// service (Service.Async) it gives the worker back while its calls are out.
type service struct {
	s     *Sim
	idx   int32
	spec  *Service
	rng   *rand.Rand
	insts []instance
	calls []edge
	// callSpecs are the calls of every operation, then the publishes on
	// the request path: calls[i] is compiled from callSpecs[i].
	callSpecs []Call
	callOp    []int32 // the operation whose call each one is; -1: every operation's
	// release is the version that the instances the autoscaler starts
	// run: the last deployed, or rolled back to (nil: as specified).
	release *release
	ops     []operation
	perOp   bool      // it declares operations: they are counted apart
	opCum   []float64 // cumulative operation weights

	busy, queued int // totals over instances
	waiting      int // requests of an async service waiting on calls without a worker
	lb           *resilience.Balancer
	hosts        hostsView                // for clients, which call the service directly
	limited      bool                     // a gateway with a rate limit: instance.bucket
	kong         []resilience.FixedWindow // Kong's counters with policy cluster, by kongSlot
	kongBase     []int32                  // by client, its first Kong identity (kongSlot)
	kongIDs      int32                    // Kong identities in all
	// probe is its readiness probe (probe.go), nil: none, its instances
	// listed exactly while up.
	probe *resilience.HealthChecker
	// onInsts is the faults on its instances and those down, for
	// serviceOrigin.
	onInsts  instIndex
	routeCum []float64 // a gateway's cumulative route weights
	// backends are, by route, the edges of a gateway route's further
	// calls; authz is the edge of a gateway's ext_authz call, or -1.
	backends []stage
	authz    int32

	// Time integrals of busy workers and queued requests since lastT, for
	// utilisation and mean queue length; agg* since warmup, win* this window.
	lastT             int64
	aggBusy, aggQueue float64
	aggWait           float64 // of waiting: in_system_mean counts them
	winBusy, winQueue float64
	// ...and of the workers and instances able to work, the denominators:
	// crashed, starting and retired instances have none.
	aggCap, aggInst  float64
	winCap, winInst  float64
	capNow, instsNow int
	// listedNow counts the instances listed in the endpoints, and
	// listChanges the changes of an instance's listing (relist).
	listedNow        int
	listChanges      uint64
	scaler           *autoscaler
	aggQMax, winQMax int
	aggStart         int64 // when the aggregates started: warmup or 0

	agg, win  tally
	series    []Window
	groups    []int32 // the consumer groups its instances are members of
	sagas     []int32 // the sagas its successes start
	afterPubs bool    // it publishes after answering
	health    healthTracker
	slow      slowness // its latency side of health
	overflow  bool     // its queue turned requests away in the last window
	// full says its queue turned a request away in the window, the first
	// at fullAt: only an overflow sets it, not every request counted
	// rejected.
	full   bool
	fullAt int64
	// press is the fault (occurrence + 1) behind the work it last
	// finished failed by one, or slowed by one while it lasted, at
	// pressAt: what keeps its workers busy.
	press   int32
	pressAt int64
}

// edge is one compiled downstream call with its resilience state.
type edge struct {
	spec    *Call
	to      int32
	timeout int64 // the deadline of a call, all attempts included
	perTry  int64 // the timeout of one attempt
	// latency is the request's one-way network delay, respLatency the
	// response's; with rt, roundTrip is drawn once per attempt instead
	// and split (sendRequest).
	latency, respLatency dist.Dist
	roundTrip            dist.Dist
	rt                   bool
	// rtChain is the state of a markov round trip, shared by the edges
	// to the same callee (Sim.rtChain); nil for any other round trip.
	rtChain *dist.Regime

	// pol holds the resilience state: one per caller instance (Scope
	// PerInstance; grown when the caller scales up) or one shared.
	pol   []*policies
	stats edgeStats
	// winBase is stats at the start of the window being filled: the
	// window's counts are stats less it (closeEdgeWindows).
	winBase edgeStats
	// slow is the latency side of the edge's health (slowness.go): the
	// p99 of its successful calls, as the caller saw them, against their
	// level before the first fault.
	slow slowness
	// win times the calls counted in stats that ended in the window being
	// filled, pre the others (made during warmup), and agg the counted
	// calls of the windows closed; series is one Window per window.
	agg, win, pre callTimes
	series        []Window
	link          link
	id            int32 // index in Sim.edges
	// hc is the edge's Envoy active health checking (probe.go), nil: none.
	// Every holder's Envoy checks the same instances at the same times and
	// gets the same answers, so they share one checker.
	hc   *resilience.HealthChecker
	kind targetKind
	// inProc: the callee is an operation of the caller's own service,
	// called in-process (a function call, not a request).
	inProc bool
	op     int32    // the callee's operation, or -1: by weight
	data   int32    // the store, topic or view when kind is not toService
	pub    *Publish // a publish on the request path
	// transitions counts breaker state changes, for the results; opens
	// those into OPEN, and marks the counters at each window's close, for
	// the recovery verdict.
	transitions uint64
	opens       uint64
	marks       []edgeMark
}

// hostsView shows a callee's instances to a balancer: an instance is
// available when it is listed (probe.go: up, or down and not yet noticed),
// the holder's health checking finds it healthy, and its outlier detection
// has not ejected it. Active counts the holder's own attempts in flight to the
// instance, as an Envoy sidecar counts its requests to each host; a client
// (p nil) uses round robin, which reads no counts.
type hostsView struct {
	sv *service
	p  *policies
}

func (h *hostsView) Len() int { return len(h.sv.insts) }

// Listed counts the instances in the endpoints, kept as they change
// (relist): none listed, none is available, whatever the holder's checks.
func (h *hostsView) Listed() int { return h.sv.listedNow }

// Version sums what changes an instance's availability to the holder:
// its listing, its holder's health checking, its outlier detection. Each
// only grows, so the sum moves whenever one does.
func (h *hostsView) Version() uint64 {
	v := h.sv.listChanges
	if h.p != nil {
		if h.p.hc != nil {
			v += h.p.hc.Changes()
		}
		if h.p.outlier != nil {
			v += h.p.outlier.Changes()
		}
	}
	return v
}

func (h *hostsView) Active(i int) int {
	if h.p == nil || i >= len(h.p.rqActive) {
		return 0
	}
	return int(h.p.rqActive[i])
}

func (h *hostsView) Available(i int) bool {
	if !h.sv.listed(i) {
		return false
	}
	if h.p == nil {
		return true
	}
	return (h.p.hc == nil || h.p.hc.Healthy(i)) && (h.p.outlier == nil || !h.p.outlier.Ejected(i))
}

type instance struct {
	busy int
	// work lists the requests holding its workers (busy of them), each
	// at its seat (reqPool.seat), in no order: what a request queued
	// behind them waits on (provenance.go, heldFault). turn rotates where
	// heldFault begins in it, so that queued failures spread over the
	// workers as they are held.
	work []int32
	turn uint32
	// waiting counts the requests of an async service that hold no
	// worker while their calls are out: a drain waits for them too.
	waiting int
	// cpu counts the workers doing their request's own work (service
	// time), not waiting on its calls; cpuTime is its time integral up to
	// cpuAt, the CPU use an autoscaler reads.
	cpu     int
	cpuTime float64
	cpuAt   int64
	// cfs is its CPU quota under a cpu_limit (cfs.go); nil: none.
	cfs *cfsState
	q   ring
	up  bool // taking traffic: not crashed, started
	// downUnseen: crashed (or restarting after a crash) while listed, and
	// not yet out of the endpoints (probe.go): callers still send it
	// requests, which are refused; it leaves them at delistAt.
	downUnseen bool
	delistAt   int64
	paused     bool
	pauses     []pause  // every pause so far, to stretch work that spans one
	parked     []parked // work that fell due while paused
	f          instFaults
	readyAt    int64 // when a restarted instance takes traffic
	crashedAt  int64 // when it went down (or was started), for the log
	retired    bool  // scaled away: it finishes what it holds and takes nothing new

	// A deploy: the version it runs (nil: as specified), whether it is
	// draining before a restart, the deploy restarting it (or -1), and
	// its warm-up after one.
	release    *release
	draining   bool
	killAt     int64 // when the grace period of its drain ends
	deploy     int32
	warmUntil  int64
	warmFactor float64
	warmOcc    int32 // the deploy (occurrence + 1) that restarted it into its warm-up
	// A memory leak grows from its fault's start, or from leakFrom, the
	// instance's last start, if later; it crashes the instance at leakAt.
	// leakStuck is what leaks that ended left on it until its next
	// restart.
	leakFrom, leakAt int64
	leakStuck        float64
	// bucket is a gateway instance's own rate limit (when sv.limited);
	// kong its Kong counters with policy local (admit).
	bucket resilience.TokenBucket
	kong   []resilience.FixedWindow
	// What it adds to its service's instsNow and capNow (see recount).
	upCounted, capCounted int
	// What it adds to its service's listedNow (see relist).
	listedCounted int
	// downOcc is the fault (occurrence + 1) that last took it down (a
	// crash, a leak, a deploy restarting it);
	// downCounted what it adds to its service's onInsts (see countDown).
	downOcc, downCounted int32
}

func (sv *service) init(s *Sim, idx int32, spec *Service) {
	sv.s, sv.idx, sv.spec = s, idx, spec
	sv.rng = s.stream("service/" + spec.Name)
	sv.slow.init(spec.LatencyObjective, s.spec.LatencyFactor)
	sv.win.slowAt = sv.slow.slowAt()
	sv.insts = make([]instance, spec.Instances)
	for i := range sv.insts {
		sv.insts[i].up = true
		sv.insts[i].deploy = -1
		sv.insts[i].leakStuck = 1
		sv.limitCPU(int32(i))
		sv.refreshInstance(int32(i))
	}
	sv.hosts = hostsView{sv: sv}
	sv.lb = resilience.NewBalancer(resilience.RoundRobin, 0, 0, spec.Instances)
	if g := spec.Gateway; g != nil {
		if sv.limited = g.limited(); sv.limited {
			for i := range sv.insts {
				sv.insts[i].bucket = g.bucket(0)
			}
		}
		if g.Kong != nil {
			sv.initKong(s.spec.Clients)
		}
		sum := 0.0
		for _, c := range spec.Calls {
			sum += c.Weight
			sv.routeCum = append(sv.routeCum, sum)
		}
	}
	sv.afterPubs = slices.ContainsFunc(spec.Publishes, func(p Publish) bool { return p.After })
	sv.initOps()
	sv.initGateway()
}

// limitCPU gives instance n its CPU quota when the service has a limit.
func (sv *service) limitCPU(n int32) {
	if l := sv.spec.CPULimit; l > 0 {
		p := sv.spec.CPUPeriod
		if p <= 0 {
			p = DefaultCPUPeriod
		}
		sv.insts[n].cfs = newCFS(sv.s, sv.idx, n, l, int64(p))
	}
}

// initGateway adds a gateway's calls beyond its routes to its edges
// (gatewayCalls: the backends of each route, then the ext_authz check),
// and notes where each route's backends and the check are.
func (sv *service) initGateway() {
	sv.authz = -1
	g := sv.spec.Gateway
	if g == nil {
		return
	}
	next := int32(len(sv.callSpecs))
	sv.callSpecs = sv.spec.gatewayCalls(sv.callSpecs)
	for _, rt := range sv.spec.Calls {
		from := next
		next += int32(len(rt.Backends))
		sv.backends = append(sv.backends, stage{from: from, to: next})
	}
	if g.ExtAuthz != nil {
		sv.authz = next
	}
	for len(sv.callOp) < len(sv.callSpecs) {
		sv.callOp = append(sv.callOp, 0) // a gateway has one operation
	}
}

// rtChain is the chain of markov round trips to one callee.
type rtChain struct {
	to int32
	d  dist.Dist
	g  *dist.Regime
}

// rtChain returns the state a markov round trip to callee to keeps: one
// per callee, shared by every edge to it whose chain moves alike
// (dist.SameChain), whichever service calls. A round trip as traces give it
// (a client span less its server span) holds the time the request waited
// at the callee before its work began (its queue, a stalled event loop),
// and that slowness is the callee's: every call that meets it, on any
// edge, is slow together (scenarios.md, "Network time on an edge").
func (s *Sim) rtChain(to int32, d dist.Dist) *dist.Regime {
	for _, c := range s.rtChains {
		if c.to == to && c.d.SameChain(d) {
			return c.g
		}
	}
	g := new(dist.Regime)
	s.rtChains = append(s.rtChains, rtChain{to: to, d: d, g: g})
	return g
}

// initEdges compiles the service's calls once every service exists: an
// edge's balancer and outlier detection are sized by its callee.
func (sv *service) initEdges(byName map[string]int32) {
	s := sv.s
	sv.calls = make([]edge, len(sv.callSpecs))
	pub := 0
	for i := range sv.callSpecs {
		c := &sv.callSpecs[i]
		e := &sv.calls[i]
		e.spec, e.timeout = c, int64(c.Timeout)
		e.slow.init(LatencyObjective{}, s.spec.LatencyFactor)
		e.id = int32(len(s.edges))
		s.edges = append(s.edges, edgeRef{svc: sv.idx, edge: int32(i)})
		e.latency = s.spec.Network.Latency
		if c.HasLatency {
			e.latency = c.Latency
		}
		e.respLatency = e.latency
		if c.ResponseLatency != nil {
			e.respLatency = *c.ResponseLatency
		}
		if c.RoundTrip != nil {
			e.roundTrip, e.rt = *c.RoundTrip, true
		}
		if c.Op == OpPublish {
			for sv.spec.Publishes[pub].After {
				pub++
			}
			e.pub = &sv.spec.Publishes[pub]
			pub++
		}
		e.op = -1
		if !s.bindData(e) {
			e.to = byName[c.To]
			if c.Operation != "" {
				e.op = s.services[e.to].opIndex(c.Operation)
			}
			if e.to == sv.idx {
				// A function call in the same process: no network.
				e.inProc, e.latency, e.respLatency, e.rt = true, dist.Dist{}, dist.Dist{}, false
			}
			if e.rt && e.roundTrip.Modulated() {
				e.rtChain = s.rtChain(e.to, e.roundTrip)
			}
		}
		var callee *service
		if e.kind == toService {
			callee = &s.services[e.to]
		}
		if c.Retry != nil {
			e.perTry = int64(c.Retry.PerTryTimeout)
		}
		if c.HealthCheck != nil && callee != nil && !e.inProc {
			e.hc = s.checks[s.newCheck(e.to, *c.HealthCheck, false, e.id)].hc
		}
		holders := 1
		if c.Scope == PerInstance {
			holders = len(sv.insts)
		}
		for range holders {
			e.pol = append(e.pol, e.newPolicies(callee))
		}
	}
}

// account brings the time integrals up to now; call it before busy or queued
// change.
func (sv *service) account(now int64) {
	dt := float64(now - sv.lastT)
	b, q := float64(sv.busy)*dt, float64(sv.queued)*dt
	c, n := float64(sv.capNow)*dt, float64(sv.instsNow)*dt
	sv.aggBusy += b
	sv.winBusy += b
	sv.aggQueue += q
	sv.aggWait += float64(sv.waiting) * dt
	sv.winQueue += q
	sv.aggCap += c
	sv.winCap += c
	sv.aggInst += n
	sv.winInst += n
	sv.lastT = now
}

// onCPU brings the instance's CPU integral up to now and changes by d the
// workers at their own work. Waiting on a call uses no CPU: a thread
// blocked on I/O is not running, which is what a CPU autoscaler sees. A
// pause stretches a stretch of work; it counts as CPU throughout.
func (in *instance) onCPU(now int64, d int) {
	in.cpuTime += float64(in.cpu) * float64(now-in.cpuAt)
	in.cpuAt = now
	if c := in.cfs; c != nil && d != 0 {
		c.advance(now, in.cpu) // the quota drained at the old rate up to now
		in.cpu += d
		c.rearm(in.cpu)
		return
	}
	in.cpu += d
}

// recount brings what instance n adds to the instances up and their workers
// up to date with its state; call it after up, draining or its workers
// change. Moving one instance's share, rather than recounting them all,
// keeps a fault or a scaling on k instances O(k), not O(k x instances).
func (sv *service) recount(n int32) {
	sv.account(sv.s.now)
	in := &sv.insts[n]
	up, workers := 0, 0
	if in.up {
		up = 1
	}
	if in.up || in.draining {
		// A draining instance takes nothing new but still works on what
		// it holds: its workers count, or utilisation would pass 100%.
		// So do the workers a capacity fault removed while they were at
		// work: each leaves when its request is done (complete).
		workers = max(in.f.workers, in.busy)
	}
	sv.instsNow += up - in.upCounted
	sv.capNow += workers - in.capCounted
	in.upCounted, in.capCounted = up, workers
	sv.countDown(n)
	sv.relist(n)
}

func (sv *service) resetAggregates(now int64) {
	sv.account(now)
	sv.aggBusy, sv.aggQueue, sv.aggWait, sv.aggQMax, sv.aggCap, sv.aggInst = 0, 0, 0, 0, 0, 0
	sv.aggStart = now
	sv.agg.reset()
	for i := range sv.ops {
		sv.ops[i].agg.reset()
	}
}

// sendRequest creates a request from a caller to instance inst of service
// to, and plans its arrival and its caller's timeout. The caller is a client
// (parent is noParent, origin the client) or a call (origin is its edge).
func (s *Sim) sendRequest(parent, origin, to, inst int32, lat dist.Dist, timeout int64) int32 {
	i := s.reqs.alloc()
	if i < 0 {
		s.err = errTooMany(s.now)
		return -1
	}
	r := &s.reqs.r[i]
	r.svc, r.inst, r.parent, r.origin, r.sent = to, inst, parent, origin, s.now
	var rng *rand.Rand
	var l *link
	var e *edge
	switch parent {
	case noParent:
		rng, l = s.clients[origin].rng, &s.clients[origin].link
	case fromSaga:
		run := &s.sagaRuns.r[origin]
		// The command being sent, whose path the answer comes back by
		// (respond).
		r.from = sagaCommand(run.step, run.undoing)
		rng, l, r.key = s.sagas[run.saga].rng, s.sagaCmdLink(origin, r.from), run.key
	default:
		cl := &s.calls.c[parent]
		r.key, r.from = s.reqs.r[cl.parent].key, cl.svc
		e = &s.services[cl.svc].calls[cl.edge]
		rng, l = s.services[cl.svc].rng, &e.link
	}
	if timeout > 0 {
		s.scheduleTimeout(timeout, evTimeout, i, r.gen)
	}
	if len(l.faults) > 0 {
		if l.lossReq > 0 && rng.Float64() < l.lossReq {
			r.state = lost // the caller will only see its timeout
			return i
		}
	}
	var d int64
	switch {
	case e != nil && e.rt:
		// One draw of the round trip per attempt, so that what the
		// caller waits on the network has exactly the given
		// distribution; the request takes half of it, the response the
		// rest (respond). Half each, not all on the response, because
		// that is where a recorded server span sits in its client span
		// (both legs cross the same network; the CLIENT span covers the
		// client side of the RPC, the SERVER span the server's handling,
		// https://opencensus.io/tracing/span/kind), and it puts the
		// callee's work, and any fault that meets it, at the time it
		// would run.
		// A markov round trip keeps its state with the callee
		// (Sim.rtChain): the calls to it share its slow episodes.
		rt := e.roundTrip.SampleAt(rng, s.now, e.rtChain)
		d, r.back = rt/2, rt-rt/2
	case !lat.IsZero():
		d = lat.SampleAt(rng, s.now, &l.regime)
	}
	if len(l.faults) > 0 {
		d += s.linkDelay(l, Requests)
	}
	s.schedule(after(s.now, d), evDeliver, i, r.gen)
	return i
}

// errTooMany stops a hopelessly overloaded run (hundreds of millions of
// requests in flight) rather than exhaust memory.
func errTooMany(now int64) error {
	return fmt.Errorf("more than %d requests in flight at %s: the scenario is far beyond capacity", maxArg, time.Duration(now))
}

// deliver admits a request that reached its instance: a free worker takes
// it, or it waits in the queue, or it is rejected. An instance that went
// down meanwhile refuses the connection: an error, at once, even during a
// pause, since the operating system answers, not the process. The refusals
// the process makes itself (429, queue full) wait for a pause to end.
func (s *Sim) deliver(i int32) {
	r := &s.reqs.r[i]
	sv := &s.services[r.svc]
	in := &sv.insts[r.inst]
	if in.f.blackhole && in.up && r.parent != fromRecord {
		// Swallowed: no answer ever comes back. It never really arrived.
		// A record a member processes is no request that arrives: its
		// poll loop fetched it from the broker and hands it to its own
		// worker in-process, so a blackhole, which swallows what comes
		// to the instance, leaves it alone (it would otherwise hold the
		// poll loop forever, as nothing times it out).
		if r.is(reqAbandoned) {
			// Its caller gave up on the way and its timeout has fired:
			// nothing else will free it.
			s.freeRequest(i)
			return
		}
		r.state = lost
		// Traced now, while the blackhole is on: the caller learns of
		// it only at its timeout, maybe after the fault ended.
		r.org = s.instOrigin(r.svc, r.inst, CauseLost, isBlackhole)
		return
	}
	r.arrived = s.now
	r.state = atService
	if r.is(reqInProc) {
		// Its caller's worker runs it at once: it passes no admission
		// and no queue, and is no arrival at the service.
		if sv.perOp {
			if s.svcCounted(r) {
				sv.ops[r.op].agg.sent++
			}
			sv.ops[r.op].win.sent++
		}
		sv.start(i)
		return
	}
	if s.svcCounted(r) {
		sv.agg.sent++
	}
	sv.win.sent++
	if sv.perOp {
		op := &sv.ops[r.op]
		if s.svcCounted(r) {
			op.agg.sent++
		}
		op.win.sent++
	}
	switch {
	case !in.up:
		s.fail(i, s.instOrigin(r.svc, r.inst, CauseCrash, isCrash))
		s.refuse(i, Error) // connection refused
	case sv.limited && !s.admit(sv, in, r):
		s.fail(i, origin{comp: r.svc, cause: CauseRateLimited})
		s.turnAway(i, Limited) // the gateway's rate limit: 429
	case in.f.throttleP > 0 && sv.rng.Float64() < in.f.throttleP:
		s.fail(i, s.instOrigin(r.svc, r.inst, CauseRateLimited, isThrottle))
		s.turnAway(i, Limited) // 429
	case in.busy < in.f.workers && !in.paused:
		sv.start(i)
	case sv.spec.Queue == Unbounded || in.q.len() < sv.spec.Queue:
		sv.account(s.now)
		// What it will wait on, the fault the workers ahead of it hold,
		// else the one a backlog came from (pressure): its wait is given
		// to it as it gets a worker (next).
		r.late = lateness{comp: r.svc, fault: s.queueFault(r.svc, r.inst)}
		if r.late.fault == 0 {
			r.late.fault = s.pressure(sv)
		}
		in.q.push(i)
		sv.queued++
		if l := in.q.len(); l > sv.aggQMax || l > sv.winQMax {
			sv.aggQMax = max(sv.aggQMax, l)
			sv.winQMax = max(sv.winQMax, l)
		}
	default:
		if !sv.full {
			sv.full, sv.fullAt = true, s.now
		}
		s.fail(i, s.queuedOrigin(r.svc, r.inst, CauseQueueFull))
		s.turnAway(i, Rejected)
	}
}

// kongSlot is the identity Kong counts request r against, a number
// below sv.kongIDs: its consumer (a client), and with limit_by ip its
// address (the user key of a client with keys: one of Keys, its index
// unmixed from the request's key); 0 for a request from a service, which
// has no consumer. Numbered this way, the counters are a slice made once,
// and a request touches one element of it, where a map keyed by the
// identity hashed it twice (read, then write back).
func (s *Sim) kongSlot(sv *service, r *request) int32 {
	if r.parent != noParent {
		return 0
	}
	slot := sv.kongBase[r.origin]
	if sv.spec.Gateway.Kong.ByIP && s.clients[r.origin].spec.Keys > 0 {
		slot += int32(unsplitmix(r.key))
	}
	return slot
}

// initKong numbers Kong's identities at gateway sv (kongSlot): 0 for
// requests from services, then each client's, one, or with limit_by ip
// one per user key.
func (sv *service) initKong(clients []Client) {
	k := sv.spec.Gateway.Kong
	sv.kongIDs = 1
	for _, c := range clients {
		sv.kongBase = append(sv.kongBase, sv.kongIDs)
		if k.ByIP && c.Keys > 0 {
			sv.kongIDs += int32(c.Keys)
		} else {
			sv.kongIDs++
		}
	}
}

// admit applies a gateway instance's rate limit to request r: its bucket,
// or Kong's fixed windows, whose counters are the instance's (policy
// local: "counters are stored in-memory on the node") or the gateway's
// (cluster: "stored in the Kong data store and shared across nodes"),
// Kong's rate-limiting plugin docs. The shared counters are taken as
// updated at once: Kong writes them asynchronously, a few ms late.
func (s *Sim) admit(sv *service, in *instance, r *request) bool {
	k := sv.spec.Gateway.Kong
	if k == nil {
		return in.bucket.Allow(s.now)
	}
	w := &in.kong
	if k.Cluster {
		w = &sv.kong
	}
	if *w == nil {
		*w = make([]resilience.FixedWindow, sv.kongIDs) // once per instance, at its first request
	}
	return (*w)[s.kongSlot(sv, r)].Allow(&k.Limits, s.now)
}

// turnAway refuses request i with o, a refusal its process makes itself: a
// paused process makes it when the pause ends.
func (s *Sim) turnAway(i int32, o Outcome) {
	r := &s.reqs.r[i]
	if in := &s.services[r.svc].insts[r.inst]; in.paused {
		r.refusal = o // kept for evRefuse: a timeout may set outcome meanwhile
		in.parked = append(in.parked, parked{req: i, gen: r.gen, kind: evRefuse})
		return
	}
	s.refuse(i, o)
}

// refuse answers request i at once, without work.
func (s *Sim) refuse(i int32, o Outcome) {
	r := &s.reqs.r[i]
	sv := &s.services[r.svc]
	r.outcome = o
	r.state = ended
	if s.svcCounted(r) && !r.is(reqInProc) {
		sv.agg.count(o, s.now)
	}
	if !r.is(reqInProc) {
		sv.win.count(o, s.now)
		sv.win.blame.add(r.org, s.occurs)
	}
	if sv.perOp {
		op := &sv.ops[r.op]
		if s.svcCounted(r) {
			op.agg.count(o, s.now)
		}
		op.win.count(o, s.now)
		op.win.blame.add(r.org, s.occurs)
	}
	s.respond(i)
}

// start gives request i a worker of its instance and plans its own work.
func (sv *service) start(i int32) {
	s := sv.s
	r := &s.reqs.r[i]
	sv.account(s.now)
	in := &sv.insts[r.inst]
	if !r.is(reqInProc) { // an in-process call runs on its caller's worker
		in.busy++
		sv.busy++
		s.seat(in, i)
	}
	op := &sv.ops[r.op]
	p := op.errors
	bad := origin{comp: r.svc, cause: CauseError} // its own background errors
	if rel := in.release; rel != nil && rel.hasErrors {
		p = rel.errors // a bad release's own error rate
		bad.fault = rel.occ
	}
	r.flags |= reqWorking
	if p > 0 && sv.rng.Float64() < p {
		r.flags |= reqFailed
		s.fail(i, bad)
	}
	if p := in.f.errP; p > 0 && sv.rng.Float64() < p {
		r.flags |= reqFailed
		s.fail(i, s.instOrigin(r.svc, r.inst, CauseError, isErrors))
	}
	work := op.work(sv.rng, s.now, r.inst)
	base := work
	// Slowdowns multiply the service time and latencies add to it, in
	// whatever order the faults came: the operation's as the instance's.
	// The fault that adds the most is what makes its answer slow
	// (slowness.go); one that adds nothing (errors) never is.
	slow, add := in.f.slow, int64(0)
	var late lateness
	for _, f := range in.f.list {
		ft := &s.faults[f]
		if ft.op >= 0 && ft.op != r.op {
			continue // a fault on another operation
		}
		switch p := ft.p.(type) {
		case LatencyFault:
			if !p.Add.IsZero() {
				d := p.Add.Sample(ft.rng)
				add += d
				late = late.worse(lateBy(r.svc, s.occAt(r.svc, CauseLate, f).fault, d))
			}
		case DependencyFault:
			if !p.Add.IsZero() {
				d := p.Add.Sample(ft.rng)
				add += d
				late = late.worse(lateBy(r.svc, s.occAt(r.svc, CauseLate, f).fault, d))
			}
		case ErrorsFault:
			if ft.op >= 0 && ft.rng.Float64() < p.Probability {
				r.flags |= reqFailed
				s.fail(i, s.occAt(r.svc, CauseError, f))
			}
		case SlowdownFault:
			if ft.op >= 0 {
				slow *= p.Factor
			}
			late = late.worse(lateBy(r.svc, s.occAt(r.svc, CauseLate, f).fault, nanos(float64(base)*(p.Factor-1))))
		}
	}
	if slow != 1 {
		work = nanos(float64(work) * slow)
	}
	work = sv.version(r.inst, work+add)
	if d := work - base; d > 0 && (len(in.f.list) > 0 || in.release != nil) {
		// Late by all the time the faults here added, given to the one
		// that added the most, else to the leak, the bad release or the
		// deploy's warm-up that stretched its service time.
		if !late.set() {
			late.fault = s.instOrigin(r.svc, r.inst, CauseLate, isLeak).fault
		}
		if rel := in.release; !late.set() && rel != nil && rel.factor > 1 {
			late.fault = rel.occ
		}
		if !late.set() && s.now < in.warmUntil && in.warmFactor > 1 {
			late.fault = in.warmOcc
		}
		r.late = r.late.worse(lateBy(r.svc, late.fault, d))
	}
	r.after = nanos(float64(work) * op.after)
	sv.work(i, work-r.after, evWorkDone)
}

// stretched reports whether request i's stretch of work, due now, was held
// up by a pause of its instance. A paused process makes no progress: work
// due during a pause is parked until the pause ends, and work that a pause
// interrupted is planned again for the time the pause cost it.
func (s *Sim) stretched(i int32, k evKind) bool {
	r := &s.reqs.r[i]
	in := &s.services[r.svc].insts[r.inst]
	if len(in.pauses) == 0 {
		return false
	}
	owed := in.pausedFor(r.segStart, s.now)
	if in.paused {
		in.parked = append(in.parked, parked{req: i, gen: r.gen, kind: k, owed: owed})
		return true
	}
	if owed == 0 {
		return false
	}
	// The pause froze its work for owed: late by that much (slowness.go).
	r.late = r.late.worse(lateBy(r.svc, in.pauses[len(in.pauses)-1].occ, owed))
	r.segStart = s.now
	s.schedule(after(s.now, owed), k, i, r.gen)
	return true
}

// workEnd ends a stretch of request i's own work: the work before its
// calls (evWorkDone) or after them (evAfterDone).
func (s *Sim) workEnd(i int32, k evKind) {
	if k == evWorkDone {
		s.workDone(i)
		return
	}
	if !s.stretched(i, evAfterDone) {
		r := &s.reqs.r[i]
		s.services[r.svc].insts[r.inst].onCPU(s.now, -1)
		s.complete(i, OK)
	}
}

func (s *Sim) workDone(i int32) {
	if s.stretched(i, evWorkDone) {
		return
	}
	r := &s.reqs.r[i]
	s.services[r.svc].insts[r.inst].onCPU(s.now, -1)
	if r.is(reqFailed) {
		s.complete(i, Error)
		return
	}
	r.stage = 0
	s.advance(i)
}

// advance issues the calls of the request's current stage, skipping stages
// whose calls all fell to their probability or ended at once; with no stage
// left it does the work after the calls. A gateway's stages are its own
// (startRouteStage), a service's its operation's (startStage); what
// follows the start of a stage is the same for both.
func (s *Sim) advance(i int32) {
	sv := &s.services[s.reqs.r[i].svc]
	for {
		var st stageStarts
		var more bool
		if sv.spec.Gateway != nil {
			more = s.startRouteStage(i, &st)
		} else {
			more = s.startStage(i, &st)
		}
		if !more {
			s.finishCalls(i)
			return
		}
		if s.err != nil {
			return // the run is over
		}
		// Starting calls may have grown the pool: fetch the request again.
		r := &s.reqs.r[i]
		if st.failed {
			r.flags |= reqFailed
		}
		if st.n > 0 {
			r.pending = st.n
			if !st.inProc {
				sv.yieldWorker(i)
			}
			return
		}
		if r.is(reqFailed) {
			s.complete(i, Error)
			return
		}
		if r.reps > 1 {
			r.reps-- // this repetition ended at once: the next one
			continue
		}
		r.reps = 0
		r.stage++
	}
}

// stageStarts is what starting a stage's calls gave: the calls out, and
// whether one failed at once, or is in-process.
type stageStarts struct {
	n              int32
	failed, inProc bool
}

// start starts call c of request i, unless the run is over.
func (st *stageStarts) start(s *Sim, i, c int32) {
	if s.err != nil {
		return
	}
	started, f := s.startCall(i, c)
	if started {
		st.n++
		st.inProc = st.inProc || s.services[s.reqs.r[i].svc].calls[c].inProc
	}
	st.failed = st.failed || f
}

// startStage starts the calls of the current stage of request i at a
// service, drawing whether each is made and how many times; false when
// no stage is left.
func (s *Sim) startStage(i int32, st *stageStarts) bool {
	r := &s.reqs.r[i]
	sv := &s.services[r.svc]
	stages := sv.ops[r.op].stages
	k := int(r.stage)
	if k >= len(stages) {
		return false
	}
	first := r.reps == 0 // not a later repetition of a repeated call
	for c := stages[k].from; c < stages[k].to && s.err == nil; c++ {
		e := &sv.calls[c]
		if first {
			// Whether the call is made, and how many times, is drawn
			// at its first repetition.
			if e.spec.Probability < 1 && sv.rng.Float64() >= e.spec.Probability {
				continue
			}
			if e.spec.Repeat != nil {
				// A repeated call is its stage's only call, so no
				// call was started yet: r is current.
				if r.reps = int32(e.spec.Repeat.Sample(sv.rng)); r.reps == 0 {
					continue
				}
			}
		}
		for range e.spec.Fanout {
			st.start(s, i, c)
		}
	}
	return true
}

// startRouteStage starts the calls of the current stage of request i at
// a gateway: the ext_authz check (stage 0), whose failure denies the
// request; then the route's call and its backends, together (stage 1);
// false after them, for the gateway's work after them.
func (s *Sim) startRouteStage(i int32, st *stageStarts) bool {
	r := &s.reqs.r[i]
	sv := &s.services[r.svc]
	switch r.stage {
	case 0:
		if sv.authz >= 0 {
			st.start(s, i, sv.authz)
		}
	case 1:
		b := sv.backends[r.route]
		st.start(s, i, r.route)
		for c := b.from; c < b.to; c++ {
			st.start(s, i, c)
		}
	default:
		return false
	}
	return true
}

// yieldWorker gives request i's worker back while the calls it just made are
// out, at an async service: what a goroutine blocked on a socket or an event
// loop's pending callback holds is memory, not a thread (Node.js, "The
// Node.js Event Loop": the kernel tells Node.js when an operation completes
// "so that the appropriate callback may be added to the poll queue"; Go's
// netpoller parks the goroutine, runtime/netpoll.go). The next queued
// request takes the worker. A request waiting on an in-process call keeps
// its worker: the callee runs on it. A thread service keeps it throughout.
func (sv *service) yieldWorker(i int32) {
	r := &sv.s.reqs.r[i]
	if !sv.spec.Async || r.is(reqInProc) || r.is(reqReleased) {
		return // it holds no worker to give, or keeps it
	}
	s := sv.s
	sv.account(s.now)
	in := &sv.insts[r.inst]
	r.set(reqReleased, true)
	in.busy--
	sv.busy--
	s.unseat(in, i)
	in.waiting++
	sv.waiting++
	if in.busy >= in.f.workers {
		sv.recount(r.inst) // a worker a capacity fault removed leaves
	}
	sv.next(r.inst)
}

// reacquire takes a worker again for request i's work after its calls, at
// an async service: at once if one is free, or at the tail of the queue,
// like a new arrival. It re-enters with no priority over new requests: Go's
// netpoller puts the goroutines it readies on the run queues as any other
// runnable one (runtime/proc.go, injectglist), and Node.js runs the poll
// queue's callbacks, new connections and answers alike, in order ("Each
// phase has a FIFO queue of callbacks to execute", The Node.js Event Loop).
// It was admitted already: a full queue does not reject it, and
// queue_timeout does not shed it (shed is for work not yet begun).
func (sv *service) reacquire(i int32) {
	s := sv.s
	r := &s.reqs.r[i]
	sv.account(s.now)
	in := &sv.insts[r.inst]
	in.waiting--
	sv.waiting--
	if in.busy < in.f.workers && !in.paused && in.q.len() == 0 {
		sv.resume(i)
		return
	}
	r.set(reqWorking, false) // waiting for a worker: a timeout now blames the queue
	in.q.push(i)
	sv.queued++
	if l := in.q.len(); l > sv.aggQMax || l > sv.winQMax {
		sv.aggQMax = max(sv.aggQMax, l)
		sv.winQMax = max(sv.winQMax, l)
	}
}

// resume gives released request i a worker again and plans its work after
// the calls.
func (sv *service) resume(i int32) {
	s := sv.s
	r := &s.reqs.r[i]
	in := &sv.insts[r.inst]
	in.busy++
	sv.busy++
	s.seat(in, i)
	r.set(reqReleased, false)
	r.set(reqWorking, true)
	sv.work(i, r.after, evAfterDone)
}

// finishCalls does a request's work after its calls, then completes it.
func (s *Sim) finishCalls(i int32) {
	r := &s.reqs.r[i]
	if r.is(reqReleased) && r.after > 0 {
		s.services[r.svc].reacquire(i)
		return
	}
	if r.after > 0 {
		s.services[r.svc].work(i, r.after, evAfterDone)
		return
	}
	s.complete(i, OK)
}

// callDone tells request i that one of its calls ended with o, late by
// late. The last of its group to end is its critical path: its lateness
// is the group's, and the request's if it is worse than any before
// (slowness.go); the others' cost the request nothing.
func (s *Sim) callDone(i int32, o Outcome, late lateness) {
	r := &s.reqs.r[i]
	r.pending--
	if o != OK {
		r.flags |= reqFailed
	}
	if r.pending > 0 {
		return
	}
	r.late = r.late.worse(late)
	s.callsDone(i)
}

// callsDone goes on with request i once the calls of its stage have all
// answered. A paused process makes no progress: it goes on when the pause
// ends.
func (s *Sim) callsDone(i int32) {
	r := &s.reqs.r[i]
	if in := &s.services[r.svc].insts[r.inst]; in.paused {
		in.parked = append(in.parked, parked{req: i, gen: r.gen, kind: evCallsDone})
		return
	}
	if r.is(reqFailed) {
		s.complete(i, Error)
		return
	}
	if r.reps > 1 {
		r.reps-- // a repeated call: the next repetition, now the last answered
	} else {
		r.reps = 0
		r.stage++
	}
	s.advance(i)
}

// complete ends request i's work: its worker goes to the next request in the
// queue and its response starts back to the caller.
func (s *Sim) complete(i int32, o Outcome) {
	r := &s.reqs.r[i]
	r.outcome = o
	if r.parent == fromSaga && o == OK {
		// Its participant did it, answer or not, unless a semantic lock
		// refused it. A refusal with "wait" is a business answer, "the
		// record is in use, try later" (Richardson, "Microservices
		// Patterns", 4.3.2: the saga is told to retry later), not the
		// participant failing: the saga reads it as unavailability and
		// retries, while the participant counts it among its ok answers
		// (the saga's locked counts the refusals). A refusal with "fail"
		// answers an error, a business failure like any other.
		if r.outcome = s.sagaExecuted(r.origin, r.from); r.outcome == Error {
			o = Error
		}
	}
	r.state = ended
	sv := &s.services[r.svc]
	if r.is(reqInProc) {
		// Its caller's worker goes on with the caller: only the
		// operation's figures count it.
		if sv.perOp {
			sv.ops[r.op].done(o, s.svcCounted(r), s.now-r.arrived, s.now)
		}
		s.respond(i)
		return
	}
	sv.account(s.now)
	in := &sv.insts[r.inst]
	if r.is(reqReleased) {
		// An async request that failed, or has no work after its calls:
		// it answers without a worker (the answer's sending is no work
		// in this model).
		r.set(reqReleased, false)
		in.waiting--
		sv.waiting--
	} else {
		in.busy--
		sv.busy--
		s.unseat(in, i)
		if in.busy >= in.f.workers {
			sv.recount(r.inst) // a worker a capacity fault removed leaves
		}
	}
	if s.svcCounted(r) {
		sv.agg.count(o, s.now)
		if o == OK {
			sv.agg.lat.Record(s.now - r.arrived)
		}
		if r.is(reqAbandoned) {
			sv.agg.wasted++
		}
	}
	sv.win.count(o, s.now)
	if o == OK {
		sv.win.lat.Record(s.now - r.arrived)
		sv.win.noteSlow(s.now-r.arrived, s.now, r.late, r.svc, s.occurs)
	} else {
		if !r.org.set() {
			r.org = origin{comp: r.svc, cause: CauseError}
		}
		sv.win.blame.add(r.org, s.occurs)
	}
	switch {
	case r.org.fault > 0 && r.org.cause != CauseError && r.org.cause != CauseRateLimited:
		// Its failure held a worker; one an errors or throttle fault
		// answered at once held none.
		sv.press, sv.pressAt = r.org.fault, s.now
	case r.late.fault > 0 && s.occurs[r.late.fault-1].end < 0:
		// Work a lasting fault slowed. Not once it has ended: a wait
		// in the queue given to the pressure makes work late by its
		// fault, and renewing the pressure with it would keep a queue
		// that never empties (a retry storm that outlived its trigger)
		// the trigger's for ever.
		sv.press, sv.pressAt = r.late.fault, s.now
	}
	if sv.perOp {
		op := &sv.ops[r.op]
		op.done(o, s.svcCounted(r), s.now-r.arrived, s.now)
		if o != OK {
			op.win.blame.add(r.org, s.occurs) // flows are per operation: so is their provenance
		}
	}
	if r.is(reqAbandoned) {
		sv.win.wasted++
	}
	key, inst, did := r.key, r.inst, r.outcome == OK
	sv.next(inst)
	s.respond(i)
	if did && (sv.afterPubs || len(sv.sagas) > 0) {
		s.afterOK(sv, key, inst)
	}
}

// next gives a free worker of instance n to the next queued request. A
// request that waited longer than the queue timeout is shed instead: its
// caller has most likely given up already.
func (sv *service) next(n int32) {
	s := sv.s
	in := &sv.insts[n]
	for in.q.len() > 0 && in.busy < in.f.workers && !in.paused {
		sv.account(s.now)
		var i int32
		if sv.spec.LIFO {
			i = in.q.popBack()
		} else {
			i = in.q.pop()
		}
		sv.queued--
		if s.reqs.r[i].is(reqReleased) {
			sv.resume(i) // its work after its calls: begun, never shed
			continue
		}
		if qt := int64(sv.spec.QueueTimeout); qt > 0 && s.now-s.reqs.r[i].arrived > qt {
			s.fail(i, s.queuedOrigin(sv.idx, n, CauseShed))
			s.refuse(i, Shed)
			continue
		}
		// Late by its wait (slowness.go): to the fault its workers held
		// when it was queued (the only lateness a request not yet begun
		// has), else to the one they hold now; not late at all when it
		// waited no time (lateBy of 0 is none), whatever it was marked.
		r := &s.reqs.r[i]
		f := r.late.fault
		if f == 0 && r.arrived < s.now {
			f = s.queueFault(sv.idx, n)
		}
		r.late = lateBy(sv.idx, f, s.now-r.arrived)
		sv.start(i)
	}
	if in.draining && in.busy == 0 && in.q.len() == 0 && in.waiting == 0 {
		s.drained(sv, n)
	}
}

// respond sends request i's answer back over the hop it came by.
func (s *Sim) respond(i int32) {
	r := &s.reqs.r[i]
	lat, rng := s.spec.Network.Latency, s.services[r.svc].rng
	var l *link
	switch r.parent {
	case fromRecord:
		// The record was the member's own work: no hop back.
		if r.is(reqAbandoned) {
			s.freeRequest(i)
			return
		}
		s.schedule(s.now, evResponse, i, r.gen)
		return
	case noParent:
		l = &s.clients[r.origin].link
	case fromSaga:
		l = s.sagaCmdLink(r.origin, r.from)
	default:
		// The call may be gone (its caller gave up): its edge is known
		// from the request.
		e := &s.services[r.from].calls[r.origin]
		lat, l = e.respLatency, &e.link
		if e.rt {
			lat = dist.Dist{} // the rest of the round trip, drawn at the send
		}
	}
	// The draws of the way back are made whether or not anyone still
	// waits for the answer, so that the service's stream does not depend
	// on what its callers decided: variants that differ in a caller's
	// timeout see the same numbers downstream (common random numbers, Law
	// & Kelton, "Simulation Modeling and Analysis", ch. 11.2: synchronise
	// the random numbers across the systems compared).
	dropped := len(l.faults) > 0 && l.lossResp > 0 && rng.Float64() < l.lossResp
	d := r.back
	if !dropped && !lat.IsZero() {
		d = lat.SampleAt(rng, s.now, &l.regime)
	}
	if !dropped && len(l.faults) > 0 {
		d += s.linkDelay(l, Responses)
	}
	if r.is(reqAbandoned) {
		// Nobody waits for the answer, and the caller may be gone.
		s.freeRequest(i)
		return
	}
	if dropped {
		r.state = lost // the caller will only see its timeout
		return
	}
	s.schedule(after(s.now, d), evResponse, i, r.gen)
}

// response delivers request i's answer to whoever still waits for it.
func (s *Sim) response(i int32) {
	r := &s.reqs.r[i]
	switch {
	case r.is(reqAbandoned):
		s.freeRequest(i)
	case r.parent == noParent:
		s.clients[r.origin].done(r)
		s.freeRequest(i)
	case r.parent == fromRecord:
		m, g, o := r.origin, r.gen, r.outcome
		s.freeRequest(i)
		s.recordDone(m, g, o)
	case r.parent == fromSaga:
		run, o, org := r.origin, r.outcome, r.org
		if o == Error && r.org.cause == CauseCrash && r.org.comp == r.svc {
			// Refused or reset by a crashed instance its callers still
			// send to (probe.go): the participant is unavailable, not
			// answering with a business failure, so the command is
			// retried as when no instance is listed.
			o = Rejected
		}
		s.freeRequest(i)
		s.sagaReply(run, o, org)
	default:
		k, o, sent, host, org := r.parent, r.outcome, r.sent, r.inst, r.org
		p := &s.reqs.r[s.calls.c[k].parent]
		if r.is(reqDegraded) && o == OK {
			// A fallback answered somewhere below: the success is degraded
			// all the way up.
			p.flags |= reqDegraded
			if !p.org.set() {
				p.org = org
			}
		}
		if cl := &s.calls.c[k]; r.late.set() {
			cl.late = cl.late.worse(r.late) // of its attempts, the latest by most
		}
		s.freeRequest(i)
		s.attemptDone(k, i, o, sent, host, org)
	}
}

// timeout fires when a caller's patience with request i runs out: the
// client's timeout for a root, the per-try timeout for an attempt.
func (s *Sim) timeout(i int32, gen uint32) {
	r := &s.reqs.r[i]
	if r.gen != gen || r.is(reqAbandoned) {
		return
	}
	r.flags |= reqAbandoned
	wasLost := r.state == lost
	switch r.parent {
	case noParent:
		r.outcome = Timeout
		r.org = s.lateOrigin(i)
		s.clients[r.origin].done(r)
	case fromSaga:
		s.sagaReply(r.origin, Timeout, s.lateOrigin(i))
	default:
		s.attemptDone(r.parent, i, Timeout, r.sent, r.inst, s.lateOrigin(i))
	}
	if wasLost {
		s.freeRequest(i) // dropped on the way: nothing else will free it
	}
}
