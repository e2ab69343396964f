package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/sim"
)

// longRun is the number of requests past which validate says how long a
// run will take.
const longRun = 1e9

// manyOccurrences is the number of occurrences of a repeated fault past
// which validate warns (testdata/flood.toml, a fault every 2 ms for 240 s,
// has 120,000); occurrenceBytes is what the engine keeps of each, as its
// memory budget counts it (371,400 took 44 MiB).
const (
	manyOccurrences = 1e6
	occurrenceBytes = 124
)

// Warnings lists what makes a valid scenario obviously unbounded: a run of
// more than a billion requests (it takes a quarter of an hour or more), and a service
// whose waiting room has no limit while the peak rate of its open-loop
// clients asks more of its workers than they have (or of its CPU, when a
// cpu_limit is below its workers), counting each request's own service
// time only, where each caller passes on no more than its workers (or CPU)
// can start. That is a lower bound of the work (a worker is also
// held while its request waits on downstream calls, and retries add more),
// so a warning is certain, and a scenario without one may still overload.
// Such a queue grows for as long as the overload lasts: a client timeout
// does not empty it, since abandoned requests still wait their turn.
func Warnings(spec *sim.Spec) []string {
	idx := map[string]int{}
	for i := range spec.Services {
		idx[spec.Services[i].Name] = i
	}
	// rate[s][o] is the offered rate of operation o of service s; a
	// service without operations has the one implicit operation 0.
	rate := make([][]float64, len(spec.Services))
	for i := range spec.Services {
		rate[i] = make([]float64, max(1, len(spec.Services[i].Operations)))
	}
	for _, c := range spec.Clients {
		s, ok := idx[c.Target]
		if !ok || c.Users > 0 {
			continue // closed-loop users limit themselves
		}
		peak := peakRate(&c)
		sv := &spec.Services[s]
		if g := sv.Gateway; g != nil && c.Route != "" {
			// A gateway's own rate is never judged (its queue is not
			// checked below): the route's target gets it.
			for _, r := range sv.Calls {
				if r.Path == c.Route {
					offer(spec, idx, rate, r.To, r.Operation, peak)
				}
			}
			continue
		}
		offerOp(spec, rate, s, c.Operation, peak)
	}
	// Push the rates down the call graph, callers before callees (the
	// loader rejects cycles).
	for _, s := range callOrder(spec, idx) {
		sv := &spec.Services[s]
		if sv.Gateway != nil {
			sum := 0.0
			for _, r := range sv.Calls {
				sum += r.Weight
			}
			// Clients that name a route were routed above; the rest
			// spread over the routes by weight.
			for _, r := range sv.Calls {
				if sum > 0 {
					offer(spec, idx, rate, r.To, r.Operation, unrouted(spec, sv)*r.Weight/sum)
				}
			}
			continue
		}
		// A service starts at most as many requests a second as its
		// workers can hold for their own work (each holds one at least
		// that long), so it passes on no more: a bottleneck upstream
		// shields its callees, and they are not warned about for load
		// that cannot reach them. Scaling down only removes warnings that
		// could not be true.
		share := 1.0
		if need, have := ownWork(sv, rate[s]), capacity(sv); need > have {
			share = have / need
		}
		for o, calls := range opCalls(sv) {
			for _, c := range calls {
				n := float64(max(c.Fanout, 1))
				offer(spec, idx, rate, c.To, c.Operation, rate[s][o]*share*c.Probability*n)
			}
		}
	}
	var out []string
	total := 0.0
	for _, c := range spec.Clients {
		if c.Users == 0 {
			total += peakRate(&c) * spec.Duration.Seconds()
		}
	}
	if total > longRun {
		// faultline runs roughly a million requests a second of wall time
		// (README, Performance): say what such a run costs before it starts.
		out = append(out, fmt.Sprintf("the clients send up to %.3g requests over the run: at about a million requests a second, that is about %s of wall time; lower the rates or the duration",
			total, time.Duration(total/1e6*float64(time.Second)).Round(time.Second)))
	}
	for i, f := range spec.Faults {
		if f.Every <= 0 || f.Start >= spec.Duration {
			continue
		}
		// Every occurrence is kept for the cascade trace, and each costs
		// the engine microseconds: a crash every 2 ns over 10 s ran 110 s
		// and stopped on the 2 GiB memory budget after 16 million.
		if n := float64((spec.Duration-f.Start-1)/f.Every + 1); n > manyOccurrences {
			target := f.Target
			if target == "" {
				target = "the network"
			}
			out = append(out, fmt.Sprintf("fault %d (%s on %s) occurs up to %.3g times, every %s: each is kept for the cascade trace (about %s in all; past %.0f million the memory budget may stop the run) and takes microseconds to run; a longer every",
				i+1, f.Kind, target, n, f.Every, megabytes(n*occurrenceBytes), sim.DefaultMemory/occurrenceBytes/1e6))
		}
	}
	out = append(out, untimedConsumeCalls(spec, idx)...)
	for s := range spec.Services {
		sv := &spec.Services[s]
		if sv.Queue != sim.Unbounded || sv.Gateway != nil {
			continue
		}
		need, offered := ownWork(sv, rate[s]), 0.0
		for _, r := range rate[s] {
			offered += r
		}
		have := capacity(sv)
		switch {
		case need <= have:
		case cpuBound(sv):
			out = append(out, fmt.Sprintf("service %q: its queue is unbounded, and its clients' peak of %.4g requests/s needs %.4g cores for its own work alone, of the %.4g its cpu_limit allows: the queue grows without limit; set a queue (queue = 1000), or more instances or a higher cpu_limit",
				sv.Name, offered, need, have))
		default:
			out = append(out, fmt.Sprintf("service %q: its queue is unbounded, and its clients' peak of %.4g requests/s needs %.4g busy workers for its own work alone, of the %.0f it has: the queue grows without limit; set a queue (queue = 1000), or more instances or workers",
				sv.Name, offered, need, have))
		}
	}
	return out
}

