package audit

import (
	"cmp"
	"math"
	"slices"
)

// Ranks returns the 1-based ranks of v in ascending order, ties given the
// mean of the ranks they span (scipy.stats.rankdata's "average").
func Ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(v[a], v[b]) })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && v[idx[j]] == v[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // mean of ranks i+1 … j
		for k := i; k < j; k++ {
			r[idx[k]] = avg
		}
		i = j
	}
	return r
}

// Spearman returns Spearman's rank correlation of a and b: Pearson's
// correlation of their average ranks (scipy.stats.spearmanr). ok is false
// when it is undefined: lengths differ, fewer than two values, a value is not
// finite, or either vector is constant.
func Spearman(a, b []float64) (rho float64, ok bool) {
	if len(a) != len(b) || len(a) < 2 || !finite(a) || !finite(b) {
		return 0, false
	}
	return pearson(Ranks(a), Ranks(b))
}

func pearson(x, y []float64) (float64, bool) {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= n
	my /= n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return 0, false
	}
	r := sxy / math.Sqrt(sxx*syy)
	return max(-1, min(1, r)), true
}

// KendallTauB returns Kendall's τ-b of a and b (scipy.stats.kendalltau's
// default): (C − D) / sqrt((P − Ta)(P − Tb)) over the P = n(n−1)/2 pairs, C
// concordant, D discordant, Ta and Tb the pairs tied in a and in b. It counts
// the pairs directly (O(n²); n is a sequence length, at most a few hundred
// tokens). ok is false when it is undefined, as for Spearman.
func KendallTauB(a, b []float64) (tau float64, ok bool) {
	n := len(a)
	if n != len(b) || n < 2 || !finite(a) || !finite(b) {
		return 0, false
	}
	var c, d, ta, tb int64
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			sa, sb := cmp.Compare(a[i], a[j]), cmp.Compare(b[i], b[j])
			switch {
			case sa == 0 && sb == 0:
				ta++
				tb++
			case sa == 0:
				ta++
			case sb == 0:
				tb++
			case sa == sb:
				c++
			default:
				d++
			}
		}
	}
	p := int64(n) * int64(n-1) / 2
	if p == ta || p == tb {
		return 0, false
	}
	t := float64(c-d) / math.Sqrt(float64(p-ta)*float64(p-tb))
	return max(-1, min(1, t)), true
}

// TopK returns the indices of the k largest values of v, largest first, ties
// broken by position (the lower index first), as conventions.md's
// faithfulness ranks tokens.
func TopK(v []float64, k int) []int {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int { return cmp.Compare(v[y], v[x]) })
	return idx[:min(k, len(idx))]
}

// DefaultTopK is the k of top-k overlap: the 5 highest-attributed tokens, or all when fewer.
const DefaultTopK = 5

// TopKOverlap returns |top-k(a) ∩ top-k(b)| / k with k = min(DefaultTopK, n),
// the top k by signed attribution with ties broken by position, and that k.
// ok is false when the lengths differ or a is empty.
func TopKOverlap(a, b []float64) (overlap float64, k int, ok bool) {
	if len(a) != len(b) || len(a) == 0 {
		return 0, 0, false
	}
	k = min(DefaultTopK, len(a))
	in := map[int]bool{}
	for _, i := range TopK(a, k) {
		in[i] = true
	}
	common := 0
	for _, i := range TopK(b, k) {
		if in[i] {
			common++
		}
	}
	return float64(common) / float64(k), k, true
}

// Abs returns |v| element-wise (Adebayo et al. compare absolute attributions too).
func Abs(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Abs(x)
	}
	return out
}

func finite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
