package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/internal/format"
	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/resilience"
	"github.com/gdamore/tcell/v2"
)

// The smallest terminal the layout is designed for.
const minW, minH = 80, 24

// largeW and largeH are where the table and the detail pane go side by side
// and the topology gets a pane of its own.
const largeW, largeH = 120, 36

// sparkWindows is how many windows the detail pane plots at most.
const sparkWindows = 60

// draw paints the whole screen from the UI state. It reads only the current
// frame, so it costs the same whether the engine runs or not.
func (u *UI) draw(s tcell.Screen) {
	w, h := s.Size()
	c := canvas{s: s, w: w, h: h}
	c.fill(u.th.plain())
	s.HideCursor()
	if w < minW || h < minH {
		u.drawTooSmall(c)
		return
	}
	u.drawHeader(c.sub(0, 0, w, 2))
	body := c.sub(0, 2, w, h-3)
	u.drawBody(body)
	u.drawStatus(c.sub(0, h-1, w, 1))
	if u.help {
		u.drawHelp(body)
	}
}

func (u *UI) drawTooSmall(c canvas) {
	msg := []string{
		"faultline needs a terminal of at least 80x24",
		fmt.Sprintf("this one is %dx%d: enlarge it, or press q to quit", c.w, c.h),
	}
	y := max(0, c.h/2-1)
	for i, m := range msg {
		m = clip(m, c.w)
		c.text(max(0, (c.w-len([]rune(m)))/2), y+i, m, u.th.bold())
	}
}

func (u *UI) drawHeader(c canvas) {
	f := &u.frame
	x := c.text(0, 0, " faultline ", u.th.bold())
	x = c.text(x, 0, u.name, u.th.bold())
	state, st := "▶ running", u.th.fg(colHealthy)
	switch {
	case f.Snap.Done:
		state, st = "■ done", u.th.dim()
	case f.Paused:
		state, st = "❚❚ paused", u.th.fg(colDegraded)
	}
	parts := []struct {
		s  string
		st tcell.Style
	}{
		{seconds(f.Snap.Now) + "/" + strconv.FormatFloat(f.Snap.Duration.Seconds(), 'g', -1, 64) + "s", u.th.plain()},
		{state, st},
		{"speed " + speedName(f.Speed), u.th.plain()},
		{"seed " + strconv.FormatUint(f.Seed, 10), u.th.plain()},
	}
	n := activeFaults(u.spans)
	fs := u.th.plain()
	if n > 0 {
		fs = u.th.fg(colFault)
	}
	parts = append(parts, struct {
		s  string
		st tcell.Style
	}{fmt.Sprintf("faults active: %d", n), fs})
	// At 80 columns a long scenario name leaves no room for all of it:
	// shorter words, the same facts.
	width := x
	for _, p := range parts {
		width += 2 + len([]rune(p.s))
	}
	if width > c.w {
		parts[2].s = strings.TrimPrefix(parts[2].s, "speed ")
		parts[len(parts)-1].s = fmt.Sprintf("faults %d", n)
		width -= len("speed ") + len("active: ")
	}
	if width > c.w {
		// Still too long: the seed is the least urgent of them.
		width -= 2 + len([]rune(parts[3].s))
		parts = append(parts[:3], parts[4:]...)
	}
	for _, p := range parts {
		x = c.text(x, 0, "  ", u.th.plain())
		x = c.text(x, 0, p.s, p.st)
	}
	c.textMax(1, 1, c.w-1, hints(u.reg, c.w-1), u.th.dim())
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
}

func (u *UI) drawStatus(c canvas) {
	if u.prompt != 0 {
		if u.choices != "" && c.y > 0 {
			// What Tab found, over the line above the prompt.
			above := canvas{s: c.s, x: c.x, y: c.y - 1, w: c.w, h: 1}
			above.fill(u.th.reverse())
			above.textMax(0, 0, c.w, u.choices, u.th.reverse())
		}
		text := string(u.prompt) + string(u.input)
		// Keep the end of a long line in view: it is where the typing is.
		if r := []rune(text); len(r) > c.w-1 {
			text = string(r[len(r)-(c.w-1):])
		}
		x := c.text(0, 0, text, u.th.bold())
		c.s.ShowCursor(c.x+x, c.y)
		return
	}
	if u.status.text == "" {
		return
	}
	if u.status.err {
		c.textMax(0, 0, c.w, "error: "+u.status.text, u.th.fg(colFailing))
		return
	}
	c.textMax(0, 0, c.w, u.status.text, u.th.plain())
}

