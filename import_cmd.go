package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/faultline/faultline/importer"
	"github.com/faultline/faultline/internal/format"
	"github.com/faultline/faultline/internal/outfile"
	"github.com/faultline/faultline/manifests"
)

// importFlags are the flags of import.
type importFlags struct {
	format, sampled, columns, out *string
	manifests                     pathList
}

func (f *importFlags) register(fs *flag.FlagSet) {
	f.format = fs.String("format", "auto", "the files' format: auto, jaeger, otlp, zipkin or csv")
	f.sampled = fs.String("sampled", "", "the share of requests the traces hold (0.3 for 30 % sampling); default: the sampler ratio Jaeger's root spans carry, else 1")
	f.columns = fs.String("columns", "", "CSV columns for other headers: field=Header[:unit],... (fields trace, span, parent, service, pod, operation, start, end, duration, error, status, kind)")
	f.out = fs.String("o", "", "write the scenario to this `file` instead of standard output")
	fs.Var(&f.manifests, "manifests", "Kubernetes and Istio manifests at `PATH` (a file or a directory; repeat the flag for more) whose replicas, autoscalers, timeouts, retries and fault injection the scenario takes")
}

// importCmd builds a scenario from trace files. A file that cannot be read
// (missing, broken, empty, of an unknown shape) is exit code 2.
func importCmd(args []string, stdout, stderr io.Writer) error {
	var f importFlags
	pos, err := parseFlags("import", f.register, args)
	if err != nil {
		return err
	}
	sampled, columns, out, manifestPaths := f.sampled, f.columns, f.out, f.manifests
	if len(pos) == 0 {
		return usageErr("import needs at least one trace file")
	}
	opts, err := importOptions(*f.format, *sampled, *columns)
	if err != nil {
		return err
	}
	m, err := importer.Import(pos, opts)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	if len(manifestPaths) > 0 {
		f, err := manifests.Read(manifestPaths...)
		if err != nil {
			return &exitError{code: 2, msg: err.Error()}
		}
		applyManifests(m, f)
	}
	// "-" is standard output (POSIX Utility Syntax Guideline 13, Base
	// Definitions 12.2); a file is written
	// as every file faultline writes (internal/outfile): whole or not at
	// all, so that a failed write leaves an earlier scenario as it was.
	if *out == "" || *out == "-" {
		err = m.WriteTOML(stdout)
	} else {
		err = outfile.Write(*out, m.WriteTOML)
	}
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	o := m.Observed
	entries := 0
	for _, c := range m.Clients {
		if c.Entry {
			entries++
		}
	}
	fmt.Fprintf(stderr, "imported %s, %s: %s, %s", format.Plural(int(o.Traces), "trace"), format.Plural(int(o.Spans), "span"),
		format.Plural(len(m.Services), "service"), format.Plural(entries, "entry operation"))
	if n := len(m.Clients) - entries; n > 0 {
		fmt.Fprintf(stderr, ", %s of work whose caller is missing or did not wait (orphan-..., async-...)", format.Plural(n, "client"))
	}
	if o.OrphanSpans > 0 {
		fmt.Fprintf(stderr, "; %s whose parent is missing (driven by orphan-... clients)", format.Plural(int(o.OrphanSpans), "span"))
	}
	fmt.Fprintln(stderr)
	return nil
}

// importOptions reads the flags import and compare share.
func importOptions(format, sampled, columns string) (importer.Options, error) {
	opts := importer.Options{}
	var err error
	if opts.Format, err = importer.ParseFormat(format); err != nil {
		return opts, usageErr("--format: %v", err)
	}
	if sampled != "" {
		r, err := strconv.ParseFloat(sampled, 64)
		if err != nil || !(r > 0 && r <= 1) {
			return opts, usageErr("--sampled %q: want a share in (0, 1], such as 0.3", sampled)
		}
		opts.Sampled = r
	}
	if opts.Columns, err = importer.ParseColumns(columns); err != nil {
		return opts, usageErr("--columns: %v", err)
	}
	return opts, nil
}

// pathList is a flag that may be given more than once.
type pathList []string

func (p *pathList) String() string { return strings.Join(*p, ",") }

func (p *pathList) Set(v string) error {
	*p = append(*p, v)
	return nil
}

// applyManifests writes what the manifests say into the imported model,
// through its Text hooks: a service's instances (in place of the pods the
// traces saw) and autoscaler; on every call to a service, the timeout,
// balancer, bulkhead, retry and outlier detection of its VirtualService and
// DestinationRule (in place of the importer's own keys of those names);
// the fault injection as [[fault]] tables on the links of the scenario;
// and what could not be mapped, as comments at the top.
func applyManifests(m *importer.Model, f *manifests.Findings) {
	var b strings.Builder
	f.WriteNotes(&b)
	if b.Len() > 0 {
		m.Preamble += "#\n" + b.String()
	}
	var links []manifests.Link
	for _, c := range m.Clients {
		links = appendLink(links, manifests.Link{From: c.Name, To: serviceOf(c.Target)})
	}
	// A copy of a service (the import's, for calls that come back to it
	// upstream) takes its service's manifests.
	orig := map[string]string{}
	for _, s := range m.Services {
		orig[s.Name] = s.Name
		if s.CopyOf != "" {
			orig[s.Name] = s.CopyOf
		}
	}
	for i := range m.Services {
		s := &m.Services[i]
		if ms := f.Service(orig[s.Name]); ms != nil {
			var t strings.Builder
			if ms.Instances > 0 {
				if s.InstancesAssumed {
					s.InstancesNote = "instances: from the manifests; the spans do not name the pod or host that recorded them"
				} else {
					s.InstancesNote = "instances: from the manifests; the traces show " + format.Plural(s.Instances, "pod")
				}
				s.Instances, s.InstancesAssumed = 0, false
			}
			ms.WriteServiceKeys(&t, "")
			ms.WriteCPULimit(&t, "", true)
			ms.WriteAutoscale(&t, "service", "")
			s.Text += t.String()
		}
		for j := range s.Operations {
			for k := range s.Operations[j].Calls {
				c := &s.Operations[j].Calls[k]
				to := serviceOf(c.To)
				links = appendLink(links, manifests.Link{From: s.Name, To: to})
				ms := f.Service(orig[to])
				if ms == nil {
					continue
				}
				p := &ms.Call
				c.Extra = slices.DeleteFunc(c.Extra, func(k importer.Key) bool {
					return k.Name == "timeout" && p.Timeout > 0 || k.Name == "balancer" && p.Balancer != "" || k.Name == "bulkhead" && p.Bulkhead > 0
				})
				var t strings.Builder
				p.WriteCallKeys(&t, "    ")
				p.WriteCallTables(&t, "service.operation.call", "    ")
				c.Text += t.String()
			}
		}
	}
	var t strings.Builder
	f.WriteFaults(&t, links)
	m.Trailer += t.String()
}

func serviceOf(target string) string {
	s, _, _ := strings.Cut(target, ".")
	return s
}

func appendLink(links []manifests.Link, l manifests.Link) []manifests.Link {
	if slices.Contains(links, l) {
		return links
	}
	return append(links, l)
}
