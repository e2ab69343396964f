package bench

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress is told how a bench advances. Execute calls Advance and Done
// from its workers, so an implementation must be safe for concurrent use.
// job numbers the runs of one Execute from 0 to total-1.
type Progress interface {
	Start(total, workers int)
	// Advance tells that a run still going has done frac (0..1) of its
	// virtual time, so that a long run moves the bar before it ends.
	Advance(job int, frac float64)
	Done(job int, label string, rep int, took time.Duration)
	Finish()
}

// NewProgress reports to w: on a terminal, one bar redrawn in place with
// the runs done and the time left; otherwise a plain line now and then, as
// a CI log wants.
func NewProgress(w io.Writer, terminal bool) Progress {
	return &progress{w: w, tty: terminal, now: time.Now}
}

// redrawEvery bounds how often Advance redraws the bar: a few times a
// second is smooth, and a terminal is not flooded by many workers.
const redrawEvery = 200 * time.Millisecond

type progress struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	now     func() time.Time
	total   int
	done    int
	partial []float64 // by job: the share done of a run still going
	going   float64   // the sum of partial
	workers int
	start   time.Time
	last    time.Time // of the last line written
}

func (p *progress) Start(total, workers int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.workers, p.start = total, workers, p.now()
	p.partial = make([]float64, total)
	if !p.tty {
		fmt.Fprintf(p.w, "bench: %d runs on %d workers\n", total, workers)
	}
}

func (p *progress) Advance(job int, frac float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if job < 0 || job >= len(p.partial) {
		return
	}
	frac = min(max(frac, 0), 1)
	p.going += frac - p.partial[job]
	p.partial[job] = frac
	if now := p.now(); p.tty && now.Sub(p.last) >= redrawEvery {
		p.last = now
		p.bar(now, "")
	}
}

// bar redraws the terminal's bar: the runs done and the shares done of
// those going, and the time left at the pace so far.
func (p *progress) bar(now time.Time, run string) {
	const width = 30
	units := float64(p.done) + max(p.going, 0)
	elapsed := now.Sub(p.start)
	eta := "?"
	if units > 0 {
		eta = time.Duration(float64(elapsed) / units * (float64(p.total) - units)).Round(time.Second).String()
	}
	fill := min(width, int(width*units/float64(max(p.total, 1))))
	fmt.Fprintf(p.w, "\r\x1b[K[%s%s] %d/%d runs  %s elapsed  ETA %s%s",
		strings.Repeat("#", fill), strings.Repeat(".", width-fill), p.done, p.total,
		elapsed.Round(time.Second), eta, run)
}

func (p *progress) Done(job int, label string, rep int, took time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if job >= 0 && job < len(p.partial) {
		p.going -= p.partial[job]
		p.partial[job] = 0
	}
	now := p.now()
	elapsed := now.Sub(p.start)
	eta := time.Duration(float64(elapsed) / float64(p.done) * float64(p.total-p.done))
	if p.tty {
		p.last = now
		p.bar(now, fmt.Sprintf("  (%s #%d)", label, rep))
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
