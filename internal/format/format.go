// Package format writes the figures of a run the same way everywhere they are
// shown: the run summary, the TUI and bench reports. Each helper is written
// once, here.
//
//	format.Sig3(41.23)             // "41.2"
//	format.Ms(0.0005)              // "<0.001" (ms: under a microsecond)
//	format.Rate(0.5)               // "0.5"
//	format.Percent(0.9995)         // "99.95%"
//	format.Plural(3, "variant")    // "3 variants"
package format

import (
	"strconv"
	"strings"
)

// Sig3 writes x with about three significant digits: whole numbers from
// 100 on, then one, two or three decimals, and two significant digits
// below 0.001.
func Sig3(x float64) string {
	a := x
	if a < 0 {
		a = -a
	}
	switch {
	case a == 0:
		return "0"
	case a >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(x, 'f', 2, 64)
	case a >= 0.001:
		return strconv.FormatFloat(x, 'f', 3, 64)
	}
	return strconv.FormatFloat(x, 'g', 2, 64)
}

// Ms writes a latency in milliseconds as Sig3 does, down to 0.001 (a
// microsecond), and one under a microsecond, above zero, as "<0.001":
// Sig3's two significant digits would print it in exponent form
// ("1e-06", a 1 ns service time), and the tables, the TUI and the bench
// reports give latencies in ms, so the figure keeps their unit.
func Ms(x float64) string {
	if x > 0 && x < 0.001 {
		return "<0.001"
	}
	return Sig3(x)
}

// Rate formats a rate per second (or a mean queue length): whole numbers
// from 100 on, one decimal below.
func Rate(x float64) string {
	if x >= 100 {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}

// The three percentages below differ in how many digits they spend, for
// where they are shown; each is the one place its rule is written.

// Percent writes a share as a percentage with one decimal, two from 99.9%
// on to tell 99.9% from 99.99%: the run summary's tables.
func Percent(x float64) string {
	switch {
	case x == 1:
		return "100%"
	case x >= 0.999:
		return strconv.FormatFloat(x*100, 'f', 2, 64) + "%"
	}
	return strconv.FormatFloat(x*100, 'f', 1, 64) + "%"
}

// PercentFine writes a share with the digits that tell 99.9% from 99.99%
// and 0.01% from 0.001%: bench reports, which compare such shares across
// variants.
func PercentFine(x float64) string {
	switch {
	case x == 1:
		return "100%"
	case x >= 0.999 || (x > 0 && x < 0.001):
		return strconv.FormatFloat(x*100, 'f', 3, 64) + "%"
	case x >= 0.99 || x < 0.01:
		return strconv.FormatFloat(x*100, 'f', 2, 64) + "%"
	}
	return strconv.FormatFloat(x*100, 'f', 1, 64) + "%"
}

// PercentShort writes a share in at most five columns, with more digits
// when it is small: the TUI's narrow cells.
func PercentShort(x float64) string {
	p := x * 100
	switch {
	case p == 0:
		return "0%"
	case p < 1:
		return strconv.FormatFloat(p, 'f', 2, 64) + "%"
	case p < 10:
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}

// Plural writes a count of things: "1 variant", "3 variants".
func Plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
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
		return Sig3(ms/1000) + "s"
	}
	return Sig3(ms) + "ms"
}

// OrList joins words as "a", "a or b", "a, b or c".
func OrList(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
