package sim_test

import (
	"testing"

	"github.com/faultline/faultline/sim"
)

// failedIn sums the first client's errors and timeouts over the windows
// [from, to) (seconds).
func failedIn(res *sim.Result, from, to int) uint64 {
	var n uint64
	for _, w := range res.Clients[0].Series[from:to] {
		n += w.Errors + w.Timeouts
	}
	return n
}

// twoBacks is a client sending 100 requests a second to front, which
// calls back's two instances round robin (with extra keys on the call, a
// route's or call's table lines); back#1 crashes (or is blackholed) at
// 12.5 s for the rest of the run. probe is back's [service.readiness_probe]
// lines, if any.
func twoBacks(fault, call, probe string) string { return twoBacksFor(fault, "", call, probe) }

// twoBacksFor is twoBacks with a fault of the given duration ("": to the
// end).
func twoBacksFor(fault, duration, call, probe string) string {
	if duration != "" {
		duration = "duration = \"" + duration + "\""
	}
	return `
[scenario]
name = "probe"
duration = "60s"
[[client]]
name = "c"
target = "front"
rate = 100
arrival = "constant"
timeout = "5s"
[[service]]
name = "front"
workers = 1000
  [[service.call]]
  to = "back"
  timeout = "1s"
` + call + `
[[service]]
name = "back"
instances = 2
workers = 100
service_time = "1ms"
` + probe + `
[[fault]]
kind = "` + fault + `"
target = "back#1"
start = "12.5s"
` + duration + `
`
}

// TestReadinessProbe: a crashed instance stays in its Service's endpoints
// until its readiness probe has failed failureThreshold times in a row
// (Kubernetes, core/v1 Probe: periodSeconds 10, failureThreshold 3 by
// default); meanwhile the calls round robin sends it are refused at once
// (errors, half the calls). Probes run at 10, 20, 30 s...: a crash at
// 12.5 s fails those at 20, 30 and 40 s, and back#1 leaves the endpoints
// at 40 s; with failure_threshold = 1, at 20 s. The old rule took it out
// at once: no errors after the crash's own victims.
func TestReadinessProbe(t *testing.T) {
	for _, tt := range []struct {
		name, probe string
		out         int // the second back#1 leaves the endpoints
	}{
		{"Kubernetes' defaults", "", 40},
		{"failure_threshold 1", "  [service.readiness_probe]\n  failure_threshold = 1", 20},
		{"period 5 s, 2 failures", "  [service.readiness_probe]\n  period_seconds = 5\n  failure_threshold = 2", 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runTOML(t, twoBacks("crash", "", tt.probe))
			near(t, "failed calls a second while back#1 is listed", float64(failedIn(res, 14, tt.out))/float64(tt.out-14), 50, 1)
			if n := failedIn(res, tt.out, 60); n != 0 {
				t.Errorf("%d failed after %d s, when back#1 is out of the endpoints", n, tt.out)
			}
			if !hasEvent(res, "back#1", "readiness probe failed") {
				t.Error("no event of back#1 leaving the endpoints")
			}
		})
	}
}

// TestReadinessProbeRestart: a crash shorter than the probe's detection is
// never noticed (failures at 20 and 30 s, back at 32.5 s): half the calls
// fail until then, none after. A restarted instance is a new container,
// out of the endpoints until its probe has passed successThreshold times:
// with failure_threshold 1 and success_threshold 2, back#1 is out at 20 s,
// restarts at 32.5 s (its first probe passes), and is back at the 40 s
// probe.
func TestReadinessProbeRestart(t *testing.T) {
	res := runTOML(t, twoBacksFor("crash", "20s", "", ""))
	near(t, "failed calls a second while back#1 is down", float64(failedIn(res, 14, 32))/18, 50, 1)
	if n := failedIn(res, 33, 60); n != 0 || hasEvent(res, "back#1", "readiness probe failed") {
		t.Errorf("%d failed after the restart; a crash of 20 s must go unnoticed", n)
	}
	probe := "  [service.readiness_probe]\n  failure_threshold = 1\n  success_threshold = 2"
	res = runTOML(t, twoBacksFor("crash", "20s", "", probe))
	if n := failedIn(res, 20, 60); n != 0 {
		t.Errorf("%d failed from 20 s on: back#1 is out of the endpoints until it is ready again", n)
	}
	var back float64 = -1
	for _, e := range res.Events {
		if e.Component == "back#1" && e.What == "readiness probe passed: back in the endpoints" {
			back = e.TS
		}
	}
	if back != 40 {
		t.Errorf("back#1 back in the endpoints at %v s, want 40 s (its second passed probe)", back)
	}
}

// TestEnvoyHealthCheck: a caller's Envoy with active health checking stops
// using an instance after unhealthy_threshold failed checks, every
// interval (config.core.v3.HealthCheck), before the readiness probe (at
// 40 s here) takes it out of the endpoints. Checks run at 1, 2, 3 s...
// A crashed instance refuses a check at once: failed at 13 and 14 s, out
// at 14 s. A blackholed one answers nothing: the checks of 13 and 14 s fail
// at their timeout, 13.5 and 14.5 s; its calls time out meanwhile.
func TestEnvoyHealthCheck(t *testing.T) {
	hc := "    [service.call.health_check]\n    interval = \"1s\"\n    timeout = \"500ms\"\n    unhealthy_threshold = 2\n    healthy_threshold = 1"
	for _, tt := range []struct {
		name, fault string
		half        int // a second in which half the calls fail
		out         int // the first whole second without failures
	}{
		{"crash", "crash", 13, 14},
		// Out at 14.5 s; a call sent to it fails at its timeout, 1 s later.
		{"blackhole", "blackhole", 14, 16},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runTOML(t, twoBacks(tt.fault, hc, ""))
			near(t, "failed calls in a second while back#1 is used", float64(failedIn(res, tt.half, tt.half+1)), 50, 1)
			if n := failedIn(res, tt.out, 60); n != 0 {
				t.Errorf("%d failed from %d s on", n, tt.out)
			}
			if !hasEvent(res, "front->back", "health check of back#1 failed 2 times") {
				t.Error("no event of the health check taking back#1 out")
			}
		})
	}
}

// TestOutlierDetectsCrash: outlier detection is the passive way: the
// refused connections of a crashed instance count as 5xx (Envoy's
// split_external_local_origin_errors is false by default), so after 5 in a
// row the caller ejects it, long before its readiness probe (40 s here)
// takes it out of the endpoints. max_ejection_percent 50 lets one of two
// be ejected.
func TestOutlierDetectsCrash(t *testing.T) {
	od := "    [service.call.outlier_detection]\n    max_ejection_percent = 50"
	res := runTOML(t, twoBacks("crash", od, ""))
	if n := failedIn(res, 12, 13); n < 5 || n > 10 {
		t.Errorf("%d failed in [12 s, 13 s): want the 5 refusals that eject back#1, and no more than a few", n)
	}
	if n := failedIn(res, 13, 60); n != 0 {
		t.Errorf("%d failed from 13 s on, back#1 ejected (and out of the endpoints from 40 s)", n)
	}
}
