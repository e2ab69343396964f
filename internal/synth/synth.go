package synth

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"time"
)

// Config sizes a synthetic topology.
type Config struct {
	Services int           // services behind the gateway, entries included
	Rate     float64       // requests per second of the one client
	Duration time.Duration // virtual time of the scenario
	Seed     uint64        // of the topology, and the scenario's seed
}

// Default is the topology issue 15 benchmarks: 1,000 services at 10,000
// requests/s for 10 minutes of virtual time.
func Default() Config {
	return Config{Services: 1000, Rate: 10000, Duration: 10 * time.Minute, Seed: 1}
}

// The shape of the call graph. Sources:
//   - Luo et al., "Characterizing Microservice Dependency and Performance:
//     Alibaba Trace Analysis", SoCC 2021: call graphs are heavy-tailed in
//     size and grow like trees (shallow, widening downwards), and many
//     microservices are hot spots that many others call.
//   - Winchester et al., "Complexity at Scale: A Quantitative Analysis of an
//     Alibaba Microservice Deployment" (arXiv 2504.13141), Table 1: of
//     67,760 microservices 13% are entries, 48% middle, 39% leaves (call
//     nothing); workload share and dependencies are long-tailed.
//   - Huye, Shkuro, Sambasivan, "Lifting the veil on Meta's microservice
//     architecture", USENIX ATC 2023: a power law (alpha 2.23) in how
//     much a service exposes; a few services are very wide.
const (
	entryShare = 0.13
	leafShare  = 0.39
	// midLevels is how many levels of middle services lie between the
	// entries and the leaves: with the gateway, a request is at most
	// midLevels+3 services deep, a shallow tree as Luo et al. observe.
	midLevels = 4
	// degreeAlpha is the exponent of the out-degree of a calling service,
	// P(k) ~ k^-alpha for k >= 1 (Meta's 2.23, rounded down a little to
	// widen the tail): most call one or two services, a few call dozens.
	degreeAlpha = 2.0
	maxDegree   = 40
	// popularity is the exponent of a callee's rank in how often it is
	// picked (weight 1/rank^popularity): a few hot spots called by many,
	// as the in-degree Luo et al. report.
	popularity = 0.9
	// maxVisits bounds the expected number of services one request visits
	// below any service, itself included: a call's probability is scaled
	// down where its subtree would exceed it. Call graph sizes stay
	// heavy-tailed (1 to maxVisits) and the load stays finite.
	maxVisits = 40.0
	// utilisation is the share of busy workers each service is sized for:
	// moderate, so that the run measures the engine at a sustainable load,
	// not a collapse.
	utilisation = 0.5
	workers     = 16
	gwWorkers   = 1000 // the loader's default for a gateway
	hop         = 100 * time.Microsecond
	// p99OverMedian shapes every service time as lognormal(median, 5 x
	// median).
	p99OverMedian = 5.0
	// gwServiceTime is the gateway's own work, exponential with this mean.
	gwServiceTime = 200 * time.Microsecond
)

type node struct {
	name   string
	level  int // 0 entry, 1..midLevels middle, midLevels+1 leaf
	calls  []edge
	median time.Duration // of the service time
	visits float64       // expected services a request here visits, itself included
	hold   float64       // expected seconds a request holds a worker here
	rate   float64       // requests per second arriving
	weight int           // route weight, entries only
}

type edge struct {
	to int
	p  float64 // probability, rounded to 3 decimals as written
}

// Stats describes a generated topology.
type Stats struct {
	Entries, Middle, Leaves int
	Edges                   int
	MaxOutDegree            int
	MedianOutDegree         int     // of services that call any
	MeanVisits              float64 // services a request visits, gateway excluded
	Depth                   int     // longest call chain, gateway included
	Instances               int     // gateway included
}

