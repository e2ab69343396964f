package sim

import "github.com/faultline/faultline/sim/metrics"

// maxCopies bounds the attempts of one call that can be in flight at once
// (hedging); gRPC caps attempts at 5 too.
const maxCopies = 5

// call is one logical call on an edge: the attempts it makes (the first, its
// retries, its hedges) until one succeeds, they are exhausted, or the
// deadline passes. Attempts are requests whose parent is the call.
type call struct {
	gen       uint32
	parent    int32 // the calling request
	svc       int32 // the calling service
	edge      int32 // index into the service's edges
	hold      int32 // which of the edge's policies it uses: its caller instance's, or the shared one
	deadline  int64 // 0: none
	start     int64 // when the caller made it: its latency runs from here
	attempts  int32 // made so far
	nlive     int32
	live      [maxCopies]int32 // attempts in flight
	prevSleep int64            // the last backoff, for decorrelated jitter
	hedgeAt   int64            // when the hedge timer of the last attempt sent is due; 0: none
	op        int32            // the callee's operation of every attempt, drawn at the first
	org       origin           // where its last failed attempt's failure originated
	late      lateness         // of its attempts that answered, the one late by the most
	counted   bool             // started after warmup
	retrying  bool             // holds one of the edge's retries in flight
	inUse     bool
}

type callPool struct {
	c    []call
	free []int32
	made uint64 // slots handed out so far: a change says the pool changed
}

func (p *callPool) alloc() int32 {
	p.made++
	if n := len(p.free); n > 0 {
		i := p.free[n-1]
		p.free = p.free[:n-1]
		p.c[i].inUse = true
		return i
	}
	if len(p.c) > maxArg {
		return -1
	}
	p.c = append(p.c, call{inUse: true})
	return int32(len(p.c) - 1)
}

func (p *callPool) release(i int32) {
	c := &p.c[i]
	*c = call{gen: c.gen + 1}
	p.free = append(p.free, i)
}

// edgeStats counts what happened on one edge after warmup.
type edgeStats struct {
	calls, attempts, retries    uint64
	out                         [numOutcomes]uint64 // how calls ended, before fallbacks
	shortCircuited, fallbacks   uint64
	hedges, cancelled           uint64
	callerCancelled             uint64 // calls ended because their caller went away
	budgetExhausted, bulkheaded uint64
	retryOverflow               uint64 // retries over the cap of retries in flight
}

// callTimes times the calls of an edge as the caller sees them: from the
// call's start to its end, every attempt, back-off and hedge included, as
// a client times its requests (latency_ms and latency_all_ms). A call ends
// in one outcome, before any fallback: ok is of those that succeeded,
// failed of the others. Recording a call costs one histogram update: the
// latency of every call is the two merged, and the run's aggregate the
// windows merged, when they are read (summaries).
type callTimes struct {
	ok, failed metrics.Histogram
}

func (t *callTimes) record(o Outcome, lat int64) {
	if o == OK {
		t.ok.Record(lat)
	} else {
		t.failed.Record(lat)
	}
}

func (t *callTimes) merge(o *callTimes) {
	t.ok.Merge(&o.ok)
	t.failed.Merge(&o.failed)
}

func (t *callTimes) reset() {
	t.ok.Reset()
	t.failed.Reset()
}

// summaries summarises the calls of a and b together: those that
// succeeded, and every one; scratch holds the merge.
func summaries(a, b *callTimes, scratch *metrics.Histogram) (ok, all metrics.Summary) {
	scratch.Reset()
	scratch.Merge(&a.ok)
	scratch.Merge(&b.ok)
	ok = scratch.Summarize()
	scratch.Merge(&a.failed)
	scratch.Merge(&b.failed)
	return ok, scratch.Summarize()
}

