package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/internal/format"
	"github.com/faultline/faultline/sim"
)

// TestWhyGolden: the detail pane of checkout's payment at 45 s, five
// seconds into its latency fault, says why it is red: its failures in the
// last window originated at itself, late or queued behind workers the
// fault keeps busy.
func TestWhyGolden(t *testing.T) {
	h := newHarness(t, "checkout", 100, 30, false)
	h.command("goto 45s")
	h.ui.selected = "payment"
	s := h.text()
	if !strings.Contains(s, "why     ") || !strings.Contains(s, "payment queue full · latency +800ms") {
		t.Errorf("no origin of payment's failures in the detail pane:\n%s", s)
	}
	golden(t, "why_checkout_payment_100x30.golden", s)
}

// TestWhyMatchesBlame: for every client and service of built-ins at a
// moment of failure, the detail pane's lines are the engine's provenance
// of the last window (Window.Provenance: its Blame, or its slow answers'
// when its latency decided), in its order: each origin's share of the failures, its
// cause and component, and the fault active there (its occurrence in
// Result.Faults) or none.
func TestWhyMatchesBlame(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		at       time.Duration
	}{
		{"checkout", 45 * time.Second},
		{"breaker-saves-checkout", 34 * time.Second},
		{"retry-storm", 40 * time.Second},
		{"gateway-spof", 55 * time.Second},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			spec := loadSpec(t, tc.scenario)
			s, err := sim.New(spec, spec.Seed)
			if err != nil {
				t.Fatal(err)
			}
			s.RunUntil(tc.at)
			res := s.Result()
			traced := 0
			for _, se := range res.Series {
				if len(se.Windows) == 0 {
					continue
				}
				w := &se.Windows[len(se.Windows)-1]
				lines := whyLines(res, w, 6)
				b := w.Provenance()
				if b == nil {
					if len(lines) != 1 || !strings.HasPrefix(lines[0], "nothing failed") {
						t.Errorf("%s: %q, want nothing failed", se.Component, lines)
					}
					continue
				}
				traced++
				if len(lines) != len(b.Origins) {
					t.Fatalf("%s: %d lines for %d origins", se.Component, len(lines), len(b.Origins))
				}
				all := float64(b.Faulted + b.NoFault)
				for k, o := range b.Origins {
					fault := "no fault"
					if o.Fault != nil {
						fault = res.Faults[*o.Fault].What
						if at := res.Faults[*o.Fault].Component; at != o.Component {
							fault += " on " + at
						}
					}
					want := format.PercentShort(float64(o.N)/all) + " " + o.Component + " " +
						strings.ReplaceAll(o.Cause.String(), "_", " ") + " · " + fault
					if lines[k] != want {
						t.Errorf("%s line %d: %q, want %q", se.Component, k, lines[k], want)
					}
				}
				// With fewer lines than origins, the last counts the rest.
				if n := len(b.Origins); n > 1 {
					short := whyLines(res, w, 1)
					if len(short) != 1 || !strings.HasSuffix(short[0], " more") || !strings.HasPrefix(short[0], lines[0]) {
						t.Errorf("%s: one line %q, want %q and the count of the rest", se.Component, short, lines[0])
					}
				}
			}
			if traced == 0 {
				t.Errorf("nothing failed at %v: not a moment of failure", tc.at)
			}
		})
	}
}

// TestWhyCoversDataFlows: the consistency pane says why an unhealthy
// consumer group, saga or view is red, from the engine's provenance of its
// latest window, as the detail pane does for a client or service: in
// kafka-consumer-crash at 45 s the group billing is behind because the
// crash of billing#2 took a member out (first its partitions waited, then
// the rebalance it began); in order-saga at 45 s the sagas roll back on
// payment's errors fault; in cqrs-projection-lag at 34 s the view's
// projector is late behind the burst of writes, no fault.
func TestWhyCoversDataFlows(t *testing.T) {
	for _, tc := range []struct {
		scenario, kind, name string
		at                   time.Duration
		want                 string
	}{
		{"kafka-consumer-crash", "group", "billing", 45 * time.Second, "billing rebalance · crash on billing#2"},
		{"order-saga", "saga", "order", 45 * time.Second, "payment error · errors 30%"},
		{"cqrs-projection-lag", "view", "order-history", 34 * time.Second, "order-history late"},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			spec := loadSpec(t, tc.scenario)
			s, err := sim.New(spec, spec.Seed)
			if err != nil {
				t.Fatal(err)
			}
			s.RunUntil(tc.at)
			snap := s.Snapshot()
			for _, l := range consistency(&Frame{Snap: snap, Window: time.Second}) {
				if l.kind != tc.kind || l.name != tc.name {
					continue
				}
				if l.health == sim.Healthy || !strings.Contains(l.text, "why ") || !strings.Contains(l.text, tc.want) || !strings.Contains(l.short, tc.want) {
					t.Errorf("%s %s (%v): %q / %q, want why %q", tc.kind, tc.name, l.health, l.text, l.short, tc.want)
				}
				return
			}
			t.Errorf("no %s %s in the consistency pane", tc.kind, tc.name)
		})
	}
}
