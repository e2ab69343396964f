package manifests

import (
	"regexp"
	"sort"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// Service is what the manifests say about one service. A field left at its
// zero value was not set by any manifest.
type Service struct {
	Name string
	// Instances is the sum of the replicas of its Deployments and
	// StatefulSets (of the one subset its VirtualService routes all
	// traffic to, if it does), brought into [min, max] of its HPA; 0 when
	// no workload was found. InstancesFrom names the workloads counted.
	Instances     int
	InstancesFrom []Source
	// CPULimit is the resources.limits.cpu of its pods' main container, in
	// cores (cpu_limit); 0: none. CPULimitFrom is the workload and
	// CPULimitContainer the container it came from.
	CPULimit          float64
	CPULimitFrom      Source
	CPULimitContainer string
	Autoscale         *Autoscale
	// Call is what every caller's call to the service gets from its
	// VirtualService and DestinationRule: Envoy applies both in the
	// caller's sidecar.
	Call  CallPolicy
	Fault []Fault
}

// Autoscale is a HorizontalPodAutoscaler. A zero field takes faultline's
// default, which is the HPA's.
type Autoscale struct {
	From     Source
	Min, Max int
	// TargetUtilisation is the CPU target as a fraction (averageUtilization
	// 60 is 0.6); 0: the HPA's default, 80 %.
	TargetUtilisation float64
	// Stabilization windows; nil: the default (0 s up, 300 s down).
	ScaleUpStabilization, ScaleDownStabilization *time.Duration
	// Rate policies of 15 s; 0: the default (4 pods or 100 % up, 100 % down).
	ScaleUpPods, ScaleUpPercent, ScaleDownPercent int
}

// Names in a scenario (scenarios.md, "Names"). A Kubernetes name may start
// with a digit or hold a dot; such a service is left out, with a note.
var validName = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// subset reports whether every label of sel is in labels (a Service's
// selector, a DestinationRule subset's labels). An empty selector selects
// nothing: a Service without one is not backed by pods.
func subset(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// assignWorkloads gives each Deployment and StatefulSet its service: the
// Kubernetes Service that selects its pods (the name its callers and the
// Istio hosts use), else its pods' label app.kubernetes.io/name, else app,
// else its own name.
func (r *resolver) assignWorkloads() {
	svcs := append([]kubeService(nil), r.services...)
	sort.SliceStable(svcs, func(i, j int) bool { return svcs[i].from.Name < svcs[j].from.Name })
	r.workloadOf = map[string]string{}
	for _, w := range r.workloads {
		name := ""
		for _, s := range svcs {
			if !subset(s.selector, w.labels) {
				continue
			}
			if name == "" {
				name = s.from.Name
			} else {
				r.note(w.from, "also selected by Service %s; counted as %s", s.from.Name, name)
			}
		}
		if name == "" {
			name = w.labels["app.kubernetes.io/name"]
		}
		if name == "" {
			name = w.labels["app"]
		}
		if name == "" {
			name = w.from.Name
		}
		if !validName.MatchString(name) {
			r.note(w.from, "service name %q is not a faultline name (^[a-z][a-z0-9_-]*$): left out", name)
			continue
		}
		r.workloadOf[w.from.Name] = name
		r.service(name)
	}
}

// instances counts the replicas of each service's workloads: of those the
// chosen subset selects, when its VirtualService sends all traffic to one
// subset, else of all of them (a Kubernetes Service spreads its traffic
// over every pod it selects).
func (r *resolver) instances(subsets map[string]map[string]string) {
	for _, w := range r.workloads {
		name, ok := r.workloadOf[w.from.Name]
		if !ok {
			continue
		}
		if sel, ok := subsets[name]; ok && !subset(sel, w.labels) {
			continue
		}
		s := r.service(name)
		s.Instances += w.replicas
		s.InstancesFrom = append(s.InstancesFrom, w.from)
		switch {
		case len(s.InstancesFrom) == 1:
			s.CPULimit, s.CPULimitFrom, s.CPULimitContainer = w.cpu.cores, w.from, w.cpu.container
		case w.cpu.cores != s.CPULimit:
			// One cpu_limit for all the instances: the first workload's.
			r.note(w.from, "container %s: CPU limit %gm, not the %gm of %s; cpu_limit takes the latter for all instances",
				w.cpu.container, w.cpu.cores*1000, s.CPULimit*1000, s.CPULimitFrom)
		}
	}
}

// autoscalers maps each HPA onto its target's service. Sources:
// k8s.io/api autoscaling/v2 (HorizontalPodAutoscalerSpec, HPAScalingRules)
// and the HPA's documented defaults (kubernetes.io, "Horizontal Pod
// Autoscaling": minReplicas 1; a CPU target of 80 % for autoscaling/v1
// without one; behavior defaults 0 s/300 s stabilisation, 4 pods or 100 %
// per 15 s up, 100 % per 15 s down), which are faultline's.
func (r *resolver) autoscalers() {
	for _, h := range r.hpas {
		name, ok := r.workloadOf[h.target]
		if !ok || (h.kind != "Deployment" && h.kind != "StatefulSet") {
			r.note(h.from, "scales %s %s, which is not among the workloads read: left out", h.kind, h.target)
			continue
		}
		s := r.service(name)
		if len(s.InstancesFrom) > 1 {
			r.note(h.from, "scales %s only, one of the %d workloads of service %s: applied to the whole service", h.target, len(s.InstancesFrom), name)
		}
		a := &Autoscale{From: h.from, Min: 1}
		switch {
		case h.v1 != nil:
			if h.v1.MinReplicas != nil {
				a.Min = int(*h.v1.MinReplicas)
			}
			a.Max = int(h.v1.MaxReplicas)
			if p := h.v1.TargetCPUUtilizationPercentage; p != nil {
				a.TargetUtilisation = float64(*p) / 100
			}
		case h.v2 != nil:
			if h.v2.MinReplicas != nil {
				a.Min = int(*h.v2.MinReplicas)
			}
			a.Max = int(h.v2.MaxReplicas)
			r.metrics(a, h)
			if b := h.v2.Behavior; b != nil {
				if b.ScaleUp != nil {
					a.ScaleUpStabilization = window(b.ScaleUp.StabilizationWindowSeconds)
					a.ScaleUpPods, a.ScaleUpPercent = r.policies(h.from, "scaleUp", b.ScaleUp.Policies, b.ScaleUp.SelectPolicy)
					// With one policy only, the HPA has no other; faultline
					// always takes the larger of both, so the missing one
					// is set as small as it goes (1 pod, 1 %).
					if a.ScaleUpPods == 0 && a.ScaleUpPercent > 0 {
						a.ScaleUpPods = 1
					} else if a.ScaleUpPercent == 0 && a.ScaleUpPods > 0 {
						a.ScaleUpPercent = 1
					}
				}
				if b.ScaleDown != nil {
					a.ScaleDownStabilization = window(b.ScaleDown.StabilizationWindowSeconds)
					pods, pct := r.policies(h.from, "scaleDown", b.ScaleDown.Policies, b.ScaleDown.SelectPolicy)
					if pods > 0 {
						r.note(h.from, "behavior.scaleDown Pods policy: faultline limits scale-down by percent only; left out")
					}
					a.ScaleDownPercent = min(pct, 100)
				}
			}
		}
		if a.Max < a.Min {
			r.note(h.from, "maxReplicas %d < minReplicas %d: left out", a.Max, a.Min)
			continue
		}
		s.Autoscale = a
		// The HPA brings a count outside [min, max] back at once.
		if s.Instances > 0 {
			s.Instances = max(a.Min, min(a.Max, s.Instances))
		} else {
			s.Instances = a.Min
		}
	}
}

// metrics takes the CPU utilisation target; faultline's autoscaler reads
// CPU only.
func (r *resolver) metrics(a *Autoscale, h hpa) {
	for _, m := range h.v2.Metrics {
		what := string(m.Type)
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil {
			if m.Resource.Name == "cpu" && m.Resource.Target.Type == autoscalingv2.UtilizationMetricType &&
				m.Resource.Target.AverageUtilization != nil {
				a.TargetUtilisation = float64(*m.Resource.Target.AverageUtilization) / 100
				continue
			}
			what = "Resource " + string(m.Resource.Name) + " " + string(m.Resource.Target.Type)
		}
		r.note(h.from, "metric %s is not modelled (faultline scales on CPU utilisation only): left out", what)
	}
}

func window(sec *int32) *time.Duration {
	if sec == nil {
		return nil
	}
	d := time.Duration(*sec) * time.Second
	return &d
}

// policies reads a direction's rate policies. faultline's are those of the
// HPA's default behaviour: per 15 s, the larger of a Pods and a Percent
// limit (selectPolicy Max); other periods and selections are noted.
func (r *resolver) policies(from Source, dir string, ps []autoscalingv2.HPAScalingPolicy, sel *autoscalingv2.ScalingPolicySelect) (pods, percent int) {
	if sel != nil && *sel != autoscalingv2.MaxChangePolicySelect {
		r.note(from, "behavior.%s.selectPolicy %s: faultline takes the larger limit (Max)", dir, *sel)
	}
	for _, p := range ps {
		if p.PeriodSeconds != 15 {
			r.note(from, "behavior.%s policy %s %d per %d s: faultline's policies are per 15 s; left out", dir, p.Type, p.Value, p.PeriodSeconds)
			continue
		}
		switch p.Type {
		case autoscalingv2.PodsScalingPolicy:
			pods = max(pods, int(p.Value))
		case autoscalingv2.PercentScalingPolicy:
			percent = max(percent, int(p.Value))
		}
	}
	return pods, percent
}

func sortStrings(s []string) { sort.Strings(s) }
