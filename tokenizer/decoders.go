package tokenizer

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decoder turns token strings back into text pieces (the Rust decode_chain).
type decoder interface {
	decodeChain(toks []string) ([]string, error)
}

type seqDecoder []decoder

func (s seqDecoder) decodeChain(toks []string) ([]string, error) {
	var err error
	for _, d := range s {
		if toks, err = d.decodeChain(toks); err != nil {
			return nil, err
		}
	}
	return toks, nil
}

// byteLevelDecoder maps byte-level characters back to bytes.
type byteLevelDecoder struct{}

func (byteLevelDecoder) decodeChain(toks []string) ([]string, error) {
	var buf []byte
	for _, t := range toks {
		start := len(buf)
		ok := true
		for _, r := range t {
			b, found := charBytes[r]
			if !found {
				ok = false
				break
			}
			buf = append(buf, b)
		}
		if !ok {
			buf = append(buf[:start], t...)
		}
	}
	return []string{lossyUTF8(buf)}, nil
}

// lossyUTF8 mirrors Rust's String::from_utf8_lossy, which replaces each
// maximal invalid subsequence with one U+FFFD (Go's decoder would emit one per byte).
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for i := 0; i < len(b); {
		r, sz := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || sz > 1 {
			sb.WriteRune(r)
			i += sz
			continue
		}
		c := b[i]
		need := 0
		lo, hi := byte(0x80), byte(0xBF)
		switch {
		case c >= 0xC2 && c <= 0xDF:
			need = 1
		case c == 0xE0:
			need, lo = 2, 0xA0
		case c == 0xED:
			need, hi = 2, 0x9F
		case c >= 0xE1 && c <= 0xEF:
			need = 2
		case c == 0xF0:
			need, lo = 3, 0x90
		case c >= 0xF1 && c <= 0xF3:
			need = 3
		case c == 0xF4:
			need, hi = 3, 0x8F
		}
		n := 1
		for k := 0; k < need && i+n < len(b); k++ {
			x := b[i+n]
			if k == 0 && (x < lo || x > hi) {
				break
			}
			if k > 0 && (x < 0x80 || x > 0xBF) {
				break
			}
			n++
		}
		sb.WriteRune(utf8.RuneError)
		i += n
	}
	return sb.String()
}

// wordPieceDecoder joins ## continuations and cleans up spaces.
type wordPieceDecoder struct {
	prefix  string
	cleanup bool
}

func (w wordPieceDecoder) decodeChain(toks []string) ([]string, error) {
	out := make([]string, len(toks))
	for i, t := range toks {
		if i != 0 {
			if strings.HasPrefix(t, w.prefix) {
				t = strings.Replace(t, w.prefix, "", 1)
			} else {
				t = " " + t
			}
		}
		if w.cleanup {
			t = cleanupTokenization(t)
		}
		out[i] = t
	}
	return out, nil
}

var cleanupReplacer = []string{" .", ".", " ?", "?", " !", "!", " ,", ",", " ' ", "'", " n't", "n't", " 'm", "'m", " do not", " don't", " 's", "'s", " 've", "'ve", " 're", "'re"}

func cleanupTokenization(s string) string {
	// Sequential replacements, in the Rust order (a Replacer would do them at once).
	for i := 0; i < len(cleanupReplacer); i += 2 {
		s = strings.ReplaceAll(s, cleanupReplacer[i], cleanupReplacer[i+1])
	}
	return s
}

// metaspaceDecoder turns ▁ back into spaces, dropping the first token's.
type metaspaceDecoder struct {
	replacement rune
	prepend     bool
}

func (m metaspaceDecoder) decodeChain(toks []string) ([]string, error) {
	out := make([]string, len(toks))
	for i, t := range toks {
		var sb strings.Builder
		for _, r := range t {
			if r == m.replacement {
				if i == 0 && m.prepend {
					continue
				}
				sb.WriteByte(' ')
				continue
			}
			sb.WriteRune(r)
		}
		out[i] = sb.String()
	}
	return out, nil
}

// byteFallbackDecoder turns runs of <0xNN> tokens into their UTF-8 text.
type byteFallbackDecoder struct{}

