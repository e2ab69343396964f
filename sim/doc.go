// Package sim is faultline's discrete-event engine and its component models:
// clients, services with instances, workers and queues, downstream calls,
// and faults.
//
// A Sim is a deterministic state machine driven from outside, like etcd's
// raft.RawNode: it does no IO, starts no goroutines, reads no wall clock and
// uses no global randomness. Drivers advance it and read it:
//
//	spec, err := scenarios.Load("checkout.toml", data) // or build a Spec by hand
//	s, err := sim.New(spec, spec.Seed)
//	for !s.Done() {
//		s.RunUntil(s.Now() + time.Second) // one slice of virtual time
//		snap := s.Snapshot()              // an independent copy for a UI
//		_ = snap
//	}
//	res := s.Result() // aggregates after warmup, time series, event log
//
// Virtual time is int64 nanoseconds. Events are ordered by (time, sequence)
// in a 4-ary heap of small values; the engine allocates nothing per event
// once its request pool and queues have grown to the scenario's working size.
// Each component draws from its own PCG stream seeded from (seed, component
// name), so the same spec and seed give identical results on any machine,
// and adding a component does not shift the draws of the others.
//
// Every request a client sends ends in exactly one Outcome (OK, Error,
// Timeout, Rejected) or is still in flight at the end; Result.CheckConservation
// verifies it.
package sim
