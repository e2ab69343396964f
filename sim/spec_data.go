package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/faultline/faultline/sim/dist"
)

// This file holds the Spec of the asynchronous and data half of an
// architecture: brokers, replicated stores, sagas and CQRS views.

// Broker is a Kafka-like cluster of Nodes nodes ("kafka#1".."kafka#N").
type Broker struct {
	Name  string
	Nodes int
	// ReplicationDelay is how long a follower takes to copy a record from
	// its leader, drawn per record and follower.
	ReplicationDelay dist.Dist
	// ReplicaLagMax removes a follower that has not caught up for this long
	// from the ISR (replica.lag.time.max.ms, 30 s).
	ReplicaLagMax time.Duration
	// SessionTimeout removes a consumer that stopped heartbeating (crashed)
	// from its group (session.timeout.ms, 45 s).
	SessionTimeout time.Duration
	// MaxPollInterval removes a consumer that has not polled for this long
	// (paused, or stuck on a batch) from its group (max.poll.interval.ms,
	// 300 s).
	MaxPollInterval time.Duration
	// Rebalance is how long a group stops consuming while its partitions are
	// reassigned.
	Rebalance time.Duration
	// RetentionCheck is how often the retention check deletes old segments
	// (log.retention.check.interval.ms, 5 min); 0 = 5 min.
	RetentionCheck time.Duration
	// AutoLeaderRebalance moves leadership back to preferred replicas
	// (auto.leader.rebalance.enable): every LeaderImbalanceCheck (0 = 300 s,
	// leader.imbalance.check.interval.seconds), a node that other nodes lead
	// more than LeaderImbalancePercent % of its preferred partitions for
	// (leader.imbalance.per.broker.percentage, 10) takes them back.
	AutoLeaderRebalance    bool
	LeaderImbalanceCheck   time.Duration
	LeaderImbalancePercent float64
	// Tick is the cadence of the broker's housekeeping: ISR shrinking,
	// retention and leader imbalance checks, consumer liveness (session
	// and poll timeouts). It is faultline's, not a Kafka setting (Kafka
	// runs each on its own timer); scaling time scales it too. 0 = 1 s.
	Tick   time.Duration
	Topics []Topic
}

// Topic is a partitioned, replicated log.
type Topic struct {
	Name              string
	Partitions        int
	ReplicationFactor int
	MinInsync         int           // min.insync.replicas, for acks=all
	Retention         time.Duration // a segment whose newest record is older than this is deleted; 0 = 168h
	// SegmentTime rolls a new segment when a record comes more than this
	// after the active segment's first record (segment.ms, 7 d); 0 = 7 d.
	SegmentTime     time.Duration
	UncleanElection bool // unclean.leader.election.enable
}

// Acks is how many replicas must have a record before its producer hears
// back.
type Acks uint8

const (
	AcksLeader Acks = iota // acks=1: the leader has written it
	AcksNone               // acks=0: no wait at all
	AcksAll                // acks=all: every in-sync replica has it
)

func (a Acks) String() string {
	switch a {
	case AcksNone:
		return "0"
	case AcksAll:
		return "all"
	}
	return "1"
}

// KeyChoice says which key a publish or a store operation uses.
type KeyChoice uint8

const (
	KeyRandom  KeyChoice = iota // a key drawn from the keyspace
	KeyRequest                  // the key of the client request being served
	KeyNone                     // no key: records spread over partitions
)

func (k KeyChoice) String() string {
	switch k {
	case KeyRequest:
		return "request"
	case KeyNone:
		return "none"
	}
	return "random"
}

// Publish is a record a service produces to a topic while serving a request.
type Publish struct {
	Topic string // topic names are unique across brokers
	Key   KeyChoice
	Acks  Acks
	// After publishes once the request has answered (fire and forget);
	// otherwise the request waits for the acknowledgement and fails with
	// the publish.
	After       bool
	Probability float64 // that the record is published at all; 1 = always
	// Timeout is how long a request-path publish waits for the producer's
	// answer; 0 = until the producer answers (at most Delivery's
	// DeliveryTimeout).
	Timeout time.Duration
	// Delivery is how the producer retries the record; the zero Delivery
	// is Kafka's defaults (KafkaDelivery).
	Delivery Delivery
}

// Delivery is a Kafka producer's retry settings. The producer retries a
// record whose produce request failed with a retriable error
// (NotEnoughReplicas, NotLeaderOrFollower, a request timeout) until it is
// acknowledged, its retries are spent, or its delivery timeout passes.
type Delivery struct {
	Retries int // retries
	// RetryBackoff is the first backoff, doubled at each retry up to
	// RetryBackoffMax, with a jitter of +-20% (retry.backoff.ms,
	// retry.backoff.max.ms).
	RetryBackoff, RetryBackoffMax time.Duration
	// RequestTimeout is how long one attempt waits for the broker's answer
	// (request.timeout.ms).
	RequestTimeout time.Duration
	// DeliveryTimeout bounds the time from send to success or failure
	// (delivery.timeout.ms).
	DeliveryTimeout time.Duration
}

