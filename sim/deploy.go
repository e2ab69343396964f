package sim

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// A deploy is a rolling restart, as a Kubernetes Deployment does it: one
// batch of instances at a time is taken out of rotation, drains what it
// holds (up to a grace period, then it is killed), is down for its
// start-up time, and comes back cold: its service time is multiplied for a
// warm-up. The next batch starts when the previous one has warmed up. A
// bad release gives the restarted instances other errors or speed; a
// rollback is a second rolling restart back to the old version.

// defaultGracePeriod is how long a draining instance may finish its work
// before it is killed when the deploy does not say: Kubernetes' default
// terminationGracePeriodSeconds, 30 s (k8s.io/api core/v1 types.go,
// DefaultTerminationGracePeriodSeconds).
const defaultGracePeriod = 30 * time.Second

// release is what a version of a service does differently.
type release struct {
	errors    float64
	hasErrors bool
	factor    float64 // service time multiplier; 1 = as specified
	occ       int32   // the deploy's occurrence + 1, the fault behind its errors; 0: as specified
}

// deploy is a rolling restart in progress.
type deploy struct {
	fault    int32
	svc      int32
	to       *release // the version rolled out
	batches  [][]int32
	next     int // the batch to restart next
	pending  int // instances of the current batch not warmed up yet
	rollback bool
	// rollbackDue: a rollback of this deploy is planned; rollbackNow: it
	// is due, and starts as soon as the current batch is done.
	rollbackDue, rollbackNow bool
	done                     bool
	grace                    int64 // the drain's grace period (DeployFault.TerminationGracePeriod)
}

// startDeploy begins the rolling restart of fault f.
func (s *Sim) startDeploy(f *fault) {
	sp := f.p.(DeployFault)
	sv := &s.services[f.svc]
	to := &release{factor: 1}
	if sp.HasNewErrors || sp.NewFactor > 0 {
		to = &release{errors: sp.NewErrors, hasErrors: sp.HasNewErrors, factor: 1}
		if sp.NewFactor > 0 {
			to.factor = sp.NewFactor
		}
		to.occ = int32(len(s.occurs)) // begun just before: its index + 1
	}
	all := make([]int32, len(sv.insts))
	for n := range all {
		all[n] = int32(n)
	}
	rollbackDue := sp.RollbackAfter > 0 && (sp.HasNewErrors || sp.NewFactor > 0)
	sv.release = to // what instances started from now on run
	d := s.newDeploy(f.idx, sv, to, false, all, rollbackDue)
	if rollbackDue {
		s.schedule(after(s.now, int64(sp.RollbackAfter)), evRollback, d, 0)
	}
}

// newDeploy rolls release to out to the instances insts of sv, in
// batches.
func (s *Sim) newDeploy(fault int32, sv *service, to *release, rollback bool, insts []int32, rollbackDue bool) int32 {
	sp := s.faults[fault].p.(DeployFault)
	size := sp.Batch
	if size <= 0 {
		size = max(1, int(math.Ceil(sp.BatchShare*float64(len(sv.insts)))))
	}
	d := deploy{fault: fault, svc: sv.idx, to: to, rollback: rollback, rollbackDue: rollbackDue, grace: int64(sp.TerminationGracePeriod)}
	if d.grace == 0 {
		d.grace = int64(defaultGracePeriod)
	}
	for b := range slices.Chunk(insts, size) {
		d.batches = append(d.batches, b)
	}
	s.deploys = append(s.deploys, d)
	idx := int32(len(s.deploys) - 1)
	s.nextBatch(idx)
	return idx
}

