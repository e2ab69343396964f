package sim

// ring is a FIFO of request indices that grows by doubling and never shrinks,
// so a queue that has reached its working size stops allocating.
type ring struct {
	buf  []int32
	head int
	n    int
}

func (q *ring) len() int { return q.n }

func (q *ring) push(v int32) {
	if q.n == len(q.buf) {
		nb := make([]int32, max(8, 2*len(q.buf)))
		for i := range q.n {
			nb[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.n)%len(q.buf)] = v
	q.n++
}

// pop removes the oldest entry; the ring must not be empty.
func (q *ring) pop() int32 {
	v := q.buf[q.head]
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return v
}

// popBack removes the newest entry (LIFO service); the ring must not be empty.
func (q *ring) popBack() int32 {
	q.n--
	return q.buf[(q.head+q.n)%len(q.buf)]
}
