package sim_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
)

// TestOverlappingFaultsTracedApart: payments gets 500 ms slower from 30 s
// to 60 s (orders' 300 ms call to it fails every request); a broker node
// crashes from 45 s to 80 s and orders publishes with acks=all to topics
// of replication factor 2 with min.insync.replicas 2, so once payments
// answers again its publishes fail with NotEnoughReplicas (Kafka's rule:
// acks=all needs min.insync.replicas in the ISR) until the node is back.
// The latency fault caused orders' outage from 30 s to 60 s, the crash
// the rest, to 80 s: timing alone gave the whole outage to the latency
// fault (recovered 81 s) and the crash a blast radius of 0%.
func TestOverlappingFaultsTracedApart(t *testing.T) {
	data, err := os.ReadFile("testdata/overlapping-faults.toml")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := scenarios.Load("overlapping-faults.toml", data)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(spec, spec.Seed)
	if err != nil {
		t.Fatal(err)
	}
	res := s.Run()
	if len(res.Cascades) != 2 {
		t.Fatalf("%d cascades, want 2", len(res.Cascades))
	}
	step := func(c sim.CascadeResult, name string) *sim.CascadeStep {
		for i := range c.Steps {
			if c.Steps[i].Component == name {
				return &c.Steps[i]
			}
		}
		t.Fatalf("%s: no step for %s", c.Name, name)
		return nil
	}
	tests := []struct {
		fault              int
		radiusLo, radiusHi float64
		recLo, recHi       float64 // when orders' failures traced to it ended
	}{
		{0, 0.95, 1.0, 60, 62},  // all the traffic 30-60 s failed because of it
		{1, 0.45, 0.65, 79, 81}, // 20 of its 35 s: the first 15 were payments'
	}
	for _, tt := range tests {
		c := res.Cascades[tt.fault]
		if c.BlastRadius < tt.radiusLo || c.BlastRadius > tt.radiusHi {
			t.Errorf("%s: blast radius %.3f, want %.2f to %.2f", c.Name, c.BlastRadius, tt.radiusLo, tt.radiusHi)
		}
		st := step(c, "orders")
		if st.RecoveredS == nil || *st.RecoveredS < tt.recLo || *st.RecoveredS > tt.recHi {
			t.Errorf("%s: orders recovered %v, want %v to %v", c.Name, st.RecoveredS, tt.recLo, tt.recHi)
		}
		if st.Share == nil || *st.Share < 0.3 {
			t.Errorf("%s: orders' share %v, want most of its failures", c.Name, st.Share)
		}
	}
}

// TestOverlappingFaultsGroup: a +300 ms latency on inventory (30-50 s)
// overlaps a crash of the consumer analytics#1 (35-65 s). The group lags
// because a member stopped polling, and analytics is degraded because 1
// of its 3 instances is down: both episodes' origin is the crash (the
// fault on the group's own member), never the latency on another service,
// which neither stops nor slows a poll loop. Timing alone listed both
// under the latency fault too.
func TestOverlappingFaultsGroup(t *testing.T) {
	data, err := os.ReadFile("testdata/overlapping-faults-group.toml")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := scenarios.Load("overlapping-faults-group.toml", data)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(spec, spec.Seed)
	if err != nil {
		t.Fatal(err)
	}
	res := s.Run()
	if len(res.Cascades) != 2 {
		t.Fatalf("%d cascades, want 2", len(res.Cascades))
	}
	tests := []struct {
		fault     int // 0: the latency on inventory, 1: the crash of analytics#1
		component string
		listed    bool
	}{
		{0, "analytics", false},
		{0, "group analytics", false},
		{1, "analytics", true},
		{1, "group analytics", true},
	}
	for _, tt := range tests {
		c := res.Cascades[tt.fault]
		listed := false
		for _, st := range c.Steps {
			listed = listed || st.Component == tt.component
		}
		if listed != tt.listed {
			t.Errorf("%s (%s): %s listed %v, want %v", c.Name, c.Fault, tt.component, listed, tt.listed)
		}
	}
}

