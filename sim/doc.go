// Package sim is faultline's discrete-event engine and its component models:
// clients and their flows, services with instances, workers, queues and
// operations, downstream calls with their resilience policies (sim/resilience),
// brokers with topics and consumer groups, replicated stores, sagas, CQRS
// views, and faults.
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
// Timeout, Rejected, Shed, Limited) or is still in flight at the end;
// Result.CheckConservation verifies it.
//
// # The read model
//
// The engine decides what happened, once, and Result is its typed answer;
// views (the run summary in package summary, --json, the TUI, bench) read it
// instead of re-deriving its rules. Every component has a series of windows
// of one type (Window: the common counts, one latency summary, its Health
// and the Reason that decided it, and each data kind's own figures in a
// small struct; window.go, health.go; slowness.go the latency side of
// health: slow answers are failures too), and a health over the whole run
// (judgeTotals; a data kind's by its windows' rule, judgeTopic, ...); what each kind of fault can target is one table
// (FaultTargets, beside DefaultParams); a failed request carries its
// origin up the call chain (provenance.go), so a window counts its
// failures by origin (Blame), and its slow answers by the fault that
// slowed them (Slow); the
// fault spans are typed (FaultSpan), and so is the event log (Event: time,
// component, kind, health, fault, text). The cascade (cascade.go) gives
// each unhealthy episode to the faults its failures trace to, and the
// recovery verdict (recovery.go) says whether the run came back after a
// fault's end. sim/metric reads figures and checks SLOs on a Result.
//
// # Files
//
// sim.go the Sim and its driver surface; heap.go the event queue; ring.go
// the request FIFOs; request.go requests and their outcomes; spec.go and
// spec_data.go the Spec. The synchronous models: client.go, service.go,
// operation.go, call.go, resil.go, guard.go, budget.go, deploy.go,
// autoscale.go. The data models: data.go (joins them to requests),
// broker.go, consumer.go, store.go, visibility.go, saga.go, view.go. The
// faults: fault.go, faultkind.go, target.go. The read model: window.go,
// health.go, slowness.go, provenance.go, cascade.go, recovery.go, result.go,
// result_data.go. Subpackages: dist (distributions), metrics (histograms),
// metric (the metric registry and SLOs), resilience (breakers, retries,
// budgets, balancers, outlier detection, autoscaling).
package sim
