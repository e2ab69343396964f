package scenarios

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/sim"
	"github.com/faultline/faultline/sim/resilience"
)

// The resilience keys of a call edge, shared by [[service.call]] and
// [[gateway.route]], and the keys of their sub-tables.
var (
	resilienceKeys = []string{"balancer", "choice_count", "outlier_detection", "health_check", "circuit_breaker", "fallback", "bulkhead", "retry", "hedge", "scope"}
	outlierKeys    = []string{
		"consecutive_5xx", "interval", "base_ejection_time", "max_ejection_time", "max_ejection_percent", "always_eject_one_host",
		"enforcing_consecutive_5xx", "enforcing_success_rate", "enforcing_failure_percentage",
		"success_rate_minimum_hosts", "success_rate_request_volume", "success_rate_stdev_factor",
		"failure_percentage_threshold", "failure_percentage_minimum_hosts", "failure_percentage_request_volume",
	}
	breakerKeys = []string{
		"failure_rate_threshold", "slow_call_rate_threshold", "slow_call_duration_threshold",
		"sliding_window_type", "sliding_window_size", "minimum_number_of_calls",
		"wait_duration_in_open_state", "permitted_number_of_calls_in_half_open_state",
		"max_wait_duration_in_half_open_state", "automatic_transition_from_open_to_half_open_enabled",
	}
	retryKeys       = []string{"max_attempts", "backoff", "base", "cap", "multiplier", "jitter", "retry_on", "per_try_timeout", "budget", "throttle", "max_retries", "retry_budget"}
	retryBudgetKeys = []string{"budget_percent", "min_retry_concurrency"}
	budgetKeys      = []string{"percent", "min_per_sec", "ttl"}
	throttleKeys    = []string{"max_tokens", "token_ratio"}
	hedgeKeys       = []string{"delay", "max_copies", "non_fatal_on"}
	healthCheckKeys = []string{"interval", "timeout", "unhealthy_threshold", "healthy_threshold"}
	readinessKeys   = []string{"period_seconds", "timeout_seconds", "failure_threshold", "success_threshold"}
	autoscaleKeys   = []string{"target_utilisation", "min", "max", "interval", "scale_up_stabilization", "scale_down_stabilization",
		"scale_up_pods", "scale_up_percent", "scale_down_percent", "startup_delay"}

	// The values of the enumerations, in the order of their Go constants.
	balancers    = []string{"round_robin", "random", "least_request", "ring_hash"} // resilience.Policy
	windowTypes  = []string{"count_based", "time_based"}                           // resilience.WindowType
	scopes       = []string{"instance", "service"}                                 // sim.Scope
	backoffs     = []string{"exponential", "constant"}
	jitters      = []string{"none", "full", "equal", "decorrelated", "envoy"} // resilience.Jitter
	disciplines  = []string{"fifo", "lifo"}
	concurrency  = []string{"thread", "async"} // sim.Service.Async
	retryOutcome = []string{"error", "timeout", "rejected", "shed", "rate_limited", "conflict"}
)

// Limits of the resilience keys, beyond those of the libraries they follow.
const (
	maxChoiceCount = 100 // least_request: more hosts compared per pick is only slower
	// maxAttempts bounds a retry's attempts. More than boundedAttempts
	// need the call's timeout: a loop that retries a conflict until it
	// wins (optimistic concurrency) is bounded by its deadline, and its
	// budget if any.
	maxAttempts     = 1000
	boundedAttempts = 10
	maxWindow       = 1 << 20 // breaker windows, as resilience bounds them
	minBudgetTTL    = time.Second
	maxBudgetTTL    = time.Minute // Finagle's bounds on ttl
	minBudgetShare  = 0.001       // Finagle's unit is 1/1000 of a request
	maxThrottle     = 1000        // gRPC's bound on maxTokens
	minThrottleUnit = 0.001       // gRPC keeps three decimal places
	maxHedgeCopies  = 5           // the engine's bound, and gRPC's on attempts
	// maxBreakerCells bounds the window entries of the per-instance breakers
	// of one call, which the engine allocates as the caller grows.
	maxBreakerCells = 1 << 24
)

