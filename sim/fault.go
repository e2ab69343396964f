package sim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/sim/dist"
)

// fault is a scheduled change of part of the system. Its target is resolved
// once, at New; which instances an occurrence hits is drawn when it starts.
type fault struct {
	spec   *Fault
	p      FaultParams // spec.Params, or the kind's defaults
	target Target      // spec.Target, parsed
	idx    int32
	rng    *rand.Rand  // the fault's own stream: its draws leave the others' alone
	svc    int32       // target service, or -1
	inst   int32       // a single target instance, or -1
	client int32       // target client (surge, or the caller of a link), or -1
	links  []*link     // the links a link fault or a partition acts on
	dirs   []Direction // which messages it drops or delays on each of links
	insts  []int32     // the instances the current occurrence hit
	perm   []int32     // pickInstances's shuffle, kept between occurrences
	nodes  []*dataNode // the broker nodes, store replicas or view it hits
	topic  int32       // a leader_loss fault's topic, or -1
	op     int32       // the operation a fault on one operation hits, or -1
	active bool
	since  int64 // when the current (or last) occurrence began
	top    int32 // the highest of insts the current occurrence has reached
	manual bool  // injected by a driver during the run, not in the scenario
}

// link is the state of the messages between a caller and a callee: faults
// that delay or drop them.
type link struct {
	faults   []int32 // active latency, loss, blackhole and partition faults
	lossReq  float64 // probability that a request is dropped
	lossResp float64 // probability that a response is dropped
	// regime is the link's state of a markov latency, shared by its
	// requests and responses: a slow network episode slows both ways.
	regime dist.Regime
}

// instFaults is what the active faults do to one instance.
type instFaults struct {
	list      []int32 // active faults on the instance
	slow      float64 // service time multiplier
	errP      float64 // probability that a request fails
	throttleP float64 // probability that a request is answered 429
	blackhole bool
	workers   int // workers it may use
}

// resolveFaults binds every fault to its target and schedules its first
// occurrence.
func (s *Sim) resolveFaults() error {
	s.faults = make([]fault, len(s.spec.Faults))
	for i := range s.spec.Faults {
		f := &s.faults[i]
		f.spec, f.idx, f.svc, f.inst, f.client, f.topic, f.op = &s.spec.Faults[i], int32(i), -1, -1, -1, -1, -1
		f.rng = s.stream(fmt.Sprintf("fault#%d", i))
		if err := s.resolve(f); err != nil {
			return fmt.Errorf("sim: fault %d (%s): %w", i+1, f.spec.Kind, err)
		}
		if f.spec.Start < s.spec.Duration {
			s.schedule(int64(f.spec.Start), evFaultStart, int32(i), 0)
		}
	}
	return nil
}

func (s *Sim) serviceIndex(name string) int32 {
	for i := range s.services {
		if s.services[i].spec.Name == name {
			return int32(i)
		}
	}
	return -1
}

func (s *Sim) clientIndex(name string) int32 {
	for i := range s.clients {
		if s.clients[i].spec.Name == name {
			return int32(i)
		}
	}
	return -1
}

