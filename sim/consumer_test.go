package sim_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sim"
)

// TestMaxPollIntervalRejoinsAtNextPoll: a member past max.poll.interval
// leaves the group, but its poll loop is one thread: it finishes the batch
// it holds and rejoins only at its next poll (KafkaConsumer: the heartbeat
// thread leaves on the poll timeout, the next poll() rejoins). worker#1's
// records each take 10 s; a batch of 10 takes 100 s against a 30 s
// max_poll_interval. Kafka: per batch it leaves once (30 s after its poll)
// and rejoins once (when the batch is done, 100 s after it), two rebalances
// per cycle of about 100 s + the rebalance. Rejoining at the next check
// while the record still runs gives a cycle of about 34 s instead: three
// times as many (18). A static member is removed only a session timeout
// after its poll timeout (ConsumerConfig's max.poll.interval.ms doc).
func TestMaxPollIntervalRejoinsAtNextPoll(t *testing.T) {
	cases := []struct {
		name      string
		static    bool
		leave     string  // the event of worker#1's removal
		firstLeft float64 // when it is first removed
	}{
		// Dynamic: it leaves at its poll timeout, 30 s after its poll at 10 s.
		{"dynamic member leaves at its poll timeout", false, "worker#1 left: no poll", 41},
		// Static (group.instance.id): it stops heartbeating at its poll
		// timeout and is removed session_timeout (45 s) later.
		{"static member is removed a session later", true, "worker#1 left: no heartbeat since its poll timeout", 86},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := pipeline(t, sim.AcksAll, sim.CommitAfter,
				sim.Fault{Kind: sim.FaultLatency, Target: "worker#1", Start: 0, Duration: time.Hour, Params: sim.LatencyFault{Add: mustDist(t, "10s")}})
			spec.Duration = 320 * time.Second
			spec.Clients[0].Rate = 20
			spec.Services[1].Consumes[0].Batch = 10
			spec.Services[1].Consumes[0].StaticMembership = c.static
			spec.Brokers[0] = kafka(t, 3, 2, 3, 2)
			spec.Brokers[0].MaxPollInterval = 30 * time.Second
			spec.Brokers[0].SessionTimeout = 45 * time.Second
			res, _ := run(t, spec)
			g := res.Groups[0]
			t.Logf("rebalances %d, duplicates %d", g.Rebalances, g.Duplicates)
			// Its first full batch is polled at 10 s: it leaves at 41, 144
			// and 247 s (dynamic) and rejoins at about 110, 213 and 316 s:
			// 6 rebalances.
			if g.Rebalances < 5 || g.Rebalances > 7 {
				t.Errorf("%d rebalances in 320 s, want 2 per ~103 s cycle (6)", g.Rebalances)
			}
			if g.Duplicates == 0 {
				t.Error("no duplicates: the evicted member's commit fails, and the next owner processes its records again")
			}
			// Each rejoin comes when the batch is done, 100 s after its poll.
			left := -1.0
			rejoins := 0
			for _, e := range res.Events {
				switch {
				case strings.Contains(e.What, c.leave):
					if left < 0 && e.TS != c.firstLeft {
						t.Errorf("worker#1 first left at %.1fs, want %.0fs", e.TS, c.firstLeft)
					}
					left = e.TS
				case strings.Contains(e.What, "worker#1 rejoined at its next poll"):
					rejoins++
					if left < 0 || e.TS-left < 20 {
						t.Errorf("worker#1 rejoined at %.1fs, %.1fs after it left: before its batch could be done", e.TS, e.TS-left)
					}
				}
			}
			if rejoins == 0 {
				t.Error("worker#1 never rejoined")
			}
		})
	}
}

