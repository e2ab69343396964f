package summary

import (
	"fmt"
	"io"

	"github.com/faultline/faultline/internal/format"
	"github.com/faultline/faultline/sim"
)

// writeDataText prints the asynchronous and data half of a run: topics,
// consumer groups, stores, sagas and views, each table only when the
// scenario has such components.
func writeDataText(w io.Writer, res *sim.Result, color bool) {
	if len(res.Topics) > 0 {
		fmt.Fprintln(w)
		writeTable(w, color, res.Topics, topicHealth, []column[sim.TopicResult]{
			{head: "TOPIC", cell: func(t sim.TopicResult) string { return t.Name }},
			{head: "PARTS", right: true, cell: func(t sim.TopicResult) string { return fmt.Sprint(t.Partitions) }},
			{head: "PRODUCED", right: true, cell: func(t sim.TopicResult) string { return count(t.Produced) }},
			{head: "PRODUCE ERR", right: true, cell: func(t sim.TopicResult) string { return count(t.ProduceErrors) }},
			{head: "NOT ENOUGH ISR", right: true, optional: true, cell: func(t sim.TopicResult) string { return count(t.NotEnoughReplicas) }},
			{head: "LOST", right: true, cell: func(t sim.TopicResult) string { return count(t.Lost) }},
			{head: "LOST ACKED", right: true, optional: true, cell: func(t sim.TopicResult) string { return count(t.LostAcked) }},
			{head: "LEADER CHANGES", right: true, optional: true, cell: func(t sim.TopicResult) string { return count(t.LeaderChanges) }},
			{head: "UNDER-REPL", right: true, optional: true, cell: func(t sim.TopicResult) string { return nonzero(t.UnderReplicated) }},
			{head: "OFFLINE", right: true, optional: true, cell: func(t sim.TopicResult) string { return nonzero(t.Offline) }},
		})
	}
	if len(res.Groups) > 0 {
		fmt.Fprintln(w)
		writeTable(w, color, res.Groups, groupHealth, []column[sim.GroupResult]{
			{head: "GROUP", cell: func(g sim.GroupResult) string { return g.Name }},
			{head: "TOPIC", cell: func(g sim.GroupResult) string { return g.Topic }},
			{head: "CONSUMED", right: true, cell: func(g sim.GroupResult) string { return count(g.Consumed) }},
			{head: "LAGGING", right: true, cell: func(g sim.GroupResult) string { return count(g.Lagging) }},
			{head: "LOST", right: true, cell: func(g sim.GroupResult) string { return count(g.Lost) }},
			{head: "DUPLICATES", right: true, cell: func(g sim.GroupResult) string { return count(g.Duplicates) }},
			{head: "DEAD-LETTERED", right: true, optional: true, cell: func(g sim.GroupResult) string { return count(g.DeadLettered) }},
			{head: "DROPPED", right: true, optional: true, cell: func(g sim.GroupResult) string { return count(g.Dropped) }},
			{head: "REBALANCES", right: true, optional: true, cell: func(g sim.GroupResult) string { return count(g.Rebalances) }},
			{head: "LAG end/max", right: true, cell: func(g sim.GroupResult) string { return fmt.Sprintf("%d/%d", g.LagRecords, g.MaxLagRecords) }},
			{head: "LAG s end/max", right: true, cell: func(g sim.GroupResult) string { return fmt.Sprintf("%.1f/%.1f", g.LagS, g.MaxLagS) }},
			{head: "E2E P50", right: true, cell: func(g sim.GroupResult) string { return ms(g.EndToEnd.P50) }},
			{head: "E2E P99 ms", right: true, cell: func(g sim.GroupResult) string { return ms(g.EndToEnd.P99) }},
		})
	}
	if len(res.Stores) > 0 {
		fmt.Fprintln(w)
		writeTable(w, color, res.Stores, storeHealth, []column[sim.StoreResult]{
			{head: "STORE", cell: func(s sim.StoreResult) string { return s.Name }},
			{head: "N/W/R", cell: func(s sim.StoreResult) string { return fmt.Sprintf("%d/%d/%d", s.N, s.W, s.R) }},
			{head: "READS", right: true, cell: func(s sim.StoreResult) string { return count(s.Reads) }},
			{head: "WRITES", right: true, cell: func(s sim.StoreResult) string { return count(s.Writes) }},
			{head: "UNAVAIL", right: true, cell: func(s sim.StoreResult) string { return count(s.Unavailable) }},
			{head: "TIMEOUT", right: true, optional: true, cell: func(s sim.StoreResult) string { return count(s.Timeouts) }},
			{head: "CAS", right: true, optional: true, cell: func(s sim.StoreResult) string { return count(s.ConditionalWrites) }},
			{head: "CONFLICTS", right: true, optional: true, cell: func(s sim.StoreResult) string { return count(s.Conflicts) }},
			{head: "STALE", right: true, cell: func(s sim.StoreResult) string { return pct(s.StaleShare) }},
			{head: "T-VIS 99% (reads)", right: true, cell: func(s sim.StoreResult) string { return visCell(s, s.T99) }},
			{head: "T-VIS 99.9% (reads)", right: true, cell: func(s sim.StoreResult) string { return visCell(s, s.T999) }},
			{head: "LOST UPD", right: true, optional: true, cell: func(s sim.StoreResult) string { return count(s.LostUpdates) }},
			{head: "REPL LAG P99", right: true, cell: func(s sim.StoreResult) string { return ms(s.ReplicationLag.P99) }},
			{head: "READ P99", right: true, cell: func(s sim.StoreResult) string { return ms(s.ReadLatency.P99) }},
			{head: "WRITE P99 ms", right: true, cell: func(s sim.StoreResult) string { return ms(s.WriteLatency.P99) }},
		})
	}
	if len(res.Sagas) > 0 {
		fmt.Fprintln(w)
		writeTable(w, color, res.Sagas, sagaHealth, []column[sim.SagaResult]{
			{head: "SAGA", cell: func(s sim.SagaResult) string { return s.Name }},
			{head: "MODE", cell: func(s sim.SagaResult) string { return s.Mode }},
			{head: "STARTED", right: true, cell: func(s sim.SagaResult) string { return count(s.Started) }},
			{head: "COMPLETED", right: true, cell: func(s sim.SagaResult) string { return count(s.Completed) }},
			{head: "COMPENSATED", right: true, cell: func(s sim.SagaResult) string { return count(s.Compensated) }},
			{head: "INCONSISTENT", right: true, cell: func(s sim.SagaResult) string { return count(s.Inconsistent) }},
			{head: "ANOMALOUS", right: true, optional: true, cell: func(s sim.SagaResult) string { return count(s.Anomalous) }},
			{head: "DUPS", right: true, optional: true, cell: func(s sim.SagaResult) string { return count(sagaDuplicates(s)) }},
			{head: "RUNNING", right: true, cell: func(s sim.SagaResult) string { return count(s.Running) }},
			{head: "P50", right: true, cell: func(s sim.SagaResult) string { return ms(s.Duration.P50) }},
			{head: "P99", right: true, cell: func(s sim.SagaResult) string { return ms(s.Duration.P99) }},
			{head: "RECOVERY P99 ms", right: true, cell: func(s sim.SagaResult) string { return ms(s.Recovery.P99) }},
		})
		sagaSteps(w, res.Sagas)
	}
	if len(res.Views) > 0 {
		fmt.Fprintln(w)
		writeTable(w, color, res.Views, viewHealth, []column[sim.ViewResult]{
			{head: "VIEW", cell: func(v sim.ViewResult) string { return v.Name }},
			{head: "TOPIC", cell: func(v sim.ViewResult) string { return v.Topic }},
			{head: "READS", right: true, cell: func(v sim.ViewResult) string { return count(v.Reads) }},
			{head: "RYW MISSES", right: true, cell: func(v sim.ViewResult) string { return count(v.ReadYourWritesMisses) }},
			{head: "MISS", right: true, cell: func(v sim.ViewResult) string { return pct(v.MissShare) }},
			{head: "LAG end", right: true, cell: func(v sim.ViewResult) string { return fmt.Sprint(v.LagRecords) }},
			{head: "LAG s end/max", right: true, cell: func(v sim.ViewResult) string { return fmt.Sprintf("%.1f/%.1f", v.LagS, v.MaxLagS) }},
			{head: "READ ERR", right: true, cell: func(v sim.ViewResult) string { return count(v.ReadErrors) }},
			{head: "DUPS", right: true, cell: func(v sim.ViewResult) string { return count(v.DuplicatesApplied) }},
			{head: "WRONG", right: true, cell: func(v sim.ViewResult) string { return count(v.WrongReads) }},
			{head: "REBUILD s", right: true, cell: func(v sim.ViewResult) string { return rebuildCell(v) }},
		})
	}
}

