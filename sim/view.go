package sim

import (
	"math/rand/v2"
	"time"
)

// view is a CQRS read model: a projector (a consumer group of Concurrency
// members, each applying its partitions' records one at a time) applies a
// topic's records to it, and services read it.
// A read of a key whose latest acknowledged write the projector has not
// applied yet is a read-your-writes violation.
type view struct {
	s     *Sim
	idx   int32
	spec  *View
	rng   *rand.Rand
	node  dataNode
	group int32
	// stalled are the members whose apply fell due while the projector
	// was frozen: they finish it when it thaws.
	stalled []int32

	acked   []uint32 // per key: the newest record acknowledged to its writer
	applied []uint32 // per key: the newest record applied
	// wrong: per key, a record was applied to it twice by a projection that
	// is not idempotent; its value stays wrong until a rebuild.
	wrong []bool
	// held: reads that reached the read store while it was frozen; they
	// are served when it thaws, or fail if it crashes meanwhile.
	held []heldRead

	reads, misses uint64 // after warmup
	wrongReads    uint64 // after warmup: reads of a key a duplicate corrupted
	readErrors    uint64 // after warmup: reads the store, down, refused
	dupApplied    uint64 // records applied again (after a projector crash or eviction)

	// A rebuild replays the topic into an emptied read model: it has
	// caught up when the projector has handled every partition up to
	// rebuildTo (the topic's high watermarks when it began).
	rebuilding   bool
	rebuildAt    int64
	rebuildFault int32 // the rebuild fault whose occurrence lasts until caught up
	rebuildTo    []int64
	rebuilds     uint64
	rebuildMax   int64 // the longest catch-up of a finished rebuild
	winReads     uint64
	winMisses    uint64
	series       []Window
	health       healthTracker
}

func (s *Sim) initViews() {
	s.views = make([]view, len(s.spec.Views))
	for i := range s.spec.Views {
		v := &s.views[i]
		v.s, v.idx, v.spec = s, int32(i), &s.spec.Views[i]
		v.rng = s.stream("view/" + v.spec.Name)
		v.node.init(v.spec.Name, v.spec.Name, v, 0)
		keys := max(1, v.spec.Keys)
		v.acked = make([]uint32, keys)
		v.applied = make([]uint32, keys)
		v.wrong = make([]bool, keys)
		t := &s.topics[s.topicIndex(v.spec.Topic)]
		if t.vkeys == 0 {
			t.vkeys = keys
			t.kseq = make([]uint32, keys)
		}
	}
}

func (s *Sim) viewIndex(name string) int32 {
	for i := range s.views {
		if s.views[i].spec.Name == name {
			return int32(i)
		}
	}
	return -1
}

// noteAcked tells the views of a topic that a record's writer now expects
// to read it.
func (s *Sim) noteAcked(ti int32, rec *record) {
	t := &s.topics[ti]
	if t.vkeys == 0 {
		return
	}
	k := keyOf(rec.key, t.vkeys)
	for _, gi := range t.allGroups {
		if g := &s.groups[gi]; g.view >= 0 {
			v := &s.views[g.view]
			v.acked[k%len(v.acked)] = max(v.acked[k%len(v.acked)], rec.kseq)
		}
	}
}

// heldRead is a read waiting for a frozen read store.
type heldRead struct {
	a  int32
	kc KeyChoice
}

// viewOf returns the view whose node is nodes, a fault's resolved target.
func viewOf(nodes []*dataNode) (*view, bool) {
	if len(nodes) != 1 {
		return nil, false
	}
	v, ok := nodes[0].owner.(*view)
	return v, ok
}

// apply records that the projector applied rec.
func (v *view) apply(rec *record, keys int) {
	k := keyOf(rec.key, keys) % len(v.applied)
	v.applied[k] = max(v.applied[k], rec.kseq)
}

// applyAgain records that the projector applied rec a second time: its
// commit was lost (a crash, an eviction), so the next owner of its
// partition read it again, at least once delivery. An idempotent
// projection (an upsert keyed by the record) is unchanged; any other
// leaves the key wrong.
func (v *view) applyAgain(rec *record, keys int) {
	v.dupApplied++
	if v.spec.NonIdempotent {
		v.wrong[keyOf(rec.key, keys)%len(v.wrong)] = true
	}
}

// read answers a read of the view for attempt a, of the request's key or
// of a random one. The read model is a store of its own: down, it refuses
// the connection (the read fails after the round trip); frozen, it holds
// the read until it thaws (the caller's timeout decides); otherwise it
// answers after the round trip and its read_time (slowed by a slowdown)
// with whatever the projector has applied.
func (v *view) read(a int32, kc KeyChoice) {
	switch {
	case v.node.down:
		v.refuse(a)
	case v.node.paused:
		v.held = append(v.held, heldRead{a: a, kc: kc})
	default:
		v.serve(a, kc)
	}
}

