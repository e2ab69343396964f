package sim

import "time"

// CFS bandwidth control: a container's CPU limit. Linux gives a cgroup
// cpu.cfs_quota_us of CPU time per cpu.cfs_period_us (100 ms by default)
// across all its threads; once the quota is spent they are throttled, and
// "Throttled threads will not be able to run again until the next period
// when the quota is replenished" (Documentation/scheduler/sched-bwc.rst).
// Kubernetes sets the quota of a container with limit L cores to L x period,
// at least 1 ms (pkg/kubelet/cm/helpers_linux.go, MilliCPUToQuota).
//
// The model: below the quota each request at its own work (in.cpu of them,
// k) runs on a core of its own, at rate 1, as without a limit; the quota
// drains at rate k. When it is spent, every request at work on the instance
// stops until the period ends, and the next period refills it. Periods are
// a fixed grid from time 0 (the kernel forwards its period timer by whole
// periods, hrtimer_forward_now in kernel/sched/fair.c); burst
// (cpu.cfs_burst_us) is 0, its default, and the per-CPU slices that can
// throttle a group before its quota is spent are not modelled.
//
// All requests at work progress alike: by v, the instance's unthrottled
// time. A stretch of work of length w that starts at v0 ends when v reaches
// v0 + w, whatever k does meanwhile; k only decides when v stalls. So the
// stretches wait in a heap ordered by their end in v, and one timer per
// instance fires at the first end, projected with the current k and
// projected again whenever k changes: exact, with no event per period and
// none while idle.

// cfsState is an instance's CPU quota and its requests at work.
type cfsState struct {
	s             *Sim
	svc, inst     int32
	quota, period int64 // CPU ns per period; the period, ns
	start         int64 // the current period's start, a multiple of period
	used          int64 // CPU ns spent in the current period
	at            int64 // the time the state has been brought up to
	v             int64 // unthrottled time: each working request's progress
	due           []cfsWork
	seq           uint32 // orders stretches that end at the same v
	timer         int64  // when the armed timer fires
	armed         bool
	// What the kernel reports in the cgroup's cpu.stat (sched-bwc.rst,
	// "Statistics"); worked and waited say whether the current period has
	// been counted in stat's periods and throttled.
	stat           cfsStat
	worked, waited bool
	// cpuNs is the CPU time its work has used, throttled time excluded:
	// what cAdvisor's container_cpu_usage_seconds_total counts and an
	// autoscaler reads.
	cpuNs int64
}

// cfsStat is an instance's CFS bandwidth statistics, cpu.stat's: periods
// counts the periods in which it had work (nr_periods; the kernel also
// counts the idle period after work, in which its period timer stops),
// throttled those in which work waited on the spent quota (nr_throttled),
// throttledNs that wait, in wall time (throttled_time, of the group as a
// whole: the kernel sums it over the CPUs' runqueues). cAdvisor exports
// them as container_cpu_cfs_periods_total, _throttled_periods_total and
// _throttled_seconds_total.
type cfsStat struct {
	periods, throttled uint64
	throttledNs        int64
}

// count adds to the statistics.
func (c *cfsState) count(periods, throttled uint64, ns int64) {
	c.stat.periods += periods
	c.stat.throttled += throttled
	c.stat.throttledNs += ns
}

// statNow is the statistics up to now, read without moving the state:
// reading a result must not change the run.
func (c *cfsState) statNow(now int64, k int) cfsStat {
	cp := *c
	cp.advance(now, k)
	return cp.stat
}

// cfsWork is a stretch of a request's own work: it ends when the instance's
// v reaches v; kind is the event its end stands for.
type cfsWork struct {
	v    int64
	seq  uint32
	req  int32
	gen  uint32
	kind evKind
}

func (a *cfsWork) before(b *cfsWork) bool {
	return a.v < b.v || a.v == b.v && a.seq < b.seq
}

// minQuota is the smallest quota the kubelet sets (MinQuotaPeriod, 1 ms),
// which is also the kernel's (min_cfs_quota_period, kernel/sched/core.c).
const minQuota = int64(time.Millisecond)

// newCFS gives instance inst of service svc the quota of limit cores.
func newCFS(s *Sim, svc, inst int32, limit float64, period int64) *cfsState {
	return &cfsState{s: s, svc: svc, inst: inst, quota: max(minQuota, nanos(limit*float64(period))), period: period}
}

