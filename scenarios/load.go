package scenarios

import (
	"cmp"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/faultline/faultline/internal/suggest"
	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/resilience"
)

// Limits of the language. They keep a scenario inside what the engine
// represents well, and turn a slip of a digit or a unit into an error
// rather than a run that never ends or exhausts memory.
const (
	maxDuration = 24 * time.Hour
	minWindow   = time.Millisecond
	// maxRate is one request per nanosecond, the resolution of virtual time:
	// a faster client could not space its requests.
	maxRate   = 1e9
	maxFanout = 10000
	// The engine allocates per instance, per user and per window up front,
	// so these bound the memory a scenario can ask for.
	maxInstances = 100_000
	maxUsers     = 1_000_000
	maxWindows   = 1_000_000
)

// The keys of each table, in the order the reference documents them, which
// is also the order "known keys" hints list them. The resilience keys of
// calls and routes are in resilience.go, those of faults in fault.go, those
// of brokers, stores, sagas and views in data.go.
var (
	topTables     = []string{"scenario", "network", "client", "service", "gateway", "broker", "store", "saga", "view", "fault", "variant", "slo"}
	scenarioKeys  = []string{"name", "description", "duration", "warmup", "seed", "window", "cascade_window", "latency_factor"}
	networkKeys   = []string{"latency"}
	clientKeys    = []string{"name", "target", "route", "rate", "arrival", "users", "think_time", "timeout", "keys", "schedule", "latency_objective"}
	stepKeys      = []string{"at", "rate", "ramp"}
	serviceKeys   = []string{"name", "instances", "workers", "queue", "service_time", "after_calls", "errors", "queue_timeout", "queue_discipline", "concurrency_model", "external", "cpu_limit", "cpu_period", "autoscale", "readiness_probe", "endpoint_update_delay", "operation", "call", "publish", "consume", "latency_objective"}
	operationKeys = []string{"name", "service_time", "errors", "after_calls", "weight", "call"}
	callKeys      = slices.Concat([]string{"to", "op", "key", "timeout", "probability", "group", "fanout", "repeat"}, edgeNetworkKeys, resilienceKeys)

	arrivals       = []string{"poisson", "constant"}
	ops            = []string{"read", "write", "conditional_write"} // sim.OpRead, sim.OpWrite, sim.OpConditionalWrite
	callKeyChoices = []string{"random", "request"}                  // sim.KeyRandom, sim.KeyRequest
)

// header is how a top-level table is written.
func header(key string) string {
	if key == "scenario" || key == "network" {
		return "[" + key + "]"
	}
	return "[[" + key + "]]"
}

// Load parses and validates a scenario. filename is used in error messages
// only. When the file has problems, the error is an ErrorList with all of
// them.
func Load(filename string, data []byte) (*sim.Spec, error) {
	b, err := load(filename, data, Options{})
	if err != nil {
		return nil, err
	}
	return b.spec, nil
}

func newBuilder(l *loader, filename string) *builder {
	return &builder{loader: l, spec: &sim.Spec{
		Name:   strings.TrimSuffix(filepath.Base(filename), filepath.Ext(filename)),
		Window: time.Second,
		Seed:   1,
	}}
}

// syntaxOffset is where to put the caret for a TOML syntax error. The
// parser's line and column can disagree with its byte offset at a line
// break, so the offset decides; a span that starts with the blank before
// the unexpected token moves to the token, and an unexpected end of file
// points just after the last thing written, where something is missing.
func syntaxOffset(src string, pe toml.ParseError) int {
	if strings.HasPrefix(pe.Message, "unexpected EOF") || strings.HasSuffix(pe.Message, "but got end of file") ||
		strings.HasSuffix(pe.Message, "but got end of file instead") {
		return len(strings.TrimRight(src, " \t\r\n"))
	}
	off := pe.Position.Start
	for k := 1; k < pe.Position.Len && off < len(src) && (src[off] == ' ' || src[off] == '\t'); k++ {
		off++
	}
	return off
}

// syntaxHint explains the TOML syntax errors a scenario's layout makes
// likely, in the scenario's terms; off is where the caret is. A nested
// header such as [[gateway.route]] written before any [[gateway]] makes
// gateway a plain table (TOML implies the parents of a header), which a
// later [[gateway]] cannot turn into an array: the parser's message names
// the clash, not its cause. The others are the slips of a first scenario:
// a duration or a name without quotes, a key given twice, a colon for =.
// The messages matched are BurntSushi/toml's (lex.go, parse.go).
func syntaxHint(ix *index, msg string, off int) string {
	const created = "was already created and cannot be used as an array"
	key, ok := strings.CutPrefix(msg, "Key '")
	if !ok || !strings.Contains(key, created) {
		return slipHint(ix, msg, off)
	}
	key, _, _ = strings.Cut(key, "'")
	for n := 1; n <= len(ix.lines); n++ {
		if h := strings.TrimSpace(ix.line(n)); strings.HasPrefix(h, "[["+key+".") || strings.HasPrefix(h, "["+key+".") {
			h, _, _ = strings.Cut(h, "#")
			return fmt.Sprintf("the %s on line %d, with no [[%s]] above it, made %s a plain table: write each [[%s]] before the tables that belong to it",
				strings.TrimSpace(h), n, key, key, key)
		}
	}
	return ""
}

