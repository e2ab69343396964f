// Package bench runs scenarios across many seeds and variants and reports
// which design is better and how sure we are: per variant and metric, the
// mean, standard deviation, 95% confidence interval (Student's t) and range
// across replications; against a baseline variant, the difference with its
// interval and whether it is significant (a paired t-test on the
// per-replication differences when the two ran the same seeds, as they do
// by default; Welch's unpaired t-test when not); and the
// scenario's SLOs. The metrics it measures, and the SLO check, are
// sim/metric's: typed readers of each replication's sim.Result.
//
// A bench is planned, executed, and reported:
//
//	m, err := bench.Plan(bench.Config{Sources: srcs, Replications: 20})
//	runs, err := bench.Execute(ctx, m, bench.Options{Parallel: 4})
//	rep := bench.NewReport(m, runs)
//	rep.WriteMarkdown(os.Stdout)
//
// Replication i of every cell runs with seed base+i, and Execute returns
// the runs in job order whatever order they finished in, so a report is
// byte-identical whatever the parallelism. A shard (Options.Shard) runs a
// deterministic slice of the jobs; WritePartial and ReadPartial carry its
// runs to a Merge, which gives the report one run would have given.
package bench
