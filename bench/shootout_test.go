package bench

import (
	"context"
	"strings"
	"testing"

	"github.com/faultline/faultline/scenarios"
)

// TestShootout: the built-in resilience-shootout tells the designs apart
// the way its header comment says: only the breakers meet the SLOs, and
// the report suggests the breaker with budgeted retries.
func TestShootout(t *testing.T) {
	name, data, err := scenarios.Open("resilience-shootout")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Plan(Config{Sources: []Source{{Arg: name, File: name, Data: data}}, Replications: 3})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := Execute(context.Background(), m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep := NewReport(m, runs)
	met := map[string]bool{}
	for _, s := range rep.SLOs {
		v := m.Cells[s.Cell].Variant
		if _, seen := met[v]; !seen {
			met[v] = true
		}
		met[v] = met[v] && s.Met
	}
	want := map[string]bool{"no-protection": false, "retries": false, "retries-budget": false, "breaker": true, "breaker-budget": true}
	for v, ok := range want {
		if met[v] != ok {
			t.Errorf("%s meets its SLOs: %v, want %v", v, met[v], ok)
		}
	}
	if s := rep.suggestion(); !strings.Contains(s, "**breaker-budget**") {
		t.Errorf("suggestion %q, want breaker-budget", s)
	}
	amp := Key{"edge", "frontend->payment", "retry_amplification"}
	row, _ := rep.Row(amp)
	if a := row.Cells[1].Mean; a < 1.05 {
		t.Errorf("retries amplify payment's load %.3fx, want more than 1.05x", a)
	}
}
