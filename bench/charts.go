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

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/faultline/faultline/bench/metric"
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
// left out.
var timeSeries = []struct {
	scope      metric.Scope
	key, title string
	unit       metric.Unit
	axis       string
}{
	{metric.Client, "p50", "p50 latency", metric.Ms, ""},
	{metric.Client, "p99", "p99 latency", metric.Ms, ""},
	{metric.Client, "p999", "p99.9 latency", metric.Ms, ""},
	{metric.Client, "goodput", "goodput (successful requests per second)", metric.PerSec, ""},
	{metric.Client, "sent", "offered load (requests sent per second)", metric.PerSec, ""},
	{metric.Client, "error_share", "share of requests failing with an error", metric.Share, ""},
	{metric.Client, "timeout_share", "share of requests timing out", metric.Share, ""},
	{metric.Client, "rejected_share", "share of requests rejected, shed or rate limited", metric.Share, ""},
	{metric.Group, seriesLagS, "consumer lag (age of the oldest uncommitted record, most per window)", metric.Seconds, "lag (s)"},
	{metric.Group, seriesLagRecords, "consumer lag in records (most per window)", metric.Count, "records"},
	{metric.Store, seriesStaleShare, "staleness (share of reads returning an older version)", metric.Share, "stale reads (%)"},
	{metric.Store, seriesUnavailable, "operations refused for want of a quorum", metric.PerSec, "refused per second"},
	{metric.Store, seriesTimeouts, "operations timing out waiting for the quorum", metric.PerSec, "timed out per second"},
	{metric.Saga, seriesRunning, "sagas in flight", metric.Count, "sagas running"},
	{metric.ReadModel, seriesLagS, "projection lag (most per window)", metric.Seconds, "lag (s)"},
	{metric.ReadModel, seriesMissShare, "read-your-writes misses (share of reads)", metric.Share, "missed own write (%)"},
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
	for _, scope := range metric.Scopes() {
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
				if ch, ok := r.timeChart(title, key, ts.unit, ts.axis, cells); ok {
					ch.section = sec.heading
					out = append(out, ch)
				} else if r.measured(key, cells) {
					short, _, _ := strings.Cut(title, " (")
					zero = append(zero, short)
				}
			}
		}
		if len(zero) > 0 {
			out = append(out, chart{section: sec.heading, caption: "Zero throughout in every variant, not drawn: " + strings.Join(zero, "; ") + "."})
		}
	}
	if len(r.Matrix.SweepKeys) > 0 {
		for _, row := range r.Metrics {
			if row.Shown {
				if ch, ok := r.sweepChart(row); ok {
					ch.section = "Against " + r.Matrix.SweepKeys[0]
					out = append(out, ch)
				}
			}
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

// timeCells are the cells drawn on time charts: those at the first sweep
// point, at most maxLines.
func (r *Report) timeCells() []int {
	var out []int
	for c, cell := range r.Matrix.Cells {
		if slices.Equal(cell.Point, r.Matrix.Cells[0].Point) && len(out) < maxLines {
			out = append(out, c)
		}
	}
	return out
}

// timeChart draws one series of each cell over virtual time: the mean as
// a line, the range across replications as a band, fault windows shaded.
func (r *Report) timeChart(title, key string, unit metric.Unit, axis string, cells []int) (chart, bool) {
	p := newPlot(title, "virtual time (s)", cmp.Or(axis, unitLabel(unit)))
	// Added first, the shading lies under the lines.
	p.Add(&faultShade{spans: r.Faults})
	scale := unitScale(unit)
	any, top := false, 0.0
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
		band.A = 40
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
			p.Add(l)
			if first {
				p.Legend.Add(r.cellName(c), l)
				first = false
			}
		}
	}
	if !any {
		return chart{}, false
	}
	p.X.Min = 0
	p.X.Max = r.Matrix.Cells[cells[0]].DurationS
	p.Y.Min = 0
	// Head room for the legend, so that it does not hide the lines.
	p.Y.Max = top * (1 + 0.08*float64(len(cells)))
	r.warmupNote(p, cells[0])
	return render(p, fmt.Sprintf("%s over virtual time. Shaded: %s.", title, r.faultList())), true
}

// warmupNote marks the end of the warmup, before which nothing is counted
// in the tables.
func (r *Report) warmupNote(p *plot.Plot, c int) {
	w := r.Matrix.Cells[c].WarmupS
	if w <= 0 {
		return
	}
	p.Add(&vline{x: w, color: color.RGBA{120, 120, 120, 255}})
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
func (r *Report) sweepChart(row MetricRow) (chart, bool) {
	key0 := r.Matrix.SweepKeys[0]
	xs, labels, numeric := sweepAxis(r.Matrix)
	p := newPlot(fmt.Sprintf("%s %s vs %s", row.Target, row.Metric, key0), key0, unitLabel(row.m.Unit))
	scale := unitScale(row.m.Unit)
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
			d.YErrors = append(d.YErrors, struct{ Low, High float64 }{s.CI * scale, s.CI * scale})
			lo, hi = min(lo, (s.Mean-s.CI)*scale), max(hi, (s.Mean+s.CI)*scale)
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
		eb, err := plotter.NewYErrorBars(d)
		if err != nil {
			continue
		}
		eb.Color = col
		sc, _ := plotter.NewScatter(d.XYs)
		sc.Color = col
		p.Add(l, eb, sc)
		name := g
		if len(r.Matrix.Scenarios) == 1 {
			name = strings.TrimPrefix(g, r.Matrix.Scenarios[0]+"/")
		}
		p.Legend.Add(name, l)
		drawn = true
	}
	if !drawn {
		return chart{}, false
	}
	if !numeric {
		p.X.Tick.Marker = labelTicks(labels)
	}
	// Head room above the data for the legend.
	span := max(hi-lo, math.Abs(hi)*0.01, 1e-9)
	p.Y.Min, p.Y.Max = lo-0.05*span, hi+(0.1+0.08*float64(len(order)))*span
	return render(p, fmt.Sprintf("%s %s against %s, mean and 95%% confidence interval per variant.", row.Target, row.Metric, key0)), true
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
	p.Legend.Top = true
	p.Legend.Left = false
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

// render draws a plot into an SVG for inline use: without the XML
// prologue, which is not allowed inside HTML.
func render(p *plot.Plot, caption string) chart {
	c := vgsvg.New(9*vg.Inch, 3.6*vg.Inch)
	p.Draw(draw.New(c))
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
		c.SetColor(color.NRGBA{220, 50, 32, 30})
		c.Fill(rect)
	}
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
