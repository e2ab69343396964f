package sim

import "testing"

func TestRingFIFO(t *testing.T) {
	var q ring
	next, want := int32(0), int32(0)
	// Grow through several doublings with the head in the middle of the
	// buffer, which is where a wrong copy would show.
	for round := range 6 {
		for range 5 + round*7 {
			q.push(next)
			next++
		}
		for range 3 + round*5 {
			if got := q.pop(); got != want {
				t.Fatalf("pop = %d, want %d", got, want)
			}
			want++
		}
	}
	for q.len() > 0 {
		if got := q.pop(); got != want {
			t.Fatalf("pop = %d, want %d", got, want)
		}
		want++
	}
	if want != next {
		t.Fatalf("popped %d values, pushed %d", want, next)
	}
}
