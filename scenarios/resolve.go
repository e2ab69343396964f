package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/faultline/faultline/internal/suggest"
	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/resilience"
)

// compKind is what a component is.
type compKind uint8

const (
	kindService compKind = iota
	kindGateway
	kindClient
	kindBroker
	kindStore
	kindView
)

func (k compKind) String() string {
	switch k {
	case kindGateway:
		return "gateway"
	case kindClient:
		return "client"
	case kindBroker:
		return "broker"
	case kindStore:
		return "store"
	case kindView:
		return "view"
	}
	return "service"
}

// pool says whether the component is a service or a gateway: one of
// spec.Services.
func (k compKind) pool() bool { return k == kindService || k == kindGateway }

// comp is a component: idx is its index in spec.Services (a service or a
// gateway), spec.Clients, spec.Brokers, spec.Stores or spec.Views.
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
// in file order, then clients, brokers, stores and views.
func (b *builder) namesOf(kinds ...compKind) []string {
	var out []string
	for i, s := range b.spec.Services {
		if c, ok := b.comps[s.Name]; ok && c.kind.pool() && c.idx == i && slices.Contains(kinds, c.kind) {
			out = append(out, s.Name)
		}
	}
	add := func(kind compKind, i int, name string) {
		if c, ok := b.comps[name]; ok && c.kind == kind && c.idx == i && slices.Contains(kinds, kind) {
			out = append(out, name)
		}
	}
	for i, c := range b.spec.Clients {
		add(kindClient, i, c.Name)
	}
	for i, c := range b.spec.Brokers {
		add(kindBroker, i, c.Name)
	}
	for i, c := range b.spec.Stores {
		add(kindStore, i, c.Name)
	}
	for i, c := range b.spec.Views {
		add(kindView, i, c.Name)
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
	for k, count := range map[compKind]int{kindClient: len(b.spec.Clients), kindBroker: len(b.spec.Brokers),
		kindStore: len(b.spec.Stores), kindView: len(b.spec.Views)} {
		if slices.Contains(kinds, k) {
			n += count
		}
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
			"names must be unique across clients, services, gateways, brokers, stores and views")
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
	var ringPoints, hostCells int64
	for _, r := range b.refs {
		c, ok := b.comps[r.name]
		if r.kind == clientTarget {
			switch {
			case !ok:
				r.t.valErr(r.key, fmt.Sprintf("unknown service or gateway %q", r.name), b.nameHint(r.name, "[[service]] or [[gateway]]", kindService, kindGateway))
			case c.kind == kindClient:
				r.t.valErr(r.key, fmt.Sprintf("%q is a client, not a service or gateway", r.name), "clients send requests; a [[service]] or a [[gateway]] receives them")
			case !c.kind.pool():
				r.t.valErr(r.key, fmt.Sprintf("%q is a %s, not a service or gateway", r.name, c.kind),
					fmt.Sprintf("clients send requests to a service or a gateway; a service reaches the %s %s", c.kind, reachedBy(c.kind)))
			default:
				b.operation(r, c)
			}
			continue
		}
		if r.kind == callTo && (r.op == "" || !ok || c.kind == kindService) {
			b.callOp(r, c, ok)
		}
		switch {
		case !ok && r.kind == callTo && r.op == "" && b.tablesOf(kindStore, kindView) > 0:
			r.t.valErr(r.key, fmt.Sprintf("unknown service, store or view %q", r.name), b.nameHint(r.name, "[[service]], [[store]] or [[view]]", kindService, kindStore, kindView))
		case !ok:
			r.t.valErr(r.key, fmt.Sprintf("unknown service %q", r.name), b.nameHint(r.name, "[[service]]", kindService))
		case c.kind == kindClient:
			r.t.valErr(r.key, fmt.Sprintf("%q is a client, not a service", r.name), "clients send requests; only a [[service]] receives them")
		case r.kind == routeTo && r.key == "service" && c.kind != kindService:
			// [gateway.ext_authz]'s service, the one routeTo ref not
			// named by "to".
			r.t.valErr(r.key, fmt.Sprintf("%q is a %s: the authorization check calls a service", r.name, c.kind),
				"name the [[service]] that authorizes the requests, as Envoy's ext_authz names its authorization server")
		case c.kind == kindGateway && r.kind == routeTo:
			r.t.valErr(r.key, fmt.Sprintf("%q is a gateway: a route goes to a service", r.name), "gateways are called by clients, not by other gateways")
		case c.kind == kindGateway:
			r.t.valErr(r.key, fmt.Sprintf("%q is a gateway: gateways are called by clients", r.name),
				"call the service behind the gateway's route directly")
		case r.kind == routeTo && c.kind != kindService:
			r.t.valErr(r.key, fmt.Sprintf("%q is a %s: a route goes to a service", r.name, c.kind),
				fmt.Sprintf("route to a service, which reaches the %s %s", c.kind, reachedBy(c.kind)))
		case c.kind == kindBroker:
			r.t.valErr(r.key, fmt.Sprintf("%q is a broker: a service does not call it", r.name),
				"a service produces records with a [[service.publish]] and consumes them with a [[service.consume]], naming a topic")
		case (c.kind == kindStore || c.kind == kindView) && r.op != "":
			r.t.valErr(r.key, fmt.Sprintf("%q is a %s: only a service has operations", r.name, c.kind),
				fmt.Sprintf(`write to = %q; what the call does to the %s is its op`, r.name, c.kind))
		case c.kind == kindStore || c.kind == kindView:
			// Checked by callOp.
		default:
			b.operation(r, c)
			if c.idx != r.caller {
				// An in-process call: its cycles are among operations
				// (inProcessCycles).
				edges[r.caller] = append(edges[r.caller], edge{to: c.idx, call: r.t})
			}
			if b.callOf(r).Balancer == resilience.RingHash {
				ringPoints += int64(maxCount(&b.spec.Services[c.idx])) * resilience.DefaultRingSize
				if ringPoints > maxRingPoints {
					r.t.valErr("balancer", fmt.Sprintf("the ring_hash balancers of the scenario would hold more than %d points", maxRingPoints),
						fmt.Sprintf("each ring holds %d points per instance of its callee; use another balancer, or fewer instances", resilience.DefaultRingSize))
				}
			}
			b.checkHostCells(r, c, &hostCells)
		}
	}
	return edges
}

// operation checks the operation a reference to the service or gateway c
// names, if any, and says whether it is one of c's (or not worth a second
// error).
func (b *builder) operation(r ref, c comp) bool {
	if r.op == "" {
		return true
	}
	s := &b.spec.Services[c.idx]
	if c.kind == kindGateway {
		r.t.valErr(r.key, fmt.Sprintf("%q is a gateway: only a service has operations", r.name),
			"a gateway's routes go to services; name the service's operation in the route's to")
		return false
	}
	var names []string
	for _, op := range s.Operations {
		if op.Name == r.op {
			return true
		}
		names = append(names, op.Name)
	}
	if !b.pools[c.idx].opsOK {
		return false // an operation's name is wrong, which is reported
	}
	hint := fmt.Sprintf("operations of %q: %s", r.name, strings.Join(names, ", "))
	switch {
	case len(names) == 0:
		hint = fmt.Sprintf("%q has no [[service.operation]]: name the service alone, %q", r.name, r.name)
	case suggest.Closest(r.op, names) != "":
		hint = fmt.Sprintf("did you mean %q?", r.name+"."+suggest.Closest(r.op, names))
	}
	r.t.valErr(r.key, fmt.Sprintf("service %q has no operation %q", r.name, r.op), hint)
	return false
}

// reachedBy says how a service reaches a data component, for hints.
func reachedBy(k compKind) string {
	switch k {
	case kindBroker:
		return "with [[service.publish]] and [[service.consume]]"
	case kindStore:
		return `with a [[service.call]] that has op = "read", "write" or "conditional_write"`
	}
	return "with a [[service.call]]"
}

// conditionalWrite checks that conditional write r has a version to be
// conditioned on: it writes the request's key, which an earlier call of
// the same list reads from the same store.
func (b *builder) conditionalWrite(r ref, call *sim.Call) {
	t := r.t
	if call.Key != sim.KeyRequest {
		t.valErr("op", fmt.Sprintf("a conditional write of %q needs key = \"request\": it writes the key the request read", r.name),
			`add key = "request", to this call and to the read before it`)
		return
	}
	calls := b.spec.Services[r.caller].Calls
	if r.opn > 0 {
		calls = b.spec.Services[r.caller].Operations[r.opn-1].Calls
	}
	for _, c := range calls[:r.call] {
		if c.To == r.name && c.Op == sim.OpRead && c.Key == sim.KeyRequest {
			return
		}
	}
	t.valErr("op", fmt.Sprintf("a conditional write of %q needs a read of its key before it: it is conditioned on the version read", r.name),
		fmt.Sprintf(`add a [[service.call]] with to = %q, op = "read", key = "request" before this one`, r.name))
}

// instanceKeys are the call keys that pick one of the callee's instances,
// which a call to a store or a view does not do.
var instanceKeys = []string{"balancer", "choice_count", "outlier_detection", "health_check", "fanout"}

// dataNetworkKeys are the keys of an edge's network time that a call to a
// store or a view has no use for: a store's replica messages take its WARS
// delays, and a view read the network's (scenarios.md, [[service.call]]).
var dataNetworkKeys = []string{"latency", "response_latency", "round_trip"}

// callOp checks the op and key of a call against its callee c (ok when the
// callee is known) and fills in the op of a read from a view.
func (b *builder) callOp(r ref, c comp, ok bool) {
	t := r.t
	call := b.callOf(r)
	hasOp, hasKey := t.has("op"), t.has("key")
	switch {
	case !ok || c.kind == kindClient || c.kind == kindBroker:
		// The callee is wrong, which resolve reports.
	case c.kind == kindStore:
		if !hasOp {
			t.headerErr(fmt.Sprintf("missing required key \"op\" in %s: %q is a store", t.what, r.name), `add op = "read" or op = "write"`)
		}
		for _, k := range instanceKeys {
			if t.has(k) {
				t.keyErr(k, fmt.Sprintf("%s does not apply to a call to a store", k), "a store operation goes to all the store's replicas, not to one instance")
			}
		}
		for _, k := range dataNetworkKeys {
			if t.has(k) {
				t.keyErr(k, fmt.Sprintf("%s does not apply to a call to a store", k), "the messages to and from the replicas take the store's WARS delays (its write_delay, ack_delay, read_delay, response_delay)")
			}
		}
		if call.Op == sim.OpConditionalWrite {
			b.conditionalWrite(r, call)
		}
	case c.kind == kindView:
		if hasOp && call.Op == sim.OpWrite {
			t.valErr("op", fmt.Sprintf("view %q is read-only: op must be \"read\"", r.name),
				fmt.Sprintf("records reach a view from its topic %q: publish to it with a [[service.publish]]", b.spec.Views[c.idx].Topic))
		}
		if !hasOp {
			call.Op = sim.OpRead
		}
		for _, k := range instanceKeys {
			if t.has(k) {
				t.keyErr(k, fmt.Sprintf("%s does not apply to a call to a view", k), "a view is one read model, not a pool of instances")
			}
		}
		for _, k := range dataNetworkKeys {
			if t.has(k) {
				t.keyErr(k, fmt.Sprintf("%s does not apply to a call to a view", k), "a view read takes two hops of the [network] latency")
			}
		}
	case hasOp:
		t.keyErr("op", fmt.Sprintf("op applies only to a call to a store or a view; %q is a %s", r.name, c.kind),
			"remove op: a service serves the request with its own model")
	case hasKey:
		t.keyErr("key", fmt.Sprintf("key applies only to a call to a store or a view; %q is a %s", r.name, c.kind),
			"remove key: it is the key a store operation or a view read uses")
	}
}

// checkHostCells bounds the per-host state that every caller instance of
// the call r to service c keeps (outlier detection and least_request
// counts, under scope = "instance"), summed over the scenario in *cells.
func (b *builder) checkHostCells(r ref, c comp, cells *int64) {
	call := b.callOf(r)
	if call.Scope != sim.PerInstance || (call.Outlier == nil && call.Balancer != resilience.LeastRequest) {
		return
	}
	before := *cells
	*cells += int64(maxCount(&b.spec.Services[r.caller])) * int64(maxCount(&b.spec.Services[c.idx]))
	if before > maxHostCells || *cells <= maxHostCells {
		return // reported once
	}
	msg := fmt.Sprintf("each caller instance keeps outlier detection or least_request counts for each callee instance: more than %d in all", maxHostCells)
	hint := `write scope = "service" on the call to share one state among the caller's instances, or use fewer instances`
	key := "balancer"
	switch {
	case r.t.has("scope"):
		key = "scope"
	case call.Outlier != nil:
		r.t.keyErr("outlier_detection", msg, hint)
		return
	}
	r.t.valErr(key, msg, hint)
}

// maxHostCells bounds the per-caller-instance, per-callee-instance state of
// the scenario, which the engine allocates as callers start.
const maxHostCells = 1 << 24

// maxRingPoints bounds the points of all ring_hash rings, which the engine
// allocates up front: 100 per instance of the callee, per edge.
const maxRingPoints = 1 << 24

// nameHint helps with an unknown name; what says what was expected, kinds
// which components would do.
func (b *builder) nameHint(name, what string, kinds ...compKind) string {
	names := b.namesOf(kinds...)
	if s := suggest.Closest(name, names); s != "" {
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
		case !ok || !tgt.kind.pool():
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
			if s := suggest.Closest(c.Route, paths); s != "" {
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
