package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/faultline/faultline/internal/suggest"
	"github.com/faultline/faultline/sim"
)

// resolveData checks what the data components name, now that every
// component and topic is known: topics, consumer groups, dead letters and
// the participants of sagas.
func (b *builder) resolveData() {
	b.resolveTopics()
	for _, r := range b.topicRefs {
		if _, ok := b.topics[r.name]; !ok {
			r.t.valErr(r.key, fmt.Sprintf("unknown topic %q", r.name), b.topicHint(r.name, -1))
		}
	}
	b.resolveConsumes()
	b.resolveSagas()
}

// resolveTopics indexes the topics by name and reports every name defined
// before, at its later definition.
func (b *builder) resolveTopics() {
	b.topics = make(map[string]topicDef)
	defs := slices.Clone(b.topicDefs)
	slices.SortStableFunc(defs, func(x, y topicDef) int { return cmp.Compare(x.off, y.off) })
	for _, d := range defs {
		if f, dup := b.topics[d.name]; dup {
			line, _ := b.ix.lineCol(f.off)
			b.errorAt(d.off, fmt.Sprintf("duplicate topic %q: the [[broker.topic]] on line %d has it already", d.name, line),
				"topic names are unique across all brokers")
			continue
		}
		b.topics[d.name] = d
	}
	names := slices.Clone(b.sagaNames)
	slices.SortStableFunc(names, func(x, y nameDef) int { return cmp.Compare(x.off, y.off) })
	first := make(map[string]nameDef)
	for _, d := range names {
		if f, dup := first[d.name]; dup {
			line, _ := b.ix.lineCol(f.off)
			b.errorAt(d.off, fmt.Sprintf("duplicate saga %q: the [[saga]] on line %d has it already", d.name, line), "give each saga its own name")
			continue
		}
		first[d.name] = d
	}
}

// topicNames lists the topics with a valid name in file order, those of
// broker only when broker >= 0.
func (b *builder) topicNames(broker int) []string {
	var out []string
	for _, d := range b.topicDefs {
		if t, ok := b.topics[d.name]; ok && t == d && (broker < 0 || d.broker == broker) {
			out = append(out, d.name)
		}
	}
	return out
}

// topicHint helps with an unknown topic name: the nearest topic (of broker,
// when broker >= 0), or the topics there are.
func (b *builder) topicHint(name string, broker int) string {
	names := b.topicNames(broker)
	if s := suggest.Closest(name, names); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	switch n := len(names); {
	case n == 0 && len(b.topicDefs) == 0 && broker < 0:
		return "no [[broker.topic]] is defined"
	case n == 0 && broker >= 0:
		return fmt.Sprintf("broker %q has no topic", b.spec.Brokers[broker].Name)
	case n == 0:
		return "no [[broker.topic]] has a valid name"
	case n > 10:
		return fmt.Sprintf("topics: %s, ... (%d in all)", strings.Join(names[:10], ", "), n)
	}
	return "topics: " + strings.Join(names, ", ")
}

