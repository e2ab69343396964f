package resilience

import "time"

// Kong's rate-limiting plugin counts requests in fixed windows, one per
// configured period (config.second, config.minute, config.hour...), each
// starting on a whole period of the clock (kong/tools/timestamp.lua,
// get_timestamps): a request is refused (429) when any period's counter
// has reached its limit, and otherwise counted in every period
// (kong/plugins/rate-limiting/handler.lua: get_usage, then increment). A
// refused request is not counted. So up to twice a limit can pass within
// one period across a window's boundary: the limit at the end of one
// window, the limit again at the start of the next.

// KongPeriods are the periods of Kong's limits that faultline models, in
// the order of FixedWindowLimits.
var KongPeriods = [...]time.Duration{time.Second, time.Minute, time.Hour}

// FixedWindowLimits are the requests allowed per second, minute and hour;
// 0: no limit for that period.
type FixedWindowLimits [len(KongPeriods)]int64

// FixedWindow is one identity's counters, a window index and a count per
// period. Its zero value has counted nothing.
type FixedWindow struct {
	idx [len(KongPeriods)]int64
	n   [len(KongPeriods)]int64
}

// Allow reports whether a request at now (ns) passes the limits, and
// counts it when it does.
func (w *FixedWindow) Allow(l *FixedWindowLimits, now int64) bool {
	for p, limit := range l {
		if limit == 0 {
			continue
		}
		if i := now / int64(KongPeriods[p]); i != w.idx[p] {
			w.idx[p], w.n[p] = i, 0 // a new window
		}
		if w.n[p] >= limit {
			return false
		}
	}
	for p, limit := range l {
		if limit > 0 {
			w.n[p]++
		}
	}
	return true
}