// rule is a pane's title line; the focused pane's is heavy, so that focus
// shows without colour too.
func (u *UI) rule(c canvas, title string, focused bool) {
	ch, st := '─', u.th.dim()
	if focused {
		ch, st = '━', u.th.bold()
	}
	for x := 0; x < c.w; x++ {
		c.put(x, 0, ch, st)
	}
	c.textMax(2, 0, c.w-4, " "+title+" ", st)
}

// drawBody lays out the panes. Below largeW x largeH the table, the detail
// pane and the event log stack up, and the topology is a view of its own
// (t); above it the table and the detail pane sit side by side over the
// topology.
func (u *UI) drawBody(c canvas) {
	detailH := 1 + u.detailRows()
	tableH := 2 + max(1, len(u.view))
	const minEvents = 4
	large := c.w >= largeW && c.h+3 >= largeH
	consH := u.consHeight()
	switch {
	case u.topoOnly:
		evH := max(minEvents, c.h/4)
		consH = min(consH, c.h/4)
		u.drawTopology(c.sub(0, 0, c.w, c.h-evH-consH))
		u.drawConsistency(c.sub(0, c.h-evH-consH, c.w, consH))
		u.drawEvents(c.sub(0, c.h-evH, c.w, evH))
	case large:
		tw := u.tableWidth()
		topH := min(max(tableH, detailH), c.h/2)
		u.drawTable(c.sub(0, 0, tw, topH))
		u.drawDetail(c.sub(tw+1, 0, c.w-tw-1, topH))
		rest := c.h - topH
		// The event log keeps a third of what is left: the cascade is
		// told there.
		evMin := max(minEvents, rest/3)
		consH = min(consH, max(0, rest-evMin-3))
		t := u.topology(c.w, rest-1-evMin-consH)
		topoH := max(0, min(t.height+1, rest-evMin-consH))
		u.drawTopology(c.sub(0, topH, c.w, topoH))
		u.drawConsistency(c.sub(0, topH+topoH, c.w, consH))
		u.drawEvents(c.sub(0, topH+topoH+consH, c.w, rest-topoH-consH))
	default:
		detailH = min(detailH, 1+5+whyRows+smallEdgeRows)
		// The consistency pane takes what the table can spare, down to
		// its title and two lines; the table keeps room for three rows.
		if consH > 0 {
			consH = min(consH, max(3, c.h-detailH-minEvents-min(tableH, 5)))
		}
		tableH = min(tableH, c.h-detailH-minEvents-consH)
		u.drawTable(c.sub(0, 0, c.w, tableH))
		u.drawDetail(c.sub(0, tableH, c.w, detailH))
		u.drawConsistency(c.sub(0, tableH+detailH, c.w, consH))
		u.drawEvents(c.sub(0, tableH+detailH+consH, c.w, c.h-tableH-detailH-consH))
	}
}

// The component table's columns.
type column struct {
	title string
	width int
	key   sortKey // the sort this column answers to, if any
}

func (u *UI) columns() []column {
	nameW := 4
	for _, r := range u.rows {
		nameW = max(nameW, len([]rune(r.name)))
	}
	return []column{
		{"NAME", min(nameW, 16), sortName},
		{"KIND", 7, sortNone},
		{"RATE/s", 7, sortRate},
		{"ERR%", 6, sortErrors},
		{"P50ms", 6, sortNone},
		{"P99ms", 6, sortP99},
		{"QUEUE", 5, sortNone},
		{"UTIL", 5, sortUtil},
		{"UP", 5, sortNone},
		{"BREAKER", 9, sortNone},
	}
}

func (u *UI) tableWidth() int {
	w := 2 // the health marker and a space
	for _, col := range u.columns() {
		w += col.width + 1
	}
	return w
}

