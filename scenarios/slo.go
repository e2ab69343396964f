package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/internal/suggest"
	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/metric"
)

func sloKeys() []string {
	keys := []string{"name"}
	for _, sc := range metric.Scopes() {
		keys = append(keys, string(sc))
	}
	return append(keys, "metric", "min", "max")
}

// slos reads the [[slo]] tables. It runs once every component is known,
// to check the names they refer to.
func (b *builder) slos(root *table) {
	keys := sloKeys()
	for i, t := range root.tables("slo", "[[slo]]") {
		t.what = fmt.Sprintf("[[slo]] #%d", i+1)
		t.known(keys...)
		s := metric.SLO{}
		if n, ok := t.str("name"); ok {
			s.Name = n
		}
		var scopes []string
		for _, sc := range metric.Scopes() {
			if t.has(string(sc)) {
				scopes = append(scopes, string(sc))
			}
		}
		scopeOK := false
		switch len(scopes) {
		case 0:
			t.headerErr(t.what+" names no component", `add the component it is about: client = "shoppers" (or service, edge, group, topic, store, saga)`)
		case 1:
			s.Scope = metric.Scope(scopes[0])
			if name, ok := t.str(scopes[0]); ok {
				s.Target = name
				scopeOK = b.sloTarget(t, s.Scope, name)
			}
		default:
			t.keyErr(scopes[1], fmt.Sprintf("%s names %s: an SLO is about one component", t.what, strings.Join(scopes, " and ")), "write one [[slo]] per component")
		}
		var m metric.Metric
		metricOK := false
		if t.require("metric", `metric = "p99"`) {
			if name, ok := t.str("metric"); ok && s.Scope != "" {
				s.Metric = name
				if m, metricOK = metric.Lookup(s.Scope, name); !metricOK {
					t.valErr("metric", fmt.Sprintf("unknown %s metric %q", s.Scope, name), enumHint(name, metric.Names(s.Scope)))
				}
			}
		}
		if !t.has("min") && !t.has("max") {
			t.headerErr(t.what+" has no bound", `add max = "300ms" (at most) or min = 0.999 (at least)`)
		}
		if metricOK {
			s.Min, s.HasMin = sloBound(t, "min", m)
			s.Max, s.HasMax = sloBound(t, "max", m)
			if s.HasMin && s.HasMax && s.Min > s.Max {
				t.valErr("max", fmt.Sprintf("max %s is below min %s: nothing meets it", m.Format(s.Max), m.Format(s.Min)), "")
			}
		}
		if scopeOK && metricOK {
			b.bench.slos = append(b.bench.slos, s)
		}
	}
}

// sloBound reads min or max in the metric's unit: a duration for a
// latency or a lag, a number otherwise.
func sloBound(t *table, key string, m metric.Metric) (float64, bool) {
	if !t.has(key) {
		return 0, false
	}
	if m.Unit.Duration() {
		d, ok := t.duration(key)
		if !ok {
			return 0, false
		}
		if d < 0 {
			t.valErr(key, fmt.Sprintf("%s must not be negative, got %s", key, dur(d)), "")
			return 0, false
		}
		if m.Unit == metric.Ms {
			return float64(d) / float64(time.Millisecond), true
		}
		return d.Seconds(), true
	}
	if m.Unit == metric.Share {
		f, ok := t.fraction(key, false)
		return f, ok
	}
	f, ok := t.float(key)
	if ok && f < 0 {
		t.valErr(key, fmt.Sprintf("%s must be >= 0, got %g", key, f), "")
		return 0, false
	}
	return f, ok
}

// sloTarget checks that the component an SLO names exists.
func (b *builder) sloTarget(t *table, scope metric.Scope, name string) bool {
	var known []string
	switch scope {
	case metric.Client:
		known = b.namesOf(kindClient)
	case metric.Service:
		known = b.namesOf(kindService, kindGateway)
	case metric.Edge:
		// As run --json names them: the calling operation, the called
		// one, and the operation on a store or view.
		edge := func(from string, c sim.Call) string {
			name := from + "->" + c.To
			if c.Operation != "" {
				name += "." + c.Operation
			}
			if c.Op != sim.OpNone {
				name += " (" + c.Op.String() + ")"
			}
			return name
		}
		for _, s := range b.spec.Services {
			for _, c := range s.Calls {
				known = append(known, edge(s.Name, c))
			}
			for _, o := range s.Operations {
				for _, c := range o.Calls {
					known = append(known, edge(s.Name+"."+o.Name, c))
				}
			}
		}
	case metric.Group:
		for _, s := range b.spec.Services {
			for _, c := range s.Consumes {
				known = append(known, cmp.Or(c.Group, s.Name))
			}
		}
	case metric.Topic:
		for _, br := range b.spec.Brokers {
			for _, tp := range br.Topics {
				known = append(known, tp.Name)
			}
		}
	case metric.Store:
		for _, st := range b.spec.Stores {
			known = append(known, st.Name)
		}
	case metric.Saga:
		for _, sg := range b.spec.Sagas {
			known = append(known, sg.Name)
		}
	case metric.ReadModel:
		for _, v := range b.spec.Views {
			known = append(known, v.Name)
		}
	case metric.Fault:
		// As run --json names a fault's cascade.
		for i := range b.spec.Faults {
			known = append(known, sim.CascadeName(b.spec.Faults, i))
		}
	}
	if slices.Contains(known, name) {
		return true
	}
	hint := fmt.Sprintf("the scenario has no %s", scope)
	if s := suggest.Closest(name, known); s != "" {
		hint = fmt.Sprintf("did you mean %q?", s)
	} else if len(known) > 0 {
		hint = fmt.Sprintf("its %ss: %s", scope, strings.Join(known, ", "))
	}
	t.valErr(string(scope), fmt.Sprintf("unknown %s %s", scope, strconv.Quote(name)), hint)
	return false
}
