// Package compare sets a scenario against the traces of the system it
// models: it runs the scenario at the load the traces show, then lays the
// observed figures of each operation beside the simulated ones.
//
//	m, err := importer.Import(files, importer.Options{}) // the observation
//	notes := compare.AtObservedLoad(spec, m, 1)          // rates, duration
//	res := sim.New(spec, spec.Seed) ... Run()
//	rep := compare.Compare(m, res, compare.Options{MinSpans: 50})
//	rep.WriteText(os.Stdout) // or json.Marshal(rep)
//
// An operation's observed latency is its spans' duration (the server span
// of a call, the root span of an entry): from the moment the service took
// the request to its answer. The simulated one is the operation's latency
// in sim.Result (components[].operations[].latency_ms): from the request's
// arrival at the service to the end of its work, queueing and downstream
// calls included, which is what a server span covers. scenarios.md,
// "Comparing with traces", has the rules.
package compare
