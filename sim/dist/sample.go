package dist

import (
	"math"
	"math/rand/v2"
)

// maxSample caps samples far below math.MaxInt64 so that callers can add a
// sample to a simulation clock without overflowing; heavy tails such as
// pareto with a small shape do produce +Inf.
const maxSample = 1<<62 - 1

// Sample draws one value in nanoseconds, in [0, 1<<62). It never allocates.
func (d Dist) Sample(r *rand.Rand) int64 {
	switch d.kind {
	case kExp:
		return nanos(r.ExpFloat64() * float64(d.a))
	case kUniform:
		return nanos(float64(d.a) + r.Float64()*float64(d.b-d.a))
	case kNormal:
		// Rejection keeps the shape of a truncated normal; since the mean is
		// non-negative, at least half of the draws are accepted.
		for {
			x := float64(d.a) + float64(d.b)*r.NormFloat64()
			if x >= 0 {
				return nanos(x)
			}
		}
	case kLognormal:
		return nanos(math.Exp(d.x + d.y*r.NormFloat64()))
	case kPareto:
		// 1-U lies in (0, 1], so the power is finite or at worst +Inf.
		return nanos(float64(d.a) * math.Pow(1-r.Float64(), d.y))
	case kWeibull:
		return nanos(float64(d.a) * math.Pow(r.ExpFloat64(), d.y))
	case kPercentiles:
		return nanos(d.pct.quantile(r.Float64()))
	case kMix:
		return d.mix.pick(r.Float64()).Sample(r)
	case kEmpirical:
		return d.emp.sample(r)
	case kMarkov:
		// No regime: the state a consumer would be in at a random time.
		return d.mk.mix.pick(r.Float64()).Sample(r)
	}
	return int64(min(d.a, maxSample))
}

// nanos rounds x to the nearest nanosecond within [0, maxSample]; NaN maps to 0.
func nanos(x float64) int64 {
	if !(x > 0) {
		return 0
	}
	if x >= maxSample {
		return maxSample
	}
	return int64(math.Round(x))
}

// Mean returns the mean in nanoseconds, +Inf when it diverges.
func (d Dist) Mean() float64 {
	a, b := float64(d.a), float64(d.b)
	switch d.kind {
	case kUniform:
		return (a + b) / 2
	case kNormal:
		alpha := -a / b
		return a + b*normPDF(alpha)/normSF(alpha)
	case kLognormal:
		return math.Exp(d.x + d.y*d.y/2)
	case kPareto:
		if d.x <= 1 {
			return math.Inf(1)
		}
		return d.x * a / (d.x - 1)
	case kWeibull:
		return a * math.Gamma(1+d.y)
	case kPercentiles:
		return d.pct.mean
	case kMix:
		return d.mix.mean
	case kEmpirical:
		return d.emp.mean
	case kMarkov:
		return d.mk.mix.mean
	}
	return a // constant and exponential
}

// Quantile returns the p-quantile in nanoseconds: the inverse CDF, with p
// clamped to [0, 1]. Quantile(1) is +Inf for unbounded distributions.
func (d Dist) Quantile(p float64) float64 {
	if math.IsNaN(p) {
		return p
	}
	p = min(max(p, 0), 1)
	a, b := float64(d.a), float64(d.b)
	switch d.kind {
	case kExp:
		return -a * math.Log1p(-p)
	case kUniform:
		return a + p*(b-a)
	case kNormal:
		lo := normCDF(-a / b)
		return max(a+b*normQuantile(lo+p*(1-lo)), 0)
	case kLognormal:
		if d.y == 0 {
			return a // p99 == median; avoid 0 * ±Inf at p = 0 or 1
		}
		return math.Exp(d.x + d.y*normQuantile(p))
	case kPareto:
		return a * math.Pow(1-p, d.y)
	case kWeibull:
		return a * math.Pow(-math.Log1p(-p), d.y)
	case kPercentiles:
		return d.pct.quantile(p)
	case kMix:
		return d.mix.quantile(p)
	case kEmpirical:
		return d.emp.quantile(p)
	case kMarkov:
		return d.mk.mix.quantile(p)
	}
	return a
}

// cdf is P(X <= x); the mixture quantile inverts it numerically.
func (d Dist) cdf(x float64) float64 {
	a, b := float64(d.a), float64(d.b)
	switch d.kind {
	case kExp:
		if x <= 0 {
			return 0
		}
		return -math.Expm1(-x / a)
	case kUniform:
		if x >= b {
			return 1
		}
		if x < a {
			return 0
		}
		return (x - a) / (b - a)
	case kNormal:
		if x < 0 {
			return 0
		}
		lo := normCDF(-a / b)
		return (normCDF((x-a)/b) - lo) / (1 - lo)
	case kLognormal:
		if d.y == 0 {
			return step(x, a)
		}
		if x <= 0 {
			return 0
		}
		return normCDF((math.Log(x) - d.x) / d.y)
	case kPareto:
		if x < a {
			return 0
		}
		return -math.Expm1(d.x * math.Log(a/x))
	case kWeibull:
		if x <= 0 {
			return 0
		}
		return -math.Expm1(-math.Pow(x/a, d.x))
	case kPercentiles:
		return d.pct.cdf(x)
	case kMix:
		f := 0.0
		for i, c := range d.mix.comps {
			f += d.mix.weights[i] * c.cdf(x)
		}
		return min(f, 1)
	case kEmpirical:
		return d.emp.cdf(x)
	case kMarkov:
		return Dist{kind: kMix, mix: &d.mk.mix}.cdf(x)
	}
	return step(x, a)
}

