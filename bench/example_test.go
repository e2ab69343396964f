package bench_test

import (
	"context"
	"fmt"
	"os"

	"github.com/faultline/faultline/bench"
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