// ceilDiv is a/b rounded up, for a, b > 0.
func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// advance brings the quota and v up to now, k requests having been at work
// since the last change. Runs of the quota end on the nanosecond after it is
// spent (ceilDiv), the same in advance and when.
func (c *cfsState) advance(now int64, k int) {
	t := c.at
	if t >= now {
		return
	}
	c.at = now
	if k == 0 {
		if now >= c.start+c.period {
			c.start, c.used = now-now%c.period, 0
			c.worked, c.waited = false, false
		}
		return
	}
	kk := int64(k)
	for t < now {
		if t == c.start && c.used == 0 && now-t >= c.period {
			// Whole periods at once: each runs for full, then stalls.
			n := (now - t) / c.period
			run := min(c.period, ceilDiv(c.quota, kk))
			c.v += n * run
			c.cpuNs += n * min(c.quota, run*kk)
			if run < c.period {
				c.count(uint64(n), uint64(n), n*(c.period-run))
			} else {
				c.count(uint64(n), 0, 0)
			}
			c.start += n * c.period
			t = c.start
			continue
		}
		end := min(now, c.start+c.period)
		if !c.worked {
			c.worked = true
			c.count(1, 0, 0)
		}
		from := t // the start of the wait on the quota, if any
		if c.used < c.quota {
			run := min(end-t, ceilDiv(c.quota-c.used, kk))
			c.v += run
			used := min(c.quota, c.used+run*kk)
			c.cpuNs += used - c.used
			c.used = used
			from += run
		}
		if from < end {
			// Work waits from the moment the quota is spent, not at
			// it: work that ends with the quota never waits.
			if !c.waited {
				c.waited = true
				c.count(0, 1, 0)
			}
			c.count(0, 0, end-from)
		}
		if t = end; t == c.start+c.period {
			c.start, c.used = t, 0
			c.worked, c.waited = false, false
		}
	}
}

// when is the time at which v reaches target if k stays as it is; the state
// must have been brought up to now.
func (c *cfsState) when(target int64, k int) int64 {
	need, t := target-c.v, c.at
	if need <= 0 {
		return t
	}
	if k == 0 {
		return t + need
	}
	kk := int64(k)
	if c.used < c.quota {
		run := min(c.start+c.period-t, ceilDiv(c.quota-c.used, kk))
		if need <= run {
			return t + need
		}
		need -= run
	}
	full := min(c.period, ceilDiv(c.quota, kk)) // the run of a whole period
	n := (need - 1) / full
	return c.start + c.period + n*c.period + need - n*full
}

// rearm points the timer at the first end of a stretch, with k at work.
// A timer no longer armed, or armed for another time, is void when it
// fires.
func (c *cfsState) rearm(k int) {
	if len(c.due) == 0 {
		c.armed = false
		return
	}
	t := c.when(c.due[0].v, k)
	if c.armed && t == c.timer {
		return
	}
	c.timer, c.armed = t, true
	c.s.schedule(t, evCFS, c.svc, uint32(c.inst))
}

// push adds a stretch ending at v; a binary heap in a slice that is reused.
func (c *cfsState) push(w cfsWork) {
	w.seq = c.seq
	c.seq++
	c.due = append(c.due, w)
	h := c.due
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h[i].before(&h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (c *cfsState) pop() cfsWork {
	h := c.due
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		m, l := i, 2*i+1
		if l < len(h) && h[l].before(&h[m]) {
			m = l
		}
		if r := l + 1; r < len(h) && h[r].before(&h[m]) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	c.due = h
	return top
}

// work plans d of request i's own work on its instance, ending in an event
// of kind k: at now+d, or, under a CPU limit, when the instance's quota has
// let it run for d.
func (sv *service) work(i int32, d int64, k evKind) {
	s := sv.s
	r := &s.reqs.r[i]
	r.segStart = s.now
	in := &sv.insts[r.inst]
	c := in.cfs
	if c == nil {
		in.onCPU(s.now, 1)
		s.schedule(after(s.now, d), k, i, r.gen)
		return
	}
	c.advance(s.now, in.cpu)
	c.push(cfsWork{v: c.v + d, req: i, gen: r.gen, kind: k})
	in.onCPU(s.now, 1) // rearms the timer
}

// cfsDue ends the stretches of work on instance n of service svc that the
// timer armed at at was for, and those that end with them.
func (s *Sim) cfsDue(svc int32, n uint32, at int64) {
	c := s.services[svc].insts[n].cfs
	if c == nil || !c.armed || c.timer != at {
		return
	}
	c.armed = false
	c.advance(s.now, s.services[svc].insts[n].cpu)
	for len(c.due) > 0 && c.due[0].v <= c.v {
		w := c.pop()
		if r := &s.reqs.r[w.req]; r.gen == w.gen && r.state == atService {
			s.workEnd(w.req, w.kind)
		}
	}
	c.rearm(s.services[svc].insts[n].cpu)
}

// throttling sums its instances' cpu.stat up to now; nil without a
// cpu_limit.
func (sv *service) throttling(now int64) *CPUThrottling {
	if sv.spec.CPULimit <= 0 {
		return nil
	}
	t := &CPUThrottling{CPULimit: sv.spec.CPULimit}
	var ns int64
	for i := range sv.insts {
		if c := sv.insts[i].cfs; c != nil {
			st := c.statNow(now, sv.insts[i].cpu)
			t.Periods += st.periods
			t.Throttled += st.throttled
			ns += st.throttledNs
		}
	}
	t.ThrottledS = float64(ns) / 1e9
	if t.Periods > 0 {
		t.ThrottledShare = float64(t.Throttled) / float64(t.Periods)
	}
	return t
}
