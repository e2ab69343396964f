package suggest

import "testing"

func TestSuggest(t *testing.T) {
	keys := []string{"name", "instances", "workers", "queue", "service_time", "after_calls", "errors", "call"}
	tests := []struct{ word, want string }{
		{"servce_time", "service_time"},
		{"Instances", "instances"},
		{"SERVICE_TIME", "service_time"},
		{"worker", "workers"},
		{"service", "service_time"}, // a prefix
		{"after_calls_share", "after_calls"},
		{"calls", "call"},
		{"colour", ""},
		{"x", ""}, // one edit away from nothing useful
		{"nm", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Closest(tt.word, keys); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
	if got := Closest("anything", nil); got != "" {
		t.Errorf("suggest with no candidates = %q", got)
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"kitten", "sitting", 3},
		{"latncy", "latency", 1},
		{"flaw", "lawn", 2},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