// startCall begins call c of request i. It reports false when the call ended
// at once, without an attempt (bulkhead full, or a fallback at the open
// breaker); failed then says whether that ending is a failure.
func (s *Sim) startCall(i int32, c int32) (started, failed bool) {
	r := &s.reqs.r[i]
	sv := &s.services[r.svc]
	e := &sv.calls[c]
	counted := s.now >= s.warmup
	if counted {
		e.stats.calls++
	}
	hold := s.holder(e, r.inst)
	p := e.pol[hold]
	if e.spec.Bulkhead > 0 && p.calls >= e.spec.Bulkhead {
		if counted {
			e.stats.bulkheaded++
		}
		if !s.reqs.r[i].org.set() {
			// Traced only when it is the request's first failure (fail
			// keeps the first): the origin walks the callee's instances.
			s.fail(i, s.edgeOrigin(e, CauseBulkhead, p.lastFail))
		}
		return false, !s.fallback(e, counted, i)
	}
	k := s.calls.alloc()
	if k < 0 {
		s.err = errTooMany(s.now)
		return false, true
	}
	cl := &s.calls.c[k]
	cl.parent, cl.svc, cl.edge, cl.counted, cl.hold, cl.start = i, r.svc, c, counted, hold, s.now
	s.reqs.r[i].call = k
	p.calls++
	if e.timeout > 0 {
		cl.deadline = after(s.now, e.timeout)
		s.scheduleTimeout(e.timeout, evCallDeadline, k, cl.gen)
	}
	if p.budget != nil {
		p.budget.Deposit(s.now)
	}
	sent, ok := s.attempt(k, firstAttempt)
	return sent, !sent && !ok
}

// attemptKind says why an attempt is made, which decides what happens when
// it cannot be sent.
type attemptKind uint8

const (
	firstAttempt attemptKind = iota // the caller is issuing its calls
	retryAttempt                    // the caller waits on the call
	hedgeAttempt                    // another attempt is still in flight
)

// callsInFlight counts, per edge (by its id), the calls started after
// warmup and not yet ended: one pass over the pool when a result is built
// (a live view builds one a frame), as Result counts the requests in
// flight, where a scan per edge made a frame's cost edges times calls.
func (s *Sim) callsInFlight() []uint64 {
	n := make([]uint64, len(s.edges))
	for i := range s.calls.c {
		if cl := &s.calls.c[i]; cl.inUse && cl.counted {
			n[s.services[cl.svc].calls[cl.edge].id]++
		}
	}
	return n
}

// fallback applies the edge's fallback to a call of request parent that
// failed: it reports whether the call counts as a success, degraded.
func (s *Sim) fallback(e *edge, counted bool, parent int32) bool {
	if !e.spec.Fallback {
		return false
	}
	if counted {
		e.stats.fallbacks++
	}
	s.reqs.r[parent].flags |= reqDegraded
	return true
}