// slipHint is the hint for the other syntax errors: what to write instead,
// from the message and the text before the caret on its line.
func slipHint(ix *index, msg string, off int) string {
	line, col := ix.lineCol(off)
	text := ix.line(line)
	before := text[:min(col-1, len(text))]
	key, value, isPair := strings.Cut(before, "=")
	key, value = strings.TrimSpace(key), strings.TrimSpace(value)
	if key == "" {
		key = "name"
	}
	switch {
	case strings.HasPrefix(msg, "expected a top-level item to end with"):
		switch {
		case !isPair:
		case strings.HasSuffix(msg, "but got ',' instead") && isDigits(value):
			return "a number has no thousands separator: write 1000 (or 1_000)"
		case isDigits(value):
			d := value + firstWord(text[min(col-1, len(text)):])
			if _, err := time.ParseDuration(d); err == nil {
				return fmt.Sprintf(`a duration is a string in double quotes, its unit joined to the number: %s = "%s"`, key, d)
			}
			return fmt.Sprintf("a number stands alone after =: %s = %s (a comment starts with #)", key, value)
		case strings.HasPrefix(value, `"`) || strings.HasPrefix(value, "'"):
			return `a string ends at its second quote: write a quote inside one as \" (or use single quotes around it)`
		}
		return "one key = value a line; strings, durations and distributions in double quotes"
	case strings.HasPrefix(msg, "expected value but found"):
		return fmt.Sprintf(`a name, a duration or a distribution is a string in double quotes: %s = "%s"`, key, firstWord(text[min(col-1, len(text)):]))
	case msg == "strings cannot contain newlines":
		return `end the string with a double quote on the same line`
	case strings.HasSuffix(msg, "has already been defined."):
		return "a key is set once in a table: remove one of them; a second component of a kind needs its own [[header]] (another [[service]], say)"
	case strings.HasPrefix(msg, "expected '.' or '='"):
		if strings.HasSuffix(msg, "but got ':' instead") {
			return `a key and its value are joined by =, not a colon: name = "checkout"`
		}
		return `each line is a [table] or [[table]] header, or a key = value pair`
	case strings.Contains(msg, "table name") || strings.Contains(msg, "table array name"):
		return "a header is [name] (one table, such as [scenario]) or [[name]] (one more of a kind, such as [[service]]), on a line of its own"
	case strings.HasSuffix(msg, "but got end of file") && strings.Contains(msg, "array terminator"):
		return "close the array with ]"
	case strings.Contains(msg, "NULL bytes") || strings.HasPrefix(msg, "invalid UTF-8"):
		return "save the file as UTF-8"
	}
	return ""
}

// isDigits reports whether s is a non-empty run of digits, commas and
// points: a number as a person writes it.
func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789.,") == ""
}

// firstWord is the bare word at the start of s, what the parser found
// where a value should be.
func firstWord(s string) string {
	if i := strings.IndexAny(s, " \t#,]}"); i >= 0 {
		s = s[:i]
	}
	return s
}

// builder fills a Spec from the tree. References between components are
// checked once every component is known, so the file's order is free.
type builder struct {
	*loader
	spec   *sim.Spec
	durOK  bool // spec.Duration is valid, so other keys can be checked against it
	names  []nameDef
	refs   []ref
	routes []routeRef
	faults []faultDef
	pools  []poolInfo      // by index in spec.Services
	comps  map[string]comp // every component with a valid name, by name
	dataDefs
	bench benchDefs // variants and SLOs (variant.go, slo.go)

	// cut: the duration was set on the command line (--duration, --set
	// scenario.duration), so a fault or a step past the end is left out
	// of the run rather than an error of the file.
	cut bool
}

// pastEnd reports whether t is too late for a run of the scenario's
// duration to see: an error in the file, but not when the run is cut short
// on the command line, which leaves out what comes after its end.
func (b *builder) pastEnd(t time.Duration) bool {
	return b.durOK && !b.cut && t >= b.spec.Duration
}

// poolInfo says which counts of a service or gateway are valid, so that
// checks against them (a fault on instance #n) do not pile up errors.
type poolInfo struct {
	instancesOK, workersOK bool
	opsOK                  bool // every operation has a valid name
}

// nameDef is where a component's name is defined, and which component
// it names.
type nameDef struct {
	name, header string
	off          int
	comp         comp
}

// refKind is what a reference to a component is.
type refKind uint8

const (
	clientTarget refKind = iota // a client's target: a service or a gateway
	callTo                      // a service's call: a service
	routeTo                     // a gateway's route: a service
)

// ref is a key that names a component, and maybe one of its operations.
type ref struct {
	t      *table
	key    string
	name   string // the component, without the operation
	kind   refKind
	caller int // index in spec.Services of the calling service or gateway, or of the client
	// opn is the number, from 1, of the caller's operation whose call it
	// is; 0 for a service's own call, a route or a client's target.
	opn  int
	call int // index of the call or route in the caller's (or its operation's) Calls
	// op is the operation written after a dot ("search" of
	// "catalog.search"); "" names none.
	op string
	// extra: a route's backend or a gateway's ext_authz service, a call
	// with no policies of its own, not one of the caller's Calls.
	extra bool
}