// generate builds the topology of c; the same c gives the same graph.
func generate(c Config) (nodes []node, gwInstances int) {
	n := c.Services
	rng := rand.New(rand.NewPCG(c.Seed, 0x9e3779b97f4a7c15))
	nEntry := max(1, int(math.Round(float64(n)*entryShare)))
	nLeaf := max(1, int(math.Round(float64(n)*leafShare)))
	nMid := max(0, n-nEntry-nLeaf)
	nLeaf = n - nEntry - nMid
	digits := len(strconv.Itoa(n))
	nodes = make([]node, n)
	// Nodes are ordered by level, so that a service calls only services
	// after it: the graph is a DAG by construction.
	for i := range nodes {
		nd := &nodes[i]
		switch {
		case i < nEntry:
			nd.level, nd.name = 0, fmt.Sprintf("entry-%0*d", digits, i+1)
		case i < nEntry+nMid:
			k := i - nEntry
			nd.level = 1 + k*midLevels/nMid
			nd.name = fmt.Sprintf("mid%d-%0*d", nd.level, digits, k+1)
		default:
			nd.level, nd.name = midLevels+1, fmt.Sprintf("leaf-%0*d", digits, i-nEntry-nMid+1)
		}
	}
	// firstAt[l] is the first node of level l or deeper.
	firstAt := make([]int, midLevels+3)
	for l := range firstAt {
		firstAt[l] = sort.Search(n, func(i int) bool { return nodes[i].level >= l })
	}
	// Popularity by a random rank among the callable nodes; cum holds
	// the prefix sums of the weights for sampling.
	cum := make([]float64, n+1)
	rank := rng.Perm(n - nEntry)
	for i := range n {
		w := 0.0
		if i >= nEntry {
			w = 1 / math.Pow(float64(rank[i-nEntry]+1), popularity)
		}
		cum[i+1] = cum[i] + w
	}
	for i := range nodes {
		nd := &nodes[i]
		if nd.level > midLevels {
			nd.median = time.Duration(100+rng.IntN(900)) * time.Microsecond
			continue
		}
		nd.median = time.Duration(500+rng.IntN(2500)) * time.Microsecond
		lo := firstAt[nd.level+1]
		k := min(outDegree(rng), n-lo)
		var picked []int
		for len(picked) < k {
			u := cum[lo] + rng.Float64()*(cum[n]-cum[lo])
			j := min(max(sort.SearchFloat64s(cum, u)-1, lo), n-1)
			for slices.Contains(picked, j) {
				j = lo + (j+1-lo)%(n-lo) // the next free one: no endless retries on a hot spot
			}
			picked = append(picked, j)
		}
		slices.Sort(picked)
		for _, j := range picked {
			nd.calls = append(nd.calls, edge{to: j, p: 0.1 + 0.9*rng.Float64()})
		}
	}
	// Bottom up: bound each subtree's expected size, then the time a
	// worker is held (own work, then every call there and back).
	stMean := math.Exp(sigma() * sigma() / 2)
	for i := n - 1; i >= 0; i-- {
		nd := &nodes[i]
		below := 0.0
		for _, e := range nd.calls {
			below += e.p * nodes[e.to].visits
		}
		scale := 1.0
		if 1+below > maxVisits {
			scale = (maxVisits - 1) / below
		}
		nd.visits, nd.hold = 1, nd.median.Seconds()*stMean
		for k := range nd.calls {
			e := &nd.calls[k]
			e.p = max(math.Floor(e.p*scale*1000)/1000, 0.001)
			nd.visits += e.p * nodes[e.to].visits
			nd.hold += e.p * (2*hop.Seconds() + nodes[e.to].hold)
		}
	}
	// Workload share per entry is long-tailed too: Zipf weights over a
	// random order of the entries.
	total := 0
	for r, i := range rng.Perm(nEntry) {
		nodes[i].weight = int(math.Round(10000 / float64(r+1)))
		total += nodes[i].weight
	}
	gwHold := 0.0
	for i := range nEntry {
		nodes[i].rate = c.Rate * float64(nodes[i].weight) / float64(total)
		gwHold += float64(nodes[i].weight) / float64(total) * (2*hop.Seconds() + nodes[i].hold)
	}
	for i := range nodes {
		for _, e := range nodes[i].calls {
			nodes[e.to].rate += nodes[i].rate * e.p
		}
	}
	gwHold += gwServiceTime.Seconds()
	return nodes, max(2, instancesFor(c.Rate*gwHold, gwWorkers))
}

// sigma is the lognormal's shape for a p99 of p99OverMedian x the median.
func sigma() float64 { return math.Log(p99OverMedian) / 2.3263478740408408 }

