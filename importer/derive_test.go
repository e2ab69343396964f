package importer

import (
	"cmp"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func opByName(t *testing.T, m *Model, service, op string) *Operation {
	t.Helper()
	for i := range m.Services {
		if m.Services[i].Name != service {
			continue
		}
		for j := range m.Services[i].Operations {
			if m.Services[i].Operations[j].Name == op {
				return &m.Services[i].Operations[j]
			}
		}
	}
	t.Fatalf("no operation %s.%s", service, op)
	return nil
}

func callTo(op *Operation, to string) *Call {
	for i := range op.Calls {
		if op.Calls[i].To == to {
			return &op.Calls[i]
		}
	}
	return nil
}

// TestDeriveOnlineBoutique checks the derivation on 30 traces of the Nezha
// recording (testdata/README.md) against figures worked out from the file
// by hand (nearest-rank percentiles of the spans' own times; counts of
// traces making each call).
func TestDeriveOnlineBoutique(t *testing.T) {
	m, err := Import([]string{filepath.Join("testdata", "online-boutique-30traces.csv.gz")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range m.Services {
		names = append(names, s.Name)
		if s.Instances != 1 {
			t.Errorf("%s has %d instances; the file shows one pod each", s.Name, s.Instances)
		}
	}
	// Pod names less their ReplicaSet hash and random suffix.
	want := []string{"adservice", "cartservice", "currencyservice", "frontend", "productcatalogservice", "recommendationservice", "shippingservice"}
	if !slices.Equal(names, want) {
		t.Errorf("services %v; want %v", names, want)
	}
	recv := opByName(t, m, "frontend", "recv")
	checkSomePercentiles(t, "frontend.recv's own time", recv.ServiceTime, map[string]time.Duration{
		"p50": 828463 * time.Nanosecond, "p90": 978603 * time.Nanosecond, "p100": 1205698 * time.Nanosecond})
	for _, c := range []struct {
		to   string
		want float64
	}{
		{"currencyservice.get-supported-currencies", 28.0 / 30},
		{"productcatalogservice.get-product", 26.0 / 30},
		{"shippingservice.get-quote", 4.0 / 30},
		{"cartservice.add-item", 1.0 / 30},
	} {
		call := callTo(recv, c.to)
		if call == nil || math.Abs(call.Probability-c.want) > 0.001 {
			t.Errorf("frontend.recv -> %s: %+v; want probability %.3f", c.to, call, c.want)
		}
	}
	// The client's rate: 30 root spans over the time between the first
	// and the last, stretched by one mean gap.
	if len(m.Clients) != 1 || m.Clients[0].Target != "frontend.recv" {
		t.Fatalf("clients %+v", m.Clients)
	}
	conv := opByName(t, m, "currencyservice", "convert")
	if conv.Count != 57 || math.Abs(float64(conv.P50-1074176*time.Nanosecond)) > 1074176.0/256 {
		t.Errorf("currencyservice.convert: %d spans, p50 %v; want 57, 1.074ms", conv.Count, conv.P50)
	}
	loadScenario(t, m)
}

// checkSomePercentiles compares some percentiles of a percentiles()
// distribution with figures worked out by hand, within the histograms'
// 1/256 relative error.
func checkSomePercentiles(t *testing.T, what, dist string, want map[string]time.Duration) {
	t.Helper()
	inner := strings.TrimSuffix(strings.TrimPrefix(dist, "percentiles("), ")")
	got := map[string]time.Duration{}
	for _, kv := range strings.Split(inner, ", ") {
		k, v, _ := strings.Cut(kv, "=")
		got[k], _ = time.ParseDuration(v)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || math.Abs(float64(g-w)) > float64(w)/256 {
			t.Errorf("%s: %s = %v in %s; want %v", what, k, g, dist, w)
		}
	}
}

// TestDeriveHotelReservation: 30 traces of the TraceWeaver recording
// (Jaeger JSON): the sampler ratio comes from the root spans' tags, the
// own time of search.nearby is its server span less its calls to geo and
// rate, which it makes one after the other.
func TestDeriveHotelReservation(t *testing.T) {
	m, err := Import([]string{filepath.Join("testdata", "hotel-reservation-30traces.jaeger.json.gz")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Observed.SampleRatio != 0.3 {
		t.Errorf("sample ratio %g; want 0.3 from sampler.param", m.Observed.SampleRatio)
	}
	search := opByName(t, m, "search", "nearby")
	checkSomePercentiles(t, "search.nearby's own time", search.ServiceTime, map[string]time.Duration{
		"p50": 564 * time.Microsecond, "p90": 878 * time.Microsecond, "p100": 1617 * time.Microsecond})
	geo, rate := callTo(search, "geo.nearby"), callTo(search, "rate.get-rates")
	if geo == nil || rate == nil || geo.Probability != 1 || rate.Probability != 1 || geo.Group != "" || rate.Group != "" {
		t.Errorf("search.nearby's calls %+v; want geo then rate, always, in sequence", search.Calls)
	}
	if search.Calls[0].To != "geo.nearby" {
		t.Errorf("search.nearby calls %s first; the spans show geo first", search.Calls[0].To)
	}
	// With 0.3 sampling, 30 traces are 100 requests.
	obs := float64(m.Observed.Traces) / m.Observed.Window.Seconds() / 0.3
	if math.Abs(m.Clients[0].Rate-obs) > obs*1e-3 {
		t.Errorf("entry rate %g; want %g", m.Clients[0].Rate, obs)
	}
	loadScenario(t, m)
}

// TestOverlapsPairwise: the sweep of overlaps marks the same pairs of
// callees as comparing every call with every other (two calls overlap
// when each starts before the other ends), on random calls of 5 callees,
// some of 0 length, some with equal starts.
func TestOverlapsPairwise(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 500 {
		a := newAggregator()
		keys := []opKey{{service: "a"}, {service: "b"}, {service: "c"}, {service: "d"}, {service: "e"}}
		n := 1 + r.IntN(12)
		for range n {
			s := int64(r.IntN(20))
			a.calls = append(a.calls, call{start: s, end: s + int64(r.IntN(6)), key: keys[r.IntN(len(keys))]})
		}
		slices.SortFunc(a.calls, func(x, y call) int { return cmp.Compare(x.start, y.start) })
		for _, c := range a.calls {
			if !slices.Contains(a.keys, c.key) {
				a.keys = append(a.keys, c.key)
			}
		}
		a.overlaps()
		k := len(a.keys)
		for i := range k {
			for j := range k {
				if i == j {
					continue
				}
				want := false
				for _, x := range a.calls {
					for _, y := range a.calls {
						if x.key == a.keys[i] && y.key == a.keys[j] && x.start < y.end && y.start < x.end {
							want = true
						}
					}
				}
				if got := a.overlapSeen[i*k+j]; got != want {
					t.Fatalf("trial %d: %s and %s overlap %v; want %v (calls %+v)", trial, a.keys[i].service, a.keys[j].service, got, want, a.calls)
				}
			}
		}
	}
}
