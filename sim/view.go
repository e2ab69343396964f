package sim

import (
	"math/rand/v2"
)

// view is a CQRS read model: a projector (a consumer group of one member)
// applies a topic's records to it, one at a time, and services read it.
// A read of a key whose latest acknowledged write the projector has not
// applied yet is a read-your-writes violation.
type view struct {
	s       *Sim
	idx     int32
	spec    *View
	rng     *rand.Rand
	node    dataNode
	group   int32
	stalled bool // an apply fell due while the projector was frozen

	acked   []uint32 // per key: the newest record acknowledged to its writer
	applied []uint32 // per key: the newest record applied

	reads, misses uint64 // after warmup
	winReads      uint64
	winMisses     uint64
	series        []ViewWindow
	health        healthTracker
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

// apply records that the projector applied rec.
func (v *view) apply(rec *record, keys int) {
	k := keyOf(rec.key, keys) % len(v.applied)
	v.applied[k] = max(v.applied[k], rec.kseq)
}

// read answers a read of the view for attempt a, of the request's key or
// of a random one: the read model is a store of its own, which answers
// after a hop whatever the projector has applied.
func (v *view) read(a int32, kc KeyChoice) {
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
	}
	v.winReads++
	if miss {
		v.winMisses++
	}
	s.opAt(a, OK, after(s.now, s.hop(v.rng)+s.hop(v.rng)))
}

// nodeChanged resumes an apply that a pause held up, and logs crashes. A
// projector that crashed stops heartbeating; its group notices.
func (v *view) nodeChanged(_ int32, wasDown, wasPaused bool) {
	s := v.s
	g := &s.groups[v.group]
	switch {
	case v.node.down && !wasDown:
		s.logf(v.spec.Name, "projector crashed")
		g.crashed(0)
	case !v.node.down && wasDown:
		s.logf(v.spec.Name, "projector restarted")
		g.restarted(0)
	case v.node.paused && !wasPaused:
		g.paused(0)
	case !v.node.paused && wasPaused:
		if v.stalled {
			v.stalled = false
			m := &g.members[0]
			if m.busy {
				m.busy = false
				g.handled(m)
			}
		}
		g.resumed(0)
	}
}
