package sim

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/faultline/faultline/sim/metrics"
)

// group is a consumer group on one topic: its members share the topic's
// partitions, each partition owned by one member. A member is an instance
// of the consuming service (or a view's projector); it polls a batch from
// its partitions and processes the records one at a time, as a Kafka
// consumer's poll loop does, each record a request on one of the
// instance's workers.
type group struct {
	s       *Sim
	idx     int32
	name    string
	topic   int32
	svc     int32 // the consuming service, or -1 for a view
	view    int32 // the view, or -1
	spec    Consume
	members []member
	parts   []gpart
	gen     uint32 // bumped at each rebalance: older work is void
	// rebalancing: members stopped consuming until the rebalance ends.
	rebalancing bool
	// joinWait: the rebalance's time is over, but its join phase still
	// waits for a member the coordinator counts that has not rejoined.
	joinWait bool

	consumed, duplicates, lost, deadLettered, dropped, redelivered uint64
	rebalances                                                     uint64
	maxLag, maxLagT                                                int64
	e2e                                                            metrics.Histogram // publish to processed, whole run
	win                                                            groupWin
	series                                                         []Window
	health                                                         healthTracker
	// rbOrg is where the last rebalance originated (rebalanceOrigin): a
	// partition without an owner meanwhile, and the records read again
	// after it, trace there.
	rbOrg origin
}

type groupWin struct {
	consumed, duplicates, lost, dropped uint64
	// blame counts the window's lost and duplicated records and the
	// records behind at its close by origin (groupBlame).
	blame   blameTally
	e2e     metrics.Histogram
	maxLag  int64
	maxLagT int64
}

// gpart is a group's state on one partition. Offsets below done are
// accounted for (consumed, or lost); committed is where a new owner starts.
type gpart struct {
	owner     int32 // a member, or -1
	position  int64 // the next offset to fetch
	committed int64
	done      int64
	proc      int64 // the next offset after what the owner has handled
	// stall is where the partition was last held up by a fault, until
	// the group has caught up on it (groupBlame).
	stall origin
}

// member is one group member's poll loop.
type member struct {
	inst     int32 // the service instance; 0 for a view
	slot     int32 // Sim.members index
	joined   bool
	owned    []int32
	batch    []brec // the records of the current poll
	at       int    // the record being processed
	attempts int
	busy     bool   // a record is being processed
	cur      int32  // the request processing it
	curGen   uint32 // its generation, or a view apply's sequence
	seq      uint32
	lastPoll int64
	silent   int64 // since when it has not heartbeated (crashed or paused), or -1
	// evicted: it passed max.poll.interval and left the group (a static
	// member only stopped heartbeating), but its poll loop still works
	// through the batch it holds; it rejoins at its next poll.
	evicted bool
	// ghost: since when the previous process of a restarted dynamic member
	// has been silent, or -1. The coordinator counts that old member until
	// its session expires.
	ghost    int64
	lastAuto int64 // the last auto commit
	rr       int   // the partition the next poll starts with
	// With a poll_interval: due is the time of the poll timer's next
	// execution, tickAt the time its pending timer event is for (0: none).
	due, tickAt int64
}

type brec struct {
	part   int32
	offset int64
}

type memberRef struct{ group, m int32 }

func (s *Sim) initGroups() {
	for i := range s.services {
		sv := &s.services[i]
		for _, c := range sv.spec.Consumes {
			g := s.newGroup(c.Group, s.topicIndex(c.Topic), c)
			g.svc, g.view = int32(i), -1
			for n := range sv.insts {
				g.addMember(int32(n))
			}
			sv.groups = append(sv.groups, g.idx)
		}
	}
	for i := range s.views {
		v := &s.views[i]
		g := s.newGroup("view/"+v.spec.Name, s.topicIndex(v.spec.Topic), Consume{Batch: v.spec.Batch, MaxAttempts: 1})
		g.svc, g.view = -1, int32(i)
		for k := range max(1, v.spec.Concurrency) {
			g.addMember(int32(k))
		}
		v.group = g.idx
	}
	for i := range s.groups {
		s.groups[i].assign()
	}
}

