package sim

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// The cascade trace answers "when this failed, what went down with it, in
// which order, and for how long?". Every health change of a component,
// client or client flow is recorded (DESIGN.md's thresholds, confirmed
// over two windows).
//
// An unhealthy episode of a client, flow or service whose failures were
// counted belongs to the faults its failures trace back to (provenance.go),
// in proportion: it is a step of every fault occurrence behind at least
// minShare of the episode's failures, with that share, for as long as
// failures traced to it; when none had a fault behind it, it is no fault's
// (plain overload, a retry storm that outlived its trigger). The floor
// holds per fault: the occurrences of a fault that fires every few ms,
// none of which reaches it alone, reach it together, and the episode is a
// step of the fault, under its first occurrence in it (Repeats). An episode
// without counted failures (a breaker's, a queue's or a data component's
// state decided it) is judged by timing: a change for the worse counts for
// every fault occurrence that began at or before it and lasted until it, or
// ended less than the cascade window before it, if it made the component worse than it
// had been in the cascade window before that fault.

// A consumer group's episode is split by the provenance of its records
// behind, lost and read twice (provenance.go, groupBlame), as a service's
// by its failures, and a view's by its projector's records behind. One without any (a window's state alone decided it)
// and any other episode whose origin is typed is judged by timing among
// its own faults only: a consumer group is degraded or failing by its lag, and
// what makes a group lag is what stopped or slowed its consumption: a
// crashed or paused member (and the rebalance after it), a slow consuming
// service, or its topic's broker (a lost leader, a shrunk ISR, a node
// cut off). Its episode is a step of the fault occurrences on the
// group's own components only: its consuming service and that service's
// instances (a view: the view's own node), its topic's broker and that
// broker's nodes, its topic, and a network partition. A service made unhealthy by instances down is
// likewise a step of the faults on its instances only. A latency fault on
// a service the group's processing does not call, overlapping a member's
// crash, is not the group's origin: it neither stops nor slows a poll
// loop (one on a service it calls does, and its records behind trace
// there: stallOrigin). (Kafka: a member that
// stops heartbeating is removed after session.timeout.ms and its
// partitions go to the others in a rebalance, KafkaConsumer's javadoc,
// "Detecting Consumer Failures", and
// https://kafka.apache.org/documentation/#consumerconfigs_session.timeout.ms;
// until then nobody consumes them.)

// healthChange is one confirmed change of health, dated at its onset.
type healthChange struct {
	at    int64
	name  string
	flow  bool // a client flow, or a client with a single flow
	level Health
	by    Indicator // what decided it: owns reads it
}

// occurrence is one occurrence of a fault.
type occurrence struct {
	fault      int32
	start, end int64 // end: -1 while it lasts
	what       string
	target     string
	short      string // "latency on payment", for the event log
}

// changeLog is one name's health changes, in order. Their onsets never go
// back: a tracker's next candidate level begins after its last change was
// confirmed, so the onsets can be searched. atLeast[l-1][i] counts the
// first i changes at level l or worse, so that the worst level over any
// span of them is two look-ups (baseline), whatever the length of the run.
type changeLog struct {
	idx     []int32 // into s.changes
	at      []int64
	atLeast [2][]int32
}

// noteChange records a health change and, for a change for the worse,
// says in the event log which fault occurrence it followed (-1: none), by
// the cascade's rules: when failures confirmed it (b, the confirming
// window's provenance), the one most of them trace back to, at least
// minShare of them, as an episode with failures is a step of the faults
// its failures trace to, whatever the component was before and whatever
// its type (cascades); else, for a change without counted failures (a
// state: instances down, a breaker; a data component), the latest that
// may own it by timing.
func (s *Sim) noteChange(at int64, name string, flow bool, l Health, by Indicator, b *Blame) (string, int) {
	if s.changesOf == nil {
		s.changesOf = map[string]*changeLog{}
	}
	own := s.changesOf[name]
	if own == nil {
		own = &changeLog{atLeast: [2][]int32{{0}, {0}}}
		s.changesOf[name] = own
	}
	prev := Healthy
	if n := len(own.idx); n > 0 {
		prev = s.changes[own.idx[n-1]].level
	}
	own.idx = append(own.idx, int32(len(s.changes)))
	own.at = append(own.at, at)
	for k := range own.atLeast {
		n := own.atLeast[k][len(own.atLeast[k])-1]
		if l > Health(k) {
			n++
		}
		own.atLeast[k] = append(own.atLeast[k], n)
	}
	s.changes = append(s.changes, healthChange{at: at, name: name, flow: flow, level: l, by: by})
	if l <= prev {
		return "", -1 // better, not worse: no fault to blame
	}
	// The latest fault this change counts for, by the trace's rules: it
	// began before the change, still lasted (or had ended less than the cascade window
	// ago), and the component is worse than before it.
	s.near = s.reaching(at, s.near[:0])
	ch := &s.changes[len(s.changes)-1]
	if b != nil {
		if k := s.blamed(b); k >= 0 {
			oc := &s.occurs[k]
			return fmt.Sprintf(" · %s after the %s", fmtDelay(at-oc.start), oc.short), int(k)
		}
		return "", -1
	}
	for _, k := range slices.Backward(s.near) {
		if oc := &s.occurs[k]; l > s.baseline(name, oc.start) && s.owns(ch, oc) {
			return fmt.Sprintf(" · %s after the %s", fmtDelay(at-oc.start), oc.short), int(k)
		}
	}
	return "", -1
}

