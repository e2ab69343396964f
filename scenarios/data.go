package scenarios

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/internal/format"
	"github.com/faultline/faultline/internal/suggest"
	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/dist"
)

// This file reads the asynchronous and data half of an architecture:
// brokers and their topics, what services publish and consume, replicated
// stores, sagas and CQRS views. Their cross-references are checked in
// dataresolve.go once every component is known.

var (
	brokerKeys = []string{"name", "nodes", "replication_delay", "replica_lag_max", "session_timeout", "max_poll_interval", "rebalance", "retention_check_interval",
		"auto_leader_rebalance", "leader_imbalance_check_interval", "leader_imbalance_per_broker_percentage", "tick", "topic"}
	topicKeys    = []string{"name", "partitions", "replication_factor", "min_insync_replicas", "retention", "segment_time", "unclean_leader_election"}
	publishKeys  = []string{"topic", "key", "acks", "when", "probability", "timeout", "retries", "retry_backoff", "retry_backoff_max", "request_timeout", "delivery_timeout"}
	consumeKeys  = []string{"topic", "group", "batch", "commit", "auto_commit_interval", "max_attempts", "dead_letter", "static_membership", "poll_interval", "poll_initial_delay", "weight"}
	storeKeys    = []string{"name", "replicas", "write_quorum", "read_quorum", "write_delay", "ack_delay", "read_delay", "response_delay", "keys", "key_distribution", "read_repair", "hinted_handoff", "hint_window", "anti_entropy", "timeout"}
	sagaKeys     = []string{"name", "mode", "start", "broker", "initial_interval", "backoff_coefficient", "maximum_interval", "maximum_attempts", "log", "weight", "step"}
	sagaStepKeys = []string{"name", "service", "compensation", "timeout", "deadline", "pivot", "topic", "idempotent", "records", "semantic_lock"}
	viewKeys     = []string{"name", "topic", "batch", "apply_time", "keys", "read_time", "idempotent", "concurrency", "weight"}

	// The values of the enumerations.
	publishKeyChoices = []string{"none", "request", "random"}
	acksValues        = []string{"0", "1", "all"}
	whens             = []string{"request", "after"}
	commitModes       = []string{"after", "before", "auto"}                         // sim.CommitMode
	sagaModes         = []string{"orchestration", "choreography"}                   // sim.SagaMode
	sagaLogs          = []string{"durable", "memory"}                               // sim.SagaLog
	semanticLocks     = []string{"none", "fail", "wait"}                            // sim.SemanticLock
	keyDistributions  = []string{"uniform", "zipf"}                                 // "zipf" takes its exponent: "zipf(1.1)"
	publishKeyOf      = []sim.KeyChoice{sim.KeyNone, sim.KeyRequest, sim.KeyRandom} // by publishKeyChoices
)

// Limits of the data components. The engine allocates per node, replica,
// partition and key up front, so these bound the memory a scenario asks for.
const (
	maxNodes      = 100
	maxPartitions = 10_000
	maxBatch      = 100_000
	maxReplicas   = 15
	maxKeys       = 1_000_000
)

// Defaults of the data components, those of the libraries they follow.
const (
	defaultReplicaLagMax   = 30 * time.Second  // replica.lag.time.max.ms
	defaultSessionTimeout  = 45 * time.Second  // session.timeout.ms, Kafka >= 3.0
	defaultMaxPoll         = 300 * time.Second // max.poll.interval.ms
	defaultRebalance       = 3 * time.Second
	defaultRetention       = 168 * time.Hour    // log.retention.hours
	defaultSegmentTime     = 7 * 24 * time.Hour // segment.ms
	defaultRetentionCheck  = 5 * time.Minute    // log.retention.check.interval.ms
	defaultImbalanceCheck  = 300 * time.Second  // leader.imbalance.check.interval.seconds
	defaultImbalance       = 10                 // leader.imbalance.per.broker.percentage
	defaultBatch           = 500                // max.poll.records
	defaultAutoCommit      = 5 * time.Second    // auto.commit.interval.ms
	defaultMaxAttempts     = 10
	defaultHintWindow      = 3 * time.Hour // Cassandra's max_hint_window
	defaultStoreTimeout    = 2 * time.Second
	defaultStoreKeys       = 1000
	defaultSagaRetry       = time.Second
	defaultStepTimeout     = 5 * time.Second
	defaultViewBatch       = 100
	defaultViewKeys        = 10_000
	defaultStoreReplicas   = 3
	defaultTopicPartitions = 1
)

