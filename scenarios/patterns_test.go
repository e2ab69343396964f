package scenarios

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/resilience"
)

// The tests of this file load the resilience patterns, gateways and the
// fault catalogue, and compare the whole Spec with the expected one.

// twoServices is a client calling s, which calls t; a test appends keys
// to the call (the last table of the source) and more tables after it.
const twoServices = minScenario + minClient + `
[[service]]
name = "t"
instances = 4
workers = 8

[[service]]
name = "s"
instances = 2
  [[service.call]]
  to = "t"
`

func twoServicesSpec() *sim.Spec {
	s := minSpec()
	s.Services = []sim.Service{
		{Name: "t", Instances: 4, Workers: 8, Queue: sim.Unbounded},
		{Name: "s", Instances: 2, Workers: 1, Queue: sim.Unbounded, Calls: []sim.Call{{To: "t", Probability: 1, Fanout: 1}}},
	}
	return s
}

// defaultRetry is a [retry] table with no keys.
func defaultRetry() *sim.Retry {
	r := &sim.Retry{
		MaxAttempts: 3,
		Backoff:     resilience.Backoff{Base: 100 * time.Millisecond, Cap: 10 * time.Second, Multiplier: 2, Jitter: resilience.JitterFull},
	}
	r.On[sim.Error], r.On[sim.Timeout] = true, true
	return r
}

func ptr[T any](v T) *T { return &v }

