package sim_test

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/dist"
)

// A single server with one worker and a 1 ms service time, loaded at 50%:
// evenly spaced arrivals never wait, so every request takes exactly 1 ms.
func Example() {
	st, _ := dist.Parse("1ms")
	spec := &sim.Spec{
		Name:     "example",
		Duration: 10 * time.Second,
		Clients:  []sim.Client{{Name: "load", Target: "server", Rate: 500, Arrival: sim.Constant}},
		Services: []sim.Service{{Name: "server", Instances: 1, Workers: 1, Queue: sim.Unbounded, ServiceTime: st}},
	}
	s, err := sim.New(spec, 1)
	if err != nil {
		panic(err)
	}
	res := s.Run()
	c := res.Clients[0]
	fmt.Printf("sent %d, ok %d, mean %.1fms, utilisation %.2f\n",
		c.Sent, c.OK, c.Latency.Mean, res.Components[0].Utilisation)
	// Output: sent 5000, ok 5000, mean 1.0ms, utilisation 0.50
}

// Drivers such as the TUI advance a run in slices of virtual time.
func ExampleSim_RunUntil() {
	st, _ := dist.Parse("exp(2ms)")
	spec := &sim.Spec{
		Name:     "slices",
		Duration: 3 * time.Second,
		Clients:  []sim.Client{{Name: "load", Target: "server", Rate: 100}},
		Services: []sim.Service{{Name: "server", Instances: 1, Workers: 1, Queue: sim.Unbounded, ServiceTime: st}},
	}
	s, _ := sim.New(spec, 1)
	for !s.Done() {
		s.RunUntil(s.Now() + time.Second)
		fmt.Println(s.Now(), s.Done())
	}
	// Output:
	// 1s false
	// 2s false
	// 3s true
}