func (s *Sim) newGroup(name string, ti int32, c Consume) *group {
	s.groups = append(s.groups, group{s: s, idx: int32(len(s.groups)), name: name, topic: ti, spec: c})
	g := &s.groups[len(s.groups)-1]
	g.parts = make([]gpart, len(s.topics[ti].parts))
	for p := range g.parts {
		g.parts[p].owner = -1
	}
	if g.spec.Batch < 1 {
		g.spec.Batch = 500
	}
	if g.spec.MaxAttempts < 1 {
		g.spec.MaxAttempts = 1
	}
	s.topics[ti].allGroups = append(s.topics[ti].allGroups, g.idx)
	return g
}

func (g *group) addMember(inst int32) {
	s := g.s
	slot := int32(len(s.members))
	s.members = append(s.members, memberRef{group: g.idx, m: int32(len(g.members))})
	g.members = append(g.members, member{inst: inst, slot: slot, joined: true, silent: -1, ghost: -1})
}

func (g *group) label() string { return "group " + g.name }

// cutFrom reports whether a network partition separates the group's
// members (its service, or its view) from broker node n, either way.
func (g *group) cutFrom(n *dataNode) bool {
	s := g.s
	if len(s.partitions) == 0 {
		return false
	}
	me := g.consumerName()
	return s.cut(me, me, n.name, n.group) || s.cut(n.name, n.group, me, me)
}

func (g *group) consumerName() string {
	if g.view >= 0 {
		return g.s.views[g.view].spec.Name
	}
	return g.s.services[g.svc].spec.Name
}

// up reports whether member m's process runs: its instance (or view) is up
// and not paused.
func (g *group) up(m *member) bool {
	s := g.s
	if g.view >= 0 {
		n := &s.views[g.view].node
		return !n.down && !n.paused
	}
	in := &s.services[g.svc].insts[m.inst]
	return in.up && !in.paused
}

// assign shares the partitions among the joined members (Kafka's range
// assignor) and starts them from the committed offsets.
func (g *group) assign() {
	var live []int32
	for i := range g.members {
		m := &g.members[i]
		m.owned = m.owned[:0]
		if !m.evicted {
			m.batch = m.batch[:0]
			m.busy = false
		}
		if m.joined {
			live = append(live, int32(i))
		}
	}
	for p := range g.parts {
		gp := &g.parts[p]
		gp.owner = -1
		if len(live) > 0 {
			// Range assignment: contiguous partitions per member.
			gp.owner = live[p*len(live)/len(g.parts)]
			g.members[gp.owner].owned = append(g.members[gp.owner].owned, int32(p))
		}
		if gp.committed > gp.done {
			// Committed before processing, and the processing was lost
			// (at-most-once): nobody will read these records again.
			g.lost += uint64(gp.committed - gp.done)
			g.win.lost += uint64(gp.committed - gp.done)
			g.win.blame.addN(g.lastRebalance(), uint64(gp.committed-gp.done), g.s.occurs)
			gp.done = gp.committed
		}
		gp.position, gp.proc = gp.committed, gp.committed
		if b := g.s.topics[g.topic].parts[p].base; gp.position < b {
			gp.position, gp.proc = b, b
		}
	}
	for _, i := range live {
		g.poll(&g.members[i])
	}
}

