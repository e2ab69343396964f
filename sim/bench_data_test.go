package sim

import (
	"testing"
	"time"

	"github.com/faultline/faultline/sim/dist"
)

func mustParse(s string) dist.Dist {
	d, err := dist.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// pipeline is a producer and a consumer group around a replicated topic:
// rate records a second are published with acks=all to 6 partitions of
// 3 replicas, and 6 consumers process them.
func pipeline(d time.Duration, rate float64) *Spec {
	return &Spec{Name: "pipeline", Duration: d,
		Clients: []Client{{Name: "load", Target: "api", Rate: rate}},
		Services: []Service{
			{Name: "api", Instances: 1, Workers: 1000, Queue: Unbounded, ServiceTime: mustParse("exp(10us)"),
				Publishes: []Publish{{Topic: "t", Key: KeyRequest, Acks: AcksAll, Probability: 1}}},
			{Name: "worker", Instances: 6, Workers: 4, Queue: Unbounded, ServiceTime: mustParse("exp(50us)"),
				Consumes: []Consume{{Topic: "t", Group: "g", Batch: 500, MaxAttempts: 1}}},
		},
		Brokers: []Broker{{Name: "kafka", Nodes: 3, ReplicationDelay: mustParse("exp(1ms)"),
			ReplicaLagMax: 30 * time.Second, SessionTimeout: 45 * time.Second, MaxPollInterval: 300 * time.Second,
			Rebalance: 3 * time.Second,
			Topics:    []Topic{{Name: "t", Partitions: 6, ReplicationFactor: 3, MinInsync: 2, Retention: 168 * time.Hour}}}},
	}
}

// quorum is a service reading and writing a store of N=3, W=R=2.
func quorum(d time.Duration, rate float64) *Spec {
	c := func(op Op) Call { return Call{To: "db", Op: op, Key: KeyRandom, Probability: 1, Fanout: 1} }
	return &Spec{Name: "quorum", Duration: d,
		Clients: []Client{{Name: "load", Target: "app", Rate: rate}},
		Services: []Service{{Name: "app", Instances: 1, Workers: 1000, Queue: Unbounded, ServiceTime: mustParse("exp(10us)"),
			Calls: []Call{c(OpRead), c(OpWrite)}}},
		Stores: []Store{{Name: "db", Replicas: 3, WriteQuorum: 2, ReadQuorum: 2,
			WriteDelay: mustParse("exp(1ms)"), AckDelay: mustParse("exp(1ms)"), ReadDelay: mustParse("exp(1ms)"),
			ResponseDelay: mustParse("exp(1ms)"), Keys: 10000, ReadRepair: true, HintedHandoff: true,
			HintWindow: 3 * time.Hour, Timeout: 2 * time.Second}},
	}
}

// BenchmarkPipeline measures records per second of wall time through a
// replicated topic and a consumer group. One op is one record.
func BenchmarkPipeline(b *testing.B) {
	const rate = 10000
	res, s := runBench(b, pipeline(benchSpan(b, rate), rate))
	b.ReportMetric(float64(res.Groups[0].Consumed)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(s.Processed())/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkQuorum measures store operations per second of wall time: each
// request reads then writes a key of an N=3, R=W=2 store. One op is one
// request.
func BenchmarkQuorum(b *testing.B) {
	const rate = 10000
	res, s := runBench(b, quorum(benchSpan(b, rate), rate))
	st := res.Stores[0]
	b.ReportMetric(float64(st.Reads+st.Writes)/b.Elapsed().Seconds(), "ops/s")
	b.ReportMetric(float64(s.Processed())/b.Elapsed().Seconds(), "events/s")
}

// TestDataSteadyStateAllocs: once warmed up, the broker, the consumer
// group and the store allocate nothing per event: their logs are rings,
// their messages and operations come from pools.
func TestDataSteadyStateAllocs(t *testing.T) {
	for _, spec := range []*Spec{pipeline(time.Hour, 5000), quorum(time.Hour, 5000)} {
		steadyAllocs(t, spec, 10*time.Second)
	}
}

// benchSpan is how much virtual time makes about b.N ops at rate a second.
func benchSpan(b *testing.B, rate float64) time.Duration {
	return max(time.Millisecond, time.Duration(float64(b.N)/rate*1e9))
}

// runBench times one run of spec.
func runBench(b *testing.B, spec *Spec) (*Result, *Sim) {
	s, err := New(spec, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	res := s.Run()
	b.StopTimer()
	return res, s
}

// TestDataWindowAllocs: closing a data component's window allocates its
// figures and nothing else when nothing failed in it: the event log's
// account of its health is kept as those figures, and formatted only when
// a change is logged (account.text). The store of quorum closes a window
// every 10 ms for 2 s: 200 allocations. The defect: every window
// formatted its account with fmt.Sprintf as it closed, whether or not a
// change was logged, and made its component's name again (600).
func TestDataWindowAllocs(t *testing.T) {
	spec := quorum(time.Hour, 2000)
	spec.Window = 10 * time.Millisecond
	s, err := New(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	s.RunUntil(5 * time.Second)
	now := s.Now()
	allocs := testing.AllocsPerRun(1, func() {
		now += 2 * time.Second
		s.RunUntil(now)
	})
	res := s.Result()
	windows, failed := 0, 0
	for _, w := range res.Stores[0].Series {
		if w.Start >= now-2*time.Second && w.End <= now {
			windows++
			if w.Health != Healthy {
				failed++
			}
		}
	}
	if failed > 0 || windows < 190 {
		t.Fatalf("%d windows closed, %d of them unhealthy: want about 200 healthy ones", windows, failed)
	}
	// A few more for the engine's other needs (a blame of a rare
	// failure), far from two or more a window.
	if allocs > float64(windows)+10 {
		t.Errorf("%.0f allocations over %d windows of the store: want one each, its figures", allocs, windows)
	}
	t.Logf("%.0f allocations over %d windows of the store", allocs, windows)
}
