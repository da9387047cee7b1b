package explanation

// WordSums sums token attributions into words by word id; tokens with a
// negative word id (special tokens, padding) contribute nothing. The result
// has max(wordIDs)+1 entries.
func WordSums(tokens []float64, wordIDs []int) []float64 {
	n := 0
	for _, w := range wordIDs {
		if w+1 > n {
			n = w + 1
		}
	}
	out := make([]float64, n)
	for i, w := range wordIDs {
		if w >= 0 && i < len(tokens) {
			out[w] += tokens[i]
		}
	}
	return out
}
