package sim

import (
	"time"

	"github.com/faultline/faultline/sim/dist"
	"github.com/faultline/faultline/sim/resilience"
)

// Spec is a validated scenario, the input of New. The scenarios package builds
// one from TOML; tests and tools may build one by hand. New re-checks only what
// it needs to stay safe (names resolve, counts are positive), so a Spec that
// did not come from the loader gets a plain error rather than a panic.
type Spec struct {
	Name        string
	Description string        // the scenario's one-line summary
	Duration    time.Duration // virtual time to simulate
	Warmup      time.Duration // aggregates ignore everything that starts before it
	Window      time.Duration // width of one time-series window; 0 means 1s
	// CascadeWindow is how long after a fault ends the cascade trace still
	// blames it for what turns unhealthy, and how far before it a
	// component's health is its baseline (and a flow's recovery level is
	// measured); 0 means 30s.
	CascadeWindow time.Duration
	// LatencyFactor is how many times slower than before the first fault
	// a client, flow or service without a latency objective must be to be
	// degraded, and failing (slowness.go); 0 means 3 and 10.
	LatencyFactor LatencyFactor
	Seed          uint64
	// Memory is the run's memory budget in bytes, set by the driver (the
	// --memory flag), not by the scenario file: a run that holds more
	// stops with a BudgetError. 0 means DefaultMemory.
	Memory int64
	// NoEdgeSeries, set by the driver, keeps no per-window series of the
	// call edges: only the TUI (an edge's health per window), run --json
	// and --csv read them, and a large graph has far more edges than
	// components (a window is ~300 B, an edge one per window). Every edge
	// is judged at each window all the same, and the totals, cascades and
	// recoveries are the same; EdgeResult.Series is empty.
	NoEdgeSeries bool

	Network  Network
	Clients  []Client
	Services []Service
	Brokers  []Broker
	Stores   []Store
	Sagas    []Saga
	Views    []View
	Faults   []Fault
}

// Network holds the defaults for every hop between two components.
type Network struct {
	// Latency is the one-way delay of each hop: a request going to a
	// component, and its response coming back, each draw once.
	Latency dist.Dist
}

// Arrival is how an open-loop client spaces its requests.
type Arrival uint8

const (
	Poisson  Arrival = iota // exponential gaps: the textbook "M" arrivals
	Constant                // evenly spaced requests at the current rate
)

func (a Arrival) String() string {
	switch a {
	case Poisson:
		return "poisson"
	case Constant:
		return "constant"
	}
	return "unknown"
}

// Client is a source of requests. It is open loop when Users is 0 (requests
// arrive at Rate, or along Schedule, whatever the system does) and closed loop
// otherwise (each user sends, waits for the outcome, thinks, sends again).
type Client struct {
	Name   string
	Target string // a service name
	// Operation is the operation of Target the requests call ("search" of
	// "catalog.search"); "" spreads them over its operations by weight.
	Operation string
	Rate      float64
	Arrival   Arrival
	// Schedule changes the rate over time; the rate before the first step is
	// Rate. Steps are sorted by At.
	Schedule  []RateStep
	Users     int
	ThinkTime dist.Dist
	// Route is the gateway route (a Path) the client's requests take; ""
	// spreads them over the routes by weight.
	Route string
	// Keys is the number of distinct request keys (users, sessions) the
	// client's requests carry, drawn uniformly; ring-hash balancing places
	// requests by key. 0 gives every request a key of its own.
	Keys int
	// Timeout ends a request for the client; 0 means the client waits forever.
	Timeout time.Duration
	// LatencyObjective judges the latency of the client and its flows
	// (slowness.go); a gateway route's own replaces it for its flow.
	LatencyObjective LatencyObjective
}

// RateStep sets a client's rate from At on. With Ramp > 0 the rate moves
// linearly from the previous rate to Rate over [At, At+Ramp].
type RateStep struct {
	At   time.Duration
	Rate float64
	Ramp time.Duration
}

// Unbounded is the Queue of a service whose waiting room has no limit.
const Unbounded = -1

