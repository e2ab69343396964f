package bench

import (
	"github.com/faultline/faultline/bench/metric"
	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
)

// SLOResult is one objective checked on one cell (or one run).
type SLOResult struct {
	Cell int           `json:"cell"`
	SLO  scenarios.SLO `json:"slo"`
	Text string        `json:"text"` // the objective, "shoppers p99 <= 300 ms"
	// Value is the metric's mean across the cell's replications.
	Value  float64 `json:"value"`
	HasVal bool    `json:"has_value"`
	Met    bool    `json:"met"`
	// Violations counts the replications that did not meet it.
	Violations int `json:"violations"`
	N          int `json:"n"`
}

// Status is how a report writes the result.
func (s SLOResult) Status() string {
	switch {
	case !s.HasVal:
		return "NO DATA"
	case s.Met:
		return "met"
	}
	return "VIOLATED"
}

// CheckRun checks the SLOs on the result of one run, for 'faultline run'.
// A metric without a value (no such component in the result, no request
// answered) does not meet its objective.
func CheckRun(slos []scenarios.SLO, res *sim.Result) ([]SLOResult, error) {
	v, err := metric.Of(res)
	if err != nil {
		return nil, err
	}
	var out []SLOResult
	for _, s := range slos {
		r := SLOResult{SLO: s, Text: s.String(), N: 1}
		if m, ok := metric.Lookup(s.Scope, s.Metric); ok {
			r.Value, r.HasVal = m.Value(v, s.Target)
		}
		r.Met = r.HasVal && s.Met(r.Value)
		if !r.Met {
			r.Violations = 1
		}
		out = append(out, r)
	}
	return out, nil
}

// Violated reports whether any result did not meet its objective.
func Violated(rs []SLOResult) bool {
	for _, r := range rs {
		if !r.Met {
			return true
		}
	}
	return false
}

// checkSLOs checks each cell's SLOs on the mean across its replications,
// and counts the replications that broke them.
func (r *Report) checkSLOs() {
	for c, cell := range r.Matrix.Cells {
		for _, s := range cell.SLOs {
			res := SLOResult{Cell: c, SLO: s, Text: s.String()}
			key := Key{s.Scope, s.Target, s.Metric}.String()
			for _, run := range r.byCell[c] {
				x, ok := run.Values[key]
				res.N++
				if !ok || !s.Met(x) {
					res.Violations++
				}
			}
			if row, ok := r.Row(Key{s.Scope, s.Target, s.Metric}); ok && row.Cells[c].N > 0 {
				res.Value, res.HasVal = row.Cells[c].Mean, true
			}
			res.Met = res.HasVal && s.Met(res.Value)
			r.SLOs = append(r.SLOs, res)
		}
	}
}
