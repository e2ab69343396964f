package importer

import (
	"strings"
	"time"
)

// Model is the scenario an import builds, before it is written as TOML. A
// later step may amend it (the manifests of the same system: replicas,
// timeouts, retries), then WriteTOML writes it: each element carries the
// comments that say where its figures came from, and Extra keys that such
// a step adds, written as they are.
type Model struct {
	Name        string
	Description string
	Duration    time.Duration
	Warmup      time.Duration
	// Header holds the comment lines at the top of the file: the sources,
	// what was read, what could not be told.
	Header []string
	// Preamble is TOML written as it is after the header (comments a later
	// step adds); Trailer is TOML written as it is at the end (tables such
	// as [[fault]]).
	Preamble, Trailer string
	Clients           []Client
	Services          []Service
	// Observed holds the figures the traces show, for a later comparison
	// with a run of the scenario.
	Observed Observed
}

// Observed is what was read.
type Observed struct {
	Traces, Spans int64
	// OrphanSpans are spans whose parent span is not in the files: counted
	// as the first span of an invocation, not as a request from outside.
	OrphanSpans int64
	// DuplicateSpans are spans whose id another span of their trace has;
	// they are left out.
	DuplicateSpans int64
	// SkippedSpans are spans without a start time (Zipkin's incomplete
	// spans), left out.
	SkippedSpans int64
	// Window is the time over which the root spans started; rates are
	// counts over it, divided by SampleRatio.
	Window      time.Duration
	SampleRatio float64
}

// Client is a source of requests at an entry operation.
type Client struct {
	Name   string
	Target string // "service.operation"
	// Entry is set on a client of the traces' root spans, unset on the
	// orphans' and the work not waited for.
	Entry    bool
	Rate     float64
	Comments []string
	Extra    []Key
}

// Service is one service, its operations and their calls.
type Service struct {
	Name string
	// CopyOf names the service this one copies, for the calls that come
	// back to it upstream (unrollCycles); "" for a service of the traces.
	CopyOf string
	// Instances is written unless it is 0, when a later step writes the
	// key itself in Text.
	Instances int
	Workers   int
	// ConcurrencyModel is written as concurrency_model unless empty.
	ConcurrencyModel string
	// Comments say which spans the service came from; Assumptions what
	// the traces could not tell and the value chosen.
	Comments    []string
	Assumptions []string
	// InstancesNote says where Instances came from, written after the
	// Comments, or first of the Assumptions when InstancesAssumed: a
	// later step that sets the instances (the manifests) replaces it,
	// and never has to find it in the comments' text.
	InstancesNote    string
	InstancesAssumed bool
	Operations       []Operation
	Extra            []Key
	// Text is TOML written as it is after the keys: a later step's keys,
	// then its sub-tables ([service.autoscale]).
	Text string
}

// Operation is one operation of a service.
type Operation struct {
	Name        string
	ServiceTime string // a distribution
	Errors      float64
	AfterCalls  float64
	Calls       []Call
	Comments    []string
	Extra       []Key
	// Observed figures of the operation's spans (whole span, calls
	// included): Count, RatePerSec and ErrorShare of all of them, the
	// quantiles and their intervals of the successful ones (of all when
	// every one failed), like a run's latency (sim.Latency).
	Count      int64
	RatePerSec float64
	P50, P90   time.Duration
	P99        time.Duration
	// P50CI and P99CI are the 95 % intervals of P50 and P99: how far
	// another sample of as many spans could put them (interval.go).
	P50CI, P99CI Interval
	ErrorShare   float64
}

// Call is one [[service.operation.call]].
type Call struct {
	To          string // "service.operation"
	Probability float64
	Fanout      int
	// Repeat is the count of sequential repetitions: "" for once, a
	// whole number, or a count distribution ("histogram(1: 30, 9: 70)").
	Repeat    string
	Group     string
	Latency   string // a one-way distribution; "" for the network's
	RoundTrip string // a distribution there and back, drawn once; "" for none
	Comments  []string
	Extra     []Key
	// Text is TOML written as it is after the keys: a later step's keys,
	// then its sub-tables ([service.operation.call.retry]).
	Text string
}

// Key is one more key of a table, as TOML text: Value is written as it
// is ("\"2s\"", "3", "{ max_attempts = 2 }").
type Key struct {
	Name, Value, Comment string
}

// clientPrefixes name the clients an import makes, each
// "<prefix>-<service>-<operation>": the roots' load, the orphans' (their
// caller is not in the traces) and the work not waited for (async).
var clientPrefixes = [...]string{"load", "orphan", "async"}

// MadeClient reports whether a client of this name, at this service and
// operation, is one an import made: its load stands for requests of the
// traces imported, not for a load the scenario's author chose.
func MadeClient(name, service, operation string) bool {
	for _, p := range clientPrefixes {
		if strings.HasPrefix(name, p+"-"+service+"-"+operation) {
			return true
		}
	}
	return false
}
