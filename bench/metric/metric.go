package metric

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

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

// section is the field of the Result's JSON that holds the scope's
// components. Reading the result through its JSON lets a metric of a
// section the engine does not fill yet (consumer groups, stores, sagas)
// be declared now and measured as soon as the engine reports it, without
// code here naming Go fields that do not exist yet.
var section = map[Scope]string{
	Client: "clients", Service: "components", Edge: "edges",
	Group: "groups", Topic: "topics", Store: "stores", Saga: "sagas", ReadModel: "views", Fault: "cascades",
}

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
	value  func(c map[string]any) (float64, bool)
}

// registry holds every metric, in the order reports list them.
var registry []Metric

// Register adds a metric. Engine work that adds a section to the Result
// (its JSON field is the scope's section) registers its metrics here in an
// init function, and they become available to SLOs and reports.
func Register(m Metric) {
	if _, ok := Lookup(m.Scope, m.Name); ok {
		panic(fmt.Sprintf("metric: %s %s registered twice", m.Scope, m.Name))
	}
	registry = append(registry, m)
}

// Field returns an accessor for a number at a dotted path in a component's
// JSON object, such as "latency_ms.p99".
func Field(path string) func(map[string]any) (float64, bool) {
	keys := strings.Split(path, ".")
	return func(c map[string]any) (float64, bool) {
		var v any = c
		for _, k := range keys {
			m, ok := v.(map[string]any)
			if !ok {
				return 0, false
			}
			v = m[k]
		}
		f, ok := v.(float64)
		return f, ok
	}
}

// Known is Field for a number that is -1 when there is none to report.
func Known(path string) func(map[string]any) (float64, bool) {
	f := Field(path)
	return func(c map[string]any) (float64, bool) {
		v, ok := f(c)
		return v, ok && v >= 0
	}
}

// Not returns an accessor for a boolean field read as 1 when false and
// 0 when true, so that its mean across replications is the share in
// which it was false; no value when the field is null or absent.
func Not(key string) func(map[string]any) (float64, bool) {
	return func(c map[string]any) (float64, bool) {
		b, ok := c[key].(bool)
		if !ok {
			return 0, false
		}
		if b {
			return 0, true
		}
		return 1, true
	}
}

// Len returns an accessor for the length of a list field.
func Len(key string) func(map[string]any) (float64, bool) {
	return func(c map[string]any) (float64, bool) {
		l, ok := c[key].([]any)
		if !ok && c[key] == nil {
			return 0, true // an empty list is written as null
		}
		return float64(len(l)), ok
	}
}

// ShareOf returns an accessor for the sum of the fields num over the
// total, the sum of the fields of, minus the fields of less: the share of
// answered requests that ended in an outcome.
func ShareOf(num, of, less []string) func(map[string]any) (float64, bool) {
	sum := func(c map[string]any, keys []string) (float64, bool) {
		t := 0.0
		for _, k := range keys {
			f, ok := c[k].(float64)
			if !ok {
				return 0, false
			}
			t += f
		}
		return t, true
	}
	return func(c map[string]any) (float64, bool) {
		n, ok1 := sum(c, num)
		d, ok2 := sum(c, of)
		l, ok3 := sum(c, less)
		if !ok1 || !ok2 || !ok3 || d-l <= 0 {
			return 0, false
		}
		return n / (d - l), true
	}
}

// New declares a metric read with value; Register adds it.
func New(scope Scope, name string, unit Unit, higher bool, doc string, value func(map[string]any) (float64, bool)) Metric {
	return Metric{Scope: scope, Name: name, Unit: unit, Higher: higher, Doc: doc, value: value}
}