// resolve checks a fault and finds its target.
func (s *Sim) resolve(f *fault) error {
	sp := f.spec
	if err := sp.Validate(); err != nil {
		return err
	}
	f.p = sp.params()
	if sp.Kind != FaultPartition {
		f.target, _ = ParseTarget(sp.Target) // well formed: Validate said so
	}
	tg := f.target
	switch p := f.p.(type) {
	case PartitionFault:
		in := func(side int, name string) bool { return slices.Contains(p.Sides[side], name) }
		// Side 0 to side 1 is always cut; the way back only when the
		// partition is not one-way. A link carries requests from caller to
		// callee and responses back.
		cut := func(l *link, from, to string) {
			var req, resp bool
			switch {
			case in(0, from) && in(1, to):
				req, resp = true, !p.OneWay
			case in(1, from) && in(0, to):
				req, resp = !p.OneWay, true
			}
			switch {
			case req && resp:
				f.addLink(l, Both)
			case req:
				f.addLink(l, Requests)
			case resp:
				f.addLink(l, Responses)
			}
		}
		for i := range s.clients {
			c := &s.clients[i]
			cut(&c.link, c.spec.Name, s.services[c.target].spec.Name)
		}
		for i := range s.services {
			sv := &s.services[i]
			for j := range sv.calls {
				if e := &sv.calls[j]; e.kind == toService {
					cut(&e.link, sv.spec.Name, s.services[e.to].spec.Name)
				}
			}
		}
		// A saga's commands cross the network from its start service to
		// each participant, as its calls do.
		for i := range s.sagaLinks {
			l := &s.sagaLinks[i]
			cut(&l.link, s.services[l.from].spec.Name, s.services[l.to].spec.Name)
		}
		// Messages to and between data nodes are checked as they are sent,
		// against the active partitions.
		return nil
	case LeaderLossFault:
		if tg.Form != TargetName {
			return fmt.Errorf("a leader_loss fault targets a topic, not %q", sp.Target)
		}
		if f.topic = s.topicIndex(tg.Name); f.topic < 0 {
			return fmt.Errorf("no topic %q", tg.Name)
		}
		if p.Partition >= len(s.topics[f.topic].parts) {
			return fmt.Errorf("topic %q has no partition %d", tg.Name, p.Partition)
		}
		return nil
	case SurgeFault:
		if f.client = s.clientIndex(tg.Name); f.client < 0 || tg.Form != TargetName {
			return fmt.Errorf("no client %q", sp.Target)
		}
		return nil
	}
	if tg.Form == TargetLink {
		if err := sp.Kind.CheckTarget(OnLink); err != nil {
			return err
		}
		from, to := tg.Caller, tg.Name
		dir := Requests // a blackhole swallows the requests
		switch p := f.p.(type) {
		case LatencyFault:
			dir = p.Direction
		case LossFault:
			dir = p.Direction
		}
		callee := s.serviceIndex(to)
		if callee < 0 {
			return fmt.Errorf("no service %q", to)
		}
		if c := s.clientIndex(from); c >= 0 && s.clients[c].target == callee {
			f.addLink(&s.clients[c].link, dir)
		}
		if caller := s.serviceIndex(from); caller >= 0 {
			for j := range s.services[caller].calls {
				if e := &s.services[caller].calls[j]; e.to == callee {
					f.addLink(&e.link, dir)
				}
			}
			for i := range s.sagaLinks {
				if l := &s.sagaLinks[i]; l.from == caller && l.to == callee {
					f.addLink(&l.link, dir)
				}
			}
		}
		if len(f.links) == 0 {
			return fmt.Errorf("nothing calls %q from %q", to, from)
		}
		return nil
	}
	nodes, on, err := s.dataTarget(tg)
	if err != nil {
		return err
	}
	if nodes != nil {
		if err := sp.Kind.CheckTarget(on); err != nil {
			return err
		}
		f.nodes = nodes
		return nil
	}
	name := tg.Name
	if f.svc = s.serviceIndex(name); f.svc < 0 {
		return fmt.Errorf("no service %q", name)
	}
	switch on = OnService; tg.Form {
	case TargetMember:
		on = OnInstance
	case TargetOperation:
		on = OnOperation
	}
	if err := sp.Kind.CheckTarget(on); err != nil {
		return err
	}
	if tg.Form == TargetMember {
		if n := tg.Member; n < 1 || n > len(s.services[f.svc].insts) {
			return fmt.Errorf("%q has no instance %d", name, n)
		}
		f.inst = int32(tg.Member - 1)
	}
	sv := &s.services[f.svc]
	if tg.Form == TargetOperation {
		if f.op = sv.opIndex(tg.Op); f.op < 0 {
			return fmt.Errorf("%q has no operation %q", name, tg.Op)
		}
	}
	if sp.Kind == FaultDependency && !sv.spec.External {
		return fmt.Errorf("a dependency fault targets an external service; %q is not one", name)
	}
	return nil
}