// KafkaDelivery returns the Java producer's defaults (Kafka >= 3.7):
// retries Integer.MAX_VALUE, retry.backoff.ms 100, retry.backoff.max.ms
// 1000, request.timeout.ms 30000, delivery.timeout.ms 120000 (ProducerConfig
// and CommonClientConfigs in apache/kafka).
func KafkaDelivery() Delivery {
	return Delivery{Retries: math.MaxInt32, RetryBackoff: 100 * time.Millisecond, RetryBackoffMax: time.Second,
		RequestTimeout: 30 * time.Second, DeliveryTimeout: 120 * time.Second}
}

// CommitMode is when a consumer commits its offsets.
type CommitMode uint8

const (
	CommitAfter  CommitMode = iota // process, then commit: at-least-once
	CommitBefore                   // commit, then process: at-most-once
	CommitAuto                     // commit the position every AutoCommit
)

func (c CommitMode) String() string {
	switch c {
	case CommitBefore:
		return "before"
	case CommitAuto:
		return "auto"
	}
	return "after"
}

// Consume makes a service's instances members of a consumer group on a
// topic. Each record a member takes is served as a request by the service's
// own model (its service time, errors, calls and publishes) on one of its
// workers.
type Consume struct {
	Topic      string
	Group      string // "" = the service's name
	Batch      int    // records per poll (max.poll.records)
	Commit     CommitMode
	AutoCommit time.Duration // auto.commit.interval.ms, 5 s
	// MaxAttempts is how many times a failing record is processed before it
	// is dead-lettered or dropped.
	MaxAttempts int
	DeadLetter  string // a topic of the same broker, or "" to drop
	// StaticMembership gives each member a group.instance.id (KIP-345): a
	// member that restarts within the session timeout gets its partitions
	// back without a rebalance. Without it (Kafka's default) a restarted
	// process joins as a new member.
	StaticMembership bool
	// PollInterval, when > 0, makes each member poll on a fixed-rate timer
	// instead of Kafka's loop: at PollInitialDelay + k*PollInterval of the
	// run's clock, a batch processed before the next execution waits for it.
	PollInterval, PollInitialDelay time.Duration
	// Weight is what one record produced to the topic weighs in a fault's
	// blast radius, in client requests (businessFlows); 0: 1.
	Weight float64
}

// Store is an eventually consistent replicated store in the style of Dynamo
// and Cassandra, with the WARS delays of Bailis et al.
type Store struct {
	Name        string
	Replicas    int // N
	WriteQuorum int // W
	ReadQuorum  int // R
	// The one-way delays of the WARS model: a write to a replica, its ack,
	// a read request to a replica, its response.
	WriteDelay, AckDelay, ReadDelay, ResponseDelay dist.Dist
	Keys                                           int
	Zipf                                           float64 // key popularity exponent; 0 = uniform
	ReadRepair                                     bool
	HintedHandoff                                  bool
	HintWindow                                     time.Duration // max_hint_window: no hints for a replica down longer (3 h)
	AntiEntropy                                    time.Duration // 0 = none
	// Timeout fails an operation that has not reached its quorum.
	Timeout time.Duration
}

// Op is what a call to a store does.
type Op uint8

const (
	OpNone  Op = iota // a call to a service
	OpRead            // read a key from a store or a view
	OpWrite           // write a key to a store
	// OpConditionalWrite writes a key to a store only if it still has the
	// version the request read (compare-and-set); else the attempt ends in
	// Conflict.
	OpConditionalWrite
	OpPublish // produce a record (a Publish on the request path)
)

func (o Op) String() string {
	switch o {
	case OpRead:
		return "read"
	case OpWrite:
		return "write"
	case OpConditionalWrite:
		return "conditional_write"
	case OpPublish:
		return "publish"
	}
	return ""
}

// SagaMode is how a saga's steps are driven.
type SagaMode uint8

const (
	Orchestration SagaMode = iota // a coordinator sends each step's command and waits
	Choreography                  // each step reacts to the previous step's event on a topic
)

func (m SagaMode) String() string {
	if m == Choreography {
		return "choreography"
	}
	return "orchestration"
}

