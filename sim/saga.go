package sim

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/faultline/faultline/sim/metrics"
)

// saga runs instances of a distributed transaction: local steps at
// participant services, each undone by its compensation when a later step
// before the pivot fails. Orchestrated, the saga sends each step's command
// and waits for its answer; choreographed, each step is a record on the
// step's topic that the participant consumes, and its success publishes the
// next step's record. Compensations are commands in both modes.
type saga struct {
	s     *Sim
	idx   int32
	spec  *Saga
	rng   *rand.Rand
	start int32 // the service whose successes start instances
	steps []sagaStep
	pivot int       // the pivot step, or len(steps): every step is compensatable
	retry SagaRetry // the spec's, defaults filled in

	started, completed, compensated, inconsistent uint64
	lost                                          uint64 // with a coordinator's memory
	// anomalous counts the settled sagas counted completed or compensated
	// whose participants' effects disagree with that outcome.
	anomalous     uint64
	tally         []stepTally       // per step, of the settled sagas
	dur, recovery metrics.Histogram // whole run
	win           sagaWin
	series        []Window
	health        healthTracker
}

type sagaWin struct {
	started, completed, compensated, inconsistent, anomalous uint64
	// blame is where the failures of the sagas that ended rolled back or
	// inconsistent in the window originated: a rolled-back saga's, the
	// step failure that began its rollback; an inconsistent one's, its
	// failed compensation (provenance.go).
	blame blameTally
	// firstBad is when the first saga of the window ended rolled back or
	// inconsistent (compensated + inconsistent > 0), and firstLeft when
	// the first ended inconsistent (inconsistent > 0): the onsets of its
	// unhealthy changes, by the share rolled back and by the sagas left
	// half done.
	firstBad, firstLeft int64
	// firstOdd is when the window's first anomalous saga was found
	// (anomalous > 0), as its commands settled.
	firstOdd int64
}

// bad notes a saga that ended rolled back or inconsistent at now, before
// it is counted.
func (w *sagaWin) bad(now int64) {
	if w.compensated+w.inconsistent == 0 {
		w.firstBad = now
	}
}

// firstFailed is when the window's first saga was left inconsistent or
// found anomalous, -1 if none was: the onset of a change by ByInconsistent.
func (w *sagaWin) firstFailed() int64 {
	switch {
	case w.inconsistent > 0 && w.anomalous > 0:
		return min(w.firstLeft, w.firstOdd)
	case w.inconsistent > 0:
		return w.firstLeft
	case w.anomalous > 0:
		return w.firstOdd
	}
	return -1
}

// first is when the window's first saga ended rolled back or
// inconsistent, -1 if none did.
func (w *sagaWin) first() int64 {
	if w.compensated+w.inconsistent == 0 {
		return -1
	}
	return w.firstBad
}

type sagaStep struct {
	svc, comp, topic int32 // comp and topic may be -1
	// group is the step's service's consumer group on topic: only its
	// processing of the event is the step (a view or another service may
	// read the topic too).
	group int32
	// link and compLink index s.sagaLinks: the paths of the step's
	// command and of its compensation's (-1: none).
	link, compLink    int32
	timeout, deadline int64
	// idempotent: a second execution of the step (or of its
	// compensation) for one saga has no second effect.
	idempotent bool
	rec        records // the records the step updates; none if rec.n is 0
}

// records are the records a saga step updates, shared by the saga's
// instances: each record's version (bumped by each update, the step's or
// its compensation's), how many running sagas have updated it, and the
// run (+1) whose semantic lock flags it, 0 for none.
type records struct {
	n       int32
	lock    SemanticLock
	ver     []uint32
	pending []int32
	owner   []int32
}

// stepTally is what one step's participants really did, over the sagas.
// Executions are counted as they happen; the four states when a saga
// settles (sagaSettle): the step done and never compensated, compensated
// though never done, both, or neither.
type stepTally struct {
	executions, duplicates        uint64 // the step's; duplicates: beyond the first of a saga
	compensations, compDuplicates uint64 // its compensation's
	done, compensated, both, none uint64
	// On its records: updates that read another running saga's update
	// (dirty reads), compensations that overwrote another saga's later
	// update (lost updates), and updates a semantic lock refused.
	dirtyReads, lostUpdates, locked uint64
}

// stepDid counts the executions at the participants of one step of one
// saga: of the step itself, and of its compensation.
type stepDid struct {
	do, undo uint16
	// pending: the step updated its record while the run ran, and counts
	// among the record's pending updates; ver is the record's version
	// that its last update wrote.
	pending bool
	ver     uint32
	// resend: the step's event (a choreography's), which its producer
	// gave up on, waits to be published again (sagaResend).
	resend bool
}

// sagaEnd is how the saga counted a run once it ended.
type sagaEnd uint8

const (
	running sagaEnd = iota
	endCompleted
	endCompensated
	endInconsistent
	endLost
)

