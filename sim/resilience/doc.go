// Package resilience holds the resilience policies of faultline's edges:
// circuit breakers, retry backoff and budgets, load balancing, outlier
// detection and autoscaling, each modelled on the library or system that
// defines it (see the type's documentation for the source).
//
// Every policy is a pure, deterministic state machine, so that a simulation
// replays exactly from its seed: no goroutines, no wall clock, no global
// randomness. Virtual time comes in as int64 nanoseconds (now), and a policy
// whose state changes by itself with time says when through a method the
// engine schedules an event for. The engine consults these types on its hot
// path, millions of times per simulated second, so their per-call methods
// allocate nothing: buffers are sized once by the constructors.
//
// A policy is not safe for concurrent use; one simulation owns it.
package resilience
