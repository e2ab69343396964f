package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/resilience"
	"github.com/gdamore/tcell/v2"
)

// squeeze collapses runs of spaces, so that tests need not know column
// widths.
func squeeze(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		b.WriteString(strings.Join(strings.Fields(l), " ") + "\n")
	}
	return b.String()
}

func header(s string) string { return strings.SplitN(s, "\n", 2)[0] }

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// Keys drive the engine through the same commands as in live mode; inline,
// each one's frame is on screen when keys returns.
func TestKeys(t *testing.T) {
	for _, tc := range []struct {
		name       string
		keys       string
		wantHeader []string
		wantStatus string
	}{
		{"pause toggles", " ", []string{"▶ running"}, "running at 1x"},
		{"pause twice", "  ", []string{"❚❚ paused"}, "paused at 45.0s"},
		{"faster", "+", []string{"speed 10x"}, "speed 10x"},
		{"fastest", "++++", []string{"speed max"}, "speed max"},
		{"slower stops at 1x", "+--", []string{"speed 1x"}, "speed 1x"},
		{"speed command", ":speed 100<Enter>", []string{"speed 100x"}, "speed 100x"},
		{"step", ".", []string{"46.0s/120s", "❚❚ paused"}, "stepped to 46.0s"},
		{"step twice", "..", []string{"47.0s/120s"}, "stepped to 47.0s"},
		{"step while running", " .", []string{"45.0s/120s", "▶ running"}, "error: step works while paused"},
		{"restart", "r", []string{"0.0s/120s", "seed 1"}, "restarted with seed 1"},
		{"new seed", "R", []string{"0.0s/120s", "seed 42"}, "restarted with seed 42"},
		{"seed command", ":seed 7<Enter>", []string{"0.0s/120s", "seed 7"}, "restarted with seed 7"},
		{"goto", ":goto 90s<Enter>", []string{"90.0s/120s", "❚❚ paused", "faults active: 0"}, "re-ran seed 1 to 90.0s; paused"},
		{"goto in seconds", ":goto 12.5s<Enter>", []string{"12.5s/120s"}, "re-ran seed 1 to 12.5s; paused"},
		// A time takes its unit, as --duration does on the command line.
		{"goto without a unit", ":goto 12.5<Enter>", []string{"45.0s/120s"}, `error: goto "12.5": a time takes its unit, as on the command line: 12.5s`},
		{"speed as the header writes it", ":speed 10x<Enter>", []string{"speed 10x"}, "speed 10x"},
		{"speed beyond the help", ":speed inf<Enter>", []string{"speed 1x"}, `error: speed "inf": want 1, 10, 100 or max`},
		{"goto past the end", ":goto 200s<Enter>", []string{"45.0s/120s"}, "error: goto 3m20s: the scenario ends at 2m0s"},
		{"unknown command", ":frobnicate<Enter>", nil, `error: unknown command "frobnicate"`},
		{"escape cancels a command", ":seed 7<Esc>", []string{"seed 1"}, "re-ran seed 1 to 45.0s; paused"},
		{"backspace edits", ":seed 78<Backspace><Enter>", []string{"seed 7"}, "restarted with seed 7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "checkout", 80, 24, false)
			h.command("goto 45s")
			h.keys(tc.keys)
			s := h.text()
			for _, w := range tc.wantHeader {
				if !strings.Contains(header(s), w) {
					t.Errorf("header %q lacks %q", header(s), w)
				}
			}
			if got := lastLine(s); !strings.HasPrefix(got, tc.wantStatus) {
				t.Errorf("status line %q, want %q", got, tc.wantStatus)
			}
		})
	}
}

// Up and Down walk back through the lines typed at the prompt, as a shell
// does, and come back to the line being typed; a line recalled runs again.
func TestCommandHistory(t *testing.T) {
	h := newHarness(t, "checkout", 80, 24, false)
	h.command("seed 7")
	h.command("goto 30s")
	h.command("goto 30s") // the same line twice is kept once
	for _, tc := range []struct{ keys, prompt string }{
		{":go", ":go"},
		{"<Up>", ":goto 30s"},
		{"<Up>", ":seed 7"},
		{"<Up>", ":seed 7"}, // the oldest stays
		{"<Down>", ":goto 30s"},
		{"<Down>", ":go"}, // back to what was being typed
		{"<Up><Up><Backspace>9<Enter>", "restarted with seed 9"},
	} {
		h.keys(tc.keys)
		if got := lastLine(h.text()); got != tc.prompt {
			t.Errorf("after %s the last line is %q, want %q", tc.keys, got, tc.prompt)
		}
	}
}

