package sim

import "github.com/faultline/faultline/sim/resilience"

// autoscaler is a service's reactive scaling loop: every interval it looks
// at the utilisation since the last look and adds or retires instances.
type autoscaler struct {
	policy   *resilience.Autoscaler
	interval int64
	startup  int64
	lastBusy float64 // the busy and capacity integrals at the last look
	lastCap  float64
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
// notion of the current size. Retired instances finish what they hold but
// take nothing new.
func (sv *service) active() int {
	n := 0
	for i := range sv.insts {
		if !sv.insts[i].retired {
			n++
		}
	}
	return n
}

// autoscale runs one evaluation of service svc's autoscaler.
func (s *Sim) autoscale(svc int32) {
	sv := &s.services[svc]
	a := sv.scaler
	s.schedule(s.now+a.interval, evAutoscale, svc, 0)
	sv.account(s.now)
	db, dc := sv.totalBusy-a.lastBusy, sv.totalCap-a.lastCap
	a.lastBusy, a.lastCap = sv.totalBusy, sv.totalCap
	if dc <= 0 {
		return
	}
	util := db / dc
	cur := sv.active()
	want := a.policy.Decide(s.now, util, cur)
	switch {
	case want > cur:
		for range want - cur {
			sv.addInstance(a.startup)
		}
		s.logf(sv.spec.Name, "scaled up %d -> %d instances (utilisation %.0f%%)", cur, want, util*100)
	case want < cur:
		// Retire the newest instances first.
		for i := len(sv.insts) - 1; i >= 0 && cur > want; i-- {
			if in := &sv.insts[i]; !in.retired {
				in.retired, in.up = true, false
				cur--
			}
		}
		sv.refreshCapacity()
		s.logf(sv.spec.Name, "scaled down to %d instances (utilisation %.0f%%)", want, util*100)
	}
}

// addInstance starts a new instance, or restarts a retired one, that takes
// traffic after the start-up delay.
func (sv *service) addInstance(startup int64) {
	s := sv.s
	n := -1
	for i := range sv.insts {
		if in := &sv.insts[i]; in.retired && !in.draining {
			// Not one that a deploy still drains: its drain ends in a
			// restart of its own.
			n = i
			break
		}
	}
	if n < 0 {
		sv.insts = append(sv.insts, instance{deploy: -1, leakStuck: 1})
		n = len(sv.insts) - 1
		sv.refreshInstance(int32(n))
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
	in := &sv.insts[n]
	in.retired, in.up = false, false
	in.release = sv.release // a new instance runs the current version
	in.readyAt = s.now + startup
	in.crashedAt = -1 // not a restart
	s.schedule(in.readyAt, evInstanceUp, sv.idx, uint32(n))
}
