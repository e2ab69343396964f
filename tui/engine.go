package tui

import (
	"fmt"
	"strconv"
	"time"

	"github.com/faultline/faultline/internal/format"
	"github.com/faultline/faultline/sim"
)

// speeds are the steps of the + and - keys: virtual seconds per wall second.
// 0 means as fast as possible.
var speeds = []float64{1, 10, 100, 0}

// speedName formats a speed for the header and the status line.
func speedName(s float64) string {
	if s <= 0 {
		return "max"
	}
	return strconv.FormatFloat(s, 'g', -1, 64) + "x"
}

// cmdKind is what the UI asks of the engine.
type cmdKind uint8

const (
	cmdPause    cmdKind = iota // toggle pause
	cmdFaster                  // next step of speeds
	cmdSlower                  // previous step of speeds
	cmdSetSpeed                // speed = command.speed
	cmdStep                    // one window, while paused
	cmdRestart                 // from 0 with command.seed
	cmdGoto                    // re-run from 0 to command.at, then pause
	cmdInject                  // command.fault, now
)

// command travels from the UI goroutine to the engine goroutine. It is a
// value: nothing in it is shared once sent.
type command struct {
	kind  cmdKind
	speed float64
	seed  uint64
	at    time.Duration
	fault sim.Fault
	desc  string // how the user wrote the fault, for the status line
}

// note is a short message for the status line. Notes ride on the next frame
// that reaches the UI, so that a dropped frame does not lose one.
type note struct {
	text string
	err  bool
}

// Frame is what the engine hands the UI: a snapshot of the run and the
// driver's own state. The engine never touches a Frame after handing it
// over, so the UI reads it without locks.
type Frame struct {
	Snap   sim.Snapshot
	Seed   uint64
	Speed  float64 // 0 = max
	Paused bool
	Window time.Duration // width of one time-series window
	Err    error         // why the run stopped early, if it did
	Notes  []note
}

// injection is a fault injected by hand, and when: goto replays the ones
// before its target so that going back in time shows what was seen.
type injection struct {
	at   time.Duration
	f    sim.Fault
	desc string // as the user wrote it
}

// engine owns the Sim. Only one goroutine touches it: the loop in live mode,
// the caller in inline mode (tests).
type engine struct {
	spec     *sim.Spec
	sim      *sim.Sim
	seed     uint64
	speed    float64
	paused   bool
	journal  []injection
	notes    []note
	newSeed  func() uint64
	wallBase time.Time     // pacing: wall time at which virtBase was reached
	virtBase time.Duration //
}

func newEngine(spec *sim.Spec, seed uint64, speed float64, newSeed func() uint64) (*engine, error) {
	e := &engine{spec: spec, seed: seed, speed: speed, newSeed: newSeed}
	s, err := sim.New(spec, seed)
	if err != nil {
		return nil, err
	}
	e.sim = s
	return e, nil
}

func (e *engine) notef(format string, args ...any) {
	e.notes = append(e.notes, note{text: fmt.Sprintf(format, args...)})
}

func (e *engine) errorf(format string, args ...any) {
	e.notes = append(e.notes, note{text: fmt.Sprintf(format, args...), err: true})
}

// keepWindows is how much of each time series a frame carries: the UI
// plots the last sparkWindows, and the rest is slack.
const keepWindows = 2 * sparkWindows

// snapshot is sim.Snapshot with only the tail of each time series. Sim's
// Snapshot copies every window of the run, which over an hour-long scenario
// is megabytes per frame at 20 frames a second; the tail is all the UI
// draws. The copy is made here, on the engine goroutine, so the frame
// shares nothing with the Sim, as Snapshot promises.
func (e *engine) snapshot() sim.Snapshot {
	res := e.sim.Result()
	for i := range res.Series {
		w := res.Series[i].Windows
		res.Series[i].Windows = append([]sim.Window(nil), w[max(0, len(w)-keepWindows):]...)
	}
	return sim.Snapshot{Now: e.sim.Now(), Duration: e.sim.Duration(), Done: e.sim.Done(), Result: res}
}

// frame packs the current state for the UI and hands over the pending notes.
func (e *engine) frame() Frame {
	f := Frame{
		Snap: e.snapshot(), Seed: e.seed, Speed: e.speed, Paused: e.paused,
		Window: e.spec.Window, Err: e.sim.Err(), Notes: e.notes,
	}
	if f.Window <= 0 {
		f.Window = time.Second
	}
	e.notes = nil
	return f
}

// rebase restarts the pacing from now: after a pause, a speed change or a
// jump, virtual time must not rush to catch up with the wall clock.
func (e *engine) rebase(wall time.Time) {
	e.wallBase, e.virtBase = wall, e.sim.Now()
}

