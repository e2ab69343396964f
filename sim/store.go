package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/faultline/faultline/sim/metrics"
)

// store is a Dynamo-style replicated key-value store in the WARS model of
// Bailis et al.: the caller coordinates; a write goes to all N replicas and
// commits at W acks; a read asks all N and returns the newest of the first
// R answers. Each one-way message draws its own delay. Replicas resolve
// concurrent versions by timestamp (last writer wins), stamped by the clock
// of the write's coordinating replica, which a skew fault moves. (Cassandra's
// drivers stamp on the client by default since native protocol v3; the
// coordinator stamps only writes that come without a timestamp.)
type store struct {
	s      *Sim
	idx    int32
	spec   *Store
	rng    *rand.Rand
	zipf   []float64 // cumulative key popularity, for a Zipf keyspace
	nodes  []dataNode
	data   []entry // replica r's copy of key k is data[r*keys+k]
	keys   []keyState
	msgs   []storeMsg
	free   int32
	ops    []storeOp
	opFree []int32
	held   [][]int32 // per replica: messages that arrived while it was frozen
	hints  [][]hint
	// downAt is when each replica last went down: the coordinators hint
	// its writes only during the first HintWindow of its downtime.
	downAt []int64

	st     storeStats // after warmup
	win    storeWin
	series []Window
	health healthTracker
}

type entry struct {
	ver uint32
	ts  int64
}

// keyState is the truth about one key, for measuring staleness.
type keyState struct {
	issued      uint32 // versions handed out
	committed   uint32 // the newest version that reached its write quorum
	committedAt int64
	maxTs       int64
}

type storeOp struct {
	a       int32 // the call attempt
	aGen    uint32
	write   bool
	key     int32
	ver     uint32
	ts      int64
	n       int32 // acks or answers so far
	best    entry
	started int64
	// The truth when a read started: the newest committed version and
	// when it committed.
	base   uint32
	baseAt int64
	doomed bool // an earlier write carries a later timestamp: LWW drops this one
	// cas is where a conditional write is: reading the key (the Paxos
	// round's read), or writing it once its condition held.
	cas casPhase
	// expect is the version a conditional write is conditioned on; with
	// reread, the version its own read finds.
	expect uint32
	reread bool
	gen    uint32
	inUse  bool
	from   string // the calling service, for partitions
	stale  [maxReplicas]bool
}

const maxReplicas = 16

// casPhase is where a conditional write is.
type casPhase uint8

const (
	notCAS     casPhase = iota
	casReading          // its read round is out
	casWriting          // its condition held: it writes like any write
)

// A store message event carries the store and the message in its argument.
const (
	storeBits    = 20
	maxStoreMsgs = 1 << storeBits
	maxStores    = 1 << (argBits - storeBits)
)

type msgKind uint8

const (
	mWrite msgKind = iota
	mAck
	mRead
	mAnswer
	mTimer  // the operation's timeout
	mRepair // read repair, hint replay or anti-entropy: no answer
)

type storeMsg struct {
	kind    msgKind
	replica int32
	op      int32
	opGen   uint32
	key     int32
	e       entry
	sent    int64 // when the write began, for the replication lag
	gen     uint32
	next    int32
}

// hint is a write kept for a down replica, stamped with when it was made.
type hint struct {
	key int32
	e   entry
	at  int64
}

// hintTTL is how long a stored hint lives: Cassandra's Hint.create expires a
// hint gc_grace_seconds after it was made (the smallest of its tables',
// 864000 s, 10 days, by default), so that a replayed hint cannot resurrect
// data whose tombstone was purged.
const hintTTL = 10 * 24 * time.Hour

type storeStats struct {
	reads, writes, unavailable, timeouts, lostUpdates uint64
	conditional, conflicts                            uint64
	stale, fresh, repairs, hintsReplayed              uint64
	readLat, writeLat, repLag                         metrics.Histogram
	vis                                               [visBins]visBin // the t-visibility curve (visibility.go)
	kstale                                            [maxK + 1]uint64
}