func (f *fault) addLink(l *link, d Direction) {
	f.links = append(f.links, l)
	f.dirs = append(f.dirs, d)
}

// dir returns the direction fault f acts on along link l.
func (f *fault) dir(l *link) Direction {
	return f.dirs[slices.Index(f.links, l)]
}

// Inject adds a fault while the run goes on, as a person at the controls
// would: it starts at f.Start or now, whichever is later, and is marked
// manual in the event log. It returns an error, and changes nothing, when
// the fault's target does not exist.
func (s *Sim) Inject(f Fault) error {
	if s.done {
		return errors.New("the run is over")
	}
	sp := f
	nf := fault{spec: &sp, idx: int32(len(s.faults)), svc: -1, inst: -1, client: -1, topic: -1, op: -1, manual: true}
	nf.rng = s.stream(fmt.Sprintf("fault#%d", nf.idx))
	if err := s.resolve(&nf); err != nil {
		return err
	}
	s.faults = append(s.faults, nf)
	s.schedule(max(int64(f.Start), s.now), evFaultStart, nf.idx, 0)
	return nil
}

// describe says what the fault does, for the event log.
func (f *fault) describe() string {
	d := f.what()
	if f.manual {
		d += " (manual)"
	}
	return d
}

func (f *fault) what() string {
	switch p := f.p.(type) {
	case LatencyFault:
		d := "latency +" + p.Add.String()
		if len(f.links) > 0 && p.Direction != Both {
			d += " on " + p.Direction.String()
		}
		return d
	case ErrorsFault:
		return fmt.Sprintf("errors %g%%", p.Probability*100)
	case ThrottleFault:
		return fmt.Sprintf("throttle %g%%", p.Probability*100)
	case LossFault:
		return fmt.Sprintf("loss %g%% of %s", p.Probability*100, p.Direction)
	case SlowdownFault:
		return fmt.Sprintf("slowdown x%g", p.Factor)
	case SurgeFault:
		return fmt.Sprintf("surge x%g", p.Factor)
	case CapacityFault:
		return fmt.Sprintf("capacity %d workers", p.Workers)
	case DeployFault:
		d := "deploy"
		if p.Batch > 0 {
			d += fmt.Sprintf(" (batches of %d)", p.Batch)
		} else {
			d += fmt.Sprintf(" (batches of %g%%)", p.BatchShare*100)
		}
		if p.HasNewErrors || p.NewFactor > 0 {
			d += " of a bad release:"
			if p.HasNewErrors {
				d += fmt.Sprintf(" errors %g%%", p.NewErrors*100)
			}
			if p.NewFactor > 0 {
				d += fmt.Sprintf(" service time x%g", p.NewFactor)
			}
		}
		return d
	case LeakFault:
		return fmt.Sprintf("leak +%g%% a minute up to x%g", p.Growth*100, p.Limit)
	case DependencyFault:
		d := "dependency brownout"
		if !p.Add.IsZero() {
			d += " +" + p.Add.String()
		}
		if p.Probability > 0 {
			d += fmt.Sprintf(" errors %g%%", p.Probability*100)
		}
		return d
	case SkewFault:
		return "clock skew " + p.Offset.String()
	case PartitionFault:
		way := "both ways"
		if p.OneWay {
			way = "one way"
		}
		return fmt.Sprintf("partition [%s] | [%s] %s", strings.Join(p.Sides[0], " "), strings.Join(p.Sides[1], " "), way)
	}
	return f.spec.Kind.String()
}

// component names what the fault hit, for the event log.
func (s *Sim) faultComponent(f *fault) string {
	name := s.faultTarget(f)
	if f.target.Form == TargetOperation {
		name += "." + f.target.Op
	}
	return name
}

