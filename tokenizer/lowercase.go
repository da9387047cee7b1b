package tokenizer

// Lowercases reports whether the tokenizer's normaliser lower-cases text (a
// Lowercase normaliser, or a BertNormalizer with lowercase on, alone or in a
// Sequence), so that words read from the original text can be normalised the
// same way before they are compared.
func (t *Tokenizer) Lowercases() bool { return lowercases(t.normalizer) }

func lowercases(n normalizer) bool {
	switch x := n.(type) {
	case lowercaseNormalizer:
		return true
	case bertNormalizer:
		return x.lowercase
	case seqNormalizer:
		for _, m := range x {
			if lowercases(m) {
				return true
			}
		}
	}
	return false
}
