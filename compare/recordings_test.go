package compare

import (
	"bytes"
	"encoding/json"
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
	return runAtMin(t, spec, observed, 50, 1)
}

func runAtMin(t *testing.T, spec *sim.Spec, observed *importer.Model, minSpans int64, windows int) Report {
	t.Helper()
	for _, n := range AtObservedLoad(spec, observed, windows) {
		t.Log(n)
	}
	s, err := sim.New(spec, spec.Seed)
	if err != nil {
		t.Fatal(err)
	}
	return Compare(observed, s.Run(), Options{MinSpans: minSpans, Windows: windows})
}

// TestRecordingsFit imports the recordings of issue 12 and compares each
// with runs of its scenario at the same load, at seeds 1 to 5 (a fit at
// one seed may be luck), each run five times the traces' window: Online
// Boutique's slow episodes of currencyservice last seconds, so one
// simulated minute holds a handful, and its list-products page's p99 (54
// spans) moves by tens of percent between seeds at one window; over five
// the simulated figures are the scenario's (-29 % to -10 % at seeds 1 to
// 5, each callee's round trips read in units of its own p25). Every
// operation with 50 spans or more is within the bounds (p50
// within 20 %, p99 within 35 %) or inside the observed quantile's 95 %
// interval (compare.Fits): a p99 of 54 spans is bounded only from below,
// by its third slowest span, so a simulated p99 above that is as close as
// another minute of the system could have come. The p50 MAPE is under the
// issue's 15 % at every seed, and the MAPEs' means over the seeds are held
// where they are (2.4 %, 2.8 % and 2.8 % at p50, p90 and p99 for the
// hotel, 3.0 %, 9.6 % and 7.4 % for Online Boutique with async services
// and currencyservice's round trips on four levels), so that a change
// that worsens the fit shows. Online Boutique's p90 MAPE was 32 % while
// percentiles(...) drew straight from p90 to p99 across the stall
// clusters of its tails (list-recommendations' p90 +194 %); its p99 MAPE
// was 5.9 %, lower than draws of the recorded values themselves give
// (samples(...) of every value: 9.8 % over seeds 21 to 60, against 8.8 %
// now and 6.9 % then): the straight line below p99 held a run's p99 near
// the observed one where the values recorded leave a gap below it.
func TestRecordingsFit(t *testing.T) {
	for _, tt := range []struct {
		file                                  []string
		meanP50MAPE, meanP90MAPE, meanP99MAPE float64 // percent, over the seeds
	}{
		{[]string{"traces", "hotel-reservation", "load25.jaeger.json.gz"}, 3, 3.5, 3},
		{[]string{"traces", "online-boutique", "normal-2022-08-23T17-00.csv.gz"}, 3.2, 11, 8},
	} {
		t.Run(tt.file[1], func(t *testing.T) {
			var sum50, sum90, sum99 float64
			const seeds = 5
			for seed := uint64(1); seed <= seeds; seed++ {
				spec, m := importAndLoad(t, recording(t, tt.file...), "")
				spec.Seed = seed
				rep := runAtMin(t, spec, m, 50, 5)
				if len(rep.Missing) > 0 || len(rep.Operations) == 0 {
					t.Errorf("compared %d operations; missing %v", len(rep.Operations), rep.Missing)
				}
				for _, r := range rep.Operations {
					o, s := r.Observed, r.Simulated
					name := r.Service + "." + r.Operation
					t.Logf("seed %d %s: p50 %.3g/%.3g ms (%+.0f%%), p99 %.3g/%.3g ms (%+.0f%%, observed in [%.3g, %.3g])", seed, name,
						o.P50, s.P50, RelErr(o.P50, s.P50)*100, o.P99, s.P99, RelErr(o.P99, s.P99)*100, o.P99CI[0], o.P99CI[1])
					if !Fits(o.P50, s.P50, o.P50CI, 0.2) {
						t.Errorf("seed %d: %s p50 %+.0f %%, outside [%.3g, %.3g] ms", seed, name, RelErr(o.P50, s.P50)*100, o.P50CI[0], o.P50CI[1])
					}
					if !Fits(o.P99, s.P99, o.P99CI, 0.35) {
						t.Errorf("seed %d: %s p99 %+.0f %%, outside [%.3g, %.3g] ms", seed, name, RelErr(o.P99, s.P99)*100, o.P99CI[0], o.P99CI[1])
					}
				}
				if rep.P50MAPE >= 15 {
					t.Errorf("seed %d: p50 MAPE %.3g %%; want under 15 %%", seed, rep.P50MAPE)
				}
				t.Logf("seed %d: p50 MAPE %.3g %%, p90 MAPE %.3g %%, p99 MAPE %.3g %%", seed, rep.P50MAPE, rep.P90MAPE, rep.P99MAPE)
				sum50, sum90, sum99 = sum50+rep.P50MAPE, sum90+rep.P90MAPE, sum99+rep.P99MAPE
			}
			if sum50/seeds > tt.meanP50MAPE || sum90/seeds > tt.meanP90MAPE || sum99/seeds > tt.meanP99MAPE {
				t.Errorf("mean p50 MAPE %.3g %%, p90 MAPE %.3g %%, p99 MAPE %.3g %%; want under %g %%, %g %% and %g %%",
					sum50/seeds, sum90/seeds, sum99/seeds, tt.meanP50MAPE, tt.meanP90MAPE, tt.meanP99MAPE)
			}
			t.Logf("over %d seeds: mean p50 MAPE %.3g %%, p90 MAPE %.3g %%, p99 MAPE %.3g %%", seeds, sum50/seeds, sum90/seeds, sum99/seeds)
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
// 1088 against 1062 ms and 2311 against 1985 ms, with the scenario as
// imported: its services are async (concurrency_model, the import's
// assumption), so a page waiting 540 ms more on its calls holds no worker.
// Imported as thread-per-request with pools sized for the normal minute
// (before concurrency_model), the front end saturated and the shifts were
// 5.8 s, 6.7 s and 4.7 s (recv-add-item, which does not call the delayed
// service, only queued behind the others).
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

// TestOtherSystemsFit imports recordings of systems other than issue 12's
// (importer/testdata/README.md names their sources), each one trace, and
// compares each with its scenario run at the same load, every operation
// compared (min-spans 1) over AutoWindows windows. A scenario built from a
// trace reproduces it: the MAPEs stay under 1 %, and --json can encode
// them (an operation the run answers with no success, as the Chinese
// span's, which failed, is left out of them: a run's latency is of
// successful requests). Before, messaging.json's consumer was a call its producer waited
// for, messaging-kafka.json's consumers ran inside their producers' spans,
// and one window's run reached an operation seen once only by luck (p50
// MAPEs 100 %, 75 %, 100 %).
func TestOtherSystemsFit(t *testing.T) {
	for _, file := range []string{
		"zipkin-lens-messaging.json",       // RabbitMQ: PRODUCER in frontend, CONSUMER in backend
		"zipkin-lens-messaging-kafka.json", // Kafka: consumers in two services, spans outliving their parents
		"zipkin-lens-skew.json",            // a shared server span that starts before its client (clock skew)
		"jaeger-ui-trace-model.json",       // Jaeger UI's trace model: data holds one trace
		"zipkin-chinese-span.json",         // one span alone, its parent missing, failed, names a scenario cannot spell
	} {
		t.Run(file, func(t *testing.T) {
			spec, m := importAndLoad(t, filepath.Join("..", "importer", "testdata", file), "")
			rep := runAtMin(t, spec, m, 1, AutoWindows(m, 1))
			if len(rep.Operations) == 0 || rep.P50MAPE > 1 || rep.P99MAPE > 1 {
				var b bytes.Buffer
				rep.WriteText(&b)
				t.Errorf("MAPEs p50 %.3g %%, p99 %.3g %%; want under 1 %%\n%s", rep.P50MAPE, rep.P99MAPE, b.String())
			}
			if _, err := json.Marshal(rep); err != nil {
				t.Error(err)
			}
		})
	}
}
