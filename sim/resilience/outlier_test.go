package resilience

import (
	"testing"
	"time"
)

const odSec = int64(time.Second)

// odRecord records results ('F' failed, 'S' succeeded) for host at now and
// reports whether any of them ejected it.
func odRecord(o *Outlier, now int64, host int, results string) (ejected bool) {
	for _, c := range results {
		if o.Record(now, host, c == 'F') {
			ejected = true
		}
	}
	return ejected
}

// odReturn runs the reviews until host is back and returns when it is.
func odReturn(t *testing.T, o *Outlier, host int) int64 {
	t.Helper()
	for range 1000 {
		now := o.NextReview()
		o.Review(now)
		if !o.Ejected(host) {
			return now
		}
	}
	t.Fatalf("host %d never returned", host)
	return 0
}

func TestOutlierConsecutive(t *testing.T) {
	type step struct {
		at      int64 // seconds; reviews due by then run first
		host    int
		results string
		eject   bool
	}
	tests := []struct {
		name      string
		cfg       OutlierConfig
		steps     []step
		ejections uint64
	}{
		{
			name:      "five failures eject",
			steps:     []step{{0, 0, "FFFF", false}, {0, 0, "F", true}},
			ejections: 1,
		},
		{
			name:      "a success resets the count",
			steps:     []step{{0, 0, "FFFFS", false}, {0, 0, "FFFF", false}, {0, 0, "F", true}},
			ejections: 1,
		},
		{
			name:      "hosts count apart",
			steps:     []step{{0, 0, "FFFF", false}, {0, 1, "SFFFF", false}, {0, 0, "F", true}},
			ejections: 1,
		},
		{
			name:      "consecutive_5xx 3",
			cfg:       OutlierConfig{Consecutive5xx: 3},
			steps:     []step{{0, 0, "FF", false}, {0, 0, "F", true}},
			ejections: 1,
		},
		{
			// Late results of an ejected host change nothing, even with room
			// to eject it again, and its count restarts when it returns (at
			// 30 s).
			name: "results while ejected are ignored",
			cfg:  OutlierConfig{MaxEjectionPercent: 100},
			steps: []step{
				{0, 0, "FFFFF", true}, {1, 0, "FFFFFSFFFF", false},
				{30, 0, "FFFF", false}, {30, 0, "F", true},
			},
			ejections: 2,
		},
		{
			// 10% of 10 hosts is one host; host 1 must wait for host 0 to
			// return, and its refused run does not carry over.
			name: "a refused ejection restarts the count",
			steps: []step{
				{0, 0, "FFFFF", true}, {0, 1, "FFFFF", false},
				{30, 1, "FFFF", false}, {30, 1, "F", true},
			},
			ejections: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewOutlier(tt.cfg, 10)
			for i, s := range tt.steps {
				o.Review(s.at * odSec)
				if got := odRecord(o, s.at*odSec, s.host, s.results); got != s.eject {
					t.Fatalf("step %d (%s on host %d at %ds): ejected %v, want %v", i, s.results, s.host, s.at, got, s.eject)
				}
				if s.eject && !o.Ejected(s.host) {
					t.Fatalf("step %d: host %d ejected but Ejected is false", i, s.host)
				}
			}
			if got := o.Ejections(); got != tt.ejections {
				t.Errorf("Ejections() = %d, want %d", got, tt.ejections)
			}
		})
	}
}

// TestOutlierEjectionTime ejects one host again and again, gap after each
// return, and checks how long each ejection lasted: min(multiplier × base,
// max), rounded up to the next review.
func TestOutlierEjectionTime(t *testing.T) {
	tests := []struct {
		name string
		cfg  OutlierConfig
		gap  int64   // seconds in service between ejections
		want []int64 // seconds out, ejection after ejection
	}{
		{
			// The multiplier climbs to 11 (11 × 30 s is not below 300 s +
			// 30 s), and the cap holds the time at 300 s.
			name: "Envoy defaults",
			want: []int64{30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 300, 300},
		},
		{
			// Ejected 1 s after a review, the host waits for the review
			// after its time is up.
			name: "off the review grid",
			gap:  1,
			want: []int64{39, 69, 99},
		},
		{
			name: "custom",
			cfg:  OutlierConfig{Interval: 5 * time.Second, BaseEjectionTime: 10 * time.Second, MaxEjectionTime: 25 * time.Second},
			want: []int64{10, 20, 25, 25, 25},
		},
		{
			name: "max below base",
			cfg:  OutlierConfig{BaseEjectionTime: 30 * time.Second, MaxEjectionTime: 20 * time.Second},
			want: []int64{30, 30, 30},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewOutlier(tt.cfg, 10)
			now := tt.gap * odSec
			for k, want := range tt.want {
				if !odRecord(o, now, 0, "FFFFF") {
					t.Fatalf("ejection %d at %v: not ejected", k+1, time.Duration(now))
				}
				back := odReturn(t, o, 0)
				if got := (back - now) / odSec; got != want {
					t.Fatalf("ejection %d at %v lasted %ds, want %ds", k+1, time.Duration(now), got, want)
				}
				now = back + tt.gap*odSec
			}
		})
	}
}

