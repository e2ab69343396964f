package bench

import (
	"bytes"
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/faultline/faultline/sim/metric"
)

// chart is one rendered SVG and what it shows, under a section heading.
type chart struct {
	svg     string
	caption string
	section string
}

// maxLines bounds the variants drawn on one time chart: beyond that the
// lines are not told apart, and the tables say the rest.
const maxLines = 8

// palette is distinguishable on white and for common colour blindness
// (Okabe & Ito).
var palette = []color.NRGBA{
	{0, 114, 178, 255}, {213, 94, 0, 255}, {0, 158, 115, 255}, {204, 121, 167, 255},
	{230, 159, 0, 255}, {86, 180, 233, 255}, {0, 0, 0, 255}, {240, 228, 66, 255},
}

// timeSeries are the series drawn over virtual time, per component of
// their scope, with their titles, units and, when the unit does not say
// it, the label of the y axis; a series that is zero in every cell is
// left out, and named in a note unless it is optional: a share answered
// by a fallback is drawn only when some variant has one.
var timeSeries = []timeSeriesSpec{
	{metric.Client, "p50", "p50 latency of successful requests", metric.Ms, "", false},
	{metric.Client, "p99", "p99 latency of successful requests", metric.Ms, "", false},
	{metric.Client, "p999", "p99.9 latency of successful requests", metric.Ms, "", false},
	{metric.Client, "p99_all", "p99 latency of all answered requests (timeouts at the timeout)", metric.Ms, "", false},
	{metric.Client, "goodput", "goodput (successful requests per second)", metric.PerSec, "", false},
	{metric.Client, seriesSent, "offered load (requests sent per second)", metric.PerSec, "", false},
	{metric.Client, "error_share", "share of requests failing with an error", metric.Share, "", false},
	{metric.Client, "timeout_share", "share of requests timing out", metric.Share, "", false},
	{metric.Client, "rejected_share", "share of requests rejected, shed or rate limited", metric.Share, "", false},
	{metric.Client, "degraded_share", "share of requests answered by a fallback", metric.Share, "answered by a fallback (%)", true},
	{metric.Group, seriesLag, "consumer lag (age of the oldest uncommitted record, most per window)", metric.Seconds, "lag (s)", false},
	{metric.Group, seriesLagRecords, "consumer lag in records (most per window)", metric.Count, "records", false},
	{metric.Store, seriesStaleness, "staleness (share of reads returning an older version)", metric.Share, "stale reads (%)", false},
	{metric.Store, seriesUnavailable, "operations refused for want of a quorum", metric.PerSec, "refused per second", false},
	{metric.Store, seriesTimeouts, "operations timing out waiting for the quorum", metric.PerSec, "timed out per second", false},
	{metric.Saga, seriesRunning, "sagas in flight", metric.Count, "sagas running", false},
	{metric.ReadModel, seriesViewLag, "projection lag (most per window)", metric.Seconds, "lag (s)", false},
	{metric.ReadModel, seriesMissShare, "read-your-writes misses (share of reads)", metric.Share, "missed own write (%)", false},
}

type timeSeriesSpec struct {
	scope      metric.Scope
	key, title string
	unit       metric.Unit
	axis       string
	optional   bool
}

// timeSections head the time charts of each scope; a component is named
// with the prefix in a chart's title.
var timeSections = map[metric.Scope]struct{ heading, prefix string }{
	metric.Client:    {"Clients", ""},
	metric.Group:     {"Consumer lag", "group "},
	metric.Store:     {"Store staleness", "store "},
	metric.Saga:      {"Sagas in flight", "saga "},
	metric.ReadModel: {"Views: projection lag and read-your-writes misses", "view "},
}

