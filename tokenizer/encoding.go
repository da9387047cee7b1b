package tokenizer

import (
	"sync"
)

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

// newEncodingCap returns an empty encoding with room for n tokens; the six
// int fields share one allocation (capacity-limited, so appends never overlap).
func newEncodingCap(n int) *Encoding {
	ints := make([]int, 6*n)
	return &Encoding{
		IDs: ints[0:0:n], TypeIDs: ints[n : n : 2*n], WordIDs: ints[2*n : 2*n : 3*n], SequenceIDs: ints[3*n : 3*n : 4*n],
		SpecialTokensMask: ints[4*n : 4*n : 5*n], AttentionMask: ints[5*n : 5*n : 6*n],
		Tokens: make([]string, 0, n), Offsets: make([][2]int, 0, n),
	}
}

// encPool recycles the per-sequence encodings that post-processing copies.
var encPool = sync.Pool{New: func() any { return new(Encoding) }}

func getEncoding(n int) *Encoding {
	e := encPool.Get().(*Encoding)
	if cap(e.IDs) < n {
		*e = *newEncodingCap(n)
		return e
	}
	*e = Encoding{IDs: e.IDs[:0], Tokens: e.Tokens[:0], TypeIDs: e.TypeIDs[:0], Offsets: e.Offsets[:0], WordIDs: e.WordIDs[:0],
		SequenceIDs: e.SequenceIDs[:0], SpecialTokensMask: e.SpecialTokensMask[:0], AttentionMask: e.AttentionMask[:0]}
	return e
}

func putEncoding(e *Encoding) {
	clear(e.Tokens)
	*e = Encoding{IDs: e.IDs[:0], Tokens: e.Tokens[:0], TypeIDs: e.TypeIDs[:0], Offsets: e.Offsets[:0], WordIDs: e.WordIDs[:0],
		SequenceIDs: e.SequenceIDs[:0], SpecialTokensMask: e.SpecialTokensMask[:0], AttentionMask: e.AttentionMask[:0]}
	encPool.Put(e)
}

// clone deep-copies an encoding.
func (e *Encoding) clone() *Encoding {
	c := &Encoding{
		IDs:               append([]int(nil), e.IDs...),
		Tokens:            append([]string(nil), e.Tokens...),
		TypeIDs:           append([]int(nil), e.TypeIDs...),
		Offsets:           append([][2]int(nil), e.Offsets...),
		ByteOffsets:       append([][2]int(nil), e.ByteOffsets...),
		WordIDs:           append([]int(nil), e.WordIDs...),
		SpecialTokensMask: append([]int(nil), e.SpecialTokensMask...),
		AttentionMask:     append([]int(nil), e.AttentionMask...),
		SequenceIDs:       append([]int(nil), e.SequenceIDs...),
		Truncated:         e.Truncated,
	}
	for _, o := range e.Overflowing {
		c.Overflowing = append(c.Overflowing, o.clone())
	}
	return c
}

// mergeWith appends pair to e, combining overflowing windows as the Rust
// Encoding::merge_with does.
func (e *Encoding) mergeWith(pair *Encoding) {
	var over []*Encoding
	for _, so := range e.Overflowing {
		n := so.clone()
		n.mergeWith(pair.clone())
		over = append(over, n)
		for _, po := range pair.Overflowing {
			n := so.clone()
			n.mergeWith(po.clone())
			over = append(over, n)
		}
	}
	for _, po := range pair.Overflowing {
		n := e.clone()
		n.mergeWith(po.clone())
		over = append(over, n)
	}
	e.IDs = append(e.IDs, pair.IDs...)
	e.Tokens = append(e.Tokens, pair.Tokens...)
	e.TypeIDs = append(e.TypeIDs, pair.TypeIDs...)
	e.Offsets = append(e.Offsets, pair.Offsets...)
	e.ByteOffsets = append(e.ByteOffsets, pair.ByteOffsets...)
	e.WordIDs = append(e.WordIDs, pair.WordIDs...)
	e.SpecialTokensMask = append(e.SpecialTokensMask, pair.SpecialTokensMask...)
	e.AttentionMask = append(e.AttentionMask, pair.AttentionMask...)
	e.SequenceIDs = append(e.SequenceIDs, pair.SequenceIDs...)
	e.Truncated = e.Truncated || pair.Truncated
	e.Overflowing = over
}

func mergeEncodings(encs []*Encoding) *Encoding {
	if len(encs) == 1 {
		return encs[0]
	}
	over := false
	n := 0
	for _, e := range encs {
		over = over || len(e.Overflowing) > 0
		n += len(e.IDs)
	}
	if !over {
		// The common case: a plain concatenation, one allocation per field.
		out := newEncodingCap(n)
		for _, e := range encs {
			out.appendTokens(e)
			out.Truncated = out.Truncated || e.Truncated
		}
		return out
	}
	out := &Encoding{}
	for _, e := range encs {
		out.mergeWith(e)
	}
	return out
}

func (e *Encoding) appendTokens(p *Encoding) {
	e.IDs = append(e.IDs, p.IDs...)
	e.Tokens = append(e.Tokens, p.Tokens...)
	e.TypeIDs = append(e.TypeIDs, p.TypeIDs...)
	e.Offsets = append(e.Offsets, p.Offsets...)
	e.ByteOffsets = append(e.ByteOffsets, p.ByteOffsets...)
	e.WordIDs = append(e.WordIDs, p.WordIDs...)
	e.SpecialTokensMask = append(e.SpecialTokensMask, p.SpecialTokensMask...)
	e.AttentionMask = append(e.AttentionMask, p.AttentionMask...)
	e.SequenceIDs = append(e.SequenceIDs, p.SequenceIDs...)
}

func (e *Encoding) sub(s, t int) *Encoding {
	return &Encoding{
		IDs:               append([]int(nil), e.IDs[s:t]...),
		Tokens:            append([]string(nil), e.Tokens[s:t]...),
		TypeIDs:           append([]int(nil), e.TypeIDs[s:t]...),
		Offsets:           append([][2]int(nil), e.Offsets[s:t]...),
		WordIDs:           append([]int(nil), e.WordIDs[s:t]...),
		SpecialTokensMask: append([]int(nil), e.SpecialTokensMask[s:t]...),
		AttentionMask:     append([]int(nil), e.AttentionMask[s:t]...),
		SequenceIDs:       append([]int(nil), e.SequenceIDs[s:t]...),
	}
}
