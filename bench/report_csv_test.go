package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/sim/metric"
)

// TestSeriesKeysNameMetrics: a chart's series is keyed like the metric it
// draws over time, in the metric's unit, so that a user can match the two;
// a series no metric measures is named with its unit (sent_per_s), or is
// a count.
func TestSeriesKeysNameMetrics(t *testing.T) {
	for _, ts := range timeSeries {
		m, ok := metric.Lookup(ts.scope, ts.key)
		switch {
		case ok && m.Unit != ts.unit:
			t.Errorf("series %s/%s is in %s, its metric in %s: name the series for its unit", ts.scope, ts.key, ts.unit, m.Unit)
		case !ok && !strings.HasSuffix(ts.key, unitSuffix[ts.unit]):
			t.Errorf("series %s/%s is not a metric, and its name does not end with its unit %q", ts.scope, ts.key, unitSuffix[ts.unit])
		case !ok && ts.unit == metric.Count && slices.ContainsFunc(metric.Names(ts.scope), func(n string) bool { return n == ts.key }):
			t.Errorf("series %s/%s shares its name with a metric of another unit", ts.scope, ts.key)
		}
	}
	// The data charts draw these metrics over time, under their names.
	for _, want := range []Key{{metric.Group, "", "consumer_lag"}, {metric.Store, "", "staleness"},
		{metric.ReadModel, "", "projection_lag"}, {metric.ReadModel, "", "ryw_miss_share"}, {metric.Client, "", "degraded_share"}} {
		if !slices.ContainsFunc(timeSeries, func(ts timeSeriesSpec) bool { return ts.scope == want.Scope && ts.key == want.Metric }) {
			t.Errorf("no series %s/%s: the chart of that metric is keyed otherwise", want.Scope, want.Metric)
		}
	}
}

// TestCSVNames: the CSV files name a metric by its key and its unit
// (scenarios.md, "Units in CSV"), once.
func TestCSVNames(t *testing.T) {
	tests := []struct{ key, want string }{
		{"client/users/p99", "client/users/p99_ms"},
		{"client/users/success_rate", "client/users/success_rate_share"},
		{"client/users/error_share", "client/users/error_share"},
		{"client/users/goodput", "client/users/goodput_per_s"},
		{"client/users/sent_per_s", "client/users/sent_per_s"},
		{"edge/api->db/retry_amplification", "edge/api->db/retry_amplification_ratio"},
		{"group/billing/consumer_lag", "group/billing/consumer_lag_s"},
		{"group/billing/lag_records", "group/billing/lag_records"},
		{"store/kv/unavailable_per_s", "store/kv/unavailable_per_s"},
		{"saga/order/running", "saga/order/running"},
		{"fault/latency api/propagation", "fault/latency api/propagation_s"},
	}
	for _, tt := range tests {
		if got := csvName(tt.key); got != tt.want {
			t.Errorf("csvName(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
	// runs.csv and series.csv name the same figure alike.
	m := plan(t, Config{Replications: 1, Variants: []string{"plain"}})
	runs, err := Execute(context.Background(), m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep := NewReport(m, runs)
	var rb, sb bytes.Buffer
	if err := rep.WriteRunsCSV(&rb); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteSeriesCSV(&sb); err != nil {
		t.Fatal(err)
	}
	head, _ := csv.NewReader(&rb).Read()
	rows, _ := csv.NewReader(&sb).ReadAll()
	for _, want := range []string{"client/users/p99_ms", "client/users/goodput_per_s", "client/users/success_rate_share"} {
		if !slices.Contains(head, want) {
			t.Errorf("runs.csv has no column %s: %q", want, head)
		}
		if !slices.ContainsFunc(rows, func(r []string) bool { return r[3] == want }) && want != "client/users/success_rate_share" {
			t.Errorf("series.csv has no key %s", want)
		}
	}
}
