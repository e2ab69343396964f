package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// broker is a Kafka-like cluster: topics of partitions, each replicated on
// ReplicationFactor nodes with a leader and an in-sync replica set (ISR).
// Followers pull from their leader (a fetch copies what the leader had when
// it was sent); the high watermark is the end of what every ISR member has,
// and consumers read only below it.
type broker struct {
	s      *Sim
	idx    int32
	spec   *Broker
	rng    *rand.Rand
	nodes  []dataNode
	topics []int32
	held   [][]int32 // per node: produce requests that reached it while it was frozen
}

// topic is one topic's partitions and what was measured on them. Counts
// cover the whole run, warmup included, so that they balance.
type topic struct {
	spec      *Topic
	broker    int32
	parts     []partition
	allGroups []int32 // consumer groups reading it, views' included
	rr        uint32  // the next partition of a keyless record
	// kseq counts the records appended per view key, for read-your-writes.
	kseq  []uint32
	vkeys int

	produced, produceErrors, notEnough, lost, lostAcked uint64
	leaderChanges                                       uint64
	win                                                 uint64 // produced this window
	series                                              []TopicWindow
}

// partition is one replicated log. Replica positions index replicas, leo,
// behind and fetching; offsets are absolute, recs[0] has offset base.
type partition struct {
	replicas []int32 // broker nodes; replicas[0] is the preferred leader
	leader   int32   // a position in replicas, or -1: offline
	isr      []bool
	leo      []int64 // log end offset of each replica
	behind   []int64 // since when a follower lags the leader, or -1
	fetching []bool
	fetchTo  []int64
	trunc    []int64 // a down replica must truncate to this when it returns, or -1
	epoch    uint32
	hw       int64
	base     int64
	recs     recLog
	waiters  []ackWaiter // acks=all produces waiting for the high watermark
	slot     int32       // Sim.replicas index of replica position 0
}

// record is one message in a partition's log.
type record struct {
	at    int64 // appended at the leader
	key   uint64
	tag   int32  // the saga run whose step it triggers, or -1
	step  int32  // that step
	tgen  uint32 // the run's generation: a later run in its slot is not it
	kseq  uint32 // the record's number among its view key's records
	acked bool   // its producer was told it is written
}

type ackWaiter struct {
	offset int64
	op     int32
	gen    uint32
}

// replicaRef names one replica of one partition, for fetch events.
type replicaRef struct{ topic, part, pos int32 }

// produceMsg is a record on its way from a producer to a partition leader.
type produceMsg struct {
	topic, part int32
	key         uint64
	tag, step   int32
	tgen        uint32
	acks        Acks
	op          int32 // the waiting call attempt, or -1
	opGen       uint32
	gen         uint32
	next        int32 // free list
}

func (s *Sim) initBrokers() {
	s.brokers = make([]broker, len(s.spec.Brokers))
	for i := range s.spec.Brokers {
		b := &s.brokers[i]
		b.s, b.idx, b.spec = s, int32(i), &s.spec.Brokers[i]
		b.rng = s.stream("broker/" + b.spec.Name)
		b.nodes = make([]dataNode, b.spec.Nodes)
		b.held = make([][]int32, b.spec.Nodes)
		for n := range b.nodes {
			b.nodes[n].init(fmt.Sprintf("%s#%d", b.spec.Name, n+1), b.spec.Name, b, int32(n))
		}
		for j := range b.spec.Topics {
			tp := &b.spec.Topics[j]
			t := topic{spec: tp, broker: int32(i)}
			rf := max(1, min(tp.ReplicationFactor, len(b.nodes)))
			for p := range tp.Partitions {
				pt := partition{slot: int32(len(s.replicas))}
				for k := range rf {
					pt.replicas = append(pt.replicas, int32((p+k)%len(b.nodes)))
					s.replicas = append(s.replicas, replicaRef{topic: int32(len(s.topics)), part: int32(p), pos: int32(k)})
				}
				pt.isr = make([]bool, rf)
				for k := range pt.isr {
					pt.isr[k] = true
				}
				pt.leo = make([]int64, rf)
				pt.behind = make([]int64, rf)
				pt.fetching = make([]bool, rf)
				pt.fetchTo = make([]int64, rf)
				pt.trunc = make([]int64, rf)
				for k := range rf {
					pt.behind[k], pt.trunc[k] = -1, -1
				}
				t.parts = append(t.parts, pt)
			}
			b.topics = append(b.topics, int32(len(s.topics)))
			s.topics = append(s.topics, t)
		}
		s.schedule(int64(time.Second), evBrokerTick, int32(i), 0)
	}
	s.prods.free = -1
}