// handle carries out one command.
func (e *engine) handle(c command, wall time.Time) {
	switch c.kind {
	case cmdPause:
		e.paused = !e.paused
		e.rebase(wall)
		if e.paused {
			e.notef("paused at %s", seconds(e.sim.Now()))
		} else {
			e.notef("running at %s", speedName(e.speed))
		}
	case cmdFaster, cmdSlower:
		if c.kind == cmdFaster {
			e.speed = faster(e.speed)
		} else {
			e.speed = slower(e.speed)
		}
		e.rebase(wall)
		e.notef("speed %s", speedName(e.speed))
	case cmdSetSpeed:
		e.speed = c.speed
		e.rebase(wall)
		e.notef("speed %s", speedName(e.speed))
	case cmdStep:
		switch {
		case !e.paused:
			e.errorf("step works while paused: press space first")
		case e.sim.Done():
			e.errorf("the run is over: r restarts it")
		default:
			w := e.window()
			next := (e.sim.Now()/w + 1) * w
			e.sim.RunUntil(next)
			e.notef("stepped to %s", seconds(e.sim.Now()))
		}
	case cmdRestart:
		if err := e.restart(c.seed, 0); err != nil {
			e.errorf("restart: %v", err)
			return
		}
		e.notef("restarted with seed %d", e.seed)
	case cmdGoto:
		before := e.journal
		if err := e.restart(e.seed, c.at); err != nil {
			e.errorf("goto: %v", err)
			return
		}
		e.paused = true
		e.notef("re-ran seed %d to %s; paused%s", e.seed, seconds(e.sim.Now()), dropped(before[len(e.journal):]))
	case cmdInject:
		at := e.sim.Now()
		if err := e.sim.Inject(c.fault); err != nil {
			e.errorf("fault %s: %v", c.desc, err)
			return
		}
		// The fault starts now; running the events due now logs it at once,
		// even while paused.
		e.sim.RunUntil(at)
		e.journal = append(e.journal, injection{at: at, f: c.fault, desc: c.desc})
		e.notef("injected %s at %s", c.desc, seconds(at))
	}
	e.rebase(wall)
}

// restart begins the run again with seed and runs it to at. A restart with
// the same seed replays the faults injected by hand before at, at the
// virtual times they were injected, so that goto shows the run the user
// saw; a new seed is a new run and forgets them.
func (e *engine) restart(seed uint64, at time.Duration) error {
	s, err := sim.New(e.spec, seed)
	if err != nil {
		return err
	}
	if seed != e.seed || at == 0 {
		e.journal = nil
	}
	kept := e.journal[:0]
	for _, j := range e.journal {
		if j.at > at {
			break
		}
		s.RunUntil(j.at)
		if s.Inject(j.f) != nil {
			break // cannot happen: it was accepted the first time
		}
		s.RunUntil(j.at)
		kept = append(kept, j)
	}
	e.journal = kept
	s.RunUntil(at)
	e.sim, e.seed = s, seed
	return nil
}

// dropped says which injections a goto back in time forgot: they were
// injected after its target, so the re-run never saw them.
func dropped(js []injection) string {
	switch len(js) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("; dropped %s (injected at %s)", js[0].desc, seconds(js[0].at))
	}
	s := "; dropped " + format.Plural(len(js), "fault") + " injected after it:"
	for i, j := range js {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf(" %s (%s)", j.desc, seconds(j.at))
	}
	return s
}

func (e *engine) window() time.Duration {
	if e.spec.Window > 0 {
		return e.spec.Window
	}
	return time.Second
}

// running reports whether the clock should move.
func (e *engine) running() bool { return !e.paused && !e.sim.Done() }

// advance moves virtual time along with the wall clock, spending at most
// budget of wall time so that commands and frames are not held up. At max
// speed it simply runs for the budget.
func (e *engine) advance(wall time.Time, budget time.Duration) {
	if !e.running() {
		return
	}
	deadline := time.Now().Add(budget)
	target := e.sim.Duration()
	if e.speed > 0 {
		target = e.virtBase + time.Duration(float64(wall.Sub(e.wallBase))*e.speed)
	}
	// Slices of a tenth of a window keep the deadline checks frequent
	// without paying for them on every event.
	slice := e.window() / 10
	for e.sim.Now() < target && !e.sim.Done() {
		e.sim.RunUntil(min(e.sim.Now()+slice, target))
		if time.Now().After(deadline) {
			if e.speed > 0 {
				// The engine cannot keep up with this speed: go on from
				// here rather than chase a target that runs away.
				e.rebase(time.Now())
			}
			break
		}
	}
	if e.sim.Done() {
		e.notef("run complete at %s: r restarts, :goto rewinds", seconds(e.sim.Now()))
	}
}

// faster is the next step up the ladder from s, which may be a speed set
// with :speed that is not on it.
func faster(s float64) float64 {
	for _, v := range speeds {
		if s > 0 && (v == 0 || v > s) {
			return v
		}
	}
	return s // already max
}

// slower is the next step down the ladder from s; the slowest step stays.
func slower(s float64) float64 {
	for i := len(speeds) - 1; i >= 0; i-- {
		if v := speeds[i]; v > 0 && (s <= 0 || v < s) {
			return v
		}
	}
	return s
}

// Pacing of the live loop.
const (
	frameEvery = 50 * time.Millisecond // at most 20 frames a second
	tickEvery  = 10 * time.Millisecond // how often the clock moves
	budget     = 15 * time.Millisecond // wall time one tick may spend running
)

// loop is the engine goroutine of live mode. It advances the run, carries
// out commands, and offers a frame at most every frameEvery while something
// changed; publish returns false when it dropped the frame because the UI
// is still busy with the last one, and the loop offers again later. It
// returns when quit is closed.
func (e *engine) loop(cmds <-chan command, quit <-chan struct{}, publish func(Frame) bool) {
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	e.rebase(time.Now())
	dirty := true
	var last time.Time
	for {
		if now := time.Now(); dirty && now.Sub(last) >= frameEvery {
			f := e.frame()
			if publish(f) {
				dirty, last = false, now
			} else {
				e.notes = append(f.Notes, e.notes...) // keep them for the next frame
			}
		}
		select {
		case <-quit:
			return
		case c := <-cmds:
			e.handle(c, time.Now())
			dirty = true
		case <-tick.C:
			if e.running() {
				e.advance(time.Now(), budget)
				dirty = true
			}
		}
	}
}
