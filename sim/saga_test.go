package sim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/resilience"
)

// TestChoreographyStepOnlyByItsService: a choreographed step is done when
// the step's own service has processed its event. A view (or another
// service) that consumes the same topic must not complete the step for it:
// here a fast view on payment's topic used to mark every charge a success,
// so that payment's failures were never compensated.
func TestChoreographyStepOnlyByItsService(t *testing.T) {
	spec := sagaSpec(t, sim.Choreography, 0.2)
	spec.Views = []sim.View{{Name: "payments-view", Topic: "t-payment", Batch: 10, ApplyTime: mustDist(t, "10us"), Keys: 100}}
	audit := svc(t, "audit", "10us")
	audit.Consumes = []sim.Consume{{Topic: "t-payment", Group: "audit", Batch: 10, MaxAttempts: 1}}
	spec.Services = append(spec.Services, audit)
	res, _ := run(t, spec)
	sg := res.Sagas[0]
	if sg.Started < 1400 {
		t.Fatalf("started %d", sg.Started)
	}
	near(t, "compensated share", float64(sg.Compensated)/float64(sg.Started-sg.Running), 0.2, 0.03)
}

// setService replaces the service time of the named service of spec.
func setService(t *testing.T, spec *sim.Spec, name, st string) {
	for i := range spec.Services {
		if spec.Services[i].Name == name {
			spec.Services[i].ServiceTime = mustDist(t, st)
			return
		}
	}
	t.Fatalf("no service %s", name)
}

// TestSagaUnknownOutcome: a charge whose command timed out has an unknown
// outcome. Here payment answers in uniform(500ms, 1500ms) and the saga
// waits 1 s, one attempt: half the charges time out, and the saga rolls
// back without a refund (the step it counts failed is not compensated),
// yet every one of them lands later. Each compensated saga leaves its
// customer charged: all are anomalous (but the last few, whose charge
// is still running when the run ends). A business failure (an error) is a
// charge that did not happen: the same roll-back is consistent.
func TestSagaUnknownOutcome(t *testing.T) {
	for _, tc := range []struct {
		name       string
		payment    string
		errors     float64
		allAnomaly bool
	}{
		{"timed out charges land late", "uniform(500ms, 1500ms)", 0, true},
		{"refused charges do not", "2ms", 0.5, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := sagaSpec(t, sim.Orchestration, tc.errors)
			setService(t, spec, "payment", tc.payment)
			spec.Sagas[0].Retry.MaximumAttempts = 1
			res, _ := run(t, spec)
			sg := res.Sagas[0]
			near(t, "compensated share", float64(sg.Compensated)/float64(sg.Started-sg.Running), 0.5, 0.05)
			charge := sg.Steps[1]
			t.Logf("started %d completed %d compensated %d anomalous %d; charge %+v", sg.Started, sg.Completed, sg.Compensated, sg.Anomalous, charge)
			if tc.allAnomaly {
				// The charges of the last sagas are still running at
				// the end: not done yet.
				if sg.Anomalous+charge.None != sg.Compensated || charge.None > sg.Compensated/50 || charge.Compensations != 0 {
					t.Errorf("anomalous %d of %d compensated; charges not done yet %d, refunds %d", sg.Anomalous, sg.Compensated, charge.None, charge.Compensations)
				}
			} else if sg.Anomalous != 0 || charge.None != sg.Compensated {
				t.Errorf("anomalous %d; charges not done %d of %d compensated", sg.Anomalous, charge.None, sg.Compensated)
			}
			if reserve := sg.Steps[0]; reserve.Both != sg.Compensated {
				t.Errorf("reservations done and undone %d, compensated sagas %d", reserve.Both, sg.Compensated)
			}
		})
	}
}

// TestSagaCommandsCrossTheNetwork: a saga's commands and events are
// messages between processes, so a partition or a link fault between the
// coordinator (orders) and a participant (payment), or between the
// service that publishes a choreography's event and the broker, acts on
// them as on any call or publish. A 10 s partition from 10 s delays every
// saga that reaches payment by up to its length (the commands are
// retried, Temporal's default policy: the longest saga took 10.0 s), or
// rolls them back when the step's deadline is shorter (400 of 3000);
// an event lost on its way to the broker is sent again after the
// producer's request_timeout (30 s). The old engine
// sent commands past partitions and link faults, and published a
// choreography's events as the saga, a name no partition names: none of
// these changed anything.
func TestSagaCommandsCrossTheNetwork(t *testing.T) {
	partition := func(a, b string) sim.Fault {
		return sim.Fault{Kind: sim.FaultPartition, Start: 10 * time.Second, Duration: 10 * time.Second,
			Params: sim.PartitionFault{Sides: [2][]string{{a}, {b}}}}
	}
	for _, tc := range []struct {
		name     string
		mode     sim.SagaMode
		fault    sim.Fault
		deadline time.Duration
		wantComp bool // else: delayed, none rolled back
	}{
		{"partition delays the commands", sim.Orchestration, partition("orders", "payment"), 0, false},
		{"partition past the deadline rolls back", sim.Orchestration, partition("orders", "payment"), 3 * time.Second, true},
		{"loss on the link delays the commands", sim.Orchestration, sim.Fault{Kind: sim.FaultLoss, Target: "orders->payment",
			Start: 10 * time.Second, Duration: 10 * time.Second, Params: sim.LossFault{Probability: 1, Direction: sim.Requests}}, 0, false},
		{"partition holds the first event", sim.Choreography, partition("orders", "kafka"), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := sagaSpec(t, tc.mode, 0)
			// Long enough for a producer to retry an event lost on the
			// way: it hears of the loss at its request_timeout (30 s).
			spec.Duration = time.Minute
			spec.Sagas[0].Steps[1].Deadline = tc.deadline
			spec.Faults = []sim.Fault{tc.fault}
			res, _ := run(t, spec)
			sg := res.Sagas[0]
			if sg.Inconsistent != 0 || (sg.Compensated > 0) != tc.wantComp {
				t.Fatalf("completed %d, compensated %d, inconsistent %d", sg.Completed, sg.Compensated, sg.Inconsistent)
			}
			if !tc.wantComp && sg.Duration.Max < 8000 {
				t.Errorf("longest saga %.1fs: the 10 s fault should delay the sagas it holds", sg.Duration.Max/1000)
			}
		})
	}
}

