package sim

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Failure provenance: every request that fails, times out, is refused or
// is answered by a fallback carries where its failure originated (the
// component that first failed it, why, and the fault occurrence active
// there, if any), up the call chain to the client. Each window counts a
// component's failures by origin, so that the cascade trace gives an
// unhealthy episode to the faults its failures trace back to, in
// proportion, and says so when none is behind them (plain overload, a
// retry storm that outlived its trigger).
//
// The rules, in the order a failure meets them:
//   - a failure a component decides itself originates there: its own error
//     (an errors fault's draw, or its background error rate: no fault), a
//     connection refused or reset by an instance down (the crash, leak
//     or deploy that took it down: downOcc), a full queue, a
//     request shed after its queue timeout, a 429; a full queue and a shed
//     request carry the fault the workers ahead hold (the queued rule);
//   - a call that ends without an answer originates at its callee: a
//     breaker open on it, no instance up, a full bulkhead; the fault is
//     the one behind the callee's last failed attempt (what opened the
//     breaker, held the bulkhead) or active on its instances;
//   - a failed call passes its origin to the request that made it, and so
//     on up: the caller's failure inherits the callee's origin, and the
//     first failure of a request is the one it keeps; a request whose call
//     sleeps between retries, with no attempt in flight, waits on the
//     fault behind that call's last failed attempt (hereOrigin);
//   - a timeout originates at the deepest component on the path still
//     being waited on whose own fault was active (a slow, paused or
//     partitioned instance, a broker or store node down), or whose finished
//     calls brought back a fault's slowness; else at the callee that did
//     not answer, with no fault. A request waiting in a queue is late
//     because the workers ahead of it are (thread-per-request: "a single
//     backend dependency becoming latent can cause all resources to become
//     saturated", which "backs up queues, threads, and other system
//     resources", Hystrix's wiki, https://github.com/Netflix/Hystrix/wiki):
//     it takes the fault those workers' paths meet now, down every call
//     and through every queue they wait on (queuedOrigin), in proportion
//     to the workers each fault holds; when they hold none, the fault
//     behind the work its service last finished slowed by one, within a
//     window (a backlog a fault left);
//   - a publish or store operation that fails or times out originates at
//     its broker (waiting on ISR members, no leader) or store (a quorum it
//     could not reach), with the latest fault active on its nodes;
//   - a consumer group's records behind (groupBlame), lost or read twice
//     originate where their partition was held up: its leader (down,
//     paused or slowed, or none: "all reads and writes go to the leader
//     of the partition", https://kafka.apache.org/documentation/#replication),
//     the member that owns it (crashed, paused,
//     or slowed by a fault on its instance, or held up by the record it
//     processes, down that request's calls as a timeout is (lateOrigin):
//     its poll loop is what moves the partition), or the rebalance that left it without an owner (the
//     member whose leaving or joining began it: "Detecting Consumer
//     Failures"), with the fault active there; else none (a consumer too
//     slow for its load). Records lost to an unclean leader election
//     originate at the broker, those read again after a rebalance at the
//     rebalance's origin. A view's window has its projector's blame: a
//     consumer group whose members run in the view's one process
//     (projectorOrigin), so the view down, frozen, slowed or rebuilding
//     holds its partitions up as a member's instance does.

// Cause is why a request failed at its origin.
type Cause uint8

const (
	CauseNone        Cause = iota
	CauseError             // the component answered with an error of its own
	CauseCrash             // its instance was down: connection refused or reset
	CausePause             // its process was paused when the caller gave up
	CauseLate              // it had not answered when the caller gave up
	CauseQueued            // it was still queued behind busy workers when the caller gave up
	CauseQueueFull         // its queue was full: rejected
	CauseShed              // it waited longer than the queue timeout
	CauseRateLimited       // a 429
	CauseBreakerOpen       // a breaker open on the call to it
	CauseNoInstance        // no instance of it up (or all ejected)
	CauseBulkhead          // the caller's bulkhead on the call to it was full
	CauseLost              // the network dropped the request or its answer
	CauseISR               // a publish its broker did not acknowledge: ISR members, no leader
	CauseQuorum            // a store operation that could not reach its quorum
	CauseSlow              // it answered, slower than its latency threshold (slowness.go)
	CauseNoLeader          // a partition a consumer group reads had no leader it could fetch from
	CauseRebalance         // a consumer group's partition had no owner: a rebalance, its member gone
)

var causeNames = [...]string{
	CauseNone: "none", CauseError: "error", CauseCrash: "crash", CausePause: "pause", CauseLate: "late",
	CauseQueued: "queued", CauseQueueFull: "queue_full", CauseShed: "shed", CauseRateLimited: "rate_limited",
	CauseBreakerOpen: "breaker_open", CauseNoInstance: "no_instance", CauseBulkhead: "bulkhead_full",
	CauseLost: "lost", CauseISR: "isr", CauseQuorum: "quorum",
	CauseSlow: "slow", CauseNoLeader: "no_leader", CauseRebalance: "rebalance",
}

