package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/faultline/faultline/sim/metrics"
)

// Result is what a run measured. Aggregates cover the time after warmup:
// requests sent (or arrived) before it are not counted.
type Result struct {
	Scenario   string            `json:"scenario"`
	Seed       uint64            `json:"seed"`
	DurationS  float64           `json:"duration_s"`
	WarmupS    float64           `json:"warmup_s"`
	TimeS      float64           `json:"time_s"` // virtual time reached: DurationS once the run is done
	Clients    []ClientResult    `json:"clients"`
	Components []ComponentResult `json:"components"`
	Events     []EventResult     `json:"events"`
	// Series holds every component's time series, clients first; run writes
	// it with --csv.
	Series []Series `json:"-"`
}

// Latency summarises successful requests, in milliseconds.
type Latency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

func latencyOf(h *metrics.Histogram) Latency {
	s := h.Summarize()
	return Latency{Mean: s.Mean, P50: s.P50, P90: s.P90, P99: s.P99, P999: s.P999, Max: s.Max}
}

// ClientResult is one client's view: every request it sent ends in exactly
// one of OK, Error, Timeout, Rejected, or is still InFlight at the end.
type ClientResult struct {
	Name        string  `json:"name"`
	Target      string  `json:"target"`
	Sent        uint64  `json:"sent"`
	OK          uint64  `json:"ok"`
	Error       uint64  `json:"error"`
	Timeout     uint64  `json:"timeout"`
	Rejected    uint64  `json:"rejected"`
	InFlight    uint64  `json:"in_flight"`
	SuccessRate float64 `json:"success_rate"` // OK / answered (sent - in flight)
	GoodputRPS  float64 `json:"goodput_rps"`  // OK per second after warmup
	Latency     Latency `json:"latency_ms"`
}

// ComponentResult is one service's view. Arrivals = OK + Error + Rejected +
// InProgress.
type ComponentResult struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Instances  int    `json:"instances"`
	Workers    int    `json:"workers"`
	Arrivals   uint64 `json:"arrivals"`
	OK         uint64 `json:"ok"`
	Error      uint64 `json:"error"`
	Rejected   uint64 `json:"rejected"`
	InProgress uint64 `json:"in_progress"`
	// Wasted counts requests completed after their caller had given up.
	Wasted        uint64  `json:"wasted"`
	ThroughputRPS float64 `json:"throughput_rps"` // completed (OK or Error) per second
	Utilisation   float64 `json:"utilisation"`    // busy workers / all workers, time average
	InSystemMean  float64 `json:"in_system_mean"` // busy + queued requests, time average (Little's L)
	QueueMean     float64 `json:"queue_mean"`     // queued requests per instance, time average
	QueueMax      int     `json:"queue_max"`      // longest queue of one instance
	// Latency is the time from arrival to the end of the work, queueing and
	// downstream calls included, of requests that succeeded.
	Latency Latency `json:"latency_ms"`
}

// EventResult is an Event for output.
type EventResult struct {
	TS        float64 `json:"t_s"`
	Component string  `json:"component"`
	What      string  `json:"what"`
}

// Series is one component's time series.
type Series struct {
	Component string
	Kind      string // "client" or "service"
	Windows   []Window
}

