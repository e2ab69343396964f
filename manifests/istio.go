package manifests

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	istio "istio.io/api/networking/v1alpha3"
)

// CallPolicy is what the callers' calls to a service get from Istio. Envoy
// applies a VirtualService's route and a DestinationRule's traffic policy
// in the caller's sidecar, so each caller instance holds its own (faultline's
// default scope, "instance"). A zero field was not set.
type CallPolicy struct {
	// Timeout is the route's timeout: the deadline of all attempts
	// (Envoy's route timeout spans the retries).
	Timeout     time.Duration
	TimeoutFrom Source
	Retry       *Retry
	// Balancer is faultline's name for the DestinationRule's loadBalancer.
	Balancer     string
	BalancerFrom Source
	// Bulkhead is the calls one caller instance may have in flight:
	// min(http2MaxRequests, maxConnections + http1MaxPendingRequests).
	Bulkhead     int
	BulkheadFrom Source
	BulkheadWhy  string
	Outlier      *Outlier
}

// Retry is a VirtualService route's retries, as Envoy runs them.
type Retry struct {
	From Source
	// MaxAttempts is attempts + 1: Istio's attempts counts the retries.
	MaxAttempts   int
	PerTryTimeout time.Duration
	// RetryOn is faultline's outcomes for Istio's retryOn, RetryOnIstio
	// as written (or Istio's default).
	RetryOn      []string
	RetryOnIstio string
	// Base is Istio's backoff (25 ms by default), Cap Envoy's max_interval,
	// 10 x base.
	Base, Cap time.Duration
	// MaxRetries is the DestinationRule's http.maxRetries (Envoy's
	// max_retries, in flight at once); 0: Istio's default, 2^32-1.
	MaxRetries     int
	MaxRetriesFrom Source
}

// Outlier is a DestinationRule's outlierDetection, as Istio configures
// Envoy's: the consecutive-5xx detector, and never the success-rate one.
type Outlier struct {
	From Source
	// Consecutive5xx: 0 leaves Envoy's default, 5.
	Consecutive5xx     int
	Interval           time.Duration // 0: 10 s
	BaseEjectionTime   time.Duration // 0: 30 s
	MaxEjectionPercent int           // 0: 10 %
}

// Fault is a VirtualService route's fault injection. Envoy injects it in
// the caller's sidecar, before the request leaves.
type Fault struct {
	From Source
	// Kind is a faultline fault kind: "latency" (a delay), "errors" or
	// "throttle" (an abort with 429).
	Kind  string
	Delay time.Duration // latency
	// Share is the fraction of requests hit, 0 < Share <= 1.
	Share float64
	What  string // the manifest's field, for the comment
}

// istio resolves VirtualServices and DestinationRules onto services.
func (r *resolver) istio() {
	subsetOf := map[string]string{} // service -> the subset all its traffic goes to
	seen := map[string]Source{}
	for _, vs := range r.vss {
		if !meshBound(vs.spec.Gateways) {
			r.note(vs.from, "bound to gateways %v, not to the mesh: its routes act at the ingress; left out", vs.spec.Gateways)
			continue
		}
		if len(vs.spec.Tcp)+len(vs.spec.Tls) > 0 {
			r.note(vs.from, "tcp and tls routes are not modelled; left out")
		}
		for _, h := range vs.spec.Hosts {
			name, ok := r.host(vs.from, h)
			if !ok {
				continue
			}
			if first, dup := seen[name]; dup {
				r.note(vs.from, "host %s already has %s, which is used; this one is left out", h, first)
				continue
			}
			seen[name] = vs.from
			if sub := r.virtualService(vs, name); sub != "" {
				subsetOf[name] = sub
			}
		}
	}
	subsets := map[string]map[string]string{}
	seenDR := map[string]Source{}
	for _, dr := range r.drs {
		name, ok := r.host(dr.from, dr.spec.Host)
		if !ok {
			continue
		}
		if first, dup := seenDR[name]; dup {
			r.note(dr.from, "host %s already has %s, which is used; this one is left out", dr.spec.Host, first)
			continue
		}
		seenDR[name] = dr.from
		policy := dr.spec.TrafficPolicy
		if sub := subsetOf[name]; sub != "" {
			found := false
			for _, s := range dr.spec.Subsets {
				if s.Name == sub {
					found = true
					subsets[name] = s.Labels
					policy = merge(policy, s.TrafficPolicy)
				}
			}
			if !found {
				r.note(dr.from, "defines no subset %s, which the VirtualService routes to", sub)
			}
		}
		r.trafficPolicy(dr.from, r.service(name), policy)
	}
	r.instances(subsets)
}