func (c Cause) String() string {
	if int(c) < len(causeNames) {
		return causeNames[c]
	}
	return fmt.Sprintf("Cause(%d)", c)
}

// MarshalText writes the cause by name in JSON.
func (c Cause) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// origin is where a failure originated. The zero value is none: cause
// None; fault is the occurrence index + 1, 0 when no fault was active.
type origin struct {
	comp  int32 // a component (see compName)
	fault int32
	cause Cause
}

func (o origin) set() bool { return o.cause != CauseNone }

// occAt returns the origin of a failure with cause c at component comp,
// with the occurrence of fault f (an index into s.faults; -1 none) if it
// is active.
func (s *Sim) occAt(comp int32, c Cause, f int32) origin {
	o := origin{comp: comp, cause: c}
	if f >= 0 && int(f) < len(s.occOf) && s.faults[f].active {
		if own := s.occOf[f]; len(own) > 0 {
			o.fault = own[len(own)-1] + 1
		}
	}
	return o
}

// latest returns the fault that began last of best (-1: none) and those
// of list that pass keep (nil: all): the one that made the difference
// when several are active. A later one in list wins a tie, so that
// folding it over several lists in turn picks as one list would.
func (s *Sim) latest(best int32, list []int32, keep func(FaultParams) bool) int32 {
	for _, f := range list {
		if (keep == nil || keep(s.faults[f].p)) && (best < 0 || s.faults[f].since >= s.faults[best].since) {
			best = f
		}
	}
	return best
}

// Component indices of origins: the services, then the stores, brokers
// and views.
func (s *Sim) storeComp(i int32) int32  { return int32(len(s.services)) + i }
func (s *Sim) brokerComp(i int32) int32 { return int32(len(s.services)+len(s.stores)) + i }
func (s *Sim) viewComp(i int32) int32 {
	return int32(len(s.services)+len(s.stores)+len(s.brokers)) + i
}

func (s *Sim) compName(c int32) string {
	n := int(c)
	switch {
	case n < len(s.services):
		return s.services[n].spec.Name
	case n < len(s.services)+len(s.stores):
		return s.stores[n-len(s.services)].spec.Name
	case n < len(s.services)+len(s.stores)+len(s.brokers):
		return s.brokers[n-len(s.services)-len(s.stores)].spec.Name
	}
	return s.views[n-len(s.services)-len(s.stores)-len(s.brokers)].spec.Name
}

// fail records o as request i's failure origin unless one came first.
func (s *Sim) fail(i int32, o origin) {
	if r := &s.reqs.r[i]; !r.org.set() {
		r.org = o
	}
}

// instOrigin is the origin of a failure with cause c at instance n of
// service svc, blaming the latest of its active faults that pass keep.
func (s *Sim) instOrigin(svc, n int32, c Cause, keep func(FaultParams) bool) origin {
	in := &s.services[svc].insts[n]
	best := s.latest(-1, in.f.list, keep)
	if best < 0 && c == CauseCrash {
		// Down with no crash fault active: restarting after one that
		// ended, out of memory (a leak), or restarted by a deploy.
		return origin{comp: svc, cause: c, fault: in.downOcc}
	}
	return s.occAt(svc, c, best)
}

func isErrors(p FaultParams) bool {
	switch p.(type) {
	case ErrorsFault, DependencyFault:
		return true
	}
	return false
}

// addsTime reports whether a fault can make work take longer: an errors
// or throttle fault fails or refuses it, and is never what made an answer
// slow or a worker busy (slowness.go).
func addsTime(p FaultParams) bool {
	switch p.(type) {
	case ErrorsFault, ThrottleFault:
		return false
	}
	return true
}

func isLeak(p FaultParams) bool     { _, ok := p.(LeakFault); return ok }
func isThrottle(p FaultParams) bool { _, ok := p.(ThrottleFault); return ok }
func isPause(p FaultParams) bool    { _, ok := p.(PauseFault); return ok }
func isCrash(p FaultParams) bool    { _, ok := p.(CrashFault); return ok }
func isBlackhole(p FaultParams) bool {
	_, ok := p.(BlackholeFault)
	return ok
}

// pressure is the fault behind the work service sv last finished failed
// by one, or slowed by one while it lasted (complete), if that was
// within a window: what a queued failure, and the
// wait of a request queued, are traced to when its instance's workers
// hold no fault now (queuedOrigin, queueFault's callers), as when a
// fault's backlog outlives it.
func (s *Sim) pressure(sv *service) int32 {
	if sv.pressAt > 0 && s.now-sv.pressAt <= s.window {
		return sv.press
	}
	return 0
}