// Tab completes command names, fault kinds (sim's list) and targets in
// sim's grammar that the kind can take; several candidates are listed
// above the prompt and the word grows to what they share.
func TestTabCompletion(t *testing.T) {
	for _, tc := range []struct {
		scenario, typed string
		prompt, choices string
	}{
		{"checkout", ":fa<Tab>", ":fault ", ""},
		{"checkout", ":s<Tab>", ":s", "2 choices: seed speed"},
		{"checkout", ":fault cr<Tab>", ":fault crash ", ""},
		{"checkout", ":fault s<Tab>", ":fault s", "3 choices: slowdown surge skew"},
		{"checkout", ":fault crash paym<Tab>", ":fault crash payment", "4 choices: payment payment#1 payment#2 payment#3"},
		{"checkout", ":fault crash payment#2<Tab>", ":fault crash payment#2 ", ""},
		{"checkout", ":fault loss checkout-<Tab>", ":fault loss checkout->", "2 choices: checkout->inventory checkout->payment"},
		{"checkout", ":fault surge <Tab>", ":fault surge shoppers ", ""},
		{"checkout", ":fault partition frontend,ca<Tab>", ":fault partition frontend,ca", "2 choices: frontend,cart frontend,catalog"},
		{"checkout", ":fault crash payment 10s <Tab>", ":fault crash payment 10s ", "nothing to complete here"},
		{"kafka-consumer-crash", ":fault leader_loss <Tab>", ":fault leader_loss orders ", ""},
		{"kafka-consumer-crash", ":fault pause ka<Tab>", ":fault pause kafka", "4 choices: kafka kafka#1 kafka#2 kafka#3"},
		{"quorum-staleness", ":fault skew fast#<Tab>", ":fault skew fast#", "3 choices: fast#1 fast#2 fast#3"},
	} {
		t.Run(tc.typed, func(t *testing.T) {
			h := newHarness(t, tc.scenario, 120, 40, false)
			h.keys(tc.typed)
			lines := strings.Split(strings.TrimRight(h.text(), "\n"), "\n")
			if got := ":" + string(h.ui.input); got != tc.prompt || lines[len(lines)-1] != strings.TrimSpace(tc.prompt) {
				t.Errorf("prompt %q, want %q", got, tc.prompt)
			}
			if got := strings.TrimSpace(lines[len(lines)-2]); tc.choices != "" && got != tc.choices {
				t.Errorf("above the prompt %q, want %q", got, tc.choices)
			}
		})
	}
}

// Every target Tab offers for a kind is one that :fault accepts: the
// candidates come from the scenario in sim.ParseTarget's forms, and are
// kept only when checkTarget takes them.
func TestCompletionsParse(t *testing.T) {
	for _, name := range []string{"checkout", "kafka-consumer-crash", "quorum-staleness", "monolith-vs-microservices", "cqrs-projection-lag"} {
		spec := loadSpec(t, name)
		kinds := completeFault(spec, []string{""})
		if strings.Join(kinds, " ") != strings.Join(sim.FaultKinds(), " ") {
			t.Fatalf("kinds %v, want sim.FaultKinds()", kinds)
		}
		for _, k := range kinds {
			kind, _ := faultKind(k)
			if kind == sim.FaultPartition {
				continue
			}
			for _, target := range completeFault(spec, []string{k, ""}) {
				line := "fault " + k + " " + target
				if u := faultUsage[kind]; u.value != "" {
					line += " " + strings.Fields(u.example)[2]
				}
				if _, err := parseCommand(line, spec); err != nil && strings.Contains(err.Error(), target) {
					t.Errorf("%s: Tab offers %q, which :%s refuses: %v", name, target, line, err)
				}
			}
		}
	}
}