// TestSagaDuplicates: a command retried after its timeout runs again at
// its participant. Payment answers in uniform(500ms, 1500ms), the saga
// waits 1 s per attempt and retries without limit: each attempt times out
// with probability 1/2, and each runs, so a saga charges 1/(1-1/2) = 2
// times on average, one duplicate. Unless the step is idempotent, every
// saga charged more than once is anomalous.
func TestSagaDuplicates(t *testing.T) {
	for _, idem := range []bool{false, true} {
		t.Run(fmt.Sprint("idempotent=", idem), func(t *testing.T) {
			spec := sagaSpec(t, sim.Orchestration, 0)
			setService(t, spec, "payment", "uniform(500ms, 1500ms)")
			spec.Sagas[0].Retry = sim.SagaRetry{InitialInterval: 10 * time.Millisecond, BackoffCoefficient: 1}
			spec.Sagas[0].Steps[1].Idempotent = idem
			res, _ := run(t, spec)
			sg := res.Sagas[0]
			charge := sg.Steps[1]
			t.Logf("started %d completed %d anomalous %d; charge %+v", sg.Started, sg.Completed, sg.Anomalous, charge)
			if sg.Compensated != 0 {
				t.Fatalf("compensated %d: nothing fails for good", sg.Compensated)
			}
			near(t, "duplicates per charge", float64(charge.Duplicates)/float64(charge.Executions-charge.Duplicates), 1, 0.1)
			if want := charge.Duplicates > 0 && !idem; (sg.Anomalous > 0) != want || idem && sg.Anomalous != 0 {
				t.Errorf("anomalous %d with %d duplicates", sg.Anomalous, charge.Duplicates)
			}
			if sg.Steps[0].Duplicates != 0 {
				t.Errorf("reservations duplicated %d times", sg.Steps[0].Duplicates)
			}
		})
	}
}

// TestSagaIsolation: sagas that update the same records (five, for 50
// sagas a second, each holding its reservation for the 100 ms of its
// charge) read each other's pending updates (dirty reads), and a
// roll-back that restores a record overwrites the updates other sagas made
// since (lost updates). A semantic lock on the record (Richardson, 4.3.2)
// leaves neither: the sagas that find a record flagged either fail (and
// roll back) or wait for it.
func TestSagaIsolation(t *testing.T) {
	for _, tc := range []struct {
		lock        sim.SemanticLock
		anomalies   bool
		moreRolled  bool // the lock's refusals roll sagas back
		wantLocked  bool
		wantSlowest time.Duration
	}{
		{sim.NoLock, true, false, false, 0},
		{sim.LockFail, false, true, true, 0},
		{sim.LockWait, false, false, true, time.Second},
	} {
		t.Run(tc.lock.String(), func(t *testing.T) {
			spec := sagaSpec(t, sim.Orchestration, 0.3)
			setService(t, spec, "payment", "100ms")
			spec.Sagas[0].Retry = sim.SagaRetry{InitialInterval: 50 * time.Millisecond, BackoffCoefficient: 1}
			spec.Sagas[0].Steps[0].Records = 5
			spec.Sagas[0].Steps[0].SemanticLock = tc.lock
			res, _ := run(t, spec)
			sg := res.Sagas[0]
			reserve := sg.Steps[0]
			t.Logf("completed %d compensated %d; reserve %+v; p99 %.0f ms", sg.Completed, sg.Compensated, reserve, sg.Duration.P99)
			if got := reserve.DirtyReads > 0 && reserve.LostUpdates > 0; got != tc.anomalies || !tc.anomalies && reserve.DirtyReads+reserve.LostUpdates != 0 {
				t.Errorf("dirty reads %d, lost updates %d", reserve.DirtyReads, reserve.LostUpdates)
			}
			if (reserve.Locked > 0) != tc.wantLocked {
				t.Errorf("locked %d", reserve.Locked)
			}
			share := float64(sg.Compensated) / float64(sg.Started-sg.Running)
			if tc.moreRolled != (share > 0.4) {
				t.Errorf("compensated share %.2f", share)
			}
			if tc.wantSlowest > 0 && sg.Duration.Max < float64(tc.wantSlowest/time.Millisecond) {
				t.Errorf("longest saga %.0f ms: waiting on the lock should delay sagas", sg.Duration.Max)
			}
		})
	}
}

// TestSemanticLockFillsNoQueue: a step refused by another saga's
// semantic lock with "wait" is refused by its participant (an ok answer
// there, the saga's locked: scenarios.md), but no queue turned it away: inventory
// has an unbounded queue and 1000 workers, so the event log must not say
// "queue full". The old engine logged it on any rejected request. The
// same saga without a lock rejects nothing and logs nothing either.
func TestSemanticLockFillsNoQueue(t *testing.T) {
	for _, lock := range []sim.SemanticLock{sim.NoLock, sim.LockWait} {
		t.Run(lock.String(), func(t *testing.T) {
			spec := sagaSpec(t, sim.Orchestration, 0.3)
			setService(t, spec, "payment", "100ms")
			spec.Sagas[0].Retry = sim.SagaRetry{InitialInterval: 50 * time.Millisecond, BackoffCoefficient: 1}
			spec.Sagas[0].Steps[0].Records = 5
			spec.Sagas[0].Steps[0].SemanticLock = lock
			res, _ := run(t, spec)
			if locked := res.Sagas[0].Steps[0].Locked; (locked > 0) != (lock == sim.LockWait) {
				t.Fatalf("%d steps refused by the lock", locked)
			}
			for _, e := range res.Events {
				if e.Kind == sim.EventQueueFull {
					t.Errorf("%.3fs %s %s: no queue is full", e.TS, e.Component, e.What)
				}
			}
		})
	}
}

// TestSemanticLockIsNoServiceError: a step refused by another saga's
// semantic lock with "wait" is told "the record is in use, try later"
// (Richardson, 4.3.2): the saga counts it locked and retries it, but the
// participant answered, it did not fail. inventory must count no error and
// no rejection and stay healthy, its ok answers being every attempt that
// reached it: the executions plus the refusals. With "fail" the refusal is
// a business failure, an error at inventory as any other. The old engine
// counted a "wait" refusal rejected at inventory (about a third of its
// answers here), which its health took for failing.
func TestSemanticLockIsNoServiceError(t *testing.T) {
	for _, lock := range []sim.SemanticLock{sim.LockWait, sim.LockFail} {
		t.Run(lock.String(), func(t *testing.T) {
			spec := sagaSpec(t, sim.Orchestration, 0.3)
			setService(t, spec, "payment", "100ms")
			spec.Sagas[0].Retry = sim.SagaRetry{InitialInterval: 50 * time.Millisecond, BackoffCoefficient: 1}
			spec.Sagas[0].Steps[0].Records = 5
			spec.Sagas[0].Steps[0].SemanticLock = lock
			res, _ := run(t, spec)
			reserve := res.Sagas[0].Steps[0]
			inv := component(res, "inventory")
			t.Logf("reserve executions %d locked %d; inventory ok %d error %d rejected %d, %s",
				reserve.Executions, reserve.Locked, inv.OK, inv.Error, inv.Rejected, inv.Health)
			if reserve.Locked == 0 {
				t.Fatal("no step refused by the lock")
			}
			if inv.Rejected != 0 {
				t.Errorf("inventory rejected %d: a lock's refusal is an answer, not a full queue", inv.Rejected)
			}
			if lock == sim.LockFail {
				if inv.Error < reserve.Locked {
					t.Errorf("inventory errors %d < %d refusals: with fail a refusal is a business failure", inv.Error, reserve.Locked)
				}
				return
			}
			if inv.Error != 0 || inv.Health != sim.Healthy {
				t.Errorf("inventory errors %d, %s: a refusal with wait is not the service failing", inv.Error, inv.Health)
			}
			if inv.OK != reserve.Executions+reserve.Locked {
				t.Errorf("inventory ok %d, want the executions and the refusals, %d", inv.OK, reserve.Executions+reserve.Locked)
			}
		})
	}
}

