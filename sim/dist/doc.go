// Package dist provides probability distributions of durations, written in a
// compact syntax and sampled without allocating on the simulator's hot path.
//
// A distribution is one of:
//
//	10ms                               a constant (any Go duration)
//	exp(10ms)                          exponential with that mean
//	uniform(5ms, 15ms)                 uniform on [lo, hi]
//	normal(10ms, 2ms)                  normal(mean, stddev) truncated at 0 by rejection
//	lognormal(10ms, 80ms)              lognormal(median, p99)
//	pareto(235us, 10)                  pareto(scale, shape): scale * U^(-1/shape)
//	weibull(10ms, 1.5)                 weibull(scale, shape)
//	percentiles(p50=8ms, p99=90ms)     piecewise linear inverse CDF through the points
//	mix(0.9 exp(1ms), 0.1 exp(10ms))   weighted mixture; weights sum to 1
//	samples(1.2ms, 1.3ms, 40ms)        one of the values, each equally likely
//	histogram(1ms..2ms: 40, 30ms..50ms: 10)
//	                                   a bin in proportion to its count, then uniform in it
//	markov(fast: exp(5ms) for 30s, slow: exp(80ms) for 2s)
//	                                   Markov-modulated: each state's distribution
//	                                   for an exponential time of that mean;
//	                                   "... for 2s then (0.7 fast, 0.3 mid)" says where it goes next
//
// samples("name") and histogram("name") read their items from a file
// (ParseFiles), separated by commas or white space, with # comments.
//
// A markov distribution has a state, which belongs to whoever draws from it:
// SampleAt(r, now, &regime) moves the consumer's Regime through virtual time
// to now and draws from the state it is in, so slow draws come in episodes.
// The states follow each other in the order written, the last returning to
// the first, unless a state says where the chain goes when it leaves it:
// "slow: exp(80ms) for 2s then (0.7 fast, 0.3 mid)" is a row of the jump
// matrix (probabilities summing to 1, to other states; every state must be
// reachable from every other). Sample, with no regime, draws from the state found at a random
// time (a mixture weighted by each state's share of time), and Mean and
// Quantile describe that mixture. A markov distribution must be the whole
// distribution, not part of a mix or of another markov.
//
// Means, medians, scales, standard deviations and shapes must be positive;
// uniform needs lo <= hi and lognormal p99 >= median.
//
// Percentile keys spell the decimals of the probability: p50 is 0.5, p999 is
// 0.999, p05 is 0.05; p0 and p100 are the ends. Below the first point the
// inverse CDF runs linearly from p0 (0s unless given); above the last point
// it continues with an exponential tail through the last two points, unless
// p100 caps it. Mixtures nest up to 16 deep.
//
// A Dist is immutable once built, so it may be shared between goroutines;
// each goroutine needs its own *rand.Rand.
//
// Samples are whole nanoseconds in [0, 1<<62), so that adding one to a
// simulation clock cannot overflow. Mean and Quantile are exact where a
// closed form exists, which is everywhere but the quantiles of a mixture.
//
// Usage:
//
//	d, err := dist.Parse("mix(0.9 pareto(235us, 10), 0.1 exp(600us))")
//	if err != nil {
//		return err // a *dist.SyntaxError pointing at the offending byte
//	}
//	r := rand.New(rand.NewPCG(seed1, seed2))
//	latency := time.Duration(d.Sample(r))
package dist