// goto back in time replays only the faults injected before its target;
// the status line names the ones it dropped.
func TestGotoBackSaysWhatItDropped(t *testing.T) {
	h := newHarness(t, "checkout", 120, 40, false)
	h.command("goto 45s")
	h.command("fault crash payment#1 10s")
	h.command("goto 50s")
	h.command("fault errors cart 0.5")
	h.command("goto 60s")
	if got := lastLine(h.text()); got != "re-ran seed 1 to 60.0s; paused" {
		t.Errorf("forward: status %q", got)
	}
	h.command("goto 48s")
	if got, want := lastLine(h.text()), "re-ran seed 1 to 48.0s; paused; dropped errors cart 0.5 (injected at 50.0s)"; got != want {
		t.Errorf("back: status %q, want %q", got, want)
	}
	h.command("fault errors cart 0.5")
	h.command("fault pause payment 5s")
	h.command("goto 10s")
	h.text()
	if got, want := h.ui.status.text, "; dropped 3 faults injected after it: crash payment#1 10s (45.0s), errors cart 0.5 (48.0s), pause payment 5s (48.0s)"; !strings.HasSuffix(got, want) {
		t.Errorf("back: status %q, want %q", got, want)
	}
}

// A fault injected by hand shows in the event log, marked manual, at the
// time it was injected; a bad one is explained on the status line.
func TestInjectFault(t *testing.T) {
	for _, tc := range []struct {
		command string
		want    string // in the event log, or on the status line for an error
	}{
		{"fault crash payment#1 10s", "payment#1  fault crash (manual) started"},
		{"fault latency checkout->payment 500ms 30s", "checkout->payment  fault latency +500ms (manual) started"},
		{"fault errors payment 0.5 20s", "payment  fault errors 50% (manual) started"},
		{"fault pause payment 5s", "payment  fault pause (manual) started"},
		{"fault slowdown payment#3 4 30s", "payment#3  fault slowdown x4 (manual) started"},
		{"fault throttle cart 25%", "cart  fault throttle 25% (manual) started"},
		{"fault surge shoppers 2 10s", "shoppers  fault surge x2 (manual) started"},
		{"fault latency payment uniform(5ms, 15ms) 10s", "payment  fault latency +uniform(5ms, 15ms) (manual) started"},
		{"fault crash paymnet 10s", `error: no service "paymnet"`},
		{"fault crash payment#4", "error: payment has instances #1 to #3"},
		{"fault errors payment 2 10s", `error: errors "2": want a share such as 0.5 or 50%`},
		{"fault latency checkout->fraud 1s", "error: no call checkout->fraud"},
		{"fault crash checkout->payment", "error: a crash fault cannot target a link: it takes a service or gateway"},
		{"fault melt payment", `error: unknown fault kind "melt"`},
		{"fault latency payment", "error: usage: :fault latency TARGET ADD [DURATION]"},
		{"fault crash payment soon", `error: duration "soon"`},
	} {
		t.Run(tc.command, func(t *testing.T) {
			h := newHarness(t, "checkout", 160, 48, false)
			h.command("goto 45s")
			h.command(tc.command)
			s := h.text()
			if strings.HasPrefix(tc.want, "error: ") {
				if got := lastLine(s); !strings.HasPrefix(got, tc.want) {
					t.Errorf("status line %q, want %q", got, tc.want)
				}
				return
			}
			if !strings.Contains(squeeze(s), squeeze("45.000s "+tc.want)) {
				t.Errorf("event log lacks %q:\n%s", tc.want, s)
			}
			if !strings.Contains(header(s), "faults active: 2") {
				t.Errorf("header %q: want 2 active faults", header(s))
			}
			if !strings.HasPrefix(lastLine(s), "injected ") {
				t.Errorf("status line %q", lastLine(s))
			}
		})
	}
}

