package sim

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// BrokerResult is one broker cluster, at the time of the result: its nodes
// and how many of them serve (neither crashed nor paused), as a service's
// InstancesUp counts its instances.
type BrokerResult struct {
	Name    string   `json:"name"`
	Nodes   int      `json:"nodes"`
	NodesUp int      `json:"nodes_up"`
	Topics  []string `json:"topics"`
}

// TopicResult is what happened on one topic, over the whole run (warmup
// included, so that the counts balance).
type TopicResult struct {
	Name       string `json:"name"`
	Broker     string `json:"broker"`
	Partitions int    `json:"partitions"`
	Produced   uint64 `json:"produced"` // records written to a leader
	// ProduceErrors counts records their producer gave up on: its delivery
	// timeout passed or its retries were spent (and acks=0 records lost
	// on the way).
	ProduceErrors uint64 `json:"produce_errors"`
	// ProduceRetries counts the attempts that failed with a retriable
	// error and were sent again; NotEnoughReplicas the attempts refused
	// because the ISR was below min.insync.replicas.
	ProduceRetries    uint64 `json:"produce_retries"`
	NotEnoughReplicas uint64 `json:"not_enough_replicas"`
	// Lost counts records cut from the log by a leader change; LostAcked
	// those of them whose producer had been told they were written.
	Lost            uint64 `json:"lost"`
	LostAcked       uint64 `json:"lost_acked"`
	LeaderChanges   uint64 `json:"leader_changes"`
	UnderReplicated int    `json:"under_replicated"` // partitions whose ISR is short at the end
	Offline         int    `json:"offline"`          // partitions without a leader at the end
	// Health is the engine's verdict on the whole run, by its windows'
	// rule (judgeTopic, judgeGroup, ...: health.go).
	Health Health   `json:"-"`
	Series []Window `json:"series,omitempty" series:"topic"`
}

// GroupResult is one consumer group (or view projector). Produced =
// Consumed + Lagging + Lost.
type GroupResult struct {
	Name     string `json:"name"`
	Topic    string `json:"topic"`
	Consumer string `json:"consumer"` // the service or view
	Produced uint64 `json:"produced"`
	Consumed uint64 `json:"consumed"` // records processed (or dead-lettered, or dropped) at least once
	Lagging  uint64 `json:"lagging"`  // not yet consumed at the end
	// Lost counts records this group will never read: expired, cut by a
	// leader change, or committed before processing that died.
	Lost          uint64  `json:"lost"`
	Duplicates    uint64  `json:"duplicates"`  // records processed again after a crash
	Redelivered   uint64  `json:"redelivered"` // processing retries of failed records
	DeadLettered  uint64  `json:"dead_lettered"`
	Dropped       uint64  `json:"dropped"` // failed records given up on without a dead-letter topic
	Rebalances    uint64  `json:"rebalances"`
	LagRecords    int64   `json:"lag_records"` // at the end: log end - committed
	LagS          float64 `json:"lag_s"`       // at the end: age of the oldest uncommitted record
	MaxLagRecords int64   `json:"max_lag_records"`
	MaxLagS       float64 `json:"max_lag_s"`
	EndToEnd      Latency `json:"end_to_end_ms"` // append to processed
	// Partitions is the lag of each partition at the end, and who owns it.
	Partitions []PartitionLag `json:"partitions"`
	// Health is the engine's verdict on the whole run, by its windows'
	// rule (judgeTopic, judgeGroup, ...: health.go).
	Health Health   `json:"-"`
	Series []Window `json:"series,omitempty" series:"group"`
}

// PartitionLag is a consumer group's position on one partition.
type PartitionLag struct {
	Partition  int     `json:"partition"`
	Owner      string  `json:"owner"` // the member that owns it, "" during a rebalance or with no member
	LogEnd     int64   `json:"log_end"`
	Committed  int64   `json:"committed"`
	LagRecords int64   `json:"lag_records"`
	LagS       float64 `json:"lag_s"`
}