// attempt sends one attempt of call k and reports whether it did. When it
// cannot (the breaker is open, or no instance is up), a first attempt or a
// retry ends the call, and ok says whether a fallback made that a success; a
// hedge is simply not sent.
func (s *Sim) attempt(k int32, kind attemptKind) (sent, ok bool) {
	cl := &s.calls.c[k]
	sv := &s.services[cl.svc]
	e := &sv.calls[cl.edge]
	p := e.pol[cl.hold]
	if br := p.breaker; br != nil {
		before := br.Transitions()
		allowed := br.Allow(s.now)
		s.noteBreaker(sv, cl.edge, cl.hold, before)
		if !allowed {
			if kind == hedgeAttempt {
				return false, false
			}
			if cl.counted {
				e.stats.shortCircuited++
			}
			cl.org = s.edgeOrigin(e, CauseBreakerOpen, p.lastFail)
			return false, s.endCall(k, Error, kind == retryAttempt)
		}
	}
	host := 0 // a store, topic or view is one destination
	switch {
	case e.inProc:
		host = int(s.reqs.r[cl.parent].inst) // the caller's own process
	case e.kind == toService:
		host = p.lb.Pick(&p.hosts, s.reqs.r[cl.parent].key, sv.rng)
	}
	if host < 0 {
		if kind == hedgeAttempt {
			// A copy is sent only to an instance that can take it.
			if br := p.breaker; br != nil {
				br.Release()
			}
			return false, false
		}
		return s.noInstance(k, kind)
	}
	timeout := e.perTry
	if cl.deadline > 0 && timeout > 0 && after(s.now, timeout) >= cl.deadline {
		timeout = 0 // the call's deadline comes first
	}
	var a int32
	if e.kind == toService {
		a = s.sendRequest(k, cl.edge, e.to, int32(host), e.latency, timeout)
		if a >= 0 {
			if cl.attempts == 0 {
				// Drawn once: a retry or a hedge sends the same
				// request again, to the same operation.
				cl.op = s.services[e.to].opFor(e.op, sv.rng)
			}
			s.reqs.r[a].op = cl.op
			s.reqs.r[a].set(reqInProc, e.inProc)
		}
	} else {
		a = s.newOp(k, timeout)
	}
	if a < 0 {
		return false, false
	}
	cl = &s.calls.c[k]
	cl.live[cl.nlive] = a
	cl.nlive++
	p.sent(int32(host))
	cl.attempts++
	if cl.counted {
		e.stats.attempts++
		if kind == retryAttempt {
			e.stats.retries++
		}
	}
	if h := e.spec.Hedge; h != nil && int(cl.attempts) < e.maxAttempts() {
		// This timer replaces any planned for an earlier attempt.
		cl.hedgeAt = after(s.now, int64(h.Delay))
		s.schedule(cl.hedgeAt, evHedge, k, cl.gen)
	}
	if e.kind != toService {
		s.startOp(k, a, e)
	}
	return true, false
}

// noInstance ends attempt kind (a first attempt or a retry) of call k, which
// found no instance of the callee to send to (none up, none left in the
// endpoints, or all unhealthy or ejected), as the caller sees it: an attempt
// that failed at once with an error. Envoy's router answers it with a local
// 503 "no healthy upstream" (response flag UH; source/common/router/router.cc,
// sendNoHealthyUpstreamResponse), and gRPC fails an RPC at once with
// UNAVAILABLE while its channel cannot connect (grpc/grpc
// doc/wait-for-ready.md, "fail fast" by default). So the attempt counts
// (ATTEMPTS), the breaker records it as a failure (Resilience4j records every
// exception it does not ignore: CircuitBreakerConfig's
// DEFAULT_RECORD_EXCEPTION_PREDICATE is throwable -> true), so a half-open
// trial that finds nobody up opens the breaker again, and the call's retry
// policy retries it if retry_on lists error. Outlier detection, which judges
// hosts, learns nothing: no host was tried. It returns what attempt returns:
// sent when a retry is planned (the call goes on), else the call has ended
// and ok says whether a fallback answered for it.
func (s *Sim) noInstance(k int32, kind attemptKind) (sent, ok bool) {
	cl := &s.calls.c[k]
	sv := &s.services[cl.svc]
	e := &sv.calls[cl.edge]
	p := e.pol[cl.hold]
	cl.attempts++
	if cl.counted {
		e.stats.attempts++
		if kind == retryAttempt {
			e.stats.retries++
		}
	}
	cl.org = s.edgeOrigin(e, CauseNoInstance, p.lastFail)
	p.releaseRetry(cl)
	if br := p.breaker; br != nil {
		before := br.Transitions()
		br.Record(s.now, 0, true)
		s.noteBreaker(sv, cl.edge, cl.hold, before)
	}
	if p.throttle != nil && e.spec.Retry != nil && e.spec.Retry.On[Error] {
		p.throttle.OnFailure() // a retryable failure takes a token (gRFC A6)
	}
	if d, ok := s.mayRetry(cl, e, Error, sv); ok {
		cl.prevSleep = d
		s.schedule(after(s.now, d), evRetry, k, cl.gen)
		return true, false
	}
	return false, s.endCall(k, Error, kind == retryAttempt)
}