// TestRestartWithinSessionTimeout: worker#1 crashes at 20 s and restarts
// at 22 s, within the 10 s session timeout. A dynamic member (Kafka's
// default) comes back with a new member id: its join starts a rebalance at
// once, which waits for the old member until its session expires, at 30 s;
// the whole group consumes nothing from 22 s to 30 s. A static member
// (group.instance.id, KIP-345) gets its partitions back at once, without a
// rebalance.
func TestRestartWithinSessionTimeout(t *testing.T) {
	cases := []struct {
		name       string
		static     bool
		rebalances uint64
		resumes    time.Duration // the first window from 22 s on in which the group consumes
	}{
		{"dynamic member waits for the old session", false, 1, 30 * time.Second},
		{"static member rejoins without a rebalance", true, 0, 22 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := pipeline(t, sim.AcksAll, sim.CommitAfter, crash("worker#1", 20*time.Second, 2*time.Second))
			spec.Services[1].Consumes[0].StaticMembership = c.static
			res, _ := run(t, spec)
			g := res.Groups[0]
			if g.Rebalances != c.rebalances {
				t.Errorf("%d rebalances, want %d", g.Rebalances, c.rebalances)
			}
			t.Logf("rebalances %d, max lag %.1fs", g.Rebalances, g.MaxLagS)
			resumes := time.Duration(-1)
			for _, w := range g.Series {
				if w.Start >= 22*time.Second && w.Group().Consumed > 0 {
					resumes = w.Start
					break
				}
			}
			if resumes != c.resumes {
				t.Errorf("the group consumes again from %v, want %v", resumes, c.resumes)
			}
			if g.Lagging > 200 {
				t.Errorf("%d records still lagging at the end", g.Lagging)
			}
		})
	}
}

// TestAtMostOnceRebalanceOfLiveMembers: with commit = "before" a crash
// loses what its member committed but had not processed. A rebalance that
// a restart of an idle member causes must not lose the batches the live
// members hold: a Kafka consumer finishes its batch before it rejoins.
func TestAtMostOnceRebalanceOfLiveMembers(t *testing.T) {
	// One partition: worker#1 owns it, worker#2 is idle. A freeze builds a
	// backlog so that worker#1 holds full batches; worker#2 crashes and
	// restarts within the session timeout, which rebalances the group.
	spec := pipeline(t, sim.AcksAll, sim.CommitBefore,
		sim.Fault{Kind: sim.FaultPause, Target: "worker#1", Start: 10 * time.Second, Duration: 3 * time.Second},
		crash("worker#2", 14*time.Second, 2*time.Second))
	spec.Brokers[0] = kafka(t, 3, 1, 3, 2)
	res, _ := run(t, spec)
	g := res.Groups[0]
	if g.Rebalances == 0 {
		t.Fatal("no rebalance")
	}
	if g.Lost != 0 {
		t.Errorf("%d records lost, though no member that held records crashed", g.Lost)
	}
}

// pollChain: api publishes each request to "a"; stage-a consumes it with
// poll interval p1 and publishes to "b"; stage-b consumes "b" with poll
// interval p2, its first poll at phase. A zero interval is Kafka's poll
// loop (push-like).
func pollChain(t *testing.T, p1, p2, phase time.Duration) *sim.Spec {
	api := svc(t, "api", "1ms")
	api.Publishes = []sim.Publish{{Topic: "a", Key: sim.KeyRequest, Acks: sim.AcksAll, Probability: 1}}
	a := svc(t, "stage-a", "1ms")
	a.Consumes = []sim.Consume{{Topic: "a", Batch: 100000, MaxAttempts: 1, PollInterval: p1}}
	a.Publishes = []sim.Publish{{Topic: "b", Key: sim.KeyRequest, Acks: sim.AcksAll, Probability: 1}}
	b := svc(t, "stage-b", "1ms")
	b.Consumes = []sim.Consume{{Topic: "b", Batch: 100000, MaxAttempts: 1, PollInterval: p2, PollInitialDelay: phase}}
	k := kafka(t, 3, 1, 3, 2)
	k.Topics[0].Name = "a"
	k.Topics = append(k.Topics, k.Topics[0])
	k.Topics[1].Name = "b"
	return &sim.Spec{Name: "poll", Duration: 600 * time.Second, Clients: []sim.Client{open(1, "api")},
		Services: []sim.Service{api, a, b}, Brokers: []sim.Broker{k}}
}

