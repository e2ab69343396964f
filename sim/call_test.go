package sim_test

import (
	"fmt"
	"testing"

	"github.com/faultline/faultline/sim"
)

func edgeResult(res *sim.Result, name string) sim.EdgeResult {
	for _, e := range res.Edges {
		if e.Name == name {
			return e
		}
	}
	panic("no edge " + name)
}

// TestRepeatedCall: a call with repeat is made that many times, one after
// the other, so the caller's latency is the sum of the repetitions (the
// callee takes 10 ms, the caller nothing), and the count follows the
// distribution: its mean as calls per request.
func TestRepeatedCall(t *testing.T) {
	for _, tc := range []struct {
		repeat    string
		mean      float64 // calls per request
		p50, p99  float64 // the client's latency, ms
		tolerance float64
	}{
		{repeat: `3`, mean: 3, p50: 30, p99: 30},
		{repeat: `0`, mean: 0, p50: 0, p99: 0},
		{repeat: `"uniform(1, 3)"`, mean: 2, p50: 20, p99: 30},
		{repeat: `"samples(1, 9, 9, 9)"`, mean: 7, p50: 90, p99: 90},
		{repeat: `"histogram(0: 1, 4: 3)"`, mean: 3, p50: 40, p99: 40},
	} {
		t.Run(tc.repeat, func(t *testing.T) {
			res := runTOML(t, fmt.Sprintf(`
[scenario]
duration = "100s"
[[client]]
name = "users"
target = "home"
rate = 5
[[service]]
name = "home"
workers = 100
service_time = "0s"
[[service.call]]
to = "currency"
repeat = %s
[[service]]
name = "currency"
workers = 100
service_time = "10ms"
`, tc.repeat))
			c := res.Clients[0]
			e := edgeResult(res, "home->currency")
			near(t, "calls per request", float64(e.Calls)/float64(c.Sent), tc.mean, 0.1*tc.mean+0.01)
			if c.OK != c.Sent-c.InFlight {
				t.Errorf("ok %d of %d", c.OK, c.Sent)
			}
			near(t, "p50 ms", c.Latency.P50, tc.p50, 0.02*tc.p50+0.01)
			near(t, "p99 ms", c.Latency.P99, tc.p99, 0.02*tc.p99+0.01)
		})
	}
}

// TestInProcessCalls: an operation calls another of its own service
// in-process, which calls a third: all on the caller's one worker, with no
// network (100 ms of network latency is not paid) and no queue. Over the
// network the chain would deadlock on one worker; in-process it takes the
// sum of the three service times.
func TestInProcessCalls(t *testing.T) {
	res := runTOML(t, `
[scenario]
duration = "60s"
[network]
latency = "100ms"
[[client]]
name = "users"
target = "shop.home"
rate = 5
timeout = "1s"
[[service]]
name = "shop"
instances = 1
workers = 1
[[service.operation]]
name = "home"
service_time = "10ms"
[[service.operation.call]]
to = "shop.repo"
[[service.operation]]
name = "repo"
service_time = "5ms"
[[service.operation.call]]
to = "shop.sql"
repeat = 2
[[service.operation]]
name = "sql"
service_time = "1ms"
`)
	c := res.Clients[0]
	if c.Sent < 250 || c.OK != c.Sent-c.InFlight {
		t.Fatalf("sent %d, ok %d, timeouts %d: want every request answered", c.Sent, c.OK, c.Timeout)
	}
	// 100 ms each way from the client, 10 + 5 + 2 x 1 ms of work.
	near(t, "p50 ms", c.Latency.P50, 217, 2)
	home, repo, sql := operation(res, "shop", "home"), operation(res, "shop", "repo"), operation(res, "shop", "sql")
	if repo.OK != home.OK || sql.OK != 2*home.OK {
		t.Errorf("home %d, repo %d, sql %d answered: want repo as many as home, sql twice", home.OK, repo.OK, sql.OK)
	}
	if shop := component(res, "shop"); shop.Arrivals != c.Sent {
		t.Errorf("shop counted %d arrivals for %d requests: in-process calls are no arrivals", shop.Arrivals, c.Sent)
	}
}
