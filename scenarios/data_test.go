package scenarios

import (
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/faultline/faultline/sim"
)

// The tests of this file load brokers, topics, publishes and consumes,
// stores, sagas, views and the faults on them, and compare the whole Spec
// with the expected one.

// withBroker is minScenario, minClient and minService with a broker of one
// topic; a test appends tables.
const withBroker = minScenario + minClient + minService + `
[[broker]]
name = "kafka"

  [[broker.topic]]
  name = "orders"
`

// defaultBroker is the broker of withBroker, with every default.
func defaultBroker(t *testing.T) sim.Broker {
	return sim.Broker{Name: "kafka", Nodes: 3, ReplicationDelay: mustDist(t, "1ms"), ReplicaLagMax: 30 * time.Second,
		SessionTimeout: 45 * time.Second, MaxPollInterval: 300 * time.Second, Rebalance: 3 * time.Second, RetentionCheck: 5 * time.Minute,
		AutoLeaderRebalance: true, LeaderImbalanceCheck: 300 * time.Second, LeaderImbalancePercent: 10,
		Topics: []sim.Topic{{Name: "orders", Partitions: 1, ReplicationFactor: 1, MinInsync: 1, Retention: 168 * time.Hour, SegmentTime: 168 * time.Hour}}}
}

func defaultStore(t *testing.T, name string) sim.Store {
	d := mustDist(t, "exp(1ms)")
	return sim.Store{Name: name, Replicas: 3, WriteQuorum: 2, ReadQuorum: 2, WriteDelay: d, AckDelay: d, ReadDelay: d, ResponseDelay: d,
		Keys: 1000, ReadRepair: true, HintedHandoff: true, HintWindow: 3 * time.Hour, Timeout: 2 * time.Second}
}

