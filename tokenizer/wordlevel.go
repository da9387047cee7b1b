package tokenizer

import (
	"fmt"
)

// WordLevel: each pre-tokenized piece is one vocabulary entry, or the unknown token.

type wordLevel struct {
	vocabulary
	unk string
}

func (w *wordLevel) tokenize(rs []rune, out []token) ([]token, error) {
	s := string(rs)
	if id, ok := w.toID[s]; ok {
		return append(out, token{id: id, value: s, s: 0, e: len(rs)}), nil
	}
	id, ok := w.toID[w.unk]
	if !ok {
		return out, fmt.Errorf("WordLevel: unk token %q is not in the vocabulary", w.unk)
	}
	return append(out, token{id: id, value: w.unk, s: 0, e: len(rs)}), nil
}
