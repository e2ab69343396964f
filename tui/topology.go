package tui

import (
	"cmp"
	"slices"

	"github.com/faultline/faultline/sim"
)

// The topology view is a layered drawing (Sugiyama style, much simplified):
// clients in the first column, then every component in the column of its
// longest call path from a client, so that a request flows left to right.
// An edge that skips columns passes through placeholder nodes, so it never
// runs through a box. Each edge leaves its caller by a port (a row of the
// box's right side) of its own and enters its callee by a port of its own;
// between two columns each edge that changes rows has a vertical channel of
// its own. Segments of different edges then only cross, never overlap.

// topoNode is a box, or a placeholder on a long edge.
type topoNode struct {
	name   string
	key    string // what its row is found by: the name, "topic:" + name for a topic
	client bool
	dummy  bool
	layer  int
	stats  int     // lines of figures under the name when detailed
	order  float64 // position within the layer while ordering
	ins    []int   // edges in
	outs   []int   // edges out
	x, y   int     // top left
	w, h   int
}

// topoEdge is one column-to-column segment of a call edge.
type topoEdge struct {
	from, to int      // nodes
	call     topoCall // the call it belongs to: its caller's and callee's nodes
	first    bool     // leaves the caller itself: carries the label
	sy, ty   int      // rows of its ports
	cx       int      // its channel column; -1 when it runs straight
}

// topoCall is a caller and a callee, as node indices.
type topoCall struct{ from, to int }

// topology is a layout for one size class; only colours and labels change
// from frame to frame.
type topology struct {
	nodes    []topoNode
	edges    []topoEdge
	layers   [][]int
	detailed bool
	width    int
	height   int
	gapX     []int // first column of the gap after each layer
	gapW     []int
	lead     int // columns a gap keeps for labels before its channels
}

// Sizes of the parts of a drawing.
const (
	labelLead   = 7  // "[OPEN]" or "12.3%" after a stub of line
	compactLead = 1  // no labels: just a stub of line
	statWidth   = 11 // "1234/s 100%"
	storeWidth  = 13 // "err 123 to 45"
)

// newTopology lays out the calls of spec. markers adds room for a health
// marker before each name (NO_COLOR).
func newTopology(spec *sim.Spec, detailed, markers bool) *topology {
	t := &topology{detailed: detailed, lead: compactLead}
	if detailed {
		t.lead = labelLead
	}
	idx := map[string]int{}
	for _, c := range spec.Clients {
		idx["client:"+c.Name] = len(t.nodes)
		t.nodes = append(t.nodes, topoNode{name: c.Name, key: c.Name, client: true, stats: 1})
	}
	for _, s := range spec.Services {
		idx[s.Name] = len(t.nodes)
		t.nodes = append(t.nodes, topoNode{name: s.Name, key: s.Name, stats: 1})
	}
	// The data components: topics (each with its broker's nodes), stores
	// (rate, stale share, errors and timeouts) and views.
	for _, b := range spec.Brokers {
		for _, tp := range b.Topics {
			idx["topic:"+tp.Name] = len(t.nodes)
			t.nodes = append(t.nodes, topoNode{name: tp.Name, key: "topic:" + tp.Name, stats: 2})
		}
	}
	for _, st := range spec.Stores {
		idx[st.Name] = len(t.nodes)
		t.nodes = append(t.nodes, topoNode{name: st.Name, key: st.Name, stats: 3})
	}
	for _, v := range spec.Views {
		idx[v.Name] = len(t.nodes)
		t.nodes = append(t.nodes, topoNode{name: v.Name, key: v.Name, stats: 1})
	}
	var calls []topoCall
	seen := map[topoCall]bool{}
	addCall := func(from, to int) {
		if c := (topoCall{from, to}); !seen[c] {
			seen[c] = true
			calls = append(calls, c)
		}
	}
	for _, c := range spec.Clients {
		if to, ok := idx[c.Target]; ok {
			addCall(idx["client:"+c.Name], to)
		}
	}
	for _, s := range spec.Services {
		for _, c := range s.AllCalls() {
			if to, ok := idx[c.To]; ok {
				addCall(idx[s.Name], to)
			}
		}
		for _, p := range s.Publishes {
			addCall(idx[s.Name], idx["topic:"+p.Topic])
		}
		for _, c := range s.Consumes {
			addCall(idx["topic:"+c.Topic], idx[s.Name])
			if c.DeadLetter != "" {
				addCall(idx[s.Name], idx["topic:"+c.DeadLetter])
			}
		}
	}
	for _, v := range spec.Views {
		addCall(idx["topic:"+v.Topic], idx[v.Name])
	}
	for _, sg := range spec.Sagas {
		// An orchestrator sends the steps' commands; a choreography's
		// records already show as topics.
		if sg.Mode != sim.Orchestration {
			continue
		}
		for _, st := range sg.Steps {
			addCall(idx[sg.Start], idx[st.Service])
			if c, ok := idx[st.Compensation]; ok {
				addCall(idx[sg.Start], c)
			}
		}
	}
	// Records can flow in a circle (a service consuming what it
	// publishes): the drawing runs left to right, so it leaves out the
	// edges that close a cycle.
	calls = acyclic(calls, len(t.nodes))
	t.assignLayers(calls, len(spec.Clients) > 0)
	// Segments, with placeholders where a call skips layers.
	for _, c := range calls {
		name := t.nodes[c.from].name + "->" + t.nodes[c.to].name
		from, first := c.from, true
		for l := t.nodes[c.from].layer + 1; l < t.nodes[c.to].layer; l++ {
			d := len(t.nodes)
			t.nodes = append(t.nodes, topoNode{name: name, dummy: true, layer: l})
			t.addEdge(from, d, c, first)
			from, first = d, false
		}
		t.addEdge(from, c.to, c, first)
	}
	t.order()
	t.size(markers)
	t.place()
	return t
}

