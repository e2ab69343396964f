package resilience

import "time"

// HealthCheckConfig is a periodic health check of a pool of hosts: a
// Kubernetes readiness probe (periodSeconds, failureThreshold,
// successThreshold; core/v1 Probe) or Envoy's active health checking
// (interval, unhealthy_threshold, healthy_threshold;
// config.core.v3.HealthCheck). Both count consecutive results: a host
// turns unhealthy after Unhealthy failed checks in a row, and healthy again
// after Healthy passed checks in a row.
type HealthCheckConfig struct {
	Interval  time.Duration // between two checks of a host
	Timeout   time.Duration // a check of a host that does not answer fails after it
	Unhealthy int           // failed checks in a row that take a host out
	Healthy   int           // passed checks in a row that bring it back
}

// DefaultReadinessProbe is a Kubernetes readiness probe with the API's
// defaults: periodSeconds 10, timeoutSeconds 1, failureThreshold 3,
// successThreshold 1 (k8s.io/api/core/v1 types.go, Probe).
func DefaultReadinessProbe() HealthCheckConfig {
	return HealthCheckConfig{Interval: 10 * time.Second, Timeout: time.Second, Unhealthy: 3, Healthy: 1}
}

// HealthChecker holds the results of one checker's checks per host. It
// allocates only when the pool grows; time is the caller's (it calls Check
// every Interval).
type HealthChecker struct {
	cfg   HealthCheckConfig
	hosts []hcHost
	// changes counts the hosts' changes of health (Changes).
	changes uint64
}

type hcHost struct {
	fails, oks int32
	unhealthy  bool
}

// NewHealthChecker returns a checker of n hosts, all healthy.
func NewHealthChecker(cfg HealthCheckConfig, n int) *HealthChecker {
	return &HealthChecker{cfg: cfg, hosts: make([]hcHost, n)}
}

// Changes counts the changes of a host's health so far: a balancer
// that found no healthy host knows none is until it moves.
func (h *HealthChecker) Changes() uint64 { return h.changes }

// Config returns the checker's configuration.
func (h *HealthChecker) Config() HealthCheckConfig { return h.cfg }

func (h *HealthChecker) host(i int) *hcHost {
	for i >= len(h.hosts) {
		h.hosts = append(h.hosts, hcHost{})
	}
	return &h.hosts[i]
}

// Healthy reports whether host i is in: not taken out by failed checks.
func (h *HealthChecker) Healthy(i int) bool {
	return i >= len(h.hosts) || !h.hosts[i].unhealthy
}

// Check records one check of host i, passed or failed, and reports whether
// the host's health changed.
func (h *HealthChecker) Check(i int, ok bool) (changed bool) {
	x := h.host(i)
	if ok {
		x.fails = 0
		if x.oks++; x.unhealthy && int(x.oks) >= h.cfg.Healthy {
			x.unhealthy = false
			h.changes++
			return true
		}
		return false
	}
	x.oks = 0
	if x.fails++; !x.unhealthy && int(x.fails) >= h.cfg.Unhealthy {
		x.unhealthy = true
		h.changes++
		return true
	}
	return false
}

// Restart is host i started anew (a new container): it is not ready
// until its checks pass Healthy times, and the first runs at once, as a
// Kubernetes readiness probe with initialDelaySeconds 0 does ("the default
// state of readiness before the initial delay is Failure", pod lifecycle
// docs). It reports whether the host is healthy after that first check.
func (h *HealthChecker) Restart(i int) bool {
	*h.host(i) = hcHost{unhealthy: true}
	h.changes++
	h.Check(i, true)
	return !h.hosts[i].unhealthy
}

// Forget is host i gone from the pool (drained, scaled away): a host that
// comes back is a new one, healthy until checked otherwise.
func (h *HealthChecker) Forget(i int) {
	if i < len(h.hosts) {
		if h.hosts[i].unhealthy {
			h.changes++
		}
		h.hosts[i] = hcHost{}
	}
}
