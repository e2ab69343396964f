package format

import "testing"

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		f    func(float64) string
		x    float64
		want string
	}{
		{Ms, 0, "0"}, {Ms, 0.1234, "0.123"}, {Ms, 1.234, "1.23"}, {Ms, 12.34, "12.3"}, {Ms, 123.4, "123"},
		{Rate, 0.5, "0.5"}, {Rate, 99.94, "99.9"}, {Rate, 150.4, "150"},
	} {
		if got := tt.f(tt.x); got != tt.want {
			t.Errorf("%g -> %q, want %q", tt.x, got, tt.want)
		}
	}
}