// TestTracedStepToldByItsOwnChange: web's one health episode holds two
// faults (testdata/overlapping-faults-partial.toml): auth's latency, past
// the ext_authz timeout, denies every request from 20 s (failing on
// errors, after a degraded window by fallbacks at 19 s); recs' crash
// leaves partial answers once auth answers again (degraded from 30 s).
// Each fault's step is told by the change it begins with: the crash's
// is degraded (its change at 30 s), never failing (that was auth's,
// before its onset), and the latency fault's is on errors, not on the
// fallbacks of the episode's opening change.
func TestTracedStepToldByItsOwnChange(t *testing.T) {
	data, err := os.ReadFile("testdata/overlapping-faults-partial.toml")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := scenarios.Load("overlapping-faults-partial.toml", data)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(spec, spec.Seed)
	if err != nil {
		t.Fatal(err)
	}
	res := s.Run()
	if len(res.Cascades) != 2 {
		t.Fatalf("%d cascades, want 2", len(res.Cascades))
	}
	tests := []struct {
		fault        int // 0: auth's latency, 1: recs' crash
		first, worst sim.Health
		by           sim.Indicator
		delayLo      float64
	}{
		{0, sim.Failing, sim.Failing, sim.ByErrorShare, 0},
		{1, sim.Degraded, sim.Degraded, sim.ByErrorShare, 4.9},
	}
	for _, tt := range tests {
		c := res.Cascades[tt.fault]
		var st *sim.CascadeStep
		for i := range c.Steps {
			if c.Steps[i].Component == "web" {
				st = &c.Steps[i]
			}
		}
		if st == nil {
			t.Fatalf("%s: no step for web", c.Name)
		}
		if st.First != tt.first || st.Worst != tt.worst || st.By != tt.by || st.DelayS < tt.delayLo {
			t.Errorf("%s: web +%.3fs %s -> %s by %s, want +%.1fs or later %s -> %s by %s",
				c.Name, st.DelayS, st.First, st.Worst, st.By, tt.delayLo, tt.first, tt.worst, tt.by)
		}
	}
}

// TestStepDownTillItsLastFailure: a step's failures that stop before its
// episode ends leave the rest of it to other causes, but windows with no
// failure at all trace nowhere else. In rest-vs-events, shipping's three
// instances crash from 30 s to 60 s and restart at 65 s; from 50 s their
// readiness probes have taken them out of orders' endpoints, so nothing
// reaches shipping, yet it is down (failing, no instance up) until 65 s.
// The old trace said "recovered 50.0s" of a service still down; in
// shared-database, db "recovered 71.0s" while its backlog kept it
// degraded to 83 s. A step recovers when its component does.
func TestStepDownTillItsLastFailure(t *testing.T) {
	for _, tc := range []struct {
		scenario, component string
		recovered           float64
	}{
		{"rest-vs-events", "shipping", 65},
		{"shared-database", "db", 83},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			spec := builtin(t, tc.scenario)
			s, err := sim.New(spec, spec.Seed)
			if err != nil {
				t.Fatal(err)
			}
			res := s.Run()
			var st *sim.CascadeStep
			for i := range res.Cascades[0].Steps {
				if res.Cascades[0].Steps[i].Component == tc.component {
					st = &res.Cascades[0].Steps[i]
				}
			}
			if st == nil {
				t.Fatalf("no step for %s", tc.component)
			}
			if st.RecoveredS == nil || *st.RecoveredS != tc.recovered {
				got := -1.0 // not recovered
				if st.RecoveredS != nil {
					got = *st.RecoveredS
				}
				t.Errorf("%s recovered %.1fs, want %.1fs, when its health did", tc.component, got, tc.recovered)
			}
		})
	}
}

// TestProvenanceConserves: in every window of every client, flow,
// service and operation of every built-in scenario, the failures traced to a fault and
// those with none behind them add up to all its failures.
func TestProvenanceConserves(t *testing.T) {
	check := func(t *testing.T, name string, ws []sim.Window, client bool) {
		for _, w := range ws {
			want := w.Errors + w.Timeouts + w.Rejected + w.Shed + w.Limited
			if client {
				want += w.Degraded
			}
			var got, origins uint64
			if w.Blame != nil {
				got = w.Blame.Faulted + w.Blame.NoFault
				for _, o := range w.Blame.Origins {
					origins += o.N
				}
			}
			if got != want || origins > got {
				t.Errorf("%s at %v: %d failures traced (%d by origin), want %d", name, w.Start, got, origins, want)
				return
			}
		}
	}
	runBuiltins(t, func(t *testing.T, res *sim.Result) {
		for _, c := range res.Clients {
			check(t, c.Name, c.Series, true)
			for _, f := range c.Flows {
				check(t, f.Name, f.Series, true)
			}
		}
		for _, c := range res.Components {
			if c.Kind == "service" {
				check(t, c.Name, c.Series, false)
			}
			for _, o := range c.Operations {
				check(t, c.Name+"."+o.Name, o.Series, false)
			}
		}
	})
}