func (s *Sim) topicIndex(name string) int32 {
	for i := range s.topics {
		if s.topics[i].spec.Name == name {
			return int32(i)
		}
	}
	return -1
}

func (b *broker) node(p *partition, pos int32) *dataNode { return &b.nodes[p.replicas[pos]] }

// produce sends a record to its partition's leader. op is the call attempt
// waiting for the acknowledgement, or -1 for a fire-and-forget publish; from
// names the producer, for partitions.
func (s *Sim) produce(ti int32, key uint64, keyed bool, acks Acks, op int32, from string, tag, step int32) {
	t := &s.topics[ti]
	b := &s.brokers[t.broker]
	var p int32
	if keyed {
		p = int32(splitmix(key) % uint64(len(t.parts)))
	} else {
		p = int32(t.rr % uint32(len(t.parts)))
		t.rr++
	}
	pt := &t.parts[p]
	if pt.leader < 0 {
		t.produceErrors++ // no leader: the partition is offline
		if op >= 0 {
			s.opAt(op, Error, s.now)
		}
		if tag >= 0 {
			s.sagaResend(tag, s.sagaRuns.r[tag].gen)
		}
		return
	}
	if acks == AcksNone && op >= 0 {
		s.opAt(op, OK, s.now)
		op = -1
	}
	leader := b.node(pt, pt.leader)
	if leader.down || s.cut(from, from, leader.name, leader.group) {
		// Lost on the way; a waiting producer sees its timeout, a saga
		// sends its step's event again after its retry interval.
		t.produceErrors++
		if op >= 0 {
			s.reqs.r[op].state = lost
		}
		if tag >= 0 {
			s.sagaResend(tag, s.sagaRuns.r[tag].gen)
		}
		return
	}
	m := s.prods.alloc()
	if m > maxArg {
		s.err = errTooMany(s.now)
		return
	}
	pm := &s.prods.m[m]
	pm.topic, pm.part, pm.key, pm.tag, pm.step, pm.acks, pm.op = ti, p, key, tag, step, acks, op
	if tag >= 0 {
		pm.tgen = s.sagaRuns.r[tag].gen
	}
	if op >= 0 {
		pm.opGen = s.reqs.r[op].gen
	}
	s.schedule(s.now+s.hop(b.rng), evProduce, m, pm.gen)
}

// hop draws one network hop.
func (s *Sim) hop(rng *rand.Rand) int64 {
	if s.spec.Network.Latency.IsZero() {
		return 0
	}
	return s.spec.Network.Latency.Sample(rng)
}

// append is a produce request reaching its leader.
func (s *Sim) append(m int32) {
	pm := s.prods.m[m]
	t := &s.topics[pm.topic]
	b := &s.brokers[t.broker]
	pt := &t.parts[pm.part]
	if pt.leader >= 0 {
		if n := pt.replicas[pt.leader]; b.nodes[n].paused && !b.nodes[n].down {
			// A frozen leader takes the request when it thaws.
			b.held[n] = append(b.held[n], m)
			return
		}
	}
	s.prods.release(m)
	answer := func(o Outcome) {
		if pm.op >= 0 {
			s.settle(pm.op, pm.opGen, o, s.now+s.hop(b.rng))
		}
		if o != OK && pm.tag >= 0 {
			s.sagaResend(pm.tag, pm.tgen) // a saga's step event: send it again
		}
	}
	if pt.leader < 0 || b.node(pt, pt.leader).down {
		t.produceErrors++ // NOT_LEADER: the leader moved while it travelled
		answer(Error)
		return
	}
	if pm.acks == AcksAll && pt.isrCount() < t.spec.MinInsync {
		t.produceErrors++
		t.notEnough++
		answer(Error)
		return
	}
	rec := record{at: s.now, key: pm.key, tag: pm.tag, step: pm.step, tgen: pm.tgen}
	if t.vkeys > 0 {
		k := keyOf(pm.key, t.vkeys)
		t.kseq[k]++
		rec.kseq = t.kseq[k]
	}
	off := pt.leo[pt.leader]
	pt.recs.push(rec)
	pt.leo[pt.leader]++
	t.produced++
	t.win++
	for k := range pt.replicas {
		if int32(k) != pt.leader && pt.behind[k] < 0 {
			pt.behind[k] = s.now
		}
	}
	if pm.op < 0 {
		// Fire and forget: the client was answered before the record was
		// even written, so a read may look for it from now on.
		s.noteAcked(pm.topic, pt.recs.at(pt.recs.len()-1))
	}
	if pm.acks == AcksAll {
		op := pm.op
		if op >= 0 && !s.opLive(op, pm.opGen) {
			answer(OK) // frees an abandoned attempt
			op = -1
		}
		pt.waiters = append(pt.waiters, ackWaiter{offset: off, op: op, gen: pm.opGen})
	} else {
		pt.recs.at(pt.recs.len() - 1).acked = true
		if pm.op >= 0 {
			s.noteAcked(pm.topic, pt.recs.at(pt.recs.len()-1))
		}
		answer(OK)
	}
	for k := range pt.replicas {
		s.fetch(pm.topic, pm.part, int32(k))
	}
	s.advanceHW(pm.topic, pm.part)
}

