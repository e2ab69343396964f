package sim_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/faultline/faultline/sim"
)

// run runs spec with seed 1 and checks conservation, and that no request
// slot leaked, as every test must.
func run(t *testing.T, spec *sim.Spec) (*sim.Result, *sim.Sim) {
	t.Helper()
	s, err := sim.New(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	res := s.Run()
	if err := res.CheckConservation(); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckPool(); err != nil {
		t.Fatal(err)
	}
	return res, s
}

func svc(t *testing.T, name, st string, calls ...sim.Call) sim.Service {
	return sim.Service{Name: name, Instances: 1, Workers: 1000, Queue: sim.Unbounded, ServiceTime: mustDist(t, st), Calls: calls}
}

func call(to string) sim.Call { return sim.Call{To: to, Probability: 1, Fanout: 1} }

func open(rate float64, target string) sim.Client {
	return sim.Client{Name: "load", Target: target, Rate: rate, Arrival: sim.Constant}
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.4g, want %.4g +- %.2g", what, got, want, tol)
	}
}

// TestCallShapes checks how calls compose: in sequence their times add up, in
// a group the slowest decides, a fanout waits for every copy, and the
// network adds one hop each way per call.
func TestCallShapes(t *testing.T) {
	tests := []struct {
		name    string
		net     string
		front   sim.Service
		wantMs  float64           // the client's mean latency
		wantArr map[string]uint64 // calls per client request
	}{
		{"sequence", "0s", svc(t, "front", "1ms", call("a"), call("b")), 1 + 10 + 20, map[string]uint64{"a": 1, "b": 1}},
		{"group", "0s", svc(t, "front", "1ms",
			sim.Call{To: "a", Group: "g", Probability: 1, Fanout: 1},
			sim.Call{To: "b", Group: "g", Probability: 1, Fanout: 1}), 1 + 20, nil},
		{"fanout", "0s", svc(t, "front", "1ms", sim.Call{To: "a", Probability: 1, Fanout: 5}), 1 + 10, map[string]uint64{"a": 5}},
		{"skipped", "0s", svc(t, "front", "1ms", sim.Call{To: "a", Probability: 0, Fanout: 1}), 1, map[string]uint64{"a": 0}},
		{"network", "2ms", svc(t, "front", "1ms", call("a")), 2 + 1 + 2 + 10 + 2 + 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := &sim.Spec{
				Name: tt.name, Duration: 10 * time.Second,
				Network:  sim.Network{Latency: mustDist(t, tt.net)},
				Clients:  []sim.Client{open(100, "front")},
				Services: []sim.Service{tt.front, svc(t, "a", "10ms"), svc(t, "b", "20ms")},
			}
			res, _ := run(t, spec)
			near(t, "mean latency (ms)", res.Clients[0].Latency.Mean, tt.wantMs, tt.wantMs*0.01)
			cl := res.Clients[0]
			if cl.Sent != 1000 {
				t.Errorf("sent %d, want 1000 (100/s for 10s)", cl.Sent)
			}
			for _, c := range res.Components {
				// Requests still in flight at the end may not have made
				// all their calls yet.
				if k, ok := tt.wantArr[c.Name]; ok && (c.Arrivals < k*cl.OK || c.Arrivals > k*cl.Sent) {
					t.Errorf("%s arrivals = %d, want %d per request (%d ok, %d sent)", c.Name, c.Arrivals, k, cl.OK, cl.Sent)
				}
			}
		})
	}
}

// TestAfterCalls splits a service's time around its calls without changing
// the total.
func TestAfterCalls(t *testing.T) {
	front := svc(t, "front", "10ms", call("a"))
	front.AfterCalls = 0.3
	res, _ := run(t, &sim.Spec{
		Name: "after", Duration: 10 * time.Second,
		Clients:  []sim.Client{open(10, "front")},
		Services: []sim.Service{front, svc(t, "a", "5ms")},
	})
	near(t, "mean latency (ms)", res.Clients[0].Latency.Mean, 15, 0.1)
}

