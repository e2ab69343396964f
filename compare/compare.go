package compare

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/faultline/faultline/importer"
	"github.com/faultline/faultline/sim"
)

// Options are the choices of a comparison.
type Options struct {
	// MinSpans is the fewest spans an operation needs to be compared:
	// percentiles of fewer say little.
	MinSpans int64
	// Windows is how many times the traces' window the run lasted
	// (AtObservedLoad's windows); counts are per window. 0 counts as 1.
	Windows int
}

// Figures are one side of an operation's comparison. Latencies are in
// milliseconds.
type Figures struct {
	// Count is the number of spans; for the simulation, the requests it
	// measured times the traces' sampled share (the spans a recorder that
	// sampled as the traces' did would have kept), per window
	// (Options.Windows).
	Count      float64 `json:"count"`
	RatePerS   float64 `json:"rate_per_s"`
	P50        float64 `json:"p50_ms"`
	P90        float64 `json:"p90_ms"`
	P99        float64 `json:"p99_ms"`
	ErrorShare float64 `json:"error_share"`
	// P50CI and P99CI, observed only, are the 95 % confidence intervals
	// of P50 and P99 (importer.Interval): a simulated figure inside
	// one is as close as another sample of as many spans could have
	// come, so its relative error alone does not judge it.
	P50CI *CI `json:"p50_ci_ms,omitempty"`
	P99CI *CI `json:"p99_ci_ms,omitempty"`
	// noLatency, simulated only: the run answered none of the
	// operation's requests with success, and its latencies are of
	// successful requests, so its quantiles say nothing.
	noLatency bool
}

// CI is a confidence interval in milliseconds, low then high; high is
// +Inf (null in JSON) when the spans are too few to bound the quantile
// from above.
type CI [2]float64

// Contains says whether v lies in the interval.
func (c *CI) Contains(v float64) bool { return c != nil && v >= c[0] && v <= c[1] }

// MarshalJSON writes [low, high], null for an unbounded high.
func (c CI) MarshalJSON() ([]byte, error) {
	hi := "null"
	if !math.IsInf(c[1], 1) {
		hi = strconv.FormatFloat(c[1], 'f', -1, 64)
	}
	return []byte("[" + strconv.FormatFloat(c[0], 'f', -1, 64) + "," + hi + "]"), nil
}

func ciOf(iv importer.Interval) *CI {
	c := CI{ms(iv.Low.Nanoseconds()), math.Inf(1)}
	if iv.High >= 0 {
		c[1] = ms(iv.High.Nanoseconds())
	}
	return &c
}

// Fits judges a simulated quantile against the observed one: within tol
// (a relative error, 0.2 for 20 %) of it, or inside its confidence
// interval ci, where the observation cannot tell the two apart.
func Fits(obs, simulated float64, ci *CI, tol float64) bool {
	return math.Abs(RelErr(obs, simulated)) <= tol || ci.Contains(simulated)
}

// Row is one operation observed and simulated.
type Row struct {
	Service   string  `json:"service"`
	Operation string  `json:"operation"`
	Observed  Figures `json:"observed"`
	Simulated Figures `json:"simulated"`
}

// Report is a comparison. The MAPEs are in percent.
type Report struct {
	Operations []Row   `json:"operations"`
	P50MAPE    float64 `json:"p50_mape"`
	// P90MAPE shows what the p50 and p99 pass over: a tail drawn wrong
	// between them (a percentiles(...) line from p90 to p99 across a
	// stall cluster put Online Boutique's list-recommendations at p90
	// 194 % high while its p50 and p99 were within 5 %).
	P90MAPE float64 `json:"p90_mape"`
	P99MAPE float64 `json:"p99_mape"`
	// Missing names the operations with enough spans that the scenario
	// does not have.
	Missing []string `json:"missing"`
	// NoSuccess names the operations the traces show succeeding that the
	// run answered with no success: they have no simulated latency (a
	// run's latency is of successful requests) and the MAPEs count each
	// as 100 % off, the error of a simulated 0 ms. Left out, a run whose
	// every request failed scored a MAPE of 0 %.
	NoSuccess []string `json:"no_success"`
	// Unscored counts the operations the MAPEs leave out: observed and
	// simulated at 0 ms, or failed throughout in the traces and the run
	// alike; there is nothing to be off by.
	Unscored int `json:"unscored"`
}