// sagaLink is the network path of a saga's commands from its start
// service (the coordinator of an orchestration) to one participant. The
// orchestrator sends each command as a request to an instance of the
// participant and waits for its reply, so a command crosses the network
// between the two processes as a call does, and the link faults and
// partitions between the two services act on it (resolve). Eventuate Tram
// invokes "a saga participant using a command message" that its message
// broker carries (eventuate-tram/eventuate-tram-sagas, README.md): there
// the path runs through the broker, which an orchestration here does not
// model; a choreography's events do (sagaStep).
type sagaLink struct {
	link
	from, to int32 // services
}

// sagaLinkTo returns the index in s.sagaLinks of the path from service
// from to service to, adding it on first use: the sagas from one service
// to another share it, as a caller's calls to one callee do.
func (s *Sim) sagaLinkTo(from, to int32) int32 {
	for i := range s.sagaLinks {
		if l := &s.sagaLinks[i]; l.from == from && l.to == to {
			return int32(i)
		}
	}
	s.sagaLinks = append(s.sagaLinks, sagaLink{from: from, to: to})
	return int32(len(s.sagaLinks) - 1)
}

// sagaRun is one saga instance.
type sagaRun struct {
	saga    int32
	key     uint64
	step    int32 // the step running, or being compensated
	undoing bool
	// coord is the instance of the start service that coordinates an
	// orchestrated run (the one that answered the request that started
	// it), or -1 in a choreography, which has no coordinator.
	coord int32
	// parked is what reached the run while its coordinator was down or
	// frozen, to be handled when it runs again: a reply (its outcome in
	// reply) or a retry.
	parked parkedSaga
	reply  Outcome
	// parkSeq orders what reached parked runs (sagaPool.park): their
	// coordinator handles it in that order when it runs again.
	parkSeq uint64
	// attempt counts the tries of the current step (or compensation) so
	// far, since it was first tried.
	attempt  int32
	since    int64
	started  int64
	failedAt int64
	failed   int32 // the step whose failure rolled the run back
	// out counts the run's commands that have not ended at their
	// participant: a command the coordinator gave up on (a timeout) still
	// runs there, and may still do the step. A run that has ended (end)
	// keeps its slot, and what its participants do, until out is 0.
	out int32
	end sagaEnd
	did []stepDid // per step: what its participants did
	// org is where the last failed attempt of the current command
	// failed; failOrg where the step failure that began the rollback did.
	org, failOrg origin
	gen          uint32
	inUse        bool
}

// cmdService is the service of the run's current command: its step's
// participant, or its compensation's.
func (r *sagaRun) cmdService(sg *saga) int32 {
	st := &sg.steps[r.step]
	if r.undoing {
		return st.comp
	}
	return st.svc
}

// parkedSaga is a reply or a retry timer that an orchestrated run's
// coordinator could not handle, being down or frozen.
type parkedSaga uint8

const (
	parkedNone  parkedSaga = iota
	parkedReply            // the current command answered, or timed out
	parkedRetry            // a retry of the current command is due
)

type sagaPool struct {
	r    []sagaRun
	free []int32
	// parks counts what reached runs while their coordinator was down,
	// to order it (park); resume and live are coordinatorBack's and
	// coordinatorRetired's scratch.
	parks  uint64
	resume []int32
	live   []int32
}

// park keeps what reached run r while its coordinator is down or frozen:
// a reply (its outcome o) or a retry come due.
func (p *sagaPool) park(r *sagaRun, what parkedSaga, o Outcome) {
	p.parks++
	r.parked, r.reply, r.parkSeq = what, o, p.parks
}

func (p *sagaPool) alloc() int32 {
	if n := len(p.free); n > 0 {
		i := p.free[n-1]
		p.free = p.free[:n-1]
		p.r[i].inUse = true
		return i
	}
	p.r = append(p.r, sagaRun{inUse: true})
	return int32(len(p.r) - 1)
}

func (p *sagaPool) release(i int32) {
	r := &p.r[i]
	*r = sagaRun{gen: r.gen + 1, did: r.did[:0]} // the ledger's memory is kept for the next run
	p.free = append(p.free, i)
}