// untimedConsumeCalls warns about every call without a timeout made
// while a consumed record is processed: a call of the consuming service
// (a record takes any of its operations), or of a callee reached through
// calls without a timeout (a call with one frees its caller whatever its
// callee waits on). If the callee is blackholed or loses messages, such a
// call waits for good: its member's poll loop is stuck, Kafka takes the
// member out of the group at max.poll.interval.ms, it never polls again,
// and once every member is stuck the group stops consuming
// (scenarios.md, [[service.consume]]). Kafka's own clients bound every
// request they make: request.timeout.ms, 30 s by default
// (apache/kafka, clients/.../consumer/ConsumerConfig.java, REQUEST_TIMEOUT_MS_CONFIG).
func untimedConsumeCalls(spec *sim.Spec, idx map[string]int) []string {
	var out []string
	type ref struct{ s, o int } // o < 0: every operation
	seen := map[ref]bool{}
	warned := map[[3]int]bool{}
	var visit func(s, o int, group string, path []string)
	visit = func(s, o int, group string, path []string) {
		if seen[ref{s, o}] {
			return
		}
		seen[ref{s, o}] = true
		sv := &spec.Services[s]
		for oi, calls := range opCalls(sv) {
			if o >= 0 && oi != o {
				continue
			}
			for ci, c := range calls {
				t, ok := idx[c.To]
				if !ok || c.Probability == 0 {
					continue // a store or a view, or never made
				}
				to := -1
				if c.Operation != "" {
					to = slices.IndexFunc(spec.Services[t].Operations, func(x sim.Operation) bool { return x.Name == c.Operation })
				}
				if t == s {
					visit(t, to, group, path) // in-process: on the same worker
					continue
				}
				if c.Timeout > 0 {
					continue
				}
				if k := [3]int{s, oi, ci}; !warned[k] {
					warned[k] = true
					at := fmt.Sprintf("service %q", sv.Name)
					if len(sv.Operations) > 0 {
						at += fmt.Sprintf(", operation %q", sv.Operations[oi].Name)
					}
					chain := strings.Join(append(slices.Clip(path), c.To), " -> ")
					out = append(out, fmt.Sprintf("%s, call %d (to %q): no timeout, while group %q processes a record (%s): if %q is blackholed or loses messages the call waits for good, its member stops polling and leaves the group at max_poll_interval, and once every member is stuck the group consumes nothing; give the call a timeout (timeout = \"5s\"; Kafka's clients bound every request, request.timeout.ms 30 s by default)",
						at, ci+1, c.To, group, chain, c.To))
				}
				visit(t, to, group, append(slices.Clip(path), c.To))
			}
		}
	}
	for s := range spec.Services {
		sv := &spec.Services[s]
		for _, c := range sv.Consumes {
			visit(s, -1, cmp.Or(c.Group, sv.Name), []string{sv.Name})
		}
	}
	return out
}

// megabytes writes a size in MB, or GB from a thousand MB on.
func megabytes(b float64) string {
	if b >= 1e9 {
		return fmt.Sprintf("%.3g GB", b/1e9)
	}
	return fmt.Sprintf("%.3g MB", b/1e6)
}

