package metric

import (
	"fmt"
	"slices"

	"github.com/faultline/faultline/sim"
)

// Scope is the kind of component a metric describes. Its name is also the
// key that names the component in an [[slo]] table (client = "shoppers").
type Scope string

const (
	Client  Scope = "client"
	Service Scope = "service"
	Edge    Scope = "edge" // a call edge, "caller->callee"
	Group   Scope = "group"
	Topic   Scope = "topic"
	Store   Scope = "store"
	Saga    Scope = "saga"
	// ReadModel is a CQRS view (its SLO key is "view").
	ReadModel Scope = "view"
	// Fault is one fault occurrence's cascade, named by its kind and
	// target: "latency payment", "deploy checkout".
	Fault Scope = "fault"
)

// Scopes lists every scope in the order reports show them.
func Scopes() []Scope {
	return []Scope{Client, Service, Edge, Group, Topic, Store, Saga, ReadModel, Fault}
}

// kind is how the components of a scope are found in a Result: their
// list and each one's name.
type kind[C any] struct {
	list func(*sim.Result) []C
	name func(*C) string
}

// of builds the value function of a metric from a typed accessor of one
// component.
func (k kind[C]) of(f func(*C) (float64, bool)) func(*sim.Result, int) (float64, bool) {
	return func(r *sim.Result, i int) (float64, bool) { return f(&k.list(r)[i]) }
}

func (k kind[C]) section() section {
	return section{
		n:    func(r *sim.Result) int { return len(k.list(r)) },
		name: func(r *sim.Result, i int) string { return k.name(&k.list(r)[i]) },
	}
}

// section is a kind without its type: how many components a result has,
// and the name of the i-th.
type section struct {
	n    func(*sim.Result) int
	name func(*sim.Result, int) string
}

var (
	clients  = kind[sim.ClientResult]{func(r *sim.Result) []sim.ClientResult { return r.Clients }, func(c *sim.ClientResult) string { return c.Name }}
	services = kind[sim.ComponentResult]{func(r *sim.Result) []sim.ComponentResult { return r.Components }, func(c *sim.ComponentResult) string { return c.Name }}
	edges    = kind[sim.EdgeResult]{func(r *sim.Result) []sim.EdgeResult { return r.Edges }, func(c *sim.EdgeResult) string { return c.Name }}
	groups   = kind[sim.GroupResult]{func(r *sim.Result) []sim.GroupResult { return r.Groups }, func(c *sim.GroupResult) string { return c.Name }}
	topics   = kind[sim.TopicResult]{func(r *sim.Result) []sim.TopicResult { return r.Topics }, func(c *sim.TopicResult) string { return c.Name }}
	stores   = kind[sim.StoreResult]{func(r *sim.Result) []sim.StoreResult { return r.Stores }, func(c *sim.StoreResult) string { return c.Name }}
	sagas    = kind[sim.SagaResult]{func(r *sim.Result) []sim.SagaResult { return r.Sagas }, func(c *sim.SagaResult) string { return c.Name }}
	views    = kind[sim.ViewResult]{func(r *sim.Result) []sim.ViewResult { return r.Views }, func(c *sim.ViewResult) string { return c.Name }}
	cascades = kind[sim.CascadeResult]{func(r *sim.Result) []sim.CascadeResult { return r.Cascades }, func(c *sim.CascadeResult) string { return c.Name }}
	sections = map[Scope]section{
		Client: clients.section(), Service: services.section(), Edge: edges.section(), Group: groups.section(), Topic: topics.section(),
		Store: stores.section(), Saga: sagas.section(), ReadModel: views.section(), Fault: cascades.section(),
	}
	client, service, edge, group, topic = clients.of, services.of, edges.of, groups.of, topics.of
	store, saga, view, fault            = stores.of, sagas.of, views.of, cascades.of
)

// Unit is how a metric's value is measured, which decides how it is
// written in an SLO ("300ms" for a latency, 0.999 for a share) and shown in
// a report.
type Unit uint8

