package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"testing"
	"time"

	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
)

// chain10File is sim's BenchmarkChain10 model as a scenario a user can run:
// 10 services in a chain, 32,000 requests/s.
const (
	chain10File = "testdata/chain10.toml"
	chain10Rate = 32000
)

// BenchmarkRunChain10 measures what `faultline run` costs per request over
// the bare engine on the 10-service chain. Both are sized for about b.N
// requests and timed in the same benchmark: the bare engine (sim.New and
// RunUntil, with the recording the engine always does) and the whole run
// path (open and load the file, run, Result with the cascade, render the
// text table or the JSON), alternately, three times each; the fastest of
// each stands for it, since a shared machine only ever slows a run down.
// run/bare is the ratio of their times per request.
func BenchmarkRunChain10(b *testing.B) {
	data, err := os.ReadFile(chain10File)
	if err != nil {
		b.Fatal(err)
	}
	for _, out := range []string{"text", "json"} {
		b.Run(out, func(b *testing.B) {
			span := max(time.Millisecond, time.Duration(float64(b.N)/chain10Rate*float64(time.Second)))
			args := []string{"run", chain10File, "--duration", span.String()}
			if out == "json" {
				args = append(args, "--json")
			}
			bare, run := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
			var s *sim.Sim
			b.ReportAllocs()
			b.ResetTimer()
			for range 3 {
				spec, err := scenarios.Load(chain10File, data)
				if err != nil {
					b.Fatal(err)
				}
				spec.Duration = span
				t0 := time.Now()
				if s, err = sim.New(spec, spec.Seed); err != nil {
					b.Fatal(err)
				}
				s.RunUntil(span)
				bare = min(bare, time.Since(t0))

				t0 = time.Now()
				if code := cli(args, io.Discard, io.Discard); code != 0 {
					b.Fatalf("%v: exit code %d", args, code)
				}
				run = min(run, time.Since(t0))
			}
			b.StopTimer()
			req, ev := float64(s.Result().Clients[0].OK), float64(s.Processed())
			b.ReportMetric(req/bare.Seconds(), "bare_req/s")
			b.ReportMetric(ev/bare.Seconds(), "bare_events/s")
			b.ReportMetric(req/run.Seconds(), "req/s")
			b.ReportMetric(ev/run.Seconds(), "events/s")
			b.ReportMetric(run.Seconds()/bare.Seconds(), "run/bare")
		})
	}
}

// TestChain10Scenario checks that the scenario file is the benchmark's
// model, sized for about a million requests: a chain of 10 services of one
// instance and 4 workers, each calling the next.
func TestChain10Scenario(t *testing.T) {
	data, err := os.ReadFile(chain10File)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := scenarios.Load(chain10File, data)
	if err != nil {
		t.Fatal(err)
	}
	if n := spec.Clients[0].Rate * spec.Duration.Seconds(); len(spec.Clients) != 1 || spec.Clients[0].Rate != chain10Rate || n < 0.99e6 || n > 1.01e6 {
		t.Errorf("clients %+v over %s: want one at %d/s sending about a million requests", spec.Clients, spec.Duration, chain10Rate)
	}
	if len(spec.Services) != 10 {
		t.Fatalf("%d services, want 10", len(spec.Services))
	}
	for i, sv := range spec.Services {
		calls := 1
		if i == 9 {
			calls = 0
		}
		if sv.Name != fmt.Sprintf("s%d", i) || sv.Instances != 1 || sv.Workers != 4 || sv.Queue != sim.Unbounded || len(sv.Calls) != calls {
			t.Errorf("service %d: %s %dx%d queue %d, %d calls", i, sv.Name, sv.Instances, sv.Workers, sv.Queue, len(sv.Calls))
		}
	}
}