// TestOutlierDecay checks that a host in service for a whole interval is
// forgiven one ejection per review, with or without the engine calling
// Review while nothing is ejected.
func TestOutlierDecay(t *testing.T) {
	tests := []struct {
		prior int   // back-to-back ejections before the gap
		gap   int64 // seconds in service, a multiple of the 10 s interval
		want  int64 // seconds the next ejection lasts
	}{
		{1, 0, 60},    // no review in between: multiplier 2
		{1, 10, 30},   // forgiven: multiplier 0, then 1
		{2, 10, 60},   // 2 - 1 + 1
		{2, 20, 30},   // 2 - 2 + 1
		{3, 10, 90},   // 3 - 1 + 1
		{12, 10, 300}, // 11 - 1 + 1, capped at 300 s
		{12, 30, 270}, // 11 - 3 + 1
	}
	for _, tt := range tests {
		for _, reviewed := range []bool{true, false} {
			o := NewOutlier(DefaultOutlierConfig(), 10)
			now := int64(0)
			for range tt.prior {
				odRecord(o, now, 0, "FFFFF")
				now = odReturn(t, o, 0)
			}
			end := now + tt.gap*odSec
			for reviewed && o.NextReview() <= end {
				o.Review(o.NextReview())
			}
			if !odRecord(o, end, 0, "FFFFF") {
				t.Fatalf("prior %d, gap %ds: not ejected", tt.prior, tt.gap)
			}
			if got := (odReturn(t, o, 0) - end) / odSec; got != tt.want {
				t.Errorf("prior %d, gap %ds, reviewed %v: ejection lasted %ds, want %ds", tt.prior, tt.gap, reviewed, got, tt.want)
			}
		}
	}
}

// TestOutlierReview ejects host 0 at 0 s and host 1 at 15 s (each for 30 s)
// and reviews at various times: each host returns at the first review at
// or after its time, however the reviews are spaced, and a Record that
// replays a review leaves its returns for Review to report.
func TestOutlierReview(t *testing.T) {
	tests := []struct {
		name        string
		reviews     []int64 // seconds
		want        []int
		recordFirst bool // a result on host 2 comes just before each review
	}{
		{"every interval", []int64{10, 20, 30, 40, 50}, []int{0, 0, 1, 0, 1}, false},
		{"late", []int64{35, 60}, []int{1, 1}, false},
		{"once", []int64{100}, []int{2}, false},
		{"record replays", []int64{35, 60}, []int{1, 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewOutlier(OutlierConfig{MaxEjectionPercent: 100}, 10)
			odRecord(o, 0, 0, "FFFFF")
			odRecord(o, 15*odSec, 1, "FFFFF")
			if got := o.EjectedCount(); got != 2 {
				t.Fatalf("EjectedCount() = %d, want 2", got)
			}
			out := 2
			for i, at := range tt.reviews {
				now := at * odSec
				if tt.recordFirst {
					o.Record(now, 2, false)
				}
				got := o.Review(now)
				if got != tt.want[i] {
					t.Errorf("Review(%ds) = %d, want %d", at, got, tt.want[i])
				}
				out -= got
				if o.EjectedCount() != out {
					t.Errorf("after Review(%ds): EjectedCount() = %d, want %d", at, o.EjectedCount(), out)
				}
				if next := o.NextReview(); next <= now || next%(10*odSec) != 0 {
					t.Errorf("after Review(%ds): NextReview() = %v, want the next multiple of 10s", at, time.Duration(next))
				}
			}
		})
	}
}