func (s *Sim) faultTarget(f *fault) string {
	switch {
	case f.spec.Kind == FaultPartition:
		return "network"
	case f.inst >= 0:
		return fmt.Sprintf("%s#%d", s.services[f.svc].spec.Name, f.inst+1)
	case f.svc >= 0 && len(f.insts) > maxNamedInstances && len(f.insts) < len(s.services[f.svc].insts):
		// A share of a large service: naming every instance would make
		// a line of hundreds of kilobytes.
		return fmt.Sprintf("%s[%d of %d]", s.services[f.svc].spec.Name, len(f.insts), len(s.services[f.svc].insts))
	case f.svc >= 0 && len(f.insts) < len(s.services[f.svc].insts):
		names := make([]string, len(f.insts))
		for i, n := range f.insts {
			names[i] = "#" + strconv.Itoa(int(n)+1)
		}
		return s.services[f.svc].spec.Name + strings.Join(names, "")
	case f.target.Form == TargetOperation:
		return f.target.Name // faultComponent adds the operation
	}
	return f.target.String()
}

// begin starts an occurrence of fault idx, and plans its end and the next
// occurrence.
func (s *Sim) beginFault(idx int32) {
	f := &s.faults[idx]
	sp := f.spec
	if sp.Every > 0 && after(s.now, int64(sp.Every)) < s.end {
		s.schedule(after(s.now, int64(sp.Every)), evFaultStart, idx, 0)
	}
	if f.active || sp.Chance > 0 && sp.Chance < 1 && f.rng.Float64() >= sp.Chance {
		return // still active from the last occurrence, or not this time
	}
	f.active = true
	f.since = s.now
	f.pickInstances(s)
	s.beginOccurrence(f)
	s.logEvent(Event{T: time.Duration(s.now), Component: s.faultComponent(f), Kind: EventFaultStarted,
		What: "fault " + f.describe() + " started", Fault: len(s.occurs) - 1})
	switch {
	case f.client >= 0 && sp.Kind == FaultSurge:
		s.clients[f.client].refreshSurge()
	case f.topic >= 0:
		s.loseLeaders(f)
	case sp.Kind == FaultDeploy:
		s.startDeploy(f)
	case sp.Kind == FaultRebuild:
		v, _ := viewOf(f.nodes)
		v.rebuild(idx)
	case len(f.nodes) > 0:
		s.beginDataFault(f)
	case sp.Kind == FaultPartition:
		s.partitions = append(s.partitions, idx)
		for _, l := range f.links {
			l.faults = append(l.faults, idx)
			s.refreshLink(l)
		}
	case len(f.links) > 0:
		for _, l := range f.links {
			l.faults = append(l.faults, idx)
			s.refreshLink(l)
		}
	default:
		sv := &s.services[f.svc]
		if sp.Kind == FaultCrash {
			// One pass over the pools finds what every instance it
			// crashes holds; each crash then reads its own share.
			s.held.build(s, f.svc, f.insts)
			defer s.held.reset()
		}
		if len(f.insts) > 0 {
			sv.onInsts.faults = append(sv.onInsts.faults, idx)
		}
		for _, n := range f.insts {
			f.top = n // insts are sorted
			sv.addFault(n, idx)
		}
	}
	if sp.Duration > 0 {
		s.schedule(after(s.now, int64(sp.Duration)), evFaultEnd, idx, 0)
	}
}

// maxNamedInstances is how many instances a fault's name lists; more are
// counted instead ("api[500 of 1000]").
const maxNamedInstances = 8

// pickInstances chooses the instances an occurrence hits.
func (f *fault) pickInstances(s *Sim) {
	f.insts = f.insts[:0]
	if f.svc < 0 {
		return
	}
	if f.inst >= 0 {
		f.insts = append(f.insts, f.inst)
		return
	}
	n := len(s.services[f.svc].insts)
	k := n
	if sh := f.spec.Share; sh > 0 && sh < 1 {
		k = max(1, int(math.Round(sh*float64(n))))
	}
	// rand.Perm's draws, in a buffer kept from one occurrence to the next.
	f.perm = f.perm[:0]
	for i := range n {
		f.perm = append(f.perm, int32(i))
	}
	f.rng.Shuffle(n, func(i, j int) { f.perm[i], f.perm[j] = f.perm[j], f.perm[i] })
	f.insts = append(f.insts, f.perm[:k]...)
	slices.Sort(f.insts)
}

