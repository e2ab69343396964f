package sim

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/faultline/faultline/sim/metrics"
	"github.com/faultline/faultline/sim/resilience"
)

// Sim is one deterministic run of a scenario. It does no IO and starts no
// goroutines: a driver advances it with Step or RunUntil and reads it with
// Snapshot and Result. A Sim is not safe for concurrent use.
type Sim struct {
	spec *Spec
	// pointedBytes is what the windows kept point to (keepWindow), for
	// the memory budget.
	pointedBytes int64
	seed         uint64
	now          int64
	end          int64
	warmup       int64
	window       int64
	// cascadeWindow is the cascade's reach after a fault and look-back
	// before it (Spec.CascadeWindow).
	cascadeWindow int64
	seq           uint64
	events        eventHeap
	timeouts      timeouts // timeout events, in FIFOs by duration (timeouts.go)
	done          bool
	err           error // why the run stopped early, if it did

	processed uint64
	instant   instantGuard // events at the current instant: a run stuck in time stops

	reqs    reqPool
	calls   callPool
	edges   []edgeRef
	checks  []checkRun     // health checkers: readiness probes, Envoy's (probe.go)
	brFloor []breakerFloor // breakerHealth's answer, reused at every window
	// causeRanks orders the health changes of one instant, causes first
	// (causeRank); built at the first.
	causeRanks map[string]int

	// rtChains are the states of markov round trips, one per callee and
	// chain (rtChain).
	rtChains []rtChain

	// edgeNames are the names of s.edges, built once for the reasons
	// that name a breaker's edge.
	edgeNames []string

	clients  []client
	services []service
	faults   []fault
	log      []Event
	// logDropped counts the entries past maxLog, not kept.
	logDropped uint64

	brokers    []broker
	topics     []topic
	replicas   []replicaRef
	prods      prodPool
	serial     uint32 // the last produce message's serial
	groups     []group
	members    []memberRef
	stores     []store
	views      []view
	sagas      []saga
	sagaRuns   sagaPool
	sagaLinks  []sagaLink // the paths of the sagas' commands
	partitions []int32    // active partition faults
	held       heldIndex  // what the instances a crash hits hold
	deploys    []deploy
	changes    []healthChange        // every confirmed health change, for the cascade trace
	changesOf  map[string]*changeLog // for each component, its changes
	occurs     []occurrence          // every fault occurrence, in order of their starts
	occOf      [][]int32             // for each fault, the indices of its occurrences
	lasting    int                   // the occurrences not yet ended
	// walking says a walk down requests' paths is under way (lateOrigin,
	// heldFault), with walkLeft more requests it may visit.
	walking  bool
	walkLeft int
	// inReach gates the walks of heldFault: for each service, the
	// lasting occurrences on a component it reaches down its calls, kept
	// going up callers (countReach). callers, from callersAt[c] to
	// callersAt[c+1], are the services that call component c
	// (initReach); reachOn, reachSeen and reachUp are countReach's
	// scratch.
	inReach   []int32
	callers   []int32
	callersAt []int32
	reachOn   []int32
	reachSeen []bool
	reachUp   []int32
	near      []int32 // scratch for noteChange: the occurrences that reach a change
	// allCalls is scratch for an edge's latency of every call ended
	// (callTimes.all): its successes and failures merged.
	allCalls metrics.Histogram

	winStart int64 // start of the time-series window being filled
}

// New prepares a run of spec with the given seed; the spec's own Seed is
// ignored so that drivers can replicate a scenario over many seeds.
func New(spec *Spec, seed uint64) (*Sim, error) {
	if err := check(spec); err != nil {
		return nil, err
	}
	s := &Sim{
		spec:   spec,
		seed:   seed,
		end:    int64(spec.Duration),
		warmup: int64(spec.Warmup),
		window: int64(spec.Window),
	}
	if s.window <= 0 {
		s.window = int64(time.Second)
	}
	s.cascadeWindow = int64(spec.CascadeWindow)
	if s.cascadeWindow <= 0 {
		s.cascadeWindow = int64(defaultCascadeWindow)
	}
	byName := make(map[string]int32, len(spec.Services))
	for i := range spec.Services {
		byName[spec.Services[i].Name] = int32(i)
	}
	s.services = make([]service, len(spec.Services))
	for i := range spec.Services {
		s.services[i].init(s, int32(i), &spec.Services[i])
	}
	s.initBrokers()
	s.initStores()
	s.initViews()
	for i := range s.services {
		s.services[i].initEdges(byName)
		s.services[i].initAutoscale()
		s.services[i].initProbe()
	}
	s.initGroups()
	s.initSagas()
	s.initReach()
	s.clients = make([]client, len(spec.Clients))
	for i := range spec.Clients {
		s.clients[i].init(s, int32(i), &spec.Clients[i], byName[spec.Clients[i].Target])
	}
	if err := s.resolveFaults(); err != nil {
		return nil, err
	}
	s.reserveSeries()
	if s.warmup > 0 {
		s.schedule(s.warmup, evWarmup, 0, 0)
	}
	if s.window < s.end {
		s.schedule(s.window, evWindow, 0, 0)
	}
	for i := range s.clients {
		s.clients[i].start()
	}
	return s, nil
}