// TestOutlierMaxEjectionPercent fails every host and counts the ejections.
// Envoy ejects while (ejected + 1) / hosts is at most max_ejection_percent,
// so 10% of fewer than 10 hosts ejects nothing unless always_eject_one_host.
func TestOutlierMaxEjectionPercent(t *testing.T) {
	tests := []struct {
		hosts   int
		percent float64
		always  bool
		want    int
	}{
		{10, 10, false, 1},
		{20, 10, false, 2},
		{19, 10, false, 1},
		{3, 10, false, 0},
		{3, 10, true, 1},
		{20, 10, true, 2}, // always_eject_one_host adds nothing once one is out
		{3, 50, false, 1},
		{4, 50, false, 2},
		{5, 100, false, 5},
		{5, 250, false, 5}, // capped at 100
	}
	for _, tt := range tests {
		o := NewOutlier(OutlierConfig{MaxEjectionPercent: tt.percent, AlwaysEjectOneHost: tt.always}, tt.hosts)
		for h := range tt.hosts {
			odRecord(o, 0, h, "FFFFF")
		}
		if got := o.EjectedCount(); got != tt.want {
			t.Errorf("%d hosts, %v%%, always %v: %d ejected, want %d", tt.hosts, tt.percent, tt.always, got, tt.want)
		}
		if got, want := o.Overflows(), uint64(tt.hosts-tt.want); got != want {
			t.Errorf("%d hosts, %v%%, always %v: Overflows() = %d, want %d", tt.hosts, tt.percent, tt.always, got, want)
		}
	}
}

func TestOutlierResize(t *testing.T) {
	o := NewOutlier(DefaultOutlierConfig(), 10)
	odRecord(o, 0, 9, "FFFFF")
	o.Resize(5)
	if o.EjectedCount() != 0 || o.Ejected(9) {
		t.Fatalf("after removing host 9: EjectedCount() = %d, Ejected(9) = %v", o.EjectedCount(), o.Ejected(9))
	}
	o.Resize(20)
	// Host 9 is back with a clean record (multiplier 0), and 20 hosts allow
	// two ejections.
	for _, h := range []int{9, 15} {
		if !odRecord(o, 0, h, "FFFFF") {
			t.Fatalf("host %d not ejected after growing to 20 hosts", h)
		}
	}
	if got := (odReturn(t, o, 9) - 0) / odSec; got != 30 {
		t.Errorf("re-added host 9 was out %ds, want 30s", got)
	}
	if o.Ejected(25) {
		t.Errorf("Ejected(25) = true for an untracked host")
	}
}

func TestOutlierDefaults(t *testing.T) {
	want := OutlierConfig{
		Consecutive5xx:     5,
		Interval:           10 * time.Second,
		BaseEjectionTime:   30 * time.Second,
		MaxEjectionTime:    300 * time.Second,
		MaxEjectionPercent: 10,
	}
	if got := DefaultOutlierConfig(); got != want {
		t.Errorf("DefaultOutlierConfig() = %+v, want Envoy's %+v", got, want)
	}
	tests := []struct {
		name string
		cfg  OutlierConfig
	}{
		{"zero", OutlierConfig{}},
		{"negative", OutlierConfig{Consecutive5xx: -1, Interval: -1, BaseEjectionTime: -1, MaxEjectionTime: -1, MaxEjectionPercent: -1}},
	}
	for _, tt := range tests {
		got, def := NewOutlier(tt.cfg, 4), NewOutlier(want, 4)
		if got.consecutive != def.consecutive || got.interval != def.interval || got.base != def.base ||
			got.max != def.max || got.maxPercent != def.maxPercent || got.NextReview() != def.NextReview() {
			t.Errorf("%s config: %+v, want the defaults %+v", tt.name, *got, *def)
		}
	}
}

func TestOutlierAllocs(t *testing.T) {
	o := NewOutlier(OutlierConfig{MaxEjectionPercent: 50}, 10)
	now, host := int64(0), 0
	if a := testing.AllocsPerRun(1000, func() {
		now += odSec
		host = (host + 1) % 10
		odRecord(o, now, host, "FFFFF")
		o.Record(now, (host+5)%10, false)
		o.Review(now)
	}); a != 0 {
		t.Errorf("Record and Review allocate %.1f times per call", a)
	}
	if o.Ejections() == 0 {
		t.Errorf("the allocation test ejected nothing")
	}
}
