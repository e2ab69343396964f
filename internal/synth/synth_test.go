package synth

import (
	"bytes"
	"flag"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
)

var update = flag.Bool("update", false, "rewrite ../../testdata/synthetic-1000.toml")

const checkedIn = "../../testdata/synthetic-1000.toml"

// load reads c's topology through the loader, as `faultline run` would.
func load(t testing.TB, c Config) *sim.Spec {
	t.Helper()
	spec, err := scenarios.Load("synthetic.toml", TOML(c))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// TestCheckedIn: the file `faultline run` reads is what the generator
// writes today, byte for byte, and the generator gives the same bytes
// every time.
func TestCheckedIn(t *testing.T) {
	got := TOML(Default())
	if !bytes.Equal(got, TOML(Default())) {
		t.Fatal("two calls of TOML gave different bytes")
	}
	if *update {
		if err := os.WriteFile(checkedIn, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(checkedIn)
	if err != nil {
		t.Fatalf("%v (go test ./internal/synth -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(g), len(w)) {
			if g[i] != w[i] {
				t.Fatalf("%s differs from the generator at line %d: %q, want %q (go test ./internal/synth -update rewrites it)", checkedIn, i+1, w[i], g[i])
			}
		}
		t.Fatalf("%s differs from the generator in length (go test ./internal/synth -update rewrites it)", checkedIn)
	}
}

// TestShape checks the published shape: the role shares, a DAG, a
// heavy-tailed out-degree (most call few, a few call many), shallow and
// bounded call graphs.
func TestShape(t *testing.T) {
	st := Describe(Default())
	t.Logf("%+v", st)
	if st.Entries != 130 || st.Middle != 480 || st.Leaves != 390 {
		t.Errorf("entries/middle/leaves = %d/%d/%d, want 130/480/390 (13%%/48%%/39%%)", st.Entries, st.Middle, st.Leaves)
	}
	if st.MedianOutDegree > 2 || st.MaxOutDegree < 20 {
		t.Errorf("out-degree median %d, max %d: want a heavy tail (median <= 2, max >= 20)", st.MedianOutDegree, st.MaxOutDegree)
	}
	if st.MeanVisits < 3 || st.MeanVisits > maxVisits {
		t.Errorf("a request visits %.1f services on average, want 3..%g", st.MeanVisits, maxVisits)
	}
	if st.Depth > midLevels+3 {
		t.Errorf("depth %d, want at most %d", st.Depth, midLevels+3)
	}
	// The loaded spec is a DAG: a depth-first walk meets no service on
	// its own path.
	spec := load(t, Default())
	index := map[string]int{}
	for i, sv := range spec.Services {
		index[sv.Name] = i
	}
	state := make([]uint8, len(spec.Services)) // 0 new, 1 on the path, 2 done
	var walk func(i int)
	walk = func(i int) {
		state[i] = 1
		for _, c := range spec.Services[i].Calls {
			j := index[c.To]
			if state[j] == 1 {
				t.Fatalf("cycle through %s -> %s", spec.Services[i].Name, c.To)
			}
			if state[j] == 0 {
				walk(j)
			}
		}
		state[i] = 2
	}
	for i := range spec.Services {
		if state[i] == 0 {
			walk(i)
		}
	}
}

// TestSustainable runs a few seconds of the topology: every request ends
// well, no service is near saturation, and the run conserves requests.
func TestSustainable(t *testing.T) {
	c := Default()
	c.Duration = 15 * time.Second
	spec := load(t, c)
	s, err := sim.New(spec, spec.Seed)
	if err != nil {
		t.Fatal(err)
	}
	res := s.Run()
	if err := res.CheckConservation(); err != nil {
		t.Fatal(err)
	}
	cl := res.Clients[0]
	if bad := cl.Sent - cl.OK - cl.InFlight; bad > 0 {
		t.Errorf("%d of %d requests did not succeed", bad, cl.Sent)
	}
	hot, busiest := 0.0, ""
	for _, comp := range res.Components {
		if comp.Utilisation > hot {
			hot, busiest = comp.Utilisation, comp.Name
		}
	}
	if hot > 0.8 {
		t.Errorf("%s at utilisation %.2f: the load is not moderate", busiest, hot)
	}
	t.Logf("%d requests, %d events; busiest %s at %.2f; p99 %.1f ms", cl.Sent, s.Processed(), busiest, hot, cl.Latency.P99)
}

// BenchmarkSynthetic1000 runs the 1,000-service topology at 10,000
// requests/s. One op is one client request: b.N sets the virtual
// duration (b.N / 10,000 s), and s/10min projects the wall time of the
// full 10 minutes. setup_heap_MB is what sim.New allocates, peak_heap_MB
// the largest HeapAlloc seen between slices of 10 s of virtual time, sys_MB
// the memory taken from the OS.
//
//	go test ./internal/synth -run '^$' -bench Synthetic1000 -benchtime 600000x
func BenchmarkSynthetic1000(b *testing.B) {
	c := Default()
	spec := load(b, c)
	// A short span has no warmup, so that every request counts.
	spec.Duration = max(time.Millisecond, time.Duration(float64(b.N)/c.Rate*float64(time.Second)))
	spec.Warmup = 0
	c.Duration = spec.Duration
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	s, err := sim.New(spec, spec.Seed)
	if err != nil {
		b.Fatal(err)
	}
	runtime.ReadMemStats(&ms)
	setUp := ms.HeapAlloc - before
	peak := uint64(0)
	b.ReportAllocs()
	b.ResetTimer()
	for t := 10 * time.Second; ; t += 10 * time.Second {
		s.RunUntil(min(t, c.Duration))
		b.StopTimer()
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
		b.StartTimer()
		if t >= c.Duration {
			break
		}
	}
	res := s.Result()
	b.StopTimer()
	if err := s.Err(); err != nil {
		b.Fatal(err)
	}
	el := b.Elapsed().Seconds()
	b.ReportMetric(float64(res.Clients[0].Sent)/el, "req/s")
	b.ReportMetric(float64(s.Processed())/el, "events/s")
	b.ReportMetric(el/c.Duration.Seconds()*600, "s/10min")
	b.ReportMetric(float64(setUp)/(1<<20), "setup_heap_MB")
	b.ReportMetric(float64(peak)/(1<<20), "peak_heap_MB")
	b.ReportMetric(float64(ms.Sys)/(1<<20), "sys_MB")
}