func (s *Sim) initSagas() {
	s.sagas = make([]saga, len(s.spec.Sagas))
	for i := range s.spec.Sagas {
		sg := &s.sagas[i]
		sg.s, sg.idx, sg.spec = s, int32(i), &s.spec.Sagas[i]
		sg.rng = s.stream("saga/" + sg.spec.Name)
		sg.start = s.serviceIndex(sg.spec.Start)
		sg.pivot = len(sg.spec.Steps)
		for j, st := range sg.spec.Steps {
			step := sagaStep{svc: s.serviceIndex(st.Service), comp: -1, topic: -1, group: -1, link: -1, compLink: -1, timeout: int64(st.Timeout), deadline: int64(st.Deadline), idempotent: st.Idempotent}
			if n := st.Records; n > 0 {
				step.rec = records{n: int32(n), lock: st.SemanticLock, ver: make([]uint32, n), pending: make([]int32, n), owner: make([]int32, n)}
			}
			if sg.spec.Mode == Orchestration {
				step.link = s.sagaLinkTo(sg.start, step.svc) // a choreography's step is an event
			}
			if st.Compensation != "" {
				step.comp = s.serviceIndex(st.Compensation)
				step.compLink = s.sagaLinkTo(sg.start, step.comp)
			}
			if st.Topic != "" {
				step.topic = s.topicIndex(st.Topic)
				for _, g := range s.services[step.svc].groups {
					if s.groups[g].topic == step.topic {
						step.group = g
						break
					}
				}
			}
			if st.Pivot {
				sg.pivot = j
			}
			sg.steps = append(sg.steps, step)
		}
		sg.tally = make([]stepTally, len(sg.steps))
		s.services[sg.start].sagas = append(s.services[sg.start].sagas, int32(i))
		// Temporal's defaults (docs.temporal.io/encyclopedia/retry-policies):
		// initial interval 1 s, coefficient 2, maximum interval 100 x the
		// initial one, unlimited attempts.
		sg.retry = sg.spec.Retry
		if sg.retry.InitialInterval <= 0 {
			sg.retry.InitialInterval = time.Second
		}
		if sg.retry.BackoffCoefficient < 1 {
			sg.retry.BackoffCoefficient = 2
		}
		if sg.retry.MaximumInterval <= 0 {
			sg.retry.MaximumInterval = 100 * sg.retry.InitialInterval
		}
	}
}

// backoff is the wait before retry n (1 for the first) of a command:
// Temporal's initial interval x coefficient^(n-1), capped at its maximum
// interval.
func (sg *saga) backoff(n int32) int64 {
	d := float64(sg.retry.InitialInterval) * math.Pow(sg.retry.BackoffCoefficient, float64(n-1))
	if m := float64(sg.retry.MaximumInterval); d > m {
		d = m
	}
	return int64(d)
}

// startSaga begins an instance of saga i for a request with key that
// instance inst of the start service answered.
func (s *Sim) startSaga(i int32, key uint64, inst int32) {
	sg := &s.sagas[i]
	run := s.sagaRuns.alloc()
	r := &s.sagaRuns.r[run]
	r.saga, r.key, r.started, r.coord, r.since = i, key, s.now, -1, s.now
	r.did = append(r.did[:0], make([]stepDid, len(sg.steps))...)
	sg.started++
	sg.win.started++
	if sg.spec.Mode == Orchestration {
		r.coord = inst
		if sv := &s.services[sg.start]; sv.insts[inst].retired {
			// The autoscaler already scaled inst away: it only finishes
			// the requests it holds, and its process ends with them. A
			// saga it kept in memory ends there too; one in a durable
			// log goes on at a remaining instance, as coordinatorRetired
			// hands over the sagas inst held when it was scaled away.
			if sg.spec.Log == MemoryLog {
				sg.lost++
				s.sagaEnded(run, endLost)
				return
			}
			if live := s.liveCoordinators(sv); len(live) > 0 {
				r.coord = successor(live, key)
			}
		}
	}
	s.sagaStep(run)
}

// sagaStep sends the command (or the event) of the run's current step, or
// of the compensation being run.
func (s *Sim) sagaStep(run int32) {
	r := &s.sagaRuns.r[run]
	sg := &s.sagas[r.saga]
	st := &sg.steps[r.step]
	if !r.undoing && st.topic >= 0 && sg.spec.Mode == Choreography {
		s.sagaPublish(run, r.step)
		return
	}
	svc, timeout := st.svc, st.timeout
	if r.undoing {
		svc = st.comp
	} else if dl := st.deadline; dl > 0 && int(r.step) <= sg.pivot {
		// The step's deadline (Temporal's schedule-to-close timeout)
		// bounds each attempt too: Temporal caps an activity's
		// start-to-close timeout at its schedule-to-close timeout
		// (temporalio/temporal, service/history/api/
		// command_attr_validator.go: StartToCloseTimeout =
		// MinDurationPtr(StartToClose, ScheduleToClose)), and the
		// schedule-to-close timer, running from the first attempt's
		// scheduling, ends an attempt still running when it fires. So
		// an attempt waits at most what is left of the deadline
		// (sagaRetryLater tries none with nothing left).
		left := r.since + dl - s.now
		if left <= 0 {
			// A retry that waited for its coordinator past the
			// deadline: the schedule-to-close timer fired meanwhile,
			// and the step has timed out.
			s.sagaStepDone(run, r.step, Timeout)
			return
		}
		timeout = min(timeout, left)
	}
	sv := &s.services[svc]
	host := sv.lb.Pick(&sv.hosts, r.key, sg.rng)
	if host < 0 {
		// Nobody to take the command: it is unavailable at once, after a
		// hop.
		r.org = s.serviceOrigin(svc, CauseNoInstance, 0)
		s.schedule(after(s.now, s.hop(sg.rng)), evSagaRetry, run, r.gen|failBit)
		return
	}
	if i := s.sendRequest(fromSaga, run, svc, int32(host), s.spec.Network.Latency, timeout); i >= 0 {
		// A command names no operation: it takes one by the operations'
		// weights, as a request to the service alone does.
		s.reqs.r[i].op = sv.pickOp(sg.rng)
		r.out++
	}
}