func TestLoadPatterns(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want func(s *sim.Spec) // edits twoServicesSpec() into the expected Spec
	}{
		{"empty tables take the libraries' defaults", twoServices + `
  [service.call.outlier_detection]
  [service.call.circuit_breaker]
  [service.call.retry]
  [service.call.retry.budget]
  [service.call.retry.throttle]
  [service.call.hedge]
  delay = "5ms"
`, func(s *sim.Spec) {
			c := &s.Services[1].Calls[0]
			c.Outlier = ptr(resilience.DefaultOutlierConfig())
			c.Breaker = ptr(resilience.DefaultBreakerConfig())
			c.Retry = defaultRetry()
			c.Retry.Budget = &sim.Budget{Percent: 0.2, MinPerSec: 10, TTL: 10 * time.Second}
			c.Retry.Throttle = &sim.Throttle{MaxTokens: 10, TokenRatio: 0.1}
			c.Hedge = &sim.Hedge{Delay: 5 * time.Millisecond, MaxCopies: 2}
		}},
		{"balancers", twoServices + `
  balancer = "least_request"
  [[service.call]]
  to = "t"
  balancer = "least_request"
  choice_count = 3
  [[service.call]]
  to = "t"
  balancer = "RING_HASH"
  [[service.call]]
  to = "t"
  balancer = "random"
  [[service.call]]
  to = "t"
  balancer = "round_robin"
`, func(s *sim.Spec) {
			call := func(p resilience.Policy, n int) sim.Call {
				return sim.Call{To: "t", Probability: 1, Fanout: 1, Balancer: p, ChoiceCount: n}
			}
			s.Services[1].Calls = []sim.Call{
				call(resilience.LeastRequest, 2), call(resilience.LeastRequest, 3), call(resilience.RingHash, 0),
				call(resilience.Random, 0), call(resilience.RoundRobin, 0),
			}
		}},
		{"every call key", twoServices + `
  timeout = "2s"
  balancer = "least_request"
  choice_count = 4
  fallback = true
  bulkhead = 20
  scope = "service"

  [service.call.outlier_detection]
  consecutive_5xx = 3
  interval = "1s"
  base_ejection_time = "5s"
  max_ejection_time = "5s"
  max_ejection_percent = 50
  always_eject_one_host = true
  enforcing_consecutive_5xx = 0
  enforcing_success_rate = 100
  enforcing_failure_percentage = 100
  success_rate_minimum_hosts = 3
  success_rate_request_volume = 20
  success_rate_stdev_factor = 1500
  failure_percentage_threshold = 60
  failure_percentage_minimum_hosts = 2
  failure_percentage_request_volume = 10

  [service.call.circuit_breaker]
  failure_rate_threshold = 25
  slow_call_rate_threshold = 80.5
  slow_call_duration_threshold = "500ms"
  sliding_window_type = "time_based"
  sliding_window_size = 10
  minimum_number_of_calls = 5
  wait_duration_in_open_state = "5s"
  permitted_number_of_calls_in_half_open_state = 2
  max_wait_duration_in_half_open_state = "3s"
  automatic_transition_from_open_to_half_open_enabled = true

  [service.call.retry]
  max_attempts = 5
  backoff = "exponential"
  base = "20ms"
  cap = "1s"
  multiplier = 1.5
  jitter = "decorrelated"
  retry_on = ["rejected", "shed", "rate_limited"]
  per_try_timeout = "500ms"

  [service.call.retry.budget]
  percent = 0.1
  min_per_sec = 0
  ttl = "30s"

  [service.call.retry.throttle]
  max_tokens = 100
  token_ratio = 0.5

  [service.call.hedge]
  delay = "50ms"
  max_copies = 5
  non_fatal_on = ["error", "rate_limited"]
`, func(s *sim.Spec) {
			r := &sim.Retry{
				MaxAttempts:   5,
				Backoff:       resilience.Backoff{Base: 20 * time.Millisecond, Cap: time.Second, Multiplier: 1.5, Jitter: resilience.JitterDecorrelated},
				PerTryTimeout: 500 * time.Millisecond,
				Budget:        &sim.Budget{Percent: 0.1, MinPerSec: 0, TTL: 30 * time.Second},
				Throttle:      &sim.Throttle{MaxTokens: 100, TokenRatio: 0.5},
			}
			r.On[sim.Rejected], r.On[sim.Shed], r.On[sim.Limited] = true, true, true
			h := &sim.Hedge{Delay: 50 * time.Millisecond, MaxCopies: 5}
			h.NonFatalOn[sim.Error], h.NonFatalOn[sim.Limited] = true, true
			s.Services[1].Calls[0] = sim.Call{
				To: "t", Timeout: 2 * time.Second, Probability: 1, Fanout: 1,
				Balancer: resilience.LeastRequest, ChoiceCount: 4,
				Outlier: &resilience.OutlierConfig{
					Consecutive5xx: 3, Interval: time.Second, BaseEjectionTime: 5 * time.Second,
					MaxEjectionTime: 5 * time.Second, MaxEjectionPercent: 50, AlwaysEjectOneHost: true,
					Enforcing:               resilience.DetectSuccessRate | resilience.DetectFailurePercentage,
					SuccessRateMinimumHosts: 3, SuccessRateRequestVolume: 20, SuccessRateStdevFactor: 1500,
					FailurePercentageThreshold: 60, FailurePercentageMinimumHosts: 2, FailurePercentageRequestVolume: 10,
				},
				Breaker: &resilience.BreakerConfig{
					FailureRateThreshold: 25, SlowCallRateThreshold: 80.5, SlowCallDuration: 500 * time.Millisecond,
					WindowType: resilience.TimeBased, WindowSize: 10, MinimumCalls: 5, WaitInOpen: 5 * time.Second,
					PermittedInHalfOpen: 2, MaxWaitInHalfOpen: 3 * time.Second, AutomaticTransition: true,
				},
				Scope:    sim.PerService,
				Fallback: true,
				Retry:    r,
				Bulkhead: 20,
				Hedge:    h,
			}
		}},
		{"constant backoff and jitters", twoServices + `
  retry = { backoff = "constant", base = "10ms", jitter = "none" }
  [[service.call]]
  to = "t"
  retry = { jitter = "equal", cap = "0s" }
  [[service.call]]
  to = "t"
  retry = { jitter = "envoy", base = "25ms", cap = "250ms", max_attempts = 1 }
`, func(s *sim.Spec) {
			r1, r2, r3 := defaultRetry(), defaultRetry(), defaultRetry()
			r1.Backoff = resilience.Backoff{Base: 10 * time.Millisecond, Cap: 10 * time.Second, Multiplier: 1, Jitter: resilience.JitterNone}
			r2.Backoff.Jitter, r2.Backoff.Cap = resilience.JitterEqual, 0
			r3.Backoff = resilience.EnvoyBackoff()
			r3.MaxAttempts = 1
			r3.Concurrency = &resilience.ConcurrencyBudget{MinConcurrency: 3} // Envoy's max_retries default
			s.Services[1].Calls = []sim.Call{
				{To: "t", Probability: 1, Fanout: 1, Retry: r1},
				{To: "t", Probability: 1, Fanout: 1, Retry: r2},
				{To: "t", Probability: 1, Fanout: 1, Retry: r3},
			}
		}},
		{"retry concurrency caps", twoServices + `
  retry = { max_retries = 5 }
  [[service.call]]
  to = "t"
  retry = { jitter = "envoy", retry_budget = {} }
  [[service.call]]
  to = "t"
  retry = { retry_budget = { budget_percent = 50, min_retry_concurrency = 0 } }
`, func(s *sim.Spec) {
			r1, r2, r3 := defaultRetry(), defaultRetry(), defaultRetry()
			r1.Concurrency = &resilience.ConcurrencyBudget{MinConcurrency: 5}
			r2.Backoff.Jitter = resilience.JitterEnvoy
			r2.Concurrency = &resilience.ConcurrencyBudget{Percent: 0.2, MinConcurrency: 3}
			r3.Concurrency = &resilience.ConcurrencyBudget{Percent: 0.5}
			s.Services[1].Calls = []sim.Call{
				{To: "t", Probability: 1, Fanout: 1, Retry: r1},
				{To: "t", Probability: 1, Fanout: 1, Retry: r2},
				{To: "t", Probability: 1, Fanout: 1, Retry: r3},
			}
		}},
		{"inline tables", twoServices + `
  circuit_breaker = {}
  outlier_detection = { consecutive_5xx = 2 }
  retry = { max_attempts = 2, budget = { percent = 0 }, throttle = { max_tokens = 4 } }
  hedge.delay = "1ms"
`, func(s *sim.Spec) {
			c := &s.Services[1].Calls[0]
			c.Breaker = ptr(resilience.DefaultBreakerConfig())
			c.Outlier = ptr(resilience.DefaultOutlierConfig())
			c.Outlier.Consecutive5xx = 2
			c.Retry = defaultRetry()
			c.Retry.MaxAttempts = 2
			c.Retry.Budget = &sim.Budget{Percent: 0, MinPerSec: 10, TTL: 10 * time.Second}
			c.Retry.Throttle = &sim.Throttle{MaxTokens: 4, TokenRatio: 0.1}
			c.Hedge = &sim.Hedge{Delay: time.Millisecond, MaxCopies: 2}
		}},
		{"queue keys and autoscale defaults", minScenario + minClient + `
[[service]]
name = "s"
instances = 3
queue_timeout = "250ms"
queue_discipline = "lifo"
  [service.autoscale]
  max = 12
`, func(s *sim.Spec) {
			s.Services[0] = sim.Service{
				Name: "s", Instances: 3, Workers: 1, Queue: sim.Unbounded,
				QueueTimeout: 250 * time.Millisecond, LIFO: true,
				Autoscale: &resilience.AutoscaleConfig{
					TargetUtilisation: 0.8, Min: 3, Max: 12,
					Interval: 15 * time.Second, ScaleDownStabilization: 300 * time.Second,
					ScaleUpPods: 4, ScaleUpPercent: 100, ScaleDownPercent: 100, PolicyPeriod: 15 * time.Second,
					StartupDelay: 10 * time.Second,
				},
			}
		}},
		{"every autoscale key", minScenario + minClient + `
[[service]]
name = "s"
instances = 2
queue_discipline = "fifo"
autoscale = { target_utilisation = 0.5, min = 1, max = 2, interval = "5s", scale_up_stabilization = "30s", scale_down_stabilization = "0s", scale_up_pods = 2, scale_up_percent = 50, scale_down_percent = 10, startup_delay = "1s" }
`, func(s *sim.Spec) {
			s.Services[0] = sim.Service{
				Name: "s", Instances: 2, Workers: 1, Queue: sim.Unbounded,
				Autoscale: &resilience.AutoscaleConfig{
					TargetUtilisation: 0.5, Min: 1, Max: 2, Interval: 5 * time.Second, ScaleUpStabilization: 30 * time.Second,
					ScaleUpPods: 2, ScaleUpPercent: 50, ScaleDownPercent: 10, PolicyPeriod: 15 * time.Second, StartupDelay: time.Second,
				},
			}
		}},
		{"gateway defaults", minScenario + `
[[client]]
name = "c"
target = "g"
rate = 10

[[gateway]]
name = "g"
  [[gateway.route]]
  path = "/"
  to = "s"
` + minService, func(s *sim.Spec) {
			s.Clients[0].Target = "g"
			s.Services = append(s.Services, sim.Service{
				Name: "g", Instances: 1, Workers: 1000, Queue: sim.Unbounded, Gateway: &sim.Gateway{},
				// A route that sets no timeout has Envoy's default, 15 s.
				Calls: []sim.Call{{To: "s", Path: "/", Weight: 1, Probability: 1, Fanout: 1, Timeout: defaultRouteTimeout}},
			})
		}},
		{"Kong's limits: policy local and limit_by consumer by default", minScenario + `
[[client]]
name = "c"
target = "g"
rate = 10

[[gateway]]
name = "g"
second = 5
hour = 1000
  [[gateway.route]]
  path = "/"
  to = "s"

[[gateway]]
name = "h"
minute = 100
policy = "cluster"
limit_by = "ip"
  [[gateway.route]]
  path = "/"
  to = "s"
` + minService, func(s *sim.Spec) {
			s.Clients[0].Target = "g"
			route := []sim.Call{{To: "s", Path: "/", Weight: 1, Probability: 1, Fanout: 1, Timeout: defaultRouteTimeout}}
			s.Services = append(s.Services,
				sim.Service{Name: "g", Instances: 1, Workers: 1000, Queue: sim.Unbounded, Calls: route,
					Gateway: &sim.Gateway{Kong: &sim.KongLimit{Limits: resilience.FixedWindowLimits{5, 0, 1000}}}},
				sim.Service{Name: "h", Instances: 1, Workers: 1000, Queue: sim.Unbounded, Calls: route,
					Gateway: &sim.Gateway{Kong: &sim.KongLimit{Limits: resilience.FixedWindowLimits{0, 100, 0}, Cluster: true, ByIP: true}}})
		}},
		{"gateway with every key, after the services", minScenario + `
[[client]]
name = "c"
target = "g"
route = "/pay"
keys = 1000
rate = 10

[[client]]
name = "d"
target = "g"
rate = 5

[[gateway]]
name = "g"
instances = 2
workers = 50
queue = 10
service_time = "1ms"
queue_timeout = "1s"
queue_discipline = "lifo"
rps = 99.5
  [gateway.autoscale]
  max = 4

  [[gateway.route]]
  path = "/pay"
  to = "pay"
  weight = 0.5
  timeout = "3s"
  latency = "2ms"
  balancer = "ring_hash"
  fallback = true
  bulkhead = 5
  [gateway.route.circuit_breaker]
  minimum_number_of_calls = 10
  [gateway.route.outlier_detection]
  [gateway.route.retry]
  per_try_timeout = "1s"
  [gateway.route.retry.budget]
  [gateway.route.hedge]
  delay = "1s"

  [[gateway.route]]
  path = "/s"
  to = "s"

[[gateway]]
name = "h"
rps = 10
burst = 1
route = [{ path = "/a", to = "s" }]

[[gateway]]
name = "e"
max_tokens = 20
fill_interval = "500ms"
route = [{ path = "/a", to = "s" }]

[[service]]
name = "pay"
` + minService, func(s *sim.Spec) {
			s.Clients = []sim.Client{
				{Name: "c", Target: "g", Route: "/pay", Keys: 1000, Rate: 10, Arrival: sim.Poisson},
				{Name: "d", Target: "g", Rate: 5, Arrival: sim.Poisson},
			}
			br := resilience.DefaultBreakerConfig()
			br.MinimumCalls = 10
			r := defaultRetry()
			r.PerTryTimeout = time.Second
			r.Budget = &sim.Budget{Percent: 0.2, MinPerSec: 10, TTL: 10 * time.Second}
			s.Services = []sim.Service{
				{Name: "pay", Instances: 1, Workers: 1, Queue: sim.Unbounded},
				{Name: "s", Instances: 1, Workers: 1, Queue: sim.Unbounded},
				{
					Name: "g", Instances: 2, Workers: 50, Queue: 10, ServiceTime: mustDist(t, "1ms"),
					QueueTimeout: time.Second, LIFO: true, Gateway: &sim.Gateway{RPS: 99.5, Burst: 100},
					Autoscale: &resilience.AutoscaleConfig{TargetUtilisation: 0.8, Min: 2, Max: 4,
						Interval: 15 * time.Second, ScaleDownStabilization: 300 * time.Second, ScaleUpPods: 4, ScaleUpPercent: 100,
						ScaleDownPercent: 100, PolicyPeriod: 15 * time.Second, StartupDelay: 10 * time.Second},
					Calls: []sim.Call{
						{
							To: "pay", Path: "/pay", Weight: 0.5, Timeout: 3 * time.Second, Probability: 1, Fanout: 1,
							Latency: mustDist(t, "2ms"), HasLatency: true, Balancer: resilience.RingHash, Fallback: true, Bulkhead: 5,
							Breaker: &br, Outlier: ptr(resilience.DefaultOutlierConfig()), Retry: r,
							Hedge: &sim.Hedge{Delay: time.Second, MaxCopies: 2},
						},
						{To: "s", Path: "/s", Weight: 1, Probability: 1, Fanout: 1, Timeout: defaultRouteTimeout}, // no timeout: Envoy's 15 s
					},
				},
				{
					Name: "h", Instances: 1, Workers: 1000, Queue: sim.Unbounded, Gateway: &sim.Gateway{RPS: 10, Burst: 1},
					Calls: []sim.Call{{To: "s", Path: "/a", Weight: 1, Probability: 1, Fanout: 1, Timeout: defaultRouteTimeout}}, // Envoy's default
				},
				{
					// tokens_per_fill defaults to 1, as in Envoy.
					Name: "e", Instances: 1, Workers: 1000, Queue: sim.Unbounded,
					Gateway: &sim.Gateway{MaxTokens: 20, TokensPerFill: 1, FillInterval: 500 * time.Millisecond},
					Calls:   []sim.Call{{To: "s", Path: "/a", Weight: 1, Probability: 1, Fanout: 1, Timeout: defaultRouteTimeout}}, // Envoy's default
				},
			}
		}},
		{"faults: the catalogue", twoServices + `
[[gateway]]
name = "g"
instances = 4
workers = 10
route = [{ path = "/", to = "s" }]

[[client]]
name = "e"
target = "g"
rate = 1

[[fault]]
kind = "latency"
target = "t"
start = "1s"
add = "10ms"

[[fault]]
kind = "latency"
target = " s -> t "
start = "1s"
add = "10ms"
direction = "responses"

[[fault]]
kind = "errors"
target = "t#4"
start = "1s"
probability = 0.5

[[fault]]
kind = "throttle"
target = "g"
instances = 1
start = "1s"
probability = 1

[[fault]]
kind = "crash"
target = "g"
instances = "50%"
start = "1s"
duration = "2s"
startup_delay = "3s"
every = "5s"
chance = 0.5

[[fault]]
kind = "pause"
target = "g # 2"
start = "0s"

[[fault]]
kind = "slowdown"
target = "t"
start = "1s"
factor = 3

[[fault]]
kind = "capacity"
target = "t#1"
start = "1s"
workers = 0

[[fault]]
kind = "blackhole"
target = "g->s"
start = "1s"

[[fault]]
kind = "blackhole"
target = "t"
instances = 3
start = "1s"

[[fault]]
kind = "loss"
target = "c->s"
start = "1s"
probability = 0.1

[[fault]]
kind = "loss"
target = "e->g"
start = "1s"
probability = 0.1
direction = "requests"

[[fault]]
kind = "partition"
between = [["s", "e"], ["t", "g"]]
one_way = true
start = "1s"

[[fault]]
kind = "surge"
target = "c"
start = "1s"
duration = "1s"
factor = 2.5
`, func(s *sim.Spec) {
			s.Services = append(s.Services, sim.Service{
				Name: "g", Instances: 4, Workers: 10, Queue: sim.Unbounded, Gateway: &sim.Gateway{},
				// A route that sets no timeout has Envoy's default, 15 s.
				Calls: []sim.Call{{To: "s", Path: "/", Weight: 1, Probability: 1, Fanout: 1, Timeout: defaultRouteTimeout}},
			})
			s.Clients = append(s.Clients, sim.Client{Name: "e", Target: "g", Rate: 1, Arrival: sim.Poisson})
			sec := time.Second
			s.Faults = []sim.Fault{
				{Kind: sim.FaultLatency, Target: "t", Start: sec, Chance: 1, Params: sim.LatencyFault{Add: mustDist(t, "10ms")}},
				{Kind: sim.FaultLatency, Target: "s->t", Start: sec, Chance: 1, Params: sim.LatencyFault{Add: mustDist(t, "10ms"), Direction: sim.Responses}},
				{Kind: sim.FaultErrors, Target: "t#4", Start: sec, Chance: 1, Params: sim.ErrorsFault{Probability: 0.5}},
				{Kind: sim.FaultThrottle, Target: "g", Share: 0.25, Start: sec, Chance: 1, Params: sim.ThrottleFault{Probability: 1}},
				{Kind: sim.FaultCrash, Target: "g", Share: 0.5, Start: sec, Duration: 2 * sec, Every: 5 * sec, Chance: 0.5, Params: sim.CrashFault{StartupDelay: 3 * sec}},
				{Kind: sim.FaultPause, Target: "g#2", Chance: 1, Params: sim.PauseFault{}},
				{Kind: sim.FaultSlowdown, Target: "t", Start: sec, Chance: 1, Params: sim.SlowdownFault{Factor: 3}},
				{Kind: sim.FaultCapacity, Target: "t#1", Start: sec, Chance: 1, Params: sim.CapacityFault{Workers: 0}},
				{Kind: sim.FaultBlackhole, Target: "g->s", Start: sec, Chance: 1, Params: sim.BlackholeFault{}},
				{Kind: sim.FaultBlackhole, Target: "t", Share: 0.75, Start: sec, Chance: 1, Params: sim.BlackholeFault{}},
				{Kind: sim.FaultLoss, Target: "c->s", Start: sec, Chance: 1, Params: sim.LossFault{Probability: 0.1}},
				{Kind: sim.FaultLoss, Target: "e->g", Start: sec, Chance: 1, Params: sim.LossFault{Probability: 0.1, Direction: sim.Requests}},
				{Kind: sim.FaultPartition, Start: sec, Chance: 1, Params: sim.PartitionFault{Sides: [2][]string{{"s", "e"}, {"t", "g"}}, OneWay: true}},
				{Kind: sim.FaultSurge, Target: "c", Start: sec, Duration: sec, Chance: 1, Params: sim.SurgeFault{Factor: 2.5}},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustLoad(t, tt.src)
			want := twoServicesSpec()
			if !strings.HasPrefix(tt.src, twoServices) {
				want = minSpec()
			}
			tt.want(want)
			withProbes(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load =\n%+v\nwant\n%+v", got, want)
				for i := range min(len(got.Services), len(want.Services)) {
					if !reflect.DeepEqual(got.Services[i], want.Services[i]) {
						t.Errorf("service %d:\n%+v\nwant\n%+v", i, got.Services[i], want.Services[i])
					}
				}
				for i := range min(len(got.Faults), len(want.Faults)) {
					if !reflect.DeepEqual(got.Faults[i], want.Faults[i]) {
						t.Errorf("fault %d:\n%+v\nwant\n%+v", i, got.Faults[i], want.Faults[i])
					}
				}
			}
			if _, err := sim.New(got, 1); err != nil {
				t.Errorf("sim.New: %v", err)
			}
		})
	}
}

