package sim_test

import (
	"fmt"
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

// TestProjectorConcurrency: the projector is a consumer group whose
// members share the topic's partitions (Spring Kafka's concurrency), so
// its lag drops with members up to the partition count and no further.
// 1200 records a second on 4 partitions; a member applies 500 a second
// (2 ms each): one member falls 700 a second behind, two 200, four keep
// up, and eight are four busy members and four idle ones. The members are
// consumers of one process: a pause of the view holds all four up, and
// they catch up after it.
func TestProjectorConcurrency(t *testing.T) {
	const pause = `
[[fault]]
kind = "pause"
target = "history"
start = "5s"
duration = "3s"
`
	tests := []struct {
		concurrency int
		fault       string
		// the lag at the end, in records: within [lo, hi]
		lo, hi int64
	}{
		{1, "", 12_000, 16_000},
		{2, "", 3_000, 5_000},
		{4, "", 0, 200},
		{8, "", 0, 200},
		{4, pause, 0, 200},
	}
	for _, tc := range tests {
		name := fmt.Sprintf("concurrency %d", tc.concurrency)
		if tc.fault != "" {
			name += ", paused 3 s"
		}
		t.Run(name, func(t *testing.T) {
			res := runTOML(t, fmt.Sprintf(`
[scenario]
name = "projector"
duration = "20s"
seed = 1

[[client]]
name = "writers"
target = "orders"
rate = 1200
arrival = "constant"
keys = 4000

[[service]]
name = "orders"
workers = 64
service_time = "1ms"

  [[service.publish]]
  topic = "events"
  key = "request"

[[broker]]
name = "kafka"

  [[broker.topic]]
  name = "events"
  partitions = 4

[[view]]
name = "history"
topic = "events"
apply_time = "2ms"
keys = 4000
concurrency = %d
%s`, tc.concurrency, tc.fault))
			v := res.Views[0]
			t.Logf("lag %d records, max %.2f s", v.LagRecords, v.MaxLagS)
			if v.LagRecords < tc.lo || v.LagRecords > tc.hi {
				t.Errorf("lag %d records (%.1f s); want %d .. %d", v.LagRecords, v.LagS, tc.lo, tc.hi)
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