// meshBound: a VirtualService without gateways applies to the mesh (the
// sidecars); with gateways, only if "mesh" is among them.
func meshBound(gateways []string) bool {
	if len(gateways) == 0 {
		return true
	}
	for _, g := range gateways {
		if g == "mesh" {
			return true
		}
	}
	return false
}

// host maps an Istio host to a service name: "reviews", or
// "reviews.<namespace>[.svc[.cluster.local]]". Hosts outside the cluster
// (ServiceEntries, "*.example.com") are left out.
func (r *resolver) host(from Source, h string) (string, bool) {
	parts := strings.Split(h, ".")
	ok := len(parts) == 1 || len(parts) >= 3 && parts[2] == "svc"
	if len(parts) == 2 {
		_, ok = r.byName[parts[0]] // "reviews.default": a namespace, if reviews is known
	}
	if !ok || !validName.MatchString(parts[0]) {
		r.note(from, "host %s is not a service of the cluster: left out", h)
		return "", false
	}
	return parts[0], true
}

// virtualService maps the route that takes every request: Istio takes the
// first http route whose match fits, so routes before it that match on
// headers, paths or sources carry only part of the traffic, which a
// scenario cannot tell apart. It returns the subset all traffic goes to.
func (r *resolver) virtualService(vs virtualService, name string) string {
	var route *istio.HTTPRoute
	at := ""
	for i, h := range vs.spec.Http {
		if !matchesAll(h.Match) {
			if h.Fault != nil || h.Timeout != nil || h.Retries != nil || len(h.Route) > 0 {
				r.note(vs.from, "http[%d] applies only to requests that match %s: left out (a scenario does not tell requests apart by header, path or source)", i, matchText(h.Match))
			}
			continue
		}
		route, at = h, fmt.Sprintf("http[%d]", i)
		break
	}
	if route == nil {
		if len(vs.spec.Http) > 0 {
			r.note(vs.from, "no http route takes every request: nothing mapped")
		}
		return ""
	}
	s := r.service(name)
	c := &s.Call
	if route.Fault != nil {
		r.fault(vs.from, s, at, route.Fault)
		// virtual_service.proto, HTTPRoute.fault: "timeouts or retries
		// will not be enabled when faults are enabled on the client side".
		if route.Timeout != nil || route.Retries != nil {
			r.note(vs.from, "%s has a fault: Istio turns its timeout and retries off; left out", at)
		}
	} else {
		if d := dur(route.Timeout); d > 0 {
			c.Timeout, c.TimeoutFrom = d, vs.from
		}
		if route.Retries != nil && route.Retries.Attempts > 0 {
			c.Retry = r.retry(vs.from, route.Retries)
		}
	}
	if route.Mirror != nil || len(route.Mirrors) > 0 {
		r.note(vs.from, "%s mirrors traffic: not modelled", at)
	}
	if route.Redirect != nil || route.DirectResponse != nil || route.Delegate != nil {
		r.note(vs.from, "%s redirects, answers directly or delegates: not modelled", at)
	}
	switch len(route.Route) {
	case 0:
		return ""
	case 1:
		d := route.Route[0].Destination
		if d != nil {
			if to, ok := r.host(vs.from, d.Host); ok && to != name {
				r.note(vs.from, "%s sends %s's traffic to %s: a scenario's callers call %s by name; not rewritten", at, name, to, name)
				return ""
			}
			return d.Subset
		}
		return ""
	default:
		var parts []string
		for _, d := range route.Route {
			parts = append(parts, fmt.Sprintf("%s %d %%", destText(d.Destination), d.Weight))
		}
		r.note(vs.from, "%s splits the traffic between %s: a scenario cannot split a call between versions of a service, which it counts as one (all their instances together)", at, strings.Join(parts, ", "))
		return ""
	}
}

// matchesAll: no match condition, or only the path prefix "/", which
// every request has.
func matchesAll(ms []*istio.HTTPMatchRequest) bool {
	for _, m := range ms {
		if m.Uri == nil || m.Uri.GetPrefix() != "/" || len(m.Headers)+len(m.QueryParams)+len(m.SourceLabels) > 0 ||
			m.Method != nil || m.Authority != nil || m.Port != 0 || len(m.Gateways) > 0 || m.Scheme != nil || m.SourceNamespace != "" {
			return false
		}
	}
	return true
}