// nextBatch takes the deploy's next batch out of rotation, or ends it.
func (s *Sim) nextBatch(di int32) {
	d := &s.deploys[di]
	sv := &s.services[d.svc]
	what := "deploy"
	if d.rollback {
		what = "rollback"
	}
	if d.next == len(d.batches) {
		d.done = true
		f := &s.faults[d.fault]
		e := Event{T: time.Duration(s.now), Component: sv.spec.Name, Fault: -1}
		if d.rollback || !d.rollbackDue {
			// A deploy ends when it is done, its rollback included.
			e.Kind, e.Fault = EventFaultEnded, s.endOccurrence(f)
			// Over, rollback included: the next occurrence of a
			// repeating deploy may start.
			f.active = false
		}
		n := 0
		for _, b := range d.batches {
			n += len(b)
		}
		e.What = fmt.Sprintf("%s finished: %d instances restarted in %d batches", what, n, len(d.batches))
		s.logEvent(e)
		if d.rollbackNow {
			s.rollback(di)
		}
		return
	}
	b := d.batches[d.next]
	d.next++
	d.pending = len(b)
	names := ""
	for _, n := range b {
		names += fmt.Sprintf(" #%d", n+1)
	}
	s.logf(sv.spec.Name, "%s batch %d of %d:%s restarting", what, d.next, len(d.batches), names)
	for _, n := range b {
		in := &sv.insts[n]
		if !in.up {
			// Down already (a crash, or scaled away): it will start with
			// the new version whenever it starts, and counts as done now,
			// not once more when it starts.
			in.release = d.to
			s.deployed(di)
			continue
		}
		in.deploy = di
		in.up, in.draining, in.downUnseen = false, true, false
		// Out of rotation because of the deploy: what it refuses or loses
		// while it drains, restarts and waits to be ready traces to the
		// deploy's occurrence (provenance.go), as a crash's does to the
		// crash: the pod the rollout terminates leaves its Service's
		// ready endpoints as it starts terminating, and its replacement
		// joins them once ready ("Explore Termination Behavior for Pods
		// And Their Endpoints",
		// https://kubernetes.io/docs/tutorials/services/pods-and-endpoint-termination-flow/).
		in.downOcc = s.occAt(sv.idx, CauseCrash, d.fault).fault
		in.crashedAt = s.now // out of rotation from now
		sv.recount(n)
		if in.busy == 0 && in.q.len() == 0 && in.waiting == 0 {
			s.drained(sv, n)
		} else {
			in.killAt = after(s.now, d.grace)
			s.schedule(in.killAt, evDrainKill, sv.idx, uint32(n))
		}
	}
}

// drained is a draining instance with nothing left to do: it stops, and
// starts again with the new version after its start-up time.
func (s *Sim) drained(sv *service, n int32) {
	in := &sv.insts[n]
	in.draining = false
	sv.recount(n)
	if in.deploy < 0 {
		return
	}
	in.release = s.deploys[in.deploy].to
	in.crashedAt = s.now
	in.readyAt = after(s.now, int64(s.faults[s.deploys[in.deploy].fault].p.(DeployFault).StartupDelay))
	s.schedule(in.readyAt, evInstanceUp, sv.idx, uint32(n))
}

// drainKill ends a drain that outlasted the grace period: what the
// instance still holds dies with it.
func (s *Sim) drainKill(svc, n int32) {
	sv := &s.services[svc]
	if in := &sv.insts[n]; in.draining && in.killAt == s.now {
		// Not the grace period of an earlier drain: this one's.
		sv.crash(n) // which ends the drain
		sv.consumerEvent(n, (*group).crashed)
	}
}

// deployUp is an instance of a deploy back up: it warms up, then counts
// as done.
func (s *Sim) deployUp(sv *service, n int32) {
	in := &sv.insts[n]
	di := in.deploy
	in.deploy = -1
	sp := s.faults[s.deploys[di].fault].p.(DeployFault)
	in.warmUntil = after(s.now, int64(sp.Warmup))
	in.warmFactor = sp.WarmupFactor
	// The slowness of its warm-up is the deploy's doing (start).
	in.warmOcc = s.occAt(sv.idx, CauseLate, s.deploys[di].fault).fault
	s.schedule(in.warmUntil, evDeployed, di, 0)
}

// deployed counts an instance of the current batch as done.
func (s *Sim) deployed(di int32) {
	d := &s.deploys[di]
	d.pending--
	if d.pending == 0 {
		s.nextBatch(di)
	}
}

