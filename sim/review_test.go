package sim_test

import (
	"testing"
	"time"

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

// TestDataEdgeCases runs shapes at the edges of the data model: each must
// run to its end, conserve, and leak nothing.
func TestDataEdgeCases(t *testing.T) {
	cases := []struct {
		name string
		edit func(spec *sim.Spec)
	}{
		{"every broker node crashes for good", func(spec *sim.Spec) {
			spec.Faults = []sim.Fault{crash("kafka", 20*time.Second, 0)}
		}},
		{"every broker node crashes and returns", func(spec *sim.Spec) {
			spec.Faults = []sim.Fault{crash("kafka", 20*time.Second, 10*time.Second)}
		}},
		{"every broker node crashes, unclean election", func(spec *sim.Spec) {
			spec.Brokers[0].Topics[0].UncleanElection = true
			spec.Faults = []sim.Fault{crash("kafka#1", 10*time.Second, 30*time.Second), crash("kafka#2", 15*time.Second, 30*time.Second),
				crash("kafka#3", 20*time.Second, 5*time.Second)}
		}},
		{"leader_loss with RF=1", func(spec *sim.Spec) {
			spec.Brokers[0] = kafka(t, 1, 4, 1, 1)
			spec.Faults = []sim.Fault{{Kind: sim.FaultLeaderLoss, Target: "orders", Start: 20 * time.Second, Params: sim.LeaderLossFault{Partition: -1}}}
		}},
		{"consumes and publishes the same topic", func(spec *sim.Spec) {
			spec.Services[1].Publishes = []sim.Publish{{Topic: "orders", Key: sim.KeyNone, Acks: sim.AcksLeader, After: true, Probability: 0.5}}
		}},
		{"a view of a topic nobody produces to", func(spec *sim.Spec) {
			spec.Brokers[0].Topics = append(spec.Brokers[0].Topics, sim.Topic{Name: "quiet", Partitions: 2, ReplicationFactor: 3, MinInsync: 2, Retention: time.Hour})
			spec.Views = []sim.View{{Name: "quiet-view", Topic: "quiet", Batch: 10, ApplyTime: mustDist(t, "1ms"), Keys: 1}}
			rd := call("quiet-view")
			rd.Op = sim.OpRead
			spec.Services[0].Calls = []sim.Call{rd}
		}},
		{"a store with one key", func(spec *sim.Spec) {
			spec.Stores = []sim.Store{{Name: "db", Replicas: 3, WriteQuorum: 1, ReadQuorum: 1, WriteDelay: mustDist(t, "exp(1ms)"),
				AckDelay: mustDist(t, "exp(1ms)"), ReadDelay: mustDist(t, "exp(1ms)"), ResponseDelay: mustDist(t, "exp(1ms)"),
				Keys: 1, ReadRepair: true, HintedHandoff: true, HintWindow: time.Hour, AntiEntropy: time.Second, Timeout: time.Second}}
			wr, rd := call("db"), call("db")
			wr.Op, rd.Op = sim.OpWrite, sim.OpRead
			spec.Services[0].Calls = []sim.Call{wr, rd}
			spec.Faults = []sim.Fault{crash("db", 20*time.Second, 5*time.Second), {Kind: sim.FaultSkew, Target: "db#2", Start: 10 * time.Second, Params: sim.SkewFault{Offset: time.Second}}}
		}},
		{"a paused broker", func(spec *sim.Spec) {
			spec.Faults = []sim.Fault{{Kind: sim.FaultPause, Target: "kafka", Start: 20 * time.Second, Duration: 50 * time.Second}}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := pipeline(t, sim.AcksAll, sim.CommitAfter)
			c.edit(spec)
			run(t, spec)
		})
	}
}

// TestNewRejectsBadDataSpecs: sim.New reports a data spec it cannot run
// instead of panicking on it (the loader rejects these with positions; a
// Spec built in Go must not crash the program either).
func TestNewRejectsBadDataSpecs(t *testing.T) {
	cases := []struct {
		name string
		edit func(spec *sim.Spec)
	}{
		{"a topic with no partition", func(spec *sim.Spec) { spec.Brokers[0].Topics[0].Partitions = 0 }},
		{"a broker with no node", func(spec *sim.Spec) { spec.Brokers[0].Nodes = 0 }},
		{"a publish to an unknown topic", func(spec *sim.Spec) { spec.Services[0].Publishes[0].Topic = "nope" }},
		{"a consume of an unknown topic", func(spec *sim.Spec) { spec.Services[1].Consumes[0].Topic = "nope" }},
		{"an unknown dead-letter topic", func(spec *sim.Spec) { spec.Services[1].Consumes[0].DeadLetter = "nope" }},
		{"a view of an unknown topic", func(spec *sim.Spec) {
			spec.Views = []sim.View{{Name: "v", Topic: "nope", Batch: 1, ApplyTime: mustDist(t, "1ms"), Keys: 1}}
		}},
		{"a saga of an unknown service", func(spec *sim.Spec) {
			spec.Sagas = []sim.Saga{{Name: "s", Start: "api", Steps: []sim.SagaStep{{Service: "nope", Timeout: time.Second}}}}
		}},
		{"a saga with no step", func(spec *sim.Spec) { spec.Sagas = []sim.Saga{{Name: "s", Start: "api"}} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := pipeline(t, sim.AcksAll, sim.CommitAfter)
			c.edit(spec)
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("panic: %v", p)
				}
			}()
			s, err := sim.New(spec, 1)
			if err == nil {
				s.Run()
				t.Fatal("no error")
			}
		})
	}
}

