package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/faultline/faultline/sim/resilience"
)

// edgeRef names an edge across the whole simulation, for events.
type edgeRef struct{ svc, edge int32 }

// policies is the resilience state of an edge as one holder keeps it: a
// caller instance (Scope PerInstance) or the whole caller service
// (PerService). Every field but the balancer is nil (or empty) when the
// call has no such policy.
type policies struct {
	lb       *resilience.Balancer
	hosts    hostsView // the callee's instances as this holder sees them
	outlier  *resilience.Outlier
	hc       *resilience.HealthChecker // the edge's Envoy health checking, shared
	review   bool                      // an outlier review is scheduled
	breaker  *resilience.Breaker
	brAt     int64 // when the breaker last changed state
	budget   *resilience.RetryBudget
	throttle *resilience.RetryThrottle
	calls    int   // calls in flight, for the bulkhead and Envoy's retry budget
	retries  int   // retries in flight, for Retry.Concurrency (Envoy's max_retries)
	lastFail int32 // the fault (occurrence + 1) behind the last failed attempt, 0: none
	// rqActive counts the attempts this holder has sent to each callee
	// instance and not yet seen answered or given up on: Envoy's per-host
	// rq_active, which least_request compares. Envoy's connection pool
	// increments it when it attaches a stream to a host and decrements it
	// when the stream closes (response, reset, timeout)
	// (source/common/conn_pool/conn_pool_base.cc, attachStreamToClient and
	// onStreamClosed), so requests in transit and requests to a host that
	// never answers count. Kept only for least_request.
	rqActive []int32
}

// newPolicies builds one holder's state for edge e; callee is the service
// it calls (nil for a store, topic or view). A round-robin cursor is the
// only balancer state a holder keeps apart: the other policies' balancers
// are stateless and shared (a ring is the same for every holder).
func (e *edge) newPolicies(callee *service) *policies {
	c := e.spec
	p := &policies{hc: e.hc}
	if callee != nil {
		n := len(callee.insts)
		if len(e.pol) > 0 && c.Balancer != resilience.RoundRobin {
			p.lb = e.pol[0].lb
		} else {
			p.lb = resilience.NewBalancer(c.Balancer, c.ChoiceCount, 100, n)
		}
		p.hosts = hostsView{sv: callee, p: p}
		if c.Outlier != nil {
			p.outlier = resilience.NewOutlier(*c.Outlier, n)
		}
		if c.Balancer == resilience.LeastRequest {
			p.rqActive = make([]int32, n)
		}
	}
	if c.Breaker != nil {
		p.breaker = resilience.NewBreaker(*c.Breaker)
	}
	if rt := c.Retry; rt != nil {
		if b := rt.Budget; b != nil {
			p.budget = resilience.NewRetryBudget(b.Percent, b.MinPerSec, b.TTL)
		}
		if t := rt.Throttle; t != nil {
			p.throttle = resilience.NewRetryThrottle(t.MaxTokens, t.TokenRatio)
		}
	}
	return p
}

// holder returns the index of the policies that caller instance inst of
// the edge's service uses, growing them for an instance the autoscaler
// started since: a new process starts with fresh state.
func (s *Sim) holder(e *edge, inst int32) int32 {
	if e.spec.Scope == PerService {
		return 0
	}
	for int(inst) >= len(e.pol) {
		var callee *service
		if e.kind == toService {
			callee = &s.services[e.to]
		}
		e.pol = append(e.pol, e.newPolicies(callee))
	}
	return inst
}

// sent counts an attempt to callee instance host as active for holder p.
func (p *policies) sent(host int32) {
	if p.rqActive == nil {
		return
	}
	for int(host) >= len(p.rqActive) { // the callee has scaled up
		p.rqActive = append(p.rqActive, 0)
	}
	p.rqActive[host]++
}

// settled ends an attempt to host that sent counted.
func (p *policies) settled(host int32) {
	if p.rqActive != nil {
		p.rqActive[host]--
	}
}

// holderName is how logs name the state of holder i of an edge: the edge,
// with the caller instance when each instance has its own and the caller
// may run more than one ("checkout#2->payment").
func (s *Sim) holderName(sv *service, edge, i int32) string {
	name := s.edgeName(sv.idx, edge)
	if sv.calls[edge].spec.Scope == PerInstance && (sv.spec.Instances > 1 || sv.spec.Autoscale != nil) {
		name = fmt.Sprintf("%s#%d->%s", sv.spec.Name, i+1, strings.TrimPrefix(name, sv.spec.Name+"->"))
	}
	return name
}