func (t *topology) addEdge(from, to int, call topoCall, first bool) {
	e := len(t.edges)
	t.edges = append(t.edges, topoEdge{from: from, to: to, call: call, first: first, cx: -1})
	t.nodes[from].outs = append(t.nodes[from].outs, e)
	t.nodes[to].ins = append(t.nodes[to].ins, e)
}

// acyclic drops the calls that close a cycle, found by a depth-first search
// in node order, so that what is left can be drawn in layers.
func acyclic(calls []topoCall, n int) []topoCall {
	outs := make([][]int, n)
	for i, c := range calls {
		outs[c.from] = append(outs[c.from], i)
	}
	const (
		white = iota
		grey
		black
	)
	color := make([]int, n)
	back := make([]bool, len(calls))
	var visit func(i int)
	visit = func(i int) {
		color[i] = grey
		for _, k := range outs[i] {
			switch to := calls[k].to; color[to] {
			case grey:
				back[k] = true
			case white:
				visit(to)
			}
		}
		color[i] = black
	}
	for i := range n {
		if color[i] == white {
			visit(i)
		}
	}
	out := calls[:0:0]
	for i, c := range calls {
		if !back[i] {
			out = append(out, c)
		}
	}
	return out
}

// assignLayers puts each node in the column of its longest path from a
// source. Clients are the sources; a service nothing calls starts in the
// column after them. The calls are acyclic, so this terminates.
func (t *topology) assignLayers(calls []topoCall, haveClients bool) {
	preds := make([][]int, len(t.nodes))
	for _, c := range calls {
		preds[c.to] = append(preds[c.to], c.from)
	}
	layer := make([]int, len(t.nodes))
	for i := range layer {
		layer[i] = -1
	}
	var visit func(i, depth int) int
	visit = func(i, depth int) int {
		if layer[i] >= 0 {
			return layer[i]
		}
		if depth > len(t.nodes) {
			return 0 // a cycle after all: give up on the ordering, not the program
		}
		l := 0
		if !t.nodes[i].client && haveClients {
			l = 1
		}
		for _, p := range preds[i] {
			l = max(l, visit(p, depth+1)+1)
		}
		layer[i] = l
		return l
	}
	n := 0
	for i := range t.nodes {
		t.nodes[i].layer = visit(i, 0)
		n = max(n, t.nodes[i].layer+1)
	}
	t.layers = make([][]int, n)
}

