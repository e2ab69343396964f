package summary_test

import (
	"os"
	"time"

	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/dist"
	"github.com/faultline/faultline/summary"
)

// run is a single server with one worker and a 1 ms service time, loaded
// at 50% by evenly spaced arrivals, for two seconds.
func run() *sim.Result {
	st, _ := dist.Parse("1ms")
	spec := &sim.Spec{
		Name:     "example",
		Duration: 2 * time.Second,
		Clients:  []sim.Client{{Name: "load", Target: "server", Rate: 500, Arrival: sim.Constant}},
		Services: []sim.Service{{Name: "server", Instances: 1, Workers: 1, Queue: sim.Unbounded, ServiceTime: st}},
	}
	s, err := sim.New(spec, 1)
	if err != nil {
		panic(err)
	}
	return s.Run()
}

// The text summary of a run, as 'faultline run' prints it.
func ExampleWrite() {
	summary.Write(os.Stdout, run(), summary.Options{})
	// Output:
	// example · seed 1 · 2s virtual
	//
	// CLIENT  TARGET  SENT    OK  ERROR  TIMEOUT  REJECTED  SUCCESS  GOODPUT/s
	// load    server  1000  1000      0        0         0     100%        500
	//
	//             successful requests                  all answered requests
	// LATENCY ms  MEAN   P50   P90   P99  P99.9   MAX  MEAN   P50   P90   P99  P99.9   MAX
	// load        1.00  1.00  1.00  1.00   1.00  1.00  1.00  1.00  1.00  1.00   1.00  1.00
	//
	//                                                                                                successful, ms
	// SERVICE  INSTxWORKERS  ARRIVALS    OK  ERROR  REJECTED  WASTED  RATE/s   UTIL  QUEUE mean/max  MEAN   P50   P99
	// server            1x1      1000  1000      0         0       0     500  50.0%           0.0/0  1.00  1.00  1.00
}

// The per-window series of a run in long form, as 'faultline run --csv'
// writes it: one row per component and window, a column empty where it
// does not apply.
func ExampleWriteCSV() {
	if err := summary.WriteCSV(os.Stdout, run()); err != nil {
		panic(err)
	}
	// Output:
	// t_s,component,kind,sent,ok,error,timeout,rejected,wasted,latency_mean_ms,latency_p50_ms,latency_p90_ms,latency_p99_ms,latency_p999_ms,latency_max_ms,latency_all_mean_ms,latency_all_p50_ms,latency_all_p90_ms,latency_all_p99_ms,latency_all_p999_ms,latency_all_max_ms,utilisation_share,queue_mean,queue_max,lag_s,lag_records,duplicates,lost,stale,unavailable,compensated,inconsistent,running,misses
	// 0,load,client,500,500,0,0,0,0,1,1,1,1,1,1,1,1,1,1,1,1,,,,,,,,,,,,,
	// 1,load,client,500,500,0,0,0,0,1,1,1,1,1,1,1,1,1,1,1,1,,,,,,,,,,,,,
	// 0,server,service,500,500,0,0,0,0,1,1,1,1,1,1,,,,,,,0.5,0,0,,,,,,,,,,
	// 1,server,service,500,500,0,0,0,0,1,1,1,1,1,1,,,,,,,0.5,0,0,,,,,,,,,,
}