var (
	defaultReplicationDelay = mustParse("1ms")
	defaultWARSDelay        = mustParse("exp(1ms)")
	defaultApplyTime        = mustParse("1ms")
)

// mustParse parses a distribution written in this file.
func mustParse(s string) dist.Dist {
	d, err := dist.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// topicDef is a topic with a valid name, for the uniqueness check and for
// references to it.
type topicDef struct {
	name          string
	off           int
	broker, topic int  // indexes in spec.Brokers and its Topics
	partitionsOK  bool // its partitions count is valid
}

// topicRef is a key that names a topic: a publish's or a view's topic.
type topicRef struct {
	t    *table
	key  string
	name string
}

// consumeDef is a [[service.consume]], checked once topics are known.
type consumeDef struct {
	t        *table
	svc, idx int // the service in spec.Services, the consume in its Consumes
}

// sagaDef is a [[saga]], checked once every component is known.
type sagaDef struct {
	t     *table
	idx   int
	steps []*table
}

// dataDefs are what the builder keeps of the data components for
// resolveData and the faults.
type dataDefs struct {
	brokerOK  []bool // by broker: its nodes count is valid
	storeOK   []bool // by store: its replicas count is valid
	topicDefs []topicDef
	topics    map[string]topicDef // by name, once resolved
	topicRefs []topicRef
	consumes  []consumeDef
	sagas     []sagaDef
	sagaNames []nameDef
}

// data reads the tables of the data components.
func (b *builder) data(root *table) {
	for i, t := range root.tables("broker", "[[broker]]") {
		b.spec.Brokers = append(b.spec.Brokers, b.broker(i, t))
	}
	for i, t := range root.tables("store", "[[store]]") {
		b.spec.Stores = append(b.spec.Stores, b.store(i, t))
	}
	for i, t := range root.tables("view", "[[view]]") {
		b.spec.Views = append(b.spec.Views, b.view(i, t))
	}
	for i, t := range root.tables("saga", "[[saga]]") {
		b.spec.Sagas = append(b.spec.Sagas, b.saga(i, t))
	}
}

func (b *builder) broker(i int, t *table) sim.Broker {
	br := sim.Broker{Nodes: 3, ReplicationDelay: defaultReplicationDelay, ReplicaLagMax: defaultReplicaLagMax,
		SessionTimeout: defaultSessionTimeout, MaxPollInterval: defaultMaxPoll, Rebalance: defaultRebalance,
		RetentionCheck: defaultRetentionCheck, AutoLeaderRebalance: true, LeaderImbalanceCheck: defaultImbalanceCheck,
		LeaderImbalancePercent: defaultImbalance}
	br.Name = b.component(t, i, "[[broker]]", `name = "kafka"`, comp{kind: kindBroker, idx: i})
	t.known(brokerKeys...)
	nodesOK := true
	if n, ok := t.integer("nodes", 1, maxNodes); ok {
		br.Nodes = n
	} else if t.has("nodes") {
		nodesOK = false
	}
	b.brokerOK = append(b.brokerOK, nodesOK)
	if d, ok := t.dist("replication_delay"); ok {
		br.ReplicationDelay = d
	}
	if d, ok := t.positiveDuration("replica_lag_max"); ok {
		br.ReplicaLagMax = d
	}
	if d, ok := t.positiveDuration("session_timeout"); ok {
		br.SessionTimeout = d
	}
	if d, ok := t.positiveDuration("max_poll_interval"); ok {
		br.MaxPollInterval = d
	}
	if d, ok := t.nonNegative("rebalance"); ok {
		br.Rebalance = d
	}
	if d, ok := t.positiveDuration("retention_check_interval"); ok {
		br.RetentionCheck = d
	}
	if v, ok := t.boolean("auto_leader_rebalance"); ok {
		br.AutoLeaderRebalance = v
	}
	if d, ok := t.positiveDuration("leader_imbalance_check_interval"); ok {
		br.LeaderImbalanceCheck = d
	}
	if x, ok := t.number("leader_imbalance_per_broker_percentage", interval{Lo: 0, Hi: 100}, "10 moves leaders back once a node leads fewer than 90% of the partitions it prefers"); ok {
		br.LeaderImbalancePercent = x
	}
	if d, ok := t.positiveDuration("tick"); ok {
		br.Tick = d
	}
	for k, tt := range t.tables("topic", "[[broker.topic]]") {
		br.Topics = append(br.Topics, b.topic(i, k, tt, t.what, br.Nodes, nodesOK))
	}
	return br
}

// topic reads topic k of broker bi, which has nodes nodes (when nodesOK).
func (b *builder) topic(bi, k int, t *table, owner string, nodes int, nodesOK bool) sim.Topic {
	tp := sim.Topic{Partitions: defaultTopicPartitions, ReplicationFactor: 1, MinInsync: 1, Retention: defaultRetention, SegmentTime: defaultSegmentTime}
	t.what = fmt.Sprintf("[[broker.topic]] #%d of %s", k+1, owner)
	def := topicDef{broker: bi, topic: k, partitionsOK: true}
	if t.require("name", `name = "orders"`) {
		if n, ok := t.name("name"); ok {
			tp.Name = n
			t.what = fmt.Sprintf("[[broker.topic]] %q", n)
			def.name, def.off = n, b.ix.find(join(t.path, "name")).val
		}
	}
	t.known(topicKeys...)
	if n, ok := t.integer("partitions", 1, maxPartitions); ok {
		tp.Partitions = n
	} else if t.has("partitions") {
		def.partitionsOK = false
	}
	rfOK := true
	if n, ok := t.integer("replication_factor", 1, maxNodes); ok {
		if nodesOK && n > nodes {
			t.valErr("replication_factor", fmt.Sprintf("replication_factor (%d) must be at most the %d nodes of %s", n, nodes, owner),
				"each replica of a partition lives on a node of its own")
			rfOK = false
		} else {
			tp.ReplicationFactor = n
		}
	} else if t.has("replication_factor") {
		rfOK = false
	}
	if n, ok := t.integer("min_insync_replicas", 1, maxNodes); ok {
		if rfOK && n > tp.ReplicationFactor {
			t.valErr("min_insync_replicas", fmt.Sprintf("min_insync_replicas (%d) must be at most replication_factor (%d)", n, tp.ReplicationFactor),
				"an acks=all publish needs that many in-sync replicas: with fewer replicas, every one would fail with NotEnoughReplicas")
		} else {
			tp.MinInsync = n
		}
	}
	if d, ok := t.positiveDuration("retention"); ok {
		tp.Retention = d
	}
	if d, ok := t.positiveDuration("segment_time"); ok {
		tp.SegmentTime = d
	}
	if v, ok := t.boolean("unclean_leader_election"); ok {
		tp.UncleanElection = v
	}
	if def.name != "" {
		b.topicDefs = append(b.topicDefs, def)
	}
	return tp
}

// publish reads publish k of the service at index svc.
func (b *builder) publish(svc, k int, t *table, owner string) sim.Publish {
	p := sim.Publish{Key: sim.KeyNone, Acks: sim.AcksAll, Probability: 1, Delivery: sim.KafkaDelivery()}
	t.what = fmt.Sprintf("[[service.publish]] #%d of %s", k+1, owner)
	t.known(publishKeys...)
	if t.require("topic", `topic = "orders"`) {
		if s, ok := t.str("topic"); ok {
			p.Topic = s
			b.topicRefs = append(b.topicRefs, topicRef{t: t, key: "topic", name: s})
		}
	}
	if n, ok := t.keyChoice("key", publishKeyChoices); ok {
		p.Key = publishKeyOf[n]
	}
	if a, ok := t.acks("acks"); ok {
		p.Acks = a
	}
	if n, ok := t.enum("when", whens); ok {
		p.After = n == 1
	}
	if f, ok := t.fraction("probability", true); ok {
		p.Probability = f
	}
	if d, ok := t.positiveDuration("timeout"); ok {
		p.Timeout = d
	}
	if p.After && t.has("timeout") {
		t.keyErr("timeout", `timeout applies only to a publish with when = "request"`,
			`with when = "after" the request has answered already: nothing waits for the acknowledgement`)
	}
	d := &p.Delivery
	if n, ok := t.integer("retries", 0, math.MaxInt32); ok {
		d.Retries = n
	}
	if v, ok := t.nonNegative("retry_backoff"); ok {
		d.RetryBackoff = v
	}
	if v, ok := t.nonNegative("retry_backoff_max"); ok {
		d.RetryBackoffMax = v
	}
	if v, ok := t.positiveDuration("request_timeout"); ok {
		d.RequestTimeout = v
	}
	if v, ok := t.positiveDuration("delivery_timeout"); ok {
		d.DeliveryTimeout = v
	}
	if t.has("delivery_timeout") && d.DeliveryTimeout < d.RequestTimeout {
		// KafkaProducer.configureDeliveryTimeout refuses it too.
		t.valErr("delivery_timeout", fmt.Sprintf("delivery_timeout (%v) must be at least request_timeout (%v)", d.DeliveryTimeout, d.RequestTimeout),
			"the delivery timeout bounds the whole delivery, one request and its retries: raise it, or lower request_timeout")
	}
	return p
}

// keyChoice reads the key a publish or a store operation uses: like enum,
// but the message does not read as an unknown TOML key.
func (t *table) keyChoice(key string, values []string) (int, bool) {
	s, ok := t.str(key)
	if !ok {
		return 0, false
	}
	for i, v := range values {
		if strings.EqualFold(s, v) {
			return i, true
		}
	}
	t.valErr(key, fmt.Sprintf("%s must be %s, got %q", key, format.OrList(quoteAll(values)), s), enumHint(s, values))
	return 0, false
}

// acks reads Kafka's acks: 0, 1 or "all", as an integer or a string.
func (t *table) acks(key string) (sim.Acks, bool) {
	v, ok := t.m[key]
	if !ok {
		return 0, false
	}
	var s string
	switch x := v.(type) {
	case int64:
		s = strconv.FormatInt(x, 10)
	case string:
		s = strings.ToLower(strings.TrimSpace(x))
	default:
		t.typeErr(key, v, `0, 1 or "all"`, `write acks = "all", acks = 1 or acks = 0`)
		return 0, false
	}
	switch s {
	case "0":
		return sim.AcksNone, true
	case "1":
		return sim.AcksLeader, true
	case "all":
		return sim.AcksAll, true
	}
	hint := `acks = 0: no wait; acks = 1: the leader has it; acks = "all": every in-sync replica has it`
	if s == "-1" {
		hint = `-1 is Kafka's other spelling of "all": write acks = "all"`
	}
	t.valErr(key, fmt.Sprintf("%s must be 0, 1 or \"all\", got %v", key, v), hint)
	return 0, false
}

// consume reads consume k of the service at index svc, named name.
func (b *builder) consume(svc, k int, t *table, owner, name string) sim.Consume {
	c := sim.Consume{Group: name, Batch: defaultBatch, Commit: sim.CommitAfter, AutoCommit: defaultAutoCommit, MaxAttempts: defaultMaxAttempts}
	t.what = fmt.Sprintf("[[service.consume]] #%d of %s", k+1, owner)
	t.known(consumeKeys...)
	if t.require("topic", `topic = "orders"`) {
		if s, ok := t.str("topic"); ok {
			c.Topic = s
		}
	}
	if s, ok := t.str("group"); ok && s != "" {
		if namePattern.MatchString(s) {
			c.Group = s
		} else {
			t.valErr("group", fmt.Sprintf("invalid group %q", s), "a group is written like a name: a lowercase letter, then lowercase letters, digits, '_' or '-'")
		}
	}
	if n, ok := t.integer("batch", 1, maxBatch); ok {
		c.Batch = n
	}
	commitOK := false
	if n, ok := t.enum("commit", commitModes); ok {
		c.Commit, commitOK = sim.CommitMode(n), true
	}
	if d, ok := t.positiveDuration("auto_commit_interval"); ok {
		c.AutoCommit = d
	}
	if t.has("auto_commit_interval") && (commitOK || !t.has("commit")) && c.Commit != sim.CommitAuto {
		t.keyErr("auto_commit_interval", `auto_commit_interval applies only with commit = "auto"`,
			fmt.Sprintf("with commit = %q the consumer commits around each record it processes; set commit = \"auto\", or remove auto_commit_interval", c.Commit))
	}
	if n, ok := t.integer("max_attempts", 1, maxInt); ok {
		c.MaxAttempts = n
	}
	if s, ok := t.str("dead_letter"); ok {
		c.DeadLetter = s
	}
	if v, ok := t.boolean("static_membership"); ok {
		c.StaticMembership = v
	}
	if d, ok := t.positiveDuration("poll_interval"); ok {
		c.PollInterval = d
	}
	if d, ok := t.nonNegative("poll_initial_delay"); ok {
		c.PollInitialDelay = d
	}
	if t.has("poll_initial_delay") && !t.has("poll_interval") {
		t.keyErr("poll_initial_delay", "poll_initial_delay applies only with a poll_interval",
			"without poll_interval the consumer polls again as soon as a batch is done; set poll_interval, or remove poll_initial_delay")
	}
	c.Weight = flowWeight(t)
	b.consumes = append(b.consumes, consumeDef{t: t, svc: svc, idx: k})
	return c
}

func (b *builder) store(i int, t *table) sim.Store {
	st := sim.Store{Replicas: defaultStoreReplicas, WriteDelay: defaultWARSDelay, AckDelay: defaultWARSDelay, ReadDelay: defaultWARSDelay,
		ResponseDelay: defaultWARSDelay, Keys: defaultStoreKeys, ReadRepair: true, HintedHandoff: true, HintWindow: defaultHintWindow,
		Timeout: defaultStoreTimeout}
	st.Name = b.component(t, i, "[[store]]", `name = "db"`, comp{kind: kindStore, idx: i})
	t.known(storeKeys...)
	replicasOK := true
	if n, ok := t.integer("replicas", 1, maxReplicas); ok {
		st.Replicas = n
	} else if t.has("replicas") {
		replicasOK = false
	}
	b.storeOK = append(b.storeOK, replicasOK)
	// A majority by default: 2 of 3, Cassandra's QUORUM.
	st.WriteQuorum, st.ReadQuorum = st.Replicas/2+1, st.Replicas/2+1
	quorum := func(key, letter, what string, q *int) {
		n, ok := t.integer(key, 1, maxReplicas)
		switch {
		case !ok:
		case replicasOK && n > st.Replicas:
			t.valErr(key, fmt.Sprintf("%s (%s = %d) must be at most replicas (N = %d)", key, letter, n, st.Replicas),
				fmt.Sprintf("%s when %s replicas have answered; there are only %d", what, letter, st.Replicas))
		default:
			*q = n
		}
	}
	quorum("write_quorum", "W", "a write commits", &st.WriteQuorum)
	quorum("read_quorum", "R", "a read returns", &st.ReadQuorum)
	for _, d := range []struct {
		key string
		to  *dist.Dist
	}{{"write_delay", &st.WriteDelay}, {"ack_delay", &st.AckDelay}, {"read_delay", &st.ReadDelay}, {"response_delay", &st.ResponseDelay}} {
		if v, ok := t.dist(d.key); ok {
			*d.to = v
		}
	}
	if n, ok := t.integer("keys", 1, maxKeys); ok {
		st.Keys = n
	}
	if z, ok := t.keyDistribution("key_distribution"); ok {
		st.Zipf = z
	}
	if v, ok := t.boolean("read_repair"); ok {
		st.ReadRepair = v
	}
	handoffOK := true
	if v, ok := t.boolean("hinted_handoff"); ok {
		st.HintedHandoff = v
	} else if t.has("hinted_handoff") {
		handoffOK = false
	}
	if d, ok := t.positiveDuration("hint_window"); ok {
		st.HintWindow = d
	}
	if t.has("hint_window") && handoffOK && !st.HintedHandoff {
		t.keyErr("hint_window", "hint_window applies only with hinted_handoff = true",
			"without hinted handoff no hints are kept; remove hint_window, or set hinted_handoff = true")
	}
	if d, ok := t.nonNegative("anti_entropy"); ok {
		st.AntiEntropy = d
	}
	if d, ok := t.positiveDuration("timeout"); ok {
		st.Timeout = d
	}
	return st
}

var zipfPattern = regexp.MustCompile(`^zipf\s*\(([^()]*)\)$`)

// keyDistribution reads "uniform" (0) or "zipf(s)" (s > 0, the exponent).
func (t *table) keyDistribution(key string) (float64, bool) {
	s, ok := t.str(key)
	if !ok {
		return 0, false
	}
	w := strings.ToLower(strings.TrimSpace(s))
	if w == "uniform" {
		return 0, true
	}
	const want = `write "uniform", or "zipf(s)" with an exponent s > 0 (the larger, the more skewed), such as "zipf(1.1)"`
	m := zipfPattern.FindStringSubmatch(w)
	if m == nil {
		hint := want
		if sug := suggest.Closest(w, keyDistributions); sug == "zipf" {
			hint = `zipf takes its exponent: "zipf(1.1)"`
		} else if sug != "" {
			hint = fmt.Sprintf("did you mean %q?", sug)
		}
		t.valErr(key, fmt.Sprintf("unknown %s %q", key, s), hint)
		return 0, false
	}
	z, err := strconv.ParseFloat(strings.TrimSpace(m[1]), 64)
	if err != nil || !(z > 0) || math.IsInf(z, 0) {
		t.valErr(key, fmt.Sprintf("invalid %s %q: the exponent must be a number > 0", key, s), want)
		return 0, false
	}
	return z, true
}

func (b *builder) view(i int, t *table) sim.View {
	v := sim.View{Batch: defaultViewBatch, ApplyTime: defaultApplyTime, Keys: defaultViewKeys}
	v.Name = b.component(t, i, "[[view]]", `name = "order-view"`, comp{kind: kindView, idx: i})
	t.known(viewKeys...)
	if t.require("topic", `topic = "orders"`) {
		if s, ok := t.str("topic"); ok {
			v.Topic = s
			b.topicRefs = append(b.topicRefs, topicRef{t: t, key: "topic", name: s})
		}
	}
	if n, ok := t.integer("batch", 1, maxBatch); ok {
		v.Batch = n
	}
	if d, ok := t.dist("apply_time"); ok {
		v.ApplyTime = d
	}
	if n, ok := t.integer("keys", 1, maxKeys); ok {
		v.Keys = n
	}
	if d, ok := t.dist("read_time"); ok {
		v.ReadTime = d
	}
	if b, ok := t.boolean("idempotent"); ok {
		v.NonIdempotent = !b
	}
	// Spring Kafka's concurrency: the listener container's consumers
	// (ConcurrentMessageListenerContainer), 1 by default; more than the
	// topic's partitions leaves the rest idle, which is allowed. Left
	// out, it stays 0, which the engine runs as 1.
	if n, ok := t.integer("concurrency", 1, maxPartitions); ok {
		v.Concurrency = n
	}
	v.Weight = flowWeight(t)
	return v
}

// flowWeight reads the weight of a business flow (a saga, a consumer
// group, a view) in the blast radius: what one of its units weighs in
// client requests; 0 when unset, which the engine takes for its default, 1.
func flowWeight(t *table) float64 {
	f, _ := t.number("weight", interval{Lo: 0, Hi: maxWeight, LoOpen: true}, "1 weighs one saga, record or read as one client request")
	return f
}

func (b *builder) saga(i int, t *table) sim.Saga {
	sg := sim.Saga{Mode: sim.Orchestration, Retry: sim.SagaRetry{InitialInterval: defaultSagaRetry, BackoffCoefficient: 2}}
	t.what = fmt.Sprintf("[[saga]] #%d", i+1)
	if t.require("name", `name = "order"`) {
		if n, ok := t.name("name"); ok {
			sg.Name = n
			t.what = fmt.Sprintf("[[saga]] %q", n)
			b.sagaNames = append(b.sagaNames, nameDef{name: n, header: "[[saga]]", off: b.ix.find(join(t.path, "name")).val})
		}
	}
	t.known(sagaKeys...)
	modeOK := !t.has("mode")
	if n, ok := t.enum("mode", sagaModes); ok {
		sg.Mode, modeOK = sim.SagaMode(n), true
	}
	if t.require("start", `start = "orders", the service whose successful requests start the saga`) {
		if s, ok := t.str("start"); ok {
			sg.Start = s
		}
	}
	switch {
	case !modeOK:
	case sg.Mode == sim.Choreography:
		if t.require("broker", `broker = "kafka", the broker that carries the steps' events`) {
			if s, ok := t.str("broker"); ok {
				sg.Broker = s
			}
		}
	case t.has("broker"):
		t.keyErr("broker", `broker applies only to a saga with mode = "choreography"`,
			`in an orchestration the coordinator (start) sends each step its command and waits for the reply; remove broker, or set mode = "choreography"`)
	}
	if d, ok := t.positiveDuration("initial_interval"); ok {
		sg.Retry.InitialInterval = d
	}
	if f, ok := t.number("backoff_coefficient", interval{Lo: 1, Hi: math.Inf(1)}, "1 keeps the interval constant"); ok {
		sg.Retry.BackoffCoefficient = f
	}
	sg.Retry.MaximumInterval = 100 * sg.Retry.InitialInterval
	if d, ok := t.positiveDuration("maximum_interval"); ok {
		sg.Retry.MaximumInterval = d
		if d < sg.Retry.InitialInterval {
			// Temporal refuses it: "MaximumInterval cannot be less than
			// InitialInterval on retry policy" (temporalio/temporal,
			// common/retrypolicy/retry_policy.go, Validate).
			t.valErr("maximum_interval", fmt.Sprintf("maximum_interval %v is below initial_interval %v", d, sg.Retry.InitialInterval),
				"the longest wait between retries cannot be shorter than the first: raise maximum_interval, or lower initial_interval")
		}
	}
	if n, ok := t.integer("maximum_attempts", 0, math.MaxInt32); ok {
		sg.Retry.MaximumAttempts = n
	}
	if n, ok := t.enum("log", sagaLogs); ok {
		sg.Log = sim.SagaLog(n)
		if modeOK && sg.Mode == sim.Choreography {
			t.keyErr("log", `log applies only to a saga with mode = "orchestration"`,
				"a choreography has no coordinator to keep its sagas: each participant reacts to the events")
		}
	}
	sg.Weight = flowWeight(t)
	steps := t.tables("step", "[[saga.step]]")
	if len(steps) == 0 && !t.has("step") {
		t.headerErr(fmt.Sprintf("%s has no [[saga.step]]: a saga needs at least one", t.what),
			`add a [[saga.step]] with the service that performs it: service = "payment"`)
	}
	names := make(map[string]int) // step number of each name
	var pivot *table
	for k, st := range steps {
		s := b.sagaStep(k, st, t.what, sg.Mode, modeOK)
		if s.Name != "" {
			if first, dup := names[s.Name]; dup {
				key := "name"
				if !st.has("name") {
					key = "service"
				}
				st.valErr(key, fmt.Sprintf("duplicate step %q: step #%d of %s has that name already", s.Name, first, t.what),
					"give each step of a saga its own name")
			} else {
				names[s.Name] = k + 1
			}
		}
		if s.Pivot {
			if pivot != nil {
				line, _ := b.ix.lineCol(b.ix.find(join(pivot.path, "pivot")).val)
				st.valErr("pivot", fmt.Sprintf("a saga has at most one pivot: the step on line %d is the pivot already", line),
					"the pivot is the go/no-go step: before it every step can be compensated, after it every step is retried until it succeeds")
			} else {
				pivot = st
			}
		} else if pivot != nil && st.has("deadline") && (!modeOK || sg.Mode == sim.Orchestration) {
			st.keyErr("deadline", "deadline applies only to a step before or at the pivot",
				"a step after the pivot is retried until it succeeds (past the pivot a saga never rolls back): bound its tries with the saga's maximum_attempts")
		}
		sg.Steps = append(sg.Steps, s)
	}
	b.sagas = append(b.sagas, sagaDef{t: t, idx: i, steps: steps})
	return sg
}

// sagaStep reads step k of a saga whose mode is mode (when modeOK).
func (b *builder) sagaStep(k int, t *table, owner string, mode sim.SagaMode, modeOK bool) sim.SagaStep {
	s := sim.SagaStep{Timeout: defaultStepTimeout}
	t.what = fmt.Sprintf("[[saga.step]] #%d of %s", k+1, owner)
	t.known(sagaStepKeys...)
	if t.require("service", `service = "payment", the participant that performs the step`) {
		if v, ok := t.str("service"); ok {
			s.Service, s.Name = v, v
		}
	}
	if t.has("name") {
		s.Name, _ = t.name("name")
	} else if !namePattern.MatchString(s.Name) {
		s.Name = "" // the service's name is wrong, which resolveData reports
	}
	if s.Name != "" {
		t.what = fmt.Sprintf("[[saga.step]] %q of %s", s.Name, owner)
	}
	if v, ok := t.str("compensation"); ok {
		s.Compensation = v
	}
	if d, ok := t.positiveDuration("timeout"); ok {
		s.Timeout = d
	}
	if d, ok := t.positiveDuration("deadline"); ok {
		s.Deadline = d
		if modeOK && mode == sim.Choreography {
			// A deadline is the coordinator's timer on a step: Temporal's
			// schedule-to-close timeout, "total time that a workflow is
			// willing to wait for Activity to complete" (temporalio-sdk,
			// ActivityCloseTimeouts). A choreography has no coordinator
			// to keep it (sim.New refuses it too).
			t.keyErr("deadline", `deadline applies only to a step of a saga with mode = "orchestration"`,
				"a choreography has no coordinator to time a step: each participant reacts to the events; bound a participant's tries with its [[service.consume]] max_attempts")
		}
	}
	if v, ok := t.boolean("pivot"); ok {
		s.Pivot = v
	}
	if v, ok := t.boolean("idempotent"); ok {
		s.Idempotent = v
	}
	if n, ok := t.integer("records", 1, maxKeys); ok {
		s.Records = n
	}
	if n, ok := t.enum("semantic_lock", semanticLocks); ok {
		s.SemanticLock = sim.SemanticLock(n)
		switch {
		case s.SemanticLock != sim.NoLock && !t.has("records"):
			t.keyErr("semantic_lock", "semantic_lock needs the records the step updates",
				"add records = 100, the records of the participant the sagas share")
		case s.SemanticLock != sim.NoLock && modeOK && mode == sim.Choreography:
			t.keyErr("semantic_lock", `semantic_lock applies only to a step of a saga with mode = "orchestration"`,
				"in a choreography a refused event would be a failed step whatever the policy")
		}
	}
	switch {
	case !modeOK:
	case mode == sim.Choreography:
		if t.require("topic", `topic = "payments", the topic whose event triggers the step`) {
			if v, ok := t.str("topic"); ok {
				s.Topic = v
			}
		}
	case t.has("topic"):
		t.keyErr("topic", `topic applies only to a step of a saga with mode = "choreography"`,
			"in an orchestration the coordinator sends the step its command directly")
	}
	return s
}
