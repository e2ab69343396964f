package metric_test

import (
	"testing"

	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/metric"
)

// builtinResults runs every built-in scenario to its end, once per test
// binary.
func builtinResults(t *testing.T) map[string]*sim.Result {
	t.Helper()
	out := map[string]*sim.Result{}
	for _, b := range scenarios.List() {
		file, data, err := scenarios.Open(b.Name)
		if err != nil {
			t.Fatal(err)
		}
		spec, err := scenarios.Load(file, data)
		if err != nil {
			t.Fatalf("%s: %v", b.Name, err)
		}
		s, err := sim.New(spec, 1)
		if err != nil {
			t.Fatalf("%s: %v", b.Name, err)
		}
		s.RunUntil(spec.Duration)
		out[b.Name] = s.Result()
	}
	return out
}

// TestEveryMetricHasData: every registered metric yields a value on some
// component of some built-in scenario that has components of its scope. A
// metric whose accessor reads the wrong field, or a share whose total is
// always empty, would be "NO DATA" in every SLO and report row.
func TestEveryMetricHasData(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every built-in scenario")
	}
	results := builtinResults(t)
	for _, m := range metric.All() {
		t.Run(string(m.Scope)+"/"+m.Name, func(t *testing.T) {
			components := 0
			for _, b := range scenarios.List() {
				res := results[b.Name]
				for _, c := range metric.Components(res, m.Scope) {
					components++
					if _, ok := m.Value(res, c); ok {
						return
					}
				}
			}
			if components == 0 {
				t.Fatalf("no built-in scenario has a %s", m.Scope)
			}
			t.Errorf("no value on any of the %d %s components of the built-in scenarios", components, m.Scope)
		})
	}
}

// TestMetricsReadTheirFields: each metric reads the field its name and
// description say, on a result built by hand: a metric wired to the wrong
// field of the right type would compile.
func TestMetricsReadTheirFields(t *testing.T) {
	recovered, recoveryS := false, 12.5
	res := &sim.Result{
		Clients: []sim.ClientResult{{Name: "c", Sent: 110, InFlight: 10, OK: 60, Error: 10, Timeout: 20, Rejected: 4, Shed: 3, RateLimited: 3,
			Degraded: 5, SuccessRate: 0.6, GoodputRPS: 6,
			Latency:    sim.Latency{Mean: 1, P50: 2, P90: 3, P99: 4, P999: 5},
			LatencyAll: sim.Latency{Mean: 11, P50: 12, P90: 13, P99: 14, P999: 15}}},
		Components: []sim.ComponentResult{{Name: "s", Arrivals: 105, InProgress: 5, Error: 10, Rejected: 5, Shed: 3, RateLimited: 2,
			Wasted: 7, ThroughputRPS: 9, Utilisation: 0.7, Latency: sim.Latency{P99: 21}}},
		Edges: []sim.EdgeResult{{Name: "a->b", Amplification: 1.5, ShortCircuited: 8,
			Latency: sim.Latency{Count: 1, P50: 31, P99: 32, P999: 33}, LatencyAll: sim.Latency{Count: 2, P99: 34}}},
		Groups: []sim.GroupResult{{Name: "g", LagS: 1, MaxLagS: 2, LagRecords: 3, Duplicates: 4, Lost: 5, EndToEnd: sim.Latency{Mean: 6, P99: 7}}},
		Topics: []sim.TopicResult{{Name: "t", Lost: 1, LostAcked: 2, ProduceErrors: 3}},
		Stores: []sim.StoreResult{{Name: "st", StaleShare: 0.25, T99: sim.TVis{MS: ms(31)}, T999: sim.TVis{},
			Unavailable: 2, Timeouts: 3, LostUpdates: 4, ReplicationLag: sim.Latency{P99: 5}}},
		Sagas: []sim.SagaResult{{Name: "sg", Started: 12, Running: 2, Completed: 6, Compensated: 3, Inconsistent: 1, Anomalous: 2, Duration: sim.Latency{P99: 40}}},
		Views: []sim.ViewResult{{Name: "v", MissShare: 0.125, MaxLagS: 3}},
		Cascades: []sim.CascadeResult{{Name: "latency", BlastRadius: 0.5, FirstFlowS: ms(1.25),
			Steps: make([]sim.CascadeStep, 3), RecoveryS: &recoveryS, Recovered: &recovered}},
	}
	want := map[metric.Scope]map[string]float64{
		metric.Client: {"success_rate": 0.6, "p50": 2, "p90": 3, "p99": 4, "p999": 5, "mean_latency": 1,
			"p50_all": 12, "p90_all": 13, "p99_all": 14, "p999_all": 15, "mean_latency_all": 11, "goodput": 6,
			"error_share": 0.1, "timeout_share": 0.2, "rejected_share": 0.1, "degraded_share": 0.05},
		metric.Service: {"utilisation": 0.7, "p99": 21, "throughput": 9, "error_share": 0.2, "wasted": 7},
		metric.Edge:    {"retry_amplification": 1.5, "short_circuited": 8, "p50": 31, "p99": 32, "p999": 33, "p99_all": 34},
		metric.Group: {"consumer_lag": 1, "max_consumer_lag": 2, "lag_records": 3, "duplicates": 4, "lost": 5,
			"e2e_mean": 6, "e2e_p99": 7},
		metric.Topic: {"lost": 1, "lost_acked": 2, "produce_errors": 3},
		metric.Store: {"staleness": 0.25, "t_visibility_99": 31, "unavailable": 2, "timeouts": 3, "lost_updates": 4,
			"replication_lag_p99": 5},
		metric.Saga:      {"completed_share": 0.6, "compensated_share": 0.3, "inconsistent": 1, "anomalous": 2, "duration_p99": 40},
		metric.ReadModel: {"ryw_miss_share": 0.125, "projection_lag": 3},
		metric.Fault:     {"blast_radius": 0.5, "propagation": 1.25, "components_hit": 3, "recovery_time": 12.5, "not_recovered": 1},
	}
	// No value: the curve never reached 99.9 %.
	noValue := map[string]bool{"store/t_visibility_999": true}
	for _, m := range metric.All() {
		comps := metric.Components(res, m.Scope)
		if len(comps) != 1 {
			t.Fatalf("%s: components %q, want one", m.Scope, comps)
		}
		x, ok := m.Value(res, comps[0])
		key := string(m.Scope) + "/" + m.Name
		if noValue[key] {
			if ok {
				t.Errorf("%s = %g, want no value", key, x)
			}
			continue
		}
		w, listed := want[m.Scope][m.Name]
		switch {
		case !listed:
			t.Errorf("%s: not in the test's table", key)
		case !ok || x != w:
			t.Errorf("%s = %g (%v), want %g", key, x, ok, w)
		}
	}
}