// outcomes maps the names of retry_on and non_fatal_on to outcomes.
var outcomes = map[string]sim.Outcome{
	"error": sim.Error, "timeout": sim.Timeout, "rejected": sim.Rejected, "shed": sim.Shed, "rate_limited": sim.Limited,
	"conflict": sim.Conflict,
}

// resilience reads the resilience keys of a call edge (a [[service.call]]
// or a [[gateway.route]], whose header without brackets is hdr) into c.
// c.Timeout must be read already: retries and hedges are checked against it.
// callers is the most instances the caller may have, for the memory of
// per-instance breakers.
func (b *builder) resilience(t *table, hdr string, c *sim.Call, callers int) {
	if i, ok := t.enum("scope", scopes); ok {
		c.Scope = sim.Scope(i)
	}
	policyOK := false
	if i, ok := t.enum("balancer", balancers); ok {
		c.Balancer, policyOK = resilience.Policy(i), true
	}
	if t.has("choice_count") {
		if policyOK && c.Balancer != resilience.LeastRequest {
			t.keyErr("choice_count", fmt.Sprintf("choice_count applies only to balancer = \"least_request\", not %q", c.Balancer),
				"remove choice_count, or set balancer = \"least_request\"")
		} else if !t.has("balancer") {
			t.keyErr("choice_count", "choice_count applies only to balancer = \"least_request\"; the default balancer is round_robin",
				"add balancer = \"least_request\"")
		} else if n, ok := t.integer("choice_count", 2, maxChoiceCount); ok {
			c.ChoiceCount = n
		}
	}
	if policyOK && c.Balancer == resilience.LeastRequest && c.ChoiceCount == 0 {
		c.ChoiceCount = resilience.DefaultChoiceCount
	}
	if ot := t.sub("outlier_detection", "["+hdr+".outlier_detection]", fmt.Sprintf("[%s.outlier_detection] of %s", hdr, t.what)); ot != nil {
		c.Outlier = outlier(ot)
	}
	if ht := t.sub("health_check", "["+hdr+".health_check]", fmt.Sprintf("[%s.health_check] of %s", hdr, t.what)); ht != nil {
		c.HealthCheck = healthCheck(ht)
	}
	if bt := t.sub("circuit_breaker", "["+hdr+".circuit_breaker]", fmt.Sprintf("[%s.circuit_breaker] of %s", hdr, t.what)); bt != nil {
		c.Breaker = breaker(bt)
		if c.Scope == sim.PerInstance {
			cells := (int64(c.Breaker.WindowSize) + int64(c.Breaker.PermittedInHalfOpen)) * int64(callers)
			if cells > maxBreakerCells {
				msg := fmt.Sprintf("one breaker per caller instance (scope = \"instance\", the default) makes up to %d breakers whose windows hold %d entries in all, more than %d",
					callers, cells, maxBreakerCells)
				hint := `use a smaller sliding_window_size, or scope = "service" on the call`
				if t.has("scope") {
					t.valErr("scope", msg, hint)
				} else {
					bt.headerErr(msg, hint)
				}
			}
		}
	}
	c.Fallback, _ = t.boolean("fallback")
	if n, ok := t.integer("bulkhead", 1, maxInt); ok {
		c.Bulkhead = n
	}
	if rt := t.sub("retry", "["+hdr+".retry]", fmt.Sprintf("[%s.retry] of %s", hdr, t.what)); rt != nil {
		c.Retry = retry(rt, hdr, t.what, c.Timeout)
	}
	if ht := t.sub("hedge", "["+hdr+".hedge]", fmt.Sprintf("[%s.hedge] of %s", hdr, t.what)); ht != nil {
		c.Hedge = hedge(ht, c.Timeout)
	}
}

