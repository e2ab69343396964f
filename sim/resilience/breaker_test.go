package resilience

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// brkBase is the config the script tests start from: small enough to read.
func brkBase() BreakerConfig {
	return BreakerConfig{
		FailureRateThreshold:  50,
		SlowCallRateThreshold: 100,
		SlowCallDuration:      time.Second,
		WindowType:            CountBased,
		WindowSize:            10,
		MinimumCalls:          4,
		WaitInOpen:            60 * time.Second,
		PermittedInHalfOpen:   3,
	}
}

// runBreakerScript drives a breaker made from cfg through script, a
// space-separated list of steps, from virtual time 0:
//
//	ok fail slow slowfail edge  a call that must be permitted, then its outcome
//	                            (edge takes exactly SlowCallDuration)
//	allow deny                  Allow must permit / must refuse
//	late-ok late-fail           an outcome without asking Allow first
//	release advance force-open disable reset
//	+DURATION                   virtual time moves on
//	CLOSED OPEN HALF_OPEN ...   the state must be this
//	next=DURATION next=none     what NextTransition must say
//	N*STEP                      STEP N times
func runBreakerScript(t *testing.T, cfg BreakerConfig, script string) *Breaker {
	t.Helper()
	b := NewBreaker(cfg)
	var now int64
	fast, slow := int64(time.Millisecond), int64(cfg.SlowCallDuration+time.Millisecond)
	call := func(step string, duration int64, failed bool) {
		t.Helper()
		if !b.Allow(now) {
			t.Fatalf("%s at %v: not permitted in %v", step, time.Duration(now), b.State())
		}
		b.Record(now, duration, failed)
	}
	for _, tok := range strings.Fields(script) {
		n := 1
		if i := strings.Index(tok, "*"); i > 0 {
			var err error
			if n, err = strconv.Atoi(tok[:i]); err != nil {
				t.Fatalf("bad step %q", tok)
			}
			tok = tok[i+1:]
		}
		for range n {
			switch tok {
			case "ok":
				call(tok, fast, false)
			case "fail":
				call(tok, fast, true)
			case "slow":
				call(tok, slow, false)
			case "slowfail":
				call(tok, slow, true)
			case "edge":
				call(tok, int64(cfg.SlowCallDuration), false)
			case "allow", "deny":
				if got := b.Allow(now); got != (tok == "allow") {
					t.Fatalf("at %v in %v: Allow = %v, want %v", time.Duration(now), b.State(), got, !got)
				}
			case "late-ok", "late-fail":
				b.Record(now, fast, tok == "late-fail")
			case "release":
				b.Release()
			case "advance":
				b.Advance(now)
			case "force-open":
				b.ForceOpen(now)
			case "disable":
				b.Disable(now)
			case "reset":
				b.Reset(now)
			case "next=none":
				if at, ok := b.NextTransition(); ok {
					t.Fatalf("at %v: NextTransition = %v, want none", time.Duration(now), time.Duration(at))
				}
			default:
				switch {
				case strings.HasPrefix(tok, "+"):
					d, err := time.ParseDuration(tok[1:])
					if err != nil {
						t.Fatalf("bad step %q", tok)
					}
					now += int64(d)
				case strings.HasPrefix(tok, "next="):
					d, err := time.ParseDuration(tok[len("next="):])
					if err != nil {
						t.Fatalf("bad step %q", tok)
					}
					if at, ok := b.NextTransition(); !ok || at != int64(d) {
						t.Fatalf("at %v: NextTransition = %v, %v, want %v", time.Duration(now), time.Duration(at), ok, d)
					}
				case strings.ToUpper(tok) == tok:
					if b.State().String() != tok {
						t.Fatalf("at %v: state %v, want %s", time.Duration(now), b.State(), tok)
					}
				default:
					t.Fatalf("bad step %q", tok)
				}
			}
		}
	}
	return b
}

