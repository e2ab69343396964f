package tui

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/faultline/faultline/sim"
	"github.com/gdamore/tcell/v2"
)

// One key, one meaning: no key is bound twice in a context, and a focused
// pane's keys do not shadow a key of the main screen.
func TestRegistryHasNoConflicts(t *testing.T) {
	reg := registry()
	seen := map[[2]any]string{}
	for _, b := range reg {
		if b.ctx == ctxCommand {
			if len(b.names) == 0 || b.help == "" || b.example == "" || b.parse == nil {
				t.Errorf("command %q is incomplete", b.names)
			}
			continue
		}
		if b.help == "" || b.label == "" || b.run == nil {
			t.Errorf("binding %q is incomplete", b.label)
		}
		for _, k := range b.keys {
			ctxs := []context{b.ctx}
			if b.ctx == ctxTable || b.ctx == ctxEvents {
				ctxs = append(ctxs, ctxMain) // checked first, so it would shadow
			}
			for _, c := range ctxs {
				id := [2]any{c, k}
				if prev, ok := seen[id]; ok && prev != b.help {
					t.Errorf("%v in %s: %q and %q", k, contextNames[c], prev, b.help)
				}
			}
			seen[[2]any{b.ctx, k}] = b.help
		}
	}
}

// The hint line and the help overlay are both generated from the registry.
func TestHelpAndHintsComeFromTheRegistry(t *testing.T) {
	h := newHarness(t, "checkout", 160, 48, false)
	h.keys("?")
	screen := h.text()
	for _, b := range registry() {
		want := pad(b.label, -7) + " " + b.help
		if b.ctx == ctxCommand {
			want = ":" + b.syntax()
		}
		if !strings.Contains(screen, want) {
			t.Errorf("help overlay lacks %q", want)
		}
	}
	line := strings.Split(screen, "\n")[1]
	for _, b := range registry() {
		if b.hint != "" && !strings.Contains(line, ">"+b.hint) {
			t.Errorf("hint line %q lacks %q", line, b.hint)
		}
	}
	h.keys("<Esc>")
	if strings.Contains(h.text(), "Esc closes") {
		t.Error("Esc did not close the help overlay")
	}
	// At 80x24 it pages: whole lines, and space turns the page.
	small := newHarness(t, "checkout", 80, 24, false)
	small.keys("?")
	if s := small.text(); !strings.Contains(s, "help 1/") || !strings.Contains(s, "space   pause / resume") {
		t.Errorf("help overlay at 80x24:\n%s", s)
	}
	small.keys(" ")
	if s := small.text(); !strings.Contains(s, "help 2/") {
		t.Errorf("help overlay at 80x24, second page:\n%s", s)
	}
}

func TestHintsFit(t *testing.T) {
	reg := registry()
	for _, w := range []int{20, 79, 200} {
		got := hints(reg, w)
		if n := len([]rune(got)); n > w && w >= len("<?>help") {
			t.Errorf("hints(%d) is %d wide: %q", w, n, got)
		}
		if !strings.Contains(got, "<?>help") {
			t.Errorf("hints(%d) = %q, lacks help", w, got)
		}
	}
}

func TestLookupPrefersTheFocusedPane(t *testing.T) {
	reg := registry()
	down := tcell.NewEventKey(tcell.KeyDown, 0, tcell.ModNone)
	if b := lookup(reg, down, ctxTable, ctxMain); b == nil || !strings.Contains(b.help, "select") {
		t.Errorf("down in the table: %+v", b)
	}
	if b := lookup(reg, down, ctxEvents, ctxMain); b == nil || !strings.Contains(b.help, "scroll") {
		t.Errorf("down in the event log: %+v", b)
	}
	if b := lookup(reg, tcell.NewEventKey(tcell.KeyRune, 'x', tcell.ModNone), ctxMain); b != nil {
		t.Errorf("x is bound to %q", b.help)
	}
}

// At 80x24 the help pages show every command's syntax and example, and
// every fault kind's example, whole on a line of their own.
func TestHelpShowsEveryExampleWhole(t *testing.T) {
	h := newHarness(t, "checkout", 80, 24, false)
	h.keys("?")
	var lines []string
	for page := 0; page < 10; page++ {
		lines = append(lines, strings.Split(h.text(), "\n")...)
		h.keys(" ")
	}
	var want []string
	for _, b := range registry() {
		if b.ctx == ctxCommand {
			want = append(want, ":"+b.syntax(), "e.g. :"+b.example)
		}
	}
	for _, k := range sim.FaultKinds() {
		kind, _ := faultKind(k)
		want = append(want, ":fault "+faultUsage[kind].example)
	}
	for _, w := range want {
		found := false
		for _, l := range lines {
			// Whole: the example and then only the box's border.
			if _, after, ok := strings.Cut(l, " "+w); ok && strings.HasPrefix(strings.TrimLeft(after, " "), "│") {
				found = true
			}
		}
		if !found {
			t.Errorf("no help page shows %q whole", w)
		}
	}
}

// TestHelpLegendIsTheEnginesJudge: the thresholds the help's health
// legend gives are where sim.HealthOf, the engine's judge, changes its
// verdict: healthy just under the first, degraded at it and at the second,
// failing just over the second. The legend reads them from the engine
// (sim.DegradedShare, sim.FailingShare); it had them written out.
func TestHelpLegendIsTheEnginesJudge(t *testing.T) {
	h := newHarness(t, "checkout", 200, 60, false)
	h.keys("?")
	screen := h.text()
	m := regexp.MustCompile(`healthy +< ([0-9.]+)% errors[\s\S]*degraded ([0-9.]+)-([0-9.]+)%[\s\S]*failing +> ([0-9.]+)%`).FindStringSubmatch(screen)
	if m == nil {
		t.Fatalf("no health legend in the help:\n%s", screen)
	}
	share := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v / 100
	}
	deg, fail := share(m[1]), share(m[3])
	if share(m[2]) != deg || share(m[4]) != fail {
		t.Fatalf("the legend's thresholds disagree with each other: %q", m[0])
	}
	for _, tc := range []struct {
		share float64
		want  sim.Health
	}{
		{math.Nextafter(deg, 0), sim.Healthy},
		{deg, sim.Degraded},
		{fail, sim.Degraded},
		{math.Nextafter(fail, 1), sim.Failing},
	} {
		if got := sim.HealthOf(tc.share); got != tc.want {
			t.Errorf("the legend says %v at an error share of %g; the engine judges it %v", tc.want, tc.share, got)
		}
	}
}