// TestSagaBlastRadius: a saga is a business flow, counted in a fault's
// blast radius beside the clients' flows, each saga started during the
// fault weighing its saga's weight in client requests. Errors on payment
// roll back about a third of the orders while the client, which only
// calls orders, sees nothing: the saga is the only flow hit, and it
// carries weight x 50 sagas/s of the 50 requests/s + weight x 50 sagas/s
// (every failure traced to the fault). The old engine counted client
// flows only: 0 %.
func TestSagaBlastRadius(t *testing.T) {
	for _, tc := range []struct {
		name   string
		weight float64
		want   float64
	}{
		{"default weight: a saga weighs as a request", 0, 0.5},
		{"weight 3", 3, 0.75},
		{"weight 1/3", 1.0 / 3, 0.25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := sagaSpec(t, sim.Orchestration, 0)
			spec.Sagas[0].Weight = tc.weight
			spec.Faults = []sim.Fault{{Kind: sim.FaultErrors, Target: "payment", Start: 10 * time.Second, Duration: 10 * time.Second,
				Params: sim.ErrorsFault{Probability: 1.0 / 3}}}
			res, _ := run(t, spec)
			sg := res.Sagas[0]
			near(t, "rolled back during the fault", float64(sg.Compensated)/500, 1.0/3, 0.06)
			cr := res.Cascades[0]
			near(t, "blast radius", cr.BlastRadius, tc.want, 0.03)
			if !slices.Equal(cr.FlowsHit, []string{"saga order"}) {
				t.Errorf("flows hit %q, want the saga only", cr.FlowsHit)
			}
		})
	}
}

// TestSagaBlameTellsFaultsApart: a saga that rolls back or is left
// inconsistent records where its step (or compensation) failed, as a
// service's failed request does, so that its window's blame and its
// episode in the cascade are split between overlapping faults by what
// failed the sagas, not given whole to each by timing. Errors on
// inventory (step 1) from 10 s to 25 s and on payment (step 2) from 15 s
// to 30 s, half the requests each: inventory fails 25 sagas/s for 15 s
// (375), payment 25/s alone for 5 s and 12.5/s of those inventory let
// through for 10 s (250): shares 0.6 and 0.4. Each window's blame adds up
// to its rollbacks. The old engine gave the episode to both, whole, by
// timing (no share).
func TestSagaBlameTellsFaultsApart(t *testing.T) {
	spec := sagaSpec(t, sim.Orchestration, 0)
	spec.Duration = 45 * time.Second
	spec.Faults = []sim.Fault{
		{Kind: sim.FaultErrors, Target: "inventory", Start: 10 * time.Second, Duration: 15 * time.Second, Params: sim.ErrorsFault{Probability: 0.5}},
		{Kind: sim.FaultErrors, Target: "payment", Start: 15 * time.Second, Duration: 15 * time.Second, Params: sim.ErrorsFault{Probability: 0.5}},
	}
	res, _ := run(t, spec)
	for _, w := range res.Sagas[0].Series {
		var n uint64
		if w.Blame != nil {
			n = w.Blame.Faulted + w.Blame.NoFault
		}
		if n != w.Saga().Compensated+w.Saga().Inconsistent {
			t.Errorf("window %v: blame counts %d failures, %d rolled back or inconsistent", w.Start, n, w.Saga().Compensated+w.Saga().Inconsistent)
		}
	}
	for k, want := range []float64{0.6, 0.4} {
		cr := res.Cascades[k]
		i := slices.IndexFunc(cr.Steps, func(st sim.CascadeStep) bool { return st.Component == "saga order" })
		if i < 0 || cr.Steps[i].Share == nil {
			t.Fatalf("%s: no traced step of the saga in %+v", cr.Name, cr.Steps)
		}
		near(t, cr.Name+"'s share of the saga's rollbacks", *cr.Steps[i].Share, want, 0.05)
	}
}