type storeWin struct {
	reads, writes, stale, unavailable, timeouts, lostUpdates uint64
	repLag                                                   metrics.Histogram
}

// maxK is the largest k of the k-staleness counts; older answers count in it.
const maxK = 10

func (s *Sim) initStores() {
	s.stores = make([]store, len(s.spec.Stores))
	for i := range s.spec.Stores {
		st := &s.stores[i]
		st.s, st.idx, st.spec = s, int32(i), &s.spec.Stores[i]
		st.rng = s.stream("store/" + st.spec.Name)
		n, keys := st.spec.Replicas, max(1, st.spec.Keys)
		if st.spec.Zipf > 0 {
			st.zipf = zipfTable(st.spec.Zipf, keys)
		}
		st.nodes = make([]dataNode, n)
		for r := range st.nodes {
			st.nodes[r].init(fmt.Sprintf("%s#%d", st.spec.Name, r+1), st.spec.Name, st, int32(r))
		}
		st.data = make([]entry, n*keys)
		st.keys = make([]keyState, keys)
		st.held = make([][]int32, n)
		st.hints = make([][]hint, n)
		st.downAt = make([]int64, n)
		st.free = -1
		if ae := int64(st.spec.AntiEntropy); ae > 0 && ae < s.end {
			s.schedule(ae, evStoreTick, int32(i), 0)
		}
	}
}

func (s *Sim) storeIndex(name string) int32 {
	for i := range s.stores {
		if s.stores[i].spec.Name == name {
			return int32(i)
		}
	}
	return -1
}

func (st *store) msg(kind msgKind, replica, op int32, key int32, e entry, sent int64) int32 {
	var i int32
	if st.free >= 0 {
		i = st.free
		st.free = st.msgs[i].next
	} else {
		if len(st.msgs) >= maxStoreMsgs {
			st.s.err = errTooMany(st.s.now)
			return -1
		}
		st.msgs = append(st.msgs, storeMsg{})
		i = int32(len(st.msgs) - 1)
	}
	m := &st.msgs[i]
	m.kind, m.replica, m.op, m.key, m.e, m.sent = kind, replica, op, key, e, sent
	if op >= 0 {
		m.opGen = st.ops[op].gen
	}
	return i
}

func (st *store) freeMsg(i int32) {
	m := &st.msgs[i]
	*m = storeMsg{gen: m.gen + 1, next: st.free}
	st.free = i
}

// send schedules message i after a delay drawn from d, through replica
// node n's faults; it reports false when a partition drops it.
func (st *store) send(i int32, d int64, from, to *dataNode, fromName string) bool {
	s := st.s
	if i < 0 {
		return false
	}
	m := &st.msgs[i]
	var cut bool
	switch {
	case from == nil:
		cut = s.cut(fromName, fromName, to.name, to.group)
	case to == nil:
		cut = s.cut(from.name, from.group, fromName, fromName)
	default:
		cut = s.cut(from.name, from.group, to.name, to.group)
	}
	if cut {
		st.freeMsg(i)
		return false
	}
	n := to
	if n == nil {
		n = from
	}
	s.schedule(after(s.now, s.nodeDelay(n, d)), evStoreMsg, st.idx<<storeBits|i, m.gen)
	return true
}