// queuedOrigin is the origin, with cause c, of a failure of a request
// that waited in the queue of instance n of service svc (refused by the
// full queue, shed, given up on there): the workers ahead of it made it
// wait. Its fault is the pause freezing the instance, else the one that
// the calls and work those workers hold meet now (heldFault), else, when
// they hold none, the fault behind the work the service last finished
// slowed by one, within a window (pressure).
func (s *Sim) queuedOrigin(svc, n int32, c Cause) origin {
	f := s.queueFault(svc, n)
	if f == 0 {
		f = s.pressure(&s.services[svc])
	}
	return origin{comp: svc, cause: c, fault: f}
}

// queueFault is the fault (occurrence + 1; 0: none) that a request in
// the queue of instance n of service svc waits on now: the pause
// freezing the instance, else the fault the workers ahead of it hold
// (heldFault). It is what a slow answer's wait in the queue is given to
// (slowness.go), with the pressure on the service when it finds none.
func (s *Sim) queueFault(svc, n int32) int32 {
	switch {
	case s.inReach[svc] == 0:
		return 0
	case s.services[svc].insts[n].paused:
		return s.instOrigin(svc, n, CausePause, isPause).fault
	}
	return s.heldFault(svc, n)
}

// heldFault is the fault (occurrence + 1; 0: none) met now by one of the
// requests holding the workers of instance n of service svc: the first,
// from where the instance's turn points, whose path down its calls
// (walk) meets an active fault. Each asks from the next worker on, so
// queued failures spread over the faults in proportion to the workers
// each holds: when a dependency's fault holds all the workers of its
// callers (gateway -> a -> b, b paused, a's workers waiting on b and the
// gateway's on a), every queued failure up the chain is b's fault's,
// even when no request finishes while it lasts. With no fault active
// on a component the service reaches (inReach) there is none to meet.
func (s *Sim) heldFault(svc, n int32) int32 {
	in := &s.services[svc].insts[n]
	k := len(in.work)
	if k == 0 || s.lasting == 0 {
		return 0
	}
	from, f := int(in.turn%uint32(k)), int32(0)
	in.turn++ // turned whether it walks or not, as when every walk was made
	if s.inReach[svc] == 0 {
		return 0
	}
	top := !s.walking
	if top { // not within a walk: begin one
		s.walking, s.walkLeft = true, maxWalk
	}
	for j := 0; j < k && s.walkLeft > 0 && f == 0; j++ {
		f = s.walk(in.work[(from+j)%k]).fault
	}
	if top {
		s.walking = false
	}
	return f
}

// A walk through the workers of a service's instance (heldFault) goes
// down their calls only: it meets the faults on the service itself, on
// what it calls, and on what those call, on down (stores, brokers and
// views included). inReach counts, for each service, the lasting
// occurrences on one of those components, kept as occurrences begin and
// end (countReach: up the callers from the fault's components, rare
// events); where it is 0 the walk is skipped: during a fault elsewhere
// (a partition between other services, a store this service never
// calls), an enqueue costs what it does with no fault lasting. callers
// lists the services that call each component (initReach, once): memory
// linear in the calls, where each service's closure would be quadratic
// in services.

// initReach lists each component's callers, in callers from
// callersAt[c] to callersAt[c+1].
func (s *Sim) initReach() {
	nc := len(s.services) + len(s.stores) + len(s.brokers) + len(s.views)
	s.inReach = make([]int32, len(s.services))
	s.reachSeen = make([]bool, len(s.services))
	s.callersAt = make([]int32, nc+1)
	each := func(do func(c, sv int32)) {
		for i := range s.services {
			sv := &s.services[i]
			for j := range sv.calls {
				switch e := &sv.calls[j]; e.kind {
				case toService:
					do(e.to, sv.idx)
				case toStore:
					do(s.storeComp(e.data), sv.idx)
				case toTopic:
					do(s.brokerComp(s.topics[e.data].broker), sv.idx)
				case toView:
					do(s.viewComp(e.data), sv.idx)
				}
			}
			for _, p := range sv.spec.Publishes {
				// A publish after the answer fails no request; counting
				// its broker costs nothing.
				if t := s.topicIndex(p.Topic); t >= 0 {
					do(s.brokerComp(s.topics[t].broker), sv.idx)
				}
			}
		}
	}
	each(func(c, _ int32) { s.callersAt[c+1]++ })
	for c := range nc {
		s.callersAt[c+1] += s.callersAt[c]
	}
	s.callers = make([]int32, s.callersAt[nc])
	fill := slices.Clone(s.callersAt[:nc])
	each(func(c, sv int32) { s.callers[fill[c]] = sv; fill[c]++ })
}

