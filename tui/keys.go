package tui

import (
	"slices"
	"strings"

	"github.com/faultline/faultline/sim"
	"github.com/gdamore/tcell/v2"
)

// context says where a binding applies. Dispatch, the header hints and the
// help overlay all read the same table, so they cannot disagree.
type context uint8

const (
	ctxMain    context = iota // the main screen, whatever has focus
	ctxTable                  // the main screen with the component table focused
	ctxEvents                 // the main screen with the event log focused
	ctxPrompt                 // typing a : command or a / filter
	ctxHelp                   // the ? overlay
	ctxCommand                // the : commands, by name
)

var contextNames = [...]string{"main screen", "component table", "event log", "command line and filter", "help", "commands (after :)"}

// key is one keystroke: a special key, or a rune when code is KeyRune.
type key struct {
	code tcell.Key
	r    rune
}

func runeKey(r rune) key { return key{code: tcell.KeyRune, r: r} }

func (k key) matches(ev *tcell.EventKey) bool {
	if ev.Key() != k.code {
		return false
	}
	return k.code != tcell.KeyRune || ev.Rune() == k.r
}

// binding is one row of the registry: a key in a context, or a : command
// (ctxCommand), which has names instead of keys.
type binding struct {
	keys  []key  // the first is the one shown
	label string // how help and hints spell the keys
	help  string // what it does, for ? and the hints
	ctx   context
	hint  string // its word in the header's hint line; "" keeps it out
	// hintLabel, when set, replaces label in the hint line, so that one
	// hint can stand for a pair of keys (+/- speed).
	hintLabel string
	run       func(u *UI)

	// A : command: its names (the first is shown and completed), its
	// arguments as help and usage spell them, an example that help shows
	// whole, how it reads its arguments, and what Tab offers for the
	// argument being typed (args holds those before it, and it).
	names    []string
	args     string
	example  string
	parse    func(args []string, spec *sim.Spec) (parsed, error)
	complete func(spec *sim.Spec, args []string) []string
}

// syntax is a command's name and arguments, as help writes them.
func (b *binding) syntax() string {
	return strings.TrimSpace(b.names[0] + " " + b.args)
}

