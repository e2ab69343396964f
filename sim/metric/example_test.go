package metric_test

import (
	"fmt"

	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/metric"
)

func Example() {
	res := &sim.Result{Clients: []sim.ClientResult{{Name: "shoppers", Sent: 1000, OK: 990, Timeout: 10,
		SuccessRate: 0.99, Latency: sim.Latency{P99: 212.4}}}}
	for _, name := range []string{"p99", "success_rate", "timeout_share"} {
		m, _ := metric.Lookup(metric.Client, name)
		x, ok := m.Value(res, "shoppers")
		fmt.Println(name, m.Format(x), ok)
	}
	_, ok := metric.Lookup(metric.Group, "consumer_lag")
	fmt.Println("consumer_lag registered:", ok)
	slo := metric.SLO{Scope: metric.Client, Target: "shoppers", Metric: "p99", Max: 200, HasMax: true}
	for _, c := range metric.Checks([]metric.SLO{slo}, res) {
		fmt.Println(c.Status(), c.Text, "was", c.ValueText())
	}
	// Output:
	// p99 212 ms true
	// success_rate 99.00% true
	// timeout_share 1.0% true
	// consumer_lag registered: true
	// VIOLATED shoppers p99 <= 200 ms was 212 ms
}
