package sim_test

import (
	"testing"
	"time"

	"github.com/faultline/faultline/sim"
)

// TestPausedBrokerAnswersNothing: a frozen broker takes no write and
// serves no read until it thaws. Its producers wait (here, past their
// timeout) and its consumers get nothing new; afterwards all resumes.
func TestPausedBrokerAnswersNothing(t *testing.T) {
	spec := pipeline(t, sim.AcksLeader, sim.CommitAfter,
		sim.Fault{Kind: sim.FaultPause, Target: "kafka", Start: 20 * time.Second, Duration: 10 * time.Second})
	spec.Brokers[0].SessionTimeout = time.Minute
	res, _ := run(t, spec)
	if res.Clients[0].Error+res.Clients[0].Timeout == 0 {
		t.Errorf("no publish failed while the broker was frozen for 10 s (timeout 5 s): %+v", res.Clients[0])
	}
	g := res.Groups[0]
	var during uint64
	for _, w := range g.Series {
		if w.Start >= 21*time.Second && w.Start < 29*time.Second {
			during += w.Group().Consumed
		}
	}
	if during > 0 {
		t.Errorf("%d records consumed from a frozen broker", during)
	}
	if g.Lagging > 200 {
		t.Errorf("%d records still lagging at the end", g.Lagging)
	}
}