// StoreResult is one replicated store, after warmup.
type StoreResult struct {
	Name        string `json:"name"`
	N           int    `json:"n"`
	W           int    `json:"w"`
	R           int    `json:"r"`
	Reads       uint64 `json:"reads"`
	Writes      uint64 `json:"writes"`
	Unavailable uint64 `json:"unavailable"` // too few replicas up for the quorum
	Timeouts    uint64 `json:"timeouts"`    // the quorum did not answer in time
	// ConditionalWrites counts the writes (among Writes) conditioned on
	// a version; Conflicts those that found the key changed.
	ConditionalWrites uint64 `json:"conditional_writes,omitempty"`
	Conflicts         uint64 `json:"conflicts,omitempty"`
	// StaleReads counts reads that returned an older version than the
	// newest committed when they started; FreshReads the others (reads
	// of never-written keys count in neither).
	StaleReads    uint64  `json:"stale_reads"`
	FreshReads    uint64  `json:"fresh_reads"`
	StaleShare    float64 `json:"stale_share"`
	LostUpdates   uint64  `json:"lost_updates"` // acknowledged writes that last-writer-wins discards
	ReadRepairs   uint64  `json:"read_repairs"`
	HintsReplayed uint64  `json:"hints_replayed"`
	ReadLatency   Latency `json:"read_latency_ms"`
	WriteLatency  Latency `json:"write_latency_ms"`
	// ReplicationLag is the time from a write's start until a replica
	// applied it, over every replica that did.
	ReplicationLag Latency `json:"replication_lag_ms"`
	// Visibility is the t-visibility curve of Bailis et al.: per bin of a
	// log-spaced grid of t, the time from the commit of a key's newest
	// committed version to a read's start, the reads filed there and the
	// share that saw that version or a newer one (visibility.go).
	Visibility []VisPoint `json:"t_visibility"`
	// T99 and T999: the t from which on the curve's monotone fit is at
	// least 99 % (99.9 %).
	T99  TVis `json:"t_visibility_99"`
	T999 TVis `json:"t_visibility_999"`
	// KStaleness[k] is the share of reads that returned one of the last
	// k+1 committed versions (k = 0: the latest).
	KStaleness []float64 `json:"k_staleness"`
	// Health is the engine's verdict on the whole run, by its windows'
	// rule (judgeTopic, judgeGroup, ...: health.go).
	Health Health   `json:"-"`
	Series []Window `json:"series,omitempty" series:"store"`
}

// VisPoint is one bin of the t-visibility curve that has reads.
type VisPoint struct {
	FromMS float64 `json:"from_ms"`         // the bin: t in [from, to)
	ToMS   float64 `json:"to_ms,omitempty"` // none for the last bin, t >= 100 s
	TMS    float64 `json:"t_ms"`            // the mean t of its reads, where the point is drawn
	Reads  uint64  `json:"reads"`
	Fresh  float64 `json:"fresh"` // the share of its reads that saw the commit
	Fit    float64 `json:"fit"`   // the monotone fit, on which the t values are read
}

// TVis is the time after a commit from which a read sees it with a given
// probability, read on the t-visibility curve.
type TVis struct {
	// MS is null when the curve never reaches the probability.
	MS *float64 `json:"ms"`
	// Reads are the reads behind the fitted points MS lies between (when
	// never, behind the curve's last fitted point).
	Reads uint64 `json:"reads"`
	// AtMost is true when the curve is there already at its shortest t:
	// no read came sooner after its commit, and t is at most MS.
	AtMost bool `json:"at_most,omitempty"`
}