// AtObservedLoad sets spec to the load the traces show, and returns what
// it could not match: every open-loop client whose target is an entry
// operation of the traces ("service.operation") takes that entry's rate,
// without its schedule, and a client the import made (importer.MadeClient)
// that has no counterpart in the traces is set to rate 0; the run lasts
// the scenario's warmup plus windows times the time over which the
// traces' requests arrived (1: as long, so that counts compare; more: the
// simulated quantiles are the scenario's, not one window's luck, where
// slowness comes in episodes of seconds). Any other client of the
// scenario that targets no entry of the traces keeps its load; an entry
// of the traces that no client targets is not driven.
func AtObservedLoad(spec *sim.Spec, m *importer.Model, windows int) []string {
	var notes []string
	// A client of the scenario takes the traces' client of its own name
	// (an imported scenario's: an entry may have several, its root spans
	// and its orphans), else the sum of the traces' clients at its target
	// that no client claimed by name.
	claimed := make([]bool, len(m.Clients))
	byName := make([]int, len(spec.Clients))
	for i := range spec.Clients {
		byName[i] = -1
		for j, mc := range m.Clients {
			if mc.Name == spec.Clients[i].Name && !claimed[j] {
				byName[i], claimed[j] = j, true
				break
			}
		}
	}
	driven := make([]bool, len(m.Clients))
	for i := range spec.Clients {
		c := &spec.Clients[i]
		target := c.Target
		if c.Operation != "" {
			target += "." + c.Operation
		}
		var rate float64
		found := false
		for j, mc := range m.Clients {
			if byName[i] == j || byName[i] < 0 && !claimed[j] && mc.Target == target {
				rate, found = rate+mc.Rate, true
				driven[j] = true
			}
		}
		switch {
		case !found && importer.MadeClient(c.Name, c.Target, c.Operation) && c.Users == 0:
			// The import's load of an entry, its orphans or its work not
			// waited for stands for those requests of the traces it was
			// made from; traces of another window without them had none
			// (kept, a skewed import's async-... client drove 9.1/s of
			// work the compared traces hold inside their calls).
			c.Rate, c.Schedule = 0, nil
			notes = append(notes, fmt.Sprintf("client %q (made by the import for %s) has no counterpart in the traces: its rate is set to 0", c.Name, target))
		case !found:
			notes = append(notes, fmt.Sprintf("client %q targets %s, which is no entry operation of the traces: its load is kept", c.Name, target))
		case c.Users > 0:
			notes = append(notes, fmt.Sprintf("client %q is closed loop (users): its load is kept, not the traces' %s requests/s", c.Name, sig(rate)))
		default:
			c.Rate, c.Schedule = rate, nil
		}
	}
	for j, mc := range m.Clients {
		if !driven[j] {
			notes = append(notes, fmt.Sprintf("the traces' entry %s (%s requests/s) is the target of no client of the scenario: not driven", mc.Target, sig(mc.Rate)))
		}
	}
	spec.Duration = spec.Warmup + time.Duration(max(windows, 1))*m.Observed.Window
	return notes
}