// blamed is the occurrence among s.near (those that reach the change) to
// whose fault most of b's failures trace back, at least minShare of them
// as for a cascade's step; -1 when none is. Neither the component's
// baseline nor the typed rule (owns) applies: the cascade judges an
// episode by timing only when it counted no failures. An origin names the
// first occurrence of its fault in its window: it counts for the fault's
// occurrence that reaches the change.
func (s *Sim) blamed(b *Blame) int32 {
	floor := minShare * float64(b.Faulted+b.NoFault)
	best, most := int32(-1), uint64(0)
	for _, k := range s.near {
		var n uint64
		for _, o := range b.Origins {
			if o.Fault != nil && s.occurs[*o.Fault].fault == s.occurs[k].fault {
				n += o.N
			}
		}
		if n > 0 && n >= most && float64(n) >= floor {
			best, most = k, n // the later of two that explain as many
		}
	}
	return best
}

func fmtDelay(d int64) string {
	return "+" + time.Duration(d).Round(time.Millisecond).String()
}

// beginOccurrence and endOccurrence keep the fault occurrences, in order
// of their starts, and each fault's own in occOf.
func (s *Sim) beginOccurrence(f *fault) {
	if len(s.occurs) == 0 {
		s.freezeBaselines() // the level before the fault is known
	}
	oc := occurrence{fault: f.idx, start: s.now, end: -1, what: f.describe(), target: s.faultComponent(f)}
	oc.short = f.spec.Kind.String() + " on " + oc.target
	if f.spec.Kind == FaultPartition {
		oc.short = "partition"
	}
	for int(f.idx) >= len(s.occOf) {
		s.occOf = append(s.occOf, nil) // a fault injected during the run
	}
	s.occOf[f.idx] = append(s.occOf[f.idx], int32(len(s.occurs)))
	s.occurs = append(s.occurs, oc)
	s.lasting++
	s.countReach(f, 1)
}

// endOccurrence ends the fault's last occurrence, and returns its index
// (-1 when it has none): a fault's occurrences never overlap (one due
// while the last lasts is skipped).
func (s *Sim) endOccurrence(f *fault) int {
	if int(f.idx) >= len(s.occOf) {
		return -1
	}
	if own := s.occOf[f.idx]; len(own) > 0 {
		k := own[len(own)-1]
		if oc := &s.occurs[k]; oc.end < 0 {
			oc.end = s.now
			s.lasting--
			s.countReach(f, -1)
		}
		return int(k)
	}
	return -1
}

// owns reports whether occurrence oc may be the origin of change ch by
// the typed rule above: always, for a change whose origin is untyped.
func (s *Sim) owns(ch *healthChange, oc *occurrence) bool {
	f := &s.faults[oc.fault]
	if ch.by == ByInstancesDown || ch.by == ByNoInstanceUp {
		for i := range s.services {
			if s.services[i].spec.Name == ch.name {
				return f.svc == int32(i)
			}
		}
		return true
	}
	for i := range s.groups {
		g := &s.groups[i]
		// A view's projector is a group whose consuming process is the
		// view's own node: the view's changes are its lag's.
		own := ""
		switch {
		case g.view >= 0 && "view "+s.views[g.view].spec.Name == ch.name:
			own = s.views[g.view].spec.Name
		case g.view < 0 && g.label() == ch.name:
		default:
			continue
		}
		if g.svc >= 0 && f.svc == g.svc || f.topic == g.topic || f.spec.Kind == FaultPartition {
			return true
		}
		b := &s.brokers[s.topics[g.topic].broker]
		for _, n := range f.nodes {
			if n.group == b.spec.Name || own != "" && n.group == own {
				return true
			}
		}
		return false
	}
	return true
}

