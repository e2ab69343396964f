package importer

import (
	"strings"
	"testing"
)

// TestPoolFor: the assumed pool lets at most 0.1 % of requests wait
// (Erlang C). Online Boutique's currencyservice offers 0.0834 erlangs: 2
// workers let 0.33 % wait (B(2) = 0.0032, C = B / (1 - a/c (1 - B))), and
// those waits, behind a convert of 85 ms, were the p99 of its 0.3 ms
// get-supported-currencies in a run; 3 let 0.009 % wait. A load near 0
// needs one worker; a load of 1 erlang needs 2 for half utilisation and 6
// for the waits (C(4, 1) = 0.020, C(5, 1) = 0.0038, C(6, 1) = 0.0006).
// With the old 1 %, currencyservice had 2 and one erlang 5.
func TestPoolFor(t *testing.T) {
	tests := []struct {
		name string
		load float64
		want int
	}{
		{"idle", 0.0001, 1},
		{"a sixtieth busy", 0.0115, 2},
		{"currencyservice", 0.0834, 3},
		{"one erlang", 1, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := poolFor(tt.load); got != tt.want {
				t.Errorf("poolFor(%g) = %d, want %d (Erlang C at it %.5f)", tt.load, got, tt.want, erlangC(got, tt.load))
			}
		})
	}
}

// TestWorkersFromOwnTime: the import assumes async services, whose workers
// hold a request only for its own work, so the pool is sized on the own
// time: a front end at 100 requests/s whose spans last 1 s, all but 1 ms of
// it waiting on its calls, offers 0.1 erlangs of work (3 workers), not the
// 100 requests in flight a pool of waiting threads would have to hold.
func TestWorkersFromOwnTime(t *testing.T) {
	o := &opStats{count: 6000}
	o.own.RecordN(1e6, 6000)  // 1 ms
	o.hold.RecordN(1e9, 6000) // 1 s
	s := &serviceStats{ops: map[string]*opStats{"page": o}}
	a := newAggregator()
	got, notes := a.workers(s, 1, 60, 1, nil)
	if want := poolFor(0.1); got != want {
		t.Errorf("workers = %d, want %d (poolFor(0.1), from the own time)", got, want)
	}
	if len(notes) == 0 || !strings.Contains(notes[0], `concurrency_model = "async"`) {
		t.Errorf("notes %q; want the concurrency model marked assumed first", notes)
	}
}
