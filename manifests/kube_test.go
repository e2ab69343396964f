package manifests

import (
	"strings"
	"testing"
)

// deployment is a Deployment of service name whose pod has the containers
// given as YAML list items, and the pod annotations given.
func deployment(name, annotations, containers string) string {
	return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + name + "\nspec:\n  template:\n    metadata:\n" +
		"      labels:\n        app: svc\n" + annotations + "    spec:\n      containers:\n" + containers
}

// TestCPULimit maps a pod's resources.limits.cpu onto cpu_limit: the main
// container's (the first, or the one kubectl's default-container annotation
// names), in cores from the quantity's millicores as the kubelet reads it;
// the first workload's when a service has several that differ, with a note.
// The line written loads; over a service time from spans it is commented
// out.
func TestCPULimit(t *testing.T) {
	server := func(cpu string) string {
		return "      - name: server\n        image: s\n        resources:\n          limits:\n            cpu: " + cpu + "\n"
	}
	sidecar := "      - name: proxy\n        image: p\n        resources:\n          limits:\n            cpu: 2\n"
	tests := []struct {
		name      string
		src       string
		cores     float64
		container string
		written   string // the cpu_limit line's value, "" for none
		note      string
	}{
		{"millicores", deployment("a", "", server("200m")), 0.2, "server", `cpu_limit = "200m"`, ""},
		{"cores as a decimal", deployment("a", "", server(`"1.5"`)), 1.5, "server", `cpu_limit = "1500m"`, ""},
		{"cores as an integer", deployment("a", "", server("2")), 2, "server", `cpu_limit = "2000m"`, ""},
		{"the first container is the main one", deployment("a", "", server("300m")+sidecar), 0.3, "server", `cpu_limit = "300m"`, ""},
		{"the default-container annotation names it", deployment("a", "      annotations:\n        kubectl.kubernetes.io/default-container: server\n", sidecar+server("300m")), 0.3, "server", `cpu_limit = "300m"`, ""},
		{"no limit", deployment("a", "", "      - name: server\n        image: s\n        resources:\n          requests:\n            cpu: 100m\n"), 0, "", "", ""},
		{"two versions that differ: the first's", deployment("a", "", server("200m")) + "---\n" + deployment("b", "", server("500m")), 0.2, "server", `cpu_limit = "200m"`, "CPU limit 500m, not the 200m of Deployment a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("m.yaml", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			s := f.Service("a")
			if s == nil {
				s = f.Service("svc")
			}
			if s == nil {
				t.Fatalf("no service in %+v", f.Services)
			}
			if s.CPULimit != tt.cores || tt.cores > 0 && s.CPULimitContainer != tt.container {
				t.Errorf("cpu limit %g of container %q, want %g of %q", s.CPULimit, s.CPULimitContainer, tt.cores, tt.container)
			}
			var b, m strings.Builder
			s.WriteCPULimit(&b, "", false)
			if got := b.String(); tt.written == "" && got != "" || !strings.Contains(got, tt.written) {
				t.Errorf("written:\n%s\nwant %q", got, tt.written)
			}
			// Over a service_time measured from spans, commented out.
			s.WriteCPULimit(&m, "", true)
			if got := m.String(); tt.written == "" && got != "" || tt.written != "" && !strings.Contains(got, "# "+tt.written) {
				t.Errorf("written over spans:\n%s\nwant %q", got, "# "+tt.written)
			}
			src := "[scenario]\nduration = \"1s\"\n\n[[client]]\nname = \"c\"\ntarget = \"x\"\nrate = 1\n\n[[service]]\nname = \"x\"\n" + b.String()
			if spec, err := loadScenario(src); err != nil || spec.Services[0].CPULimit != tt.cores {
				t.Errorf("loading %q: %v, cpu_limit %v", src, err, spec)
			}
			var notes []string
			for _, n := range f.Notes {
				notes = append(notes, n.String())
			}
			if got := strings.Join(notes, "\n"); tt.note != "" && !strings.Contains(got, tt.note) {
				t.Errorf("notes %q lack %q", got, tt.note)
			}
		})
	}
}
