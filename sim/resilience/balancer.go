package resilience

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Policy is an Envoy load-balancing policy, Envoy's lb_policy (Envoy docs,
// "Supported load balancers": intro/arch_overview/upstream/load_balancing/load_balancers).
type Policy uint8

const (
	// RoundRobin is the zero Policy because ROUND_ROBIN is Envoy's default.
	RoundRobin Policy = iota
	Random
	LeastRequest
	RingHash
)

const (
	// DefaultChoiceCount is Envoy's least_request choice_count.
	DefaultChoiceCount = 2
	// DefaultRingSize gives a ten-host ring about Envoy's ring_hash
	// minimum_ring_size of 1024 entries.
	DefaultRingSize = 100
)

var policyNames = [...]string{"round_robin", "random", "least_request", "ring_hash"}

func (p Policy) String() string {
	if int(p) < len(policyNames) {
		return policyNames[p]
	}
	return fmt.Sprintf("Policy(%d)", p)
}

// ParsePolicy reads a policy name. Case is ignored so that Envoy's enum
// spelling (ROUND_ROBIN), copied from an Envoy config, is accepted too.
func ParsePolicy(s string) (Policy, bool) {
	for i, name := range policyNames {
		if strings.EqualFold(s, name) {
			return Policy(i), true
		}
	}
	return 0, false
}

// Hosts is the engine's view of the callee's instances, read by the balancer
// without copying.
type Hosts interface {
	Len() int
	Active(i int) int     // requests in flight at instance i (for least_request)
	Available(i int) bool // up and not ejected
	// Listed counts the hosts in the endpoints, an upper bound of the
	// available ones, kept by the engine as they change: with none, Pick
	// answers at once instead of asking Available of every host, which
	// made each request to a crashed service cost O(hosts).
	Listed() int
	// Version changes whenever a host's availability may have changed
	// (a listing, a health-check verdict, an ejection or a return): Pick
	// keeps its last "none available" until it does, so that refusing
	// while every listed host is ejected or unhealthy costs one scan per
	// change, not one per request.
	Version() uint64
}

// Balancer picks the callee instance for each request, following Envoy's
// load balancers with equal host weights. Envoy's panic mode
// (healthy_panic_threshold), which spreads load over every host when too few
// are healthy, is not modelled: Pick only ever returns an available host.
//
//   - round_robin walks the hosts in order, skipping unavailable ones without
//     moving its cursor back. Envoy starts its index at a random seed so that
//     clients do not move in lockstep; the first Pick draws the start from r.
//     Envoy indexes the list of healthy hosts, so a host leaving shifts the
//     order; skipping over the full list keeps it stable and is as fair.
//   - random picks uniformly among the available hosts.
//   - least_request draws choiceCount hosts uniformly among the available
//     ones, with replacement as Envoy does (a host may be drawn twice), and
//     takes the one with fewest active requests; a tie keeps the first drawn
//     (Envoy's unweightedHostPick compares with a strict <).
//   - ring_hash is a Ketama-style consistent hash ring with ringSize points
//     per host. A key goes to the first point at or after its hash, walking
//     clockwise past unavailable hosts. That sends an unavailable host's keys
//     where Envoy's ring, rebuilt without the host, would, and moves no other
//     key. Envoy sizes its ring in total (minimum_ring_size) rather than per
//     host, so its rebuild also shifts a few other keys.
type Balancer struct {
	policy   Policy
	choices  int
	ringSize int

	cursor int  // round_robin: the next host to try
	seeded bool // round_robin: cursor holds its random start

	ring      []ringPoint // ring_hash, sorted by hash
	ringHosts int         // the host count ring was built for

	// none says the last Pick found no host available, at Hosts version
	// noneVer over noneLen hosts: until either changes, none is.
	none    bool
	noneVer uint64
	noneLen int
}

type ringPoint struct {
	hash uint64
	host int
}

// NewBalancer returns a balancer for policy p over hosts instances.
// choiceCount (least_request) and ringSize (ring_hash, points per host) take
// DefaultChoiceCount and DefaultRingSize when not positive. Envoy rejects a
// choice_count below 2; 1 is accepted here and makes least_request random.
// It panics on an unknown policy, which ParsePolicy never returns.
func NewBalancer(p Policy, choiceCount, ringSize, hosts int) *Balancer {
	if p > RingHash {
		panic(fmt.Sprintf("resilience: unknown load-balancing policy %v", p))
	}
	if choiceCount <= 0 {
		choiceCount = DefaultChoiceCount
	}
	if ringSize <= 0 {
		ringSize = DefaultRingSize
	}
	b := &Balancer{policy: p, choices: choiceCount, ringSize: ringSize}
	if p == RingHash {
		hosts = max(hosts, 0)
		b.ring = make([]ringPoint, 0, hosts*ringSize)
		b.buildRing(hosts)
	}
	return b
}

