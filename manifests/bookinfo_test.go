package manifests

import (
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/internal/golden"
	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// bookinfo builds a Bookinfo scenario from the findings of its manifests
// plus what the manifests cannot say, added by hand and marked so: the
// load, the service times and workers (assumptions: Bookinfo's pages are
// cheap), the application's own timeouts and productpage's retry of
// reviews (app-code-excerpts/productpage.py.lines325-380.txt: `for _ in
// range(2)` around each request to reviews, timeout=3.0; a failure shows
// "reviews unavailable" on a page that still answers), and reviews' 10 s
// timeout on ratings (LibertyRestEndpoint.java: 10000 ms for black stars,
// v2's).
func bookinfo(name string, f *Findings) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Bookinfo, built from its manifests (the keys marked with a manifest) and by\n")
	w("# hand (the keys marked \"by hand\"). Written by TestBookinfo in manifests/\n")
	w("# (go test ./manifests -update).\n")
	f.WriteNotes(&b)
	w("\n[scenario]\nname = %q\nduration = \"60s\"\nwarmup = \"5s\"\n", name)
	w("\n[[client]]\nname = \"users\"\ntarget = \"productpage\"\nrate = 5                                 # by hand: a light load\n")
	links := []Link{{"users", "productpage"}, {"productpage", "details"}, {"productpage", "reviews"}, {"reviews", "ratings"}}
	service := func(name, st string) *Service {
		s := f.Service(name)
		w("\n[[service]]\nname = %q\n", name)
		s.WriteServiceKeys(&b, "")
		w("workers = 16                             # by hand\n")
		w("service_time = %-27q # by hand: an assumption\n", st)
		s.WriteAutoscale(&b, "service", "  ")
		return s
	}
	service("productpage", "5ms")
	w("\n  [[service.call]]\n  to = \"details\"\n")
	w("  timeout = \"3s\"                         # by hand: productpage.py, timeout=3.0\n")
	w("  fallback = true                        # by hand: the page shows \"details unavailable\"\n")
	f.Service("details").Call.WriteCall(&b, "service.call", "  ")

	w("\n  [[service.call]]\n  to = \"reviews\"\n")
	w("  fallback = true                        # by hand: the page shows \"reviews unavailable\"\n")
	// productpage's loop makes two requests to reviews, each one a request
	// to its sidecar, which the route timeout bounds: the VirtualService's
	// timeout becomes the per-try timeout of the application's retry.
	call := f.Service("reviews").Call
	perTry := 3 * time.Second // productpage.py, timeout=3.0
	src := "by hand: productpage.py, timeout=3.0"
	if call.Timeout > 0 && call.Timeout < perTry {
		perTry, src = call.Timeout, call.TimeoutFrom.String()+": http route timeout, on each of the app's requests"
	}
	call.Timeout = 0
	call.WriteCallKeys(&b, "  ")
	w("\n  [service.call.retry]                   # by hand: productpage.py, for _ in range(2)\n")
	w("  max_attempts = 2\n  retry_on = [\"error\", \"timeout\"]       # any answer but a 200\n  base = \"0s\"                            # no sleep between the two\n")
	w("  per_try_timeout = %-20q # %s\n", perTry.String(), src)

	service("details", "1ms")
	service("reviews", "5ms")
	w("\n  [[service.call]]\n  to = \"ratings\"\n")
	w("  timeout = \"10s\"                        # by hand: LibertyRestEndpoint.java, 10000 ms (black stars, v2)\n")
	w("  fallback = true                        # by hand: reviews without stars\n")
	f.Service("ratings").Call.WriteCall(&b, "service.call", "  ")
	service("ratings", "1ms")
	f.WriteFaults(&b, links)
	return b.String()
}

// TestBookinfo checks Istio's request-timeouts task: with ratings delayed
// 2 s the page answers in about 2 s, with its reviews; with a 0.5 s timeout
// on reviews too, in about 1 s, because productpage asks reviews twice, and
// without its reviews (istio.io, "Request Timeouts").
func TestBookinfo(t *testing.T) {
	dir := "testdata/bookinfo"
	for _, tc := range []struct {
		name      string
		manifests []string
		page      float64 // ms, the page's median
		degraded  bool
	}{
		{"bookinfo-ratings-delay", []string{"bookinfo.yaml", "destination-rule-all.yaml", "ratings-delay-2s.yaml"}, 2000, false},
		{"bookinfo-request-timeouts", []string{"bookinfo.yaml", "destination-rule-all.yaml", "request-timeouts-bookinfo.yaml"}, 1000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var paths []string
			for _, m := range tc.manifests {
				paths = append(paths, filepath.Join(dir, m))
			}
			f, err := Read(paths...)
			if err != nil {
				t.Fatal(err)
			}
			src := bookinfo(tc.name, f)
			golden.Check(t, "testdata/"+tc.name+".toml", src, *update)
			spec, err := scenarios.Load(tc.name+".toml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			s, err := sim.New(spec, 1)
			if err != nil {
				t.Fatal(err)
			}
			c := s.Run().Clients[0]
			if p50 := c.Latency.P50; p50 < 0.95*tc.page || p50 > 1.1*tc.page {
				t.Errorf("page p50 = %.0f ms, want about %.0f ms", p50, tc.page)
			}
			if c.OK != c.Sent-c.InFlight {
				t.Errorf("%d of %d pages answered, want all", c.OK, c.Sent-c.InFlight)
			}
			if got := c.Degraded == c.OK; got != tc.degraded {
				t.Errorf("degraded %d of %d pages, want all: %v", c.Degraded, c.OK, tc.degraded)
			}
			t.Logf("p50 %.1f ms, p99 %.1f ms, %d pages, %d degraded", c.Latency.P50, c.Latency.P99, c.OK, c.Degraded)
		})
	}
}

func loadScenario(src string) (*sim.Spec, error) { return scenarios.Load("written.toml", []byte(src)) }
