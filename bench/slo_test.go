package bench

import (
	"encoding/json"
	"testing"

	"github.com/faultline/faultline/sim/metric"
)

// TestSLOResultJSON: a report's SLO results keep their JSON fields, in
// order, with the run's check embedded (readers of report.json and
// partial files depend on them).
func TestSLOResultJSON(t *testing.T) {
	r := SLOResult{Cell: 1, Check: metric.Check{SLO: metric.SLO{Scope: metric.Client, Target: "shoppers", Metric: "p99", Max: 300, HasMax: true},
		Text: "shoppers p99 <= 300 ms", Value: 212, HasVal: true, Met: true}, Violations: 2, N: 20}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"cell":1,"slo":{"scope":"client","target":"shoppers","metric":"p99","max":300,"has_max":true},` +
		`"text":"shoppers p99 \u003c= 300 ms","value":212,"has_value":true,"met":true,"violations":2,"n":20}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}