func (p *partition) isrCount() int {
	n := 0
	for _, in := range p.isr {
		if in {
			n++
		}
	}
	return n
}

// fetch sends follower pos of a partition to copy what its leader has, if
// it is behind and idle.
func (s *Sim) fetch(ti, pi, pos int32) {
	t := &s.topics[ti]
	b := &s.brokers[t.broker]
	pt := &t.parts[pi]
	if pos == pt.leader || pt.leader < 0 || pt.fetching[pos] {
		return
	}
	me, leader := b.node(pt, pos), b.node(pt, pt.leader)
	if me.down || me.paused || leader.paused {
		return
	}
	if pt.leo[pos] >= pt.leo[pt.leader] {
		// Caught up: a follower out of the ISR that has all the leader
		// has (nothing was written while it was away) is back in it.
		if !pt.isr[pos] && !s.cut(leader.name, leader.group, me.name, me.group) && !s.cut(me.name, me.group, leader.name, leader.group) {
			pt.isr[pos], pt.behind[pos] = true, -1
			s.logf(fmt.Sprintf("%s/%d", t.spec.Name, pi), "%s caught up: back in the ISR", me.name)
			s.advanceHW(ti, pi)
		}
		return
	}
	pt.fetching[pos] = true
	if s.cut(leader.name, leader.group, me.name, me.group) || s.cut(me.name, me.group, leader.name, leader.group) {
		// The fetch fails; try again after replica.fetch.backoff.ms.
		pt.fetchTo[pos] = -1
		s.schedule(s.now+int64(time.Second), evFetch, pt.slot+pos, pt.epoch)
		return
	}
	pt.fetchTo[pos] = pt.leo[pt.leader]
	d := s.nodeDelay(me, b.spec.ReplicationDelay.Sample(b.rng))
	s.schedule(s.now+d, evFetch, pt.slot+pos, pt.epoch)
}

// fetched ends a follower's fetch.
func (s *Sim) fetched(slot int32, epoch uint32) {
	ref := s.replicas[slot]
	t := &s.topics[ref.topic]
	pt := &t.parts[ref.part]
	pos := ref.pos
	if epoch != pt.epoch {
		return // a new leader: the fetch was to the old one
	}
	pt.fetching[pos] = false
	b := &s.brokers[t.broker]
	if pt.leader < 0 || b.node(pt, pos).down {
		return
	}
	if to := pt.fetchTo[pos]; to > pt.leo[pos] && !b.node(pt, pt.leader).down {
		pt.leo[pos] = to
	}
	if pt.leo[pos] >= pt.leo[pt.leader] {
		pt.behind[pos] = -1
		if !pt.isr[pos] {
			pt.isr[pos] = true
			s.logf(fmt.Sprintf("%s/%d", t.spec.Name, ref.part), "%s caught up: back in the ISR", b.node(pt, pos).name)
		}
	}
	s.advanceHW(ref.topic, ref.part)
	s.fetch(ref.topic, ref.part, pos)
}

