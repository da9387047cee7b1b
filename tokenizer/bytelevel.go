package tokenizer

import (
	"unicode/utf8"
)

// Byte-level pre-tokenization (GPT-2, RoBERTa): the GPT-2 split pattern, written
// out by hand, and the byte-to-unicode mapping shared with the ByteLevel
// normalizer and decoder.

// byteLevelPre is the ByteLevel pre-tokenizer: optional prefix space, the
// GPT-2 split, then the byte-to-unicode mapping.
type byteLevelPre struct {
	addPrefixSpace, useRegex bool
}

func (b byteLevelPre) split(n nstr, out []nstr) ([]nstr, error) {
	if b.addPrefixSpace && len(n.r) > 0 && n.r[0] != ' ' {
		n = n.prepend(" ")
	}
	if len(n.r) == 0 {
		return out, nil
	}
	// Map the whole piece once, then cut the mapped string along the split
	// computed on the original characters.
	mapped := byteLevelMap(n)
	if !b.useRegex {
		return append(out, mapped), nil
	}
	ascii := len(mapped.r) == len(n.r)
	ri, bi := 0, 0 // a rune index of n and its index in mapped
	pos := func(i int) int {
		if ascii {
			return i
		}
		for ri < i {
			bi += utf8.RuneLen(n.r[ri])
			ri++
		}
		return bi
	}
	gpt2SplitRanges(n.r, func(i, j int) {
		s := pos(i)
		out = append(out, mapped.slice(s, pos(j)))
	})
	return out, nil
}

// gpt2Split applies the GPT-2 split to n, appending the pieces to out.
func gpt2Split(n nstr, out []nstr) []nstr {
	gpt2SplitRanges(n.r, func(i, j int) { out = append(out, n.slice(i, j)) })
	return out
}

// gpt2SplitRanges applies 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
// ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ with the Rust library's character classes,
// reporting each match as a rune range.
func gpt2SplitRanges(rs []rune, emit func(i, j int)) {
	L := len(rs)
	other := func(r rune) bool { return !isGPT2Space(r) && !isGPT2Letter(r) && !isGPT2Number(r) }
	for i := 0; i < L; {
		r := rs[i]
		if r == '\'' && i+1 < L {
			c := rs[i+1]
			end := 0
			switch c {
			case 's', 't', 'm', 'd':
				end = i + 2
			case 'r', 'v':
				if i+2 < L && rs[i+2] == 'e' {
					end = i + 3
				}
			case 'l':
				if i+2 < L && rs[i+2] == 'l' {
					end = i + 3
				}
			}
			if end > 0 {
				emit(i, end)
				i = end
				continue
			}
		}
		j := i
		if r == ' ' && i+1 < L {
			j = i + 1
		}
		c := rs[j]
		var pred func(rune) bool
		switch {
		case isGPT2Letter(c):
			pred = isGPT2Letter
		case isGPT2Number(c):
			pred = isGPT2Number
		case other(c):
			pred = other
		}
		if pred != nil {
			k := j + 1
			for k < L && pred(rs[k]) {
				k++
			}
			emit(i, k)
			i = k
			continue
		}
		// r is whitespace here (a space followed by whitespace, or other whitespace).
		k := i + 1
		for k < L && isGPT2Space(rs[k]) {
			k++
		}
		if k < L && k-1 > i {
			k-- // \s+(?!\S): leave the last space to the next token
		}
		emit(i, k)
		i = k
	}
}

// bytesChar is GPT-2's byte-to-unicode table and charBytes its inverse.
var (
	bytesChar [256]rune
	charBytes = map[rune]byte{}
)

func init() {
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			bytesChar[b] = rune(b)
		} else {
			bytesChar[b] = rune(256 + n)
			n++
		}
		charBytes[bytesChar[b]] = byte(b)
	}
}

// byteLevelMap replaces every character by the byte-level characters of its
// UTF-8 bytes, all aligned with the character.
func byteLevelMap(n nstr) nstr {
	ascii := true
	for _, r := range n.r {
		if r >= 0x80 {
			ascii = false
			break
		}
	}
	b := newBuilder(len(n.r))
	if ascii {
		for i, r := range n.r {
			b.add(bytesChar[r], n.a[i])
		}
		return b.done(n)
	}
	var buf [utf8.UTFMax]byte
	for i, r := range n.r {
		k := utf8.EncodeRune(buf[:], r)
		for _, x := range buf[:k] {
			b.add(bytesChar[x], n.a[i])
		}
	}
	return b.done(n)
}
