package sim

import (
	"fmt"
	"time"
	"unsafe"
)

// DefaultMemory is the memory budget of a run when its Spec sets none:
// 2 GiB, well under a developer machine's memory, and about ten times what
// the largest built-in scenario needs.
const DefaultMemory = 2 << 30

// budgetEvery is how many events run between two checks of the budget:
// often enough that memory grows by a few MB between checks (a request in
// flight is ~200 B with its events), rarely enough to cost nothing.
const budgetEvery = 1 << 16

// Approximate bytes of what grows: a request with its call slot and the
// two events it has scheduled (its delivery or work, and its timeout).
const (
	reqBytes    = int64(unsafe.Sizeof(request{}) + unsafe.Sizeof(call{}) + 4)
	eventBytes  = int64(unsafe.Sizeof(event{}))
	windowBytes = int64(unsafe.Sizeof(Window{}))
	logBytes    = int64(unsafe.Sizeof(Event{})) + 48 // and its text
	changeBytes = int64(unsafe.Sizeof(healthChange{}) + unsafe.Sizeof(occurrence{}))
	recordBytes = int64(unsafe.Sizeof(record{}))
)

// growth is one thing a run holds more of as it goes: how many, and about
// how many bytes.
type growth struct {
	what  string
	n     int64
	bytes int64
}

// budget returns the run's memory budget in bytes.
func (s *Sim) budget() int64 {
	if s.spec.Memory > 0 {
		return s.spec.Memory
	}
	return DefaultMemory
}

// growths measures what grows during a run from the sizes of its items,
// not from the Go runtime's statistics: the same run reaches its budget at
// the same event on every machine, and reading them costs a stop of the
// world.
func (s *Sim) growths() [6]growth {
	var windows, records int64
	s.eachSeries(func(ws *[]Window) { windows += int64(cap(*ws)) })
	for i := range s.topics {
		for j := range s.topics[i].parts {
			records += int64(cap(s.topics[i].parts[j].recs.buf))
		}
	}
	// Scheduled events are counted apart from the requests: a timeout
	// stays scheduled until it falls due, also for a request answered long
	// before (its gen check drops it then), so a rate far past capacity
	// with fast refusals holds few requests and many events. Their bytes
	// are those of the heap's and the FIFOs' capacities, which grow by
	// doubling, as the request pool's are.
	events := int64(cap(s.events.ev))
	for k := range s.timeouts.q {
		events += int64(cap(s.timeouts.q[k].buf))
	}
	return [6]growth{
		{"requests in flight", int64(s.reqs.live), int64(cap(s.reqs.r)) * reqBytes},
		{"scheduled events", int64(s.pendingEvents()), events * eventBytes},
		{"time-series windows", windows, windows*windowBytes + s.pointedBytes},
		{"records in broker logs", records, records * recordBytes},
		{"health changes and fault occurrences", int64(len(s.changes) + len(s.occurs)), int64(cap(s.changes)+cap(s.occurs)) * changeBytes},
		{"event log entries", int64(len(s.log)), int64(cap(s.log)) * logBytes},
	}
}

// checkBudget stops the run when what it holds exceeds its budget, with an
// error naming what grew and how to bound it.
func (s *Sim) checkBudget() {
	g := s.growths()
	var total int64
	top := 0
	for i := range g {
		total += g[i].bytes
		if g[i].bytes > g[top].bytes {
			top = i
		}
	}
	if total <= s.budget() {
		return
	}
	s.err = &BudgetError{At: time.Duration(s.now), Budget: s.budget(), Used: total,
		What: g[top].what, N: g[top].n, Bytes: g[top].bytes, Hint: s.budgetHint(top)}
}

// eachSeries calls f with each series that closing a window appends to:
// every client, flow, service, operation (of a service that has several),
// call edge (unless the driver keeps none: Spec.NoEdgeSeries), and data
// component.
func (s *Sim) eachSeries(f func(*[]Window)) {
	for i := range s.clients {
		c := &s.clients[i]
		f(&c.series)
		for j := range c.flows {
			f(&c.flows[j].series)
		}
	}
	for i := range s.services {
		sv := &s.services[i]
		f(&sv.series)
		if sv.perOp {
			for j := range sv.ops {
				f(&sv.ops[j].series)
			}
		}
	}
	if !s.spec.NoEdgeSeries {
		for _, ref := range s.edges {
			f(&s.services[ref.svc].calls[ref.edge].series)
		}
	}
	for i := range s.topics {
		f(&s.topics[i].series)
	}
	for i := range s.groups {
		if s.groups[i].view < 0 { // a view's group writes the view's series
			f(&s.groups[i].series)
		}
	}
	for i := range s.views {
		f(&s.views[i].series)
	}
	for i := range s.stores {
		f(&s.stores[i].series)
	}
	for i := range s.sagas {
		f(&s.sagas[i].series)
	}
}

