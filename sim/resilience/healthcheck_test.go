package resilience

import (
	"testing"
	"time"
)

// TestHealthCheckerThresholds: a host turns unhealthy after Unhealthy
// failed checks in a row, healthy after Healthy passed ones in a row; a
// pass breaks a run of failures (Kubernetes' failureThreshold and
// successThreshold, Envoy's unhealthy_threshold and healthy_threshold).
func TestHealthCheckerThresholds(t *testing.T) {
	cfg := HealthCheckConfig{Interval: time.Second, Unhealthy: 3, Healthy: 2}
	for _, tt := range []struct {
		name    string
		checks  string // f: failed, p: passed
		healthy bool
	}{
		{"two failures", "ff", true},
		{"three failures", "fff", false},
		{"failures broken by a pass", "ffpff", true},
		{"out, one pass", "fffp", false},
		{"out, two passes", "fffpp", true},
		{"out, passes broken by a failure", "fffpfp", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHealthChecker(cfg, 1)
			for _, c := range tt.checks {
				h.Check(0, c == 'p')
			}
			if h.Healthy(0) != tt.healthy {
				t.Errorf("healthy %v after %s, want %v", h.Healthy(0), tt.checks, tt.healthy)
			}
		})
	}
}

// TestHealthCheckerRestart: a restarted host is not ready until its first
// check, run at once, passes Healthy times; a forgotten host is healthy.
func TestHealthCheckerRestart(t *testing.T) {
	h := NewHealthChecker(HealthCheckConfig{Unhealthy: 1, Healthy: 1}, 1)
	if !h.Restart(0) {
		t.Error("successThreshold 1: ready at its first probe")
	}
	h = NewHealthChecker(HealthCheckConfig{Unhealthy: 1, Healthy: 2}, 1)
	if h.Restart(0) || h.Healthy(0) {
		t.Error("successThreshold 2: not ready after one probe")
	}
	h.Forget(0)
	if !h.Healthy(0) || !h.Healthy(5) {
		t.Error("a forgotten host, or one never seen, is healthy")
	}
}
