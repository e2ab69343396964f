package sim

import (
	"cmp"
	"fmt"
	"math"
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
	held   [][]msgRef // per node: produce requests that reached it while it was frozen
	// checkEvery spaces the retention checks; nextCheck is the next one.
	checkEvery, nextCheck int64
	// balanceEvery spaces the leader imbalance checks; nextBalance is the
	// next one.
	balanceEvery, nextBalance int64
	every                     int64 // the housekeeping cadence (Broker.Tick)
}

// msgRef names a produce message of one generation: a list that holds it
// skips it once the producer has given up on it and the pool reused it.
type msgRef struct {
	m   int32
	gen uint32
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
	// retention and segTime are the spec's, defaults applied.
	retention, segTime int64

	produced, produceErrors, produceRetries, notEnough, lost, lostAcked uint64
	leaderChanges                                                       uint64
	win                                                                 uint64 // produced this window
	// this window's produce errors, records lost and acknowledged ones
	// among them (judgeTopic)
	winErrors, winLost, winLostAcked uint64
	series                           []Window
}

// partition is one replicated log. Replica positions index replicas, leo,
// caught and fetching; offsets are absolute, recs[0] has offset base.
type partition struct {
	replicas []int32 // broker nodes; replicas[0] is the preferred leader
	leader   int32   // a position in replicas, or -1: offline
	isr      []bool
	leo      []int64 // log end offset of each replica
	// caught is each follower's last caught-up time (Kafka's
	// Replica.lastCaughtUpTimeMs): the last time its fetches had all the
	// leader had. It decides ISR membership only while the follower's log
	// end differs from the leader's; see tick.
	caught   []int64
	fetching []bool
	fetchTo  []int64 // what the follower's fetch in flight copies, or -1
	fetchAt  []int64 // when that fetch was sent
	trunc    []int64 // a down replica must truncate to this when it returns, or -1
	epoch    uint32
	hw       int64
	base     int64
	recs     recLog
	segs     []segment   // the log's segments, oldest first; the last is the active one
	waiters  []ackWaiter // acks=all produces waiting for the high watermark
	dueAt    int64       // when the next waiter's delivery timeout is checked; 0: none planned
	slot     int32       // Sim.replicas index of replica position 0
}

// segment is a segment of a partition's log: the records from offset
// base to the next segment's base, the first appended at first and the
// newest at last.
type segment struct{ base, first, last int64 }

// roll notes a record appended at offset off at time now: it goes to the
// active segment, or to a new one when the active segment's first record
// is more than segTime older (LogSegment.shouldRoll: segment.ms, with
// segment.jitter.ms 0). segment.bytes is not modelled: records have no
// size.
func (p *partition) roll(off, now, segTime int64) {
	if n := len(p.segs); n > 0 && now-p.segs[n-1].first <= segTime {
		p.segs[n-1].last = now
		return
	}
	p.segs = append(p.segs, segment{base: off, first: now, last: now})
}

// record is one message in a partition's log.
type record struct {
	at   int64 // appended at the leader
	key  uint64
	tag  int32  // the saga run whose step it triggers, or -1
	step int32  // that step
	tgen uint32 // the run's generation: a later run in its slot is not it
	kseq uint32 // the record's number among its view key's records
	// serial names the send that wrote it, as the idempotent producer's
	// (producer id, sequence) does: a retry finds it and is not appended
	// again.
	serial uint32
	acked  bool // its producer was told it is written
}

// ackWaiter is an acks=all record in the log waiting for the high
// watermark: its produce message, of one generation.
type ackWaiter struct {
	offset int64
	msg    msgRef
}

// replicaRef names one replica of one partition, for fetch events.
type replicaRef struct{ topic, part, pos int32 }