// TestPollIntervalWait: a consumer that polls every period leaves a record
// in the log until its next poll: uniform arrivals wait P/2 on average, and
// a record appended just after a poll waits about P (the most). Kafka's
// poll loop takes a record as soon as it is readable.
func TestPollIntervalWait(t *testing.T) {
	for _, tc := range []struct {
		name            string
		p               time.Duration
		mean, max, tolS float64 // seconds
	}{
		{"poll loop", 0, 0, 0, 0.05},
		{"every 10s", 10 * time.Second, 5, 10, 0.6},
		{"every 30s", 30 * time.Second, 15, 30, 1.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := run(t, pollChain(t, tc.p, 0, 0))
			g := res.Groups[0]
			if g.Consumer != "stage-a" {
				t.Fatalf("group %s", g.Consumer)
			}
			near(t, "mean wait (s)", g.EndToEnd.Mean/1000, tc.mean, tc.tolS)
			near(t, "longest wait (s)", g.EndToEnd.Max/1000, tc.max, tc.tolS)
		})
	}
}

// TestPollCadencesStack: A polls every P1 = 30 s and feeds B, which polls
// every P2 = 60 s. Over B's phases (independent timers), a record waits
// P1/2 + P2/2 = 45 s on average from its append to "a" to B's processing,
// and at worst about P1 + P2 = 90 s (B's poll just before A's output
// lands). B polling just after A (its phase a few ms past A's poll, the
// same period) waits almost nothing more: aligned cadences do not stack.
func TestPollCadencesStack(t *testing.T) {
	// B's phase, in the middle of each 5 s step of its 60 s period.
	var sumMean float64
	phases := 0
	for phase := 2500 * time.Millisecond; phase < 60*time.Second; phase += 5 * time.Second {
		res, _ := run(t, pollChain(t, 30*time.Second, 60*time.Second, phase))
		a, b := res.Groups[0].EndToEnd, res.Groups[1].EndToEnd
		sumMean += (a.Mean + b.Mean) / 1000
		phases++
	}
	t.Logf("30 s feeding 60 s: mean end to end over %d phases %.1f s", phases, sumMean/float64(phases))
	near(t, "mean end to end over phases (s)", sumMean/float64(phases), 45, 1.5)
	// The worst phase: B polls on A's ticks, just before A's output lands.
	res, _ := run(t, pollChain(t, 30*time.Second, 60*time.Second, 0))
	a, b := res.Groups[0].EndToEnd, res.Groups[1].EndToEnd
	t.Logf("worst phase: stage a max %.1f s, stage b max %.1f s", a.Max/1000, b.Max/1000)
	near(t, "worst end to end (s)", (a.Max+b.Max)/1000, 90, 1)

	res, _ = run(t, pollChain(t, 30*time.Second, 30*time.Second, 500*time.Millisecond))
	a, b = res.Groups[0].EndToEnd, res.Groups[1].EndToEnd
	near(t, "aligned: first stage mean (s)", a.Mean/1000, 15, 1.5)
	if b.Max > 600 {
		t.Errorf("aligned: the second stage waited up to %.0f ms, want under 0.6 s", b.Max)
	}
}

