package scenarios

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/metric"
)

const variantSrc = `[scenario]
name = "v"
duration = "60s"

[[client]]
name = "shoppers"
target = "checkout"
rate = 100

[[service]]
name = "checkout"

  [[service.call]]
  to = "payment"
  timeout = "1s"

  [service.call.circuit_breaker]
  failure_rate_threshold = 50

[[service]]
name = "payment"

[[fault]]
kind = "latency"
target = "payment"
start = "10s"
duration = "10s"
add = "500ms"

[[variant]]
name = "no-breaker"
unset = ["service.checkout.call.payment.circuit_breaker"]

[[variant]]
name = "strict"
set = { "service.checkout.call.payment.circuit_breaker.failure_rate_threshold" = 20, "client.shoppers.rate" = 300 }

[[variant]]
name = "nested"
[variant.set.service.checkout.call.payment]
timeout = "2s"
retry = { max_attempts = 3 }

[[slo]]
client = "shoppers"
metric = "p99"
max = "300ms"

[[slo]]
name = "available"
client = "shoppers"
metric = "success_rate"
min = 0.999
`

func TestOverrides(t *testing.T) {
	set := func(args ...string) []Override {
		var out []Override
		for _, a := range args {
			o, err := ParseOverride("--set", a)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, o)
		}
		return out
	}
	unset, _ := ParseUnset("--unset", "fault.1")
	tests := []struct {
		name  string
		opts  Options
		check func(*sim.Spec) bool
	}{
		{"base", Options{}, func(s *sim.Spec) bool { return s.Services[0].Calls[0].Breaker.FailureRateThreshold == 50 }},
		{"number", Options{Overrides: set("client.shoppers.rate=250")}, func(s *sim.Spec) bool { return s.Clients[0].Rate == 250 }},
		{"bare duration", Options{Overrides: set("service.checkout.call.payment.timeout=2s")},
			func(s *sim.Spec) bool { return s.Services[0].Calls[0].Timeout.String() == "2s" }},
		{"quoted", Options{Overrides: set(`scenario.duration="30s"`)}, func(s *sim.Spec) bool { return s.Duration.String() == "30s" }},
		{"fault by kind", Options{Overrides: set("fault.latency.start=20s")}, func(s *sim.Spec) bool { return s.Faults[0].Start.String() == "20s" }},
		{"fault by number", Options{Overrides: set("fault.1.duration=1s")}, func(s *sim.Spec) bool { return s.Faults[0].Duration.String() == "1s" }},
		{"fault by target", Options{Overrides: set("fault.payment.add=1s")}, func(s *sim.Spec) bool {
			return s.Faults[0].Params.(sim.LatencyFault).Add.String() == "1s"
		}},
		{"new table", Options{Overrides: set("service.checkout.call.payment.retry={max_attempts = 2}")},
			func(s *sim.Spec) bool { r := s.Services[0].Calls[0].Retry; return r != nil && r.MaxAttempts == 2 }},
		{"unset element", Options{Overrides: []Override{unset}}, func(s *sim.Spec) bool { return len(s.Faults) == 0 }},
		{"variant unset", Options{Variant: "no-breaker"}, func(s *sim.Spec) bool { return s.Services[0].Calls[0].Breaker == nil }},
		{"variant set", Options{Variant: "strict"}, func(s *sim.Spec) bool {
			return s.Services[0].Calls[0].Breaker.FailureRateThreshold == 20 && s.Clients[0].Rate == 300
		}},
		{"variant nested", Options{Variant: "nested"}, func(s *sim.Spec) bool {
			c := s.Services[0].Calls[0]
			return c.Timeout.String() == "2s" && c.Retry != nil && c.Retry.MaxAttempts == 3
		}},
		{"variant then set", Options{Variant: "strict", Overrides: set("client.shoppers.rate=50")}, func(s *sim.Spec) bool { return s.Clients[0].Rate == 50 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := LoadScenario("v.toml", []byte(variantSrc), tt.opts)
			if err != nil {
				var l ErrorList
				if errors.As(err, &l) {
					t.Fatal(l.Render(false))
				}
				t.Fatal(err)
			}
			if !tt.check(sc.Spec) {
				t.Errorf("the override did not take effect: %+v", sc.Spec)
			}
			if len(sc.Variants) != 3 || len(sc.SLOs) != 2 {
				t.Errorf("%d variants, %d SLOs; want 3 and 2", len(sc.Variants), len(sc.SLOs))
			}
		})
	}
}

