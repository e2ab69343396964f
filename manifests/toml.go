package manifests

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The TOML the importer writes into its scenario: each key with a comment
// naming the manifest it came from. Keys and sub-tables are split so that
// the importer can put its own keys of the same table first (TOML wants a
// table's keys before its sub-tables).

// line writes `key = value   # comment`, the comments of a block aligned.
func line(w io.Writer, indent, key, value, comment string) {
	kv := indent + key + " = " + value
	if comment == "" {
		fmt.Fprintln(w, kv)
		return
	}
	fmt.Fprintf(w, "%-40s # %s\n", kv, comment)
}

func quote(s string) string { return strconv.Quote(s) }

func durString(d time.Duration) string { return quote(d.String()) }

// WriteServiceKeys writes the keys of the service's [[service]] table:
// instances, from its workloads (and HPA). The importer leaves out its own
// instances (distinct pods in the traces) when s.Instances > 0.
func (s *Service) WriteServiceKeys(w io.Writer, indent string) {
	if s.Instances > 0 {
		var from []string
		for _, f := range s.InstancesFrom {
			from = append(from, f.String())
		}
		why := strings.Join(from, " + ") + ": spec.replicas"
		if s.Autoscale != nil {
			why += ", within the HPA's [minReplicas, maxReplicas]"
		}
		if len(from) == 0 {
			why = s.Autoscale.From.String() + ": minReplicas"
		}
		line(w, indent, "instances", strconv.Itoa(s.Instances), why)
	}
}

// WriteCPULimit writes the service's cpu_limit, from its main container's
// resources.limits.cpu; nothing without one. With measured, the service's
// service_time was measured from spans, whose wall-clock durations hold the
// limit's throttling already: the key is written commented out, with why,
// since setting it would throttle the measured stalls once more.
func (s *Service) WriteCPULimit(w io.Writer, indent string, measured bool) {
	if s.CPULimit <= 0 {
		return
	}
	key, why := "cpu_limit", fmt.Sprintf("%s: container %s resources.limits.cpu", s.CPULimitFrom, s.CPULimitContainer)
	if measured {
		fmt.Fprintf(w, "%s# not set: service_time is from spans, whose durations hold this limit's\n", indent)
		fmt.Fprintf(w, "%s#   throttling already (scenarios.md, Manifests)\n", indent)
		key = "# cpu_limit"
	}
	line(w, indent, key, quote(strconv.FormatFloat(s.CPULimit*1000, 'f', -1, 64)+"m"), why)
}

// WriteAutoscale writes the service's [<table>.autoscale] sub-table, table
// being "service" or "gateway"; nothing without an HPA.
func (s *Service) WriteAutoscale(w io.Writer, table, indent string) {
	a := s.Autoscale
	if a == nil {
		return
	}
	fmt.Fprintf(w, "\n%s[%s.autoscale]  # %s\n", indent, table, a.From)
	line(w, indent, "min", strconv.Itoa(a.Min), "minReplicas")
	line(w, indent, "max", strconv.Itoa(a.Max), "maxReplicas")
	if a.TargetUtilisation > 0 {
		line(w, indent, "target_utilisation", strconv.FormatFloat(a.TargetUtilisation, 'g', -1, 64), "metrics: Resource cpu averageUtilization")
	}
	if d := a.ScaleUpStabilization; d != nil {
		line(w, indent, "scale_up_stabilization", durString(*d), "behavior.scaleUp.stabilizationWindowSeconds")
	}
	if d := a.ScaleDownStabilization; d != nil {
		line(w, indent, "scale_down_stabilization", durString(*d), "behavior.scaleDown.stabilizationWindowSeconds")
	}
	if a.ScaleUpPods > 0 {
		line(w, indent, "scale_up_pods", strconv.Itoa(a.ScaleUpPods), "behavior.scaleUp.policies Pods per 15 s")
	}
	if a.ScaleUpPercent > 0 {
		line(w, indent, "scale_up_percent", strconv.Itoa(a.ScaleUpPercent), "behavior.scaleUp.policies Percent per 15 s")
	}
	if a.ScaleDownPercent > 0 {
		line(w, indent, "scale_down_percent", strconv.Itoa(a.ScaleDownPercent), "behavior.scaleDown.policies Percent per 15 s")
	}
}

// WriteCallKeys writes the keys a caller's call to the service takes from
// its VirtualService and DestinationRule: timeout, balancer, bulkhead. The
// importer writes them in each [[service.call]] (or
// [[service.operation.call]], [[gateway.route]]) whose `to` is the service.
func (c *CallPolicy) WriteCallKeys(w io.Writer, indent string) {
	if c.Timeout > 0 {
		line(w, indent, "timeout", durString(c.Timeout), c.TimeoutFrom.String()+": http route timeout")
	}
	if c.Balancer != "" {
		line(w, indent, "balancer", quote(c.Balancer), c.BalancerFrom.String()+": trafficPolicy.loadBalancer")
	}
	if c.Bulkhead > 0 {
		line(w, indent, "bulkhead", strconv.Itoa(c.Bulkhead), c.BulkheadFrom.String()+": connectionPool "+c.BulkheadWhy+", per caller instance")
	}
}