// callOf returns the call or route a ref of kind callTo or routeTo is.
func (b *builder) callOf(r ref) *sim.Call {
	if r.extra {
		return &sim.Call{}
	}
	s := &b.spec.Services[r.caller]
	if r.opn > 0 {
		return &s.Operations[r.opn-1].Calls[r.call]
	}
	return &s.Calls[r.call]
}

// routeRef is a client's route, checked against its gateway's routes.
type routeRef struct {
	t      *table
	client int
}

func (b *builder) build(root *table) {
	b.topLevel(root)
	if st := root.table("scenario", "[scenario]"); st != nil {
		b.scenario(st)
	} else if !root.has("scenario") {
		b.errorAt(0, "missing required table [scenario]", `add a [scenario] table with at least duration = "60s"`)
	}
	if nt := root.table("network", "[network]"); nt != nil {
		nt.known(networkKeys...)
		if d, ok := nt.modulated("latency"); ok {
			b.spec.Network.Latency = d
		}
	}
	clients := root.tables("client", "[[client]]")
	atLeastOne(root, "client", clients, "add a [[client]] with a name, a target, and a rate or users")
	for i, t := range clients {
		b.spec.Clients = append(b.spec.Clients, b.client(i, t))
	}
	services := root.tables("service", "[[service]]")
	atLeastOne(root, "service", services, "add a [[service]] with a name for the clients to target")
	for i, t := range services {
		b.spec.Services = append(b.spec.Services, b.service(i, t))
	}
	for i, t := range root.tables("gateway", "[[gateway]]") {
		b.spec.Services = append(b.spec.Services, b.gateway(i, t))
	}
	b.data(root)
	for i, t := range root.tables("fault", "[[fault]]") {
		b.spec.Faults = append(b.spec.Faults, b.fault(i, t))
	}
	b.uniqueNames()
	b.cycles(b.resolve())
	b.clientRoutes()
	b.resolveData()
	b.resolveFaults()
	b.variants(root)
	b.slos(root)
}

// topLevel reports what does not belong at the top of the file.
func (b *builder) topLevel(root *table) {
	for _, k := range sortedKeys(root.m) {
		if slices.Contains(topTables, k) {
			continue
		}
		switch root.m[k].(type) {
		case map[string]any, []map[string]any:
			written := "[" + join("", k) + "]"
			if _, isArray := root.m[k].([]map[string]any); isArray {
				written = "[" + written + "]"
			}
			hint := "known tables: [scenario], [network], [[client]], [[service]], [[gateway]], [[broker]], [[store]], [[saga]], [[view]], [[fault]], [[variant]], [[slo]]"
			if s := suggest.Closest(k, topTables); s != "" {
				hint = fmt.Sprintf("did you mean %s?", header(s))
			}
			root.keyErr(k, "unknown table "+written, hint)
		default:
			hint := "every key belongs in a table, such as [scenario]"
			if slices.Contains(scenarioKeys, k) {
				hint = fmt.Sprintf("%s belongs in [scenario]: move it below the [scenario] header", k)
			}
			root.keyErr(k, fmt.Sprintf("unknown key %q at the top level", k), hint)
		}
	}
}

// atLeastOne reports an array of tables that is absent or empty; one whose
// elements are all wrong has been reported already. An --unset (or a
// variant's unset) of its last element leaves an empty []map[string]any,
// which must meet the rule as an empty array written in the file does.
func atLeastOne(root *table, key string, got []*table, hint string) {
	if len(got) > 0 {
		return
	}
	if v, ok := root.m[key]; ok {
		switch a := v.(type) {
		case []any:
			if len(a) > 0 {
				return
			}
		case []map[string]any:
			if len(a) > 0 {
				return
			}
		default:
			return
		}
	}
	root.valErr(key, fmt.Sprintf("no %s: a scenario needs at least one", header(key)), hint)
}