// TestBlameSlotsPerFault: a window tells origins apart by component,
// cause and fault, not by occurrence. Under testdata/flood.toml's fault,
// which fires every 2 ms, and an errors fault on api from 5 s to 15 s,
// every failure of users' windows is counted by an origin (two at most:
// db's fault and api's), and api's fault is named: counted by
// occurrence, the flood's occurrences filled the six slots and most
// failures, api's among them, were counted only in Faulted.
func TestBlameSlotsPerFault(t *testing.T) {
	data, err := os.ReadFile("../testdata/flood.toml")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := scenarios.Load("flood.toml", data)
	if err != nil {
		t.Fatal(err)
	}
	spec.Duration = 20 * time.Second
	spec.Faults = append(spec.Faults, sim.Fault{Kind: sim.FaultErrors, Target: "api",
		Start: 5 * time.Second, Duration: 10 * time.Second, Params: sim.ErrorsFault{Probability: 0.05}})
	s, err := sim.New(spec, spec.Seed)
	if err != nil {
		t.Fatal(err)
	}
	res := s.Run()
	var api uint64
	for _, w := range res.Clients[0].Series {
		if w.Blame == nil {
			continue
		}
		var n uint64
		for _, o := range w.Blame.Origins {
			n += o.N
			if o.Component == "api" && o.Fault != nil {
				api += o.N
			}
		}
		if all := w.Blame.Faulted + w.Blame.NoFault; n != all {
			t.Errorf("at %v: origins count %d of %d failures", w.Start, n, all)
		}
	}
	// 5% of about 2,000 requests.
	if api < 50 {
		t.Errorf("%d failures traced to the fault on api, want about 100", api)
	}
}

// TestBlackholeTraced: a request its instance swallows fails at its
// caller's timeout, traced to the blackhole on that instance, not to the
// network: the fault's cascade names the client and its blast radius is
// the client's traffic.
func TestBlackholeTraced(t *testing.T) {
	back := sim.Service{Instances: 4, ServiceTime: mustDist(t, "1ms")}
	spec := twoTier(t, sim.Call{Timeout: 100 * time.Millisecond}, back, 20*time.Second)
	spec.Faults = []sim.Fault{{Kind: sim.FaultBlackhole, Target: "back#2", Start: 5 * time.Second, Duration: 10 * time.Second}}
	res, _ := run(t, spec)
	faulted, all := uint64(0), uint64(0)
	for _, w := range res.Clients[0].Series {
		if b := w.Blame; b != nil {
			faulted += b.Faulted
			all += b.Faulted + b.NoFault
		}
	}
	if all == 0 || faulted != all {
		t.Errorf("%d of %d failures traced to a fault, want all", faulted, all)
	}
	if c := res.Cascades[0]; c.BlastRadius < 0.99 {
		t.Errorf("blackhole's blast radius %.3f, want the client's traffic", c.BlastRadius)
	}
}