func TestLoadData(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want func(t *testing.T, s *sim.Spec) // edits minSpec() into the expected Spec
	}{
		{"broker and topic defaults", withBroker, func(t *testing.T, s *sim.Spec) {
			s.Brokers = []sim.Broker{defaultBroker(t)}
		}},
		{"broker and topic keys", minScenario + minClient + minService + `
[[broker]]
name = "kafka"
nodes = 5
replication_delay = "exp(2ms)"
replica_lag_max = "10s"
session_timeout = "10s"
max_poll_interval = "1m"
rebalance = "0s"
auto_leader_rebalance = false
leader_imbalance_check_interval = "1m"
leader_imbalance_per_broker_percentage = 25

  [[broker.topic]]
  name = "orders"
  partitions = 12
  replication_factor = 5
  min_insync_replicas = 5
  retention = "1h"
  unclean_leader_election = true
`, func(t *testing.T, s *sim.Spec) {
			s.Brokers = []sim.Broker{{Name: "kafka", Nodes: 5, ReplicationDelay: mustDist(t, "exp(2ms)"), ReplicaLagMax: 10 * time.Second,
				SessionTimeout: 10 * time.Second, MaxPollInterval: time.Minute,
				Topics: []sim.Topic{{Name: "orders", Partitions: 12, ReplicationFactor: 5, MinInsync: 5, Retention: time.Hour, SegmentTime: 168 * time.Hour, UncleanElection: true}}, RetentionCheck: 5 * time.Minute,
				LeaderImbalanceCheck: time.Minute, LeaderImbalancePercent: 25}}
		}},
		{"publish and consume defaults", withBroker + `
[[service]]
name = "p"
publish = [{ topic = "orders" }]
consume = [{ topic = "orders" }]
`, func(t *testing.T, s *sim.Spec) {
			s.Brokers = []sim.Broker{defaultBroker(t)}
			s.Services = append(s.Services, sim.Service{Name: "p", Instances: 1, Workers: 1, Queue: sim.Unbounded,
				Publishes: []sim.Publish{{Topic: "orders", Key: sim.KeyNone, Acks: sim.AcksAll, Probability: 1, Delivery: sim.KafkaDelivery()}},
				Consumes:  []sim.Consume{{Topic: "orders", Group: "p", Batch: 500, Commit: sim.CommitAfter, AutoCommit: 5 * time.Second, MaxAttempts: 10}},
			})
		}},
		{"publish and consume keys", withBroker + `
  [[broker.topic]]
  name = "dlq"

[[service]]
name = "p"

  [[service.publish]]
  topic = "orders"
  key = "request"
  acks = 1
  timeout = "2s"
  retries = 3
  retry_backoff = "50ms"
  retry_backoff_max = "2s"
  request_timeout = "5s"
  delivery_timeout = "20s"

  [[service.publish]]
  topic = "orders"
  key = "random"
  acks = "0"
  when = "after"
  probability = 0.25

  [[service.publish]]
  topic = "dlq"
  acks = "ALL"

  [[service.consume]]
  topic = "orders"
  group = "g"
  batch = 1
  commit = "auto"
  auto_commit_interval = "1s"
  max_attempts = 1
  dead_letter = "dlq"
  static_membership = true

  [[service.consume]]
  topic = "dlq"
  group = ""
  commit = "before"
`, func(t *testing.T, s *sim.Spec) {
			s.Brokers = []sim.Broker{defaultBroker(t)}
			s.Brokers[0].Topics = append(s.Brokers[0].Topics, sim.Topic{Name: "dlq", Partitions: 1, ReplicationFactor: 1, MinInsync: 1, Retention: 168 * time.Hour, SegmentTime: 168 * time.Hour})
			s.Services = append(s.Services, sim.Service{Name: "p", Instances: 1, Workers: 1, Queue: sim.Unbounded,
				Publishes: []sim.Publish{
					{Topic: "orders", Key: sim.KeyRequest, Acks: sim.AcksLeader, Probability: 1, Timeout: 2 * time.Second,
						Delivery: sim.Delivery{Retries: 3, RetryBackoff: 50 * time.Millisecond, RetryBackoffMax: 2 * time.Second, RequestTimeout: 5 * time.Second, DeliveryTimeout: 20 * time.Second}},
					{Topic: "orders", Key: sim.KeyRandom, Acks: sim.AcksNone, After: true, Probability: 0.25, Delivery: sim.KafkaDelivery()},
					{Topic: "dlq", Key: sim.KeyNone, Acks: sim.AcksAll, Probability: 1, Delivery: sim.KafkaDelivery()},
				},
				Consumes: []sim.Consume{
					{Topic: "orders", Group: "g", Batch: 1, Commit: sim.CommitAuto, AutoCommit: time.Second, MaxAttempts: 1, DeadLetter: "dlq", StaticMembership: true},
					{Topic: "dlq", Group: "p", Batch: 500, Commit: sim.CommitBefore, AutoCommit: 5 * time.Second, MaxAttempts: 10},
				},
			})
		}},
		{"two groups of one topic", withBroker + `
[[service]]
name = "a"
consume = [{ topic = "orders" }]
[[service]]
name = "b"
consume = [{ topic = "orders" }]
`, func(t *testing.T, s *sim.Spec) {
			s.Brokers = []sim.Broker{defaultBroker(t)}
			for _, n := range []string{"a", "b"} {
				s.Services = append(s.Services, sim.Service{Name: n, Instances: 1, Workers: 1, Queue: sim.Unbounded,
					Consumes: []sim.Consume{{Topic: "orders", Group: n, Batch: 500, AutoCommit: 5 * time.Second, MaxAttempts: 10}}})
			}
		}},
		{"store defaults and calls", minScenario + minClient + `
[[service]]
name = "s"
call = [{ to = "db", op = "write" }, { to = "db", op = "read", key = "request", timeout = "1s", retry = {} }]

[[store]]
name = "db"
`, func(t *testing.T, s *sim.Spec) {
			s.Stores = []sim.Store{defaultStore(t, "db")}
			s.Services[0].Calls = []sim.Call{
				{To: "db", Op: sim.OpWrite, Key: sim.KeyRandom, Probability: 1, Fanout: 1},
				{To: "db", Op: sim.OpRead, Key: sim.KeyRequest, Timeout: time.Second, Probability: 1, Fanout: 1, Retry: defaultRetry()},
			}
		}},
		{"store keys", minScenario + minClient + minService + `
[[store]]
name = "db"
replicas = 5
write_quorum = 1
read_quorum = 5
write_delay = "1ms"
ack_delay = "2ms"
read_delay = "3ms"
response_delay = "4ms"
keys = 1000000
key_distribution = "zipf(1.1)"
read_repair = false
hinted_handoff = true
hint_window = "1h"
anti_entropy = "30s"
timeout = "100ms"
`, func(t *testing.T, s *sim.Spec) {
			s.Stores = []sim.Store{{Name: "db", Replicas: 5, WriteQuorum: 1, ReadQuorum: 5, WriteDelay: mustDist(t, "1ms"), AckDelay: mustDist(t, "2ms"),
				ReadDelay: mustDist(t, "3ms"), ResponseDelay: mustDist(t, "4ms"), Keys: 1_000_000, Zipf: 1.1, HintedHandoff: true,
				HintWindow: time.Hour, AntiEntropy: 30 * time.Second, Timeout: 100 * time.Millisecond}}
		}},
		{"the default quorums are a majority", minScenario + minClient + minService + `
[[store]]
name = "one"
replicas = 1
key_distribution = " Uniform "
[[store]]
name = "five"
replicas = 5
hinted_handoff = false
`, func(t *testing.T, s *sim.Spec) {
			one, five := defaultStore(t, "one"), defaultStore(t, "five")
			one.Replicas, one.WriteQuorum, one.ReadQuorum = 1, 1, 1
			five.Replicas, five.WriteQuorum, five.ReadQuorum, five.HintedHandoff = 5, 3, 3, false
			s.Stores = []sim.Store{one, five}
		}},
		{"a view is read", withBroker + `
[[view]]
name = "v"
topic = "orders"

[[view]]
name = "w"
topic = "orders"
batch = 10
apply_time = "exp(2ms)"
keys = 5

[[service]]
name = "q"
call = [{ to = "v" }, { to = "w", op = "read", key = "request" }]
`, func(t *testing.T, s *sim.Spec) {
			s.Brokers = []sim.Broker{defaultBroker(t)}
			s.Views = []sim.View{
				{Name: "v", Topic: "orders", Batch: 100, ApplyTime: mustDist(t, "1ms"), Keys: 10_000},
				{Name: "w", Topic: "orders", Batch: 10, ApplyTime: mustDist(t, "exp(2ms)"), Keys: 5},
			}
			s.Services = append(s.Services, sim.Service{Name: "q", Instances: 1, Workers: 1, Queue: sim.Unbounded, Calls: []sim.Call{
				{To: "v", Op: sim.OpRead, Probability: 1, Fanout: 1},
				{To: "w", Op: sim.OpRead, Key: sim.KeyRequest, Probability: 1, Fanout: 1},
			}})
		}},
		{"an orchestrated saga", minScenario + minClient + minService + `
[[service]]
name = "pay"

[[saga]]
name = "order"
start = "s"

  [[saga.step]]
  service = "pay"
  compensation = "pay"
  records = 100
  semantic_lock = "wait"

  [[saga.step]]
  name = "confirm"
  service = "pay"
  timeout = "1s"
  pivot = true
  idempotent = true
`, func(t *testing.T, s *sim.Spec) {
			s.Services = append(s.Services, sim.Service{Name: "pay", Instances: 1, Workers: 1, Queue: sim.Unbounded})
			s.Sagas = []sim.Saga{{Name: "order", Mode: sim.Orchestration, Start: "s", Retry: sim.SagaRetry{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 100 * time.Second}, Steps: []sim.SagaStep{
				{Name: "pay", Service: "pay", Compensation: "pay", Timeout: 5 * time.Second, Records: 100, SemanticLock: sim.LockWait},
				{Name: "confirm", Service: "pay", Timeout: time.Second, Pivot: true, Idempotent: true},
			}}}
		}},
		{"a choreographed saga", withBroker + `
[[service]]
name = "pay"
consume = [{ topic = "orders", weight = 0.5 }]

[[saga]]
name = "order"
mode = "choreography"
start = "s"
broker = "kafka"
initial_interval = "250ms"
backoff_coefficient = 1.5
maximum_attempts = 5
weight = 2
step = [{ service = "pay", topic = "orders" }]
`, func(t *testing.T, s *sim.Spec) {
			s.Brokers = []sim.Broker{defaultBroker(t)}
			s.Services = append(s.Services, sim.Service{Name: "pay", Instances: 1, Workers: 1, Queue: sim.Unbounded,
				Consumes: []sim.Consume{{Topic: "orders", Group: "pay", Batch: 500, AutoCommit: 5 * time.Second, MaxAttempts: 10, Weight: 0.5}}})
			s.Sagas = []sim.Saga{{Name: "order", Mode: sim.Choreography, Start: "s", Broker: "kafka", Weight: 2, Retry: sim.SagaRetry{InitialInterval: 250 * time.Millisecond, BackoffCoefficient: 1.5, MaximumInterval: 25 * time.Second, MaximumAttempts: 5},
				Steps: []sim.SagaStep{{Name: "pay", Service: "pay", Timeout: 5 * time.Second, Topic: "orders"}}}}
		}},
		{"faults on data components", withBroker + `
  [[broker.topic]]
  name = "s"
  partitions = 4

[[store]]
name = "db"

[[view]]
name = "v"
topic = "orders"

[[fault]]
kind = "skew"
target = "db # 2"
offset = "-5s"
start = "1s"

[[fault]]
kind = "skew"
target = "db"
offset = "1h"
start = "1s"

[[fault]]
kind = "leader_loss"
target = "orders"
start = "1s"

[[fault]]
kind = "leader_loss"
target = "s"
partition = 3
start = "1s"

[[fault]]
kind = "crash"
target = "kafka#3"
start = "1s"

[[fault]]
kind = "slowdown"
target = "v"
factor = 2
start = "1s"

[[fault]]
kind = "latency"
target = "kafka"
add = "5ms"
start = "1s"

[[fault]]
kind = "partition"
between = [["kafka#1"], ["kafka # 2", "kafka#3"]]
start = "1s"

[[fault]]
kind = "partition"
between = [["db#1"], ["db#2", "db#3"]]
start = "1s"
one_way = true
`, func(t *testing.T, s *sim.Spec) {
			s.Brokers = []sim.Broker{defaultBroker(t)}
			s.Brokers[0].Topics = append(s.Brokers[0].Topics, sim.Topic{Name: "s", Partitions: 4, ReplicationFactor: 1, MinInsync: 1, Retention: 168 * time.Hour, SegmentTime: 168 * time.Hour})
			s.Stores = []sim.Store{defaultStore(t, "db")}
			s.Views = []sim.View{{Name: "v", Topic: "orders", Batch: 100, ApplyTime: mustDist(t, "1ms"), Keys: 10_000}}
			sec := time.Second
			s.Faults = []sim.Fault{
				{Kind: sim.FaultSkew, Target: "db#2", Start: sec, Chance: 1, Params: sim.SkewFault{Offset: -5 * sec}},
				{Kind: sim.FaultSkew, Target: "db", Start: sec, Chance: 1, Params: sim.SkewFault{Offset: time.Hour}},
				{Kind: sim.FaultLeaderLoss, Target: "orders", Start: sec, Chance: 1, Params: sim.LeaderLossFault{Partition: -1}},
				{Kind: sim.FaultLeaderLoss, Target: "s", Start: sec, Chance: 1, Params: sim.LeaderLossFault{Partition: 3}},
				{Kind: sim.FaultCrash, Target: "kafka#3", Start: sec, Chance: 1, Params: sim.CrashFault{}},
				{Kind: sim.FaultSlowdown, Target: "v", Start: sec, Chance: 1, Params: sim.SlowdownFault{Factor: 2}},
				{Kind: sim.FaultLatency, Target: "kafka", Start: sec, Chance: 1, Params: sim.LatencyFault{Add: mustDist(t, "5ms")}},
				{Kind: sim.FaultPartition, Start: sec, Chance: 1, Params: sim.PartitionFault{Sides: [2][]string{{"kafka#1"}, {"kafka#2", "kafka#3"}}}},
				{Kind: sim.FaultPartition, Start: sec, Chance: 1, Params: sim.PartitionFault{Sides: [2][]string{{"db#1"}, {"db#2", "db#3"}}, OneWay: true}},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustLoad(t, tt.src)
			want := minSpec()
			tt.want(t, want)
			withProbes(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// TestLoadDataExample loads testdata/data/shop.toml, which has a broker, a
// store, sagas and a view, and checks what each table became.
func TestLoadDataExample(t *testing.T) {
	data, err := os.ReadFile("testdata/data/shop.toml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load("shop.toml", data)
	if list, ok := err.(ErrorList); ok {
		t.Fatalf("Load:\n%s", list.Render(false))
	} else if err != nil {
		t.Fatal(err)
	}
	if got := len(s.Brokers[0].Topics) + len(s.Brokers[1].Topics); got != 4 {
		t.Errorf("%d topics, want 4", got)
	}
	if c := s.Services[0].Calls; c[0].Op != sim.OpWrite || c[0].Key != sim.KeyRequest || c[1].Op != sim.OpRead || c[1].To != "history" {
		t.Errorf("calls of orders = %+v, want a write to db and a read of history, by the request's key", c)
	}
	if p := s.Services[0].Publishes; len(p) != 2 || p[0].Acks != sim.AcksLeader || !p[1].After || p[1].Acks != sim.AcksNone {
		t.Errorf("publishes of orders = %+v", p)
	}
	if c := s.Services[1].Consumes[0]; c.Commit != sim.CommitAuto || c.DeadLetter != "orders-dlq" || c.Group != "payment" {
		t.Errorf("consume of payment = %+v", c)
	}
	if st := s.Stores[0]; st.Replicas != 5 || st.WriteQuorum != 1 || st.Zipf != 1.1 || st.ReadRepair || !st.HintedHandoff {
		t.Errorf("store = %+v", st)
	}
	if sg := s.Sagas[0]; sg.Mode != sim.Choreography || len(sg.Steps) != 2 || !sg.Steps[0].Pivot || sg.Steps[1].Name != "ship" {
		t.Errorf("saga = %+v", sg)
	}
	if sg := s.Sagas[1]; sg.Mode != sim.Orchestration || sg.Steps[0].Name != "shipping" || sg.Retry.InitialInterval != time.Second {
		t.Errorf("saga = %+v", sg)
	}
	if v := s.Views[0]; v.Topic != "orders" || v.Batch != 10 {
		t.Errorf("view = %+v", v)
	}
	wantFaults := []struct {
		kind      sim.FaultKind
		target    string
		partition int
	}{{sim.FaultSkew, "db#2", 0}, {sim.FaultLeaderLoss, "orders", 2}, {sim.FaultLeaderLoss, "payments", -1}, {sim.FaultCrash, "kafka#1", 0},
		{sim.FaultPartition, "", 0}, {sim.FaultPause, "history", 0}}
	for i, w := range wantFaults {
		f := s.Faults[i]
		var partition int
		if p, ok := f.Params.(sim.LeaderLossFault); ok {
			partition = p.Partition
		}
		if f.Kind != w.kind || f.Target != w.target || partition != w.partition {
			t.Errorf("fault %d = %v %q partition %d, want %v %q partition %d", i+1, f.Kind, f.Target, partition, w.kind, w.target, w.partition)
		}
	}
	if got := s.Faults[4].Params.(sim.PartitionFault).Sides; !reflect.DeepEqual(got, [2][]string{{"db#1", "db#2"}, {"db#3"}}) {
		t.Errorf("partition sides = %q, want the replicas as name#n", got)
	}
}
