package sim

import (
	"fmt"
	"strings"

	"github.com/faultline/faultline/sim/resilience"
)

// edgeRef names an edge across the whole simulation, for events.
type edgeRef struct{ svc, edge int32 }

// edgeName is how logs and results name an edge: "caller->callee", with
// the operation for a store, a view or a topic: "orders->db (write)".
func (s *Sim) edgeName(svc, edge int32) string {
	sv := &s.services[svc]
	e := &sv.calls[edge]
	from := sv.spec.Name
	if o := sv.callOp[edge]; o >= 0 && sv.ops[o].name != "" {
		from += "." + sv.ops[o].name // a call of one operation
	}
	if e.kind != toService {
		return from + "->" + e.spec.To + " (" + e.spec.Op.String() + ")"
	}
	to := s.services[e.to].spec.Name
	if e.op >= 0 {
		to += "." + e.spec.Operation
	}
	return from + "->" + to
}

// noteBreaker logs a change of state of breaker i of an edge, if the call
// that consulted it made one; before is its transition count from before.
func (s *Sim) noteBreaker(sv *service, edge, i int32, before uint64) {
	e := &sv.calls[edge]
	br := e.breakers[i]
	if br.Transitions() == before {
		return
	}
	name := s.edgeName(sv.idx, edge)
	if e.spec.BreakerPer == PerInstance {
		name = fmt.Sprintf("%s#%d->%s", sv.spec.Name, i+1, strings.TrimPrefix(name, sv.spec.Name+"->"))
	}
	for len(e.brAt) <= int(i) {
		e.brAt = append(e.brAt, 0)
	}
	e.brAt[i] = s.now
	what := "breaker " + br.State().String()
	if f, sl, n := br.Rates(); n > 0 && f >= 0 && br.State() == resilience.Open {
		what += fmt.Sprintf(" (failure rate %.0f%%, slow calls %.0f%%, of %d calls)", f, sl, n)
	}
	s.logf(name, "%s", what)
	e.transitions++
	if at, ok := br.NextTransition(); ok {
		// An automatic transition happens on time, calls or not.
		s.schedule(max(at, s.now), evBreaker, e.id, uint32(i))
	}
}

// breakerDue applies a breaker's automatic transition when it falls due.
func (s *Sim) breakerDue(id, i int32) {
	ref := s.edges[id]
	sv := &s.services[ref.svc]
	br := sv.calls[ref.edge].breakers[i]
	before := br.Transitions()
	br.Advance(s.now)
	s.noteBreaker(sv, ref.edge, i, before)
}

// scheduleReview makes sure an edge's outlier detection reviews its
// ejections and success rates at its next interval, when a review can
// change anything.
func (s *Sim) scheduleReview(sv *service, edge int32) {
	e := &sv.calls[edge]
	if e.review {
		return
	}
	at, ok := e.outlier.NextTransition()
	if !ok {
		return
	}
	e.review = true
	s.schedule(max(at, s.now), evOutlierReview, e.id, 0)
}

// reviewOutliers returns ejected hosts whose time is up, ejects hosts on
// their success rate, and keeps reviewing while a review can change
// anything.
func (s *Sim) reviewOutliers(id int32) {
	ref := s.edges[id]
	sv := &s.services[ref.svc]
	e := &sv.calls[ref.edge]
	e.review = false
	returned, ejected := e.outlier.Review(s.now)
	if ejected > 0 {
		s.logf(s.edgeName(ref.svc, ref.edge), "outlier detection ejected %d host(s) on their success rate", ejected)
	}
	if returned > 0 {
		s.logf(s.edgeName(ref.svc, ref.edge), "outlier detection returned %d host(s)", returned)
	}
	s.scheduleReview(sv, ref.edge)
}