func (v *view) refuse(a int32) {
	s := v.s
	if s.now >= s.warmup {
		v.readErrors++
	}
	s.opAt(a, Error, after(s.now, s.hop(v.rng)+s.hop(v.rng)))
}

func (v *view) serve(a int32, kc KeyChoice) {
	s := v.s
	r := &s.reqs.r[a]
	t := &s.topics[s.topicIndex(v.spec.Topic)]
	k := keyOf(r.key, t.vkeys) % len(v.applied)
	if kc != KeyRequest {
		k = v.rng.IntN(len(v.applied))
	}
	miss := v.applied[k] < v.acked[k]
	if s.now >= s.warmup {
		v.reads++
		if miss {
			v.misses++
		}
		if v.wrong[k] {
			v.wrongReads++
		}
	}
	v.winReads++
	if miss {
		v.winMisses++
	}
	d := s.hop(v.rng) + s.hop(v.rng)
	if !v.spec.ReadTime.IsZero() {
		d = after(d, s.nodeDelay(&v.node, v.spec.ReadTime.Sample(v.rng)))
	}
	s.opAt(a, OK, after(s.now, d))
}

// rebuild drops the read model and replays the topic from the oldest
// record it retains: what retention has deleted is gone from the view for
// good. The apply in flight is void; the projector starts over from the
// base offsets once its group is not rebalancing.
func (v *view) rebuild(fault int32) {
	s := v.s
	g := &s.groups[v.group]
	if v.rebuilding && v.rebuildFault != fault {
		s.endFault(v.rebuildFault) // started over by another rebuild
	}
	clear(v.applied)
	clear(v.wrong)
	t := &s.topics[g.topic]
	v.rebuildTo = v.rebuildTo[:0]
	for p := range g.parts {
		gp := &g.parts[p]
		b := t.parts[p].base
		gp.committed, gp.done, gp.position, gp.proc = b, b, b, b
		v.rebuildTo = append(v.rebuildTo, t.parts[p].hw)
	}
	v.rebuilding, v.rebuildAt, v.rebuildFault = true, s.now, fault
	v.rebuilds++
	v.stalled = v.stalled[:0]
	for k := range g.members {
		m := &g.members[k]
		m.busy, m.batch = false, m.batch[:0]
		m.seq++
	}
	s.logf(v.spec.Name, "rebuild: read model dropped, replaying %d records", v.behind())
	if !g.rebalancing {
		g.assign()
	}
	v.caughtUp()
}

// behind is how many records the rebuild still has to replay.
func (v *view) behind() int64 {
	g := &v.s.groups[v.group]
	var n int64
	for p, to := range v.rebuildTo {
		n += max(0, to-g.parts[p].done)
	}
	return n
}

// caughtUp ends a rebuild once the projector has replayed what the topic
// held when it began.
func (v *view) caughtUp() {
	if !v.rebuilding || v.behind() > 0 {
		return
	}
	s := v.s
	v.rebuilding = false
	v.rebuildMax = max(v.rebuildMax, s.now-v.rebuildAt)
	s.logf(v.spec.Name, "rebuild caught up after %s", time.Duration(s.now-v.rebuildAt).Round(time.Millisecond))
	s.endFault(v.rebuildFault)
}

// nodeChanged resumes the applies a pause held up, and logs crashes. A
// projector that crashed stops heartbeating; its group notices. Its
// members are consumers in one process (Spring Kafka's concurrency): they
// crash, restart and pause together.
func (v *view) nodeChanged(_ int32, wasDown, wasPaused bool) {
	s := v.s
	g := &s.groups[v.group]
	n := int32(len(g.members))
	switch {
	case v.node.down && !wasDown:
		s.logf(v.spec.Name, "projector crashed")
		for k := range n {
			g.crashed(k)
		}
		for _, h := range v.held {
			v.refuse(h.a) // the connection dies with the store
		}
		v.held = v.held[:0]
	case !v.node.down && wasDown:
		s.logf(v.spec.Name, "projector restarted")
		for k := range n {
			g.restarted(k)
		}
	case v.node.paused && !wasPaused:
		for k := range n {
			g.paused(k)
		}
	case !v.node.paused && wasPaused:
		for _, k := range v.stalled {
			if m := &g.members[k]; m.busy {
				m.busy = false
				g.handled(m)
			}
		}
		v.stalled = v.stalled[:0]
		for k := range n {
			g.resumed(k)
		}
		for _, h := range v.held {
			v.serve(h.a, h.kc)
		}
		v.held = v.held[:0]
	}
}
