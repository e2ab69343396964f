package metric

import (
	"fmt"
	"strings"

	"github.com/faultline/faultline/sim"
)

// SLO is a service level objective, from a scenario's [[slo]] table: a
// metric of one component must stay within Min and/or Max.
type SLO struct {
	Name   string  `json:"name,omitempty"` // optional label
	Scope  Scope   `json:"scope"`          // what Target is: a client, a service, an edge...
	Target string  `json:"target"`
	Metric string  `json:"metric"`
	Min    float64 `json:"min,omitempty"` // in the metric's unit (ms for latencies)
	Max    float64 `json:"max,omitempty"`
	HasMin bool    `json:"has_min,omitempty"`
	HasMax bool    `json:"has_max,omitempty"`
}

// String writes the objective the way a report lists it:
// "shoppers p99 <= 300 ms".
func (s SLO) String() string {
	m, _ := Lookup(s.Scope, s.Metric)
	var parts []string
	if s.HasMin {
		parts = append(parts, ">= "+m.Format(s.Min))
	}
	if s.HasMax {
		parts = append(parts, "<= "+m.Format(s.Max))
	}
	return fmt.Sprintf("%s %s %s", s.Target, s.Metric, strings.Join(parts, " and "))
}

// Label is the SLO's name, or its String when it has none.
func (s SLO) Label() string {
	if s.Name != "" {
		return s.Name
	}
	return s.String()
}

// Met reports whether a value meets the objective.
func (s SLO) Met(x float64) bool {
	return (!s.HasMin || x >= s.Min) && (!s.HasMax || x <= s.Max)
}

// Check is an objective checked on one result: its metric's value there
// and whether it met the objective. A metric without a value (no such
// component in the result, no request answered) does not meet it.
type Check struct {
	SLO    SLO     `json:"slo"`
	Text   string  `json:"text"` // the objective, "shoppers p99 <= 300 ms"
	Value  float64 `json:"value"`
	HasVal bool    `json:"has_value"`
	Met    bool    `json:"met"`
}

// Checks checks each objective on a result, in order.
func Checks(slos []SLO, res *sim.Result) []Check {
	out := make([]Check, 0, len(slos))
	for _, s := range slos {
		c := Check{SLO: s, Text: s.String()}
		if m, ok := Lookup(s.Scope, s.Metric); ok {
			c.Value, c.HasVal = m.Value(res, s.Target)
		}
		c.Met = c.HasVal && s.Met(c.Value)
		out = append(out, c)
	}
	return out
}

// Status is how a report writes the check: "met", "VIOLATED", or "NO
// DATA" when the metric had no value.
func (c Check) Status() string {
	switch {
	case !c.HasVal:
		return "NO DATA"
	case c.Met:
		return "met"
	}
	return "VIOLATED"
}

// ValueText writes the value in the metric's unit: "212 ms".
func (c Check) ValueText() string {
	m, _ := Lookup(c.SLO.Scope, c.SLO.Metric)
	return m.Format(c.Value)
}