// Service is a pool of identical instances, each with Workers workers and a
// FIFO waiting room of Queue requests.
type Service struct {
	Name        string
	Instances   int
	Workers     int
	Queue       int // Unbounded, or the waiting room per instance
	ServiceTime dist.Dist
	// AfterCalls is the share of the drawn service time spent after the
	// downstream calls have answered; the rest is spent before them.
	AfterCalls float64
	Errors     float64 // probability that a request fails by itself
	Calls      []Call
	// QueueTimeout sheds a queued request that waited longer than this
	// before a worker took it; 0 = never.
	QueueTimeout time.Duration
	// LIFO serves the newest queued request first (the oldest are the most
	// likely to have been given up on).
	LIFO bool
	// Async releases a request's worker while its downstream calls are
	// out; it takes one again, through the queue, for the work after them
	// (concurrency_model = "async"). Workers are then the CPU or event
	// loop's capacity, not a pool of threads that wait. False: a request
	// holds its worker throughout (thread-per-request).
	Async bool
	// Gateway, when set, makes this an API gateway: clients call it, it
	// rate-limits them, and each request takes exactly one of Calls, its
	// routes.
	Gateway *Gateway
	// LatencyObjective judges the latency of its answers (slowness.go).
	LatencyObjective LatencyObjective
	// Readiness is the Kubernetes readiness probe of its instances, which
	// takes an instance that hangs (paused, blackholed) out of the
	// endpoints its callers balance over once it has failed Unhealthy
	// probes in a row (probe.go); nil: none, a hung instance stays in.
	Readiness *resilience.HealthCheckConfig
	// EndpointUpdateDelay is how long a crashed instance (its process
	// exited) stays in the endpoints: the kubelet sees the exit, the pod
	// turns not ready, the endpoints and every caller's proxy are updated
	// (probe.go); 0: it leaves them at once.
	EndpointUpdateDelay time.Duration
	// Autoscale, when set, adds and removes instances by utilisation.
	Autoscale *resilience.AutoscaleConfig
	// Publishes are the records it produces while serving a request; those
	// on the request path are sent after Calls, together.
	Publishes []Publish
	// Consumes makes its instances members of consumer groups.
	Consumes []Consume
	// Operations are its endpoints, each with its own service time, errors
	// and calls, all sharing the instances and workers. Without any, the
	// service has one implicit operation made of its own ServiceTime,
	// Errors, AfterCalls and Calls.
	Operations []Operation
	// External marks a third-party dependency: outside the architecture,
	// reported apart, the target of dependency faults.
	External bool
	// CPULimit is each instance's CPU limit in cores (cpu_limit, a
	// Kubernetes resources.limits.cpu): its requests' own work may use
	// CPULimit x CPUPeriod of CPU per period, then waits for the next
	// (CFS bandwidth control, cfs.go); 0: no limit.
	CPULimit  float64
	CPUPeriod time.Duration
}

// DefaultCPUPeriod is the kernel's default cpu.cfs_period_us, 100 ms
// (Documentation/scheduler/sched-bwc.rst), which Kubernetes keeps unless
// the kubelet's cpuCFSQuotaPeriod is changed.
const DefaultCPUPeriod = 100 * time.Millisecond

// Operation is one endpoint of a service.
type Operation struct {
	Name string
	// ServiceTime, when HasServiceTime, replaces the service's.
	ServiceTime    dist.Dist
	HasServiceTime bool
	// Errors, when HasErrors, replaces the service's error probability.
	Errors     float64
	HasErrors  bool
	AfterCalls float64
	Calls      []Call
	// Weight is the operation's share of the requests that do not name an
	// operation.
	Weight float64
}