func (b *builder) scenario(t *table) {
	t.known(scenarioKeys...)
	if s, ok := t.str("name"); ok {
		if strings.TrimSpace(s) == "" || strings.ContainsAny(s, "\r\n") {
			t.valErr("name", "name must be one non-empty line", "")
		} else {
			b.spec.Name = s
		}
	}
	if s, ok := t.str("description"); ok {
		if strings.ContainsAny(s, "\r\n") {
			t.valErr("description", "description must be one line", "it is the summary 'faultline list' shows; put details in comments")
		} else {
			b.spec.Description = s
		}
	}
	if t.require("duration", `duration = "60s"`) {
		if d, ok := t.duration("duration"); ok {
			switch {
			case d <= 0:
				t.valErr("duration", fmt.Sprintf("duration must be positive, got %s", dur(d)), "")
			case d > maxDuration:
				t.valErr("duration", fmt.Sprintf("duration must be at most %s, got %s", dur(maxDuration), dur(d)), "")
			default:
				b.spec.Duration, b.durOK = d, true
			}
		}
	}
	if d, ok := t.nonNegative("warmup"); ok {
		if b.durOK && d >= b.spec.Duration {
			t.valErr("warmup", fmt.Sprintf("warmup (%s) must be shorter than duration (%s)", dur(d), dur(b.spec.Duration)),
				"metrics ignore requests that start during the warmup, so nothing would be measured")
		} else {
			b.spec.Warmup = d
		}
	}
	if n, ok := t.integer("seed", 0, maxInt); ok {
		b.spec.Seed = uint64(n)
	}
	if d, ok := t.duration("window"); ok {
		switch {
		case d < minWindow:
			t.valErr("window", fmt.Sprintf("window must be at least %s, got %s", dur(minWindow), dur(d)), "")
		case b.durOK && b.spec.Duration/d > maxWindows:
			least := (b.spec.Duration/maxWindows + time.Millisecond - 1).Truncate(time.Millisecond)
			t.valErr("window", fmt.Sprintf("window %s cuts duration %s into more than %d windows", dur(d), dur(b.spec.Duration), maxWindows),
				fmt.Sprintf("use a window of at least %s", dur(least)))
		default:
			b.spec.Window = d
		}
	}
	if d, ok := t.positiveDuration("cascade_window"); ok {
		b.spec.CascadeWindow = d
	}
	if ft := t.sub("latency_factor", "[latency_factor]", "latency_factor"); ft != nil {
		ft.known("degraded", "failing")
		more := interval{Lo: 1, Hi: math.Inf(1), LoOpen: true}
		hint := "a factor of the level before the first fault: 3 means three times slower"
		b.spec.LatencyFactor.Degraded, _ = ft.number("degraded", more, hint)
		b.spec.LatencyFactor.Failing, _ = ft.number("failing", more, hint)
		d := cmp.Or(b.spec.LatencyFactor.Degraded, sim.DefaultDegradedFactor)
		if f := cmp.Or(b.spec.LatencyFactor.Failing, sim.DefaultFailingFactor); f <= d {
			key := "degraded"
			if ft.has("failing") {
				key = "failing"
			}
			ft.valErr(key, fmt.Sprintf("failing (%g) must be more than degraded (%g)", f, d), "")
		}
	}
}

// latencyObjective reads a client's, service's, gateway's or route's
// latency_objective = { percentile = 99, degraded = "500ms", failing =
// "2s" }: the zero objective when it is absent or bad (reported).
func latencyObjective(t *table) sim.LatencyObjective {
	ot := t.subOr("latency_objective", "latency_objective", "latency_objective of "+t.what,
		`write latency_objective = { percentile = 99, degraded = "500ms", failing = "2s" }`)
	if ot == nil {
		return sim.LatencyObjective{}
	}
	ot.known("percentile", "degraded", "failing")
	o := sim.LatencyObjective{Percentile: 99}
	if p, ok := ot.number("percentile", interval{Lo: 0, Hi: 100, LoOpen: true, HiOpen: true}, "a percentile: 99 is p99"); ok {
		o.Percentile = p
	}
	o.Degraded, _ = ot.positiveDuration("degraded")
	o.Failing, _ = ot.positiveDuration("failing")
	switch {
	case !ot.has("degraded") && !ot.has("failing"):
		ot.headerErr("latency_objective needs a threshold", `write degraded = "500ms", failing = "2s", or both`)
		return sim.LatencyObjective{}
	case o.Degraded > 0 && o.Failing > 0 && o.Failing <= o.Degraded:
		ot.valErr("failing", fmt.Sprintf("failing (%s) must be longer than degraded (%s)", dur(o.Failing), dur(o.Degraded)), "")
	}
	return o
}

// define records a component name for the uniqueness check and for
// references to it.
func (b *builder) define(t *table, name, header string, c comp) {
	b.names = append(b.names, nameDef{name: name, header: header, off: b.ix.find(join(t.path, "name")).val, comp: c})
}

// component reads the name of a top-level component table, such as
// [[store]]: it labels the table for its errors and defines the name. It
// returns "" when the name is missing or bad, which is already reported.
func (b *builder) component(t *table, i int, header, example string, c comp) string {
	t.what = fmt.Sprintf("%s #%d", header, i+1)
	if !t.require("name", example) {
		return ""
	}
	n, ok := t.name("name")
	if !ok {
		return ""
	}
	t.what = fmt.Sprintf("%s %q", header, n)
	b.define(t, n, header, c)
	return n
}

// rate reads a rate in requests per second.
func (t *table) rate(key string) (float64, bool) {
	f, ok := t.float(key)
	switch {
	case !ok:
	case f < 0:
		t.valErr(key, fmt.Sprintf("%s must be >= 0, got %g", key, f), "")
	case f > maxRate:
		t.valErr(key, fmt.Sprintf("%s must be at most 1e9 requests per second (one per nanosecond), got %g", key, f), "")
	default:
		return f, true
	}
	return 0, false
}