// reaching appends to buf the occurrences that reach t (see reaches), in
// increasing order. A fault's occurrences never overlap, so at most its
// last one begun by t is still going; one that ended before the latest
// start by t reaches nothing any more, nor do the fault's earlier ones.
// The cost is a binary search per fault, not a scan of every occurrence:
// a fault that fires every 2 ms has 30,000 of them a minute.
func (s *Sim) reaching(t int64, buf []int32) []int32 {
	n, _ := slices.BinarySearchFunc(s.occurs, t+1, func(oc occurrence, t int64) int { return cmp.Compare(oc.start, t) })
	if n == 0 {
		return buf
	}
	latest := s.occurs[n-1].start
	from := len(buf)
	for _, own := range s.occOf {
		j, _ := slices.BinarySearchFunc(own, t+1, func(k int32, t int64) int { return cmp.Compare(s.occurs[k].start, t) })
		for j--; j >= 0; j-- {
			oc := &s.occurs[own[j]]
			if oc.end >= 0 && oc.end < latest {
				break
			}
			if s.reaches(oc, t) {
				buf = append(buf, own[j])
			}
		}
	}
	slices.Sort(buf[from:])
	return buf
}

// CascadeResult is how one fault occurrence spread.
type CascadeResult struct {
	// Name identifies the fault across runs and variants: its kind, with
	// its target when another fault has the same kind, and "#k" from the
	// second occurrence of a repeating fault on.
	Name string `json:"name"`
	// Occurrence is which occurrence of its fault it is: 1 for the first,
	// k for the k-th, whose Name ends in "#k"; a reader never parses it
	// out of the name.
	Occurrence int      `json:"-"`
	Fault      string   `json:"fault"` // what it did, as the event log says
	Target     string   `json:"target"`
	StartS     float64  `json:"start_s"`
	EndS       *float64 `json:"end_s"` // null: it lasted to the end of the run
	// Steps are the components, clients and flows whose health changed
	// after it, in the order they changed.
	Steps []CascadeStep `json:"steps"`
	// BlastRadius is the share of the traffic, during the fault, in flows
	// that turned degraded or failing after it: a client flow is a
	// client's requests along one gateway route or to one operation (or
	// the client itself when it has one); a business flow is a saga, a
	// consumer group or a view, its traffic weighted (businessFlows).
	BlastRadius float64  `json:"blast_radius"`
	FlowsHit    []string `json:"flows_hit"`
	// FirstFlowS is the delay until the first flow turned unhealthy (when
	// users felt it), LastStepS until the last step: null when none.
	FirstFlowS *float64 `json:"first_flow_s"`
	LastStepS  *float64 `json:"last_step_s"`
	// Recovery is the metastability verdict (recovery.go): per client
	// flow, whether and when its goodput came back after the fault ended.
	// Recovered says whether every flow did (null while the fault lasts,
	// or when no flow had goodput before it), RecoveryS when the last one
	// did (null when one did not), and SustainedBy what kept the bad
	// state alive when one did not.
	Recovery []FlowRecovery `json:"recovery,omitempty"`
	// GroupRecovery is the verdict on each consumer group in its blast
	// radius: whether and when it caught up after the fault ended. A
	// group that did not makes Recovered false; RecoveryS counts them.
	GroupRecovery []GroupRecovery   `json:"group_recovery,omitempty"`
	Recovered     *bool             `json:"recovered"`
	RecoveryS     *float64          `json:"recovery_s"`
	SustainedBy   []SustainingCause `json:"sustained_by,omitempty"`
}

// CascadeStep is one component (or client, or flow) that turned unhealthy.
type CascadeStep struct {
	Component string  `json:"component"`
	Flow      bool    `json:"flow"` // a client flow: what users see
	DelayS    float64 `json:"delay_s"`
	First     Health  `json:"first"` // the level it turned to
	Worst     Health  `json:"worst"` // the worst it reached before recovering
	// RecoveredS is the virtual time it was healthy again for good: a
	// later episode of the fault's doing (its failures trace to it, or
	// by timing a relapse while the fault still counts) extends the
	// step. When its failures traced to this fault ended before its
	// episode did, and others (of another fault, or of none) went on,
	// it is the end of the last window with one of them. Null when
	// neither came by the end.
	RecoveredS *float64 `json:"recovered_s"`
	// Share is the part of its episode's failures that trace back to this
	// fault (failure provenance); null when the episode had no counted
	// failures and was given to the fault by timing alone.
	Share *float64 `json:"share"`
	// By is what decided the change: error_share, latency, lag, ... (the
	// indicator of its Reason).
	By Indicator `json:"by"`
	// Outlived says that the component stayed unhealthy after RecoveredS,
	// its failures from then on traced to another fault or to none (a
	// retry storm after its trigger): RecoveredS is when this fault's part
	// ended, not when it was healthy. The run's recovery verdict, on
	// goodput, may then say its flow did not recover.
	Outlived bool `json:"outlived"`
	// WorstBy is what decided the change to Worst (By when Worst is
	// First): a step degraded on latency may fail on errors.
	WorstBy Indicator `json:"worst_by"`
	// Repeats says that Share sums the failures of all the fault's
	// occurrences in the episode, none of which caused minShare of them
	// alone (a fault that fires every few ms): the step is the fault's,
	// listed under its first occurrence in the episode.
	Repeats bool `json:"repeats"`
}