// advanceHW moves a partition's high watermark to what every ISR member
// has, acknowledges the acks=all produces below it and wakes its consumers.
func (s *Sim) advanceHW(ti, pi int32) {
	t := &s.topics[ti]
	pt := &t.parts[pi]
	if pt.leader < 0 {
		return
	}
	hw := pt.leo[pt.leader]
	for k, in := range pt.isr {
		if in {
			hw = min(hw, pt.leo[k])
		}
	}
	if hw <= pt.hw {
		return
	}
	pt.hw = hw
	b := &s.brokers[t.broker]
	n := 0
	for _, w := range pt.waiters {
		if w.offset >= hw {
			break
		}
		n++
		if i := w.offset - pt.base; i >= 0 && i < int64(pt.recs.len()) {
			pt.recs.at(int(i)).acked = true
			if w.op >= 0 {
				s.noteAcked(ti, pt.recs.at(int(i)))
			}
		}
		if w.op >= 0 {
			s.settle(w.op, w.gen, OK, s.now+s.hop(b.rng))
		}
	}
	pt.waiters = pt.waiters[:copy(pt.waiters, pt.waiters[n:])]
	for _, g := range t.allGroups {
		s.groups[g].wake(pi)
	}
}

// nodeChanged reacts to a fault on node n: leaders move off a node that
// went down, a node that came back catches up, a node that resumed fetches.
func (b *broker) nodeChanged(n int32, wasDown, wasPaused bool) {
	s := b.s
	nd := &b.nodes[n]
	switch {
	case nd.down && !wasDown:
		s.logf(nd.name, "crashed")
	case !nd.down && wasDown:
		s.logf(nd.name, "restarted")
	}
	if len(b.held[n]) > 0 && (nd.down || !nd.paused) {
		// Thawed, or crashed: the produce requests it held are taken now,
		// or fail as the leader is gone.
		for _, m := range b.held[n] {
			s.schedule(s.now, evProduce, m, s.prods.m[m].gen)
		}
		b.held[n] = b.held[n][:0]
	}
	thawed := wasPaused && !nd.paused
	for _, ti := range b.topics {
		t := &s.topics[ti]
		for pi := range t.parts {
			pt := &t.parts[pi]
			pos := int32(slices.Index(pt.replicas, n))
			if pos < 0 {
				continue
			}
			switch {
			case nd.down && !wasDown && pos == pt.leader:
				s.elect(ti, int32(pi), "its leader "+nd.name+" crashed")
			case !nd.down && wasDown:
				if tr := pt.trunc[pos]; tr >= 0 {
					pt.leo[pos] = min(pt.leo[pos], tr)
					pt.trunc[pos] = -1
				}
				pt.fetching[pos] = false
				if pt.leader < 0 {
					s.elect(ti, int32(pi), nd.name+" restarted")
				}
			}
			for k := range pt.replicas {
				s.fetch(ti, int32(pi), int32(k))
			}
			if thawed && pos == pt.leader {
				for _, g := range t.allGroups {
					s.groups[g].wake(int32(pi))
				}
			}
		}
	}
}

// loseLeaders is a leader_loss fault: the leaders of the target partitions
// lose leadership, as when a broker's controller session expires.
func (s *Sim) loseLeaders(f *fault) {
	t := &s.topics[f.topic]
	for pi := range t.parts {
		if f.spec.Partition >= 0 && pi != f.spec.Partition {
			continue
		}
		if pt := &t.parts[pi]; pt.leader >= 0 {
			old := pt.leader
			pt.isr[old] = false
			s.elect(f.topic, int32(pi), "leader_loss fault")
			switch {
			case pt.leader < 0 || pt.leader == old:
				// Nobody else could lead: it keeps the job.
				pt.leader, pt.isr[old] = old, true
			case pt.behind[old] < 0:
				pt.behind[old] = s.now
			}
		}
	}
}