// EdgeID is a call edge's identity, typed: a view reads it where it would
// otherwise parse the Name the engine writes from it (String).
type EdgeID struct {
	Caller string // the calling service
	// CallerOp is the caller's operation that makes the call; "" when the
	// call is the whole service's.
	CallerOp string
	Callee   string // the service, store, view or topic called
	// Operation is the callee's operation called ("charge"); "" for a call
	// of a whole service, or of a data component.
	Operation string
	// Op is the kind of call: OpNone to a service, else what the call
	// does to a store, view or topic (read, write, publish).
	Op Op
}

// String is how logs and results name an edge: "caller->callee", with
// the operations called and calling ("shop.search->payment.charge"), and
// what a call to a store, a view or a topic does: "orders->db (write)".
func (id EdgeID) String() string {
	from := id.Caller
	if id.CallerOp != "" {
		from += "." + id.CallerOp // a call of one operation
	}
	return from + "->" + id.To()
}

// To is the callee's side of the name: "payment", "payment.charge", "db
// (write)".
func (id EdgeID) To() string {
	to := id.Callee
	if id.Operation != "" {
		to += "." + id.Operation
	}
	if id.Op != OpNone {
		to += " (" + id.Op.String() + ")"
	}
	return to
}

// edgeID is edge's identity, of service svc.
func (s *Sim) edgeID(svc, edge int32) EdgeID {
	sv := &s.services[svc]
	e := &sv.calls[edge]
	id := EdgeID{Caller: sv.spec.Name, Callee: e.spec.To}
	if o := sv.callOp[edge]; o >= 0 && sv.ops[o].name != "" {
		id.CallerOp = sv.ops[o].name
	}
	if e.kind != toService {
		id.Op = e.spec.Op
		return id
	}
	id.Callee = s.services[e.to].spec.Name
	if e.op >= 0 {
		id.Operation = e.spec.Operation
	}
	return id
}

// edgeName is how logs and results name an edge (EdgeID.String).
func (s *Sim) edgeName(svc, edge int32) string { return s.edgeID(svc, edge).String() }

// noteBreaker logs a change of state of breaker i of an edge, if the call
// that consulted it made one; before is its transition count from before.
func (s *Sim) noteBreaker(sv *service, edge, i int32, before uint64) {
	e := &sv.calls[edge]
	p := e.pol[i]
	br := p.breaker
	if br.Transitions() == before {
		return
	}
	name := s.holderName(sv, edge, i)
	p.brAt = s.now
	what := "breaker " + br.State().String()
	if f, sl, n := br.Rates(); n > 0 && f >= 0 && br.State() == resilience.Open {
		what += fmt.Sprintf(" (failure rate %.0f%%, slow calls %.0f%%, of %d calls)", f, sl, n)
	}
	s.logEvent(Event{T: time.Duration(s.now), Component: name, Kind: EventBreaker, Breaker: br.State(), What: what})
	e.transitions++
	if br.State() == resilience.Open {
		e.opens++
	}
	if at, ok := br.NextTransition(); ok {
		// An automatic transition happens on time, calls or not.
		s.schedule(max(at, s.now), evBreaker, e.id, uint32(i))
	}
}

// breakerDue applies a breaker's automatic transition when it falls due.
func (s *Sim) breakerDue(id, i int32) {
	ref := s.edges[id]
	sv := &s.services[ref.svc]
	br := sv.calls[ref.edge].pol[i].breaker
	before := br.Transitions()
	br.Advance(s.now)
	s.noteBreaker(sv, ref.edge, i, before)
}

// scheduleReview makes sure the outlier detection of holder i of an edge
// reviews its ejections and success rates at its next interval, when a
// review can change anything.
func (s *Sim) scheduleReview(sv *service, edge, i int32) {
	e := &sv.calls[edge]
	p := e.pol[i]
	if p.review {
		return
	}
	at, ok := p.outlier.NextTransition()
	if !ok {
		return
	}
	p.review = true
	s.schedule(max(at, s.now), evOutlierReview, e.id, uint32(i))
}

// reviewOutliers returns the ejected hosts of holder i of an edge whose
// time is up, ejects hosts on their success rate, and keeps reviewing while
// a review can change anything.
func (s *Sim) reviewOutliers(id, i int32) {
	ref := s.edges[id]
	sv := &s.services[ref.svc]
	p := sv.calls[ref.edge].pol[i]
	p.review = false
	returned, ejected := p.outlier.Review(s.now)
	if ejected > 0 {
		s.logf(s.holderName(sv, ref.edge, i), "outlier detection ejected %d host(s) on their success rate", ejected)
	}
	if returned > 0 {
		s.logf(s.holderName(sv, ref.edge, i), "outlier detection returned %d host(s)", returned)
	}
	s.scheduleReview(sv, ref.edge, i)
}