func init() {
	answered := []string{"sent"}
	inFlight := []string{"in_flight"}
	for _, m := range []Metric{
		New(Client, "success_rate", Share, true, "OK over answered requests", Field("success_rate")),
		New(Client, "p50", Ms, false, "median latency of successful requests", Field("latency_ms.p50")),
		New(Client, "p90", Ms, false, "90th percentile latency of successful requests", Field("latency_ms.p90")),
		New(Client, "p99", Ms, false, "99th percentile latency of successful requests", Field("latency_ms.p99")),
		New(Client, "p999", Ms, false, "99.9th percentile latency of successful requests", Field("latency_ms.p999")),
		New(Client, "mean_latency", Ms, false, "mean latency of successful requests", Field("latency_ms.mean")),
		// Of every answered request, timeouts at the client's timeout: it
		// rises in an outage where the latency of successes can fall.
		New(Client, "p50_all", Ms, false, "median latency of all answered requests", Field("latency_all_ms.p50")),
		New(Client, "p90_all", Ms, false, "90th percentile latency of all answered requests", Field("latency_all_ms.p90")),
		New(Client, "p99_all", Ms, false, "99th percentile latency of all answered requests", Field("latency_all_ms.p99")),
		New(Client, "p999_all", Ms, false, "99.9th percentile latency of all answered requests", Field("latency_all_ms.p999")),
		New(Client, "mean_latency_all", Ms, false, "mean latency of all answered requests", Field("latency_all_ms.mean")),
		New(Client, "goodput", PerSec, true, "successful requests per second after warmup", Field("goodput_rps")),
		New(Client, "error_share", Share, false, "share of answered requests that failed with an error", ShareOf([]string{"error"}, answered, inFlight)),
		New(Client, "timeout_share", Share, false, "share of answered requests that timed out", ShareOf([]string{"timeout"}, answered, inFlight)),
		New(Client, "rejected_share", Share, false, "share of answered requests rejected, shed or rate limited",
			ShareOf([]string{"rejected", "shed", "rate_limited"}, answered, inFlight)),
		New(Client, "degraded_share", Share, false, "share of answered requests a fallback answered",
			ShareOf([]string{"degraded"}, answered, inFlight)),

		New(Service, "utilisation", Share, false, "busy workers over workers, time average", Field("utilisation")),
		New(Service, "p99", Ms, false, "99th percentile latency of successful requests", Field("latency_ms.p99")),
		New(Service, "throughput", PerSec, true, "completed requests per second", Field("throughput_rps")),
		New(Service, "error_share", Share, false, "share of arrivals that failed, were rejected or shed",
			ShareOf([]string{"error", "rejected", "shed", "rate_limited"}, []string{"arrivals"}, []string{"in_progress"})),
		New(Service, "wasted", Count, false, "work completed after its caller had given up", Field("wasted")),

		New(Edge, "retry_amplification", Ratio, false, "attempts per call", Field("retry_amplification")),
		New(Edge, "short_circuited", Count, false, "calls refused by an open breaker", Field("short_circuited")),

		// The asynchronous and data half: consumer groups, topics, stores,
		// sagas and CQRS views.
		New(Group, "consumer_lag", Seconds, false, "consumer lag at the end: age of the oldest uncommitted record, worst partition", Field("lag_s")),
		New(Group, "max_consumer_lag", Seconds, false, "largest consumer lag seen during the run", Field("max_lag_s")),
		New(Group, "lag_records", Count, false, "records produced but not yet committed at the end", Field("lag_records")),
		New(Group, "duplicates", Count, false, "records processed again after a crash (at-least-once)", Field("duplicates")),
		New(Group, "lost", Count, false, "records the group will never read (expired, truncated, at-most-once)", Field("lost")),
		New(Group, "e2e_mean", Ms, false, "mean time from append to processed (a chain's mean is the sum of its stages')", Field("end_to_end_ms.mean")),
		New(Group, "e2e_p99", Ms, false, "99th percentile time from append to processed", Field("end_to_end_ms.p99")),
		New(Topic, "lost", Count, false, "records cut from the log by a leader change", Field("lost")),
		New(Topic, "lost_acked", Count, false, "acknowledged records lost by a leader change", Field("lost_acked")),
		New(Topic, "produce_errors", Count, false, "records their producer gave up on (delivery timeout, retries spent)", Field("produce_errors")),
		New(Store, "staleness", Share, false, "share of reads that returned an older version than the newest committed", Field("stale_share")),
		// No value when the curve never reaches the share: an SLO's bound
		// on it is then broken, not met by a -1.
		New(Store, "t_visibility_99", Ms, false, "time after a commit from which a read sees it with probability 99% (PBS t-visibility)", Known("t_visibility_99.ms")),
		New(Store, "t_visibility_999", Ms, false, "time after a commit from which a read sees it with probability 99.9% (PBS t-visibility)", Known("t_visibility_999.ms")),
		New(Store, "unavailable", Count, false, "operations refused: too few replicas up for the quorum", Field("unavailable")),
		New(Store, "timeouts", Count, false, "operations whose quorum did not answer in time", Field("timeouts")),
		New(Store, "lost_updates", Count, false, "acknowledged writes that last-writer-wins discarded", Field("lost_updates")),
		New(Store, "replication_lag_p99", Ms, false, "99th percentile time from a write to a replica applying it", Field("replication_lag_ms.p99")),
		New(Saga, "completed_share", Share, true, "share of the sagas that ended that completed", ShareOf([]string{"completed"}, []string{"started"}, []string{"running"})),
		New(Saga, "compensated_share", Share, false, "share of the sagas that ended that were compensated", ShareOf([]string{"compensated"}, []string{"started"}, []string{"running"})),
		New(Saga, "inconsistent", Count, false, "sagas left inconsistent by a failed compensation", Field("inconsistent")),
		New(Saga, "duration_p99", Ms, false, "99th percentile duration of completed sagas", Field("duration_ms.p99")),
		New(Fault, "blast_radius", Share, false, "share of the clients' traffic in flows that turned unhealthy after the fault", Field("blast_radius")),
		New(Fault, "propagation", Seconds, true, "time from the fault's start until the first client flow turned unhealthy (no value when none did)", Known("first_flow_s")),
		New(Fault, "components_hit", Count, false, "components, clients and flows that turned unhealthy after the fault", Len("steps")),
		// The metastability verdict (sim/recovery.go).
		New(Fault, "recovery_time", Seconds, false, "time from the fault's end until every client flow's goodput was back to 90% of its level before, over 5 s (no value when one did not recover)", Field("recovery_s")),
		New(Fault, "not_recovered", Share, false, "share of runs in which a client flow's goodput did not come back after the fault, by the end of the run", Not("recovered")),
		New(ReadModel, "ryw_miss_share", Share, false, "share of reads that missed the reader's own acknowledged write", Field("miss_share")),
		New(ReadModel, "projection_lag", Seconds, false, "largest projection lag seen during the run", Field("max_lag_s")),
	} {
		Register(m)
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

// View is a result read as JSON objects, by section, so that metrics can
// read any section by name.
type View struct {
	sections map[string][]map[string]any
}

// Of reads a result. It fails only if the result cannot be encoded, which
// a result of the engine always can.
func Of(res *sim.Result) (View, error) {
	// The totals only: the time series would multiply the bytes to parse.
	data, err := json.Marshal(res.WithoutSeries())
	if err != nil {
		return View{}, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return View{}, err
	}
	v := View{sections: make(map[string][]map[string]any)}
	for _, sec := range section {
		var list []map[string]any
		if msg, ok := raw[sec]; ok && json.Unmarshal(msg, &list) == nil {
			v.sections[sec] = list
		}
	}
	return v, nil
}

// Components lists the names of the components of a scope in the result,
// in its order.
func (v View) Components(scope Scope) []string {
	var out []string
	for _, c := range v.sections[section[scope]] {
		if n, ok := c["name"].(string); ok {
			out = append(out, n)
		}
	}
	return out
}

// Value reads metric m of the named component; false when the result has
// no such component or the metric is undefined for it (a share of nothing).
func (m Metric) Value(v View, component string) (float64, bool) {
	for _, c := range v.sections[section[m.Scope]] {
		if c["name"] == component {
			return m.value(c)
		}
	}
	return 0, false
}

// Format writes a value of the metric's unit for a person.
func (m Metric) Format(x float64) string { return m.Unit.Format(x) }

// Format writes a value of the unit for a person: shares as percentages,
// latencies in ms with three significant digits.
func (u Unit) Format(x float64) string {
	switch u {
	case Ms:
		return sig3(x) + " ms"
	case Seconds:
		return sig3(x) + " s"
	case Share:
		return pct(x)
	case PerSec:
		return sig3(x) + "/s"
	case Ratio:
		return fmt.Sprintf("%.3fx", x)
	}
	return sig3(x)
}

// FormatDiff writes a difference of two values of the unit, with its sign.
func (u Unit) FormatDiff(x float64) string {
	sign := "+"
	if x < 0 {
		sign, x = "-", -x
	}
	if u == Share {
		return sign + sig3(x*100) + " pt"
	}
	return sign + u.Format(x)
}

// sig3 writes x with about three significant digits, like the run summary.
func sig3(x float64) string {
	a := x
	if a < 0 {
		a = -a
	}
	switch {
	case a == 0:
		return "0"
	case a >= 100:
		return fmt.Sprintf("%.0f", x)
	case a >= 10:
		return fmt.Sprintf("%.1f", x)
	case a >= 1:
		return fmt.Sprintf("%.2f", x)
	case a >= 0.001:
		return fmt.Sprintf("%.3f", x)
	}
	return fmt.Sprintf("%.2g", x)
}

// pct writes a share as a percentage with enough digits to tell 99.9% from
// 99.99%.
func pct(x float64) string {
	switch {
	case x == 1:
		return "100%"
	case x >= 0.999 || (x > 0 && x < 0.001):
		return fmt.Sprintf("%.3f%%", x*100)
	case x >= 0.99 || x < 0.01:
		return fmt.Sprintf("%.2f%%", x*100)
	}
	return fmt.Sprintf("%.1f%%", x*100)
}