// registry returns the key table. Order matters: it is the order of the help
// overlay and of the hints.
func registry() []binding {
	return []binding{
		{keys: []key{runeKey(' ')}, label: "space", help: "pause / resume", ctx: ctxMain, hint: "pause",
			run: func(u *UI) { u.send(command{kind: cmdPause}) }},
		{keys: []key{runeKey('+'), runeKey('=')}, label: "+", help: "faster (1x 10x 100x max)", ctx: ctxMain, hint: "speed", hintLabel: "+/-",
			run: func(u *UI) { u.send(command{kind: cmdFaster}) }},
		{keys: []key{runeKey('-'), runeKey('_')}, label: "-", help: "slower", ctx: ctxMain,
			run: func(u *UI) { u.send(command{kind: cmdSlower}) }},
		{keys: []key{runeKey('.')}, label: ".", help: "step one window while paused", ctx: ctxMain, hint: "step",
			run: func(u *UI) { u.send(command{kind: cmdStep}) }},
		{keys: []key{runeKey('r')}, label: "r", help: "restart, same seed", ctx: ctxMain,
			run: func(u *UI) { u.send(command{kind: cmdRestart, seed: u.frame.Seed}) }},
		{keys: []key{runeKey('R')}, label: "R", help: "restart with a new seed", ctx: ctxMain,
			run: func(u *UI) { u.send(command{kind: cmdRestart, seed: u.newSeed()}) }},
		{keys: []key{runeKey(':')}, label: ":", help: "command line (Tab completes, ↑ ↓ history)", ctx: ctxMain, hint: "cmd",
			run: func(u *UI) { u.openPrompt(':') }},
		{keys: []key{runeKey('/')}, label: "/", help: "filter the component table", ctx: ctxMain, hint: "filter",
			run: func(u *UI) { u.openPrompt('/') }},
		{keys: []key{runeKey('t')}, label: "t", help: "topology view on / off", ctx: ctxMain, hint: "topology",
			run: func(u *UI) { u.topoOnly = !u.topoOnly }},
		{keys: []key{{code: tcell.KeyTab}, {code: tcell.KeyBacktab}}, label: "Tab", help: "focus the table / the event log", ctx: ctxMain,
			run: func(u *UI) { u.cycleFocus() }},
		{keys: []key{{code: tcell.KeyEscape}}, label: "Esc", help: "clear the filter", ctx: ctxMain,
			run: func(u *UI) { u.clearFilter() }},
		{keys: []key{runeKey('?')}, label: "?", help: "help", ctx: ctxMain, hint: "help",
			run: func(u *UI) { u.help = true }},
		{keys: []key{runeKey('q'), {code: tcell.KeyCtrlC}}, label: "q", help: "quit", ctx: ctxMain, hint: "quit",
			run: func(u *UI) { u.quit() }},

		{keys: []key{{code: tcell.KeyUp}, runeKey('k')}, label: "↑ k", help: "select the previous component", ctx: ctxTable,
			run: func(u *UI) { u.moveSelection(-1) }},
		{keys: []key{{code: tcell.KeyDown}, runeKey('j')}, label: "↓ j", help: "select the next component", ctx: ctxTable,
			run: func(u *UI) { u.moveSelection(1) }},
		{keys: []key{runeKey('N')}, label: "N", help: "sort by name (again: reverse)", ctx: ctxTable,
			run: func(u *UI) { u.sortBy(sortName) }},
		{keys: []key{runeKey('T')}, label: "T", help: "sort by rate (throughput)", ctx: ctxTable,
			run: func(u *UI) { u.sortBy(sortRate) }},
		{keys: []key{runeKey('E')}, label: "E", help: "sort by error %", ctx: ctxTable,
			run: func(u *UI) { u.sortBy(sortErrors) }},
		{keys: []key{runeKey('P')}, label: "P", help: "sort by p99", ctx: ctxTable,
			run: func(u *UI) { u.sortBy(sortP99) }},
		{keys: []key{runeKey('U')}, label: "U", help: "sort by utilisation", ctx: ctxTable,
			run: func(u *UI) { u.sortBy(sortUtil) }},
		{keys: []key{runeKey('O')}, label: "O", help: "scenario order", ctx: ctxTable,
			run: func(u *UI) { u.sortBy(sortNone) }},

		{keys: []key{{code: tcell.KeyUp}, runeKey('k')}, label: "↑ k", help: "scroll up (older events)", ctx: ctxEvents,
			run: func(u *UI) { u.scrollEvents(1) }},
		{keys: []key{{code: tcell.KeyDown}, runeKey('j')}, label: "↓ j", help: "scroll down (newer events)", ctx: ctxEvents,
			run: func(u *UI) { u.scrollEvents(-1) }},
		{keys: []key{{code: tcell.KeyEnd}, runeKey('G')}, label: "End G", help: "follow the newest events", ctx: ctxEvents,
			run: func(u *UI) { u.evScroll = 0 }},

		{keys: []key{{code: tcell.KeyEnter}}, label: "Enter", help: "run the command / keep the filter", ctx: ctxPrompt,
			run: func(u *UI) { u.submitPrompt() }},
		{keys: []key{{code: tcell.KeyTab}}, label: "Tab", help: "complete a command, fault kind or name", ctx: ctxPrompt,
			run: func(u *UI) { u.completePrompt() }},
		{keys: []key{{code: tcell.KeyUp}}, label: "↑", help: "the previous line typed", ctx: ctxPrompt,
			run: func(u *UI) { u.historyMove(-1) }},
		{keys: []key{{code: tcell.KeyDown}}, label: "↓", help: "the next line typed", ctx: ctxPrompt,
			run: func(u *UI) { u.historyMove(1) }},
		{keys: []key{{code: tcell.KeyEscape}}, label: "Esc", help: "cancel", ctx: ctxPrompt,
			run: func(u *UI) { u.cancelPrompt() }},
		{keys: []key{{code: tcell.KeyCtrlC}}, label: "Ctrl-C", help: "quit", ctx: ctxPrompt,
			run: func(u *UI) { u.quit() }},

		{keys: []key{{code: tcell.KeyEscape}, runeKey('?'), runeKey('q')}, label: "Esc ? q", help: "close help", ctx: ctxHelp,
			run: func(u *UI) { u.help, u.helpPage = false, 0 }},
		{keys: []key{runeKey(' '), {code: tcell.KeyPgDn}, {code: tcell.KeyDown}}, label: "space", help: "next page of help", ctx: ctxHelp,
			run: func(u *UI) { u.helpPage++ }},
		{keys: []key{{code: tcell.KeyPgUp}, {code: tcell.KeyUp}}, label: "PgUp", help: "previous page", ctx: ctxHelp,
			run: func(u *UI) { u.helpPage = max(0, u.helpPage-1) }},
		{keys: []key{{code: tcell.KeyCtrlC}}, label: "Ctrl-C", help: "quit", ctx: ctxHelp,
			run: func(u *UI) { u.quit() }},

		{names: []string{"fault", "f"}, args: "KIND TARGET [VALUE] [DURATION]", help: "inject a fault now (kinds below)", ctx: ctxCommand,
			example: "fault crash payment#1 10s", parse: parseFaultCmd, complete: completeFault},
		{names: []string{"goto", "g"}, args: "TIME", help: "re-run from 0 to TIME, a duration as on the command line, then pause", ctx: ctxCommand,
			example: "goto 1m30s", parse: parseGoto},
		{names: []string{"seed"}, args: "N", help: "restart with seed N", ctx: ctxCommand,
			example: "seed 7", parse: parseSeed},
		{names: []string{"speed"}, args: "SPEED", help: "set the speed: " + SpeedHelp, ctx: ctxCommand,
			example: "speed 10", parse: parseSpeedCmd},
		{names: []string{"help", "h"}, help: "this overlay", ctx: ctxCommand, example: "help",
			parse: func([]string, *sim.Spec) (parsed, error) { return parsed{help: true}, nil }},
		{names: []string{"q", "quit", "q!", "exit"}, help: "quit", ctx: ctxCommand, example: "q",
			parse: func([]string, *sim.Spec) (parsed, error) { return parsed{quit: true}, nil }},
	}
}