// Faults on the data components: broker nodes, store replicas, views and
// topics.
func TestInjectDataFault(t *testing.T) {
	for _, tc := range []struct {
		scenario, command, want string
	}{
		{"kafka-consumer-crash", "fault crash kafka#1 10s", "kafka#1 fault crash (manual) started"},
		{"kafka-consumer-crash", "fault leader_loss orders", "orders fault leader_loss (manual) started"},
		{"kafka-consumer-crash", "fault pause kafka 5s", "kafka fault pause (manual) started"},
		{"quorum-staleness", "fault skew fast#2 -5s 20s", "fast#2 fault clock skew -5s (manual) started"},
		{"quorum-staleness", "fault partition fast#1 fast#2,fast#3 10s", "network fault partition [fast#1] | [fast#2 fast#3] both ways (manual) started"},
		{"cqrs-projection-lag", "fault crash order-history 10s", "order-history fault crash (manual) started"},
		{"kafka-consumer-crash", "fault crash kafka#4", "error: kafka has nodes #1 to #3"},
		{"kafka-consumer-crash", "fault skew kafka#1 2s", "error: a skew fault cannot target a broker node: it takes a store"},
		{"kafka-consumer-crash", "fault leader_loss ordres", `error: leader_loss: no topic "ordres"`},
		{"quorum-staleness", "fault errors fast 0.5", "error: a errors fault cannot target a store: it takes a service"},
		{"monolith-vs-microservices", "fault deploy shop 2", "shop fault deploy (batches of 2) (manual) started"},
		{"monolith-vs-microservices", "fault leak shop#1 0.5 30s", "shop#1 fault leak +50% a minute up to x3 (manual) started"},
		{"monolith-vs-microservices", "fault dependency payment-api 30% 10s", "payment-api fault dependency brownout errors 30% (manual) started"},
		{"monolith-vs-microservices", "fault slowdown shop.search 5 10s", "shop.search fault slowdown x5 (manual) started"},
		{"monolith-vs-microservices", "fault slowdown shop.serch 5", `error: shop has no operation "serch"`},
		{"monolith-vs-microservices", "fault deploy shop 1 10s", "error: a deploy takes no duration"},
	} {
		t.Run(tc.command, func(t *testing.T) {
			h := newHarness(t, tc.scenario, 160, 48, false)
			h.command("goto 20s")
			h.command(tc.command)
			s := h.text()
			if strings.HasPrefix(tc.want, "error: ") {
				if got := lastLine(s); !strings.HasPrefix(got, tc.want) {
					t.Errorf("status line %q, want %q", got, tc.want)
				}
				return
			}
			if !strings.Contains(squeeze(s), squeeze("20.000s "+tc.want)) {
				t.Errorf("event log lacks %q:\n%s", tc.want, s)
			}
		})
	}
}

// goto re-runs the same seed, replaying the faults injected before its
// target, so that going back shows the run that was seen.
func TestGotoReplaysManualFaults(t *testing.T) {
	h := newHarness(t, "checkout", 160, 48, false)
	h.command("goto 45s")
	h.command("fault crash payment#1 10s")
	const ev = "45.000s payment#1 fault crash (manual) started"
	h.command("goto 60s")
	s := squeeze(h.text())
	if !strings.Contains(s, ev) || !strings.Contains(s, "payment#1 fault crash (manual) ended") {
		t.Fatalf("goto forward lost the injection:\n%s", s)
	}
	h.command("goto 30s")
	h.command("goto 60s")
	if strings.Contains(squeeze(h.text()), ev) {
		t.Error("going back before the injection should forget it")
	}
	h.command("fault crash payment#1 10s")
	h.keys("r")
	h.command("goto 60s")
	if strings.Contains(h.text(), "(manual)") {
		t.Error("a restart should forget the injections")
	}
}

func TestFilterAndSort(t *testing.T) {
	h := newHarness(t, "checkout", 80, 40, false) // tall enough that the whole table shows
	h.command("goto 45s")
	h.keys("/pay")
	s := h.text()
	if !strings.Contains(s, `filter "pay": 1 of 8`) || strings.Contains(s, "● catalog") {
		t.Errorf("typing a filter should narrow the table:\n%s", s)
	}
	if !strings.HasPrefix(lastLine(s), "/pay") {
		t.Errorf("status line %q, want the prompt", lastLine(s))
	}
	h.keys("<Enter>")
	if s := h.text(); !strings.Contains(s, "payment · service") {
		t.Errorf("the only match should be selected:\n%s", s)
	}
	h.keys("<Esc>")
	if s := h.text(); !strings.Contains(s, "● catalog") || strings.Contains(s, "filter") && !strings.Contains(s, "filter cleared") {
		t.Errorf("Esc should clear the filter:\n%s", s)
	}
	h.keys("/zzz<Enter>")
	if s := h.text(); !strings.Contains(s, `nothing matches "zzz"`) {
		t.Errorf("an empty result should say so:\n%s", s)
	}
	h.keys("<Esc>")

	// Sorting: E puts the worst error share first, again reverses; N sorts
	// by name; O restores scenario order.
	firstRow := func() string {
		for _, l := range strings.Split(h.text(), "\n") {
			if strings.HasPrefix(l, "● ") {
				return strings.Fields(l)[1]
			}
		}
		return ""
	}
	for _, tc := range []struct{ keys, first string }{
		{"E", "checkout"}, {"E", "catalog"}, {"N", "cart"}, {"N", "shoppers"},
		{"P", "payment"}, {"U", "payment"}, {"T", "shoppers"}, {"T", "fraud"}, {"O", "shoppers"},
	} {
		h.keys(tc.keys)
		if got := firstRow(); got != tc.first {
			t.Errorf("after %s the first row is %q, want %q", tc.keys, got, tc.first)
		}
	}
}