func TestBreakerScripts(t *testing.T) {
	tests := []struct {
		name   string
		cfg    func(*BreakerConfig)
		script string
	}{
		// CLOSED -> OPEN
		{"4 failures then a success: 4 of 5 opens at the 5th call",
			func(c *BreakerConfig) { c.MinimumCalls = 5 }, "4*fail CLOSED ok OPEN"},
		{"a rate equal to the threshold opens", nil, "ok ok fail CLOSED fail OPEN"},
		{"a rate below the threshold stays closed", nil, "3*ok fail CLOSED 2*ok fail CLOSED"},
		{"fewer than MinimumCalls never opens",
			func(c *BreakerConfig) { c.WindowSize, c.MinimumCalls = 20, 20 }, "19*fail CLOSED fail OPEN"},
		{"count window: MinimumCalls above the size counts as the size",
			func(c *BreakerConfig) { c.WindowSize, c.MinimumCalls = 5, 100 }, "4*fail CLOSED fail OPEN"},
		{"count window: the oldest call leaves as a new one enters",
			func(c *BreakerConfig) { c.WindowSize = 4 }, "fail 3*ok CLOSED ok fail CLOSED fail OPEN"},
		{"slow calls open",
			func(c *BreakerConfig) { c.SlowCallRateThreshold = 50 }, "slow ok slow CLOSED ok OPEN"},
		{"a call of exactly SlowCallDuration is not slow",
			func(c *BreakerConfig) { c.SlowCallRateThreshold, c.WindowSize = 50, 4 }, "4*edge CLOSED 2*slow OPEN"},
		{"a slow failure counts as slow",
			func(c *BreakerConfig) { c.FailureRateThreshold, c.SlowCallRateThreshold, c.MinimumCalls = 100, 50, 2 },
			"slowfail CLOSED ok OPEN"},
		{"a slow failure counts as failed",
			func(c *BreakerConfig) { c.MinimumCalls = 2 }, "slowfail CLOSED ok OPEN"},
		{"late outcomes in OPEN do not change it", nil, "4*fail OPEN 20*late-ok OPEN +59s 5*late-fail OPEN"},

		// Time-based windows.
		{"time window: failures 11 s ago do not count",
			func(c *BreakerConfig) { c.WindowType, c.MinimumCalls = TimeBased, 6 }, "3*fail +11s 3*ok CLOSED"},
		{"time window: failures 9 s ago count",
			func(c *BreakerConfig) { c.WindowType, c.MinimumCalls = TimeBased, 6 }, "3*fail +9s 2*ok CLOSED ok OPEN"},
		{"time window: a second's calls stay until the second WindowSize later begins",
			func(c *BreakerConfig) { c.WindowType, c.MinimumCalls = TimeBased, 6 }, "+500ms 3*fail +9499ms 3*ok OPEN"},
		{"time window: then they leave together",
			func(c *BreakerConfig) { c.WindowType, c.MinimumCalls = TimeBased, 6 }, "+500ms 3*fail +9500ms 3*ok CLOSED"},
		{"time window: MinimumCalls is not capped by the size",
			func(c *BreakerConfig) { c.WindowType, c.WindowSize, c.MinimumCalls = TimeBased, 2, 5 }, "4*fail CLOSED fail OPEN"},
		{"time window: a gap longer than the window empties it",
			func(c *BreakerConfig) { c.WindowType, c.MinimumCalls = TimeBased, 2 }, "fail +1000000s ok CLOSED fail OPEN"},
		{"time window: a gap shorter than the window evicts only what fell out",
			func(c *BreakerConfig) { c.WindowType, c.MinimumCalls = TimeBased, 4 },
			"3*ok +3s 2*fail +8s fail CLOSED fail OPEN"},

		// OPEN -> HALF_OPEN
		{"OPEN refuses until WaitInOpen has passed, then the next call half-opens",
			nil, "4*fail OPEN deny +59999ms deny OPEN +1ms OPEN allow HALF_OPEN"},
		{"without AutomaticTransition nothing is scheduled and Advance leaves OPEN",
			nil, "4*fail OPEN next=none +60s advance OPEN allow HALF_OPEN"},
		{"AutomaticTransition: NextTransition, then Advance half-opens",
			func(c *BreakerConfig) { c.AutomaticTransition = true },
			"next=none 4*fail OPEN next=60s +30s advance OPEN +30s advance HALF_OPEN next=none 3*allow deny"},
		{"AutomaticTransition: a late outcome catches up first and counts in HALF_OPEN",
			func(c *BreakerConfig) { c.AutomaticTransition = true }, "4*fail +60s late-fail HALF_OPEN 3*allow deny"},
		{"WaitInOpen 0 half-opens on the next call", func(c *BreakerConfig) { c.WaitInOpen = 0 }, "4*fail OPEN allow HALF_OPEN"},

		// HALF_OPEN
		{"HALF_OPEN permits exactly PermittedInHalfOpen calls, and a released one again",
			nil, "4*fail +60s 3*allow deny deny HALF_OPEN release allow deny"},
		{"Release never raises the permits above PermittedInHalfOpen",
			nil, "release 4*fail +60s allow release release 3*allow deny"},
		{"HALF_OPEN: rates below the thresholds close", nil, "4*fail +60s ok ok HALF_OPEN fail CLOSED"},
		{"HALF_OPEN: rates over a threshold reopen with a new wait",
			nil, "4*fail +60s ok fail HALF_OPEN fail OPEN deny +59s deny +1s allow HALF_OPEN"},
		{"HALF_OPEN: slow calls reopen",
			func(c *BreakerConfig) { c.SlowCallRateThreshold = 60 }, "4*fail +60s slow ok slow OPEN"},
		{"HALF_OPEN closes after MinimumCalls when fewer than PermittedInHalfOpen",
			func(c *BreakerConfig) { c.MinimumCalls, c.PermittedInHalfOpen = 2, 5 }, "2*fail OPEN +60s ok HALF_OPEN ok CLOSED"},
		{"HALF_OPEN reopens after MinimumCalls when fewer than PermittedInHalfOpen",
			func(c *BreakerConfig) { c.MinimumCalls, c.PermittedInHalfOpen = 2, 5 }, "2*fail OPEN +60s ok HALF_OPEN fail OPEN"},
		{"HALF_OPEN waits for PermittedInHalfOpen when MinimumCalls is larger",
			func(c *BreakerConfig) { c.MinimumCalls, c.PermittedInHalfOpen = 4, 3 }, "4*fail +60s ok ok HALF_OPEN ok CLOSED"},
		{"closing starts an empty window",
			func(c *BreakerConfig) { c.MinimumCalls, c.PermittedInHalfOpen = 2, 1 },
			"fail fail OPEN +60s ok CLOSED fail CLOSED fail OPEN"},
		{"MaxWaitInHalfOpen: HALF_OPEN gives up and opens again",
			func(c *BreakerConfig) { c.MaxWaitInHalfOpen = 10 * time.Second },
			"4*fail +60s allow HALF_OPEN next=70s +9s advance HALF_OPEN +1s advance OPEN next=none deny +60s allow HALF_OPEN"},
		{"MaxWaitInHalfOpen applies on the next call without Advance",
			func(c *BreakerConfig) { c.MaxWaitInHalfOpen = 10 * time.Second }, "4*fail +60s allow +10s deny OPEN"},
		{"MaxWaitInHalfOpen with AutomaticTransition",
			func(c *BreakerConfig) { c.MaxWaitInHalfOpen, c.AutomaticTransition = 10*time.Second, true },
			"4*fail +60s advance HALF_OPEN next=70s +10s advance OPEN next=130s"},
		{"MaxWaitInHalfOpen does not hurry a decision that came in time",
			func(c *BreakerConfig) { c.MaxWaitInHalfOpen = 10 * time.Second }, "4*fail +60s 3*ok CLOSED next=none +10s advance CLOSED"},

		// Manual states.
		{"FORCED_OPEN refuses everything until Reset",
			nil, "force-open FORCED_OPEN deny +1000s deny next=none late-fail FORCED_OPEN reset CLOSED ok"},
		{"DISABLED permits everything and opens on nothing",
			nil, "disable DISABLED 10*fail DISABLED advance reset CLOSED 3*fail CLOSED fail OPEN"},
		{"Reset empties the window", nil, "3*fail reset CLOSED 3*fail CLOSED fail OPEN"},
		{"manual states override OPEN and HALF_OPEN",
			nil, "4*fail force-open FORCED_OPEN +60s deny disable allow DISABLED reset 4*fail +60s allow force-open deny"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := brkBase()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			runBreakerScript(t, cfg, tt.script)
		})
	}
}

