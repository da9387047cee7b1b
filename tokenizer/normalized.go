package tokenizer

import "unicode/utf8"

// span is a half-open byte range of the original input text.
type span struct{ s, e int32 }

// nstr is Hugging Face's NormalizedString kept per character: each normalised
// rune carries the span of original text it came from. Hugging Face keeps one
// alignment per normalised byte, but every byte of a character always shares
// the character's alignment, so one per rune is equivalent and cheaper.
type nstr struct {
	r []rune
	a []span
	// base is the original start of this piece: Hugging Face gives a
	// character inserted at the very start of a piece the empty alignment
	// (0, 0) relative to the piece, which is base in absolute terms.
	base int32
	// origEnd is the original end of the piece, used for empty pieces.
	origEnd int32
}

// newNstr builds the identity normalised string of text.
func newNstr(text string) nstr {
	n := utf8.RuneCountInString(text)
	ns := nstr{r: make([]rune, 0, n), a: make([]span, 0, n), origEnd: int32(len(text))}
	for i, r := range text {
		ns.r = append(ns.r, r)
		ns.a = append(ns.a, span{int32(i), int32(i + utf8.RuneLen(r))})
	}
	// utf8.RuneLen returns -1 for invalid runes decoded as U+FFFD from a single byte.
	for i := range ns.a {
		if ns.a[i].e < ns.a[i].s {
			ns.a[i].e = ns.a[i].s + 1
		}
	}
	return ns
}

func (n nstr) String() string { return string(n.r) }

// origStart is the original offset of the piece's first character, as
// Hugging Face's offsets_original().0.
func (n nstr) origStart() int32 {
	if len(n.a) == 0 {
		return n.base
	}
	return n.a[0].s
}

// slice returns the sub-piece of runes [i, j).
func (n nstr) slice(i, j int) nstr {
	out := nstr{r: n.r[i:j:j], a: n.a[i:j:j]}
	if i < j {
		out.base = n.a[i].s
		out.origEnd = n.a[j-1].e
	} else {
		out.base = n.origStart()
		out.origEnd = out.base
	}
	return out
}

// builder accumulates a transformed nstr.
type builder struct {
	r []rune
	a []span
}

func newBuilder(n int) builder { return builder{r: make([]rune, 0, n), a: make([]span, 0, n)} }

func (b *builder) add(r rune, a span) {
	b.r = append(b.r, r)
	b.a = append(b.a, a)
}

func (b *builder) done(old nstr) nstr {
	return nstr{r: b.r, a: b.a, base: old.base, origEnd: old.origEnd}
}

// mapRunes applies a per-character mapping: every output rune of an input
// rune shares that rune's alignment, which is what Hugging Face's transform
// gives for a replacement (change 0) followed by insertions (change 1).
// f appends the replacement of r to out and returns it; an empty
// replacement removes the character.
func (n nstr) mapRunes(f func(r rune, out []rune) []rune) nstr {
	b := newBuilder(len(n.r))
	var tmp [8]rune
	for i, r := range n.r {
		rs := f(r, tmp[:0])
		for _, x := range rs {
			b.add(x, n.a[i])
		}
	}
	return b.done(n)
}

// filter keeps the runes for which keep is true.
func (n nstr) filter(keep func(r rune) bool) nstr {
	all := true
	for _, r := range n.r {
		if !keep(r) {
			all = false
			break
		}
	}
	if all {
		return n
	}
	b := newBuilder(len(n.r))
	for i, r := range n.r {
		if keep(r) {
			b.add(r, n.a[i])
		}
	}
	return b.done(n)
}

// prepend inserts s before the first character; every inserted character
// takes the first character's alignment, as Hugging Face's prepend does.
func (n nstr) prepend(s string) nstr {
	if len(n.r) == 0 {
		return n
	}
	b := newBuilder(len(n.r) + len(s))
	for _, r := range s {
		b.add(r, n.a[0])
	}
	b.r = append(b.r, n.r...)
	b.a = append(b.a, n.a...)
	return b.done(n)
}