// cascades builds the trace of every fault occurrence so far. It walks
// the changes once, each against the occurrences that reach it (a few,
// found by reaching), rather than every occurrence against every change.
func (s *Sim) cascades() []CascadeResult {
	type stepKey struct {
		oc   int32
		name string
	}
	steps := make([][]CascadeStep, len(s.occurs))
	// stepped is, per occurrence and name, its step's index in steps.
	stepped := map[stepKey]int{}
	// covered is, per fault and name, until when an episode was given to
	// the fault's occurrences together (math.MaxInt64: to the end).
	covered := map[stepKey]int64{}
	var near []int32
	business := s.businessFlows()
	series := s.seriesByName(business)
	for i := range s.changes {
		ch := &s.changes[i]
		if ch.level == Healthy {
			continue
		}
		if ep := s.episode(i, series[ch.name]); ep.failures > 0 {
			floor := minShare * float64(ep.failures)
			for _, by := range ep.byFault {
				k := int32(by.fault)
				if float64(by.n) < floor || ch.at < covered[stepKey{s.occurs[k].fault, ch.name}] {
					continue
				}
				st := s.tracedStep(i, k, &ep, float64(by.n)/float64(ep.failures), false)
				if j, ok := stepped[stepKey{k, ch.name}]; ok {
					// A later episode of the same fault's doing: the
					// step lasts until it ended too.
					steps[k][j].relapse(&st)
					continue
				}
				stepped[stepKey{k, ch.name}] = len(steps[k])
				steps[k] = append(steps[k], st)
			}
			// The floor holds per fault: a fault that fires every few
			// ms splits an episode's failures over thousands of
			// occurrences, none of which reaches it alone. When none
			// of a fault's occurrences does and all of them together
			// do, the episode is a step of its first occurrence in
			// it, with the share of them all; the later changes of
			// the episode are then the fault's already, not steps of
			// its later occurrences.
			for _, fc := range ep.perFault(s.occurs) {
				f, key := s.occurs[fc.first].fault, stepKey{fc.first, ch.name}
				fkey := stepKey{f, ch.name}
				if _, done := stepped[key]; float64(fc.n) < floor || float64(fc.alone) >= floor || ch.at < covered[fkey] || done {
					continue
				}
				covered[fkey] = math.MaxInt64
				if ep.healthy >= 0 {
					covered[fkey] = ep.healthy
				}
				stepped[key] = len(steps[fc.first])
				steps[fc.first] = append(steps[fc.first], s.tracedStep(i, fc.first, &ep, float64(fc.n)/float64(ep.failures), true))
			}
			continue
		}
		near = s.reaching(ch.at, near[:0])
		for _, k := range near {
			oc := &s.occurs[k]
			if _, done := stepped[stepKey{k, ch.name}]; done || !s.owns(ch, oc) {
				continue // a worsening of a step is counted below; or not its origin
			}
			base := s.baseline(ch.name, oc.start)
			if ch.level <= base {
				continue // no worse than it already was: not the fault's doing
			}
			stepped[stepKey{k, ch.name}] = len(steps[k])
			steps[k] = append(steps[k], s.step(oc, i, base))
		}
	}
	names := make([]string, len(s.faults))
	seen := map[string]int{}
	var out []CascadeResult // null in --json when no fault began
	for k := range s.occurs {
		oc := &s.occurs[k]
		if names[oc.fault] == "" {
			names[oc.fault] = s.cascadeName(&s.faults[oc.fault])
		}
		base := names[oc.fault]
		name := base
		if n := seen[base]; n > 0 {
			name += fmt.Sprintf(" #%d", n+1)
		}
		seen[base]++
		cr := CascadeResult{Name: name, Occurrence: seen[base], Fault: oc.what, Target: oc.target, StartS: float64(oc.start) / 1e9, Steps: steps[k]}
		if oc.end >= 0 {
			cr.EndS = optional(float64(oc.end) / 1e9)
		}
		// The log is sorted by onset; the changes are recorded as windows
		// close, so sort them the same way.
		slices.SortStableFunc(cr.Steps, func(a, b CascadeStep) int {
			switch {
			case a.DelayS < b.DelayS:
				return -1
			case a.DelayS > b.DelayS:
				return 1
			}
			return 0
		})
		if n := len(cr.Steps); n > 0 {
			cr.LastStepS = optional(cr.Steps[n-1].DelayS)
		}
		for _, st := range cr.Steps {
			if st.Flow {
				cr.FirstFlowS = optional(st.DelayS)
				break
			}
		}
		cr.BlastRadius, cr.FlowsHit = s.blastRadius(k, cr.Steps, business)
		s.recovery(k, &cr)
		out = append(out, cr)
	}
	return out
}

