package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/faultline/faultline/sim/resilience"
)

// compKind is what a component is.
type compKind uint8

const (
	kindService compKind = iota
	kindGateway
	kindClient
)

func (k compKind) String() string {
	switch k {
	case kindGateway:
		return "gateway"
	case kindClient:
		return "client"
	}
	return "service"
}

// comp is a component: idx is its index in spec.Services (a service or a
// gateway) or in spec.Clients.
type comp struct {
	kind compKind
	idx  int
}

// components indexes every component that has a valid name; of two with
// the same name, the one written first keeps it, as uniqueNames reports the
// other.
func (b *builder) components() {
	b.comps = make(map[string]comp)
	defs := slices.Clone(b.names)
	slices.SortStableFunc(defs, func(x, y nameDef) int { return cmp.Compare(x.off, y.off) })
	for _, d := range defs {
		if _, dup := b.comps[d.name]; !dup {
			b.comps[d.name] = d.comp
		}
	}
}

// namesOf lists the components of the given kinds: services and gateways
// in file order, then clients.
func (b *builder) namesOf(kinds ...compKind) []string {
	var out []string
	for i, s := range b.spec.Services {
		if c, ok := b.comps[s.Name]; ok && c.kind != kindClient && c.idx == i && slices.Contains(kinds, c.kind) {
			out = append(out, s.Name)
		}
	}
	for i, cl := range b.spec.Clients {
		if c, ok := b.comps[cl.Name]; ok && c.kind == kindClient && c.idx == i && slices.Contains(kinds, kindClient) {
			out = append(out, cl.Name)
		}
	}
	return out
}

// tablesOf counts the tables of the given kinds, named or not.
func (b *builder) tablesOf(kinds ...compKind) int {
	n := 0
	for _, s := range b.spec.Services {
		if s.Gateway == nil && slices.Contains(kinds, kindService) || s.Gateway != nil && slices.Contains(kinds, kindGateway) {
			n++
		}
	}
	if slices.Contains(kinds, kindClient) {
		n += len(b.spec.Clients)
	}
	return n
}

// uniqueNames reports every name defined before, at its later definition.
func (b *builder) uniqueNames() {
	defs := slices.Clone(b.names)
	slices.SortStableFunc(defs, func(x, y nameDef) int { return cmp.Compare(x.off, y.off) })
	first := make(map[string]nameDef)
	for _, d := range defs {
		f, dup := first[d.name]
		if !dup {
			first[d.name] = d
			continue
		}
		line, _ := b.ix.lineCol(f.off)
		b.errorAt(d.off, fmt.Sprintf("duplicate name %q: the %s on line %d has it already", d.name, f.header, line),
			"names must be unique across clients, services and gateways")
	}
}

// edge is a call from one service or gateway to a service, for the cycle
// check.
type edge struct {
	to   int
	call *table
}

// resolve checks that every reference names a component of the right kind
// and returns the calls between services, by caller.
func (b *builder) resolve() [][]edge {
	b.components()
	edges := make([][]edge, len(b.spec.Services))
	var ringPoints int64
	for _, r := range b.refs {
		c, ok := b.comps[r.name]
		if r.kind == clientTarget {
			switch {
			case !ok:
				r.t.valErr(r.key, fmt.Sprintf("unknown service or gateway %q", r.name), b.nameHint(r.name, "[[service]] or [[gateway]]", kindService, kindGateway))
			case c.kind == kindClient:
				r.t.valErr(r.key, fmt.Sprintf("%q is a client, not a service or gateway", r.name), "clients send requests; a [[service]] or a [[gateway]] receives them")
			}
			continue
		}
		switch {
		case !ok:
			r.t.valErr(r.key, fmt.Sprintf("unknown service %q", r.name), b.nameHint(r.name, "[[service]]", kindService))
		case c.kind == kindClient:
			r.t.valErr(r.key, fmt.Sprintf("%q is a client, not a service", r.name), "clients send requests; only a [[service]] receives them")
		case c.kind == kindGateway && r.kind == routeTo:
			r.t.valErr(r.key, fmt.Sprintf("%q is a gateway: a route goes to a service", r.name), "gateways are called by clients, not by other gateways")
		case c.kind == kindGateway:
			r.t.valErr(r.key, fmt.Sprintf("%q is a gateway: gateways are called by clients", r.name),
				"call the service behind the gateway's route directly")
		default:
			edges[r.caller] = append(edges[r.caller], edge{to: c.idx, call: r.t})
			if b.spec.Services[r.caller].Calls[r.call].Balancer == resilience.RingHash {
				ringPoints += int64(maxCount(&b.spec.Services[c.idx])) * resilience.DefaultRingSize
				if ringPoints > maxRingPoints {
					r.t.valErr("balancer", fmt.Sprintf("the ring_hash balancers of the scenario would hold more than %d points", maxRingPoints),
						fmt.Sprintf("each ring holds %d points per instance of its callee; use another balancer, or fewer instances", resilience.DefaultRingSize))
				}
			}
		}
	}
	return edges
}

