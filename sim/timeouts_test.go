package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/faultline/faultline/sim/dist"
)

// manyTimeouts is a run full of timeouts: a client waiting 15 s, a chain
// whose calls wait 10 s and 1 s, per-try timeouts of a retried call, and a
// pause that makes many of them fire. With spread, the front also calls 20
// services each with a timeout of its own, more durations than get a FIFO,
// so that the rest are plain heap events.
func manyTimeouts(spread bool) *Spec {
	st := func(s string) dist.Dist {
		d, err := dist.Parse(s)
		if err != nil {
			panic(err)
		}
		return d
	}
	retry := &Retry{MaxAttempts: 3, PerTryTimeout: 300 * time.Millisecond}
	retry.On[Timeout] = true
	spec := &Spec{
		Name: "many timeouts", Duration: 20 * time.Second,
		Clients: []Client{{Name: "load", Target: "front", Rate: 2000, Timeout: 15 * time.Second}},
		Services: []Service{
			{Name: "front", Instances: 2, Workers: 400, Queue: Unbounded, ServiceTime: st("exp(100us)"),
				Calls: []Call{{To: "mid", Probability: 1, Fanout: 1, Timeout: 10 * time.Second}}},
			{Name: "mid", Instances: 2, Workers: 400, Queue: Unbounded, ServiceTime: st("exp(200us)"),
				Calls: []Call{{To: "back", Probability: 1, Fanout: 1, Timeout: time.Second, Retry: retry}}},
			{Name: "back", Instances: 2, Workers: 400, Queue: Unbounded, ServiceTime: st("exp(1ms)")},
		},
		Faults: []Fault{
			{Kind: FaultPause, Target: "back", Start: 5 * time.Second, Duration: 2 * time.Second},
			{Kind: FaultPause, Target: "mid#1", Start: 9 * time.Second, Duration: 12 * time.Second},
		},
	}
	if spread {
		for k := range 20 {
			name := fmt.Sprintf("leaf%d", k)
			spec.Services[0].Calls = append(spec.Services[0].Calls, Call{To: name, Probability: 0.3, Fanout: 1, Timeout: time.Duration(k+1) * 7 * time.Millisecond})
			spec.Services = append(spec.Services, Service{Name: name, Instances: 1, Workers: 50, Queue: Unbounded, ServiceTime: st("exp(5ms)")})
		}
	}
	return spec
}

// TestTimeoutQueues: keeping timeouts in FIFOs by duration, with only each
// FIFO's head in the heap, changes nothing in the result, or the events run,
// and keeps the heap small.
func TestTimeoutQueues(t *testing.T) {
	defer func(on bool) { timeoutQueues = on }(timeoutQueues)
	run := func(spec *Spec, fifos bool) ([]byte, uint64, int, int) {
		timeoutQueues = fifos
		s, err := New(spec, 7)
		if err != nil {
			t.Fatal(err)
		}
		var heap, pending int
		for now := 100 * time.Millisecond; !s.Done(); now += 100 * time.Millisecond {
			s.RunUntil(now)
			heap, pending = max(heap, s.events.len()), max(pending, s.pendingEvents())
			if err := s.CheckPool(); err != nil {
				t.Fatal(err)
			}
		}
		if s.Err() != nil {
			t.Fatal(s.Err())
		}
		b, err := json.Marshal(s.Result())
		if err != nil {
			t.Fatal(err)
		}
		return b, s.Processed(), heap, pending
	}
	for _, spread := range []bool{false, true} {
		spec := manyTimeouts(spread)
		with, n1, heap1, pend1 := run(spec, true)
		without, n2, heap2, pend2 := run(spec, false)
		if !bytes.Equal(with, without) {
			t.Errorf("spread %v: the result with timeout FIFOs differs from the one with heap events", spread)
		}
		if n1 != n2 || pend1 != pend2 {
			t.Errorf("spread %v: %d events run, %d pending at most with FIFOs; %d, %d without", spread, n1, pend1, n2, pend2)
		}
		if !bytes.Contains(with, []byte(`"timeout"`)) {
			t.Errorf("spread %v: no timeouts in the result", spread)
		}
		t.Logf("spread %v: %d events; heap at most %d with FIFOs, %d without (%d pending)", spread, n1, heap1, heap2, pend1)
		if !spread && (heap1 > 1000 || heap2 < 20000) {
			t.Errorf("heap at most %d events with FIFOs, %d without: want under 1000 and over 20000", heap1, heap2)
		}
	}
}