// step is what change i, worse than base, makes of its component as a
// step of occurrence oc: how bad it got and when it recovered.
func (s *Sim) step(oc *occurrence, i int, base Health) CascadeStep {
	ch := &s.changes[i]
	st := CascadeStep{Component: ch.name, Flow: ch.flow, DelayS: float64(ch.at-oc.start) / 1e9,
		First: ch.level, Worst: ch.level, By: ch.by}
	// It recovered when it was healthy for good: a relapse within the
	// fault's reach undoes a recovery.
	worst, worstBy := ch.level, ch.by
	own := s.changesOf[ch.name].idx
	k, _ := slices.BinarySearch(own, int32(i))
scan:
	for _, j := range own[k+1:] {
		later := &s.changes[j]
		switch {
		case later.level == Healthy:
			if st.RecoveredS == nil {
				st.RecoveredS = optional(float64(later.at) / 1e9)
			}
		case later.level > base && s.reaches(oc, later.at):
			st.RecoveredS = nil // relapsed while the fault still counts
			if later.level > worst {
				worst, worstBy = later.level, later.by
			}
		case st.RecoveredS != nil:
			break scan // a later episode is not this fault's
		}
	}
	st.Worst, st.WorstBy = worst, worstBy
	return st
}

// reaches reports whether a change at t may be fault occurrence oc's
// doing: it began by then, and still lasted, or ended less than the cascade window
// before t with no other fault begun since. The occurrences are in order
// of their starts: the first begun after oc's end is found by a binary
// search.
func (s *Sim) reaches(oc *occurrence, t int64) bool {
	switch {
	case oc.start > t:
		return false
	case oc.end < 0 || t < oc.end:
		return true
	case t >= after(oc.end, s.cascadeWindow):
		return false
	}
	k, _ := slices.BinarySearchFunc(s.occurs, oc.end+1, func(o occurrence, t int64) int { return cmp.Compare(o.start, t) })
	// The aftermath of oc, or the start of the next one?
	return k == len(s.occurs) || s.occurs[k].start > t
}

// The cascade window (Spec.CascadeWindow, 30 s by default) is both how
// long after a fault ends a change may still be its doing (its reach:
// queues drain, breakers close, retries die down) and how far before a
// fault a component's health counts as its usual state (its look-back).
// defaultCascadeWindow is faultline's own choice: no real system defines
// it; it is a scenario key so that scaling time scales it too.
const defaultCascadeWindow = 30 * time.Second

// baseline is the worst health name had in the cascade window before t, and at
// t: a component that flaps between healthy and degraded by itself (2%
// background errors) is not degraded by a fault that starts meanwhile.
func (s *Sim) baseline(name string, t int64) Health {
	own := s.changesOf[name]
	if own == nil {
		return Healthy
	}
	p, _ := slices.BinarySearch(own.at, t) // the changes before t
	if p == 0 {
		return Healthy
	}
	q, _ := slices.BinarySearch(own.at, t-s.cascadeWindow) // and those before the look-back
	level := s.changes[own.idx[p-1]].level                 // the level in effect at t
	for l := Failing; l > level; l-- {
		if own.atLeast[l-1][p] > own.atLeast[l-1][q] {
			return l
		}
	}
	return level
}

// cascadeName names a fault in the trace as CascadeName does, with the
// targets as the engine resolved them.
func (s *Sim) cascadeName(f *fault) string {
	specs := make([]Fault, len(s.faults))
	for i := range s.faults {
		specs[i] = *s.faults[i].spec
		specs[i].Target = s.faults[i].target.String()
	}
	return CascadeName(specs, int(f.idx))
}

// CascadeName names fault i of faults in the cascade trace so that runs of
// the same scenario can be compared, variants included: by its Name when it
// has one; else by its kind when no other unnamed fault has it, else by its
// kind and target (by its number for a partition). Named faults do not
// count, so that a variant adding or removing a named fault leaves the
// names of the others as they were.
func CascadeName(faults []Fault, i int) string {
	f := &faults[i]
	if f.Name != "" {
		return f.Name
	}
	n := 0
	for j := range faults {
		if faults[j].Kind == f.Kind && faults[j].Name == "" {
			n++
		}
	}
	name := f.Kind.String()
	switch {
	case n == 1:
	case f.Kind == FaultPartition:
		name += fmt.Sprintf(" %d", i+1)
	default:
		name += " " + f.Target
	}
	return name
}

