package bench

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/scenarios"
	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/metric"
)

// Source is one scenario to bench: what the user typed, the file name for
// messages, and its contents.
type Source struct {
	Arg  string
	File string
	Data []byte
}

// Config is what a bench runs: every scenario, each of its variants, at
// every point of the sweep, Replications times.
type Config struct {
	Sources      []Source
	Replications int
	// Seed, when SeedSet, replaces each scenario's seed as the base:
	// replication i runs with seed base+i.
	Seed    uint64
	SeedSet bool
	// Duration, when not 0, replaces each scenario's duration.
	Duration time.Duration
	// Overrides (--set, --unset) apply to every variant, after its own.
	Overrides []scenarios.Override
	// Sweeps holds the values of each swept key; the matrix takes their
	// cross product.
	Sweeps [][]scenarios.Override
	// Variants, when not empty, keeps only these variants.
	Variants []string
	// Baseline names the variant the others are compared with; "" is the
	// first.
	Baseline string
}

// Matrix is the plan of a bench: its cells (scenario x variant x sweep
// point) and how many replications each gets. It is all a report needs to
// know besides the runs, and it is written into shard results, so that a
// merge can check that its parts belong together.
type Matrix struct {
	Scenarios    []string `json:"scenarios"`
	Replications int      `json:"replications"`
	SweepKeys    []string `json:"sweep_keys,omitempty"`
	Cells        []Cell   `json:"cells"`
	// Baseline is the variant of the first scenario the others are compared
	// with, at the same sweep point.
	Baseline string `json:"baseline"`
}

// Cell is one configuration: a variant of a scenario at a sweep point.
type Cell struct {
	Scenario string   `json:"scenario"`
	Variant  string   `json:"variant"`         // "base" for the scenario as written
	Point    []string `json:"point,omitempty"` // the swept values, one per Matrix.SweepKeys
	Label    string   `json:"label"`
	Changes  []string `json:"changes,omitempty"` // the overrides that make it, as written
	// Description is the variant's, from its [[variant]] table.
	Description string `json:"description,omitempty"`
	// VariantChanges is how many of Changes come from the variant; the
	// rest come from the command line and the sweep.
	VariantChanges int    `json:"variant_changes,omitempty"`
	Seed           uint64 `json:"seed"` // replication i runs with Seed+i
	// WindowS and DurationS shape the time series.
	WindowS   float64      `json:"window_s"`
	DurationS float64      `json:"duration_s"`
	WarmupS   float64      `json:"warmup_s"`
	SLOs      []metric.SLO `json:"slos,omitempty"`
	spec      *sim.Spec    // nil in a matrix read back from a file
}

// BaseVariant names the scenario as written, when it declares no variants
// or when --set changes it.
const BaseVariant = scenarios.BaseVariant

