package sim

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/sim/resilience"
)

// An instance that is gone stays in its callers' endpoints for a while,
// and what they send it meanwhile is lost: refused at once by an instance
// that crashed (a connection refused), held until the caller's timeout by
// one that hangs. Kubernetes tells the two apart. A container whose
// process exits is seen by the kubelet at its next relist (the PLEG
// relists every second: pkg/kubelet/kubelet.go, plegRelistPeriod), the
// pod turns not ready, the EndpointSlice controller updates the slices
// at once (--endpointslice-updates-batch-period is 0 by default:
// pkg/controller/endpointslice/config/types.go) and each node's
// kube-proxy its rules at most once per iptables.minSyncPeriod (1 s by
// default: pkg/proxy/apis/config/v1alpha1/defaults.go); a mesh's
// control plane pushes the change to its Envoys after PILOT_DEBOUNCE_AFTER
// (100 ms: istio pilot/pkg/features). That is the service's
// EndpointUpdateDelay, which no probe shortens or lengthens. A container
// that runs but does not answer (paused, blackholed) is noticed by its
// readiness probe alone, after failureThreshold failed probes. Two active
// checkers run here, both by checkRun: the callee's readiness probe, whose
// verdicts every caller's endpoints follow, and a route's or call's Envoy
// active health checking, which stops that one edge's caller using an
// instance. Outlier detection (resil.go) is the passive way.

// checkRun is one periodic checker of a service's instances.
type checkRun struct {
	svc      int32 // the service checked
	hc       *resilience.HealthChecker
	interval int64
	timeout  int64 // how long a check waits for an instance that does not answer
	// pending is, for each instance whose check hangs (paused,
	// blackholed), when that check's verdict is due: its round's start +
	// timeout; 0: none.
	pending []int64
	// probe: a readiness probe, whose results list and delist instances;
	// otherwise an edge's Envoy health checking, edge its index in
	// Sim.edges, which only that edge's balancers read.
	probe bool
	edge  int32
}

// newCheck starts a checker of service svc's instances and returns its index.
func (s *Sim) newCheck(svc int32, cfg resilience.HealthCheckConfig, probe bool, edge int32) int32 {
	n := len(s.services[svc].insts)
	s.checks = append(s.checks, checkRun{svc: svc, hc: resilience.NewHealthChecker(cfg, n),
		interval: int64(cfg.Interval), timeout: int64(cfg.Timeout), pending: make([]int64, n), probe: probe, edge: edge})
	i := int32(len(s.checks) - 1)
	s.schedule(int64(cfg.Interval), evCheck, i, checkRound)
	return i
}

// The two events of a checker: a round of checks, and the verdict of the
// checks of a round that hung.
const (
	checkRound uint32 = iota
	checkVerdict
)

// initProbe starts the service's readiness probe, when it has one.
func (sv *service) initProbe() {
	if cfg := sv.spec.Readiness; cfg != nil {
		sv.probe = sv.s.checks[sv.s.newCheck(sv.idx, *cfg, true, -1)].hc
	}
	for i := range sv.insts {
		sv.relist(int32(i))
	}
}

// relist keeps listedNow, how many of the service's instances are listed,
// in step with instance n after anything listed reads changed (its process,
// its exit seen, its readiness). A balancer reads it (hostsView.Listed) to
// refuse at once, in O(1), when none is listed, rather than scan every
// instance for each call a crashed service refuses; and listChanges, which
// a balancer's "none available" waits on (hostsView.Version).
func (sv *service) relist(n int32) {
	in := &sv.insts[n]
	l := 0
	if sv.listed(int(n)) {
		l = 1
	}
	if l != in.listedCounted {
		sv.listedNow += l - in.listedCounted
		sv.listChanges++
	}
	in.listedCounted = l
}

// listed reports whether instance i is in the endpoints its callers
// balance over: up, or crashed less than EndpointUpdateDelay ago, and not
// taken out by its readiness probe.
func (sv *service) listed(i int) bool {
	in := &sv.insts[i]
	return (in.up || in.downUnseen) && (sv.probe == nil || sv.probe.Healthy(i))
}