// charts renders the HTML report's charts: every component's series over
// virtual time (for the cells of the first sweep point), clients first,
// then consumer groups, stores, sagas and views; then, for a sweep, each
// shown metric against the first swept key.
func (r *Report) charts() []chart {
	var out []chart
	cells := r.timeCells()
	f := r.frame(cells)
	for _, scope := range r.chartScopes() {
		sec, ok := timeSections[scope]
		if !ok {
			continue
		}
		// A series measured but zero throughout is named in a note, not
		// drawn: that a store had no stale read is a finding too.
		var zero []string
		for _, comp := range r.Components(scope) {
			for _, ts := range timeSeries {
				if ts.scope != scope {
					continue
				}
				key := Key{scope, comp, ts.key}.String()
				title := sec.prefix + comp + ": " + ts.title
				if ch, ok := r.timeChart(f, title, key, ts.unit, ts.axis, cells); ok {
					ch.section = sec.heading
					out = append(out, ch)
				} else if !ts.optional && r.measured(key, cells) {
					short, _, _ := strings.Cut(title, " (")
					zero = append(zero, short)
				}
			}
		}
		if len(zero) > 0 {
			out = append(out, chart{section: sec.heading, caption: "Zero throughout in every variant, not drawn: " + strings.Join(zero, "; ") + "."})
		}
		if scope == metric.Store {
			for _, store := range r.Components(metric.Store) {
				if ch, ok := r.visibilityChart(f, store, cells); ok {
					out = append(out, ch)
				}
			}
		}
	}
	if len(r.Matrix.SweepKeys) > 0 {
		for _, row := range r.Metrics {
			if row.Shown {
				if ch, ok := r.sweepChart(f, row); ok {
					ch.section = "Against " + r.Matrix.SweepKeys[0]
					out = append(out, ch)
				}
			}
		}
	}
	return append(out, r.stabilityCharts()...)
}

// dataScopes are the components whose lag or staleness makes a scenario
// data-centric.
var dataScopes = []metric.Scope{metric.Group, metric.Store, metric.ReadModel}

