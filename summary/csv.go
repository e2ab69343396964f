package summary

import (
	"encoding/csv"
	"io"
	"slices"
	"strconv"

	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/metrics"
)

// csvColumns are the columns of --csv, in order. The columns after
// queue_max belong to the data components; a column that does not apply
// to a row is empty. latency_* is of successful requests, latency_all_*
// of every answered request (clients, flows and call edges only). A column's name
// carries its unit (scenarios.md, "Units in CSV"): _s and _ms durations,
// _share a fraction in 0..1, and a plain name a number of things in the
// window (queue_mean its time average, queue_max and lag_records the
// most, running at the window's end).
var csvColumns = []string{"t_s", "component", "kind", "sent", "ok", "error", "timeout", "rejected", "wasted",
	"latency_mean_ms", "latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "latency_p999_ms", "latency_max_ms",
	"latency_all_mean_ms", "latency_all_p50_ms", "latency_all_p90_ms", "latency_all_p99_ms", "latency_all_p999_ms", "latency_all_max_ms",
	"utilisation_share", "queue_mean", "queue_max",
	"lag_s", "lag_records", "duplicates", "lost", "stale", "unavailable", "compensated", "inconsistent", "running", "misses"}

// csvRow is one row of --csv, its cells set by column name.
type csvRow []string

func newCSVRow(t float64, name, kind string) csvRow {
	r := make(csvRow, len(csvColumns))
	r.set("t_s", csvFloat(t))
	r.set("component", name)
	r.set("kind", kind)
	return r
}

func (r csvRow) set(col, v string) {
	i := slices.Index(csvColumns, col)
	if i < 0 {
		panic("csv: no column " + col) // a typo in this file
	}
	r[i] = v
}

func (r csvRow) count(col string, n uint64) { r.set(col, strconv.FormatUint(n, 10)) }

// latency fills the columns prefix_mean_ms ... prefix_max_ms.
func (r csvRow) latency(prefix string, l metrics.Summary) {
	for _, c := range []struct {
		stat string
		v    float64
	}{{"mean", l.Mean}, {"p50", l.P50}, {"p90", l.P90}, {"p99", l.P99}, {"p999", l.P999}, {"max", l.Max}} {
		r.set(prefix+"_"+c.stat+"_ms", csvFloat(c.v))
	}
}

func csvFloat(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// WriteCSV writes every time series of a run in long form, one row per
// component and window, under a header of the columns (csvColumns).
func WriteCSV(w io.Writer, res *sim.Result) error {
	cw := csv.NewWriter(w)
	cw.Write(csvColumns)
	window := func(name, kind string, w sim.Window) {
		cw.Write(windowRow(name, kind, w))
	}
	for _, se := range res.Series {
		for _, w := range se.Windows {
			window(se.Component, se.Kind, w)
		}
	}
	for _, c := range res.Clients {
		for _, fl := range c.Flows {
			for _, w := range fl.Series {
				window(fl.Name, "flow", w)
			}
		}
	}
	for _, c := range res.Components {
		for _, o := range c.Operations {
			for _, w := range o.Series {
				window(c.Name+"."+o.Name, "operation", w)
			}
		}
	}
	for _, e := range res.Edges {
		for _, w := range e.Series {
			window(e.Name, "edge", w)
		}
	}
	for _, t := range res.Topics {
		for _, w := range t.Series {
			window(t.Name, "topic", w)
		}
	}
	for _, g := range res.Groups {
		for _, w := range g.Series {
			window(g.Name, "group", w)
		}
	}
	for _, st := range res.Stores {
		for _, w := range st.Series {
			window(st.Name, "store", w)
		}
	}
	for _, sg := range res.Sagas {
		for _, w := range sg.Series {
			window(sg.Name, "saga", w)
		}
	}
	for _, v := range res.Views {
		for _, w := range v.Series {
			window(v.Name, "view", w)
		}
	}
	cw.Flush()
	return cw.Error()
}

// windowRow is one window of any kind in the CSV's columns: each kind's
// figures under the columns that mean the same thing.
func windowRow(name, kind string, w sim.Window) csvRow {
	r := newCSVRow(w.Start.Seconds(), name, kind)
	switch w.Kind {
	case sim.ClientSeries, sim.ServiceSeries:
		r.count("sent", w.Sent)
		r.count("ok", w.OK)
		r.count("error", w.Errors)
		r.count("timeout", w.Timeouts)
		r.count("rejected", w.Rejected)
		r.count("wasted", w.Wasted)
		r.latency("latency", w.Latency)
		if w.Kind == sim.ClientSeries {
			r.latency("latency_all", w.LatencyAll)
		}
		if kind == "service" {
			r.set("utilisation_share", csvFloat(w.Utilisation))
			r.set("queue_mean", csvFloat(w.QueueMean))
			r.set("queue_max", strconv.Itoa(int(w.QueueMax)))
		}
	case sim.EdgeSeries:
		// A call edge's windows: the calls that ended in it, by outcome,
		// as the engine counted them, and as the caller timed them.
		r.count("sent", w.Sent)
		r.count("ok", w.OK)
		r.count("error", w.Errors)
		r.count("timeout", w.Timeouts)
		r.count("rejected", w.Rejected)
		r.latency("latency", w.Latency)
		r.latency("latency_all", w.LatencyAll)
	case sim.TopicSeries:
		r.count("sent", w.Topic().Produced)
	case sim.GroupSeries:
		g := w.Group()
		r.count("ok", g.Consumed)
		r.latency("latency", w.Latency)
		r.set("lag_s", csvFloat(g.LagS))
		r.set("lag_records", strconv.FormatInt(g.LagRecords, 10))
		r.count("duplicates", g.Duplicates)
		r.count("lost", g.Lost)
	case sim.StoreSeries:
		st := w.Store()
		r.count("sent", st.Reads+st.Writes)
		r.count("timeout", st.Timeouts)
		r.count("stale", st.Stale)
		r.count("unavailable", st.Unavailable)
	case sim.SagaSeries:
		sg := w.Saga()
		r.count("sent", sg.Started)
		r.count("ok", sg.Completed)
		r.count("compensated", sg.Compensated)
		r.count("inconsistent", sg.Inconsistent)
		r.count("running", sg.Running)
	case sim.ViewSeries:
		v := w.View()
		r.count("sent", v.Reads)
		r.set("lag_s", csvFloat(v.LagS))
		r.set("lag_records", strconv.FormatInt(v.LagRecords, 10))
		r.count("misses", v.Miss)
	}
	return r
}