// findCommand finds the : command called name.
func findCommand(reg []binding, name string) *binding {
	for i := range reg {
		if reg[i].ctx == ctxCommand && slices.Contains(reg[i].names, name) {
			return &reg[i]
		}
	}
	return nil
}

// lookup finds the binding of ev in the first of ctxs that has one.
func lookup(reg []binding, ev *tcell.EventKey, ctxs ...context) *binding {
	for _, c := range ctxs {
		for i := range reg {
			if reg[i].ctx != c {
				continue
			}
			for _, k := range reg[i].keys {
				if k.matches(ev) {
					return &reg[i]
				}
			}
		}
	}
	return nil
}

// hints is the header's hint line, from the bindings that have a hint, in
// registry order, as many as fit in width. The help key always gets a place:
// the overlay it opens lists everything else.
func hints(reg []binding, width int) string {
	var items []string
	helpItem := ""
	for _, k := range reg {
		if k.hint == "" {
			continue
		}
		label := k.label
		if k.hintLabel != "" {
			label = k.hintLabel
		}
		item := "<" + label + ">" + k.hint
		if k.run != nil && k.label == "?" {
			helpItem = item
		}
		items = append(items, item)
	}
	used := len([]rune(helpItem))
	var out []string
	for _, it := range items {
		if it == helpItem {
			out = append(out, it)
			continue
		}
		if n := len([]rune(it)) + 1; used+n <= width {
			out = append(out, it)
			used += n
		}
	}
	return strings.Join(out, " ")
}
