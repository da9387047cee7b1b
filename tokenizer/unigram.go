package tokenizer

import (
	"fmt"
	"math"
	"unicode/utf8"
)

// Unigram (SentencePiece models such as T5 and XLM-R): the Viterbi segmentation
// with the highest total score.

type unigram struct {
	vocabulary
	pieces       []string
	scores       []float64
	unkID        int
	hasUnk       bool
	byteFallback bool
	fuseUnk      bool
	minScore     float64
	maxLen       int
}

const unigramUnkPenalty = 10.0

func newUnigram(pieces []string, scores []float64, unkID *int, byteFallback bool) *unigram {
	m := make(map[string]int, len(pieces))
	u := &unigram{pieces: pieces, scores: scores, byteFallback: byteFallback, fuseUnk: true, minScore: math.Inf(1)}
	for i, p := range pieces {
		m[p] = i // the last duplicate wins, as in the Rust library
		if scores[i] < u.minScore {
			u.minScore = scores[i]
		}
		if len(p) > u.maxLen {
			u.maxLen = len(p)
		}
	}
	u.vocabulary = vocabulary{toID: m, size: len(pieces)}
	for i, p := range pieces {
		u.fromID.set(i, p)
	}
	if unkID != nil {
		u.unkID, u.hasUnk = *unkID, true
	}
	return u
}

func (u *unigram) tokenize(rs []rune, out []token) ([]token, error) {
	s := string(rs)
	n := len(s)
	if n == 0 {
		return out, nil
	}
	type node struct {
		id     int
		score  float64
		starts int
		set    bool
	}
	best := make([]node, n+1)
	unkScore := u.minScore - unigramUnkPenalty
	for start := 0; start < n; {
		_, mblen := utf8.DecodeRuneInString(s[start:])
		base := best[start].score
		single := false
		limit := start + u.maxLen
		if limit > n {
			limit = n
		}
		for end := start + 1; end <= limit; end++ {
			if end < n && !utf8.RuneStart(s[end]) {
				continue
			}
			id, ok := u.toID[s[start:end]]
			if !ok {
				continue
			}
			cand := u.scores[id] + base
			t := &best[end]
			if !t.set || cand > t.score {
				*t = node{id: id, score: cand, starts: start, set: true}
			}
			if end-start == mblen {
				single = true
			}
		}
		if !single {
			if !u.hasUnk {
				return out, fmt.Errorf("Unigram: no unk id for an unknown character")
			}
			t := &best[start+mblen]
			cand := unkScore + base
			if !t.set || cand > t.score {
				*t = node{id: u.unkID, score: cand, starts: start, set: true}
			}
		}
		start += mblen
	}
	// Backtrack, fusing consecutive unknowns.
	type piece struct {
		s, e int
		unk  bool
	}
	var rev []piece
	for end := n; end > 0; {
		nd := best[end]
		isUnk := u.fuseUnk && u.hasUnk && nd.id == u.unkID
		if isUnk && len(rev) > 0 && rev[len(rev)-1].unk {
			rev[len(rev)-1].s = nd.starts
		} else {
			rev = append(rev, piece{nd.starts, end, isUnk})
		}
		end = nd.starts
	}
	idx := runeIndex(s, len(rs))
	for i := len(rev) - 1; i >= 0; i-- {
		p := rev[i]
		str := s[p.s:p.e]
		rsS, rsE := byteToRune(idx, p.s), byteToRune(idx, p.e)
		if id, ok := u.toID[str]; ok {
			out = append(out, token{id: id, value: str, s: rsS, e: rsE})
			continue
		}
		if u.byteFallback {
			ok := true
			mark := len(out)
			for k := 0; k < len(str); k++ {
				bs := fmt.Sprintf("<0x%02X>", str[k])
				id, found := u.toID[bs]
				if !found {
					ok = false
					break
				}
				out = append(out, token{id: id, value: bs, s: rsS, e: rsE})
			}
			if ok {
				continue
			}
			out = out[:mark]
		}
		if !u.hasUnk {
			return out, fmt.Errorf("Unigram: no unk id for %q", str)
		}
		out = append(out, token{id: u.unkID, value: str, s: rsS, e: rsE})
	}
	return out, nil
}