// blastRadius weighs the flows hit by their traffic during the fault, from
// its start to its end, or to now when it has not ended: the clients'
// flows, then the business flows, by their weights.
func (s *Sim) blastRadius(k int, steps []CascadeStep, business []businessFlow) (float64, []string) {
	oc := &s.occurs[k]
	end := oc.end
	if end < 0 {
		end = after(s.now, 1)
	}
	// The windows are in order: skip to the first that ends after the
	// start, rather than test every window of the run for every
	// occurrence.
	sent := func(ws []Window) uint64 {
		i, _ := slices.BinarySearchFunc(ws, oc.start-s.window+1, func(w Window, t int64) int { return cmp.Compare(int64(w.Start), t) })
		var n uint64
		for _, w := range ws[i:] {
			if int64(w.Start) >= end {
				break
			}
			n += w.Sent
		}
		return n
	}
	// traced is the share of a flow's failures during the fault that
	// trace back to it (to any occurrence of its fault, for a step of
	// them all).
	traced := func(ws []Window, repeats bool) float64 {
		i, _ := slices.BinarySearchFunc(ws, oc.start-s.window+1, func(w Window, t int64) int { return cmp.Compare(int64(w.Start), t) })
		var it, n uint64
		for _, w := range ws[i:] {
			if int64(w.Start) >= end {
				break
			}
			if b := w.Provenance(); b != nil {
				it += s.tracedTo(b, int32(k), repeats)
				n += b.Faulted + b.NoFault
			}
		}
		if n == 0 {
			return 0
		}
		return float64(it) / float64(n)
	}
	var all, hitF float64
	var names []string
	add := func(name string, ws []Window, weight float64, flow bool) {
		n := weight * float64(sent(ws))
		all += n
		if k := slices.IndexFunc(steps, func(st CascadeStep) bool { return st.Flow == flow && st.Component == name }); k >= 0 {
			// A flow whose failures during the fault trace in part to
			// it is hit in that proportion.
			share := 1.0
			if steps[k].Share != nil {
				share = traced(ws, steps[k].Repeats)
			}
			hitF += share * n
			names = append(names, name)
		}
	}
	for i := range s.clients {
		c := &s.clients[i]
		if len(c.flows) == 0 {
			add(c.spec.Name, c.series, 1, true)
			continue
		}
		for j := range c.flows {
			add(c.flows[j].name, c.flows[j].series, 1, true)
		}
	}
	for _, b := range business {
		add(b.name, b.ws, b.weight, false)
	}
	if all == 0 {
		return 0, names
	}
	return hitF / all, names
}

// businessFlow is a flow of work that no client waits on but the business
// does: a saga's instances, the records of a consumer group's topic, the
// reads of a view. Its windows are a client's shape for the cascade and
// the blast radius: Sent is its traffic in its own unit (sagas started,
// records produced to the topic, reads), Blame a saga's or a consumer
// group's provenance.
type businessFlow struct {
	name   string // as its health changes name it
	ws     []Window
	weight float64 // of one unit, in client requests
}

// businessFlows returns the run's business flows, sagas first, then
// consumer groups (not a view's projector: the view is the flow), then
// views, each in spec order. A flow's weight is its spec's (1 when
// unset): one saga, record or read weighs as one client request, so that
// a fault that rolls back a third of the orders, one saga per checkout,
// weighs as much as one that fails a third of the checkouts; a user who
// values them otherwise says so with the key.
func (s *Sim) businessFlows() []businessFlow {
	weight := func(w float64) float64 {
		if w > 0 {
			return w
		}
		return 1
	}
	var out []businessFlow
	for i := range s.sagas {
		sg := &s.sagas[i]
		ws := make([]Window, len(sg.series))
		for j, w := range sg.series {
			ws[j] = flowWindow(w, w.Saga().Started)
			ws[j].Blame = w.Blame
		}
		out = append(out, businessFlow{name: "saga " + sg.spec.Name, ws: ws, weight: weight(sg.spec.Weight)})
	}
	for i := range s.groups {
		g := &s.groups[i]
		if g.view >= 0 {
			continue
		}
		ts := s.topics[g.topic].series
		ws := make([]Window, min(len(g.series), len(ts)))
		for j := range ws {
			ws[j] = flowWindow(g.series[j], ts[j].Topic().Produced)
			ws[j].Blame = g.series[j].Blame
		}
		out = append(out, businessFlow{name: g.label(), ws: ws, weight: weight(g.spec.Weight)})
	}
	for i := range s.views {
		v := &s.views[i]
		ws := make([]Window, len(v.series))
		for j, w := range v.series {
			ws[j] = flowWindow(w, w.View().Reads)
			ws[j].Blame = w.Blame
		}
		out = append(out, businessFlow{name: "view " + v.spec.Name, ws: ws, weight: weight(v.spec.Weight)})
	}
	return out
}

