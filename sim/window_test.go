package sim_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/sim"
)

// TestWindowHeadJSON: every kind's window carries the common WindowHead
// (start, health, reason), and writes it where its own window type wrote
// it before: t_s first, health and reason after the kind's figures (and
// before a call window's blame), so that --json keeps its bytes.
func TestWindowHeadJSON(t *testing.T) {
	head := sim.WindowHead{Start: 2 * time.Second, Health: sim.Degraded, Reason: sim.Reason{By: sim.ByLag, Value: 1.5}}
	const verdict = `"health":"degraded","reason":{"by":"lag","value":1.5}`
	for _, tc := range []struct {
		kind string
		w    any
		want string
	}{
		{"topic", sim.TopicWindow{WindowHead: head, Produced: 7},
			`{"t_s":2,"produced":7,` + verdict + `}`},
		{"saga", sim.SagaWindow{WindowHead: head, Started: 3, Running: 1},
			`{"t_s":2,"started":3,"completed":0,"compensated":0,"inconsistent":0,"running":1,` + verdict + `,"blame":null}`},
		{"view", sim.ViewWindow{WindowHead: head, Reads: 4, Miss: 1, LagS: 1.5},
			`{"t_s":2,"reads":4,"read_your_writes_misses":1,"lag_records":0,"lag_s":1.5,"behind_s":0,` + verdict + `}`},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			b, err := json.Marshal(tc.w)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("got  %s\nwant %s", b, tc.want)
			}
		})
	}
	t.Run("call window: blame after the verdict", func(t *testing.T) {
		b, err := json.Marshal(sim.Window{WindowHead: head, Sent: 1})
		if err != nil {
			t.Fatal(err)
		}
		if s := string(b); !strings.Contains(s, `"queue_max":0,`+verdict+`,"blame":null}`) || s[:9] != `{"t_s":2,` {
			t.Errorf("got %s", s)
		}
	})
}

// TestLast: sim.Last reads the latest window of any kind's series through
// the common head, and says when there is none.
func TestLast(t *testing.T) {
	at := func(s int) sim.WindowHead { return sim.WindowHead{Start: time.Duration(s) * time.Second} }
	if w, ok := sim.Last([]sim.StoreWindow{{WindowHead: at(0)}, {WindowHead: at(1), Reads: 9}}); !ok || w.Start != time.Second || w.Reads != 9 {
		t.Errorf("Last of a store's series = %+v, %v", w, ok)
	}
	if _, ok := sim.Last([]sim.GroupWindow(nil)); ok {
		t.Error("Last of an empty series reports a window")
	}
}