// produceMsg is a record a producer is delivering, from send() to its
// acknowledgement or the producer's giving up: its attempts, their retries
// and backoffs.
type produceMsg struct {
	topic, part int32
	key         uint64
	tag, step   int32
	tgen        uint32
	acks        Acks
	state       sendState
	op          int32 // the waiting call attempt, or -1
	opGen       uint32
	gen         uint32
	next        int32 // free list
	from        string
	dl          *Delivery
	sent        int64  // when send() was called: the delivery timeout runs from here
	retries     int32  // retries made, counted against Delivery.Retries
	backoffs    int32  // backoffs made, retries and waits for a leader: the backoff's exponent
	off         int64  // where the leader's log took it, or -1
	serial      uint32 // the record's serial, for idempotence
	timerAt     int64  // when its live timer is due; 0: none
}

// sendState is where a produce message is.
type sendState uint8

const (
	inFlight   sendState = iota // on its way to the leader
	lostOnWay                   // lost on the way: its request times out
	backingOff                  // waiting to be sent again
	heldFrozen                  // taken by a frozen leader, unanswered
	waitingHW                   // written, waiting for the high watermark (acks=all)
)

func (s *Sim) initBrokers() {
	s.brokers = make([]broker, len(s.spec.Brokers))
	for i := range s.spec.Brokers {
		b := &s.brokers[i]
		b.s, b.idx, b.spec = s, int32(i), &s.spec.Brokers[i]
		b.rng = s.stream("broker/" + b.spec.Name)
		b.nodes = make([]dataNode, b.spec.Nodes)
		b.held = make([][]msgRef, b.spec.Nodes)
		for n := range b.nodes {
			b.nodes[n].init(fmt.Sprintf("%s#%d", b.spec.Name, n+1), b.spec.Name, b, int32(n))
		}
		for j := range b.spec.Topics {
			tp := &b.spec.Topics[j]
			t := topic{spec: tp, broker: int32(i), retention: int64(tp.Retention), segTime: int64(tp.SegmentTime)}
			if t.retention == 0 {
				t.retention = int64(168 * time.Hour) // log.retention.hours
			}
			if t.segTime == 0 {
				t.segTime = int64(7 * 24 * time.Hour) // segment.ms
			}
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
				pt.caught = make([]int64, rf)
				pt.fetching = make([]bool, rf)
				pt.fetchTo = make([]int64, rf)
				pt.fetchAt = make([]int64, rf)
				pt.trunc = make([]int64, rf)
				for k := range rf {
					pt.trunc[k] = -1
				}
				t.parts = append(t.parts, pt)
			}
			b.topics = append(b.topics, int32(len(s.topics)))
			s.topics = append(s.topics, t)
		}
		b.checkEvery = int64(b.spec.RetentionCheck)
		if b.checkEvery == 0 {
			b.checkEvery = int64(5 * time.Minute) // log.retention.check.interval.ms
		}
		b.nextCheck = b.checkEvery
		b.balanceEvery = int64(b.spec.LeaderImbalanceCheck)
		if b.balanceEvery == 0 {
			b.balanceEvery = int64(300 * time.Second) // leader.imbalance.check.interval.seconds
		}
		b.nextBalance = b.balanceEvery
		b.every = int64(b.spec.Tick)
		if b.every == 0 {
			b.every = int64(time.Second)
		}
		s.schedule(b.every, evBrokerTick, int32(i), 0)
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

// kafkaDefaults are the delivery settings of a producer nobody configured:
// a saga's events, a consumer's dead letters, a publish of a Spec built in
// Go.
var kafkaDefaults = KafkaDelivery()

// delivery returns a publish's producer settings.
func (p *Publish) delivery() *Delivery {
	if p.Delivery == (Delivery{}) {
		return &kafkaDefaults
	}
	return &p.Delivery
}

// produce sends a record with Kafka's default producer settings; see send.
func (s *Sim) produce(ti int32, key uint64, keyed bool, acks Acks, op int32, from string, tag, step int32) {
	s.send(ti, key, keyed, acks, &kafkaDefaults, op, from, tag, step)
}

// send hands a record to a producer with settings dl, which delivers it to
// its partition's leader. op is the call attempt waiting for the
// acknowledgement, or -1 for a fire-and-forget publish; from names the
// producer, for partitions; tag and step name the saga step whose event it
// is, or -1.
//
// The producer retries what Kafka's Java producer retries (Sender.canRetry:
// a RetriableException, retries left, delivery.timeout.ms not passed):
// NotEnoughReplicas, NOT_ENOUGH_REPLICAS_AFTER_APPEND, NotLeaderOrFollower
// and a request that timed out, after an exponential backoff. It holds a
// record for a partition without a leader until one is elected, as its
// accumulator does. It is idempotent (enable.idempotence, the default since
// Kafka 3.0): a retry of a record the log already has is not appended
// again. A record not acknowledged within the delivery timeout fails with
// a timeout (Sender.getExpiredInflightBatches); one whose retries are spent
// fails with an error. acks=0 hears no answer, so nothing is retried once
// it is sent.
func (s *Sim) send(ti int32, key uint64, keyed bool, acks Acks, dl *Delivery, op int32, from string, tag, step int32) {
	t := &s.topics[ti]
	var p int32
	if keyed {
		p = int32(splitmix(key) % uint64(len(t.parts)))
	} else {
		p = int32(t.rr % uint32(len(t.parts)))
		t.rr++
	}
	m := s.prods.alloc()
	if m > maxArg {
		s.err = errTooMany(s.now)
		return
	}
	pm := &s.prods.m[m]
	pm.topic, pm.part, pm.key, pm.tag, pm.step, pm.acks, pm.op = ti, p, key, tag, step, acks, op
	pm.from, pm.dl, pm.sent, pm.off = from, dl, s.now, -1
	s.serial++
	pm.serial = s.serial
	if tag >= 0 {
		pm.tgen = s.sagaRuns.r[tag].gen
	}
	if op >= 0 {
		pm.opGen = s.reqs.r[op].gen
	}
	s.sendAttempt(m)
}

// sendAttempt sends produce message m to its partition's leader.
func (s *Sim) sendAttempt(m int32) {
	pm := &s.prods.m[m]
	t := &s.topics[pm.topic]
	b := &s.brokers[t.broker]
	pt := &t.parts[pm.part]
	if pt.leader < 0 {
		// Offline: the producer keeps the record until its metadata names
		// a leader, and looks again after its backoff.
		s.retryProduce(m, s.now, false)
		return
	}
	if pm.acks == AcksNone && pm.op >= 0 {
		s.opAt(pm.op, OK, s.now)
		pm.op = -1
	}
	leader := b.node(pt, pt.leader)
	if leader.down || s.cut(pm.from, pm.from, leader.name, leader.group) {
		// Lost on the way: the producer hears nothing, and retries once
		// the request times out.
		if pm.acks == AcksNone {
			t.produceErrors++
			t.winErrors++
			s.prods.release(m)
			return
		}
		pm.state = lostOnWay
		s.produceTimer(m, min(after(s.now, int64(pm.dl.RequestTimeout)), pm.deadline()))
		return
	}
	pm.state = inFlight
	s.schedule(after(s.now, s.hop(b.rng)), evProduce, m, pm.gen)
}

// deadline is when the producer gives up on the record.
func (pm *produceMsg) deadline() int64 { return after(pm.sent, int64(pm.dl.DeliveryTimeout)) }

// produceTimer plans produce message m's timer at time at; only the last
// one planned acts.
func (s *Sim) produceTimer(m int32, at int64) {
	pm := &s.prods.m[m]
	pm.timerAt = at
	s.schedule(at, evProduceTimer, m, pm.gen)
}

// produceTimerDue is produce message m's timer: its delivery timeout
// passed, its request timed out, or its backoff is over.
func (s *Sim) produceTimerDue(m int32, gen uint32) {
	pm := &s.prods.m[m]
	if pm.gen != gen || pm.timerAt != s.now {
		return
	}
	pm.timerAt = 0
	switch {
	case s.now >= pm.deadline():
		s.produceFailed(m, Timeout, s.now)
	case pm.state == lostOnWay:
		s.retryProduce(m, s.now, true)
	case pm.state == backingOff:
		s.sendAttempt(m)
	}
}

// retryProduce takes a retriable failure of produce message m that its
// producer learns at time at: it sends the record again after its
// backoff, unless its retries are spent (counted: a failed attempt, not a
// wait for a leader).
func (s *Sim) retryProduce(m int32, at int64, counted bool) {
	pm := &s.prods.m[m]
	t := &s.topics[pm.topic]
	if counted {
		if int(pm.retries) >= pm.dl.Retries {
			s.produceFailed(m, Error, at)
			return
		}
		pm.retries++
		t.produceRetries++
	}
	pm.backoffs++
	pm.state = backingOff
	next := at + retryBackoff(pm.dl, pm.backoffs, s.brokers[t.broker].rng)
	s.produceTimer(m, min(next, pm.deadline()))
}

// retryBackoff is the backoff before retry n (from 1): Kafka's
// ExponentialBackoff(retry.backoff.ms, 2, retry.backoff.max.ms, 0.2),
// backoff(n-1) = initial * 2^(n-1) * a jitter drawn in [0.8, 1.2), at most
// the max; a max below the initial backoff is a constant backoff.
func retryBackoff(dl *Delivery, n int32, rng *rand.Rand) int64 {
	first, most := int64(min(dl.RetryBackoff, dl.RetryBackoffMax)), int64(dl.RetryBackoffMax)
	if most <= first {
		return first
	}
	term := float64(first) * math.Pow(2, min(float64(n-1), math.Log2(float64(most)/float64(max(first, 1)))))
	return min(int64(term*(0.8+0.4*rng.Float64())), most)
}

// produceFailed ends produce message m with failure o at time at: the
// producer gave up. A waiting call hears it; a saga sends its step's event
// again after its retry interval.
func (s *Sim) produceFailed(m int32, o Outcome, at int64) {
	pm := &s.prods.m[m]
	s.topics[pm.topic].produceErrors++
	s.topics[pm.topic].winErrors++
	if pm.op >= 0 {
		s.settle(pm.op, pm.opGen, o, at)
	}
	if pm.tag >= 0 {
		s.sagaResend(pm.tag, pm.tgen, pm.step)
	}
	s.prods.release(m)
}

// produceAcked ends produce message m with its acknowledgement, at time
// at: rec is its record, if the log still holds it.
func (s *Sim) produceAcked(m int32, rec *record, at int64) {
	pm := &s.prods.m[m]
	if rec != nil {
		rec.acked = true
		if pm.op >= 0 {
			s.noteAcked(pm.topic, rec)
		}
	}
	if pm.op >= 0 {
		s.settle(pm.op, pm.opGen, OK, at)
	}
	s.prods.release(m)
}

// hop draws one network hop.
func (s *Sim) hop(rng *rand.Rand) int64 {
	if s.spec.Network.Latency.IsZero() {
		return 0
	}
	return s.spec.Network.Latency.Sample(rng)
}

// logged returns the record at offset off if the log still holds it.
func (p *partition) logged(off int64) *record {
	if i := off - p.base; i >= 0 && i < int64(p.recs.len()) {
		return p.recs.at(int(i))
	}
	return nil
}

// append is a produce request reaching its leader.
func (s *Sim) append(m int32) {
	pm := &s.prods.m[m]
	t := &s.topics[pm.topic]
	b := &s.brokers[t.broker]
	pt := &t.parts[pm.part]
	if pt.leader >= 0 {
		if n := pt.replicas[pt.leader]; b.nodes[n].paused && !b.nodes[n].down {
			// A frozen leader takes the request when it thaws; the
			// producer gives up at its delivery timeout.
			b.held[n] = append(b.held[n], msgRef{m, pm.gen})
			pm.state = heldFrozen
			s.produceTimer(m, pm.deadline())
			return
		}
	}
	back := after(s.now, s.hop(b.rng)) // when an answer reaches the producer
	if pt.leader < 0 || b.node(pt, pt.leader).down {
		// NOT_LEADER_OR_FOLLOWER: the leader moved while it travelled.
		if pm.acks == AcksNone {
			t.produceErrors++
			t.winErrors++
			s.prods.release(m)
			return
		}
		s.retryProduce(m, back, true)
		return
	}
	if pm.acks == AcksAll && pt.isrCount() < t.spec.MinInsync {
		t.notEnough++
		s.retryProduce(m, back, true)
		return
	}
	if r := pt.logged(pm.off); pm.off >= 0 && (pm.off < pt.base || r != nil && r.serial == pm.serial) {
		// A retry of a record the log has (below its base: written,
		// replicated and consumed): the broker answers with its offset and
		// appends nothing (ProducerStateManager's duplicate check).
		switch {
		case pm.acks != AcksAll || pm.off < pt.hw:
			s.produceAcked(m, pt.logged(pm.off), back)
		default:
			i, _ := slices.BinarySearchFunc(pt.waiters, pm.off, func(w ackWaiter, off int64) int { return cmp.Compare(w.offset, off) })
			pt.waiters = slices.Insert(pt.waiters, i, ackWaiter{offset: pm.off, msg: msgRef{m, pm.gen}})
			pm.state = waitingHW
			s.waitDue(pt, pm.deadline())
		}
		return
	}
	rec := record{at: s.now, key: pm.key, tag: pm.tag, step: pm.step, tgen: pm.tgen, serial: pm.serial}
	if t.vkeys > 0 {
		k := keyOf(pm.key, t.vkeys)
		t.kseq[k]++
		rec.kseq = t.kseq[k]
	}
	off := pt.leo[pt.leader]
	// A follower that had all of the log and still fetches was caught up
	// until this moment: its fetch waits at the log end
	// (replica.fetch.wait.max.ms) and this append answers it. One that
	// stopped fetching (crashed, frozen, cut off) keeps the time it was
	// last seen caught up.
	for k := range pt.replicas {
		if int32(k) != pt.leader && pt.leo[k] >= off && s.fetches(b, pt, int32(k)) {
			pt.caught[k] = s.now
		}
	}
	pt.roll(off, s.now, t.segTime)
	pt.recs.push(rec)
	pt.leo[pt.leader]++
	pm.off = off
	t.produced++
	t.win++
	if pm.op < 0 {
		// Fire and forget: the client was answered before the record was
		// even written, so a read may look for it from now on.
		s.noteAcked(pm.topic, pt.recs.at(pt.recs.len()-1))
	}
	ti, pi := pm.topic, pm.part // pm is released once answered
	switch pm.acks {
	case AcksAll:
		if pm.op >= 0 && !s.opLive(pm.op, pm.opGen) {
			s.settle(pm.op, pm.opGen, OK, back) // frees an abandoned attempt
			pm.op = -1
		}
		pt.waiters = append(pt.waiters, ackWaiter{offset: off, msg: msgRef{m, pm.gen}})
		pm.state = waitingHW
		s.waitDue(pt, pm.deadline())
	case AcksLeader:
		s.produceAcked(m, pt.recs.at(pt.recs.len()-1), back)
	default:
		pt.recs.at(pt.recs.len() - 1).acked = true
		s.prods.release(m)
	}
	for k := range pt.replicas {
		s.fetch(ti, pi, int32(k))
	}
	s.advanceHW(ti, pi)
}

// waitDue plans the check of a partition's waiters for a delivery timeout
// at time d, unless one is planned before.
func (s *Sim) waitDue(pt *partition, d int64) {
	if pt.dueAt == 0 || d < pt.dueAt {
		pt.dueAt = d
		s.schedule(d, evWaitersDue, pt.slot, 0)
	}
}

// waitersDue fails the acks=all produces of a partition whose delivery
// timeout passed while they waited for the high watermark, and plans the
// next check. One timer per partition, not one per record: most records
// are acknowledged long before their delivery timeout.
func (s *Sim) waitersDue(slot int32) {
	ref := s.replicas[slot]
	pt := &s.topics[ref.topic].parts[ref.part]
	if pt.dueAt != s.now {
		return // planned again, earlier
	}
	pt.dueAt = 0
	var next int64
	kept := pt.waiters[:0]
	for _, w := range pt.waiters {
		pm := &s.prods.m[w.msg.m]
		if pm.gen != w.msg.gen {
			continue
		}
		if d := pm.deadline(); d <= s.now {
			s.produceFailed(w.msg.m, Timeout, s.now)
			continue
		} else if next == 0 || d < next {
			next = d
		}
		kept = append(kept, w)
	}
	pt.waiters = kept
	if next > 0 {
		s.waitDue(pt, next)
	}
}

// cutSegments drops the segments that start at or after offset end, when
// the log is truncated to end. The active segment keeps its newest time:
// a truncation cuts records of the last moments, which matter to the
// retention only by seconds.
func (p *partition) cutSegments(end int64) {
	for n := len(p.segs); n > 0 && p.segs[n-1].base >= end; n-- {
		p.segs = p.segs[:n-1]
	}
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
			pt.isr[pos], pt.caught[pos] = true, s.now
			s.logf(fmt.Sprintf("%s/%d", t.spec.Name, pi), "%s caught up: back in the ISR", me.name)
			s.advanceHW(ti, pi)
		}
		return
	}
	pt.fetching[pos] = true
	if s.cut(leader.name, leader.group, me.name, me.group) || s.cut(me.name, me.group, leader.name, leader.group) {
		// The fetch fails; try again after replica.fetch.backoff.ms.
		pt.fetchTo[pos] = -1
		s.schedule(after(s.now, int64(time.Second)), evFetch, pt.slot+pos, pt.epoch)
		return
	}
	pt.fetchTo[pos], pt.fetchAt[pos] = pt.leo[pt.leader], s.now
	d := s.nodeDelay(me, b.spec.ReplicationDelay.Sample(b.rng))
	s.schedule(after(s.now, d), evFetch, pt.slot+pos, pt.epoch)
}