// sagaPublish publishes the event of step of a choreographed run. The
// event is published by the service whose work it follows: the start
// service for the first step, the previous step's participant after it. A
// partition between that service and the topic's leader holds it in its
// producer, as any publish (sendAttempt); one between the broker and the
// step's consumer holds its fetches (group.cutFrom). Kafka clients talk to
// brokers only, so a partition between two participants that leaves the
// broker reachable from both cuts no event.
func (s *Sim) sagaPublish(run, step int32) {
	r := &s.sagaRuns.r[run]
	sg := &s.sagas[r.saga]
	pub := sg.start
	if step > 0 {
		pub = sg.steps[step-1].svc
	}
	s.produce(sg.steps[step].topic, r.key, true, AcksAll, -1, s.services[pub].spec.Name, run, step)
}

// maxLoggedInconsistent bounds the inconsistent sagas logged one by one.
const maxLoggedInconsistent = 10

// failBit marks an evSagaRetry that delivers a failure rather than a
// retry; resendBit one that publishes again a choreographed step's event
// (sagaResend). A run's generation stays below both.
const (
	failBit   = 1 << 31
	resendBit = 1 << 30
)

// sagaCommand is what a saga's command request does, kept in its from
// field (a command has no calling service): the step, and whether it is
// the step's compensation.
func sagaCommand(step int32, undo bool) int32 {
	if undo {
		return step<<1 | 1
	}
	return step << 1
}

// sagaCmdLink is the network path of command cmd (a sagaCommand) of run:
// its step's, or its compensation's. The run keeps its slot while a
// command of it is out (sagaCommandEnded), so its saga is still known.
func (s *Sim) sagaCmdLink(run, cmd int32) *link {
	st := &s.sagas[s.sagaRuns.r[run].saga].steps[cmd>>1]
	if cmd&1 != 0 {
		return &s.sagaLinks[st.compLink].link
	}
	return &s.sagaLinks[st.link].link
}

// sagaExecuted counts an execution, at its participant, of the command
// cmd (a sagaCommand) of run: the participant did its local transaction,
// whether or not the saga still waits for the answer. A command whose
// attempt timed out is retried, and both attempts may run (Temporal's
// activities and Eventuate's commands are delivered at least once, and
// both ask participants to be idempotent: docs.temporal.io, "Activity
// Definition", idempotency; Richardson, "Microservices Patterns", 3.3.6,
// handling duplicate messages). It returns the command's outcome: OK, or
// the refusal of a semantic lock on the step's record.
func (s *Sim) sagaExecuted(run, cmd int32) Outcome {
	r := &s.sagaRuns.r[run]
	step, undo := cmd>>1, cmd&1 != 0
	st := &s.sagas[r.saga].steps[step]
	t, d := &s.sagas[r.saga].tally[step], &r.did[step]
	if st.rec.n > 0 {
		if o := s.sagaUpdate(run, st, t, d, undo); o != OK {
			return o
		}
	}
	if undo {
		t.compensations++
		if d.undo > 0 {
			t.compDuplicates++
		}
		d.undo = min(d.undo+1, math.MaxUint16)
		return OK
	}
	t.executions++
	if d.do > 0 {
		t.duplicates++
	}
	d.do = min(d.do+1, math.MaxUint16)
	return OK
}

// sagaUpdate applies to its record the step's update (or, undo, its
// compensation's) that run's command makes, and counts the isolation
// anomalies Richardson names ("Microservices Patterns", 4.3.1): a dirty
// read, an update that reads the record while another running saga's
// update of it is pending (not final until that saga ends), and a lost
// update, a compensation that restores the record over another saga's
// later update of it. With a semantic lock (4.3.2), the step's update
// flags the record until its saga ends, and another saga's step that finds
// it flagged is refused, with no effect: a business failure (LockFail), or
// unavailability that the saga's retry policy rides out (LockWait). A
// compensation is never refused: it undoes the lock holder's own update.
func (s *Sim) sagaUpdate(run int32, st *sagaStep, t *stepTally, d *stepDid, undo bool) Outcome {
	r := &s.sagaRuns.r[run]
	rc := &st.rec
	k := keyOf(r.key, int(rc.n))
	if undo {
		if d.do > 0 && rc.ver[k] != d.ver {
			t.lostUpdates++
		}
		rc.ver[k]++
		return OK
	}
	if rc.lock != NoLock && rc.owner[k] != 0 && rc.owner[k] != run+1 {
		t.locked++
		if rc.lock == LockFail {
			return Error
		}
		return Rejected // "try later", as a full queue says
	}
	own := int32(0)
	if d.pending {
		own = 1
	}
	if rc.pending[k] > own {
		t.dirtyReads++
	}
	rc.ver[k]++
	d.ver = rc.ver[k]
	if r.end == running && !d.pending {
		// An update that lands after its saga ended is final at once, and
		// flags nothing.
		d.pending = true
		rc.pending[k]++
		if rc.lock != NoLock {
			rc.owner[k] = run + 1
		}
	}
	return OK
}

