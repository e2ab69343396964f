package format

import "testing"

func TestNumbers(t *testing.T) {
	for _, tt := range []struct {
		name string
		f    func(float64) string
		x    float64
		want string
	}{
		{"Sig3 zero", Sig3, 0, "0"},
		{"Sig3 below 0.001", Sig3, 0.00012345, "0.00012"},
		{"Sig3 below 1", Sig3, 0.1234, "0.123"},
		{"Sig3 below 10", Sig3, 1.234, "1.23"},
		{"Sig3 below 100", Sig3, 12.34, "12.3"},
		{"Sig3 from 100", Sig3, 123.4, "123"},
		{"Sig3 negative", Sig3, -12.34, "-12.3"},
		{"Ms zero", Ms, 0, "0"},
		{"Ms a microsecond", Ms, 0.001, "0.001"},
		{"Ms under a microsecond", Ms, 1e-06, "<0.001"},
		{"Ms as Sig3 above", Ms, 12.34, "12.3"},
		{"Rate below 100", Rate, 0.5, "0.5"},
		{"Rate rounds", Rate, 99.94, "99.9"},
		{"Rate from 100", Rate, 150.4, "150"},
		{"Percent all", Percent, 1, "100%"},
		{"Percent 99.9 on", Percent, 0.99954, "99.95%"},
		{"Percent below 99.9", Percent, 0.9954, "99.5%"},
		{"Percent none", Percent, 0, "0.0%"},
		{"PercentFine all", PercentFine, 1, "100%"},
		{"PercentFine 99.9 on", PercentFine, 0.99954, "99.954%"},
		{"PercentFine 99 on", PercentFine, 0.9954, "99.54%"},
		{"PercentFine middle", PercentFine, 0.5, "50.0%"},
		{"PercentFine below 1", PercentFine, 0.005, "0.50%"},
		{"PercentFine below 0.1", PercentFine, 0.00012, "0.012%"},
		{"PercentFine none", PercentFine, 0, "0.00%"},
		{"PercentShort none", PercentShort, 0, "0%"},
		{"PercentShort below 1", PercentShort, 0.0012, "0.12%"},
		{"PercentShort below 10", PercentShort, 0.054, "5.4%"},
		{"PercentShort from 10", PercentShort, 0.456, "46%"},
	} {
		if got := tt.f(tt.x); got != tt.want {
			t.Errorf("%s: %g -> %q, want %q", tt.name, tt.x, got, tt.want)
		}
	}
}

func TestPlural(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want string
	}{
		{0, "0 variants"}, {1, "1 variant"}, {2, "2 variants"},
	} {
		if got := Plural(tt.n, "variant"); got != tt.want {
			t.Errorf("Plural(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestOrList(t *testing.T) {
	for _, tt := range []struct {
		words []string
		want  string
	}{
		{nil, ""}, {[]string{"a"}, "a"}, {[]string{"a", "b"}, "a or b"}, {[]string{"a", "b", "c"}, "a, b or c"},
	} {
		if got := OrList(tt.words); got != tt.want {
			t.Errorf("OrList(%q) = %q, want %q", tt.words, got, tt.want)
		}
	}
}

func TestTVis(t *testing.T) {
	for _, tt := range []struct {
		name   string
		ms     float64 // < 0: none
		atMost bool
		want   string
	}{
		{"read on the curve", 3.214, false, "3.21ms"},
		{"there at the first point", 1, true, "<=30.2ms"},
		{"never there", -1, false, ">19.6s"},
	} {
		ms := &tt.ms
		if tt.ms < 0 {
			ms = nil
		}
		if got := TVis(ms, tt.atMost, 30.2, 19600); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
