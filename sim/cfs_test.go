package sim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/faultline/faultline/sim"
)

// cfsWant is the time a single stretch of work w takes alone on an instance
// whose quota is q per period p, started at a period's start: each period
// runs it for q and stalls it for p-q, so after n = ceil(w/q)-1 whole
// periods the rest, w-n*q <= q, runs in the next one.
func cfsWant(w, q, p time.Duration) time.Duration {
	if q >= p {
		return w
	}
	n := (w+q-1)/q - 1
	return n*p + w - n*q
}

// oneShot is a client that sends one request, at time 0, to op of target.
func oneShot(name, target, op string) sim.Client {
	return sim.Client{Name: name, Target: target, Operation: op, Rate: 1e-3, Arrival: sim.Constant}
}

func runCFS(t *testing.T, spec *sim.Spec) *sim.Result {
	t.Helper()
	s, err := sim.New(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	res := s.Run()
	if err := res.CheckConservation(); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestCPULimitSingleRequest runs one request alone against the closed form
// of CFS bandwidth control (Documentation/scheduler/sched-bwc.rst): a quota
// of limit x period per period, then a stall to the period's end.
func TestCPULimitSingleRequest(t *testing.T) {
	tests := []struct {
		name   string
		work   time.Duration
		limit  float64
		period time.Duration
		want   time.Duration
	}{
		{"within the quota", 10 * time.Millisecond, 0.2, 100 * time.Millisecond, 10 * time.Millisecond},
		{"exactly the quota", 20 * time.Millisecond, 0.2, 100 * time.Millisecond, 20 * time.Millisecond},
		{"two quotas and a half", 50 * time.Millisecond, 0.2, 100 * time.Millisecond, 210 * time.Millisecond},
		{"exactly two quotas", 40 * time.Millisecond, 0.2, 100 * time.Millisecond, 120 * time.Millisecond},
		{"half a core, 50ms periods", 100 * time.Millisecond, 0.5, 50 * time.Millisecond, 175 * time.Millisecond},
		{"a whole core is never throttled alone", 250 * time.Millisecond, 1, 100 * time.Millisecond, 250 * time.Millisecond},
		{"millicores: 200m for a second of work", time.Second, 0.2, 100 * time.Millisecond, 4920 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := time.Duration(tt.limit * float64(tt.period))
			if got := cfsWant(tt.work, q, tt.period); got != tt.want {
				t.Fatalf("the closed form gives %v, the table %v", got, tt.want)
			}
			spec := &sim.Spec{
				Name: "cfs", Duration: 20 * time.Second,
				Clients: []sim.Client{oneShot("one", "server", "")},
				Services: []sim.Service{{
					Name: "server", Instances: 1, Workers: 1, Queue: sim.Unbounded,
					ServiceTime: mustDist(t, tt.work.String()), CPULimit: tt.limit, CPUPeriod: tt.period,
				}},
			}
			c := runCFS(t, spec).Clients[0]
			if c.OK != 1 {
				t.Fatalf("ok = %d, want 1", c.OK)
			}
			if got := c.Latency.Max; got != float64(tt.want)/1e6 {
				t.Errorf("latency %.6f ms, want %.6f ms", got, float64(tt.want)/1e6)
			}
		})
	}
}

// TestCPULimitConcurrentWork checks that requests at work together drain
// the quota together, and that a request's end is planned again whenever
// the number at work changes: in both directions, exactly. Two operations
// of one instance (limit 0.2 core: 20 ms of CPU per 100 ms) start at 0, or
// the short one 12 ms later, behind a front service of 12 ms.
func TestCPULimitConcurrentWork(t *testing.T) {
	tests := []struct {
		name          string
		long, short   time.Duration
		late          bool
		wantL, wantSh time.Duration
	}{
		// Both at work: 10 ms each per period; 30 ms take 3 periods.
		{"equal pair", 30 * time.Millisecond, 30 * time.Millisecond, false, 210 * time.Millisecond, 210 * time.Millisecond},
		// Both until 5 ms (10 ms of quota), then the long one alone runs
		// 10 ms more (v = 15) and stalls; 15 more in the next period: 115
		// ms. Planned with two at work it would end at 210 ms.
		{"one leaves: the other ends earlier", 30 * time.Millisecond, 5 * time.Millisecond, false, 115 * time.Millisecond, 5 * time.Millisecond},
		// The long one alone for 12 ms (12 of quota), then both: 8 ms of
		// quota left last 4 ms (v = 16). From 100 ms the short one needs 1
		// ms (ends at 101, sent at 0); the long one 13 more, alone: 114 ms.
		{"one joins, then leaves", 30 * time.Millisecond, 5 * time.Millisecond, true, 114 * time.Millisecond, 101 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limited := sim.Service{
				Name: "server", Instances: 1, Workers: 2, Queue: sim.Unbounded, CPULimit: 0.2, CPUPeriod: 100 * time.Millisecond,
				Operations: []sim.Operation{
					{Name: "long", ServiceTime: mustDist(t, tt.long.String()), HasServiceTime: true, Weight: 1},
					{Name: "short", ServiceTime: mustDist(t, tt.short.String()), HasServiceTime: true, Weight: 1},
				},
			}
			spec := &sim.Spec{Name: "cfs", Duration: 20 * time.Second, Services: []sim.Service{limited}}
			spec.Clients = []sim.Client{oneShot("long", "server", "long"), oneShot("short", "server", "short")}
			if tt.late {
				spec.Clients[1] = oneShot("short", "front", "")
				spec.Services = append(spec.Services, sim.Service{
					Name: "front", Instances: 1, Workers: 1, Queue: sim.Unbounded, ServiceTime: mustDist(t, "12ms"),
					Calls: []sim.Call{{To: "server", Operation: "short", Probability: 1, Fanout: 1}},
				})
			}
			res := runCFS(t, spec)
			for i, want := range []time.Duration{tt.wantL, tt.wantSh} {
				c := res.Clients[i]
				if c.OK != 1 || c.Latency.Max != float64(want)/1e6 {
					t.Errorf("%s: ok %d, latency %.6f ms, want 1 ok in %.6f ms", c.Name, c.OK, c.Latency.Max, float64(want)/1e6)
				}
			}
		})
	}
}