// TestSagaHealthDatedAtItsFirstRollback: a saga's window says how many
// sagas ended rolled back, not when; its unhealthy change is dated at the
// first rollback of its first window, as a service's is at its first
// failure, so it never comes before the failure of the step that caused
// it. Payment refuses 20% of charges from the start, or 30% from 10 s
// (an errors fault): the saga's first unhealthy event comes after
// payment's first. The old engine dated it at its window's start (0 s,
// or the fault's start), before payment's first refusal.
func TestSagaHealthDatedAtItsFirstRollback(t *testing.T) {
	for _, tc := range []struct {
		name   string
		errors float64
		faults []sim.Fault
	}{
		{"refusals from the start", 0.2, nil},
		{"refusals from a fault", 0, []sim.Fault{{Kind: sim.FaultErrors, Target: "payment", Start: 10 * time.Second,
			Duration: 10 * time.Second, Params: sim.ErrorsFault{Probability: 0.3}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := sagaSpec(t, sim.Orchestration, tc.errors)
			spec.Faults = tc.faults
			res, _ := run(t, spec)
			first := map[string]float64{}
			for _, e := range res.Events {
				if _, seen := first[e.Component]; !seen && e.Kind == sim.EventHealth && e.Health != sim.Healthy {
					first[e.Component] = e.TS
				}
			}
			pay, ok1 := first["payment"]
			sg, ok2 := first["saga order"]
			if !ok1 || !ok2 {
				t.Fatalf("no unhealthy event of payment (%v) or of the saga (%v)", ok1, ok2)
			}
			if sg <= pay {
				t.Errorf("saga order unhealthy at %.3fs, payment at %.3fs: the saga's rollbacks come after payment's refusals", sg, pay)
			}
		})
	}
}

// TestSagaInconsistentDatedAtTheFirst: a window with sagas left
// inconsistent fails the saga as of the first of them, not of the
// window's first rollback nor of its start. Payment refuses 5% of charges
// (the saga is degraded); from 10 s, inventory-undo refuses half the
// compensations: the "left inconsistent" change is dated when a saga was
// logged inconsistent. The old engine dated it at its window's start
// (13.000s; the saga it counts ended at 13.387s).
func TestSagaInconsistentDatedAtTheFirst(t *testing.T) {
	spec := sagaSpec(t, sim.Orchestration, 0.05)
	spec.Faults = []sim.Fault{{Kind: sim.FaultErrors, Target: "inventory-undo", Start: 10 * time.Second,
		Duration: 10 * time.Second, Params: sim.ErrorsFault{Probability: 0.5}}}
	res, _ := run(t, spec)
	var left []float64
	change := -1.0
	for _, e := range res.Events {
		if e.Component != "saga order" {
			continue
		}
		if strings.HasPrefix(e.What, "inconsistent:") {
			left = append(left, e.TS)
		}
		if change < 0 && e.Kind == sim.EventHealth && e.Reason.By == sim.ByInconsistent {
			change = e.TS
		}
	}
	if change < 0 {
		t.Fatalf("no change for sagas left inconsistent (%d logged)", len(left))
	}
	if !slices.Contains(left, change) {
		t.Errorf("saga order failing for sagas left inconsistent at %.3fs, none left then (left at %v)", change, left)
	}
}

// TestChoreographedStepNeedsTopic: a spec built in Go whose choreographed
// step names no topic, takes a semantic lock or has a deadline, is refused
// by New, as the loader refuses it: it would be sent as a command, over no
// link (it panicked), a lock's refusal would have no one to answer, and a
// deadline no coordinator to time it.
func TestChoreographedStepNeedsTopic(t *testing.T) {
	spec := sagaSpec(t, sim.Choreography, 0)
	spec.Sagas[0].Steps[1].Topic = ""
	if _, err := sim.New(spec, 1); err == nil || !strings.Contains(err.Error(), "needs the topic") {
		t.Fatalf("New: %v, want a choreographed step without a topic refused", err)
	}
	// Nor a semantic lock on a choreographed step, which has no command
	// to refuse.
	spec = sagaSpec(t, sim.Choreography, 0)
	spec.Sagas[0].Steps[1].Records, spec.Sagas[0].Steps[1].SemanticLock = 5, sim.LockWait
	if _, err := sim.New(spec, 1); err == nil || !strings.Contains(err.Error(), "needs orchestration") {
		t.Fatalf("New: %v, want a semantic lock on a choreographed step refused", err)
	}
	// Nor a deadline, the coordinator's timer, which a choreography has
	// no coordinator to keep: it did nothing.
	spec = sagaSpec(t, sim.Choreography, 0)
	spec.Sagas[0].Steps[1].Deadline = 2 * time.Second
	if _, err := sim.New(spec, 1); err == nil || !strings.Contains(err.Error(), "a deadline needs orchestration") {
		t.Fatalf("New: %v, want a deadline on a choreographed step refused", err)
	}
}

// TestSagaCrashBehindParticipantIsBusinessFailure: a command refused or
// reset by its participant's crashed instance (one still in the endpoints,
// EndpointUpdateDelay) is unavailability: the saga retries it, and a
// 5 s crash of payment only delays the sagas (none compensated, the
// longest about 7 s). A crash behind the participant is not: payment,
// whose call to fraud is refused, answers with an error, a business
// failure, and the saga rolls back (50 sagas/s for 5 s: 250). The old
// engine took any answer whose failure began in a crash for
// unavailability, and retried the 250 until fraud came back.
func TestSagaCrashBehindParticipantIsBusinessFailure(t *testing.T) {
	for _, tc := range []struct {
		name, target string
		compensated  uint64
	}{
		{"the participant crashed: retried", "payment", 0},
		{"a service behind it crashed: rolled back", "fraud", 250},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := sagaSpec(t, sim.Orchestration, 0)
			spec.Services = append(spec.Services, svc(t, "fraud", "1ms"))
			for i := range spec.Services {
				if spec.Services[i].Name == "payment" {
					spec.Services[i].Calls = []sim.Call{call("fraud")}
				}
				spec.Services[i].EndpointUpdateDelay = 20 * time.Second
			}
			spec.Faults = []sim.Fault{{Kind: sim.FaultCrash, Target: tc.target, Start: 10 * time.Second, Duration: 5 * time.Second}}
			res, _ := run(t, spec)
			sg := res.Sagas[0]
			t.Logf("completed %d compensated %d running %d, longest %.1fs", sg.Completed, sg.Compensated, sg.Running, sg.Duration.Max/1000)
			if sg.Compensated != tc.compensated || sg.Inconsistent != 0 {
				t.Errorf("compensated %d, inconsistent %d; want %d compensated", sg.Compensated, sg.Inconsistent, tc.compensated)
			}
			if tc.compensated == 0 && sg.Duration.Max < 4000 {
				t.Errorf("longest saga %.1fs: the crash should delay the sagas it holds", sg.Duration.Max/1000)
			}
		})
	}
}

// TestSagaRedeliveredEventAnswersNoCompensation: a choreographed step's
// event can be in its topic twice. Both followers of every partition are
// down from 10 s to 140 s but stay in the ISR (replica_lag_max 1 h): the
// high watermark stands still, and an acks=all publish fails at its
// delivery timeout (120 s) though its record is in the leader's log; the
// saga publishes the event again. When the followers are back, the
// participant (inventory) reads both. Charges always fail and
// inventory-undo is down throughout: no saga can end compensated. The
// second reading of the reservation's event comes while its saga
// compensates that very step; it runs at inventory (a duplicate) but is
// no answer to the compensation. The old engine took it for the
// compensation's success: 26 sagas counted compensated, each anomalous
// (reserved, never released).
func TestSagaRedeliveredEventAnswersNoCompensation(t *testing.T) {
	spec := sagaSpec(t, sim.Choreography, 1)
	spec.Duration = 200 * time.Second
	spec.Clients[0].Rate = 5
	spec.Brokers[0].ReplicaLagMax = time.Hour
	spec.Faults = []sim.Fault{
		{Kind: sim.FaultCrash, Target: "inventory-undo"},
		{Kind: sim.FaultCrash, Target: "kafka#2", Start: 10 * time.Second, Duration: 130 * time.Second},
		{Kind: sim.FaultCrash, Target: "kafka#3", Start: 10 * time.Second, Duration: 130 * time.Second},
	}
	res, _ := run(t, spec)
	sg := res.Sagas[0]
	reserve := sg.Steps[0]
	t.Logf("started %d compensated %d running %d anomalous %d; reserve executions %d duplicates %d",
		sg.Started, sg.Compensated, sg.Running, sg.Anomalous, reserve.Executions, reserve.Duplicates)
	if reserve.Duplicates == 0 {
		t.Fatal("no reservation ran twice: the test no longer reads an event twice")
	}
	if sg.Compensated+sg.Anomalous+reserve.Compensations != 0 || sg.Running != sg.Started {
		t.Errorf("compensated %d, anomalous %d, releases %d, running %d of %d: with inventory-undo down no saga can end",
			sg.Compensated, sg.Anomalous, reserve.Compensations, sg.Running, sg.Started)
	}
}