// start begins attempt a, an operation of call edge e from service from.
func (st *store) start(a int32, op Op, keyChoice KeyChoice, from string) {
	s := st.s
	r := &s.reqs.r[a]
	var key int32
	if keyChoice == KeyRequest {
		key = int32(keyOf(r.key, len(st.keys)))
	} else {
		key = int32(drawKey(st.rng, st.zipf, len(st.keys)))
	}
	counted := s.now >= s.warmup
	up := 0
	for i := range st.nodes {
		if !st.nodes[i].down {
			up++
		}
	}
	write := op != OpRead
	need := st.spec.ReadQuorum
	switch op {
	case OpWrite:
		need = st.spec.WriteQuorum
	case OpConditionalWrite:
		need = max(st.spec.ReadQuorum, st.spec.WriteQuorum) // it reads, then writes
	}
	if counted {
		if write {
			st.st.writes++
		} else {
			st.st.reads++
		}
		if op == OpConditionalWrite {
			st.st.conditional++
		}
	}
	if write {
		st.win.writes++
	} else {
		st.win.reads++
	}
	if up < need {
		// The coordinator knows too few replicas are alive: Unavailable.
		if counted {
			st.st.unavailable++
		}
		st.win.unavailable++
		s.opAt(a, Error, s.now)
		return
	}
	oi := st.newOp()
	o := &st.ops[oi]
	o.a, o.aGen, o.key, o.started, o.from = a, r.gen, key, s.now, from
	switch op {
	case OpWrite:
		st.write(oi)
	case OpConditionalWrite:
		// The first attempt is conditioned on the version the request
		// read; a retry (or a hedged copy) reads the key again, as an
		// optimistic loop does after a conflict.
		o.cas = casReading
		if s.calls.c[r.parent].attempts > 1 {
			o.reread = true
		} else {
			o.expect = s.reqs.r[s.calls.c[r.parent].parent].ver
		}
		st.read(oi)
	default:
		ks := &st.keys[key]
		o.base, o.baseAt = ks.committed, ks.committedAt
		st.read(oi)
	}
	if m := st.msg(mTimer, -1, oi, key, entry{}, s.now); m >= 0 {
		s.schedule(after(s.now, int64(st.spec.Timeout)), evStoreMsg, st.idx<<storeBits|m, st.msgs[m].gen)
	}
}

// write issues operation oi's key a new version and sends it to every
// replica that is up (and hints it for those that are down).
func (st *store) write(oi int32) {
	s := st.s
	o := &st.ops[oi]
	o.write = true
	key := o.key
	ks := &st.keys[key]
	ks.issued++
	o.ver = ks.issued
	// The coordinating replica is the key's first live owner.
	c := int(key) % len(st.nodes)
	for st.nodes[c].down {
		c = (c + 1) % len(st.nodes)
	}
	o.ts = after(s.now, st.nodes[c].skew)
	o.doomed = o.ts < ks.maxTs
	ks.maxTs = max(ks.maxTs, o.ts)
	for i := range st.nodes {
		nd := &st.nodes[i]
		if nd.down {
			// Cassandra's StorageProxy.shouldHint: no hint once the
			// replica has been down longer than max_hint_window.
			if st.spec.HintedHandoff && s.now-st.downAt[i] <= int64(st.spec.HintWindow) {
				st.hints[i] = append(st.hints[i], hint{key: key, e: entry{o.ver, o.ts}, at: s.now})
			}
			continue
		}
		st.send(st.msg(mWrite, int32(i), oi, key, entry{o.ver, o.ts}, s.now), st.spec.WriteDelay.Sample(st.rng), nil, nd, o.from)
	}
}

// read asks every replica that is up for operation oi's key.
func (st *store) read(oi int32) {
	o := &st.ops[oi]
	for i := range st.nodes {
		if nd := &st.nodes[i]; !nd.down {
			st.send(st.msg(mRead, int32(i), oi, o.key, entry{}, st.s.now), st.spec.ReadDelay.Sample(st.rng), nil, nd, o.from)
		}
	}
}

