package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/faultline/faultline/sim"
)

var (
	gatewayKeys  = []string{"name", "instances", "workers", "queue", "service_time", "queue_timeout", "queue_discipline", "concurrency_model", "rps", "burst", "max_tokens", "tokens_per_fill", "fill_interval", "second", "minute", "hour", "policy", "limit_by", "autoscale", "readiness_probe", "endpoint_update_delay", "route", "ext_authz", "latency_objective"}
	routeKeys    = slices.Concat([]string{"path", "to", "weight", "timeout", "backend", "latency_objective"}, edgeNetworkKeys, resilienceKeys)
	extAuthzKeys = []string{"service", "timeout", "failure_mode_allow"}
	backendKeys  = []string{"to", "timeout", "required"}
)

// defaultGatewayWorkers is a gateway's workers per instance: it mostly
// waits on the services behind it, so it holds many requests at once.
const defaultGatewayWorkers = 1000

// defaultRouteTimeout is a route's timeout when it sets none: Envoy's
// RouteAction.timeout: "If not specified, the default is 15s", it "includes
// all retries", and "a value of 0 will disable the route's timeout"
// (api/envoy/config/route/v3/route_components.proto, field timeout).
const defaultRouteTimeout = 15 * time.Second

// maxWeight bounds a route's weight so that the weights of a gateway's
// routes add up to a finite number.
const maxWeight = 1e9

// notOnRoutes are the [[service.call]] keys a route does not take, and why.
var notOnRoutes = map[string]string{
	"probability": "a gateway sends each request down exactly one route: the client's route, or one drawn by weight; use weight to share the requests",
	"group":       "routes are alternatives, not calls made together; a route calls several services at once with [[gateway.route.backend]]",
	"fanout":      "a route forwards one request; put the fanout on a [[service.call]] of the service behind the route",
	"op":          "a route goes to a service; the service behind the route reads or writes a store or a view with a [[service.call]] that has op",
	"key":         "a route goes to a service; key chooses the key of a store operation, on a [[service.call]] to a store or a view",
}

// gateway reads a [[gateway]]: a service whose calls are its routes.
func (b *builder) gateway(i int, t *table) sim.Service {
	g := sim.Service{Instances: 1, Workers: defaultGatewayWorkers, Queue: sim.Unbounded, Gateway: &sim.Gateway{}}
	idx := len(b.spec.Services)
	g.Name = b.component(t, i, "[[gateway]]", `name = "gateway"`, comp{kind: kindGateway, idx: idx})
	t.known(gatewayKeys...)
	b.pool(t, "gateway", &g)
	rps, rpsOK := t.number("rps", interval{Lo: 0, Hi: maxRate, LoOpen: true}, "leave rps out for no rate limit")
	if rpsOK {
		g.Gateway.RPS = rps
		g.Gateway.Burst = int(math.Ceil(rps))
	}
	if t.has("burst") {
		if !t.has("rps") {
			t.keyErr("burst", "burst applies only with rps", "rps sets the gateway's rate limit, burst how many requests may pass at once above it")
		} else if n, ok := t.integer("burst", 1, maxInt); ok {
			g.Gateway.Burst = n
		}
	}

	b.envoyBucket(t, g.Gateway)
	if at := t.table("ext_authz", "[gateway.ext_authz]"); at != nil {
		g.Gateway.ExtAuthz = b.extAuthz(idx, at)
	}
	kongLimit(t, g.Gateway)

	routes := t.tables("route", "[[gateway.route]]")
	if len(routes) == 0 && !t.has("route") {
		t.headerErr(fmt.Sprintf("%s has no [[gateway.route]]: a gateway needs at least one", t.what),
			`add a [[gateway.route]] with a path and the service it goes to: path = "/", to = "api"`)
	}
	paths := make(map[string]int) // route number of each path
	for k, rt := range routes {
		g.Calls = append(g.Calls, b.route(idx, k, rt, t.what, paths, maxCount(&g)))
	}
	return g
}

// minFillInterval is Envoy's least fill_interval: "local rate limit token
// bucket fill timer must be >= 50ms" (source/extensions/filters/common/
// local_ratelimit/local_ratelimit_impl.cc).
const minFillInterval = 50 * time.Millisecond