// TestEpisodeSplitByBlame: a consumer group's or a CQRS view's episode is
// split between two overlapping faults on its path by the records each
// held back, each fault's cascade listing it with its share, the shares
// adding up to at most one; every window's blame conserves. By timing
// alone both faults got the whole episode, with no share (the group), or
// only the fault that came first did (the view).
//   - group: a consumer crash (analytics#1, 35-65 s) and a broker node
//     crash (kafka#2, 40-60 s): the crashed member's records, then the
//     rebalance it began, and the high watermark the dead ISR member
//     holds (about 71 % and 29 %).
//   - view: its projector slowed 100 times from 30 s, and kafka#2 crashed
//     from 40 s to 55 s, holding the partitions' high watermark (about
//     68 % and 32 %; the view's projector is a group in its process).
func TestEpisodeSplitByBlame(t *testing.T) {
	for _, tc := range []struct {
		file, step string
		series     func(*sim.Result) []sim.Window
	}{
		{"overlapping-faults-group-broker.toml", "group analytics", func(r *sim.Result) []sim.Window { return r.Groups[0].Series }},
		{"overlapping-faults-view-broker.toml", "view order-history", func(r *sim.Result) []sim.Window { return r.Views[0].Series }},
	} {
		t.Run(tc.step, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			spec, err := scenarios.Load(tc.file, data)
			if err != nil {
				t.Fatal(err)
			}
			res, _ := run(t, spec)
			if len(res.Cascades) != 2 {
				t.Fatalf("%d cascades, want 2", len(res.Cascades))
			}
			var sum float64
			for _, c := range res.Cascades {
				k := slices.IndexFunc(c.Steps, func(st sim.CascadeStep) bool { return st.Component == tc.step })
				if k < 0 {
					t.Errorf("%s: %s not a step", c.Name, tc.step)
					continue
				}
				st := c.Steps[k]
				if st.Share == nil {
					t.Errorf("%s: %s given by timing, no share", c.Name, tc.step)
					continue
				}
				t.Logf("%s: %s %.1f%% of its episode", c.Name, tc.step, *st.Share*100)
				if *st.Share < 0.2 || *st.Share > 0.8 {
					t.Errorf("%s: %s share %.3f, want one of two large parts", c.Name, tc.step, *st.Share)
				}
				sum += *st.Share
			}
			if sum > 1+1e-9 {
				t.Errorf("shares add up to %.3f > 1", sum)
			}
			blamed := 0
			for _, w := range tc.series(res) {
				if b := w.Blame; b != nil {
					blamed++
					var n uint64
					for _, o := range b.Origins {
						n += o.N
					}
					if n > b.Faulted+b.NoFault || b.Faulted+b.NoFault == 0 {
						t.Errorf("window %v: %d by origin of %d+%d", w.Start, n, b.Faulted, b.NoFault)
					}
				}
			}
			if blamed == 0 {
				t.Error("no window carries a blame")
			}
		})
	}
}

// TestQueuedTracedToHeldCalls: a request that fails while queued behind
// busy workers (rejected by a full queue, shed, or timed out there) is
// traced to what those workers wait on now: the faults on the calls they
// hold, down the chain, through every queue on the way. In a chain
// gateway -> a -> b where only b is faulted, the gateway's and a's
// workers all wait on b; by the old rule (the fault met by the last
// request its service finished, within a window) the queued failures
// were "no fault" when nothing finished (the old figures are in the
// comments). Two faults on two branches share the queued
// failures by what the workers hold (routes weighted 3:1); an overload
// with no fault is no fault's.
func TestQueuedTracedToHeldCalls(t *testing.T) {
	type want struct{ lo, hi float64 }
	tests := []struct {
		name string
		toml string
		// traced are the shares of the client's failures traced to each
		// fault (index), and blast the faults' blast radii.
		traced, blast []want
	}{
		{
			// 100 % of the failures (blast radius 1) in each of the
			// three cases below, by the new rule.
			//
			// Nothing finishes while b is frozen: no timeout below the
			// client. The old rule traced 0.4 % (blast radius 0).
			name:   "b paused, gateway queue full",
			toml:   chain("", "0s", "", "0s", "5ms", fault("pause", "b", "")),
			traced: []want{{0.95, 1}}, blast: []want{{0.95, 1}},
		},
		{
			// a's calls to b give up after 5 s, and fail traced to the
			// blackhole, but rarely within a window of a queued failure.
			// Old: 10.7 % (blast radius 0.107).
			name:   "b blackholed, a sheds after its queue timeout",
			toml:   chain("", "0s", `queue_timeout = "100ms"`, "5s", "5ms", fault("blackhole", "b", "")),
			traced: []want{{0.95, 1}}, blast: []want{{0.95, 1}},
		},
		{
			// b answers 20 s late: the gateway's route gives up at 15 s.
			// Old: 4.9 % (blast radius 0).
			name:   "b slow, the gateway's route times out",
			toml:   chain("", "15s", "", "0s", "5ms", fault("latency", "b", `add = "20s"`)),
			traced: []want{{0.95, 1}}, blast: []want{{0.95, 1}},
		},
		{
			// Old: 0.3 % and 0.1 % (blast radii 0). New: 75 % and 25 %.
			name:   "two faults on two branches",
			toml:   branchesTOML,
			traced: []want{{0.65, 0.85}, {0.15, 0.35}},
			blast:  []want{{0.65, 0.85}, {0.15, 0.35}},
		},
		{
			// b is too slow for the load: a's and the gateway's queues
			// overflow with no fault behind them.
			name: "overload without a fault",
			toml: chain("", "0s", "", "0s", "200ms", ""),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := scenarios.Load("chain.toml", []byte(tt.toml))
			if err != nil {
				t.Fatal(err)
			}
			res, _ := run(t, spec)
			byFault := make([]uint64, len(res.Faults))
			var faulted, all uint64
			for _, w := range res.Clients[0].Series {
				b := w.Blame
				if b == nil {
					continue
				}
				faulted += b.Faulted
				all += b.Faulted + b.NoFault
				for _, o := range b.Origins {
					if o.Fault != nil {
						byFault[*o.Fault] += o.N
					}
				}
			}
			if all == 0 {
				t.Fatal("no failures")
			}
			// The gateway's own failures (its full queue) trace to a
			// fault as its clients' do.
			var gwFaulted, gwAll uint64
			gw := slices.IndexFunc(res.Components, func(c sim.ComponentResult) bool { return c.Name == "gateway" })
			for _, w := range res.Components[gw].Series {
				if b := w.Blame; b != nil {
					gwFaulted += b.Faulted
					gwAll += b.Faulted + b.NoFault
				}
			}
			t.Logf("gateway: %d of %d failures traced to a fault", gwFaulted, gwAll)
			if share := float64(gwFaulted) / float64(max(gwAll, 1)); len(tt.traced) > 0 && share < 0.95 || len(tt.traced) == 0 && gwFaulted > 0 {
				t.Errorf("gateway: %d of %d failures traced to a fault", gwFaulted, gwAll)
			}
			if len(tt.traced) == 0 && (faulted > 0 || len(res.Cascades) > 0) {
				t.Errorf("%d of %d failures traced to a fault, %d cascades: want none", faulted, all, len(res.Cascades))
			}
			if len(res.Cascades) != len(tt.blast) {
				t.Fatalf("%d cascades, want %d", len(res.Cascades), len(tt.blast))
			}
			for k, w := range tt.traced {
				share := float64(byFault[k]) / float64(all)
				t.Logf("%s: %.1f %% of %d failures traced to it, blast radius %.3f", res.Cascades[k].Name, share*100, all, res.Cascades[k].BlastRadius)
				if share < w.lo || share > w.hi {
					t.Errorf("%s: %.3f of the failures traced to it, want %.2f to %.2f", res.Cascades[k].Name, share, w.lo, w.hi)
				}
				if r := res.Cascades[k].BlastRadius; r < tt.blast[k].lo || r > tt.blast[k].hi {
					t.Errorf("%s: blast radius %.3f, want %.2f to %.2f", res.Cascades[k].Name, r, tt.blast[k].lo, tt.blast[k].hi)
				}
			}
		})
	}
}