// endFault ends the current occurrence of fault idx.
func (s *Sim) endFault(idx int32) {
	f := &s.faults[idx]
	if !f.active {
		return
	}
	f.active = false
	s.logEvent(Event{T: time.Duration(s.now), Component: s.faultComponent(f), Kind: EventFaultEnded,
		What: "fault " + f.describe() + " ended", Fault: s.endOccurrence(f)})
	switch {
	case f.client >= 0 && f.spec.Kind == FaultSurge:
		s.clients[f.client].refreshSurge()
	case f.topic >= 0, f.spec.Kind == FaultDeploy, f.spec.Kind == FaultRebuild:
		// Leadership moved, and a deploy and a rebuild end by themselves:
		// none moves back.
	case len(f.nodes) > 0:
		s.endDataFault(f)
	case f.spec.Kind == FaultPartition:
		if i := slices.Index(s.partitions, idx); i >= 0 {
			s.partitions = slices.Delete(s.partitions, i, i+1)
		}
		for _, l := range f.links {
			if i := slices.Index(l.faults, idx); i >= 0 {
				l.faults = slices.Delete(l.faults, i, i+1)
			}
			s.refreshLink(l)
		}
	case len(f.links) > 0:
		for _, l := range f.links {
			if i := slices.Index(l.faults, idx); i >= 0 {
				l.faults = slices.Delete(l.faults, i, i+1)
			}
			s.refreshLink(l)
		}
	default:
		sv := &s.services[f.svc]
		for _, n := range f.insts {
			sv.removeFault(n, idx)
		}
		// Only now is it on none of them: serviceOrigin, called while
		// they were lifted, still saw it on the rest.
		if i := slices.Index(sv.onInsts.faults, idx); i >= 0 {
			sv.onInsts.faults = slices.Delete(sv.onInsts.faults, i, i+1)
		}
	}
}

// refreshLink recomputes a link's drop probabilities from its active faults;
// independent faults each drop a message on their own.
func (s *Sim) refreshLink(l *link) {
	passReq, passResp := 1.0, 1.0
	for _, i := range l.faults {
		f := &s.faults[i]
		p := 1.0 // blackholes and partitions drop everything
		switch fp := f.p.(type) {
		case LatencyFault:
			continue
		case LossFault:
			p = fp.Probability
		}
		d := f.dir(l)
		if d != Responses {
			passReq *= 1 - p
		}
		if d != Requests {
			passResp *= 1 - p
		}
	}
	l.lossReq, l.lossResp = 1-passReq, 1-passResp
}

// delay returns the extra latency the link's latency faults add to one
// message in direction d.
func (s *Sim) linkDelay(l *link, d Direction) int64 {
	var add int64
	for _, i := range l.faults {
		f := &s.faults[i]
		if p, ok := f.p.(LatencyFault); ok {
			if fd := f.dir(l); fd == Both || fd == d {
				add += p.Add.Sample(f.rng)
			}
		}
	}
	return add
}

// addFault applies fault idx to instance n.
func (sv *service) addFault(n int32, idx int32) {
	s := sv.s
	in := &sv.insts[n]
	in.f.list = append(in.f.list, idx)
	if s.faults[idx].spec.Kind == FaultCrash {
		in.crashedAt = s.now
		in.downOcc = s.occAt(n, CauseCrash, idx).fault
		sv.crash(n)
		sv.consumerEvent(n, (*group).crashed)
	}
	if s.faults[idx].spec.Kind == FaultLeak {
		sv.planLeak(n)
	}
	wasPaused := in.paused
	sv.refreshInstance(n)
	if in.paused && !wasPaused {
		// A pause interval opens when the instance stops running, not
		// with every pause fault: overlapping pauses freeze it once.
		sv.consumerEvent(n, (*group).paused)
		in.pauses = append(in.pauses, pause{from: s.now, to: math.MaxInt64, occ: s.occAt(sv.idx, CausePause, idx).fault})
	}
}

