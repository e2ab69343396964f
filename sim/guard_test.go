package sim_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
)

// TestStuckInTime checks the bound on events at one instant: a loop of
// zero-time steps stops with an error that names what loops, where it used
// to run forever, and a loop that takes time is left alone.
func TestStuckInTime(t *testing.T) {
	for _, tc := range []struct {
		name        string
		think, work string
		stuck       bool
	}{
		{"zero think time and zero service time", "0s", "0s", true},
		{"zero think time, service time 1ms", "0s", "1ms", false},
		{"think time 1ms, zero service time", "1ms", "0s", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := &sim.Spec{
				Name: "loop", Duration: time.Second,
				Clients:  []sim.Client{{Name: "users", Target: "api", Users: 10, ThinkTime: mustDist(t, tc.think)}},
				Services: []sim.Service{svc(t, "api", tc.work)},
			}
			s, err := sim.New(spec, 1)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { s.Run(); close(done) }()
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("the run did not end")
			}
			var stuck *sim.StuckError
			if !tc.stuck {
				if s.Err() != nil {
					t.Fatalf("unexpected error: %v", s.Err())
				}
				return
			}
			if !errors.As(s.Err(), &stuck) {
				t.Fatalf("err = %v, want a StuckError", s.Err())
			}
			msg := stuck.Error()
			for _, want := range []string{"virtual time stuck at 0s", "client users", "api", "think_time"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			if stuck.At != 0 || stuck.Events <= 10_000_000 {
				t.Errorf("stopped at %s after %d events", stuck.At, stuck.Events)
			}
		})
	}
}

// TestMemoryBudget checks that a run stops with a BudgetError naming what
// grew and how to bound it when what it holds exceeds its budget: an
// unbounded queue offered twice its capacity used to grow until the
// process ran out of memory. A bounded queue keeps the same overload
// within the budget, and so does a load within capacity; a client timeout
// does not (an abandoned request still waits in the queue).
func TestMemoryBudget(t *testing.T) {
	for _, tc := range []struct {
		name    string
		queue   int
		rate    float64
		timeout time.Duration
		want    []string // in the error; none: the run ends normally
	}{
		{"unbounded queue", sim.Unbounded, 2000, 0, []string{"memory budget of 16 MiB exceeded", "requests in flight reached",
			"payment's queue is unbounded", "set queue = 1000 on it", "--memory"}},
		{"unbounded queue, client timeout 1s", sim.Unbounded, 2000, time.Second, []string{"payment's queue is unbounded"}},
		{"queue of 1000", 1000, 2000, 0, nil},
		// A million requests a second against a queue of 10: nearly all
		// are refused at once, and what grows is their client timeouts,
		// each scheduled until it falls due; the error used to say
		// "requests in flight reached 20".
		{"fast refusals, client timeout 60s", 10, 1e6, time.Minute, []string{"scheduled events reached",
			"a timeout stays scheduled until it falls due", "shorten the clients' and calls' timeouts"}},
		{"load within capacity", sim.Unbounded, 900, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pay := svc(t, "payment", "10ms")
			pay.Workers, pay.Queue = 10, tc.queue
			cl := open(tc.rate, "payment") // capacity: 10 workers / 10 ms = 1000/s
			cl.Timeout = tc.timeout
			spec := &sim.Spec{Name: "overload", Duration: 600 * time.Second, Memory: 16 << 20,
				Clients: []sim.Client{cl}, Services: []sim.Service{pay}}
			s, err := sim.New(spec, 1)
			if err != nil {
				t.Fatal(err)
			}
			s.Run()
			var be *sim.BudgetError
			if tc.want == nil {
				if s.Err() != nil {
					t.Fatalf("unexpected error: %v", s.Err())
				}
				return
			}
			if !errors.As(s.Err(), &be) {
				t.Fatalf("err = %v, want a BudgetError", s.Err())
			}
			for _, w := range tc.want {
				if !strings.Contains(be.Error(), w) {
					t.Errorf("message %q lacks %q", be.Error(), w)
				}
			}
			// The budget is checked every 64k events: it stops soon after,
			// holding at most twice the budget (a ring, the heap or the
			// pool doubles when it grows, and counts what it has made).
			if be.Used < 16<<20 || be.Used > 32<<20 || be.At > 200*time.Second {
				t.Errorf("stopped at %s holding %d bytes", be.At, be.Used)
			}
		})
	}
}

