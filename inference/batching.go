package inference

import "sort"

// GroupByLength splits row indices into batches of at most batchSize rows of
// similar length, so padding to the longest row of a batch wastes little.
// The grouping is deterministic: rows are ordered by length, then index.
func GroupByLength(lengths []int, batchSize int) [][]int {
	if batchSize <= 0 {
		batchSize = 1
	}
	idx := make([]int, len(lengths))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return lengths[idx[a]] < lengths[idx[b]] })
	var out [][]int
	for start := 0; start < len(idx); start += batchSize {
		end := min(start+batchSize, len(idx))
		out = append(out, idx[start:end:end])
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
