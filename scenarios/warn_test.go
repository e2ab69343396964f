package scenarios

import (
	"strings"
	"testing"
)

// TestWarnings: a service with an unbounded queue is warned about when the
// peak rate of its open-loop clients, pushed down the calls (probability,
// fan-out, operation weights, gateway routes), needs more workers than it
// has for its own work alone, or more cores than its cpu_limit when that
// is below its workers (and a caller passes on no more than its CPU can
// start); never otherwise.
func TestWarnings(t *testing.T) {
	const head = "[scenario]\nduration = \"10s\"\n"
	const broker = `
[[client]]
name = "c"
target = "shop"
rate = 10
[[service]]
name = "shop"
  [[service.publish]]
  topic = "orders"
[[broker]]
name = "kafka"
  [[broker.topic]]
  name = "orders"
  partitions = 2
`
	tests := []struct {
		name string
		toml string
		want []string // a substring per warning, in order
	}{
		{"within capacity", head + `
[[client]]
name = "c"
target = "api"
rate = 300
[[service]]
name = "api"
workers = 4
service_time = "10ms"
`, nil},
		{"over capacity, by the schedule's peak", head + `
[[client]]
name = "c"
target = "api"
rate = 300
schedule = [{ at = "5s", rate = 500 }]
[[service]]
name = "api"
workers = 4
service_time = "10ms"
`, []string{`"api"`}},
		{"a bounded queue is not warned about", head + `
[[client]]
name = "c"
target = "api"
rate = 500
[[service]]
name = "api"
workers = 4
queue = 100
service_time = "10ms"
`, nil},
		{"closed-loop users limit themselves", head + `
[[client]]
name = "c"
target = "api"
users = 100
[[service]]
name = "api"
workers = 4
service_time = "10ms"
`, nil},
		{"down the calls: probability and fan-out", head + `
[[client]]
name = "c"
target = "api"
rate = 100
[[service]]
name = "api"
workers = 8
service_time = "1ms"
  [[service.call]]
  to = "db"
  probability = 0.5
  fanout = 3
[[service]]
name = "db"
workers = 1
service_time = "10ms"
`, []string{`"db": its queue is unbounded, and its clients' peak of 150 requests/s needs 1.5 busy workers`}},
		{"operations by weight", head + `
[[client]]
name = "c"
target = "shop"
rate = 100
[[service]]
name = "shop"
workers = 2
  [[service.operation]]
  name = "search"
  weight = 3
  service_time = "30ms"
  [[service.operation]]
  name = "view"
  weight = 1
  service_time = "1ms"
`, []string{`"shop": its queue is unbounded, and its clients' peak of 100 requests/s needs 2.275 busy workers`}},
		{"a billion requests", "[scenario]\nduration = \"24h\"\n" + `
[[client]]
name = "c"
target = "api"
rate = 20000
[[service]]
name = "api"
workers = 400
queue = 100
service_time = "10ms"
`, []string{"the clients send up to 1.73e+09 requests over the run"}},
		// api completes at most 1 worker / 10 ms = 100 requests/s, so db
		// gets at most 300/s of its 1000/s, 1.5 of db's 4 workers: db is
		// not overloaded (a run shows it 25 % busy), and only api, whose
		// queue is bounded, is. db was warned about at 3000/s.
		{"a caller passes on what it can complete", head + `
[[client]]
name = "c"
target = "api"
rate = 1000
[[service]]
name = "api"
workers = 1
queue = 100
service_time = "10ms"
  [[service.call]]
  to = "db"
  fanout = 3
[[service]]
name = "db"
workers = 4
service_time = "5ms"
`, nil},
		{"a fault repeated millions of times", head + `
[[client]]
name = "c"
target = "api"
rate = 10
[[service]]
name = "api"
queue = 10
[[fault]]
kind = "crash"
target = "api"
start = "0s"
duration = "1ns"
every = "2ns"
`, []string{"fault 1 (crash on api) occurs up to 5e+09 times, every 2ns: each is kept for the cascade trace (about 620 GB in all"}},
		{"a fault every 2 ms is not warned about", head + `
[[client]]
name = "c"
target = "api"
rate = 10
[[service]]
name = "api"
queue = 10
[[fault]]
kind = "crash"
target = "api"
start = "1s"
duration = "1ms"
every = "2ms"
`, nil},
		{"a caller's cpu_limit shields its callee", head + `
[[client]]
name = "c"
target = "a"
rate = 1000
[[service]]
name = "a"
workers = 100
queue = 100
cpu_limit = "100m"
service_time = "10ms"
  [[service.call]]
  to = "b"
[[service]]
name = "b"
workers = 1
service_time = "5ms"
`, nil},
		{"a cpu_limit below the workers bounds the work", head + `
[[client]]
name = "c"
target = "api"
rate = 300
[[service]]
name = "api"
workers = 100
cpu_limit = "2"
service_time = "10ms"
`, []string{`"api": its queue is unbounded, and its clients' peak of 300 requests/s needs 3 cores for its own work alone, of the 2 its cpu_limit allows`}},
		{"a cpu_limit above the workers changes nothing", head + `
[[client]]
name = "c"
target = "api"
rate = 500
[[service]]
name = "api"
workers = 4
cpu_limit = "8"
service_time = "10ms"
`, []string{"needs 5 busy workers for its own work alone, of the 4 it has"}},
		{"a consumer's call without a timeout, and down its chain", head + broker + `
[[service]]
name = "billing"
  [[service.consume]]
  topic = "orders"
  [[service.call]]
  to = "payments"
[[service]]
name = "payments"
  [[service.call]]
  to = "bank"
[[service]]
name = "bank"
`, []string{`service "billing", call 1 (to "payments"): no timeout, while group "billing" processes a record (billing -> payments)`,
			`service "payments", call 1 (to "bank"): no timeout, while group "billing" processes a record (billing -> payments -> bank)`}},
		{"a consumer's calls with a timeout free its member", head + broker + `
[[service]]
name = "billing"
  [[service.consume]]
  topic = "orders"
  [[service.call]]
  to = "payments"
  timeout = "5s"
[[service]]
name = "payments"
  [[service.call]]
  to = "bank"
[[service]]
name = "bank"
`, nil},
		{"a call nobody consumes through is not warned about", head + `
[[client]]
name = "c"
target = "api"
rate = 10
[[service]]
name = "api"
  [[service.call]]
  to = "db"
[[service]]
name = "db"
`, nil},
		{"by operation: only the callee's operation called", head + broker + `
[[service]]
name = "billing"
  [[service.consume]]
  topic = "orders"
  [[service.call]]
  to = "payments.charge"
[[service]]
name = "payments"
  [[service.operation]]
  name = "charge"
  [[service.operation]]
  name = "refund"
    [[service.operation.call]]
    to = "bank"
[[service]]
name = "bank"
`, []string{`service "billing", call 1 (to "payments")`}},
		{"autoscaling counts its max", head + `
[[client]]
name = "c"
target = "api"
rate = 500
[[service]]
name = "api"
workers = 4
service_time = "10ms"
  [service.autoscale]
  max = 2
`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := Load("warn.toml", []byte(tt.toml))
			if err != nil {
				t.Fatal(err)
			}
			got := Warnings(sc)
			if len(got) != len(tt.want) {
				t.Fatalf("warnings %q, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %q, want %q in it", got[i], w)
				}
			}
		})
	}
}
