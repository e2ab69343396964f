package scenarios

import (
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/sim"
)

// namedSrc has a named fault among two unnamed ones of which one shares
// its kind, and variants that remove the named fault and add one.
const namedSrc = `[scenario]
name = "shop"
duration = "60s"

[[client]]
name = "shoppers"
target = "frontend"
rate = 100

[[service]]
name = "frontend"
  [[service.call]]
  to = "currency"
  [[service.call]]
  to = "payment"

[[service]]
name = "currency"

[[service]]
name = "payment"

[[fault]]
name = "currency-delay"
kind = "latency"
target = "currency"
start = "10s"
duration = "10s"
add = "500ms"

[[fault]]
kind = "latency"
target = "payment"
start = "20s"
duration = "5s"
add = "100ms"

[[fault]]
kind = "crash"
target = "payment"
start = "30s"
duration = "5s"

[[variant]]
name = "as-written"

[[variant]]
name = "no-currency-delay"
unset = ["fault.currency-delay"]

[[variant]]
name = "payment-errors"
description = "a quarter of payment's requests fail from 40 s"
set = { "service.payment.instances" = 4 }

  [[variant.fault]]
  name = "payment-errors"
  kind = "errors"
  target = "payment#4"
  start = "40s"
  probability = 0.25
`

func loadNamed(t *testing.T, opts Options) *Scenario {
	t.Helper()
	sc, err := LoadScenario("shop.toml", []byte(namedSrc), opts)
	if err != nil {
		t.Fatal(renderErr(err), err)
	}
	return sc
}

// TestVariantAddsFault: a [[variant.fault]] is added after the file's
// faults, checked against the variant (payment#4 exists only there), and
// its cascade is named by its name; the bench report lists it as a change.
func TestVariantAddsFault(t *testing.T) {
	sc := loadNamed(t, Options{Variant: "payment-errors"})
	fs := sc.Spec.Faults
	if len(fs) != 4 {
		t.Fatalf("%d faults, want the file's 3 and the variant's", len(fs))
	}
	got := fs[3]
	if got.Name != "payment-errors" || got.Kind != sim.FaultErrors || got.Target != "payment#4" || got.Start.String() != "40s" ||
		got.Params.(sim.ErrorsFault).Probability != 0.25 {
		t.Errorf("added fault %+v", got)
	}
	v := sc.Variants[2]
	last := v.Changes[len(v.Changes)-1]
	if want := `add fault {kind = errors, name = payment-errors, probability = 0.25, start = 40s, target = payment#4}`; !last.Add || last.String() != want {
		t.Errorf("the variant's last change reads %q, want %q", last.String(), want)
	}
	if base := loadNamed(t, Options{}); len(base.Spec.Faults) != 3 {
		t.Errorf("the file as written has %d faults, want 3", len(base.Spec.Faults))
	}
	s, err := sim.New(sc.Spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range s.Run().Cascades {
		names = append(names, c.Name)
	}
	if want := []string{"currency-delay", "latency", "crash", "payment-errors"}; !slices.Equal(names, want) {
		t.Errorf("cascades %q, want %q", names, want)
	}
}

// TestUnsetNamedFaultKeepsAddresses: removing a named fault leaves every
// other fault chosen by the same paths, and its cascade (and so its bench
// metrics) named the same; only numbers move, as they always did.
func TestUnsetNamedFaultKeepsAddresses(t *testing.T) {
	paths := []string{"fault.latency.start", "fault.crash.start"}
	starts := func(opts Options) []string {
		var out []string
		for _, p := range paths {
			o, err := ParseOverride("--set", p+"=55s")
			if err != nil {
				t.Fatal(err)
			}
			opts.Overrides = []Override{o}
			for i, f := range loadNamed(t, opts).Spec.Faults {
				if f.Start.String() == "55s" {
					out = append(out, sim.CascadeName(loadNamed(t, opts).Spec.Faults, i))
				}
			}
		}
		return out
	}
	before, after := starts(Options{}), starts(Options{Variant: "no-currency-delay"})
	if want := []string{"latency", "crash"}; !slices.Equal(before, want) || !slices.Equal(after, want) {
		t.Errorf("paths %q chose %q with the named fault and %q without; want %q both times", paths, before, after, want)
	}
}

// TestFaultPaths: every form of path to a fault, old and new.
func TestFaultPaths(t *testing.T) {
	tests := []struct {
		path string
		want int // the fault it sets, from 0
	}{
		{"fault.currency-delay.start", 0},
		{"fault.latency.start", 1}, // the only unnamed latency fault
		{"fault.crash.start", 2},
		{"fault.1.start", 0},
		{"fault.3.start", 2},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			o, err := ParseOverride("--set", tt.path+"=55s")
			if err != nil {
				t.Fatal(err)
			}
			for i, f := range loadNamed(t, Options{Overrides: []Override{o}}).Spec.Faults {
				if moved := f.Start.String() == "55s"; moved != (i == tt.want) {
					t.Errorf("fault %d starts at %s", i+1, f.Start)
				}
			}
		})
	}
	for _, bad := range []struct{ path, want string }{
		{"fault.payment.start", `2 elements have target = "payment"`},
		// A named fault is chosen by its name or number only.
		{"fault.currency.start", `no element named "currency"`},
	} {
		o, _ := ParseOverride("--set", bad.path+"=55s")
		_, err := LoadScenario("shop.toml", []byte(namedSrc), Options{Overrides: []Override{o}})
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v, want %q", bad.path, err, bad.want)
		}
	}
}