const (
	Ms      Unit = iota // milliseconds; written as a duration in an SLO
	Seconds             // seconds; written as a duration in an SLO
	Share               // a fraction in [0, 1]
	PerSec              // a rate per second
	Ratio               // a multiplier, such as attempts per call
	Count               // a number of things
)

// Duration reports whether an SLO bound of this unit is a duration string.
func (u Unit) Duration() bool { return u == Ms || u == Seconds }

func (u Unit) String() string {
	return [...]string{Ms: "ms", Seconds: "s", Share: "share", PerSec: "/s", Ratio: "x", Count: "count"}[u]
}

// Metric is one figure that can be read from a run's result for one
// component of its scope.
type Metric struct {
	Scope Scope
	Name  string // as written in an SLO's metric key
	Unit  Unit
	// Higher is true when more is better (success rate, goodput), false
	// when less is (latency, lag); comparisons say "better" or "worse" by it.
	Higher bool
	Doc    string
	// value reads the metric of the i-th component of its scope: a typed
	// accessor of the Result's fields, so that a renamed field is a
	// compile error here, never a metric that silently has no data.
	value func(r *sim.Result, i int) (float64, bool)
}

// num is a figure that every component has.
func num[T uint64 | int64 | float64](x T) (float64, bool) { return float64(x), true }

// known is a figure that is absent (null in the JSON) when there is none to report.
func known(x *float64) (float64, bool) {
	if x == nil {
		return 0, false
	}
	return *x, true
}

// timed is a statistic v of latencies l, none when l timed nothing.
func timed(l sim.Latency, v float64) (float64, bool) {
	if l.Count == 0 {
		return 0, false
	}
	return v, true
}

// shareOf is n over the answered total, all - less: the share of answered
// requests (or ended sagas) that ended in an outcome; none of nothing.
func shareOf(n, all, less uint64) (float64, bool) {
	d := float64(all) - float64(less)
	if d <= 0 {
		return 0, false
	}
	return float64(n) / d, true
}