// flowWindow is window w of a business flow as the cascade reads a
// client flow's: its span and the engine's verdict, with sent, what the
// flow carried in it in its own unit.
func flowWindow(w Window, sent uint64) Window {
	return Window{Kind: w.Kind, Start: w.Start, End: w.End, Health: w.Health, Reason: w.Reason, Sent: sent}
}

// tracedTo counts the origins of b that trace to occurrence k, or with
// repeats to any occurrence of k's fault.
func (s *Sim) tracedTo(b *Blame, k int32, repeats bool) uint64 {
	var n uint64
	for _, o := range b.Origins {
		switch {
		case o.Fault == nil:
		case *o.Fault == int(k), repeats && s.occurs[*o.Fault].fault == s.occurs[k].fault:
			n += o.N
		}
	}
	return n
}

// optional is a value in a result that may be absent, written as null
// rather than a sentinel such as -1 that a script would take for a value.
func optional(x float64) *float64 { return &x }

// minShare is the least part of an episode's failures that makes it a
// step of a fault: a handful of stragglers does not.
const minShare = 0.05

// seriesByName maps every client, flow, service and business flow to its windows,
// whose Blame the provenance steps read.
func (s *Sim) seriesByName(business []businessFlow) map[string][]Window {
	m := map[string][]Window{}
	for i := range s.clients {
		c := &s.clients[i]
		m[c.spec.Name] = c.series
		for j := range c.flows {
			m[c.flows[j].name] = c.flows[j].series
		}
	}
	for i := range s.services {
		m[s.services[i].spec.Name] = s.services[i].series
	}
	for _, b := range business {
		m[b.name] = b.ws
	}
	return m
}

// episode is the stretch of windows from a change for the worse until its
// component was healthy again, and whom its failures (its slow answers,
// in the windows its latency decided) trace back to.
type episode struct {
	ws       []Window
	from     int   // ws[from] is the window of the change's onset
	to       int   // the windows of the episode are ws[from:to]
	healthy  int64 // when it was healthy again; -1: not by the end
	failures uint64
	byFault  []faultCount // in order of the occurrences
}

type faultCount struct {
	fault int
	n     uint64
}

// repeatCount is what an episode's failures owe one fault, over all its
// occurrences: n in all, the most any one of them caused alone, and the
// first of them (an occurrence index).
type repeatCount struct {
	n, alone uint64
	first    int32
}

// perFault sums the episode's failures by fault, in order of the faults'
// first occurrences in it.
func (ep *episode) perFault(occurs []occurrence) []repeatCount {
	var out []repeatCount
	for _, by := range ep.byFault { // in order of the occurrences
		f := occurs[by.fault].fault
		k := slices.IndexFunc(out, func(rc repeatCount) bool { return occurs[rc.first].fault == f })
		if k < 0 {
			out = append(out, repeatCount{first: int32(by.fault)})
			k = len(out) - 1
		}
		out[k].n += by.n
		out[k].alone = max(out[k].alone, by.n)
	}
	return out
}

// episode gathers the failures of the episode that change i begins, from
// its component's windows ws (nil: none are kept).
func (s *Sim) episode(i int, ws []Window) episode {
	ep := episode{ws: ws, healthy: -1}
	if len(ws) == 0 {
		return ep
	}
	ch := &s.changes[i]
	own := s.changesOf[ch.name].idx
	k, _ := slices.BinarySearch(own, int32(i))
	for _, j := range own[k+1:] {
		if s.changes[j].level == Healthy {
			ep.healthy = s.changes[j].at
			break
		}
	}
	at := func(t int64) int {
		n, _ := slices.BinarySearchFunc(ws, t, func(w Window, t int64) int { return cmp.Compare(int64(w.Start), t) })
		return n
	}
	ep.from = max(at(ch.at-s.window+1), 0)
	ep.to = len(ws)
	if ep.healthy >= 0 {
		// Two components of one name (consumer groups a spec built in
		// Go left unnamed) share a change log: its next recovery may be
		// the other's, dated before this change.
		ep.to = max(at(ep.healthy), ep.from)
	}
	for j := range ws[ep.from:ep.to] {
		b := ws[ep.from+j].Provenance()
		if b == nil {
			continue
		}
		ep.failures += b.Faulted + b.NoFault
		for _, o := range b.Origins {
			if o.Fault == nil {
				continue
			}
			n, found := slices.BinarySearchFunc(ep.byFault, *o.Fault, func(fc faultCount, f int) int { return cmp.Compare(fc.fault, f) })
			if !found {
				ep.byFault = slices.Insert(ep.byFault, n, faultCount{fault: *o.Fault})
			}
			ep.byFault[n].n += o.N
		}
	}
	return ep
}