// check rejects what would make the engine misbehave; the scenarios package
// reports the same problems with positions, so these messages are terse.
func check(spec *Spec) error {
	if spec == nil {
		return errors.New("sim: nil spec")
	}
	if spec.Duration <= 0 {
		return errors.New("sim: duration must be positive")
	}
	names := make(map[string]bool)
	for _, sv := range spec.Services {
		if names[sv.Name] {
			return fmt.Errorf("sim: duplicate name %q", sv.Name)
		}
		names[sv.Name] = true
		if sv.Instances < 1 || sv.Workers < 1 {
			return fmt.Errorf("sim: service %q needs at least one instance and one worker", sv.Name)
		}
		if sv.Queue < Unbounded {
			return fmt.Errorf("sim: service %q has a negative queue", sv.Name)
		}
		if sv.Gateway != nil && len(sv.Calls) == 0 {
			return fmt.Errorf("sim: gateway %q has no route", sv.Name)
		}
	}
	if len(spec.Stores) > maxStores {
		return fmt.Errorf("sim: more than %d stores", maxStores)
	}
	data := make(map[string]bool)
	for _, st := range spec.Stores {
		data[st.Name] = true
		if st.Replicas < 1 || st.Replicas > maxReplicas || st.WriteQuorum < 1 || st.WriteQuorum > st.Replicas || st.ReadQuorum < 1 || st.ReadQuorum > st.Replicas {
			return fmt.Errorf("sim: store %q needs 1 to %d replicas and quorums within them", st.Name, maxReplicas)
		}
	}
	for _, v := range spec.Views {
		data[v.Name] = true
	}
	for _, sv := range spec.Services {
		for k, c := range sv.AllCalls() {
			if data[c.To] {
				continue
			}
			if !names[c.To] {
				return fmt.Errorf("sim: service %q calls unknown service %q", sv.Name, c.To)
			}
			if c.Fanout < 1 {
				return fmt.Errorf("sim: call %s->%s has fanout < 1", sv.Name, c.To)
			}
			if h := c.Hedge; h != nil && (h.MaxCopies < 2 || h.MaxCopies > maxCopies || h.Delay <= 0) {
				return fmt.Errorf("sim: call %s->%s: a hedge needs a positive delay and 2 to %d copies", sv.Name, c.To, maxCopies)
			}
			if r := c.Retry; r != nil && r.MaxAttempts < 1 {
				return fmt.Errorf("sim: call %s->%s: retry needs max attempts >= 1", sv.Name, c.To)
			}
			if sv.Gateway != nil && k < len(sv.Calls) && !(c.Weight > 0) {
				return fmt.Errorf("sim: gateway %s: route %s needs a positive weight", sv.Name, c.Path)
			}
		}
	}
	if err := checkData(spec, names); err != nil {
		return err
	}
	if cyc := findCycle(spec); cyc != "" {
		return fmt.Errorf("sim: call cycle %s", cyc)
	}
	for _, c := range spec.Clients {
		if !names[c.Target] {
			return fmt.Errorf("sim: client %q targets unknown service %q", c.Name, c.Target)
		}
		if c.Rate < 0 || c.Users < 0 {
			return fmt.Errorf("sim: client %q has a negative rate or user count", c.Name)
		}
		if c.Route != "" {
			i := slices.IndexFunc(spec.Services, func(sv Service) bool { return sv.Name == c.Target })
			if !slices.ContainsFunc(spec.Services[i].Calls, func(r Call) bool { return r.Path == c.Route }) {
				return fmt.Errorf("sim: client %q: %q has no route %q", c.Name, c.Target, c.Route)
			}
		}
	}
	return nil
}