// chain is a client calling gateway -> a -> b, with faults: gw and a are
// more keys of the gateway and of a, route and call the timeouts of the
// gateway's route and of a's call to b, bTime b's mean service time.
func chain(gw, route, a, call, bTime, faults string) string {
	return fmt.Sprintf(`
[scenario]
name = "chain"
duration = "60s"
warmup = "5s"
seed = 1

[[client]]
name = "users"
target = "gateway"
rate = 200
timeout = "1s"

[[gateway]]
name = "gateway"
workers = 16
queue = 16
%s

  [[gateway.route]]
  path = "/"
  to = "a"
  timeout = "%s"

[[service]]
name = "a"
instances = 2
workers = 8
queue = 8
service_time = "exp(2ms)"
%s

  [[service.call]]
  to = "b"
  timeout = "%s"

[[service]]
name = "b"
instances = 2
workers = 64
service_time = "exp(%s)"
%s`, gw, route, a, call, bTime, faults)
}

// fault is a fault table of kind on target from 20 s to 40 s, with keys.
func fault(kind, target, keys string) string {
	return fmt.Sprintf(`
[[fault]]
kind = "%s"
target = "%s"
start = "20s"
duration = "20s"
%s
`, kind, target, keys)
}

// branchesTOML: the gateway's routes go 3:1 to a1 -> b1 and a2 -> b2, and
// b1 and b2 are paused at once: the gateway's workers hold calls down
// both branches, three to one.
var branchesTOML = `
[scenario]
name = "branches"
duration = "60s"
warmup = "5s"
seed = 1

[[client]]
name = "users"
target = "gateway"
rate = 200
timeout = "1s"

[[gateway]]
name = "gateway"
workers = 16
queue = 16

  [[gateway.route]]
  path = "/one"
  to = "a1"
  weight = 3
  timeout = "0s"

  [[gateway.route]]
  path = "/two"
  to = "a2"
  weight = 1
  timeout = "0s"

[[service]]
name = "a1"
instances = 2
workers = 8
queue = 8
service_time = "exp(2ms)"

  [[service.call]]
  to = "b1"

[[service]]
name = "a2"
instances = 2
workers = 8
queue = 8
service_time = "exp(2ms)"

  [[service.call]]
  to = "b2"

[[service]]
name = "b1"
instances = 2
workers = 64
service_time = "exp(5ms)"

[[service]]
name = "b2"
instances = 2
workers = 64
service_time = "exp(5ms)"
` + fault("pause", "b1", "") + fault("pause", "b2", "")