func TestBreakerRates(t *testing.T) {
	timeBased := func(c *BreakerConfig) { c.WindowType = TimeBased }
	tests := []struct {
		name          string
		cfg           func(*BreakerConfig)
		script        string
		failure, slow float64
		calls         int
	}{
		{"new", nil, "", -1, -1, 0},
		{"below MinimumCalls", nil, "ok fail", -1, -1, 2},
		{"CLOSED", nil, "ok fail slow ok", 25, 25, 4},
		{"OPEN keeps the window that opened it", nil, "ok ok fail fail OPEN", 50, 0, 4},
		{"late outcomes in OPEN join its window", nil, "ok ok fail fail late-ok late-ok", 200.0 / 6, 0, 6},
		{"HALF_OPEN has its own window", nil, "4*fail +60s ok", -1, -1, 1},
		{"OPEN after HALF_OPEN keeps HALF_OPEN's window", nil, "4*fail +60s ok fail fail OPEN", 200.0 / 3, 0, 3},
		{"CLOSED after HALF_OPEN is empty", nil, "4*fail +60s 3*ok CLOSED", -1, -1, 0},
		{"FORCED_OPEN is empty", nil, "3*ok force-open", -1, -1, 0},
		{"DISABLED is empty", nil, "3*ok disable 5*ok", -1, -1, 0},
		{"time window", timeBased, "ok fail +5s slow ok", 25, 25, 4},
		{"time window after eviction", timeBased, "ok fail +11s ok", -1, -1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := brkBase()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			b := runBreakerScript(t, cfg, tt.script)
			f, s, n := b.Rates()
			if f != tt.failure || s != tt.slow || n != tt.calls {
				t.Errorf("Rates() = %v, %v, %d, want %v, %v, %d", f, s, n, tt.failure, tt.slow, tt.calls)
			}
		})
	}
}