// Saga is a distributed transaction of local steps with compensations. An
// instance starts each time the Start service answers a request successfully.
type Saga struct {
	Name  string
	Mode  SagaMode
	Start string // the coordinator (orchestration) or the service whose success starts it
	// Broker carries the step events of a choreography.
	Broker string
	Steps  []SagaStep
	// Retry is the retry policy of every command, step or compensation:
	// Temporal's activity retry policy, whose defaults a zero field takes.
	Retry SagaRetry
	// Log is where the coordinator of an orchestration keeps its sagas.
	Log SagaLog
	// Weight is what one saga started weighs in a fault's blast radius,
	// in client requests (businessFlows); 0: 1.
	Weight float64
}

// SagaRetry is Temporal's activity retry policy: the first retry after
// InitialInterval, each next one BackoffCoefficient times later, at most
// MaximumInterval apart, for MaximumAttempts attempts in all (0: no limit).
type SagaRetry struct {
	InitialInterval    time.Duration // 0: 1 s
	BackoffCoefficient float64       // 0: 2
	MaximumInterval    time.Duration // 0: 100 x InitialInterval
	MaximumAttempts    int           // 0: unlimited
}

// check refuses a retry policy that Temporal refuses, its zero values
// read as their defaults (as Temporal fills its defaults before it
// validates): a negative interval or attempt count, a backoff coefficient
// below 1, a maximum interval below the initial one (temporalio/temporal,
// common/retrypolicy/retry_policy.go, ValidateRetryPolicy: "MaximumInterval
// cannot be less than InitialInterval on retry policy."). The loader
// refuses the same values with their positions.
func (r SagaRetry) check() error {
	initial := r.InitialInterval
	if initial == 0 {
		initial = time.Second
	}
	switch {
	case r.InitialInterval < 0, r.MaximumInterval < 0:
		return fmt.Errorf("retry intervals cannot be negative (initial %v, maximum %v)", r.InitialInterval, r.MaximumInterval)
	case r.BackoffCoefficient != 0 && !(r.BackoffCoefficient >= 1):
		return fmt.Errorf("retry backoff coefficient %v is below 1", r.BackoffCoefficient)
	case r.MaximumInterval > 0 && r.MaximumInterval < initial:
		return fmt.Errorf("retry maximum interval %v is below the initial interval %v (Temporal refuses it)", r.MaximumInterval, initial)
	case r.MaximumAttempts < 0:
		return fmt.Errorf("retry maximum attempts %d is negative", r.MaximumAttempts)
	}
	return nil
}

// SagaLog is where an orchestration's coordinator keeps its running sagas.
type SagaLog int

const (
	// DurableLog: a saga log (Eventuate Tram, Temporal); a crashed
	// coordinator's sagas wait for it and go on after its restart.
	DurableLog SagaLog = iota
	// MemoryLog: the sagas of a coordinator that crashes are lost.
	MemoryLog
)

// SagaStep is one local transaction of a saga: a request to Service, undone
// by a request to Compensation.
type SagaStep struct {
	Name         string
	Service      string
	Compensation string // a service; "" = the step cannot be undone
	// Timeout is each attempt's (Temporal's start-to-close timeout): > 0
	// for a step that sends commands (an orchestration's, or one with a
	// compensation), which New refuses without one.
	Timeout time.Duration
	// Deadline bounds a step before or at the pivot, retries included
	// (Temporal's schedule-to-close timeout): unavailability past it fails
	// the step. 0: none, the step is retried until it answers.
	Deadline time.Duration
	Pivot    bool
	// Topic is the topic whose event triggers the step (choreography).
	Topic string
	// Idempotent: the step and its compensation have no second effect
	// when a command runs twice at the participant for one saga.
	Idempotent bool
	// Records > 0: the step updates one of this many records of its
	// participant, picked by the saga's key, and its compensation
	// restores it; concurrent sagas may share a record. 0: none.
	Records int
	// SemanticLock is what the step's update does to its record while the
	// saga runs: nothing, or a semantic lock others fail on or wait for.
	SemanticLock SemanticLock
}

// SemanticLock is Richardson's semantic lock countermeasure
// ("Microservices Patterns", 4.3.2): a step's update flags its record as
// pending until its saga ends, and another saga's step that finds it
// flagged fails or waits. The book's Eventuate application flags an order
// APPROVAL_PENDING, and a cancel of an order in that state throws
// (microservices-patterns/ftgo-application, ftgo-order-service
// .../orderservice/domain/Order.java, cancel): the "fail" policy.
type SemanticLock uint8

const (
	NoLock   SemanticLock = iota // the record is not flagged
	LockFail                     // a step that finds it flagged fails: a business failure
	LockWait                     // a step that finds it flagged is retried later, by the saga's retry policy
)

func (l SemanticLock) String() string {
	switch l {
	case LockFail:
		return "fail"
	case LockWait:
		return "wait"
	}
	return "none"
}

