package scenarios

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/dist"
	"github.com/faultline/faultline/sim/resilience"
)

func mustDist(t *testing.T, s string) dist.Dist {
	t.Helper()
	d, err := dist.Parse(s)
	if err != nil {
		t.Fatalf("dist.Parse(%q): %v", s, err)
	}
	return d
}

// The smallest valid scenario, and the Spec it loads to with every default.
const (
	minScenario = "[scenario]\nduration = \"10s\"\n"
	minClient   = "[[client]]\nname = \"c\"\ntarget = \"s\"\nrate = 10\n"
	minService  = "[[service]]\nname = \"s\"\n"
)

func minSpec() *sim.Spec {
	return &sim.Spec{
		Name:     "test",
		Duration: 10 * time.Second,
		Window:   time.Second,
		Seed:     1,
		Clients:  []sim.Client{{Name: "c", Target: "s", Rate: 10, Arrival: sim.Poisson}},
		Services: []sim.Service{{Name: "s", Instances: 1, Workers: 1, Queue: sim.Unbounded}},
	}
}

func TestLoadValid(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want func(t *testing.T, s *sim.Spec) // edits minSpec() into the expected Spec
	}{
		{"defaults", minScenario + minClient + minService, func(*testing.T, *sim.Spec) {}},
		{"scenario keys", `
[scenario]
name = "shop"
description = "a shop"
duration = "2m"
warmup = "10s"
seed = 0
window = "250ms"
` + minClient + minService, func(_ *testing.T, s *sim.Spec) {
			s.Name, s.Description = "shop", "a shop"
			s.Duration, s.Warmup, s.Seed, s.Window = 2*time.Minute, 10*time.Second, 0, 250*time.Millisecond
		}},
		{"network", minScenario + minClient + minService + `
[network]
latency = "uniform(200us, 600us)"
`, func(t *testing.T, s *sim.Spec) {
			s.Network.Latency = mustDist(t, "uniform(200us, 600us)")
		}},
		{"open loop with a schedule", minScenario + minService + `
[[client]]
name = "c"
target = "s"
rate = 2.5
arrival = "constant"
timeout = "2s"

  [[client.schedule]]
  at = "0s"
  rate = 5

  [[client.schedule]]
  at = "3s"
  rate = 100
  ramp = "2s"

  [[client.schedule]]
  at = "5s"
  rate = 0
`, func(_ *testing.T, s *sim.Spec) {
			s.Clients[0] = sim.Client{Name: "c", Target: "s", Rate: 2.5, Arrival: sim.Constant, Timeout: 2 * time.Second,
				Schedule: []sim.RateStep{{At: 0, Rate: 5}, {At: 3 * time.Second, Rate: 100, Ramp: 2 * time.Second}, {At: 5 * time.Second}}}
		}},
		{"schedule without a rate", minScenario + minService + `
[[client]]
name = "c"
target = "s"
schedule = [{ at = "1s", rate = 7 }]
`, func(_ *testing.T, s *sim.Spec) {
			s.Clients[0] = sim.Client{Name: "c", Target: "s", Arrival: sim.Poisson, Schedule: []sim.RateStep{{At: time.Second, Rate: 7}}}
		}},
		{"closed loop", minScenario + minService + `
[[client]]
name = "c"
target = "s"
users = 20
think_time = "exp(1s)"
`, func(t *testing.T, s *sim.Spec) {
			s.Clients[0] = sim.Client{Name: "c", Target: "s", Arrival: sim.Poisson, Users: 20, ThinkTime: mustDist(t, "exp(1s)")}
		}},
		{"service keys and calls", minScenario + minClient + `
[[service]]
name = "s"
instances = 3
workers = 8
queue = 0
service_time = "lognormal(20ms, 120ms)"
after_calls = 0.25
errors = 0.001

  [[service.call]]
  to = "a"
  group = "g"
  timeout = "300ms"

  [[service.call]]
  to = "b"
  group = "g"
  probability = 0

  [[service.call]]
  to = "a"
  fanout = 10000
  latency = "2ms"

[[service]]
name = "a"

[[service]]
name = "b"
`, func(t *testing.T, s *sim.Spec) {
			s.Services = []sim.Service{
				{Name: "s", Instances: 3, Workers: 8, Queue: 0, ServiceTime: mustDist(t, "lognormal(20ms, 120ms)"), AfterCalls: 0.25, Errors: 0.001,
					Calls: []sim.Call{
						{To: "a", Group: "g", Timeout: 300 * time.Millisecond, Probability: 1, Fanout: 1},
						{To: "b", Group: "g", Probability: 0, Fanout: 1},
						{To: "a", Probability: 1, Fanout: 10000, Latency: mustDist(t, "2ms"), HasLatency: true},
					}},
				{Name: "a", Instances: 1, Workers: 1, Queue: sim.Unbounded},
				{Name: "b", Instances: 1, Workers: 1, Queue: sim.Unbounded},
			}
		}},
		{"a zero latency on a call still replaces the network's", minScenario + minClient + `
[network]
latency = "1ms"

[[service]]
name = "s"
call = [{ to = "t", latency = "0s" }]

[[service]]
name = "t"
`, func(t *testing.T, s *sim.Spec) {
			s.Network.Latency = mustDist(t, "1ms")
			s.Services = []sim.Service{
				{Name: "s", Instances: 1, Workers: 1, Queue: sim.Unbounded, Calls: []sim.Call{{To: "t", Probability: 1, Fanout: 1, HasLatency: true}}},
				{Name: "t", Instances: 1, Workers: 1, Queue: sim.Unbounded},
			}
		}},
		{"faults", minScenario + minClient + minService + `
[[fault]]
kind = "latency"
target = "s"
start = "3s"
duration = "2s"
add = "exp(800ms)"

[[fault]]
kind = "errors"
target = "s"
start = "0s"
probability = 1
`, func(t *testing.T, s *sim.Spec) {
			s.Faults = []sim.Fault{
				{Kind: sim.FaultLatency, Target: "s", Start: 3 * time.Second, Duration: 2 * time.Second, Chance: 1, Params: sim.LatencyFault{Add: mustDist(t, "exp(800ms)")}},
				{Kind: sim.FaultErrors, Target: "s", Chance: 1, Params: sim.ErrorsFault{Probability: 1}},
			}
		}},
		{"inline tables, dotted keys and any order", `
service = [{ name = "s", call = [{ to = "t" }] }, { name = "t", "workers" = 2 }]
client = [{ name = "c", target = "s", rate = 10 }]
scenario.duration = "10s"
scenario.name = "inline"
`, func(_ *testing.T, s *sim.Spec) {
			s.Name = "inline"
			s.Services = []sim.Service{
				{Name: "s", Instances: 1, Workers: 1, Queue: sim.Unbounded, Calls: []sim.Call{{To: "t", Probability: 1, Fanout: 1}}},
				{Name: "t", Instances: 1, Workers: 2, Queue: sim.Unbounded},
			}
		}},
		{"a diamond is not a cycle", minScenario + minClient + `
[[service]]
name = "s"
call = [{ to = "a" }, { to = "b" }]
[[service]]
name = "a"
call = [{ to = "d" }]
[[service]]
name = "b"
call = [{ to = "d" }]
[[service]]
name = "d"
`, func(_ *testing.T, s *sim.Spec) {
			call := func(to string) []sim.Call { return []sim.Call{{To: to, Probability: 1, Fanout: 1}} }
			s.Services = []sim.Service{
				{Name: "s", Instances: 1, Workers: 1, Queue: sim.Unbounded, Calls: append(call("a"), call("b")...)},
				{Name: "a", Instances: 1, Workers: 1, Queue: sim.Unbounded, Calls: call("d")},
				{Name: "b", Instances: 1, Workers: 1, Queue: sim.Unbounded, Calls: call("d")},
				{Name: "d", Instances: 1, Workers: 1, Queue: sim.Unbounded},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustLoad(t, tt.src)
			want := minSpec()
			tt.want(t, want)
			withProbes(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// TestLoadErrorsSorted checks that errors come out in file order however
// the checks that found them were ordered.
func TestLoadErrorsSorted(t *testing.T) {
	src := `[[service]]
name = "s"
workers = 0
[[client]]
name = "c"
target = "nope"
rate = -1
[scenario]
duration = "0s"
`
	_, err := Load("x.toml", []byte(src))
	list, ok := err.(ErrorList)
	if !ok || len(list) != 4 {
		t.Fatalf("Load error = %v, want 4 errors", err)
	}
	for i, wantLine := range []int{3, 6, 7, 9} {
		if list[i].Line != wantLine {
			t.Errorf("error %d on line %d, want %d: %v", i, list[i].Line, wantLine, list[i])
		}
	}
}

// withProbes gives every service and gateway of want that sets no
// readiness probe the loader's default, Kubernetes' (period 10 s, 3
// failures, 1 success), and the default endpoint update delay (1 s) to
// those that set none: the tables of expectations write only the values
// they change.
func withProbes(want *sim.Spec) {
	for i := range want.Services {
		if want.Services[i].Readiness == nil {
			p := resilience.DefaultReadinessProbe()
			want.Services[i].Readiness = &p
		}
		if want.Services[i].EndpointUpdateDelay == 0 {
			want.Services[i].EndpointUpdateDelay = defaultEndpointUpdateDelay
		}
	}
}

// mustLoad loads src, which must be valid: its errors fail the test, shown
// as a user would see them.

func mustLoad(t *testing.T, src string) *sim.Spec {
	t.Helper()
	spec, err := Load("test.toml", []byte(src))
	if list, ok := err.(ErrorList); ok {
		t.Fatalf("Load:\n%s", list.Render(false))
	} else if err != nil {
		t.Fatal(err)
	}
	return spec
}

// TestLoadSamplesFile checks that samples("name") reads the file next to
// the scenario, whatever the current directory, and keeps the file form.
func TestLoadSamplesFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "lat.txt"), []byte("# recorded\n1ms 2ms\n40ms\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `
[scenario]
duration = "10s"
[[client]]
name = "c"
target = "s"
rate = 10
[[service]]
name = "s"
service_time = 'samples("lat.txt")'
`
	spec, err := Load(filepath.Join(dir, "s.toml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	st := spec.Services[0].ServiceTime
	if got, want := st.String(), `samples("lat.txt")`; got != want {
		t.Errorf("service_time = %s, want %s", got, want)
	}
	if got, want := st.Mean(), mustDist(t, "samples(1ms, 2ms, 40ms)").Mean(); got != want {
		t.Errorf("mean %v, want %v", got, want)
	}
}

// TestLoadMarkovJumpErrors: a markov(...) whose jump matrix is wrong is a
// positioned error in the scenario, its column on the offending byte
// inside the string; a good one loads.
func TestLoadMarkovJumpErrors(t *testing.T) {
	const head = "[[client]]\nname = \"c\"\ntarget = \"s\"\nrate = 10\n[[service]]\nname = \"s\"\nservice_time = \""
	tests := []struct {
		name, dist string
		col        int // 0: loads
		msg        string
	}{
		{"good", "markov(a: 1ms for 1s then (0.5 b, 0.5 c), b: 5ms for 1s then (1 a), c: 9ms for 1s then (1 b))", 0, ""},
		{"sum", "markov(a: 1ms for 1s then (0.5 b, 0.4 c), b: 5ms for 1s, c: 9ms for 1s)", 43, "sum to 0.9"},
		{"self", "markov(a: 1ms for 1s then (1 a), b: 5ms for 1s)", 46, "cannot move to itself"},
		{"unknown", "markov(a: 1ms for 1s then (1 d), b: 5ms for 1s)", 46, `"d" is not a state of this markov`},
		{"unreachable", "markov(a: 1ms for 1s then (1 b), b: 5ms for 1s then (1 a), c: 9ms for 1s)", 43, "never leads to state c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("m.toml", []byte(head+tt.dist+"\"\n[scenario]\nduration = \"1s\"\n"))
			if tt.col == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			list, ok := err.(ErrorList)
			if !ok || len(list) != 1 {
				t.Fatalf("Load error = %v, want one error", err)
			}
			if e := list[0]; e.Line != 7 || e.Col != tt.col || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("error %d:%d %q, want 7:%d containing %q", e.Line, e.Col, e.Msg, tt.col, tt.msg)
			}
		})
	}
}

// TestLoadCPULimit reads cpu_limit as cores or as a Kubernetes CPU quantity,
// with cpu_period from 1 ms to 1 s (the kernel's bounds of
// cpu.cfs_period_us), 100 ms by default; bad values get positioned errors.
func TestLoadCPULimit(t *testing.T) {
	tests := []struct {
		name   string
		keys   string
		limit  float64
		period time.Duration
		col    int // of the error on line 9; 0: loads
		msg    string
	}{
		{"cores", "cpu_limit = 0.2", 0.2, sim.DefaultCPUPeriod, 0, ""},
		{"whole cores", "cpu_limit = 2", 2, sim.DefaultCPUPeriod, 0, ""},
		{"millicores", `cpu_limit = "200m"`, 0.2, sim.DefaultCPUPeriod, 0, ""},
		{"a decimal quantity", `cpu_limit = "1.5"`, 1.5, sim.DefaultCPUPeriod, 0, ""},
		{"a period", "cpu_limit = 0.5\ncpu_period = \"50ms\"", 0.5, 50 * time.Millisecond, 0, ""},
		{"no limit", "", 0, 0, 0, ""},
		{"not a quantity", `cpu_limit = "200 millicores"`, 0, 0, 13, "is not a CPU quantity"},
		{"a memory quantity", `cpu_limit = "200Mi"`, 0, 0, 13, "is not a CPU quantity"},
		{"zero", "cpu_limit = 0", 0, 0, 13, "at least 0.01 core"},
		{"negative", `cpu_limit = "-1"`, 0, 0, 13, "is not a CPU quantity"},
		{"below 10m", `cpu_limit = "5m"`, 0, 0, 13, "at least 0.01 core"},
		{"a boolean", "cpu_limit = true", 0, 0, 13, "must be a number of cores or a CPU quantity"},
		{"a period of 2s", "cpu_period = \"2s\"\ncpu_limit = 1", 0, 0, 14, "from 1ms to 1s"},
		{"a period without a limit", `cpu_period = "50ms"`, 0, 0, 1, "there is no cpu_limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := minScenario + minClient + "[[service]]\nname = \"s\"\n" + tt.keys + "\n"
			spec, err := Load("m.toml", []byte(src))
			if tt.col == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if s := spec.Services[0]; s.CPULimit != tt.limit || s.CPUPeriod != tt.period {
					t.Errorf("cpu_limit %g, cpu_period %v; want %g, %v", s.CPULimit, s.CPUPeriod, tt.limit, tt.period)
				}
				return
			}
			list, ok := err.(ErrorList)
			if !ok || len(list) != 1 {
				t.Fatalf("Load error = %v, want one error", err)
			}
			if e := list[0]; e.Line != 9 || e.Col != tt.col || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("error %d:%d %q, want 9:%d containing %q", e.Line, e.Col, e.Msg, tt.col, tt.msg)
			}
		})
	}
}
