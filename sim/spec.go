package sim

import (
	"time"

	"github.com/faultline/faultline/sim/dist"
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
	Seed        uint64

	Network  Network
	Clients  []Client
	Services []Service
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
	Name    string
	Target  string // a service name
	Rate    float64
	Arrival Arrival
	// Schedule changes the rate over time; the rate before the first step is
	// Rate. Steps are sorted by At.
	Schedule  []RateStep
	Users     int
	ThinkTime dist.Dist
	// Timeout ends a request for the client; 0 means the client waits forever.
	Timeout time.Duration
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
}

// Call is one downstream call a service makes while it serves a request.
type Call struct {
	To string
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
	// Latency, when HasLatency, replaces the network latency on this edge.
	Latency    dist.Dist
	HasLatency bool
}

// FaultKind is what a fault does to its target.
type FaultKind uint8

const (
	FaultLatency FaultKind = iota // adds a delay to each request's service time
	FaultErrors                   // makes a share of requests fail
)

func (k FaultKind) String() string {
	switch k {
	case FaultLatency:
		return "latency"
	case FaultErrors:
		return "errors"
	}
	return "unknown"
}

// Fault changes a service's behaviour over [Start, Start+Duration).
type Fault struct {
	Kind     FaultKind
	Target   string        // a service name
	Start    time.Duration // virtual time the fault begins
	Duration time.Duration // 0 means until the end of the run
	// Add is the extra delay of a latency fault, drawn per request.
	Add dist.Dist
	// Probability is the share of requests an errors fault fails, on top of
	// the service's own Errors.
	Probability float64
}
