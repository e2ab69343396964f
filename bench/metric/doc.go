// Package metric is the registry of the figures that SLOs check and bench
// reports compare: a metric has a scope (client, service, edge, and the
// consumer groups, topics, stores and sagas of the messaging and data
// models), a name, a unit and a direction (is more better?).
//
// A metric reads a run's Result through its JSON, section by section, so
// that a section the engine adds later is measured without changes here
// beyond registering its metrics:
//
//	v, _ := metric.Of(res)                       // res is a *sim.Result
//	m, _ := metric.Lookup(metric.Client, "p99")
//	p99, ok := m.Value(v, "shoppers")            // in ms; ok is false without data
//	fmt.Println(m.Format(p99))                   // "212 ms"
package metric
