package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// This file joins the data components (brokers, stores, views) to the
// request engine: calls that target them, the requests that are not sent by
// a client or a call, and the faults that hit their nodes.

// targetKind is what a call edge leads to.
type targetKind uint8

const (
	toService targetKind = iota
	toStore
	toTopic // a publish on the request path
	toView
)

// Parents of requests that no call waits on. A request's parent is a call
// index, or one of these; its origin then says which client, consumer
// member or saga step it belongs to.
const (
	noParent   = -1 // sent by a client: origin is the client
	fromRecord = -2 // a consumed record at its member's instance: origin is the group member
	fromSaga   = -3 // a saga's command to a participant: origin is the saga instance
)

// dataNode is the fault state of one broker node, store replica or view:
// what the active faults on it do.
type dataNode struct {
	name   string // "kafka#2", "db#1", "order-view"
	group  string // "kafka", "db", "order-view": what a target without # names
	faults []int32
	down   bool
	paused bool
	slow   float64 // delays multiplied (slowdown)
	skew   int64   // clock offset (skew)
	owner  nodeOwner
	idx    int32 // the node's index in its owner
}

// nodeOwner is told when a fault changes what one of its nodes can do.
type nodeOwner interface {
	nodeChanged(n int32, wasDown, wasPaused bool)
}

func (d *dataNode) init(name, group string, owner nodeOwner, idx int32) {
	*d = dataNode{name: name, group: group, slow: 1, owner: owner, idx: idx}
}

// refresh recomputes what the node's faults do to it and tells its owner.
func (d *dataNode) refresh(s *Sim) {
	wasDown, wasPaused := d.down, d.paused
	d.down, d.paused, d.slow, d.skew = false, false, 1, 0
	for _, i := range d.faults {
		switch p := s.faults[i].p.(type) {
		case CrashFault:
			d.down = true
		case PauseFault:
			d.paused = true
		case SlowdownFault:
			d.slow *= p.Factor
		case SkewFault:
			d.skew += int64(p.Offset)
		}
	}
	d.owner.nodeChanged(d.idx, wasDown, wasPaused)
}

// delay draws one message's delay d through node n: its slowdown and the
// latency faults on it apply.
func (s *Sim) nodeDelay(n *dataNode, d int64) int64 {
	if n.slow != 1 {
		d = nanos(float64(d) * n.slow)
	}
	for _, i := range n.faults {
		if f := &s.faults[i]; f.spec.Kind == FaultLatency {
			d = after(d, f.p.(LatencyFault).Add.Sample(f.rng))
		}
	}
	return d
}

// cut reports whether an active partition drops messages from component
// from to component to. Names are compared as a fault's sides name them:
// "db" covers "db#2".
func (s *Sim) cut(from, fromGroup, to, toGroup string) bool {
	for _, i := range s.partitions {
		p := s.faults[i].p.(PartitionFault)
		in := func(side int, name, group string) bool {
			return slices.Contains(p.Sides[side], name) || slices.Contains(p.Sides[side], group)
		}
		if in(0, from, fromGroup) && in(1, to, toGroup) || !p.OneWay && in(1, from, fromGroup) && in(0, to, toGroup) {
			return true
		}
	}
	return false
}

// dataTarget resolves a fault target naming data nodes: "kafka", "kafka#2",
// "db", "db#1", "order-view", and says which kind of target it is. It
// returns nil when no data component has the name.
func (s *Sim) dataTarget(tg Target) ([]*dataNode, Targets, error) {
	name := tg.Name
	if tg.Form != TargetName && tg.Form != TargetMember {
		return nil, 0, nil
	}
	var nodes []*dataNode
	var on, member Targets
	for i := range s.brokers {
		if b := &s.brokers[i]; b.spec.Name == name {
			nodes, on, member = ptrs(b.nodes), OnBroker, OnNode
		}
	}
	for i := range s.stores {
		if st := &s.stores[i]; st.spec.Name == name {
			nodes, on, member = ptrs(st.nodes), OnStore, OnReplica
		}
	}
	for i := range s.views {
		if v := &s.views[i]; v.spec.Name == name {
			nodes, on, member = []*dataNode{&v.node}, OnView, OnView
		}
	}
	if nodes == nil || tg.Form != TargetMember {
		return nodes, on, nil
	}
	if n := tg.Member; n < 1 || n > len(nodes) {
		return nil, 0, fmt.Errorf("%q has no node %d", name, n)
	}
	n := tg.Member
	return nodes[n-1 : n], member, nil
}

func ptrs(ns []dataNode) []*dataNode {
	out := make([]*dataNode, len(ns))
	for i := range ns {
		out[i] = &ns[i]
	}
	return out
}

// beginDataFault applies fault f to its data nodes.
func (s *Sim) beginDataFault(f *fault) {
	for _, n := range f.nodes {
		n.faults = append(n.faults, f.idx)
		n.refresh(s)
	}
}