func (u *UI) drawTable(c canvas) {
	title := "components"
	if u.sort != sortNone {
		title += " · sorted by " + sortNames[u.sort]
		if u.reverse {
			title += " (reversed)"
		}
	}
	if u.filter != "" {
		title += fmt.Sprintf(" · filter %q: %d of %d", u.filter, len(u.view), len(u.rows))
	}
	u.rule(c, title, u.focus == ctxTable)
	cols := u.columns()
	x := 2
	for i, col := range cols {
		t := col.title
		if col.key != sortNone && col.key == u.sort {
			if u.reverse == (col.key == sortName) {
				t += "↓"
			} else {
				t += "↑"
			}
		}
		if i == 0 {
			t = pad(t, -col.width)
		} else {
			t = pad(t, col.width)
		}
		x = c.text(x, 1, t+" ", u.th.bold())
	}
	if len(u.view) == 0 {
		msg := "no components"
		if u.filter != "" {
			msg = fmt.Sprintf("nothing matches %q: Esc clears the filter", u.filter)
		}
		c.textMax(2, 2, c.w-2, msg, u.th.dim())
		return
	}
	// Scroll so that the selection stays in view.
	visible := c.h - 2
	first := 0
	if sel := u.selectedIndex(); sel >= visible {
		first = sel - visible + 1
	}
	for i := first; i < len(u.view) && i-first < visible; i++ {
		r := &u.view[i]
		y := 2 + i - first
		hs := u.th.health(r.health, r.idle)
		st := u.th.plain()
		if r.name == u.selected {
			st = u.th.reverse()
			for x := 0; x < c.w; x++ {
				c.put(x, y, ' ', st)
			}
		}
		c.put(0, y, u.th.marker(r.health, r.idle), hs.Reverse(r.name == u.selected))
		x := 2
		for k, cell := range u.cells(r) {
			if k == 0 {
				cell = pad(clip(cell, cols[k].width), -cols[k].width)
			} else {
				cell = pad(clip(cell, cols[k].width), cols[k].width)
			}
			cs := st
			if k == 0 || k == 3 {
				cs = hs.Reverse(r.name == u.selected)
			}
			x = c.text(x, y, cell+" ", cs)
		}
	}
}

var sortNames = map[sortKey]string{sortName: "name", sortRate: "rate", sortErrors: "error %", sortP99: "p99", sortUtil: "utilisation"}

// cells formats a row for the table.
func (u *UI) cells(r *row) []string {
	dash := "-"
	lat := func(x float64) string {
		if r.ok == 0 {
			return dash // no success to time
		}
		return ms(x)
	}
	q, ut, up := dash, dash, dash
	if r.queue >= 0 {
		q = queueLen(r.queue)
		ut = strconv.FormatFloat(r.util*100, 'f', 0, 64) + "%"
	}
	if r.total > 0 {
		up = fmt.Sprintf("%d/%d", r.up, r.total) // instances, or a broker's nodes
	}
	br := dash
	if r.hasBreaker {
		br = r.breaker.String()
	}
	errs := pct(r.errShare)
	if r.idle || r.series < 0 {
		errs = dash // nothing answered, or a broker: no requests of its own
	}
	return []string{r.name, r.kind, rate(r.rate), errs, lat(r.p50), lat(r.p99), q, ut, up, br}
}

// detailRows is the height of the detail pane without its rule: the
// plots, the why lines and a row for each edge it lists.
func (u *UI) detailRows() int {
	return 5 + whyRows + len(u.detailEdges())
}

// smallEdgeRows is how many edge rows the detail pane keeps when it sits
// above the others (a small screen): the last one lists the edges left.
const smallEdgeRows = 2

// detailEdges are the edges the detail pane lists: first those with a
// breaker that the selection calls or is called through, then the
// selection's other calls that have been made.
func (u *UI) detailEdges() []sim.EdgeResult {
	res := u.frame.Snap.Result
	if res == nil {
		return nil
	}
	var out, calls []sim.EdgeResult
	for _, e := range res.Edges {
		// Whichever operation calls or is called.
		from, to := e.ID.Caller, e.ID.Callee
		switch {
		case e.Breaker != "" && (from == u.selected || to == u.selected):
			out = append(out, e)
		case from == u.selected && len(e.Series) > 0:
			calls = append(calls, e)
		}
	}
	return append(out, calls...)
}

// callLatency is an edge's latency in its last window, as the caller saw
// its calls: p50 and p99 of those that succeeded, and with all the p99 of
// every call that ended.
func callLatency(e *sim.EdgeResult, all bool) string {
	if len(e.Series) == 0 || e.Series[len(e.Series)-1].LatencyAll.Count == 0 {
		return "p50 - p99 -"
	}
	w := e.Series[len(e.Series)-1]
	s := fmt.Sprintf("p50 %s p99 %sms", ms(w.Latency.P50), ms(w.Latency.P99))
	if all {
		s += fmt.Sprintf(" · all p99 %sms", ms(w.LatencyAll.P99))
	}
	return s
}