// rebalance starts a rebalance: every member stops, those alive commit
// what they have processed (as onPartitionsRevoked does, and as an
// auto-committing consumer does before it rejoins), and consumption
// resumes with a new assignment after the broker's rebalance time.
func (g *group) rebalance(why string, org origin) {
	s := g.s
	g.rbOrg = org
	g.gen++
	g.rebalances++
	g.rebalancing, g.joinWait = true, false
	for i := range g.members {
		m := &g.members[i]
		if m.evicted {
			// Its poll loop is busy with its batch: it hears of the
			// rebalance only at its next poll.
			continue
		}
		switch {
		case m.joined && g.spec.Commit != CommitBefore:
			for _, p := range m.owned {
				g.parts[p].committed = max(g.parts[p].committed, g.parts[p].proc)
			}
		case m.joined && g.up(m):
			// At-most-once: a live member would finish the batch it
			// committed before it rejoins. It stops here instead, so the
			// records it has not processed go to the partition's next
			// owner: nothing is lost without a crash.
			for _, p := range m.owned {
				g.parts[p].committed = min(g.parts[p].committed, max(g.parts[p].proc, g.parts[p].done))
			}
		}
		m.busy = false
		m.batch = m.batch[:0]
		m.seq++
	}
	s.logf(g.label(), "rebalancing: %s", why)
	s.schedule(after(s.now, int64(s.brokers[s.topics[g.topic].broker].spec.Rebalance)), evRebalance, g.idx, g.gen)
}

func (g *group) rebalanced(gen uint32) {
	if gen != g.gen {
		return // another rebalance began meanwhile
	}
	if g.joinBlocked() {
		g.joinWait = true
		return
	}
	g.complete()
}

// joinBlocked reports whether the rebalance's join phase still waits for a
// member that the coordinator counts but that has not rejoined: one that
// stopped heartbeating (crashed, frozen, or a static member past its poll
// timeout) and has not been removed yet, or the old process of a restarted
// dynamic member. Kafka's classic group coordinator completes the join only
// once every member has rejoined or been removed by its session timeout
// (ClassicGroup.hasAllMembersJoined in apache/kafka's group-coordinator).
func (g *group) joinBlocked() bool {
	for i := range g.members {
		if m := &g.members[i]; m.ghost >= 0 || m.joined && (m.silent >= 0 || m.evicted) {
			return true
		}
	}
	return false
}

// unblocked completes a rebalance that waited for its last member.
func (g *group) unblocked() {
	if g.joinWait && !g.joinBlocked() {
		g.complete()
	}
}

// complete ends the rebalance: the partitions are shared again.
func (g *group) complete() {
	g.rebalancing, g.joinWait = false, false
	n := 0
	for i := range g.members {
		if g.members[i].joined {
			n++
		}
	}
	g.s.logf(g.label(), "rebalanced: %d members", n)
	g.assign()
}