// Compare lays the operations the traces show with at least MinSpans
// spans beside the same operations (by service and operation name) of the
// run's result.
func Compare(m *importer.Model, res *sim.Result, opts Options) Report {
	rep := Report{Operations: []Row{}, Missing: []string{}, NoSuccess: []string{}}
	ratio := m.Observed.SampleRatio
	if ratio <= 0 {
		ratio = 1
	}
	measured := res.DurationS - res.WarmupS
	ratio /= float64(max(opts.Windows, 1)) // counts per window
	copies := map[string][]string{}
	for _, s := range m.Services {
		if s.CopyOf != "" {
			copies[s.CopyOf] = append(copies[s.CopyOf], s.Name)
		}
	}
	for _, s := range m.Services {
		if s.CopyOf != "" {
			continue // its operations' spans are the original's
		}
		for _, op := range s.Operations {
			if op.Count < opts.MinSpans {
				continue
			}
			obs := Figures{
				Count: float64(op.Count), RatePerS: op.RatePerSec,
				P50: ms(op.P50.Nanoseconds()), P90: ms(op.P90.Nanoseconds()), P99: ms(op.P99.Nanoseconds()),
				ErrorShare: op.ErrorShare,
				P50CI:      ciOf(op.P50CI), P99CI: ciOf(op.P99CI),
			}
			simf, ok := simulated(res, s.Name, op.Name, len(s.Operations) == 1, measured, ratio)
			for _, c := range copies[s.Name] {
				if cf, found := simulated(res, c, op.Name, false, measured, ratio); found {
					simf = combine(simf, cf)
				}
			}
			if !ok {
				rep.Missing = append(rep.Missing, s.Name+"."+op.Name)
				continue
			}
			rep.Operations = append(rep.Operations, Row{Service: s.Name, Operation: op.Name, Observed: obs, Simulated: simf})
		}
	}
	var p50s, p90s, p99s []float64
	for _, r := range rep.Operations {
		switch {
		case r.Simulated.noLatency && r.Observed.ErrorShare < 1:
			rep.NoSuccess = append(rep.NoSuccess, r.Service+"."+r.Operation)
			p50s, p90s, p99s = append(p50s, -1), append(p90s, -1), append(p99s, -1)
			continue
		case r.Simulated.noLatency: // failed throughout on both sides
			p50s, p90s, p99s = append(p50s, math.NaN()), append(p90s, math.NaN()), append(p99s, math.NaN())
			continue
		}
		p50s = append(p50s, LatencyErr(r.Observed.P50, r.Simulated.P50))
		p90s = append(p90s, LatencyErr(r.Observed.P90, r.Simulated.P90))
		p99s = append(p99s, LatencyErr(r.Observed.P99, r.Simulated.P99))
	}
	rep.P50MAPE, rep.P90MAPE, rep.P99MAPE = MAPE(p50s), MAPE(p90s), MAPE(p99s)
	rep.Unscored = max(Unscored(p50s), Unscored(p90s), Unscored(p99s))
	return rep
}

// simulated reads an operation's figures from a result: the operation of
// the component, or the component itself when it declares none and the
// traces show it with one operation only (a hand-written service).
func simulated(res *sim.Result, service, op string, only bool, measured, ratio float64) (Figures, bool) {
	for _, c := range res.Components {
		if c.Name != service {
			continue
		}
		for _, o := range c.Operations {
			if o.Name == op {
				return figures(o.OK, o.Failed, o.Arrivals, o.Latency, measured, ratio), true
			}
		}
		if len(c.Operations) == 0 && only {
			return figures(c.OK, c.Error+c.Rejected+c.Shed+c.RateLimited, c.Arrivals, c.Latency, measured, ratio), true
		}
	}
	return Figures{}, false
}

// combine sets the figures of an operation and of its copy in another
// service (the import's copies for the calls that come back upstream)
// together: counts and rates add up; the error shares and the quantiles
// are the means weighted by count, or the figures of the one side that
// had requests. A mean of quantiles is not the quantile of the two
// together: it is exact when the two sides' latencies are alike, and the
// copies serve the same operation.
func combine(a, b Figures) Figures {
	switch {
	case b.Count == 0:
		return a
	case a.Count == 0:
		return b
	}
	wa, wb := a.Count/(a.Count+b.Count), b.Count/(a.Count+b.Count)
	return Figures{
		Count: a.Count + b.Count, RatePerS: a.RatePerS + b.RatePerS,
		P50: wa*a.P50 + wb*b.P50, P90: wa*a.P90 + wb*b.P90, P99: wa*a.P99 + wb*b.P99,
		ErrorShare: wa*a.ErrorShare + wb*b.ErrorShare,
		noLatency:  a.noLatency && b.noLatency,
	}
}

func figures(ok, failed, arrivals uint64, l sim.Latency, measured, ratio float64) Figures {
	f := Figures{Count: round(float64(arrivals)*ratio, 1), P50: l.P50, P90: l.P90, P99: l.P99, noLatency: ok == 0 && failed > 0}
	if measured > 0 {
		f.RatePerS = float64(arrivals) / measured
	}
	if ok+failed > 0 {
		f.ErrorShare = float64(failed) / float64(ok+failed)
	}
	return f
}