// maxAttempts is the most attempts a call on e makes, hedged copies
// included: the retry policy's max attempts, or without one the hedge's
// max copies.
func (e *edge) maxAttempts() int {
	switch {
	case e.spec.Retry != nil:
		return e.spec.Retry.MaxAttempts
	case e.spec.Hedge != nil:
		return e.spec.Hedge.MaxCopies
	}
	return 1
}

// attemptDone takes the outcome o of attempt a of call k, sent at sent to
// instance host. The breaker counts any outcome but OK as a failure; outlier
// detection any but OK and Limited; the retry throttle only those the
// policies would try again.
//
// A failed attempt of a hedged call follows gRFC A6 ("Hedging Policy"): an
// outcome the hedge's NonFatalOn lists sends the next copy at once, without
// waiting for the hedge delay; any other ends the call at once with that
// outcome and cancels the copies still out, unless the retry policy retries
// it, in which case the call waits for the copies still out and then
// retries, as an unhedged call would.
//
// org is where the attempt's failure originated: the call keeps the last
// one, and the holder's policies the fault behind it, for a breaker it
// opens or a bulkhead it fills.
func (s *Sim) attemptDone(k, a int32, o Outcome, sent int64, host int32, org origin) {
	cl := &s.calls.c[k]
	sv := &s.services[cl.svc]
	e := &sv.calls[cl.edge]
	p := e.pol[cl.hold]
	if o != OK && o != Conflict {
		cl.org, p.lastFail = org, org.fault
	}
	for j := int32(0); j < cl.nlive; j++ {
		if cl.live[j] == a {
			cl.nlive--
			cl.live[j] = cl.live[cl.nlive]
			p.settled(host)
			break
		}
	}
	p.releaseRetry(cl)
	failed := o != OK
	if br := p.breaker; br != nil {
		before := br.Transitions()
		// A conflict is the store's answer, not its failure (Cassandra's
		// lightweight transaction answers [applied] = false): the
		// breaker counts it a success.
		br.Record(s.now, s.now-sent, failed && o != Conflict)
		s.noteBreaker(sv, cl.edge, cl.hold, before)
	}
	// Envoy's consecutive_5xx counts 5xx answers and what the router
	// turns into one (timeouts, resets); a 429 is not a 5xx and, like any
	// other answer, ends a run of failures and is a success for the
	// success rate.
	s.noteOutlier(sv, cl.edge, cl.hold, host, failed && o != Limited && o != Conflict)
	retryable := e.spec.Retry != nil && e.spec.Retry.On[o]
	nonFatal := e.spec.Hedge != nil && e.spec.Hedge.NonFatalOn[o]
	if p.throttle != nil {
		// gRFC A6 ("Throttling Retry Attempts and Hedged RPCs"): the only
		// failures that take a token are those with a retryable or
		// non-fatal status, whether or not attempts are left (as
		// grpc-java's makeRetryDecision), so that answers nobody would
		// retry, such as a 429 outside retry_on, do not starve the retries.
		switch {
		case !failed:
			p.throttle.OnSuccess()
		case retryable || nonFatal:
			p.throttle.OnFailure()
		}
	}
	if !failed {
		s.endCall(k, OK, true)
		return
	}
	switch {
	case nonFatal:
		if s.sendCopy(k) {
			return
		}
		cl = &s.calls.c[k] // attempt may have moved the pool
	case e.spec.Hedge != nil && !retryable:
		s.endCall(k, o, true) // fatal: the copies still out are cancelled
		return
	}
	if cl.nlive > 0 {
		return // a hedge is still out and may yet succeed
	}
	if d, ok := s.mayRetry(cl, e, o, sv); ok {
		cl.prevSleep = d
		s.schedule(after(s.now, d), evRetry, k, cl.gen)
		return
	}
	s.endCall(k, o, true)
}

