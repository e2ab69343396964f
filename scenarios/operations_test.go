package scenarios

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/resilience"
)

// The tests of this file load operations, external services, the dotted
// targets that name an operation, and the deploy, leak and dependency
// faults, and compare the whole Spec with the expected one.

// shop is a client calling shop, which has two operations; catalog has
// one, pay is external. A test appends tables after it.
const shop = minScenario + `
[[client]]
name = "c"
target = "shop"
rate = 10

[[service]]
name = "shop"
instances = 4
workers = 16
service_time = "exp(5ms)"
errors = 0.001
after_calls = 0.5

  [[service.operation]]
  name = "search"
  service_time = "exp(20ms)"
  errors = 0.01
  after_calls = 0.2
  weight = 3

    [[service.operation.call]]
    to = "catalog.search"
    timeout = "1s"

  [[service.operation]]
  name = "checkout"

    [[service.operation.call]]
    to = "catalog"

    [[service.operation.call]]
    to = "pay"

[[service]]
name = "catalog"
instances = 2

  [[service.operation]]
  name = "search"

[[service]]
name = "pay"
external = true
`

func shopSpec(t *testing.T) *sim.Spec {
	s := minSpec()
	s.Clients[0].Target = "shop"
	s.Services = []sim.Service{
		{
			Name: "shop", Instances: 4, Workers: 16, Queue: sim.Unbounded, ServiceTime: mustDist(t, "exp(5ms)"), Errors: 0.001, AfterCalls: 0.5,
			Operations: []sim.Operation{
				{
					Name: "search", ServiceTime: mustDist(t, "exp(20ms)"), HasServiceTime: true, Errors: 0.01, HasErrors: true, AfterCalls: 0.2, Weight: 3,
					Calls: []sim.Call{{To: "catalog", Operation: "search", Timeout: time.Second, Probability: 1, Fanout: 1}},
				},
				{
					Name: "checkout", AfterCalls: 0.5, Weight: 1,
					Calls: []sim.Call{{To: "catalog", Probability: 1, Fanout: 1}, {To: "pay", Probability: 1, Fanout: 1}},
				},
			},
		},
		{Name: "catalog", Instances: 2, Workers: 1, Queue: sim.Unbounded, Operations: []sim.Operation{{Name: "search", Weight: 1}}},
		{Name: "pay", Instances: 1, Workers: 1, Queue: sim.Unbounded, External: true},
	}
	return s
}