// TestBackoffTracedToLastAttempt: a worker whose call sleeps between
// retries has no attempt in flight; what it waits on is the fault behind
// its call's last failed attempt. Api calls db with up to five attempts
// seconds apart; from 10 s db fails every request (errors), is down
// (crash) or answers 429 (throttle); api's ten workers sleep in back-off,
// its queue overflows, and the users' refusals (api's full queue) are
// traced to db's fault as its own failures are (714 of 714 failures from
// 10 s to 17 s with the throttle, 734 of 734 with the crash). The
// defect: the held-worker walk saw no attempt, so no fault, and the
// refusals had none until a request that met db's fault finished, 8 s
// later: on the old code 0 of 714 were traced with the throttle, 544 of
// 734 with the crash (none of its 190 refusals). With the errors fault
// the old code traced them all, by the defect of
// TestSlowAnswerBlamedOnWhatAddedTime: db's requests were late by the
// errors fault, and the walk found that on api's.
func TestBackoffTracedToLastAttempt(t *testing.T) {
	for _, tc := range []struct{ name, retry, fault string }{
		{"errors, constant back-off", `backoff = "constant", base = "2s"`, `kind = "errors"
probability = 1.0`},
		{"errors, exponential back-off", `base = "1s"`, `kind = "errors"
probability = 1.0`},
		{"crash, constant back-off", `backoff = "constant", base = "2s"`, `kind = "crash"`},
		{"throttle, constant back-off", `backoff = "constant", base = "2s"`, `kind = "throttle"
probability = 1.0`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runTOML(t, `
[scenario]
name = "backoff"
duration = "30s"
seed = 1

[[client]]
name = "users"
target = "api"
rate = 100
timeout = "60s"

[[service]]
name = "api"
instances = 1
workers = 10
queue = 10
service_time = "1ms"

[[service.call]]
to = "db"
timeout = "30s"
retry = { max_attempts = 5, `+tc.retry+`, jitter = "none", retry_on = ["error", "rejected", "rate_limited"] }

[[service]]
name = "db"
instances = 1
workers = 10
service_time = "1ms"

[[fault]]
target = "db"
start = "10s"
duration = "20s"
`+tc.fault+"\n")
			var refused, traced, all uint64
			for _, w := range res.Clients[0].Series {
				if w.Start < 10*time.Second || w.Start >= 17*time.Second || w.Blame == nil {
					continue
				}
				all += w.Blame.Faulted + w.Blame.NoFault
				for _, o := range w.Blame.Origins {
					if o.Cause == sim.CauseQueueFull {
						refused += o.N
					}
					if o.Fault != nil && *o.Fault == 0 {
						traced += o.N
					}
				}
			}
			t.Logf("from 10 s to 17 s, %d failures, %d of them api's full queue; %d traced to db's fault", all, refused, traced)
			if refused == 0 || traced != all {
				t.Errorf("%d of %d failures traced to db's fault (%d refused by api's full queue), want all", traced, all, refused)
			}
		})
	}
}