// removeFault lifts fault idx from instance n.
func (sv *service) removeFault(n int32, idx int32) {
	s := sv.s
	in := &sv.insts[n]
	if i := slices.Index(in.f.list, idx); i >= 0 {
		in.f.list = slices.Delete(in.f.list, i, i+1)
	}
	wasPaused := in.paused
	sv.refreshInstance(n)
	if f := &s.faults[idx]; f.spec.Kind == FaultLeak {
		sv.leakEnded(n, f)
		sv.planLeak(n) // the leak is fixed: no crash due to it
	}
	if p, ok := s.faults[idx].p.(CrashFault); ok {
		// The process restarts now and takes traffic once it has started.
		in.readyAt = after(s.now, int64(p.StartupDelay))
		s.schedule(in.readyAt, evInstanceUp, sv.idx, uint32(n))
		return
	}
	if wasPaused && !in.paused {
		// The instance runs again, once its last pause has ended: the
		// interval closes and parked work resumes, needing what the
		// pause owed it.
		defer sv.consumerEvent(n, (*group).resumed)
		last := in.pauses[len(in.pauses)-1]
		in.pauses[len(in.pauses)-1].to = s.now
		for _, p := range in.parked {
			if r := &s.reqs.r[p.req]; r.gen == p.gen && r.state == atService {
				if p.kind == evWorkDone || p.kind == evAfterDone {
					// Work frozen from the pause's start, or its
					// own, till now (slowness.go).
					r.late = r.late.worse(lateBy(sv.idx, last.occ, s.now-max(last.from, r.segStart)))
				}
				r.segStart = s.now
				s.schedule(after(s.now, p.owed), p.kind, p.req, p.gen)
			}
		}
		in.parked = in.parked[:0]
		s.coordinatorBack(sv, n)
	}
	sv.next(n)
}

// refreshInstance recomputes what the active faults do to instance n.
func (sv *service) refreshInstance(n int32) {
	in := &sv.insts[n]
	f := &in.f
	f.slow, f.workers, f.blackhole = 1, sv.spec.Workers, false
	passErr, passThrottle := 1.0, 1.0
	paused, crashed := false, false
	for _, i := range f.list {
		if sv.s.faults[i].op >= 0 {
			continue // one operation's: applied as its requests start
		}
		switch p := sv.s.faults[i].p.(type) {
		case ErrorsFault:
			passErr *= 1 - p.Probability
		case DependencyFault:
			passErr *= 1 - p.Probability
		case ThrottleFault:
			passThrottle *= 1 - p.Probability
		case SlowdownFault:
			f.slow *= p.Factor
		case CapacityFault:
			f.workers = min(f.workers, p.Workers)
		case BlackholeFault:
			f.blackhole = true
		case PauseFault:
			paused = true
		case CrashFault:
			crashed = true
		}
	}
	f.errP, f.throttleP = 1-passErr, 1-passThrottle
	in.paused = paused
	if crashed {
		in.up = false
	}
	sv.recount(n)
}