// WriteCallTables writes the call's sub-tables, [<table>.retry] and
// [<table>.outlier_detection], table being "service.call",
// "service.operation.call" or "gateway.route".
func (c *CallPolicy) WriteCallTables(w io.Writer, table, indent string) {
	if rt := c.Retry; rt != nil {
		fmt.Fprintf(w, "\n%s[%s.retry]\n", indent, table)
		line(w, indent, "max_attempts", strconv.Itoa(rt.MaxAttempts), rt.From.String()+": retries.attempts "+strconv.Itoa(rt.MaxAttempts-1)+" + the first")
		if rt.PerTryTimeout > 0 {
			line(w, indent, "per_try_timeout", durString(rt.PerTryTimeout), "retries.perTryTimeout")
		}
		var on []string
		for _, o := range rt.RetryOn {
			on = append(on, quote(o))
		}
		line(w, indent, "retry_on", "["+strings.Join(on, ", ")+"]", "retries.retryOn "+quote(rt.RetryOnIstio))
		line(w, indent, "jitter", quote("envoy"), "Envoy's jittered exponential backoff")
		line(w, indent, "base", durString(rt.Base), "retries.backoff (Istio's default 25ms)")
		line(w, indent, "cap", durString(rt.Cap), "Envoy's max_interval, 10 x base")
		if rt.MaxRetries > 0 {
			line(w, indent, "max_retries", strconv.Itoa(rt.MaxRetries), rt.MaxRetriesFrom.String()+": connectionPool.http.maxRetries")
		} else {
			// Istio lifts Envoy's cap of 3 (getDefaultCircuitBreakerThresholds).
			line(w, indent, "max_retries", "4294967295", "Istio's default: 2^32-1, no cap")
		}
	}
	if o := c.Outlier; o != nil {
		fmt.Fprintf(w, "\n%s[%s.outlier_detection]\n", indent, table)
		if o.Consecutive5xx > 0 {
			line(w, indent, "consecutive_5xx", strconv.Itoa(o.Consecutive5xx), o.From.String()+": outlierDetection.consecutive5xxErrors")
		}
		if o.Interval > 0 {
			line(w, indent, "interval", durString(o.Interval), "outlierDetection.interval")
		}
		if o.BaseEjectionTime > 0 {
			line(w, indent, "base_ejection_time", durString(o.BaseEjectionTime), "outlierDetection.baseEjectionTime")
			if o.BaseEjectionTime > 300*time.Second {
				line(w, indent, "max_ejection_time", durString(o.BaseEjectionTime), "Envoy's 300s, raised to the base")
			}
		}
		if o.MaxEjectionPercent > 0 {
			line(w, indent, "max_ejection_percent", strconv.Itoa(o.MaxEjectionPercent), "outlierDetection.maxEjectionPercent")
		}
		line(w, indent, "enforcing_success_rate", "0", "Istio turns the success-rate detector off")
	}
}

// WriteCall writes both: the keys, then the sub-tables.
func (c *CallPolicy) WriteCall(w io.Writer, table, indent string) {
	c.WriteCallKeys(w, indent)
	c.WriteCallTables(w, table, indent)
}

// Link is a caller and a callee of the scenario: a service, gateway or
// client that calls or targets a service.
type Link struct{ From, To string }

// WriteFaults writes the [[fault]] tables of the services' fault
// injection, active for the whole run. A delay is a latency fault on each
// of the callee's links in links, requests direction; on the service
// itself when links has none (then it also holds the callee's worker). An
// abort is an errors (or throttle) fault on the service.
func (f *Findings) WriteFaults(w io.Writer, links []Link) {
	for _, s := range f.Services {
		for _, ft := range s.Fault {
			if ft.Kind != "latency" {
				fmt.Fprintf(w, "\n[[fault]]  # %s: %s\n", ft.From, ft.What)
				line(w, "", "kind", quote(ft.Kind), "an abort answers for the callee")
				line(w, "", "target", quote(s.Name), "the service")
				line(w, "", "start", quote("0s"), "for the whole run")
				line(w, "", "probability", strconv.FormatFloat(ft.Share, 'g', -1, 64), "percentage")
				continue
			}
			add := durString(ft.Delay)
			if ft.Share < 1 {
				// A delay for a share of the requests: a mixture with no delay.
				add = quote(fmt.Sprintf("mix(%g %s, %g 0s)", ft.Share, ft.Delay, 1-ft.Share))
			}
			var targets []string
			for _, l := range links {
				if l.To == s.Name {
					targets = append(targets, l.From+"->"+l.To)
				}
			}
			dir := true
			if len(targets) == 0 {
				targets, dir = []string{s.Name}, false
			}
			for _, t := range targets {
				fmt.Fprintf(w, "\n[[fault]]  # %s: %s\n", ft.From, ft.What)
				line(w, "", "kind", quote("latency"), "Envoy delays the request in the caller's sidecar")
				line(w, "", "target", quote(t), "")
				if dir {
					line(w, "", "direction", quote("requests"), "before forwarding")
				}
				line(w, "", "start", quote("0s"), "for the whole run")
				line(w, "", "add", add, "fixedDelay, for the percentage of requests")
			}
		}
	}
}

// WriteNotes writes what was read but not mapped, as TOML comments.
func (f *Findings) WriteNotes(w io.Writer) {
	if len(f.Notes) == 0 && len(f.Skipped) == 0 {
		return
	}
	fmt.Fprintf(w, "# From %d manifest documents.", f.Documents)
	if len(f.Skipped) > 0 {
		var k []string
		for _, c := range f.Skipped {
			k = append(k, fmt.Sprintf("%s %d", c.Kind, c.Count))
		}
		fmt.Fprintf(w, " Skipped (nothing to map): %s.", strings.Join(k, ", "))
	}
	fmt.Fprintln(w)
	for _, n := range f.Notes {
		fmt.Fprintf(w, "# Not mapped: %s\n", n)
	}
}