// RelErr is the relative error of a simulated figure against the observed
// one, (sim - obs) / obs: +0.1 is 10 % too high. 0 when both are 0, +Inf
// when only the observed one is.
func RelErr(obs, simulated float64) float64 {
	if obs == 0 {
		if simulated == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return (simulated - obs) / obs
}

// resolutionMS is the recorders' resolution: Zipkin's and Jaeger's spans
// keep microseconds (zipkin2.Span's timestamp and duration, "epoch
// microseconds"), so a span of 0 us lasted less than 1 us.
const resolutionMS = 0.001

// LatencyErr is the relative error of a simulated latency against the
// observed one, (sim - obs) / obs, the observed figure taken as at least
// the recorders' resolution: a span recorded at 0 us lasted under 1 us,
// not no time, and a simulated 2 ms against it is off, not unscorable.
// NaN (left out of the MAPE) when both are 0: there is nothing to score.
func LatencyErr(obs, simulated float64) float64 {
	if obs == 0 && simulated == 0 {
		return math.NaN()
	}
	return (simulated - obs) / max(obs, resolutionMS)
}

// MAPE is the mean absolute percentage error of relative errors: the mean
// of |e| x 100, over the finite ones (LatencyErr leaves out an operation
// observed and simulated at 0 ms with NaN, which JSON could not hold
// either). 0 for none.
func MAPE(errs []float64) float64 {
	var s float64
	n := 0
	for _, e := range errs {
		if !math.IsInf(e, 0) && !math.IsNaN(e) {
			s += math.Abs(e)
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return s / float64(n) * 100
}

// Unscored counts the relative errors MAPE leaves out.
func Unscored(errs []float64) int {
	n := 0
	for _, e := range errs {
		if math.IsInf(e, 0) || math.IsNaN(e) {
			n++
		}
	}
	return n
}

// minSimulated is the fewest requests the run should give each compared
// operation (AutoWindows): 10/(1-0.99), so that a simulated p99 rests on
// ten or more values above it rather than on the one or two a hundred
// requests give (Online Boutique's list-products page, 54 spans a window:
// its p99 ranged from -44 % to -7 % of the observed over ten seeds with
// two windows, -26 % to -9 % with twenty).
const minSimulated = 1000

// AutoWindows is how many times the traces' window a run needs so that
// every operation compared (at least minSpans spans) gets about
// minSimulated requests, at most maxAutoWindows: a recording of a few
// requests is compared with the scenario's quantiles, not with a run as
// short and as much a matter of luck (an operation seen once is reached
// by no request of one window's run with probability e^-1, a Poisson
// count of mean 1). A window's run has the requests the spans stand for,
// the successful spans divided by the traces' sampled share (AtObservedLoad drives
// the entries at their rates so divided): a 30 % sampled recording needs
// 1/0.3 times fewer windows than its spans alone would say. 1 when every
// operation has that many requests already.
func AutoWindows(m *importer.Model, minSpans int64) int {
	// The simulated quantiles are of successes: count the successful
	// requests (all of them for an operation that failed throughout,
	// whose quantiles are of its failures).
	least := 0.0
	for _, s := range m.Services {
		for _, op := range s.Operations {
			if op.Count < max(minSpans, 1) {
				continue
			}
			n := float64(op.Count)
			if op.ErrorShare < 1 {
				n = math.Round(n * (1 - op.ErrorShare)) // a count of successes
			}
			if least == 0 || n < least {
				least = n
			}
		}
	}
	ratio := m.Observed.SampleRatio
	if ratio <= 0 || ratio > 1 {
		ratio = 1
	}
	requests := least / ratio
	if least == 0 || requests >= minSimulated {
		return 1
	}
	return int(min(math.Ceil(minSimulated/requests), maxAutoWindows))
}

const maxAutoWindows = 100

func ms(ns int64) float64 { return round(float64(ns)/1e6, 3) }

func round(x float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(x*p) / p
}

func sig(x float64) string { return strconv.FormatFloat(x, 'g', 4, 64) }