// crash takes instance n down: the requests it holds die with it, and
// their callers see the connection reset at once.
func (sv *service) crash(n int32) {
	s := sv.s
	in := &sv.insts[n]
	wasUp := in.up
	in.downUnseen = (in.up || in.downUnseen) && !in.draining && !in.retired
	in.up = false
	sv.countDown(n) // before its requests fail: their callers' refusals trace it
	if wasUp {
		sv.exited(n)
	}
	sv.relist(n)
	sv.account(s.now)
	// Mark the victims first, then cancel the calls they are waiting on,
	// then answer them: a victim's calls must be gone before its slot can
	// be reused.
	var victims []int32
	reqs, calls := s.held.at(s, sv.idx, n)
	for _, i := range reqs {
		r := &s.reqs.r[i]
		if r.state == atService && r.svc == sv.idx && r.inst == n {
			victims = append(victims, i)
			r.flags |= reqCrashed
		}
	}
	for _, k := range calls {
		if cl := &s.calls.c[k]; cl.inUse && s.reqs.r[cl.parent].is(reqCrashed) {
			s.cancelCall(k)
		}
	}
	sv.busy -= in.busy
	sv.queued -= in.q.len()
	sv.waiting -= in.waiting
	in.busy, in.waiting = 0, 0
	in.work = in.work[:0]
	if in.cfs != nil {
		in.cfs.due = in.cfs.due[:0] // its stretches of work end with it
	}
	in.onCPU(s.now, -in.cpu)
	for in.q.len() > 0 {
		in.q.pop()
	}
	for _, i := range victims {
		s.reqs.r[i].flags &^= reqCrashed
		s.fail(i, origin{comp: sv.idx, cause: CauseCrash, fault: in.downOcc})
		s.refuse(i, Error)
	}
	lost := fmt.Sprintf("%d requests lost", len(victims))
	if len(victims) == 1 {
		lost = "1 request lost"
	}
	s.logf(fmt.Sprintf("%s#%d", sv.spec.Name, n+1), "crashed: %s", lost)
	if in.draining {
		s.drained(sv, n) // a deploy was restarting it anyway
	}
}

// instanceUp returns a restarted instance to service.
func (s *Sim) instanceUp(svc int32, n int32) {
	sv := &s.services[svc]
	in := &sv.insts[n]
	if in.up || s.now != in.readyAt {
		// Up already, or a start planned before a later one (a drain
		// or a second crash planned another since): not this one.
		return
	}
	if in.retired {
		if di := in.deploy; di >= 0 {
			// Scaled away while a deploy restarted it: the deploy is
			// done with it.
			in.deploy = -1
			s.deployed(di)
		}
		return
	}
	if slices.ContainsFunc(in.f.list, func(i int32) bool { return s.faults[i].spec.Kind == FaultCrash }) {
		return // crashed again meanwhile: it starts when the crash ends
	}
	in.up, in.downUnseen = true, false
	sv.probeRestarted(n)
	if sv.limited {
		in.bucket.Restart(s.now) // a new process: a full bucket, a new fill timer
		clear(in.kong)           // Kong's local counters are in its memory
	}
	sv.recount(n)
	what := "started by the autoscaler: taking traffic"
	switch {
	case in.deploy >= 0:
		d := &s.deploys[in.deploy]
		version := "the new version"
		if d.rollback {
			version = "the old version again"
		}
		what = fmt.Sprintf("started %s after %s: taking traffic", version, time.Duration(s.now-in.crashedAt).Round(time.Millisecond))
		if s.faults[d.fault].p.(DeployFault).Warmup > 0 {
			what += ", warming up"
		}
	case in.crashedAt >= 0:
		what = fmt.Sprintf("restarted: taking traffic again, %s after the crash", time.Duration(s.now-in.crashedAt).Round(time.Millisecond))
	}
	s.logf(fmt.Sprintf("%s#%d", sv.spec.Name, n+1), "%s", what)
	if in.deploy >= 0 {
		s.deployUp(sv, n)
	}
	in.leakFrom, in.leakStuck = s.now, 1
	sv.planLeak(n)
	sv.next(n)
	sv.consumerAdded(n)
	sv.consumerEvent(n, (*group).restarted)
	s.coordinatorBack(sv, n)
}

// pause is an interval during which an instance did no work, and the
// pause fault occurrence (+ 1) that began it: what the work it froze was
// late by (slowness.go).
type pause struct {
	from, to int64
	occ      int32
}