// outDegree draws k >= 1 with P(k) ~ k^-degreeAlpha, k <= maxDegree.
func outDegree(rng *rand.Rand) int {
	// Inverse transform of the continuous Pareto, floored.
	u := 1 - rng.Float64()
	return min(maxDegree, int(math.Pow(u, -1/(degreeAlpha-1))))
}

// instancesFor sizes a service for utilisation: enough instances of w
// workers that the busy ones are about that share.
func instancesFor(busy float64, w int) int {
	return max(1, int(math.Ceil(busy/(utilisation*float64(w)))))
}

// Describe reports the shape of c's topology.
func Describe(c Config) Stats {
	nodes, gw := generate(c)
	var st Stats
	st.Instances = gw
	var degrees []int
	depth := make([]int, len(nodes))
	visits, total := 0.0, 0.0
	for i := len(nodes) - 1; i >= 0; i-- {
		nd := nodes[i]
		switch {
		case nd.level == 0:
			st.Entries++
			visits += float64(nd.weight) * nd.visits
			total += float64(nd.weight)
		case nd.level > midLevels:
			st.Leaves++
		default:
			st.Middle++
		}
		if len(nd.calls) > 0 {
			degrees = append(degrees, len(nd.calls))
		}
		st.Edges += len(nd.calls)
		st.MaxOutDegree = max(st.MaxOutDegree, len(nd.calls))
		depth[i] = 1
		for _, e := range nd.calls {
			depth[i] = max(depth[i], 1+depth[e.to])
		}
		st.Depth = max(st.Depth, depth[i]+1)
		st.Instances += instancesFor(nd.rate*nd.hold, workers)
	}
	slices.Sort(degrees)
	if len(degrees) > 0 {
		st.MedianOutDegree = degrees[len(degrees)/2]
	}
	st.MeanVisits = visits / total
	return st
}

// TOML writes c's topology as a scenario.
func TOML(c Config) []byte {
	nodes, gw := generate(c)
	st := Describe(c)
	name := fmt.Sprintf("synthetic-%d", c.Services)
	var b bytes.Buffer
	fmt.Fprintf(&b, `# %s: a synthetic topology shaped like published production call graphs,
# generated by internal/synth (go test ./internal/synth -update rewrites it).
#
# %d services behind one gateway: %d entries, %d middle services on %d
# levels, %d leaves. Each service calls only services deeper than itself (a
# DAG). Out-degree is a power law: median %d among callers, at most %d; a
# few hot spots are called by many. A request visits %.1f services on
# average, the longest chain is %d deep (gateway included). Every service
# is sized for a worker utilisation of about %.0f%% (%d instances in all).
# Sources: see internal/synth/synth.go.

[scenario]
name = %q
description = "%d services, heavy-tailed call graph, %g requests/s"
duration = "%s"
warmup = "10s"
seed = %d

[network]
latency = "%s"

[[client]]
name = "users"
target = "gateway"
rate = %g
timeout = "2s"

[[gateway]]
name = "gateway"
instances = %d
service_time = "exp(%s)"
`, name, c.Services, st.Entries, st.Middle, midLevels, st.Leaves, st.MedianOutDegree, st.MaxOutDegree,
		st.MeanVisits, st.Depth, utilisation*100, st.Instances,
		name, c.Services, c.Rate, seconds(c.Duration), c.Seed, us(hop), c.Rate, gw, us(gwServiceTime))
	for _, nd := range nodes {
		if nd.level == 0 {
			fmt.Fprintf(&b, "\n  [[gateway.route]]\n  path = \"/%s\"\n  to = %q\n  weight = %d\n", nd.name, nd.name, nd.weight)
		}
	}
	for _, nd := range nodes {
		fmt.Fprintf(&b, "\n[[service]]\nname = %q\ninstances = %d\nworkers = %d\nservice_time = \"lognormal(%s, %s)\"\n",
			nd.name, instancesFor(nd.rate*nd.hold, workers), workers, us(nd.median), us(time.Duration(float64(nd.median)*p99OverMedian)))
		for _, e := range nd.calls {
			fmt.Fprintf(&b, "\n  [[service.call]]\n  to = %q\n  probability = %s\n", nodes[e.to].name, strconv.FormatFloat(e.p, 'f', -1, 64))
		}
	}
	return b.Bytes()
}

func us(d time.Duration) string { return strconv.FormatInt(d.Microseconds(), 10) + "us" }

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s" }