// reserveSeries makes every series, at the start, as long as the run has
// windows, and so the marks of its edges' counters at each window's close
// (markEdges), when all of them fit the budget: a series then never grows
// by copying itself (a growing slice holds up to twice its windows, and
// leaves the old copies to the garbage collector), and closing a window
// allocates nothing but a data kind's figures and a blame
// (TestSteadyStateAllocs). A run whose windows would not fit grows its
// series as it goes, and the budget stops it when they reach it, as
// before.
func (s *Sim) reserveSeries() {
	var series int64
	s.eachSeries(func(*[]Window) { series++ })
	// Every data component's window points to its figures too.
	figures := int64(len(s.topics))*int64(unsafe.Sizeof(TopicFigures{})) + int64(len(s.stores))*int64(unsafe.Sizeof(StoreFigures{})) +
		int64(len(s.sagas))*int64(unsafe.Sizeof(SagaFigures{})) + int64(len(s.views))*int64(unsafe.Sizeof(ViewFigures{})) +
		int64(len(s.groups)-len(s.views))*int64(unsafe.Sizeof(GroupFigures{}))
	perWindow := series*windowBytes + figures + int64(len(s.edges))*int64(unsafe.Sizeof(edgeMark{}))
	n := (s.end + s.window - 1) / s.window // the last window may be partial
	if series == 0 || n <= 0 || n > s.budget()/perWindow {
		return
	}
	s.eachSeries(func(ws *[]Window) { *ws = make([]Window, 0, n) })
	for _, ref := range s.edges {
		e := &s.services[ref.svc].calls[ref.edge]
		e.marks = make([]edgeMark, 0, n)
	}
}

// keepWindow appends w to series ws, and counts what it points to in
// the memory budget: a data kind's figures and its provenance, allocated
// as it closed (the window itself is counted by the series' capacity).
func (s *Sim) keepWindow(ws *[]Window, w *Window) {
	*ws = append(*ws, *w)
	s.pointedBytes += figuresBytes(w.Figures) + blameBytes(w.Blame) + blameBytes(w.Slow)
	if p := w.prov; p != nil && p != w.Blame && p != w.Slow {
		s.pointedBytes += blameBytes(p)
	}
}

// figuresBytes is the size of a data kind's figures; 0 for none.
func figuresBytes(f Figures) int64 {
	switch f.(type) {
	case *TopicFigures:
		return int64(unsafe.Sizeof(TopicFigures{}))
	case *GroupFigures:
		return int64(unsafe.Sizeof(GroupFigures{}))
	case *StoreFigures:
		return int64(unsafe.Sizeof(StoreFigures{}))
	case *SagaFigures:
		return int64(unsafe.Sizeof(SagaFigures{}))
	case *ViewFigures:
		return int64(unsafe.Sizeof(ViewFigures{}))
	}
	return 0
}

// blameBytes is the size of a provenance with its origins (a fault index
// each points to is counted with its origin); 0 for none.
func blameBytes(b *Blame) int64 {
	if b == nil {
		return 0
	}
	return int64(unsafe.Sizeof(Blame{})) + int64(cap(b.Origins))*int64(unsafe.Sizeof(Origin{})+unsafe.Sizeof(0))
}

// budgetHint says how to bound what grew most.
func (s *Sim) budgetHint(top int) string {
	switch top {
	case 0:
		// The service with the most requests waiting, if its queue is
		// unbounded, is where they pile up.
		q := -1
		for i := range s.services {
			if q < 0 || s.services[i].queued > s.services[q].queued {
				q = i
			}
		}
		if q >= 0 && s.services[q].queued > 0 && s.services[q].spec.Queue == Unbounded {
			sv := &s.services[q]
			// A caller's timeout does not empty the queue: the request
			// abandoned waits for its turn all the same.
			return fmt.Sprintf("%s's queue is unbounded and holds %s requests: set queue = 1000 on it (a client timeout does not empty a queue), or lower the offered load", sv.spec.Name, count(int64(sv.queued)))
		}
		return "the offered load is far beyond capacity: bound the queues (queue = 1000), or lower the rate"
	case 1:
		// Most of them are the timeouts of requests already answered:
		// each waits until it falls due, so a rate r with a timeout d
		// holds about r x d of them.
		return "a timeout stays scheduled until it falls due, also for a request answered long before: lower the rate, or shorten the clients' and calls' timeouts"
	case 2:
		return "set a wider [scenario] window, or a shorter duration"
	case 3:
		return "set a shorter retention_ms on the topics, or a lower rate"
	case 4:
		return "a fault repeats too often or health flaps: a longer every on the faults"
	}
	return "fewer notable changes: a longer every on the faults"
}

// BudgetError says that a run exceeded its memory budget.
type BudgetError struct {
	At     time.Duration
	Budget int64  // bytes
	Used   int64  // bytes held, approximately
	What   string // what grew most
	N      int64  // how many of it
	Bytes  int64  // their bytes
	Hint   string // how to bound it
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("memory budget of %s exceeded at %.1fs: %s reached %s (%s); %s; or raise the budget with --memory",
		bytesText(e.Budget), e.At.Seconds(), e.What, count(e.N), bytesText(e.Bytes), e.Hint)
}

// count writes a number with three figures at most: 950, 12.3k, 18.0M.
func count(n int64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// bytesText writes a size in binary units: 512 MiB, 2.0 GiB.
func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