// TestCPULimitThroughput checks the long-run cap: an instance with limit L
// cores does at most L seconds of work per second, however many workers it
// has, and below the cap it serves what it is offered. M/D/1-like: Poisson
// arrivals, 10 ms of work each, limit 0.5 core (50 requests a second); a
// bounded queue turns the excess away, so that goodput counts the rate
// served rather than a backlog sent before the warmup.
func TestCPULimitThroughput(t *testing.T) {
	if testing.Short() {
		t.Skip("long validation run")
	}
	tests := []struct {
		name   string
		rate   float64
		lo, hi float64 // goodput, requests a second
	}{
		{"below the cap: 90% of it", 45, 45 * 0.97, 45 * 1.03},
		{"above the cap", 80, 50 * 0.97, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := &sim.Spec{
				Name: "cfs", Duration: 400 * time.Second, Warmup: 20 * time.Second,
				Clients: []sim.Client{{Name: "load", Target: "server", Rate: tt.rate}},
				Services: []sim.Service{{
					Name: "server", Instances: 1, Workers: 100, Queue: 50,
					ServiceTime: mustDist(t, "10ms"), CPULimit: 0.5, CPUPeriod: 100 * time.Millisecond,
				}},
			}
			c := runCFS(t, spec).Clients[0]
			if g := c.GoodputRPS; g < tt.lo || g > tt.hi || math.IsNaN(g) {
				t.Errorf("goodput %.2f/s, want in [%.2f, %.2f]", g, tt.lo, tt.hi)
			}
		})
	}
}

