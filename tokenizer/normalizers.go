package tokenizer

import (
	"fmt"
	"strings"
	"unicode"
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
		// Runes are changed in place when the mapping is one to one (the
		// common case); only removals need a new string.
		remove := false
		for i, r := range n.r {
			if r < 128 {
				if r == '\t' || r == '\n' || r == '\r' {
					n.r[i] = ' '
				} else if r < 0x20 || r == 0x7f {
					remove = true
				}
				continue
			}
			if bertCleanRemove.has(r) {
				remove = true
			} else if bertCleanSpace.has(r) {
				n.r[i] = ' '
			}
		}
		if remove {
			n = n.filter(func(r rune) bool { return !(r < 0x20 || (r >= 0x7f && bertCleanRemove.has(r))) })
		}
	}
	if b.chineseChars {
		has := false
		for _, r := range n.r {
			if r >= 0x3400 && bertChinese.has(r) {
				has = true
				break
			}
		}
		if has {
			n = n.mapRunes(func(r rune, out []rune) []rune {
				if r >= 0x3400 && bertChinese.has(r) {
					return append(out, ' ', r, ' ')
				}
				return append(out, r)
			})
		}
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
	// One to one (all but İ): lowercase in place.
	for i, r := range n.r {
		if r == 0x130 {
			return n.mapRunes(func(r rune, out []rune) []rune {
				if r == 0x130 {
					return append(out, 'i', 0x307)
				}
				return append(out, rustLower(r))
			})
		}
		n.r[i] = rustLower(r)
	}
	return n
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

// buildPrecompiled handles SentencePiece's Precompiled charsmap; an empty
// map is the identity.
func buildPrecompiled(c *componentJSON) (normalizer, error) {
	if strings.TrimSpace(c.PrecompiledCharsmap) == "" {
		return seqNormalizer{}, nil
	}
	return newPrecompiled(c.PrecompiledCharsmap)
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}
