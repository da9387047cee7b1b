package tokenizer

// Encoding is the result of tokenizing one text, aligned token by token.
//
// Every slice has one entry per token. Offsets are half-open spans into the
// original (un-normalised) input text.
type Encoding struct {
	// IDs are the vocabulary ids.
	IDs []int
	// Tokens are the token strings as they appear in the vocabulary.
	Tokens []string
	// TypeIDs are the segment (token type) ids.
	TypeIDs []int
	// Offsets are character spans counted in Unicode code points, exactly as
	// Hugging Face's offset_mapping reports them; special tokens get [0, 0].
	Offsets [][2]int
	// ByteOffsets are the same spans in UTF-8 bytes; they always fall on rune boundaries.
	ByteOffsets [][2]int
	// WordIDs give the index of the word each token belongs to, or -1 for special tokens and padding.
	WordIDs []int
	// SpecialTokensMask is 1 for special tokens added by the post-processor or matched as special added tokens, and for padding.
	SpecialTokensMask []int
	// AttentionMask is 1 for real tokens and 0 for padding.
	AttentionMask []int
	// Truncated reports whether truncation removed tokens from this encoding.
	Truncated bool
	// SequenceIDs give the input sequence (0 for the first text, 1 for the pair's
	// second) each token comes from, or -1 for special tokens and padding.
	SequenceIDs []int
	// Overflowing holds the extra windows produced by truncation with overflow (stride).
	Overflowing []*Encoding
}

// Len returns the number of tokens.
func (e *Encoding) Len() int { return len(e.IDs) }
