package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// boundedStart is the first prefix EncodeBounded tries, in bytes per token of
// the truncation length: English averages 4 to 5 bytes per token, so 16
// covers most texts at the first try and whitespace-heavy ones at the second.
const boundedStart = 16

// EncodeBounded is Encode with special tokens for a tokenizer that truncates
// on the right, at a cost bounded by the truncation length rather than by the
// text: a 10 MB line is not tokenized whole to keep its first 512 tokens. It
// encodes growing prefixes of text, each cut just before a whitespace, until
// the tokens truncation keeps all end before the prefix's last whitespace
// run. Those tokens are then exactly the whole text's: the pre-tokenizer
// splits at every whitespace (splitsAtWhitespace), so nothing after a
// whitespace changes a token before it. The result is Encode's, Truncated
// set, except that Overflowing (the windows past the truncation) is left
// empty. Other tokenizers, and texts that fit, are encoded whole.
func (t *Tokenizer) EncodeBounded(text string) (*Encoding, error) {
	tr := t.truncation
	if tr == nil || tr.MaxLength <= 0 || tr.Stride != 0 || (tr.Direction != "" && tr.Direction != "right") || !splitsAtWhitespace(t.preTokenizer) {
		return t.Encode(text, true)
	}
	for n := boundedStart * tr.MaxLength; n < len(text); n *= 4 {
		cut := nextSpace(text, n)
		if cut < 0 {
			break
		}
		safe := lastRunStart(text[:cut])
		if safe <= 0 {
			continue
		}
		enc, err := t.Encode(text[:cut], true)
		if err != nil {
			return nil, err
		}
		if enc.Truncated && keptEnd(enc) <= safe {
			enc.Overflowing = nil
			return enc, nil
		}
	}
	return t.Encode(text, true)
}

// splitsAtWhitespace reports whether p splits text at every whitespace, so
// that no token spans from before a whitespace to after it: the whitespace
// and BERT pre-tokenizers, Metaspace with splitting, byte-level with its
// regex (which joins a space to the word after it, never to the one before),
// or a sequence holding one of them (the others only split further).
func splitsAtWhitespace(p preTokenizer) bool {
	switch p := p.(type) {
	case whitespacePreTokenizer, whitespaceSplit, bertPreTokenizer:
		return true
	case metaspace:
		return p.splitOn
	case byteLevelPre:
		return p.useRegex
	case seqPreTokenizer:
		for _, q := range p {
			if splitsAtWhitespace(q) {
				return true
			}
		}
	}
	return false
}

// nextSpace returns the byte index of the first whitespace at or after i, -1 when none.
func nextSpace(s string, i int) int {
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			return i
		}
		i += size
	}
	return -1
}

// lastRunStart returns the byte index where the last whitespace run of s
// that is followed by a non-space starts: every token ending at or before it
// is followed, in s and in any text s is a prefix of, by the same whitespace
// and word. It returns -1 when s has no such run.
func lastRunStart(s string) int {
	i := len(s)
	// Skip the trailing word (and any whitespace after it: s is cut before a space).
	for i > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		if unicode.IsSpace(r) {
			break
		}
		i -= size
	}
	end := i
	for i > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		if !unicode.IsSpace(r) {
			break
		}
		i -= size
	}
	if end == 0 || i == end {
		return -1
	}
	return i
}

// keptEnd returns the byte offset where the last non-special token of enc ends.
func keptEnd(enc *Encoding) int {
	end := 0
	for i, off := range enc.ByteOffsets {
		if enc.SpecialTokensMask[i] == 0 && off[1] > end {
			end = off[1]
		}
	}
	return end
}
