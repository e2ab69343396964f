package tui

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/internal/format"
	"github.com/faultline/faultline/sim"
)

// consLine is one line of the consistency pane: a consumer group, a store,
// a saga or a view, what its latest window says, and a sparkline of the
// quantity that matters most for it (lag, staleness, sagas in flight).
type consLine struct {
	kind, name string
	text       string
	short      string    // the same, the most telling first, for a narrow pane
	spark      []float64 // one value per window, oldest first
	starts     []time.Duration
	health     sim.Health
	idle       bool
}

// consistency computes the pane's lines from a frame, in scenario order.
func consistency(f *Frame) []consLine {
	res := f.Snap.Result
	if res == nil {
		return nil
	}
	var out []consLine
	for _, g := range res.Groups {
		l := consLine{kind: "group", name: g.Name}
		for _, w := range g.Series {
			l.spark = append(l.spark, w.Group().LagS)
			l.starts = append(l.starts, w.Start)
		}
		if w, ok := sim.Last(g.Series); ok {
			l.text = fmt.Sprintf("%s → %s  lag %d rec %.1fs  dup %d lost %d", g.Topic, g.Consumer, w.Group().LagRecords, w.Group().LagS, g.Duplicates, g.Lost)
			l.short = fmt.Sprintf("lag %.1fs %d rec · dup %d · lost %d", w.Group().LagS, w.Group().LagRecords, g.Duplicates, g.Lost)
			l.health, l.idle = verdict(&w)
			l.why(res, &w)
		}
		out = append(out, l)
	}
	for _, st := range res.Stores {
		l := consLine{kind: "store", name: st.Name}
		for _, w := range st.Series {
			// What went wrong: stale reads, and operations that failed.
			l.spark = append(l.spark, share(w.Store().Stale+w.Store().Unavailable+w.Store().Timeouts, w.Store().Reads+w.Store().Writes))
			l.starts = append(l.starts, w.Start)
		}
		t99, t999, curve := "-", "-", ""
		if n := len(st.Visibility); n > 0 {
			first, last := st.Visibility[0].TMS, st.Visibility[n-1].TMS
			t99 = format.TVis(st.T99.MS, st.T99.AtMost, first, last)
			t999 = format.TVis(st.T999.MS, st.T999.AtMost, first, last)
			curve = " " + visSpark(st.Visibility)
		}
		if w, ok := sim.Last(st.Series); ok {
			l.text = fmt.Sprintf("N%d W%d R%d  stale %s  visible 99%% %s (%d reads) 99.9%% %s%s  repl p99 %sms  unavail %d  timeouts %d",
				st.N, st.W, st.R, pct(share(w.Store().Stale, w.Store().Reads)), t99, st.T99.Reads, t999, curve, ms(w.Latency.P99), w.Store().Unavailable, w.Store().Timeouts)
			l.short = fmt.Sprintf("stale %s · fail %d · 99%% in %s (%d) · N%dW%dR%d", pct(share(w.Store().Stale, w.Store().Reads)), w.Store().Unavailable+w.Store().Timeouts, t99, st.T99.Reads, st.N, st.W, st.R)
			l.health, l.idle = verdict(&w)
		}
		out = append(out, l)
	}
	for _, sg := range res.Sagas {
		l := consLine{kind: "saga", name: sg.Name}
		for _, w := range sg.Series {
			l.spark = append(l.spark, float64(w.Saga().Running))
			l.starts = append(l.starts, w.Start)
		}
		l.text = fmt.Sprintf("in flight %d (%d compensating)  done %d  compensated %d  inconsistent %d",
			sg.Running, sg.Compensating, sg.Completed, sg.Compensated, sg.Inconsistent)
		if sg.Anomalous > 0 {
			l.text += fmt.Sprintf("  anomalous %d", sg.Anomalous)
		}
		for _, st := range sg.Steps {
			if d := st.Duplicates + st.CompensationDuplicates; d > 0 {
				l.text += fmt.Sprintf("  %s dup %d", st.Name, d)
			}
			if st.DirtyReads+st.LostUpdates > 0 {
				l.text += fmt.Sprintf("  %s dirty %d lost upd %d", st.Name, st.DirtyReads, st.LostUpdates)
			}
		}
		l.short = fmt.Sprintf("inconsistent %d · undone %d · in flight %d", sg.Inconsistent, sg.Compensated, sg.Running)
		if w, ok := sim.Last(sg.Series); ok {
			l.health, l.idle = verdict(&w)
			l.why(res, &w)
		}
		out = append(out, l)
	}
	for _, v := range res.Views {
		l := consLine{kind: "view", name: v.Name}
		for _, w := range v.Series {
			l.spark = append(l.spark, w.View().LagS)
			l.starts = append(l.starts, w.Start)
		}
		if w, ok := sim.Last(v.Series); ok {
			l.text = fmt.Sprintf("%s → projection  lag %d ev %.1fs  read-your-writes misses %s", v.Topic, w.View().LagRecords, w.View().LagS, pct(share(w.View().Miss, w.View().Reads)))
			l.short = fmt.Sprintf("lag %.1fs %d ev · ryw misses %s", w.View().LagS, w.View().LagRecords, pct(share(w.View().Miss, w.View().Reads)))
			l.health, l.idle = verdict(&w)
			l.why(res, &w)
		}
		out = append(out, l)
	}
	return out
}

