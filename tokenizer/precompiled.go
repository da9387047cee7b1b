package tokenizer

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// precompiledNormalizer is SentencePiece's precompiled charsmap (T5, XLM-R,
// mBART): a darts-clone double-array trie over UTF-8 byte strings whose
// values index NUL-terminated replacement strings.
type precompiledNormalizer struct {
	array      []uint32
	normalized []byte
}

func newPrecompiled(b64 string) (*precompiledNormalizer, error) {
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("Precompiled charsmap: %w", err)
	}
	if len(data) < 4 {
		return nil, fmt.Errorf("Precompiled charsmap: %d bytes is too short", len(data))
	}
	size := int(binary.LittleEndian.Uint32(data))
	if size%4 != 0 || 4+size > len(data) || size == 0 {
		return nil, fmt.Errorf("Precompiled charsmap: bad trie size %d", size)
	}
	p := &precompiledNormalizer{array: make([]uint32, size/4), normalized: data[4+size:]}
	for i := range p.array {
		p.array[i] = binary.LittleEndian.Uint32(data[4+4*i:])
	}
	if !utf8.Valid(p.normalized) {
		return nil, fmt.Errorf("Precompiled charsmap: replacement strings are not UTF-8")
	}
	return p, nil
}

// lookup returns the replacement of the shortest prefix of key found in the
// trie, as the Rust spm_precompiled crate's transform does.
func (p *precompiledNormalizer) lookup(key string) (string, bool) {
	a := p.array
	offset := func(u uint32) uint32 { return (u >> 10) << ((u & (1 << 9)) >> 6) }
	pos := offset(a[0])
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c == 0 {
			break
		}
		pos ^= uint32(c)
		if int(pos) >= len(a) {
			return "", false
		}
		u := a[pos]
		if u&((1<<31)|0xFF) != uint32(c) {
			return "", false
		}
		pos ^= offset(u)
		if (u>>8)&1 == 1 {
			if int(pos) >= len(a) {
				return "", false
			}
			v := int(a[pos] & ((1 << 31) - 1))
			if v > len(p.normalized) {
				return "", false
			}
			end := v
			for end < len(p.normalized) && p.normalized[end] != 0 {
				end++
			}
			return string(p.normalized[v:end]), true
		}
	}
	return "", false
}

// graphemeEnd approximates the extended grapheme cluster starting at rs[i]
// (the Rust unicode-segmentation crate): CR LF, a character with its
// extending marks, joiners and modifiers, emoji ZWJ sequences and regional
// indicator pairs. Only clusters shorter than 6 bytes are looked up whole.
func graphemeEnd(rs []rune, i int) int {
	if rs[i] == '\r' && i+1 < len(rs) && rs[i+1] == '\n' {
		return i + 2
	}
	// Controls (and CR, LF) stand alone: GB4 and GB5.
	if isGraphemeControl(rs[i]) {
		return i + 1
	}
	if isRegional(rs[i]) && i+1 < len(rs) && isRegional(rs[i+1]) {
		return i + 2
	}
	j := i + 1
	for j < len(rs) {
		r := rs[j]
		if isGraphemeControl(r) {
			return j
		}
		switch {
		case r == 0x200D:
			// ZWJ extends; it joins the next character only between pictographs (GB11).
			j++
			if j < len(rs) && isPictographic(rs[i]) && isPictographic(rs[j]) {
				j++
			}
		case r <= 0xFFFF && r >= 0x300:
			if !graphemeExtend.has(r) {
				return j
			}
			j++
		case (r >= 0x1F3FB && r <= 0x1F3FF) || (r >= 0xE0020 && r <= 0xE007F) || (r >= 0xE0100 && r <= 0xE01EF):
			j++
		case r > 0xFFFF && unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc):
			j++
		default:
			return j
		}
	}
	return j
}

// isPictographic approximates Extended_Pictographic.
func isPictographic(r rune) bool {
	return (r >= 0x1F000 && r <= 0x1FAFF) || (r >= 0x2600 && r <= 0x27BF) || (r >= 0x2190 && r <= 0x21FF) || (r >= 0x2B00 && r <= 0x2BFF) || r == 0xA9 || r == 0xAE || r == 0x203C || r == 0x2049 || r == 0x2122 || r == 0x2139 || (r >= 0x231A && r <= 0x23FF)
}

func isRegional(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// isGraphemeControl is the Grapheme_Cluster_Break=Control property (with CR
// and LF): Cc, Zl, Zp and Cf except the joiners and prepended marks.
func isGraphemeControl(r rune) bool {
	if r < 0x20 || (r >= 0x7F && r <= 0x9F) || r == 0x2028 || r == 0x2029 {
		return true
	}
	if r == 0x200C || r == 0x200D {
		return false
	}
	switch r {
	case 0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x6DD, 0x70F, 0x8E2, 0x110BD, 0x110CD:
		return false
	}
	return r >= 0xAD && unicode.Is(unicode.Cf, r)
}

func (p *precompiledNormalizer) normalize(n nstr) (nstr, error) {
	rs := make([]rune, 0, len(n.r))
	chg := make([]int, 0, len(n.r))
	modified := false
	// replace mirrors the Rust Precompiled normalizer's change bookkeeping,
	// including its quirk of charging a removal to the previous character.
	replace := func(oldCount int, repl string) {
		modified = true
		start := len(rs)
		for _, c := range repl {
			rs, chg = append(rs, c), append(chg, 0)
		}
		diff := (len(rs) - start) - oldCount
		if diff > 0 {
			for k := len(chg) - diff; k < len(chg); k++ {
				chg[k] = 1
			}
		} else if diff < 0 && len(chg) > 0 {
			chg[len(chg)-1] += diff
		}
	}
	var buf []byte
	for i := 0; i < len(n.r); {
		j := graphemeEnd(n.r, i)
		buf = buf[:0]
		for _, r := range n.r[i:j] {
			buf = utf8.AppendRune(buf, r)
		}
		if len(buf) < 6 {
			if repl, ok := p.lookup(string(buf)); ok {
				replace(j-i, repl)
				i = j
				continue
			}
		}
		for k := i; k < j; k++ {
			var one [utf8.UTFMax]byte
			m := utf8.EncodeRune(one[:], n.r[k])
			if repl, ok := p.lookup(string(one[:m])); ok {
				replace(1, repl)
			} else {
				rs, chg = append(rs, n.r[k]), append(chg, 0)
			}
		}
		i = j
	}
	if !modified {
		return n, nil
	}
	return applyChanges(n, rs, chg), nil
}