// cfsReference is an independent model of CFS bandwidth control for a check
// of the engine's: it steps from event to event (an arrival, an end of
// work, the quota spent, a period's end) with every request's remaining work
// in float64, where the engine keeps one progress clock and a heap. Requests
// of the given works arrive every gap from 0, never wait for a worker, and
// their latencies up to end are returned per stream.
func cfsReference(quota, period float64, end float64, streams []struct{ gap, work float64 }) (count []int, sum, maxLat []float64) {
	type job struct {
		stream     int
		start, rem float64
	}
	count, sum, maxLat = make([]int, len(streams)), make([]float64, len(streams)), make([]float64, len(streams))
	next := make([]float64, len(streams))
	var active []job
	t, left, boundary := 0.0, quota, period
	for t < end {
		ta := math.Inf(1)
		for i := range streams {
			ta = min(ta, next[i])
		}
		dt := min(ta, boundary, end) - t
		k := float64(len(active))
		if k > 0 && left > 0 {
			rmin := math.Inf(1)
			for _, j := range active {
				rmin = min(rmin, j.rem)
			}
			dt = min(dt, rmin, left/k)
			for i := range active {
				active[i].rem -= dt
			}
			left -= k * dt
		}
		t += dt
		kept := active[:0]
		for _, j := range active {
			if j.rem > 1e-3 { // float residue of a finished one, ns
				kept = append(kept, j)
				continue
			}
			l := t - j.start
			count[j.stream]++
			sum[j.stream] += l
			maxLat[j.stream] = max(maxLat[j.stream], l)
		}
		active = kept
		if left < 1e-3 {
			left = 0
		}
		if t >= boundary {
			left, boundary = quota, boundary+period
		}
		for i, s := range streams {
			if next[i] <= t && t < end {
				active = append(active, job{i, t, s.work})
				next[i] += s.gap
			}
		}
	}
	return count, sum, maxLat
}

// TestCPULimitAgainstReference runs two streams of requests of fixed work
// through one limited instance, the number at work rising and falling all
// the time, and checks every stream's count, mean and largest latency
// against cfsReference: equal to the count, within 1 us (the engine ends a
// run of the quota on a whole nanosecond).
func TestCPULimitAgainstReference(t *testing.T) {
	tests := []struct {
		name   string
		limit  float64
		period time.Duration
	}{
		{"below the cap: 1.175 cores of work under 1.25", 1.25, 100 * time.Millisecond},
		{"at the cap", 1.175, 100 * time.Millisecond},
		{"just over the cap", 1.1, 100 * time.Millisecond},
		{"overloaded: under 0.6", 0.6, 100 * time.Millisecond},
		{"short periods of 7ms", 1.2, 7 * time.Millisecond},
	}
	streams := []struct{ gap, work float64 }{{8e6, 3e6}, {25e6, 20e6}} // 125/s of 3 ms, 40/s of 20 ms
	const end = 5 * time.Second
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			period := tt.period
			count, sum, maxLat := cfsReference(tt.limit*float64(period), float64(period), float64(end), streams)
			spec := &sim.Spec{
				Name: "cfs", Duration: end,
				Clients: []sim.Client{
					{Name: "a", Target: "server", Operation: "a", Rate: 125, Arrival: sim.Constant},
					{Name: "b", Target: "server", Operation: "b", Rate: 40, Arrival: sim.Constant},
				},
				Services: []sim.Service{{
					Name: "server", Instances: 1, Workers: 10000, Queue: sim.Unbounded, CPULimit: tt.limit, CPUPeriod: period,
					Operations: []sim.Operation{
						{Name: "a", ServiceTime: mustDist(t, "3ms"), HasServiceTime: true, Weight: 1},
						{Name: "b", ServiceTime: mustDist(t, "20ms"), HasServiceTime: true, Weight: 1},
					},
				}},
			}
			res := runCFS(t, spec)
			for i, c := range res.Clients {
				mean, mx := sum[i]/float64(count[i])/1e6, maxLat[i]/1e6
				if int(c.OK) != count[i] || math.Abs(c.Latency.Mean-mean) > 1e-3 || math.Abs(c.Latency.Max-mx) > 1e-3 {
					t.Errorf("%s: %d ok, mean %.6f ms, max %.6f ms; the reference: %d, %.6f ms, %.6f ms",
						c.Name, c.OK, c.Latency.Mean, c.Latency.Max, count[i], mean, mx)
				}
			}
			t.Logf("mean latency a %.3f ms, b %.3f ms", res.Clients[0].Latency.Mean, res.Clients[1].Latency.Mean)
		})
	}
}

