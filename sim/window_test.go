package sim_test

import (
	"encoding/json"
	"testing"
	"time"
	"unsafe"

	"github.com/faultline/faultline/sim"
)

// TestWindowJSON: one Window type serves every kind of component, and
// writes each kind's window as its own window type wrote it before: t_s
// first, the kind's figures flat, health and reason after them (and
// before a call window's blame), so that --json keeps its bytes.
func TestWindowJSON(t *testing.T) {
	verdictOf := func(k sim.SeriesKind) sim.Window {
		return sim.Window{Kind: k, Start: 2 * time.Second, End: 3 * time.Second, Health: sim.Degraded,
			Reason: sim.Reason{By: sim.ByLag, Value: 1.5}}
	}
	const verdict = `"health":"degraded","reason":{"by":"lag","value":1.5}`
	const lat = `{"count":2,"mean":0,"p50":0,"p90":0,"p99":4,"p999":0,"max":0}`
	const zero = `{"count":0,"mean":0,"p50":0,"p90":0,"p99":0,"p999":0,"max":0}`
	with := func(k sim.SeriesKind, f func(w *sim.Window)) sim.Window {
		w := verdictOf(k)
		f(&w)
		return w
	}
	for _, tc := range []struct {
		kind string
		w    sim.Window
		want string
	}{
		{"client", with(sim.ClientSeries, func(w *sim.Window) { w.Sent, w.Latency, w.LatencyAll.Count = 1, sim.Latency{Count: 2, P99: 4}, 3 }),
			`{"t_s":2,"sent":1,"ok":0,"error":0,"timeout":0,"rejected":0,"shed":0,"rate_limited":0,"wasted":0,"degraded":0,"latency_ms":` + lat +
				`,"latency_all_ms":{"count":3,"mean":0,"p50":0,"p90":0,"p99":0,"p999":0,"max":0},"utilisation":0,"queue_mean":0,"queue_max":0,` + verdict + `,"blame":null}`},
		{"service: no latency_all_ms", with(sim.ServiceSeries, func(w *sim.Window) { w.QueueMax = 5 }),
			`{"t_s":2,"sent":0,"ok":0,"error":0,"timeout":0,"rejected":0,"shed":0,"rate_limited":0,"wasted":0,"degraded":0,"latency_ms":` + zero +
				`,"utilisation":0,"queue_mean":0,"queue_max":5,` + verdict + `,"blame":null}`},
		{"edge: counts, latencies, verdict", with(sim.EdgeSeries, func(w *sim.Window) { w.Sent, w.OK, w.Latency = 3, 2, sim.Latency{Count: 2, P99: 4} }),
			`{"t_s":2,"calls":3,"ok":2,"error":0,"timeout":0,"rejected":0,"fallbacks":0,"latency_ms":` + lat + `,"latency_all_ms":` + zero + `,` + verdict + `}`},
		{"topic", with(sim.TopicSeries, func(w *sim.Window) { w.Figures = &sim.TopicFigures{Produced: 7} }),
			`{"t_s":2,"produced":7,` + verdict + `}`},
		{"group: latency as end_to_end_ms", with(sim.GroupSeries, func(w *sim.Window) {
			w.Figures, w.Latency = &sim.GroupFigures{Consumed: 3, LagS: 1.5}, sim.Latency{Count: 2, P99: 4}
		}),
			`{"t_s":2,"consumed":3,"duplicates":0,"lost":0,"lag_records":0,"lag_s":1.5,"behind_s":0,"end_to_end_ms":` + lat + `,` + verdict + `,"blame":null}`},
		{"store: latency as replication_lag_ms", with(sim.StoreSeries, func(w *sim.Window) {
			w.Figures, w.Latency = &sim.StoreFigures{Reads: 4, Timeouts: 1}, sim.Latency{Count: 2, P99: 4}
		}),
			`{"t_s":2,"reads":4,"writes":0,"stale":0,"unavailable":0,"timeouts":1,"replication_lag_ms":` + lat + `,` + verdict + `}`},
		{"saga", with(sim.SagaSeries, func(w *sim.Window) { w.Figures = &sim.SagaFigures{Started: 3, Running: 1} }),
			`{"t_s":2,"started":3,"completed":0,"compensated":0,"inconsistent":0,"running":1,` + verdict + `,"blame":null}`},
		{"view", with(sim.ViewSeries, func(w *sim.Window) { w.Figures = &sim.ViewFigures{Reads: 4, Miss: 1, LagS: 1.5} }),
			`{"t_s":2,"reads":4,"read_your_writes_misses":1,"lag_records":0,"lag_s":1.5,"behind_s":0,` + verdict + `,"blame":null}`},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			b, err := json.Marshal(tc.w)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("got  %s\nwant %s", b, tc.want)
			}
		})
	}
}

