package bench

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
)

// TestTimeTicks: a time axis is labelled often enough to read when a
// fault began, at round values: gonum's default labels 0, 50 and 100 on a
// run of 120 s.
func TestTimeTicks(t *testing.T) {
	tests := []struct {
		hi    float64
		first []string // the first labels
		n     int      // labels
	}{
		{40, []string{"0", "5", "10"}, 9},
		{120, []string{"0", "10", "20"}, 13},
		{180, []string{"0", "15", "30"}, 13},
		{300, []string{"0", "30", "60"}, 11},
		{3600, []string{"0", "300", "600"}, 13},
	}
	for _, tt := range tests {
		var labels []string
		for _, tk := range (timeTicks{}).Ticks(0, tt.hi) {
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if len(labels) != tt.n || !slices.Equal(labels[:3], tt.first) {
			t.Errorf("0..%g s: labels %q, want %d starting %q", tt.hi, labels, tt.n, tt.first)
		}
	}
}

// TestBandAlpha: the more variants on a chart, the lighter each band, so
// that the five of resilience-shootout do not bury the lines.
func TestBandAlpha(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want uint8
	}{{1, 40}, {2, 40}, {3, 26}, {5, 16}, {8, 14}} {
		if got := bandAlpha(tt.n); got != tt.want {
			t.Errorf("bandAlpha(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}

// htmlOf writes a report's HTML page.
func htmlOf(t *testing.T, rep *Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := rep.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestChartOrder: a data-centric scenario (consumer groups, stores or
// views) shows its data charts before its clients'; others start with the
// clients.
func TestChartOrder(t *testing.T) {
	page := htmlOf(t, builtinReport(t, "rest-vs-events", 2))
	lag, clients := strings.Index(page, "<h3>Consumer lag</h3>"), strings.Index(page, "<h3>Clients</h3>")
	if lag < 0 || clients < 0 || lag > clients {
		t.Errorf("rest-vs-events: consumer lag at %d, clients at %d: want the lag first", lag, clients)
	}
	m := plan(t, Config{Replications: 1})
	runs, err := Execute(context.Background(), m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	page = htmlOf(t, NewReport(m, runs))
	if i := strings.Index(page, "<h3>"); i < 0 || !strings.HasPrefix(page[i:], "<h3>Clients</h3>") {
		t.Errorf("small: the charts do not start with the clients")
	}
	// Without a fallback, no chart and no note of one.
	if strings.Contains(page, "fallback") {
		t.Errorf("small has no fallback, and its report speaks of one")
	}
}

// TestFallbackChart: when a variant has a fallback, the report charts the
// share of requests it answered.
func TestFallbackChart(t *testing.T) {
	page := htmlOf(t, builtinReport(t, "breaker-saves-checkout", 2))
	if !strings.Contains(page, "shoppers: share of requests answered by a fallback over virtual time (series client/shoppers/degraded_share in series.csv).") {
		t.Errorf("breaker-saves-checkout: no chart of the share answered by a fallback")
	}
}
