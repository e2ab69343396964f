package resilience

import "time"

// OutlierConfig configures Envoy's consecutive_5xx outlier detection
// (Envoy docs, intro/arch_overview/upstream/outlier and the
// config.cluster.v3.OutlierDetection message). NewOutlier gives a field that
// is not positive Envoy's default, the value DefaultOutlierConfig holds.
type OutlierConfig struct {
	Consecutive5xx     int           // default 5
	Interval           time.Duration // default 10s: how often ejections are reviewed (un-ejection happens at the first interval after the ejection time elapsed)
	BaseEjectionTime   time.Duration // default 30s
	MaxEjectionTime    time.Duration // default 300s; Envoy rejects a value below BaseEjectionTime, which is used instead here
	MaxEjectionPercent float64       // default 10 (percent of hosts); capped at 100, as Envoy does
	// AlwaysEjectOneHost is Envoy's always_eject_one_host (default false):
	// one host may be ejected even when that exceeds MaxEjectionPercent.
	// Without it, 10% of fewer than 10 hosts ejects nothing.
	AlwaysEjectOneHost bool
}

// DefaultOutlierConfig returns Envoy's defaults.
func DefaultOutlierConfig() OutlierConfig {
	return OutlierConfig{
		Consecutive5xx:     5,
		Interval:           10 * time.Second,
		BaseEjectionTime:   30 * time.Second,
		MaxEjectionTime:    300 * time.Second,
		MaxEjectionPercent: 10,
	}
}

// Outlier is Envoy's outlier detector for one cluster, reduced to the
// consecutive_5xx detector, which Envoy enforces by default (the success-rate
// and failure-percentage detectors are not modelled, nor is
// max_ejection_time_jitter, which defaults to 0). It follows Envoy's
// source/common/upstream/outlier_detection_impl.cc:
//
//   - A failure adds to the host's run of consecutive failures and a success
//     ends it. The run reaching Consecutive5xx ejects the host at once and
//     restarts the count, whether or not the ejection was allowed.
//   - An ejection is allowed when the hosts ejected, this one included, are
//     at most MaxEjectionPercent of all hosts. Envoy before its
//     check_mep_on_first_eject change (legacy path removed in 1.31) compared
//     the hosts already ejected with "<", which always let one through; now,
//     with the defaults, 10 hosts are needed to eject one unless
//     AlwaysEjectOneHost is set. A refused ejection counts as an overflow.
//   - Each ejection raises the host's backoff multiplier by one, while
//     multiplier × BaseEjectionTime is below MaxEjectionTime +
//     BaseEjectionTime. The host stays out for min(multiplier ×
//     BaseEjectionTime, MaxEjectionTime), so repeat offenders stay out longer.
//   - At every multiple of Interval a review returns the hosts whose
//     time is up, then lowers by one the multiplier of each host that is in
//     service and was returned at least an interval ago: a host that stays
//     healthy is forgiven one ejection per interval.
//
// Results from an ejected host (requests that were already in flight) are
// ignored: Envoy counts them, but resets the count when the host returns.
//
// Reviews are evaluated lazily: Record and Review first replay every review
// due by now, each at its own time, so the state is the same however
// seldom Review is called. Replaying skips the intervals in which no host is
// ejected or backed off, so a long quiet spell costs nothing.
type Outlier struct {
	consecutive int
	interval    int64
	base, max   int64
	maxPercent  float64
	alwaysOne   bool

	hosts     []outlierHost
	next      int64 // the next review
	ejected   int   // hosts ejected now
	backedOff int   // hosts whose multiplier is not zero
	returned  int   // hosts returned since the last Review
	ejections uint64
	overflows uint64
}

type outlierHost struct {
	failures   int   // consecutive
	multiplier int64 // Envoy's ejectTimeBackoff
	ejectedAt  int64
	returnedAt int64
	ejected    bool
}