// TestCPUThrottlingStat checks the cpu.stat figures of one instance
// against CFS bandwidth control worked by hand (sched-bwc.rst: a quota of
// limit x period, then throttled to the period's end): nr_periods the
// periods with work, nr_throttled those in which work waited on the spent
// quota, throttled_time that wait. Work that ends with the quota never
// waits.
func TestCPUThrottlingStat(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name               string
		work               time.Duration
		requests           int // at work together from 0
		limit              float64
		period             time.Duration
		periods, throttled uint64
		throttledTime      time.Duration
	}{
		{"within the quota", 10 * ms, 1, 0.2, 100 * ms, 1, 0, 0},
		{"exactly the quota: no wait", 20 * ms, 1, 0.2, 100 * ms, 1, 0, 0},
		// 20 ms run, 80 ms wait; twice; 10 ms in the third period.
		{"50ms under 200m", 50 * ms, 1, 0.2, 100 * ms, 3, 2, 160 * ms},
		{"exactly two quotas", 40 * ms, 1, 0.2, 100 * ms, 2, 1, 80 * ms},
		// 25 ms of quota per 50 ms: three waits of 25 ms, then 25 ms.
		{"half a core, 50ms periods", 100 * ms, 1, 0.5, 50 * ms, 4, 3, 75 * ms},
		{"a whole core alone is never throttled", 250 * ms, 1, 1, 100 * ms, 3, 0, 0},
		// 49 periods of 20 ms run and 80 ms wait, then the last 20 ms.
		{"a second of work under 200m", time.Second, 1, 0.2, 100 * ms, 50, 49, 49 * 80 * ms},
		// Two at work drain 20 ms of quota in 10 ms: 90 ms waits, twice.
		{"two at work together", 30 * ms, 2, 0.2, 100 * ms, 3, 2, 180 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := &sim.Spec{
				Name: "cfs", Duration: 20 * time.Second,
				Services: []sim.Service{{
					Name: "server", Instances: 1, Workers: tt.requests, Queue: sim.Unbounded,
					ServiceTime: mustDist(t, tt.work.String()), CPULimit: tt.limit, CPUPeriod: tt.period,
				}},
			}
			for range tt.requests {
				spec.Clients = append(spec.Clients, oneShot("one", "server", ""))
			}
			for i := range spec.Clients {
				spec.Clients[i].Name = fmt.Sprintf("c%d", i)
			}
			got := runCFS(t, spec).Components[0].CPUThrottling
			want := sim.CPUThrottling{CPULimit: tt.limit, Periods: tt.periods, Throttled: tt.throttled,
				ThrottledS: tt.throttledTime.Seconds(), ThrottledShare: float64(tt.throttled) / float64(tt.periods)}
			if got == nil || *got != want {
				t.Errorf("cpu_throttling %+v, want %+v", got, want)
			}
		})
	}
}

// TestCPUThrottlingOnlyWithALimit: a service without a cpu_limit has no
// cpu_throttling in --json, so that outputs without one are unchanged; one
// with a limit has it.
func TestCPUThrottlingOnlyWithALimit(t *testing.T) {
	for _, limit := range []float64{0, 0.2} {
		spec := &sim.Spec{
			Name: "cfs", Duration: 10 * time.Second,
			Clients: []sim.Client{{Name: "users", Target: "server", Rate: 50}},
			Services: []sim.Service{{
				Name: "server", Instances: 2, Workers: 4, Queue: sim.Unbounded,
				ServiceTime: mustDist(t, "exp(5ms)"), CPULimit: limit,
			}},
		}
		b, err := json.Marshal(runCFS(t, spec))
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{`"cpu_throttling"`, `"nr_periods"`, `"nr_throttled"`, `"throttled_time_s"`} {
			if got := bytes.Contains(b, []byte(key)); got != (limit > 0) {
				t.Errorf("cpu_limit %g: %s in --json is %v", limit, key, got)
			}
		}
	}
}