// order sorts each layer by the mean position of its neighbours (the
// barycentre heuristic), sweeping down and up a few times; ties keep
// scenario order, so the result is deterministic.
func (t *topology) order() {
	for i := range t.nodes {
		l := t.nodes[i].layer
		t.nodes[i].order = float64(len(t.layers[l]))
		t.layers[l] = append(t.layers[l], i)
	}
	bary := func(ids []int, neighbours func(n *topoNode) []int) {
		for _, i := range ids {
			nb := neighbours(&t.nodes[i])
			if len(nb) == 0 {
				continue
			}
			sum := 0.0
			for _, j := range nb {
				sum += t.nodes[j].order
			}
			t.nodes[i].order = sum / float64(len(nb))
		}
		slices.SortStableFunc(ids, func(a, b int) int { return cmp.Compare(t.nodes[a].order, t.nodes[b].order) })
		for k, i := range ids {
			t.nodes[i].order = float64(k)
		}
	}
	predsOf := func(n *topoNode) []int {
		out := make([]int, len(n.ins))
		for k, e := range n.ins {
			out[k] = t.edges[e].from
		}
		return out
	}
	succsOf := func(n *topoNode) []int {
		out := make([]int, len(n.outs))
		for k, e := range n.outs {
			out[k] = t.edges[e].to
		}
		return out
	}
	for range 3 {
		for l := 1; l < len(t.layers); l++ {
			bary(t.layers[l], predsOf)
		}
		for l := len(t.layers) - 2; l >= 0; l-- {
			bary(t.layers[l], succsOf)
		}
	}
	for l := 1; l < len(t.layers); l++ {
		bary(t.layers[l], predsOf)
	}
}

// size gives every node its box: wide enough for its name (and its numbers
// when detailed), tall enough for one port per edge in and out.
func (t *topology) size(markers bool) {
	for _, ids := range t.layers {
		w := 0
		for _, i := range ids {
			n := &t.nodes[i]
			if n.dummy {
				continue
			}
			inner := len([]rune(n.name))
			if markers {
				inner += 2
			}
			if t.detailed {
				inner = max(inner, statWidth)
				if n.stats > 2 {
					inner = max(inner, storeWidth)
				}
			}
			w = max(w, inner+4) // borders and a space either side
		}
		for _, i := range ids {
			n := &t.nodes[i]
			if n.dummy {
				n.w, n.h = w, 1
				continue
			}
			rows := 1
			if t.detailed {
				rows += n.stats
			}
			n.w, n.h = w, max(rows, len(n.ins), len(n.outs))+2
		}
	}
}

// place sets the positions of the nodes and the channels of the edges.
func (t *topology) place() {
	// Rows: each layer stacked with a blank row between boxes, centred.
	for _, ids := range t.layers {
		h := 0
		for k, i := range ids {
			if k > 0 {
				h++
			}
			h += t.nodes[i].h
		}
		t.height = max(t.height, h)
	}
	for _, ids := range t.layers {
		h := 0
		for k, i := range ids {
			if k > 0 {
				h++
			}
			h += t.nodes[i].h
		}
		y := (t.height - h) / 2
		for _, i := range ids {
			t.nodes[i].y = y
			y += t.nodes[i].h + 1
		}
	}
	// Ports: edges take the rows of a box's side in the order of the rows
	// of their other ends, so that they do not cross right at the box.
	port := func(n *topoNode, edges []int, other func(e *topoEdge) int, set func(e *topoEdge, row int)) {
		sorted := slices.Clone(edges)
		slices.SortStableFunc(sorted, func(a, b int) int {
			return cmp.Compare(centre(&t.nodes[other(&t.edges[a])]), centre(&t.nodes[other(&t.edges[b])]))
		})
		top := n.y + 1
		if n.dummy {
			top = n.y
		}
		for k, e := range sorted {
			set(&t.edges[e], top+k)
		}
	}
	for i := range t.nodes {
		n := &t.nodes[i]
		port(n, n.outs, func(e *topoEdge) int { return e.to }, func(e *topoEdge, row int) { e.sy = row })
		port(n, n.ins, func(e *topoEdge) int { return e.from }, func(e *topoEdge, row int) { e.ty = row })
	}
	// Columns: each layer as wide as its widest box, then a gap with room
	// for labels, one channel per edge that changes rows, and the arrow.
	t.gapX = make([]int, len(t.layers))
	t.gapW = make([]int, len(t.layers))
	x := 0
	for l, ids := range t.layers {
		w := 0
		for _, i := range ids {
			w = max(w, t.nodes[i].w)
		}
		for _, i := range ids {
			t.nodes[i].x = x
		}
		x += w
		t.gapX[l] = x
		if l < len(t.layers)-1 {
			t.gapW[l] = t.lead + len(t.channelled(l)) + 1
			x += t.gapW[l]
		}
	}
	t.width = x
	for l := range t.layers[:max(0, len(t.layers)-1)] {
		t.assignChannels(l)
	}
}

