package sim

import "math/bits"

// evKind says what an event does when it fires.
type evKind uint8

const (
	evArrival       evKind = iota // open-loop client: the next request leaves
	evThinkDone                   // closed-loop client: a user sends again
	evDeliver                     // a request reaches its service
	evWorkDone                    // the work before the calls is done
	evAfterDone                   // the work after the calls is done
	evResponse                    // a response reaches the caller
	evTimeout                     // a caller stops waiting for a request
	evFaultStart                  // a fault begins
	evFaultEnd                    // a fault ends
	evWindow                      // a time-series window closes
	evWarmup                      // aggregates start counting
	evRetry                       // a call's backoff is over: the next attempt
	evHedge                       // a call's hedge delay is over
	evCallDeadline                // a call's overall timeout
	evOutlierReview               // an edge's outlier detection reviews ejections: gen is its holder
	evInstanceUp                  // a restarted instance has started: gen is the instance
	evAutoscale                   // a service's autoscaler evaluates
	evBreaker                     // a breaker's automatic transition is due: gen is its holder
	evOpDone                      // a data operation's answer reaches its caller
	evProduce                     // a record reaches its partition leader
	evProduceTimer                // a produce's backoff, request timeout or delivery timeout
	evWaitersDue                  // a partition's acks=all waiters may have passed their delivery timeout: arg is its replica slot
	evFetch                       // a follower's fetch returns
	evBrokerTick                  // a broker's housekeeping: ISR, retention, group liveness
	evRebalance                   // a consumer group's rebalance ends
	evViewApply                   // a view's projector has applied a record
	evStoreMsg                    // a store message arrives: arg is store<<storeBits | message
	evStoreTick                   // a store's anti-entropy round
	evSagaRetry                   // a saga step's retry, or a command that failed at once
	evRollback                    // a bad release's rollback is due: arg is the deploy
	evDrainKill                   // a draining instance's grace period is over: gen is the instance
	evDeployed                    // an instance of a deploy has warmed up: arg is the deploy
	evLeakCrash                   // a leaking instance runs out of memory: gen is the instance
	evCallsDone                   // a request whose calls answered during a pause goes on
	evRefuse                      // a refusal decided during a pause is answered
	evPollTick                    // a consumer's poll timer (poll_interval): arg is the member slot
	evCheck                       // a health checker's round, or its verdict (gen): arg is the checker
	evDelist                      // a crashed instance leaves the endpoints: arg is its service, gen the instance
	evTimeoutQ                    // the head of a timeout FIFO falls due: arg is the FIFO (timeouts.go)
	evCFS                         // an instance's CPU quota lets a stretch of work end: arg is its service, gen the instance (cfs.go)
	numKinds
)

// Every kind must fit in the bits above the argument: this constant does
// not compile when one does not.
const _ = uint(1<<(32-argBits) - numKinds)

// event is a small value: the heap holds events, not pointers, so that
// pushing and popping never allocates and the GC never scans the heap. It is
// 24 bytes: the kind shares a word with its argument, because a smaller event
// makes the heap's sift-down measurably faster.
type event struct {
	at  int64  // virtual time, ns
	seq uint64 // ties at equal times run in scheduling order
	ka  uint32 // kind in the top 6 bits, argument (a request, client, fault) below
	gen uint32 // the request's generation when scheduled, to drop stale events
}

const (
	argBits = 26
	maxArg  = 1<<argBits - 1 // the largest request index an event can carry
)

func (e *event) kind() evKind { return evKind(e.ka >> argBits) }
func (e *event) arg() int32   { return int32(e.ka & maxArg) }

// less is 1 when a comes before b and 0 otherwise. It compares (at, seq) as
// one 128-bit number by subtraction, without a branch: which child of a heap
// node is smallest is a coin toss that a branch predictor gets wrong half
// the time. Times are never negative, so an unsigned compare is right.
func less(a, b *event) int {
	_, borrow := bits.Sub64(a.seq, b.seq, 0)
	_, borrow = bits.Sub64(uint64(a.at), uint64(b.at), borrow)
	return int(borrow)
}

func (e *event) before(o *event) bool {
	if e.at != o.at {
		return e.at < o.at
	}
	return e.seq < o.seq
}

// eventHeap is a 4-ary min-heap ordered by (at, seq). A 4-ary heap is
// shallower than a binary one and its children share a cache line, which
// matters more than the extra comparisons.
type eventHeap struct {
	ev []event
}

func (h *eventHeap) len() int { return len(h.ev) }

func (h *eventHeap) push(e event) {
	h.ev = append(h.ev, e)
	ev := h.ev
	i := len(ev) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !e.before(&ev[p]) {
			break
		}
		ev[i] = ev[p]
		i = p
	}
	ev[i] = e
}

// peek returns the earliest event; the heap must not be empty.
func (h *eventHeap) peek() *event { return &h.ev[0] }

func (h *eventHeap) pop() event {
	ev := h.ev
	top := ev[0]
	n := len(ev) - 1
	last := ev[n]
	ev = ev[:n]
	h.ev = ev
	if n == 0 {
		return top
	}
	i := 0
	for {
		c := 4*i + 1
		if c+3 < n {
			// All four children exist: the common case, unrolled.
			// A tournament of three comparisons whose outcomes are
			// random: written so that the compiler can use conditional
			// moves instead of branches the CPU would mispredict.
			a := c + less(&ev[c+1], &ev[c])
			b := c + 2 + less(&ev[c+3], &ev[c+2])
			m := a + less(&ev[b], &ev[a])*(b-a)
			if !ev[m].before(&last) {
				break
			}
			ev[i] = ev[m]
			i = m
			continue
		}
		if c >= n {
			break
		}
		m := c
		for j := c + 1; j < n; j++ {
			if ev[j].before(&ev[m]) {
				m = j
			}
		}
		if ev[m].before(&last) {
			ev[i] = ev[m]
			i = m
		}
		break
	}
	ev[i] = last
	return top
}