// View is a CQRS read model: a projection consumes a topic and applies each
// record to the model; services query it with a read call.
type View struct {
	Name      string
	Topic     string
	Batch     int
	ApplyTime dist.Dist // per record
	Keys      int       // the read model's keyspace, for read-your-writes
	// ReadTime is the read store's work per read, after the round trip;
	// zero: none.
	ReadTime dist.Dist
	// NonIdempotent (idempotent = false): applying a record again corrupts
	// its key (a counter incremented twice, a row appended twice) until a
	// rebuild; an idempotent projection (an upsert) is unchanged by it.
	NonIdempotent bool
	// Concurrency is the projector's consumers: members of its group in
	// one process (Spring Kafka's concurrency, 1 by default), sharing the
	// topic's partitions by range; those beyond the partition count get
	// none. 0 means 1.
	Concurrency int
	// Weight is what one read of the view weighs in a fault's blast
	// radius, in client requests (businessFlows); 0: 1.
	Weight float64
}

// checkData rejects data components the engine cannot run: what the
// scenarios package reports with positions, tersely.
func checkData(spec *Spec, services map[string]bool) error {
	topics := make(map[string]bool)
	for _, b := range spec.Brokers {
		if b.Nodes < 1 {
			return fmt.Errorf("sim: broker %q needs at least one node", b.Name)
		}
		for _, t := range b.Topics {
			if t.Partitions < 1 {
				return fmt.Errorf("sim: topic %q needs at least one partition", t.Name)
			}
			if topics[t.Name] {
				return fmt.Errorf("sim: duplicate topic %q", t.Name)
			}
			topics[t.Name] = true
		}
	}
	for _, sv := range spec.Services {
		for _, p := range sv.Publishes {
			if !topics[p.Topic] {
				return fmt.Errorf("sim: service %q publishes to unknown topic %q", sv.Name, p.Topic)
			}
		}
		for _, c := range sv.Consumes {
			if !topics[c.Topic] || c.DeadLetter != "" && !topics[c.DeadLetter] {
				return fmt.Errorf("sim: service %q consumes unknown topic %q (dead letter %q)", sv.Name, c.Topic, c.DeadLetter)
			}
		}
	}
	for _, v := range spec.Views {
		if !topics[v.Topic] {
			return fmt.Errorf("sim: view %q reads unknown topic %q", v.Name, v.Topic)
		}
	}
	for _, sg := range spec.Sagas {
		if !services[sg.Start] || len(sg.Steps) == 0 {
			return fmt.Errorf("sim: saga %q needs a start service and at least one step", sg.Name)
		}
		if err := sg.Retry.check(); err != nil {
			return fmt.Errorf("sim: saga %q: %w", sg.Name, err)
		}
		for _, st := range sg.Steps {
			if !services[st.Service] || st.Compensation != "" && !services[st.Compensation] || st.Topic != "" && !topics[st.Topic] {
				return fmt.Errorf("sim: saga %q: step %q names an unknown service or topic", sg.Name, st.Name)
			}
			if sg.Mode == Choreography && st.Deadline > 0 {
				// A deadline is the coordinator's timer (Temporal's
				// schedule-to-close timeout, which the workflow sets on
				// its activity); a choreography has no coordinator to
				// keep it (the loader refuses it too).
				return fmt.Errorf("sim: saga %q: step %q: a deadline needs orchestration", sg.Name, st.Name)
			}
			if sg.Mode == Choreography && st.SemanticLock != NoLock {
				// A lock's refusal is an answer to a command; an event has
				// no one to answer (the loader refuses it too).
				return fmt.Errorf("sim: saga %q: step %q: a semantic lock needs orchestration", sg.Name, st.Name)
			}
			if commands := sg.Mode == Orchestration || st.Compensation != ""; commands && st.Timeout <= 0 || st.Timeout < 0 || st.Deadline < 0 {
				// A command is a request that can be lost on its way (a
				// loss fault, a blackhole): with no timeout its saga
				// would wait for it forever. Temporal refuses an
				// activity with neither a start-to-close nor a
				// schedule-to-close timeout ("A valid StartToClose or
				// ScheduleToCloseTimeout is not set": temporalio/temporal,
				// service/history/api/command_attr_validator.go); Axon's
				// sagas wait forever unless they schedule a deadline
				// (DeadlineManager). The loader fills its 5 s default.
				return fmt.Errorf("sim: saga %q: step %q needs a timeout > 0 for its commands (Temporal's start-to-close timeout)", sg.Name, st.Name)
			}
			if sg.Mode == Choreography && st.Topic == "" {
				// A choreographed step is an event on a topic: with none
				// it would be a command, and a choreography has no
				// coordinator to send it.
				return fmt.Errorf("sim: saga %q: choreographed step %q needs the topic of its event", sg.Name, st.Name)
			}
		}
	}
	return nil
}
