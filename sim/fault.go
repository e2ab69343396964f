package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// fault is a scheduled change of a service's behaviour.
type fault struct {
	spec *Fault
	svc  int32
	rng  *rand.Rand // draws the added latency, so the service's own draws stay put
}

func (f *fault) describe() string {
	switch f.spec.Kind {
	case FaultLatency:
		return "latency +" + f.spec.Add.String()
	case FaultErrors:
		return fmt.Sprintf("errors %g%%", f.spec.Probability*100)
	}
	return f.spec.Kind.String()
}

func (f *fault) begin(s *Sim, idx int32) {
	sv := &s.services[f.svc]
	sv.faults = append(sv.faults, idx)
	sv.refreshFaults()
	s.logf(sv.spec.Name, "fault %s started", f.describe())
	if f.spec.Duration > 0 {
		s.schedule(s.now+int64(f.spec.Duration), evFaultEnd, idx, 0)
	}
}

func (f *fault) stop(s *Sim, idx int32) {
	sv := &s.services[f.svc]
	if i := slices.Index(sv.faults, idx); i >= 0 {
		sv.faults = slices.Delete(sv.faults, i, i+1)
	}
	sv.refreshFaults()
	s.logf(sv.spec.Name, "fault %s ended", f.describe())
}

// refreshFaults recomputes the failure probability that the active errors
// faults add: each fails a request independently.
func (sv *service) refreshFaults() {
	pass := 1.0
	for _, i := range sv.faults {
		if f := sv.s.faults[i].spec; f.Kind == FaultErrors {
			pass *= 1 - f.Probability
		}
	}
	sv.faultEr = math.Max(0, 1-pass)
}