// resolveConsumes checks the topic and the dead-letter topic of each
// consume, and that a consumer group on a topic belongs to one service.
func (b *builder) resolveConsumes() {
	type groupKey struct{ topic, group string }
	groups := make(map[groupKey]consumeDef)
	for _, d := range b.consumes {
		t := d.t
		svc := &b.spec.Services[d.svc]
		c := svc.Consumes[d.idx]
		if c.Topic == "" {
			continue // missing or not a string, which is reported
		}
		tp, ok := b.topics[c.Topic]
		if !ok {
			t.valErr("topic", fmt.Sprintf("unknown topic %q", c.Topic), b.topicHint(c.Topic, -1))
		}
		if c.DeadLetter != "" {
			dl, dlOK := b.topics[c.DeadLetter]
			switch {
			case !dlOK:
				hint := b.topicHint(c.DeadLetter, -1)
				if ok {
					hint = b.topicHint(c.DeadLetter, tp.broker)
				}
				t.valErr("dead_letter", fmt.Sprintf("unknown topic %q", c.DeadLetter), hint)
			case c.DeadLetter == c.Topic:
				t.valErr("dead_letter", fmt.Sprintf("dead_letter is the consumed topic %q itself", c.Topic),
					"a failing record would come back to the same consumer forever; use a topic of its own, or leave dead_letter out to drop it")
			case ok && dl.broker != tp.broker:
				t.valErr("dead_letter", fmt.Sprintf("dead-letter topic %q is on broker %q, not on %q, the broker of %q", c.DeadLetter,
					b.spec.Brokers[dl.broker].Name, b.spec.Brokers[tp.broker].Name, c.Topic), "a consumer dead-letters to a topic of the broker it consumes from")
			}
		}
		if !ok || c.Group == "" {
			continue
		}
		key := groupKey{c.Topic, c.Group}
		first, dup := groups[key]
		if !dup {
			groups[key] = d
			continue
		}
		at := "topic"
		if t.has("group") {
			at = "group"
		}
		line, _ := b.ix.lineCol(b.ix.find(first.t.path).val)
		if first.svc == d.svc {
			t.valErr(at, fmt.Sprintf("%s consumes topic %q in group %q twice: the [[service.consume]] on line %d does already", t.what, c.Topic, c.Group, line),
				"each instance is one member of the group; remove one of the two, or give it another group")
			continue
		}
		t.valErr(at, fmt.Sprintf("group %q on topic %q has members of service %q already, from the [[service.consume]] on line %d",
			c.Group, c.Topic, b.spec.Services[first.svc].Name, line),
			"the members of a group share its partitions, so they must be the instances of one service; give this consume a group of its own (by default, the service's name)")
	}
}

// resolveSagas checks the services, broker and topics a saga names.
func (b *builder) resolveSagas() {
	for _, d := range b.sagas {
		t := d.t
		sg := &b.spec.Sagas[d.idx]
		if sg.Start != "" {
			b.sagaService(t, "start", sg.Start)
		}
		broker := -1
		if sg.Mode == sim.Choreography && sg.Broker != "" {
			c, ok := b.comps[sg.Broker]
			switch {
			case !ok:
				t.valErr("broker", fmt.Sprintf("unknown broker %q", sg.Broker), b.nameHint(sg.Broker, "[[broker]]", kindBroker))
			case c.kind != kindBroker:
				t.valErr("broker", fmt.Sprintf("%q is a %s, not a broker", sg.Broker, c.kind), b.nameHint(sg.Broker, "[[broker]]", kindBroker))
			default:
				broker = c.idx
			}
		}
		for k, st := range d.steps {
			s := sg.Steps[k]
			svcOK := s.Service != "" && b.sagaService(st, "service", s.Service)
			if s.Compensation != "" {
				b.sagaService(st, "compensation", s.Compensation)
			}
			if s.Topic == "" {
				continue
			}
			tp, ok := b.topics[s.Topic]
			switch {
			case !ok:
				st.valErr("topic", fmt.Sprintf("unknown topic %q", s.Topic), b.topicHint(s.Topic, broker))
			case broker >= 0 && tp.broker != broker:
				st.valErr("topic", fmt.Sprintf("topic %q is on broker %q, not on the saga's broker %q", s.Topic, b.spec.Brokers[tp.broker].Name, sg.Broker),
					b.topicHint(s.Topic, broker))
			case svcOK && !slices.ContainsFunc(b.spec.Services[b.comps[s.Service].idx].Consumes, func(c sim.Consume) bool { return c.Topic == s.Topic }):
				st.valErr("topic", fmt.Sprintf("service %q does not consume topic %q, whose events trigger this step", s.Service, s.Topic),
					fmt.Sprintf("add a [[service.consume]] with topic = %q to the [[service]] %q", s.Topic, s.Service))
			}
		}
	}
}

// sagaService checks that key of t names a service, and says whether it
// does.
func (b *builder) sagaService(t *table, key, name string) bool {
	c, ok := b.comps[name]
	switch {
	case !ok:
		t.valErr(key, fmt.Sprintf("unknown service %q", name), b.nameHint(name, "[[service]]", kindService))
	case c.kind != kindService:
		t.valErr(key, fmt.Sprintf("%q is a %s: the participants of a saga are services", name, c.kind), b.nameHint(name, "[[service]]", kindService))
	default:
		return true
	}
	return false
}
