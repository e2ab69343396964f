package tui

import (
	"testing"
	"time"
)

// At a finite speed virtual time follows the wall clock, times the speed;
// pausing stops it, and resuming does not make it catch up.
func TestEnginePacing(t *testing.T) {
	spec := loadSpec(t, "checkout")
	for _, tc := range []struct {
		speed float64
		wall  time.Duration
		want  time.Duration
	}{
		{1, 500 * time.Millisecond, 500 * time.Millisecond},
		{10, 500 * time.Millisecond, 5 * time.Second},
		{100, 200 * time.Millisecond, 20 * time.Second},
	} {
		e, err := newEngine(spec, 1, tc.speed, nil)
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Unix(1000, 0)
		e.rebase(t0)
		e.advance(t0.Add(tc.wall), time.Minute)
		if got := e.sim.Now(); got != tc.want {
			t.Errorf("speed %g for %s: virtual %s, want %s", tc.speed, tc.wall, got, tc.want)
		}
		e.handle(command{kind: cmdPause}, t0.Add(tc.wall))
		e.advance(t0.Add(10*tc.wall), time.Minute)
		if got := e.sim.Now(); got != tc.want {
			t.Errorf("speed %g: paused, but time moved to %s", tc.speed, got)
		}
		e.handle(command{kind: cmdPause}, t0.Add(10*tc.wall))
		e.advance(t0.Add(11*tc.wall), time.Minute)
		if got := e.sim.Now(); got != 2*tc.want {
			t.Errorf("speed %g: resumed, virtual %s, want %s", tc.speed, got, 2*tc.want)
		}
	}
}

// At max speed the engine runs for its budget and returns, so that it can
// take commands; the scenario finishes in a few calls.
func TestEngineMaxSpeedBudget(t *testing.T) {
	e, err := newEngine(loadSpec(t, "checkout"), 1, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000 && !e.sim.Done(); i++ {
		start := time.Now()
		e.advance(time.Now(), budget)
		if d := time.Since(start); d > 20*budget {
			t.Fatalf("advance took %s with a budget of %s", d, budget)
		}
	}
	if !e.sim.Done() {
		t.Fatalf("not done after 1000 slices: %s", e.sim.Now())
	}
	if f := e.frame(); len(f.Notes) == 0 || f.Notes[len(f.Notes)-1].text != "run complete at 120.0s: r restarts, :goto rewinds" {
		t.Errorf("notes at the end: %+v", f.Notes)
	}
}

func TestSpeedLadder(t *testing.T) {
	for _, tc := range []struct{ s, up, down float64 }{
		{1, 10, 1}, {10, 100, 1}, {100, 0, 10}, {0, 0, 100}, {5, 10, 1}, {0.5, 1, 0.5}, {1000, 0, 100},
	} {
		if got := faster(tc.s); got != tc.up {
			t.Errorf("faster(%g) = %g, want %g", tc.s, got, tc.up)
		}
		if got := slower(tc.s); got != tc.down {
			t.Errorf("slower(%g) = %g, want %g", tc.s, got, tc.down)
		}
	}
}

// The same seed gives the same screen: a goto is a deterministic re-run.
func TestGotoIsDeterministic(t *testing.T) {
	a := newHarness(t, "checkout", 160, 48, false)
	a.command("goto 45s")
	b := newHarness(t, "checkout", 160, 48, false)
	b.keys("+++") // speed must not matter
	b.command("goto 20s")
	b.command("goto 45s")
	b.command("speed 1")
	if x, y := a.text(), b.text(); stripStatus(x) != stripStatus(y) {
		t.Errorf("two runs to 45s differ:\n%s\n%s", x, y)
	}
}

func stripStatus(s string) string { return s[:len(s)-len(lastLine(s))-1] }