// TestEnumsParse checks that the loader's names of the resilience
// enumerations are the resilience package's, in the order of its constants.
func TestEnumsParse(t *testing.T) {
	for i, name := range balancers {
		if p, ok := resilience.ParsePolicy(name); !ok || int(p) != i || p.String() != name {
			t.Errorf("balancer %q: ParsePolicy = %v, %v; want %d", name, p, ok, i)
		}
	}
	for i, name := range jitters {
		if j, ok := resilience.ParseJitter(name); !ok || int(j) != i || j.String() != name {
			t.Errorf("jitter %q: ParseJitter = %v, %v; want %d", name, j, ok, i)
		}
	}
	for i, name := range windowTypes {
		if w := resilience.WindowType(i); w.String() != name {
			t.Errorf("window type %d is %q, want %q", i, w, name)
		}
	}
	for i, name := range scopes {
		if s := sim.Scope(i); s.String() != name {
			t.Errorf("scope %d is %q, want %q", i, s, name)
		}
	}
	for i, name := range directions {
		if d := sim.Direction(i); d.String() != name {
			t.Errorf("direction %d is %q, want %q", i, d, name)
		}
	}
	for name, o := range outcomes {
		if o.String() != name {
			t.Errorf("outcome %q is %v", name, o)
		}
	}
	for k := range faultKinds {
		if _, ok := kindSpecs[sim.FaultKind(k)]; !ok {
			t.Errorf("fault kind %q has no kindSpec", faultKinds[k])
		}
	}
}

func TestShare(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"50%", 0.5, true},
		{" 12.5 % ", 0.125, true},
		{"100%", 1, true},
		{"0%", 0, false},
		{"100.1%", 0, false},
		{"50", 0, false},
		{"NaN%", 0, false},
		{"%", 0, false},
	}
	for _, tt := range tests {
		if got, ok := share(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("share(%q) = %g, %v; want %g, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestIntervalString(t *testing.T) {
	tests := []struct {
		r    interval
		want string
	}{
		{interval{Lo: 0, Hi: math.Inf(1), LoOpen: true}, "> 0"},
		{interval{Lo: 1, Hi: math.Inf(1)}, ">= 1"},
		{percent, "in (0, 100]"},
		{interval{Lo: 0, Hi: maxRate, LoOpen: true}, "in (0, 1000000000]"},
		{interval{Lo: 1, Hi: 2, HiOpen: true}, "in [1, 2)"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.r, got, tt.want)
		}
	}
}
