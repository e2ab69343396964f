// Package format writes the figures of a run the same way everywhere they are
// shown: the run summary and the TUI.
//
//	format.Ms(41.23)  // "41.2"
//	format.Rate(0.5)  // "0.5"
package format

import "strconv"

// Ms formats milliseconds with three significant digits.
func Ms(x float64) string {
	switch {
	case x == 0:
		return "0"
	case x >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case x >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	case x >= 1:
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
	return strconv.FormatFloat(x, 'f', 3, 64)
}

// Rate formats a rate per second: whole numbers from 100 on, one decimal
// below.
func Rate(x float64) string {
	if x >= 100 {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}
