// Package suggest finds the word a user most likely meant: the one
// edit-distance helper of faultline, shared by the scenario loader, the
// distribution parser and the command line (STYLE.md: one place).
package suggest

import "strings"

// Closest returns the candidate a user most likely meant by word, or "" when
// none is close enough to be a plausible typo: within two edits (but not a
// complete rewrite of a short word), or one of the two a prefix of the
// other. Ties go to the earlier candidate, so callers list the common keys
// first.
func Closest(word string, candidates []string) string {
	w := strings.ToLower(word)
	if len(w) > 64 {
		return "" // no key is that long; skip the quadratic work
	}
	best, bestDist := "", -1
	for _, c := range candidates {
		d := Distance(w, c)
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	if bestDist <= 2 && bestDist < len(w) {
		return best
	}
	for _, c := range candidates {
		if min(len(c), len(w)) >= 3 && (strings.HasPrefix(c, w) || strings.HasPrefix(w, c)) {
			return c
		}
	}
	return ""
}

// Distance is the Levenshtein distance between a and b, in bytes: keys
// and names are ASCII, and anything else is far from every candidate anyway.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
