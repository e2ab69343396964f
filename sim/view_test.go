package sim_test

import (
	"testing"

	"github.com/faultline/faultline/sim"
)

// TestViewReadRandomKey: a view read with key = "random" reads a key drawn
// from the view's keyspace, not the request's key. The writers write one
// key only, which a random read of 1000 keys rarely hits.
func TestViewReadRandomKey(t *testing.T) {
	for _, kc := range []sim.KeyChoice{sim.KeyRequest, sim.KeyRandom} {
		t.Run(kc.String(), func(t *testing.T) {
			spec := pipeline(t, sim.AcksAll, sim.CommitAfter)
			spec.Services = spec.Services[:1]
			rd := call("orders-view")
			rd.Op, rd.Key = sim.OpRead, kc
			spec.Services = append(spec.Services, svc(t, "query", "1ms", rd))
			spec.Clients = []sim.Client{{Name: "writers", Target: "api", Rate: 500, Keys: 1}, {Name: "readers", Target: "query", Rate: 500, Keys: 1}}
			spec.Views = []sim.View{{Name: "orders-view", Topic: "orders", Batch: 100, ApplyTime: mustDist(t, "1ms"), Keys: 1000}}
			res, _ := run(t, spec)
			v := res.Views[0]
			if kc == sim.KeyRandom && v.MissShare > 0.01 || kc == sim.KeyRequest && v.MissShare < 0.1 {
				t.Errorf("key %s: miss share %.3f (%d of %d)", kc, v.MissShare, v.ReadYourWritesMisses, v.Reads)
			}
		})
	}
}
