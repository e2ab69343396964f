package sim_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
)

// runTOML loads a scenario and runs it with its seed.
func runTOML(t *testing.T, src string) *sim.Result {
	t.Helper()
	spec, err := scenarios.Load("test.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	res, _ := run(t, spec)
	return res
}

// scaleEvents lists the times of the autoscaler's events whose text starts
// with what, and the largest count it scaled up to.
func scaleEvents(res *sim.Result, what string) (times []float64, most int) {
	for _, e := range res.Events {
		if !strings.HasPrefix(e.What, what) {
			continue
		}
		times = append(times, e.TS)
		var from, to int
		if n, _ := fmt.Sscanf(e.What, "scaled up %d -> %d", &from, &to); n == 2 {
			most = max(most, to)
		}
	}
	return times, most
}

// TestAutoscaleOnCPU: the HPA scales on CPU, and a worker that waits on a
// downstream call uses none. api's workers are 75 % busy, nearly all of it
// waiting 500 ms on db: its CPU use is 0.15 %, and it must not scale up
// (on busy workers it would, to 3 at 15 s).
func TestAutoscaleOnCPU(t *testing.T) {
	res := runTOML(t, `
[scenario]
name = "waiting"
duration = "120s"
[[client]]
name = "c"
target = "api"
rate = 30
[[service]]
name = "api"
instances = 2
workers = 10
service_time = "1ms"
  [service.autoscale]
  target_utilisation = 0.5
  max = 10
  [[service.call]]
  to = "db"
  timeout = "5s"
[[service]]
name = "db"
workers = 1000
service_time = "500ms"
`)
	if ups, _ := scaleEvents(res, "scaled up"); len(ups) > 0 {
		t.Fatalf("api scaled up at %v s on workers waiting on db", ups)
	}
	if c := component(res, "api"); c.Utilisation < 0.6 {
		t.Errorf("api's workers are %.0f%% busy, want about 75%%: the test tests nothing", c.Utilisation*100)
	}
}

// TestAutoscaleStabilization follows the HPA's default behaviour: a spike
// (300/s from 60 s to 120 s, 75 % CPU for a 50 % target) scales up at the
// first look after it, 75 s; the scale-down waits until the last
// recommendation of 3 (at 120 s) leaves the 300 s window: 420 s (a 60 s
// cooldown would scale down at 135 s).
func TestAutoscaleStabilization(t *testing.T) {
	res := runTOML(t, `
[scenario]
name = "spike"
duration = "480s"
[[client]]
name = "c"
target = "api"
rate = 100
  [[client.schedule]]
  at = "60s"
  rate = 300
  [[client.schedule]]
  at = "120s"
  rate = 100
[[service]]
name = "api"
instances = 2
workers = 4
service_time = "20ms"
  [service.autoscale]
  target_utilisation = 0.5
  max = 10
`)
	ups, _ := scaleEvents(res, "scaled up")
	downs, _ := scaleEvents(res, "scaled down")
	if len(ups) != 1 || ups[0] != 75 {
		t.Errorf("scaled up at %v s, want once at 75 s", ups)
	}
	if len(downs) != 1 || downs[0] != 420 {
		t.Errorf("scaled down at %v s, want once at 420 s", downs)
	}
}

// TestAutoscaleNotReady: the instances still starting count as using 0 %
// on a scale-up. 500/s needs 10 workers of CPU, 5 instances at a 50 %
// target. 2 saturated instances ask for 4 at 15 s; while the 2 new ones
// start (60 s), the 2 ready at 100 % average 50 % over the 4: no change;
// once ready, 4 at 62.5 % ask for 5. Measuring the ready ones against a
// count that includes the starting ones asks for 8 at 75 s.
func TestAutoscaleNotReady(t *testing.T) {
	res := runTOML(t, `
[scenario]
name = "starting"
duration = "240s"
[[client]]
name = "c"
target = "api"
rate = 500
[[service]]
name = "api"
instances = 2
workers = 4
queue = 10
service_time = "20ms"
  [service.autoscale]
  target_utilisation = 0.5
  max = 20
  startup_delay = "60s"
`)
	ups, most := scaleEvents(res, "scaled up")
	if most != 5 {
		t.Errorf("scaled up to at most %d instances (at %v s), want 5", most, ups)
	}
}

// TestAutoscaleUnderCPULimit: under a cpu_limit the autoscaler reads the
// CPU the work used over the limit, the container's request when none is
// set (core/v1 ResourceRequirements; the HPA's utilisation is usage over
// the request), not the workers' time at work. 15 requests/s of 10 ms per
// instance use 0.15 core: 75 % of "200m", over a 50 % target, so it scales
// up (to 3 at most: 2 x 0.75 / 0.5), though its 10 workers are at work
// under 3 % of their time. Without a limit the same load is 1.5 % of the
// workers and it does not scale.
func TestAutoscaleUnderCPULimit(t *testing.T) {
	for _, tt := range []struct {
		name  string
		limit string
		up    bool
	}{
		{"usage over the limit", `cpu_limit = "200m"`, true},
		{"no limit: workers' time", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runTOML(t, `
[scenario]
name = "limited"
duration = "60s"
[[client]]
name = "c"
target = "api"
rate = 30
arrival = "constant"
[[service]]
name = "api"
instances = 2
workers = 10
service_time = "10ms"
`+tt.limit+`
  [service.autoscale]
  target_utilisation = 0.5
  max = 10
`)
			ups, _ := scaleEvents(res, "scaled up")
			if got := len(ups) > 0; got != tt.up {
				t.Fatalf("scaled up at %v s, want a scale-up: %v", ups, tt.up)
			}
			if c := component(res, "api"); tt.up && c.InstancesUp != 3 {
				t.Errorf("%d instances up at the end, want 3 (0.15 core of 0.2 each, 50%% target)", c.InstancesUp)
			}
		})
	}
}
