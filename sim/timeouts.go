package sim

// Timeouts are long and almost never fire: a request ends long before its
// caller would stop waiting, and the gen check drops the stale event. Kept
// in the event heap, they would be most of it (Envoy's 15 s route timeout at
// 10,000 requests/s is 150,000 dead events) and deepen every push and pop.
// Timeouts of one duration fall due in the order they are scheduled, so each
// distinct duration keeps a FIFO of its timeouts and only the FIFO's head is
// in the heap, as an evTimeoutQ proxy with the head's own (at, seq). The
// heap orders by (at, seq), a total order, so the timeouts run exactly when
// their own events would have: dispatch turns the proxy back into the
// event of the head before anything counts it. A call's overall deadline
// (evCallDeadline) is such a timeout too, and shares the FIFOs.

// maxTimeoutQueues bounds the distinct durations with a FIFO; a timeout of
// another duration (per-request deadlines, say) is a plain heap event.
const maxTimeoutQueues = 16

// timeoutQueues switches the FIFOs on; a test turns it off to compare with
// plain heap events.
var timeoutQueues = true

// pendingTimeout is a timeout event held in its duration's FIFO: the
// event itself, an evTimeout or an evCallDeadline.
type pendingTimeout = event

// timeoutQueue is the FIFO of one duration's timeouts, a ring that grows by
// doubling and never shrinks, so that it stops allocating at its working
// size.
type timeoutQueue struct {
	d    int64
	buf  []pendingTimeout
	head int
	n    int
}

func (q *timeoutQueue) push(t pendingTimeout) {
	if q.n == len(q.buf) {
		nb := make([]pendingTimeout, max(64, 2*len(q.buf)))
		k := copy(nb, q.buf[q.head:])
		copy(nb[k:], q.buf[:q.head])
		q.buf, q.head = nb, 0
	}
	j := q.head + q.n
	if j >= len(q.buf) {
		j -= len(q.buf)
	}
	q.buf[j] = t
	q.n++
}

// front returns the oldest entry; the queue must not be empty.
func (q *timeoutQueue) front() *pendingTimeout { return &q.buf[q.head] }

func (q *timeoutQueue) pop() pendingTimeout {
	t := q.buf[q.head]
	if q.head++; q.head == len(q.buf) {
		q.head = 0
	}
	q.n--
	return t
}

// timeouts are the run's timeout FIFOs.
type timeouts struct {
	q    []timeoutQueue
	last int // the queue of the last lookup
	busy int // queues not empty, each with its proxy in the heap
	held int // entries in all queues
}

// scheduleTimeout schedules a timeout of kind k (evTimeout, evCallDeadline)
// d after now, as schedule(after(now, d), k, arg, gen) does. The kinds may
// share a FIFO: what orders it is (at, seq).
func (s *Sim) scheduleTimeout(d int64, kind evKind, arg int32, gen uint32) {
	at := after(s.now, d)
	t := &s.timeouts
	k := t.last
	if k >= len(t.q) || t.q[k].d != d {
		k = -1
		for j := range t.q {
			if t.q[j].d == d {
				k = j
				break
			}
		}
		if k < 0 {
			if !timeoutQueues || len(t.q) >= maxTimeoutQueues {
				s.schedule(at, kind, arg, gen)
				return
			}
			k = len(t.q)
			t.q = append(t.q, timeoutQueue{d: d})
		}
		t.last = k
	}
	s.seq++
	q := &t.q[k]
	q.push(event{at: at, seq: s.seq, ka: uint32(kind)<<argBits | uint32(arg), gen: gen})
	t.held++
	if q.n == 1 {
		t.busy++
		s.events.push(event{at: at, seq: s.seq, ka: uint32(evTimeoutQ)<<argBits | uint32(k)})
	}
}

// timeoutDue takes the head of queue k, whose proxy the heap has just
// given, puts the next head's proxy in the heap, and returns the head: the
// event the proxy stands for.
func (s *Sim) timeoutDue(k int32) event {
	t := &s.timeouts
	q := &t.q[k]
	h := q.pop()
	t.held--
	if q.n > 0 {
		f := q.front()
		s.events.push(event{at: f.at, seq: f.seq, ka: uint32(evTimeoutQ)<<argBits | uint32(k)})
	} else {
		t.busy--
	}
	return h
}

// pendingEvents is how many events the run holds: those in the heap, with
// each timeout FIFO's entries in place of its proxy.
func (s *Sim) pendingEvents() int {
	return s.events.len() - s.timeouts.busy + s.timeouts.held
}