// sagaCommandEnded is told that a command of run has ended at its
// participant (answered, or dropped on the way): once the run has ended
// too and none is left, nothing can change what its participants did.
func (s *Sim) sagaCommandEnded(run int32) {
	r := &s.sagaRuns.r[run]
	if r.out--; r.out == 0 && r.end != running {
		s.sagaSettle(run)
	}
}

// sagaEnded ends run as end counts it. Its commands still out may yet
// run at their participants: the run settles when the last has ended.
func (s *Sim) sagaEnded(run int32, end sagaEnd) {
	r := &s.sagaRuns.r[run]
	r.end = end
	// Its updates are final, or undone: they are no longer pending, and
	// their semantic locks are lifted.
	for j := range r.did {
		rc := &s.sagas[r.saga].steps[j].rec
		if !r.did[j].pending {
			continue
		}
		k := keyOf(r.key, int(rc.n))
		rc.pending[k]--
		if rc.owner[k] == run+1 {
			rc.owner[k] = 0
		}
	}
	r.gen++ // its timers and events are stale
	if r.out == 0 {
		s.sagaSettle(run)
	}
}

// sagaSettle tallies what the participants of an ended run did, and
// frees it.
func (s *Sim) sagaSettle(run int32) {
	r := &s.sagaRuns.r[run]
	sg := &s.sagas[r.saga]
	if sg.settle(r, sg.tally) {
		sg.anomalous++
		if sg.win.anomalous == 0 {
			sg.win.firstOdd = s.now
		}
		sg.win.anomalous++
		switch {
		case sg.anomalous <= maxLoggedInconsistent:
			s.logf("saga "+sg.spec.Name, "anomalous: counted %s, its participants disagree", r.end)
		case sg.anomalous == maxLoggedInconsistent+1:
			s.logf("saga "+sg.spec.Name, "more anomalous sagas: counted, no longer logged one by one")
		}
	}
	s.sagaRuns.release(run)
}

func (e sagaEnd) String() string {
	switch e {
	case endCompleted:
		return "completed"
	case endCompensated:
		return "compensated"
	case endInconsistent:
		return "inconsistent"
	case endLost:
		return "lost"
	}
	return "running"
}

// settle adds to t the state each step of the ended run r is left in at
// its participants, and reports whether their net effect disagrees with
// how the saga counted the run. A step's net effect is its executions less
// its compensation's, each counted once if the step is idempotent. A
// completed saga should leave each step's effect once; a compensated one
// each step it saw done (those before the one that failed) undone, but for
// those without a compensation, and no effect of the step that failed or
// those after it. A step whose command timed out has an unknown outcome:
// the saga counts it failed and, as Temporal's saga samples do (they add a
// step's compensation once its activity has returned: samples-typescript
// saga/src/workflows.ts, samples-dotnet src/Saga/SagaWorkflow.cs), does
// not compensate it; if it ran after all (a charge that lands after the
// saga gave up on it), the compensated saga disagrees with its
// participants. An inconsistent or lost saga is already counted as such.
func (sg *saga) settle(r *sagaRun, t []stepTally) (disagree bool) {
	for j := range r.did {
		do, undo := int(r.did[j].do), int(r.did[j].undo)
		switch {
		case do > 0 && undo > 0:
			t[j].both++
		case do > 0:
			t[j].done++
		case undo > 0:
			t[j].compensated++
		default:
			t[j].none++
		}
		if sg.steps[j].idempotent {
			do, undo = min(do, 1), min(undo, 1)
		}
		want := 0
		if r.end == endCompleted || r.end == endCompensated && int32(j) < r.failed && sg.steps[j].comp < 0 {
			want = 1
		}
		if (r.end == endCompleted || r.end == endCompensated) && do-undo != want {
			disagree = true
		}
	}
	return disagree
}