// check removes members that stopped heartbeating for the session timeout
// (crashed or frozen) or have not polled for max.poll.interval, and lets
// members that came back join.
func (g *group) check() {
	s := g.s
	bs := s.brokers[s.topics[g.topic].broker].spec
	session, maxPoll := int64(bs.SessionTimeout), int64(bs.MaxPollInterval)
	var why string
	var org origin
	changes := 0 // the membership changes found: one rebalance for all
	for i := range g.members {
		m := &g.members[i]
		if m.ghost >= 0 && s.now-m.ghost >= session {
			s.logf(g.label(), "the old member of %s left: no heartbeat for %s", g.memberName(m), time.Duration(s.now-m.ghost).Round(time.Second))
			m.ghost = -1
		}
		switch {
		case m.joined && m.silent >= 0 && s.now-m.silent >= session:
			m.joined = false
			org = g.rebalanceOrigin(m)
			why = fmt.Sprintf("%s left: no heartbeat for %s", g.memberName(m), time.Duration(s.now-m.silent).Round(time.Second))
			changes++
		case m.joined && !m.evicted && m.busy && s.now-m.lastPoll >= maxPoll:
			m.evicted = true
			if g.spec.StaticMembership {
				s.logf(g.label(), "%s: no poll for %s, stops heartbeating", g.memberName(m), time.Duration(s.now-m.lastPoll).Round(time.Second))
				break
			}
			g.leave(m)
			org = g.rebalanceOrigin(m)
			why = fmt.Sprintf("%s left: no poll for %s", g.memberName(m), time.Duration(s.now-m.lastPoll).Round(time.Second))
			changes++
		case m.joined && m.evicted && s.now-m.lastPoll >= maxPoll+session:
			g.leave(m)
			org = g.rebalanceOrigin(m)
			why = fmt.Sprintf("%s left: no heartbeat since its poll timeout, %s ago", g.memberName(m), time.Duration(s.now-m.lastPoll-maxPoll).Round(time.Second))
			changes++
		case !m.joined && !m.evicted && m.silent < 0 && g.up(m) && g.exists(m):
			m.joined = true
			org = g.rebalanceOrigin(m)
			why = g.memberName(m) + " joined"
			changes++
		}
	}
	switch {
	case changes == 2:
		why += ", with 1 other membership change"
	case changes > 2:
		why += fmt.Sprintf(", with %d other membership changes", changes-1)
	}
	switch {
	case why != "" && g.joinWait:
		// The rebalance under way takes the change in: the coordinator
		// is still gathering its members.
		s.logf(g.label(), "%s", why)
	case why != "":
		g.rebalance(why, org)
		return
	}
	if g.joinWait {
		g.unblocked()
		return
	}
	// Idle members poll again once a second, as a Kafka consumer's poll
	// loop does: a partition healed or a leader came back meanwhile.
	for i := range g.members {
		if m := &g.members[i]; m.joined && !m.busy && len(m.batch) == 0 && !g.rebalancing {
			g.poll(m)
		}
	}
}

// leave takes evicted member m out of the group while its poll loop still
// holds a batch. The member does not commit: its heartbeat thread leaves
// without the onPartitionsRevoked a poll would run, and its later commits
// fail (CommitFailedException: the partitions were reassigned), so what it
// processed since its last commit goes to the next owner again. With
// commit = "before" its batch was committed when it polled; faultline then
// hands the records it has not started to the next owner, as a rebalance of
// live members does, and the member stops after the record in flight
// (which the next owner processes too).
func (g *group) leave(m *member) {
	m.joined = false
	if g.spec.Commit != CommitBefore {
		return
	}
	for _, p := range m.owned {
		gp := &g.parts[p]
		gp.committed = min(gp.committed, max(gp.proc, gp.done))
	}
	if m.busy {
		m.batch = m.batch[:m.at+1]
	}
}

// rejoin is member m's next poll after it passed max.poll.interval: the
// poll loop, one thread, gets there only once it has finished its batch.
// Only then does it rejoin (KafkaConsumer.poll runs the coordinator's
// ensureActiveGroup). A dynamic member left the group: it joins again,
// which is a rebalance. A static member still in the group (its session has
// not expired) rejoins with its group.instance.id and gets its partitions
// back without a rebalance, but the commit of its batch failed: it reads
// them again from the committed offsets.
func (g *group) rejoin(m *member) {
	m.evicted = false
	m.batch = m.batch[:0]
	m.lastPoll = g.s.now
	if m.joined {
		g.s.logf(g.label(), "%s polled again: rejoined with its group.instance.id, no rebalance", g.memberName(m))
		g.resume(m)
		return
	}
	m.joined = true
	g.rebalance(g.memberName(m)+" rejoined at its next poll", g.rebalanceOrigin(m))
}

// resume restarts static member m on the partitions it owns, from their
// committed offsets, unless a rebalance is under way.
func (g *group) resume(m *member) {
	m.busy = false
	m.batch = m.batch[:0]
	m.seq++
	for _, p := range m.owned {
		gp := &g.parts[p]
		gp.position, gp.proc = gp.committed, gp.committed
		if b := g.s.topics[g.topic].parts[p].base; gp.position < b {
			gp.position, gp.proc = b, b
		}
	}
	if g.rebalancing {
		g.unblocked()
		return
	}
	g.poll(m)
}