func (byteFallbackDecoder) decodeChain(toks []string) ([]string, error) {
	var out []string
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if utf8.Valid(pending) {
			out = append(out, string(pending))
		} else {
			for range pending {
				out = append(out, "\uFFFD")
			}
		}
		pending = pending[:0]
	}
	for _, t := range toks {
		if len(t) == 6 && strings.HasPrefix(t, "<0x") && t[5] == '>' {
			if v, err := strconv.ParseUint(t[3:5], 16, 8); err == nil {
				pending = append(pending, byte(v))
				continue
			}
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out, nil
}

type fuseDecoder struct{}

func (fuseDecoder) decodeChain(toks []string) ([]string, error) {
	return []string{strings.Join(toks, "")}, nil
}

// stripDecoder removes up to start leading and stop trailing content characters.
type stripDecoder struct {
	content     rune
	start, stop int
}

func (s stripDecoder) decodeChain(toks []string) ([]string, error) {
	out := make([]string, len(toks))
	for i, t := range toks {
		rs := []rune(t)
		a := 0
		for k := 0; k < s.start && k < len(rs); k++ {
			if rs[k] != s.content {
				break
			}
			a = k + 1
		}
		b := len(rs)
		for k := 0; k < s.stop; k++ {
			j := len(rs) - k - 1
			if j < 0 || rs[j] != s.content {
				break
			}
			b = j
		}
		if b < a {
			b = a
		}
		out[i] = string(rs[a:b])
	}
	return out, nil
}

// replaceDecoder replaces a pattern in every token.
type replaceDecoder struct {
	p       pattern
	content string
}

func (r replaceDecoder) decodeChain(toks []string) ([]string, error) {
	out := make([]string, len(toks))
	for i, t := range toks {
		rs := []rune(t)
		ms, err := r.p.findMatches(rs)
		if err != nil {
			return nil, err
		}
		var sb strings.Builder
		for _, m := range ms {
			if m.isMatch {
				sb.WriteString(r.content)
			} else {
				sb.WriteString(string(rs[m.s:m.e]))
			}
		}
		out[i] = sb.String()
	}
	return out, nil
}

// bpeDecoder replaces the end-of-word suffix with spaces.
type bpeDecoder struct{ suffix string }

func (b bpeDecoder) decodeChain(toks []string) ([]string, error) {
	out := make([]string, len(toks))
	for i, t := range toks {
		rep := " "
		if i == len(toks)-1 {
			rep = ""
		}
		out[i] = strings.ReplaceAll(t, b.suffix, rep)
	}
	return out, nil
}

func buildDecoder(c *componentJSON) (decoder, error) {
	if c == nil {
		return nil, nil
	}
	switch c.Type {
	case "Sequence":
		var s seqDecoder
		for i := range c.Decoders {
			d, err := buildDecoder(&c.Decoders[i])
			if err != nil {
				return nil, err
			}
			if d != nil {
				s = append(s, d)
			}
		}
		return s, nil
	case "ByteLevel":
		return byteLevelDecoder{}, nil
	case "WordPiece":
		w := wordPieceDecoder{prefix: "##", cleanup: boolOr(c.Cleanup, true)}
		if c.Prefix != nil {
			w.prefix = *c.Prefix
		}
		return w, nil
	case "Metaspace":
		m := metaspaceDecoder{replacement: '▁', prepend: true}
		if c.Replacement != "" {
			m.replacement, _ = utf8.DecodeRuneInString(c.Replacement)
		}
		if strings.EqualFold(c.PrependScheme, "never") || (c.PrependScheme == "" && c.AddPrefixSpace != nil && !*c.AddPrefixSpace) {
			m.prepend = false
		}
		return m, nil
	case "ByteFallback":
		return byteFallbackDecoder{}, nil
	case "Fuse":
		return fuseDecoder{}, nil
	case "Strip":
		content, err := c.contentString()
		if err != nil {
			return nil, err
		}
		r, _ := utf8.DecodeRuneInString(content)
		return stripDecoder{content: r, start: c.Start, stop: c.Stop}, nil
	case "Replace":
		p, err := buildPattern(c.Pattern)
		if err != nil {
			return nil, fmt.Errorf("Replace decoder: %w", err)
		}
		content, err := c.contentString()
		if err != nil {
			return nil, err
		}
		return replaceDecoder{p: p, content: content}, nil
	case "BPEDecoder":
		s := "</w>"
		if c.Suffix != nil {
			s = *c.Suffix
		}
		return bpeDecoder{suffix: s}, nil
	case "":
		return nil, fmt.Errorf("decoder without a type")
	}
	return nil, fmt.Errorf("unsupported decoder type %q", c.Type)
}
