package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/metric"
)

// Run is what one replication of one cell measured: every metric of every
// component, the per-window series the charts draw, and when faults were
// active. It holds numbers only, so that a shard can write it and a merge
// read it back exactly.
type Run struct {
	Cell   int                `json:"cell"`
	Rep    int                `json:"replication"`
	Seed   uint64             `json:"seed"`
	Values map[string]float64 `json:"values"` // by Key
	Series map[string]Floats  `json:"series"` // by Key, one value per window
	// Curves are the stores' t-visibility curves, by the store's name.
	Curves map[string][]sim.VisPoint `json:"curves,omitempty"`
	Faults []FaultSpan               `json:"faults,omitempty"`
	// Repeats are the fault cascades that are a repeating fault's second
	// occurrence or later (sim.CascadeResult.Occurrence), by name: the
	// stability map is of the trigger, and leaves them out.
	Repeats []string `json:"repeats,omitempty"`
}

// Key names a metric of a component: "client/shoppers/p99".
type Key struct {
	Scope  metric.Scope
	Target string
	Metric string
}

func (k Key) String() string { return string(k.Scope) + "/" + k.Target + "/" + k.Metric }

// ParseKey reads a Key written by String.
func ParseKey(s string) (Key, bool) {
	scope, rest, ok1 := strings.Cut(s, "/")
	i := strings.LastIndex(rest, "/")
	if !ok1 || i < 0 {
		return Key{}, false
	}
	return Key{Scope: metric.Scope(scope), Target: rest[:i], Metric: rest[i+1:]}, true
}

// Floats is a series that may have gaps (a window without a successful
// request has no latency): NaN in memory, null in JSON.
type Floats []float64

func (f Floats) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range f {
		if i > 0 {
			b.WriteByte(',')
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			b.WriteString("null")
			continue
		}
		data, _ := json.Marshal(x)
		b.Write(data)
	}
	b.WriteByte(']')
	return []byte(b.String()), nil
}

func (f *Floats) UnmarshalJSON(data []byte) error {
	var raw []*float64
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*f = make(Floats, len(raw))
	for i, p := range raw {
		(*f)[i] = math.NaN()
		if p != nil {
			(*f)[i] = *p
		}
	}
	return nil
}

// FaultSpan is a fault's active window in virtual seconds.
type FaultSpan struct {
	Component string  `json:"component"`
	What      string  `json:"what"`
	Start     float64 `json:"start_s"`
	End       float64 `json:"end_s"`
}

// A series is keyed like the metric it draws over time (scope, component,
// metric name: "group/billing/consumer_lag" is the consumer lag the metric
// consumer_lag reports at the end, per window), so that a chart or a row
// of series.csv can be matched to its metric. A series no metric measures
// is named for its quantity with its unit as a suffix: "sent_per_s" is a
// rate, a plain name such as "running" a count.
//
// The series of each client a run keeps: latency percentiles (ms) of
// successful requests, and the p99 of all answered requests (p99_all),
// goodput and offered load (per second) and outcome shares, the share
// answered by a fallback among them.
var clientSeries = []string{"p50", "p99", "p999", "p99_all", seriesSent, "goodput", "error_share", "timeout_share", "rejected_share", "degraded_share"}

// The series a run keeps of the data components:
//
//	group/NAME/consumer_lag         consumer lag: age of the oldest uncommitted record (s), the most in the window
//	group/NAME/lag_records          consumer lag in records, the most in the window
//	store/NAME/staleness            stale reads over reads (0 without reads)
//	store/NAME/unavailable_per_s    operations refused for want of a quorum, per second
//	store/NAME/timeouts_per_s       operations whose quorum did not answer in time, per second
//	saga/NAME/running               instances in flight at the window's end
//	view/NAME/projection_lag        projection lag (s), the most in the window
//	view/NAME/ryw_miss_share        reads that missed their own write, over reads (0 without reads)
const (
	seriesSent        = "sent_per_s"
	seriesLag         = "consumer_lag"
	seriesLagRecords  = "lag_records"
	seriesStaleness   = "staleness"
	seriesUnavailable = "unavailable_per_s"
	seriesTimeouts    = "timeouts_per_s"
	seriesRunning     = "running"
	seriesViewLag     = "projection_lag"
	seriesMissShare   = "ryw_miss_share"
)

// Options tune how a matrix runs; none changes what it measures.
type Options struct {
	// Parallel is the number of runs at once; 0 means one per core.
	Parallel int
	// Shard, when N > 0, runs only the jobs j with j % N == I.
	Shard Shard
	// Memory is each run's memory budget in bytes (sim.Spec.Memory); 0
	// means sim.DefaultMemory.
	Memory int64
	// Progress is told how far each run has got, and of each finished
	// run; nil for none.
	Progress Progress
}