// SagaResult is one saga. Started = Completed + Compensated + Inconsistent
// + Lost + Running.
type SagaResult struct {
	Name         string `json:"name"`
	Mode         string `json:"mode"`
	Started      uint64 `json:"started"`
	Completed    uint64 `json:"completed"`
	Compensated  uint64 `json:"compensated"`  // rolled back in full
	Inconsistent uint64 `json:"inconsistent"` // half done: a compensation failed, or a step after the pivot spent its attempts
	Lost         uint64 `json:"lost"`         // with their coordinator's memory (log = "memory")
	Running      uint64 `json:"running"`      // in flight at the end: stuck if the run is over
	Compensating uint64 `json:"compensating"` // of Running, those rolling back
	// Anomalous counts the sagas counted completed or compensated whose
	// participants' net effects disagree with that outcome: a step that
	// ran after the saga gave up on it and was never compensated, or a
	// step that is not idempotent run twice.
	Anomalous uint64           `json:"anomalous"`
	Steps     []SagaStepResult `json:"steps"`
	Duration  Latency          `json:"duration_ms"` // of completed instances
	// Recovery is the time from a step's failure until every completed
	// step was compensated.
	Recovery Latency `json:"recovery_ms"`
	// Health is the engine's verdict on the whole run, by its windows'
	// rule (judgeTopic, judgeGroup, ...: health.go).
	Health Health   `json:"-"`
	Series []Window `json:"series,omitempty" series:"saga"`
}

// SagaStepResult is what one step's participants did over the run. The
// executions count every time the participant did the step (or its
// compensation), the saga waiting for the answer or not; duplicates those
// beyond the first for one saga. Done, Compensated, Both and None count the
// ended sagas by the state they left the step in: done and not
// compensated, compensated though never done, both, or neither.
type SagaStepResult struct {
	Name                   string `json:"name"`
	Idempotent             bool   `json:"idempotent"`
	Executions             uint64 `json:"executions"`
	Duplicates             uint64 `json:"duplicates"`
	Compensations          uint64 `json:"compensations"`
	CompensationDuplicates uint64 `json:"compensation_duplicates"`
	Done                   uint64 `json:"done"`
	Compensated            uint64 `json:"compensated"`
	Both                   uint64 `json:"both"`
	None                   uint64 `json:"none"`
	// On the step's records (records > 0): updates that read another
	// running saga's pending update, compensations that overwrote another
	// saga's later update, and updates a semantic lock refused.
	DirtyReads  uint64 `json:"dirty_reads"`
	LostUpdates uint64 `json:"lost_updates"`
	Locked      uint64 `json:"locked"`
}

// ViewResult is one CQRS read model, after warmup.
type ViewResult struct {
	Name  string `json:"name"`
	Topic string `json:"topic"`
	Reads uint64 `json:"reads"`
	// ReadYourWritesMisses counts reads of a key whose latest write had
	// been acknowledged to its writer but not yet applied.
	ReadYourWritesMisses uint64  `json:"read_your_writes_misses"`
	MissShare            float64 `json:"miss_share"`
	LagRecords           int64   `json:"lag_records"` // projection lag at the end
	LagS                 float64 `json:"lag_s"`
	MaxLagS              float64 `json:"max_lag_s"`
	// ReadErrors counts reads the read store refused, down.
	ReadErrors uint64 `json:"read_errors"`
	// DuplicatesApplied counts records applied again (the whole run): the
	// projector's commit was lost to a crash or an eviction. WrongReads
	// counts reads of a key such a duplicate corrupted (idempotent =
	// false only).
	DuplicatesApplied uint64 `json:"duplicates_applied"`
	Idempotent        bool   `json:"idempotent"`
	WrongReads        uint64 `json:"wrong_reads"`
	// Rebuilds counts rebuild faults; RebuildS is the longest time one took
	// to catch up, and Rebuilding says one had not caught up at the end.
	Rebuilds   uint64  `json:"rebuilds,omitempty"`
	RebuildS   float64 `json:"rebuild_s,omitempty"`
	Rebuilding bool    `json:"rebuilding,omitempty"`
	// Health is the engine's verdict on the whole run, by its windows'
	// rule (judgeTopic, judgeGroup, ...: health.go).
	Health Health   `json:"-"`
	Series []Window `json:"series,omitempty" series:"view"`
}