// TestValueWithoutData: a share of nothing and an unknown component have
// no value, and a fault whose verdict is open has none for not_recovered.
func TestValueWithoutData(t *testing.T) {
	res := &sim.Result{Clients: []sim.ClientResult{{Name: "idle"}}, Cascades: []sim.CascadeResult{{Name: "crash"}}}
	for _, tt := range []struct {
		scope     metric.Scope
		name, cmp string
	}{
		{metric.Client, "error_share", "idle"},
		{metric.Client, "p99", "nobody"},
		{metric.Fault, "not_recovered", "crash"},
		{metric.Fault, "recovery_time", "crash"},
	} {
		m, _ := metric.Lookup(tt.scope, tt.name)
		if x, ok := m.Value(res, tt.cmp); ok {
			t.Errorf("%s %s of %s = %g, want no value", tt.scope, tt.name, tt.cmp, x)
		}
	}
}

// TestChecks: an SLO is met within its bounds, violated outside, and has
// no data when its component is not in the result.
func TestChecks(t *testing.T) {
	res := &sim.Result{Clients: []sim.ClientResult{{Name: "shoppers", Sent: 100, OK: 99, SuccessRate: 0.99, Latency: sim.Latency{P99: 212.4}}}}
	for _, tt := range []struct {
		name   string
		slo    metric.SLO
		status string
		text   string
	}{
		{"max met", metric.SLO{Scope: metric.Client, Target: "shoppers", Metric: "p99", Max: 300, HasMax: true}, "met", "shoppers p99 <= 300 ms"},
		{"max broken", metric.SLO{Scope: metric.Client, Target: "shoppers", Metric: "p99", Max: 200, HasMax: true}, "VIOLATED", "shoppers p99 <= 200 ms"},
		{"min broken", metric.SLO{Scope: metric.Client, Target: "shoppers", Metric: "success_rate", Min: 0.999, HasMin: true}, "VIOLATED", "shoppers success_rate >= 99.900%"},
		{"no component", metric.SLO{Scope: metric.Client, Target: "bots", Metric: "p99", Max: 300, HasMax: true}, "NO DATA", "bots p99 <= 300 ms"},
	} {
		c := metric.Checks([]metric.SLO{tt.slo}, res)[0]
		if c.Status() != tt.status || c.Text != tt.text {
			t.Errorf("%s: %s %q, want %s %q", tt.name, c.Status(), c.Text, tt.status, tt.text)
		}
	}
}

func ms(x float64) *float64 { return &x }