// findCycle returns a cycle of calls as "a -> b -> a", or "" when there is
// none. A cycle would make a request wait on itself forever.
func findCycle(spec *Spec) string {
	const (
		white = iota
		grey
		black
	)
	idx := make(map[string]int, len(spec.Services))
	for i, sv := range spec.Services {
		idx[sv.Name] = i
	}
	color := make([]int, len(spec.Services))
	var path []string
	var visit func(i int) string
	visit = func(i int) string {
		color[i] = grey
		path = append(path, spec.Services[i].Name)
		for _, c := range spec.Services[i].AllCalls() {
			j, ok := idx[c.To]
			if !ok || (j == i && c.Operation != "") {
				continue // not a service, or an in-process call
			}
			switch color[j] {
			case grey:
				out := ""
				for k := len(path) - 1; k >= 0; k-- {
					if path[k] == c.To {
						for _, n := range path[k:] {
							out += n + " -> "
						}
						return out + c.To
					}
				}
			case white:
				if cyc := visit(j); cyc != "" {
					return cyc
				}
			}
		}
		path = path[:len(path)-1]
		color[i] = black
		return ""
	}
	for i := range spec.Services {
		if color[i] == white {
			if cyc := visit(i); cyc != "" {
				return cyc
			}
		}
	}
	return ""
}