func TestSelectionAndFocus(t *testing.T) {
	h := newHarness(t, "checkout", 80, 24, false)
	h.command("goto 45s")
	h.keys("jjjjj")
	if s := h.text(); !strings.Contains(s, "── payment · service · 3/3 up · failing") {
		t.Errorf("j should move the selection down to payment:\n%s", s)
	}
	h.keys("k<Up>")
	if s := h.text(); !strings.Contains(s, "── cart · service") {
		t.Errorf("k and Up should move it back up:\n%s", s)
	}
	h.keys("<Tab>")
	s := h.text()
	if !strings.Contains(s, "━━ events") || !strings.Contains(s, "── components") {
		t.Errorf("Tab should focus the event log:\n%s", s)
	}
	h.keys("kk")
	if s := h.text(); !strings.Contains(s, "2 newer below") || !strings.Contains(s, "── cart · service") {
		t.Errorf("k in the event log should scroll it, not move the selection:\n%s", s)
	}
	h.keys("<End><Tab>")
	if s := h.text(); !strings.Contains(s, "━━ components") || strings.Contains(s, "newer below") {
		t.Errorf("End should follow the log, Tab go back to the table:\n%s", s)
	}
}

func TestQuit(t *testing.T) {
	for _, keys := range []string{"q", ":q<Enter>", "<C-c>", ":fault<C-c>", "?<C-c>"} {
		h := newHarness(t, "checkout", 80, 24, false)
		h.keys(keys)
		if !h.quit {
			t.Errorf("%s did not quit", keys)
		}
	}
	h := newHarness(t, "checkout", 80, 24, false)
	h.keys("?q")
	if h.quit || h.ui.help {
		t.Error("q in the help overlay should close it, not quit")
	}
}

// Below 80x24 a message replaces the layout; growing the terminal brings
// the layout back, and a large one gets the topology pane.
func TestResize(t *testing.T) {
	h := newHarness(t, "checkout", 79, 24, false)
	h.command("goto 45s")
	if s := h.text(); !strings.Contains(s, "at least 80x24") || !strings.Contains(s, "this one is 79x24") {
		t.Errorf("too small:\n%s", s)
	}
	h.screen.SetSize(80, 24)
	if s := h.text(); strings.Contains(s, "at least") || !strings.Contains(s, "components") || strings.Contains(s, "topology ─") {
		t.Errorf("80x24:\n%s", s)
	}
	h.screen.SetSize(160, 48)
	if s := h.text(); !strings.Contains(s, "── topology ─") {
		t.Errorf("160x48 should show the topology:\n%s", s)
	}
}

// Health is a colour, or with NO_COLOR a marker and no colour at all.
func TestHealthStyles(t *testing.T) {
	for _, tc := range []struct {
		noColor bool
		text    string
		fg      tcell.Color
	}{
		{false, "● payment", colFailing},
		{false, "● catalog", colHealthy},
		{true, "✗ payment", tcell.ColorDefault},
		{true, "✓ catalog", tcell.ColorDefault},
		{true, "✗ frontend", tcell.ColorDefault},
	} {
		h := newHarness(t, "checkout", 80, 24, tc.noColor)
		h.command("goto 45s")
		h.text()
		st, ok := styleAt(h.screen, tc.text)
		if !ok {
			t.Errorf("no %q on screen", tc.text)
			continue
		}
		if fg, _, _ := st.Decompose(); fg != tc.fg {
			t.Errorf("%q: foreground %v, want %v", tc.text, fg, tc.fg)
		}
	}
	// With NO_COLOR no cell has a colour.
	h := newHarness(t, "checkout", 160, 48, true)
	h.command("goto 45s")
	h.text()
	cells, _, _ := h.screen.GetContents()
	for _, c := range cells {
		if fg, bg, _ := c.Style.Decompose(); fg != tcell.ColorDefault || bg != tcell.ColorDefault {
			t.Fatalf("a coloured cell %q with NO_COLOR: %v on %v", string(c.Runes), fg, bg)
		}
	}
}

