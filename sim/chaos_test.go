package sim_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/dist"
)

// TestChaos runs every built-in scenario with random faults of every kind
// on random targets, injected at random times, and checks that the engine
// neither panics nor loses a request: conservation holds after every run.
func TestChaos(t *testing.T) {
	for _, b := range scenarios.List() {
		t.Run(b.Name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(len(b.Name))))
			for round := range chaosRounds {
				spec := builtin(t, b.Name)
				spec.Duration = 20 * time.Second
				spec.Warmup = 0
				s, err := sim.New(spec, uint64(round))
				if err != nil {
					t.Fatal(err)
				}
				for step := 1; step <= 4; step++ {
					s.RunUntil(time.Duration(step) * 4 * time.Second)
					f := randomFault(t, spec, rng)
					if err := s.Inject(f); err != nil {
						t.Fatalf("inject %+v: %v", f, err)
					}
				}
				res := s.Run()
				if err := res.CheckConservation(); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if err := s.CheckPool(); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
		})
	}
}

// randomFault draws a fault of a random kind on a random valid target.
func randomFault(t *testing.T, spec *sim.Spec, rng *rand.Rand) sim.Fault {
	sv := spec.Services[rng.IntN(len(spec.Services))]
	d := time.Duration(1+rng.IntN(5)) * time.Second
	f := sim.Fault{Kind: sim.FaultKind(rng.IntN(len(sim.FaultKinds()))), Target: sv.Name, Duration: d}
	add := mustDist(t, "exp(200ms)")
	switch rng.IntN(3) {
	case 0:
		f.Target = fmt.Sprintf("%s#%d", sv.Name, 1+rng.IntN(sv.Instances))
	case 1:
		f.Share = 0.5
	}
	if len(spec.Stores)+len(spec.Brokers)+len(spec.Views) > 0 && rng.IntN(3) == 0 {
		// Hit a data component: a broker node, a store replica or a view.
		type node struct {
			name string
			on   sim.Targets
		}
		var nodes []node
		for _, b := range spec.Brokers {
			nodes = append(nodes, node{b.Name, sim.OnBroker}, node{fmt.Sprintf("%s#%d", b.Name, 1+rng.IntN(b.Nodes)), sim.OnNode})
		}
		for _, st := range spec.Stores {
			nodes = append(nodes, node{st.Name, sim.OnStore}, node{fmt.Sprintf("%s#%d", st.Name, 1+rng.IntN(st.Replicas)), sim.OnReplica})
		}
		for _, v := range spec.Views {
			nodes = append(nodes, node{v.Name, sim.OnView})
		}
		n := nodes[rng.IntN(len(nodes))]
		// The kinds that act on a data node and can target this one.
		var kinds []sim.FaultKind
		for _, k := range []sim.FaultKind{sim.FaultCrash, sim.FaultPause, sim.FaultSlowdown, sim.FaultLatency} {
			if sim.FaultTargets(k)&n.on != 0 {
				kinds = append(kinds, k)
			}
		}
		f.Kind, f.Target, f.Share = kinds[rng.IntN(len(kinds))], n.name, 0
		f.Params = chaosParams(f.Kind, add)
		return f
	}
	f.Params = chaosParams(f.Kind, add)
	switch f.Kind {
	case sim.FaultDeploy:
		name, _, _ := strings.Cut(f.Target, "#")
		f.Target, f.Share, f.Duration = name, 0, 0
		p := sim.DeployFault{Batch: 1, StartupDelay: time.Second, Warmup: time.Second, WarmupFactor: 2}
		if rng.IntN(2) == 0 {
			p.HasNewErrors, p.NewErrors, p.RollbackAfter = true, 0.5, 3*time.Second
		}
		f.Params = p
	case sim.FaultLeak:
		f.Params = sim.LeakFault{Growth: 20, Limit: 2, StartupDelay: time.Second} // out of memory after 3 s up
	case sim.FaultRebuild:
		if len(spec.Views) == 0 {
			return randomFault(t, spec, rng)
		}
		f.Target, f.Share, f.Duration = spec.Views[rng.IntN(len(spec.Views))].Name, 0, 0
	case sim.FaultDependency:
		ext := slices.IndexFunc(spec.Services, func(sv sim.Service) bool { return sv.External })
		if ext < 0 {
			return randomFault(t, spec, rng)
		}
		f.Target, f.Share = spec.Services[ext].Name, 0
		f.Params = sim.DependencyFault{Add: add, Probability: 0.5}
	case sim.FaultSkew:
		if len(spec.Stores) == 0 {
			return randomFault(t, spec, rng)
		}
		f.Target, f.Share, f.Params = spec.Stores[0].Name, 0, sim.SkewFault{Offset: -2 * time.Second}
	case sim.FaultLeaderLoss:
		if len(spec.Brokers) == 0 {
			return randomFault(t, spec, rng)
		}
		f.Target, f.Share, f.Params = spec.Brokers[0].Topics[0].Name, 0, sim.LeaderLossFault{Partition: -1}
	case sim.FaultLoss:
		var dir sim.Direction
		f.Target, dir = linkOf(spec, rng), sim.Direction(rng.IntN(3))
		f.Params = sim.LossFault{Probability: 0.5, Direction: dir}
	case sim.FaultLatency, sim.FaultBlackhole:
		if rng.IntN(2) == 0 {
			f.Target = linkOf(spec, rng)
		}
	case sim.FaultPartition:
		f.Target = ""
		f.Params = sim.PartitionFault{Sides: [2][]string{{spec.Clients[0].Name}, {spec.Clients[0].Target}}, OneWay: rng.IntN(2) == 0}
	case sim.FaultSurge:
		f.Target = spec.Clients[0].Name
	}
	return f
}

// chaosParams are the parameters randomFault gives a fault of kind k
// unless its kind needs more.
func chaosParams(k sim.FaultKind, add dist.Dist) sim.FaultParams {
	switch k {
	case sim.FaultLatency:
		return sim.LatencyFault{Add: add}
	case sim.FaultErrors:
		return sim.ErrorsFault{Probability: 0.5}
	case sim.FaultThrottle:
		return sim.ThrottleFault{Probability: 0.5}
	case sim.FaultSlowdown:
		return sim.SlowdownFault{Factor: 3}
	case sim.FaultSurge:
		return sim.SurgeFault{Factor: 3}
	case sim.FaultCapacity:
		return sim.CapacityFault{Workers: 1}
	case sim.FaultCrash:
		return sim.CrashFault{StartupDelay: time.Second}
	}
	return sim.DefaultParams(k)
}

// linkOf picks a link that exists: a client to its target, or a call.
func linkOf(spec *sim.Spec, rng *rand.Rand) string {
	for range 20 {
		sv := spec.Services[rng.IntN(len(spec.Services))]
		// Links lead to services: calls to stores and views are
		// messages to their replicas, which data faults reach.
		if len(sv.Calls) > 0 {
			if c := sv.Calls[rng.IntN(len(sv.Calls))]; c.Op == sim.OpNone {
				return sv.Name + "->" + c.To
			}
		}
	}
	c := spec.Clients[0]
	return c.Name + "->" + c.Target
}

// chaosRounds is how many runs TestChaos makes of each scenario;
// FAULTLINE_CHAOS raises it for a longer hunt.
var chaosRounds = func() int {
	if n, err := strconv.Atoi(os.Getenv("FAULTLINE_CHAOS")); err == nil && n > 0 {
		return n
	}
	return 8
}()