// why adds to an unhealthy group's, saga's or view's line why it is red:
// the main origin of what its latest window counted against it (the
// records a group or a view's projector lost, read twice or is behind on;
// the sagas rolled back or left inconsistent), from the engine's provenance, as the detail pane says it
// for a client or service (whyLines).
func (l *consLine) why(res *sim.Result, w *sim.Window) {
	if l.idle || l.health == sim.Healthy || w.Provenance() == nil {
		return
	}
	why := whyLines(res, w, 1)[0]
	l.text += "  why " + why
	l.short += " · " + why
}

// visSpark draws a store's t-visibility curve, its monotone fit from the
// shortest t read to the longest, in at most visGlyphs glyphs (points
// evenly spread over the curve's), from the lowest share reached (the
// lowest glyph) to 1 (the highest).
func visSpark(pts []sim.VisPoint) string {
	glyphs := []rune("▁▂▃▄▅▆▇█")
	lo := pts[0].Fit
	n := min(len(pts), visGlyphs)
	out := make([]rune, n)
	for i := range out {
		j := 0
		if n > 1 {
			j = i * (len(pts) - 1) / (n - 1)
		}
		k := 7
		if lo < 1 {
			k = int((pts[j].Fit - lo) / (1 - lo) * 7)
		}
		out[i] = glyphs[max(0, min(7, k))]
	}
	return string(out)
}

// visGlyphs bounds the curve's sparkline, so that the store's line fits
// beside the others.
const visGlyphs = 12

func share(a, n uint64) float64 {
	if n == 0 {
		return 0
	}
	return float64(a) / float64(n)
}