// sagaReply takes the answer of a command, and where its failure
// originated when it failed.
func (s *Sim) sagaReply(run int32, o Outcome, org origin) {
	r := &s.sagaRuns.r[run]
	if r.end != running {
		return
	}
	if r.inUse && o != OK {
		if !org.set() {
			// An answer that carries no origin is the participant's own.
			org = origin{comp: r.cmdService(&s.sagas[r.saga]), cause: CauseError}
		}
		r.org = org
	}
	if r.inUse && s.coordinatorDown(r) {
		s.sagaRuns.park(r, parkedReply, o)
		return
	}
	s.sagaStepDone(run, r.step, o)
}

// coordinatorDown reports whether the orchestrator instance of run r is
// crashed, not yet restarted, or frozen. The orchestrator keeps each saga
// in a durable log and handles a reply as it reads it from its reply
// channel (Eventuate Tram Sagas' SagaManagerImpl: it persists the saga
// instance, then, on a reply, loads it, runs the next step and saves it;
// Temporal keeps a workflow's history the same way): a down coordinator
// loses no saga, but its sagas go no further until it runs again, and no
// other instance takes them over while it may come back (a crash, a
// deploy's restart); one the autoscaler scaled away hands them over
// (coordinatorRetired).
func (s *Sim) coordinatorDown(r *sagaRun) bool {
	if r.coord < 0 {
		return false
	}
	in := &s.services[s.sagas[r.saga].start].insts[r.coord]
	return !in.up || in.paused
}

// coordinatorBack resumes the orchestrated runs that instance n of service
// sv coordinates, once it runs again: it handles what reached them while
// it was down in the order it arrived, as Eventuate Tram's orchestrator
// reads the replies from its reply channel, a message queue, in order
// (eventuate-tram-sagas, SagaManagerImpl.subscribeToReplyChannel: one
// consumer of the saga's reply channel, handleMessage per reply as it is
// read). A coordinator
// that kept its sagas in memory (log = "memory") and crashed since a run
// started has forgotten it: the run is lost, whatever its participants
// did.
func (s *Sim) coordinatorBack(sv *service, n int32) {
	if len(sv.sagas) == 0 {
		return
	}
	lost := 0
	crashed := sv.insts[n].crashedAt
	p := &s.sagaRuns
	p.resume = p.resume[:0]
	for i := range p.r {
		r := &p.r[i]
		if !r.inUse || r.end != running || r.coord != n || s.sagas[r.saga].start != sv.idx {
			continue
		}
		if sg := &s.sagas[r.saga]; sg.spec.Log == MemoryLog && crashed >= r.started {
			sg.lost++
			lost++
			s.sagaEnded(int32(i), endLost)
			continue
		}
		if r.parked != parkedNone {
			p.resume = append(p.resume, int32(i))
		}
	}
	resumed := len(p.resume)
	s.resumeParked()
	if lost > 0 {
		s.logf(fmt.Sprintf("%s#%d", sv.spec.Name, n+1), "coordinator back without its memory: %d sagas lost", lost)
	}
	if resumed > 0 {
		s.logf(fmt.Sprintf("%s#%d", sv.spec.Name, n+1), "coordinator back: %d sagas that waited for it go on", resumed)
	}
}

// coordinatorRetired hands the orchestrated runs that instance n of
// service sv coordinates to the instances that remain, once the
// autoscaler has scaled n away: n never runs again (unless a later
// scale-up starts it anew), so its sagas would otherwise wait for it
// forever. With a durable log any instance can go on with a saga: Eventuate
// Tram's orchestrator instances all consume the saga's reply channel as
// one consumer group (SagaManagerImpl.subscribeToReplyChannel subscribes
// every instance under one subscriber id), and load the saga instance from
// the database for each reply, so the replies for n's sagas reach the
// instance that took its partitions; Temporal's workflow tasks go to any
// worker polling the task queue. Each run goes to a remaining instance by
// its key, as its replies' partition would. A run kept in memory
// (log = "memory") ends with n's process: lost.
func (s *Sim) coordinatorRetired(sv *service, n int32) {
	if len(sv.sagas) == 0 {
		return
	}
	p := &s.sagaRuns
	live := s.liveCoordinators(sv)
	if len(live) == 0 {
		return // nobody to hand them to: they wait for a scale-up
	}
	lost, handed := 0, 0
	p.resume = p.resume[:0]
	for i := range p.r {
		r := &p.r[i]
		if !r.inUse || r.end != running || r.coord != n || s.sagas[r.saga].start != sv.idx {
			continue
		}
		if sg := &s.sagas[r.saga]; sg.spec.Log == MemoryLog {
			sg.lost++
			lost++
			s.sagaEnded(int32(i), endLost)
			continue
		}
		r.coord = successor(live, r.key)
		handed++
		if r.parked != parkedNone && !s.coordinatorDown(r) {
			p.resume = append(p.resume, int32(i))
		}
	}
	who := fmt.Sprintf("%s#%d", sv.spec.Name, n+1)
	if lost > 0 {
		s.logf(who, "scaled away with its memory: %d sagas lost", lost)
	}
	if handed > 0 {
		s.logf(who, "scaled away: its %d sagas go on at the other coordinators", handed)
	}
	s.resumeParked()
}

