package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Word is a word of the original text and the tokens that make it up.
type Word struct {
	// Index is the word's position in the slice Words returns.
	Index int
	// Text is the original text of the word (from its first token's start to its last token's end).
	Text string
	// Start and End are the word's span in code points.
	Start, End int
	// ByteStart and ByteEnd are the word's span in UTF-8 bytes.
	ByteStart, ByteEnd int
	// Tokens are the positions, in the encoding, of the word's tokens.
	Tokens []int
}

// Words groups the tokens of the first sequence of enc into words by their
// word ids, so that token attributions can be summed per word. Special tokens
// and padding belong to no word. text must be the text enc was encoded from.
func Words(enc *Encoding, text string) []Word {
	var out []Word
	lastWord := -1
	for i := range enc.IDs {
		if enc.WordIDs[i] < 0 || (enc.SequenceIDs != nil && enc.SequenceIDs[i] != 0) {
			lastWord = -1
			continue
		}
		o, b := enc.Offsets[i], enc.ByteOffsets[i]
		if enc.WordIDs[i] == lastWord && len(out) > 0 {
			w := &out[len(out)-1]
			w.Tokens = append(w.Tokens, i)
			w.Start, w.End = min(w.Start, o[0]), max(w.End, o[1])
			w.ByteStart, w.ByteEnd = min(w.ByteStart, b[0]), max(w.ByteEnd, b[1])
			continue
		}
		lastWord = enc.WordIDs[i]
		out = append(out, Word{Index: len(out), Start: o[0], End: o[1], ByteStart: b[0], ByteEnd: b[1], Tokens: []int{i}})
	}
	for i := range out {
		w := &out[i]
		if w.ByteStart >= 0 && w.ByteEnd <= len(text) && w.ByteStart <= w.ByteEnd {
			w.Text = text[w.ByteStart:w.ByteEnd]
		}
	}
	return out
}

// jsonLine is the `glassbox tokenize` output line.
type jsonLine struct {
	IDs               []int    `json:"ids"`
	Tokens            []string `json:"tokens"`
	Offsets           [][2]int `json:"offsets"`
	ByteOffsets       [][2]int `json:"byte_offsets"`
	WordIDs           []*int   `json:"word_ids"`
	SpecialTokensMask []int    `json:"special_tokens_mask"`
}

// MarshalJSONLine renders the encoding as one `glassbox tokenize` JSON line
// (without the trailing newline); word ids of special tokens are null.
func (e *Encoding) MarshalJSONLine() ([]byte, error) {
	l := jsonLine{
		IDs:               nonNil(e.IDs),
		Tokens:            e.Tokens,
		Offsets:           e.Offsets,
		ByteOffsets:       e.ByteOffsets,
		WordIDs:           make([]*int, len(e.WordIDs)),
		SpecialTokensMask: nonNil(e.SpecialTokensMask),
	}
	if l.Tokens == nil {
		l.Tokens = []string{}
	}
	if l.Offsets == nil {
		l.Offsets = [][2]int{}
	}
	if l.ByteOffsets == nil {
		l.ByteOffsets = [][2]int{}
	}
	for i, w := range e.WordIDs {
		if w >= 0 {
			v := w
			l.WordIDs[i] = &v
		}
	}
	// Tokens such as <|endoftext|> are written as is, not HTML-escaped.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(l); err != nil {
		return nil, fmt.Errorf("marshal encoding: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func nonNil(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}