func outlier(t *table) *resilience.OutlierConfig {
	t.known(outlierKeys...)
	cfg := resilience.DefaultOutlierConfig()
	if n, ok := t.integer("consecutive_5xx", 1, maxInt); ok {
		cfg.Consecutive5xx = n
	}
	if d, ok := t.positiveDuration("interval"); ok {
		cfg.Interval = d
	}
	baseOK := true
	if t.has("base_ejection_time") {
		cfg.BaseEjectionTime, baseOK = t.positiveDuration("base_ejection_time")
	}
	maxOK := true
	if t.has("max_ejection_time") {
		cfg.MaxEjectionTime, maxOK = t.positiveDuration("max_ejection_time")
	}
	if baseOK && maxOK && cfg.MaxEjectionTime < cfg.BaseEjectionTime {
		if t.has("max_ejection_time") {
			t.valErr("max_ejection_time", fmt.Sprintf("max_ejection_time (%s) must be >= base_ejection_time (%s)", dur(cfg.MaxEjectionTime), dur(cfg.BaseEjectionTime)),
				"an ejection lasts base_ejection_time times the host's ejection count, up to max_ejection_time")
		} else {
			t.valErr("base_ejection_time", fmt.Sprintf("base_ejection_time (%s) must be <= max_ejection_time (%s, the default)", dur(cfg.BaseEjectionTime), dur(cfg.MaxEjectionTime)),
				"raise max_ejection_time too")
		}
	}
	if f, ok := t.number("max_ejection_percent", percent,
		"to eject at most one host, set always_eject_one_host = true with a small percent; to eject none, remove the table"); ok {
		cfg.MaxEjectionPercent = f
	}
	cfg.AlwaysEjectOneHost, _ = t.boolean("always_eject_one_host")
	enforcing := []struct {
		key string
		d   resilience.OutlierDetectors
	}{
		{"enforcing_consecutive_5xx", resilience.DetectConsecutive5xx},
		{"enforcing_success_rate", resilience.DetectSuccessRate},
		{"enforcing_failure_percentage", resilience.DetectFailurePercentage},
	}
	for _, en := range enforcing {
		n, ok := t.integer(en.key, 0, 100)
		switch {
		case !ok:
		case n == 100:
			cfg.Enforcing |= en.d
		case n == 0:
			cfg.Enforcing &^= en.d
		default:
			t.valErr(en.key, fmt.Sprintf("%s = %d: faultline enforces a detector always (100) or never (0)", en.key, n),
				"Envoy ejects on that share of detections, drawn at random; use 0 or 100")
		}
	}
	if cfg.Enforcing == 0 {
		t.headerErr("every detector is off (enforcing_consecutive_5xx, enforcing_success_rate and enforcing_failure_percentage are 0)",
			"set one of them to 100, or remove the table")
	}
	for _, k := range []struct {
		key string
		v   *int
	}{
		{"success_rate_minimum_hosts", &cfg.SuccessRateMinimumHosts},
		{"success_rate_request_volume", &cfg.SuccessRateRequestVolume},
		{"success_rate_stdev_factor", &cfg.SuccessRateStdevFactor},
		{"failure_percentage_minimum_hosts", &cfg.FailurePercentageMinimumHosts},
		{"failure_percentage_request_volume", &cfg.FailurePercentageRequestVolume},
	} {
		if n, ok := t.integer(k.key, 1, maxInt); ok {
			*k.v = n
		}
	}
	if n, ok := t.integer("failure_percentage_threshold", 1, 100); ok {
		cfg.FailurePercentageThreshold = n
	}
	return &cfg
}

func breaker(t *table) *resilience.BreakerConfig {
	if t.has("scope") {
		// The breaker's own scope key, before the call's scope covered
		// every policy of the call.
		t.keyErr("scope", "scope is a key of the call, not of its circuit breaker: it covers the breaker, the retry budget and throttle, outlier detection, the balancer and the bulkhead",
			"move it up to the call; scope = \"instance\" (one per caller instance) is the default")
		delete(t.m, "scope")
	}
	t.known(breakerKeys...)
	cfg := resilience.DefaultBreakerConfig()
	pctHint := "a percentage: 50 means half of the calls"
	if f, ok := t.number("failure_rate_threshold", percent, pctHint); ok {
		cfg.FailureRateThreshold = f
	}
	if f, ok := t.number("slow_call_rate_threshold", percent, pctHint); ok {
		cfg.SlowCallRateThreshold = f
	}
	if d, ok := t.positiveDuration("slow_call_duration_threshold"); ok {
		cfg.SlowCallDuration = d
	}
	if i, ok := t.enum("sliding_window_type", windowTypes); ok {
		cfg.WindowType = resilience.WindowType(i)
	}
	if n, ok := t.integer("sliding_window_size", 1, maxWindow); ok {
		cfg.WindowSize = n
	}
	if n, ok := t.integer("minimum_number_of_calls", 1, maxInt); ok {
		cfg.MinimumCalls = n
	}
	if d, ok := t.positiveDuration("wait_duration_in_open_state"); ok {
		cfg.WaitInOpen = d
	}
	if n, ok := t.integer("permitted_number_of_calls_in_half_open_state", 1, maxWindow); ok {
		cfg.PermittedInHalfOpen = n
	}
	if d, ok := t.nonNegative("max_wait_duration_in_half_open_state"); ok {
		cfg.MaxWaitInHalfOpen = d
	}
	cfg.AutomaticTransition, _ = t.boolean("automatic_transition_from_open_to_half_open_enabled")
	return &cfg
}