func TestLoadOperations(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want func(s *sim.Spec) // edits shopSpec() into the expected Spec
	}{
		{"operations, their defaults and an external service", shop, func(*sim.Spec) {}},
		{"a client, a route and a call name an operation", shop + `
[[client]]
name = "d"
target = "shop.checkout"
rate = 1

[[client]]
name = "e"
target = "edge"
route = "/search"
rate = 1

[[gateway]]
name = "edge"
  [[gateway.route]]
  path = "/search"
  to = "shop.search"
  [[gateway.route]]
  path = "/shop"
  to = "shop"

[[service]]
name = "batch"
  [[service.call]]
  to = "shop.checkout"
  [[service.call]]
  to = "catalog.search"
  retry = { max_attempts = 2 }
`, func(s *sim.Spec) {
			s.Clients = append(s.Clients,
				sim.Client{Name: "d", Target: "shop", Operation: "checkout", Rate: 1, Arrival: sim.Poisson},
				sim.Client{Name: "e", Target: "edge", Route: "/search", Rate: 1, Arrival: sim.Poisson})
			r := defaultRetry()
			r.MaxAttempts = 2
			s.Services = append(s.Services,
				sim.Service{Name: "batch", Instances: 1, Workers: 1, Queue: sim.Unbounded, Calls: []sim.Call{
					{To: "shop", Operation: "checkout", Probability: 1, Fanout: 1},
					{To: "catalog", Operation: "search", Probability: 1, Fanout: 1, Retry: r},
				}},
				sim.Service{Name: "edge", Instances: 1, Workers: 1000, Queue: sim.Unbounded, Gateway: &sim.Gateway{}, Calls: []sim.Call{
					// Routes without a timeout take Envoy's default route timeout.
					{To: "shop", Operation: "search", Path: "/search", Weight: 1, Probability: 1, Fanout: 1, Timeout: defaultRouteTimeout},
					{To: "shop", Path: "/shop", Weight: 1, Probability: 1, Fanout: 1, Timeout: defaultRouteTimeout},
				}})
		}},
		{"every call key under an operation", minScenario + minClient + `
[[service]]
name = "s"
instances = 2
  [[service.operation]]
  name = "read"
    [[service.operation.call]]
    to = "t"
    group = "g"
    timeout = "2s"
    probability = 0.5
    fanout = 3
    latency = "1ms"
    balancer = "least_request"
    fallback = true
    bulkhead = 7
    scope = "service"
    [service.operation.call.circuit_breaker]
    [service.operation.call.outlier_detection]
    [service.operation.call.retry]
    per_try_timeout = "1s"
    [service.operation.call.retry.budget]
    [service.operation.call.retry.throttle]
    [service.operation.call.hedge]
    delay = "10ms"
    [[service.operation.call]]
    to = "t"
    group = "g"
    [[service.operation.call]]
    to = "db"
    op = "write"
    key = "request"
  [[service.operation]]
  name = "write"
  weight = 0.25
    [[service.operation.call]]
    to = "t"
    group = "g"

[[service]]
name = "t"

[[store]]
name = "db"
`, func(s *sim.Spec) {
			r := defaultRetry()
			r.PerTryTimeout = time.Second
			r.Budget = &sim.Budget{Percent: 0.2, MinPerSec: 10, TTL: 10 * time.Second}
			r.Throttle = &sim.Throttle{MaxTokens: 10, TokenRatio: 0.1}
			s.Services = []sim.Service{
				{Name: "s", Instances: 2, Workers: 1, Queue: sim.Unbounded, Operations: []sim.Operation{
					{Name: "read", Weight: 1, Calls: []sim.Call{
						{
							To: "t", Group: "g", Timeout: 2 * time.Second, Probability: 0.5, Fanout: 3, Latency: mustDist(t, "1ms"), HasLatency: true,
							Balancer: resilience.LeastRequest, ChoiceCount: 2, Fallback: true, Bulkhead: 7,
							Breaker: ptr(resilience.DefaultBreakerConfig()), Scope: sim.PerService,
							Outlier: ptr(resilience.DefaultOutlierConfig()), Retry: r, Hedge: &sim.Hedge{Delay: 10 * time.Millisecond, MaxCopies: 2},
						},
						{To: "t", Group: "g", Probability: 1, Fanout: 1},
						{To: "db", Op: sim.OpWrite, Key: sim.KeyRequest, Probability: 1, Fanout: 1},
					}},
					// A group name is the operation's own: "g" again is not split.
					{Name: "write", Weight: 0.25, Calls: []sim.Call{{To: "t", Group: "g", Probability: 1, Fanout: 1}}},
				}},
				{Name: "t", Instances: 1, Workers: 1, Queue: sim.Unbounded},
			}
			s.Stores = loadStores(t, "[[store]]\nname = \"db\"\n")
		}},
		{"inline operations", minScenario + minClient + `
[[service]]
name = "s"
operation = [{ name = "a", call = [{ to = "t.b" }] }, { name = "b", errors = 0 }]

[[service]]
name = "t"
external = false
operation = [{ name = "b" }]
`, func(s *sim.Spec) {
			s.Services = []sim.Service{
				{Name: "s", Instances: 1, Workers: 1, Queue: sim.Unbounded, Operations: []sim.Operation{
					{Name: "a", Weight: 1, Calls: []sim.Call{{To: "t", Operation: "b", Probability: 1, Fanout: 1}}},
					{Name: "b", Weight: 1, HasErrors: true},
				}},
				{Name: "t", Instances: 1, Workers: 1, Queue: sim.Unbounded, Operations: []sim.Operation{{Name: "b", Weight: 1}}},
			}
		}},
		{"faults on operations, deploys, leaks and dependencies", shop + `
[[fault]]
kind = "latency"
target = " catalog.search "
start = "1s"
add = "50ms"

[[fault]]
kind = "errors"
target = "shop.checkout"
start = "1s"
probability = 0.5

[[fault]]
kind = "slowdown"
target = "shop.search"
start = "1s"
duration = "1s"
factor = 4

[[fault]]
kind = "deploy"
target = "shop"
start = "1s"

[[fault]]
kind = "deploy"
target = "shop"
start = "2s"
every = "5s"
chance = 0.5
batch = 2
startup_delay = "1s"
warmup = "2s"
warmup_factor = 1.5
new_errors = 0.2
new_factor = 3
rollback_after = "4s"

[[fault]]
kind = "deploy"
target = "catalog"
start = "1s"
batch = "50%"
new_factor = 0.5

[[fault]]
kind = "deploy"
target = "catalog"
start = "1s"
batch = 0.25
new_errors = 0
rollback_after = "1s"

[[fault]]
kind = "leak"
target = "shop"
instances = "50%"
start = "0s"
growth = 0.1

[[fault]]
kind = "leak"
target = "catalog#2"
start = "0s"
duration = "5s"
growth = 2.5
limit = 1.5
startup_delay = "3s"

[[fault]]
kind = "dependency"
target = "pay"
start = "3s"
duration = "2s"
add = "exp(2s)"
probability = 0.3

[[fault]]
kind = "dependency"
target = "pay"
start = "3s"
probability = 1

[[fault]]
kind = "dependency"
target = "pay"
start = "3s"
add = "1s"
`, func(s *sim.Spec) {
			sec := time.Second
			s.Faults = []sim.Fault{
				{Kind: sim.FaultLatency, Target: "catalog.search", Start: sec, Chance: 1, Params: sim.LatencyFault{Add: mustDist(t, "50ms")}},
				{Kind: sim.FaultErrors, Target: "shop.checkout", Start: sec, Chance: 1, Params: sim.ErrorsFault{Probability: 0.5}},
				{Kind: sim.FaultSlowdown, Target: "shop.search", Start: sec, Duration: sec, Chance: 1, Params: sim.SlowdownFault{Factor: 4}},
				{Kind: sim.FaultDeploy, Target: "shop", Start: sec, Chance: 1, Params: sim.DeployFault{Batch: 1, WarmupFactor: 2}},
				{Kind: sim.FaultDeploy, Target: "shop", Start: 2 * sec, Every: 5 * sec, Chance: 0.5, Params: sim.DeployFault{Batch: 2, StartupDelay: sec, Warmup: 2 * sec, WarmupFactor: 1.5, NewErrors: 0.2, HasNewErrors: true, NewFactor: 3, RollbackAfter: 4 * sec}},
				{Kind: sim.FaultDeploy, Target: "catalog", Start: sec, Chance: 1, Params: sim.DeployFault{BatchShare: 0.5, WarmupFactor: 2, NewFactor: 0.5}},
				{Kind: sim.FaultDeploy, Target: "catalog", Start: sec, Chance: 1, Params: sim.DeployFault{BatchShare: 0.25, WarmupFactor: 2, HasNewErrors: true, RollbackAfter: sec}},
				{Kind: sim.FaultLeak, Target: "shop", Share: 0.5, Chance: 1, Params: sim.LeakFault{Growth: 0.1, Limit: 3}},
				{Kind: sim.FaultLeak, Target: "catalog#2", Duration: 5 * sec, Chance: 1, Params: sim.LeakFault{Growth: 2.5, Limit: 1.5, StartupDelay: 3 * sec}},
				{Kind: sim.FaultDependency, Target: "pay", Start: 3 * sec, Duration: 2 * sec, Chance: 1, Params: sim.DependencyFault{Add: mustDist(t, "exp(2s)"), Probability: 0.3}},
				{Kind: sim.FaultDependency, Target: "pay", Start: 3 * sec, Chance: 1, Params: sim.DependencyFault{Probability: 1}},
				{Kind: sim.FaultDependency, Target: "pay", Start: 3 * sec, Chance: 1, Params: sim.DependencyFault{Add: mustDist(t, "1s")}},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustLoad(t, tt.src)
			want := minSpec()
			if strings.HasPrefix(tt.src, shop) {
				want = shopSpec(t)
			}
			tt.want(want)
			withProbes(want)
			if !reflect.DeepEqual(got, want) {
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
				t.Errorf("Load =\n%+v\nwant\n%+v", got, want)
			}
			if _, err := sim.New(got, 1); err != nil {
				t.Errorf("sim.New: %v", err)
			}
		})
	}
}