// tracedStep is change i's episode as a step of occurrence k, behind
// share of its failures (of those of all k's fault's occurrences when
// repeats): from the change's onset, or from the first window with a
// failure traced to k when others failed before, to the last window with
// one.
func (s *Sim) tracedStep(i int, k int32, ep *episode, share float64, repeats bool) CascadeStep {
	ch, oc := &s.changes[i], &s.occurs[k]
	first, last, firstAny := -1, -1, -1
	for j := ep.from; j < ep.to; j++ {
		b := ep.ws[j].Provenance()
		if b != nil && firstAny < 0 {
			firstAny = j
		}
		if b != nil && s.tracedTo(b, k, repeats) > 0 {
			if first < 0 {
				first = j
			}
			last = j
		}
	}
	// A component whose instances the fault took down has not recovered
	// while they are down, though no failure traces to it any more: once
	// the endpoints drop them (probe.go) its callers fail without
	// reaching it, and its windows count nothing. The windows its state
	// judged by the instances down (stateHealth), when the fault is on
	// them (owns), are the fault's too, and so is the rest of the episode
	// when nothing failed in it (the window in which they restart).
	if last >= 0 && last+1 < ep.to && s.downBy(&ep.ws[last+1], ch.name, oc) {
		for last+1 < ep.to && (s.downBy(&ep.ws[last+1], ch.name, oc) || ep.ws[last+1].Provenance() == nil) {
			last++
		}
	}
	// The episode is the fault's from its onset when the fault's failures
	// were the first it had (a queue saturated before it overflowed).
	at, level, by := ch.at, ch.level, ch.by
	end := int64(ep.ws[last].Start) + s.window
	own := s.changesOf[ch.name].idx
	j, _ := slices.BinarySearch(own, int32(i))
	if first > firstAny {
		// It began with the first change within the fault's failures,
		// or with the first window of them, and is told by what decided
		// that one: the episode's opening change was another cause's.
		at, level, by = int64(ep.ws[first].Start), max(ep.ws[first].Health, Degraded), ep.ws[first].Reason.By
		for _, c := range own[j:] {
			if ch := &s.changes[c]; ch.at >= at && ch.at < end && ch.level != Healthy {
				at, level, by = ch.at, ch.level, ch.by
				break
			}
		}
	}
	at = max(at, oc.start, ch.at)
	// Its worst is the worst confirmed change of the component from the
	// step's onset while its failures traced to the fault: a level the
	// episode reached before, for another fault, is not this step's.
	worst, worstBy := level, by
	for _, c := range own[j:] {
		if s.changes[c].at >= end {
			break
		}
		if c := &s.changes[c]; c.at >= at && c.level > worst {
			worst, worstBy = c.level, c.by
		}
	}
	st := CascadeStep{Component: ch.name, Flow: ch.flow, DelayS: float64(at-oc.start) / 1e9,
		First: level, Worst: worst, By: by, WorstBy: worstBy, Share: optional(share), Repeats: repeats}
	switch {
	case last < ep.to-1 && ep.failedAfter(last):
		// Its failures stopped before the episode ended, and others
		// went on: the rest of it traces elsewhere.
		st.RecoveredS, st.Outlived = optional(float64(end)/1e9), true
	case ep.healthy >= 0:
		// Until it was healthy again; the windows after the fault's
		// last failure with none at all (a breaker still open, a queue
		// draining) are the fault's aftermath, no one else's.
		st.RecoveredS = optional(float64(ep.healthy) / 1e9)
	}
	return st
}

// downBy reports whether window w of component name was judged unhealthy
// by its instances down, and occurrence oc is a fault on them.
func (s *Sim) downBy(w *Window, name string, oc *occurrence) bool {
	by := w.Reason.By
	return w.Health != Healthy && (by == ByInstancesDown || by == ByNoInstanceUp) &&
		s.owns(&healthChange{name: name, by: by}, oc)
}

// failedAfter reports whether a window of the episode after ws[j] counted
// a failure (a slow answer, when its latency decided it).
func (ep *episode) failedAfter(j int) bool {
	for _, w := range ep.ws[j+1 : ep.to] {
		if w.Provenance() != nil {
			return true
		}
	}
	return false
}

// relapse extends step st by a later episode of its component that traces
// to the same fault occurrence (later): the step recovered when the last
// of them ended, and its worst is the worst of them. Its delay, first
// level and share stay the first episode's.
func (st *CascadeStep) relapse(later *CascadeStep) {
	st.RecoveredS, st.Outlived = later.RecoveredS, later.Outlived
	if later.Worst > st.Worst {
		st.Worst, st.WorstBy = later.Worst, later.WorstBy
	}
}
