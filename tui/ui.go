package tui

import (
	"slices"
	"strings"

	"github.com/faultline/faultline/sim"
	"github.com/gdamore/tcell/v2"
)

// UI is the view and its state. It lives on the UI goroutine (tview's event
// loop): frames arrive through apply, keys through key, and draw paints the
// screen. It never waits on the engine: commands go out through send, which
// does not block.
type UI struct {
	name    string // the scenario, as the user named it
	spec    *sim.Spec
	reg     []binding
	th      theme
	send    func(command)
	quit    func()
	newSeed func() uint64

	frame Frame
	rows  []row          // every component, scenario order
	data  map[string]row // topics, stores and views, for the topology
	cons  []consLine     // the consistency pane
	view  []row          // filtered and sorted: what the table shows
	spans []sim.FaultSpan

	selected string // by name, so that it survives sorting and filtering
	sort     sortKey
	reverse  bool
	filter   string
	focus    context // ctxTable or ctxEvents
	evScroll int     // events scrolled back from the newest
	help     bool
	helpPage int  // the page of help shown when it does not fit
	prompt   rune // ':' or '/' while typing, else 0
	input    []rune
	choices  string // what Tab found, shown above the prompt
	// history holds the lines submitted at each prompt, oldest first;
	// histPos is the one shown while moving through it (len = the line
	// being typed, kept in draft).
	history  map[rune][]string
	histPos  int
	draft    string
	status   note
	topoOnly bool
	topos    map[topoKind]*topology
}

// topoKind is a layout variant; layouts are computed once per variant.
type topoKind struct {
	detailed, markers bool
	width             int // the pane's width: a layout spreads to fill it
}

func newUI(name string, spec *sim.Spec, noColor bool) *UI {
	return &UI{
		name: name, spec: spec, reg: registry(), th: theme{noColor: noColor},
		focus: ctxTable, topos: map[topoKind]*topology{}, history: map[rune][]string{},
		send: func(command) {}, quit: func() {}, newSeed: func() uint64 { return 1 },
	}
}

// apply takes a new frame from the engine.
func (u *UI) apply(f Frame) {
	u.frame = f
	u.rows = rows(&f)
	u.data = dataRows(&f)
	u.cons = consistency(&f)
	if f.Snap.Result != nil {
		u.spans = f.Snap.Result.Faults
	}
	for _, n := range f.Notes {
		u.status = n
	}
	if f.Err != nil {
		u.status = note{text: "the run stopped: " + f.Err.Error(), err: true}
	}
	u.refreshView()
}

// refreshView filters and sorts the rows, and keeps a valid selection.
func (u *UI) refreshView() {
	u.view = u.view[:0]
	for _, r := range u.rows {
		if u.filter == "" || strings.Contains(strings.ToLower(r.name), strings.ToLower(u.filter)) {
			u.view = append(u.view, r)
		}
	}
	sortRows(u.view, u.sort, u.reverse)
	if len(u.view) > 0 && u.selectedIndex() < 0 {
		u.selected = u.view[0].name
	}
}

func (u *UI) selectedIndex() int {
	return slices.IndexFunc(u.view, func(r row) bool { return r.name == u.selected })
}

func (u *UI) selectedRow() (row, bool) {
	if i := u.selectedIndex(); i >= 0 {
		return u.view[i], true
	}
	return row{}, false
}

// key dispatches one keystroke through the registry.
func (u *UI) key(ev *tcell.EventKey) {
	switch {
	case u.prompt != 0:
		if b := lookup(u.reg, ev, ctxPrompt); b != nil {
			b.run(u)
			return
		}
		u.edit(ev)
	case u.help:
		if b := lookup(u.reg, ev, ctxHelp); b != nil {
			b.run(u)
		}
	default:
		if b := lookup(u.reg, ev, u.focus, ctxMain); b != nil {
			b.run(u)
		}
	}
}

func (u *UI) moveSelection(d int) {
	if len(u.view) == 0 {
		return
	}
	i := max(0, min(len(u.view)-1, u.selectedIndex()+d))
	u.selected = u.view[i].name
}

func (u *UI) sortBy(k sortKey) {
	if u.sort == k {
		u.reverse = !u.reverse
	} else {
		u.sort, u.reverse = k, false
	}
	u.refreshView()
}