// elect chooses a new leader for a partition whose leader is gone: an
// up member of the ISR, or with unclean election any up replica, or none
// (offline). The log is cut back to what the new leader has: the records
// it lacks are lost.
func (s *Sim) elect(ti, pi int32, why string) {
	t := &s.topics[ti]
	b := &s.brokers[t.broker]
	pt := &t.parts[pi]
	old := pt.leader
	next := int32(-1)
	for k := range pt.replicas {
		if int32(k) != old && pt.isr[k] && !b.node(pt, int32(k)).down {
			next = int32(k)
			break
		}
	}
	unclean := false
	if next < 0 && old >= 0 && !b.node(pt, old).down {
		return // the old leader is up: leadership stays
	}
	if next < 0 && t.spec.UncleanElection {
		for k := range pt.replicas {
			if int32(k) != old && !b.node(pt, int32(k)).down {
				next, unclean = int32(k), true
				break
			}
		}
	}
	name := fmt.Sprintf("%s/%d", t.spec.Name, pi)
	pt.epoch++
	// acks=all produces waiting on the old leader fail (NOT_LEADER); their
	// producers may retry.
	for _, w := range pt.waiters {
		if w.op >= 0 {
			s.settle(w.op, w.gen, Error, s.now)
		}
	}
	pt.waiters = pt.waiters[:0]
	for k := range pt.fetching {
		pt.fetching[k] = false
	}
	if next < 0 {
		if old >= 0 {
			// Offline. The old leader stays in the ISR: if it returns it
			// leads again, with nothing lost.
			pt.leader = -1
			pt.isr[old] = true
			t.leaderChanges++
			s.logf(name, "offline: no in-sync replica to lead (%s)", why)
		}
		return
	}
	if old < 0 {
		// An offline partition: the last leader returned, or unclean
		// election picked a replica.
		for k := range pt.replicas {
			if pt.isr[k] && !b.node(pt, int32(k)).down && !unclean {
				next = int32(k)
				break
			}
		}
	}
	end := pt.leo[next]
	if old >= 0 {
		if lost := pt.leo[old] - end; lost > 0 {
			s.truncate(ti, pi, end)
		}
	} else if top := pt.base + int64(pt.recs.len()); top > end {
		s.truncate(ti, pi, end)
	}
	for k := range pt.replicas {
		switch {
		case int32(k) == next:
		case b.node(pt, int32(k)).down:
			if pt.trunc[k] < 0 || pt.trunc[k] > end {
				pt.trunc[k] = end
			}
		default:
			pt.leo[k] = min(pt.leo[k], end)
		}
		if unclean {
			pt.isr[k] = int32(k) == next
		}
	}
	if old >= 0 && b.node(pt, old).down {
		pt.isr[old] = false
	}
	pt.isr[next] = true
	pt.leader = next
	pt.behind[next] = -1
	pt.hw = min(pt.hw, end)
	t.leaderChanges++
	how := "elected"
	if unclean {
		how = "elected by unclean election"
	}
	s.logf(name, "leader %s %s (%s)", b.node(pt, next).name, how, why)
	for k := range pt.replicas {
		s.fetch(ti, pi, int32(k))
	}
	s.advanceHW(ti, pi)
	for _, g := range t.allGroups {
		s.groups[g].wake(pi) // readable again, from its new leader
	}
}

// truncate cuts a partition's log back to end: the records beyond it are
// lost, for every group that had not consumed them.
func (s *Sim) truncate(ti, pi int32, end int64) {
	t := &s.topics[ti]
	pt := &t.parts[pi]
	top := pt.base + int64(pt.recs.len())
	if end >= top {
		return
	}
	if end < pt.base {
		// Unclean election of a replica behind what every group had
		// consumed, and compacted away: the log restarts at its end.
		pt.base = end
		pt.recs.cut(0)
		s.logf(fmt.Sprintf("%s/%d", t.spec.Name, pi), "%d records lost: the new leader never had them", top-end)
		for _, g := range s.groupsOf(ti) {
			s.groups[g].truncated(pi, end, top)
		}
		return
	}
	from := end
	for i := int(from - pt.base); i < pt.recs.len(); i++ {
		t.lost++
		if pt.recs.at(i).acked {
			t.lostAcked++
		}
	}
	s.logf(fmt.Sprintf("%s/%d", t.spec.Name, pi), "%d records lost: the new leader never had them", top-from)
	pt.recs.cut(int(from - pt.base))
	for _, g := range s.groupsOf(ti) {
		s.groups[g].truncated(pi, end, top)
	}
}

