package compare

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/faultline/faultline/importer"
	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
)

// data is ../shared/data beside the checkout (README.md of that folder), as
// CI has it; the tests below skip without it.
const data = "../../shared/data"

func recording(t *testing.T, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{data}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s: %v (the recordings live beside the checkout)", p, err)
	}
	return p
}

// importAndLoad imports traces and loads the scenario written, as validate
// would; extra is TOML appended (a fault).
func importAndLoad(t *testing.T, file, extra string) (*sim.Spec, *importer.Model) {
	t.Helper()
	m, err := importer.Import([]string{file}, importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m.Trailer += extra
	var b bytes.Buffer
	if err := m.WriteTOML(&b); err != nil {
		t.Fatal(err)
	}
	spec, err := scenarios.Load(filepath.Base(file)+".toml", b.Bytes())
	if err != nil {
		t.Fatalf("the imported scenario does not validate: %v", err)
	}
	return spec, m
}

func runAt(t *testing.T, spec *sim.Spec, observed *importer.Model) Report {
	t.Helper()
	return runAtMin(t, spec, observed, 50)
}

func runAtMin(t *testing.T, spec *sim.Spec, observed *importer.Model, minSpans int64) Report {
	t.Helper()
	for _, n := range AtObservedLoad(spec, observed) {
		t.Log(n)
	}
	s, err := sim.New(spec, spec.Seed)
	if err != nil {
		t.Fatal(err)
	}
	return Compare(observed, s.Run(), Options{MinSpans: minSpans})
}

// TestRecordingsFit imports the recordings of issue 12 and compares each
// with a run of its scenario at the same load. Every operation with 50
// spans or more is within the bounds (p50 within 20 %, p99 within
// 35 %) but those named in outOfBounds, and the MAPEs are held where they
// are, so that a change that worsens the fit shows. Online Boutique's
// pages were 44-56 % slow at p50 (p50 MAPE 14.3 %, p99 11.4 %) while each
// call drew its round trip on its own; with the round trips into a callee
// in episodes (markov, one chain per callee), repeated calls as repeat,
// two-cluster times as histograms and the few values above p99 one by one,
// they are within 2-13 % (p50 MAPE 3.37 %, p99 12.6 %). Its list-products
// page (54 spans, so its p99 is its slowest request) stays 45 % fast at
// p99: a slow episode's calls are drawn each on its own from every slow
// value, where a recorded stall holds the nine calls of one page about
// equally long (scenarios.md, "What limits the fit"). The hotel went from
// 2.46 % / 0.89 % to 2.74 % / 2.09 %: its check-availability's own time
// is in two clusters (48.8 % under 0.1 ms, the rest over 1.7 ms), now a
// histogram, whose median is a coin toss between the two (2 seeds of 8
// put it in the lower one).
func TestRecordingsFit(t *testing.T) {
	for _, tt := range []struct {
		file        []string
		outOfBounds []string // "service.operation p50" or "... p99"
		maxP50MAPE  float64  // percent
		maxP99MAPE  float64
	}{
		{[]string{"traces", "hotel-reservation", "load25.jaeger.json.gz"}, nil, 3, 2.5},
		{[]string{"traces", "online-boutique", "normal-2022-08-23T17-00.csv.gz"}, []string{"frontend.recv-list-products p99"}, 4, 13},
	} {
		t.Run(tt.file[1], func(t *testing.T) {
			spec, m := importAndLoad(t, recording(t, tt.file...), "")
			rep := runAt(t, spec, m)
			if len(rep.Missing) > 0 || len(rep.Operations) == 0 {
				t.Errorf("compared %d operations; missing %v", len(rep.Operations), rep.Missing)
			}
			for _, r := range rep.Operations {
				e50, e99 := RelErr(r.Observed.P50, r.Simulated.P50), RelErr(r.Observed.P99, r.Simulated.P99)
				name := r.Service + "." + r.Operation
				t.Logf("%s: p50 %.3g/%.3g ms (%+.0f%%), p99 %.3g/%.3g ms (%+.0f%%)", name,
					r.Observed.P50, r.Simulated.P50, e50*100, r.Observed.P99, r.Simulated.P99, e99*100)
				for _, q := range []struct {
					name     string
					err, max float64
				}{{"p50", e50, 0.2}, {"p99", e99, 0.35}} {
					if math.Abs(q.err) > q.max && !slices.Contains(tt.outOfBounds, name+" "+q.name) {
						t.Errorf("%s %s %+.0f %% out of bounds", name, q.name, q.err*100)
					}
				}
			}
			if rep.P50MAPE > tt.maxP50MAPE || rep.P99MAPE > tt.maxP99MAPE {
				t.Errorf("p50 MAPE %.3g %%, p99 MAPE %.3g %%; want under %g %% and %g %%", rep.P50MAPE, rep.P99MAPE, tt.maxP50MAPE, tt.maxP99MAPE)
			}
			t.Logf("p50 MAPE %.3g %%, p99 MAPE %.3g %%", rep.P50MAPE, rep.P99MAPE)
		})
	}
}

// TestRecordedFaultShift: Online Boutique's normal minute, with the delay
// the fault window shows on currencyservice, against that window. The
// window's calls to currencyservice took 540 ms more between the client
// span and the server span than the normal minute's at p10 (540.7 ms
// against 3.5 ms; 551 against 7.2 at p50): netem on the pod delays what
// it sends, so the fault is a 540 ms latency on the responses of the link
// into currencyservice (frontend's: the imported checkout does not call it). Each entry operation's simulated median shift
// (with the fault against without, at the window's load) is set against
// the observed one (the window's median against the normal minute's):
// 1112 against 1062 ms and 1896 against 1985 ms, once the assumed worker
// pools are lifted (with the import's pools, the front end saturates and
// the shift is 9 s).
func TestRecordedFaultShift(t *testing.T) {
	const fault = `
[[fault]]
kind = "latency"
target = "frontend->currencyservice"
direction = "responses"
start = "0s"
add = "540ms"
`
	normal := recording(t, "traces", "online-boutique", "normal-2022-08-23T17-00.csv.gz")
	window := recording(t, "traces", "online-boutique", "currencyservice-network-delay-2022-08-23T13-38.csv.gz")
	_, mNormal := importAndLoad(t, normal, "")
	mWindow, err := importer.Import([]string{window}, importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	base, _ := importAndLoad(t, normal, "")
	faulted, _ := importAndLoad(t, normal, fault)
	// The worker pools are the import's assumption, sized for the normal
	// load: under a fault that holds each page for seconds they bind and
	// the pages queue, which the real front end (a goroutine per request)
	// does not. Lift them, as a user who knows the pools would set them.
	for _, spec := range []*sim.Spec{base, faulted} {
		for i := range spec.Services {
			spec.Services[i].Workers = 1000
		}
	}
	repBase := runAt(t, base, mWindow)
	repFault := runAt(t, faulted, mWindow)
	observedNormal := map[string]float64{}
	for _, s := range mNormal.Services {
		for _, op := range s.Operations {
			observedNormal[s.Name+"."+op.Name] = float64(op.P50.Nanoseconds()) / 1e6
		}
	}
	simBase := map[string]float64{}
	for _, r := range repBase.Operations {
		simBase[r.Service+"."+r.Operation] = r.Simulated.P50
	}
	entries := map[string]bool{}
	for _, c := range mWindow.Clients {
		entries[c.Target] = true
	}
	checked := 0
	for _, r := range repFault.Operations {
		name := r.Service + "." + r.Operation
		if !entries[name] {
			continue
		}
		obs := r.Observed.P50 - observedNormal[name]
		simulated := r.Simulated.P50 - simBase[name]
		e := RelErr(obs, simulated)
		t.Logf("%s: median shift observed %.0f ms (%.0f -> %.0f), simulated %.0f ms (%+.0f%%)", name, obs, observedNormal[name], r.Observed.P50, simulated, e*100)
		// Within 30 %, or 10 ms for a page that does not call the
		// delayed service (its observed shift is 0).
		if math.Abs(simulated-obs) > max(0.3*math.Abs(obs), 10) {
			t.Errorf("%s: median shift %.0f ms; observed %.0f ms", name, simulated, obs)
		}
		checked++
	}
	if checked == 0 {
		t.Error("no entry operation compared")
	}
}
