package tokenizer

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalizer transforms a normalised string, keeping alignments.
type normalizer interface {
	normalize(n nstr) (nstr, error)
}

type seqNormalizer []normalizer

func (s seqNormalizer) normalize(n nstr) (nstr, error) {
	var err error
	for _, x := range s {
		if n, err = x.normalize(n); err != nil {
			return n, err
		}
	}
	return n, nil
}

// bertNormalizer is Hugging Face's BertNormalizer.
type bertNormalizer struct {
	cleanText, chineseChars, stripAccents, lowercase bool
}

func (b bertNormalizer) normalize(n nstr) (nstr, error) {
	if b.cleanText {
		n = n.mapRunes(func(r rune, out []rune) []rune {
			if bertCleanRemove.has(r) && r >= 0 {
				return out
			}
			if r < 128 {
				if r == '\t' || r == '\n' || r == '\r' {
					return append(out, ' ')
				}
				return append(out, r)
			}
			if bertCleanSpace.has(r) {
				return append(out, ' ')
			}
			return append(out, r)
		})
	}
	if b.chineseChars {
		n = n.mapRunes(func(r rune, out []rune) []rune {
			if r >= 0x3400 && bertChinese.has(r) {
				return append(out, ' ', r, ' ')
			}
			return append(out, r)
		})
	}
	if b.stripAccents {
		n = decompose(n, false)
		n = n.filter(func(r rune) bool { return r < 0x300 || !isBertMn(r) })
	}
	if b.lowercase {
		n = lowercase(n)
	}
	return n, nil
}

// isBertMn is the nonspacing-mark test of BertNormalizer's strip_accents,
// with the Rust library's older Unicode tables where they differ.
func isBertMn(r rune) bool {
	if v, ok := bertMnExceptions[r]; ok {
		return v
	}
	return unicode.Is(unicode.Mn, r)
}

// isCombiningMark is the test of the StripAccents normalizer.
func isCombiningMark(r rune) bool {
	if v, ok := combiningExceptions[r]; ok {
		return v
	}
	return unicode.In(r, unicode.Mn, unicode.Mc, unicode.Me)
}

type lowercaseNormalizer struct{}

func (lowercaseNormalizer) normalize(n nstr) (nstr, error) { return lowercase(n), nil }

// lowercase maps each character with Rust's char::to_lowercase (per
// character: no final-sigma rule, İ becomes i + U+0307).
func lowercase(n nstr) nstr {
	changed := false
	for _, r := range n.r {
		if rustLower(r) != r || r == 0x130 {
			changed = true
			break
		}
	}
	if !changed {
		return n
	}
	return n.mapRunes(func(r rune, out []rune) []rune {
		if r == 0x130 {
			return append(out, 'i', 0x307)
		}
		return append(out, rustLower(r))
	})
}

func rustLower(r rune) rune {
	if r < 128 {
		if 'A' <= r && r <= 'Z' {
			return r + 32
		}
		return r
	}
	if l, ok := lowerExceptions[r]; ok {
		return l
	}
	return unicode.ToLower(r)
}

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
	d := decompose(n, u.compat)
	if !u.compose {
		return d, nil
	}
	return composeN(d, norm.NFC), nil
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

// decompose applies NFD (or NFKD) character by character, every output rune
// sharing its source character's alignment, then reorders combining marks
// canonically, carrying alignments along.
func decompose(n nstr, compat bool) nstr {
	form := norm.NFD
	if compat {
		form = norm.NFKD
	}
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
	b := newBuilder(len(n.r) + 8)
	var buf [utf8.UTFMax]byte
	for i, r := range n.r {
		if r < 0xC0 && (!compat || r < 0xA0) {
			b.add(r, n.a[i])
			continue
		}
		ex := decompExceptions
		if compat {
			ex = compatDecompExceptions
		}
		if d, ok := ex[r]; ok {
			for _, x := range d {
				b.add(x, n.a[i])
			}
			continue
		}
		k := utf8.EncodeRune(buf[:], r)
		if form.IsNormal(buf[:k]) {
			b.add(r, n.a[i])
			continue
		}
		for _, x := range form.String(string(r)) {
			b.add(x, n.a[i])
		}
	}
	// Canonical ordering of runs of non-starters.
	for i := 0; i < len(b.r); {
		if ccc(b.r[i]) == 0 {
			i++
			continue
		}
		j := i
		for j < len(b.r) && ccc(b.r[j]) != 0 {
			j++
		}
		if j-i > 1 {
			sortMarks(b.r[i:j], b.a[i:j])
		}
		i = j
	}
	return b.done(n)
}

