package tui

import (
	"fmt"
	"testing"
)

// The golden screens: checkout re-run to 45 s (five seconds into payment's
// latency fault) and paused, at the smallest supported size and a large
// one, in colour and with NO_COLOR's markers.
func TestGoldenScreens(t *testing.T) {
	for _, tc := range []struct {
		w, h    int
		noColor bool
		keys    string
	}{
		{80, 24, false, ""},
		{160, 48, false, ""},
		{80, 24, true, ""},
		{80, 24, false, "t"},
		{120, 40, false, ""},
	} {
		name := fmt.Sprintf("checkout_%dx%d", tc.w, tc.h)
		if tc.noColor {
			name += "_nocolor"
		}
		if tc.keys == "t" {
			name += "_topology"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, "checkout", tc.w, tc.h, tc.noColor)
			h.command("goto 45s")
			h.keys(tc.keys)
			golden(t, name+".golden", h.text())
		})
	}
}

// The consistency pane and the data components in the topology:
// kafka-consumer-crash at 47 s, during the rebalance that follows the
// session timeout of billing#2, and quorum-staleness in its partition.
func TestGoldenDataScreens(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		at       string
		w, h     int
	}{
		{"kafka-consumer-crash", "47s", 80, 24},
		{"kafka-consumer-crash", "47s", 160, 48},
		{"quorum-staleness", "40s", 160, 48},
		{"order-saga", "45s", 120, 40},
	} {
		name := fmt.Sprintf("%s_%dx%d", tc.scenario, tc.w, tc.h)
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, tc.scenario, tc.w, tc.h, false)
			h.command("goto " + tc.at)
			golden(t, name+".golden", h.text())
		})
	}
}
