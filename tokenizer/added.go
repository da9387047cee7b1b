package tokenizer

import "sort"

// addedToken is an entry of the tokenizer.json added_tokens list.
type addedToken struct {
	id                                  int
	content                             string
	singleWord, lstrip, rstrip, special bool
	normalized                          bool
}

// addedMatcher finds added tokens with leftmost-longest matching, as the
// Rust library's Aho-Corasick automaton does.
type addedMatcher struct {
	toks     []*addedToken
	patterns [][]rune
	byFirst  map[rune][]int // pattern indices by first rune, longest first
	ascii    [128]bool      // whether an ASCII rune starts some pattern
}

func newAddedMatcher(toks []*addedToken, patterns [][]rune) *addedMatcher {
	m := &addedMatcher{toks: toks, patterns: patterns, byFirst: map[rune][]int{}}
	for i, p := range patterns {
		if len(p) == 0 {
			continue
		}
		m.byFirst[p[0]] = append(m.byFirst[p[0]], i)
		if p[0] >= 0 && p[0] < 128 {
			m.ascii[p[0]] = true
		}
	}
	for _, l := range m.byFirst {
		sort.SliceStable(l, func(a, b int) bool { return len(patterns[l[a]]) > len(patterns[l[b]]) })
	}
	return m
}

// addedSplit is one piece of a partition: a run of text, or an added token.
type addedSplit struct {
	s, e int
	tok  *addedToken
}

// find partitions rs into text and added-token pieces.
func (m *addedMatcher) find(rs []rune) []addedSplit {
	if m == nil || len(m.patterns) == 0 || len(rs) == 0 {
		return nil
	}
	var out []addedSplit
	startOffset := 0
	for i := 0; i < len(rs); {
		if r := rs[i]; r >= 0 && r < 128 && !m.ascii[r] {
			i++
			continue
		}
		cands := m.byFirst[rs[i]]
		hit := -1
		for _, c := range cands {
			p := m.patterns[c]
			if i+len(p) > len(rs) {
				continue
			}
			ok := true
			for k := 1; k < len(p); k++ {
				if rs[i+k] != p[k] {
					ok = false
					break
				}
			}
			if ok {
				hit = c
				break
			}
		}
		if hit < 0 {
			i++
			continue
		}
		start, stop := i, i+len(m.patterns[hit])
		i = stop
		t := m.toks[hit]
		if t.singleWord {
			startSpace := start == 0 || !isRegexWord(rs[start-1])
			stopSpace := stop == len(rs) || !isRegexWord(rs[stop])
			if !startSpace || !stopSpace {
				continue
			}
		}
		if t.lstrip {
			ns := start
			for ns > 0 && isRegexSpace(rs[ns-1]) {
				ns--
			}
			if ns < startOffset {
				ns = startOffset
			}
			start = ns
		}
		if t.rstrip {
			for stop < len(rs) && isRegexSpace(rs[stop]) {
				stop++
			}
		}
		if startOffset < start {
			out = append(out, addedSplit{startOffset, start, nil})
		}
		out = append(out, addedSplit{start, stop, t})
		startOffset = stop
	}
	if out == nil {
		return nil
	}
	if startOffset < len(rs) {
		out = append(out, addedSplit{startOffset, len(rs), nil})
	}
	return out
}