// held is the lowest offset of partition p that an evicted member's poll
// loop still has to process, or math.MaxInt64: its batch outlives its
// membership, so the broker must keep those records.
func (g *group) held(p int32) int64 {
	low := int64(math.MaxInt64)
	for i := range g.members {
		if m := &g.members[i]; m.evicted {
			for _, br := range m.batch[m.at:] {
				if br.part == p {
					low = min(low, br.offset)
					break
				}
			}
		}
	}
	return low
}

// exists reports whether member m's instance exists: not retired by the
// autoscaler.
func (g *group) exists(m *member) bool {
	return g.view >= 0 || !g.s.services[g.svc].insts[m.inst].retired
}

func (g *group) memberName(m *member) string {
	if g.view >= 0 {
		if len(g.members) > 1 {
			return fmt.Sprintf("%s#%d", g.s.views[g.view].spec.Name, m.inst+1)
		}
		return g.s.views[g.view].spec.Name
	}
	return fmt.Sprintf("%s#%d", g.s.services[g.svc].spec.Name, m.inst+1)
}

// crashed, restarted, paused and resumed tell the group what happened to
// member inst's process. A crashed member stops heartbeating and is removed
// after the session timeout; one that restarts rejoins, and reads again
// from the committed offsets. A frozen one stops too, and simply goes on
// when it thaws, unless it was removed meanwhile.
func (g *group) crashed(inst int32) {
	g.quiet(inst)
	for i := range g.members {
		if m := &g.members[i]; m.inst == inst {
			m.evicted = false // its poll loop died with the batch
			// What the dead process handled but did not commit is not
			// committed by anyone: its successor reads it again.
			for _, p := range m.owned {
				g.parts[p].proc = g.parts[p].committed
			}
		}
	}
}

func (g *group) quiet(inst int32) {
	for i := range g.members {
		if m := &g.members[i]; m.inst == inst && m.silent < 0 {
			m.silent = g.s.now
		}
	}
}

// restarted: a process that comes back within the session timeout is
// still counted by the coordinator. Without static membership it gets a
// new member id and joins as a new member: the group rebalances at once,
// and the rebalance's join waits for the old member, which never rejoins,
// until its session expires (see joinBlocked). A static member rejoins
// with its group.instance.id: the coordinator hands it its old assignment
// without a rebalance (KIP-345; GROUP_INSTANCE_ID_CONFIG in Kafka's
// CommonClientConfigs). One removed meanwhile joins at the next check.
func (g *group) restarted(inst int32) {
	for i := range g.members {
		m := &g.members[i]
		if m.inst != inst {
			continue
		}
		old := m.silent
		m.silent = -1
		switch {
		case !m.joined:
		case g.spec.StaticMembership:
			g.s.logf(g.label(), "%s restarted: rejoined with its group.instance.id, no rebalance", g.memberName(m))
			g.resume(m)
		default:
			m.ghost = old
			g.rebalance(g.memberName(m)+" restarted: joins as a new member, the old one is counted until its session expires", g.rebalanceOrigin(m))
		}
	}
}

func (g *group) paused(inst int32) { g.quiet(inst) }

func (g *group) resumed(inst int32) {
	for i := range g.members {
		if m := &g.members[i]; m.inst == inst {
			m.silent = -1
			if g.joinWait {
				g.unblocked()
			} else if m.joined && !g.rebalancing && !m.busy {
				g.poll(m)
			}
		}
	}
}

// wake lets the idle owner of partition p poll: new records are readable.
func (g *group) wake(p int32) {
	if g.rebalancing {
		return
	}
	if o := g.parts[p].owner; o >= 0 {
		if m := &g.members[o]; m.joined && !m.busy && len(m.batch) == 0 {
			g.poll(m)
		}
	}
}

// poll fetches up to a batch of readable records from the member's
// partitions and starts processing them.
func (g *group) poll(m *member) { g.pollIfDue(m, false) }