// drawCallRow is a call of the selection without a breaker: its latency
// as the caller saw it.
func (u *UI) drawCallRow(c canvas, e *sim.EdgeResult) {
	x := c.text(0, 0, "→ "+e.Name+" ", u.th.bold())
	c.textMax(x, 0, c.w-x, "│ "+callLatency(e, true), u.th.plain())
}

func (u *UI) drawDetail(c canvas) {
	r, ok := u.selectedRow()
	res := u.frame.Snap.Result
	if !ok || res == nil {
		u.rule(c, "detail", false)
		c.textMax(2, 1, c.w-2, "select a component in the table (↑ ↓)", u.th.dim())
		return
	}
	title := r.name + " · " + r.kind
	if r.total > 0 {
		title += fmt.Sprintf(" · %d/%d up", r.up, r.total)
	}
	if !r.idle {
		title += " · " + r.health.String()
	}
	u.rule(c, title, false)
	if r.series < 0 {
		u.drawBrokerDetail(c, r.name)
		return
	}
	const labelW, valueW = 8, 8
	n := max(0, min(sparkWindows, c.w-labelW-valueW-1))
	wins := res.Series[r.series].Windows
	if len(wins) > n {
		wins = wins[len(wins)-n:]
	}
	secs := u.frame.Window.Seconds()
	type plot struct {
		label string
		val   func(w *sim.Window) float64
		fmt   func(float64) string
		floor float64 // the scale never goes below it, so noise stays small
	}
	// p99 ok is of successful requests; a client has no queue, and shows
	// in its place the p99 of every answered request, timeouts at the
	// client's timeout: during an outage the first can fall while the
	// second rises.
	plots := []plot{
		{"rate/s", func(w *sim.Window) float64 { return float64(w.Sent) / secs }, rate, 1},
		{"err %", func(w *sim.Window) float64 { return w.ErrorShare() }, pct, 0.01},
		{"p99 ok", func(w *sim.Window) float64 { return w.Latency.P99 }, ms, 1},
		{"queue", func(w *sim.Window) float64 { return w.QueueMean }, queueLen, 1},
	}
	if r.queue < 0 {
		plots[3] = plot{"p99 all", func(w *sim.Window) float64 { return w.LatencyAll.P99 }, ms, 1}
	}
	for i, p := range plots {
		y := 1 + i
		c.text(0, y, pad(p.label, -labelW), u.th.dim())
		vals := make([]float64, len(wins))
		top := p.floor
		for k := range wins {
			vals[k] = p.val(&wins[k])
			top = max(top, vals[k])
		}
		for k, v := range vals {
			st := u.th.health(r.health, r.idle)
			if i != 1 {
				st = u.th.plain()
			}
			if inFault(u.spans, wins[k].Start, u.frame.Window) {
				st = u.th.faultBg(st)
			}
			c.put(labelW+k, y, sparkGlyph(v, top), st)
		}
		if len(vals) > 0 {
			v := p.fmt(vals[len(vals)-1])
			last := wins[len(wins)-1]
			if i == 2 && last.OK == 0 || i == 3 && r.queue < 0 && last.LatencyAll.Count == 0 {
				v = "-" // nothing to time
			}
			c.text(labelW+n+1, y, pad(v, valueW), u.th.plain())
		}
	}
	// The fault row marks the fault windows under the plots, so that they
	// show without colour too.
	y := 1 + len(plots)
	c.text(0, y, pad("faults", -labelW), u.th.dim())
	for k := range wins {
		if inFault(u.spans, wins[k].Start, u.frame.Window) {
			c.put(labelW+k, y, '━', u.th.fg(colFault))
		}
	}
	if len(wins) > 0 {
		span := fmt.Sprintf("last %ds", int(float64(len(wins))*secs+0.5))
		c.text(labelW+n+1, y, pad(span, valueW), u.th.dim())
	}
	// Why it is red: where the last window's failures originated.
	if len(wins) > 0 {
		for i, line := range whyLines(res, &wins[len(wins)-1], whyRows) {
			if i == 0 {
				c.text(0, y+1, pad("why", -labelW), u.th.dim())
			}
			c.textMax(labelW, y+1+i, c.w-labelW, line, u.th.plain())
		}
	}
	y += whyRows
	edges := u.detailEdges()
	for i, e := range edges {
		row := c.sub(0, y+1+i, c.w, 1)
		if y+1+i >= c.h-1 && i < len(edges)-1 {
			// More edges than rows: the last row names the rest, so
			// that every edge of the selection shows.
			u.drawMoreEdges(row, edges[i:])
			break
		}
		if e.Breaker == "" {
			u.drawCallRow(row, &e)
			continue
		}
		u.drawBreakerRow(row, &e)
	}
}