// TestSagaStepNeedsTimeout: a spec built in Go whose step sends commands
// (any step of an orchestration, and a compensation in both modes) with
// no timeout is refused by New, as Temporal refuses an activity without a
// start-to-close timeout; the loader fills its 5 s default. The old engine
// ran it: a command lost on its way (a 10 s loss fault on
// orders->payment) was never answered, and the 500 sagas it held never
// ended, their slots kept until the end. A choreographed step without a
// compensation sends no command and needs none.
func TestSagaStepNeedsTimeout(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mode    sim.SagaMode
		step    int
		timeout time.Duration
		refused bool
	}{
		{"an orchestrated step", sim.Orchestration, 1, 0, true},
		{"a negative timeout", sim.Orchestration, 1, -time.Second, true},
		{"a choreographed step with a compensation", sim.Choreography, 1, 0, true},
		{"a choreographed step without one", sim.Choreography, 2, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := sagaSpec(t, tc.mode, 0)
			spec.Sagas[0].Steps[tc.step].Timeout = tc.timeout
			_, err := sim.New(spec, 1)
			if refused := err != nil && strings.Contains(err.Error(), "needs a timeout"); refused != tc.refused {
				t.Fatalf("New: %v, want refused %v", err, tc.refused)
			}
			if tc.refused {
				return
			}
			res, _ := run(t, spec)
			if sg := res.Sagas[0]; sg.Running > 50 {
				t.Errorf("%d of %d sagas still running", sg.Running, sg.Started)
			}
		})
	}
}

// TestSagaConservation runs the saga built-ins under random faults (kinds,
// targets among the saga's services, start and length drawn from the
// seed), random retry limits and coordinator logs, and checks the sums a
// saga's counts must keep whatever happens: every saga started is
// completed, compensated, inconsistent, lost or still running, once; each
// step's settled states (done, compensated, both, none) count every ended
// saga once; the sagas that did a step (its executions less their
// duplicates) are those ended that left it done or both, and some of the
// running ones; the same for its compensation; the windows add up to the
// totals; and the same seed gives the same result, byte for byte.
func TestSagaConservation(t *testing.T) {
	for _, bc := range []struct{ file, variant string }{
		{"order-saga", ""},
		{"saga-orchestration-vs-choreography", "orchestration-participant-crash"},
		{"saga-orchestration-vs-choreography", "choreography-participant-crash"},
	} {
		for seed := uint64(1); seed <= 4; seed++ {
			t.Run(fmt.Sprintf("%s/%s/seed=%d", bc.file, bc.variant, seed), func(t *testing.T) {
				spec := randomSagaFaults(t, bc.file, bc.variant, seed)
				res, _ := run(t, spec)
				for _, sg := range res.Sagas {
					checkSagaSums(t, sg)
				}
				again, _ := run(t, randomSagaFaults(t, bc.file, bc.variant, seed))
				a, _ := json.Marshal(res)
				b, _ := json.Marshal(again)
				if !bytes.Equal(a, b) {
					t.Error("the same spec and seed gave two results")
				}
			})
		}
	}
}

// randomSagaFaults loads the built-in file (its variant) and adds to it
// faults on its saga's services drawn from seed: crashes, pauses, errors,
// blackholes, latency, a partition between the coordinator and a
// participant; and a retry limit and coordinator log drawn too.
func randomSagaFaults(t *testing.T, file, variant string, seed uint64) *sim.Spec {
	t.Helper()
	name, data, err := scenarios.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.LoadScenario(name, data, scenarios.Options{Variant: variant})
	if err != nil {
		t.Fatal(err)
	}
	spec := sc.Spec
	rng := rand.New(rand.NewPCG(seed, 19))
	sg := &spec.Sagas[0]
	var targets []string
	for _, st := range sg.Steps {
		targets = append(targets, st.Service)
		if st.Compensation != "" {
			targets = append(targets, st.Compensation)
		}
	}
	sg.Retry.MaximumAttempts = rng.IntN(4) // 0: no limit
	if rng.IntN(2) == 0 {
		sg.Log = sim.MemoryLog
	}
	span := int64(spec.Duration)
	for range 6 {
		target := targets[rng.IntN(len(targets))]
		f := sim.Fault{Target: target, Start: time.Duration(rng.Int64N(span)), Duration: time.Duration(1 + rng.Int64N(span/4))}
		switch rng.IntN(6) {
		case 0:
			f.Kind = sim.FaultCrash
		case 1:
			f.Kind = sim.FaultPause
		case 2:
			f.Kind, f.Params = sim.FaultErrors, sim.ErrorsFault{Probability: rng.Float64()}
		case 3:
			f.Kind = sim.FaultBlackhole
		case 4:
			f.Kind, f.Params = sim.FaultLatency, sim.LatencyFault{Add: mustDist(t, fmt.Sprintf("%dms", rng.IntN(3000)))}
		default:
			f.Kind, f.Target = sim.FaultPartition, ""
			f.Params = sim.PartitionFault{Sides: [2][]string{{sg.Start}, {target}}}
		}
		spec.Faults = append(spec.Faults, f)
	}
	// The coordinator crashes too, now and then, to lose sagas with a
	// memory log.
	spec.Faults = append(spec.Faults, sim.Fault{Kind: sim.FaultCrash, Target: sg.Start + "#1",
		Start: time.Duration(rng.Int64N(span)), Duration: time.Duration(1 + rng.Int64N(span/8))})
	return spec
}

