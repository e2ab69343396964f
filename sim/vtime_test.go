package sim_test

import (
	"testing"
)

// TestVirtualTimeSaturates checks that a wait too long for int64
// nanoseconds means never, not a wrapped time in the past. A rate so low
// that the gap between requests exceeds 292 years sends no request after
// the first constant one (it sent 136 Poisson requests in 10 s, and a
// constant request every nanosecond); a timeout near the largest duration
// never fires (it timed out nearly every request, at negative times).
func TestVirtualTimeSaturates(t *testing.T) {
	const service = `
[[service]]
name = "api"
service_time = "1ms"
`
	tests := []struct {
		name     string
		duration string
		target   string
		client   string // the client's keys after its target, and more tables
		sent     uint64 // requests the client sends
	}{
		{"poisson arrivals at 1e-12/s", "10s", "api", `
rate = 1e-12
`, 0},
		// A short run: the old code sent a request every nanosecond.
		{"constant arrivals at 1e-12/s", "2ms", "api", `
rate = 1e-12
arrival = "constant"
`, 1}, // at 0 s; the next would come 31,709 years later
		{"a client's timeout of 292 years", "10s", "api", `
rate = 10
arrival = "constant"
timeout = "2562047h47m16s"
`, 100},
		{"a call's timeout of 292 years", "10s", "front", `
rate = 10
arrival = "constant"

[[service]]
name = "front"
service_time = "1ms"
  [[service.call]]
  to = "api"
  timeout = "2562047h47m16s"
`, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runTOML(t, "[scenario]\nname = \"overflow\"\nduration = \""+tt.duration+"\"\n"+
				"[[client]]\nname = \"users\"\ntarget = \""+tt.target+"\"\n"+tt.client+service)
			c := res.Clients[0]
			if c.Sent != tt.sent {
				t.Errorf("sent %d requests, want %d", c.Sent, tt.sent)
			}
			if c.OK != c.Sent {
				t.Errorf("%d of %d requests succeeded (%d timeouts), want all", c.OK, c.Sent, c.Timeout)
			}
			for _, e := range res.Events {
				if e.TS < 0 {
					t.Errorf("event dated %gs: %s %s", e.TS, e.Component, e.What)
				}
			}
		})
	}
}