// chartScopes orders the sections of the time charts: the scopes'
// order, but a data-centric scenario (one with consumer groups, stores
// or views) shows its data charts first, as what it is about (lag,
// staleness, then sagas), and its clients after them.
func (r *Report) chartScopes() []metric.Scope {
	scopes := metric.Scopes()
	if !slices.ContainsFunc(dataScopes, func(s metric.Scope) bool { return len(r.Components(s)) > 0 }) {
		return scopes
	}
	out := append(slices.Clone(dataScopes), metric.Saga)
	for _, s := range scopes {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// measured reports whether any of the cells has the series.
func (r *Report) measured(key string, cells []int) bool {
	return slices.ContainsFunc(cells, func(c int) bool {
		_, ok := r.SeriesOf(c, key)
		return ok
	})
}

// timeCells are the cells drawn on time charts: every one when they are
// few enough to tell apart, else those at the first sweep point, at most
// maxLines (the sweep's own charts show the rest against the parameter).
func (r *Report) timeCells() []int {
	var out []int
	all := len(r.Matrix.Cells) <= maxLines
	for c, cell := range r.Matrix.Cells {
		if (all || slices.Equal(cell.Point, r.Matrix.Cells[0].Point)) && len(out) < maxLines {
			out = append(out, c)
		}
	}
	return out
}

// timeChart draws one series of each cell over virtual time: the mean as
// a line, the range across replications as a band, fault windows shaded.
// Every band is drawn before any line, so that no variant's band covers
// another's line, and the more variants, the lighter the bands, so that
// where several overlap the lines still read.
func (r *Report) timeChart(f frame, title, key string, unit metric.Unit, axis string, cells []int) (chart, bool) {
	p := newPlot(title, "virtual time (s)", cmp.Or(axis, unitLabel(unit)))
	p.X.Tick.Marker = timeTicks{}
	leg := f.legend()
	// Added first, the shading lies under the lines.
	p.Add(&faultShade{spans: r.Faults})
	scale := unitScale(unit)
	any, top := false, 0.0
	alpha := bandAlpha(len(cells))
	var lines []plot.Plotter
	for k, c := range cells {
		s, ok := r.SeriesOf(c, key)
		if !ok {
			continue
		}
		for i := range s.Max {
			if !math.IsNaN(s.Max[i]) && s.Max[i] != 0 {
				any = true
				top = max(top, s.Max[i]*scale)
			}
		}
		col := palette[k%len(palette)]
		// NRGBA: the band's alpha must not darken its colour, as it
		// would with the premultiplied color.RGBA.
		band := col
		band.A = alpha
		x := func(i int) float64 { return (float64(i) + 0.5) * s.WindowS }
		for _, seg := range segments(s.Mean) {
			poly := make(plotter.XYs, 0, 2*(seg[1]-seg[0]))
			for i := seg[0]; i < seg[1]; i++ {
				poly = append(poly, plotter.XY{X: x(i), Y: s.Max[i] * scale})
			}
			for i := seg[1] - 1; i >= seg[0]; i-- {
				poly = append(poly, plotter.XY{X: x(i), Y: s.Min[i] * scale})
			}
			if pg, err := plotter.NewPolygon(poly); err == nil && len(poly) > 2 {
				pg.Color, pg.LineStyle.Width = band, 0
				p.Add(pg)
			}
		}
		first := true
		for _, seg := range segments(s.Mean) {
			pts := make(plotter.XYs, 0, seg[1]-seg[0])
			for i := seg[0]; i < seg[1]; i++ {
				pts = append(pts, plotter.XY{X: x(i), Y: s.Mean[i] * scale})
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				continue
			}
			l.Color, l.Width = col, vg.Points(1.5)
			l.Dashes = plotutil.Dashes(k)
			lines = append(lines, l)
			if first {
				leg.Add(f.fit(r.cellName(c)), l)
				first = false
			}
		}
	}
	if !any {
		return chart{}, false
	}
	p.Add(lines...)
	p.X.Min = 0
	p.X.Max = r.Matrix.Cells[cells[0]].DurationS
	p.Y.Min = 0
	// The legend is beside the plot area: the head room is only so that
	// the highest point does not touch the frame.
	p.Y.Max = top * 1.05
	if len(r.Faults) > 0 {
		leg.Add(faultEntry, &faultShade{})
	}
	caption := fmt.Sprintf("%s over virtual time (series %s in series.csv). Shaded: %s.", title, csvName(key), r.faultList())
	if note := r.warmupNote(p, &leg, cells[0]); note != "" {
		caption += " " + note
	}
	return f.render(p, leg, caption), true
}

// bandAlpha is the opacity of the bands of n variants: 40 of 255 for one
// or two, less for more, down to 14 for eight (maxLines), so that where
// all overlap the shade is about as dark as that of two.
func bandAlpha(n int) uint8 {
	return uint8(max(14, min(40, 80/max(n, 1))))
}

// timeTicks label a time axis every 1, 2, 5, 10, 15, 20 or 30 s, 1, 2,
// 5, 10, 15, 20 or 30 min, or 1 h..., the finest that gives at most
// maxTimeTicks intervals: gonum's default ticks label only three to five
// values (0, 50, 100 on a run of 120 s), too few to read when a fault
// began.
type timeTicks struct{}

const maxTimeTicks = 12

func (timeTicks) Ticks(lo, hi float64) []plot.Tick {
	steps := []float64{1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600}
	step := steps[len(steps)-1]
	for _, st := range steps {
		if (hi-lo)/st <= maxTimeTicks {
			step = st
			break
		}
	}
	var out []plot.Tick
	for x := math.Ceil(lo/step) * step; x <= hi+step*1e-9; x += step {
		out = append(out, plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'f', -1, 64)})
		if half := x + step/2; half < hi {
			out = append(out, plot.Tick{Value: half}) // a minor tick, unlabelled
		}
	}
	return out
}

// minBinReads is the fewest reads, over the replications, for which a
// t-visibility bin is drawn.
const minBinReads = 20

