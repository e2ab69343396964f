package sim_test

import (
	"testing"
	"time"

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

// TestViewBlastRadius: a view is a business flow, counted in a fault's
// blast radius by its reads during the fault, each weighing its weight in
// client requests. Slowing the projector tenfold (its apply_time) makes
// the view fall behind while every request is still answered: 100 reads/s
// beside 100 writes/s and 100 reads/s from the clients, the view the only
// flow hit: 1/3. The old engine counted client flows only: 0 %.
func TestViewBlastRadius(t *testing.T) {
	for _, tc := range []struct {
		name   string
		weight float64
		want   float64
	}{
		{"default weight: a read weighs as a request", 0, 1.0 / 3},
		{"weight 4", 4, 4.0 / 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := pipeline(t, sim.AcksAll, sim.CommitAfter)
			spec.Services = spec.Services[:1]
			rd := call("orders-view")
			rd.Op, rd.Key = sim.OpRead, sim.KeyRandom
			spec.Services = append(spec.Services, svc(t, "query", "1ms", rd))
			spec.Clients = []sim.Client{open(100, "api"), open(100, "query")}
			spec.Clients[1].Name = "readers"
			spec.Views = []sim.View{{Name: "orders-view", Topic: "orders", Batch: 10, ApplyTime: mustDist(t, "5ms"), Keys: 1000, Weight: tc.weight}}
			spec.Faults = []sim.Fault{{Kind: sim.FaultSlowdown, Target: "orders-view", Start: 20 * time.Second, Duration: 20 * time.Second,
				Params: sim.SlowdownFault{Factor: 10}}}
			res, _ := run(t, spec)
			cr := res.Cascades[0]
			near(t, "blast radius", cr.BlastRadius, tc.want, 0.02)
			if len(cr.FlowsHit) != 1 || cr.FlowsHit[0] != "view orders-view" {
				t.Errorf("flows hit %q, want the view only", cr.FlowsHit)
			}
		})
	}
}