func matchText(ms []*istio.HTTPMatchRequest) string {
	var parts []string
	for _, m := range ms {
		for k, v := range m.Headers {
			parts = append(parts, "header "+k+" "+strings.TrimSpace(v.String()))
		}
		if m.Uri != nil {
			parts = append(parts, "uri "+strings.TrimSpace(m.Uri.String()))
		}
		if len(m.SourceLabels) > 0 {
			parts = append(parts, fmt.Sprintf("sourceLabels %v", m.SourceLabels))
		}
	}
	if len(parts) == 0 {
		return "its conditions"
	}
	sortStrings(parts)
	return strings.Join(parts, "; ")
}

func destText(d *istio.Destination) string {
	if d == nil {
		return "?"
	}
	if d.Subset != "" {
		return d.Host + " " + d.Subset
	}
	return d.Host
}

// retry maps HTTPRetry (virtual_service.proto): attempts are retries, so
// the first try makes one more; the interval is Envoy's jittered
// exponential backoff from Istio's backoff (25 ms unless set) capped at
// Envoy's max_interval, 10 x base (route.v3.RetryPolicy.RetryBackOff).
func (r *resolver) retry(from Source, h *istio.HTTPRetry) *Retry {
	rt := &Retry{From: from, MaxAttempts: int(h.Attempts) + 1, PerTryTimeout: dur(h.PerTryTimeout), Base: 25 * time.Millisecond}
	if b := dur(h.Backoff); b > 0 {
		rt.Base = b
	}
	rt.Cap = 10 * rt.Base
	rt.RetryOnIstio = h.RetryOn
	if rt.RetryOnIstio == "" {
		rt.RetryOnIstio = "connect-failure,refused-stream,unavailable,cancelled" // HTTPRetry.retry_on's default
	}
	rt.RetryOn = r.retryOn(from, rt.RetryOnIstio)
	if len(rt.RetryOn) == 0 {
		r.note(from, "retryOn %q names no outcome faultline has: the retries are left out", rt.RetryOnIstio)
		return nil
	}
	return rt
}

// retryOn maps Envoy's retry conditions (router filter, x-envoy-retry-on
// and x-envoy-retry-grpc-on) and bare status codes onto faultline's
// outcomes: a service's own failure and a refused connection are `error`
// (a 500, a connect failure or reset), a timed-out attempt is `timeout`
// (Envoy's 504, which 5xx and gateway-error include), a full queue
// `rejected` and a shed request `shed` (503s), a rate limit
// `rate_limited` (429), a conflict `conflict` (409).
func (r *resolver) retryOn(from Source, s string) []string {
	set := map[string]bool{}
	add := func(outs ...string) {
		for _, o := range outs {
			set[o] = true
		}
	}
	for _, c := range strings.Split(s, ",") {
		c = strings.TrimSpace(c)
		switch c {
		case "5xx":
			add("error", "timeout", "rejected", "shed")
		case "gateway-error":
			add("timeout", "rejected", "shed")
		case "reset", "connect-failure":
			add("error")
		case "refused-stream", "unavailable", "503":
			add("rejected", "shed")
		case "retriable-4xx", "409":
			add("conflict")
		case "envoy-ratelimited", "resource-exhausted", "429":
			add("rate_limited")
		case "deadline-exceeded", "504":
			add("timeout")
		case "internal", "500":
			add("error")
		case "", "cancelled", "retriable-status-codes", "retriable-headers":
			// cancelled: nothing in faultline cancels a request; the
			// other two only name the codes and headers listed elsewhere.
		default:
			if code, err := strconv.Atoi(c); err == nil && code >= 500 && code < 600 {
				add("error")
				continue
			}
			r.note(from, "retryOn condition %q is not modelled", c)
		}
	}
	var outs []string
	for _, o := range []string{"error", "timeout", "rejected", "shed", "rate_limited", "conflict"} {
		if set[o] {
			outs = append(outs, o)
		}
	}
	return outs
}