// TestGroupBlastRadius: a consumer group is a business flow, counted in a
// fault's blast radius by the records produced to its topic during the
// fault, each weighing its weight in client requests. The consumer's
// crash leaves the client (which only publishes) untouched, while the
// group lags: 100 records/s against 100 requests/s, the group the only
// flow hit. The old engine counted client flows only: 0 %.
func TestGroupBlastRadius(t *testing.T) {
	for _, tc := range []struct {
		name   string
		weight float64
		want   float64
	}{
		{"default weight: a record weighs as a request", 0, 0.5},
		{"weight 3", 3, 0.75},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := pipeline(t, sim.AcksAll, sim.CommitAfter, crash("worker", 20*time.Second, 10*time.Second))
			spec.Services[1].Consumes[0].Weight = tc.weight
			res, _ := run(t, spec)
			cr := res.Cascades[0]
			near(t, "blast radius", cr.BlastRadius, tc.want, 0.02)
			if len(cr.FlowsHit) != 1 || cr.FlowsHit[0] != "group workers" {
				t.Errorf("flows hit %q, want the group only", cr.FlowsHit)
			}
		})
	}
}

// TestConsumerAfterBlackhole: worker consumes "orders" and, for each
// record, calls ledger; a blackhole lasts from 20 s to 40 s of a 60 s run.
// A record a member processes is its own in-process work, fetched from the
// broker, not a request that arrives at the instance: a blackhole on the
// consuming service leaves it alone (on the old code it swallowed the
// record, the poll loop waited forever, and the group consumed nothing
// after 20 s: about 4,000 records lagging). A blackhole on the callee
// fails each call at its timeout; the member retries the record
// (max_attempts = 3), drops it, and goes on, so the group drains its lag
// once the fault ends. A call with no timeout waits for an answer that
// never comes: the member's poll loop is stuck, it leaves the group at
// max.poll.interval.ms (KafkaConsumer's heartbeat thread sends LeaveGroup,
// KIP-62), and as every member is stuck so, nobody consumes again.
// Conservation (produced = consumed + lagging + lost) is checked by run.
func TestConsumerAfterBlackhole(t *testing.T) {
	cases := []struct {
		name       string
		target     string
		timeout    time.Duration // worker's call to ledger
		maxLagging uint64        // at the end
		minLagging uint64
		dropped    bool     // records given up on after max_attempts
		events     []string // what the run must log
	}{
		{"blackhole on the consuming service", "worker", 500 * time.Millisecond, 50, 0, false, nil},
		{"blackhole on its callee, call with a timeout", "ledger", 500 * time.Millisecond, 50, 0, true, nil},
		// Both members leave at the same check: one rebalance, whose
		// event counts them both (it named the last only).
		{"blackhole on its callee, call with no timeout", "ledger", 0, 1 << 62, 3000, false,
			[]string{"worker#2 left: no poll for 11s, with 1 other membership change", "rebalanced: 0 members"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := pipeline(t, sim.AcksAll, sim.CommitAfter,
				sim.Fault{Kind: sim.FaultBlackhole, Target: c.target, Start: 20 * time.Second, Duration: 20 * time.Second, Params: sim.BlackholeFault{}})
			ledger := svc(t, "ledger", "1ms")
			spec.Services = append(spec.Services, ledger)
			cl := call("ledger")
			cl.Timeout = c.timeout
			spec.Services[1].Calls = []sim.Call{cl}
			spec.Brokers[0].MaxPollInterval = 10 * time.Second
			res, _ := run(t, spec)
			g := res.Groups[0]
			t.Logf("produced %d, consumed %d, lagging %d, dropped %d, rebalances %d", g.Produced, g.Consumed, g.Lagging, g.Dropped, g.Rebalances)
			if g.Lagging > c.maxLagging || g.Lagging < c.minLagging {
				t.Errorf("%d records lagging at the end, want %d .. %d", g.Lagging, c.minLagging, c.maxLagging)
			}
			if (g.Dropped > 0) != c.dropped {
				t.Errorf("%d records dropped, want some: %v", g.Dropped, c.dropped)
			}
			for _, want := range c.events {
				if !slices.ContainsFunc(res.Events, func(e sim.EventResult) bool { return strings.Contains(e.What, want) }) {
					t.Errorf("no event %q", want)
				}
			}
		})
	}
}