// exited is instance n's process gone (a crash): it leaves the endpoints
// EndpointUpdateDelay later, when the kubelet's report has reached every
// caller's proxy. The caller calls it when an instance up goes down: a
// second crash while it is still listed changes nothing, the kubelet saw
// the first.
func (sv *service) exited(n int32) {
	in := &sv.insts[n]
	if !in.downUnseen {
		return
	}
	d := int64(sv.spec.EndpointUpdateDelay)
	if d == 0 {
		in.downUnseen = false
		sv.relist(n)
		return
	}
	in.delistAt = after(sv.s.now, d)
	sv.s.schedule(in.delistAt, evDelist, sv.idx, uint32(n))
}

// delist takes crashed instance n out of the endpoints (evDelist), unless
// it has started again since, or crashed anew and waits for a later one.
func (sv *service) delist(n int32) {
	in := &sv.insts[n]
	if !in.downUnseen || in.delistAt != sv.s.now {
		return
	}
	in.downUnseen = false
	sv.relist(n)
	sv.s.logf(fmt.Sprintf("%s#%d", sv.spec.Name, n+1), "out of the endpoints: its exit seen %s after the crash",
		time.Duration(sv.spec.EndpointUpdateDelay))
}

// hangs reports whether instance i is up but does not answer: a check
// waits for its timeout.
func (sv *service) hangs(i int) bool {
	in := &sv.insts[i]
	return in.up && (in.paused || in.f.blackhole)
}

// checkDue runs a round of checker c's checks (what is checkRound), or
// the verdict of the round's hung checks (checkVerdict). The checks of all
// the instances run together, every interval from the start: the kubelet
// times each container's from its start, and Envoy each host's from when
// it joined, which moves a detection by less than one interval. A check
// of a crashed or starting instance fails at once (the connection is
// refused); one of a paused or blackholed instance fails at its timeout
// unless the instance answers by then; one of an instance up passes. A
// readiness probe checks the instances that are up, or down unseen (those
// draining, scaled away or starting anew are out of the endpoints
// already); Envoy checks the instances the endpoints list, and forgets the
// others (a host gone from its cluster).
func (s *Sim) checkDue(c int32, what uint32) {
	ck := &s.checks[c]
	sv := &s.services[ck.svc]
	if what == checkVerdict {
		for i, due := range ck.pending {
			if due == s.now {
				ck.pending[i] = 0
				s.checked(c, i, sv.insts[i].up && !sv.hangs(i))
			}
		}
		return
	}
	for len(ck.pending) < len(sv.insts) {
		ck.pending = append(ck.pending, 0)
	}
	hung := false
	for i := range sv.insts {
		in := &sv.insts[i]
		switch {
		case ck.pending[i] > 0:
			// The last round's check still waits (a timeout longer than
			// the interval): Envoy and the kubelet do not overlap checks.
		case !ck.probe && !sv.listed(i):
			ck.hc.Forget(i)
		case sv.hangs(i):
			ck.pending[i], hung = after(s.now, ck.timeout), true
		case in.up:
			s.checked(c, i, true)
		case in.downUnseen:
			s.checked(c, i, false)
		}
	}
	if hung {
		s.schedule(after(s.now, ck.timeout), evCheck, c, checkVerdict)
	}
	if next := after(s.now, ck.interval); next < s.end {
		s.schedule(next, evCheck, c, checkRound)
	}
}

// checked records checker c's check of instance i, and logs a change.
func (s *Sim) checked(c int32, i int, ok bool) {
	ck := &s.checks[c]
	if !ck.hc.Check(i, ok) {
		return
	}
	sv := &s.services[ck.svc]
	if ck.probe {
		sv.relist(int32(i))
	}
	inst := fmt.Sprintf("%s#%d", sv.spec.Name, i+1)
	cfg := ck.hc.Config()
	switch {
	case ck.probe && ok:
		s.logf(inst, "readiness probe passed: back in the endpoints")
	case ck.probe:
		s.logf(inst, "readiness probe failed %d times: out of the endpoints", cfg.Unhealthy)
	case ok:
		ref := s.edges[ck.edge]
		s.logf(s.edgeName(ref.svc, ref.edge), "health check of %s passed %d times: healthy", inst, cfg.Healthy)
	default:
		ref := s.edges[ck.edge]
		s.logf(s.edgeName(ref.svc, ref.edge), "health check of %s failed %d times: unhealthy", inst, cfg.Unhealthy)
	}
}

// probeRestarted is instance n of sv started again (a new container): it is
// ready once its first probe, run at once, has passed successThreshold times.
func (sv *service) probeRestarted(n int32) {
	if sv.probe != nil {
		sv.probe.Restart(int(n))
		sv.relist(n)
	}
}
