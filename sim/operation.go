package sim

import (
	"math/rand/v2"

	"github.com/faultline/faultline/sim/dist"
)

// operation is one endpoint of a service: its own service time, errors and
// calls, on the service's shared instances and workers. That sharing is
// what makes a monolith fragile: a slow operation holds the workers the
// others need. A service without operations has one implicit operation.
type operation struct {
	name   string // "" for the implicit one
	st     dist.Dist
	errors float64
	after  float64
	stages []stage // its calls, in groups, as ranges of the service's edges
	// regimes holds each instance's state of a markov service time, so
	// that each instance has its own slow episodes (its own GC pauses);
	// it grows as instances first serve the operation.
	regimes []dist.Regime

	agg, win tally
	series   []Window
}

// work draws the service time of a request on instance inst at now.
func (op *operation) work(rng *rand.Rand, now int64, inst int32) int64 {
	if !op.st.Modulated() {
		return op.st.Sample(rng)
	}
	for int(inst) >= len(op.regimes) {
		op.regimes = append(op.regimes, dist.Regime{})
	}
	return op.st.SampleAt(rng, now, &op.regimes[inst])
}

// stage is a group of a service's edges issued together: calls[from:to].
type stage struct{ from, to int32 }

// initOps builds the service's operations and the list of its call specs:
// every operation's calls, then the publishes on the request path, which
// every operation makes last.
func (sv *service) initOps() {
	spec := sv.spec
	type opCalls struct {
		op    operation
		calls []Call
	}
	var ops []opCalls
	if len(spec.Operations) == 0 {
		ops = append(ops, opCalls{operation{st: spec.ServiceTime, errors: spec.Errors, after: spec.AfterCalls}, spec.Calls})
	}
	sv.perOp = len(spec.Operations) > 0
	sum := 0.0
	for _, o := range spec.Operations {
		op := operation{name: o.Name, st: spec.ServiceTime, errors: spec.Errors, after: o.AfterCalls}
		if o.HasServiceTime {
			op.st = o.ServiceTime
		}
		if o.HasErrors {
			op.errors = o.Errors
		}
		ops = append(ops, opCalls{op, o.Calls})
		sum += o.Weight
		sv.opCum = append(sv.opCum, sum)
	}
	var pubs []Call
	for _, p := range spec.Publishes {
		if !p.After {
			// On the request path a publish is a call to its topic: it
			// gets timeouts, retries and the rest of the call layer.
			pubs = append(pubs, Call{To: p.Topic, Op: OpPublish, Key: p.Key,
				Timeout: p.Timeout, Probability: p.Probability, Group: "\x00publish", Fanout: 1})
		}
	}
	for i, oc := range ops {
		oc.op.stages = groupStages(oc.calls, int32(len(sv.callSpecs)))
		sv.callSpecs = append(sv.callSpecs, oc.calls...)
		for range oc.calls {
			sv.callOp = append(sv.callOp, int32(i))
		}
		sv.ops = append(sv.ops, oc.op)
	}
	if len(pubs) > 0 {
		st := stage{from: int32(len(sv.callSpecs)), to: int32(len(sv.callSpecs) + len(pubs))}
		sv.callSpecs = append(sv.callSpecs, pubs...)
		for range pubs {
			sv.callOp = append(sv.callOp, -1) // every operation's
		}
		for i := range sv.ops {
			sv.ops[i].stages = append(sv.ops[i].stages, st)
		}
	}
}

// groupStages splits calls, which start at index base of the service's
// edges, into stages: adjacent calls of the same non-empty group go
// together. A repeated call is a stage of its own: its repetitions
// follow each other.
func groupStages(calls []Call, base int32) []stage {
	var out []stage
	from := 0
	for i := range calls {
		if i+1 == len(calls) || calls[i].Group == "" || calls[i+1].Group != calls[i].Group ||
			calls[i].Repeat != nil || calls[i+1].Repeat != nil {
			out = append(out, stage{from: base + int32(from), to: base + int32(i+1)})
			from = i + 1
		}
	}
	return out
}

// opIndex returns the index of the named operation, or -1.
func (sv *service) opIndex(name string) int32 {
	for i := range sv.ops {
		if sv.ops[i].name == name {
			return int32(i)
		}
	}
	return -1
}

// pickOp chooses the operation of a request that does not name one: by
// the operations' weights.
func (sv *service) pickOp(rng *rand.Rand) int32 {
	if len(sv.opCum) < 2 {
		return 0
	}
	x := rng.Float64() * sv.opCum[len(sv.opCum)-1]
	for i, w := range sv.opCum {
		if x < w {
			return int32(i)
		}
	}
	return int32(len(sv.opCum) - 1)
}

// opFor is the operation a request to sv asked for: op, or by weight when
// op is -1.
func (sv *service) opFor(op int32, rng *rand.Rand) int32 {
	if op >= 0 {
		return op
	}
	return sv.pickOp(rng)
}

// done counts a request of the operation that ended with o after lat.
func (op *operation) done(o Outcome, counted bool, lat, now int64) {
	if counted {
		op.agg.count(o, now)
		if o == OK {
			op.agg.lat.Record(lat)
		}
	}
	op.win.count(o, now)
	if o == OK {
		op.win.lat.Record(lat)
	}
}
