package tui

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/faultline/faultline/sim"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// Options configure a session.
type Options struct {
	Name    string // the scenario as the user named it, for the header
	Spec    *sim.Spec
	Seed    uint64
	Speed   float64 // virtual seconds per wall second: 1, 10, 100; 0 = max
	Paused  bool    // start paused
	NoColor bool    // health as text markers, no colours (NO_COLOR)
	// Screen is where to draw; nil means the terminal. Tests pass a
	// tcell.SimulationScreen.
	Screen tcell.Screen
	// NewSeed picks the seed of R; nil picks one at random.
	NewSeed func() uint64
}

// session ties the engine goroutine to the UI goroutine.
type session struct {
	app    *tview.Application
	ui     *UI
	eng    *engine
	cmds   chan command
	quit   chan struct{}
	busy   atomic.Bool  // a frame is queued and not yet applied
	frames atomic.Int64 // frames handed to the UI
	vnow   atomic.Int64 // virtual time of the last frame handed over
}

// ErrInterrupted is what Run returns, wrapped with the signal's name,
// when SIGINT, SIGTERM or SIGHUP ended the session: faultline then exits
// 130, as run and bench do when a signal stops them. Quitting with q or
// the Ctrl-C key (a key in raw mode, not a signal) returns nil.
var ErrInterrupted = errors.New("interrupted")

// Run opens the TUI on the terminal (or opts.Screen) and returns when the
// user quits. The terminal is restored however it ends: quit, Ctrl-C,
// SIGINT, SIGTERM or SIGHUP (then it returns ErrInterrupted), or a panic in
// either goroutine, which is re-raised once the screen is finished.
func Run(opts Options) error {
	s, err := newSession(opts)
	if err != nil {
		return err
	}
	return s.run()
}

func newSession(opts Options) (*session, error) {
	if opts.Spec == nil {
		return nil, errors.New("tui: no scenario")
	}
	if opts.NewSeed == nil {
		// A small number, so that it is easy to type back with :seed.
		opts.NewSeed = func() uint64 { return rand.Uint64N(100000) }
	}
	e, err := newEngine(opts.Spec, opts.Seed, opts.Speed, opts.NewSeed)
	if err != nil {
		return nil, err
	}
	e.paused = opts.Paused
	s := &session{
		app:  tview.NewApplication(),
		ui:   newUI(opts.Name, opts.Spec, opts.NoColor),
		eng:  e,
		cmds: make(chan command, 64),
		quit: make(chan struct{}),
	}
	s.ui.newSeed = opts.NewSeed
	s.ui.quit = s.app.Stop
	s.ui.send = func(c command) {
		// Never block the UI: a full queue means the engine is stuck in a
		// long goto, and the user can try again.
		select {
		case s.cmds <- c:
		default:
			s.ui.status = note{text: "the engine is busy: command dropped, try again", err: true}
		}
	}
	if opts.Screen != nil {
		s.app.SetScreen(opts.Screen)
	}
	root := &rootView{Box: tview.NewBox(), ui: s.ui}
	s.app.SetRoot(root, true)
	s.app.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		s.ui.key(ev)
		return nil // every key goes through the registry, Ctrl-C included
	})
	// The first frame is ready before the first draw.
	s.ui.apply(e.frame())
	return s, nil
}

// publish hands a frame to the UI goroutine, unless the previous one has
// not been applied yet: then the frame is dropped (the engine offers a
// newer one soon) and the engine never waits for the UI. At most one frame
// is ever queued, so QueueUpdateDraw's queue cannot fill and block.
func (s *session) publish(f Frame) bool {
	if !s.busy.CompareAndSwap(false, true) {
		return false
	}
	s.frames.Add(1)
	s.vnow.Store(int64(f.Snap.Now))
	s.app.QueueUpdateDraw(func() {
		s.ui.apply(f)
		s.busy.Store(false)
	})
	return true
}

func (s *session) run() (err error) {
	// A panic on the UI goroutine: tview finishes the screen and re-panics;
	// stopping the app here as well covers panics outside its loop.
	defer func() {
		if p := recover(); p != nil {
			s.app.Stop()
			panic(p)
		}
	}()
	defer close(s.quit) // stops the engine goroutine
	go func() {
		defer func() {
			if p := recover(); p != nil {
				// A panic in the engine would kill the process with the
				// terminal still raw: restore it first.
				s.app.Stop()
				panic(p)
			}
		}()
		s.eng.loop(s.cmds, s.quit, s.publish)
	}()
	sig := make(chan os.Signal, 1)
	// SIGHUP is what a closed terminal or ssh session sends (POSIX,
	// "General Terminal Interface": a modem disconnect sends it to the
	// controlling process); by default it kills the process with the
	// terminal raw and on the alternate screen.
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sig)
	var by atomic.Value // the signal that ended the session, if one did
	go func() {
		select {
		case sg := <-sig:
			by.Store(sg)
			s.app.Stop()
		case <-s.quit:
		}
	}()
	if err := s.app.Run(); err != nil {
		return err
	}
	if sg, ok := by.Load().(os.Signal); ok {
		return fmt.Errorf("%w by %v", ErrInterrupted, sg)
	}
	return nil
}

// rootView draws the whole screen through the UI; tview gives it the
// screen and the event loop.
type rootView struct {
	*tview.Box
	ui *UI
}

func (r *rootView) Draw(screen tcell.Screen) {
	r.ui.draw(screen)
}

// inline drives a UI and an engine on the caller's goroutine, with no
// clock: each command is carried out at once and its frame applied before
// send returns. Tests use it to get the same screen every time.
func inline(opts Options) (*UI, *engine, error) {
	if opts.NewSeed == nil {
		opts.NewSeed = func() uint64 { return 42 }
	}
	e, err := newEngine(opts.Spec, opts.Seed, opts.Speed, opts.NewSeed)
	if err != nil {
		return nil, nil, err
	}
	e.paused = opts.Paused
	u := newUI(opts.Name, opts.Spec, opts.NoColor)
	u.newSeed = opts.NewSeed
	epoch := time.Unix(0, 0)
	u.send = func(c command) {
		e.handle(c, epoch)
		u.apply(e.frame())
	}
	u.apply(e.frame())
	return u, e, nil
}
