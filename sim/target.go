package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// TargetForm is the shape of a fault target as written, before it is bound
// to a component of a run.
type TargetForm uint8

const (
	TargetName      TargetForm = iota // a component or topic: "payment", "kafka", "db", "orders", "shoppers"
	TargetMember                      // one instance, broker node or store replica: "payment#2"
	TargetOperation                   // one operation of a service: "catalog.search"
	TargetLink                        // the messages from a caller to a callee: "checkout->payment"
)

// Target is a fault target, parsed. The one grammar of targets, for the
// loader, drivers' commands and the engine:
//
//	target    = link | member | operation | name
//	link      = name "->" name
//	member    = name "#" integer       (numbered from 1; the range is the component's)
//	operation = name "." name
//
// Spaces around a name are dropped. "->" is read first, then "#", then
// ".": "a.b#2" is member 2 of "a.b" (which no component is).
type Target struct {
	Form   TargetForm
	Name   string // the component; the callee of a link; the service of an operation
	Caller string // a link's caller
	Member int    // a member's number
	Op     string // an operation's name
}

// String writes t as the engine and the event log name it: "a->b",
// "payment#2", "catalog.search", "payment".
func (t Target) String() string {
	switch t.Form {
	case TargetLink:
		return t.Caller + "->" + t.Name
	case TargetMember:
		return t.Name + "#" + strconv.Itoa(t.Member)
	case TargetOperation:
		return t.Name + "." + t.Op
	}
	return t.Name
}

// TargetProblem is what is wrong with a target string.
type TargetProblem uint8

const (
	TargetEmpty         TargetProblem = iota // nothing but spaces
	TargetLinkEnd                            // a link without its caller or its callee
	TargetLinkOperation                      // a link that names an operation: "web->shop.search"
	TargetMemberNumber                       // what follows "#" is not an integer
	TargetOperationPart                      // an operation without its service or its name
)

// TargetError says what is wrong with a target string and at which byte.
// The Target returned beside it holds what could be read (the names of a
// link, the component of a member), so that a caller can first say that a
// name is unknown.
type TargetError struct {
	Target  string // as written
	Pos     int    // byte offset in Target
	Problem TargetProblem
}

func (e *TargetError) Error() string {
	s := strings.TrimSpace(e.Target)
	switch e.Problem {
	case TargetEmpty:
		return "target is empty"
	case TargetLinkEnd:
		return fmt.Sprintf("link %q needs a caller and a callee", s)
	case TargetLinkOperation:
		return fmt.Sprintf("link %q names an operation: a link joins two components", s)
	case TargetMemberNumber:
		name, num, _ := strings.Cut(s, "#")
		return fmt.Sprintf("invalid member number %q in %q: write %s#n, n a whole number from 1",
			strings.TrimSpace(num), s, strings.TrimSpace(name))
	}
	return fmt.Sprintf("target %q needs a service before the dot and an operation after it", s)
}

// ParseTarget reads a fault target.
func ParseTarget(s string) (Target, error) {
	fail := func(t Target, pos int, p TargetProblem) (Target, error) {
		return t, &TargetError{Target: s, Pos: pos, Problem: p}
	}
	if strings.TrimSpace(s) == "" {
		return fail(Target{}, 0, TargetEmpty)
	}
	if i := strings.Index(s, "->"); i >= 0 {
		from, to := strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+2:])
		t := Target{Form: TargetLink, Caller: from, Name: to}
		switch {
		case from == "":
			return fail(t, 0, TargetLinkEnd)
		case to == "":
			return fail(t, i+2, TargetLinkEnd)
		case strings.Contains(from, "."):
			return fail(t, strings.Index(s, "."), TargetLinkOperation)
		case strings.Contains(to, "."):
			return fail(t, i+2+strings.Index(s[i+2:], "."), TargetLinkOperation)
		}
		return t, nil
	}
	if i := strings.Index(s, "#"); i >= 0 {
		t := Target{Form: TargetMember, Name: strings.TrimSpace(s[:i])}
		n, err := strconv.Atoi(strings.TrimSpace(s[i+1:]))
		if err != nil {
			return fail(t, i+1, TargetMemberNumber)
		}
		t.Member = n
		return t, nil
	}
	if i := strings.Index(s, "."); i >= 0 {
		t := Target{Form: TargetOperation, Name: strings.TrimSpace(s[:i]), Op: strings.TrimSpace(s[i+1:])}
		switch {
		case t.Name == "":
			return fail(t, 0, TargetOperationPart)
		case t.Op == "":
			return fail(t, i+1, TargetOperationPart)
		}
		return t, nil
	}
	return Target{Form: TargetName, Name: strings.TrimSpace(s)}, nil
}