// retry reads a retry policy; timeout is the call's, the deadline across
// all attempts.
func retry(t *table, hdr, callWhat string, timeout time.Duration) *sim.Retry {
	t.known(retryKeys...)
	r := &sim.Retry{
		MaxAttempts: 3,
		Backoff:     resilience.Backoff{Base: 100 * time.Millisecond, Cap: 10 * time.Second, Multiplier: 2, Jitter: resilience.JitterFull},
	}
	r.On[sim.Error], r.On[sim.Timeout] = true, true
	if n, ok := t.integer("max_attempts", 1, maxAttempts); ok {
		if n > boundedAttempts && timeout == 0 {
			t.valErr("max_attempts", fmt.Sprintf("max_attempts = %d needs a timeout on the call: more than %d attempts are bounded by the call's deadline", n, boundedAttempts),
				fmt.Sprintf(`add timeout = "2s" (the deadline across all attempts) to the call, or use max_attempts <= %d`, boundedAttempts))
		} else {
			r.MaxAttempts = n
		}
	}
	constant := false
	if i, ok := t.enum("backoff", backoffs); ok && i == 1 {
		constant = true
		r.Backoff.Multiplier = 1
	}
	baseOK, capOK := true, true
	if t.has("base") {
		r.Backoff.Base, baseOK = t.nonNegative("base")
	}
	if t.has("cap") {
		r.Backoff.Cap, capOK = t.nonNegative("cap")
	}
	if b, c := r.Backoff.Base, r.Backoff.Cap; baseOK && capOK && c > 0 && b > c {
		if t.has("cap") {
			t.valErr("cap", fmt.Sprintf("cap (%s) must not be below base (%s): every sleep would be cap", dur(c), dur(b)),
				`raise cap, or write cap = "0s" for no cap`)
		} else {
			t.valErr("base", fmt.Sprintf("base (%s) is above cap (%s, the default): every sleep would be cap", dur(b), dur(c)),
				`raise cap too, or write cap = "0s" for no cap`)
		}
	}
	if t.has("multiplier") {
		if constant {
			t.keyErr("multiplier", `multiplier applies only to backoff = "exponential"`, "a constant backoff sleeps base every time; remove multiplier")
		} else if f, ok := t.number("multiplier", interval{Lo: 1, Hi: math.Inf(1)}, "1 sleeps base every time; 2 doubles each sleep"); ok {
			r.Backoff.Multiplier = f
		}
	}
	if i, ok := t.enum("jitter", jitters); ok {
		r.Backoff.Jitter = resilience.Jitter(i)
	}
	retryOn(t, r)
	if d, ok := t.nonNegative("per_try_timeout"); ok {
		if d > 0 && timeout > 0 && d >= timeout {
			t.valErr("per_try_timeout", fmt.Sprintf("per_try_timeout (%s) must be shorter than the call's timeout (%s)", dur(d), dur(timeout)),
				"with a retry, the call's timeout is the deadline across all attempts, and per_try_timeout bounds each one")
		} else {
			r.PerTryTimeout = d
		}
	}
	if bt := t.sub("budget", "["+hdr+".retry.budget]", fmt.Sprintf("[%s.retry.budget] of %s", hdr, callWhat)); bt != nil {
		r.Budget = budget(bt)
	}
	if tt := t.sub("throttle", "["+hdr+".retry.throttle]", fmt.Sprintf("[%s.retry.throttle] of %s", hdr, callWhat)); tt != nil {
		r.Throttle = throttle(tt)
	}
	// Envoy's circuit-breaking max_retries applies to every Envoy cluster
	// (default 3); other clients (gRPC, Finagle, Resilience4j) have no such
	// cap, so it is on by default only for an Envoy-style retry.
	if r.Backoff.Jitter == resilience.JitterEnvoy {
		r.Concurrency = &resilience.ConcurrencyBudget{MinConcurrency: 3}
	}
	if n, ok := t.integer("max_retries", 1, maxInt); ok {
		r.Concurrency = &resilience.ConcurrencyBudget{MinConcurrency: n}
	}
	if bt := t.sub("retry_budget", "["+hdr+".retry.retry_budget]", fmt.Sprintf("[%s.retry.retry_budget] of %s", hdr, callWhat)); bt != nil {
		if t.has("max_retries") {
			t.keyErr("max_retries", "max_retries and retry_budget both cap the retries in flight; Envoy ignores max_retries when retry_budget is set",
				"keep one of them")
		}
		r.Concurrency = retryBudget(bt)
	}
	return r
}