// Execute runs the jobs of the matrix (of its shard) on a pool of
// workers, each running whole simulations, and returns the runs in job
// order whatever the order they finished in, so that the result does not
// depend on Parallel. When ctx is cancelled, runs in progress stop within
// a chunk of events and what finished is returned with ctx's error.
func Execute(ctx context.Context, m *Matrix, opt Options) ([]Run, error) {
	var jobs []int
	for j := range m.Jobs() {
		if opt.Shard.Has(j) {
			jobs = append(jobs, j)
		}
	}
	for i := range m.Cells {
		if c := &m.Cells[i]; c.spec != nil {
			c.spec.Memory = opt.Memory
			// No metric reads an edge's series (measure).
			c.spec.NoEdgeSeries = true
		}
	}
	workers := opt.Parallel
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	workers = min(workers, max(len(jobs), 1))
	if opt.Progress != nil {
		opt.Progress.Start(len(jobs), workers)
	}
	// The first run that fails stops the others: the bench fails with its
	// error, and what is left would be run for nothing.
	ctx, failed := context.WithCancel(ctx)
	defer failed()
	results := make([]*Run, len(jobs))
	errs := make([]error, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for k := range next {
				jb := m.job(jobs[k])
				start := time.Now()
				advance := func(float64) {}
				if opt.Progress != nil {
					advance = func(frac float64) { opt.Progress.Advance(k, frac) }
				}
				r, err := runOne(ctx, m, jb, advance)
				results[k], errs[k] = r, err
				if err != nil {
					failed()
				}
				if opt.Progress != nil && err == nil && r != nil {
					opt.Progress.Done(k, m.Cells[jb.cell].Label, jb.rep, time.Since(start))
				}
			}
		})
	}
feed:
	for k := range jobs {
		select {
		case next <- k:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if opt.Progress != nil {
		opt.Progress.Finish()
	}
	var out []Run
	for k, r := range results {
		if errs[k] != nil {
			return nil, errs[k]
		}
		if r != nil {
			out = append(out, *r)
		}
	}
	return out, ctx.Err()
}

// slice is how much virtual time a run advances between reports of its
// progress, and chunk how many events at most it runs between checks for
// cancellation: a slice of virtual time can hold any number of events (a
// loop that barely advances time), a chunk takes tens of milliseconds, so
// that Ctrl-C and SIGTERM stop a bench at once.
const (
	slice = 5 * time.Second
	chunk = 1 << 20
)

// runOne runs one replication; it returns nil, nil when cancelled. It
// tells advance the share of its virtual time done after each slice.
func runOne(ctx context.Context, m *Matrix, jb job, advance func(frac float64)) (*Run, error) {
	c := &m.Cells[jb.cell]
	if c.spec == nil {
		return nil, fmt.Errorf("%s: the matrix has no scenario to run (read from a file?)", c.Label)
	}
	seed := c.Seed + uint64(jb.rep)
	s, err := sim.New(c.spec, seed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Label, err)
	}
	for t := slice; ; t += slice {
		for !s.RunFor(min(t, c.spec.Duration), chunk) {
			if ctx.Err() != nil {
				return nil, nil
			}
		}
		if ctx.Err() != nil {
			return nil, nil
		}
		if t >= c.spec.Duration || s.Err() != nil {
			break
		}
		advance(float64(t) / float64(c.spec.Duration))
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("%s, replication %d (seed %d): %w", c.Label, jb.rep, seed, err)
	}
	res := s.Result()
	if err := res.CheckConservation(); err != nil {
		return nil, fmt.Errorf("%s, replication %d (seed %d): %w", c.Label, jb.rep, seed, err)
	}
	return measure(res, jb, seed), nil
}