// Gateway is what sets a gateway apart from a service.
type Gateway struct {
	// The rate limit: each instance has its own token bucket (Envoy's local
	// rate limit is per Envoy process), so a crashed instance takes its
	// share of the admitted rate with it; requests beyond it get a 429
	// (Limited). With FillInterval > 0 it is Envoy's bucket: MaxTokens,
	// full at the start, TokensPerFill added every FillInterval. Otherwise
	// RPS and Burst are x/time/rate's bucket, refilled continuously; RPS 0:
	// no limit.
	MaxTokens, TokensPerFill int
	FillInterval             time.Duration
	RPS                      float64
	Burst                    int
	// ExtAuthz, when set, checks every admitted request with an
	// authorization service before it is routed (Envoy's ext_authz
	// filter).
	ExtAuthz *ExtAuthz
	// Kong, when set, is the rate limit instead of a bucket: Kong's
	// rate-limiting plugin.
	Kong *KongLimit
}

// KongLimit is Kong's rate-limiting plugin: fixed windows of a second, a
// minute and an hour (resilience.FixedWindow), counted on each gateway
// instance (policy local) or shared by all (policy cluster), for each
// consumer (a client) or each IP address (a user of a client: its keys).
type KongLimit struct {
	Limits  resilience.FixedWindowLimits
	Cluster bool // policy = "cluster": one set of counters for the gateway
	ByIP    bool // limit_by = "ip": counters per user key, not per client
}

// ExtAuthz is Envoy's external authorization filter
// (envoy.extensions.filters.http.ext_authz.v3.ExtAuthz): the gateway calls
// Service for each request and routes it only when the call succeeds.
// When the call fails or passes Timeout, the request is denied (Envoy
// answers status_on_error, 403 by default: an Error here), unless
// FailureModeAllow lets it through: a success, but degraded, as Envoy
// counts it apart in ext_authz.failure_mode_allowed.
type ExtAuthz struct {
	Service string
	// Timeout is the call's deadline: the timeout of the filter's
	// grpc_service or http_service, 200 ms by default (config/core/v3/
	// grpc_service.proto; http_service's server_uri timeout is required).
	Timeout          time.Duration
	FailureModeAllow bool
}

// DefaultExtAuthzTimeout is Envoy's default ext_authz timeout.
const DefaultExtAuthzTimeout = 200 * time.Millisecond

// limited reports whether the gateway limits its rate.
func (g *Gateway) limited() bool { return g.FillInterval > 0 || g.RPS > 0 || g.Kong != nil }

// bucket is an instance's rate limit, full at now.
func (g *Gateway) bucket(now int64) resilience.TokenBucket {
	if g.FillInterval > 0 {
		return resilience.NewFillBucket(g.MaxTokens, g.TokensPerFill, int64(g.FillInterval), now)
	}
	return resilience.NewTokenBucket(g.RPS, g.Burst)
}