// retryBudget reads Envoy's circuit_breakers retry_budget.
func retryBudget(t *table) *resilience.ConcurrencyBudget {
	t.known(retryBudgetKeys...)
	c := resilience.EnvoyConcurrencyBudget()
	if f, ok := t.number("budget_percent", percent, "a percentage of the requests in flight: 20 is one retry per five requests"); ok {
		c.Percent = f / 100
	}
	if n, ok := t.integer("min_retry_concurrency", 0, maxInt); ok {
		c.MinConcurrency = n
	}
	return &c
}

// retryOn reads the outcomes a retry policy retries into r.On, which it
// leaves alone when retry_on is absent or has an error.
func retryOn(t *table, r *sim.Retry) {
	list, ok := outcomeList(t, "retry_on", `"ok" is a success: it is never retried`)
	if !ok {
		return
	}
	if len(list) == 0 {
		t.valErr("retry_on", "retry_on is empty: nothing would be retried", "list outcomes to retry, or remove the retry table")
		return
	}
	clear(r.On[:])
	for _, o := range list {
		r.On[o] = true
	}
}

// outcomeList reads the array of outcome names at key (retry_on,
// non_fatal_on); ok is false when the key is absent or has an error, which
// it reports. okErr is the error for "ok" in the list.
func outcomeList(t *table, key, okErr string) (list []sim.Outcome, ok bool) {
	v, ok := t.m[key]
	if !ok {
		return nil, false
	}
	elems, ok := v.([]any)
	if !ok {
		hint := fmt.Sprintf(`an array of outcome names, such as %s = ["error", "timeout"]`, key)
		if s, isStr := v.(string); isStr {
			hint = fmt.Sprintf("write it as an array: %s = [%q]", key, s)
		}
		t.typeErr(key, v, "an array", hint)
		return nil, false
	}
	list = make([]sim.Outcome, 0, len(elems))
	good := true
	for i, e := range elems {
		s, isStr := e.(string)
		if !isStr {
			t.elemErr(key, i, fmt.Sprintf("each element of %s must be a string, not %s", key, typeName(e)), "one of: "+strings.Join(retryOutcome, ", "))
			good = false
			continue
		}
		o, known := outcomes[s]
		switch {
		case s == "ok":
			t.elemErr(key, i, okErr, "one of: "+strings.Join(retryOutcome, ", "))
		case !known:
			t.elemErr(key, i, fmt.Sprintf("unknown outcome %q", s), enumHint(s, retryOutcome))
		case slices.Contains(list, o):
			t.elemErr(key, i, fmt.Sprintf("outcome %q is listed twice", s), "")
		default:
			list = append(list, o)
			continue
		}
		good = false
	}
	return list, good
}