func nonzero(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

// visCell shows a time to visibility and the reads it rests on: "-"
// without reads to tell.
func visCell(s sim.StoreResult, tv sim.TVis) string {
	n := len(s.Visibility)
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%s (%d)", format.TVis(tv.MS, tv.AtMost, s.Visibility[0].TMS, s.Visibility[n-1].TMS), tv.Reads)
}

// A data component's row is coloured by the engine's verdict on it over
// the run (its Health field).
func topicHealth(t sim.TopicResult) sim.Health { return t.Health }
func groupHealth(g sim.GroupResult) sim.Health { return g.Health }
func storeHealth(s sim.StoreResult) sim.Health { return s.Health }
func sagaHealth(s sim.SagaResult) sim.Health   { return s.Health }
func viewHealth(v sim.ViewResult) sim.Health   { return v.Health }

// sagaDuplicates counts the executions of a saga's steps and
// compensations beyond the first for one saga.
func sagaDuplicates(s sim.SagaResult) uint64 {
	var n uint64
	for _, st := range s.Steps {
		n += st.Duplicates + st.CompensationDuplicates
	}
	return n
}

// sagaSteps lists the steps of the sagas that ran a command twice (how
// many times each step and compensation ran at its participant) or met
// another saga on a record.
func sagaSteps(w io.Writer, sagas []sim.SagaResult) {
	for _, sg := range sagas {
		for _, st := range sg.Steps {
			if st.Duplicates+st.CompensationDuplicates > 0 {
				idem := "not idempotent"
				if st.Idempotent {
					idem = "idempotent"
				}
				fmt.Fprintf(w, "saga %s, step %s (%s): ran %d times, %d duplicates; compensation ran %d times, %d duplicates\n",
					sg.Name, st.Name, idem, st.Executions, st.Duplicates, st.Compensations, st.CompensationDuplicates)
			}
			if st.DirtyReads+st.LostUpdates+st.Locked > 0 {
				fmt.Fprintf(w, "saga %s, step %s, its records: %d dirty reads, %d lost updates, %d refused by a semantic lock\n",
					sg.Name, st.Name, st.DirtyReads, st.LostUpdates, st.Locked)
			}
		}
	}
}

// rebuildCell is the longest catch-up of the view's rebuilds, "+" when
// one was still replaying at the end, "-" without any.
func rebuildCell(v sim.ViewResult) string {
	switch {
	case v.Rebuilds == 0:
		return "-"
	case v.Rebuilding:
		return fmt.Sprintf("%.1f+", v.RebuildS)
	}
	return fmt.Sprintf("%.1f", v.RebuildS)
}