func TestBreakerCountsAndTransitions(t *testing.T) {
	tests := []struct {
		name        string
		script      string
		counts      BreakerCounts
		transitions uint64
	}{
		{"CLOSED", "ok ok fail slow slowfail", BreakerCounts{Successful: 3, Failed: 2, Slow: 2}, 0},
		{"OPEN, HALF_OPEN, CLOSED", "4*fail deny deny +60s 3*ok",
			BreakerCounts{Successful: 3, Failed: 4, NotPermitted: 2}, 3},
		{"HALF_OPEN refusals are not permitted calls", "4*fail +60s 3*allow 2*deny",
			BreakerCounts{Failed: 4, NotPermitted: 2}, 2},
		{"late outcomes in OPEN count", "4*fail late-ok late-fail", BreakerCounts{Successful: 1, Failed: 5}, 1},
		{"manual states record nothing", "force-open deny late-fail disable 5*ok reset",
			BreakerCounts{NotPermitted: 1}, 3},
		{"a manual call to the current state is no transition", "reset reset force-open force-open disable disable", BreakerCounts{}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := runBreakerScript(t, brkBase(), tt.script)
			if got := b.Counts(); got != tt.counts {
				t.Errorf("Counts() = %+v, want %+v", got, tt.counts)
			}
			if got := b.Transitions(); got != tt.transitions {
				t.Errorf("Transitions() = %d, want %d", got, tt.transitions)
			}
		})
	}
}