// mayRetry decides whether a failed call gets another attempt, and after
// what backoff. A retry that would start at or after the call's deadline is
// not made. The budget and the throttle are asked last, because asking the
// budget spends it.
func (s *Sim) mayRetry(cl *call, e *edge, o Outcome, sv *service) (backoff int64, ok bool) {
	rt := e.spec.Retry
	if rt == nil || !rt.On[o] || int(cl.attempts) >= rt.MaxAttempts {
		return 0, false
	}
	d := rt.Backoff.Delay(int(cl.attempts)-1, cl.prevSleep, sv.rng)
	if cl.deadline > 0 && after(s.now, d) >= cl.deadline {
		return 0, false
	}
	// Envoy checks its retry circuit breaker before it sleeps, and a
	// refused retry (upstream_rq_retry_overflow) returns the failure.
	p := e.pol[cl.hold]
	if c := rt.Concurrency; c != nil && !c.Allow(p.calls, p.retries) {
		if cl.counted {
			e.stats.retryOverflow++
		}
		return 0, false
	}
	if p.throttle != nil && !p.throttle.Allow() {
		if cl.counted {
			e.stats.budgetExhausted++
		}
		return 0, false
	}
	if p.budget != nil && !p.budget.TryWithdraw(s.now) {
		if cl.counted {
			e.stats.budgetExhausted++
		}
		return 0, false
	}
	if rt.Concurrency != nil {
		p.retries++
		cl.retrying = true
	}
	return d, true
}

// noteOutlier records an attempt's result at callee instance host with
// the outlier detection of holder i of an edge, if it has one.
func (s *Sim) noteOutlier(sv *service, edge, i, host int32, failed bool) {
	e := &sv.calls[edge]
	p := e.pol[i]
	if p.outlier == nil {
		return
	}
	if p.outlier.Record(s.now, int(host), failed) {
		s.logf(s.holderName(sv, edge, i), "outlier detection ejected %s#%d", s.services[e.to].spec.Name, host+1)
	}
	s.scheduleReview(sv, edge, i)
}

// releaseRetry ends the retry call cl holds in flight, if any. Envoy's
// RetryStateImpl counts a retry from the moment it is decided (through its
// back-off) until the next answer or the end of the request (resetRetry).
func (p *policies) releaseRetry(cl *call) {
	if cl.retrying {
		p.retries--
		cl.retrying = false
	}
}

// retry sends the next attempt of call k after its backoff; it counts as a
// retry once it is sent.
func (s *Sim) retry(k int32, gen uint32) {
	cl := &s.calls.c[k]
	if cl.gen != gen {
		return // the call ended meanwhile (its deadline)
	}
	s.attempt(k, retryAttempt) // counts the retry when it is made
}

// hedge sends another copy of call k when its hedge delay is over, if it is
// still waiting on a copy.
func (s *Sim) hedge(k int32, gen uint32) {
	cl := &s.calls.c[k]
	if cl.gen != gen || s.now != cl.hedgeAt {
		return // the call ended, or the timer was planned for an earlier attempt
	}
	cl.hedgeAt = 0
	if cl.nlive == 0 {
		return // between a failure and its retry
	}
	s.sendCopy(k)
}

// sendCopy sends another copy of call k, with fewer than max copies out and
// attempts left, and reports whether it did. As gRFC A6 says, the retry
// throttle applies to hedged copies too: one is sent only while the token
// count is above half of max_tokens.
func (s *Sim) sendCopy(k int32) bool {
	cl := &s.calls.c[k]
	e := &s.services[cl.svc].calls[cl.edge]
	if int(cl.nlive) >= e.spec.Hedge.MaxCopies || int(cl.attempts) >= e.maxAttempts() {
		return false
	}
	counted := cl.counted
	if t := e.pol[cl.hold].throttle; t != nil && !t.Allow() {
		if counted {
			e.stats.budgetExhausted++
		}
		return false
	}
	sent, _ := s.attempt(k, hedgeAttempt)
	if sent && counted {
		e.stats.hedges++ // a copy that found the breaker open or no instance was not sent
	}
	return sent
}

