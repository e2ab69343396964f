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

// TestEndpointsDropGoneInstance: how soon an instance that is gone leaves
// its Service's endpoints depends on how it is gone. A crashed one (its
// process exited) is seen by the kubelet's PLEG within a second and leaves
// the endpoints endpoint_update_delay (1 s) later, whatever its readiness
// probe; the calls round robin sends it meanwhile are refused at once
// (half the calls: 50 a second). A hung one (blackholed, paused) is
// noticed by the readiness probe alone, after failureThreshold failed
// probes (core/v1 Probe: periodSeconds 10, timeoutSeconds 1,
// failureThreshold 3): probes at 20, 30 and 40 s fail at their 1 s timeout
// and it is out at 41 s; its calls time out after 1 s meanwhile. The old
// rule kept a crashed instance listed until its probe noticed: at 40 s.
func TestEndpointsDropGoneInstance(t *testing.T) {
	for _, tt := range []struct {
		name, fault, keys string
		failed            float64 // calls failed from 12 s: 50 a second listed
		out               int     // the first second with no failures
		event             string
	}{
		{"crash, the default delay", "crash", "", 50, 14, "out of the endpoints: its exit seen 1s after the crash"},
		{"crash, a slow endpoint update", "crash", "endpoint_update_delay = \"5s\"", 250, 18, "out of the endpoints: its exit seen 5s after the crash"},
		{"crash, no probe can keep it", "crash", "  [service.readiness_probe]\n  failure_threshold = 10", 50, 14, "out of the endpoints"},
		{"blackhole, Kubernetes' probe", "blackhole", "", 1425, 42, "readiness probe failed 3 times"},
		{"blackhole, failure_threshold 1", "blackhole", "  [service.readiness_probe]\n  failure_threshold = 1", 425, 22, "readiness probe failed 1 times"},
		{"pause, period 5 s, 2 failures", "pause", "  [service.readiness_probe]\n  period_seconds = 5\n  failure_threshold = 2", 425, 22, "readiness probe failed 2 times"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runTOML(t, twoBacks(tt.fault, "", tt.keys))
			near(t, "failed calls while back#1 is listed", float64(failedIn(res, 12, tt.out)), tt.failed, 2)
			if n := failedIn(res, tt.out, 60); n != 0 {
				t.Errorf("%d failed from %d s on, when back#1 is out of the endpoints", n, tt.out)
			}
			if !hasEvent(res, "back#1", tt.event) {
				t.Errorf("no event %q of back#1 leaving the endpoints", tt.event)
			}
		})
	}
}

// TestReadinessProbeRestart: a restarted instance is a new container, out
// of the endpoints until its probe has passed successThreshold times. A
// 20 s crash at 12.5 s: back#1 leaves the endpoints at 13.5 s (its exit
// seen), restarts at 32.5 s; with success_threshold 1 its first probe, as
// it starts, passes and it is back at once, with success_threshold 2 it
// is back at the 40 s probe. No call fails after 14 s either way.
func TestReadinessProbeRestart(t *testing.T) {
	for _, tt := range []struct {
		name, probe string
		back        float64
	}{
		{"success_threshold 1", "", 32.5},
		{"success_threshold 2", "  [service.readiness_probe]\n  success_threshold = 2", 40},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runTOML(t, twoBacksFor("crash", "20s", "", tt.probe))
			if n := failedIn(res, 14, 60); n != 0 {
				t.Errorf("%d failed from 14 s on: back#1 is out of the endpoints until it is ready again", n)
			}
			back := -1.0
			for _, e := range res.Events {
				if e.Component == "back#1" && (e.What == "readiness probe passed: back in the endpoints" ||
					e.What == "restarted: taking traffic again, 20s after the crash") {
					back = e.TS
				}
			}
			if back != tt.back {
				t.Errorf("back#1 back in the endpoints at %v s, want %v s", back, tt.back)
			}
		})
	}
}

// TestEnvoyHealthCheck: a caller's Envoy with active health checking stops
// using an instance after unhealthy_threshold failed checks, every
// interval (config.core.v3.HealthCheck), before the endpoints drop it: a
// blackholed instance at 41 s (its readiness probe), a crashed one here
// after a 30 s endpoint update (endpoints Envoy is not told about soon).
// Checks run at 1, 2, 3 s... A crashed instance refuses a check at once:
// failed at 13 and 14 s, out at 14 s. A blackholed one answers nothing:
// the checks of 13 and 14 s fail at their timeout, 13.5 and 14.5 s; its
// calls time out meanwhile.
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
			res := runTOML(t, twoBacks(tt.fault, hc, "endpoint_update_delay = \"30s\""))
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
// row the caller ejects it, before the endpoints drop it (at 13.5 s
// here). max_ejection_percent 50 lets one of two be ejected.
func TestOutlierDetectsCrash(t *testing.T) {
	od := "    [service.call.outlier_detection]\n    max_ejection_percent = 50"
	res := runTOML(t, twoBacks("crash", od, ""))
	if n := failedIn(res, 12, 13); n < 5 || n > 10 {
		t.Errorf("%d failed in [12 s, 13 s): want the 5 refusals that eject back#1, and no more than a few", n)
	}
	if n := failedIn(res, 13, 60); n != 0 {
		t.Errorf("%d failed from 13 s on, back#1 ejected (and out of the endpoints from 13.5 s)", n)
	}
}