// Plan loads every scenario and variant and lays out the matrix. A
// scenario, variant or override that does not load is an error with every
// problem (a scenarios.ErrorList), before anything runs.
func Plan(cfg Config) (*Matrix, error) {
	if cfg.Replications < 1 {
		return nil, errors.New("replications must be at least 1")
	}
	m := &Matrix{Replications: cfg.Replications}
	for _, sw := range cfg.Sweeps {
		if len(sw) == 0 {
			return nil, errors.New("a sweep needs at least one value")
		}
		if slices.Contains(m.SweepKeys, sw[0].Path) {
			return nil, fmt.Errorf("%s is swept twice", sw[0].Path)
		}
		m.SweepKeys = append(m.SweepKeys, sw[0].Path)
	}
	points := crossProduct(cfg.Sweeps)
	short := shortKeys(m.SweepKeys)
	seenVariant := map[string]bool{}
	for _, src := range cfg.Sources {
		base, err := scenarios.LoadScenario(src.File, src.Data, scenarios.Options{})
		if err != nil {
			return nil, err
		}
		name := base.Spec.Name
		if slices.Contains(m.Scenarios, name) {
			return nil, fmt.Errorf("scenario %q is given twice", name)
		}
		m.Scenarios = append(m.Scenarios, name)
		variants := []scenarios.Variant{{Name: BaseVariant}}
		if len(base.Variants) > 0 {
			variants = base.Variants
		}
		for _, v := range variants {
			seenVariant[v.Name] = true
			if len(cfg.Variants) > 0 && !slices.Contains(cfg.Variants, v.Name) {
				continue
			}
			for _, pt := range points {
				opts := scenarios.Options{Overrides: append(slices.Clone(cfg.Overrides), pt...)}
				if v.Name != BaseVariant {
					opts.Variant = v.Name
				}
				load := opts
				if cfg.Duration > 0 {
					// Through the loader, so that its limits hold
					// (24 h, the windows, the warmup), as for --set.
					ov, err := scenarios.ParseOverride("--duration", "scenario.duration="+cfg.Duration.String())
					if err != nil {
						return nil, err
					}
					load.Overrides = append(slices.Clone(opts.Overrides), ov)
				}
				sc, err := scenarios.LoadScenario(src.File, src.Data, load)
				if err != nil {
					return nil, err
				}
				spec := sc.Spec
				if cfg.SeedSet {
					spec.Seed = cfg.Seed
				}
				c := Cell{Scenario: name, Variant: v.Name, Seed: spec.Seed, spec: spec, SLOs: sc.SLOs,
					WindowS: spec.Window.Seconds(), DurationS: spec.Duration.Seconds(), WarmupS: spec.Warmup.Seconds()}
				c.Description = v.Description
				for _, ch := range v.Changes {
					c.Changes = append(c.Changes, ch.String())
				}
				c.VariantChanges = len(c.Changes)
				for _, o := range opts.Overrides {
					c.Changes = append(c.Changes, o.String())
				}
				var label []string
				if len(cfg.Sources) > 1 {
					label = append(label, name+"/"+v.Name)
				} else {
					label = append(label, v.Name)
				}
				for k, o := range pt {
					val := scenarios.ValueString(o.Value)
					c.Point = append(c.Point, val)
					label = append(label, short[k]+"="+val)
				}
				c.Label = strings.Join(label, " ")
				m.Cells = append(m.Cells, c)
			}
		}
	}
	for _, v := range cfg.Variants {
		if !seenVariant[v] {
			return nil, fmt.Errorf("no scenario has a variant %q", v)
		}
	}
	if len(m.Cells) == 0 {
		return nil, errors.New("nothing to run")
	}
	m.Baseline = m.Cells[0].Variant
	if cfg.Baseline != "" {
		if !slices.ContainsFunc(m.Cells, func(c Cell) bool { return c.Variant == cfg.Baseline && c.Scenario == m.Scenarios[0] }) {
			return nil, fmt.Errorf("baseline %q is not a variant of %s that runs", cfg.Baseline, m.Scenarios[0])
		}
		m.Baseline = cfg.Baseline
	}
	return m, nil
}

// crossProduct lists every combination of one value per sweep, the last
// sweep varying fastest; no sweep gives one empty point.
func crossProduct(sweeps [][]scenarios.Override) [][]scenarios.Override {
	points := [][]scenarios.Override{nil}
	for _, sw := range sweeps {
		var next [][]scenarios.Override
		for _, p := range points {
			for _, o := range sw {
				next = append(next, append(slices.Clone(p), o))
			}
		}
		points = next
	}
	return points
}

// shortKeys names each swept key by its last segment, or by its whole
// path when two keys share a last segment.
func shortKeys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k[strings.LastIndex(k, ".")+1:]
	}
	for i := range out {
		for j := range out {
			if i != j && out[i] == out[j] {
				out[i] = keys[i]
			}
		}
	}
	return out
}

// Jobs is the number of runs of the matrix.
func (m *Matrix) Jobs() int { return len(m.Cells) * m.Replications }

// job is one run: a replication of a cell. Job j is replication
// j % Replications of cell j / Replications.
type job struct {
	cell, rep int
}

func (m *Matrix) job(j int) job { return job{cell: j / m.Replications, rep: j % m.Replications} }

// BaselineOf returns the index of the cell that cell i is compared with:
// the baseline variant of the first scenario at the same sweep point, or
// -1 for a baseline cell itself.
func (m *Matrix) BaselineOf(i int) int {
	for k, c := range m.Cells {
		if c.Scenario == m.Scenarios[0] && c.Variant == m.Baseline && slices.Equal(c.Point, m.Cells[i].Point) {
			if k == i {
				return -1
			}
			return k
		}
	}
	return -1
}