func budget(t *table) *sim.Budget {
	t.known(budgetKeys...)
	b := &sim.Budget{Percent: 0.2, MinPerSec: 10, TTL: 10 * time.Second}
	if f, ok := t.fraction("percent", false); ok {
		if f > 0 && f < minBudgetShare {
			t.valErr("percent", fmt.Sprintf("percent must be 0 or at least %g, got %g", minBudgetShare, f),
				"a request deposits a thousandth of a retry at the finest; 0 leaves only min_per_sec")
		} else {
			b.Percent = f
		}
	}
	if f, ok := t.number("min_per_sec", interval{Lo: 0, Hi: maxRate}, ""); ok {
		b.MinPerSec = f
	}
	if d, ok := t.duration("ttl"); ok {
		if d < minBudgetTTL || d > maxBudgetTTL {
			t.valErr("ttl", fmt.Sprintf("ttl must be in [%s, %s], got %s", dur(minBudgetTTL), dur(maxBudgetTTL), dur(d)), "Finagle accepts a ttl from 1s to 60s")
		} else {
			b.TTL = d
		}
	}
	return b
}

func throttle(t *table) *sim.Throttle {
	t.known(throttleKeys...)
	th := &sim.Throttle{MaxTokens: 10, TokenRatio: 0.1}
	unit := "tokens are counted in thousandths, as gRPC keeps three decimal places"
	if f, ok := t.number("max_tokens", interval{Lo: 0, Hi: maxThrottle, LoOpen: true}, ""); ok {
		if f < minThrottleUnit {
			t.valErr("max_tokens", fmt.Sprintf("max_tokens must be at least %g, got %g", minThrottleUnit, f), unit)
		} else {
			th.MaxTokens = f
		}
	}
	if f, ok := t.number("token_ratio", interval{Lo: 0, Hi: maxThrottle, LoOpen: true}, ""); ok {
		if f < minThrottleUnit {
			t.valErr("token_ratio", fmt.Sprintf("token_ratio must be at least %g, got %g", minThrottleUnit, f), unit)
		} else {
			th.TokenRatio = f
		}
	}
	return th
}

// hedge reads a hedging policy; timeout is the call's.
func hedge(t *table, timeout time.Duration) *sim.Hedge {
	t.known(hedgeKeys...)
	h := &sim.Hedge{MaxCopies: 2}
	if t.require("delay", `delay = "10ms", about the callee's p95`) {
		if d, ok := t.positiveDuration("delay"); ok {
			if timeout > 0 && d >= timeout {
				t.valErr("delay", fmt.Sprintf("delay (%s) must be shorter than the call's timeout (%s)", dur(d), dur(timeout)),
					"no copy would ever be sent before the call times out")
			} else {
				h.Delay = d
			}
		}
	}
	if n, ok := t.integer("max_copies", 2, maxHedgeCopies); ok {
		h.MaxCopies = n
	}
	if list, ok := outcomeList(t, "non_fatal_on", `"ok" is a success, never a failure`); ok {
		for _, o := range list {
			h.NonFatalOn[o] = true
		}
	}
	return h
}

// healthCheck reads Envoy's active health checking of a call's callee
// (config.core.v3.HealthCheck). Envoy requires all four fields and gives
// them no default, so faultline does too.
func healthCheck(t *table) *resilience.HealthCheckConfig {
	t.known(healthCheckKeys...)
	h := &resilience.HealthCheckConfig{}
	if t.require("interval", `interval = "5s"`) {
		if d, ok := t.positiveDuration("interval"); ok {
			h.Interval = d
		}
	}
	if t.require("timeout", `timeout = "1s"`) {
		if d, ok := t.positiveDuration("timeout"); ok {
			h.Timeout = d
		}
	}
	if t.require("unhealthy_threshold", "unhealthy_threshold = 3") {
		if n, ok := t.integer("unhealthy_threshold", 1, maxInt32); ok {
			h.Unhealthy = n
		}
	}
	if t.require("healthy_threshold", "healthy_threshold = 1") {
		if n, ok := t.integer("healthy_threshold", 1, maxInt32); ok {
			h.Healthy = n
		}
	}
	return h
}

// maxInt32 bounds the probe's fields, int32 in Kubernetes' API.
const maxInt32 = math.MaxInt32

// readinessProbe reads a Kubernetes readiness probe over Kubernetes'
// defaults (core/v1 Probe: periodSeconds 10, failureThreshold 3,
// successThreshold 1, each at least 1).
func readinessProbe(t *table, p *resilience.HealthCheckConfig) {
	t.known(readinessKeys...)
	if n, ok := t.integer("period_seconds", 1, maxInt32); ok {
		p.Interval = time.Duration(n) * time.Second
	}
	if n, ok := t.integer("timeout_seconds", 1, maxInt32); ok {
		p.Timeout = time.Duration(n) * time.Second
	}
	if n, ok := t.integer("failure_threshold", 1, maxInt32); ok {
		p.Unhealthy = n
	}
	if n, ok := t.integer("success_threshold", 1, maxInt32); ok {
		p.Healthy = n
	}
}