// unrouted is the peak rate of a gateway's open-loop clients that name no
// route.
func unrouted(spec *sim.Spec, gw *sim.Service) float64 {
	r := 0.0
	for _, c := range spec.Clients {
		if c.Target != gw.Name || c.Users > 0 || c.Route != "" {
			continue
		}
		r += peakRate(&c)
	}
	return r
}

// peakRate is the highest rate an open-loop client sends at: its rate or
// a step of its schedule.
func peakRate(c *sim.Client) float64 {
	peak := c.Rate
	for _, st := range c.Schedule {
		peak = max(peak, st.Rate)
	}
	return peak
}

// offer adds rate r to service to (a store, topic or view is skipped).
func offer(spec *sim.Spec, idx map[string]int, rate [][]float64, to, op string, r float64) {
	if s, ok := idx[to]; ok {
		offerOp(spec, rate, s, op, r)
	}
}

// offerOp adds rate r to operation op of service s, or spreads it over its
// operations by weight when op is "".
func offerOp(spec *sim.Spec, rate [][]float64, s int, op string, r float64) {
	ops := spec.Services[s].Operations
	if len(ops) == 0 {
		rate[s][0] += r
		return
	}
	if op != "" {
		if o := slices.IndexFunc(ops, func(x sim.Operation) bool { return x.Name == op }); o >= 0 {
			rate[s][o] += r
		}
		return
	}
	sum := 0.0
	for _, o := range ops {
		sum += o.Weight
	}
	for o := range ops {
		if sum > 0 {
			rate[s][o] += r * ops[o].Weight / sum
		}
	}
}

// opCalls are the calls of each operation of sv (its own, for a service
// without operations).
func opCalls(sv *sim.Service) [][]sim.Call {
	if len(sv.Operations) == 0 {
		return [][]sim.Call{sv.Calls}
	}
	out := make([][]sim.Call, len(sv.Operations))
	for o, op := range sv.Operations {
		out[o] = op.Calls
	}
	return out
}

// ownWork is the workers sv keeps busy with its own work at the rates of
// its operations: the sum of rate x mean service time.
func ownWork(sv *sim.Service, rates []float64) float64 {
	need := 0.0
	for o, r := range rates {
		need += r * ownTime(sv, o)
	}
	return need
}

// capacity is the most own work sv does at once, in busy workers, on its
// peak instances: its workers, or its cpu_limit in cores when that is
// lower, since a limited instance never does more than cpu_limit seconds
// of work a second whatever its workers (CFS bandwidth control's quota,
// docs.kernel.org/scheduler/sched-bwc.html; scenarios.md, cpu_limit).
func capacity(sv *sim.Service) float64 {
	per := float64(sv.Workers)
	if cpuBound(sv) {
		per = sv.CPULimit
	}
	return float64(maxCount(sv)) * per
}

// cpuBound reports whether sv's cpu_limit, not its workers, bounds the
// work it does at once.
func cpuBound(sv *sim.Service) bool {
	return sv.CPULimit > 0 && sv.CPULimit < float64(sv.Workers)
}

// ownTime is the mean service time of operation o of sv, in seconds.
func ownTime(sv *sim.Service, o int) float64 {
	st := sv.ServiceTime
	if len(sv.Operations) > 0 && sv.Operations[o].HasServiceTime {
		st = sv.Operations[o].ServiceTime
	}
	return st.Mean() / 1e9
}

// callOrder lists the services so that every caller comes before its
// callees (Kahn's algorithm; the loader has rejected cycles).
func callOrder(spec *sim.Spec, idx map[string]int) []int {
	in := make([]int, len(spec.Services))
	callees := make([][]int, len(spec.Services))
	for s := range spec.Services {
		sv := &spec.Services[s]
		seen := map[int]bool{}
		add := func(to string) {
			if t, ok := idx[to]; ok && !seen[t] && t != s {
				seen[t] = true
				callees[s] = append(callees[s], t)
				in[t]++
			}
		}
		for _, c := range sv.Calls {
			add(c.To)
		}
		for _, op := range sv.Operations {
			for _, c := range op.Calls {
				add(c.To)
			}
		}
	}
	var order, ready []int
	for s := range spec.Services {
		if in[s] == 0 {
			ready = append(ready, s)
		}
	}
	for len(ready) > 0 {
		s := ready[0]
		ready = ready[1:]
		order = append(order, s)
		for _, t := range callees[s] {
			if in[t]--; in[t] == 0 {
				ready = append(ready, t)
			}
		}
	}
	return order
}
