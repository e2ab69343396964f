package bench

import (
	"context"
	"testing"

	"github.com/faultline/faultline/scenarios"
)

// BenchmarkExecute measures a bench of the built-in resilience-shootout,
// 5 variants x 4 replications, on 1 and 2 workers: the speedup of the
// worker pool.
func BenchmarkExecute(b *testing.B) {
	name, data, err := scenarios.Open("resilience-shootout")
	if err != nil {
		b.Fatal(err)
	}
	m, err := Plan(Config{Sources: []Source{{Arg: name, File: name, Data: data}}, Replications: 4})
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []int{1, 2} {
		b.Run(map[int]string{1: "parallel=1", 2: "parallel=2"}[p], func(b *testing.B) {
			for b.Loop() {
				if _, err := Execute(context.Background(), m, Options{Parallel: p}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
