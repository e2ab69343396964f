package metric

import (
	"fmt"

	"github.com/faultline/faultline/internal/format"
)

// Format writes a value of the metric's unit for a person.
func (m Metric) Format(x float64) string { return m.Unit.Format(x) }

// Format writes a value of the unit for a person: shares as percentages,
// latencies in ms with three significant digits.
func (u Unit) Format(x float64) string {
	switch u {
	case Ms:
		return format.Ms(x) + " ms"
	case Seconds:
		return format.Sig3(x) + " s"
	case Share:
		return format.PercentFine(x)
	case PerSec:
		return format.Sig3(x) + "/s"
	case Ratio:
		return fmt.Sprintf("%.3fx", x)
	}
	return format.Sig3(x)
}

// FormatDiff writes a difference of two values of the unit, with its sign.
func (u Unit) FormatDiff(x float64) string {
	sign := "+"
	if x < 0 {
		sign, x = "-", -x
	}
	if u == Share {
		return sign + format.Sig3(x*100) + " pt"
	}
	return sign + u.Format(x)
}
