package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/faultline/faultline/sim"
)

// maxEvents bounds the event log in the text summary; --json has all of it.
const maxEvents = 40

// writeText prints the run's summary: clients, services, then the log of
// notable changes.
func writeText(w io.Writer, res *sim.Result, color bool) {
	fmt.Fprintf(w, "%s · seed %d · %gs virtual", res.Scenario, res.Seed, res.DurationS)
	if res.WarmupS > 0 {
		fmt.Fprintf(w, " (first %gs are warmup, not counted)", res.WarmupS)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)

	t := table{color: color, right: map[int]bool{}}
	t.header("CLIENT", "TARGET", "SENT", "OK", "ERROR", "TIMEOUT", "REJECTED", "SUCCESS", "GOODPUT/s", "MEAN", "P50", "P90", "P99", "P99.9", "MAX ms")
	for i := 2; i < 15; i++ {
		t.right[i] = true
	}
	for _, c := range res.Clients {
		h := sim.Healthy
		if n := c.OK + c.Error + c.Timeout + c.Rejected; n > 0 {
			h = sim.HealthOf(1 - c.SuccessRate)
		}
		l := c.Latency
		t.row(h, c.Name, c.Target, count(c.Sent), count(c.OK), count(c.Error), count(c.Timeout), count(c.Rejected),
			pct(c.SuccessRate), rate(c.GoodputRPS), ms(l.Mean), ms(l.P50), ms(l.P90), ms(l.P99), ms(l.P999), ms(l.Max))
	}
	t.write(w)
	fmt.Fprintln(w)

	t = table{color: color, right: map[int]bool{}}
	t.header("SERVICE", "INSTxWORKERS", "ARRIVALS", "OK", "ERROR", "REJECTED", "WASTED", "RATE/s", "UTIL", "QUEUE mean/max", "MEAN", "P50", "P99 ms")
	for i := 1; i < 13; i++ {
		t.right[i] = true
	}
	for _, c := range res.Components {
		h := sim.Healthy
		if n := c.OK + c.Error + c.Rejected; n > 0 {
			h = sim.HealthOf(float64(c.Error+c.Rejected) / float64(n))
		}
		l := c.Latency
		t.row(h, c.Name, fmt.Sprintf("%dx%d", c.Instances, c.Workers), count(c.Arrivals), count(c.OK), count(c.Error),
			count(c.Rejected), count(c.Wasted), rate(c.ThroughputRPS), pct(c.Utilisation),
			fmt.Sprintf("%.1f/%d", c.QueueMean, c.QueueMax), ms(l.Mean), ms(l.P50), ms(l.P99))
	}
	t.write(w)

	if len(res.Events) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "EVENTS (virtual time)")
	nw := 0
	for _, e := range res.Events {
		nw = max(nw, len(e.Component))
	}
	for i, e := range res.Events {
		if i == maxEvents {
			fmt.Fprintf(w, "  ... %d more (all of them are in --json)\n", len(res.Events)-maxEvents)
			break
		}
		fmt.Fprintf(w, "  %8.3fs  %-*s  %s\n", e.TS, nw, e.Component, e.What)
	}
}

// table lays out cells in columns measured on their plain text, so that
// colour codes do not upset the alignment.
type table struct {
	color bool
	right map[int]bool
	rows  [][]string
	level []sim.Health
}

func (t *table) header(cells ...string) {
	t.rows = append(t.rows, cells)
	t.level = append(t.level, sim.Healthy)
}

func (t *table) row(h sim.Health, cells ...string) {
	t.rows = append(t.rows, cells)
	t.level = append(t.level, h)
}

var healthColor = [...]string{sim.Healthy: "\x1b[32m", sim.Degraded: "\x1b[33m", sim.Failing: "\x1b[31m"}

func (t *table) write(w io.Writer) {
	var width []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for ri, r := range t.rows {
		var b strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			cell := c + pad
			if t.right[i] {
				cell = pad + c
			}
			switch {
			case t.color && ri == 0:
				cell = "\x1b[1m" + cell + "\x1b[0m"
			case t.color && i == 0:
				cell = healthColor[t.level[ri]] + cell + "\x1b[0m"
			}
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(cell)
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