// decide ends a conditional write's read round: its condition holds when
// the newest version of the key, committed or still being written, is the
// one it expects; then it writes, else it ends in Conflict.
//
// The condition is checked against the key's true newest version at this
// moment, as a linearizable coordinator would: Cassandra's lightweight
// transactions run Paxos among the replicas (serial consistency), so that
// of two conditional writes on the same version exactly one applies, and
// a write still in flight makes a conditional write on the older version
// fail. faultline charges one read round and one write round for it;
// Cassandra's Paxos takes about four round trips (prepare, read, propose,
// commit), so its latency here is a lower bound.
func (st *store) decide(oi int32) {
	o := &st.ops[oi]
	expect := o.expect
	if o.reread {
		expect = o.best.ver
	}
	if expect != st.keys[o.key].issued {
		if o.started >= st.s.warmup {
			st.st.conflicts++
		}
		st.endOp(oi, Conflict)
		return
	}
	o.cas, o.n = casWriting, 0
	st.write(oi)
}

func (st *store) newOp() int32 {
	var i int32
	if n := len(st.opFree); n > 0 {
		i = st.opFree[n-1]
		st.opFree = st.opFree[:n-1]
	} else {
		st.ops = append(st.ops, storeOp{})
		i = int32(len(st.ops) - 1)
	}
	g := st.ops[i].gen
	st.ops[i] = storeOp{gen: g, inUse: true}
	return i
}

func (st *store) endOp(oi int32, o Outcome) {
	s := st.s
	op := &st.ops[oi]
	if op.write && o == OK {
		ks := &st.keys[op.key]
		if op.ver > ks.committed {
			ks.committed, ks.committedAt = op.ver, s.now
		}
	}
	counted := op.started >= s.warmup
	if counted && o == OK {
		if op.write {
			st.st.writeLat.Record(s.now - op.started)
			if op.doomed {
				st.st.lostUpdates++
				st.win.lostUpdates++
			}
		} else {
			st.st.readLat.Record(s.now - op.started)
		}
	}
	if o == Timeout {
		if counted {
			st.st.timeouts++
		}
		st.win.timeouts++
	}
	s.settle(op.a, op.aGen, o, s.now)
	op.inUse = false
	op.gen++
	st.opFree = append(st.opFree, oi)
}

// deliver handles message i reaching its destination.
func (st *store) deliver(i int32, gen uint32) {
	s := st.s
	m := st.msgs[i]
	if m.gen != gen {
		return
	}
	live := m.op >= 0 && st.ops[m.op].inUse && st.ops[m.op].gen == m.opGen
	switch m.kind {
	case mTimer:
		st.freeMsg(i)
		if live {
			st.endOp(m.op, Timeout)
		}
		return
	case mAck:
		st.freeMsg(i)
		if live {
			op := &st.ops[m.op]
			op.n++
			if int(op.n) == st.spec.WriteQuorum {
				st.endOp(m.op, OK)
			}
		}
		return
	case mAnswer:
		st.freeMsg(i)
		if live {
			st.answer(m.op, m.replica, m.e)
		}
		return
	}
	nd := &st.nodes[m.replica]
	if nd.down {
		st.freeMsg(i)
		return
	}
	if nd.paused {
		st.held[m.replica] = append(st.held[m.replica], i)
		return
	}
	st.freeMsg(i)
	cur := &st.data[int(m.replica)*len(st.keys)+int(m.key)]
	switch m.kind {
	case mWrite, mRepair:
		if m.e.ts > cur.ts || m.e.ts == cur.ts && m.e.ver > cur.ver {
			*cur = m.e
			if m.sent >= s.warmup {
				st.st.repLag.Record(s.now - m.sent)
			}
			st.win.repLag.Record(s.now - m.sent)
		}
		if m.kind == mWrite && live {
			st.send(st.msg(mAck, m.replica, m.op, m.key, m.e, m.sent), st.spec.AckDelay.Sample(st.rng), nd, nil, st.ops[m.op].from)
		}
	case mRead:
		if live {
			st.send(st.msg(mAnswer, m.replica, m.op, m.key, *cur, m.sent), st.spec.ResponseDelay.Sample(st.rng), nd, nil, st.ops[m.op].from)
		}
	}
}