// parked is a stretch of work that fell due while its instance was paused:
// it still needs owed of running time. It may also be a step that takes no
// time but that the paused process had to make: going on once its calls
// answered (evCallsDone), or a refusal (evRefuse).
type parked struct {
	req  int32
	gen  uint32
	kind evKind
	owed int64
}

// pausedFor returns how much of [a, b) instance in spent paused.
func (in *instance) pausedFor(a, b int64) int64 {
	var d int64
	for i := len(in.pauses) - 1; i >= 0; i-- {
		p := in.pauses[i]
		if p.to <= a {
			break
		}
		d += max(0, min(p.to, b)-max(p.from, a))
	}
	return d
}

// heldIndex lists, for each of a set of instances of one service, the
// request slots at work or queued there and the calls those requests wait
// on, in pool order. A crash of k instances reads it instead of scanning
// both pools k times: O(pool + k), not O(pool x k). It is valid while no
// request or call slot is handed out (made unchanged): only a new slot can
// start to be held by an instance within one event, since a request
// reaches its instance by an event of its own.
type heldIndex struct {
	svc       int32   // -1: empty
	insts     []int32 // sorted
	reqOff    []int32 // the requests of insts[j] are reqs[reqOff[j]:reqOff[j+1]]
	reqs      []int32
	callOff   []int32
	calls     []int32
	reqsMade  uint64
	callsMade uint64
}

func (h *heldIndex) reset() { h.svc = -1 }

// build indexes what the instances insts (sorted) of service svc hold.
func (h *heldIndex) build(s *Sim, svc int32, insts []int32) {
	h.svc, h.reqsMade, h.callsMade = svc, s.reqs.made, s.calls.made
	h.insts = append(h.insts[:0], insts...)
	pos := func(r *request) int {
		if r.state != atService || r.svc != svc {
			return -1
		}
		j, ok := slices.BinarySearch(h.insts, r.inst)
		if !ok {
			return -1
		}
		return j
	}
	h.reqOff = bucket(h.reqOff, &h.reqs, len(insts), len(s.reqs.r), func(i int) int { return pos(&s.reqs.r[i]) })
	h.callOff = bucket(h.callOff, &h.calls, len(insts), len(s.calls.c), func(k int) int {
		if cl := &s.calls.c[k]; cl.inUse {
			return pos(&s.reqs.r[cl.parent])
		}
		return -1
	})
}

// bucket sorts the indices 0..n-1 into k buckets by of (-1: none),
// keeping their order within a bucket, into items; it returns the
// buckets' offsets, reusing off.
func bucket(off []int32, items *[]int32, k, n int, of func(int) int) []int32 {
	off = slices.Grow(off[:0], k+1)[:k+1]
	clear(off)
	for i := range n {
		if j := of(i); j >= 0 {
			off[j+1]++
		}
	}
	for j := range k {
		off[j+1] += off[j]
	}
	*items = slices.Grow((*items)[:0], int(off[k]))[:off[k]]
	next := slices.Clone(off[:k])
	for i := range n {
		if j := of(i); j >= 0 {
			(*items)[next[j]] = int32(i)
			next[j]++
		}
	}
	return off
}

// at returns what instance n of service svc holds: the request slots
// that may be at it and the calls they may wait on, a superset in pool
// order. Outside a crash of several instances it indexes n alone and
// forgets the index at once: requests reach instances between events.
func (h *heldIndex) at(s *Sim, svc, n int32) (reqs, calls []int32) {
	j, ok := slices.BinarySearch(h.insts, n)
	switch {
	case h.svc != svc || !ok:
		h.build(s, svc, []int32{n})
		defer h.reset()
		j = 0
	case h.reqsMade != s.reqs.made || h.callsMade != s.calls.made:
		h.build(s, svc, h.insts) // new slots since: index again
	}
	return h.reqs[h.reqOff[j]:h.reqOff[j+1]], h.calls[h.callOff[j]:h.callOff[j+1]]
}
