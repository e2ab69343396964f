package sim_test

import (
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
				sim.Fault{Kind: sim.FaultLatency, Target: "worker#1", Start: 0, Duration: time.Hour, Add: mustDist(t, "10s")})
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
				if w.Start >= 22*time.Second && w.Consumed > 0 {
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