// labelSpot is where edge i's label goes, and how many columns it may
// take: on the edge's first row, right after its caller, when no other edge
// of the gap runs on that row; else on its last row, after its channel,
// when that row is its own and has room for a label; else nowhere (its
// colour still tells). A label on a row two edges share would read as the
// other edge's.
func (t *topology) labelSpot(i int) (x, y, n int, ok bool) {
	e := &t.edges[i]
	from := &t.nodes[e.from]
	shared := func(row int) bool {
		for k := range t.edges {
			o := &t.edges[k]
			if k == i || t.nodes[o.from].layer != from.layer {
				continue
			}
			if o.sy == row || o.cx >= 0 && o.ty == row {
				return true
			}
		}
		return false
	}
	if !shared(e.sy) {
		return from.x + from.w + 1, e.sy, t.lead - 1, true
	}
	if e.cx >= 0 && !shared(e.ty) {
		tx := t.nodes[e.to].x - 1 // the arrow
		if n := tx - e.cx - 2; n >= labelLead-1 {
			return e.cx + 2, e.ty, n, true
		}
	}
	return 0, 0, 0, false
}

func centre(n *topoNode) float64 { return float64(n.y) + float64(n.h)/2 }

// channelled lists the edges leaving layer l that change rows.
func (t *topology) channelled(l int) []int {
	var out []int
	for _, i := range t.layers[l] {
		for _, e := range t.nodes[i].outs {
			if t.edges[e].sy != t.edges[e].ty {
				out = append(out, e)
			}
		}
	}
	return out
}

// assignChannels orders the channels of the gap after layer l. An edge
// whose first segment lies on the row where another edge's last segment
// lies must turn before that one begins, or the two would overlap; beyond
// that, edges keep the order of their source rows.
func (t *topology) assignChannels(l int) {
	es := t.channelled(l)
	slices.SortStableFunc(es, func(a, b int) int {
		return cmp.Or(cmp.Compare(t.edges[a].sy, t.edges[b].sy), cmp.Compare(t.edges[a].ty, t.edges[b].ty))
	})
	// mustPrecede(a, b): a's first row is b's last row.
	mustPrecede := func(a, b int) bool { return t.edges[a].sy == t.edges[b].ty }
	for range len(es) * len(es) {
		moved := false
		for i := 0; i+1 < len(es); i++ {
			if mustPrecede(es[i+1], es[i]) && !mustPrecede(es[i], es[i+1]) {
				es[i], es[i+1] = es[i+1], es[i]
				moved = true
			}
		}
		if !moved {
			break
		}
	}
	for k, e := range es {
		t.edges[e].cx = t.gapX[l] + t.lead + k
	}
}

// widen spreads extra columns over the gaps, so that a small graph uses a
// wide pane; the labels get the room.
func (t *topology) widen(extra int) {
	gaps := len(t.layers) - 1
	if gaps <= 0 || extra <= 0 {
		return
	}
	// No more than doubles a gap: a graph stretched thin reads badly.
	per := min(extra/gaps, t.lead+4)
	if per == 0 {
		return
	}
	for l := range t.layers {
		shift := per * l
		for _, i := range t.layers[l] {
			t.nodes[i].x += shift
		}
		t.gapX[l] += shift
		if l < gaps {
			t.gapW[l] += per
		}
	}
	for i := range t.edges {
		e := &t.edges[i]
		if e.cx >= 0 {
			e.cx += per * (t.nodes[e.from].layer + 1)
		}
	}
	t.lead += per
	t.width += per * gaps
}
