package tui

import (
	"fmt"
	"strings"

	"github.com/faultline/faultline/sim"
)

// recoveryLine is the engine's metastability verdict on the latest fault
// that has ended, for the foot of the event log, where the cascade is
// told: whether each client flow's goodput came back after it, and, when
// one has not (yet, in a live run), what sustains the bad state; or,
// when its verdict is open because a flow or group is still under
// another fault, which; those are not among the ones that did not
// recover. It reports false when no ended fault has a verdict.
func recoveryLine(res *sim.Result) (string, sim.Health, bool) {
	if res == nil {
		return "", sim.Healthy, false
	}
	for i := len(res.Cascades) - 1; i >= 0; i-- {
		c := &res.Cascades[i]
		var under []string
		for _, f := range c.Recovery {
			if f.UnderFault != nil {
				o := &res.Cascades[*f.UnderFault]
				under = append(under, fmt.Sprintf("%s still under %s on %s", f.Flow, o.Name, o.Target))
			}
		}
		for _, g := range c.GroupRecovery {
			if g.UnderFault != nil {
				o := &res.Cascades[*g.UnderFault]
				under = append(under, fmt.Sprintf("%s still under %s on %s", g.Group, o.Name, o.Target))
			}
		}
		if c.Recovered == nil && len(under) == 0 {
			continue
		}
		head := fmt.Sprintf("after %s on %s (ended %.1fs): ", c.Name, c.Target, *c.EndS)
		if c.Recovered == nil {
			// Not a failure to recover: another fault is not over.
			return head + strings.Join(under, ", "), sim.Degraded, true
		}
		if *c.Recovered {
			return head + fmt.Sprintf("every flow recovered, the last %.1fs after the end", *c.RecoveryS), sim.Healthy, true
		}
		var down []string
		for _, f := range c.Recovery {
			if !f.Recovered && f.UnderFault == nil {
				down = append(down, f.Flow)
			}
		}
		for _, g := range c.GroupRecovery {
			if !g.Recovered && g.UnderFault == nil {
				down = append(down, g.Group)
			}
		}
		line := head + strings.Join(down, ", ") + " did not recover"
		var why []string
		for _, cause := range c.SustainedBy {
			why = append(why, cause.What)
		}
		if len(why) > 0 {
			line += " · sustained by " + strings.Join(why, "; ")
		}
		return line, sim.Failing, true
	}
	return "", sim.Healthy, false
}