func (b *builder) client(i int, t *table) sim.Client {
	c := sim.Client{Arrival: sim.Poisson}
	t.what = fmt.Sprintf("[[client]] #%d", i+1)
	if t.require("name", `name = "users"`) {
		if n, ok := t.name("name"); ok {
			c.Name = n
			t.what = fmt.Sprintf("[[client]] %q", n)
			b.define(t, n, "[[client]]", comp{kind: kindClient, idx: i})
		}
	}
	t.known(clientKeys...)
	if t.require("target", `target = "gateway"`) {
		if s, ok := t.str("target"); ok {
			if name, op, ok := t.operationRef("target", s); ok {
				c.Target, c.Operation = name, op
				b.refs = append(b.refs, ref{t: t, key: "target", name: name, op: op, kind: clientTarget, caller: i})
			}
		}
	}
	if r, ok := t.str("route"); ok {
		c.Route = r
		b.routes = append(b.routes, routeRef{t: t, client: i})
	}
	if n, ok := t.integer("keys", 1, maxInt); ok {
		c.Keys = n
	}
	rate, rateOK := t.rate("rate")
	c.Rate = rate
	if s, ok := t.str("arrival"); ok {
		switch s {
		case "poisson":
			c.Arrival = sim.Poisson
		case "constant":
			c.Arrival = sim.Constant
		default:
			t.valErr("arrival", fmt.Sprintf("unknown arrival %q", s), enumHint(s, arrivals))
		}
	}
	users, usersOK := t.integer("users", 0, maxUsers)
	c.Users = users
	if d, ok := t.dist("think_time"); ok {
		c.ThinkTime = d
	}
	if d, ok := t.nonNegative("timeout"); ok {
		c.Timeout = d
	}
	c.LatencyObjective = latencyObjective(t)
	steps := t.tables("schedule", "[[client.schedule]]")
	c.Schedule = b.schedule(steps, t.what)

	hasRate, hasUsers := t.has("rate"), t.has("users")
	switch {
	case hasRate && hasUsers:
		t.keyErr("users", "rate and users are mutually exclusive",
			"rate makes an open-loop client (requests arrive whatever the system does), users a closed-loop one (each user waits for its answer); keep one")
	case hasUsers:
		if t.has("arrival") {
			t.keyErr("arrival", "arrival applies only to an open-loop client (rate or schedule), not to users",
				"remove arrival: each user sends again after its answer and think_time")
		}
		if t.has("schedule") {
			t.keyErr("schedule", "[[client.schedule]] applies only to an open-loop client, not to users", "use rate instead of users, or remove the schedule")
		}
	case t.has("think_time"):
		t.keyErr("think_time", "think_time applies only to a closed-loop client (users)", "set users, or remove think_time")
	}
	if (hasRate && !rateOK) || (hasUsers && !usersOK) || (hasRate && hasUsers) || rate > 0 || users > 0 || len(steps) > 0 {
		return c
	}
	msg := t.what + " sends no requests"
	hint := "set rate > 0 (open loop), users > 0 (closed loop), or add a [[client.schedule]]"
	switch {
	case hasUsers:
		t.valErr("users", msg, hint)
	case hasRate:
		t.valErr("rate", msg, hint)
	default:
		t.headerErr(msg, hint)
	}
	return c
}

// maxInt bounds integers that become an int.
const maxInt = int64(^uint(0) >> 1)

func enumHint(s string, values []string) string {
	if m := suggest.Closest(s, values); m != "" {
		return fmt.Sprintf("did you mean %q?", m)
	}
	return "one of: " + strings.Join(values, ", ")
}

func (b *builder) schedule(steps []*table, owner string) []sim.RateStep {
	var out []sim.RateStep
	var prev *table // the last step with a valid at
	var last sim.RateStep
	for j, t := range steps {
		t.what = fmt.Sprintf("[[client.schedule]] #%d of %s", j+1, owner)
		t.known(stepKeys...)
		var s sim.RateStep
		atOK := false
		if t.require("at", `at = "30s"`) {
			if at, ok := t.nonNegative("at"); ok {
				switch {
				case b.pastEnd(at):
					t.valErr("at", fmt.Sprintf("at (%s) must be before the end of the run (duration = %s)", dur(at), dur(b.spec.Duration)), "")
				case prev != nil && at <= last.At:
					t.valErr("at", fmt.Sprintf("at (%s) must be after the previous step's at (%s)", dur(at), dur(last.At)), "list the steps in time order")
				default:
					s.At, atOK = at, true
				}
			}
		}
		if t.require("rate", "rate = 100") {
			s.Rate, _ = t.rate("rate")
		}
		s.Ramp, _ = t.nonNegative("ramp")
		if atOK && prev != nil && last.At+last.Ramp > s.At {
			prev.valErr("ramp", fmt.Sprintf("ramp ends at %s, after the next step starts (at = %s)", dur(last.At+last.Ramp), dur(s.At)),
				fmt.Sprintf("shorten the ramp to at most %s", dur(s.At-last.At)))
		}
		if atOK {
			prev, last = t, s
		}
		out = append(out, s)
	}
	return out
}