// drawMoreEdges is the detail pane's last row when the edges do not fit
// one a row: the rest, each by its callee and its p99 in the last window.
func (u *UI) drawMoreEdges(c canvas, edges []sim.EdgeResult) {
	parts := make([]string, len(edges))
	for i := range edges {
		e := &edges[i]
		to := e.ID.To()
		if e.ID.Caller != u.selected {
			to = e.Name // a call into the selection, through a breaker
		}
		p99 := "-"
		if w, ok := sim.Last(e.Series); ok && w.Latency.Count > 0 {
			p99 = ms(w.Latency.P99) + "ms"
		}
		parts[i] = "→ " + to + " p99 " + p99
		if e.Breaker != "" {
			parts[i] = "⚡ " + to + " [" + e.Breaker + "]"
		}
	}
	c.textMax(0, 0, c.w, strings.Join(parts, " · "), u.th.plain())
}

// drawBrokerDetail lists a broker's topics under the detail pane's rule:
// what each took in and the state of its partitions, from the engine's
// topic results.
func (u *UI) drawBrokerDetail(c canvas, name string) {
	y := 1
	for _, t := range u.frame.Snap.Result.Topics {
		if t.Broker != name || y >= c.h {
			continue
		}
		rate := "-"
		if w, ok := sim.Last(t.Series); ok {
			rate = format.Rate(float64(w.Topic().Produced)/u.frame.Window.Seconds()) + "/s"
		}
		c.textMax(0, y, c.w, fmt.Sprintf("topic %s · %s · %s", t.Name, rate, format.Plural(t.Partitions, "partition")), u.th.plain())
		c.textMax(2, y+1, c.w-2, fmt.Sprintf("%d under-replicated · %d offline · %d leader changes · %d lost",
			t.UnderReplicated, t.Offline, t.LeaderChanges, t.Lost), u.th.dim())
		y += 2
	}
}

// drawBreakerRow is the Hystrix dashboard's row for a breaker: state, error
// share and counts over the rolling window, and the latency of the calls
// as the caller saw them (the dashboard's latency is the command's, timed
// by the caller).
func (u *UI) drawBreakerRow(c canvas, e *sim.EdgeResult) {
	counts, span := recentCounts(e, u.frame.Snap.Now)
	st := u.th.fg(colHealthy)
	switch e.BreakerState {
	case resilience.Open, resilience.ForcedOpen:
		st = u.th.fg(colFailing)
	case resilience.HalfOpen:
		st = u.th.fg(colDegraded)
	}
	x := c.text(0, 0, "⚡ "+e.Name+" ", u.th.bold())
	x = c.text(x, 0, "["+e.Breaker+"]", st)
	if e.Scope == "instance" && e.Breakers > 1 {
		// One breaker per caller instance: how many are open.
		x = c.text(x, 0, fmt.Sprintf(" %d/%d open", e.BreakersOpen, e.Breakers), st)
	} else if e.Scope != "" {
		x = c.text(x, 0, " shared", u.th.plain())
	}
	period := seconds(span)
	text := fmt.Sprintf(" %s: err %s ok %d sc %d to %d rej %d fail %d", period, pct(counts.errShare()),
		counts.ok, counts.shortCircuited, counts.timeout, counts.rejected, counts.failure)
	text += " │ " + callLatency(e, false)
	c.textMax(x, 0, c.w-x, text, u.th.plain())
}

// sparkGlyph is one column of a sparkline: nothing for zero, else one of
// eight heights.
func sparkGlyph(v, top float64) rune {
	const bars = "▁▂▃▄▅▆▇█"
	if !(v > 0) || !(top > 0) {
		return ' '
	}
	i := int(v / top * 8)
	i = max(0, min(7, i))
	return []rune(bars)[i]
}