// registry holds every metric, in the order reports list them.
var registry = []Metric{
	{Client, "success_rate", Share, true, "OK over answered requests", client(func(c *sim.ClientResult) (float64, bool) { return num(c.SuccessRate) })},
	{Client, "p50", Ms, false, "median latency of successful requests", client(func(c *sim.ClientResult) (float64, bool) { return num(c.Latency.P50) })},
	{Client, "p90", Ms, false, "90th percentile latency of successful requests", client(func(c *sim.ClientResult) (float64, bool) { return num(c.Latency.P90) })},
	{Client, "p99", Ms, false, "99th percentile latency of successful requests", client(func(c *sim.ClientResult) (float64, bool) { return num(c.Latency.P99) })},
	{Client, "p999", Ms, false, "99.9th percentile latency of successful requests", client(func(c *sim.ClientResult) (float64, bool) { return num(c.Latency.P999) })},
	{Client, "mean_latency", Ms, false, "mean latency of successful requests", client(func(c *sim.ClientResult) (float64, bool) { return num(c.Latency.Mean) })},
	// Of every answered request, timeouts at the client's timeout: it
	// rises in an outage where the latency of successes can fall.
	{Client, "p50_all", Ms, false, "median latency of all answered requests", client(func(c *sim.ClientResult) (float64, bool) { return num(c.LatencyAll.P50) })},
	{Client, "p90_all", Ms, false, "90th percentile latency of all answered requests", client(func(c *sim.ClientResult) (float64, bool) { return num(c.LatencyAll.P90) })},
	{Client, "p99_all", Ms, false, "99th percentile latency of all answered requests", client(func(c *sim.ClientResult) (float64, bool) { return num(c.LatencyAll.P99) })},
	{Client, "p999_all", Ms, false, "99.9th percentile latency of all answered requests", client(func(c *sim.ClientResult) (float64, bool) { return num(c.LatencyAll.P999) })},
	{Client, "mean_latency_all", Ms, false, "mean latency of all answered requests", client(func(c *sim.ClientResult) (float64, bool) { return num(c.LatencyAll.Mean) })},
	{Client, "goodput", PerSec, true, "successful requests per second after warmup", client(func(c *sim.ClientResult) (float64, bool) { return num(c.GoodputRPS) })},
	{Client, "error_share", Share, false, "share of answered requests that failed with an error",
		client(func(c *sim.ClientResult) (float64, bool) { return shareOf(c.Error, c.Sent, c.InFlight) })},
	{Client, "timeout_share", Share, false, "share of answered requests that timed out",
		client(func(c *sim.ClientResult) (float64, bool) { return shareOf(c.Timeout, c.Sent, c.InFlight) })},
	{Client, "rejected_share", Share, false, "share of answered requests rejected, shed or rate limited",
		client(func(c *sim.ClientResult) (float64, bool) {
			return shareOf(c.Rejected+c.Shed+c.RateLimited, c.Sent, c.InFlight)
		})},
	{Client, "degraded_share", Share, false, "share of answered requests a fallback answered",
		client(func(c *sim.ClientResult) (float64, bool) { return shareOf(c.Degraded, c.Sent, c.InFlight) })},

	{Service, "utilisation", Share, false, "busy workers over workers, time average", service(func(c *sim.ComponentResult) (float64, bool) { return num(c.Utilisation) })},
	{Service, "p99", Ms, false, "99th percentile latency of successful requests", service(func(c *sim.ComponentResult) (float64, bool) { return num(c.Latency.P99) })},
	{Service, "throughput", PerSec, true, "completed requests per second", service(func(c *sim.ComponentResult) (float64, bool) { return num(c.ThroughputRPS) })},
	{Service, "error_share", Share, false, "share of arrivals that failed, were rejected or shed",
		service(func(c *sim.ComponentResult) (float64, bool) {
			return shareOf(c.Error+c.Rejected+c.Shed+c.RateLimited, c.Arrivals, c.InProgress)
		})},
	{Service, "wasted", Count, false, "work completed after its caller had given up", service(func(c *sim.ComponentResult) (float64, bool) { return num(c.Wasted) })},

	// A call's latency as its caller saw it (EdgeResult.Latency): none
	// for an edge that no call ended on.
	{Edge, "p50", Ms, false, "median latency of successful calls, as the caller saw them", edge(func(e *sim.EdgeResult) (float64, bool) { return timed(e.Latency, e.Latency.P50) })},
	{Edge, "p99", Ms, false, "99th percentile latency of successful calls, as the caller saw them", edge(func(e *sim.EdgeResult) (float64, bool) { return timed(e.Latency, e.Latency.P99) })},
	{Edge, "p999", Ms, false, "99.9th percentile latency of successful calls, as the caller saw them", edge(func(e *sim.EdgeResult) (float64, bool) { return timed(e.Latency, e.Latency.P999) })},
	{Edge, "p99_all", Ms, false, "99th percentile latency of every call that ended, as the caller saw it", edge(func(e *sim.EdgeResult) (float64, bool) { return timed(e.LatencyAll, e.LatencyAll.P99) })},
	{Edge, "retry_amplification", Ratio, false, "attempts per call", edge(func(e *sim.EdgeResult) (float64, bool) { return num(e.Amplification) })},
	{Edge, "short_circuited", Count, false, "calls refused by an open breaker", edge(func(e *sim.EdgeResult) (float64, bool) { return num(e.ShortCircuited) })},

	// The asynchronous and data half: consumer groups, topics, stores,
	// sagas and CQRS views.
	{Group, "consumer_lag", Seconds, false, "consumer lag at the end: age of the oldest uncommitted record, worst partition",
		group(func(g *sim.GroupResult) (float64, bool) { return num(g.LagS) })},
	{Group, "max_consumer_lag", Seconds, false, "largest consumer lag seen during the run", group(func(g *sim.GroupResult) (float64, bool) { return num(g.MaxLagS) })},
	{Group, "lag_records", Count, false, "records produced but not yet committed at the end", group(func(g *sim.GroupResult) (float64, bool) { return num(g.LagRecords) })},
	{Group, "duplicates", Count, false, "records processed again after a crash (at-least-once)", group(func(g *sim.GroupResult) (float64, bool) { return num(g.Duplicates) })},
	{Group, "lost", Count, false, "records the group will never read (expired, truncated, at-most-once)", group(func(g *sim.GroupResult) (float64, bool) { return num(g.Lost) })},
	{Group, "e2e_mean", Ms, false, "mean time from append to processed (a chain's mean is the sum of its stages')",
		group(func(g *sim.GroupResult) (float64, bool) { return num(g.EndToEnd.Mean) })},
	{Group, "e2e_p99", Ms, false, "99th percentile time from append to processed", group(func(g *sim.GroupResult) (float64, bool) { return num(g.EndToEnd.P99) })},
	{Topic, "lost", Count, false, "records cut from the log by a leader change", topic(func(t *sim.TopicResult) (float64, bool) { return num(t.Lost) })},
	{Topic, "lost_acked", Count, false, "acknowledged records lost by a leader change", topic(func(t *sim.TopicResult) (float64, bool) { return num(t.LostAcked) })},
	{Topic, "produce_errors", Count, false, "records their producer gave up on (delivery timeout, retries spent)",
		topic(func(t *sim.TopicResult) (float64, bool) { return num(t.ProduceErrors) })},
	{Store, "staleness", Share, false, "share of reads that returned an older version than the newest committed",
		store(func(s *sim.StoreResult) (float64, bool) { return num(s.StaleShare) })},
	// No value when the curve never reaches the share: an SLO's bound on
	// it is then broken, not met by a -1.
	{Store, "t_visibility_99", Ms, false, "time after a commit from which a read sees it with probability 99% (PBS t-visibility)",
		store(func(s *sim.StoreResult) (float64, bool) { return known(s.T99.MS) })},
	{Store, "t_visibility_999", Ms, false, "time after a commit from which a read sees it with probability 99.9% (PBS t-visibility)",
		store(func(s *sim.StoreResult) (float64, bool) { return known(s.T999.MS) })},
	{Store, "unavailable", Count, false, "operations refused: too few replicas up for the quorum", store(func(s *sim.StoreResult) (float64, bool) { return num(s.Unavailable) })},
	{Store, "timeouts", Count, false, "operations whose quorum did not answer in time", store(func(s *sim.StoreResult) (float64, bool) { return num(s.Timeouts) })},
	{Store, "lost_updates", Count, false, "acknowledged writes that last-writer-wins discarded", store(func(s *sim.StoreResult) (float64, bool) { return num(s.LostUpdates) })},
	{Store, "replication_lag_p99", Ms, false, "99th percentile time from a write to a replica applying it",
		store(func(s *sim.StoreResult) (float64, bool) { return num(s.ReplicationLag.P99) })},
	{Saga, "completed_share", Share, true, "share of the sagas that ended that completed",
		saga(func(s *sim.SagaResult) (float64, bool) { return shareOf(s.Completed, s.Started, s.Running) })},
	{Saga, "compensated_share", Share, false, "share of the sagas that ended that were compensated",
		saga(func(s *sim.SagaResult) (float64, bool) { return shareOf(s.Compensated, s.Started, s.Running) })},
	{Saga, "inconsistent", Count, false, "sagas left inconsistent by a failed compensation", saga(func(s *sim.SagaResult) (float64, bool) { return num(s.Inconsistent) })},
	{Saga, "anomalous", Count, false, "sagas counted completed or compensated whose participants disagree", saga(func(s *sim.SagaResult) (float64, bool) { return num(s.Anomalous) })},
	{Saga, "duration_p99", Ms, false, "99th percentile duration of completed sagas", saga(func(s *sim.SagaResult) (float64, bool) { return num(s.Duration.P99) })},
	{Fault, "blast_radius", Share, false, "share of the traffic (clients' and business flows') in flows that turned unhealthy after the fault",
		fault(func(c *sim.CascadeResult) (float64, bool) { return num(c.BlastRadius) })},
	{Fault, "propagation", Seconds, true, "time from the fault's start until the first client flow turned unhealthy (no value when none did)",
		fault(func(c *sim.CascadeResult) (float64, bool) { return known(c.FirstFlowS) })},
	{Fault, "components_hit", Count, false, "components, clients and flows that turned unhealthy after the fault",
		fault(func(c *sim.CascadeResult) (float64, bool) { return num(float64(len(c.Steps))) })},
	// The metastability verdict (sim/recovery.go).
	{Fault, "recovery_time", Seconds, false, "time from the fault's end until every client flow's goodput was back to 90% of its level before, and every consumer group it hit had caught up, over 5 s (no value when one did not recover)",
		fault(func(c *sim.CascadeResult) (float64, bool) {
			if c.RecoveryS == nil {
				return 0, false
			}
			return *c.RecoveryS, true
		})},
	// Read as 1 when a flow did not recover and 0 when all did, so that
	// its mean across replications is the share of runs that did not; no
	// value while the verdict is open (Recovered is nil).
	{Fault, "not_recovered", Share, false, "share of runs in which a client flow's goodput, or a consumer group it hit, did not come back after the fault, by the end of the run",
		fault(func(c *sim.CascadeResult) (float64, bool) {
			switch {
			case c.Recovered == nil:
				return 0, false
			case *c.Recovered:
				return 0, true
			}
			return 1, true
		})},
	{ReadModel, "ryw_miss_share", Share, false, "share of reads that missed the reader's own acknowledged write",
		view(func(v *sim.ViewResult) (float64, bool) { return num(v.MissShare) })},
	{ReadModel, "projection_lag", Seconds, false, "largest projection lag seen during the run", view(func(v *sim.ViewResult) (float64, bool) { return num(v.MaxLagS) })},
}