func (s *Sim) endDataFault(f *fault) {
	for _, n := range f.nodes {
		if i := slices.Index(n.faults, f.idx); i >= 0 {
			n.faults = slices.Delete(n.faults, i, i+1)
		}
		n.refresh(s)
	}
}

// newOp starts an attempt of call k on a data component: a request slot
// that stands for the operation, so that timeouts, hedges and cancellation
// treat it as any attempt. The component ends it with opDone.
func (s *Sim) newOp(k int32, timeout int64) int32 {
	i := s.reqs.alloc()
	if i < 0 {
		s.err = errTooMany(s.now)
		return -1
	}
	r := &s.reqs.r[i]
	cl := &s.calls.c[k]
	r.svc, r.inst, r.parent, r.origin, r.sent = -1, 0, k, cl.edge, s.now
	r.key = s.reqs.r[cl.parent].key
	r.state = atService
	if timeout > 0 {
		s.scheduleTimeout(timeout, evTimeout, i, r.gen)
	}
	return i
}

// opDone ends data operation a with outcome o: its call learns it, unless
// the call gave up on it already.
func (s *Sim) opDone(a int32, o Outcome) {
	r := &s.reqs.r[a]
	if r.is(reqAbandoned) {
		s.freeRequest(a)
		return
	}
	k, sent := r.parent, r.sent
	var org origin
	if o != OK {
		cl := &s.calls.c[k]
		org = s.dataOrigin(&s.services[cl.svc].calls[cl.edge])
	}
	s.freeRequest(a)
	s.attemptDone(k, a, o, sent, 0, org)
}

// opLive reports whether data operation a, of generation gen, still waits
// for its answer.
func (s *Sim) opLive(a int32, gen uint32) bool {
	r := &s.reqs.r[a]
	return r.gen == gen && r.state == atService && !r.is(reqAbandoned)
}

// keyOf maps a request key onto a keyspace of n keys.
func keyOf(key uint64, n int) int {
	return int(splitmix(key) % uint64(n))
}

// drawKey returns a random key of a keyspace of n keys: uniform, or by the
// cumulative popularity of a Zipf keyspace.
func drawKey(rng *rand.Rand, cum []float64, n int) int {
	if cum == nil {
		return rng.IntN(n)
	}
	x := rng.Float64() * cum[len(cum)-1]
	i, _ := slices.BinarySearch(cum, x)
	return min(i, n-1)
}

// zipfTable returns the cumulative popularity of n keys whose k-th most
// popular (from 1) is drawn with weight 1/k^s. A table works for every
// s > 0, where math/rand's Zipf needs s > 1.
func zipfTable(s float64, n int) []float64 {
	cum := make([]float64, n)
	sum := 0.0
	for k := range n {
		sum += math.Pow(float64(k+1), -s)
		cum[k] = sum
	}
	return cum
}

// bindData points edge e at the store, topic or view it calls, and reports
// whether it is one.
func (s *Sim) bindData(e *edge) bool {
	c := e.spec
	switch {
	case c.Op == OpPublish:
		e.kind, e.data = toTopic, s.topicIndex(c.To)
	case s.storeIndex(c.To) >= 0:
		e.kind, e.data = toStore, s.storeIndex(c.To)
	case s.viewIndex(c.To) >= 0:
		e.kind, e.data = toView, s.viewIndex(c.To)
	default:
		return false
	}
	return true
}

// startOp starts attempt a of call k at the data component of edge e.
func (s *Sim) startOp(k, a int32, e *edge) {
	cl := &s.calls.c[k]
	from := s.services[cl.svc].spec.Name
	switch e.kind {
	case toStore:
		s.stores[e.data].start(a, e.spec.Op, e.spec.Key, from)
	case toTopic:
		key := s.reqs.r[a].key
		if e.pub.Key == KeyRandom {
			key = s.services[cl.svc].rng.Uint64()
		}
		s.send(e.data, key, e.pub.Key != KeyNone, e.pub.Acks, e.pub.delivery(), a, from, -1, -1)
	case toView:
		s.views[e.data].read(a, e.spec.Key)
	}
}

// afterOK does what follows a request's success at service sv: its
// fire-and-forget publishes, and the sagas it starts.
func (s *Sim) afterOK(sv *service, key uint64, inst int32) {
	for i := range sv.spec.Publishes {
		p := &sv.spec.Publishes[i]
		if !p.After || p.Probability < 1 && sv.rng.Float64() >= p.Probability {
			continue
		}
		k := key
		if p.Key == KeyRandom {
			k = sv.rng.Uint64()
		}
		s.send(s.topicIndex(p.Topic), k, p.Key != KeyNone, p.Acks, p.delivery(), -1, sv.spec.Name, -1, -1)
	}
	for _, i := range sv.sagas {
		s.startSaga(i, key, inst)
	}
}
