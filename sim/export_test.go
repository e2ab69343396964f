package sim

import "fmt"

// CheckPool verifies that the request pool's live count is what is really
// in flight: every slot in use is still referred to by an event, held at its
// service (queued, at work, waiting on calls, parked by a pause), or waited
// for by a caller that has not given up. A slot that nothing will ever free
// is a leak.
func (s *Sim) CheckPool() error {
	p := &s.reqs
	free := make([]bool, len(p.r))
	for _, i := range p.free {
		free[i] = true
	}
	if n := len(p.r) - len(p.free); n != p.live {
		return fmt.Errorf("request pool: %d slots in use, live count %d", n, p.live)
	}
	pending := make([]bool, len(p.r))
	mark := func(e event) {
		switch e.kind() {
		case evDeliver, evWorkDone, evAfterDone, evResponse, evTimeout, evCallsDone, evRefuse, evOpDone:
			if i := e.arg(); p.r[i].gen == e.gen {
				pending[i] = true
			}
		}
	}
	for _, e := range s.events.ev {
		mark(e)
	}
	s.eachTimeout(mark)
	inFlight := 0
	for i := range p.r {
		r := &p.r[i]
		if free[i] {
			continue
		}
		if pending[i] || r.state == atService || !r.is(reqAbandoned) {
			inFlight++
		}
	}
	if inFlight != p.live {
		return fmt.Errorf("request pool: live count %d, but %d requests in flight: %d leaked", p.live, inFlight, p.live-inFlight)
	}
	// Every instance lists exactly the requests that hold its workers,
	// each at its seat; the count of instances listed in the endpoints,
	// kept as they change (relist), is a count of them now.
	for si := range s.services {
		sv := &s.services[si]
		listed := 0
		for n := range sv.insts {
			if sv.listed(n) {
				listed++
			}
		}
		if listed != sv.listedNow {
			return fmt.Errorf("%s: %d instances listed, counted %d", sv.spec.Name, listed, sv.listedNow)
		}
		for n := range sv.insts {
			in := &sv.insts[n]
			if len(in.work) != in.busy {
				return fmt.Errorf("%s#%d: %d requests listed at work, %d workers busy", sv.spec.Name, n+1, len(in.work), in.busy)
			}
			for k, i := range in.work {
				r := &p.r[i]
				if free[i] || p.seat[i] != int32(k) || r.svc != int32(si) || r.inst != int32(n) || !r.is(reqWorking) || r.is(reqReleased) {
					return fmt.Errorf("%s#%d: request %d listed at work is not (seat %d of %d)", sv.spec.Name, n+1, i, p.seat[i], k)
				}
			}
		}
	}
	return nil
}

// SagaCoordinators counts the running orchestrated sagas that each
// instance of service svc coordinates.
func (s *Sim) SagaCoordinators(svc string) []int {
	sv := &s.services[s.serviceIndex(svc)]
	n := make([]int, len(sv.insts))
	for i := range s.sagaRuns.r {
		if r := &s.sagaRuns.r[i]; r.inUse && r.end == running && r.coord >= 0 && s.sagas[r.saga].start == sv.idx {
			n[r.coord]++
		}
	}
	return n
}

// InReach is how many lasting fault occurrences sit on a component that
// service name reaches down its calls: heldFault walks only when it is
// above 0.
func (s *Sim) InReach(name string) int32 {
	return s.inReach[s.serviceIndex(name)]
}

// eachTimeout calls f with every event held in a FIFO (CheckPool).
func (s *Sim) eachTimeout(f func(e event)) {
	for k := range s.timeouts.q {
		q := &s.timeouts.q[k]
		for j := range q.n {
			f(q.buf[(q.head+j)%len(q.buf)])
		}
	}
}