// fault maps HTTPFaultInjection: a delay is a latency fault on the
// callers' links to the service, requests direction (Envoy holds the
// request in the caller's sidecar before forwarding it); an abort is an
// errors fault on the service (a throttle fault for 429), since faultline
// has no link that answers for its callee. A percentage left out hits no
// request (virtual_service.proto, Delay.percentage and Abort.percentage).
func (r *resolver) fault(from Source, s *Service, at string, f *istio.HTTPFaultInjection) {
	if d := f.Delay; d != nil {
		pct := float64(d.Percent) // deprecated integer form
		if d.Percentage != nil {
			pct = d.Percentage.Value
		}
		delay := dur(d.GetFixedDelay())
		switch {
		case delay <= 0:
			r.note(from, "%s.fault.delay has no fixedDelay: left out", at)
		case pct <= 0:
			r.note(from, "%s.fault.delay has no percentage: it delays no request", at)
		default:
			s.Fault = append(s.Fault, Fault{From: from, Kind: "latency", Delay: delay, Share: math.Min(pct, 100) / 100,
				What: fmt.Sprintf("%s.fault.delay fixedDelay %s for %g %%", at, delay, math.Min(pct, 100))})
		}
	}
	if a := f.Abort; a != nil {
		pct := 0.0
		if a.Percentage != nil {
			pct = a.Percentage.Value
		}
		kind, status := "errors", ""
		switch e := a.ErrorType.(type) {
		case *istio.HTTPFaultInjection_Abort_HttpStatus:
			status = "httpStatus " + strconv.Itoa(int(e.HttpStatus))
			if e.HttpStatus == 429 {
				kind = "throttle"
			}
		case *istio.HTTPFaultInjection_Abort_GrpcStatus:
			status = "grpcStatus " + e.GrpcStatus
			if e.GrpcStatus == "RESOURCE_EXHAUSTED" {
				kind = "throttle"
			}
		}
		if pct <= 0 {
			r.note(from, "%s.fault.abort has no percentage: it aborts no request", at)
			return
		}
		s.Fault = append(s.Fault, Fault{From: from, Kind: kind, Share: math.Min(pct, 100) / 100,
			What: fmt.Sprintf("%s.fault.abort %s for %g %%", at, status, math.Min(pct, 100))})
	}
}

// merge applies a subset's traffic policy over the DestinationRule's:
// Istio takes each of the subset's settings that is set in place of the
// top-level one (pilot's MergeTrafficPolicy).
func merge(top, sub *istio.TrafficPolicy) *istio.TrafficPolicy {
	if sub == nil {
		return top
	}
	if top == nil {
		return sub
	}
	m := &istio.TrafficPolicy{LoadBalancer: top.LoadBalancer, ConnectionPool: top.ConnectionPool, OutlierDetection: top.OutlierDetection}
	if sub.LoadBalancer != nil {
		m.LoadBalancer = sub.LoadBalancer
	}
	if sub.ConnectionPool != nil {
		m.ConnectionPool = sub.ConnectionPool
	}
	if sub.OutlierDetection != nil {
		m.OutlierDetection = sub.OutlierDetection
	}
	return m
}

// trafficPolicy maps a DestinationRule's loadBalancer, connectionPool and
// outlierDetection, as Istio turns them into Envoy's cluster settings
// (istio/istio pilot/pkg/networking/core/cluster_traffic_policy.go).
func (r *resolver) trafficPolicy(from Source, s *Service, p *istio.TrafficPolicy) {
	if p == nil {
		return
	}
	if p.PortLevelSettings != nil {
		r.note(from, "portLevelSettings are not modelled; left out")
	}
	c := &s.Call
	if lb := p.LoadBalancer; lb != nil {
		switch {
		case lb.GetConsistentHash() != nil:
			c.Balancer = "ring_hash"
		default:
			switch lb.GetSimple() {
			case istio.LoadBalancerSettings_ROUND_ROBIN:
				c.Balancer = "round_robin"
			case istio.LoadBalancerSettings_LEAST_REQUEST, istio.LoadBalancerSettings_LEAST_CONN:
				c.Balancer = "least_request"
			case istio.LoadBalancerSettings_RANDOM:
				c.Balancer = "random"
			case istio.LoadBalancerSettings_UNSPECIFIED:
				// Istio's default is Envoy's least_request since 1.14;
				// left to the scenario's default, with the other
				// balancer keys the importer writes.
			default:
				r.note(from, "loadBalancer %s is not modelled", lb.GetSimple())
			}
		}
		if c.Balancer != "" {
			c.BalancerFrom = from
		}
	}
	if cp := p.ConnectionPool; cp != nil {
		r.connectionPool(from, c, cp)
	}
	if od := p.OutlierDetection; od != nil {
		r.outlier(from, c, od)
	}
}

