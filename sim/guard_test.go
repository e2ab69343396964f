package sim_test

import (
	"errors"
	"strings"
	"testing"
	"time"

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
