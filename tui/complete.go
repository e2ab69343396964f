package tui

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/faultline/faultline/sim"
)

// Tab completion of the : command line: command names from the registry,
// fault kinds from sim's list, and targets in sim.ParseTarget's grammar
// (name, name#N, service.operation, caller->callee) that checkTarget
// accepts for the kind typed, so that Tab never offers what Enter refuses.

// completions returns the candidates for the last word of line (which may
// be empty, after a space) and where that word starts.
func completions(reg []binding, spec *sim.Spec, line string) (cands []string, start int) {
	args := fields(line)
	start = len(line)
	if strings.HasSuffix(line, " ") || len(args) == 0 {
		args = append(args, "")
	} else {
		start = len(line) - len(args[len(args)-1])
	}
	word := args[len(args)-1]
	var all []string
	if len(args) == 1 {
		for _, b := range reg {
			if b.ctx == ctxCommand {
				all = append(all, b.names[0])
			}
		}
	} else if b := findCommand(reg, args[0]); b != nil && b.complete != nil {
		all = b.complete(spec, args[1:])
	}
	for _, c := range all {
		if strings.HasPrefix(c, word) {
			cands = append(cands, c)
		}
	}
	return cands, start
}

// completeFault offers fault kinds, then the targets the kind can take;
// the sides of a partition are comma-separated lists of components.
func completeFault(spec *sim.Spec, args []string) []string {
	if len(args) == 1 {
		return sim.FaultKinds()
	}
	kind, ok := faultKind(args[0])
	if !ok {
		return nil
	}
	switch {
	case kind == sim.FaultPartition && len(args) <= 3:
		// The word is a list: complete its last element.
		word := args[len(args)-1]
		head := ""
		if i := strings.LastIndexByte(word, ','); i >= 0 {
			head = word[:i+1]
		}
		var out []string
		for _, t := range targets(spec) {
			if isComponent(spec, t) {
				out = append(out, head+t)
			}
		}
		return out
	case len(args) == 2:
		var out []string
		for _, t := range targets(spec) {
			if checkTarget(spec, kind, t) == nil {
				out = append(out, t)
			}
		}
		return out
	}
	return nil
}

// targets lists every target the scenario has, in each of sim's target
// forms: clients, services, their instances and operations, the calls
// between them, brokers and their nodes, topics, stores and their
// replicas, views.
func targets(spec *sim.Spec) []string {
	var out []string
	member := func(name string, n int) {
		out = append(out, name)
		for i := 1; i <= n; i++ {
			out = append(out, sim.Target{Form: sim.TargetMember, Name: name, Member: i}.String())
		}
	}
	for _, c := range spec.Clients {
		out = append(out, c.Name, sim.Target{Form: sim.TargetLink, Caller: c.Name, Name: c.Target}.String())
	}
	for _, s := range spec.Services {
		member(s.Name, s.Instances)
		for _, o := range s.Operations {
			out = append(out, sim.Target{Form: sim.TargetOperation, Name: s.Name, Op: o.Name}.String())
		}
		for _, c := range s.AllCalls() {
			out = append(out, sim.Target{Form: sim.TargetLink, Caller: s.Name, Name: c.To}.String())
		}
	}
	for _, b := range spec.Brokers {
		member(b.Name, b.Nodes)
		for _, t := range b.Topics {
			out = append(out, t.Name)
		}
	}
	for _, st := range spec.Stores {
		member(st.Name, st.Replicas)
	}
	for _, v := range spec.Views {
		out = append(out, v.Name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// completePrompt is Tab on the command line: the word is completed as far
// as the candidates agree, with a space after a unique one; when they
// differ the status line lists them.
func (u *UI) completePrompt() {
	if u.prompt != ':' {
		return
	}
	line := string(u.input)
	cands, start := completions(u.reg, u.spec, line)
	if len(cands) == 0 {
		u.choices = "nothing to complete here"
		return
	}
	common := cands[0]
	for _, c := range cands[1:] {
		for !strings.HasPrefix(c, common) {
			_, n := utf8.DecodeLastRuneInString(common)
			common = common[:len(common)-n]
		}
	}
	line = line[:start] + common
	if len(cands) == 1 && !strings.HasSuffix(common, ",") {
		line += " "
		u.choices = ""
	} else {
		u.choices = strconv.Itoa(len(cands)) + " choices: " + strings.Join(cands, " ")
	}
	u.input = []rune(line)
}