// Call is one downstream call a service makes while it serves a request.
type Call struct {
	// To is a service, a store (with Op) or a view (Op read). A call to an
	// operation of the caller's own service is in-process: a function
	// call on the caller's worker, with no network, queue or policies.
	To string
	// Operation is the callee's operation; "" spreads the calls over its
	// operations by weight.
	Operation string
	// Op is what a call to a store or view does; OpNone for a service.
	Op Op
	// Key is the key a store operation or view read uses: KeyRequest reads
	// what the same client request (or the same user) wrote.
	Key KeyChoice
	// Timeout is how long the caller waits for this call; 0 means until the
	// callee answers.
	Timeout     time.Duration
	Probability float64 // that the call is made at all
	// Group: adjacent calls with the same non-empty Group are issued together
	// and the request continues when all of them have answered.
	Group string
	// Fanout sends this many copies of the call at once, each to the next
	// instance, and waits for all of them (scatter-gather).
	Fanout int
	// Repeat, when not nil, makes the call this many times in sequence,
	// each after the previous one answered, with the call's policies
	// applying to each; nil makes it once. A repeated call is a stage of
	// its own, whatever its Group.
	Repeat *dist.Count
	// Latency, when HasLatency, replaces the network latency on this edge,
	// each way: the request and its response draw it once each.
	Latency    dist.Dist
	HasLatency bool
	// ResponseLatency, when not nil, is the response's one-way delay
	// instead of Latency's (a link slower one way than the other).
	ResponseLatency *dist.Dist
	// RoundTrip, when not nil, is the edge's network time there and back,
	// drawn once per attempt and split in halves, the first on the request
	// and the rest on the response (call.go's rule): an observed round-trip
	// distribution kept exactly, where two one-way draws would not be.
	// Latency and ResponseLatency do not apply then.
	RoundTrip *dist.Dist

	// Path and Weight describe a gateway route: its path, and its share of
	// the requests of clients that do not name a route.
	Path   string
	Weight float64
	// Backends are a gateway route's further calls (composition at the
	// edge, as a KrakenD endpoint's backends): made at once with the
	// route's own call, the route answers when all have. An optional
	// backend has Fallback set: its failure leaves a partial answer, a
	// degraded success; a required one's failure fails the request.
	Backends []Call
	// LatencyObjective judges the latency of the client flows along a
	// gateway route (slowness.go).
	LatencyObjective LatencyObjective

	// The resilience patterns of the edge; the zero values turn them off.
	Balancer    resilience.Policy
	ChoiceCount int                       // least_request: hosts compared per pick
	Outlier     *resilience.OutlierConfig // outlier detection, nil = off
	// HealthCheck is Envoy's active health checking of the callee's
	// instances by the caller (probe.go); nil = off.
	HealthCheck *resilience.HealthCheckConfig
	Breaker     *resilience.BreakerConfig // circuit breaker, nil = none
	// Scope says who holds the edge's policies (breaker, retry budget and
	// throttle, outlier detection, balancer, bulkhead): each caller
	// instance its own (the zero value), or the caller service one shared.
	Scope    Scope
	Fallback bool   // a short-circuited or failed call becomes a degraded success
	Retry    *Retry // nil = one attempt
	Bulkhead int    // max calls in flight on the edge, 0 = no limit
	Hedge    *Hedge // nil = no hedging
}

// Scope says who holds a call's resilience state. The libraries live in
// the caller's process: a Resilience4j breaker or bulkhead in its JVM, a
// Finagle retry budget and a gRPC retry throttle in its client, an Envoy
// sidecar's balancer, outlier detector and circuit breaking in its pod. So
// each caller instance has its own state by default, and sees only its own
// calls; PerService shares one state among the caller's instances, as a
// shared proxy (or a model of one) would.
type Scope uint8

const (
	PerInstance Scope = iota // each caller instance its own (the libraries' rule)
	PerService               // one for all the caller's instances
)

func (b Scope) String() string {
	if b == PerService {
		return "service"
	}
	return "instance"
}

// Retry is a call's retry policy. The call's Timeout is the deadline across
// all attempts (as in gRPC); PerTryTimeout bounds each attempt.
type Retry struct {
	MaxAttempts   int // attempts in all, the first included
	Backoff       resilience.Backoff
	On            [numOutcomes]bool // outcomes that are retried
	PerTryTimeout time.Duration     // 0 = each attempt may use the whole deadline
	// Budget limits retries to a share of requests (Finagle); nil = none.
	Budget *Budget
	// Throttle is gRPC's token-based retry throttling; nil = none.
	Throttle *Throttle
	// Concurrency caps the retries in flight on the edge, from the moment
	// one is decided until its attempt ends (Envoy's circuit-breaking
	// max_retries, or its retry_budget); nil = no cap.
	Concurrency *resilience.ConcurrencyBudget
}

// Budget is a Finagle retry budget.
type Budget struct {
	Percent   float64 // share of requests that may be retried, 0.2 = 20%
	MinPerSec float64 // retries always allowed per second
	TTL       time.Duration
}

// Throttle is gRPC's retry throttling.
type Throttle struct {
	MaxTokens  float64
	TokenRatio float64
}

// Hedge sends extra copies of a slow call (The Tail at Scale): after Delay
// without an answer another copy goes out, up to MaxCopies in all; the first
// answer wins and the others are cancelled. A copy failing with an outcome
// NonFatalOn lists sends the next copy at once; any other failure ends the
// call, unless the retry policy retries it (gRFC A6's nonFatalStatusCodes).
type Hedge struct {
	Delay      time.Duration
	MaxCopies  int
	NonFatalOn [numOutcomes]bool // outcomes of a copy that do not end the call; none by default, as in gRPC
}

