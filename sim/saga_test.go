package sim_test

import (
	"testing"

	"github.com/faultline/faultline/sim"
)

// TestChoreographyStepOnlyByItsService: a choreographed step is done when
// the step's own service has processed its event. A view (or another
// service) that consumes the same topic must not complete the step for it:
// here a fast view on payment's topic used to mark every charge a success,
// so that payment's failures were never compensated.
func TestChoreographyStepOnlyByItsService(t *testing.T) {
	spec := sagaSpec(t, sim.Choreography, 0.2)
	spec.Views = []sim.View{{Name: "payments-view", Topic: "t-payment", Batch: 10, ApplyTime: mustDist(t, "10us"), Keys: 100}}
	audit := svc(t, "audit", "10us")
	audit.Consumes = []sim.Consume{{Topic: "t-payment", Group: "audit", Batch: 10, MaxAttempts: 1}}
	spec.Services = append(spec.Services, audit)
	res, _ := run(t, spec)
	sg := res.Sagas[0]
	if sg.Started < 1400 {
		t.Fatalf("started %d", sg.Started)
	}
	near(t, "compensated share", float64(sg.Compensated)/float64(sg.Started-sg.Running), 0.2, 0.03)
}