func (u *UI) drawEvents(c canvas) {
	var evs []sim.EventResult
	if u.frame.Snap.Result != nil {
		evs = u.frame.Snap.Result.Events
	}
	title := fmt.Sprintf("events · %d", len(evs))
	if u.evScroll > 0 {
		title += fmt.Sprintf(" · %d newer below (End follows)", u.evScroll)
	}
	u.rule(c, title, u.focus == ctxEvents)
	h := c.h - 1
	if line, l, ok := recoveryLine(u.frame.Snap.Result); ok && h >= 3 {
		// The verdict on the latest fault that ended keeps the last line.
		h--
		c.textMax(1, c.h-1, c.w-1, "verdict "+line, u.th.health(l, false))
	}
	end := max(0, len(evs)-u.evScroll)
	start := max(0, end-h)
	nameW := 8
	for _, e := range evs[start:end] {
		nameW = max(nameW, len([]rune(e.Component)))
	}
	nameW = min(nameW, 24)
	for i, e := range evs[start:end] {
		y := 1 + i
		x := c.text(1, y, pad(strconv.FormatFloat(e.TS, 'f', 3, 64)+"s", 9), u.th.dim())
		x = c.text(x+2, y, pad(clip(e.Component, nameW), -nameW), u.th.bold())
		c.textMax(x+2, y, c.w-x-2, e.What, u.eventStyle(&e))
	}
	if len(evs) == 0 {
		c.textMax(2, 1, c.w-2, "nothing has happened yet", u.th.dim())
	}
}

// eventStyle colours an event by its kind and the state it reports.
func (u *UI) eventStyle(e *sim.EventResult) tcell.Style {
	switch e.Kind {
	case sim.EventFaultStarted, sim.EventFaultEnded:
		st := u.th.fg(colFault)
		if e.Fault >= 0 && e.Fault < len(u.spans) && u.spans[e.Fault].Manual {
			st = st.Bold(true)
		}
		return st
	case sim.EventHealth:
		return u.th.health(e.Health, false)
	case sim.EventQueueFull:
		return u.th.fg(colFailing)
	case sim.EventBreaker:
		switch e.Breaker {
		case resilience.Open:
			return u.th.fg(colFailing)
		case resilience.HalfOpen:
			return u.th.fg(colDegraded)
		case resilience.Closed:
			return u.th.fg(colHealthy)
		}
	}
	return u.th.plain()
}

// nodeRows are the rows of the topology's nodes by key: the table's, and
// the data components'.
func (u *UI) nodeRows() map[string]row {
	health := map[string]row{}
	for _, r := range u.rows {
		health[r.name] = r
	}
	for k, r := range u.data {
		health[k] = r
	}
	return health
}

// drawTopology draws the call graph, coloured by the latest frame.
func (u *UI) drawTopology(c canvas) {
	t := u.topology(c.w, c.h-1)
	title := "topology"
	if !t.detailed {
		title += " · names only: enlarge the terminal for rates"
	}
	if t.width > c.w || t.height > c.h-1 {
		title = fmt.Sprintf("topology · cut to fit (it is %dx%d): t shows it alone", t.width, t.height+1)
	}
	u.rule(c, title, false)
	g := c.sub(max(0, (c.w-t.width)/2), 1, c.w, c.h-1)
	health := u.nodeRows()
	ln := newLines()
	type label struct {
		x, y int
		s    string
		st   tcell.Style
	}
	var labels []label
	var arrows [][2]int
	var arrowSt []tcell.Style
	for i := range t.edges {
		e := &t.edges[i]
		from, to := &t.nodes[e.from], &t.nodes[e.to]
		text, h, idle := u.edgeState(t, e, health)
		st := u.th.dim()
		if !idle && h > sim.Healthy {
			st = u.th.health(h, false)
		}
		x0 := from.x + from.w
		tx := to.x - 1
		if to.dummy {
			tx = to.x
		}
		if e.cx < 0 {
			ln.hline(x0, tx, e.sy, st)
		} else {
			ln.hline(x0, e.cx, e.sy, st)
			ln.vline(e.cx, e.sy, e.ty, st)
			ln.hline(e.cx, tx, e.ty, st)
		}
		if to.dummy {
			ln.hline(to.x, to.x+to.w-1, to.y, st)
		} else {
			arrows = append(arrows, [2]int{tx, e.ty})
			arrowSt = append(arrowSt, st)
		}
		if x, y, n, ok := t.labelSpot(i); ok && e.first && t.detailed && text != "" {
			labels = append(labels, label{x, y, clip(text, n), st})
		}
	}
	ln.draw(g)
	for k, a := range arrows {
		g.put(a[0], a[1], '▶', arrowSt[k])
	}
	for _, l := range labels {
		g.text(l.x, l.y, l.s, l.st)
	}
	for i := range t.nodes {
		if n := &t.nodes[i]; !n.dummy {
			u.drawNode(g, t, n, health[n.key])
		}
	}
}