// countReach adds d to inReach for every service that reaches a component
// fault f sits on: its service; its stores', brokers' or view's nodes;
// its topic's broker; the callee of its links; the service its client
// calls; for a partition, the services on its sides and every data
// component (data messages are checked against every partition active,
// dataOrigin). A fault on none of them counts for every service.
func (s *Sim) countReach(f *fault, d int32) {
	if len(s.inReach) == 0 {
		return // no service to count for
	}
	on := s.reachOn[:0]
	switch {
	case f.svc >= 0:
		on = append(on, f.svc)
	case f.topic >= 0:
		on = append(on, s.brokerComp(s.topics[f.topic].broker))
	case f.client >= 0:
		on = append(on, s.clients[f.client].target)
	case f.spec.Kind == FaultPartition:
		for _, side := range f.p.(PartitionFault).Sides {
			for _, name := range side {
				if i := s.serviceIndex(name); i >= 0 {
					on = append(on, i)
				}
			}
		}
		for c := len(s.services); c < len(s.callersAt)-1; c++ {
			on = append(on, int32(c))
		}
	case len(f.nodes) > 0:
		for _, n := range f.nodes {
			on = append(on, s.nodeComp(n))
		}
	case f.target.Form == TargetLink:
		on = append(on, s.serviceIndex(f.target.Name))
	}
	s.reachOn = on
	if len(on) == 0 {
		for i := range s.inReach {
			s.inReach[i] += d
		}
		return
	}
	// The services on, then the callers of each component on, then
	// theirs, up: each once.
	seen, up := s.reachSeen, s.reachUp[:0]
	for _, c := range on {
		switch {
		case c < 0:
		case int(c) < len(s.services):
			if !seen[c] {
				seen[c], up = true, append(up, c)
			}
		default:
			for _, sv := range s.callers[s.callersAt[c]:s.callersAt[c+1]] {
				if !seen[sv] {
					seen[sv], up = true, append(up, sv)
				}
			}
		}
	}
	for k := 0; k < len(up); k++ {
		c := up[k]
		for _, sv := range s.callers[s.callersAt[c]:s.callersAt[c+1]] {
			if !seen[sv] {
				seen[sv], up = true, append(up, sv)
			}
		}
	}
	for _, sv := range up {
		s.inReach[sv] += d
		seen[sv] = false
	}
	s.reachUp = up
}

// nodeComp is the component data node n belongs to, or -1.
func (s *Sim) nodeComp(n *dataNode) int32 {
	for i := range s.stores {
		for j := range s.stores[i].nodes {
			if &s.stores[i].nodes[j] == n {
				return s.storeComp(int32(i))
			}
		}
	}
	for i := range s.brokers {
		for j := range s.brokers[i].nodes {
			if &s.brokers[i].nodes[j] == n {
				return s.brokerComp(int32(i))
			}
		}
	}
	for i := range s.views {
		if &s.views[i].node == n {
			return s.viewComp(int32(i))
		}
	}
	return -1
}

// serviceOrigin is the origin of a call that found callee svc without an
// instance to answer: the fault behind the holder's last failed attempt,
// else, for a refusal for no instance up, what took its instances down,
// else the latest fault active on the callee's instances.
func (s *Sim) serviceOrigin(svc int32, c Cause, last int32) origin {
	if last > 0 {
		return origin{comp: svc, cause: c, fault: last}
	}
	ix := &s.services[svc].onInsts
	if c == CauseNoInstance && len(ix.down) > 0 {
		// No instance up is Envoy's UH, "no healthy upstream hosts in
		// upstream cluster" (envoyproxy.io, access log, response flags):
		// it is the doing of what left none, the crash, leak or deploy
		// that took the most instances down (the later of two that took
		// as many), not of another fault lasting on one of the down
		// instances (a latency fault on a crashed instance slows nothing).
		best := ix.down[0]
		for _, d := range ix.down[1:] {
			if d.n >= best.n {
				best = d
			}
		}
		return origin{comp: svc, cause: c, fault: best.occ}
	}
	best := int32(-1)
	for _, f := range ix.faults {
		// The latest to begin; of two that began together, the one on
		// the higher instance, then the later begun: what a walk of the
		// instances' own lists, in order, would keep.
		if ff, fb := &s.faults[f], &s.faults[max(best, 0)]; best < 0 || ff.since > fb.since || ff.since == fb.since && ff.top >= fb.top {
			best = f
		}
	}
	if n := len(ix.down); best < 0 && n > 0 {
		return origin{comp: svc, cause: c, fault: ix.down[n-1].occ} // still starting after a crash that ended, or restarted by a deploy
	}
	return s.occAt(svc, c, best)
}

// instIndex is what serviceOrigin reads of a service's instances without
// walking them: the faults active on any of them, in the order they
// began, and how many instances are down after each occurrence that
// took them down, a crash, a leak or a deploy (their downOcc). It is kept as faults begin and end and as instances
// go down and up, so that the origin of a breaker-open or no-instance
// refusal costs O(active faults), not O(instances): a refusal at a
// service of thousands of instances costs what it does at one of three.
type instIndex struct {
	faults []int32
	down   []occCount // by occ, ascending
}

// occCount is how many down instances a crash occurrence (+1) took down
// last.
type occCount struct{ occ, n int32 }

// add counts one more instance down after occ; remove one fewer.
func (ix *instIndex) add(occ int32) {
	i, found := slices.BinarySearchFunc(ix.down, occ, func(c occCount, occ int32) int { return cmp.Compare(c.occ, occ) })
	if !found {
		ix.down = slices.Insert(ix.down, i, occCount{occ: occ})
	}
	ix.down[i].n++
}

