package bench

import (
	"encoding/csv"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	gpalette "gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/faultline/faultline/sim/metric"
)

// The stability map is the figure of the metastability papers (Bronson et
// al., HotOS 2021; Huang et al., OSDI 2022): over two swept parameters,
// typically the load and the size of the trigger, the share of runs that
// came back after the fault, so that the boundary between "recovers" and
// "stays down" shows. A bench with exactly two swept keys draws one per
// variant and fault from the engine's verdict (the fault metrics
// not_recovered and recovery_time), and writes it to stability.csv.

// MapCell is one point of a stability map: a variant at one value of each
// swept key, and one fault's verdict across its replications.
type MapCell struct {
	Scenario string `json:"scenario"`
	Variant  string `json:"variant"`
	Fault    string `json:"fault"`
	X        string `json:"x"` // the value of the first swept key
	Y        string `json:"y"` // the value of the second
	// Runs is how many replications had a verdict; Recovered the share of
	// them in which every client flow came back (NaN when none had one).
	Runs      int     `json:"runs"`
	Recovered float64 `json:"recovered_share"`
	// RecoveryS is the time to recover, over the runs that did.
	RecoveryS Summary `json:"recovery_s"`
}

// StabilityMap lists the cells of every stability map, variant by
// variant, fault by fault, in the order of the matrix's cells; nil
// unless exactly two keys are swept. A repeating fault's later
// occurrences ("capacity #2", Run.Repeats) are left out: the map is of the
// trigger.
func (r *Report) StabilityMap() []MapCell {
	if len(r.Matrix.SweepKeys) != 2 {
		return nil
	}
	var out []MapCell
	for _, fault := range r.Components(metric.Fault) {
		k, ok := r.metrics[Key{metric.Fault, fault, "not_recovered"}]
		if !ok || r.repeats[fault] {
			continue
		}
		down := r.Metrics[k]
		var times MetricRow
		if t, ok := r.metrics[Key{metric.Fault, fault, "recovery_time"}]; ok {
			times = r.Metrics[t]
		}
		for c, cell := range r.Matrix.Cells {
			mc := MapCell{Scenario: cell.Scenario, Variant: cell.Variant, Fault: fault, X: cell.Point[0], Y: cell.Point[1],
				Runs: down.Cells[c].N, Recovered: math.NaN()}
			if mc.Runs > 0 {
				mc.Recovered = 1 - down.Cells[c].Mean
			}
			if c < len(times.Cells) {
				mc.RecoveryS = times.Cells[c]
			}
			out = append(out, mc)
		}
	}
	return out
}

// WriteStabilityCSV writes the stability map, one row per cell.
func (r *Report) WriteStabilityCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	keys := r.Matrix.SweepKeys
	cw.Write([]string{"scenario", "variant", "fault", keys[0], keys[1], "runs", "recovered_share", "recovery_s_mean", "recovery_s_ci95", "recovery_s_n"})
	for _, mc := range r.StabilityMap() {
		t := mc.RecoveryS
		cw.Write([]string{mc.Scenario, mc.Variant, mc.Fault, mc.X, mc.Y, strconv.Itoa(mc.Runs), num(mc.Recovered, true),
			num(t.Mean, t.N > 0), num(t.CI, t.N > 1), strconv.Itoa(t.N)})
	}
	cw.Flush()
	return cw.Error()
}

// stabilityCharts draws, for each variant and fault of the map, a heatmap
// of the share of runs that recovered and one of the recovery time.
func (r *Report) stabilityCharts() []chart {
	cells := r.StabilityMap()
	if len(cells) == 0 {
		return nil
	}
	keys := r.Matrix.SweepKeys
	var xs, ys []string
	for _, mc := range cells {
		if !slices.Contains(xs, mc.X) {
			xs = append(xs, mc.X)
		}
		if !slices.Contains(ys, mc.Y) {
			ys = append(ys, mc.Y)
		}
	}
	type mapKey struct{ scenario, variant, fault string }
	var order []mapKey
	byMap := map[mapKey][]MapCell{}
	for _, mc := range cells {
		k := mapKey{mc.Scenario, mc.Variant, mc.Fault}
		if _, ok := byMap[k]; !ok {
			order = append(order, k)
		}
		byMap[k] = append(byMap[k], mc)
	}
	top := 0.0 // one scale of recovery times for every map, to compare them
	for _, mc := range cells {
		if mc.RecoveryS.N > 0 {
			top = max(top, mc.RecoveryS.Mean)
		}
	}
	var out []chart
	for _, k := range order {
		name := k.variant
		if len(r.Matrix.Scenarios) > 1 {
			name = k.scenario + "/" + k.variant
		}
		g := mapGrid{xs: xs, ys: ys, z: make([]float64, len(xs)*len(ys)), label: make([]string, len(xs)*len(ys))}
		t := mapGrid{xs: xs, ys: ys, z: make([]float64, len(xs)*len(ys)), label: make([]string, len(xs)*len(ys))}
		for i := range g.z {
			g.z[i], t.z[i] = math.NaN(), math.NaN()
			g.label[i], t.label[i] = "no run", "no run"
		}
		for _, mc := range byMap[k] {
			i := slices.Index(ys, mc.Y)*len(xs) + slices.Index(xs, mc.X)
			if mc.Runs == 0 {
				continue
			}
			g.z[i], g.label[i] = mc.Recovered, fmt.Sprintf("%.0f%% of %d", mc.Recovered*100, mc.Runs)
			t.label[i] = "none recovered"
			if s := mc.RecoveryS; s.N > 0 {
				t.z[i], t.label[i] = s.Mean, fmt.Sprintf("%.1f s (%d)", s.Mean, s.N)
			}
		}
		out = append(out, heatChart(g, fmt.Sprintf("%s · %s: share of runs that recovered", name, k.fault), keys,
			"recovered (%)", 0, 1, 100, true,
			fmt.Sprintf("Stability map of %s after the fault %s: the share of the runs in which every client flow's goodput came back (to 90%% of its level before the fault, held 5 s) by the end of the run, over %s and %s. Blue recovers, red stays down; each cell says the share and the runs.",
				name, k.fault, keys[0], keys[1])))
		out = append(out, heatChart(t, fmt.Sprintf("%s · %s: time to recover", name, k.fault), keys,
			"recovery time (s)", 0, max(top, 1), 1, false,
			fmt.Sprintf("Mean time from the end of the fault %s until every client flow had recovered, over the runs that did (their number in brackets), for %s; grey: no run recovered. One colour scale for every variant.",
				k.fault, name)))
	}
	for i := range out {
		out[i].section = "Stability map"
	}
	return out
}