// visibilityChart draws a store's t-visibility curve (PBS): the share of
// reads that saw the newest committed version against the time from that
// commit to the read, on a log axis, per cell the mean across
// replications of each bin's share with its 95 % confidence interval as a
// band (Student's t; none with one replication). A bin is drawn at the
// mean over the replications of its reads' mean t.
func (r *Report) visibilityChart(f frame, store string, cells []int) (chart, bool) {
	title := "store " + store + ": t-visibility (share of reads seeing the latest commit)"
	p := newPlot(title, "time from the commit to the read (ms, log scale)", "consistent reads (%)")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	leg := f.legend()
	any, lo := false, 100.0
	for k, c := range cells {
		// Bins by their lower edge, in order of t.
		type bin struct {
			ts, shares []float64
			reads      uint64
		}
		bins := map[float64]*bin{}
		var from []float64
		for _, run := range r.byCell[c] {
			for _, pt := range run.Curves[store] {
				b, ok := bins[pt.FromMS]
				if !ok {
					b = &bin{}
					bins[pt.FromMS] = b
					from = append(from, pt.FromMS)
				}
				b.ts = append(b.ts, pt.TMS)
				b.shares = append(b.shares, pt.Fresh*100)
				b.reads += pt.Reads
			}
		}
		if len(from) == 0 {
			continue
		}
		slices.Sort(from)
		var mid, band plotter.XYs
		hi := make(plotter.XYs, 0, len(from))
		for _, fr := range from {
			b := bins[fr]
			if b.reads < minBinReads {
				continue // a share of a handful of reads is noise
			}
			// A log axis has no 0: reads at the very instant of their
			// commit are drawn at 1 us.
			x := max(stat.Mean(b.ts, nil), 0.001)
			sm := Summarize(b.shares)
			mid = append(mid, plotter.XY{X: x, Y: sm.Mean})
			band = append(band, plotter.XY{X: x, Y: max(0, sm.Lo())})
			hi = append(hi, plotter.XY{X: x, Y: min(100, sm.Hi())})
			lo = min(lo, max(0, sm.Lo()))
		}
		if len(mid) == 0 {
			continue
		}
		col := palette[k%len(palette)]
		shade := col
		shade.A = bandAlpha(len(cells))
		slices.Reverse(hi)
		if pg, err := plotter.NewPolygon(append(band, hi...)); err == nil && len(mid) > 1 {
			pg.Color, pg.LineStyle.Width = shade, 0
			p.Add(pg)
		}
		l, err := plotter.NewLine(mid)
		if err != nil {
			continue
		}
		l.Color, l.Width = col, vg.Points(1.5)
		l.Dashes = plotutil.Dashes(k)
		p.Add(l)
		leg.Add(f.fit(r.cellName(c)), l)
		any = true
	}
	if !any {
		return chart{}, false
	}
	// At least 90 to 100 %: a curve at 100 % throughout would otherwise
	// get an axis of half a point.
	p.Y.Min, p.Y.Max = min(math.Floor(lo), 90), 100.5
	caption := fmt.Sprintf("%s: per bin of the time from a commit to a read (ten a decade; bins with fewer than %d reads in all replications are left out), the share of reads that returned that version or a newer one; "+
		"line: mean across replications, band: its 95%% confidence interval. The run's t_visibility_99 and t_visibility_999 are read on each run's monotone fit of this curve.", title, minBinReads)
	ch := f.render(p, leg, caption)
	ch.section = "Store t-visibility"
	return ch, true
}

// Legend entries of the marks that are not variants.
const (
	faultEntry  = "fault window"
	warmupEntry = "warmup ends"
)

// warmupNote marks the end of the warmup, before which nothing is counted
// in the tables, with a dashed line and its legend entry, and returns the
// sentence that says so in the caption.
func (r *Report) warmupNote(p *plot.Plot, leg *plot.Legend, c int) string {
	w := r.Matrix.Cells[c].WarmupS
	if w <= 0 {
		return ""
	}
	v := &vline{x: w, color: color.RGBA{120, 120, 120, 255}}
	p.Add(v)
	leg.Add(warmupEntry, v)
	return fmt.Sprintf("Dashed vertical line: the warmup ends at %gs; the tables count only what follows.", round1(w))
}