func (b *builder) service(i int, t *table) sim.Service {
	s := sim.Service{Instances: 1, Workers: 1, Queue: sim.Unbounded}
	t.what = fmt.Sprintf("[[service]] #%d", i+1)
	if t.require("name", `name = "api"`) {
		if n, ok := t.name("name"); ok {
			s.Name = n
			t.what = fmt.Sprintf("[[service]] %q", n)
			b.define(t, n, "[[service]]", comp{kind: kindService, idx: i})
		}
	}
	t.known(serviceKeys...)
	b.pool(t, "service", &s)
	s.AfterCalls, _ = t.fraction("after_calls", false)
	s.Errors, _ = t.fraction("errors", false)
	s.External, _ = t.boolean("external")
	cpuLimit(t, &s)

	ops := t.tables("operation", "[[service.operation]]")
	if len(ops) > 0 && t.has("call") {
		t.keyErr("call", fmt.Sprintf("%s has operations: its calls belong to them", t.what),
			"move each [[service.call]] under the [[service.operation]] that makes it, as a [[service.operation.call]]")
	} else {
		s.Calls = b.calls(i, 0, t.tables("call", "[[service.call]]"), "service.call", t.what, &s)
	}
	b.operations(i, ops, &s, t.what)
	for k, pt := range t.tables("publish", "[[service.publish]]") {
		s.Publishes = append(s.Publishes, b.publish(i, k, pt, t.what))
	}
	for k, ct := range t.tables("consume", "[[service.consume]]") {
		s.Consumes = append(s.Consumes, b.consume(i, k, ct, t.what, s.Name))
	}
	return s
}

// Bounds of a CPU limit. The kernel takes a cpu.cfs_period_us from 1 ms to
// 1 s (kernel/sched/core.c, min_cfs_quota_period and max_cfs_quota_period);
// the kubelet accepts no limit below 10m (pkg/kubelet/cm/helpers_linux.go,
// MinMilliCPULimit), whose quota is its minimum of 1 ms a period.
const (
	minCPUPeriod = time.Millisecond
	maxCPUPeriod = time.Second
	minCPULimit  = 0.01
)

// cpuLimit reads a service's cpu_limit, in cores: a number (0.2) or a
// Kubernetes CPU quantity ("200m", "0.5", "2"); and its cpu_period.
func cpuLimit(t *table, s *sim.Service) {
	v, ok := t.m["cpu_limit"]
	if !ok {
		if t.has("cpu_period") {
			t.keyErr("cpu_period", "cpu_period is the period of a cpu_limit's quota, and there is no cpu_limit",
				`add cpu_limit = "200m", or leave cpu_period out`)
		}
		return
	}
	var cores float64
	switch x := v.(type) {
	case int64:
		cores = float64(x)
	case float64:
		cores = x
	case string:
		c, err := CPUQuantity(x)
		if err != nil {
			t.valErr("cpu_limit", fmt.Sprintf("cpu_limit %q is not a CPU quantity", x),
				`write cores as a number (cpu_limit = 0.2) or a Kubernetes quantity such as "200m" or "1.5"`)
			return
		}
		cores = c
	default:
		t.typeErr("cpu_limit", v, "a number of cores or a CPU quantity", `cpu_limit = 0.2 or cpu_limit = "200m"`)
		return
	}
	if !(cores >= minCPULimit) || math.IsInf(cores, 0) {
		t.valErr("cpu_limit", fmt.Sprintf("cpu_limit must be at least 0.01 core (10m), got %g", cores),
			"leave cpu_limit out for no limit")
		return
	}
	s.CPULimit, s.CPUPeriod = cores, sim.DefaultCPUPeriod
	if d, ok := t.duration("cpu_period"); ok {
		if d < minCPUPeriod || d > maxCPUPeriod {
			t.valErr("cpu_period", fmt.Sprintf("cpu_period must be from 1ms to 1s, got %s", dur(d)),
				"the kernel takes a cpu.cfs_period_us from 1000 to 1000000; its default is 100ms")
		} else {
			s.CPUPeriod = d
		}
	}
}

// CPUQuantity reads a Kubernetes CPU quantity in cores: a decimal number of
// cores ("0.5", "2") or of millicores ("200m"), the two forms
// resources.limits.cpu takes in practice (k8s.io/apimachinery
// pkg/api/resource/quantity.go: the "m" suffix is 10^-3).
func CPUQuantity(q string) (float64, error) {
	num, scale := q, 1.0
	if m, ok := strings.CutSuffix(q, "m"); ok {
		num, scale = m, 1e-3
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" || strings.ContainsAny(num, "eEinIN+_x") || f < 0 {
		return 0, fmt.Errorf("%q is not a CPU quantity", q)
	}
	return f * scale, nil
}

// operations reads the [[service.operation]] tables of the service s, at
// index i of spec.Services, whose tables are labelled owner.
func (b *builder) operations(i int, ops []*table, s *sim.Service, owner string) {
	first := make(map[string]int) // number of the operation that has each name
	namesOK := true
	var tables [][]*table // each operation's call tables
	for k, ot := range ops {
		op := sim.Operation{AfterCalls: s.AfterCalls, Weight: 1}
		ot.what = fmt.Sprintf("[[service.operation]] #%d of %s", k+1, owner)
		if ot.require("name", `name = "search"`) {
			if n, ok := ot.name("name"); ok {
				if j, dup := first[n]; dup {
					ot.valErr("name", fmt.Sprintf("duplicate operation %q: operation #%d of %s has it already", n, j, owner),
						"the operations of a service need names of their own")
				} else {
					first[n] = k + 1
				}
				op.Name = n
				ot.what = fmt.Sprintf("[[service.operation]] %q of %s", n, owner)
			} else {
				namesOK = false
			}
		} else {
			namesOK = false
		}
		ot.known(operationKeys...)
		op.ServiceTime, op.HasServiceTime = ot.modulated("service_time")
		op.Errors, op.HasErrors = ot.fraction("errors", false)
		if f, ok := ot.fraction("after_calls", false); ok {
			op.AfterCalls = f
		}
		if f, ok := ot.number("weight", interval{Lo: 0, Hi: maxWeight, LoOpen: true},
			"weights are relative: an operation of weight 2 gets twice the requests of one of weight 1"); ok {
			op.Weight = f
		}
		s.Operations = append(s.Operations, op)
		// The calls are read once the operation is in s, where their refs
		// find them.
		cts := ot.tables("call", "[[service.operation.call]]")
		tables = append(tables, cts)
		s.Operations[k].Calls = b.calls(i, k+1, cts, "service.operation.call", ot.what, s)
	}
	b.pools[i].opsOK = namesOK
	if namesOK {
		inProcessCycles(s, tables)
	}
}