// TestEventLogBound checks that the event log keeps its first 100,000
// entries and counts the others: a crash every 200 us used to log without
// end.
func TestEventLogBound(t *testing.T) {
	spec := &sim.Spec{Name: "flap", Duration: 60 * time.Second,
		Clients:  []sim.Client{open(10, "api")},
		Services: []sim.Service{svc(t, "api", "1ms")},
		Faults: []sim.Fault{{Kind: sim.FaultCrash, Target: "api", Start: time.Second, Duration: 100 * time.Microsecond,
			Every: 200 * time.Microsecond}},
	}
	res, _ := run(t, spec)
	// 295,000 crashes, each logged as it starts and ends.
	if kept, all := len(res.Events), uint64(len(res.Events))+res.EventsDropped; kept != 100_000 || all < 590_000 {
		t.Errorf("%d events kept of %d; want 100000 kept and the rest (about 490,000) counted", kept, all)
	}
}

// TestMemoryBudgetCountsWhatWindowsPointTo: the budget counts what a
// kept window points to, a data kind's figures and its provenance, as
// well as the window: a run whose every window of a store has its figures
// and every window of a client and service a blame (half the requests
// fail) stops holding, for its windows, their bytes and those of
// everything they point to. The defect: the budget counted the windows
// alone (312 bytes each), while a store's window holds 40 more and a
// window with failures 48 and more per origin.
func TestMemoryBudgetCountsWhatWindowsPointTo(t *testing.T) {
	spec, err := scenarios.Load("pointed.toml", []byte(`
[scenario]
name = "pointed"
duration = "600s"
window = "1ms"

[[client]]
name = "users"
target = "api"
rate = 2000

[[service]]
name = "api"
instances = 2
workers = 16
service_time = "1ms"
errors = 0.5

[[service.call]]
to = "db"
op = "read"

[[store]]
name = "db"
replicas = 3
write_quorum = 2
read_quorum = 2
`))
	if err != nil {
		t.Fatal(err)
	}
	spec.Memory = 16 << 20
	s, err := sim.New(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	res := s.Run()
	var be *sim.BudgetError
	if !errors.As(s.Err(), &be) || be.What != "time-series windows" {
		t.Fatalf("err = %v, want a BudgetError of the windows", s.Err())
	}
	blame := func(b *sim.Blame) int64 {
		if b == nil {
			return 0
		}
		return int64(unsafe.Sizeof(*b)) + int64(cap(b.Origins))*int64(unsafe.Sizeof(sim.Origin{})+unsafe.Sizeof(0))
	}
	var pointed int64
	var figures, blamed int
	for _, ws := range [][]sim.Window{res.Clients[0].Series, res.Components[0].Series, res.Stores[0].Series} {
		for _, w := range ws {
			if w.Store() != nil {
				pointed += int64(unsafe.Sizeof(sim.StoreFigures{}))
				figures++
			}
			if w.Blame != nil {
				blamed++
			}
			pointed += blame(w.Blame) + blame(w.Slow)
		}
	}
	if windows := be.N * int64(unsafe.Sizeof(sim.Window{})); be.Bytes < windows+pointed {
		t.Errorf("%d windows held %d bytes, want at least %d for them and %d for the %d figures and %d blames they point to",
			be.N, be.Bytes, windows, pointed, figures, blamed)
	}
	t.Logf("%d windows, %d bytes: %d figures and %d blames, %d bytes", be.N, be.Bytes, figures, blamed, pointed)
}