// connectionPool: Istio sets Envoy's circuit-breaking thresholds from it
// (tcp.maxConnections -> max_connections, http.http1MaxPendingRequests ->
// max_pending_requests, http.http2MaxRequests -> max_requests,
// http.maxRetries -> max_retries), each 2^32-1 when unset
// (getDefaultCircuitBreakerThresholds). In one caller's sidecar, a
// request beyond max_requests, or beyond the connections when the pending
// queue is full, fails at once with a 503 (Envoy's circuit breaking
// overview). So a caller instance has at most min(max_requests,
// max_connections + max_pending_requests) requests out to the service:
// faultline's bulkhead, per caller instance. The pending requests wait in
// the caller's sidecar in Envoy and at the callee's queue in faultline;
// the count refused is the same.
func (r *resolver) connectionPool(from Source, c *CallPolicy, cp *istio.ConnectionPoolSettings) {
	limit, why := math.MaxInt, ""
	var conns, pending int32
	if cp.Tcp != nil {
		conns = cp.Tcp.MaxConnections
	}
	if h := cp.Http; h != nil {
		pending = h.Http1MaxPendingRequests
		if h.Http2MaxRequests > 0 {
			limit, why = int(h.Http2MaxRequests), fmt.Sprintf("http.http2MaxRequests %d", h.Http2MaxRequests)
		}
		if h.MaxRequestsPerConnection > 0 {
			r.note(from, "connectionPool.http.maxRequestsPerConnection %d: connection reuse is not modelled", h.MaxRequestsPerConnection)
		}
		if h.MaxRetries > 0 {
			c.Retry = withMaxRetries(c.Retry, int(h.MaxRetries), from)
		}
	}
	if conns > 0 && pending > 0 && int(conns)+int(pending) < limit {
		limit = int(conns) + int(pending)
		why = fmt.Sprintf("tcp.maxConnections %d + http.http1MaxPendingRequests %d", conns, pending)
	}
	if limit < math.MaxInt {
		c.Bulkhead, c.BulkheadFrom, c.BulkheadWhy = limit, from, why
	}
	if cp.Tcp != nil && cp.Tcp.ConnectTimeout != nil {
		r.note(from, "connectionPool.tcp.connectTimeout is not modelled (connections are not)")
	}
}

func withMaxRetries(rt *Retry, n int, from Source) *Retry {
	if rt != nil {
		rt.MaxRetries, rt.MaxRetriesFrom = n, from
	}
	return rt
}

// outlier: Istio turns the success-rate detector off
// (EnforcingSuccessRate 0), sets consecutive_5xx from consecutive5xxErrors
// (0 turns the detector off), and leaves Envoy's defaults for what is not
// set (cluster_traffic_policy.go, applyOutlierDetection).
func (r *resolver) outlier(from Source, c *CallPolicy, od *istio.OutlierDetection) {
	o := &Outlier{From: from, Interval: dur(od.Interval), BaseEjectionTime: dur(od.BaseEjectionTime), MaxEjectionPercent: int(od.MaxEjectionPercent)}
	if od.ConsecutiveGatewayErrors != nil && od.ConsecutiveGatewayErrors.Value > 0 {
		r.note(from, "outlierDetection.consecutiveGatewayErrors %d: faultline has no gateway-failure detector; left out", od.ConsecutiveGatewayErrors.Value)
	}
	if od.ConsecutiveErrors != 0 {
		r.note(from, "outlierDetection.consecutiveErrors is deprecated and ignored by Istio; write consecutive5xxErrors")
	}
	if od.MinHealthPercent > 0 {
		r.note(from, "outlierDetection.minHealthPercent %d: Envoy's panic threshold is not modelled", od.MinHealthPercent)
	}
	if od.FailurePercentageThreshold != nil || len(od.OutlierDetectionHttpErrorCodes) > 0 || od.SplitExternalLocalOriginErrors {
		r.note(from, "outlierDetection failurePercentageThreshold, outlierDetectionHttpErrorCodes and splitExternalLocalOriginErrors are not mapped")
	}
	if e := od.Consecutive_5XxErrors; e != nil {
		if e.Value == 0 {
			// With the success-rate detector off too, nothing ejects.
			r.note(from, "outlierDetection.consecutive5xxErrors 0 turns the only detector Istio enables off: no outlier detection")
			return
		}
		o.Consecutive5xx = int(e.Value)
	}
	c.Outlier = o
}

func dur(d *durationpb.Duration) time.Duration {
	return d.AsDuration() // 0 for nil
}
