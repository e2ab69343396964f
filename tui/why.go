package tui

import (
	"fmt"
	"strings"

	"github.com/faultline/faultline/internal/format"
	"github.com/faultline/faultline/sim"
)

// whyRows is how many lines of the detail pane answer "why is this red".
const whyRows = 2

// whyLines answers "why is this red" for a window of a client, service,
// consumer group or saga (the consistency pane's lines): the main origins
// of its failures (a group's records lost, read twice or behind; a saga's
// rolled back or left inconsistent) and of its slow answers, when its
// latency made it red, most first, at most max lines, from the engine's
// provenance (Window.Provenance; sim/provenance.go, sim/slowness.go). Each
// says what part of the window's failures originated where, why, and the
// fault active there, or that none was (plain overload, a retry storm
// after its trigger, background errors). A last line that cannot hold
// every origin says how many more there are. It decides nothing itself:
// the engine traced each failure.
func whyLines(res *sim.Result, w *sim.Window, max int) []string {
	if max <= 0 {
		return nil
	}
	b := w.Provenance()
	if b == nil || b.Faulted+b.NoFault == 0 {
		return []string{"nothing failed in the last window"}
	}
	all := float64(b.Faulted + b.NoFault)
	var out []string
	for k, o := range b.Origins {
		if len(out) == max-1 && len(b.Origins)-k > 1 {
			// The last line names the next origin and counts the rest.
			out = append(out, whyLine(res, o, all)+fmt.Sprintf(" · +%d more", len(b.Origins)-k-1))
			break
		}
		out = append(out, whyLine(res, o, all))
	}
	return out
}

// whyLine is one origin, what matters first for a narrow pane: "62%
// payment late · latency +800ms", with where the fault hit when that is
// not the origin itself ("on payment#1", "on checkout->payment").
func whyLine(res *sim.Result, o sim.Origin, all float64) string {
	cause := strings.ReplaceAll(o.Cause.String(), "_", " ")
	line := fmt.Sprintf("%s %s %s · ", format.PercentShort(float64(o.N)/all), o.Component, cause)
	if o.Fault == nil || *o.Fault >= len(res.Faults) {
		return line + "no fault"
	}
	f := &res.Faults[*o.Fault]
	if f.Component != o.Component {
		return line + f.What + " on " + f.Component
	}
	return line + f.What
}
