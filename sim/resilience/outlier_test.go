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
				got, _ := o.Review(now)
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
		Consecutive5xx:                 5,
		Interval:                       10 * time.Second,
		BaseEjectionTime:               30 * time.Second,
		MaxEjectionTime:                300 * time.Second,
		MaxEjectionPercent:             10,
		Enforcing:                      DetectConsecutive5xx | DetectSuccessRate,
		SuccessRateMinimumHosts:        5,
		SuccessRateRequestVolume:       100,
		SuccessRateStdevFactor:         1900,
		FailurePercentageThreshold:     85,
		FailurePercentageMinimumHosts:  5,
		FailurePercentageRequestVolume: 50,
	}
	if got := DefaultOutlierConfig(); got != want {
		t.Errorf("DefaultOutlierConfig() = %+v, want Envoy's %+v", got, want)
	}
	tests := []struct {
		name string
		cfg  OutlierConfig
	}{
		{"zero", OutlierConfig{}},
		{"negative", OutlierConfig{Consecutive5xx: -1, Interval: -1, BaseEjectionTime: -1, MaxEjectionTime: -1, MaxEjectionPercent: -1,
			SuccessRateMinimumHosts: -1, SuccessRateRequestVolume: -1, SuccessRateStdevFactor: -1,
			FailurePercentageThreshold: -1, FailurePercentageMinimumHosts: -1, FailurePercentageRequestVolume: -1}},
	}
	for _, tt := range tests {
		got, def := NewOutlier(tt.cfg, 4), NewOutlier(want, 4)
		if got.consecutive != def.consecutive || got.interval != def.interval || got.base != def.base ||
			got.max != def.max || got.maxPercent != def.maxPercent || got.NextReview() != def.NextReview() ||
			got.enforcing != def.enforcing || got.srHosts != def.srHosts || got.srVolume != def.srVolume || got.srFactor != def.srFactor ||
			got.fpThreshold != def.fpThreshold || got.fpHosts != def.fpHosts || got.fpVolume != def.fpVolume {
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

// odTally records n results on host at now, f of them failures spread
// evenly (so that a few failures are never consecutive).
func odTally(o *Outlier, now int64, host, n, f int) {
	for i := range n {
		o.Record(now, host, (i*f)/n != ((i+1)*f)/n)
	}
}

// TestOutlierSuccessRate fills one interval with results on 6 hosts and
// checks what the review at its end ejects. With host 5 failing 10% and the
// others 1%, the rates are 99 (x5) and 90: mean 97.5, stdev 3.35, Envoy's
// threshold 97.5 - 1.9 x 3.35 = 91.1, so host 5 is out.
func TestOutlierSuccessRate(t *testing.T) {
	type load struct{ n, f int }
	healthy, bad := load{200, 2}, load{200, 20}
	tests := []struct {
		name      string
		cfg       OutlierConfig
		loads     [6]load
		ejected   int // host, -1: none
		overflows uint64
	}{
		{
			name:    "a host failing 10% is ejected at the first review",
			cfg:     OutlierConfig{MaxEjectionPercent: 20},
			loads:   [6]load{healthy, healthy, healthy, healthy, healthy, bad},
			ejected: 5,
		},
		{
			name:    "always_eject_one_host lets it out at the default 10%",
			cfg:     OutlierConfig{AlwaysEjectOneHost: true},
			loads:   [6]load{healthy, healthy, healthy, healthy, healthy, bad},
			ejected: 5,
		},
		{
			// One host of 6 is 17%, over the default max_ejection_percent.
			name:      "max_ejection_percent refuses it",
			loads:     [6]load{healthy, healthy, healthy, healthy, healthy, bad},
			ejected:   -1,
			overflows: 1,
		},
		{
			name:    "fewer than 5 hosts with the request volume",
			cfg:     OutlierConfig{MaxEjectionPercent: 20},
			loads:   [6]load{healthy, healthy, healthy, {99, 1}, {99, 1}, bad},
			ejected: -1,
		},
		{
			// Of n hosts, one outlier is at most sqrt(n-1) stdevs below the
			// mean: 1.73 with 4, so it takes a smaller factor (rates 99 x3
			// and 90: threshold 96.75 - 1.5 x 3.90 = 90.9).
			name:    "success_rate_minimum_hosts 4, stdev factor 1500",
			cfg:     OutlierConfig{MaxEjectionPercent: 20, SuccessRateMinimumHosts: 4, SuccessRateStdevFactor: 1500},
			loads:   [6]load{healthy, healthy, healthy, {99, 1}, {99, 1}, bad},
			ejected: 5,
		},
		{
			name:    "equal rates eject nothing",
			cfg:     OutlierConfig{MaxEjectionPercent: 20},
			loads:   [6]load{bad, bad, bad, bad, bad, bad},
			ejected: -1,
		},
		{
			name:    "enforcing_success_rate 0",
			cfg:     OutlierConfig{MaxEjectionPercent: 20, Enforcing: DetectConsecutive5xx},
			loads:   [6]load{healthy, healthy, healthy, healthy, healthy, bad},
			ejected: -1,
		},
		{
			// 10% failures is far below failure_percentage_threshold 85.
			name:    "failure percentage alone keeps a 10% host",
			cfg:     OutlierConfig{MaxEjectionPercent: 20, Enforcing: DetectFailurePercentage},
			loads:   [6]load{healthy, healthy, healthy, healthy, healthy, bad},
			ejected: -1,
		},
		{
			name:    "failure percentage ejects a 90% host",
			cfg:     OutlierConfig{MaxEjectionPercent: 20, Enforcing: DetectFailurePercentage},
			loads:   [6]load{healthy, healthy, healthy, healthy, healthy, {60, 54}},
			ejected: 5,
		},
		{
			name:    "failure percentage needs its request volume",
			cfg:     OutlierConfig{MaxEjectionPercent: 20, Enforcing: DetectFailurePercentage},
			loads:   [6]load{healthy, healthy, healthy, healthy, healthy, {49, 48}},
			ejected: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewOutlier(tt.cfg, 6)
			for h, l := range tt.loads {
				odTally(o, 9*odSec, h, l.n, l.f)
			}
			// Without a rate detector nothing is tallied and no review is due.
			tallied := tt.cfg.Enforcing != DetectConsecutive5xx
			if at, ok := o.NextTransition(); ok != tallied || at != 10*odSec {
				t.Fatalf("NextTransition() = %v, %v; want 10s, %v", time.Duration(at), ok, tallied)
			}
			if o.EjectedCount() != 0 {
				t.Fatalf("%d hosts ejected before the review", o.EjectedCount())
			}
			returned, ejected := o.Review(10 * odSec)
			want := 0
			if tt.ejected >= 0 {
				want = 1
			}
			if returned != 0 || ejected != want || o.EjectedCount() != want || o.RateEjections() != uint64(want) {
				t.Fatalf("Review(10s) = %d returned, %d ejected (%d ejected in all, %d by rate); want 0, %d",
					returned, ejected, o.EjectedCount(), o.RateEjections(), want)
			}
			if tt.ejected >= 0 && !o.Ejected(tt.ejected) {
				t.Errorf("host %d not ejected", tt.ejected)
			}
			if o.Overflows() != tt.overflows {
				t.Errorf("Overflows() = %d, want %d", o.Overflows(), tt.overflows)
			}
			// The next interval starts with empty tallies: nothing more.
			if _, ejected := o.Review(20 * odSec); ejected != 0 {
				t.Errorf("Review(20s) ejected %d more on an empty interval", ejected)
			}
		})
	}
}

// TestOutlierSuccessRateInterval checks that rates are per interval: the
// same results spread over two intervals give each too little volume.
func TestOutlierSuccessRateInterval(t *testing.T) {
	o := NewOutlier(OutlierConfig{MaxEjectionPercent: 20}, 6)
	for _, at := range []int64{5, 15} {
		for h := range 6 {
			f := 1
			if h == 5 {
				f = 10
			}
			odTally(o, at*odSec, h, 100/2, f)
		}
	}
	if _, ejected := o.Review(30 * odSec); ejected != 0 {
		t.Errorf("ejected %d hosts with 50 requests each per interval", ejected)
	}
	if _, ok := o.NextTransition(); ok {
		t.Errorf("NextTransition() asks for a review with nothing tallied, ejected or backed off")
	}
}