// envoyBucket reads Envoy's local rate limit bucket (type.v3.TokenBucket):
// max_tokens and fill_interval are required together, tokens_per_fill
// defaults to 1, as in Envoy.
func (b *builder) envoyBucket(t *table, g *sim.Gateway) {
	if !t.has("max_tokens") {
		for _, k := range []string{"tokens_per_fill", "fill_interval"} {
			if t.has(k) {
				t.keyErr(k, k+" applies only with max_tokens", "max_tokens, tokens_per_fill and fill_interval are Envoy's token bucket: max_tokens = 100, fill_interval = \"1s\"")
			}
		}
		return
	}
	if t.has("rps") {
		t.keyErr("max_tokens", "max_tokens and rps are two rate limits: give one", "max_tokens with fill_interval is Envoy's bucket refilled every interval; rps with burst refills continuously")
		return
	}
	if n, ok := t.integer("max_tokens", 1, math.MaxUint32); ok {
		g.MaxTokens = n
	}
	g.TokensPerFill = 1
	if t.has("tokens_per_fill") {
		if n, ok := t.integer("tokens_per_fill", 1, math.MaxUint32); ok {
			g.TokensPerFill = n
		}
	}
	if t.require("fill_interval", `fill_interval = "1s"`) {
		if d, ok := t.duration("fill_interval"); ok {
			if d < minFillInterval {
				t.valErr("fill_interval", fmt.Sprintf("fill_interval %v is below Envoy's least, 50ms", d), `fill_interval = "50ms" or more`)
			} else {
				g.FillInterval = d
			}
		}
	}
}

// extAuthz reads a gateway's [gateway.ext_authz]: Envoy's external
// authorization filter, with its defaults (timeout 200ms,
// failure_mode_allow false: the filter fails closed). Source:
// envoyproxy.io, "External Authorization" (arch overview and the HTTP
// filter's configuration: "Default is 200ms"; failure_mode_allow "The
// default setting is false").
func (b *builder) extAuthz(gw int, t *table) *sim.ExtAuthz {
	a := &sim.ExtAuthz{Timeout: sim.DefaultExtAuthzTimeout}
	t.known(extAuthzKeys...)
	if t.require("service", `service = "auth"`) {
		if name, ok := t.str("service"); ok {
			a.Service = name
			b.refs = append(b.refs, ref{t: t, key: "service", name: name, kind: routeTo, caller: gw, extra: true})
		}
	}
	if d, ok := t.duration("timeout"); ok {
		if d <= 0 {
			t.valErr("timeout", fmt.Sprintf("timeout %v must be positive: the check waits at most this long", d), `timeout = "200ms", Envoy's default`)
		} else {
			a.Timeout = d
		}
	}
	a.FailureModeAllow, _ = t.boolean("failure_mode_allow")
	return a
}

// backend reads backend k of a route: a further call the route makes
// with its own, optional unless required (a KrakenD endpoint's backends
// answer in part when some fail).
func (b *builder) backend(gw, k int, t *table, route string) sim.Call {
	c := sim.Call{Probability: 1, Fanout: 1, Weight: 1, Fallback: true}
	t.what = fmt.Sprintf("[[gateway.route.backend]] #%d of %s", k+1, route)
	t.known(backendKeys...)
	if t.require("to", `to = "recommendations"`) {
		if to, ok := t.str("to"); ok {
			if name, op, ok := t.operationRef("to", to); ok {
				c.To, c.Operation = name, op
				b.refs = append(b.refs, ref{t: t, key: "to", name: name, op: op, kind: routeTo, caller: gw, extra: true})
			}
		}
	}
	if d, ok := t.nonNegative("timeout"); ok {
		c.Timeout = d
	}
	if req, ok := t.boolean("required"); ok {
		c.Fallback = !req
	}
	return c
}

// kongPeriodKeys are Kong's config.second, config.minute and config.hour,
// in the order of resilience.KongPeriods.
var kongPeriodKeys = [...]string{"second", "minute", "hour"}

var (
	kongPolicies = []string{"local", "cluster"}
	kongLimitBy  = []string{"consumer", "ip"}
)

// kongLimit reads Kong's rate-limiting plugin (kong/plugins/rate-limiting/
// schema.lua): limits per second, minute and hour, each > 0, a longer
// period's not below a shorter one's (validate_periods_order); policy
// "local" by default, limit_by "consumer" by default. Kong's other periods
// (day, month, year) and its redis policy are not modelled.
func kongLimit(t *table, g *sim.Gateway) {
	var k sim.KongLimit
	set, prev := -1, -1 // the shortest period given, the last valid one
	for p, key := range kongPeriodKeys {
		if !t.has(key) {
			continue
		}
		if set < 0 {
			set = p
		}
		n, ok := t.integer(key, 1, maxInt)
		if !ok {
			continue
		}
		k.Limits[p] = int64(n)
		if prev >= 0 && k.Limits[p] < k.Limits[prev] {
			t.valErr(key, fmt.Sprintf("the limit per %s (%d) cannot be lower than the limit per %s (%d)", key, n, kongPeriodKeys[prev], k.Limits[prev]), "as in Kong, a longer period allows at least as many requests as a shorter one")
			continue
		}
		prev = p
	}
	if set < 0 {
		for _, key := range []string{"policy", "limit_by"} {
			if t.has(key) {
				t.keyErr(key, key+" applies only with Kong's limits", "second, minute and hour are Kong's rate limits: minute = 100")
			}
		}
		return
	}
	for _, other := range []string{"rps", "max_tokens"} {
		if t.has(other) {
			t.keyErr(kongPeriodKeys[set], kongPeriodKeys[set]+" and "+other+" are two rate limits: give one", "second, minute and hour are Kong's fixed windows; max_tokens Envoy's bucket; rps x/time/rate's")
			return
		}
	}
	if i, ok := t.enum("policy", kongPolicies); ok {
		k.Cluster = i == 1
	}
	if i, ok := t.enum("limit_by", kongLimitBy); ok {
		k.ByIP = i == 1
	}
	g.Kong = &k
}