// append adds s after the last character, aligned with it.
func (n nstr) appendStr(s string) nstr {
	if len(n.r) == 0 {
		return n
	}
	b := newBuilder(len(n.r) + len(s))
	b.r = append(b.r, n.r...)
	b.a = append(b.a, n.a...)
	last := n.a[len(n.a)-1]
	for _, r := range s {
		b.add(r, last)
	}
	return b.done(n)
}

// match is one entry of a pattern's partition of a string: the rune range
// [s, e) and whether it is a match of the pattern.
type match struct {
	s, e    int
	isMatch bool
}

// pattern finds matches in a rune slice; the result partitions [0, len(r)).
type pattern interface {
	findMatches(r []rune) ([]match, error)
}

// runePattern matches every single rune for which the predicate holds.
type runePattern func(rune) bool

func (p runePattern) findMatches(rs []rune) ([]match, error) {
	if len(rs) == 0 {
		return []match{{0, 0, false}}, nil
	}
	var out []match
	last := 0
	for i, r := range rs {
		if p(r) {
			if last < i {
				out = append(out, match{last, i, false})
			}
			out = append(out, match{i, i + 1, true})
			last = i + 1
		}
	}
	if last < len(rs) {
		out = append(out, match{last, len(rs), false})
	}
	return out, nil
}

// invertPattern flips the match flag of another pattern.
type invertPattern struct{ p pattern }

func (p invertPattern) findMatches(rs []rune) ([]match, error) {
	m, err := p.p.findMatches(rs)
	if err != nil {
		return nil, err
	}
	for i := range m {
		m[i].isMatch = !m[i].isMatch
	}
	return m, nil
}

// splitBehavior says what happens to the delimiters when splitting.
type splitBehavior int

const (
	behaviorRemoved splitBehavior = iota
	behaviorIsolated
	behaviorMergedWithPrevious
	behaviorMergedWithNext
	behaviorContiguous
)

// split cuts the string along the pattern's matches, as NormalizedString::split.
func (n nstr) split(p pattern, behavior splitBehavior, out []nstr) ([]nstr, error) {
	ms, err := p.findMatches(n.r)
	if err != nil {
		return nil, err
	}
	type piece struct {
		s, e   int
		remove bool
	}
	var pieces []piece
	switch behavior {
	case behaviorIsolated:
		pieces = make([]piece, len(ms))
		for i, m := range ms {
			pieces[i] = piece{m.s, m.e, false}
		}
	case behaviorRemoved:
		pieces = make([]piece, len(ms))
		for i, m := range ms {
			pieces[i] = piece{m.s, m.e, m.isMatch}
		}
	case behaviorContiguous:
		prev := false
		for _, m := range ms {
			if m.isMatch == prev && len(pieces) > 0 {
				pieces[len(pieces)-1].e = m.e
			} else {
				pieces = append(pieces, piece{m.s, m.e, false})
			}
			prev = m.isMatch
		}
	case behaviorMergedWithPrevious:
		prev := false
		for _, m := range ms {
			if m.isMatch && !prev && len(pieces) > 0 {
				pieces[len(pieces)-1].e = m.e
			} else {
				pieces = append(pieces, piece{m.s, m.e, false})
			}
			prev = m.isMatch
		}
	case behaviorMergedWithNext:
		prev := false
		for i := len(ms) - 1; i >= 0; i-- {
			m := ms[i]
			if m.isMatch && !prev && len(pieces) > 0 {
				pieces[len(pieces)-1].s = m.s
			} else {
				pieces = append(pieces, piece{m.s, m.e, false})
			}
			prev = m.isMatch
		}
		for i, j := 0, len(pieces)-1; i < j; i, j = i+1, j-1 {
			pieces[i], pieces[j] = pieces[j], pieces[i]
		}
	}
	for _, p := range pieces {
		if !p.remove && p.e > p.s {
			out = append(out, n.slice(p.s, p.e))
		}
	}
	return out, nil
}
