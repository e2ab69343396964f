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