func init() {
	for i, m := range registry {
		if j := slices.IndexFunc(registry[:i], func(o Metric) bool { return o.Scope == m.Scope && o.Name == m.Name }); j >= 0 {
			panic(fmt.Sprintf("metric: %s %s registered twice", m.Scope, m.Name))
		}
	}
}

// Lookup finds the metric of a scope by name.
func Lookup(scope Scope, name string) (Metric, bool) {
	for _, m := range registry {
		if m.Scope == scope && m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// Names lists the metrics of a scope, for hints.
func Names(scope Scope) []string {
	var out []string
	for _, m := range registry {
		if m.Scope == scope {
			out = append(out, m.Name)
		}
	}
	return out
}

// All returns every registered metric.
func All() []Metric { return slices.Clone(registry) }

// Components lists the names of the components of a scope in the result,
// in its order.
func Components(res *sim.Result, scope Scope) []string {
	sec := sections[scope]
	if sec.n == nil {
		return nil
	}
	out := make([]string, sec.n(res))
	for i := range out {
		out[i] = sec.name(res, i)
	}
	return out
}

// Value reads metric m of the named component; false when the result has
// no such component or the metric is undefined for it (a share of nothing).
func (m Metric) Value(res *sim.Result, component string) (float64, bool) {
	sec := sections[m.Scope]
	if sec.n == nil {
		return 0, false
	}
	for i := range sec.n(res) {
		if sec.name(res, i) == component {
			return m.value(res, i)
		}
	}
	return 0, false
}

// Measure calls keep with every registered metric of every component of
// the result that has a value, metric by metric in the registry's order,
// components in the result's. Of components that share a name, the first
// is measured, as Value reads it.
func Measure(res *sim.Result, keep func(m Metric, component string, x float64)) {
	for _, m := range registry {
		sec := sections[m.Scope]
	components:
		for i := range sec.n(res) {
			name := sec.name(res, i)
			for j := range i {
				if sec.name(res, j) == name {
					continue components
				}
			}
			if x, ok := m.value(res, i); ok {
				keep(m, name, x)
			}
		}
	}
}
