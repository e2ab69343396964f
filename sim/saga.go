package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
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
	link  link
	start int32 // the service whose successes start instances
	steps []sagaStep
	pivot int       // the pivot step, or len(steps): every step is compensatable
	retry SagaRetry // the spec's, defaults filled in

	started, completed, compensated, inconsistent uint64
	lost                                          uint64            // with a coordinator's memory
	dur, recovery                                 metrics.Histogram // whole run
	win                                           sagaWin
	series                                        []Window
	health                                        healthTracker
}

type sagaWin struct{ started, completed, compensated, inconsistent uint64 }

type sagaStep struct {
	svc, comp, topic int32 // comp and topic may be -1
	// group is the step's service's consumer group on topic: only its
	// processing of the event is the step (a view or another service may
	// read the topic too).
	group             int32
	timeout, deadline int64
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
	// attempt counts the tries of the current step (or compensation) so
	// far, since it was first tried.
	attempt  int32
	since    int64
	started  int64
	failedAt int64
	gen      uint32
	inUse    bool
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
	*r = sagaRun{gen: r.gen + 1}
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
			step := sagaStep{svc: s.serviceIndex(st.Service), comp: -1, topic: -1, group: -1, timeout: int64(st.Timeout), deadline: int64(st.Deadline)}
			if st.Compensation != "" {
				step.comp = s.serviceIndex(st.Compensation)
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
	if sg.spec.Mode == Orchestration {
		r.coord = inst
	}
	sg.started++
	sg.win.started++
	s.sagaStep(run)
}

// sagaStep sends the command (or the event) of the run's current step, or
// of the compensation being run.
func (s *Sim) sagaStep(run int32) {
	r := &s.sagaRuns.r[run]
	sg := &s.sagas[r.saga]
	st := &sg.steps[r.step]
	if !r.undoing && st.topic >= 0 && sg.spec.Mode == Choreography {
		s.produce(st.topic, r.key, true, AcksAll, -1, sg.spec.Name, run, r.step)
		return
	}
	svc, timeout := st.svc, st.timeout
	if r.undoing {
		svc = st.comp
	}
	sv := &s.services[svc]
	host := sv.lb.Pick(&sv.hosts, r.key, sg.rng)
	if host < 0 {
		// Nobody to take the command: it is unavailable at once, after a
		// hop.
		s.schedule(after(s.now, s.hop(sg.rng)), evSagaRetry, run, r.gen|failBit)
		return
	}
	if i := s.sendRequest(fromSaga, run, svc, int32(host), s.spec.Network.Latency, timeout); i >= 0 {
		// A command names no operation: it takes one by the operations'
		// weights, as a request to the service alone does.
		s.reqs.r[i].op = sv.pickOp(sg.rng)
	}
}

// maxLoggedInconsistent bounds the inconsistent sagas logged one by one.
const maxLoggedInconsistent = 10

// failBit marks an evSagaRetry that delivers a failure rather than a retry.
const failBit = 1 << 31

// sagaReply takes the answer of a command.
func (s *Sim) sagaReply(run int32, o Outcome) {
	r := &s.sagaRuns.r[run]
	if r.inUse && s.coordinatorDown(r) {
		r.parked, r.reply = parkedReply, o
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
// other instance takes them over.
func (s *Sim) coordinatorDown(r *sagaRun) bool {
	if r.coord < 0 {
		return false
	}
	in := &s.services[s.sagas[r.saga].start].insts[r.coord]
	return !in.up || in.paused
}

// coordinatorBack resumes the orchestrated runs that instance n of service
// sv coordinates, once it runs again: each handles what reached it while
// it was down, in the order the runs were started. A coordinator that
// kept its sagas in memory (log = "memory") and crashed since a run
// started has forgotten it: the run is lost, whatever its participants
// did.
func (s *Sim) coordinatorBack(sv *service, n int32) {
	if len(sv.sagas) == 0 {
		return
	}
	resumed, lost := 0, 0
	crashed := sv.insts[n].crashedAt
	for i := range s.sagaRuns.r {
		r := &s.sagaRuns.r[i]
		if !r.inUse || r.coord != n || s.sagas[r.saga].start != sv.idx {
			continue
		}
		if sg := &s.sagas[r.saga]; sg.spec.Log == MemoryLog && crashed >= r.started {
			sg.lost++
			lost++
			s.sagaRuns.release(int32(i))
			continue
		}
		if r.parked == parkedNone {
			continue
		}
		resumed++
		p := r.parked
		r.parked = parkedNone
		if p == parkedRetry {
			s.sagaStep(int32(i))
		} else {
			s.sagaStepDone(int32(i), r.step, r.reply)
		}
	}
	if lost > 0 {
		s.logf(fmt.Sprintf("%s#%d", sv.spec.Name, n+1), "coordinator back without its memory: %d sagas lost", lost)
	}
	if resumed > 0 {
		s.logf(fmt.Sprintf("%s#%d", sv.spec.Name, n+1), "coordinator back: %d sagas that waited for it go on", resumed)
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
		o = OK
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
	if !r.inUse || r.step != step {
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
		sg.inconsistent++
		sg.win.inconsistent++
		// The first few are logged one by one; the window's health tells
		// the rest.
		switch {
		case sg.inconsistent <= maxLoggedInconsistent:
			s.logf("saga "+sg.spec.Name, "inconsistent: compensation of step %d (%s) failed", step+1, s.services[sg.steps[step].comp].spec.Name)
		case sg.inconsistent == maxLoggedInconsistent+1:
			s.logf("saga "+sg.spec.Name, "more inconsistent sagas: counted, no longer logged one by one")
		}
		s.sagaRuns.release(run)
	case r.undoing:
		s.sagaUndo(run, step-1)
	case ok && int(step)+1 == len(sg.steps):
		sg.completed++
		sg.win.completed++
		sg.dur.Record(s.now - r.started)
		s.sagaRuns.release(run)
	case ok:
		r.step++
		s.sagaStep(run)
	default:
		r.undoing, r.failedAt = true, s.now
		s.sagaUndo(run, step-1)
	}
}

// sagaRetryLater plans the next try of run's current command, unless its
// policy forbids one: its maximum attempts are spent, or the retry would
// come after the step's deadline (a step before or at the pivot; the steps
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
	if dl := sg.steps[r.step].deadline; dl > 0 && !r.undoing && int(r.step) <= sg.pivot && at > r.since+dl {
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
		sg.win.compensated++
		sg.recovery.Record(s.now - r.failedAt)
		s.sagaRuns.release(run)
		return
	}
	r.step = step
	s.sagaStep(run)
}

// sagaResend plans another try of a choreographed step whose event the
// broker did not take, after the saga's retry interval, as a producer
// with retries would; run must still be the instance of generation gen.
func (s *Sim) sagaResend(run int32, gen uint32) {
	r := &s.sagaRuns.r[run]
	if !r.inUse || r.gen != gen {
		return
	}
	s.schedule(after(s.now, int64(s.sagas[r.saga].retry.InitialInterval)), evSagaRetry, run, r.gen)
}

// sagaRetry is a retry timer, or a command that failed at once.
func (s *Sim) sagaRetry(run int32, gen uint32) {
	r := &s.sagaRuns.r[run]
	if r.gen != gen&^failBit || !r.inUse {
		return
	}
	if s.coordinatorDown(r) {
		r.parked, r.reply = parkedRetry, OK
		if gen&failBit != 0 {
			r.parked, r.reply = parkedReply, Rejected
		}
		return
	}
	if gen&failBit != 0 {
		s.sagaStepDone(run, r.step, Rejected) // unavailable, not refused
		return
	}
	s.sagaStep(run)
}

// running counts a saga's instances still in progress.
func (sg *saga) running() (n uint64, undoing uint64) {
	for i := range sg.s.sagaRuns.r {
		if r := &sg.s.sagaRuns.r[i]; r.inUse && r.saga == sg.idx {
			n++
			if r.undoing {
				undoing++
			}
		}
	}
	return n, undoing
}