// pollIfDue polls, or with a poll_interval waits for the poll timer's next
// execution. overran says the member has just finished a batch: a timer
// execution that fell due meanwhile runs now.
func (g *group) pollIfDue(m *member, overran bool) {
	s := g.s
	if g.rebalancing || !m.joined || m.busy || len(m.owned) == 0 || !g.up(m) {
		return
	}
	if iv := int64(g.spec.PollInterval); iv > 0 {
		// A fixed-rate timer (ScheduledExecutorService.scheduleAtFixedRate,
		// Spring's @Scheduled(fixedRate, initialDelay)): executions at
		// initialDelay + k*period; one that falls due while the previous
		// still runs starts late, when it ends, and the next one stays on
		// its own time. An execution that found the member idle polled
		// what there was then: none is owed for it.
		if !overran {
			m.due = max(m.due, g.nextTick(s.now))
		}
		if s.now < m.due {
			if m.tickAt != m.due {
				m.tickAt = m.due
				s.schedule(m.due, evPollTick, m.slot, 0)
			}
			return
		}
		m.due += iv
	}
	t := &s.topics[g.topic]
	m.lastPoll = s.now
	if g.spec.Commit == CommitAuto && s.now-m.lastAuto >= int64(g.spec.AutoCommit) {
		// Auto commit commits, at a poll, the positions of what earlier
		// polls returned.
		for _, p := range m.owned {
			g.parts[p].committed = max(g.parts[p].committed, g.parts[p].position)
		}
		m.lastAuto = s.now
	}
	m.batch, m.at, m.attempts = m.batch[:0], 0, 0
	for k := range m.owned {
		p := m.owned[(m.rr+k)%len(m.owned)]
		gp := &g.parts[p]
		pt := &t.parts[p]
		if pt.leader < 0 {
			continue // offline: the fetch gets nothing
		}
		if ld := s.brokers[t.broker].node(pt, pt.leader); ld.paused || g.cutFrom(ld) {
			continue // its leader is frozen, or a partition cuts it off
		}
		if gp.position < pt.base {
			gp.position = pt.base
		}
		for gp.position < pt.hw && len(m.batch) < g.spec.Batch {
			m.batch = append(m.batch, brec{part: p, offset: gp.position})
			gp.position++
		}
		if g.spec.Commit == CommitBefore {
			gp.committed = gp.position
		}
	}
	m.rr++
	if len(m.batch) > 0 {
		g.process(m)
	}
}

// nextTick is the time of the first execution of the group's poll timer
// at or after t.
func (g *group) nextTick(t int64) int64 {
	d, iv := int64(g.spec.PollInitialDelay), int64(g.spec.PollInterval)
	if t <= d {
		return d
	}
	return d + (t-d+iv-1)/iv*iv
}

// pollTick is the poll timer of the member in slot, due now.
func (s *Sim) pollTick(slot int32) {
	ref := s.members[slot]
	g := &s.groups[ref.group]
	m := &g.members[ref.m]
	if m.tickAt != s.now {
		return // a later execution was planned since
	}
	m.tickAt = 0
	g.poll(m)
}

// process starts the member's current record.
func (g *group) process(m *member) {
	s := g.s
	br := m.batch[m.at]
	pt := &s.topics[g.topic].parts[br.part]
	if br.offset < pt.base || br.offset >= pt.base+int64(pt.recs.len()) {
		// Expired or truncated while the batch waited: nothing to do.
		g.next(m)
		return
	}
	m.busy = true
	m.seq++
	if g.view >= 0 {
		v := &s.views[g.view]
		m.curGen = m.seq
		s.schedule(after(s.now, s.nodeDelay(&v.node, v.spec.ApplyTime.Sample(v.rng))), evViewApply, m.slot, m.seq)
		return
	}
	i := s.reqs.alloc()
	if i < 0 {
		s.err = errTooMany(s.now)
		return
	}
	r := &s.reqs.r[i]
	r.svc, r.inst, r.parent, r.origin, r.sent = g.svc, m.inst, fromRecord, m.slot, s.now
	r.key = pt.recs.at(int(br.offset - pt.base)).key
	// A record names no operation: it takes one by the operations'
	// weights, as a request to the service alone does.
	sv := &s.services[g.svc]
	r.op = sv.pickOp(sv.rng)
	m.cur, m.curGen = i, r.gen
	s.deliver(i)
}

