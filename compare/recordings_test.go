package compare

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
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
// with a run of its scenario at the same load. The hotel reservation meets
// the bounds (p50 within 20 %, p99 within 35 % for every operation
// with 50 spans or more, p50 MAPE under 15 %). Online Boutique does not:
// its front end's pages come out 40-60 % slow at p50 (scenarios.md,
// "Comparing with traces", says why); the test holds its MAPEs where they
// are, so that a change that worsens the fit shows. With each call's
// observed round trip (client span less server span) drawn whole, rather
// than as two independent halves, the MAPEs went from 5.78 % / 1.61 %
// (p50 / p99) to 2.46 % / 0.89 % for the hotel, and from 17.9 % / 92.5 % to
// 14.3 % / 11.4 % for Online Boutique: the bounds below fail the halves.
func TestRecordingsFit(t *testing.T) {
	for _, tt := range []struct {
		file       []string
		bounded    bool    // every operation within the bounds
		maxP50MAPE float64 // percent
		maxP99MAPE float64
	}{
		{[]string{"traces", "hotel-reservation", "load25.jaeger.json.gz"}, true, 4, 1.5},
		{[]string{"traces", "online-boutique", "normal-2022-08-23T17-00.csv.gz"}, false, 16, 20},
	} {
		t.Run(tt.file[1], func(t *testing.T) {
			spec, m := importAndLoad(t, recording(t, tt.file...), "")
			rep := runAt(t, spec, m)
			if len(rep.Missing) > 0 || len(rep.Operations) == 0 {
				t.Errorf("compared %d operations; missing %v", len(rep.Operations), rep.Missing)
			}
			for _, r := range rep.Operations {
				e50, e99 := RelErr(r.Observed.P50, r.Simulated.P50), RelErr(r.Observed.P99, r.Simulated.P99)
				out := math.Abs(e50) > 0.2 || math.Abs(e99) > 0.35
				t.Logf("%s.%s: p50 %.3g/%.3g ms (%+.0f%%), p99 %.3g/%.3g ms (%+.0f%%)", r.Service, r.Operation,
					r.Observed.P50, r.Simulated.P50, e50*100, r.Observed.P99, r.Simulated.P99, e99*100)
				if out && tt.bounded {
					t.Errorf("%s.%s out of bounds", r.Service, r.Operation)
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
// 1062 against 1066 ms and 1985 against 2121 ms, once the assumed worker
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
