package importer

import "testing"

// TestPoolFor: the assumed pool lets at most 0.1 % of requests wait
// (Erlang C). Online Boutique's currencyservice offers 0.0834 erlangs: 2
// workers let 0.33 % wait (B(2) = 0.0032, C = B / (1 - a/c (1 - B))), and
// those waits, behind a convert of 85 ms, were the p99 of its 0.3 ms
// get-supported-currencies in a run; 3 let 0.009 % wait. A load near 0
// needs one worker; a load of 1 erlang needs 2 for half utilisation and 6
// for the waits (C(4, 1) = 0.020, C(5, 1) = 0.0038, C(6, 1) = 0.0006).
// With the old 1 %, currencyservice had 2 and one erlang 5.
func TestPoolFor(t *testing.T) {
	tests := []struct {
		name string
		load float64
		want int
	}{
		{"idle", 0.0001, 1},
		{"a sixtieth busy", 0.0115, 2},
		{"currencyservice", 0.0834, 3},
		{"one erlang", 1, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := poolFor(tt.load); got != tt.want {
				t.Errorf("poolFor(%g) = %d, want %d (Erlang C at it %.5f)", tt.load, got, tt.want, erlangC(got, tt.load))
			}
		})
	}
}