// stream returns the random source of one component. Seeding it from the
// component's name, not its position, keeps the draws of every other
// component unchanged when a scenario gains or loses a component.
func (s *Sim) stream(name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	a := splitmix(s.seed ^ splitmix(h.Sum64()))
	return rand.New(rand.NewPCG(a, splitmix(a)))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// unsplitmix inverts splitmix: each step of it is a bijection (an
// xor-shift by half the width or more undoes itself after one more, an
// odd multiplier has an inverse modulo 2^64). It gives back the index of
// a client's request key (client.key), which the request carries mixed.
func unsplitmix(x uint64) uint64 {
	x ^= x>>31 ^ x>>62
	x *= 0x319642b2d24d8ec3 // 0x94d049bb133111eb's inverse
	x ^= x>>27 ^ x>>54
	x *= 0x96de1b173f119089 // 0xbf58476d1ce4e5b9's inverse
	x ^= x>>30 ^ x>>60
	return x - 0x9e3779b97f4a7c15
}

func (s *Sim) schedule(at int64, k evKind, arg int32, gen uint32) {
	s.seq++
	s.events.push(event{at: at, seq: s.seq, ka: uint32(k)<<argBits | uint32(arg), gen: gen})
}

// after returns the virtual time d after now, saturated at math.MaxInt64.
// Every wait is added to the clock here: a wait too long for int64
// nanoseconds (292 years) means never, where plain addition would wrap to
// a time in the past and fire at once. An event at or past the end of the
// run is never dispatched, so a saturated one is harmless.
func after(now, d int64) int64 {
	if d > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + d
}

// nanos converts a float count of nanoseconds to int64 as a conversion
// does, but saturated at math.MaxInt64 (and 0 for NaN or below 0): Go
// leaves the conversion of an out-of-range float implementation-defined
// (https://go.dev/ref/spec#Conversions), and on amd64 it gives
// math.MinInt64, a time in the past.
func nanos(x float64) int64 {
	switch {
	case !(x > 0):
		return 0
	case x >= math.MaxInt64:
		return math.MaxInt64
	}
	return int64(x)
}

// Now returns the current virtual time.
func (s *Sim) Now() time.Duration { return time.Duration(s.now) }

// Duration returns the virtual time at which the run ends.
func (s *Sim) Duration() time.Duration { return time.Duration(s.end) }

// Done reports whether the run has reached its end, or stopped on an error.
func (s *Sim) Done() bool { return s.done }

// Err reports why the run stopped before its end, or nil.
func (s *Sim) Err() error { return s.err }

// Step runs the next event and reports whether the run goes on.
func (s *Sim) Step() bool {
	if s.done {
		return false
	}
	if s.err != nil {
		s.done = true
		return false
	}
	if s.events.len() == 0 || s.events.peek().at >= s.end {
		s.finish()
		return false
	}
	s.dispatch(s.events.pop())
	return true
}

// RunUntil runs every event up to and including virtual time t. At or past
// the end of the scenario it completes the run.
func (s *Sim) RunUntil(t time.Duration) {
	if s.done {
		return
	}
	limit := int64(t)
	if limit >= s.end {
		for s.Step() {
		}
		return
	}
	for s.err == nil && s.events.len() > 0 && s.events.peek().at <= limit {
		s.dispatch(s.events.pop())
	}
	if limit > s.now {
		s.now = limit
	}
}

// RunFor runs at most n events, up to and including virtual time t as
// RunUntil does, and reports whether it got to t (or the run is over). A
// slice of virtual time can hold any number of events, so a driver that
// must stay responsive, to a signal or a key, advances in calls of bounded
// work and checks between them; how it slices does not change the run.
func (s *Sim) RunFor(t time.Duration, n int) bool {
	if s.done {
		return true
	}
	limit := int64(t)
	if limit >= s.end {
		for ; n > 0; n-- {
			if !s.Step() {
				return true
			}
		}
		return false
	}
	for ; s.err == nil && s.events.len() > 0 && s.events.peek().at <= limit; n-- {
		if n == 0 {
			return false
		}
		s.dispatch(s.events.pop())
	}
	if s.err == nil && limit > s.now {
		s.now = limit
	}
	return true
}

// Run runs the scenario to its end and returns the result.
func (s *Sim) Run() *Result {
	s.RunUntil(time.Duration(s.end))
	return s.Result()
}

func (s *Sim) dispatch(e event) {
	if e.kind() == evTimeoutQ {
		// A timeout FIFO's proxy: from here on, the very event it
		// stands for (timeouts.go).
		e = s.timeoutDue(e.arg())
	}
	// The bound on events at one instant: the common case inline, the
	// tally near the bound in atInstant.
	if e.at != s.now {
		s.instant.n = 0
	} else if s.instant.n++; s.instant.n > maxAtInstant-loopSample && !s.atInstant(&e) {
		return
	}
	s.now = e.at
	s.processed++
	if s.processed%budgetEvery == 0 {
		if s.checkBudget(); s.err != nil {
			return
		}
	}
	arg := e.arg()
	switch e.kind() {
	case evArrival:
		if c := &s.clients[arg]; e.gen == c.arrGen {
			c.arrival()
		}
	case evThinkDone:
		s.clients[arg].send()
	case evDeliver:
		if s.reqs.r[arg].gen == e.gen {
			s.deliver(arg)
		}
	case evWorkDone, evAfterDone:
		// A request whose instance crashed has ended: its work events are
		// void.
		if r := &s.reqs.r[arg]; r.gen == e.gen && r.state == atService {
			s.workEnd(arg, e.kind())
		}
	case evCFS:
		s.cfsDue(arg, e.gen, e.at)
	case evCallsDone:
		if r := &s.reqs.r[arg]; r.gen == e.gen && r.state == atService {
			s.callsDone(arg)
		}
	case evRefuse:
		if r := &s.reqs.r[arg]; r.gen == e.gen && r.state == atService {
			s.turnAway(arg, r.refusal)
		}
	case evResponse:
		if s.reqs.r[arg].gen == e.gen {
			s.response(arg)
		}
	case evTimeout:
		s.timeout(arg, e.gen)
	case evFaultStart:
		s.beginFault(arg)
	case evFaultEnd:
		s.endFault(arg)
	case evInstanceUp:
		s.instanceUp(arg, int32(e.gen))
	case evWindow:
		s.closeWindow()
		if next := after(s.now, s.window); next < s.end {
			s.schedule(next, evWindow, 0, 0)
		}
	case evRetry:
		s.retry(arg, e.gen)
	case evHedge:
		s.hedge(arg, e.gen)
	case evCallDeadline:
		s.deadline(arg, e.gen)
	case evOutlierReview:
		s.reviewOutliers(arg, int32(e.gen))
	case evBreaker:
		s.breakerDue(arg, int32(e.gen))
	case evAutoscale:
		s.autoscale(arg)
	case evOpDone:
		if r := &s.reqs.r[arg]; r.gen == e.gen && r.state == ended {
			s.opDone(arg, r.outcome)
		}
	case evProduce:
		if s.prods.m[arg].gen == e.gen {
			s.append(arg)
		}
	case evProduceTimer:
		s.produceTimerDue(arg, e.gen)
	case evWaitersDue:
		s.waitersDue(arg)
	case evFetch:
		s.fetched(arg, e.gen)
	case evBrokerTick:
		s.brokers[arg].tick()
	case evRebalance:
		s.groups[arg].rebalanced(e.gen)
	case evViewApply:
		s.viewApplied(arg, e.gen)
	case evStoreMsg:
		s.stores[arg>>storeBits].deliver(arg&(maxStoreMsgs-1), e.gen)
	case evStoreTick:
		s.stores[arg].antiEntropy()
	case evRollback:
		s.rollback(arg)
	case evDrainKill:
		s.drainKill(arg, int32(e.gen))
	case evDeployed:
		s.deployed(arg)
	case evLeakCrash:
		s.leakCrash(arg, int32(e.gen))
	case evSagaRetry:
		s.sagaRetry(arg, e.gen)
	case evPollTick:
		s.pollTick(arg)
	case evCheck:
		s.checkDue(arg, e.gen)
	case evDelist:
		s.services[arg].delist(int32(e.gen))
	case evWarmup:
		for i := range s.services {
			s.services[i].resetAggregates(s.now)
		}
	}
}

// finish closes the run at its end: the last, possibly partial, window.
func (s *Sim) finish() {
	s.now = s.end
	if s.winStart < s.end {
		s.closeWindow()
	}
	s.done = true
}

// maxLog bounds the event log. A scenario can log without end (a fault
// every few nanoseconds, a breaker that flaps at every call), and the log
// is kept whole in memory for the result; past the bound (about 10 MB, a
// fault every 2 ms for 100 s), entries are counted, not kept, and the
// result says how many were dropped.
const maxLog = 100_000

// logf appends a notable change, happening now, to the event log.
func (s *Sim) logf(component, format string, args ...any) {
	if len(s.log) >= maxLog {
		s.logDropped++
		return
	}
	s.logAt(s.now, component, fmt.Sprintf(format, args...))
}

// logAt appends a change that began at t, which may be earlier than now: a
// window reports what happened within it when it closes.
func (s *Sim) logAt(t int64, component, what string) {
	s.logEvent(Event{T: time.Duration(t), Component: component, What: what})
}

// logEvent appends an event. The log stays sorted by time, earlier
// entries first at equal times.
func (s *Sim) logEvent(e Event) {
	if e.Kind != EventHealth && e.Kind != EventFaultStarted && e.Kind != EventFaultEnded {
		e.Fault = -1
	}
	if len(s.log) >= maxLog {
		s.logDropped++
		return
	}
	i := len(s.log)
	for i > 0 && s.logsAfter(&s.log[i-1], &e) {
		i--
	}
	s.log = slices.Insert(s.log, i, e)
}

// Event is a notable change during a run: a fault, a health transition, a
// queue starting to overflow. What is its text as the log says it; the
// other fields say the same typed, for a reader that must not parse it.
type Event struct {
	T         time.Duration
	Component string
	What      string
	Kind      EventKind
	// Health and Reason: a health change's new level and its cause, in
	// force at T.
	Health Health
	Reason Reason
	// Breaker is a breaker transition's new state.
	Breaker resilience.BreakerState
	// Fault indexes Result.Faults: the occurrence a fault event starts or
	// ends, or the one a change for the worse followed; -1 when none.
	Fault int
}

// EventKind says what kind of change an Event is.
type EventKind uint8

const (
	EventNote         EventKind = iota // anything else: scaling, rebalances, leaders, crashes of nodes
	EventFaultStarted                  // a fault occurrence began (Event.Fault)
	EventFaultEnded                    // it ended
	EventHealth                        // a confirmed change of health (Event.Health, Event.Reason)
	EventBreaker                       // a breaker's transition (Event.Breaker)
	EventQueueFull                     // a service began to reject requests: its queue is full
	EventQueueDrained                  // it no longer does
)

var eventKindNames = [...]string{
	EventNote: "note", EventFaultStarted: "fault_started", EventFaultEnded: "fault_ended", EventHealth: "health",
	EventBreaker: "breaker", EventQueueFull: "queue_full", EventQueueDrained: "queue_drained",
}

func (k EventKind) String() string {
	if int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", k)
}

// MarshalText writes the kind by name in JSON.
func (k EventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Processed returns the number of events run so far.
func (s *Sim) Processed() uint64 { return s.processed }

// AllCalls lists a service's calls and those of its operations; for a
// gateway, its routes, their backends and its ext_authz check.
func (sv *Service) AllCalls() []Call {
	if len(sv.Operations) == 0 && sv.Gateway == nil {
		return sv.Calls
	}
	out := slices.Clone(sv.Calls)
	for _, o := range sv.Operations {
		out = append(out, o.Calls...)
	}
	if sv.Gateway != nil {
		out = sv.gatewayCalls(out) // after its routes
	}
	return out
}

// gatewayCalls appends to out a gateway's calls beyond its routes, in the
// order of its edges after them (initGateway): each route's backends,
// then its ext_authz check.
func (sv *Service) gatewayCalls(out []Call) []Call {
	for _, rt := range sv.Calls {
		out = append(out, rt.Backends...)
	}
	if a := sv.Gateway.ExtAuthz; a != nil {
		// failure_mode_allow turns a failed check into a pass: the
		// fallback's degraded success.
		out = append(out, Call{To: a.Service, Timeout: a.Timeout, Probability: 1, Fanout: 1, Fallback: a.FailureModeAllow})
	}
	return out
}
