package bench

import (
	"github.com/faultline/faultline/sim/metric"
)

// SLOResult is one objective checked on one cell: its Value is the
// metric's mean across the cell's replications.
type SLOResult struct {
	Cell int `json:"cell"`
	metric.Check
	// Violations counts the replications that did not meet it.
	Violations int `json:"violations"`
	N          int `json:"n"`
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
			res := SLOResult{Cell: c, Check: metric.Check{SLO: s, Text: s.String()}}
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