// dataResult fills the data sections of a result.
func (s *Sim) dataResult(res *Result) {
	for i := range s.brokers {
		b := &s.brokers[i]
		br := BrokerResult{Name: b.spec.Name, Nodes: len(b.nodes), Topics: []string{}}
		for n := range b.nodes {
			if !b.nodes[n].down && !b.nodes[n].paused {
				br.NodesUp++
			}
		}
		for _, tp := range b.spec.Topics {
			br.Topics = append(br.Topics, tp.Name)
		}
		res.Brokers = append(res.Brokers, br)
	}
	for i := range s.topics {
		t := &s.topics[i]
		tr := TopicResult{Name: t.spec.Name, Broker: s.brokers[t.broker].spec.Name, Partitions: len(t.parts),
			Produced: t.produced, ProduceErrors: t.produceErrors, ProduceRetries: t.produceRetries, NotEnoughReplicas: t.notEnough,
			Lost: t.lost, LostAcked: t.lostAcked, LeaderChanges: t.leaderChanges, Series: t.series}
		tr.Offline, tr.UnderReplicated = t.replication()
		// The run is judged by the rule of its windows, on its totals
		// and its partitions' state at the end.
		tr.Health = runHealth(judgeTopic(&TopicFigures{Produced: t.produced, ProduceErrors: t.produceErrors,
			Lost: t.lost, LostAcked: t.lostAcked}, tr.Offline, tr.UnderReplicated))
		res.Topics = append(res.Topics, tr)
	}
	for i := range s.groups {
		g := &s.groups[i]
		if g.view >= 0 {
			continue
		}
		// Reading a result must not change the run: the lag now counts
		// in the maxima reported, not in the group's own.
		recs, age := g.lag()
		gr := GroupResult{Name: g.name, Topic: s.topics[g.topic].spec.Name, Consumer: s.services[g.svc].spec.Name,
			Produced: s.topics[g.topic].produced, Consumed: g.consumed, Lagging: g.lagging(), Lost: g.lost,
			Duplicates: g.duplicates, Redelivered: g.redelivered, DeadLettered: g.deadLettered, Dropped: g.dropped,
			Rebalances: g.rebalances, LagRecords: recs, LagS: float64(age) / 1e9,
			MaxLagRecords: max(g.maxLag, recs), MaxLagS: float64(max(g.maxLagT, age)) / 1e9, EndToEnd: latencyOf(&g.e2e), Series: g.series}
		gr.Health = runHealth(judgeGroup(&GroupFigures{Consumed: g.consumed, Duplicates: g.duplicates, Lost: g.lost,
			Dropped: g.dropped}, g.behind()))
		for p := range g.parts {
			pt := &s.topics[g.topic].parts[p]
			recs, age := g.partLag(p)
			pl := PartitionLag{Partition: p, LogEnd: pt.base + int64(pt.recs.len()), Committed: g.parts[p].committed,
				LagRecords: recs, LagS: float64(age) / 1e9}
			if o := g.parts[p].owner; o >= 0 && !g.rebalancing {
				pl.Owner = g.memberName(&g.members[o])
			}
			gr.Partitions = append(gr.Partitions, pl)
		}
		res.Groups = append(res.Groups, gr)
	}
	for i := range s.stores {
		st := &s.stores[i]
		a := &st.st
		sr := StoreResult{Name: st.spec.Name, N: st.spec.Replicas, W: st.spec.WriteQuorum, R: st.spec.ReadQuorum,
			Reads: a.reads, Writes: a.writes, Unavailable: a.unavailable, Timeouts: a.timeouts,
			ConditionalWrites: a.conditional, Conflicts: a.conflicts,
			StaleReads: a.stale, FreshReads: a.fresh, LostUpdates: a.lostUpdates, ReadRepairs: a.repairs,
			HintsReplayed: a.hintsReplayed, ReadLatency: latencyOf(&a.readLat), WriteLatency: latencyOf(&a.writeLat),
			ReplicationLag: latencyOf(&a.repLag), Series: st.series}
		sr.Health = runHealth(judgeStore(&StoreFigures{Reads: a.reads, Writes: a.writes, Stale: a.stale,
			Unavailable: a.unavailable, Timeouts: a.timeouts, LostUpdates: a.lostUpdates}))
		if n := a.stale + a.fresh; n > 0 {
			sr.StaleShare = float64(a.stale) / float64(n)
			for k := range a.kstale {
				sum := uint64(0)
				for j := 0; j <= k; j++ {
					sum += a.kstale[j]
				}
				sr.KStaleness = append(sr.KStaleness, float64(sum)/float64(n))
			}
		}
		sr.Visibility, sr.T99, sr.T999 = visCurve(&a.vis)
		res.Stores = append(res.Stores, sr)
	}
	for i := range s.sagas {
		sg := &s.sagas[i]
		run, undo := sg.running()
		// The ended sagas whose commands still run somewhere are settled
		// as their participants stand now.
		tally, anomalous := slices.Clone(sg.tally), sg.anomalous
		for j := range s.sagaRuns.r {
			if r := &s.sagaRuns.r[j]; r.inUse && r.end != running && r.saga == sg.idx && sg.settle(r, tally) {
				anomalous++
			}
		}
		steps := make([]SagaStepResult, len(tally))
		for j, t := range tally {
			steps[j] = SagaStepResult{Name: sg.spec.Steps[j].Name, Idempotent: sg.steps[j].idempotent, Executions: t.executions,
				Duplicates: t.duplicates, Compensations: t.compensations, CompensationDuplicates: t.compDuplicates,
				Done: t.done, Compensated: t.compensated, Both: t.both, None: t.none,
				DirtyReads: t.dirtyReads, LostUpdates: t.lostUpdates, Locked: t.locked}
		}
		sr := SagaResult{Name: sg.spec.Name, Mode: sg.spec.Mode.String(), Started: sg.started,
			Completed: sg.completed, Compensated: sg.compensated, Inconsistent: sg.inconsistent, Lost: sg.lost, Running: run,
			Compensating: undo, Anomalous: anomalous, Steps: steps, Duration: latencyOf(&sg.dur), Recovery: latencyOf(&sg.recovery), Series: sg.series}
		sr.Health = runHealth(judgeSaga(&SagaFigures{Started: sg.started, Completed: sg.completed, Compensated: sg.compensated,
			Inconsistent: sg.inconsistent, Running: run, Anomalous: anomalous}))
		res.Sagas = append(res.Sagas, sr)
	}
	for i := range s.views {
		v := &s.views[i]
		g := &s.groups[v.group]
		recs, age := g.lag()
		vr := ViewResult{Name: v.spec.Name, Topic: v.spec.Topic, Reads: v.reads, ReadYourWritesMisses: v.misses,
			LagRecords: recs, LagS: float64(age) / 1e9, MaxLagS: float64(max(g.maxLagT, age)) / 1e9, Series: v.series,
			ReadErrors: v.readErrors, DuplicatesApplied: v.dupApplied, Idempotent: !v.spec.NonIdempotent, WrongReads: v.wrongReads,
			Rebuilds: v.rebuilds, RebuildS: float64(v.rebuildMax) / 1e9, Rebuilding: v.rebuilding}
		if v.rebuilding {
			vr.RebuildS = max(vr.RebuildS, float64(s.now-v.rebuildAt)/1e9)
		}
		if v.reads > 0 {
			vr.MissShare = float64(v.misses) / float64(v.reads)
		}
		vr.Health = runHealth(judgeView(&ViewFigures{Reads: v.reads, Miss: v.misses}, g.behind()))
		res.Views = append(res.Views, vr)
	}
}