func TestBreakerDefaults(t *testing.T) {
	want := BreakerConfig{
		FailureRateThreshold:  50,
		SlowCallRateThreshold: 100,
		SlowCallDuration:      60 * time.Second,
		WindowType:            CountBased,
		WindowSize:            100,
		MinimumCalls:          100,
		WaitInOpen:            60 * time.Second,
		PermittedInHalfOpen:   10,
	}
	if got := DefaultBreakerConfig(); got != want {
		t.Errorf("DefaultBreakerConfig() = %+v, want Resilience4j's %+v", got, want)
	}
	// With the defaults, 100 calls decide and 10 trial calls half-open.
	script := "99*fail CLOSED fail OPEN +60s 10*allow deny HALF_OPEN"
	runBreakerScript(t, DefaultBreakerConfig(), script)
}

func TestBreakerNames(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{CountBased.String(), "count_based"},
		{TimeBased.String(), "time_based"},
		{WindowType(9).String(), "WindowType(9)"},
		{Closed.String(), "CLOSED"},
		{Open.String(), "OPEN"},
		{HalfOpen.String(), "HALF_OPEN"},
		{ForcedOpen.String(), "FORCED_OPEN"},
		{Disabled.String(), "DISABLED"},
		{BreakerState(9).String(), "BreakerState(9)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// TestBreakerNonsenseConfig checks that configs the loader would reject
// still give a working breaker.
func TestBreakerNonsenseConfig(t *testing.T) {
	tests := []struct {
		name   string
		cfg    BreakerConfig
		script string
	}{
		{"zero config: every size is 1, thresholds 0 open at once", BreakerConfig{},
			"fail OPEN allow HALF_OPEN deny late-ok OPEN"},
		{"negative sizes and durations",
			BreakerConfig{FailureRateThreshold: 50, WindowSize: -3, MinimumCalls: -1, PermittedInHalfOpen: -2,
				WaitInOpen: -time.Second, MaxWaitInHalfOpen: -time.Second, SlowCallDuration: -time.Second, SlowCallRateThreshold: 101},
			"ok CLOSED fail OPEN next=none allow HALF_OPEN deny next=none late-ok CLOSED"},
		{"NaN thresholds never open",
			BreakerConfig{FailureRateThreshold: math.NaN(), SlowCallRateThreshold: math.NaN(), WindowSize: 2, MinimumCalls: 1},
			"20*slowfail CLOSED"},
		{"a huge count window is capped",
			BreakerConfig{FailureRateThreshold: 50, SlowCallRateThreshold: 100, WindowSize: math.MaxInt, MinimumCalls: 2},
			"fail fail OPEN"},
		{"a huge time window is capped",
			BreakerConfig{FailureRateThreshold: 50, SlowCallRateThreshold: 100, WindowType: TimeBased, WindowSize: math.MaxInt, MinimumCalls: 2},
			"fail +100h fail OPEN"},
		{"an unknown window type counts calls",
			BreakerConfig{FailureRateThreshold: 50, SlowCallRateThreshold: 100, WindowType: 7, WindowSize: 2, MinimumCalls: 100},
			"fail fail OPEN"},
		{"a wait beyond the end of time never ends",
			BreakerConfig{FailureRateThreshold: 50, SlowCallRateThreshold: 100, WindowSize: 1,
				WaitInOpen: math.MaxInt64, AutomaticTransition: true},
			"+1h fail OPEN next=2562047h47m16.854775807s +2562046h advance deny OPEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runBreakerScript(t, tt.cfg, tt.script)
		})
	}
}

// TestBreakerTimeBeforeZero: virtual time starts at 0, but a negative now
// must not break the time buckets.
func TestBreakerTimeBeforeZero(t *testing.T) {
	cfg := brkBase()
	cfg.WindowType, cfg.MinimumCalls = TimeBased, 2
	b := NewBreaker(cfg)
	for _, now := range []int64{-int64(time.Hour), -1, 5e9, 1e9} {
		if !b.Allow(now) {
			t.Fatalf("Allow(%d) refused in %v", now, b.State())
		}
		b.Record(now, 0, false)
	}
	if _, _, n := b.Rates(); n != 4 {
		t.Errorf("calls = %d, want 4: time running back counts in the newest second", n)
	}
}

func TestBreakerAllocs(t *testing.T) {
	for _, wt := range []WindowType{CountBased, TimeBased} {
		cfg := brkBase()
		cfg.WindowType, cfg.WaitInOpen, cfg.MaxWaitInHalfOpen = wt, time.Second, 2*time.Second
		b := NewBreaker(cfg)
		var now, i int64
		allocs := testing.AllocsPerRun(2000, func() {
			i++
			now += int64(37 * time.Millisecond)
			if b.Allow(now) {
				b.Record(now, int64(time.Millisecond), i/50%2 == 0) // runs of 50 failures, then 50 successes
			}
			b.Advance(now)
		})
		if allocs != 0 {
			t.Errorf("%v: %v allocations per Allow+Record, want 0", wt, allocs)
		}
		if b.Transitions() < 10 {
			t.Errorf("%v: only %d transitions: the loop should cycle through the states", wt, b.Transitions())
		}
	}
}

// brkModel restates the breaker's rules as plainly as possible, keeping
// every outcome of the current window in a slice and recounting it each
// time, to check the Breaker's rings, buckets and running sums against.
type brkModel struct {
	cfg         BreakerConfig // valid: the harness makes only valid configs
	state       BreakerState
	until       int64
	permits     int
	inHalf      bool
	begun       int64 // second the current window began
	outcomes    []brkOutcome
	counts      BreakerCounts
	transitions uint64
}

type brkOutcome struct {
	second       int64
	failed, slow bool
}

func (m *brkModel) enter(s BreakerState, now int64, keepWindow bool) {
	if m.state != s {
		m.transitions++
	}
	m.state = s
	if !keepWindow {
		m.outcomes, m.begun = m.outcomes[:0], now/int64(time.Second)
		m.inHalf = s == HalfOpen
	}
	switch s {
	case Open:
		m.until = now + int64(m.cfg.WaitInOpen)
	case HalfOpen:
		m.permits = m.cfg.PermittedInHalfOpen
		m.until = now + int64(m.cfg.MaxWaitInHalfOpen)
	}
}

// window returns the outcomes the current window still holds, and how many
// it needs to decide.
func (m *brkModel) window() (live []brkOutcome, minimum int) {
	switch {
	case m.inHalf:
		n := m.cfg.PermittedInHalfOpen
		return m.outcomes[max(len(m.outcomes)-n, 0):], min(m.cfg.MinimumCalls, n)
	case m.cfg.WindowType == TimeBased:
		head := m.begun
		for _, o := range m.outcomes {
			head = max(head, o.second)
		}
		for _, o := range m.outcomes {
			if o.second > head-int64(m.cfg.WindowSize) {
				live = append(live, o)
			}
		}
		return live, m.cfg.MinimumCalls
	}
	n := m.cfg.WindowSize
	return m.outcomes[max(len(m.outcomes)-n, 0):], min(m.cfg.MinimumCalls, n)
}

func (m *brkModel) rates() (failurePct, slowPct float64, calls int) {
	live, minimum := m.window()
	var failed, slow int
	for _, o := range live {
		if o.failed {
			failed++
		}
		if o.slow {
			slow++
		}
	}
	if len(live) < minimum {
		return -1, -1, len(live)
	}
	n := float64(len(live))
	return float64(failed) * 100 / n, float64(slow) * 100 / n, len(live)
}

func (m *brkModel) catchUp(now int64, asked bool) {
	if m.state == HalfOpen && m.cfg.MaxWaitInHalfOpen > 0 && now >= m.until {
		m.enter(Open, now, true)
	}
	if m.state == Open && (asked || m.cfg.AutomaticTransition) && now >= m.until {
		m.enter(HalfOpen, now, false)
	}
}

func (m *brkModel) allow(now int64) bool {
	m.catchUp(now, true)
	switch {
	case m.state == Closed || m.state == Disabled:
		return true
	case m.state == HalfOpen && m.permits > 0:
		m.permits--
		return true
	}
	m.counts.NotPermitted++
	return false
}

func (m *brkModel) record(now, duration int64, failed bool) {
	m.catchUp(now, false)
	if m.state == ForcedOpen || m.state == Disabled {
		return
	}
	slow := duration > int64(m.cfg.SlowCallDuration)
	if failed {
		m.counts.Failed++
	} else {
		m.counts.Successful++
	}
	if slow {
		m.counts.Slow++
	}
	m.outcomes = append(m.outcomes, brkOutcome{now / int64(time.Second), failed, slow})
	if m.state == Open {
		return
	}
	f, s, _ := m.rates()
	switch {
	case f < 0:
	case f >= m.cfg.FailureRateThreshold || s >= m.cfg.SlowCallRateThreshold:
		m.enter(Open, now, true)
	case m.state == HalfOpen:
		m.enter(Closed, now, false)
	}
}

func (m *brkModel) next() (int64, bool) {
	if (m.state == Open && m.cfg.AutomaticTransition) || (m.state == HalfOpen && m.cfg.MaxWaitInHalfOpen > 0) {
		return m.until, true
	}
	return 0, false
}

// checkBreakerAgainstModel decodes a config and a sequence of operations
// from data, applies them to a Breaker and to brkModel, and fails at the
// first difference in what they answer.
func checkBreakerAgainstModel(t *testing.T, data []byte) {
	if len(data) < 6 {
		return
	}
	thresholds := [4]float64{20, 50, 75, 100}
	cfg := BreakerConfig{
		WindowType:            WindowType(data[0] & 1),
		AutomaticTransition:   data[0]&2 != 0,
		WindowSize:            1 + int(data[1]%12),
		MinimumCalls:          1 + int(data[2]%15),
		PermittedInHalfOpen:   1 + int(data[3]%4),
		FailureRateThreshold:  thresholds[data[4]&3],
		SlowCallRateThreshold: thresholds[data[4]>>2&3],
		SlowCallDuration:      500 * time.Millisecond,
		WaitInOpen:            time.Duration(data[5]%4) * time.Second,
	}
	if data[0]&4 != 0 {
		cfg.MaxWaitInHalfOpen = time.Duration(1+(data[5]>>2)%4) * time.Second
	}
	b, m := NewBreaker(cfg), &brkModel{cfg: cfg}
	var now int64
	for i, v := range data[6:] {
		op, arg := v&15, int64(v>>4)
		now += arg * int64(150*time.Millisecond)
		duration := arg * int64(50*time.Millisecond) // 500 ms, exactly the slow threshold, included
		what := ""
		switch op {
		case 0, 1, 2, 3, 4, 14, 15:
			failed := op == 3 || op == 4
			what = fmt.Sprintf("call(failed=%v, %v)", failed, time.Duration(duration))
			got, want := b.Allow(now), m.allow(now)
			if got != want {
				t.Fatalf("op %d %s at %v: Allow = %v, model %v", i, what, time.Duration(now), got, want)
			}
			if got {
				b.Record(now, duration, failed)
				m.record(now, duration, failed)
			}
		case 5:
			what = "allow"
			if got, want := b.Allow(now), m.allow(now); got != want {
				t.Fatalf("op %d allow at %v: Allow = %v, model %v", i, time.Duration(now), got, want)
			}
		case 6:
			what = "release"
			b.Release()
			if m.state == HalfOpen && m.permits < cfg.PermittedInHalfOpen {
				m.permits++
			}
		case 7:
			what = "advance"
			b.Advance(now)
			m.catchUp(now, false)
		case 8, 9:
			what = "late outcome"
			b.Record(now, duration, op == 9)
			m.record(now, duration, op == 9)
		case 10:
			what = "force-open"
			b.ForceOpen(now)
			m.enter(ForcedOpen, now, false)
		case 11:
			what = "disable"
			b.Disable(now)
			m.enter(Disabled, now, false)
		case 12:
			what = "reset"
			b.Reset(now)
			m.enter(Closed, now, false)
		case 13:
			what = "a long pause"
			now += int64(100 * time.Second)
		}
		if got, want := b.State(), m.state; got != want {
			t.Fatalf("op %d %s at %v: state %v, model %v", i, what, time.Duration(now), got, want)
		}
		if got, want := b.Transitions(), m.transitions; got != want {
			t.Fatalf("op %d %s: %d transitions, model %d", i, what, got, want)
		}
		if got, want := b.Counts(), m.counts; got != want {
			t.Fatalf("op %d %s: counts %+v, model %+v", i, what, got, want)
		}
		gf, gs, gn := b.Rates()
		wf, ws, wn := m.rates()
		if gf != wf || gs != ws || gn != wn {
			t.Fatalf("op %d %s at %v in %v: Rates %v %v %d, model %v %v %d", i, what, time.Duration(now), m.state, gf, gs, gn, wf, ws, wn)
		}
		gat, gok := b.NextTransition()
		wat, wok := m.next()
		if gat != wat || gok != wok {
			t.Fatalf("op %d %s: NextTransition %v %v, model %v %v", i, what, gat, gok, wat, wok)
		}
	}
}

// TestBreakerMatchesModel runs random operation sequences; FuzzBreaker
// explores further with go test -fuzz.
func TestBreakerMatchesModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 300)
	for range 1000 {
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		// Failures come in runs, so that breakers get to open.
		if r.IntN(2) == 0 {
			for i := 6; i < len(data); i++ {
				if r.IntN(3) == 0 {
					data[i] = data[i]&0xf0 | 3
				}
			}
		}
		checkBreakerAgainstModel(t, data)
	}
}

