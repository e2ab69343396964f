package sim

import (
	"math"

	"github.com/faultline/faultline/sim/resilience"
)

// autoscaler is a service's reactive scaling loop: every interval it reads
// the CPU use of the instances since the last look and adds or retires
// instances, as a Kubernetes HPA on CPU does.
type autoscaler struct {
	policy   *resilience.Autoscaler
	interval int64
	startup  int64
	last     int64     // the previous evaluation
	lastCPU  []float64 // each instance's CPU integral then
}

func (sv *service) initAutoscale() {
	cfg := sv.spec.Autoscale
	if cfg == nil {
		return
	}
	p := resilience.NewAutoscaler(*cfg)
	c := p.Config()
	sv.scaler = &autoscaler{policy: p, interval: int64(c.Interval), startup: int64(c.StartupDelay)}
	sv.s.schedule(sv.scaler.interval, evAutoscale, sv.idx, 0)
}

// active counts the instances that serve or are starting: the autoscaler's
// notion of the current size (the HPA's spec.replicas). Retired instances
// finish what they hold but take nothing new.
func (sv *service) active() int {
	n := 0
	for i := range sv.insts {
		if !sv.insts[i].retired {
			n++
		}
	}
	return n
}

// read measures the CPU use since the last evaluation. An instance counts
// as ready when it has been up since then: one that started (or restarted)
// meanwhile is not ready yet, as the HPA ignores a pod whose metric window
// began before it was ready; so is one that is down. The utilisation is
// the ready instances' CPU time over their workers' time, or, under a
// cpu_limit, the CPU they used over their limit's.
func (a *autoscaler) read(sv *service, now int64) resilience.Reading {
	for len(a.lastCPU) < len(sv.insts) {
		a.lastCPU = append(a.lastCPU, 0)
	}
	var cpu, capacity float64
	ready := 0
	for i := range sv.insts {
		in := &sv.insts[i]
		in.onCPU(now, 0)
		total, cores := in.cpuTime, float64(in.f.workers)
		if c := in.cfs; c != nil {
			// Under a limit, the CPU its work used, not its time at
			// work: throttled time uses none (metrics-server reads
			// container_cpu_usage_seconds_total). Its request is its
			// limit: "If Requests is omitted for a container, it
			// defaults to Limits if that is explicitly specified"
			// (core/v1 ResourceRequirements), and the HPA's
			// utilisation is usage over the request
			// (kubernetes.io, Horizontal Pod Autoscaling).
			c.advance(now, in.cpu) // exact at any split: the timer holds
			total, cores = float64(c.cpuNs), sv.spec.CPULimit
		}
		used := total - a.lastCPU[i]
		a.lastCPU[i] = total
		if in.retired || !in.up || in.readyAt > a.last {
			continue
		}
		ready++
		cpu += used
		capacity += cores * float64(now-a.last)
	}
	a.last = now
	r := resilience.Reading{Current: sv.active(), Ready: ready, Utilisation: math.NaN()}
	if capacity > 0 {
		r.Utilisation = cpu / capacity
	}
	return r
}

// autoscale runs one evaluation of service svc's autoscaler.
func (s *Sim) autoscale(svc int32) {
	sv := &s.services[svc]
	a := sv.scaler
	s.schedule(after(s.now, a.interval), evAutoscale, svc, 0)
	r := a.read(sv, s.now)
	cur := r.Current
	want := a.policy.Decide(s.now, r)
	switch {
	case want > cur:
		sv.addInstances(want-cur, a.startup)
		s.logf(sv.spec.Name, "scaled up %d -> %d instances (CPU %.0f%% of %d ready)", cur, want, r.Utilisation*100, r.Ready)
	case want < cur:
		// Retire the newest instances first, all of them before any hands
		// its sagas over: a saga handed to an instance retired in the same
		// pass would be handed twice, and resumed meanwhile at an
		// instance already on its way out.
		from := len(sv.insts)
		for i := len(sv.insts) - 1; i >= 0 && cur > want; i-- {
			if in := &sv.insts[i]; !in.retired {
				in.retired, in.up, in.downUnseen = true, false, false
				sv.recount(int32(i))
				from = i
				cur--
			}
		}
		for i := len(sv.insts) - 1; i >= from; i-- {
			if sv.insts[i].retired {
				s.coordinatorRetired(sv, int32(i))
			}
		}
		s.logf(sv.spec.Name, "scaled down to %d instances (CPU %.0f%% of %d ready)", want, r.Utilisation*100, r.Ready)
	}
}

// addInstances starts k instances, restarting retired ones first (the
// lowest numbers), that take traffic after the start-up delay. It scans
// the instances and the callers' outlier detectors once for all k: a
// scale-up costs O(instances + k), not O(k x instances).
func (sv *service) addInstances(k int, startup int64) {
	s := sv.s
	grown := false
	for i := 0; k > 0; i++ {
		if i == len(sv.insts) {
			sv.insts = append(sv.insts, instance{deploy: -1, leakStuck: 1})
			if sv.limited {
				sv.insts[len(sv.insts)-1].bucket = sv.spec.Gateway.bucket(s.now)
			}
			sv.limitCPU(int32(i))
			sv.refreshInstance(int32(i))
			grown = true
		} else if in := &sv.insts[i]; !in.retired || in.draining {
			// Not one that a deploy still drains: its drain ends in a
			// restart of its own.
			continue
		}
		in := &sv.insts[i]
		in.retired, in.up, in.downUnseen = false, false, false
		sv.recount(int32(i))
		in.release = sv.release // a new instance runs the current version
		in.readyAt = after(s.now, startup)
		in.crashedAt = -1 // not a restart
		s.schedule(in.readyAt, evInstanceUp, sv.idx, uint32(i))
		k--
	}
	if !grown {
		return
	}
	for _, ref := range s.edges {
		if e := &s.services[ref.svc].calls[ref.edge]; e.kind == toService && e.to == sv.idx {
			for _, p := range e.pol {
				if p.outlier != nil {
					p.outlier.Resize(len(sv.insts))
				}
			}
		}
	}
}
