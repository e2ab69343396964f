package importer

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// skewTraces builds n traces of server spans only: gw.get (host gw-1)
// calls be.q (host be-1) three times in sequence, and each be.q calls
// db.read (host db-1), with random times before, between and after the
// calls. be-1's clock reads beSkew ahead, db-1's dbSkew ahead. With
// detached, gw.get also starts be.notify (on be-1), which outlives it by
// 20 ms or more (an edge not waited for, derive.go). With drift, be-1's offset changes sign from trace
// to trace (no constant offset).
func skewTraces(n int, beSkew, dbSkew time.Duration, detached, drift bool) [][]Span {
	r := rand.New(rand.NewPCG(1, 2))
	ms := func(lo, hi float64) int64 { return int64((lo + r.Float64()*(hi-lo)) * float64(time.Millisecond)) }
	var traces [][]Span
	for i := range n {
		t0 := int64(1700000000000000000) + int64(i)*int64(50*time.Millisecond)
		id := func(s string) string { return fmt.Sprintf("%s%d", s, i) }
		trace := []Span{{TraceID: id("t"), SpanID: id("gw"), Service: "gw", Instance: "gw-1", Operation: "get", Kind: KindServer, Start: t0}}
		at := t0 + ms(0.2, 2)
		if drift {
			beSkew = -beSkew
		}
		for c := range 3 {
			be := Span{TraceID: id("t"), SpanID: id(fmt.Sprint("be", c)), ParentID: id("gw"), Service: "be", Instance: "be-1", Operation: "q", Kind: KindServer, Start: at}
			db := Span{TraceID: id("t"), SpanID: id(fmt.Sprint("db", c)), ParentID: be.SpanID, Service: "db", Instance: "db-1", Operation: "read", Kind: KindServer, Start: at + ms(0.1, 0.5)}
			db.End = db.Start + ms(0.5, 2)
			be.End = db.End + ms(0.1, 0.5)
			at = be.End + ms(0.2, 1)
			be.Start, be.End = be.Start+int64(beSkew), be.End+int64(beSkew)
			db.Start, db.End = db.Start+int64(dbSkew), db.End+int64(dbSkew)
			trace = append(trace, be, db)
		}
		trace[0].End = at + ms(0, 1.8)
		if detached {
			end := trace[0].End
			trace = append(trace, Span{TraceID: id("t"), SpanID: id("bg"), ParentID: id("gw"), Service: "be", Instance: "be-1", Operation: "notify", Kind: KindServer, Start: end - ms(0.5, 1) + int64(beSkew), End: end + ms(20, 40) + int64(beSkew)})
		}
		traces = append(traces, trace)
	}
	return traces
}

// foldSpans folds traces as Import does: a survey, then the fold.
func foldSpans(traces [][]Span) *aggregator {
	survey := newAggregator()
	survey.survey = true
	for _, tr := range traces {
		survey.addTrace(slices.Clone(tr))
	}
	a := surveyed(survey)
	for _, tr := range traces {
		a.addTrace(slices.Clone(tr))
	}
	return a
}

// ownTimes is the own times of one operation, in the order read.
func ownTimes(t *testing.T, a *aggregator, service, op string) []int64 {
	t.Helper()
	var v []int64
	n := 0
	if s := a.services[service]; s != nil {
		for _, o := range s.ops {
			if o.key.op == op {
				n++
				for _, x := range o.ownSeries {
					v = append(v, x.v)
				}
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d operations %s.%s; want one", n, service, op)
	}
	return v
}

// TestClockSkew: server spans only, a callee host whose clock is off by a
// constant offset. The fold recovers the offset per host pair from the
// bounds that put every callee within its caller, and shifts the callees'
// subtrees by it (skew.go): each operation's own time matches the
// unskewed trace's within 0.1 ms. Before, a callee ahead overran its
// caller and the caller's own time grew by the overrun (skew.json: the
// gateway's p50 18 % too high in compare). A host pair with no overrun,
// and work not waited for, move nothing.
func TestClockSkew(t *testing.T) {
	const ms = time.Millisecond
	pairGwBe := hostPair{"gw/gw-1", "be/be-1"}
	pairBeDb := hostPair{"be/be-1", "db/db-1"}
	tests := []struct {
		name            string
		beSkew, dbSkew  time.Duration
		detached, drift bool
		want            map[hostPair]time.Duration // recovered shifts
	}{
		{"no skew", 0, 0, false, false, map[hostPair]time.Duration{}},
		{"callee host 1.5 ms ahead", 1500 * time.Microsecond, 1500 * time.Microsecond, false, false, map[hostPair]time.Duration{pairGwBe: -1500 * time.Microsecond}},
		{"callee host 3 ms behind", -3 * ms, -3 * ms, false, false, map[hostPair]time.Duration{pairGwBe: 3 * ms}},
		{"two hosts skewed apart", 2 * ms, -1 * ms, false, false, map[hostPair]time.Duration{pairGwBe: -2 * ms, pairBeDb: 3 * ms}},
		{"a detached callee does not count", 1500 * time.Microsecond, 1500 * time.Microsecond, true, false, map[hostPair]time.Duration{pairGwBe: -1500 * time.Microsecond}},
		// Overruns that no one offset explains (a caller that
		// timed out, a clock stepped by NTP) are left as they are.
		{"an offset that changes sign moves nothing", 1500 * time.Microsecond, 0, false, true, map[hostPair]time.Duration{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := foldSpans(skewTraces(200, tt.beSkew, tt.dbSkew, tt.detached, tt.drift))
			clean := foldSpans(skewTraces(200, 0, 0, tt.detached, false))
			if notes := a.skewNotes(); len(notes) != len(tt.want) {
				t.Errorf("notes %q; want %d", notes, len(tt.want))
			}
			if len(a.skew) != len(tt.want) {
				t.Errorf("shifts %v; want %v", a.skew, tt.want)
			}
			for p, want := range tt.want {
				if got := time.Duration(a.skew[p]); (got - want).Abs() > 100*time.Microsecond {
					t.Errorf("shift of %v %v; want %v within 0.1 ms", p, got, want)
				}
			}
			if tt.drift {
				return
			}
			for _, op := range [][2]string{{"gw", "get"}, {"be", "q"}, {"db", "read"}} {
				svc := op[0] + "." + op[1]
				got, want := ownTimes(t, a, op[0], op[1]), ownTimes(t, clean, op[0], op[1])
				if len(got) != len(want) {
					t.Fatalf("%s: %d own times; want %d", svc, len(got), len(want))
				}
				for i := range got {
					if d := time.Duration(got[i] - want[i]); d.Abs() > 100*time.Microsecond {
						t.Fatalf("%s: own time %d is %v, %v off the unskewed trace's", svc, i, time.Duration(got[i]), d)
					}
				}
			}
		})
	}
}