func (ix *instIndex) remove(occ int32) {
	i, _ := slices.BinarySearchFunc(ix.down, occ, func(c occCount, occ int32) int { return cmp.Compare(c.occ, occ) })
	if ix.down[i].n--; ix.down[i].n == 0 {
		ix.down = slices.Delete(ix.down, i, i+1)
	}
}

// countDown brings what instance n adds to its service's down counts up
// to date with its state; call it when it goes down or up, as recount.
func (sv *service) countDown(n int32) {
	in := &sv.insts[n]
	occ := int32(0)
	if !in.up {
		occ = in.downOcc
	}
	if occ == in.downCounted {
		return
	}
	if in.downCounted > 0 {
		sv.onInsts.remove(in.downCounted)
	}
	if occ > 0 {
		sv.onInsts.add(occ)
	}
	in.downCounted = occ
}

// edgeOrigin is the origin of a call on e that ended without an answer
// from its callee, with cause c; last is the fault behind the holder's
// last failed attempt (0: none).
func (s *Sim) edgeOrigin(e *edge, c Cause, last int32) origin {
	if e.kind != toService {
		o := s.dataOrigin(e)
		o.cause = c
		if last > 0 {
			o.fault = last
		}
		return o
	}
	return s.serviceOrigin(e.to, c, last)
}

// dataOrigin is the origin of a failed or timed-out operation on the data
// component of edge e: the latest fault active on its nodes.
func (s *Sim) dataOrigin(e *edge) origin {
	var comp int32
	var nodes []dataNode
	c := CauseLate
	switch e.kind {
	case toStore:
		comp, nodes, c = s.storeComp(e.data), s.stores[e.data].nodes, CauseQuorum
	case toTopic:
		b := s.topics[e.data].broker
		comp, nodes, c = s.brokerComp(b), s.brokers[b].nodes, CauseISR
	case toView:
		comp, nodes = s.viewComp(e.data), []dataNode{s.views[e.data].node}
	}
	best := int32(-1)
	for i := range nodes {
		best = s.latest(best, nodes[i].faults, nil)
	}
	if best < 0 {
		// A partition cuts messages to its nodes as they are sent, not
		// through the nodes' own faults.
		best = s.latest(-1, s.partitions, nil)
	}
	return s.occAt(comp, c, best)
}

// maxWalk bounds the requests one walk visits (down a timed-out
// request's path, and through the workers ahead of a queued one):
// deeper call chains, and more workers tried, are not worth the cost.
const maxWalk = 64

// lateOrigin is the origin of a timeout on request i: the deepest
// component on the path still being waited on whose own fault was active,
// or that brought back a fault's slowness from a call it finished; else
// the callee that did not answer, with no fault.
func (s *Sim) lateOrigin(i int32) origin {
	s.walking, s.walkLeft = true, maxWalk
	o := s.walk(i)
	s.walking = false
	return o
}

// walk is lateOrigin's walk down request i's path, within the visits
// left (walkLeft): a request queued on the way leads through the workers
// ahead of it (heldFault).
func (s *Sim) walk(i int32) origin {
	var first, best origin
	for depth := 0; s.walkLeft > 0; depth++ {
		s.walkLeft--
		r := &s.reqs.r[i]
		here, next := s.hereOrigin(i)
		if depth == 0 {
			first = here
		}
		if r.late.set() {
			best = s.lateCause(r.late) // a finished call below, deeper than here
		}
		if here.fault > 0 {
			best = here
		}
		if next < 0 {
			break
		}
		i = next
	}
	if best.fault > 0 {
		return best
	}
	return first
}

// hereOrigin is what request i's own component says of its lateness, and
// the attempt it is waiting on below, or -1.
func (s *Sim) hereOrigin(i int32) (origin, int32) {
	r := &s.reqs.r[i]
	if r.svc < 0 {
		return s.dataOrigin(&s.services[s.calls.c[r.parent].svc].calls[s.calls.c[r.parent].edge]), -1
	}
	switch r.state {
	case lost, inTransit:
		c := CauseLate
		if r.state == lost {
			c = CauseLost
			if r.org.set() {
				return r.org, -1 // swallowed by its instance (deliver)
			}
		}
		var l *link
		switch r.parent {
		case noParent:
			l = &s.clients[r.origin].link
		case fromSaga:
			l = s.sagaCmdLink(r.origin, r.from)
		case fromRecord:
			return origin{comp: r.svc, cause: c}, -1
		default:
			cl := &s.calls.c[r.parent]
			l = &s.services[cl.svc].calls[cl.edge].link
		}
		return s.occAt(r.svc, c, s.latest(-1, l.faults, nil)), -1
	case ended:
		// Answered, the answer still on its way back: what it carries.
		if r.org.set() {
			return r.org, -1
		}
		return s.occAt(r.svc, CauseLate, -1), -1
	}
	sv := &s.services[r.svc]
	in := &sv.insts[r.inst]
	switch {
	case in.paused:
		return s.instOrigin(r.svc, r.inst, CausePause, isPause), -1
	case !r.is(reqWorking):
		return s.queuedOrigin(r.svc, r.inst, CauseQueued), -1
	}
	here := s.instOrigin(r.svc, r.inst, CauseLate, addsTime)
	if r.pending > 0 {
		switch cl := &s.calls.c[r.call]; {
		case !cl.inUse || cl.parent != i:
			// Its last call ended; another of its group is out.
		case cl.nlive > 0:
			return here, cl.live[0]
		case cl.org.fault > 0:
			// Sleeping between retries, no attempt in flight: it waits
			// on the fault behind its last failed attempt.
			return cl.org, -1
		}
	}
	return here, -1
}

