package metric_test

import (
	"fmt"

	"github.com/faultline/faultline/bench/metric"
	"github.com/faultline/faultline/sim"
)

func Example() {
	res := &sim.Result{Clients: []sim.ClientResult{{Name: "shoppers", Sent: 1000, OK: 990, Timeout: 10,
		SuccessRate: 0.99, Latency: sim.Latency{P99: 212.4}}}}
	v, _ := metric.Of(res)
	for _, name := range []string{"p99", "success_rate", "timeout_share"} {
		m, _ := metric.Lookup(metric.Client, name)
		x, ok := m.Value(v, "shoppers")
		fmt.Println(name, m.Format(x), ok)
	}
	_, ok := metric.Lookup(metric.Group, "consumer_lag")
	fmt.Println("consumer_lag registered:", ok)
	// Output:
	// p99 212 ms true
	// success_rate 99.00% true
	// timeout_share 1.0% true
	// consumer_lag registered: true
}
