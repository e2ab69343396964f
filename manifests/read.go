package manifests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	istio "istio.io/api/networking/v1alpha3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// Source names the manifest a finding came from: the kind and name of the
// object, and the file and line where its document starts.
type Source struct {
	File string
	Line int
	Kind string
	Name string
}

func (s Source) String() string {
	return fmt.Sprintf("%s %s (%s:%d)", s.Kind, s.Name, filepath.Base(s.File), s.Line)
}

// KindCount is how many documents of one kind were skipped.
type KindCount struct {
	Kind  string
	Count int
}

// Note is something a manifest says that the scenario does not carry: the
// language cannot express it, or faultline does not model it.
type Note struct {
	From Source
	Text string
}

func (n Note) String() string { return n.From.String() + ": " + n.Text }

// Findings is what a set of manifests says, per service.
type Findings struct {
	// Services, sorted by name.
	Services []*Service
	// Documents is the number of non-empty YAML documents read.
	Documents int
	// Skipped counts the documents of kinds that say nothing the scenario
	// can use (ServiceAccount, Gateway, ConfigMap, ...), by kind.
	Skipped []KindCount
	// Notes lists what was read but not mapped, and why.
	Notes []Note
}

// Service returns the findings for the named service, or nil.
func (f *Findings) Service(name string) *Service {
	for _, s := range f.Services {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// The objects of a set of manifests, before they are resolved into
// services: a VirtualService names a subset that a DestinationRule defines,
// an HPA names a Deployment that a Service selects, in any order.
type objects struct {
	workloads []workload
	services  []kubeService
	hpas      []hpa
	vss       []virtualService
	drs       []destinationRule
	skipped   map[string]int
	docs      int
}

type workload struct {
	from     Source
	labels   map[string]string // the pod template's
	replicas int
	cpu      cpuLimit
}

// cpuLimit is the CPU limit of a workload's main container, in cores (0:
// none), and that container's name.
type cpuLimit struct {
	cores     float64
	container string
}

// defaultContainer is the annotation that names a pod's main container, the
// one kubectl logs and exec pick (kubectl.kubernetes.io/default-container,
// k8s.io/kubectl pkg/cmd/util/podcmd); without it, the first container.
const defaultContainer = "kubectl.kubernetes.io/default-container"

// podCPULimit reads the resources.limits.cpu of a pod template's main
// container. The kubelet turns it into the container's CFS quota, from its
// millicores (pkg/kubelet/cm/helpers_linux.go, MilliCPUToQuota of
// Limits.Cpu().MilliValue()).
func podCPULimit(t corev1.PodTemplateSpec) cpuLimit {
	cs := t.Spec.Containers
	if len(cs) == 0 {
		return cpuLimit{}
	}
	c := cs[0]
	if name := t.Annotations[defaultContainer]; name != "" {
		for _, x := range cs {
			if x.Name == name {
				c = x
			}
		}
	}
	q, ok := c.Resources.Limits[corev1.ResourceCPU]
	if !ok {
		return cpuLimit{container: c.Name}
	}
	return cpuLimit{cores: float64(q.MilliValue()) / 1000, container: c.Name}
}

type kubeService struct {
	from     Source
	selector map[string]string
}

type hpa struct {
	from   Source
	target string // the name of the Deployment or StatefulSet it scales
	kind   string
	v1     *autoscalingv1.HorizontalPodAutoscalerSpec
	v2     *autoscalingv2.HorizontalPodAutoscalerSpec
}

type virtualService struct {
	from Source
	spec *istio.VirtualService
}

type destinationRule struct {
	from Source
	spec *istio.DestinationRule
}

// Read reads the manifests at paths: files, whatever their names, and
// directories, whose *.yaml and *.yml files are read recursively in
// lexical order. A file may hold several documents separated by "---".
// A document that is not YAML, or whose fields do not fit its kind's type,
// is an error that names the file and line.
func Read(paths ...string) (*Findings, error) {
	o := &objects{skipped: map[string]int{}}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			if err := o.readFile(p); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			if ext := filepath.Ext(path); ext == ".yaml" || ext == ".yml" {
				return o.readFile(path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return o.resolve(), nil
}

// Parse reads the documents of one file's contents, named name in sources
// and errors.
func Parse(name string, data []byte) (*Findings, error) {
	o := &objects{skipped: map[string]int{}}
	if err := o.parse(name, data); err != nil {
		return nil, err
	}
	return o.resolve(), nil
}

func (o *objects) readFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return o.parse(path, data)
}

// A document separator: "---" alone on its line, or followed by a space
// and a comment (YAML 1.2, 9.1.3).
func isSeparator(line []byte) bool {
	line = bytes.TrimRight(line, "\r\n")
	return bytes.HasPrefix(line, []byte("---")) &&
		(len(line) == 3 || line[3] == ' ' || line[3] == '\t')
}

func (o *objects) parse(file string, data []byte) error {
	lines := bytes.SplitAfter(data, []byte("\n"))
	start := 0 // index of the document's first line
	for i := 0; i <= len(lines); i++ {
		if i < len(lines) && !isSeparator(lines[i]) {
			continue
		}
		if err := o.document(file, start+1, bytes.Join(lines[start:i], nil)); err != nil {
			return err
		}
		start = i + 1
	}
	return nil
}

// yaml.v2 says "yaml: line N: ..." with N counted from the document's start.
var yamlLine = regexp.MustCompile(`line (\d+)`)

// header is what every Kubernetes object has.
type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec json.RawMessage `json:"spec"`
}

func (o *objects) document(file string, line int, doc []byte) error {
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		msg := err.Error()
		at := line
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			at = line + n - 1
			msg = strings.Replace(msg, m[0], "line "+strconv.Itoa(at), 1)
		}
		return fmt.Errorf("%s:%d: %s", file, at, strings.TrimPrefix(msg, "error converting YAML to JSON: "))
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil // only comments
	}
	var h header
	if err := json.Unmarshal(js, &h); err != nil {
		return fmt.Errorf("%s:%d: not a Kubernetes object: %v", file, line, err)
	}
	o.docs++
	from := Source{File: file, Line: line, Kind: h.Kind, Name: h.Metadata.Name}
	fail := func(err error) error {
		return fmt.Errorf("%s:%d: %s %s: %v", file, line, h.Kind, h.Metadata.Name, err)
	}
	group, _, _ := strings.Cut(h.APIVersion, "/")
	if !strings.Contains(h.APIVersion, "/") {
		group = "" // the core group: apiVersion "v1"
	}
	switch {
	case group == "apps" && h.Kind == "Deployment":
		var d appsv1.Deployment
		if err := json.Unmarshal(js, &d); err != nil {
			return fail(err)
		}
		o.workloads = append(o.workloads, workload{from, d.Spec.Template.Labels, replicas(d.Spec.Replicas), podCPULimit(d.Spec.Template)})
	case group == "apps" && h.Kind == "StatefulSet":
		var s appsv1.StatefulSet
		if err := json.Unmarshal(js, &s); err != nil {
			return fail(err)
		}
		o.workloads = append(o.workloads, workload{from, s.Spec.Template.Labels, replicas(s.Spec.Replicas), podCPULimit(s.Spec.Template)})
	case group == "" && h.Kind == "Service":
		var s corev1.Service
		if err := json.Unmarshal(js, &s); err != nil {
			return fail(err)
		}
		o.services = append(o.services, kubeService{from, s.Spec.Selector})
	case h.APIVersion == "autoscaling/v2" && h.Kind == "HorizontalPodAutoscaler":
		var a autoscalingv2.HorizontalPodAutoscaler
		if err := json.Unmarshal(js, &a); err != nil {
			return fail(err)
		}
		o.hpas = append(o.hpas, hpa{from: from, target: a.Spec.ScaleTargetRef.Name, kind: a.Spec.ScaleTargetRef.Kind, v2: &a.Spec})
	case h.APIVersion == "autoscaling/v1" && h.Kind == "HorizontalPodAutoscaler":
		var a autoscalingv1.HorizontalPodAutoscaler
		if err := json.Unmarshal(js, &a); err != nil {
			return fail(err)
		}
		o.hpas = append(o.hpas, hpa{from: from, target: a.Spec.ScaleTargetRef.Name, kind: a.Spec.ScaleTargetRef.Kind, v1: &a.Spec})
	case group == "networking.istio.io" && h.Kind == "VirtualService":
		// v1, v1beta1 and v1alpha3 are one schema: istio.io/api's v1 and
		// v1beta1 types are aliases of v1alpha3's.
		spec := new(istio.VirtualService)
		if err := spec.UnmarshalJSON(orEmpty(h.Spec)); err != nil {
			return fail(err)
		}
		o.vss = append(o.vss, virtualService{from, spec})
	case group == "networking.istio.io" && h.Kind == "DestinationRule":
		spec := new(istio.DestinationRule)
		if err := spec.UnmarshalJSON(orEmpty(h.Spec)); err != nil {
			return fail(err)
		}
		o.drs = append(o.drs, destinationRule{from, spec})
	default:
		kind := h.Kind
		if kind == "" {
			kind = "(no kind)"
		}
		o.skipped[kind]++
	}
	return nil
}

