package tui

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
)

// The real thing: the engine goroutine at max speed, tview's event loop on
// a simulation screen, for about two seconds of wall time. The engine must
// have advanced, frames must have reached the screen, and keys must get
// through while it runs.
func TestLiveMaxSpeed(t *testing.T) {
	// The data components hand their series to the UI too: under -race
	// this is where sharing a slice with the engine would show.
	for _, name := range []string{"checkout", "kafka-consumer-crash"} {
		t.Run(name, func(t *testing.T) { liveMaxSpeed(t, name) })
	}
}

func liveMaxSpeed(t *testing.T, name string) {
	spec := loadSpec(t, name)
	// Long enough that max speed does not finish it in two seconds.
	spec.Duration = 2 * time.Hour
	screen := tcell.NewSimulationScreen("UTF-8")
	screen.SetSize(120, 40)
	s, err := newSession(Options{Name: name, Spec: spec, Seed: 1, Speed: 0, Screen: screen})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.run() }()

	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && s.vnow.Load() < int64(spec.Duration) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := time.Duration(s.vnow.Load()); got <= 0 {
		t.Fatalf("virtual time did not advance: %s", got)
	}
	// Pause through the UI, then read the screen on the UI goroutine.
	screen.InjectKey(tcell.KeyRune, ' ', tcell.ModNone)
	var text string
	for time.Now().Before(deadline.Add(2 * time.Second)) {
		got := make(chan string, 1)
		s.app.QueueUpdate(func() {
			s.app.ForceDraw()
			got <- screenText(screen)
		})
		text = <-got
		if strings.Contains(header(text), "paused") || strings.Contains(header(text), "done") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	screen.InjectKey(tcell.KeyRune, 'q', tcell.ModNone)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("q did not stop the application")
	}
	frames := s.frames.Load()
	t.Logf("%d frames in ~2s, virtual time %s", frames, time.Duration(s.vnow.Load()))
	if frames < 10 || frames > 60 {
		t.Errorf("%d frames handed to the UI in about 2 s: want some, and at most 20 a second", frames)
	}
	if !strings.Contains(text, "components") || !strings.Contains(text, "topology") {
		t.Errorf("the screen was not drawn:\n%s", text)
	}
	if !strings.Contains(header(text), "paused") && !strings.Contains(header(text), "done") {
		t.Errorf("space did not pause the live run: %q", header(text))
	}
}

// A panic on the UI goroutine finishes the screen and reaches the caller
// of Run, instead of leaving the terminal raw.
func TestPanicRestoresAndPropagates(t *testing.T) {
	spec := loadSpec(t, "checkout")
	screen := tcell.NewSimulationScreen("UTF-8")
	screen.SetSize(80, 24)
	s, err := newSession(Options{Name: "checkout", Spec: spec, Seed: 1, Speed: 1, Paused: true, Screen: screen})
	if err != nil {
		t.Fatal(err)
	}
	s.ui.reg = append(s.ui.reg, binding{keys: []key{runeKey('x')}, label: "x", help: "boom", ctx: ctxMain,
		run: func(*UI) { panic("boom") }})
	got := make(chan any, 1)
	go func() {
		defer func() { got <- recover() }()
		_ = s.run()
	}()
	time.Sleep(100 * time.Millisecond)
	screen.InjectKey(tcell.KeyRune, 'x', tcell.ModNone)
	select {
	case p := <-got:
		if p != "boom" {
			t.Fatalf("recovered %v, want boom", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the panic did not reach the caller")
	}
	// The screen was finished: tview has no screen any more, so Stop is a
	// no-op and the application does not draw.
	s.app.Stop()
}

// TestSignalsStop: SIGINT, SIGTERM and SIGHUP (a closed terminal or ssh
// session) end the TUI as q does, so that the screen is finished and the
// terminal restored. SIGHUP killed the process, leaving the terminal raw.
// Run then returns ErrInterrupted, for faultline to exit 130 as run and
// bench do on a signal (it returned nil, and tui exited 0).
func TestSignalsStop(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			screen := tcell.NewSimulationScreen("UTF-8")
			screen.SetSize(120, 40)
			s, err := newSession(Options{Name: "checkout", Spec: loadSpec(t, "checkout"), Seed: 1, Speed: 1, Paused: true, Screen: screen})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- s.run() }()
			// Wait for the first frame: the handler is installed by then.
			for deadline := time.Now().Add(5 * time.Second); s.frames.Load() == 0 && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			syscall.Kill(os.Getpid(), sig)
			select {
			case err := <-done:
				if !errors.Is(err, ErrInterrupted) {
					t.Fatalf("run returned %v, want ErrInterrupted", err)
				}
			case <-time.After(5 * time.Second):
				screen.InjectKey(tcell.KeyRune, 'q', tcell.ModNone)
				t.Fatalf("%v did not stop the TUI", sig)
			}
		})
	}
}