// dataRows are the topology's boxes for topics, stores and views, keyed as
// the topology keys them, with the lines each box shows.
func dataRows(f *Frame) map[string]row {
	res := f.Snap.Result
	out := map[string]row{}
	if res == nil {
		return out
	}
	secs := f.Window.Seconds()
	lag := map[string]float64{} // the worst lag of a topic's groups, latest window
	for _, g := range res.Groups {
		if n := len(g.Series); n > 0 {
			lag[g.Topic] = max(lag[g.Topic], g.Series[n-1].Group().LagS)
		}
	}
	for _, v := range res.Views {
		if n := len(v.Series); n > 0 {
			lag[v.Topic] = max(lag[v.Topic], v.Series[n-1].View().LagS)
		}
	}
	for _, t := range res.Topics {
		r := row{name: t.Name, kind: "topic", idle: true}
		if w, ok := sim.Last(t.Series); ok {
			r.rate = float64(w.Topic().Produced) / secs
			r.health, r.idle = verdict(&w)
		}
		// A box has lines of about 11 columns: the produce rate and the
		// worst lag of its readers, or what is offline; then its
		// broker's nodes up.
		r.lines = []string{fmt.Sprintf("%s/s %.1fs", rate(r.rate), lag[t.Name]), t.Broker}
		if t.Offline > 0 {
			r.lines[0] = fmt.Sprintf("%d offline", t.Offline)
		}
		for _, b := range res.Brokers {
			if b.Name == t.Broker {
				r.lines[1] = fmt.Sprintf("%s %d/%d", b.Name, b.NodesUp, b.Nodes)
			}
		}
		out["topic:"+t.Name] = r
	}
	for _, st := range res.Stores {
		r := row{name: st.Name, kind: "store", idle: true}
		if w, ok := sim.Last(st.Series); ok {
			ops := w.Store().Reads + w.Store().Writes
			r.rate = float64(ops) / secs
			r.health, r.idle = verdict(&w)
			// Each figure says what it is: the stale share of reads, and
			// the operations that failed, for want of a quorum (err) or
			// in time (to), in the latest window.
			r.lines = []string{rate(r.rate) + "/s", "stale " + pct(share(w.Store().Stale, w.Store().Reads)),
				fmt.Sprintf("err %d to %d", w.Store().Unavailable, w.Store().Timeouts)}
		}
		out[st.Name] = r
	}
	for _, v := range res.Views {
		r := row{name: v.Name, kind: "view", idle: true}
		if w, ok := sim.Last(v.Series); ok {
			r.rate = float64(w.View().Reads) / secs
			r.health, r.idle = verdict(&w)
			r.lines = []string{fmt.Sprintf("%.1fs %s", w.View().LagS, pct(share(w.View().Miss, w.View().Reads)))} // lag, misses
		}
		out[v.Name] = r
	}
	return out
}

// drawConsistency is the consistency pane: one line per group, store, saga
// and view, with its sparkline over the last windows.
func (u *UI) drawConsistency(c canvas) {
	if c.h == 0 {
		return
	}
	u.rule(c, "consistency · lag, staleness, sagas", false)
	const kindW = 6
	sparkW := min(20, c.w/8)
	nameW := 4
	for _, l := range u.cons {
		nameW = max(nameW, len([]rune(l.name)))
	}
	nameW = min(nameW, 20)
	for i, l := range u.cons {
		y := 1 + i
		if y >= c.h {
			break
		}
		st := u.th.health(l.health, l.idle)
		name := l.name
		if u.th.noColor {
			name = string(u.th.marker(l.health, l.idle)) + " " + name
		}
		x := c.text(0, y, pad(l.kind, -kindW), u.th.dim())
		x = c.textMax(x, y, nameW+2, pad(clip(name, nameW+2), -(nameW+2)), st)
		// The sparkline: the last sparkW windows, scaled to their top.
		vals, starts := l.spark, l.starts
		if len(vals) > sparkW {
			vals, starts = vals[len(vals)-sparkW:], starts[len(starts)-sparkW:]
		}
		top := 0.0
		for _, v := range vals {
			top = max(top, v)
		}
		for k, v := range vals {
			gs := u.th.plain()
			if inFault(u.spans, starts[k], u.frame.Window) {
				gs = u.th.faultBg(gs)
			}
			c.put(x+1+k, y, sparkGlyph(v, top), gs)
		}
		x += sparkW + 2
		text := l.text
		if len([]rune(text)) > c.w-x && l.short != "" {
			text = l.short
		}
		c.textMax(x, y, c.w-x, text, u.th.plain())
	}
}

// consHeight is the height the consistency pane wants: its title and a
// line per item; 0 when the scenario has none.
func (u *UI) consHeight() int {
	if len(u.cons) == 0 {
		return 0
	}
	return 1 + len(u.cons)
}
