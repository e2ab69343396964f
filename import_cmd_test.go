package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/scenarios"
)

// TestImportCmd: import writes a scenario that validate and run accept; a
// file that cannot be read is exit code 2 with the file named.
func TestImportCmd(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "hotel.toml")
	code, _, stderr := faultline("import", "importer/testdata/hotel-reservation-30traces.jaeger.json.gz", "-o", out)
	if code != 0 || !strings.Contains(stderr, "imported 30 traces, 330 spans: 6 services, 1 entry operation\n") {
		t.Fatalf("import: code %d, %s", code, stderr)
	}
	if code, stdout, stderr := faultline("validate", out); code != 0 {
		t.Fatalf("validate: code %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := faultline("run", out, "--duration", "20s"); code != 0 || !strings.Contains(stdout, "load-frontend-http-get-hotels") {
		t.Fatalf("run: code %d\n%s%s", code, stdout, stderr)
	}

	bad := filepath.Join(dir, "broken.json")
	os.WriteFile(bad, []byte(`{"data": [{"traceID": "1", "spans": [}]}`), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"import", bad}, bad + ": in the value starting at byte 10: invalid character"},
		{[]string{"import", filepath.Join(dir, "missing.json")}, "missing.json: open"},
		{[]string{"import"}, "import needs at least one trace file"},
		{[]string{"import", bad, "--format", "xml"}, `unknown format "xml"`},
		{[]string{"import", bad, "--sampled", "30"}, `--sampled "30": want a share in (0, 1]`},
		{[]string{"import", bad, "--columns", "trace"}, `want field=Header`},
	} {
		code, _, stderr := faultline(tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: code %d, %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

// TestImportManifests: the manifests given with --manifests set the
// services' instances and autoscaler, the calls' timeout and retry, and the
// fault injection, each key with its manifest named; the scenario loads.
// The manifests are a cut of Online Boutique's (instances as the traces')
// with an HPA, two VirtualServices added (policies.yaml).
func TestImportManifests(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ob.toml")
	code, _, stderr := faultline("import", "importer/testdata/online-boutique-30traces.csv.gz",
		"--manifests", "testdata/online-boutique-manifests/kubernetes-manifests.yaml",
		"--manifests", "testdata/online-boutique-manifests/policies.yaml", "-o", out)
	if code != 0 {
		t.Fatalf("import: code %d, %s", code, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{
		"instances = 3                            # Deployment productcatalogservice (kubernetes-manifests.yaml:",
		"[service.autoscale]  # HorizontalPodAutoscaler productcatalogservice (policies.yaml:",
		"instances = 1                            # Deployment frontend (kubernetes-manifests.yaml:",
		"[service.operation.call.retry]",
		"target = \"frontend->currencyservice\"",
		"# Not mapped: VirtualService currencyservice (policies.yaml:",
		// The spans' times hold the throttling already: not set again.
		"# cpu_limit = \"200m\"                     # Deployment currencyservice (kubernetes-manifests.yaml:",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the scenario lacks %q", want)
		}
	}
	spec, err := scenarios.Load(out, data)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range spec.Services {
		if s.CPULimit != 0 {
			t.Errorf("%s: cpu_limit %g, want none over service times from spans", s.Name, s.CPULimit)
		}
		switch s.Name {
		case "productcatalogservice":
			if s.Instances != 3 || s.Autoscale == nil || s.Autoscale.Max != 6 {
				t.Errorf("productcatalogservice: %d instances, autoscale %+v; want 3 and max 6 (the HPA)", s.Instances, s.Autoscale)
			}
		case "frontend":
			n := 0
			for _, op := range s.Operations {
				for _, c := range op.Calls {
					if c.To == "productcatalogservice" {
						n++
						if c.Timeout != time.Second || c.Retry == nil || c.Retry.MaxAttempts != 3 {
							t.Errorf("frontend.%s -> productcatalogservice: timeout %s, retry %+v; want 1s and 3 attempts", op.Name, c.Timeout, c.Retry)
						}
					}
				}
			}
			if n == 0 {
				t.Error("frontend calls productcatalogservice nowhere")
			}
		}
	}
	if len(spec.Faults) != 1 {
		t.Errorf("%d faults; want the one delay", len(spec.Faults))
	}
}

// TestImportManifestInstancesNote: where the manifests set a service's
// instances, the note on where its instances came from says so, whether
// the traces named the pods or not; the importer's own note is replaced
// (a typed field of the model), not looked for in the comments' text. The
// comment was rewritten only when the traces named the pods: without them
// the scenario said "ASSUMED: instances = 1" above "instances = 3" from a
// Deployment.
func TestImportManifestInstancesNote(t *testing.T) {
	trace, err := os.ReadFile("importer/testdata/tiny.jaeger.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	deploy := filepath.Join(dir, "pay.yaml")
	if err := os.WriteFile(deploy, []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: pay\nspec:\n  replicas: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		trace []byte
		want  string
	}{
		{"pods named", trace, "# instances: from the manifests; the traces show 1 pod\n"},
		{"pods not named", bytes.ReplaceAll(trace, []byte(`"key": "hostname"`), []byte(`"key": "process"`)),
			"# instances: from the manifests; the spans do not name the pod or host that\n#   recorded them\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".jaeger.json")
			if err := os.WriteFile(in, tc.trace, 0o644); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := faultline("import", in, "--manifests", deploy)
			if code != 0 {
				t.Fatalf("import: code %d, %s", code, stderr)
			}
			_, pay, _ := strings.Cut(stdout, `"pay": operations`)
			pay, _, _ = strings.Cut(pay, "[[service]]")
			if !strings.Contains(pay, tc.want) || strings.Contains(pay, "instances = 1") {
				t.Errorf("pay's notes: want %q and no \"instances = 1\":\n%s", tc.want, pay)
			}
			if !strings.Contains(stdout, "instances = 3                            # Deployment pay") {
				t.Errorf("pay's instances are not the Deployment's:\n%s", stdout)
			}
		})
	}
}

// TestImportManifestsReachCopies: a copy of a service (web-reentry, for
// api's call back to web while web waits upstream) takes its service's
// manifests, as the service does: its replicas here. Before, the copy
// kept the pods the traces saw.
func TestImportManifestsReachCopies(t *testing.T) {
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("TraceID,SpanID,ParentID,ServiceName,OperationName,StartTimeUnixNano,EndTimeUnixNano\n")
	for tr := range 3 {
		t0 := 1700000000000000000 + int64(tr)*int64(time.Second)
		ms := int64(time.Millisecond)
		fmt.Fprintf(&csv, "t%d,a%d,root,web,page,%d,%d\n", tr, tr, t0, t0+50*ms)
		fmt.Fprintf(&csv, "t%d,b%d,a%d,api,get,%d,%d\n", tr, tr, tr, t0+5*ms, t0+40*ms)
		fmt.Fprintf(&csv, "t%d,c%d,b%d,web,callback,%d,%d\n", tr, tr, tr, t0+10*ms, t0+30*ms)
	}
	traces := filepath.Join(dir, "spans.csv")
	manifest := filepath.Join(dir, "web.yaml")
	out := filepath.Join(dir, "web.toml")
	if err := os.WriteFile(traces, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	deployment := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: web\n"
	if err := os.WriteFile(manifest, []byte(deployment), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := faultline("import", traces, "--manifests", manifest, "-o", out); code != 0 {
		t.Fatalf("import: code %d, %s", code, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := scenarios.Load(out, data)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range spec.Services {
		got[s.Name] = s.Instances
	}
	if got["web"] != 3 || got["web-reentry"] != 3 {
		t.Errorf("instances %v; want web and web-reentry at the Deployment's 3", got)
	}
}