// An open breaker marks its callee failing and its caller degraded, and
// the detail pane shows the Hystrix row.
func TestBreaker(t *testing.T) {
	h := newHarness(t, "breaker-saves-checkout", 160, 48, false)
	h.command("goto 40s")
	s := h.text()
	if !strings.Contains(s, "OPEN") {
		t.Skipf("the breaker is not open at 40s in this scenario:\n%s", s)
	}
	h.keys("/checkout<Enter>")
	s = h.text()
	if !strings.Contains(s, "⚡ checkout->payment [") || !strings.Contains(s, " ok ") || !strings.Contains(s, " sc ") {
		t.Errorf("no Hystrix row for checkout->payment:\n%s", s)
	}
	rs := rows(&h.ui.frame)
	for _, r := range rs {
		if r.hasBreaker && r.breaker == resilience.Open && r.health < sim.Degraded {
			t.Errorf("%s calls through an open breaker but is %v", r.name, r.health)
		}
	}
}

// The detail pane lists the selection's calls with their latency as the
// caller saw them in the last window (scenarios.md, "Latency").
func TestCallLatencyRows(t *testing.T) {
	h := newHarness(t, "checkout", 160, 48, false)
	h.command("goto 45s")
	h.keys("/frontend<Enter>")
	s := h.text()
	for _, want := range []string{"→ frontend->catalog │ p50 ", "→ frontend->cart │ p50 ", "ms · all p99 "} {
		if !strings.Contains(s, want) {
			t.Errorf("no %q in the detail pane:\n%s", want, s)
		}
	}
}

// detailGatewayTOML is a gateway with four edges: its ext_authz check, its
// route's to and the route's two backends.
const detailGatewayTOML = `
[scenario]
name = "detail-gateway"
duration = "30s"

[[client]]
name = "users"
target = "edge"
rate = 50

[[gateway]]
name = "edge"

  [gateway.ext_authz]
  service = "auth"

  [[gateway.route]]
  path = "/home"
  to = "profile"

    [[gateway.route.backend]]
    to = "orders"
    required = true

    [[gateway.route.backend]]
    to = "recommendations"

[[service]]
name = "auth"
service_time = "exp(2ms)"

[[service]]
name = "profile"
service_time = "exp(5ms)"

[[service]]
name = "orders"
service_time = "exp(5ms)"

[[service]]
name = "recommendations"
service_time = "exp(8ms)"
`

// TestDetailListsEveryEdge: the detail pane of a gateway lists every edge
// it calls, its ext_authz service and its route's backends with the
// route's own to: all four at 120x40, one a row, and at 80x24, where the
// pane keeps two edge rows, the last of them names the edges left. The
// old pane listed two edges at any size.
func TestDetailListsEveryEdge(t *testing.T) {
	spec, err := scenarios.Load("detail-gateway.toml", []byte(detailGatewayTOML))
	if err != nil {
		t.Fatal(err)
	}
	edges := []string{"auth", "profile", "orders", "recommendations"}
	for _, tc := range []struct{ w, h int }{{120, 40}, {80, 24}} {
		t.Run(fmt.Sprintf("%dx%d", tc.w, tc.h), func(t *testing.T) {
			h := specHarness(t, "detail-gateway", spec, tc.w, tc.h, false)
			h.command("goto 10s")
			for i := 0; i < 6 && h.ui.selected != "edge"; i++ {
				h.keys("<Down>")
			}
			if h.ui.selected != "edge" {
				t.Fatalf("selected %q, want the gateway", h.ui.selected)
			}
			screen := h.text()
			for _, to := range edges {
				if !strings.Contains(screen, "→ edge->"+to+" ") && !strings.Contains(screen, "→ "+to+" p99") {
					t.Errorf("the detail pane does not list edge->%s:\n%s", to, screen)
				}
			}
			if tc.w == 120 {
				golden(t, fmt.Sprintf("detail_gateway_%dx%d.golden", tc.w, tc.h), screen)
			}
		})
	}
}