// loadStores is what the loader makes of the [[store]] tables of src.
func loadStores(t *testing.T, src string) []sim.Store {
	t.Helper()
	spec, err := Load("test.toml", []byte(minScenario+minClient+minService+src))
	if err != nil {
		t.Fatal(err)
	}
	return spec.Stores
}

// TestOperationCallsInLinksAndSLOs checks that the calls of operations
// count as calls of their service: for link faults, cycles and SLO edges.
func TestOperationCallsInLinksAndSLOs(t *testing.T) {
	src := shop + `
[[fault]]
kind = "loss"
target = "shop->pay"
start = "1s"
probability = 0.1

[[slo]]
name = "pay"
edge = "shop.checkout->pay"
metric = "retry_amplification"
max = 1.5
`
	if _, err := Load("test.toml", []byte(src)); err != nil {
		if list, ok := err.(ErrorList); ok {
			t.Fatal(list.Render(false))
		}
		t.Fatal(err)
	}
	cyc := shop + `
  [[service.operation]]
  name = "refund"
    [[service.operation.call]]
    to = "shop.search"
`
	_, err := Load("test.toml", []byte(cyc))
	if err == nil || !strings.Contains(err.Error(), "call cycle: shop -> pay -> shop") {
		t.Errorf("Load = %v, want a call cycle through an operation's call", err)
	}
}

// TestOperationOverride checks that an override reaches an operation's
// call by names, as a variant or --set would.
func TestOperationOverride(t *testing.T) {
	o, err := ParseOverride("--set", "service.shop.operation.checkout.call.pay.timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := LoadScenario("test.toml", []byte(shop), Options{Overrides: []Override{o}})
	if err != nil {
		if list, ok := err.(ErrorList); ok {
			t.Fatal(list.Render(false))
		}
		t.Fatal(err)
	}
	if got := sc.Spec.Services[0].Operations[1].Calls[1].Timeout; got != 2*time.Second {
		t.Errorf("timeout of shop.checkout -> pay = %v, want 2s", got)
	}
}

// TestOperationsExample loads the scenario of testdata/operations, a seed
// of FuzzLoad, and checks the engine takes it.
func TestOperationsExample(t *testing.T) {
	data, err := os.ReadFile("testdata/operations/monolith.toml")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := Load("monolith.toml", data)
	if err != nil {
		if list, ok := err.(ErrorList); ok {
			t.Fatal(list.Render(false))
		}
		t.Fatal(err)
	}
	if _, err := sim.New(spec, 1); err != nil {
		t.Errorf("sim.New: %v", err)
	}
}
