package sim_test

import (
	"encoding/json"
	"flag"
	"testing"
	"time"

	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
)

// fullRelations runs the metamorphic relations over every built-in at its
// full length; without it, over a few built-ins cut to 20 s (go test ./...
// stays quick).
var fullRelations = flag.Bool("relations.full", false, "check the metamorphic relations on every built-in at full length")

// relationSpecs returns the built-ins the relations run on.
func relationSpecs(t *testing.T) ([]string, []*sim.Spec) {
	names := []string{"checkout", "retry-storm", "breaker-saves-checkout"}
	if *fullRelations {
		names = names[:0]
		for _, b := range scenarios.List() {
			names = append(names, b.Name)
		}
	}
	var out []*sim.Spec
	for _, n := range names {
		spec := builtin(t, n)
		if !*fullRelations {
			spec.Duration = min(spec.Duration, 20*time.Second)
			spec.Warmup = min(spec.Warmup, spec.Duration/4)
		}
		out = append(out, spec)
	}
	return names, out
}

// figures is what a relation compares: every client, component and edge,
// with their time series, as JSON.
func figures(t *testing.T, spec *sim.Spec) string {
	t.Helper()
	res, _ := run(t, spec)
	b, err := json.Marshal([]any{res.Clients, res.Components, res.Edges, res.Topics, res.Groups, res.Stores})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestZeroSizeFaults: a fault that changes nothing (+0 latency, a factor-1
// slowdown or surge, a capacity that removes no worker) leaves every figure
// byte-identical, from its start to its end.
func TestZeroSizeFaults(t *testing.T) {
	names, specs := relationSpecs(t)
	for k, spec := range specs {
		name := names[k]
		if len(spec.Clients) == 0 || len(spec.Services) == 0 {
			continue
		}
		base := figures(t, spec)
		sv, cl := spec.Services[len(spec.Services)-1], spec.Clients[0]
		faults := []sim.Fault{
			{Kind: sim.FaultLatency, Target: sv.Name, Params: sim.LatencyFault{Add: mustDist(t, "0s")}},
			{Kind: sim.FaultSlowdown, Target: sv.Name, Params: sim.SlowdownFault{Factor: 1}},
			{Kind: sim.FaultSurge, Target: cl.Name, Params: sim.SurgeFault{Factor: 1}},
			{Kind: sim.FaultCapacity, Target: sv.Name, Params: sim.CapacityFault{Workers: sv.Workers}},
		}
		for _, f := range faults {
			t.Run(name+"/"+f.Kind.String(), func(t *testing.T) {
				s := *spec
				f.Start, f.Duration = spec.Duration/4, spec.Duration/2
				s.Faults = append(append([]sim.Fault(nil), spec.Faults...), f)
				if got := figures(t, &s); got != base {
					t.Errorf("a zero-size %s fault on %s changed the figures", f.Kind, f.Target)
				}
			})
		}
	}
}