// maxRingPoints bounds the points of all ring_hash rings, which the engine
// allocates up front: 100 per instance of the callee, per edge.
const maxRingPoints = 1 << 24

// nameHint helps with an unknown name; what says what was expected, kinds
// which components would do.
func (b *builder) nameHint(name, what string, kinds ...compKind) string {
	names := b.namesOf(kinds...)
	if s := suggest(name, names); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	var label []string
	for _, k := range kinds {
		label = append(label, k.String()+"s")
	}
	switch n := len(names); {
	case n == 0 && b.tablesOf(kinds...) == 0:
		return fmt.Sprintf("no %s is defined", what)
	case n == 0:
		return fmt.Sprintf("no %s has a valid name", what)
	case n > 10:
		return fmt.Sprintf("%s: %s, ... (%d in all)", strings.Join(label, " and "), strings.Join(names[:10], ", "), n)
	}
	return fmt.Sprintf("%s: %s", strings.Join(label, " and "), strings.Join(names, ", "))
}

// clientRoutes checks the route of each client that names one against its
// target's routes.
func (b *builder) clientRoutes() {
	for _, rr := range b.routes {
		c := b.spec.Clients[rr.client]
		tgt, ok := b.comps[c.Target]
		switch {
		case !ok || tgt.kind == kindClient:
			// The target is wrong, which is reported already.
		case tgt.kind == kindService:
			rr.t.keyErr("route", fmt.Sprintf("route applies only to a client whose target is a [[gateway]]; %q is a service", c.Target),
				"remove route: a service has no routes")
		default:
			var paths []string
			for _, r := range b.spec.Services[tgt.idx].Calls {
				if r.Path != "" {
					paths = append(paths, r.Path)
				}
			}
			if slices.Contains(paths, c.Route) || len(paths) < len(b.spec.Services[tgt.idx].Calls) {
				continue // found, or a route's path is wrong and reported
			}
			hint := fmt.Sprintf("routes of %q: %s", c.Target, strings.Join(paths, ", "))
			if s := suggest(c.Route, paths); s != "" {
				hint = fmt.Sprintf("did you mean %q?", s)
			}
			if len(paths) == 0 {
				hint = ""
			}
			rr.t.valErr("route", fmt.Sprintf("gateway %q has no route %q", c.Target, c.Route), hint)
		}
	}
}

// cycles reports each call that closes a cycle, found by a depth-first
// search in file order so that the same file always blames the same call.
func (b *builder) cycles(edges [][]edge) {
	const (
		unseen = iota
		open   // on the current path
		done
	)
	state := make([]int, len(edges))
	var path []int
	var visit func(u int)
	visit = func(u int) {
		state[u] = open
		path = append(path, u)
		for _, e := range edges[u] {
			switch state[e.to] {
			case unseen:
				visit(e.to)
			case open:
				var names []string
				for _, v := range path[slices.Index(path, e.to):] {
					names = append(names, b.spec.Services[v].Name)
				}
				names = append(names, b.spec.Services[e.to].Name)
				e.call.valErr("to", "call cycle: "+strings.Join(names, " -> "),
					"a request would call itself forever; remove one of these calls")
			}
		}
		path = path[:len(path)-1]
		state[u] = done
	}
	for u := range edges {
		if state[u] == unseen {
			visit(u)
		}
	}
}
