package compare

import (
	"sort"

	"github.com/glassbox-ai/glassbox/audit"
	"github.com/glassbox-ai/glassbox/schemas"
)

// Levels of an attribution comparison.
const (
	// LevelToken: both runs have the same non-special tokens (texts and offsets); positions are tokens.
	LevelToken = "token"
	// LevelWord: the tokenizations differ; positions are the word spans of both runs merged where they overlap.
	LevelWord = "word"
)

// item is one compared position: its text and both runs' attributions.
type item struct {
	text string
	a, b float64
}

// alignRows returns the positions two explanation rows of one example are
// compared over, the level, and how many positions only one run has.
// Token level when the non-special tokens agree in text and code-point
// offsets; else word level: the words of both runs (spans [start, end) in
// code points; empty spans are left out) are merged into segments, the
// smallest unions of overlapping words, and each run's attribution of a
// segment is the sum over its words in it. A segment only one run has words
// in (for example after a different truncation) is counted as unmatched.
func alignRows(a, b *schemas.ExplanationRow) (items []item, level string, unmatched int) {
	ta, tb := plainTokens(a.Tokens), plainTokens(b.Tokens)
	if sameTokens(ta, tb) {
		items = make([]item, len(ta))
		for i := range ta {
			items[i] = item{text: ta[i].Text, a: ta[i].Attribution, b: tb[i].Attribution}
		}
		return items, LevelToken, 0
	}
	type span struct {
		start, end int32
		attr       float64
		runB       bool
	}
	var spans []span
	for _, w := range a.Words {
		if w.End > w.Start {
			spans = append(spans, span{w.Start, w.End, w.Attribution, false})
		}
	}
	for _, w := range b.Words {
		if w.End > w.Start {
			spans = append(spans, span{w.Start, w.End, w.Attribution, true})
		}
	}
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	runes := []rune(a.Text)
	for i := 0; i < len(spans); {
		start, end := spans[i].start, spans[i].end
		var sa, sb float64
		var hasA, hasB bool
		j := i
		for ; j < len(spans) && spans[j].start < end; j++ {
			end = max(end, spans[j].end)
			if spans[j].runB {
				sb, hasB = sb+spans[j].attr, true
			} else {
				sa, hasA = sa+spans[j].attr, true
			}
		}
		i = j
		if !hasA || !hasB {
			unmatched++
			continue
		}
		text := ""
		if int(end) <= len(runes) {
			text = string(runes[start:end])
		}
		items = append(items, item{text: text, a: sa, b: sb})
	}
	return items, LevelWord, unmatched
}

// plainTokens returns the non-special tokens.
func plainTokens(ts []schemas.Token) []schemas.Token {
	out := make([]schemas.Token, 0, len(ts))
	for _, t := range ts {
		if !t.Special {
			out = append(out, t)
		}
	}
	return out
}

func sameTokens(a, b []schemas.Token) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Text != b[i].Text || a[i].Start != b[i].Start || a[i].End != b[i].End {
			return false
		}
	}
	return true
}

// topKChange compares the top-k positions by |attribution| of both runs:
// overlap = |top_a ∩ top_b| / k' with k' = min(k, positions), and the texts
// of the positions leaving (in A's top k only) and entering (B's only), in
// rank order.
func topKChange(items []item, k int) (kEff int, overlap float64, topA, topB, left, entered []string) {
	va, vb := make([]float64, len(items)), make([]float64, len(items))
	for i, it := range items {
		va[i], vb[i] = it.a, it.b
	}
	ia, ib := audit.TopK(audit.Abs(va), k), audit.TopK(audit.Abs(vb), k)
	kEff = len(ia)
	inA, inB := map[int]bool{}, map[int]bool{}
	for _, i := range ia {
		inA[i] = true
		topA = append(topA, items[i].text)
	}
	both := 0
	for _, i := range ib {
		inB[i] = true
		topB = append(topB, items[i].text)
		if inA[i] {
			both++
		} else {
			entered = append(entered, items[i].text)
		}
	}
	for _, i := range ia {
		if !inB[i] {
			left = append(left, items[i].text)
		}
	}
	if kEff > 0 {
		overlap = float64(both) / float64(kEff)
	}
	return kEff, overlap, topA, topB, left, entered
}