// TestPauseBelowKeepsItsCause: a timeout whose time a pause below took
// is told as the pause's. users -> a, which calls b then c (500 ms). b#1
// is frozen from 10 s for 800 ms: a call to it answers once the pause
// ends, and users' 1 s timeout fires while a waits on c. The walk finds
// no fault on the path still waited on, and the lateness the finished
// call brought back names the pause: cause pause, as a request still
// frozen in b is told. The defect told every such failure "late".
func TestPauseBelowKeepsItsCause(t *testing.T) {
	src := `
[scenario]
name = "pause-below"
duration = "20s"
seed = 1

[[client]]
name = "users"
target = "a"
rate = 100
timeout = "1s"

[[service]]
name = "a"
instances = 2
workers = 256
service_time = "1ms"

  [[service.call]]
  to = "b"

  [[service.call]]
  to = "c"

[[service]]
name = "b"
instances = 2
workers = 256
service_time = "1ms"

[[service]]
name = "c"
instances = 2
workers = 256
service_time = "500ms"

[[fault]]
kind = "pause"
target = "b#1"
start = "10s"
duration = "800ms"
`
	spec, err := scenarios.Load("pause-below.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	res, _ := run(t, spec)
	byCause := map[sim.Cause]uint64{}
	for _, w := range res.Clients[0].Series {
		if w.Blame == nil {
			continue
		}
		for _, o := range w.Blame.Origins {
			if o.Fault != nil {
				byCause[o.Cause] += o.N
			}
		}
	}
	t.Logf("users' failures traced to the pause, by cause: %v", byCause)
	if byCause[sim.CausePause] == 0 || byCause[sim.CauseLate] > 0 {
		t.Errorf("users' failures traced to the pause, by cause: %v; want pause only", byCause)
	}
}

// TestNoInstanceBlamedOnWhatTookThemDown: a refusal for no instance up
// is the crash's that took the instances down, as Envoy's UH (no healthy
// upstream host) is, whatever else lasts on a down instance. Every
// instance of b crashes at 10 s for 10 s; a latency fault on b#1, which
// is down, begins at 11 s. users' no-instance refusals from 11 s are
// traced to the crash (fault 0); the defect traced them to the latest
// fault active on any instance, the latency.
func TestNoInstanceBlamedOnWhatTookThemDown(t *testing.T) {
	src := `
[scenario]
name = "no-instance"
duration = "30s"
seed = 1

[[client]]
name = "users"
target = "b"
rate = 100
timeout = "1s"

[[service]]
name = "b"
instances = 2
workers = 64
service_time = "exp(5ms)"

[[fault]]
kind = "crash"
target = "b"
start = "10s"
duration = "10s"

[[fault]]
kind = "latency"
target = "b#1"
add = "100ms"
start = "11s"
duration = "5s"
`
	spec, err := scenarios.Load("no-instance.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	res, _ := run(t, spec)
	byFault := map[int]uint64{}
	for _, w := range res.Clients[0].Series {
		if w.Blame == nil {
			continue
		}
		for _, o := range w.Blame.Origins {
			if o.Cause == sim.CauseNoInstance {
				f := -1
				if o.Fault != nil {
					f = *o.Fault
				}
				byFault[f] += o.N
			}
		}
	}
	t.Logf("users' no-instance refusals by fault: %v", byFault)
	if byFault[0] == 0 || len(byFault) != 1 {
		t.Errorf("users' no-instance refusals by fault: %v; want the crash's (0) only", byFault)
	}
}

// TestGroupBlamedOnWhatKeepsItsMembersDown: in the built-in
// kafka-consumer-crash (billing#2 crashed 30-70 s) every billing instance
// crashes again from 74 s to the end. The rebalance billing#2's return
// began at 71 s waits for members that stopped heartbeating, and from
// 89 s, their sessions expired, no member is left to own a partition:
// the group's records behind in every window from 74 s trace to that
// second crash (fault 1). The old code traced them to the origin of the
// last rebalance, billing#2's first crash (fault 0), over since 70 s.
func TestGroupBlamedOnWhatKeepsItsMembersDown(t *testing.T) {
	spec := builtin(t, "kafka-consumer-crash")
	spec.Faults = append(spec.Faults, sim.Fault{Kind: sim.FaultCrash, Target: "billing", Start: 74 * time.Second, Duration: 26 * time.Second, Params: sim.CrashFault{}})
	res, _ := run(t, spec)
	tests := []struct {
		name     string
		from, to int // windows [from, to)
	}{
		{"while the rebalance waits for them", 74, 89},
		{"once no member is left", 89, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := tt.from; i < tt.to; i++ {
				w := res.Groups[0].Series[i]
				if w.Blame == nil || len(w.Blame.Origins) != 1 {
					t.Fatalf("window %d: blame %+v, want one origin", i, w.Blame)
				}
				o := w.Blame.Origins[0]
				if o.Fault == nil || *o.Fault != 1 || o.Cause != sim.CauseCrash || o.Component != "billing" {
					f := -1
					if o.Fault != nil {
						f = *o.Fault
					}
					t.Errorf("window %d: %d records behind traced to %s %s, fault %d; want billing crash, fault 1", i, o.N, o.Component, o.Cause, f)
				}
			}
		})
	}
}

// TestWalkGatedByReach: a queued request is traced to the fault that the
// workers ahead of it hold, down their calls (heldFault); a walk is made
// only for a service that reaches, down its calls, a component on which a
// fault lasts. gw -> a -> store db; b -> c; a store nobody calls. Each
// fault lasts from 1 s to 3 s: at 2 s, each service counts it if it sits
// on something it reaches; at 4 s, none does. The old code walked for
// every service while any fault lasted anywhere (the count it had was
// the same for all: 1).
func TestWalkGatedByReach(t *testing.T) {
	st := mustDist(t, "exp(1ms)")
	store := func(name string) sim.Store {
		return sim.Store{Name: name, Replicas: 3, WriteQuorum: 2, ReadQuorum: 2, WriteDelay: st, AckDelay: st,
			ReadDelay: st, ResponseDelay: st, Keys: 100, Timeout: time.Second}
	}
	for _, tc := range []struct {
		name  string
		fault sim.Fault
		want  map[string]int32 // at 2 s, by service
	}{
		{"pause on the callee of another chain", sim.Fault{Kind: sim.FaultPause, Target: "c", Params: sim.PauseFault{}},
			map[string]int32{"gw": 0, "a": 0, "b": 1, "c": 1}},
		{"errors on a middle service", sim.Fault{Kind: sim.FaultErrors, Target: "a", Params: sim.ErrorsFault{Probability: 0.5}},
			map[string]int32{"gw": 1, "a": 1, "b": 0, "c": 0}},
		{"crash on a store it calls", sim.Fault{Kind: sim.FaultCrash, Target: "db#1", Params: sim.CrashFault{}},
			map[string]int32{"gw": 1, "a": 1, "b": 0, "c": 0}},
		{"crash on a store nobody calls", sim.Fault{Kind: sim.FaultCrash, Target: "other#1", Params: sim.CrashFault{}},
			map[string]int32{"gw": 0, "a": 0, "b": 0, "c": 0}},
		{"latency on another chain's link", sim.Fault{Kind: sim.FaultLatency, Target: "b->c", Params: sim.LatencyFault{Add: mustDist(t, "10ms")}},
			map[string]int32{"gw": 0, "a": 0, "b": 1, "c": 1}},
		// Data messages are checked against every partition active
		// (dataOrigin): a service that reaches a store counts any.
		{"partition between b and c", sim.Fault{Kind: sim.FaultPartition, Params: sim.PartitionFault{Sides: [2][]string{{"b"}, {"c"}}}},
			map[string]int32{"gw": 1, "a": 1, "b": 1, "c": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.fault
			f.Start, f.Duration = time.Second, 2*time.Second
			spec := &sim.Spec{Name: "reach", Duration: 5 * time.Second,
				Clients: []sim.Client{{Name: "c1", Target: "gw", Rate: 100}, {Name: "c2", Target: "b", Rate: 100}},
				Services: []sim.Service{
					{Name: "gw", Instances: 1, Workers: 4, Queue: sim.Unbounded, ServiceTime: st,
						Calls: []sim.Call{{To: "a", Probability: 1, Fanout: 1}}},
					{Name: "a", Instances: 1, Workers: 4, Queue: sim.Unbounded, ServiceTime: st,
						Calls: []sim.Call{{To: "db", Op: sim.OpRead, Key: sim.KeyRandom, Probability: 1, Fanout: 1}}},
					{Name: "b", Instances: 1, Workers: 4, Queue: sim.Unbounded, ServiceTime: st,
						Calls: []sim.Call{{To: "c", Probability: 1, Fanout: 1}}},
					{Name: "c", Instances: 1, Workers: 4, Queue: sim.Unbounded, ServiceTime: st},
				},
				Stores: []sim.Store{store("db"), store("other")},
				Faults: []sim.Fault{f},
			}
			s, err := sim.New(spec, 1)
			if err != nil {
				t.Fatal(err)
			}
			s.RunUntil(2 * time.Second)
			got := map[string]int32{}
			for name := range tc.want {
				got[name] = s.InReach(name)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("at 2 s, lasting faults in reach %v, want %v", got, tc.want)
			}
			s.RunUntil(4 * time.Second)
			for name := range tc.want {
				if n := s.InReach(name); n != 0 {
					t.Errorf("at 4 s, after the fault, %s counts %d", name, n)
				}
			}
		})
	}
}