// checkSagaSums checks the sums of one saga's result (TestSagaConservation).
func checkSagaSums(t *testing.T, sg sim.SagaResult) {
	t.Helper()
	t.Logf("%s: started %d completed %d compensated %d inconsistent %d lost %d running %d (compensating %d) anomalous %d",
		sg.Name, sg.Started, sg.Completed, sg.Compensated, sg.Inconsistent, sg.Lost, sg.Running, sg.Compensating, sg.Anomalous)
	ended := sg.Completed + sg.Compensated + sg.Inconsistent + sg.Lost
	if ended+sg.Running != sg.Started {
		t.Errorf("started %d != ended %d + running %d", sg.Started, ended, sg.Running)
	}
	if sg.Compensating > sg.Running || sg.Anomalous > sg.Completed+sg.Compensated {
		t.Errorf("compensating %d of %d running; anomalous %d of %d completed or compensated",
			sg.Compensating, sg.Running, sg.Anomalous, sg.Completed+sg.Compensated)
	}
	if sg.Duration.Count != sg.Completed || sg.Recovery.Count != sg.Compensated {
		t.Errorf("durations %d of %d completed, recoveries %d of %d compensated", sg.Duration.Count, sg.Completed, sg.Recovery.Count, sg.Compensated)
	}
	for _, st := range sg.Steps {
		if got := st.Done + st.Compensated + st.Both + st.None; got != ended {
			t.Errorf("step %s: done %d + compensated %d + both %d + none %d = %d, ended sagas %d", st.Name, st.Done, st.Compensated, st.Both, st.None, got, ended)
		}
		if did := st.Executions - st.Duplicates; did < st.Done+st.Both || did > st.Done+st.Both+sg.Running {
			t.Errorf("step %s: %d sagas did it, %d ended done or both, %d running", st.Name, did, st.Done+st.Both, sg.Running)
		}
		if undid := st.Compensations - st.CompensationDuplicates; undid < st.Compensated+st.Both || undid > st.Compensated+st.Both+sg.Running {
			t.Errorf("step %s: %d sagas undid it, %d ended compensated or both, %d running", st.Name, undid, st.Compensated+st.Both, sg.Running)
		}
	}
	var w sim.SagaFigures
	for _, win := range sg.Series {
		f := win.Saga()
		w.Started += f.Started
		w.Completed += f.Completed
		w.Compensated += f.Compensated
		w.Inconsistent += f.Inconsistent
	}
	if w.Started != sg.Started || w.Completed != sg.Completed || w.Compensated != sg.Compensated || w.Inconsistent != sg.Inconsistent {
		t.Errorf("windows add up to started %d completed %d compensated %d inconsistent %d", w.Started, w.Completed, w.Compensated, w.Inconsistent)
	}
	if n := len(sg.Series); n > 0 && sg.Series[n-1].Saga().Running != sg.Running {
		t.Errorf("last window running %d, at the end %d", sg.Series[n-1].Saga().Running, sg.Running)
	}
}

// TestSagaResendPublishesItsOwnStep: a choreographed step's event that
// its producer gave up on is published again, the same event, whatever
// the saga has done since. Both followers of every partition are down
// from 10 s to 131 s but stay in the ISR: the reservations published from
// 10 s wait for the high watermark and fail at their delivery timeout
// (120 s), a second before the followers are back; their sagas go on
// with the records the leader had, and charge (100 ms, a backlog) holds
// them when the resends are due. The resends are reservations again (a
// few more records on t-inventory, run twice by inventory for a saga
// still running: anomalous); every charge and shipment event is
// published once, one per saga, none of them having failed. The old
// engine sent the event of the step the saga was at when the resend came
// due: 3 charge events published twice (1503 on t-payment), none of the
// reservations its producer gave up on (6).
func TestSagaResendPublishesItsOwnStep(t *testing.T) {
	spec := sagaSpec(t, sim.Choreography, 0)
	spec.Duration = 300 * time.Second
	spec.Clients[0].Rate = 5
	setService(t, spec, "payment", "100ms")
	spec.Brokers[0].ReplicaLagMax = time.Hour
	spec.Faults = []sim.Fault{
		{Kind: sim.FaultCrash, Target: "kafka#2", Start: 10 * time.Second, Duration: 121 * time.Second},
		{Kind: sim.FaultCrash, Target: "kafka#3", Start: 10 * time.Second, Duration: 121 * time.Second},
	}
	res, _ := run(t, spec)
	sg := res.Sagas[0]
	for _, tp := range res.Topics {
		t.Logf("%s: produced %d, given up %d", tp.Name, tp.Produced, tp.ProduceErrors)
		switch {
		case tp.Name == "t-inventory" && tp.Produced <= sg.Started:
			t.Errorf("%s: %d records for %d sagas: no reservation sent again", tp.Name, tp.Produced, sg.Started)
		case tp.Name != "t-inventory" && (tp.ProduceErrors != 0 || tp.Produced != sg.Started):
			t.Errorf("%s: %d records (%d given up) for %d sagas: want one each", tp.Name, tp.Produced, tp.ProduceErrors, sg.Started)
		}
	}
	if sg.Steps[1].Duplicates+sg.Steps[2].Duplicates != 0 || sg.Steps[0].Duplicates == 0 {
		t.Errorf("duplicates: reserve %d, charge %d, ship %d; want reservations only", sg.Steps[0].Duplicates, sg.Steps[1].Duplicates, sg.Steps[2].Duplicates)
	}
}

// TestSagaCoordinatorBackInArrivalOrder: a coordinator that runs again
// handles what reached its sagas while it was down in the order it
// arrived, as an orchestrator reads its reply channel. Sagas start 4 a
// second; charges take 5 s, so the replies of those started from 5 s to
// 10 s reach orders, frozen (or crashed) from 10 s to 20 s, from 10 s to
// 15 s, in the order the sagas started. At 20 s they go on to shipping,
// which serves one at a time, 100 ms each: the oldest (started at 5 s)
// first, done at 20.1 s, 15.1 s after its start, the longest of all. The
// old engine resumed them in the order of its slots, a saga started at
// 5 s among the last: 17.0 s.
func TestSagaCoordinatorBackInArrivalOrder(t *testing.T) {
	for _, kind := range []sim.FaultKind{sim.FaultPause, sim.FaultCrash} {
		t.Run(kind.String(), func(t *testing.T) {
			spec := sagaSpec(t, sim.Orchestration, 0)
			spec.Clients[0].Rate = 4
			setService(t, spec, "payment", "5s")
			setService(t, spec, "shipping", "100ms")
			service(spec, "shipping").Workers = 1
			spec.Sagas[0].Steps[1].Timeout, spec.Sagas[0].Steps[2].Timeout = 10*time.Second, 10*time.Second
			spec.Faults = []sim.Fault{{Kind: kind, Target: "orders", Start: 10 * time.Second, Duration: 10 * time.Second}}
			res, _ := run(t, spec)
			near(t, "longest saga (s)", res.Sagas[0].Duration.Max/1000, 15.1, 0.05)
		})
	}
}