// answer takes one replica's answer to a read; the R-th ends it.
func (st *store) answer(oi, replica int32, e entry) {
	s := st.s
	op := &st.ops[oi]
	if op.write {
		return // a late answer to a conditional write's read round
	}
	op.n++
	if e.ts > op.best.ts || e.ts == op.best.ts && e.ver > op.best.ver {
		op.best = e
	}
	op.stale[replica] = true
	if int(op.n) < st.spec.ReadQuorum {
		return
	}
	if op.cas == casReading {
		st.decide(oi)
		return
	}
	// The request remembers the version it read, for a conditional write.
	if r := &s.reqs.r[op.a]; r.gen == op.aGen && !r.is(reqAbandoned) {
		s.reqs.r[s.calls.c[r.parent].parent].ver = op.best.ver
	}
	if op.started >= s.warmup && op.base > 0 {
		k := int(op.base) - int(op.best.ver)
		visFile(&st.st.vis, op.started-op.baseAt, k <= 0)
		if k <= 0 {
			st.st.fresh++
			k = 0
		} else {
			st.st.stale++
			st.win.stale++
		}
		st.st.kstale[min(k, maxK)]++
	}
	if st.spec.ReadRepair {
		// The replicas that answered with an older version get the newest.
		for r := range st.nodes {
			if !op.stale[r] {
				continue
			}
			cur := st.data[r*len(st.keys)+int(op.key)]
			if cur.ts < op.best.ts || cur.ts == op.best.ts && cur.ver < op.best.ver {
				st.st.repairs++
				st.send(st.msg(mRepair, int32(r), -1, op.key, op.best, s.now), st.spec.WriteDelay.Sample(st.rng), nil, &st.nodes[r], op.from)
			}
		}
	}
	st.endOp(oi, OK)
}

// nodeChanged replays hints to a replica that came back and the messages a
// frozen replica held. The hints are those of the first HintWindow of its
// downtime (see start); they are all kept until replayed, unless they
// outlived hintTTL (Cassandra, "Hints": hints are written only while a
// node has been down less than max_hint_window, and replayed when it is
// back).
func (st *store) nodeChanged(n int32, wasDown, wasPaused bool) {
	s := st.s
	nd := &st.nodes[n]
	switch {
	case nd.down && !wasDown:
		st.downAt[n] = s.now
		s.logf(nd.name, "crashed")
	case !nd.down && wasDown:
		replayed := 0
		for _, h := range st.hints[n] {
			if s.now-h.at < int64(hintTTL) {
				st.send(st.msg(mRepair, n, -1, h.key, h.e, h.at), st.spec.WriteDelay.Sample(st.rng), nil, nd, st.spec.Name)
				replayed++
			}
		}
		st.st.hintsReplayed += uint64(replayed)
		st.hints[n] = st.hints[n][:0]
		s.logf(nd.name, "restarted: %d hinted writes replayed", replayed)
	}
	if !nd.paused && wasPaused {
		for _, i := range st.held[n] {
			s.schedule(s.now, evStoreMsg, st.idx<<storeBits|i, st.msgs[i].gen)
		}
		st.held[n] = st.held[n][:0]
	}
}

// antiEntropy makes every pair of live, connected replicas converge, as a
// Merkle-tree exchange would, once per interval.
func (st *store) antiEntropy() {
	s := st.s
	keys := len(st.keys)
	for a := range st.nodes {
		for b := a + 1; b < len(st.nodes); b++ {
			na, nb := &st.nodes[a], &st.nodes[b]
			if na.down || nb.down || na.paused || nb.paused || s.cut(na.name, na.group, nb.name, nb.group) {
				continue
			}
			for k := range keys {
				x, y := &st.data[a*keys+k], &st.data[b*keys+k]
				switch {
				case x.ts > y.ts || x.ts == y.ts && x.ver > y.ver:
					*y = *x
				case *x != *y:
					*x = *y
				}
			}
		}
	}
	if next := after(s.now, int64(st.spec.AntiEntropy)); next < s.end {
		s.schedule(next, evStoreTick, st.idx, 0)
	}
}
