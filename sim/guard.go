package sim

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// A run that cannot make progress must stop with an error that says why,
// not hang or exhaust the machine's memory. The guards count (no wall
// clock in the engine): events at one instant of virtual time here, the
// bytes of what grows in budget.go.

// maxAtInstant bounds the events that may run without virtual time
// advancing. A real scenario runs a few events at any one instant (a
// burst, a crash answering what an instance held); ten million at one
// instant is a loop of zero-time steps, such as closed-loop users with no
// think time calling a service with no service time, which would
// otherwise run forever.
const maxAtInstant = 10_000_000

// loopSample is how many events before the bound are tallied by kind, to
// name what loops when the bound is hit.
const loopSample = 1 << 16

// instantGuard counts the events run at the current instant.
type instantGuard struct {
	n     uint64
	kinds [numKinds]uint32 // events of each kind among the last loopSample before the bound
	args  [numKinds]int32  // the argument of the last of each kind
}

// atInstant tallies an event run near the bound on events at one instant,
// and sets the run's error when it is one too many.
func (s *Sim) atInstant(e *event) bool {
	k := e.kind()
	s.instant.kinds[k]++
	s.instant.args[k] = e.arg()
	if s.instant.n <= maxAtInstant {
		return true
	}
	s.err = &StuckError{At: time.Duration(s.now), Events: s.instant.n, Loop: s.loopParts()}
	return false
}

// StuckError says that virtual time stopped advancing: more than
// maxAtInstant events ran at one instant.
type StuckError struct {
	At     time.Duration
	Events uint64
	Loop   []string // what ran in the loop, most frequent first
}

func (e *StuckError) Error() string {
	return fmt.Sprintf("virtual time stuck at %s: more than %d million events ran at that instant, a loop of steps that take no time (%s); give a think_time, a service_time or a network latency a positive value",
		e.At, maxAtInstant/1_000_000, strings.Join(e.Loop, ", "))
}

// loopParts names the kinds of event tallied before the bound, with their
// components.
func (s *Sim) loopParts() []string {
	type part struct {
		what string
		n    uint32
	}
	var parts []part
	for k, n := range s.instant.kinds {
		if n > 0 {
			parts = append(parts, part{s.describeEvent(evKind(k), s.instant.args[k]), n})
		}
	}
	sort.SliceStable(parts, func(i, j int) bool { return parts[i].n > parts[j].n })
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		out = append(out, p.what)
	}
	return out
}

// describeEvent names an event's kind and, where its argument says, the
// component it concerns.
func (s *Sim) describeEvent(k evKind, arg int32) string {
	svcOf := func() string {
		if int(arg) < len(s.reqs.r) {
			if sv := s.reqs.r[arg].svc; int(sv) < len(s.services) {
				return s.services[sv].spec.Name
			}
		}
		return "?"
	}
	switch k {
	case evArrival:
		return "client " + s.clients[arg].spec.Name + " sends"
	case evThinkDone:
		return "client " + s.clients[arg].spec.Name + " sends again after its think_time"
	case evDeliver:
		return "requests reach " + svcOf()
	case evWorkDone, evAfterDone:
		return "service " + svcOf() + " finishes work"
	case evCFS:
		return "service " + s.services[arg].spec.Name + " finishes work under its cpu_limit"
	case evResponse:
		return "responses leave " + svcOf()
	case evRetry:
		return "calls retry"
	case evHedge:
		return "calls hedge"
	case evTimeout, evTimeoutQ:
		return "requests time out"
	}
	return fmt.Sprintf("events of kind %d", k)
}