func FuzzBreaker(f *testing.F) {
	f.Add([]byte{0, 9, 4, 2, 5, 1, 0x13, 0x13, 0x13, 0x13, 0xd5, 0x15, 0x10, 0x03, 0x06, 0x15})
	f.Add([]byte{7, 3, 14, 0, 10, 2, 0x53, 0x23, 0xa0, 0x73, 0xf7, 0x15, 0x15, 0x17, 0x18, 0x19, 0x30})
	f.Add([]byte{1, 11, 2, 3, 0, 0, 0xaa, 0x0b, 0x0c, 0x0a, 0x4d, 0x03, 0xd3, 0xe3})
	f.Fuzz(checkBreakerAgainstModel)
}

func ExampleBreaker() {
	cfg := DefaultBreakerConfig()
	cfg.WindowSize, cfg.MinimumCalls = 4, 4
	cfg.WaitInOpen = 10 * time.Second
	cfg.PermittedInHalfOpen = 2
	b := NewBreaker(cfg)

	sec, took := int64(time.Second), int64(20*time.Millisecond)
	call := func(start int64, failed bool) {
		if b.Allow(start) {
			b.Record(start+took, took, failed)
		}
	}
	for i := range int64(4) {
		call(i*sec, i%2 == 0) // half of the calls fail
	}
	failure, _, calls := b.Rates()
	fmt.Printf("%v: %.0f%% of %d calls failed\n", b.State(), failure, calls)
	fmt.Println("permitted at 5s:", b.Allow(5*sec))
	call(14*sec, false) // the wait is over: a trial call
	fmt.Println(b.State())
	call(15*sec, false)
	fmt.Println(b.State(), b.Transitions(), "transitions")
	fmt.Printf("%+v\n", b.Counts())
	// Output:
	// OPEN: 50% of 4 calls failed
	// permitted at 5s: false
	// HALF_OPEN
	// CLOSED 3 transitions
	// {Successful:4 Failed:2 Slow:0 NotPermitted:1}
}