// recordDone takes the outcome of the record a member processed.
func (s *Sim) recordDone(slot int32, gen uint32, o Outcome) {
	ref := s.members[slot]
	g := &s.groups[ref.group]
	m := &g.members[ref.m]
	if !m.busy || m.curGen != gen {
		return // a rebalance took the record away meanwhile
	}
	m.busy = false
	if o != OK {
		if !g.up(m) && (g.view >= 0 || !s.services[g.svc].insts[m.inst].up) {
			// The process died with the record: its successor will read it
			// again from the committed offset.
			m.batch = m.batch[:0]
			return
		}
		m.attempts++
		if m.attempts < g.spec.MaxAttempts {
			g.redelivered++
			g.process(m)
			return
		}
		br := m.batch[m.at]
		if dl := g.spec.DeadLetter; dl != "" {
			g.deadLettered++
			pt := &s.topics[g.topic].parts[br.part]
			s.produce(s.topicIndex(dl), pt.recs.at(int(br.offset-pt.base)).key, true, AcksLeader, -1, g.memberName(m), -1, -1)
		} else {
			g.dropped++
			g.win.dropped++
		}
	}
	g.handled(m)
}

// handled accounts for the member's current record, processed (or given
// up on), and moves to the next.
func (g *group) handled(m *member) {
	s := g.s
	br := m.batch[m.at]
	gp := &g.parts[br.part]
	pt := &s.topics[g.topic].parts[br.part]
	if br.offset >= gp.done {
		g.consumed++
		g.win.consumed++
		// Records in between were expired or truncated: already counted.
		gp.done = br.offset + 1
		if i := br.offset - pt.base; i >= 0 && i < int64(pt.recs.len()) {
			rec := pt.recs.at(int(i))
			g.e2e.Record(s.now - rec.at)
			g.win.e2e.Record(s.now - rec.at)
			if g.view >= 0 {
				v := &s.views[g.view]
				v.apply(rec, s.topics[g.topic].vkeys)
				v.caughtUp()
			}
			if rec.tag >= 0 {
				s.sagaEvent(rec, g.idx, m.attempts < g.spec.MaxAttempts)
			}
		}
	} else {
		g.duplicates++
		g.win.duplicates++
		g.win.blame.add(g.lastRebalance(), s.occurs) // read again after a rebalance
		if i := br.offset - pt.base; g.view >= 0 && i >= 0 && i < int64(pt.recs.len()) {
			s.views[g.view].applyAgain(pt.recs.at(int(i)), s.topics[g.topic].vkeys)
		}
	}
	if !m.evicted {
		// An evicted member's commits fail: its work does not move the
		// offset that the group commits.
		gp.proc = max(gp.proc, br.offset+1)
	}
	g.next(m)
}

// next moves to the member's next record, or commits and polls again.
func (g *group) next(m *member) {
	m.at++
	m.attempts = 0
	if m.at < len(m.batch) {
		g.process(m)
		return
	}
	if m.evicted {
		g.rejoin(m)
		return
	}
	if g.spec.Commit == CommitAfter {
		for _, br := range m.batch {
			gp := &g.parts[br.part]
			gp.committed = max(gp.committed, gp.proc)
		}
	}
	m.batch = m.batch[:0]
	g.pollIfDue(m, true)
}

