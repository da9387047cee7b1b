package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// WordPiece (BERT, DistilBERT): greedy longest-match-first over each word, with
// continuation pieces marked by a prefix ("##").

type wordPiece struct {
	vocabulary
	unk      string
	prefix   string
	maxChars int
	cont     map[string]int // continuing pieces keyed without the prefix
	maxLen   int            // longest piece in bytes, prefix excluded
}

func newWordPiece(vocab map[string]int, unk, prefix string, maxChars int) *wordPiece {
	w := &wordPiece{vocabulary: newVocabulary(vocab), unk: unk, prefix: prefix, maxChars: maxChars, cont: map[string]int{}}
	for k, id := range vocab {
		l := len(k)
		if prefix != "" && strings.HasPrefix(k, prefix) {
			rest := k[len(prefix):]
			w.cont[rest] = id
			if len(rest) > w.maxLen {
				w.maxLen = len(rest)
			}
		}
		if l > w.maxLen {
			w.maxLen = l
		}
	}
	return w
}

func (w *wordPiece) unkToken(n int, out []token) ([]token, error) {
	id, ok := w.toID[w.unk]
	if !ok {
		return out, fmt.Errorf("WordPiece: unk token %q is not in the vocabulary", w.unk)
	}
	return append(out, token{id: id, value: w.unk, s: 0, e: n}), nil
}

func (w *wordPiece) tokenize(rs []rune, out []token) ([]token, error) {
	if len(rs) > w.maxChars {
		return w.unkToken(len(rs), out)
	}
	// Look pieces up through a UTF-8 scratch buffer: m[string(b)] does not allocate.
	var stack [128]byte
	s := stack[:0]
	for _, r := range rs {
		s = utf8.AppendRune(s, r)
	}
	mark := len(out)
	start, runeStart := 0, 0
	for start < len(s) {
		end := len(s)
		if end-start > w.maxLen {
			end = start + w.maxLen
			for end > start && !utf8.RuneStart(s[end]) {
				end--
			}
		}
		found := false
		for end > start {
			var id int
			var ok bool
			if start == 0 || w.prefix == "" {
				id, ok = w.toID[string(s[start:end])]
			} else {
				id, ok = w.cont[string(s[start:end])]
			}
			if ok {
				v, _ := w.fromID.get(id)
				runeEnd := runeStart + utf8.RuneCount(s[start:end])
				out = append(out, token{id: id, value: v, s: runeStart, e: runeEnd})
				runeStart = runeEnd
				found = true
				break
			}
			_, sz := utf8.DecodeLastRune(s[start:end])
			end -= sz
		}
		if !found {
			return w.unkToken(len(rs), out[:mark])
		}
		start = end
	}
	return out, nil
}