func sortMarks(rs []rune, as []span) {
	idx := make([]int, len(rs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(x, y int) bool { return ccc(rs[idx[x]]) < ccc(rs[idx[y]]) })
	r2 := make([]rune, len(rs))
	a2 := make([]span, len(rs))
	for i, k := range idx {
		r2[i], a2[i] = rs[k], as[k]
	}
	copy(rs, r2)
	copy(as, a2)
}

func ccc(r rune) uint8 {
	if r < 0x300 {
		return 0
	}
	return norm.NFD.PropertiesString(string(r)).CCC()
}

// composeN composes a decomposed string segment by segment (form is NFC:
// compatibility mappings were applied by decompose); a composed
// character keeps the alignment of the first character of its segment and
// characters left uncomposed keep theirs (those of the segment's tail).
func composeN(d nstr, form norm.Form) nstr {
	s := string(d.r)
	var it norm.Iter
	it.InitString(form, s)
	b := newBuilder(len(d.r))
	ri := 0 // rune index of the segment start in d
	for !it.Done() {
		startByte := it.Pos()
		out := it.Next()
		endByte := it.Pos()
		nin := utf8.RuneCountInString(s[startByte:endByte])
		nout := utf8.RuneCount(out)
		k := 0
		for _, x := range string(out) {
			src := ri
			if k > 0 {
				src = ri + k + (nin - nout)
				if src < ri {
					src = ri
				}
				if src >= ri+nin {
					src = ri + nin - 1
				}
			}
			if src >= len(d.a) {
				src = len(d.a) - 1
			}
			b.add(x, d.a[src])
			k++
		}
		ri += nin
	}
	return b.done(d)
}

type stripAccentsNormalizer struct{}

func (stripAccentsNormalizer) normalize(n nstr) (nstr, error) {
	return n.filter(func(r rune) bool { return r < 0x300 || !isCombiningMark(r) }), nil
}

// stripNormalizer removes leading and/or trailing whitespace.
type stripNormalizer struct{ left, right bool }

func (s stripNormalizer) normalize(n nstr) (nstr, error) {
	i, j := 0, len(n.r)
	if s.left {
		for i < j && isRustWhitespace(n.r[i]) {
			i++
		}
	}
	if s.right {
		for j > i && isRustWhitespace(n.r[j-1]) {
			j--
		}
	}
	if i == 0 && j == len(n.r) {
		return n, nil
	}
	out := n.slice(i, j)
	out.base, out.origEnd = n.base, n.origEnd
	return out, nil
}

type prependNormalizer struct{ s string }

func (p prependNormalizer) normalize(n nstr) (nstr, error) { return n.prepend(p.s), nil }

type appendNormalizer struct{ s string }

func (p appendNormalizer) normalize(n nstr) (nstr, error) { return n.appendStr(p.s), nil }

// replaceNormalizer replaces every match of a pattern with content; the
// replacement takes the alignment of the last character of the match, as
// Hugging Face's NormalizedString::replace does.
type replaceNormalizer struct {
	p       pattern
	content []rune
}

func (rp replaceNormalizer) normalize(n nstr) (nstr, error) {
	if len(n.r) == 0 {
		return n, nil
	}
	ms, err := rp.p.findMatches(n.r)
	if err != nil {
		return n, err
	}
	any := false
	for _, m := range ms {
		if m.isMatch {
			any = true
			break
		}
	}
	if !any {
		return n, nil
	}
	b := newBuilder(len(n.r))
	for _, m := range ms {
		if !m.isMatch {
			b.r = append(b.r, n.r[m.s:m.e]...)
			b.a = append(b.a, n.a[m.s:m.e]...)
			continue
		}
		var al span
		if m.e >= 1 {
			al = n.a[m.e-1]
		} else {
			al = span{n.base, n.base}
		}
		for _, r := range rp.content {
			b.add(r, al)
		}
	}
	return b.done(n), nil
}

// byteLevelNormalizer maps every byte to its GPT-2 byte-level character.
type byteLevelNormalizer struct{}

func (byteLevelNormalizer) normalize(n nstr) (nstr, error) { return byteLevelMap(n), nil }

// buildNormalizer turns a JSON normalizer description into a normalizer.
func buildNormalizer(c *componentJSON) (normalizer, error) {
	if c == nil {
		return nil, nil
	}
	switch c.Type {
	case "Sequence":
		var s seqNormalizer
		for i := range c.Normalizers {
			x, err := buildNormalizer(&c.Normalizers[i])
			if err != nil {
				return nil, err
			}
			if x != nil {
				s = append(s, x)
			}
		}
		return s, nil
	case "BertNormalizer":
		b := bertNormalizer{cleanText: boolOr(c.CleanText, true), chineseChars: boolOr(c.HandleChineseChars, true), lowercase: boolOr(c.Lowercase, true)}
		// strip_accents = null follows lowercase.
		b.stripAccents = boolOr(c.StripAccents, b.lowercase)
		return b, nil
	case "Lowercase":
		return lowercaseNormalizer{}, nil
	case "NFC":
		return unicodeNormalizer{compose: true}, nil
	case "NFD":
		return unicodeNormalizer{}, nil
	case "NFKC":
		return unicodeNormalizer{compose: true, compat: true}, nil
	case "NFKD":
		return unicodeNormalizer{compat: true}, nil
	case "StripAccents":
		return stripAccentsNormalizer{}, nil
	case "Strip":
		return stripNormalizer{left: boolOr(c.StripLeft, true), right: boolOr(c.StripRight, true)}, nil
	case "Prepend":
		return prependNormalizer{s: c.Prepend}, nil
	case "Append":
		return appendNormalizer{s: c.Append}, nil
	case "Replace":
		p, err := buildPattern(c.Pattern)
		if err != nil {
			return nil, fmt.Errorf("Replace normalizer: %w", err)
		}
		content, err := c.contentString()
		if err != nil {
			return nil, err
		}
		return replaceNormalizer{p: p, content: []rune(content)}, nil
	case "ByteLevel":
		return byteLevelNormalizer{}, nil
	case "Precompiled":
		return buildPrecompiled(c)
	case "":
		return nil, fmt.Errorf("normalizer without a type")
	}
	return nil, fmt.Errorf("unsupported normalizer type %q", c.Type)
}

// buildPrecompiled handles SentencePiece's Precompiled charsmap. An empty map
// is the identity; a real one is not supported yet.
func buildPrecompiled(c *componentJSON) (normalizer, error) {
	if strings.TrimSpace(c.PrecompiledCharsmap) == "" {
		return seqNormalizer{}, nil
	}
	return nil, fmt.Errorf("unsupported normalizer type %q (SentencePiece charsmap)", c.Type)
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}
