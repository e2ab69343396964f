package importer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSplitEntryByCallPattern: an entry operation whose requests call
// different operations (a front end's one handler serving two pages) is
// split into one operation per common call pattern, each with its own
// client rate, own time and calls; a pattern under minPatternCount
// invocations goes to "-other". Before the split, the two pages were one
// operation calling each callee with probability 1/2.
func TestSplitEntryByCallPattern(t *testing.T) {
	var b strings.Builder
	b.WriteString("TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration\n")
	start := int64(1_700_000_000_000_000_000)
	span := func(trace, id, parent, pod, op string, s, e int64) {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%d,%d,%d\n", trace, id, parent, pod, op, s, e, (e-s)/1000)
	}
	for i := range 60 {
		tr := fmt.Sprintf("t%02d", i)
		t0 := start + int64(i)*1e9
		switch {
		case i < 30: // the product page: 10 ms, calls catalog.Get (4 ms)
			span(tr, "a", "root", "web-579b9bff58-t2dbm", "Recv", t0, t0+10e6)
			span(tr, "b", "a", "catalog-579b9bff58-t2dbm", "Get", t0+2e6, t0+6e6)
		case i < 55: // the cart: 50 ms, calls cart.Put (20 ms)
			span(tr, "a", "root", "web-579b9bff58-t2dbm", "Recv", t0, t0+50e6)
			span(tr, "b", "a", "cart-579b9bff58-t2dbm", "Put", t0+10e6, t0+30e6)
		default: // a redirect: 1 ms, no calls
			span(tr, "a", "root", "web-579b9bff58-t2dbm", "Recv", t0, t0+1e6)
		}
	}
	path := filepath.Join(t.TempDir(), "pages.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Import([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		op, own, callTo string
		count           int64
	}{
		{"recv-get", "p50=6ms", "catalog.get", 30},
		{"recv-put", "p50=30ms", "cart.put", 25},
		{"recv-other", "p50=1ms", "", 5},
	} {
		op := opByName(t, m, "web", c.op)
		if op.Count != c.count || !strings.Contains(op.ServiceTime, c.own) {
			t.Errorf("web.%s: %d spans, own time %s; want %d and %s", c.op, op.Count, op.ServiceTime, c.count, c.own)
		}
		if c.callTo == "" && len(op.Calls) != 0 || c.callTo != "" && (len(op.Calls) != 1 || op.Calls[0].To != c.callTo || op.Calls[0].Probability != 1) {
			t.Errorf("web.%s calls %+v; want only %q, always", c.op, op.Calls, c.callTo)
		}
	}
	var targets []string
	for _, c := range m.Clients {
		targets = append(targets, fmt.Sprintf("%s %.3g", c.Target, c.Rate*60))
	}
	if got := strings.Join(targets, ", "); got != "web.recv-get 30, web.recv-other 5, web.recv-put 25" {
		t.Errorf("clients (target, requests a minute): %s", got)
	}
}