// edgeState is what an edge's label says, how healthy it is and whether
// it is idle: the engine's verdict on the edge's latest window
// (sim.Window.Health of EdgeResult.Series, judged by the engine: its
// breakers, error share, fallbacks and latency), the worst of the edges
// the line stands for: every call from the caller to the callee, by
// sim.EdgeID, whichever operations call and are called, and what a call
// to a store does (read, write). A client's edge is the client's own
// requests: the engine's verdict on the client.
func (u *UI) edgeState(t *topology, e *topoEdge, rs map[string]row) (string, sim.Health, bool) {
	from, to := &t.nodes[e.call.from], &t.nodes[e.call.to]
	if r, ok := rs[from.key]; ok && from.client {
		if r.idle || r.health == sim.Healthy || r.errShare == 0 {
			return "", r.health, r.idle
		}
		return pct(r.errShare), r.health, false
	}
	label, h, idle := "", sim.Healthy, true
	res := u.frame.Snap.Result
	if res == nil {
		return label, h, idle
	}
	for i := range res.Edges {
		e := &res.Edges[i]
		if e.ID.Caller != from.name || e.ID.Callee != to.name {
			continue
		}
		w, ok := sim.Last(e.Series)
		if !ok || w.Reason.By == sim.Idle {
			continue
		}
		if idle || w.Health > h {
			label, h, idle = edgeLabel(&w), w.Health, false
		}
	}
	return label, h, idle
}

// edgeLabel says what decided an edge window's verdict: its breaker's
// state, the share of its calls that failed or that a fallback answered,
// or its latency; nothing when it is healthy.
func edgeLabel(w *sim.Window) string {
	switch w.Reason.By {
	case sim.ByNone:
		return ""
	case sim.ByBreakerOpen:
		return "[OPEN]"
	case sim.ByBreakerHalfOpen:
		return "[HALF]"
	case sim.ByLatency:
		return fmt.Sprintf("p%g %sms", w.Reason.Percentile, ms(w.Reason.Value*1000))
	}
	return pct(w.Reason.Value)
}

func (u *UI) drawNode(g canvas, t *topology, n *topoNode, r row) {
	st := u.th.health(r.health, r.idle)
	sel := r.name == u.selected
	bold := st.Bold(sel)
	x1, y1 := n.x+n.w-1, n.y+n.h-1
	// The selection in the table shows here as a heavy frame.
	frame := []rune("─│┌┐└┘")
	if sel {
		frame = []rune("━┃┏┓┗┛")
	}
	for x := n.x + 1; x < x1; x++ {
		g.put(x, n.y, frame[0], st)
		g.put(x, y1, frame[0], st)
	}
	for y := n.y + 1; y < y1; y++ {
		g.put(n.x, y, frame[1], st)
		g.put(x1, y, frame[1], st)
		for x := n.x + 1; x < x1; x++ {
			g.put(x, y, ' ', u.th.plain())
		}
	}
	g.put(n.x, n.y, frame[2], st)
	g.put(x1, n.y, frame[3], st)
	g.put(n.x, y1, frame[4], st)
	g.put(x1, y1, frame[5], st)
	inner := n.w - 4
	name := n.name
	if u.th.noColor {
		name = string(u.th.marker(r.health, r.idle)) + " " + name
	}
	g.textMax(n.x+2, n.y+1, inner, name, bold)
	if !t.detailed {
		return
	}
	lines := []string{}
	switch {
	case r.lines != nil:
		lines = r.lines
	case !r.idle:
		p99 := "p99 -"
		if r.ok > 0 {
			p99 = "p99 " + ms(r.p99) + "ms"
		}
		lines = append(lines, rate(r.rate)+"/s "+pct(r.errShare), p99)
	default:
		lines = append(lines, "idle")
	}
	if r.total > 0 {
		lines = append(lines, fmt.Sprintf("%d/%d up", r.up, r.total))
	}
	for i, l := range lines {
		if y := n.y + 2 + i; y < y1 {
			g.textMax(n.x+2, y, inner, l, u.th.plain())
		}
	}
}

