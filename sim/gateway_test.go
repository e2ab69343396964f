package sim_test

import (
	"fmt"
	"testing"
)

// TestExtAuthzFailsClosed: Envoy's ext_authz filter checks every request
// with the authorization service before routing it; when the check fails
// (here: the auth service is down for the whole run), the request is
// denied (403) unless failure_mode_allow lets it through, which is false
// by default (envoyproxy.io, "External Authorization").
func TestExtAuthzFailsClosed(t *testing.T) {
	tests := []struct {
		name     string
		authz    string // the [gateway.ext_authz] keys
		authDown bool
		authTime string // the auth service's service_time
		// want: every request ok, and whether degraded (let through
		// unchecked); or every one an error.
		wantOK, wantDegraded bool
	}{
		{"auth up: checked and routed", ``, false, "1ms", true, false},
		{"auth down, the default: fails closed", ``, true, "1ms", false, false},
		{"auth down, failure_mode_allow: passes unchecked", `failure_mode_allow = true`, true, "1ms", true, true},
		{"auth slower than the 200ms default timeout: fails closed", ``, false, "300ms", false, false},
		{"auth slow, a longer timeout: checked and routed", `timeout = "1s"`, false, "300ms", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fault := ""
			if tc.authDown {
				fault = "[[fault]]\nkind = \"crash\"\ntarget = \"auth\"\nstart = \"0s\"\nduration = \"20s\"\n"
			}
			res := runTOML(t, fmt.Sprintf(`
[scenario]
name = "authz"
duration = "10s"
seed = 1

[[client]]
name = "users"
target = "gateway"
rate = 100
timeout = "2s"

[[gateway]]
name = "gateway"

  [gateway.ext_authz]
  service = "auth"
  %s

  [[gateway.route]]
  path = "/"
  to = "api"

[[service]]
name = "auth"
workers = 100
service_time = %q

[[service]]
name = "api"
service_time = "5ms"
%s`, tc.authz, tc.authTime, fault))
			c := res.Clients[0]
			if tc.wantOK {
				if c.OK != c.Sent-c.InFlight || c.Sent < 900 {
					t.Fatalf("%d of %d ok; want all of about 1000", c.OK, c.Sent)
				}
				if got := c.Degraded == c.OK; got != tc.wantDegraded {
					t.Errorf("%d of %d ok degraded; want all degraded: %v", c.Degraded, c.OK, tc.wantDegraded)
				}
				return
			}
			if c.Error != c.Sent-c.InFlight || c.Sent < 900 {
				t.Errorf("%d of %d errors, %d ok; want every request denied", c.Error, c.Sent, c.OK)
			}
		})
	}
}

// TestCompositionPartial: a route that composes several backends answers
// in part when an optional one fails (KrakenD marks the merged answer
// X-KrakenD-Completed: false): a degraded success, not an error; a
// required backend's failure fails the request.
func TestCompositionPartial(t *testing.T) {
	tests := []struct {
		name     string
		required bool
		down     string
		// wantOK: every request ok (wantDegraded: all of them partial);
		// otherwise every request an error.
		wantOK, wantDegraded bool
	}{
		{"all up: complete answers", false, "", true, false},
		{"optional backend down: partial answers", false, "recs", true, true},
		{"required backend down: errors", true, "recs", false, false},
		{"the route's own service down: errors", false, "profile", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fault := ""
			if tc.down != "" {
				fault = fmt.Sprintf("[[fault]]\nkind = \"crash\"\ntarget = %q\nstart = \"0s\"\nduration = \"20s\"\n", tc.down)
			}
			res := runTOML(t, fmt.Sprintf(`
[scenario]
name = "composition"
duration = "10s"
seed = 1

[[client]]
name = "users"
target = "gateway"
rate = 100
timeout = "2s"

[[gateway]]
name = "gateway"

  [[gateway.route]]
  path = "/home"
  to = "profile"

    [[gateway.route.backend]]
    to = "orders"
    required = true

    [[gateway.route.backend]]
    to = "recs"
    required = %v
    timeout = "300ms"

[[service]]
name = "profile"
service_time = "5ms"

[[service]]
name = "orders"
service_time = "5ms"

[[service]]
name = "recs"
workers = 8
service_time = "20ms"
%s`, tc.required, fault))
			c := res.Clients[0]
			if tc.wantOK {
				if c.OK != c.Sent-c.InFlight || c.Sent < 900 {
					t.Fatalf("%d of %d ok; want all of about 1000", c.OK, c.Sent)
				}
				if got := c.Degraded == c.OK; got != tc.wantDegraded {
					t.Errorf("%d of %d ok partial; want all partial: %v", c.Degraded, c.OK, tc.wantDegraded)
				}
				if tc.down == "" && c.Latency.P50 < 20 {
					t.Errorf("p50 %.1f ms; want at least recs' 20 ms: the route waits on all its backends", c.Latency.P50)
				}
				return
			}
			if c.Error != c.Sent-c.InFlight || c.Sent < 900 {
				t.Errorf("%d of %d errors, %d ok; want every request failed", c.Error, c.Sent, c.OK)
			}
		})
	}
}