func TestOverrideErrors(t *testing.T) {
	tests := []struct {
		arg  string
		want string // the rendered error
	}{
		{"service.paymnt.workers=3", `--set:1:9: "service": no element named "paymnt"
    1 | service.paymnt.workers=3
      |         ^
hint: did you mean "payment"?
`},
		{"client.shoppers.rate=fast", `--set:1:22: rate must be a number, not a string`},
		{"scenario.sed=3", `--set:1:10: unknown key "sed" in [scenario]
    1 | scenario.sed=3
      |          ^
hint: did you mean "seed"?
`},
		{"servce.checkout.workers=3", `hint: did you mean "service"?`},
		{"client.shoppers.rate.x=1", `is an integer, not a table`},
		{"service.checkout.call.payment=1", `is a table: set one of its keys`},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			o, err := ParseOverride("--set", tt.arg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = LoadScenario("v.toml", []byte(variantSrc), Options{Overrides: []Override{o}})
			var l ErrorList
			if !errors.As(err, &l) {
				t.Fatalf("err = %v, want an ErrorList", err)
			}
			if got := l.Render(false); !strings.Contains(got, tt.want) && !strings.Contains(l.Error(), tt.want) {
				t.Errorf("got\n%s\nwant it to contain\n%s", got, tt.want)
			}
		})
	}
}

func TestVariantErrors(t *testing.T) {
	tests := []struct {
		src, want string
	}{
		{`[[variant]]
name = "x"
set = { "service.paymnt.workers" = 2 }
`, `v.toml:57:18: "service": no element named "paymnt"`},
		{`[[variant]]
name = "x"
unset = ["fault.9"]
`, `v.toml:57:17: "fault": no element #9`},
		{`[[variant]]
name = "strict"
`, `duplicate variant name "strict"`},
		{`[[slo]]
client = "shopers"
metric = "p99"
max = "1s"
`, `unknown client "shopers"`},
		{`[[slo]]
client = "shoppers"
metric = "p98"
max = "1s"
`, `unknown client metric "p98"`},
		{`[[slo]]
client = "shoppers"
metric = "p99"
max = 300
`, `max must be a duration, not an integer`},
		{`[[slo]]
client = "shoppers"
metric = "success_rate"
min = 99.9
`, `a fraction, not a percentage`},
	}
	for _, tt := range tests {
		_, err := LoadScenario("v.toml", []byte(variantSrc+"\n"+tt.src), Options{})
		if err == nil || !strings.Contains(err.Error()+"\n"+renderErr(err), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.src, renderErr(err), tt.want)
		}
	}
	if _, err := LoadScenario("v.toml", []byte(variantSrc), Options{Variant: "strcit"}); err == nil || !strings.Contains(err.Error(), `did you mean "strict"?`) {
		t.Errorf("unknown variant: %v", err)
	}
}

func renderErr(err error) string {
	var l ErrorList
	if errors.As(err, &l) {
		return l.Render(false)
	}
	return ""
}

func TestParseSweep(t *testing.T) {
	got, err := ParseSweep("--sweep", `client.shoppers.rate=200, 400,800`)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1].Value != int64(400) || got[2].String() != "client.shoppers.rate=800" {
		t.Errorf("got %+v", got)
	}
	got, _ = ParseSweep("--sweep", `x.y=[1,2],{a = 1, b = 2},"a,b"`)
	if len(got) != 3 || got[2].Value != "a,b" {
		t.Errorf("commas inside values split: %+v", got)
	}
	for _, bad := range []string{"x", "x=", ".a=1", "a..b=1"} {
		if _, err := ParseSweep("--sweep", bad); err == nil {
			t.Errorf("ParseSweep(%q) accepted it", bad)
		}
	}
}

// sloMetrics lists every metric name an SLO takes, for the docs test.
func sloMetrics() []string {
	var out []string
	for _, m := range metric.All() {
		if !slices.Contains(out, m.Name) {
			out = append(out, m.Name)
		}
	}
	return out
}

// TestUnsetLastOne checks that --unset of the only client or service
// meets the rule a file meets: a scenario needs at least one of each. The
// emptied array used to pass, and run printed a report of nothing.
func TestUnsetLastOne(t *testing.T) {
	for _, tc := range []struct {
		paths []string
		want  string
	}{
		{[]string{"client.c"}, "no [[client]]: a scenario needs at least one"},
		{[]string{"service.s"}, "no [[service]]: a scenario needs at least one"},
	} {
		t.Run(strings.Join(tc.paths, ","), func(t *testing.T) {
			var ovs []Override
			for _, p := range tc.paths {
				o, err := ParseUnset("--unset", p)
				if err != nil {
					t.Fatal(err)
				}
				ovs = append(ovs, o)
			}
			src := "[scenario]\nduration = \"10s\"\n[[client]]\nname = \"c\"\ntarget = \"s\"\nrate = 1\n[[service]]\nname = \"s\"\n"
			_, err := LoadScenario("one.toml", []byte(src), Options{Overrides: ovs})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