// tick is the broker's periodic housekeeping, once a second: followers
// that lag too long leave the ISR, old records expire, and consumer groups
// notice members that stopped heartbeating or polling.
func (b *broker) tick() {
	s := b.s
	lagMax := int64(b.spec.ReplicaLagMax)
	for _, ti := range b.topics {
		t := &s.topics[ti]
		for pi := range t.parts {
			pt := &t.parts[pi]
			if pt.leader >= 0 && !b.node(pt, pt.leader).paused {
				for k := range pt.replicas {
					if int32(k) != pt.leader && pt.isr[k] && pt.behind[k] >= 0 && s.now-pt.behind[k] > lagMax {
						pt.isr[k] = false
						s.logf(fmt.Sprintf("%s/%d", t.spec.Name, pi), "%s left the ISR: %s behind", b.node(pt, int32(k)).name, time.Duration(s.now-pt.behind[k]).Round(time.Second))
						s.advanceHW(ti, int32(pi))
					}
				}
			}
			s.expire(ti, int32(pi))
			s.compact(ti, int32(pi))
		}
		for _, g := range s.groupsOf(ti) {
			s.groups[g].check()
		}
	}
	if next := s.now + int64(time.Second); next < s.end {
		s.schedule(next, evBrokerTick, b.idx, 0)
	}
}

// expire deletes the records older than the topic's retention.
func (s *Sim) expire(ti, pi int32) {
	t := &s.topics[ti]
	pt := &t.parts[pi]
	keep := s.now - int64(t.spec.Retention)
	n := 0
	for n < pt.recs.len() && pt.recs.at(n).at < keep && pt.base+int64(n) < pt.hw {
		n++
	}
	if n == 0 {
		return
	}
	pt.base += int64(n)
	pt.recs.drop(n)
	for _, g := range s.groupsOf(ti) {
		s.groups[g].expired(pi, pt.base)
	}
}

// compact forgets the records every group has consumed and committed: no
// group will read them again, so a long run's memory stays bounded by what
// is in flight and lagging. Retention would delete them later anyway; this
// changes no count.
func (s *Sim) compact(ti, pi int32) {
	pt := &s.topics[ti].parts[pi]
	low := pt.hw
	for _, gi := range s.groupsOf(ti) {
		gp := &s.groups[gi].parts[pi]
		low = min(low, gp.committed, gp.done, s.groups[gi].held(pi))
	}
	if k := low - pt.base; k > 0 {
		pt.recs.drop(int(k))
		pt.base = low
	}
}

// groupsOf lists the consumer groups reading a topic, views' included.
func (s *Sim) groupsOf(ti int32) []int32 { return s.topics[ti].allGroups }

// settle ends data operation a of generation gen with o at time t, if it is
// still that operation: one its caller gave up on is freed instead.
func (s *Sim) settle(a int32, gen uint32, o Outcome, t int64) {
	r := &s.reqs.r[a]
	if r.gen != gen || r.state != atService {
		return
	}
	if r.abandoned {
		s.reqs.release(a)
		return
	}
	s.opAt(a, o, t)
}

// prodPool recycles produce messages.
type prodPool struct {
	m    []produceMsg
	free int32
}

func (p *prodPool) alloc() int32 {
	if p.free >= 0 {
		i := p.free
		p.free = p.m[i].next
		return i
	}
	p.m = append(p.m, produceMsg{})
	return int32(len(p.m) - 1)
}

func (p *prodPool) release(i int32) {
	m := &p.m[i]
	*m = produceMsg{gen: m.gen + 1, next: p.free}
	p.free = i
}

// opAt ends data operation a with outcome o at time t (now or later, after
// the answer's hop back).
func (s *Sim) opAt(a int32, o Outcome, t int64) {
	r := &s.reqs.r[a]
	r.outcome = o
	r.state = ended
	s.schedule(t, evOpDone, a, r.gen)
}

// recLog is a partition's log from its base offset on: a ring that grows
// when full, so that appending and expiring records do not allocate once
// it has reached the size the run needs.
type recLog struct {
	buf     []record
	head, n int
}

func (l *recLog) len() int { return l.n }

// at returns the i-th record from the base.
func (l *recLog) at(i int) *record { return &l.buf[(l.head+i)%len(l.buf)] }

func (l *recLog) push(r record) {
	if l.n == len(l.buf) {
		grown := make([]record, max(64, 2*len(l.buf)))
		for i := range l.n {
			grown[i] = *l.at(i)
		}
		l.buf, l.head = grown, 0
	}
	l.buf[(l.head+l.n)%len(l.buf)] = r
	l.n++
}

// drop removes the first k records.
func (l *recLog) drop(k int) {
	l.head = (l.head + k) % max(1, len(l.buf))
	l.n -= k
}

// cut keeps the first k records.
func (l *recLog) cut(k int) { l.n = k }