// blameSlots is how many distinct origins a window counts apart; the
// rest are counted only by whether a fault was behind them.
const blameSlots = 6

// blameTally counts failures by origin over a window: bounded, and free
// of allocation. Its slots tell origins apart by component, cause and
// fault, not by occurrence: a fault that fires every few ms (flood.toml)
// would otherwise fill them with its occurrences and crowd out every
// other fault. A slot keeps the first occurrence of its fault in the
// window, so one that is alone in its window (the usual case: a window is
// 1 s) keeps its own attribution.
type blameTally struct {
	by            [blameSlots]originCount
	used          int
	faulted, none uint64
}

type originCount struct {
	o origin
	n uint64
}

// add counts a failure from o; occurs are the run's fault occurrences,
// which tell whose fault o's occurrence is.
func (b *blameTally) add(o origin, occurs []occurrence) {
	if o.fault > 0 {
		b.faulted++
	} else {
		b.none++
	}
	for k := range b.used {
		if p := b.by[k].o; p.comp == o.comp && p.cause == o.cause && sameFault(p.fault, o.fault, occurs) {
			b.by[k].n++
			return
		}
	}
	if b.used < blameSlots {
		b.by[b.used] = originCount{o, 1}
		b.used++
	}
}

// addN counts n failures from o.
func (b *blameTally) addN(o origin, n uint64, occurs []occurrence) {
	if n == 0 {
		return
	}
	b.add(o, occurs)
	if o.fault > 0 {
		b.faulted += n - 1
	} else {
		b.none += n - 1
	}
	for k := range b.used {
		if p := b.by[k].o; p.comp == o.comp && p.cause == o.cause && sameFault(p.fault, o.fault, occurs) {
			b.by[k].n += n - 1
			return
		}
	}
}

// rebalanceOrigin is the origin of a rebalance that member m's leaving
// or joining began: the latest crash or pause fault active on its
// instance, else any fault active there (a slowed one that passed
// max.poll.interval), else the crash that last took it down (it
// restarted, or came back to join).
func (g *group) rebalanceOrigin(m *member) origin {
	s := g.s
	if g.svc < 0 {
		// A view's projector: its members are one process, and leave
		// and join with its node.
		o := s.projectorOrigin(&s.views[g.view])
		o.cause = CauseRebalance
		return o
	}
	o := s.instOrigin(g.svc, m.inst, CauseRebalance, func(p FaultParams) bool { return isCrash(p) || isPause(p) })
	if o.fault == 0 {
		o = s.instOrigin(g.svc, m.inst, CauseRebalance, nil)
	}
	if o.fault == 0 {
		o.fault = s.services[g.svc].insts[m.inst].downOcc
	}
	return o
}

// downOrigin is the latest crash or pause fault active on an instance
// of a member of the group that is down or frozen; none when no such
// fault is active. A member that stopped heartbeating holds a classic
// group's join until its session expires (joinBlocked: the coordinator
// completes the join once every member has joined or been removed,
// ClassicGroup.hasAllMembersJoined in apache/kafka's group-coordinator),
// and one that is
// gone leaves its partitions without an owner: the group's lag then
// traces to the fault that took its members down.
func (g *group) downOrigin() origin {
	s := g.s
	var best origin
	for i := range g.members {
		m := &g.members[i]
		if !g.exists(m) {
			continue
		}
		var o origin
		switch in := &s.services[g.svc].insts[m.inst]; {
		case !in.up:
			o = s.instOrigin(g.svc, m.inst, CauseCrash, isCrash)
		case in.paused:
			o = s.instOrigin(g.svc, m.inst, CausePause, isPause)
		}
		if o.fault > 0 && (best.fault == 0 || s.occurs[o.fault-1].start > s.occurs[best.fault-1].start) {
			best = o
		}
	}
	return best
}

// lastRebalance is where the group's last rebalance originated: its
// consuming service with no fault when none has happened yet.
func (g *group) lastRebalance() origin {
	if !g.rbOrg.set() {
		return origin{comp: max(g.svc, 0), cause: CauseRebalance}
	}
	return g.rbOrg
}

