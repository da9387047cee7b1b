package tokenizer

import (
	"sort"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Unicode normalization (NFC, NFD, NFKC, NFKD) with Hugging Face's alignments:
// each output rune keeps the span of the character it came from, and the change
// counts follow the Rust unicode-normalization crate, exceptions included.

// unicodeNormalizer is NFC, NFD, NFKC or NFKD.
type unicodeNormalizer struct {
	compose, compat bool
}

func (u unicodeNormalizer) normalize(n nstr) (nstr, error) {
	form := norm.NFD
	switch {
	case u.compose && u.compat:
		form = norm.NFKC
	case u.compose:
		form = norm.NFC
	case u.compat:
		form = norm.NFKD
	}
	if isNormalRunes(form, n.r) {
		return n, nil
	}
	rs, chg := decomposeRaw(n.r, u.compat)
	if u.compose {
		rs, chg = composeRaw(rs, chg)
	}
	return applyChanges(n, rs, chg), nil
}

func isNormalRunes(form norm.Form, rs []rune) bool {
	ascii := true
	for _, r := range rs {
		if r >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return true
	}
	return form.IsNormalString(string(rs))
}

// decompose applies NFD (or NFKD) with Hugging Face's alignments.
func decompose(n nstr, compat bool) nstr {
	need := false
	for _, r := range n.r {
		if r >= 0xA0 {
			need = true
			break
		}
	}
	if !need {
		return n
	}
	rs, chg := decomposeRaw(n.r, compat)
	return applyChanges(n, rs, chg)
}

// decomposeRaw decomposes character by character and reorders combining
// marks canonically. Like the Rust crate it reports a change per output rune:
// 0 for the first rune of a decomposition (it replaces the source character)
// and 1 for the others (inserted); reordering moves runes with their changes.
func decomposeRaw(src []rune, compat bool) ([]rune, []int) {
	form := norm.NFD
	ex := decompExceptions
	if compat {
		form, ex = norm.NFKD, compatDecompExceptions
	}
	rs := make([]rune, 0, len(src)+8)
	chg := make([]int, 0, len(src)+8)
	var buf [utf8.UTFMax]byte
	for _, r := range src {
		if r < 0xC0 && (!compat || r < 0xA0) {
			rs, chg = append(rs, r), append(chg, 0)
			continue
		}
		var d string
		if e, ok := ex[r]; ok {
			d = e
		} else {
			k := utf8.EncodeRune(buf[:], r)
			if form.IsNormal(buf[:k]) {
				rs, chg = append(rs, r), append(chg, 0)
				continue
			}
			d = form.String(string(r))
		}
		c := 0
		for _, x := range d {
			rs, chg = append(rs, x), append(chg, c)
			c = 1
		}
	}
	for i := 0; i < len(rs); {
		if ccc(rs[i]) == 0 {
			i++
			continue
		}
		j := i
		for j < len(rs) && ccc(rs[j]) != 0 {
			j++
		}
		if j-i > 1 {
			sortMarks(rs[i:j], chg[i:j])
		}
		i = j
	}
	return rs, chg
}

// composeRaw canonically composes a decomposed string segment by segment.
// A composed rune's change is the sum of its components' changes minus the
// number of components absorbed, as in the Rust crate.
func composeRaw(rs []rune, chg []int) ([]rune, []int) {
	s := string(rs)
	var it norm.Iter
	it.InitString(norm.NFC, s)
	out := make([]rune, 0, len(rs))
	oc := make([]int, 0, len(rs))
	ri := 0
	for !it.Done() {
		startByte := it.Pos()
		seg := it.Next()
		nin := utf8.RuneCountInString(s[startByte:it.Pos()])
		in := rs[ri : ri+nin]
		inChg := chg[ri : ri+nin]
		outRunes := []rune(string(seg))
		if len(outRunes) == nin {
			out = append(out, outRunes...)
			oc = append(oc, inChg...)
			ri += nin
			continue
		}
		// The runes after the first that survive uncomposed are matched as a
		// subsequence of the input; every other input rune was absorbed by the first.
		matched := make([]bool, nin)
		k := 1
		for j := 1; j < nin && k < len(outRunes); j++ {
			if in[j] == outRunes[k] {
				matched[j] = true
				k++
			}
		}
		first := inChg[0]
		for j := 1; j < nin; j++ {
			if !matched[j] {
				first += inChg[j] - 1
			}
		}
		out = append(out, outRunes[0])
		oc = append(oc, first)
		for j := 1; j < nin; j++ {
			if matched[j] {
				out = append(out, in[j])
				oc = append(oc, inChg[j])
			}
		}
		ri += nin
	}
	return out, oc
}

// applyChanges assigns alignments from a change sequence, as Hugging Face's
// NormalizedString::transform: a rune with a positive change repeats the
// alignment of the last source character consumed; otherwise it consumes the
// next source character, plus -change following ones that it removes.
func applyChanges(n nstr, rs []rune, chg []int) nstr {
	b := newBuilder(len(rs))
	cur := -1
	for i, r := range rs {
		var al span
		if chg[i] > 0 {
			if cur >= 0 {
				al = n.a[min(cur, len(n.a)-1)]
			} else {
				al = span{n.base, n.base}
			}
		} else {
			cur++
			if cur < len(n.a) {
				al = n.a[cur]
			} else if len(n.a) > 0 {
				al = n.a[len(n.a)-1]
			}
			cur += -chg[i]
		}
		b.add(r, al)
	}
	return b.done(n)
}

// sortMarks stably sorts marks by combining class, moving their roles along;
// it reports whether anything moved.
func sortMarks(rs []rune, ins []int) bool {
	sorted := true
	for i := 1; i < len(rs); i++ {
		if ccc(rs[i-1]) > ccc(rs[i]) {
			sorted = false
			break
		}
	}
	if sorted {
		return false
	}
	idx := make([]int, len(rs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(x, y int) bool { return ccc(rs[idx[x]]) < ccc(rs[idx[y]]) })
	r2 := make([]rune, len(rs))
	i2 := make([]int, len(rs))
	for i, k := range idx {
		r2[i], i2[i] = rs[k], ins[k]
	}
	copy(rs, r2)
	copy(ins, i2)
	return true
}

func ccc(r rune) uint8 {
	if r < 0x300 {
		return 0
	}
	if v, ok := cccExceptions[r]; ok {
		return v
	}
	return norm.NFD.PropertiesString(string(r)).CCC()
}
