package bench

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the whole report, for scripts: the matrix, every
// metric's summary per cell, the comparisons, the SLOs, each run's values,
// and each cell's time series.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
