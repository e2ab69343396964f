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

// TVis writes a time to visibility read on a store's t-visibility curve:
// "3.21ms", "<=30.2ms" when the curve was there already at its first
// point, firstMS, and ">19.6s" when it never got there (ms nil) up to its
// last point, lastMS.
func TVis(ms *float64, atMost bool, firstMS, lastMS float64) string {
	switch {
	case ms == nil:
		return ">" + duration(lastMS)
	case atMost:
		return "<=" + duration(firstMS)
	}
	return duration(*ms)
}

// duration writes milliseconds in ms, or in s from 1 s on.
func duration(ms float64) string {
	if ms >= 1000 {
		return Ms(ms/1000) + "s"
	}
	return Ms(ms) + "ms"
}