// liveCoordinators lists the instances of sv that the autoscaler has not
// scaled away: those that take over the sagas of one it has (in
// p.live, reused).
func (s *Sim) liveCoordinators(sv *service) []int32 {
	p := &s.sagaRuns
	p.live = p.live[:0]
	for i := range sv.insts {
		if !sv.insts[i].retired {
			p.live = append(p.live, int32(i))
		}
	}
	return p.live
}

// successor is the instance, of the live ones, that goes on with the saga
// with key a scaled-away coordinator had: the one that consumes its
// replies' partition, chosen by the key as the partition is.
func successor(live []int32, key uint64) int32 {
	return live[key%uint64(len(live))]
}

// resumeParked handles what reached the runs in p.resume while their
// coordinator was down, in the order it arrived.
func (s *Sim) resumeParked() {
	p := &s.sagaRuns
	slices.SortFunc(p.resume, func(a, b int32) int { return cmp.Compare(p.r[a].parkSeq, p.r[b].parkSeq) })
	for _, i := range p.resume {
		r := &p.r[i]
		what := r.parked
		r.parked = parkedNone
		if what == parkedRetry {
			s.sagaStep(i)
		} else {
			s.sagaStepDone(i, r.step, r.reply)
		}
	}
}

// sagaEvent takes group g's processing of a choreographed step's event:
// the step is done when the step's own group has processed it, for the
// run that published it.
func (s *Sim) sagaEvent(rec *record, g int32, ok bool) {
	r := &s.sagaRuns.r[rec.tag]
	if !r.inUse || r.gen != rec.tgen || s.sagas[r.saga].steps[rec.step].group != g {
		return
	}
	// A group that gave up on the event after its max_attempts failed the
	// step for good: a business failure.
	o := Error
	if ok {
		// The participant did the step, whether or not the run still
		// waits on it (a redelivered event runs it again). A
		// choreographed step has no semantic lock (checkData), so
		// nothing refuses it.
		o = s.sagaExecuted(rec.tag, sagaCommand(rec.step, false))
	}
	if r.undoing || rec.step != r.step {
		// A redelivered event of a step the run has moved past, or is
		// compensating: done again at the participant (counted above),
		// it is no answer to what the run waits for.
		return
	}
	if o != OK {
		r.org = s.serviceOrigin(s.sagas[r.saga].steps[rec.step].svc, CauseError, 0)
	}
	s.sagaStepDone(rec.tag, rec.step, o)
}

// sagaStepDone moves a run on after its current step (or compensation)
// answered o. An Error is a business failure: the participant refused, and
// asking again would not help. Anything else that is not OK (no instance
// up, a timeout, a full queue, a 429) is unavailability, which Temporal's
// activities and Eventuate Tram's durable commands ride out: the command
// is retried by the saga's retry policy, until its step's deadline or its
// maximum attempts, and only then is the step failed.
func (s *Sim) sagaStepDone(run, step int32, o Outcome) {
	r := &s.sagaRuns.r[run]
	if !r.inUse || r.end != running || r.step != step {
		return
	}
	sg := &s.sagas[r.saga]
	ok := o == OK
	if !ok && (o != Error || !r.undoing && int(step) > sg.pivot) && s.sagaRetryLater(run) {
		return
	}
	r.attempt, r.since = 0, s.now
	switch {
	case r.undoing && !ok:
		// A compensation failed: the saga is left half done.
		s.sagaLeftHalfDone(run, step)
	case r.undoing:
		s.sagaUndo(run, step-1)
	case ok && int(step)+1 == len(sg.steps):
		sg.completed++
		sg.win.completed++
		sg.dur.Record(s.now - r.started)
		s.sagaEnded(run, endCompleted)
	case ok:
		r.step++
		s.sagaStep(run)
	case int(step) > sg.pivot:
		// A step after the pivot spent its maximum attempts: past the
		// pivot the saga does not go back ("if the pivot transaction
		// commits, the saga will run until completion": Richardson,
		// "Microservices Patterns", 4.3.2, "The structure of a saga"),
		// and now cannot go on: it is left half done.
		s.sagaLeftHalfDone(run, step)
	default:
		r.undoing, r.failedAt, r.failed, r.failOrg = true, s.now, step, r.org
		s.sagaUndo(run, step-1)
	}
}