// noteLag keeps the largest lag seen.
func (g *group) noteLag(recs, age int64) {
	g.maxLag = max(g.maxLag, recs)
	g.maxLagT = max(g.maxLagT, age)
	g.win.maxLag = max(g.win.maxLag, recs)
	g.win.maxLagT = max(g.win.maxLagT, age)
}

// closeDataWindows closes the window of every data component, with the
// engine's verdict on it.
func (s *Sim) closeDataWindows(start, end time.Duration) {
	// A window starts idle: nothing answered, nothing wrong.
	idle := func(k SeriesKind) Window {
		return Window{Kind: k, Start: start, End: end, Health: Healthy, Reason: Reason{By: Idle}}
	}
	for i := range s.topics {
		t := &s.topics[i]
		w := idle(TopicSeries)
		f := &TopicFigures{Produced: t.win, ProduceErrors: t.winErrors, Lost: t.winLost, LostAcked: t.winLostAcked}
		w.Figures = f
		offline, under := t.replication()
		w.Health, w.Reason = judgeTopic(f, offline, under)
		s.keepWindow(&t.series, &w)
		t.win, t.winErrors, t.winLost, t.winLostAcked = 0, 0, 0, 0
	}
	for i := range s.groups {
		g := &s.groups[i]
		recs, age := g.lag()
		g.noteLag(recs, age)
		behind := g.behind()
		lagRecs, lagS, behindS := g.win.maxLag, float64(g.win.maxLagT)/1e9, seconds(behind)
		// A view's window is blamed as its projector's group is: it lags
		// by what holds the projector's partitions up (groupBlame).
		g.groupBlame()
		if g.view >= 0 {
			v := &s.views[g.view]
			vw := idle(ViewSeries)
			vw.Blame = s.blame(&g.win.blame)
			vw.Figures = &ViewFigures{Reads: v.winReads, Miss: v.winMisses, LagRecords: lagRecs, LagS: lagS, BehindS: behindS}
			if vw.Health, vw.Reason = judgeView(vw.View(), behind); vw.Reason.By != Idle {
				s.noteDataHealth(&v.health, "view ", v.spec.Name, &vw, -1)
			}
			s.keepWindow(&v.series, &vw)
			v.winReads, v.winMisses = 0, 0
		} else {
			w := idle(GroupSeries)
			w.Blame = s.blame(&g.win.blame)
			gf := &GroupFigures{Consumed: g.win.consumed, Duplicates: g.win.duplicates, Lost: g.win.lost,
				Dropped: g.win.dropped, LagRecords: lagRecs, LagS: lagS, BehindS: behindS}
			w.Figures, w.Latency = gf, g.win.e2e.Summarize()
			if w.Health, w.Reason = judgeGroup(gf, behind); w.Reason.By != Idle {
				s.noteDataHealth(&g.health, "group ", g.name, &w, -1)
			}
			s.keepWindow(&g.series, &w)
		}
		g.win.consumed, g.win.duplicates, g.win.lost, g.win.dropped, g.win.maxLag, g.win.maxLagT = 0, 0, 0, 0, 0, 0
		g.win.blame = blameTally{}
		g.win.e2e.Reset()
	}
	for i := range s.stores {
		st := &s.stores[i]
		w := idle(StoreSeries)
		f := &StoreFigures{Reads: st.win.reads, Writes: st.win.writes, Stale: st.win.stale,
			Unavailable: st.win.unavailable, Timeouts: st.win.timeouts, LostUpdates: st.win.lostUpdates}
		w.Figures, w.Latency = f, st.win.repLag.Summarize()
		if w.Health, w.Reason = judgeStore(f); w.Reason.By != Idle {
			s.noteDataHealth(&st.health, "store ", st.spec.Name, &w, -1)
		}
		s.keepWindow(&st.series, &w)
		st.win.reads, st.win.writes, st.win.stale, st.win.unavailable, st.win.timeouts, st.win.lostUpdates = 0, 0, 0, 0, 0, 0
		st.win.repLag.Reset()
	}
	for i := range s.sagas {
		sg := &s.sagas[i]
		run, _ := sg.running()
		w := sg.win
		sw := idle(SagaSeries)
		sw.Figures = &SagaFigures{Started: w.started, Completed: w.completed,
			Compensated: w.compensated, Inconsistent: w.inconsistent, Running: run, Anomalous: w.anomalous}
		sw.Blame = s.blame(&w.blame)
		sw.Health, sw.Reason = judgeSaga(sw.Saga())
		switch sw.Reason.By {
		case Idle:
		case ByInconsistent:
			s.noteDataHealth(&sg.health, "saga ", sg.spec.Name, &sw, w.firstFailed())
		case ByStuck:
			s.noteDataHealth(&sg.health, "saga ", sg.spec.Name, &sw, -1)
		default:
			s.noteDataHealth(&sg.health, "saga ", sg.spec.Name, &sw, w.first())
		}
		s.keepWindow(&sg.series, &sw)
		sg.win = sagaWin{}
	}
}