// NewOutlier returns outlier detection over hosts instances, none ejected.
func NewOutlier(cfg OutlierConfig, hosts int) *Outlier {
	def := DefaultOutlierConfig()
	if cfg.Consecutive5xx <= 0 {
		cfg.Consecutive5xx = def.Consecutive5xx
	}
	if cfg.Interval <= 0 {
		cfg.Interval = def.Interval
	}
	if cfg.BaseEjectionTime <= 0 {
		cfg.BaseEjectionTime = def.BaseEjectionTime
	}
	if cfg.MaxEjectionTime <= 0 {
		cfg.MaxEjectionTime = def.MaxEjectionTime
	}
	if cfg.MaxEjectionPercent <= 0 {
		cfg.MaxEjectionPercent = def.MaxEjectionPercent
	}
	o := &Outlier{
		consecutive: cfg.Consecutive5xx,
		interval:    int64(cfg.Interval),
		base:        int64(cfg.BaseEjectionTime),
		max:         int64(max(cfg.MaxEjectionTime, cfg.BaseEjectionTime)),
		maxPercent:  min(cfg.MaxEjectionPercent, 100),
		alwaysOne:   cfg.AlwaysEjectOneHost,
		next:        int64(cfg.Interval),
	}
	o.Resize(hosts)
	return o
}

// Resize follows the callee's instance count: Envoy adds a monitor for each
// new host and drops the state of each removed one. Hosts beyond the new
// count are removed; new hosts start in service with a clean record.
func (o *Outlier) Resize(hosts int) {
	kept := min(max(hosts, 0), len(o.hosts))
	for _, hs := range o.hosts[kept:] {
		if hs.ejected {
			o.ejected--
		}
		if hs.multiplier > 0 {
			o.backedOff--
		}
	}
	o.hosts = o.hosts[:kept]
	for len(o.hosts) < hosts {
		o.hosts = append(o.hosts, outlierHost{})
	}
}

// Record takes the result of a request to host (0 <= host < hosts) at now,
// and reports whether it ejected the host.
func (o *Outlier) Record(now int64, host int, failed bool) (ejected bool) {
	o.catchUp(now)
	hs := &o.hosts[host]
	if hs.ejected {
		return false
	}
	if !failed {
		hs.failures = 0
		return false
	}
	hs.failures++
	if hs.failures < o.consecutive {
		return false
	}
	hs.failures = 0
	pct := 100 * float64(o.ejected+1) / float64(len(o.hosts))
	if pct > o.maxPercent && !(o.alwaysOne && o.ejected == 0) {
		o.overflows++
		return false
	}
	hs.ejected, hs.ejectedAt = true, now
	o.ejected++
	o.ejections++
	if hs.multiplier*o.base < o.max+o.base {
		if hs.multiplier == 0 {
			o.backedOff++
		}
		hs.multiplier++
	}
	return true
}

// Ejected reports whether host is ejected. A host the detector does not
// track (the callee grew and Resize has not been called yet) is not.
func (o *Outlier) Ejected(host int) bool {
	return host < len(o.hosts) && o.hosts[host].ejected
}

// NextReview is when the engine should call Review (every Interval).
func (o *Outlier) NextReview() int64 { return o.next }

// Review runs the reviews due by now and returns how many hosts went back
// into service since the previous call to Review, including those a Record
// returned while replaying a review.
func (o *Outlier) Review(now int64) (returned int) {
	o.catchUp(now)
	returned, o.returned = o.returned, 0
	return returned
}

// Ejections is how many ejections were made (Envoy's
// ejections_enforced_total).
func (o *Outlier) Ejections() uint64 { return o.ejections }

// Overflows is how many ejections max_ejection_percent refused (Envoy's
// ejections_overflow).
func (o *Outlier) Overflows() uint64 { return o.overflows }

// EjectedCount is how many hosts are ejected now (Envoy's ejections_active).
func (o *Outlier) EjectedCount() int { return o.ejected }

func (o *Outlier) catchUp(now int64) {
	for o.next <= now {
		if o.ejected == 0 && o.backedOff == 0 {
			o.next += ((now-o.next)/o.interval + 1) * o.interval
			return
		}
		o.review(o.next)
		o.next += o.interval
	}
}

func (o *Outlier) review(t int64) {
	for i := range o.hosts {
		hs := &o.hosts[i]
		if hs.ejected {
			if min(hs.multiplier*o.base, o.max) <= t-hs.ejectedAt {
				hs.ejected, hs.returnedAt, hs.failures = false, t, 0
				o.ejected--
				o.returned++
			}
			// Even a host returned just now keeps its multiplier: Envoy
			// forgives only a host in service for a whole interval.
			continue
		}
		if hs.multiplier > 0 && t-hs.returnedAt >= o.interval {
			hs.multiplier--
			if hs.multiplier == 0 {
				o.backedOff--
			}
		}
	}
}
