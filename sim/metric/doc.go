// Package metric is the registry of the figures that SLOs check and bench
// reports compare, and the SLO check itself. A metric has a scope (client,
// service, edge, and the consumer groups, topics, stores, sagas, views and
// fault cascades of a run), a name, a unit and a direction (is more
// better?), and reads a run's sim.Result through typed accessors: a field
// the engine renames breaks the build here, not a metric's data.
//
// (sim/metrics, beside it, is the histogram the engine records latencies
// in; this package reads the Result the engine built from them.)
//
//	m, _ := metric.Lookup(metric.Client, "p99")
//	p99, ok := m.Value(res, "shoppers")          // in ms; ok is false without data
//	fmt.Println(m.Format(p99))                   // "212 ms"
//
//	for _, c := range metric.Checks(slos, res) { // a scenario's [[slo]] tables
//		fmt.Println(c.Status(), c.SLO.Label())   // "VIOLATED shoppers p99 <= 200 ms"
//	}
package metric