// drawHelp is the ? overlay: every binding of the registry by context, and
// the : commands, in as many columns as the height needs.
func (u *UI) drawHelp(c canvas) {
	type line struct {
		s     string
		st    tcell.Style
		whole bool // an example or a syntax: never wrapped
	}
	var ls []line
	for ctx := ctxMain; ctx <= ctxCommand; ctx++ {
		ls = append(ls, line{contextNames[ctx], u.th.bold(), false})
		for _, b := range u.reg {
			switch {
			case b.ctx != ctx:
			case ctx == ctxCommand:
				ls = append(ls, line{"  :" + b.syntax(), u.th.plain(), true}, line{"      " + b.help, u.th.dim(), false},
					line{"      e.g. :" + b.example, u.th.dim(), true})
			default:
				ls = append(ls, line{"  " + pad(b.label, -7) + " " + b.help, u.th.plain(), true})
			}
		}
	}
	ls = append(ls, line{"faults: KIND TARGET [VALUE] [DURATION]", u.th.bold(), false})
	for _, k := range sim.FaultKinds() {
		kind, _ := faultKind(k)
		ls = append(ls, line{"  :fault " + faultUsage[kind].example, u.th.plain(), true})
	}
	// The thresholds the engine judges with (sim.HealthOf), so that the
	// legend cannot drift from the colours.
	deg, fail := legendShare(sim.DegradedShare), legendShare(sim.FailingShare)
	ls = append(ls, line{"health", u.th.bold(), false},
		line{fmt.Sprintf("  %c healthy  < %s%% errors", u.th.marker(sim.Healthy, false), deg), u.th.health(sim.Healthy, false), false},
		line{fmt.Sprintf("  %c degraded %s-%s%%, or calls an open breaker", u.th.marker(sim.Degraded, false), deg, fail), u.th.health(sim.Degraded, false), false},
		line{fmt.Sprintf("  %c failing  > %s%%, or behind an open breaker", u.th.marker(sim.Failing, false), fail), u.th.health(sim.Failing, false), false})

	rows := c.h - 2
	// Columns as wide as the longest key, example or syntax, so that each
	// shows whole, and at least 38; as many as fit, and pages when they
	// do not hold everything. A longer description wraps, its
	// continuation indented.
	colW := 38
	for _, l := range ls {
		if l.whole {
			colW = max(colW, len([]rune(l.s))+2)
		}
	}
	colW = min(colW, c.w-2)
	var wrapped []line
	for _, l := range ls {
		r := []rune(l.s)
		for len(r) > colW-1 {
			cut := colW - 1
			if i := strings.LastIndex(string(r[:cut]), " "); i > 8 {
				cut = len([]rune(string(r[:cut])[:i]))
			}
			wrapped = append(wrapped, line{string(r[:cut]), l.st, false})
			r = append([]rune("        "), []rune(strings.TrimLeft(string(r[cut:]), " "))...)
		}
		wrapped = append(wrapped, line{string(r), l.st, l.whole})
	}
	ls = wrapped
	cols := max(1, min((c.w-2)/colW, (len(ls)+rows-1)/rows))
	pages := (len(ls) + rows*cols - 1) / (rows * cols)
	page := min(u.helpPage, pages-1)
	ls = ls[page*rows*cols : min(len(ls), (page+1)*rows*cols)]
	boxW := min(c.w, colW*cols+2)
	boxH := min(c.h, (len(ls)+cols-1)/cols+2)
	box := c.sub((c.w-boxW)/2, (c.h-boxH)/2, boxW, boxH)
	box.fill(u.th.plain())
	for x := 1; x < box.w-1; x++ {
		box.put(x, 0, '─', u.th.plain())
		box.put(x, box.h-1, '─', u.th.plain())
	}
	for y := 1; y < box.h-1; y++ {
		box.put(0, y, '│', u.th.plain())
		box.put(box.w-1, y, '│', u.th.plain())
	}
	box.put(0, 0, '┌', u.th.plain())
	box.put(box.w-1, 0, '┐', u.th.plain())
	box.put(0, box.h-1, '└', u.th.plain())
	box.put(box.w-1, box.h-1, '┘', u.th.plain())
	title := " help · Esc closes "
	if pages > 1 {
		title = fmt.Sprintf(" help %d/%d · space: next page · Esc closes ", page+1, pages)
	}
	box.textMax(2, 0, box.w-4, title, u.th.bold())
	per := box.h - 2
	for i, l := range ls {
		col, y := i/per, i%per
		box.textMax(1+col*colW, 1+y, colW-1, l.s, l.st)
	}
}

// legendShare writes a threshold share as the help's legend does: in
// percent, as short as it is exact ("0.1", "10").
func legendShare(share float64) string { return strconv.FormatFloat(share*100, 'g', -1, 64) }

// Number formats, as in faultline run's tables (internal/format): a mean
// queue length fits five columns as a rate does; shares are written short.
var ms, rate, queueLen, pct = format.Ms, format.Rate, format.Rate, format.PercentShort