// rollback rolls the old version back out over a deploy: at once if the
// deploy is over, else as soon as its current batch is done.
func (s *Sim) rollback(di int32) {
	d := &s.deploys[di]
	if !d.done {
		d.batches = d.batches[:d.next] // no further batch of the bad release
		d.rollbackNow = true
		return
	}
	sv := &s.services[d.svc]
	var bad []int32
	for n := range sv.insts {
		if sv.insts[n].release == d.to {
			bad = append(bad, int32(n))
		}
	}
	sv.release = &release{factor: 1}
	s.newDeploy(d.fault, sv, sv.release, true, bad, false)
}

// version applies what an instance's state does to one request's work: its
// release, a warm-up after a restart, and memory leaks, those growing and
// those fixed but not yet restarted away.
func (sv *service) version(n int32, work int64) int64 {
	s := sv.s
	in := &sv.insts[n]
	f := 1.0
	if r := in.release; r != nil {
		f *= r.factor
	}
	f *= in.leakStuck
	if s.now < in.warmUntil {
		f *= in.warmFactor
	}
	for _, i := range in.f.list {
		if ft := &s.faults[i]; ft.spec.Kind == FaultLeak {
			f *= 1 + ft.p.(LeakFault).Growth*float64(s.now-in.leakSince(ft))/float64(time.Minute)
		}
	}
	if f == 1 {
		return work
	}
	return nanos(float64(work) * f)
}

// planLeak plans when instance n runs out of memory under its leaks: when
// its service time reaches the smallest limit.
func (sv *service) planLeak(n int32) {
	s := sv.s
	in := &sv.insts[n]
	in.leakAt = 0
	for _, i := range in.f.list {
		ft := &s.faults[i]
		if ft.spec.Kind != FaultLeak {
			continue
		}
		if at := in.leakLimitAt(ft); in.leakAt == 0 || at < in.leakAt {
			in.leakAt = at
		}
	}
	if in.leakAt > 0 && in.leakAt < s.end {
		s.schedule(in.leakAt, evLeakCrash, sv.idx, uint32(n))
	}
}

// leakCrash is an instance out of memory: it crashes and restarts.
func (s *Sim) leakCrash(svc, n int32) {
	sv := &s.services[svc]
	in := &sv.insts[n]
	if in.leakAt != s.now || !in.up {
		return // the leak ended, or the instance restarted, meanwhile
	}
	var leak *LeakFault
	for _, i := range in.f.list {
		// The leak that reached its limit now: its startup_delay, and
		// the fault its restart traces to (not whatever took the
		// instance down before: a crash, a deploy).
		if f := &s.faults[i]; f.spec.Kind == FaultLeak && in.leakLimitAt(f) == s.now {
			p := f.p.(LeakFault)
			leak = &p
			in.downOcc = s.occAt(svc, CauseCrash, i).fault
			break
		}
	}
	if leak == nil {
		return
	}
	s.logf(fmt.Sprintf("%s#%d", sv.spec.Name, n+1), "out of memory after %s up: restarting", time.Duration(s.now-in.leakFrom).Round(time.Second))
	in.crashedAt = s.now
	sv.crash(n)
	sv.consumerEvent(n, (*group).crashed)
	sv.recount(n)
	in.readyAt = after(s.now, int64(leak.StartupDelay))
	s.schedule(in.readyAt, evInstanceUp, sv.idx, uint32(n))
}

// leakEnded freezes what a leak that just ended left on instance n: its
// service time stays multiplied until the instance restarts.
func (sv *service) leakEnded(n int32, f *fault) {
	in := &sv.insts[n]
	in.leakStuck *= 1 + f.p.(LeakFault).Growth*float64(sv.s.now-in.leakSince(f))/float64(time.Minute)
}

// leakSince is when leak f began to grow on the instance: at the fault's
// start, or at the instance's last start if later. Each leak grows from
// its own start: a second leak does not reset the first.
func (in *instance) leakSince(f *fault) int64 {
	return max(in.leakFrom, f.since)
}

// leakLimitAt is when leak f alone brings the instance to its limit.
func (in *instance) leakLimitAt(f *fault) int64 {
	p := f.p.(LeakFault)
	return in.leakSince(f) + int64((p.Limit-1)/p.Growth*float64(time.Minute))
}
