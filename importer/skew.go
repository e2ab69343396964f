package importer

import (
	"fmt"
	"slices"
	"time"
)

// Clock skew between hosts. A span's times are read on the clock of the
// host that recorded it, so a callee on a host whose clock is ahead seems
// to start late and to end after its caller: the caller's own time (its
// span less its calls, clipped to it) grows by the overrun, and sibling
// calls seem to overlap.
//
// Zipkin and Jaeger correct it per trace, from the caller's side of the
// call: Zipkin (openzipkin/zipkin, zipkin/src/main/java/zipkin/internal/
// CorrectForClockSkew.java, getClockSkew) takes a client span and its
// server span on another host, assumes the network latency is split
// evenly ("latency is half the difference between the client and server
// duration"), and shifts the server's spans by serverRecv - latency -
// clientSend; it gives up when the server span is longer than the client
// span ("async return") and, without the client side, sees no skew.
// Jaeger (jaegertracing/jaeger, model/adjuster/clockskew.go,
// calculateSkew) shifts a child from another host that does not fit in its
// parent so that it sits in the parent's middle (parent start +
// (parent - child duration)/2), only makes a child longer than its parent
// start no earlier than it, and carries the shift to the child's subtree
// on the same host.
//
// The importer folds server spans of one host's calls to another on their
// own when there is no client span (the CSV recordings, many OTLP
// exports); there a call's interval is the callee's span, on the callee's
// clock, which is what skews the caller's own time (with a client span
// the interval is on the caller's clock and the skew changes nothing the
// import derives). So the importer applies the even split per host pair
// rather than per span: over all traces (the survey fold), each call of
// a caller host to a callee host seen by its server span alone bounds the
// shift d that puts the callee within its caller's span, parent.Start -
// child.Start <= d <= parent.End - child.End. A constant clock offset
// between two hosts satisfies every pair's bounds, so the intersection
// [lo, hi] of the bounds of all the host pair's calls is not empty; when
// it holds 0 nothing overruns and nothing moves; when it is empty the
// overruns are no constant offset (a caller that timed out, work left
// behind) and nothing moves either. Otherwise every callee of that host
// pair, with its subtree, is shifted by the middle of [lo, hi] (Zipkin's
// and Jaeger's even split). Work not waited for (CONSUMER, FOLLOWS_FROM,
// edges that outlive their caller, derive.go) neither counts nor moves:
// it may end after its caller without any skew.

// hostPair names a caller's host and a callee's: a span's instance, or
// its service when the format records no instance.
type hostPair struct {
	caller, callee string
}

func host(s *Span) string {
	if s.Instance != "" {
		return s.Service + "/" + s.Instance
	}
	return s.Service
}

func pairOf(parent, child *Span) hostPair {
	return hostPair{host(parent), host(child)}
}

// skewEdge is one call edge between two hosts: the bounds are kept per
// edge so that edges found detached can be left out once the survey ends.
type skewEdge struct {
	edge [2]opKey
	pair hostPair
}

// fit is the intersection of the shifts that put a callee within its
// caller, over the calls seen.
type fit struct {
	lo, hi int64
}

// fitIn narrows the shifts that put the call edge e's callee within the
// span parent that made it.
func (a *aggregator) fitIn(e [2]opKey, parent, callee *Span) {
	k := skewEdge{e, pairOf(parent, callee)}
	lo, hi := parent.Start-callee.Start, parent.End-callee.End
	if f, ok := a.fits[k]; ok {
		lo, hi = max(lo, f.lo), min(hi, f.hi)
	}
	a.fits[k] = fit{lo, hi}
}

// clockOffsets is the shift for each host pair whose callees overrun their
// callers by one constant offset, from the survey's bounds, leaving out
// the detached edges.
func clockOffsets(fits map[skewEdge]fit, detached map[[2]opKey]bool) map[hostPair]int64 {
	pairs := map[hostPair]fit{}
	for k, f := range fits {
		if detached[k.edge] {
			continue
		}
		if g, ok := pairs[k.pair]; ok {
			f = fit{max(f.lo, g.lo), min(f.hi, g.hi)}
		}
		pairs[k.pair] = f
	}
	skew := map[hostPair]int64{}
	for p, f := range pairs {
		if f.lo <= f.hi && (f.lo > 0 || f.hi < 0) {
			skew[p] = f.lo + (f.hi-f.lo)/2
		}
	}
	return skew
}

// shift moves span c and its subtree by d: the spans below it are read on
// its clock, or on another host's whose offset to c's host the fold
// corrects when it reaches them.
func (a *aggregator) shift(sp []Span, c int32, d int64) {
	a.shiftStack = append(a.shiftStack[:0], c)
	for len(a.shiftStack) > 0 {
		s := a.shiftStack[len(a.shiftStack)-1]
		a.shiftStack = a.shiftStack[:len(a.shiftStack)-1]
		sp[s].Start += d
		sp[s].End += d
		for k := a.first[s]; k >= 0; k = a.next[k] {
			a.shiftStack = append(a.shiftStack, k)
		}
	}
}

// skewNotes say which host pairs' callees were moved, and by how much, in
// the order of the pairs' names.
func (a *aggregator) skewNotes() []string {
	var notes []string
	for p, d := range a.skew {
		way := "ahead of"
		if d > 0 {
			way = "behind"
		}
		notes = append(notes, fmt.Sprintf("Clock skew: %s's clock reads %s %s %s's (its spans, called with no client span, overran their callers by one constant offset); they are moved by %s with their subtrees.", p.callee, time.Duration(d).Abs(), way, p.caller, time.Duration(d)))
	}
	slices.Sort(notes)
	return notes
}
