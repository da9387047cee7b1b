package inference

import "sort"

// Grouping says how GroupByLength may mix lengths in one batch.
type Grouping int

const (
	// SimilarLength packs rows of neighbouring lengths, padding the shorter ones.
	SimilarLength Grouping = iota
	// EqualLength puts only rows of one length in a batch: nothing is padded, so no
	// row's numbers depend on which rows share its batch (what predictions need for
	// byte-identical reruns).
	EqualLength
)

// GroupByLength splits row indices into batches of at most batchSize rows, of
// similar or equal length as g says, so padding wastes little or nothing.
// The grouping is deterministic: rows are ordered by length, then index.
func GroupByLength(lengths []int, batchSize int, g Grouping) [][]int {
	if batchSize <= 0 {
		batchSize = 1
	}
	idx := make([]int, len(lengths))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return lengths[idx[a]] < lengths[idx[b]] })
	var out [][]int
	for start := 0; start < len(idx); {
		end := min(start+batchSize, len(idx))
		if g == EqualLength {
			for k := start + 1; k < end; k++ {
				if lengths[idx[k]] != lengths[idx[start]] {
					end = k
					break
				}
			}
		}
		out = append(out, idx[start:end:end])
		start = end
	}
	return out
}

// PaddingWaste returns the share of padded positions among all positions when
// the given batches are each padded to their longest row.
func PaddingWaste(lengths []int, batches [][]int) float64 {
	total, real := 0, 0
	for _, b := range batches {
		longest := 0
		for _, i := range b {
			longest = max(longest, lengths[i])
			real += lengths[i]
		}
		total += longest * len(b)
	}
	if total == 0 {
		return 0
	}
	return float64(total-real) / float64(total)
}
