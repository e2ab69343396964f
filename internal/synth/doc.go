// Package synth generates large synthetic topologies shaped like published
// production call graphs, as scenario TOML that scenarios.Load reads:
//
//	data := synth.TOML(synth.Default())        // 1,000 services, 10,000 requests/s
//	spec, err := scenarios.Load("synthetic-1000", data)
//	s, err := sim.New(spec, spec.Seed)
//	res := s.Run()
//
// The same Config always gives the same bytes. testdata/synthetic-1000.toml
// at the module root is synth.TOML(synth.Default()), checked in so that
// `faultline run testdata/synthetic-1000.toml` runs it; `go test
// ./internal/synth -update` rewrites it.
package synth