// breakerOnOperationTOML: front calls one operation of pay through a
// breaker, so that the edge is named "front->pay.charge".
const breakerOnOperationTOML = `
[scenario]
name = "breaker-on-operation"
duration = "30s"

[[client]]
name = "users"
target = "front"
rate = 50

[[service]]
name = "front"
service_time = "exp(2ms)"

  [[service.call]]
  to = "pay.charge"
  timeout = "1s"

  [service.call.circuit_breaker]
  sliding_window_size = 20

[[service]]
name = "pay"

  [[service.operation]]
  name = "charge"
  service_time = "exp(5ms)"
`

// TestDetailListsOperationEdges: the detail pane lists the selection's
// edges by who calls what (sim.EdgeID), whatever operation is called or
// calling: a monolith's call made by one of its operations
// ("shop.checkout->payment-api", listed for shop), and a breaker on a call
// to an operation of the selection ("front->pay.charge", listed for pay).
// It cut the name at "->" and compared "shop.checkout" and "pay.charge"
// with the selection, and listed neither.
func TestDetailListsOperationEdges(t *testing.T) {
	for _, tc := range []struct {
		scenario, toml string
		selected, want string
	}{
		{"monolith-vs-microservices", "", "shop", "→ shop.checkout->payment-api "},
		{"breaker-on-operation", breakerOnOperationTOML, "pay", "⚡ front->pay.charge "},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			var spec *sim.Spec
			if tc.toml == "" {
				spec = loadSpec(t, tc.scenario)
			} else {
				var err error
				if spec, err = scenarios.Load(tc.scenario+".toml", []byte(tc.toml)); err != nil {
					t.Fatal(err)
				}
			}
			h := specHarness(t, tc.scenario, spec, 160, 48, false)
			h.command("goto 20s")
			for i := 0; i < 20 && h.ui.selected != tc.selected; i++ {
				h.keys("<Down>")
			}
			if h.ui.selected != tc.selected {
				t.Fatalf("selected %q, want %q", h.ui.selected, tc.selected)
			}
			if screen := h.text(); !strings.Contains(screen, tc.want) {
				t.Errorf("the detail pane of %s lacks %q:\n%s", tc.selected, tc.want, screen)
			}
		})
	}
}

// casBreakerTOML: app reads a key of db and writes it back with a
// compare-and-set, through a breaker; writers on one key conflict.
const casBreakerTOML = `
[scenario]
name = "cas-breaker"
duration = "30s"
warmup = "2s"
seed = 1

[[client]]
name = "writers"
target = "app"
rate = 400

[[service]]
name = "app"
instances = 2
workers = 64
service_time = "exp(1ms)"

  [[service.call]]
  to = "db"
  op = "read"
  key = "request"

  [[service.call]]
  to = "db"
  op = "conditional_write"
  key = "request"

  [service.call.circuit_breaker]
  sliding_window_size = 50
  failure_rate_threshold = 90

[[store]]
name = "db"
replicas = 3
keys = 1
`