// calls reads the calls of the service s, at index i of spec.Services: its
// own (opn 0) or those of its operation number opn. hdr is their header
// without brackets, owner labels the table above them.
func (b *builder) calls(i, opn int, tables []*table, hdr, owner string, s *sim.Service) []sim.Call {
	var out []sim.Call
	seen := make(map[string]bool) // groups met so far
	prevGroup := ""
	for k, ct := range tables {
		c := sim.Call{Probability: 1, Fanout: 1}
		ct.what = fmt.Sprintf("[[%s]] #%d of %s", hdr, k+1, owner)
		ct.known(callKeys...)
		if ct.require("to", `to = "db"`) {
			if to, ok := ct.str("to"); ok {
				if name, op, ok := ct.operationRef("to", to); ok {
					c.To, c.Operation = name, op
					switch {
					case name == s.Name && op != "":
						// In-process: a function call on the caller's
						// worker, so nothing of the network applies.
						inProcess(ct)
						b.refs = append(b.refs, ref{t: ct, key: "to", name: name, op: op, kind: callTo, caller: i, opn: opn, call: k})
					case name == s.Name:
						hint := "a call must go to another service"
						if opn > 0 {
							hint = fmt.Sprintf(`an operation calls another of its own service in-process: name it, to = "%s.<operation>"`, name)
						}
						ct.valErr("to", fmt.Sprintf("service %q calls itself", name), hint)
					default:
						b.refs = append(b.refs, ref{t: ct, key: "to", name: name, op: op, kind: callTo, caller: i, opn: opn, call: k})
					}
				}
			}
		}
		if op, ok := ct.str("op"); ok && strings.EqualFold(op, "publish") {
			ct.valErr("op", `unknown op "publish"`, "a record a service produces is a [[service.publish]] of the service, not a call")
		} else if n, ok := ct.enum("op", ops); ok {
			c.Op = sim.OpRead + sim.Op(n)
		}
		if n, ok := ct.keyChoice("key", callKeyChoices); ok {
			c.Key = sim.KeyRandom + sim.KeyChoice(n)
		}
		if d, ok := ct.nonNegative("timeout"); ok {
			c.Timeout = d
		}
		if p, ok := ct.fraction("probability", false); ok {
			c.Probability = p
		}
		if g, ok := ct.str("group"); ok {
			c.Group = g
			if g != "" && g != prevGroup && seen[g] {
				ct.valErr("group", fmt.Sprintf("group %q is split: the calls of a group must be adjacent", g),
					"move this call next to the other calls of the group, or give it another group")
			}
			seen[g] = true
		}
		prevGroup = c.Group
		if n, ok := ct.integer("fanout", 1, maxFanout); ok {
			c.Fanout = n
		}
		if n, ok := ct.count("repeat"); ok {
			c.Repeat = &n
			if c.Group != "" {
				ct.keyErr("repeat", fmt.Sprintf("a repeated call cannot be in group %q: its repetitions follow each other", c.Group),
					"remove group, or repeat = 1; fanout makes copies at once")
			}
		}
		ct.edgeNetwork(&c)
		b.resilience(ct, hdr, &c, maxCount(s))
		out = append(out, c)
	}
	return out
}

// inProcess rejects the keys of a network call on a call that is
// in-process: it has no network, no queue and no second worker, so no
// timeout, latency, copies or resilience policies.
func inProcess(ct *table) {
	for _, k := range callKeys {
		switch k {
		case "to", "probability", "repeat":
			continue
		}
		if ct.has(k) {
			ct.keyErr(k, fmt.Sprintf("%s does not apply to an in-process call", k),
				"a call to an operation of the caller's own service is a function call on the caller's worker: no network, no policies; only probability and repeat apply")
		}
	}
}