// fetches tells whether follower pos of a partition is fetching from its
// leader: both up and not frozen, and the network between them whole.
func (s *Sim) fetches(b *broker, pt *partition, pos int32) bool {
	me, leader := b.node(pt, pos), b.node(pt, pt.leader)
	return !me.down && !me.paused && !leader.down && !leader.paused &&
		!s.cut(leader.name, leader.group, me.name, me.group) && !s.cut(me.name, me.group, leader.name, leader.group)
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
	// Replica.updateFetchState: a fetch that reached the leader's log end
	// makes the follower caught up now; one that reached the log end the
	// leader had when the fetch was sent makes it caught up as of then, so
	// that a follower copying a steady stream of records, never quite at
	// the end, stays in the ISR.
	switch to := pt.fetchTo[pos]; {
	case pt.leo[pos] >= pt.leo[pt.leader]:
		pt.caught[pos] = s.now
	case to >= 0 && pt.leo[pos] >= to:
		pt.caught[pos] = max(pt.caught[pos], pt.fetchAt[pos])
	}
	if pt.leo[pos] >= pt.leo[pt.leader] {
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
		if s.prods.m[w.msg.m].gen != w.msg.gen {
			continue // the producer gave up on it
		}
		back := after(s.now, s.hop(b.rng))
		if pt.isrCount() < t.spec.MinInsync {
			// The ISR shrank below min.insync.replicas while it waited:
			// NOT_ENOUGH_REPLICAS_AFTER_APPEND, retriable
			// (Partition.checkEnoughReplicasReachOffset).
			t.notEnough++
			s.retryProduce(w.msg.m, back, true)
			continue
		}
		s.produceAcked(w.msg.m, pt.logged(w.offset), back)
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
		for _, h := range b.held[n] {
			if pm := &s.prods.m[h.m]; pm.gen == h.gen {
				pm.state = inFlight
				s.schedule(s.now, evProduce, h.m, h.gen)
			}
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
				s.elect(ti, int32(pi), -1, "its leader "+nd.name+" crashed")
			case !nd.down && wasDown:
				if tr := pt.trunc[pos]; tr >= 0 {
					pt.leo[pos] = min(pt.leo[pos], tr)
					pt.trunc[pos] = -1
				}
				pt.fetching[pos] = false
				if pt.leader < 0 {
					s.elect(ti, int32(pi), -1, nd.name+" restarted")
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
		if p := f.p.(LeaderLossFault).Partition; p >= 0 && pi != p {
			continue
		}
		if pt := &t.parts[pi]; pt.leader >= 0 {
			old := pt.leader
			pt.isr[old] = false
			s.elect(f.topic, int32(pi), -1, "leader_loss fault")
			if pt.leader < 0 || pt.leader == old {
				// Nobody else could lead: it keeps the job.
				pt.leader, pt.isr[old] = old, true
			}
		}
	}
}

// elect chooses a new leader for a partition whose leader is gone: an
// up member of the ISR, or with unclean election any up replica, or none
// (offline); or, when prefer is a replica's position, that replica, which
// the caller found up and in sync. The log is cut back to what the new
// leader has: the records it lacks are lost.
func (s *Sim) elect(ti, pi, prefer int32, why string) {
	t := &s.topics[ti]
	b := &s.brokers[t.broker]
	pt := &t.parts[pi]
	old := pt.leader
	next := prefer
	for k := range pt.replicas {
		if next >= 0 {
			break
		}
		if int32(k) != old && pt.isr[k] && !b.node(pt, int32(k)).down {
			next = int32(k)
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
	// acks=all produces waiting on the old leader fail
	// (NOT_LEADER_OR_FOLLOWER); their producers retry, and find their
	// record if the new leader has it.
	for _, w := range pt.waiters {
		if s.prods.m[w.msg.m].gen == w.msg.gen {
			s.retryProduce(w.msg.m, s.now, true)
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
	// Partition.makeLeader: the new leader counts its in-sync followers as
	// caught up now (resetLastCaughtUpTime).
	for k := range pt.replicas {
		if pt.isr[k] {
			pt.caught[k] = s.now
		}
	}
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
	pt.cutSegments(end)
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
		t.winLost++
		if pt.recs.at(i).acked {
			t.lostAcked++
			t.winLostAcked++
		}
	}
	s.logf(fmt.Sprintf("%s/%d", t.spec.Name, pi), "%d records lost: the new leader never had them", top-from)
	pt.recs.cut(int(from - pt.base))
	for _, g := range s.groupsOf(ti) {
		s.groups[g].truncated(pi, end, top)
	}
}

// balanceLeaders is Kafka's automatic preferred leader election
// (auto.leader.rebalance.enable, true by default; the controller's
// checkAndTriggerAutoLeaderRebalance): for each node, the share of the
// partitions it prefers (it is their first replica) that another node
// leads; above leader.imbalance.per.broker.percentage, each of those
// partitions whose preferred replica is up and in sync moves back to it.
// Without it, a node that restarted after a crash would lead nothing until
// an operator ran a preferred election.
func (b *broker) balanceLeaders() {
	s := b.s
	for n := range b.nodes {
		if b.nodes[n].down || b.nodes[n].paused {
			continue
		}
		total, away := 0, 0
		for _, ti := range b.topics {
			for pi := range s.topics[ti].parts {
				if pt := &s.topics[ti].parts[pi]; pt.replicas[0] == int32(n) {
					total++
					if pt.leader != 0 {
						away++
					}
				}
			}
		}
		if away == 0 || float64(away)*100 <= b.spec.LeaderImbalancePercent*float64(total) {
			continue
		}
		for _, ti := range b.topics {
			for pi := range s.topics[ti].parts {
				if pt := &s.topics[ti].parts[pi]; pt.replicas[0] == int32(n) && pt.leader > 0 && pt.isr[0] {
					s.elect(ti, int32(pi), 0, "preferred leader election")
				}
			}
		}
	}
}

// tick is the broker's periodic housekeeping, once a second: followers
// that lag too long leave the ISR, old records expire, and consumer groups
// notice members that stopped heartbeating or polling.
//
// ISR membership follows Kafka since 2.5 (replica.lag.time.max.ms 30 s,
// KIP-537; Partition.isFollowerOutOfSync): a follower is out of sync when
// its log end differs from the leader's and its last caught-up time is
// more than replica.lag.time.max.ms ago. A follower at the log end that
// still fetches is caught up continuously (its fetches keep
// lastCaughtUpTimeMs current), which the tick records; so one that crashes
// at t leaves about replica.lag.time.max.ms after t once a record it lacks
// arrives, not that long after the record. (Kafka runs the check every
// replica.lag.time.max.ms / 2; faultline runs it every second.)
func (b *broker) tick() {
	s := b.s
	lagMax := int64(b.spec.ReplicaLagMax)
	for _, ti := range b.topics {
		t := &s.topics[ti]
		for pi := range t.parts {
			pt := &t.parts[pi]
			if pt.leader >= 0 && !b.node(pt, pt.leader).paused {
				end := pt.leo[pt.leader]
				for k := range pt.replicas {
					switch {
					case int32(k) == pt.leader:
					case pt.leo[k] >= end:
						if s.fetches(b, pt, int32(k)) {
							pt.caught[k] = s.now
						}
					case pt.isr[k] && s.now-pt.caught[k] > lagMax:
						pt.isr[k] = false
						s.logf(fmt.Sprintf("%s/%d", t.spec.Name, pi), "%s left the ISR: not caught up for %s", b.node(pt, int32(k)).name, time.Duration(s.now-pt.caught[k]).Round(time.Second))
						s.advanceHW(ti, int32(pi))
					}
				}
			}
			if s.now >= b.nextCheck {
				s.expire(ti, int32(pi))
			}
			s.compact(ti, int32(pi))
		}
		for _, g := range s.groupsOf(ti) {
			s.groups[g].check()
		}
	}
	for s.now >= b.nextCheck {
		b.nextCheck += b.checkEvery
	}
	if s.now >= b.nextBalance {
		if b.spec.AutoLeaderRebalance {
			b.balanceLeaders()
		}
		for s.now >= b.nextBalance {
			b.nextBalance += b.balanceEvery
		}
	}
	if next := after(s.now, b.every); next < s.end {
		s.schedule(next, evBrokerTick, b.idx, 0)
	}
}

// expire is a partition's retention check (LogManager.cleanupLogs, every
// log.retention.check.interval.ms): from the oldest, it deletes the
// segments whose newest record is older than the retention and which lie
// wholly below the high watermark, the active segment too when it
// qualifies (UnifiedLog.deleteRetentionMsBreachedSegments and
// deletableSegments). So a record outlives the retention by up to its
// segment's span plus the check interval: retention is a lower bound.
func (s *Sim) expire(ti, pi int32) {
	t := &s.topics[ti]
	pt := &t.parts[pi]
	keep := s.now - t.retention
	top := pt.base + int64(pt.recs.len())
	n := 0
	for n < len(pt.segs) {
		end := top
		if n+1 < len(pt.segs) {
			end = pt.segs[n+1].base
		}
		if end > pt.hw || pt.segs[n].last >= keep {
			break
		}
		n++
	}
	if n == 0 {
		return
	}
	base := top
	if n < len(pt.segs) {
		base = pt.segs[n].base
	}
	pt.segs = pt.segs[:copy(pt.segs, pt.segs[n:])]
	if base <= pt.base {
		return // compacted already: no group will read them
	}
	pt.recs.drop(int(base - pt.base))
	pt.base = base
	for _, g := range s.groupsOf(ti) {
		s.groups[g].expired(pi, pt.base)
	}
}

// compact forgets the records every group has consumed and committed: no
// group will read them again, so a long run's memory stays bounded by what
// is in flight and lagging. Retention would delete them later anyway; this
// changes no count. A topic a view reads is kept to its retention: the
// view may be rebuilt from it at any time (a rebuild fault, or one a driver
// injects).
func (s *Sim) compact(ti, pi int32) {
	if s.topics[ti].vkeys > 0 {
		return
	}
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
	if r.is(reqAbandoned) {
		s.freeRequest(a)
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

// replication counts the topic's partitions without a leader (offline)
// and with an ISR smaller than their replicas (under), now.
func (t *topic) replication() (offline, under int) {
	for p := range t.parts {
		pt := &t.parts[p]
		if pt.leader < 0 {
			offline++
		}
		if pt.isrCount() < len(pt.replicas) {
			under++
		}
	}
	return offline, under
}