// autoscale reads the autoscaler of a service or gateway (noun); instances
// is its starting count, instancesOK whether that was valid.
func autoscale(t *table, noun string, instances int, instancesOK bool) *resilience.AutoscaleConfig {
	if t.has("cooldown") {
		// The one cooldown of the HPA before Kubernetes 1.12 gave way to
		// its stabilisation windows.
		t.keyErr("cooldown", "cooldown was replaced by the HPA's stabilization windows",
			`scale_down_stabilization = "300s" (the default) scales down only to the highest recommendation of the last 300 s; `+
				`scale_up_stabilization = "0s" (the default) scales up at once`)
		rest := *t
		rest.m = maps.Clone(t.m)
		delete(rest.m, "cooldown")
		rest.known(autoscaleKeys...)
	} else {
		t.known(autoscaleKeys...)
	}
	// The HPA's defaults (autoscaling/v2 behavior): no scale-up window, a
	// 300 s scale-down window; add at most max(4 pods, 100 %) and remove
	// at most 100 % per 15 s.
	cfg := &resilience.AutoscaleConfig{
		TargetUtilisation:      0.8,
		Min:                    instances,
		Interval:               15 * time.Second,
		ScaleDownStabilization: 300 * time.Second,
		ScaleUpPods:            4,
		ScaleUpPercent:         100,
		ScaleDownPercent:       100,
		PolicyPeriod:           15 * time.Second,
		StartupDelay:           10 * time.Second,
	}
	if f, ok := t.number("target_utilisation", interval{Lo: 0, Hi: 1, LoOpen: true}, "a fraction of the CPU of the workers: 0.8 is 80%"); ok {
		cfg.TargetUtilisation = f
	}
	startHint := "instances is the starting count and must lie in [min, max]"
	minOK := instancesOK
	if t.has("min") {
		cfg.Min, minOK = t.integer("min", 1, maxInstances)
		if minOK && instancesOK && cfg.Min > instances {
			t.valErr("min", fmt.Sprintf("min (%d) is above the instances the %s starts with (%d)", cfg.Min, noun, instances), startHint)
			minOK = false
		}
	}
	if t.require("max", "max = 10, the most instances the autoscaler may run") {
		if n, ok := t.integer("max", 1, maxInstances); ok {
			switch {
			case instancesOK && n < instances:
				t.valErr("max", fmt.Sprintf("max (%d) is below the instances the %s starts with (%d)", n, noun, instances), startHint)
			case minOK && n < cfg.Min:
				t.valErr("max", fmt.Sprintf("max (%d) must be >= min (%d)", n, cfg.Min), "")
			default:
				cfg.Max = n
			}
		}
	}
	if d, ok := t.positiveDuration("interval"); ok {
		cfg.Interval = d
	}
	for _, w := range []struct {
		key string
		d   *time.Duration
	}{{"scale_up_stabilization", &cfg.ScaleUpStabilization}, {"scale_down_stabilization", &cfg.ScaleDownStabilization}} {
		if d, ok := t.nonNegative(w.key); ok {
			if d > time.Hour {
				// The HPA's validation: stabilizationWindowSeconds <= 3600.
				t.valErr(w.key, fmt.Sprintf("%s must be at most 1h, got %s", w.key, dur(d)), "the HPA accepts windows up to 3600 s")
			} else {
				*w.d = d
			}
		}
	}
	if n, ok := t.integer("scale_up_pods", 1, maxInstances); ok {
		cfg.ScaleUpPods = n
	}
	if n, ok := t.integer("scale_up_percent", 1, 100_000); ok {
		cfg.ScaleUpPercent = n
	}
	if n, ok := t.integer("scale_down_percent", 1, 100); ok {
		cfg.ScaleDownPercent = n
	}
	if d, ok := t.nonNegative("startup_delay"); ok {
		cfg.StartupDelay = d
	}
	return cfg
}