// route reads route k of the gateway at index gw of spec.Services, which
// may have up to callers instances.
func (b *builder) route(gw, k int, t *table, owner string, paths map[string]int, callers int) sim.Call {
	c := sim.Call{Probability: 1, Fanout: 1, Weight: 1}
	t.what = fmt.Sprintf("[[gateway.route]] #%d of %s", k+1, owner)
	if t.require("path", `path = "/checkout"`) {
		if p, ok := t.str("path"); ok {
			switch {
			case !strings.HasPrefix(p, "/"):
				t.valErr("path", fmt.Sprintf("path %q must start with \"/\"", p), fmt.Sprintf("write path = %q", "/"+strings.TrimSpace(p)))
			case strings.ContainsFunc(p, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }):
				t.valErr("path", fmt.Sprintf("path %q must not contain spaces or control characters", p), "")
			default:
				if first, dup := paths[p]; dup {
					t.valErr("path", fmt.Sprintf("duplicate path %q: route #%d of %s has it already", p, first, owner), "each route of a gateway needs its own path")
				} else {
					paths[p] = k + 1
				}
				c.Path = p
				t.what = fmt.Sprintf("[[gateway.route]] %q of %s", p, owner)
			}
		}
	}
	for _, key := range sortedKeys(t.m) {
		if why, ok := notOnRoutes[key]; ok {
			t.keyErr(key, fmt.Sprintf("%s does not apply to a route", key), why)
			delete(t.m, key) // reported: known must not report it again
		}
	}
	t.known(routeKeys...)
	if t.require("to", `to = "api"`) {
		if to, ok := t.str("to"); ok {
			if name, op, ok := t.operationRef("to", to); ok {
				c.To, c.Operation = name, op
				b.refs = append(b.refs, ref{t: t, key: "to", name: name, op: op, kind: routeTo, caller: gw, call: k})
			}
		}
	}
	if f, ok := t.number("weight", interval{Lo: 0, Hi: maxWeight, LoOpen: true}, "weights are relative: a route of weight 2 gets twice the requests of one of weight 1"); ok {
		c.Weight = f
	}
	c.Timeout = defaultRouteTimeout
	if d, ok := t.nonNegative("timeout"); ok {
		c.Timeout = d // "0s": no timeout, as Envoy's 0 disables it
	}
	c.LatencyObjective = latencyObjective(t)
	t.edgeNetwork(&c)
	b.resilience(t, "gateway.route", &c, callers)
	for j, bt := range t.tables("backend", "[[gateway.route.backend]]") {
		bk := b.backend(gw, j, bt, t.what)
		if bk.To != "" && routeCalls(&c, bk) {
			// A KrakenD endpoint's backends differ by host or by
			// url_pattern; here the url is an operation. The same call
			// twice would be two edges of one name, each half of the
			// route's traffic to it, and a fault on it ambiguous.
			what, hint := "the route's own to", "the route calls its to already: name another service"
			if c.To != bk.To || c.Operation != bk.Operation {
				what, hint = "an earlier backend of the route", "name another service"
			}
			op := bk.To
			if bk.Operation != "" {
				op += "." + bk.Operation
			}
			bt.valErr("to", fmt.Sprintf("backend %q is %s: the route would call it twice", op, what),
				hint+`, or another operation of it (to = "`+bk.To+`.<operation>")`)
			continue
		}
		c.Backends = append(c.Backends, bk)
	}
	return c
}

// routeCalls reports whether route c already makes the call bk names: its
// own to, or one of its backends, with the same operation.
func routeCalls(c *sim.Call, bk sim.Call) bool {
	if c.To == bk.To && c.Operation == bk.Operation {
		return true
	}
	for _, o := range c.Backends {
		if o.To == bk.To && o.Operation == bk.Operation {
			return true
		}
	}
	return false
}
