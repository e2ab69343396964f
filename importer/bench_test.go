package importer

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// writeSyntheticCSV writes traces of a front end calling two services, one
// of which calls a third, in time order: 5 spans a trace.
func writeSyntheticCSV(tb testing.TB, path string, traces int) int {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano")
	const t0 = 1700000000000000000
	for i := 0; i < traces; i++ {
		s := int64(t0 + i*10_000_000)
		fmt.Fprintf(w, "%032x,%016x,root,web-7d9f8c6b5d-x2kqp,GET /home,%d,%d\n", i+1, 5*i+1, s, s+20_000_000)
		fmt.Fprintf(w, "%032x,%016x,%016x,web-7d9f8c6b5d-x2kqp,cart.Cart/Get,%d,%d\n", i+1, 5*i+2, 5*i+1, s+1_000_000, s+6_000_000)
		fmt.Fprintf(w, "%032x,%016x,%016x,cart-5c8d7f9b4b-zq7xk,cart.Cart/Get,%d,%d\n", i+1, 5*i+3, 5*i+2, s+1_500_000, s+5_500_000)
		fmt.Fprintf(w, "%032x,%016x,%016x,cart-5c8d7f9b4b-zq7xk,db.Db/Query,%d,%d\n", i+1, 5*i+4, 5*i+3, s+2_000_000, s+4_000_000)
		fmt.Fprintf(w, "%032x,%016x,%016x,db-0,db.Db/Query,%d,%d\n", i+1, 5*i+5, 5*i+4, s+2_200_000, s+3_800_000)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return 5 * traces
}

// BenchmarkImport reads a span table of 100,000 spans (two passes) and
// reports spans/s.
func BenchmarkImport(b *testing.B) {
	path := filepath.Join(b.TempDir(), "spans.csv")
	spans := writeSyntheticCSV(b, path, 20000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Import([]string{path}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(spans)*float64(b.N)/b.Elapsed().Seconds(), "spans/s")
}

// BenchmarkImportWideTrace reads one trace whose root calls 60 services 20
// times each, one call after the other (a batch job's trace), and reports
// spans/s: comparing every call with every other for each pair of callees
// made it quadratic (10,800 such spans took 18 s), the sweep of overlaps
// linear in the calls times the callees.
func BenchmarkImportWideTrace(b *testing.B) {
	path := filepath.Join(b.TempDir(), "spans.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "TraceID,SpanID,ParentID,ServiceName,OperationName,StartTimeUnixNano,EndTimeUnixNano")
	const t0, calls = 1700000000000000000, 1200
	fmt.Fprintf(w, "t,r,root,web,page,%d,%d\n", t0, t0+calls*20_000_000)
	for n := range calls {
		s := t0 + int64(n)*20_000_000 + 1
		fmt.Fprintf(w, "t,s%d,r,svc%d,get,%d,%d\n", n, n%60, s, s+10_000_000)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Import([]string{path}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(calls+1)*float64(b.N)/b.Elapsed().Seconds(), "spans/s")
}
