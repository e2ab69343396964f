package bench

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/scenarios"
)

// builtinReport benches a built-in scenario.
func builtinReport(t *testing.T, name string, reps int) *Report {
	t.Helper()
	file, data, err := scenarios.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Plan(Config{Sources: []Source{{Arg: file, File: file, Data: data}}, Replications: reps})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := Execute(context.Background(), m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return NewReport(m, runs)
}

// TestSuggestionHeadlineMetrics: without SLOs, the headline metrics
// decide. On rest-vs-events, events is significantly better on the
// shoppers' success rate, p99 and goodput and worse on the two groups'
// largest lag; the many incidental lag and end-to-end figures of its
// consumers do not outvote that, and the choice does not flip with the
// replications on a few records lagging at the end.
func TestSuggestionHeadlineMetrics(t *testing.T) {
	for _, reps := range []int{5, 10} {
		rep := builtinReport(t, "rest-vs-events", reps)
		s := rep.suggestion()
		if !strings.HasPrefix(s, "Suggested: **events**") || !strings.Contains(s, "on 3 headline metrics and worse on 2") {
			t.Errorf("%d replications: %q, want events, better on 3 headline metrics and worse on 2", reps, s)
		}
	}
}

// TestVerdictListsWhatItCounts: the numbers of the suggestion are those
// of the lists under it, and a fault's cascade metric is named as one.
func TestVerdictListsWhatItCounts(t *testing.T) {
	rep := builtinReport(t, "resilience-shootout", 3)
	s := rep.suggestion()
	m := regexp.MustCompile(`\*\*(.+?)\*\*: .* on (\d+) headline metrics? and worse on (\d+); on the other metrics better on (\d+), worse on (\d+)`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("suggestion %q says no counts", s)
	}
	var line string
	for _, l := range rep.verdicts() {
		if strings.HasPrefix(l, "**"+m[1]+"** vs") {
			line = l
		}
	}
	// The items of a list: "Other metrics: better on a (+1.5), b (-2);
	// worse on c (+3). Fault cascades...".
	items := func(group, which string) int {
		for _, sec := range strings.Split(line, ". ") {
			_, rest, ok := strings.Cut(sec, group+": ")
			if !ok {
				continue
			}
			for _, part := range strings.Split(rest, "; ") {
				if strings.HasPrefix(part, which+" on ") {
					return strings.Count(part, "(")
				}
			}
		}
		return 0
	}
	want := func(i int) int { n, _ := strconv.Atoi(m[i]); return n }
	for _, c := range []struct {
		group, which string
		n            int
	}{{"Headline metrics", "better", want(2)}, {"Headline metrics", "worse", want(3)}, {"Other metrics", "better", want(4)}, {"Other metrics", "worse", want(5)}} {
		if got := items(c.group, c.which); got != c.n {
			t.Errorf("the suggestion counts %d under %s %s, the list has %d:\n%s\n%s", c.n, c.group, c.which, got, s, line)
		}
	}
	all := strings.Join(rep.verdicts(), "\n")
	if strings.Contains(all, "latency propagation") || !strings.Contains(all, "propagation delay of fault latency") {
		t.Errorf("a fault's cascade metric is not named as one:\n%s", all)
	}
}

// TestVerdictOfAnInterruptedBench: a variant with no finished run is no
// finding ("no data", not "no significant difference"), unequal counts
// are said, and the SLO line does not count the variants without runs.
func TestVerdictOfAnInterruptedBench(t *testing.T) {
	file, data, err := scenarios.Open("resilience-shootout")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Plan(Config{Sources: []Source{{Arg: file, File: file, Data: data}}, Replications: 3, Duration: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := Execute(context.Background(), m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Keep the baseline's runs, one run of the second variant, none of
	// the others: as a bench stopped early leaves them.
	var kept []Run
	second := 0
	for _, r := range runs {
		switch {
		case r.Cell == 0:
			kept = append(kept, r)
		case r.Cell == 1 && second == 0:
			kept = append(kept, r)
			second++
		}
	}
	rep := NewReport(m, kept)
	v := rep.verdicts()
	if len(v) != len(m.Cells)-1 || !strings.Contains(v[0], "(1 run against 3)") {
		t.Errorf("verdicts %q: want the second variant's counts said", v)
	}
	for _, l := range v[1:] {
		if !strings.HasSuffix(l, "no data (no run finished).") {
			t.Errorf("verdict %q: want no data", l)
		}
	}
	if s := rep.suggestion(); strings.Contains(s, "No variant meets every SLO.") {
		t.Errorf("suggestion %q counts variants without runs", s)
	}
}

// TestSuggestionOfATie: when no difference is significant, on the headline
// metrics or the others (one replication can give none), the suggestion
// says that the means decided, not that the other metrics broke the tie
// ("broken by the other metrics: better on 0, worse on 0"), and with one
// replication that more are needed.
func TestSuggestionOfATie(t *testing.T) {
	file, data, err := scenarios.Open("resilience-shootout")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Plan(Config{Sources: []Source{{Arg: file, File: file, Data: data}}, Replications: 1, Duration: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := Execute(context.Background(), m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := NewReport(m, runs).suggestion()
	if strings.Contains(s, "broken by the other metrics: better on 0, worse on 0") ||
		!strings.Contains(s, "the means decided") || !strings.Contains(s, "one replication gives no confidence interval") {
		t.Errorf("suggestion %q", s)
	}
}