// TestOutcomes drives each way a request can end.
func TestOutcomes(t *testing.T) {
	t.Run("errors propagate", func(t *testing.T) {
		leaf := svc(t, "leaf", "1ms")
		leaf.Errors = 0.2
		res, _ := run(t, &sim.Spec{
			Name: "err", Duration: 100 * time.Second,
			Clients:  []sim.Client{open(100, "front")},
			Services: []sim.Service{svc(t, "front", "1ms", call("leaf")), leaf},
		})
		c := res.Clients[0]
		near(t, "client error share", float64(c.Error)/float64(c.Sent), 0.2, 0.02)
		if res.Components[0].Error != c.Error {
			t.Errorf("front errors %d, client errors %d", res.Components[0].Error, c.Error)
		}
	})
	t.Run("client timeout wastes work", func(t *testing.T) {
		cl := open(100, "slow")
		cl.Timeout = 50 * time.Millisecond
		res, _ := run(t, &sim.Spec{
			Name: "timeout", Duration: 10 * time.Second,
			Clients:  []sim.Client{cl},
			Services: []sim.Service{svc(t, "slow", "uniform(0ms, 100ms)")},
		})
		c, sv := res.Clients[0], res.Components[0]
		near(t, "timeout share", float64(c.Timeout)/float64(c.Sent), 0.5, 0.05)
		if c.Latency.Max > 50 {
			t.Errorf("an OK request took %.1fms, beyond the 50ms timeout", c.Latency.Max)
		}
		// Every timed-out request still completes at the service, where
		// nobody waits for it any more.
		if sv.Wasted+sv.InProgress < c.Timeout || sv.Wasted > c.Timeout {
			t.Errorf("wasted %d (in progress %d), timeouts %d", sv.Wasted, sv.InProgress, c.Timeout)
		}
	})
	t.Run("call timeout fails the caller", func(t *testing.T) {
		res, _ := run(t, &sim.Spec{
			Name: "calltimeout", Duration: 10 * time.Second,
			Clients: []sim.Client{open(100, "front")},
			Services: []sim.Service{
				svc(t, "front", "0s", sim.Call{To: "slow", Timeout: 20 * time.Millisecond, Probability: 1, Fanout: 1}),
				svc(t, "slow", "30ms"),
			},
		})
		c := res.Clients[0]
		if c.Error != c.Sent-c.InFlight || c.OK != 0 {
			t.Errorf("client: %d errors, %d ok of %d sent; want all errors", c.Error, c.OK, c.Sent)
		}
		near(t, "front's time to fail (ms)", res.Components[0].Latency.Mean, 0, 0)
		if w := res.Components[1].Wasted; w < c.Sent-5 {
			t.Errorf("slow wasted %d, want about %d", w, c.Sent)
		}
	})
	t.Run("full queue rejects", func(t *testing.T) {
		one := sim.Service{Name: "one", Instances: 1, Workers: 1, Queue: 0, ServiceTime: mustDist(t, "10ms")}
		res, _ := run(t, &sim.Spec{
			Name: "reject", Duration: 10 * time.Second,
			Clients:  []sim.Client{open(200, "one")}, // every 5ms, each takes 10ms
			Services: []sim.Service{one},
		})
		c := res.Clients[0]
		near(t, "rejected share", float64(c.Rejected)/float64(c.Sent), 0.5, 0.01)
		if res.Components[0].QueueMax != 0 {
			t.Errorf("queue max %d with no waiting room", res.Components[0].QueueMax)
		}
	})
}

// TestClosedLoop checks the interactive response time law: N users with
// think time Z and response time R give a throughput X = N / (R + Z).
func TestClosedLoop(t *testing.T) {
	res, _ := run(t, &sim.Spec{
		Name: "closed", Duration: 200 * time.Second, Warmup: 10 * time.Second,
		Clients: []sim.Client{{Name: "users", Target: "server", Users: 20, ThinkTime: mustDist(t, "exp(50ms)")}},
		Services: []sim.Service{{Name: "server", Instances: 1, Workers: 2, Queue: sim.Unbounded,
			ServiceTime: mustDist(t, "exp(5ms)")}},
	})
	c := res.Clients[0]
	want := 20 / (c.Latency.Mean/1e3 + 0.050)
	near(t, "throughput (req/s)", c.GoodputRPS, want, want*0.02)
}

// TestSchedule checks steps and ramps of a client's rate, window by window.
func TestSchedule(t *testing.T) {
	cl := sim.Client{Name: "load", Target: "s", Rate: 100, Arrival: sim.Constant, Schedule: []sim.RateStep{
		{At: 10 * time.Second, Rate: 300},
		{At: 20 * time.Second, Rate: 100, Ramp: 10 * time.Second},
	}}
	res, _ := run(t, &sim.Spec{
		Name: "schedule", Duration: 40 * time.Second,
		Clients: []sim.Client{cl}, Services: []sim.Service{svc(t, "s", "1ms")},
	})
	w := res.Series[0].Windows
	for _, tt := range []struct {
		window int
		want   float64
	}{{5, 100}, {15, 300}, {20, 290}, {25, 190}, {29, 110}, {35, 100}} {
		near(t, "sent in window "+time.Duration(tt.window*int(time.Second)).String(), float64(w[tt.window].Sent), tt.want, 2)
	}
	// Poisson arrivals along the same schedule, by thinning: totals match
	// the integral of the rate (100*10 + 300*10 + 200*10 + 100*10 = 7000).
	cl.Arrival = sim.Poisson
	res, _ = run(t, &sim.Spec{
		Name: "schedule", Duration: 40 * time.Second,
		Clients: []sim.Client{cl}, Services: []sim.Service{svc(t, "s", "1ms")},
	})
	near(t, "Poisson total", float64(res.Clients[0].Sent), 7000, 4*math.Sqrt(7000))
}