// faultList describes the shaded windows for a caption.
func (r *Report) faultList() string {
	if len(r.Faults) == 0 {
		return "no fault"
	}
	var parts []string
	for _, f := range r.Faults {
		parts = append(parts, fmt.Sprintf("%s %s %g-%gs", f.Component, f.What, round1(f.Start), round1(f.End)))
	}
	return "fault windows: " + strings.Join(parts, "; ")
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// segments returns the [start, end) runs of xs without NaN.
func segments(xs []float64) [][2]int {
	var out [][2]int
	start := -1
	for i, x := range xs {
		switch {
		case math.IsNaN(x) && start >= 0:
			out = append(out, [2]int{start, i})
			start = -1
		case !math.IsNaN(x) && start < 0:
			start = i
		}
	}
	if start >= 0 {
		out = append(out, [2]int{start, len(xs)})
	}
	return out
}

// xyErrs is a line with error bars.
type xyErrs struct {
	plotter.XYs
	plotter.YErrors
}

// sweepChart draws a metric against the first swept key, one line per
// variant (and value of the other swept keys), with 95% confidence
// intervals as error bars.
func (r *Report) sweepChart(f frame, row MetricRow) (chart, bool) {
	key0 := r.Matrix.SweepKeys[0]
	xs, labels, numeric := sweepAxis(r.Matrix)
	p := newPlot(fmt.Sprintf("%s %s vs %s", row.Target, row.Metric, key0), key0, unitLabel(row.m.Unit))
	leg := f.legend()
	scale := unitScale(row.m.Unit)
	order, groups := r.sweepGroups()
	drawn := false
	lo, hi := math.Inf(1), math.Inf(-1)
	for k, g := range order {
		var d xyErrs
		for _, c := range groups[g] {
			s := row.Cells[c]
			if s.N == 0 {
				continue
			}
			d.XYs = append(d.XYs, plotter.XY{X: xs[r.Matrix.Cells[c].Point[0]], Y: s.Mean * scale})
			l, h := s.Interval(row.m.Unit)
			d.YErrors = append(d.YErrors, struct{ Low, High float64 }{(s.Mean - l) * scale, (h - s.Mean) * scale})
			lo, hi = min(lo, l*scale), max(hi, h*scale)
		}
		if len(d.XYs) == 0 {
			continue
		}
		col := palette[k%len(palette)]
		l, err := plotter.NewLine(d.XYs)
		if err != nil {
			continue
		}
		l.Color, l.Width = col, vg.Points(1.5)
		l.Dashes = plotutil.Dashes(k)
		eb, err := plotter.NewYErrorBars(d)
		if err != nil {
			continue
		}
		eb.Color = col
		sc, _ := plotter.NewScatter(d.XYs)
		sc.Color = col
		p.Add(l, eb, sc)
		leg.Add(f.fit(r.sweepName(g)), l)
		drawn = true
	}
	if !drawn {
		return chart{}, false
	}
	if !numeric {
		p.X.Tick.Marker = labelTicks(labels)
	}
	span := max(hi-lo, math.Abs(hi)*0.01, 1e-9)
	p.Y.Min, p.Y.Max = lo-0.05*span, hi+0.05*span
	return f.render(p, leg, fmt.Sprintf("%s %s against %s, mean and 95%% confidence interval per variant.", row.Target, row.Metric, key0)), true
}

// sweepGroups are the lines of the sweep charts, in the order of the
// cells: a variant with a value of each swept key but the first; and the
// cells of each.
func (r *Report) sweepGroups() ([]string, map[string][]int) {
	groups := map[string][]int{}
	var order []string
	for c, cell := range r.Matrix.Cells {
		g := cell.Scenario + "/" + cell.Variant
		if len(cell.Point) > 1 {
			g += " " + strings.Join(cell.Point[1:], " ")
		}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], c)
	}
	return order, groups
}