// TestSagaPastThePivotNeverRollsBack: a step after the pivot that spends
// its maximum attempts leaves its saga inconsistent (half done): past the
// pivot a saga runs until it completes, and is never rolled back.
// Shipping, after the pivot (charge), always fails; with two attempts
// every saga that reached it is left inconsistent, charged and reserved,
// and no refund nor release is sent. Without a limit they are retried
// until the end (running). The old engine rolled them back across the
// pivot: 1450 compensated, each refunded.
func TestSagaPastThePivotNeverRollsBack(t *testing.T) {
	for _, attempts := range []int{2, 0} {
		t.Run(fmt.Sprint("maximum_attempts=", attempts), func(t *testing.T) {
			spec := sagaSpec(t, sim.Orchestration, 0)
			service(spec, "shipping").Errors = 1
			spec.Sagas[0].Retry.MaximumAttempts = attempts
			res, _ := run(t, spec)
			sg := res.Sagas[0]
			t.Logf("completed %d compensated %d inconsistent %d running %d", sg.Completed, sg.Compensated, sg.Inconsistent, sg.Running)
			if sg.Compensated+sg.Completed != 0 || sg.Steps[0].Compensations+sg.Steps[1].Compensations != 0 {
				t.Errorf("compensated %d, completed %d, releases %d, refunds %d: past the pivot no saga goes back",
					sg.Compensated, sg.Completed, sg.Steps[0].Compensations, sg.Steps[1].Compensations)
			}
			if left := sg.Inconsistent > sg.Started*9/10; left != (attempts > 0) {
				t.Errorf("inconsistent %d of %d started", sg.Inconsistent, sg.Started)
			}
		})
	}
}

// TestSagaAttemptCappedByDeadline: a step's deadline (Temporal's
// schedule-to-close timeout) bounds each attempt as well as the retries:
// Temporal caps start-to-close at schedule-to-close, and the
// schedule-to-close timer ends an attempt still running when it fires. Here
// payment swallows every charge (a blackhole for the whole run) and 50
// sagas a second start: each fails its charge, and rolls back, when its
// deadline passes, so about 50/s x the deadline are still running at the
// end. The old engine let each attempt run its whole timeout: with a 5 s
// timeout and a 2 s deadline it rolled back after 5 s (250 running); with a
// 2 s timeout and a 3.5 s deadline, the retry at 3 s waited until 5 s.
func TestSagaAttemptCappedByDeadline(t *testing.T) {
	for _, tc := range []struct {
		name              string
		timeout, deadline time.Duration
		failsAfter        float64 // seconds from the charge's first attempt
	}{
		{"deadline shorter than the timeout", 5 * time.Second, 2 * time.Second, 2},
		{"a retry gets what is left", 2 * time.Second, 3500 * time.Millisecond, 3.5},
		{"deadline longer than the attempts", time.Second, 3500 * time.Millisecond, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := sagaSpec(t, sim.Orchestration, 0)
			spec.Sagas[0].Steps[1].Timeout = tc.timeout
			spec.Sagas[0].Steps[1].Deadline = tc.deadline
			spec.Faults = []sim.Fault{{Kind: sim.FaultBlackhole, Target: "payment", Start: 0, Duration: time.Hour, Params: sim.BlackholeFault{}}}
			res, _ := run(t, spec)
			sg := res.Sagas[0]
			t.Logf("started %d compensated %d running %d", sg.Started, sg.Compensated, sg.Running)
			near(t, "sagas running at the end", float64(sg.Running), 50*tc.failsAfter, 3)
			if sg.Completed != 0 || sg.Compensated+sg.Running != sg.Started {
				t.Errorf("completed %d, compensated %d + running %d of %d started", sg.Completed, sg.Compensated, sg.Running, sg.Started)
			}
		})
	}
}

// TestSagaRetryPastDeadlineWhileCoordinatorDown: a retry that comes due
// while its coordinator is frozen waits for it (parked); when the
// coordinator runs again past the step's deadline, the step has timed out
// (Temporal's schedule-to-close timer fired meanwhile) and the saga rolls
// back at once. Capping the attempt's timeout at what is left of the
// deadline must not send it with none: the charge, swallowed by a
// blackhole, would then wait forever. orders is paused from 10 s to 20 s,
// the clients stop at 25 s: every saga has ended by 40 s.
func TestSagaRetryPastDeadlineWhileCoordinatorDown(t *testing.T) {
	spec := sagaSpec(t, sim.Orchestration, 0)
	spec.Duration = 40 * time.Second
	spec.Clients[0].Schedule = []sim.RateStep{{At: 25 * time.Second, Rate: 0}}
	spec.Sagas[0].Steps[1].Timeout = time.Second
	spec.Sagas[0].Steps[1].Deadline = 3500 * time.Millisecond
	spec.Faults = []sim.Fault{
		{Kind: sim.FaultBlackhole, Target: "payment", Start: 0, Duration: time.Hour, Params: sim.BlackholeFault{}},
		{Kind: sim.FaultPause, Target: "orders", Start: 10 * time.Second, Duration: 10 * time.Second},
	}
	res, _ := run(t, spec)
	sg := res.Sagas[0]
	t.Logf("started %d compensated %d running %d", sg.Started, sg.Compensated, sg.Running)
	if sg.Running != 0 || sg.Completed != 0 {
		t.Errorf("%d sagas still running, %d completed; want all %d rolled back", sg.Running, sg.Completed, sg.Started)
	}
}

// TestSagaRetryPolicyChecked: sim.New refuses the retry policies that
// Temporal's ValidateRetryPolicy refuses, and the loader with them, its
// zero values read as the defaults (1 s initial interval, 100 x it at
// most): a maximum interval below the initial one (the old sim.New took
// it, and every retry then waited the shorter maximum), a backoff
// coefficient below 1, negative intervals or attempts.
func TestSagaRetryPolicyChecked(t *testing.T) {
	for _, tc := range []struct {
		name    string
		retry   sim.SagaRetry
		refused string // in the error, "" if accepted
	}{
		{"maximum below initial", sim.SagaRetry{InitialInterval: 10 * time.Second, MaximumInterval: 5 * time.Second}, "below the initial interval"},
		{"maximum below the default initial", sim.SagaRetry{MaximumInterval: 500 * time.Millisecond}, "below the initial interval"},
		{"maximum equal to initial", sim.SagaRetry{InitialInterval: time.Second, MaximumInterval: time.Second}, ""},
		{"defaults", sim.SagaRetry{}, ""},
		{"coefficient below 1", sim.SagaRetry{BackoffCoefficient: 0.5}, "coefficient"},
		{"negative initial interval", sim.SagaRetry{InitialInterval: -time.Second}, "negative"},
		{"negative attempts", sim.SagaRetry{MaximumAttempts: -1}, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := sagaSpec(t, sim.Orchestration, 0)
			spec.Sagas[0].Retry = tc.retry
			_, err := sim.New(spec, 1)
			switch {
			case tc.refused == "" && err != nil:
				t.Fatalf("New: %v, want it accepted", err)
			case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
				t.Fatalf("New: %v, want it refused: %s", err, tc.refused)
			}
		})
	}
}

