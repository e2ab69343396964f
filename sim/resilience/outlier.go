package resilience

import (
	"math"
	"time"
)

// OutlierConfig configures Envoy's outlier detection (Envoy docs,
// intro/arch_overview/upstream/outlier and the config.cluster.v3.
// OutlierDetection message). NewOutlier gives a field that is not positive
// Envoy's default, the value DefaultOutlierConfig holds.
type OutlierConfig struct {
	Consecutive5xx     int           // default 5
	Interval           time.Duration // default 10s: how often ejections are reviewed (un-ejection happens at the first interval after the ejection time elapsed) and success rates evaluated
	BaseEjectionTime   time.Duration // default 30s
	MaxEjectionTime    time.Duration // default 300s; Envoy rejects a value below BaseEjectionTime, which is used instead here
	MaxEjectionPercent float64       // default 10 (percent of hosts); capped at 100, as Envoy does
	// AlwaysEjectOneHost is Envoy's always_eject_one_host (default false):
	// one host may be ejected even when that exceeds MaxEjectionPercent.
	// Without it, 10% of fewer than 10 hosts ejects nothing.
	AlwaysEjectOneHost bool

	// Enforcing is the set of detectors that eject: Envoy's
	// enforcing_consecutive_5xx (default 100), enforcing_success_rate
	// (default 100) and enforcing_failure_percentage (default 0), each
	// here either 100 (in the set) or 0. Zero is Envoy's default set,
	// DetectConsecutive5xx|DetectSuccessRate.
	Enforcing OutlierDetectors

	SuccessRateMinimumHosts  int // default 5: hosts with enough volume needed to evaluate success rates
	SuccessRateRequestVolume int // default 100: requests in the interval for a host to count
	SuccessRateStdevFactor   int // default 1900: the threshold is mean - factor/1000 × stdev

	FailurePercentageThreshold     int // default 85 (percent of the host's requests in the interval)
	FailurePercentageMinimumHosts  int // default 5
	FailurePercentageRequestVolume int // default 50
}

// OutlierDetectors is a set of Envoy's outlier detectors.
type OutlierDetectors uint8

// The detectors faultline models. Envoy's consecutive_gateway_failure
// (enforcing_consecutive_gateway_failure defaults to 0) and the
// local-origin variants (split_external_local_origin_errors defaults to
// false) are not modelled.
const (
	DetectConsecutive5xx OutlierDetectors = 1 << iota
	DetectSuccessRate
	DetectFailurePercentage
)

// DefaultOutlierConfig returns Envoy's defaults.
func DefaultOutlierConfig() OutlierConfig {
	return OutlierConfig{
		Consecutive5xx:                 5,
		Interval:                       10 * time.Second,
		BaseEjectionTime:               30 * time.Second,
		MaxEjectionTime:                300 * time.Second,
		MaxEjectionPercent:             10,
		Enforcing:                      DetectConsecutive5xx | DetectSuccessRate,
		SuccessRateMinimumHosts:        5,
		SuccessRateRequestVolume:       100,
		SuccessRateStdevFactor:         1900,
		FailurePercentageThreshold:     85,
		FailurePercentageMinimumHosts:  5,
		FailurePercentageRequestVolume: 50,
	}
}

// Outlier is Envoy's outlier detector for one cluster: the consecutive_5xx,
// success-rate and failure-percentage detectors (which of them eject is
// OutlierConfig.Enforcing; max_ejection_time_jitter, default 0, is not
// modelled). It follows Envoy's source/common/upstream/
// outlier_detection_impl.cc:
//
//   - A failure adds to the host's run of consecutive failures and a success
//     ends it. The run reaching Consecutive5xx ejects the host at once and
//     restarts the count, whether or not the ejection was allowed.
//   - Every result also counts in the host's tally of the current interval
//     (Envoy's SuccessRateAccumulator bucket); a failure is what the
//     consecutive detector counts, anything else is a success.
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
//   - At every multiple of Interval (onIntervalTimer) a review returns the
//     hosts whose time is up; then evaluates the tallies of the interval
//     that just ended (processSuccessRateEjections): among the hosts in
//     service with at least SuccessRateRequestVolume requests, if there are
//     at least SuccessRateMinimumHosts of them, each whose success rate
//     (percent) is below mean - SuccessRateStdevFactor/1000 × stdev (the
//     population standard deviation, successRateEjectionThreshold) is
//     ejected; among those with at least FailurePercentageRequestVolume, if
//     there are at least FailurePercentageMinimumHosts, each whose failure
//     percentage is at least FailurePercentageThreshold is ejected. Hosts
//     are taken in index order (Envoy's is its hash map's), which matters
//     only when max_ejection_percent refuses some. Last, the review lowers
//     by one the multiplier of each host that is in service and was
//     returned at least an interval ago: a host that stays healthy is
//     forgiven one ejection per interval.
//
// Results from an ejected host (requests that were already in flight) are
// ignored: Envoy counts them, but resets the consecutive count when the
// host returns, and an ejected host is left out of the success rates.
//
// Reviews are evaluated lazily: Record and Review first replay every review
// due by now, each at its own time, so the state is the same however
// seldom Review is called. Replaying skips the intervals in which no host is
// ejected, backed off or tallied, so a long quiet spell costs nothing. An
// engine that reads Ejected between calls must call Review at
// NextTransition, when a review may change something.
type Outlier struct {
	consecutive int
	interval    int64
	base, max   int64
	maxPercent  float64
	alwaysOne   bool
	enforcing   OutlierDetectors
	srHosts     int
	srVolume    uint32
	srFactor    float64
	fpThreshold float64
	fpHosts     int
	fpVolume    uint32

	hosts     []outlierHost
	next      int64 // the next review
	ejected   int   // hosts ejected now
	backedOff int   // hosts whose multiplier is not zero
	tallied   bool  // some host has a result in the current interval
	returned  int   // hosts returned since the last Review
	reviewEj  int   // hosts ejected by reviews since the last Review
	ejections uint64
	byRate    uint64 // ejections by the success-rate and failure-percentage detectors
	overflows uint64
	changes   uint64 // ejections and returns (Changes)
}