// viewApplied ends a view's apply of its current record.
func (s *Sim) viewApplied(slot int32, seq uint32) {
	ref := s.members[slot]
	g := &s.groups[ref.group]
	m := &g.members[ref.m]
	if !m.busy || m.curGen != seq {
		return
	}
	v := &s.views[g.view]
	if v.node.down {
		m.busy = false
		m.batch = m.batch[:0]
		return
	}
	if v.node.paused {
		v.stalled = append(v.stalled, ref.m) // finishes when the pause ends
		return
	}
	m.busy = false
	g.handled(m)
}

// truncated tells the group that partition p lost the records [end, top).
func (g *group) truncated(p int32, end, top int64) {
	gp := &g.parts[p]
	if gp.done < top {
		n := top - max(gp.done, end)
		g.lost += uint64(n)
		g.win.lost += uint64(n)
		g.win.blame.addN(g.leaderOrigin(p, CauseLost), uint64(n), g.s.occurs)
	}
	gp.done = min(gp.done, end)
	gp.position = min(gp.position, end)
	gp.committed = min(gp.committed, end)
	gp.proc = min(gp.proc, end)
	// A batch holding truncated records skips them when it reaches them.
}

// expired tells the group that partition p's records below base are gone.
func (g *group) expired(p int32, base int64) {
	gp := &g.parts[p]
	if gp.done < base {
		g.lost += uint64(base - gp.done)
		g.win.lost += uint64(base - gp.done)
		// Deleted by retention before the group got to them: lost to
		// what held the partition back.
		g.win.blame.addN(g.stallOrigin(p), uint64(base-gp.done), g.s.occurs)
		gp.done = base
	}
	gp.position = max(gp.position, base)
	gp.committed = max(gp.committed, base)
	gp.proc = max(gp.proc, base)
}

// lag returns the group's consumer lag: records between the committed
// offsets and the log ends, and the age of the oldest of them.
func (g *group) lag() (records, age int64) {
	for p := range g.parts {
		r, a := g.partLag(p)
		records += r
		age = max(age, a)
	}
	return records, age
}

// partLag is the group's lag on partition p: log end offset - committed
// offset, and the age of the oldest record from the committed offset on.
func (g *group) partLag(p int) (records, age int64) {
	pt := &g.s.topics[g.topic].parts[p]
	end := pt.base + int64(pt.recs.len())
	from := max(g.parts[p].committed, pt.base)
	if from >= end {
		return 0, 0
	}
	return end - from, g.s.now - pt.recs.at(int(from-pt.base)).at
}

// behind is the age of the oldest record the group has not processed yet:
// how far behind it is, whatever it committed.
func (g *group) behind() int64 {
	var age int64
	for p := range g.parts {
		pt := &g.s.topics[g.topic].parts[p]
		done := max(g.parts[p].done, pt.base)
		if done < pt.base+int64(pt.recs.len()) {
			age = max(age, g.s.now-pt.recs.at(int(done-pt.base)).at)
		}
	}
	return age
}

// lagging counts the records not yet accounted for: still to consume.
func (g *group) lagging() uint64 {
	t := &g.s.topics[g.topic]
	var n int64
	for p := range g.parts {
		pt := &t.parts[p]
		n += max(0, pt.base+int64(pt.recs.len())-g.parts[p].done)
	}
	return uint64(n)
}

// consumerEvent tells the groups of service sv what happened to instance n.
func (sv *service) consumerEvent(n int32, what func(g *group, inst int32)) {
	for _, gi := range sv.groups {
		what(&sv.s.groups[gi], n)
	}
}

// consumerAdded makes a new instance of sv (the autoscaler's) a member of
// its groups: it joins at the next check.
func (sv *service) consumerAdded(n int32) {
	for _, gi := range sv.groups {
		g := &sv.s.groups[gi]
		if !slices.ContainsFunc(g.members, func(m member) bool { return m.inst == n }) {
			g.addMember(n)
			g.members[len(g.members)-1].joined = false
		}
	}
}