// TestSagaStartedByRetiredCoordinator: a retired instance finishes the
// requests it holds, and a saga one of them starts must not take it for
// its coordinator. orders answers in 2 s and is scaled in from 3 to 1 at
// 15 s while its instances hold about 100 requests; the load stops at
// 20 s and the run goes on to 60 s. With a durable log the sagas those
// requests start go on at orders#1, the instance that stays, and all end;
// the old engine made the retired instance their coordinator, and 66 of
// 1001 sagas were still running 40 s after the last started, their
// replies parked for good. With the log in memory they end with the
// retired process: lost.
func TestSagaStartedByRetiredCoordinator(t *testing.T) {
	for _, tc := range []struct {
		name    string
		log     sim.SagaLog
		lostMin uint64
	}{
		{"durable log: they go on at the instance that stays", sim.DurableLog, 0},
		{"memory log: lost with the retired process", sim.MemoryLog, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := sagaSpec(t, sim.Orchestration, 0)
			spec.Duration = 60 * time.Second
			spec.Clients[0].Schedule = []sim.RateStep{{At: 20 * time.Second, Rate: 0}}
			spec.Sagas[0].Log = tc.log
			setService(t, spec, "orders", "2s")
			o := service(spec, "orders")
			o.Instances = 3
			o.Autoscale = &resilience.AutoscaleConfig{TargetUtilisation: 0.8, Min: 1, Max: 3, Interval: 15 * time.Second}
			res, _ := run(t, spec)
			sg := res.Sagas[0]
			t.Logf("started %d completed %d lost %d running %d", sg.Started, sg.Completed, sg.Lost, sg.Running)
			if sg.Started < 900 {
				t.Fatalf("only %d sagas started", sg.Started)
			}
			if sg.Running != 0 {
				t.Errorf("%d sagas still running 40 s after the last started", sg.Running)
			}
			if sg.Lost < tc.lostMin || tc.lostMin == 0 && sg.Lost != 0 {
				t.Errorf("%d sagas lost, want at least %d (none for a durable log)", sg.Lost, tc.lostMin)
			}
		})
	}
}

// TestSagaHandedOnceOnScaleIn: the autoscaler scales orders in from 3
// instances to 1 in one pass, and each saga orders#2 and orders#3
// coordinated is handed over once, to orders#1, the instance that stays:
// each of them reports handing exactly the sagas it held. The old engine
// handed orders#3's sagas over while orders#2, retired in the same pass,
// was still live, and so handed half of them to orders#2 (resumed there)
// and then again to orders#1 with orders#2's own.
func TestSagaHandedOnceOnScaleIn(t *testing.T) {
	spec := sagaSpec(t, sim.Orchestration, 0)
	spec.Duration = 40 * time.Second
	spec.Clients[0].Schedule = []sim.RateStep{{At: 20 * time.Second, Rate: 0}}
	setService(t, spec, "payment", "3s")
	spec.Sagas[0].Steps[1].Timeout = 10 * time.Second
	o := service(spec, "orders")
	o.Instances = 3
	o.Autoscale = &resilience.AutoscaleConfig{TargetUtilisation: 0.8, Min: 1, Max: 3, Interval: 15 * time.Second}
	s, err := sim.New(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	s.RunUntil(15*time.Second - 1)
	held := s.SagaCoordinators("orders")
	res := s.Run()
	if sg := res.Sagas[0]; sg.Running != 0 {
		t.Errorf("%d sagas still running", sg.Running)
	}
	for n := 1; n < 3; n++ {
		want := fmt.Sprintf("scaled away: its %d sagas go on at the other coordinators", held[n])
		who := fmt.Sprintf("orders#%d", n+1)
		if !slices.ContainsFunc(res.Events, func(e sim.EventResult) bool { return e.Component == who && e.What == want }) {
			var got []string
			for _, e := range res.Events {
				if strings.HasPrefix(e.What, "scaled away") {
					got = append(got, e.Component+" "+e.What)
				}
			}
			t.Errorf("%s held %d sagas, want %q; events %q", who, held[n], want, got)
		}
	}
}

// TestSagaCoordinatorRemoved: orders, the coordinator, has 3 instances
// and loses two of them at 15 s while each saga waits 3 s on its charge.
// Scaled in by the autoscaler (its first look, at 15 s: CPU idle, no
// stabilisation window), orders#2 and orders#3 never come back: with a
// durable log their sagas go on at orders#1 (Eventuate Tram's orchestrator
// instances share the reply channel as one consumer group and load each
// saga from the database), and every saga has ended by the end of the run;
// the old engine parked their replies for a coordinator that never came
// back, 100 sagas stuck. Restarted by a deploy (one at a time, 2 s to
// start), each instance's sagas wait for its restart and go on. With the
// log in memory, both end the sagas of the process that stopped: lost.
func TestSagaCoordinatorRemoved(t *testing.T) {
	scaleIn := func(spec *sim.Spec) {
		service(spec, "orders").Autoscale = &resilience.AutoscaleConfig{TargetUtilisation: 0.8, Min: 1, Max: 3, Interval: 15 * time.Second}
	}
	deploy := func(spec *sim.Spec) {
		spec.Faults = []sim.Fault{{Kind: sim.FaultDeploy, Target: "orders", Start: 15 * time.Second,
			Params: sim.DeployFault{Batch: 1, StartupDelay: 2 * time.Second}}}
	}
	for _, tc := range []struct {
		name    string
		remove  func(*sim.Spec)
		log     sim.SagaLog
		lostMin uint64
	}{
		{"scale-in, durable log: another instance goes on", scaleIn, sim.DurableLog, 0},
		{"scale-in, memory log: lost with the process", scaleIn, sim.MemoryLog, 50},
		{"deploy, durable log: they wait for the restart", deploy, sim.DurableLog, 0},
		{"deploy, memory log: lost with the process", deploy, sim.MemoryLog, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := sagaSpec(t, sim.Orchestration, 0)
			spec.Duration = 40 * time.Second
			spec.Clients[0].Schedule = []sim.RateStep{{At: 20 * time.Second, Rate: 0}}
			setService(t, spec, "payment", "3s")
			spec.Sagas[0].Steps[1].Timeout = 10 * time.Second
			spec.Sagas[0].Log = tc.log
			service(spec, "orders").Instances = 3
			tc.remove(spec)
			res, _ := run(t, spec)
			sg := res.Sagas[0]
			t.Logf("started %d completed %d lost %d running %d", sg.Started, sg.Completed, sg.Lost, sg.Running)
			if sg.Running != 0 {
				t.Errorf("%d sagas still running 20 s after the last started", sg.Running)
			}
			if sg.Lost < tc.lostMin || tc.lostMin == 0 && sg.Lost != 0 {
				t.Errorf("%d sagas lost, want at least %d (none for a durable log)", sg.Lost, tc.lostMin)
			}
		})
	}
}
