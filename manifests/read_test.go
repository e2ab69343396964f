package manifests

import (
	"strings"
	"testing"
	"time"
)

// TestReadErrors checks that broken YAML and fields of the wrong type name
// the file and the line, counted from the start of the file.
func TestReadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"bad yaml in the second document", "kind: ConfigMap\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a\n  x: [\n", "m.yaml:5: "},
		{"wrong type", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  replicas: three\n", "m.yaml:1: Deployment a: "},
		{"not an object", "- a\n- b\n", "m.yaml:1: not a Kubernetes object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("m.yaml", []byte(tc.src))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want prefix %q", err, tc.want)
			}
		})
	}
}

// TestPolicies maps a hand-written set of manifests: an HPA, a
// DestinationRule with Istio's circuit-breaking task's limits, a
// VirtualService with retries, one with an abort and a delay, and a kind
// that is skipped.
func TestPolicies(t *testing.T) {
	f, err := Read("testdata/policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Skipped) != 1 || f.Skipped[0] != (KindCount{"ConfigMap", 1}) {
		t.Errorf("skipped = %v, want ConfigMap 1", f.Skipped)
	}
	h := f.Service("httpbin")
	if h == nil {
		t.Fatal("no httpbin")
	}
	// 12 replicas, brought into the HPA's [2, 10].
	if h.Instances != 10 {
		t.Errorf("instances = %d, want 10", h.Instances)
	}
	a := h.Autoscale
	if a == nil || a.Min != 2 || a.Max != 10 || a.TargetUtilisation != 0.6 || a.ScaleDownStabilization == nil || *a.ScaleDownStabilization != time.Minute {
		t.Errorf("autoscale = %+v", a)
	}
	c := h.Call
	if c.Timeout != 2*time.Second || c.Balancer != "least_request" || c.Bulkhead != 2 {
		t.Errorf("call = timeout %v, balancer %q, bulkhead %d; want 2s, least_request, 2", c.Timeout, c.Balancer, c.Bulkhead)
	}
	if r := c.Retry; r == nil || r.MaxAttempts != 4 || r.PerTryTimeout != 500*time.Millisecond ||
		strings.Join(r.RetryOn, ",") != "error,timeout,rejected,shed" || r.Base != 25*time.Millisecond || r.Cap != 250*time.Millisecond {
		t.Errorf("retry = %+v", r)
	}
	if o := c.Outlier; o == nil || o.Consecutive5xx != 1 || o.Interval != time.Second || o.BaseEjectionTime != 3*time.Minute || o.MaxEjectionPercent != 100 {
		t.Errorf("outlier = %+v", o)
	}
	r := f.Service("ratings")
	if r == nil || len(r.Fault) != 2 {
		t.Fatalf("ratings faults = %+v", r)
	}
	if d, e := r.Fault[0], r.Fault[1]; d.Kind != "latency" || d.Delay != 2*time.Second || d.Share != 0.1 || e.Kind != "errors" || e.Share != 0.5 {
		t.Errorf("faults = %+v", r.Fault)
	}
}

// TestNotes checks what is read but cannot be mapped: a fault for one user
// only (a header match) and a weighted split between versions.
func TestNotes(t *testing.T) {
	for _, tc := range []struct {
		file, want string
	}{
		{"virtual-service-ratings-test-delay.yaml", "http[0] applies only to requests that match header end-user"},
		{"virtual-service-reviews-80-20.yaml", "splits the traffic between reviews v1 80 %, reviews v2 20 %"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := Read("testdata/bookinfo/bookinfo.yaml", "testdata/bookinfo/"+tc.file)
			if err != nil {
				t.Fatal(err)
			}
			var notes []string
			for _, n := range f.Notes {
				notes = append(notes, n.String())
			}
			if !strings.Contains(strings.Join(notes, "\n"), tc.want) {
				t.Errorf("notes %q lack %q", notes, tc.want)
			}
			for _, s := range f.Services {
				if len(s.Fault) > 0 {
					t.Errorf("%s has faults %+v, want none", s.Name, s.Fault)
				}
			}
			// All of reviews' versions count: 3 instances.
			if n := f.Service("reviews").Instances; n != 3 {
				t.Errorf("reviews instances = %d, want 3", n)
			}
		})
	}
}

// TestWrite checks that the fragments of the policies load: the service's
// keys and autoscale table, the call's keys and tables, and the faults,
// a 10 % delay as a mixture with no delay.
func TestWrite(t *testing.T) {
	f, err := Read("testdata/policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("[scenario]\nduration = \"10s\"\n\n[[client]]\nname = \"users\"\ntarget = \"api\"\nrate = 10\n")
	b.WriteString("\n[[service]]\nname = \"api\"\n\n  [[service.call]]\n  to = \"httpbin\"\n")
	f.Service("httpbin").Call.WriteCall(&b, "service.call", "  ")
	b.WriteString("\n  [[service.call]]\n  to = \"ratings\"\n")
	b.WriteString("\n[[service]]\nname = \"httpbin\"\n")
	f.Service("httpbin").WriteServiceKeys(&b, "")
	f.Service("httpbin").WriteAutoscale(&b, "service", "  ")
	b.WriteString("\n[[service]]\nname = \"ratings\"\n")
	f.WriteFaults(&b, []Link{{"api", "ratings"}})
	src := b.String()
	for _, want := range []string{`add = "mix(0.1 2s, 0.9 0s)"`, `target = "api->ratings"`, "bulkhead = 2", "max_attempts = 4", "enforcing_success_rate = 0", "target_utilisation = 0.6"} {
		if !strings.Contains(src, want) {
			t.Errorf("no %q in\n%s", want, src)
		}
	}
	if _, err := loadScenario(src); err != nil {
		t.Errorf("%v\n%s", err, src)
	}
}