// leaderOrigin is the origin, with cause c, of what partition p's leader
// did to the group: the latest fault active on its replicas' nodes (the
// leader's, or the ones an unclean election passed over), else a network
// partition's.
func (g *group) leaderOrigin(p int32, c Cause) origin {
	s := g.s
	t := &s.topics[g.topic]
	bk := &s.brokers[t.broker]
	best := int32(-1)
	for _, r := range t.parts[p].replicas {
		best = s.latest(best, bk.nodes[r].faults, nil)
	}
	if best < 0 {
		best = s.latest(-1, s.partitions, nil)
	}
	return s.occAt(s.brokerComp(t.broker), c, best)
}

// isrHeld is the origin of partition p's records past its high watermark
// when an ISR member down or frozen holds it: a consumer may read a
// record only once every ISR member has copied it (Kafka's documentation,
// "Replication", https://kafka.apache.org/documentation/#replication:
// "Only committed messages are ever given out to the consumer"), so they wait for that member, until it leaves the ISR,
// whatever the group does. ok is false when no such member holds them.
func (g *group) isrHeld(p int32) (o origin, ok bool) {
	s := g.s
	t := &s.topics[g.topic]
	pt := &t.parts[p]
	bk := &s.brokers[t.broker]
	for r := range pt.replicas {
		if n := bk.node(pt, int32(r)); pt.isr[r] && (n.down || n.paused) {
			return g.leaderOrigin(p, CauseISR), true
		}
	}
	return origin{}, false
}

// stallOrigin is where partition p of the group is held up now, below its
// high watermark: a leader that cannot serve fetches (none, or its node
// down, paused, cut off or slowed), or no owner (a rebalance), or an
// owner whose process is down, paused or slowed by a fault, or that
// carries the partitions of a member a fault took out of the group (the
// rebalance's origin); else nothing with a fault (CauseLate at the
// consuming service: plain load). When both its leader and its owner
// hold it up, the fault that began first did.
func (g *group) stallOrigin(p int32) origin {
	s := g.s
	t := &s.topics[g.topic]
	pt := &t.parts[p]
	var broker origin
	bk := &s.brokers[t.broker]
	switch {
	case pt.leader < 0:
		broker = g.leaderOrigin(p, CauseNoLeader)
	case bk.node(pt, pt.leader).down:
		broker = g.leaderOrigin(p, CauseNoLeader)
	case bk.node(pt, pt.leader).paused:
		broker = g.leaderOrigin(p, CausePause)
	case g.cutFrom(bk.node(pt, pt.leader)):
		broker = s.occAt(s.brokerComp(t.broker), CauseLost, s.latest(-1, s.partitions, nil))
	case bk.node(pt, pt.leader).slow > 1:
		broker = g.leaderOrigin(p, CauseLate)
	}
	var member origin
	gp := &g.parts[p]
	switch {
	case g.svc < 0:
		member = s.projectorOrigin(&s.views[g.view])
	case g.rebalancing || gp.owner < 0:
		member = g.lastRebalance()
		if g.joinWait || !g.rebalancing {
			// The join waits for a member that stopped heartbeating, or
			// no member is left to own the partition: what holds the
			// group up is the fault that keeps its members down, not
			// the rebalance that came before it.
			if o := g.downOrigin(); o.fault > 0 {
				member = o
			}
		}
	default:
		m := &g.members[gp.owner]
		in := &s.services[g.svc].insts[m.inst]
		switch {
		case !in.up:
			member = s.instOrigin(g.svc, m.inst, CauseCrash, isCrash)
		case in.paused:
			member = s.instOrigin(g.svc, m.inst, CausePause, isPause)
		default:
			member = s.instOrigin(g.svc, m.inst, CauseLate, nil)
			if r := &s.reqs.r[m.cur]; member.fault == 0 && m.busy && r.gen == m.curGen && s.lasting > 0 {
				// Its poll loop waits on the record it processes: where
				// that request is held up now, down the calls it makes
				// (lateOrigin: a slow or crashed callee, a retry's
				// sleep), holds the partition up. A consumer processes
				// its records one at a time in its poll loop, so what
				// slows the processing slows the consumption ("the
				// processing of messages", KafkaConsumer's javadoc,
				// "Detecting Consumer Failures").
				member = s.lateOrigin(m.cur)
			}
		}
		if member.fault == 0 && g.rbOrg.fault > 0 && g.short() {
			// Its owner carries the partitions of a member a fault
			// took out of the group.
			member = g.rbOrg
		}
	}
	switch {
	case !broker.set() || member.fault > 0 && broker.fault == 0:
		return member
	case member.fault == 0 || broker.fault == 0:
		return broker
	case s.occurs[member.fault-1].start < s.occurs[broker.fault-1].start:
		return member
	}
	return broker
}