// Result summarises the run so far; after the run it is the final result.
func (s *Sim) Result() *Result {
	span := float64(s.now-s.warmup) / 1e9
	perSec := func(n uint64) float64 {
		if span <= 0 {
			return 0
		}
		return float64(n) / span
	}
	res := &Result{
		Scenario:  s.spec.Name,
		Seed:      s.seed,
		DurationS: float64(s.end) / 1e9,
		WarmupS:   float64(s.warmup) / 1e9,
		TimeS:     float64(s.now) / 1e9,
	}
	inFlight := make([]uint64, len(s.clients))
	inProgress := make([]uint64, len(s.services))
	for i := range s.reqs.r {
		r := &s.reqs.r[i]
		if r.parent == noParent && r.counted && !r.abandoned {
			inFlight[r.origin]++
		}
		if r.state == atService && r.svcCount {
			inProgress[r.svc]++
		}
	}
	for i := range s.clients {
		c := &s.clients[i]
		a := &c.agg
		cr := ClientResult{
			Name: c.spec.Name, Target: c.spec.Target,
			Sent: a.sent, OK: a.ok, Error: a.errors, Timeout: a.timeouts, Rejected: a.rejected,
			InFlight: inFlight[i], GoodputRPS: perSec(a.ok), Latency: latencyOf(&a.lat),
		}
		if n := a.outcomes(); n > 0 {
			cr.SuccessRate = float64(a.ok) / float64(n)
		}
		res.Clients = append(res.Clients, cr)
		res.Series = append(res.Series, Series{Component: c.spec.Name, Kind: "client", Windows: c.series})
	}
	for i := range s.services {
		sv := &s.services[i]
		sv.account(s.now)
		a := &sv.agg
		cr := ComponentResult{
			Name: sv.spec.Name, Kind: "service", Instances: len(sv.insts), Workers: sv.spec.Workers,
			Arrivals: a.sent, OK: a.ok, Error: a.errors, Rejected: a.rejected, InProgress: inProgress[i],
			Wasted: a.wasted, ThroughputRPS: perSec(a.ok + a.errors), QueueMax: sv.aggQMax,
			Latency: latencyOf(&a.lat),
		}
		if t := float64(s.now - sv.aggStart); t > 0 {
			cr.Utilisation = sv.aggBusy / (t * float64(len(sv.insts)*sv.spec.Workers))
			cr.InSystemMean = (sv.aggBusy + sv.aggQueue) / t
			cr.QueueMean = sv.aggQueue / t / float64(len(sv.insts))
		}
		res.Components = append(res.Components, cr)
		res.Series = append(res.Series, Series{Component: sv.spec.Name, Kind: "service", Windows: sv.series})
	}
	res.Events = make([]EventResult, len(s.log))
	for i, e := range s.log {
		res.Events[i] = EventResult{TS: e.T.Seconds(), Component: e.Component, What: e.What}
	}
	return res
}

// Snapshot is a consistent view of a run in progress, for a driver that shows
// it live. It shares nothing with the Sim: the Sim can go on while a Snapshot
// is read on another goroutine.
type Snapshot struct {
	Now      time.Duration
	Duration time.Duration
	Done     bool
	Result   *Result
}

// Snapshot copies the state of the run so far.
func (s *Sim) Snapshot() Snapshot {
	res := s.Result()
	for i := range res.Series {
		res.Series[i].Windows = append([]Window(nil), res.Series[i].Windows...)
	}
	return Snapshot{Now: time.Duration(s.now), Duration: time.Duration(s.end), Done: s.done, Result: res}
}

// CheckConservation verifies DESIGN.md's conservation law on a result: every
// request a client sent ended in exactly one outcome or is still in flight,
// and every request that reached a service was answered, rejected, or is
// still there. In-flight counts come from the request pool, not from the
// outcome counters, so a request counted twice or never is caught.
func (r *Result) CheckConservation() error {
	var errs []error
	for _, c := range r.Clients {
		if got := c.OK + c.Error + c.Timeout + c.Rejected + c.InFlight; got != c.Sent {
			errs = append(errs, fmt.Errorf("client %s: sent %d != ok %d + error %d + timeout %d + rejected %d + in flight %d",
				c.Name, c.Sent, c.OK, c.Error, c.Timeout, c.Rejected, c.InFlight))
		}
	}
	for _, c := range r.Components {
		if got := c.OK + c.Error + c.Rejected + c.InProgress; got != c.Arrivals {
			errs = append(errs, fmt.Errorf("service %s: arrivals %d != ok %d + error %d + rejected %d + in progress %d",
				c.Name, c.Arrivals, c.OK, c.Error, c.Rejected, c.InProgress))
		}
	}
	return errors.Join(errs...)
}

// Latencies returns the latency histogram of a client or service since
// warmup (successful requests only), or nil for an unknown name. It is the
// live histogram: read it, do not change it. Merging the histograms of
// several runs gives exact pooled percentiles.
func (s *Sim) Latencies(component string) *metrics.Histogram {
	for i := range s.clients {
		if s.clients[i].spec.Name == component {
			return &s.clients[i].agg.lat
		}
	}
	for i := range s.services {
		if s.services[i].spec.Name == component {
			return &s.services[i].agg.lat
		}
	}
	return nil
}