// minEnded is how many sagas must end in a window for their rolled-back
// share to judge the saga's health.
const minEnded = 10

// noteDataHealth judges nothing: it feeds a data component's window w,
// judged, to its tracker and logs the change it confirms (noteVerdict),
// told by the window's own figures (dataWhy). first is when the window's
// first failure came, as a saga knows its first rollback (-1: not
// known): an unhealthy change dates no earlier, as a service's dates at
// its first failure (judgeAnswers), so that it never comes before its
// cause in the log.
//
// The component is named prefix+name in the log, a name made once.
func (s *Sim) noteDataHealth(h *healthTracker, prefix, name string, w *Window, first int64) {
	if h.label == "" {
		h.label = prefix + name
	}
	// A window says how it ended, not when within it things went wrong:
	// a fault that began inside it is the earliest the change can date.
	onset := s.winStart
	if n := len(s.occurs); n > 0 && s.occurs[n-1].start > onset {
		onset = s.occurs[n-1].start
	}
	if w.Health != Healthy && first > onset {
		onset = first
	}
	s.noteVerdict(h.label, false, h, w, onset, account{fig: w.Figures}, nil)
}

// dataWhy is the event log's account of a data kind's verdict for
// reason r, from its window's figures f.
func dataWhy(f Figures, r Reason) string {
	switch f := f.(type) {
	case *ViewFigures:
		share := 0.0
		if f.Reads > 0 {
			share = float64(f.Miss) / float64(f.Reads)
		}
		return fmt.Sprintf("%.1f%% of reads missed their own writes, projection %.1fs behind", share*100, f.BehindS)
	case *GroupFigures:
		return fmt.Sprintf("%d duplicates, %d lost; %.1fs behind, lag %d records", f.Duplicates, f.Lost, f.BehindS, f.LagRecords)
	case *StoreFigures:
		return fmt.Sprintf("%d stale reads, %d unavailable and %d timed-out operations of %d", f.Stale, f.Unavailable, f.Timeouts, f.Reads+f.Writes)
	case *SagaFigures:
		switch r.By {
		case ByInconsistent:
			switch {
			case f.Anomalous == 0:
				return fmt.Sprintf("%d left inconsistent", f.Inconsistent)
			case f.Inconsistent == 0:
				return fmt.Sprintf("%d anomalous, their participants disagree with the outcome counted", f.Anomalous)
			}
			return fmt.Sprintf("%d left inconsistent, %d anomalous", f.Inconsistent, f.Anomalous)
		case ByStuck:
			return fmt.Sprintf("none completed, %d in flight", f.Running)
		}
		return fmt.Sprintf("%.1f%% of the sagas that ended were rolled back", r.Value*100)
	}
	return ""
}

// checkData verifies the conservation laws of the data components.
func (r *Result) checkData() error {
	var errs []error
	for _, g := range r.Groups {
		if got := g.Consumed + g.Lagging + g.Lost; got != g.Produced {
			errs = append(errs, fmt.Errorf("group %s: produced %d != consumed %d + lagging %d + lost %d",
				g.Name, g.Produced, g.Consumed, g.Lagging, g.Lost))
		}
	}
	for _, s := range r.Sagas {
		if got := s.Completed + s.Compensated + s.Inconsistent + s.Lost + s.Running; got != s.Started {
			errs = append(errs, fmt.Errorf("saga %s: started %d != completed %d + compensated %d + inconsistent %d + lost %d + running %d",
				s.Name, s.Started, s.Completed, s.Compensated, s.Inconsistent, s.Lost, s.Running))
		}
	}
	return errors.Join(errs...)
}

// lagHealth judges how far behind a consumer is: a record that waits a
// second to be processed degrades the group, ten seconds fail it.
func lagHealth(behind int64) Health {
	switch {
	case behind >= 10*int64(time.Second):
		return Failing
	case behind >= int64(time.Second):
		return Degraded
	}
	return Healthy
}