func orEmpty(spec json.RawMessage) []byte {
	if len(spec) == 0 {
		return []byte("{}")
	}
	return spec
}

// replicas is a workload's spec.replicas: 1 when left out (the API
// server's default, k8s.io/api apps/v1 DeploymentSpec.Replicas).
func replicas(r *int32) int {
	if r == nil {
		return 1
	}
	return int(*r)
}

func (o *objects) resolve() *Findings {
	r := &resolver{objects: o, byName: map[string]*Service{}}
	r.assignWorkloads()
	r.istio()
	r.autoscalers()
	f := &Findings{Documents: o.docs, Notes: r.notes}
	for _, s := range r.byName {
		f.Services = append(f.Services, s)
	}
	sort.Slice(f.Services, func(i, j int) bool { return f.Services[i].Name < f.Services[j].Name })
	for k, n := range o.skipped {
		f.Skipped = append(f.Skipped, KindCount{k, n})
	}
	sort.Slice(f.Skipped, func(i, j int) bool { return f.Skipped[i].Kind < f.Skipped[j].Kind })
	return f
}

type resolver struct {
	*objects
	byName map[string]*Service
	notes  []Note
	// workloadOf maps a Deployment's or StatefulSet's name to its service.
	workloadOf map[string]string
}

func (r *resolver) note(from Source, format string, args ...any) {
	r.notes = append(r.notes, Note{from, fmt.Sprintf(format, args...)})
}

func (r *resolver) service(name string) *Service {
	s := r.byName[name]
	if s == nil {
		s = &Service{Name: name}
		r.byName[name] = s
	}
	return s
}