// FaultKind is what a fault does to its target.
type FaultKind uint8

const (
	FaultLatency    FaultKind = iota // adds a delay to service time, or to a link
	FaultErrors                      // makes a share of requests fail
	FaultCrash                       // instances down; in-flight work lost
	FaultPause                       // a stop-the-world freeze: work stops, queues grow
	FaultLoss                        // drops a share of messages on a link
	FaultPartition                   // drops every message between two sets of components
	FaultBlackhole                   // requests to the target vanish: callers wait for their timeout
	FaultSlowdown                    // service time multiplied
	FaultCapacity                    // fewer workers per instance
	FaultSurge                       // a client's rate multiplied
	FaultThrottle                    // a share of requests answered at once with 429
	FaultSkew                        // a store replica's clock runs Offset ahead (or behind)
	FaultLeaderLoss                  // a topic partition's leader loses leadership
	FaultDeploy                      // a rolling restart of a service, optionally a bad release
	FaultLeak                        // a memory leak: service time grows with uptime until a crash
	FaultDependency                  // an external dependency browns out: slower and failing
	FaultRebuild                     // a view's read model dropped and replayed from the start of its topic
)

var faultKinds = [...]string{"latency", "errors", "crash", "pause", "loss", "partition", "blackhole", "slowdown", "capacity", "surge", "throttle", "skew", "leader_loss", "deploy", "leak", "dependency", "rebuild"}

func (k FaultKind) String() string {
	if int(k) < len(faultKinds) {
		return faultKinds[k]
	}
	return "unknown"
}

// MarshalText writes the kind by name in JSON (Result.Faults).
func (k FaultKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// FaultKinds lists every kind's name, in order.
func FaultKinds() []string { return faultKinds[:] }

// Direction says which messages of a link a fault affects.
type Direction uint8

const (
	Both      Direction = iota // requests and responses
	Requests                   // caller to callee only
	Responses                  // callee to caller only
)

func (d Direction) String() string {
	switch d {
	case Requests:
		return "requests"
	case Responses:
		return "responses"
	}
	return "both"
}

// Fault changes part of the system over [Start, Start+Duration), once or
// every Every. The fields here are common to every kind; what a kind takes
// of its own is in Params, a type per kind (faultkind.go).
type Fault struct {
	Kind FaultKind
	// Name, when not empty, names the fault's cascade in the result and
	// bench's fault metrics (CascadeName); it is unique among the faults.
	Name string
	// Target is written in the target grammar (ParseTarget): a service or
	// gateway ("payment"), one instance ("payment#2", 1-based), one
	// operation ("catalog.search"), a link ("checkout->payment", the
	// caller may be a client), or a client (surge). Partitions have none:
	// their PartitionFault's Sides say what they separate.
	//
	// The data components are targets too: a broker ("kafka", all its nodes)
	// or a node ("kafka#2") for crash, pause, partition and slowdown (its
	// replication); a store ("db") or a replica ("db#2") for crash, pause
	// (a replication pause: messages to it wait until the pause ends),
	// partition, latency and slowdown (a slow disk: its delays multiplied),
	// and skew (a replica's clock); a view for crash, pause, slowdown and
	// rebuild; a topic ("orders") for leader_loss.
	Target string
	// Share of the target service's instances affected, chosen at random
	// from the fault's stream at each occurrence; 0 or 1 means all.
	Share    float64
	Start    time.Duration // virtual time the fault begins
	Duration time.Duration // 0 means until the end of the run
	// Every repeats the fault with this period; 0 means once.
	Every time.Duration
	// Chance is the probability that each occurrence happens at all.
	Chance float64
	// Params are the kind's own parameters, of the kind's type
	// (LatencyFault for FaultLatency...); nil takes DefaultParams(Kind).
	Params FaultParams
}