// projectorOrigin is where view v's projector, a consumer group whose
// members run in the view's one process (Spring Kafka's concurrency), is
// held up: the latest crash fault on its node while it is down, the
// latest pause while it is frozen, else the latest fault on it (a
// slowdown of its applies), else a rebuild replaying the topic; none of
// them: the view with no fault (plain load), as a member of a service's
// group is blamed on its instance's faults (stallOrigin).
func (s *Sim) projectorOrigin(v *view) origin {
	n := &v.node
	c, keep := CauseLate, (func(FaultParams) bool)(nil) // every fault
	switch {
	case n.down:
		c, keep = CauseCrash, isCrash
	case n.paused:
		c, keep = CausePause, isPause
	}
	best := s.latest(-1, n.faults, keep)
	if best < 0 && v.rebuilding {
		best = v.rebuildFault
	}
	return s.occAt(s.viewComp(v.idx), c, best)
}

// short reports whether a member of the group is out of it (left, not
// yet back).
func (g *group) short() bool {
	for i := range g.members {
		if m := &g.members[i]; !m.joined && g.exists(m) {
			return true
		}
	}
	return false
}

// groupBlame counts, at a window's close, the records of every partition
// the group is behind on, by where the partition is held up
// (stallOrigin): those of the partitions whose oldest record not yet
// processed has waited the second that degrades the group (lagHealth).
// A record counts in every window it is behind at the close of: a longer
// stall weighs more. A backlog that a fault's stall left is the fault's
// until the group has caught up on the partition, as a queue's backlog is
// the fault's that filled it (the queued rule): the members work through
// it at their own pace after the fault, with none active on them. The
// records past a high watermark an ISR member holds are that member's
// fault's (isrHeld), those below it where the partition is held up.
func (g *group) groupBlame() {
	s := g.s
	t := &s.topics[g.topic]
	for p := range g.parts {
		pt := &t.parts[p]
		gp := &g.parts[p]
		done := max(gp.done, pt.base)
		end := pt.base + int64(pt.recs.len())
		if done >= end || s.now-pt.recs.at(int(done-pt.base)).at < int64(time.Second) {
			gp.stall = origin{} // caught up
			continue
		}
		if hw := max(pt.hw, done); hw < end {
			if o, ok := g.isrHeld(int32(p)); ok {
				g.win.blame.addN(o, uint64(end-hw), s.occurs)
				end = hw
			}
		}
		if done >= end {
			continue
		}
		o := g.stallOrigin(int32(p))
		switch {
		case o.fault > 0:
			gp.stall = o
		case gp.stall.set():
			o = gp.stall
		}
		g.win.blame.addN(o, uint64(end-done), s.occurs)
	}
}

// sameFault reports whether origin occurrences a and b (index + 1; 0:
// none) are of the same fault, or both none.
func sameFault(a, b int32, occurs []occurrence) bool {
	if a == b {
		return true
	}
	return a > 0 && b > 0 && occurs[a-1].fault == occurs[b-1].fault
}

// Blame is the provenance of a window's failures (a client's or flow's
// errors, timeouts, refusals and fallback answers; a service's failed
// answers): how many had a fault behind them and how many none, which
// always add up to them all, and the main origins, most first.
type Blame struct {
	Faulted uint64 `json:"faulted"`
	NoFault uint64 `json:"no_fault"`
	// Origins are at most six distinct origins (component, cause and
	// fault); failures from others count in Faulted or NoFault only.
	Origins []Origin `json:"origins"`
}

// Origin is where some of a window's failures originated.
type Origin struct {
	Component string `json:"component"`
	Cause     Cause  `json:"cause"`
	// Fault is the occurrence (an index into Result.Faults and Cascades)
	// active at the origin, the first of its fault's in the window when
	// it repeated within it; null when none was.
	Fault *int   `json:"fault"`
	N     uint64 `json:"n"`
}

// mergeBlame is the provenance of a's answers and b's together, origins
// most first; nil when both are.
func mergeBlame(a, b *Blame) *Blame {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	out := &Blame{Faulted: a.Faulted + b.Faulted, NoFault: a.NoFault + b.NoFault,
		Origins: append(slices.Clip(a.Origins), b.Origins...)}
	sortOrigins(out.Origins)
	return out
}

// sortOrigins puts origins most first, in their order at a tie.
func sortOrigins(os []Origin) {
	slices.SortStableFunc(os, func(a, b Origin) int { return cmp.Compare(b.N, a.N) })
}

// blame turns a window's counts into its Blame: nil when nothing failed.
func (s *Sim) blame(b *blameTally) *Blame {
	if b.faulted+b.none == 0 {
		return nil
	}
	out := &Blame{Faulted: b.faulted, NoFault: b.none, Origins: make([]Origin, b.used)}
	for k, oc := range b.by[:b.used] {
		out.Origins[k] = Origin{Component: s.compName(oc.o.comp), Cause: oc.o.cause, N: oc.n}
		if oc.o.fault > 0 {
			f := int(oc.o.fault - 1)
			out.Origins[k].Fault = &f
		}
	}
	sortOrigins(out.Origins)
	return out
}