// inProcessCycles rejects in-process calls that go round: an operation
// that calls itself in-process, directly or through others, would never
// end. tables holds each operation's call tables, for the position of
// the call that closes the cycle.
func inProcessCycles(s *sim.Service, tables [][]*table) {
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]int, len(s.Operations))
	var path []string
	var visit func(k int)
	visit = func(k int) {
		state[k] = onPath
		path = append(path, s.Operations[k].Name)
		for j, c := range s.Operations[k].Calls {
			if c.To != s.Name {
				continue
			}
			m := slices.IndexFunc(s.Operations, func(o sim.Operation) bool { return o.Name == c.Operation })
			switch {
			case m < 0: // an unknown operation, reported by its ref
			case state[m] == onPath:
				from := slices.Index(path, c.Operation)
				cycle := strings.Join(append(slices.Clone(path[from:]), c.Operation), " -> ")
				tables[k][j].valErr("to", fmt.Sprintf("in-process calls of %q go round: %s", s.Name, cycle),
					"an in-process call runs on the caller's worker until it returns: a cycle never ends; break it, or make one of them a call to another service")
			case state[m] == unseen:
				visit(m)
			}
		}
		path = path[:len(path)-1]
		state[k] = done
	}
	for k := range s.Operations {
		if state[k] == unseen {
			visit(k)
		}
	}
}

// edgeNetworkKeys are the keys of a call's (or a route's) network time.
var edgeNetworkKeys = []string{"latency", "response_latency", "round_trip"}

// edgeNetwork reads an edge's network time: latency one way each (the
// request's, and the response's unless response_latency gives that), or
// round_trip, both ways in one draw, which excludes the other two.
func (t *table) edgeNetwork(c *sim.Call) {
	c.Latency, c.HasLatency = t.modulated("latency")
	if d, ok := t.dist("response_latency"); ok {
		c.ResponseLatency = &d
	}
	if d, ok := t.modulated("round_trip"); ok {
		c.RoundTrip = &d
		for _, k := range edgeNetworkKeys[:2] {
			if t.has(k) {
				t.keyErr(k, k+" and round_trip both give the edge's network time",
					"round_trip is there and back in one draw; remove "+k+", or give the one-way times as latency and response_latency instead")
			}
		}
	}
}

// operationRef splits a reference to a component that may name one of its
// operations after a dot: "catalog.search" is operation "search" of
// "catalog". Names have no dots, so the first dot is the split. It reports
// a dot with nothing on one side of it.
func (t *table) operationRef(key, s string) (name, op string, ok bool) {
	name, op, dotted := strings.Cut(s, ".")
	if dotted && (strings.TrimSpace(name) == "" || strings.TrimSpace(op) == "") {
		t.valErr(key, fmt.Sprintf("%s %q needs a service before the dot and an operation after it", key, s),
			`write "service.operation", such as "catalog.search", or the service alone for all its operations`)
		return "", "", false
	}
	return name, op, true
}

// maxCount is the most instances a service may have.
func maxCount(s *sim.Service) int {
	if s.Autoscale != nil {
		return max(s.Instances, s.Autoscale.Max)
	}
	return s.Instances
}

// defaultEndpointUpdateDelay is how long a crashed instance stays in the
// endpoints in a Kubernetes cluster with its defaults: the kubelet's PLEG
// sees the exit within its 1 s relist (pkg/kubelet/kubelet.go,
// plegRelistPeriod), the EndpointSlice controller writes the change at once
// (EndpointUpdatesBatchPeriod 0, pkg/controller/endpointslice/config), and
// kube-proxy applies it within its 1 s iptables.minSyncPeriod
// (pkg/proxy/apis/config/v1alpha1/defaults.go) or Istio pushes it after
// 100 ms (PILOT_DEBOUNCE_AFTER). One second: each of the two waits is
// half a second on average.
const defaultEndpointUpdateDelay = time.Second

// pool reads the keys a service and a gateway share: their instances,
// workers, queue and scaling. s holds the defaults; key is "service" or
// "gateway", for the header of the autoscale table.
func (b *builder) pool(t *table, key string, s *sim.Service) {
	p := poolInfo{instancesOK: true, workersOK: true, opsOK: true}
	if n, ok := t.integer("instances", 1, maxInstances); ok {
		s.Instances = n
	} else if t.has("instances") {
		p.instancesOK = false
	}
	if n, ok := t.integer("workers", 1, maxInt); ok {
		s.Workers = n
	} else if t.has("workers") {
		p.workersOK = false
	}
	b.pools = append(b.pools, p)
	if n, ok := t.integer("queue", 0, maxInt); ok {
		s.Queue = n
	}
	if d, ok := t.modulated("service_time"); ok {
		s.ServiceTime = d
	}
	if d, ok := t.nonNegative("queue_timeout"); ok {
		s.QueueTimeout = d
	}
	s.LatencyObjective = latencyObjective(t)
	if i, ok := t.enum("queue_discipline", disciplines); ok {
		s.LIFO = i == 1
	}
	if i, ok := t.enum("concurrency_model", concurrency); ok {
		s.Async = i == 1
	}
	header := "[" + key + ".autoscale]"
	if at := t.sub("autoscale", header, header+" of "+t.what); at != nil {
		s.Autoscale = autoscale(at, key, s.Instances, p.instancesOK)
	}
	probe := resilience.DefaultReadinessProbe()
	s.Readiness = &probe
	s.EndpointUpdateDelay = defaultEndpointUpdateDelay
	if d, ok := t.nonNegative("endpoint_update_delay"); ok {
		s.EndpointUpdateDelay = d
	}
	header = "[" + key + ".readiness_probe]"
	if pt := t.sub("readiness_probe", header, header+" of "+t.what); pt != nil {
		readinessProbe(pt, s.Readiness)
	}
}
