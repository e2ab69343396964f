package sim

import (
	"testing"
	"time"
)

// walkOrigin is serviceOrigin as a walk of the instances: for no
// instance up, the occurrence that took the most instances down (the
// later on a tie); else the fault that began last among those on each
// instance, the later instance on a tie, else the crash that took a down
// instance down last.
func (s *Sim) walkOrigin(svc int32, c Cause) origin {
	best, down := int32(-1), int32(0)
	took := map[int32]int{}
	for n := range s.services[svc].insts {
		in := &s.services[svc].insts[n]
		best = s.latest(best, in.f.list, nil)
		if !in.up && in.downOcc > 0 {
			took[in.downOcc]++
			down = max(down, in.downOcc)
		}
	}
	if c == CauseNoInstance && down > 0 {
		most := down
		for occ, n := range took {
			if n > took[most] || n == took[most] && occ > most {
				most = occ
			}
		}
		return origin{comp: svc, cause: c, fault: most}
	}
	if best < 0 && down > 0 {
		return origin{comp: svc, cause: c, fault: down}
	}
	return s.occAt(svc, c, best)
}

// TestServiceOriginMatchesWalk: serviceOrigin, which reads its service's
// index of faults and down instances, answers what a walk of the
// instances answers, for a no-instance refusal and for a breaker's, after every event of runs whose faults overlap, begin
// together on different instances (a tie the walk breaks by instance),
// crash instances that stay down after the fault (start-up, deploys,
// scale-down) and end while others go on.
func TestServiceOriginMatchesWalk(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		faults []Fault
		deploy bool
	}{
		{"crashes overlapping, some instances each", []Fault{
			{Kind: FaultCrash, Target: "api", Share: 0.3, Start: 100 * ms, Duration: 300 * ms, Every: 700 * ms, Params: CrashFault{StartupDelay: 400 * ms}},
			{Kind: FaultCrash, Target: "api", Share: 0.5, Start: 250 * ms, Duration: 200 * ms, Every: 900 * ms, Params: CrashFault{StartupDelay: 300 * ms}},
		}, false},
		// Begun together: the one on the higher instance (#6) wins over
		// the later begun on #3, and of the two on #6 the later begun,
		// until it ends first.
		{"faults beginning together", []Fault{
			{Kind: FaultErrors, Target: "api#6", Start: 200 * ms, Duration: 500 * ms, Every: time.Second, Params: ErrorsFault{Probability: 0.5}},
			{Kind: FaultLatency, Target: "api#3", Start: 200 * ms, Duration: 700 * ms, Every: time.Second, Params: LatencyFault{Add: mustDist("5ms")}},
			{Kind: FaultErrors, Target: "api#6", Start: 200 * ms, Duration: 300 * ms, Every: time.Second, Params: ErrorsFault{Probability: 0.2}},
			{Kind: FaultCrash, Target: "api", Share: 0.2, Start: 650 * ms, Duration: 100 * ms, Every: time.Second},
		}, false},
		{"crash then deploy", []Fault{
			{Kind: FaultCrash, Target: "api", Share: 0.5, Start: 100 * ms, Duration: 100 * ms},
			{Kind: FaultDeploy, Target: "api", Start: time.Second},
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := wide(8, 2000, "exp(5ms)", 3*time.Second)
			sp.Faults = tt.faults
			s, err := New(sp, 1)
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			for s.Step() {
				for _, c := range []Cause{CauseNoInstance, CauseBreakerOpen} {
					if got, want := s.serviceOrigin(0, c, 0), s.walkOrigin(0, c); got != want {
						t.Fatalf("at %v: serviceOrigin %+v, the walk %+v", s.Now(), got, want)
					}
				}
				got := s.serviceOrigin(0, CauseNoInstance, 0)
				if got.fault > 0 {
					checked++
				}
			}
			if checked == 0 {
				t.Fatal("no event saw a fault: the case checks nothing")
			}
		})
	}
}