// mapGrid is a heatmap's grid: z by row (y) then column (x), the swept
// values placed evenly by their order, as category labels.
type mapGrid struct {
	xs, ys []string
	z      []float64
	label  []string
}

func (g mapGrid) Dims() (c, r int)   { return len(g.xs), len(g.ys) }
func (g mapGrid) Z(c, r int) float64 { return g.z[r*len(g.xs)+c] }
func (g mapGrid) X(c int) float64    { return float64(c) }
func (g mapGrid) Y(r int) float64    { return float64(r) }

// Heatmap layout: square-ish cells under the report's width, and a colour
// bar beside the map.
const (
	heatW = 10.5 * vg.Inch
	heatH = 4.2 * vg.Inch
	barW  = 1.2 * vg.Inch // the colour bar's column, with its axis
)

// noData fills a cell without a value.
var noData = color.NRGBA{215, 215, 215, 255}

// heatChart draws g as a heatmap on a blue (good) to red (bad) scale from
// lo to hi (shown times scale on the bar), each cell labelled; highGood
// says which end is good.
func heatChart(g mapGrid, title string, keys []string, barLabel string, lo, hi, scale float64, highGood bool, caption string) chart {
	cm := moreland.SmoothBlueRed() // blue to red, light in the middle: labels stay readable
	cm.SetMin(lo)
	cm.SetMax(hi)
	var cmap gpalette.ColorMap = cm
	if highGood {
		cmap = gpalette.Reverse(cm)
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = keys[0]
	p.Y.Label.Text = keys[1]
	p.X.Tick.Marker = labelTicks(g.xs)
	p.Y.Tick.Marker = labelTicks(g.ys)
	hm := plotter.NewHeatMap(g, cmap.Palette(255))
	hm.Min, hm.Max = lo, hi
	hm.NaN = noData
	// A value past the scale (a time above the top) takes its end colour.
	hm.Underflow, hm.Overflow = must(cmap.At(lo)), must(cmap.At(hi))
	p.Add(hm, &cellLabels{g: g, at: func(v float64) color.Color {
		if math.IsNaN(v) {
			return noData
		}
		return must(cmap.At(max(lo, min(hi, v))))
	}})
	p.X.Min, p.X.Max = -0.5, float64(len(g.xs))-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(len(g.ys))-0.5

	bar := plot.New()
	bar.HideX()
	bar.Y.Label.Text = barLabel
	bar.Y.Tick.Marker = plainTicks{}
	// The bar in the unit it is labelled in: a share in percent.
	shown := moreland.SmoothBlueRed()
	shown.SetMin(lo * scale)
	shown.SetMax(hi * scale)
	var shownMap gpalette.ColorMap = shown
	if highGood {
		shownMap = gpalette.Reverse(shown)
	}
	bar.Add(&plotter.ColorBar{ColorMap: shownMap, Vertical: true, Colors: 64})

	c := vgsvg.New(heatW, heatH)
	dc := draw.New(c)
	mapArea := dc
	mapArea.Max.X -= barW + legendGap
	p.Draw(mapArea)
	barArea := dc
	barArea.Min.X = barArea.Max.X - barW
	// The bar's own plot area lines up with the map's.
	da := p.DataCanvas(mapArea)
	barArea.Min.Y, barArea.Max.Y = da.Min.Y, da.Max.Y
	bar.Title.Text = ""
	bar.X.Padding, bar.Y.Padding = 0, 0
	bar.Draw(barArea)
	var buf strings.Builder
	if _, err := c.WriteTo(&buf); err != nil {
		return chart{caption: caption + " (could not be drawn: " + err.Error() + ")"}
	}
	s := buf.String()
	if i := strings.Index(s, "<svg"); i > 0 {
		s = s[i:]
	}
	return chart{svg: s, caption: caption}
}

func must(c color.Color, err error) color.Color {
	if err != nil {
		return noData
	}
	return c
}

// cellLabels writes each cell's label at its centre, in black on a light
// cell and in white on a dark one; at is the colour of a value.
type cellLabels struct {
	g  mapGrid
	at func(float64) color.Color
}

func (l *cellLabels) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	st := plt.X.Tick.Label // the report's font, centred on the cell
	st.XAlign, st.YAlign = draw.XCenter, draw.YCenter
	cols, rows := l.g.Dims()
	for r := range rows {
		for col := range cols {
			st.Color = color.Black
			if cr, cg, cb, _ := l.at(l.g.Z(col, r)).RGBA(); 0.2126*float64(cr)+0.7152*float64(cg)+0.0722*float64(cb) < 0.5*0xffff {
				st.Color = color.White
			}
			c.FillText(st, vg.Point{X: trX(float64(col)), Y: trY(float64(r))}, l.g.label[r*cols+col])
		}
	}
}