// measure reads every registered metric of every component of a result.
func measure(res *sim.Result, jb job, seed uint64) *Run {
	r := &Run{Cell: jb.cell, Rep: jb.rep, Seed: seed, Values: map[string]float64{}, Series: map[string]Floats{}}
	metric.Measure(res, func(mt metric.Metric, comp string, x float64) {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			r.Values[Key{mt.Scope, comp, mt.Name}.String()] = x
		}
	})
	for _, se := range res.Series {
		if se.Kind != "client" {
			continue
		}
		ser := make(map[string]Floats, len(clientSeries))
		for _, name := range clientSeries {
			ser[name] = make(Floats, len(se.Windows))
		}
		for i, w := range se.Windows {
			width := seriesWidth(&w)
			n := float64(w.OK + w.Errors + w.Timeouts + w.Rejected + w.Shed + w.Limited)
			lat := func(x float64) float64 {
				if w.OK == 0 {
					return math.NaN()
				}
				return x
			}
			share := func(k uint64) float64 {
				if n == 0 {
					return math.NaN()
				}
				return float64(k) / n
			}
			ser["p50"][i] = lat(w.Latency.P50)
			ser["p99"][i] = lat(w.Latency.P99)
			ser["p999"][i] = lat(w.Latency.P999)
			ser["p99_all"][i] = math.NaN()
			if w.LatencyAll.Count > 0 {
				ser["p99_all"][i] = w.LatencyAll.P99
			}
			ser[seriesSent][i] = float64(w.Sent) / width
			ser["goodput"][i] = float64(w.OK) / width
			ser["error_share"][i] = share(w.Errors)
			ser["timeout_share"][i] = share(w.Timeouts)
			ser["rejected_share"][i] = share(w.Rejected + w.Shed + w.Limited)
			ser["degraded_share"][i] = share(w.Degraded)
		}
		for name, f := range ser {
			r.Series[Key{metric.Client, se.Component, name}.String()] = f
		}
	}
	dataSeries(res, func(scope metric.Scope, comp, name string, f Floats) {
		r.Series[Key{scope, comp, name}.String()] = f
	})
	for _, st := range res.Stores {
		if len(st.Visibility) > 0 {
			if r.Curves == nil {
				r.Curves = map[string][]sim.VisPoint{}
			}
			r.Curves[st.Name] = st.Visibility
		}
	}
	r.Faults = faultSpans(res)
	for _, c := range res.Cascades {
		if c.Occurrence > 1 {
			r.Repeats = append(r.Repeats, c.Name)
		}
	}
	return r
}

// dataSeries hands each series of the data components to keep.
func dataSeries(res *sim.Result, keep func(scope metric.Scope, comp, name string, f Floats)) {
	for _, g := range res.Groups {
		keep(metric.Group, g.Name, seriesLag, perWindow(g.Series, func(w *sim.Window) float64 { return w.Group().LagS }))
		keep(metric.Group, g.Name, seriesLagRecords, perWindow(g.Series, func(w *sim.Window) float64 { return float64(w.Group().LagRecords) }))
	}
	for _, st := range res.Stores {
		keep(metric.Store, st.Name, seriesStaleness, perWindow(st.Series, func(w *sim.Window) float64 { return shareOf(w.Store().Stale, w.Store().Reads) }))
		keep(metric.Store, st.Name, seriesUnavailable, perWindow(st.Series, func(w *sim.Window) float64 { return float64(w.Store().Unavailable) / seriesWidth(w) }))
		keep(metric.Store, st.Name, seriesTimeouts, perWindow(st.Series, func(w *sim.Window) float64 { return float64(w.Store().Timeouts) / seriesWidth(w) }))
	}
	for _, sg := range res.Sagas {
		keep(metric.Saga, sg.Name, seriesRunning, perWindow(sg.Series, func(w *sim.Window) float64 { return float64(w.Saga().Running) }))
	}
	for _, v := range res.Views {
		keep(metric.ReadModel, v.Name, seriesViewLag, perWindow(v.Series, func(w *sim.Window) float64 { return w.View().LagS }))
		keep(metric.ReadModel, v.Name, seriesMissShare, perWindow(v.Series, func(w *sim.Window) float64 { return shareOf(w.View().Miss, w.View().Reads) }))
	}
}

// perWindow reads one value of every window.
func perWindow(ws []sim.Window, value func(*sim.Window) float64) Floats {
	out := make(Floats, len(ws))
	for i := range ws {
		out[i] = value(&ws[i])
	}
	return out
}

// shareOf is k over n, 0 when n is.
func shareOf(k, n uint64) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

// seriesWidth is the length of a window in seconds: the last one may be
// cut short by the end of the run.
func seriesWidth(w *sim.Window) float64 {
	return max((w.End - w.Start).Seconds(), 1e-9)
}

// faultSpans are the run's fault occurrences (Result.Faults), one that
// lasted to the end ending there, in order of start and component.
func faultSpans(res *sim.Result) []FaultSpan {
	out := make([]FaultSpan, 0, len(res.Faults))
	for _, f := range res.Faults {
		end := res.DurationS
		if f.End >= 0 {
			end = f.End.Seconds()
		}
		out = append(out, FaultSpan{Component: f.Component, What: f.What, Start: f.Start.Seconds(), End: end})
	}
	slices.SortStableFunc(out, func(a, b FaultSpan) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return strings.Compare(a.Component, b.Component)
	})
	return out
}
