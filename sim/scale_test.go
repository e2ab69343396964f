package sim

import (
	"testing"
	"time"

	"github.com/faultline/faultline/sim/dist"
)

func mustDist(s string) dist.Dist {
	d, err := dist.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// wide is one service of n instances of 4 workers behind one client: the
// shape whose set-up and faults must cost linear time in n.
func wide(n int, rate float64, st string, d time.Duration) *Spec {
	return &Spec{Name: "wide", Duration: d,
		Clients:  []Client{{Name: "c", Target: "api", Rate: rate}},
		Services: []Service{{Name: "api", Instances: n, Workers: 4, Queue: 10, ServiceTime: mustDist(st)}}}
}

func BenchmarkCrashWide(b *testing.B) {
	sp := wide(20000, 20000, "1s", 4*time.Second)
	sp.Faults = []Fault{{Kind: FaultCrash, Target: "api", Share: 0.5, Duration: 500 * time.Millisecond, Every: time.Second}}
	for b.Loop() {
		s, err := New(sp, 1)
		if err != nil {
			b.Fatal(err)
		}
		s.Run()
	}
}