// TestPausedBrokerAnswersNothing: a frozen broker takes no write and
// serves no read until it thaws. Its producers wait (here, past their
// timeout) and its consumers get nothing new; afterwards all resumes.
func TestPausedBrokerAnswersNothing(t *testing.T) {
	spec := pipeline(t, sim.AcksLeader, sim.CommitAfter,
		sim.Fault{Kind: sim.FaultPause, Target: "kafka", Start: 20 * time.Second, Duration: 10 * time.Second})
	spec.Brokers[0].SessionTimeout = time.Minute
	res, _ := run(t, spec)
	if res.Clients[0].Error+res.Clients[0].Timeout == 0 {
		t.Errorf("no publish failed while the broker was frozen for 10 s (timeout 5 s): %+v", res.Clients[0])
	}
	g := res.Groups[0]
	var during uint64
	for _, w := range g.Series {
		if w.Start >= 21*time.Second && w.Start < 29*time.Second {
			during += w.Consumed
		}
	}
	if during > 0 {
		t.Errorf("%d records consumed from a frozen broker", during)
	}
	if g.Lagging > 200 {
		t.Errorf("%d records still lagging at the end", g.Lagging)
	}
}

// TestAtMostOnceRebalanceOfLiveMembers: with commit = "before" a crash
// loses what its member committed but had not processed. A rebalance that
// a restart of an idle member causes must not lose the batches the live
// members hold: a Kafka consumer finishes its batch before it rejoins.
func TestAtMostOnceRebalanceOfLiveMembers(t *testing.T) {
	// One partition: worker#1 owns it, worker#2 is idle. A freeze builds a
	// backlog so that worker#1 holds full batches; worker#2 crashes and
	// restarts within the session timeout, which rebalances the group.
	spec := pipeline(t, sim.AcksAll, sim.CommitBefore,
		sim.Fault{Kind: sim.FaultPause, Target: "worker#1", Start: 10 * time.Second, Duration: 3 * time.Second},
		crash("worker#2", 14*time.Second, 2*time.Second))
	spec.Brokers[0] = kafka(t, 3, 1, 3, 2)
	res, _ := run(t, spec)
	g := res.Groups[0]
	if g.Rebalances == 0 {
		t.Fatal("no rebalance")
	}
	if g.Lost != 0 {
		t.Errorf("%d records lost, though no member that held records crashed", g.Lost)
	}
}

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