// sweepName is a sweep line's legend entry: without the scenario when
// there is only one.
func (r *Report) sweepName(g string) string {
	if len(r.Matrix.Scenarios) == 1 {
		return strings.TrimPrefix(g, r.Matrix.Scenarios[0]+"/")
	}
	return g
}

// sweepAxis places the values of the first swept key on the x axis: as
// numbers when they all are (durations in seconds), else evenly by order.
func sweepAxis(m *Matrix) (map[string]float64, []string, bool) {
	var vals []string
	for _, c := range m.Cells {
		if !slices.Contains(vals, c.Point[0]) {
			vals = append(vals, c.Point[0])
		}
	}
	xs := map[string]float64{}
	numeric := true
	for _, v := range vals {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			xs[v] = f
		} else if d, err := time.ParseDuration(strings.Trim(v, `"`)); err == nil {
			xs[v] = d.Seconds()
		} else {
			numeric = false
		}
	}
	if !numeric {
		for i, v := range vals {
			xs[v] = float64(i)
		}
	}
	return xs, vals, numeric
}

// labelTicks puts the category labels at 0, 1, 2...
type labelTicks []string

func (l labelTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for i, s := range l {
		out = append(out, plot.Tick{Value: float64(i), Label: s})
	}
	return out
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.X.Tick.Marker = plainTicks{}
	p.Y.Tick.Marker = plainTicks{}
	p.Add(plotter.NewGrid())
	return p
}

// plainTicks are gonum's default ticks labelled without trailing zeros:
// 500, not 500.00.
type plainTicks struct{}

func (plainTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i, t := range ts {
		if strings.Contains(t.Label, ".") && !strings.ContainsAny(t.Label, "eE") {
			ts[i].Label = strings.TrimSuffix(strings.TrimRight(t.Label, "0"), ".")
		}
	}
	return ts
}

func unitLabel(u metric.Unit) string {
	switch u {
	case metric.Ms:
		return "ms"
	case metric.Seconds:
		return "s"
	case metric.Share:
		return "%"
	case metric.PerSec:
		return "per second"
	case metric.Ratio:
		return "x"
	}
	return ""
}

// unitScale converts a value for the axis: shares are drawn in percent.
func unitScale(u metric.Unit) float64 {
	if u == metric.Share {
		return 100
	}
	return 1
}

// Every chart has the same size and its plot area the same left and
// right edges, so that the charts of a report line up one under the
// other: the y axis gets a fixed room, whatever the width of its tick
// labels, and the legend a column right of the plot area, as wide for
// every chart of a report, where it covers no data.
const (
	chartW = 10.5 * vg.Inch
	chartH = 3.6 * vg.Inch
	// yAxisW is the room left of the plot area for the y axis: its
	// label, tick labels up to five or six digits, and tick marks.
	yAxisW = 0.8 * vg.Inch
	// legendGap separates the plot area from the legend, with room for
	// the half of the last x tick label that overhangs the plot area.
	legendGap vg.Length = 16 // points
	legendMin           = 0.9 * vg.Inch
	legendMax           = 2.4 * vg.Inch
)

// frame is the layout shared by the charts of a report: the width of
// the legend's column.
type frame struct {
	legendW vg.Length
}

// frame sizes the legend's column for the longest entry of any chart:
// the variants of the time charts, the lines of the sweep charts and
// the entries of the fault windows and the warmup.
func (r *Report) frame(cells []int) frame {
	names := []string{faultEntry, warmupEntry}
	for _, c := range cells {
		names = append(names, r.cellName(c))
	}
	if len(r.Matrix.SweepKeys) > 0 {
		order, _ := r.sweepGroups()
		for _, g := range order {
			names = append(names, r.sweepName(g))
		}
	}
	var f frame
	l := f.legend()
	w := legendMin
	for _, n := range names {
		w = max(w, l.ThumbnailWidth+l.TextStyle.Rectangle(" "+n).Max.X)
	}
	f.legendW = min(w, legendMax)
	return f
}