// deadline ends call k when its overall timeout passes.
func (s *Sim) deadline(k int32, gen uint32) {
	cl := &s.calls.c[k]
	if cl.gen != gen {
		return
	}
	if cl.nlive > 0 {
		cl.org = s.lateOrigin(cl.live[0])
	}
	s.endCall(k, Timeout, true)
}

// abandon gives up on the attempts of call k still in flight; the breaker
// learns of them as failures when the call timed out, and forgets them when
// another attempt won or the caller died.
func (s *Sim) abandon(k int32, o Outcome) {
	cl := &s.calls.c[k]
	e := &s.services[cl.svc].calls[cl.edge]
	p := e.pol[cl.hold]
	for j := int32(0); j < cl.nlive; j++ {
		a := cl.live[j]
		r := &s.reqs.r[a]
		r.flags |= reqAbandoned
		if e.kind == toService {
			p.settled(r.inst) // Envoy resets the stream: it is no longer active
		}
		if o == Timeout && e.kind == toService {
			// The call's deadline passed with the attempt unanswered:
			// Envoy's router reports the timeout to outlier detection
			// as a 504 (LocalOriginTimeout, counted as a 5xx while
			// split_external_local_origin_errors is false), so a host
			// that never answers is ejected too.
			s.noteOutlier(&s.services[cl.svc], cl.edge, cl.hold, r.inst, true)
		}
		if br := p.breaker; br != nil {
			if o == Timeout {
				// A timed-out attempt is a failure: it may open the
				// breaker, which the log and the automatic transition
				// must hear of.
				before := br.Transitions()
				br.Record(s.now, s.now-r.sent, true)
				s.noteBreaker(&s.services[cl.svc], cl.edge, cl.hold, before)
			} else {
				br.Release()
			}
		}
		if cl.counted && o == OK {
			e.stats.cancelled++
		}
		if r.state == lost {
			s.freeRequest(a) // dropped on the way: nothing else will free it
		}
	}
	cl.nlive = 0
}

// cancelCall drops call k without telling its parent, which is gone (its
// instance crashed): the call ends as gRPC's CANCELLED ("the operation was
// cancelled, typically by the caller", grpc/grpc doc/statuscodes.md),
// counted apart from the callee's answers so that every call on an edge
// still ends in exactly one outcome.
func (s *Sim) cancelCall(k int32) {
	cl := &s.calls.c[k]
	s.abandon(k, Error)
	e := &s.services[cl.svc].calls[cl.edge]
	if cl.counted {
		e.stats.callerCancelled++
	}
	p := e.pol[cl.hold]
	p.calls--
	p.releaseRetry(cl)
	s.calls.release(k)
}

// endCall ends call k with outcome o: attempts still in flight are cancelled
// (nobody waits for them any more), the fallback applies to a failure, and,
// when notify is set, the parent request learns the outcome. It returns
// whether the call succeeded, for callers that notify the parent themselves.
func (s *Sim) endCall(k int32, o Outcome, notify bool) bool {
	s.abandon(k, o)
	cl := &s.calls.c[k]
	e := &s.services[cl.svc].calls[cl.edge]
	p := e.pol[cl.hold]
	p.calls--
	p.releaseRetry(cl)
	// A call made during warmup is timed in its window (pre) but not in
	// the run's aggregate, which is the windows' counted calls merged.
	if lat := s.now - cl.start; cl.counted {
		e.stats.out[o]++
		e.win.record(o, lat)
	} else {
		e.pre.record(o, lat)
	}
	parent := cl.parent
	if o != OK {
		org := cl.org
		if !org.set() {
			org = s.edgeOrigin(e, CauseError, 0) // a conflict, which carries no origin
		}
		s.fail(parent, org)
		if s.fallback(e, cl.counted, parent) {
			o = OK
		}
	}
	late := cl.late
	s.calls.release(k)
	if notify {
		s.callDone(parent, o, late)
	}
	return o == OK
}