// TestScheduleSlowBeat: evenly spaced arrivals at a rate so low that the
// next beat falls after the next step of the schedule follow the step: the
// beat is planned again from the step, at the new rate.
func TestScheduleSlowBeat(t *testing.T) {
	cl := sim.Client{Name: "load", Target: "s", Rate: 0.1, Arrival: sim.Constant, Schedule: []sim.RateStep{
		{At: 5 * time.Second, Rate: 100},
	}}
	res, _ := run(t, &sim.Spec{
		Name: "slow-beat", Duration: 20 * time.Second,
		Clients: []sim.Client{cl}, Services: []sim.Service{svc(t, "s", "1ms")},
	})
	w := res.Series[0].Windows
	near(t, "sent in window 0s", float64(w[0].Sent), 1, 0)
	for i := 5; i < 20; i++ {
		near(t, "sent in window "+time.Duration(i*int(time.Second)).String(), float64(w[i].Sent), 100, 1)
	}
	near(t, "sent", float64(res.Clients[0].Sent), 1+1500, 1)
}

// TestFaults checks that a latency fault and an errors fault act only while
// they are active, and that both are logged.
func TestFaults(t *testing.T) {
	res, _ := run(t, &sim.Spec{
		Name: "faults", Duration: 30 * time.Second,
		Clients:  []sim.Client{open(100, "s")},
		Services: []sim.Service{svc(t, "s", "1ms")},
		Faults: []sim.Fault{
			{Kind: sim.FaultLatency, Target: "s", Start: 10 * time.Second, Duration: 5 * time.Second, Params: sim.LatencyFault{Add: mustDist(t, "100ms")}},
			{Kind: sim.FaultErrors, Target: "s", Start: 20 * time.Second, Duration: 5 * time.Second, Params: sim.ErrorsFault{Probability: 0.5}},
		},
	})
	w := res.Series[1].Windows
	near(t, "p50 before (ms)", w[5].Latency.P50, 1, 0.01)
	near(t, "p50 during the latency fault (ms)", w[12].Latency.P50, 101, 1)
	near(t, "p50 after (ms)", w[17].Latency.P50, 1, 0.01)
	near(t, "error share during the errors fault", w[22].ErrorShare(), 0.5, 0.15)
	if w[18].Errors+w[27].Errors != 0 {
		t.Errorf("errors outside the fault window")
	}
	var got []string
	for _, e := range res.Events {
		if e.Component == "s" && len(e.What) > 5 && e.What[:5] == "fault" {
			got = append(got, e.What)
		}
	}
	want := []string{"fault latency +100ms started", "fault latency +100ms ended", "fault errors 50% started", "fault errors 50% ended"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fault events %q, want %q", got, want)
	}
}

// TestDeterminism: the same seed gives the same result, another seed another.
func TestDeterminism(t *testing.T) {
	spec := func() *sim.Spec {
		return &sim.Spec{
			Name: "det", Duration: 20 * time.Second,
			Network:  sim.Network{Latency: mustDist(t, "exp(1ms)")},
			Clients:  []sim.Client{{Name: "load", Target: "a", Rate: 500, Timeout: 30 * time.Millisecond}},
			Services: []sim.Service{svc(t, "a", "exp(10ms)", call("b")), svc(t, "b", "lognormal(5ms, 40ms)")},
		}
	}
	r := func(seed uint64) *sim.Result {
		s, err := sim.New(spec(), seed)
		if err != nil {
			t.Fatal(err)
		}
		return s.Run()
	}
	a, b, c := r(7), r(7), r(8)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different results")
	}
	if reflect.DeepEqual(a.Clients, c.Clients) {
		t.Error("different seeds, same results")
	}
}

// TestStreamsIndependent: adding a component does not change the draws of
// the others, because each stream is seeded from its component's name.
func TestStreamsIndependent(t *testing.T) {
	base := &sim.Spec{
		Name: "a", Duration: 10 * time.Second,
		Clients:  []sim.Client{{Name: "load", Target: "a", Rate: 100}},
		Services: []sim.Service{svc(t, "a", "exp(1ms)")},
	}
	more := *base
	more.Clients = append(more.Clients, sim.Client{Name: "other", Target: "z", Rate: 50})
	more.Services = append([]sim.Service{svc(t, "z", "exp(3ms)")}, base.Services...)
	r1, _ := run(t, base)
	r2, _ := run(t, &more)
	if !reflect.DeepEqual(r1.Clients[0], r2.Clients[0]) {
		t.Errorf("client load changed when another component was added:\n%+v\n%+v", r1.Clients[0], r2.Clients[0])
	}
}