func step(x, at float64) float64 {
	if x >= at {
		return 1
	}
	return 0
}

func normPDF(z float64) float64 { return math.Exp(-z*z/2) / math.Sqrt(2*math.Pi) }

func normCDF(z float64) float64 { return math.Erfc(-z/math.Sqrt2) / 2 }

// normSF is 1-normCDF without the cancellation in the upper tail.
func normSF(z float64) float64 { return math.Erfc(z/math.Sqrt2) / 2 }

func normQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

func (t *pctTable) quantile(p float64) float64 {
	last := len(t.ps) - 1
	if p >= t.ps[last] {
		x := float64(t.xs[last])
		if t.tail == 0 {
			return x
		}
		return x + t.tail*math.Log((1-t.ps[last])/(1-p))
	}
	// Find the segment [ps[i], ps[i+1]) holding p; ps[0] == 0 <= p.
	i, j := 0, last
	for j-i > 1 {
		h := int(uint(i+j) >> 1)
		if t.ps[h] <= p {
			i = h
		} else {
			j = h
		}
	}
	x0, x1 := float64(t.xs[i]), float64(t.xs[j])
	return x0 + (x1-x0)*(p-t.ps[i])/(t.ps[j]-t.ps[i])
}

func (t *pctTable) cdf(x float64) float64 {
	if x < float64(t.xs[0]) {
		return 0
	}
	// Find the last point at or below x; flat runs are atoms whose whole
	// probability mass lies at or below x.
	i, j := 0, len(t.xs)
	for j-i > 1 {
		h := int(uint(i+j) >> 1)
		if float64(t.xs[h]) <= x {
			i = h
		} else {
			j = h
		}
	}
	if j == len(t.xs) {
		if t.tail == 0 {
			return 1
		}
		return 1 - (1-t.ps[i])*math.Exp(-(x-float64(t.xs[i]))/t.tail)
	}
	x0, x1 := float64(t.xs[i]), float64(t.xs[j])
	return t.ps[i] + (t.ps[j]-t.ps[i])*(x-x0)/(x1-x0)
}

// count is the count of bin i.
func (t *empTable) count(i int) float64 {
	if i == 0 {
		return t.cum[0]
	}
	return t.cum[i] - t.cum[i-1]
}

func (t *empTable) sample(r *rand.Rand) int64 {
	if !t.hist {
		// Every sample equally likely, exactly as written.
		return int64(min(t.lo[r.IntN(len(t.lo))], maxSample))
	}
	return nanos(t.at(r.Float64() * t.cum[len(t.cum)-1]))
}

// at is the value below which a share v of the total count lies: the first
// bin whose running count reaches v, entered in proportion.
func (t *empTable) at(v float64) float64 {
	i, j := 0, len(t.cum)-1
	for i < j {
		h := int(uint(i+j) >> 1)
		if t.cum[h] >= v {
			j = h
		} else {
			i = h + 1
		}
	}
	lo := float64(t.lo[i])
	if !t.hist {
		return lo
	}
	prev := t.cum[i] - t.count(i)
	frac := min(max((v-prev)/t.count(i), 0), 1)
	return lo + frac*(float64(t.hi[i])-lo)
}

func (t *empTable) quantile(p float64) float64 { return t.at(p * t.cum[len(t.cum)-1]) }

func (t *empTable) cdf(x float64) float64 {
	// The last bin starting at or below x: what lies below it counts whole,
	// and it counts in proportion (a sample, whole).
	i, j := 0, len(t.lo)
	for i < j {
		h := int(uint(i+j) >> 1)
		if float64(t.lo[h]) <= x {
			i = h + 1
		} else {
			j = h
		}
	}
	if i == 0 {
		return 0
	}
	i--
	f := t.cum[i]
	if t.hist {
		if lo, hi := float64(t.lo[i]), float64(t.hi[i]); x < hi {
			f -= t.count(i) * (hi - x) / (hi - lo)
		}
	}
	return min(f/t.cum[len(t.cum)-1], 1)
}

func (m *mixTable) pick(u float64) *Dist { return &m.comps[m.index(u)] }

// index is the component a uniform u in [0, 1) picks.
func (m *mixTable) index(u float64) int {
	// The last component takes whatever rounding leaves above cum[last].
	i, j := 0, len(m.cum)-1
	for i < j {
		h := int(uint(i+j) >> 1)
		if m.cum[h] > u {
			j = h
		} else {
			i = h + 1
		}
	}
	return i
}

// quantile bisects the mixture CDF between the smallest and largest component
// quantiles, which bracket it. Bisecting the bit patterns of non-negative
// floats, which sort like the floats, ends on adjacent floats within 64 steps
// whatever the scale.
func (m *mixTable) quantile(p float64) float64 {
	lo, hi := math.Inf(1), 0.0
	for _, c := range m.comps {
		q := c.Quantile(p)
		lo, hi = min(lo, q), max(hi, q)
	}
	lo = max(lo, 0)
	switch {
	case p == 0 || lo == hi:
		return lo
	case p == 1:
		return hi
	}
	d := Dist{kind: kMix, mix: m}
	if d.cdf(lo) >= p {
		return lo
	}
	l, h := math.Float64bits(lo), math.Float64bits(hi)
	for h-l > 1 {
		mid := l + (h-l)/2
		if d.cdf(math.Float64frombits(mid)) >= p {
			h = mid
		} else {
			l = mid
		}
	}
	return math.Float64frombits(h)
}