func (u *UI) cycleFocus() {
	if u.focus == ctxTable {
		u.focus = ctxEvents
	} else {
		u.focus = ctxTable
	}
}

func (u *UI) scrollEvents(d int) {
	n := 0
	if u.frame.Snap.Result != nil {
		n = len(u.frame.Snap.Result.Events)
	}
	u.evScroll = max(0, min(n-1, u.evScroll+d))
}

func (u *UI) clearFilter() {
	if u.filter != "" {
		u.filter = ""
		u.refreshView()
		u.status = note{text: "filter cleared"}
	}
}

func (u *UI) openPrompt(kind rune) {
	u.prompt = kind
	u.input = u.input[:0]
	u.choices = ""
	u.histPos = len(u.history[kind])
	if kind == '/' {
		u.input = append(u.input, []rune(u.filter)...)
	}
}

func (u *UI) cancelPrompt() {
	if u.prompt == '/' {
		u.filter = ""
		u.refreshView()
	}
	u.prompt = 0
	u.input = u.input[:0]
	u.choices = ""
}

// historyMove shows the line d steps back (-1) or forward (1) in the
// prompt's history, as a shell does; past the newest is the line that was
// being typed.
func (u *UI) historyMove(d int) {
	h := u.history[u.prompt]
	i := u.histPos + d
	if i < 0 || i > len(h) {
		return
	}
	if u.histPos == len(h) {
		u.draft = string(u.input)
	}
	u.histPos = i
	if i == len(h) {
		u.input = []rune(u.draft)
	} else {
		u.input = []rune(h[i])
	}
	u.choices = ""
	if u.prompt == '/' {
		u.filter = strings.TrimSpace(string(u.input))
		u.refreshView()
	}
}

func (u *UI) submitPrompt() {
	kind, text := u.prompt, strings.TrimSpace(string(u.input))
	u.prompt = 0
	u.input = u.input[:0]
	u.choices = ""
	if h := u.history[kind]; text != "" && (len(h) == 0 || h[len(h)-1] != text) {
		u.history[kind] = append(h, text)
	}
	if kind == '/' {
		u.filter = text
		u.refreshView()
		if text != "" {
			u.status = note{text: "filter: " + text + " (Esc clears)"}
		}
		return
	}
	u.runCommand(text)
}

// edit is a minimal line editor for the prompt.
func (u *UI) edit(ev *tcell.EventKey) {
	switch ev.Key() {
	case tcell.KeyRune:
		u.input = append(u.input, ev.Rune())
	case tcell.KeyBackspace, tcell.KeyBackspace2:
		if len(u.input) == 0 {
			u.cancelPrompt()
			return
		}
		u.input = u.input[:len(u.input)-1]
	case tcell.KeyCtrlU:
		u.input = u.input[:0]
	case tcell.KeyCtrlW:
		s := strings.TrimRight(string(u.input), " ")
		if i := strings.LastIndex(s, " "); i >= 0 {
			u.input = []rune(s[:i+1])
		} else {
			u.input = u.input[:0]
		}
	default:
		return
	}
	u.choices = ""
	if u.prompt == '/' {
		// The filter follows the typing.
		u.filter = strings.TrimSpace(string(u.input))
		u.refreshView()
	}
}

// runCommand parses and carries out a : command.
func (u *UI) runCommand(text string) {
	if text == "" {
		return
	}
	c, err := parseCommand(text, u.spec)
	if err != nil {
		u.status = note{text: err.Error(), err: true}
		return
	}
	switch {
	case c.quit:
		u.quit()
	case c.help:
		u.help = true
	default:
		u.send(c.cmd)
	}
}

// topology returns the layout for the pane size, detailed when it fits.
func (u *UI) topology(w, h int) *topology {
	for _, detailed := range []bool{true, false} {
		k := topoKind{detailed: detailed, markers: u.th.noColor, width: w}
		t, ok := u.topos[k]
		if !ok {
			t = newTopology(u.spec, detailed, k.markers)
			t.widen(w - t.width)
			u.topos[k] = t
		}
		if t.width <= w && t.height <= h || !detailed {
			return t
		}
	}
	return nil // not reached: the compact layout is always returned
}