// sagaLeftHalfDone ends run inconsistent: its command for step (a
// compensation, or a step after the pivot) failed for good.
func (s *Sim) sagaLeftHalfDone(run, step int32) {
	r := &s.sagaRuns.r[run]
	sg := &s.sagas[r.saga]
	sg.inconsistent++
	if sg.win.inconsistent == 0 {
		sg.win.firstLeft = s.now
	}
	sg.win.bad(s.now)
	sg.win.inconsistent++
	sg.win.blame.add(r.org, s.occurs)
	// The first few are logged one by one; the window's health tells the
	// rest.
	switch {
	case sg.inconsistent <= maxLoggedInconsistent && r.undoing:
		s.logf("saga "+sg.spec.Name, "inconsistent: compensation of step %d (%s) failed", step+1, s.services[sg.steps[step].comp].spec.Name)
	case sg.inconsistent <= maxLoggedInconsistent:
		s.logf("saga "+sg.spec.Name, "inconsistent: step %d (%s), after the pivot, failed %d times", step+1, s.services[sg.steps[step].svc].spec.Name, sg.retry.MaximumAttempts)
	case sg.inconsistent == maxLoggedInconsistent+1:
		s.logf("saga "+sg.spec.Name, "more inconsistent sagas: counted, no longer logged one by one")
	}
	s.sagaEnded(run, endInconsistent)
}

// sagaRetryLater plans the next try of run's current command, unless its
// policy forbids one: its maximum attempts are spent, or the retry would
// come at or after the step's deadline, which leaves its attempt no time
// (a step before or at the pivot; the steps
// after it and the compensations must succeed in the end, so only maximum
// attempts bound them).
func (s *Sim) sagaRetryLater(run int32) bool {
	r := &s.sagaRuns.r[run]
	sg := &s.sagas[r.saga]
	r.attempt++
	if m := sg.retry.MaximumAttempts; m > 0 && int(r.attempt) >= m {
		return false
	}
	at := after(s.now, sg.backoff(r.attempt))
	if dl := sg.steps[r.step].deadline; dl > 0 && !r.undoing && int(r.step) <= sg.pivot && at >= r.since+dl {
		return false
	}
	s.schedule(at, evSagaRetry, run, r.gen)
	return true
}

// sagaUndo runs the compensations from step down, skipping steps that have
// none, and ends the run once all are done.
func (s *Sim) sagaUndo(run, step int32) {
	r := &s.sagaRuns.r[run]
	sg := &s.sagas[r.saga]
	for step >= 0 && sg.steps[step].comp < 0 {
		step--
	}
	if step < 0 {
		sg.compensated++
		sg.win.bad(s.now)
		sg.win.compensated++
		sg.win.blame.add(r.failOrg, s.occurs)
		sg.recovery.Record(s.now - r.failedAt)
		s.sagaEnded(run, endCompensated)
		return
	}
	r.step = step
	s.sagaStep(run)
}

// sagaResend plans to publish again, after the saga's retry interval, the
// event of a choreographed run's step that its producer gave up on; run
// must still be the instance of generation gen. It is that step's event
// whatever the run has done since: a producer that gave up (its delivery
// timeout passed) does not know whether the broker wrote the record, nor
// whether its consumer has read it since (a record written but not yet
// replicated when the producer gave up may be read later), so the
// publisher sends the same event again, as the outbox of a transactional
// messaging library (Eventuate Tram) republishes a message not yet marked
// published. Sent again after the step was answered, it is a duplicate
// that the participant runs again and that answers nothing (sagaEvent).
func (s *Sim) sagaResend(run int32, gen uint32, step int32) {
	r := &s.sagaRuns.r[run]
	if !r.inUse || r.gen != gen {
		return
	}
	r.did[step].resend = true
	s.schedule(after(s.now, int64(s.sagas[r.saga].retry.InitialInterval)), evSagaRetry, run, r.gen|resendBit)
}

// sagaRetry is a retry timer, or a command that failed at once.
func (s *Sim) sagaRetry(run int32, gen uint32) {
	r := &s.sagaRuns.r[run]
	if r.gen != gen&^(failBit|resendBit) || !r.inUse {
		return
	}
	if gen&resendBit != 0 {
		// One event waits per timer: the first step whose event does
		// (two wait only if two of the run's publishes failed within one
		// interval).
		for j := range r.did {
			if r.did[j].resend {
				r.did[j].resend = false
				s.sagaPublish(run, int32(j))
				return
			}
		}
		return
	}
	if s.coordinatorDown(r) {
		if gen&failBit != 0 {
			s.sagaRuns.park(r, parkedReply, Rejected)
		} else {
			s.sagaRuns.park(r, parkedRetry, OK)
		}
		return
	}
	if gen&failBit != 0 {
		s.sagaStepDone(run, r.step, Rejected) // unavailable, not refused (its origin is in r.org)
		return
	}
	s.sagaStep(run)
}

// running counts a saga's instances still in progress.
func (sg *saga) running() (n uint64, undoing uint64) {
	for i := range sg.s.sagaRuns.r {
		if r := &sg.s.sagaRuns.r[i]; r.inUse && r.end == running && r.saga == sg.idx {
			n++
			if r.undoing {
				undoing++
			}
		}
	}
	return n, undoing
}