// TestWindowSize pins the size of a window on a 64-bit machine: every
// component keeps one per Spec.Window for the whole run, and the memory
// budget counts them. 320 bytes: 352 when it held five pointers for the
// data kinds' figures (four always nil) and three words for its kind,
// health and longest queue; 312 before its provenance of slow and failed
// answers together (Window.Provenance) had a pointer of its own.
func TestWindowSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes pinned for 64-bit words")
	}
	if got := unsafe.Sizeof(sim.Window{}); got != 320 {
		t.Errorf("a window is %d bytes, want 320: order its fields to leave no padding, and keep what few kinds carry out of line", got)
	}
}

// TestSeriesReservedForTheRun: every series is made as long as the run
// has windows at its start, a partial last one included, so that it is
// never copied as it grows and holds no spare windows at the end (a
// slice grown by append held up to a quarter more, and a window's close
// allocated).
func TestSeriesReservedForTheRun(t *testing.T) {
	for _, tc := range []struct {
		name     string
		duration time.Duration
		windows  int
	}{
		{"whole windows", 10 * time.Second, 10},
		{"a partial last window", 10500 * time.Millisecond, 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := twoTier(t, sim.Call{}, sim.Service{ServiceTime: mustDist(t, "1ms")}, tc.duration)
			res, _ := run(t, spec)
			all := [][]sim.Window{res.Clients[0].Series, res.Components[0].Series, res.Components[1].Series, res.Edges[0].Series}
			for i, ws := range all {
				if len(ws) != tc.windows || cap(ws) != tc.windows {
					t.Errorf("series %d: %d windows, room for %d, want %d and %d", i, len(ws), cap(ws), tc.windows, tc.windows)
				}
			}
		})
	}
}

// TestLast: sim.Last reads the latest window of any series, and says when
// there is none.
func TestLast(t *testing.T) {
	at := func(s int, reads uint64) sim.Window {
		return sim.Window{Kind: sim.StoreSeries, Start: time.Duration(s) * time.Second, Figures: &sim.StoreFigures{Reads: reads}}
	}
	if w, ok := sim.Last([]sim.Window{at(0, 0), at(1, 9)}); !ok || w.Start != time.Second || w.Store().Reads != 9 {
		t.Errorf("Last of a store's series = %+v, %v", w, ok)
	}
	if _, ok := sim.Last(nil); ok {
		t.Error("Last of an empty series reports a window")
	}
}

// TestWindowSpan: every window of every kind is dated [Start, End), one
// window's width apart, and the last one ends where the run stopped.
func TestWindowSpan(t *testing.T) {
	res, _ := run(t, pipeline(t, sim.AcksAll, sim.CommitAfter))
	for _, s := range [][]sim.Window{res.Clients[0].Series, res.Components[0].Series, res.Topics[0].Series, res.Groups[0].Series} {
		for i, w := range s {
			if w.End-w.Start != time.Second || w.Start != time.Duration(i)*time.Second {
				t.Fatalf("%v window %d: [%s, %s)", w.Kind, i, w.Start, w.End)
			}
		}
	}
}