// Pick returns an available instance, or -1 when none is. key is the request
// key for ring_hash (ignored otherwise). The ring follows h.Len(): when the
// callee is scaled, Pick rebuilds it, as Envoy does on a host-set change,
// allocating only when it grows past its largest size so far.
func (b *Balancer) Pick(h Hosts, key uint64, r *rand.Rand) int {
	n := h.Len()
	if n == 0 || h.Listed() == 0 {
		return -1 // Envoy's "no healthy upstream"
	}
	// Listed hosts all ejected or unhealthy: Envoy's "no healthy upstream"
	// too (UH), known without a scan since the last one, which only a
	// change of some host's availability makes stale.
	v := h.Version()
	if b.none && b.noneVer == v && b.noneLen == n {
		return -1
	}
	i := b.pick(h, n, key, r)
	b.none, b.noneVer, b.noneLen = i < 0, v, n
	return i
}

func (b *Balancer) pick(h Hosts, n int, key uint64, r *rand.Rand) int {
	switch b.policy {
	case RoundRobin:
		return b.roundRobin(h, n, r)
	case Random:
		return sampleAvailable(h, n, r)
	case LeastRequest:
		return b.leastRequest(h, n, r)
	default:
		return b.ringHash(h, n, key)
	}
}

func (b *Balancer) roundRobin(h Hosts, n int, r *rand.Rand) int {
	if !b.seeded {
		b.cursor, b.seeded = r.IntN(n), true
	}
	for k := range n {
		if i := (b.cursor + k) % n; h.Available(i) {
			b.cursor = (i + 1) % n
			return i
		}
	}
	return -1
}

func (b *Balancer) leastRequest(h Hosts, n int, r *rand.Rand) int {
	best, bestActive := -1, 0
	for range b.choices {
		i := sampleAvailable(h, n, r)
		if i < 0 {
			return -1
		}
		if a := h.Active(i); best < 0 || a < bestActive {
			best, bestActive = i, a
		}
	}
	return best
}

// sampleTries bounds the rejection sampling in sampleAvailable: with at least
// half the hosts available, the fallback scan runs in at most 1 pick in 256.
const sampleTries = 8

// sampleAvailable draws a host uniformly among the available ones without
// allocating. A rejection-sampling hit is uniform over the available hosts,
// and so is the scan that follows a run of misses, so the mix is uniform too.
func sampleAvailable(h Hosts, n int, r *rand.Rand) int {
	for range sampleTries {
		if i := r.IntN(n); h.Available(i) {
			return i
		}
	}
	up := 0
	for i := range n {
		if h.Available(i) {
			up++
		}
	}
	if up == 0 {
		return -1
	}
	k := r.IntN(up)
	for i := range n {
		if !h.Available(i) {
			continue
		}
		if k == 0 {
			return i
		}
		k--
	}
	return -1 // Available changed during the scan
}

func (b *Balancer) ringHash(h Hosts, n int, key uint64) int {
	if n != b.ringHosts {
		b.buildRing(n)
	}
	x := ringMix(key)
	i, _ := slices.BinarySearchFunc(b.ring, x, func(p ringPoint, x uint64) int {
		return cmp.Compare(p.hash, x)
	})
	for range len(b.ring) {
		if i == len(b.ring) {
			i = 0
		}
		if host := b.ring[i].host; h.Available(host) {
			return host
		}
		i++
	}
	return -1
}

// buildRing places ringSize points per host. A point depends only on its
// host and replica number, so growing or shrinking the ring keeps every
// other host's points where they were: only ~1/n of the keys move.
func (b *Balancer) buildRing(hosts int) {
	b.ring = b.ring[:0]
	for host := range hosts {
		for v := range b.ringSize {
			b.ring = append(b.ring, ringPoint{ringMix(uint64(host)<<32 | uint64(v)), host})
		}
	}
	// ringMix is a bijection, so distinct points never tie and the order is
	// fully determined.
	slices.SortFunc(b.ring, func(p, q ringPoint) int { return cmp.Compare(p.hash, q.hash) })
	b.ringHosts = hosts
}

// ringMix is SplitMix64's output function, a bijection that spreads
// sequential keys and point numbers evenly over the ring. Envoy hashes
// strings with xxHash64; here keys are already integers.
func ringMix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
