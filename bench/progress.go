package bench

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress is told how a bench advances. Execute calls Done from its
// workers, so an implementation must be safe for concurrent use.
type Progress interface {
	Start(total, workers int)
	Done(label string, rep int, took time.Duration)
	Finish()
}

// NewProgress reports to w: on a terminal, one bar redrawn in place with
// the runs done and the time left; otherwise a plain line now and then, as
// a CI log wants.
func NewProgress(w io.Writer, terminal bool) Progress {
	return &progress{w: w, tty: terminal, now: time.Now}
}

type progress struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	now     func() time.Time
	total   int
	done    int
	workers int
	start   time.Time
	last    time.Time // of the last line written
}

func (p *progress) Start(total, workers int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.workers, p.start = total, workers, p.now()
	if !p.tty {
		fmt.Fprintf(p.w, "bench: %d runs on %d workers\n", total, workers)
	}
}

func (p *progress) Done(label string, rep int, took time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	now := p.now()
	elapsed := now.Sub(p.start)
	eta := time.Duration(float64(elapsed) / float64(p.done) * float64(p.total-p.done))
	if p.tty {
		const width = 30
		fill := width * p.done / max(p.total, 1)
		fmt.Fprintf(p.w, "\r\x1b[K[%s%s] %d/%d runs  %s elapsed  ETA %s  (%s #%d)",
			strings.Repeat("#", fill), strings.Repeat(".", width-fill), p.done, p.total,
			elapsed.Round(time.Second), eta.Round(time.Second), label, rep)
		return
	}
	// A plain line at most every 2 s, and for the last run, keeps a CI
	// log short.
	if p.done == p.total || now.Sub(p.last) >= 2*time.Second {
		p.last = now
		fmt.Fprintf(p.w, "bench: %d/%d runs done, %s elapsed, about %s left\n", p.done, p.total,
			elapsed.Round(100*time.Millisecond), eta.Round(time.Second))
	}
}

func (p *progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprintln(p.w)
	}
}