// TestBreakerRowReadsEngineWindows: a breaker row's counts are the
// engine's windows of its own edge over Hystrix's 10 s rolling window
// (the windows are its buckets), in the engine's split: conflicts are
// failures, as the edge's verdict counts them. The row summed the
// cumulative totals of every operation of the call to the store (the
// reads' successes on the write's row) and left conflicts out of the
// share; after a goto its first frame said "total".
func TestBreakerRowReadsEngineWindows(t *testing.T) {
	spec, err := scenarios.Load("cas-breaker.toml", []byte(casBreakerTOML))
	if err != nil {
		t.Fatal(err)
	}
	h := specHarness(t, "cas-breaker", spec, 250, 48, false)
	h.command("goto 20s")
	for i := 0; i < 5 && h.ui.selected != "app"; i++ {
		h.keys("<Down>")
	}
	if h.ui.selected != "app" {
		t.Fatalf("selected %q, want app", h.ui.selected)
	}
	res := h.ui.frame.Snap.Result
	var write *sim.EdgeResult
	for i := range res.Edges {
		if res.Edges[i].ID.Op == sim.OpConditionalWrite {
			write = &res.Edges[i]
		}
	}
	if write == nil || write.Conflict == 0 {
		t.Fatalf("no conflicts on the write: %+v", write)
	}
	// The windows that end in (10s, 20s]: 10 of them.
	var ok, errs, timeouts, rejected, sc uint64
	for _, w := range write.Series {
		if w.End > 10*time.Second {
			ok, errs, timeouts, rejected = ok+w.OK, errs+w.Errors, timeouts+w.Timeouts, rejected+w.Rejected
			sc += w.Edge().ShortCircuited
		}
	}
	n := ok + errs + timeouts + rejected
	want := fmt.Sprintf("10.0s: err %s ok %d sc %d to %d rej %d fail %d", pct(float64(n-ok)/float64(n)), ok, sc, timeouts, rejected, errs-sc)
	if errs == 0 {
		t.Fatalf("no failed writes in the last 10 s: the test shows nothing")
	}
	if screen := h.text(); !strings.Contains(screen, "⚡ app->db (conditional_write) ") || !strings.Contains(screen, want) {
		t.Errorf("the breaker row lacks %q:\n%s", want, screen)
	}
}

// halfOpenTOML: each of front's two instances holds its own breaker on
// its calls to pay; a latency fault on pay makes the calls slow, so the
// breakers open on their slow-call rate and spend their trial calls'
// time half-open.
const halfOpenTOML = `
[scenario]
name = "half-open"
duration = "30s"

[[client]]
name = "users"
target = "front"
rate = 40

[[service]]
name = "front"
instances = 2
workers = 200
service_time = "1ms"

  [[service.call]]
  to = "pay"
  timeout = "2s"

  [service.call.circuit_breaker]
  sliding_window_size = 10
  minimum_number_of_calls = 5
  slow_call_rate_threshold = 50
  slow_call_duration_threshold = "100ms"
  wait_duration_in_open_state = "500ms"
  permitted_number_of_calls_in_half_open_state = 3

[[service]]
name = "pay"
workers = 200
service_time = "1ms"

[[fault]]
kind = "latency"
target = "pay"
add = "400ms"
start = "5s"
duration = "20s"
`

// TestBreakerRowCountsHalfOpenAsOpen: a per-instance breaker row says
// how many of the breakers count as open by the engine's rule, which
// counts a half-open breaker as open (sim's breakerOpen: Hystrix's
// isOpen() holds in half-open). Before, the row read "[HALF_OPEN] 0/2
// open" while the engine judged the edge failing on that open breaker.
func TestBreakerRowCountsHalfOpenAsOpen(t *testing.T) {
	spec, err := scenarios.Load("half-open.toml", []byte(halfOpenTOML))
	if err != nil {
		t.Fatal(err)
	}
	h := specHarness(t, "half-open", spec, 160, 48, false)
	for i := 0; i < 5 && h.ui.selected != "pay"; i++ {
		h.keys("<Down>")
	}
	seen := 0
	for at := 5 * time.Second; at < 25*time.Second; at += 50 * time.Millisecond {
		h.command("goto " + at.String())
		var e *sim.EdgeResult
		for i := range h.ui.frame.Snap.Result.Edges {
			if x := &h.ui.frame.Snap.Result.Edges[i]; x.Breakers == 2 {
				e = x
			}
		}
		if e == nil || e.BreakerState != resilience.HalfOpen {
			continue
		}
		seen++
		screen := h.text()
		row := ""
		for _, l := range strings.Split(screen, "\n") {
			if strings.Contains(l, "⚡") {
				row = l
			}
		}
		// The worst state is HALF_OPEN: none is open, one at least is
		// half-open, and counts as open.
		if e.BreakersOpen < 1 || !strings.Contains(row, fmt.Sprintf("[HALF_OPEN] %d/2 open", e.BreakersOpen)) {
			t.Fatalf("at %s: breaker row %q (%d of 2 counted open), want [HALF_OPEN] with 1 or 2 of 2 open", at, row, e.BreakersOpen)
		}
	}
	if seen == 0 {
		t.Fatal("no frame with the worst breaker half-open: the scenario does not test the row")
	}
	t.Logf("%d frames with a half-open breaker", seen)
}