// legend is an empty legend in the style of the charts: icons wide
// enough to show the dash patterns, text after them.
func (frame) legend() plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font.Size = vg.Points(10)
	l.ThumbnailWidth = vg.Points(30)
	l.Top, l.Left = true, true
	l.Padding = vg.Points(3)
	return l
}

// fit shortens a legend entry that would not fit in the column, with an
// ellipsis.
func (f frame) fit(name string) string {
	l := f.legend()
	fits := func(s string) bool { return l.ThumbnailWidth+l.TextStyle.Rectangle(" "+s).Max.X <= f.legendW }
	if fits(name) {
		return name
	}
	rs := []rune(name)
	for len(rs) > 1 {
		rs = rs[:len(rs)-1]
		if s := string(rs) + "…"; fits(s) {
			return s
		}
	}
	return name
}

// render draws a plot and its legend into an SVG for inline use: without
// the XML prologue, which is not allowed inside HTML.
func (f frame) render(p *plot.Plot, leg plot.Legend, caption string) chart {
	c := vgsvg.New(chartW, chartH)
	dc := draw.New(c)
	left, right := dc.Min.X+yAxisW, dc.Max.X-f.legendW-legendGap
	// The plot is drawn in a canvas cropped so that its plot area falls
	// at left and right. A few rounds, as the room that gonum leaves for
	// glyphs at the edges depends a little on the width.
	pc := dc
	for range 3 {
		da := p.DataCanvas(pc)
		pc = draw.Crop(pc, left-da.Min.X, right-da.Max.X, 0, 0)
		// Tick labels too wide for yAxisW: the plot area moves right
		// rather than the labels out of the picture.
		pc.Min.X = max(pc.Min.X, dc.Min.X)
	}
	p.Draw(pc)
	da := p.DataCanvas(pc)
	leg.Draw(draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: da.Max.X + legendGap, Y: da.Min.Y},
		Max: vg.Point{X: dc.Max.X, Y: da.Max.Y},
	}})
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return chart{caption: caption + " (could not be drawn: " + err.Error() + ")"}
	}
	s := buf.String()
	if i := strings.Index(s, "<svg"); i > 0 {
		s = s[i:]
	}
	return chart{svg: s, caption: caption}
}

// faultShade shades the fault windows over the full height of the plot.
type faultShade struct {
	spans []FaultSpan
}

func (f *faultShade) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	for _, s := range f.spans {
		x0, x1 := trX(max(s.Start, plt.X.Min)), trX(min(s.End, plt.X.Max))
		if x1 <= x0 {
			continue
		}
		rect := vg.Path{}
		rect.Move(vg.Point{X: x0, Y: c.Min.Y})
		rect.Line(vg.Point{X: x1, Y: c.Min.Y})
		rect.Line(vg.Point{X: x1, Y: c.Max.Y})
		rect.Line(vg.Point{X: x0, Y: c.Max.Y})
		rect.Close()
		c.SetColor(faultColor)
		c.Fill(rect)
	}
}

// faultColor shades the fault windows.
var faultColor = color.NRGBA{220, 50, 32, 30}

// Thumbnail draws a patch of the shading in the legend.
func (f *faultShade) Thumbnail(c *draw.Canvas) {
	c.SetColor(faultColor)
	c.Fill(c.Rectangle.Path())
}

// vline is a dashed vertical line, the end of the warmup.
type vline struct {
	x     float64
	color color.Color
}

func (v *vline) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	x := trX(v.x)
	c.StrokeLine2(draw.LineStyle{Color: v.color, Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(3), vg.Points(3)}}, x, c.Min.Y, x, c.Max.Y)
}

// Thumbnail draws the vertical dashed line in the legend.
func (v *vline) Thumbnail(c *draw.Canvas) {
	x := c.Center().X
	c.StrokeLine2(draw.LineStyle{Color: v.color, Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(3), vg.Points(3)}}, x, c.Min.Y, x, c.Max.Y)
}
