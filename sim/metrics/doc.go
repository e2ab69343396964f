// Package metrics aggregates the latencies a simulation produces.
//
// Its Histogram is log-linear (in the style of HdrHistogram): constant
// memory, no allocation per Record, mergeable across windows or services, and
// accurate to within 1/256 relative error for quantiles, which the simulator
// reports instead of keeping every sample.
//
// A typical use records nanosecond latencies for one time-series window,
// reduces them to a Summary, merges them into a whole-run histogram and
// reuses the window's histogram:
//
//	var window, total metrics.Histogram
//	for _, d := range latencies {
//		window.Record(int64(d))
//	}
//	s := window.Summarize() // milliseconds: s.P99, s.Max, ...
//	total.Merge(&window)
//	window.Reset()
package metrics
