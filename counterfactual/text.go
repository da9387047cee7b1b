package counterfactual

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Word is one word of the example as the tokenizer groups it, with the
// attribution that orders the search.
type Word struct {
	// Text is the word's text.
	Text string
	// Start and End are the word's span in bytes of the example text.
	Start, End int
	// Attribution is the word's attribution towards the predicted class (the sum of its tokens').
	Attribution float64
}

// Op is the kind of an edit.
type Op string

const (
	// OpDelete removes the word.
	OpDelete Op = "delete"
	// OpSubstitute replaces the word by Edit.Replacement.
	OpSubstitute Op = "substitute"
)

// Edit is one word edited: deleted or substituted.
type Edit struct {
	// Word is the word's index in Example.Words.
	Word int
	// Op is what is done to it.
	Op Op
	// Replacement is the new word of a substitution ("" for deletions).
	Replacement string
}

// Span is where an edit lies in the original and in the edited text, in
// bytes: a deletion's new span is empty, at the place the word was.
type Span struct {
	Start, End       int
	NewStart, NewEnd int
}

// Apply returns text with edits applied to words (byte spans of text, in
// order, not overlapping) and each edit's span in the original and the new
// text, in the edits' order. A deleted word takes one side of its white space
// with it (both at either end of the text); a word glued to both neighbours
// (the apostrophe of "don't") leaves a space, so its neighbours stay separate
// words when the text is tokenized again.
func Apply(text string, words []Word, edits []Edit) (string, []Span, error) {
	byWord := map[int]int{}
	for k, e := range edits {
		if e.Word < 0 || e.Word >= len(words) {
			return "", nil, fmt.Errorf("counterfactual: edit of word %d, the text has %d words", e.Word, len(words))
		}
		if _, dup := byWord[e.Word]; dup {
			return "", nil, fmt.Errorf("counterfactual: word %d edited twice", e.Word)
		}
		byWord[e.Word] = k
	}
	for i, w := range words {
		if w.Start < 0 || w.End < w.Start || w.End > len(text) || (i > 0 && w.Start < words[i-1].End) {
			return "", nil, fmt.Errorf("counterfactual: word %d's span [%d,%d) is not in order within the text", i, w.Start, w.End)
		}
	}
	var b strings.Builder
	spans := make([]Span, len(edits))
	type place struct{ edit, at int } // a deletion, at a byte offset of the pending gap
	gap := text[:0]
	if len(words) > 0 {
		gap = text[:words[0].Start]
	}
	var deleted []place
	emitGap := func(g string) {
		base := b.Len()
		b.WriteString(g)
		for _, d := range deleted {
			at := base + min(d.at, len(g))
			spans[d.edit].NewStart, spans[d.edit].NewEnd = at, at
		}
		deleted = deleted[:0]
	}
	kept := 0
	for i, w := range words {
		next := text[w.End:]
		if i+1 < len(words) {
			next = text[w.End:words[i+1].Start]
		}
		k, edited := byWord[i]
		if edited {
			spans[k].Start, spans[k].End = w.Start, w.End
		}
		if edited && edits[k].Op == OpDelete {
			deleted = append(deleted, place{edit: k, at: len(gap)})
			gap = joinGaps(gap, next, kept == 0)
			continue
		}
		emitGap(gap)
		start := b.Len()
		if edited {
			b.WriteString(edits[k].Replacement)
			spans[k].NewStart, spans[k].NewEnd = start, b.Len()
		} else {
			b.WriteString(w.Text)
		}
		kept++
		gap = next
	}
	if len(deleted) > 0 && strings.TrimSpace(gap) == "" {
		// The text ended with deleted words: no white space left dangling.
		gap = ""
	}
	emitGap(gap)
	return b.String(), spans, nil
}

// joinGaps joins the text before and after a deleted word. At the start of
// the text, or where both sides are white space, the white space after goes;
// where neither side is (the word was glued to both neighbours), a space
// keeps the neighbours apart.
func joinGaps(left, right string, atStart bool) string {
	trimmed := strings.TrimLeftFunc(right, unicode.IsSpace)
	switch {
	case atStart && strings.TrimSpace(left) == "":
		return left + trimmed
	case endsSpace(left) && trimmed != right:
		return left + trimmed
	case left == "" && right == "":
		return " "
	}
	return left + right
}

func endsSpace(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return s != "" && unicode.IsSpace(r)
}