type outlierHost struct {
	failures   int    // consecutive
	total, ok  uint32 // results in the current interval
	multiplier int64  // Envoy's ejectTimeBackoff
	ejectedAt  int64
	returnedAt int64
	ejected    bool
}

// NewOutlier returns outlier detection over hosts instances, none ejected.
func NewOutlier(cfg OutlierConfig, hosts int) *Outlier {
	def := DefaultOutlierConfig()
	pos := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	pos(&cfg.Consecutive5xx, def.Consecutive5xx)
	pos(&cfg.SuccessRateMinimumHosts, def.SuccessRateMinimumHosts)
	pos(&cfg.SuccessRateRequestVolume, def.SuccessRateRequestVolume)
	pos(&cfg.SuccessRateStdevFactor, def.SuccessRateStdevFactor)
	pos(&cfg.FailurePercentageThreshold, def.FailurePercentageThreshold)
	pos(&cfg.FailurePercentageMinimumHosts, def.FailurePercentageMinimumHosts)
	pos(&cfg.FailurePercentageRequestVolume, def.FailurePercentageRequestVolume)
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
	if cfg.Enforcing == 0 {
		cfg.Enforcing = def.Enforcing
	}
	o := &Outlier{
		consecutive: cfg.Consecutive5xx,
		interval:    int64(cfg.Interval),
		base:        int64(cfg.BaseEjectionTime),
		max:         int64(max(cfg.MaxEjectionTime, cfg.BaseEjectionTime)),
		maxPercent:  min(cfg.MaxEjectionPercent, 100),
		alwaysOne:   cfg.AlwaysEjectOneHost,
		enforcing:   cfg.Enforcing,
		srHosts:     cfg.SuccessRateMinimumHosts,
		srVolume:    uint32(min(cfg.SuccessRateRequestVolume, math.MaxUint32)),
		srFactor:    float64(cfg.SuccessRateStdevFactor) / 1000,
		fpThreshold: float64(min(cfg.FailurePercentageThreshold, 100)),
		fpHosts:     cfg.FailurePercentageMinimumHosts,
		fpVolume:    uint32(min(cfg.FailurePercentageRequestVolume, math.MaxUint32)),
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
			o.changes++
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
// and reports whether the consecutive_5xx detector ejected the host.
func (o *Outlier) Record(now int64, host int, failed bool) (ejected bool) {
	o.catchUp(now)
	hs := &o.hosts[host]
	if hs.ejected {
		return false
	}
	if o.enforcing&(DetectSuccessRate|DetectFailurePercentage) != 0 && hs.total < math.MaxUint32 {
		hs.total++
		if !failed {
			hs.ok++
		}
		o.tallied = true
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
	return o.enforcing&DetectConsecutive5xx != 0 && o.eject(now, host)
}

// eject ejects host at now if max_ejection_percent allows it (Envoy's
// ejectHost), and reports whether it did.
func (o *Outlier) eject(now int64, host int) bool {
	hs := &o.hosts[host]
	pct := 100 * float64(o.ejected+1) / float64(len(o.hosts))
	if pct > o.maxPercent && !(o.alwaysOne && o.ejected == 0) {
		o.overflows++
		return false
	}
	hs.ejected, hs.ejectedAt = true, now
	o.ejected++
	o.changes++
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

// NextReview is the next multiple of Interval, when the next review runs.
func (o *Outlier) NextReview() int64 { return o.next }

// NextTransition is when a review may next change the state (return a host,
// eject one on its success rate, forgive a past ejection), and false when
// none can until a result is recorded.
func (o *Outlier) NextTransition() (int64, bool) {
	return o.next, o.ejected > 0 || o.backedOff > 0 || o.tallied
}

// Review runs the reviews due by now and returns how many hosts went back
// into service and how many the success-rate and failure-percentage
// detectors ejected since the previous call to Review, including those of
// reviews a Record replayed.
func (o *Outlier) Review(now int64) (returned, ejected int) {
	o.catchUp(now)
	returned, o.returned = o.returned, 0
	ejected, o.reviewEj = o.reviewEj, 0
	return returned, ejected
}

// Ejections is how many ejections were made (Envoy's
// ejections_enforced_total).
func (o *Outlier) Ejections() uint64 { return o.ejections }

// RateEjections is how many of the ejections the success-rate and
// failure-percentage detectors made (Envoy's
// ejections_enforced_success_rate plus ejections_enforced_failure_percentage).
func (o *Outlier) RateEjections() uint64 { return o.byRate }

// Overflows is how many ejections max_ejection_percent refused (Envoy's
// ejections_overflow).
func (o *Outlier) Overflows() uint64 { return o.overflows }

// Changes counts the ejections and returns so far: a balancer that
// found every host ejected knows they are until it moves.
func (o *Outlier) Changes() uint64 { return o.changes }

// EjectedCount is how many hosts are ejected now (Envoy's ejections_active).
func (o *Outlier) EjectedCount() int { return o.ejected }

func (o *Outlier) catchUp(now int64) {
	for o.next <= now {
		if o.ejected == 0 && o.backedOff == 0 && !o.tallied {
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
		if hs.ejected && min(hs.multiplier*o.base, o.max) <= t-hs.ejectedAt {
			hs.ejected, hs.returnedAt, hs.failures = false, t, 0
			o.ejected--
			o.changes++
			o.returned++
		}
	}
	if o.tallied {
		o.rateEjections(t)
	}
	for i := range o.hosts {
		hs := &o.hosts[i]
		// Even a host returned just now keeps its multiplier: Envoy
		// forgives only a host in service for a whole interval.
		if !hs.ejected && hs.multiplier > 0 && t-hs.returnedAt >= o.interval {
			hs.multiplier--
			if hs.multiplier == 0 {
				o.backedOff--
			}
		}
	}
}

// rateEjections is Envoy's processSuccessRateEjections over the interval
// that ends at t, and starts the next interval's tallies. Success rates
// are percentages, as in Envoy.
func (o *Outlier) rateEjections(t int64) {
	var srN, fpN int
	var sum float64
	for i := range o.hosts {
		hs := &o.hosts[i]
		if hs.ejected || hs.total == 0 {
			continue
		}
		if hs.total >= o.srVolume {
			srN++
			sum += hs.rate()
		}
		if hs.total >= o.fpVolume {
			fpN++
		}
	}
	if o.enforcing&DetectSuccessRate != 0 && srN > 0 && srN >= o.srHosts {
		mean := sum / float64(srN)
		var variance float64
		for i := range o.hosts {
			if hs := &o.hosts[i]; !hs.ejected && hs.total >= o.srVolume {
				d := hs.rate() - mean
				variance += d * d
			}
		}
		threshold := mean - o.srFactor*math.Sqrt(variance/float64(srN))
		for i := range o.hosts {
			if hs := &o.hosts[i]; !hs.ejected && hs.total >= o.srVolume && hs.rate() < threshold {
				o.rateEject(t, i)
			}
		}
	}
	if o.enforcing&DetectFailurePercentage != 0 && fpN > 0 && fpN >= o.fpHosts {
		for i := range o.hosts {
			// A host the success-rate detector just ejected is not ejected
			// twice (Envoy asserts that a host is not ejected already).
			if hs := &o.hosts[i]; !hs.ejected && hs.total >= o.fpVolume && 100-hs.rate() >= o.fpThreshold {
				o.rateEject(t, i)
			}
		}
	}
	for i := range o.hosts {
		o.hosts[i].total, o.hosts[i].ok = 0, 0
	}
	o.tallied = false
}

func (o *Outlier) rateEject(t int64, host int) {
	if o.eject(t, host) {
		o.byRate++
		o.reviewEj++
	}
}

// rate is the host's success rate in the current interval, in percent.
func (hs *outlierHost) rate() float64 {
	return float64(hs.ok) * 100 / float64(hs.total)
}
