package bench_test

import (
	"context"
	"fmt"
	"os"

	"github.com/faultline/faultline/bench"
	"github.com/faultline/faultline/bench/metric"
	"github.com/faultline/faultline/scenarios"
)

// A bench of a scenario's variants: plan, execute, report.
func Example() {
	data, _ := os.ReadFile("testdata/small.toml")
	m, err := bench.Plan(bench.Config{
		Sources:      []bench.Source{{Arg: "small", File: "small.toml", Data: data}},
		Replications: 3,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	runs, _ := bench.Execute(context.Background(), m, bench.Options{Parallel: 2})
	rep := bench.NewReport(m, runs)
	for _, c := range rep.Comparisons {
		if c.Key == "client/users/success_rate" {
			fmt.Printf("%s vs %s: %s\n", m.Cells[c.Cell].Label, m.Cells[c.Baseline].Label, c.Verdict)
		}
	}
	fmt.Println("SLOs violated:", bench.Violated(rep.SLOs))
	// Output:
	// retry vs plain: worse
	// SLOs violated: true
}

// Statistics of a sample: the mean with its 95% confidence interval.
func ExampleSummarize() {
	s := bench.Summarize([]float64{2, 4, 4, 4, 5, 5, 7, 9})
	fmt.Printf("mean %.2f, 95%% CI [%.2f, %.2f]\n", s.Mean, s.Lo(), s.Hi())
	// Output: mean 5.00, 95% CI [3.21, 6.79]
}

// Checking a scenario's SLOs on one run, as 'faultline run' does.
func ExampleCheckRun() {
	data, _ := os.ReadFile("testdata/small.toml")
	sc, _ := scenarios.LoadScenario("small.toml", data, scenarios.Options{Variant: "plain"})
	fmt.Println(len(sc.SLOs), "SLOs, the first:", sc.SLOs[0])
	m, _ := metric.Lookup(metric.Client, "p99")
	fmt.Println(m.Format(212.4), m.Higher)
	// Output:
	// 2 SLOs, the first: users success_rate >= 90.0%
	// 212 ms false
}
