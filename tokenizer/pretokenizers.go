package tokenizer

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/dlclark/regexp2/v2"
)

// preTokenizer splits one piece of normalised text into sub-pieces,
// appending them to out.
type preTokenizer interface {
	split(n nstr, out []nstr) ([]nstr, error)
}

type seqPreTokenizer []preTokenizer

func (s seqPreTokenizer) split(n nstr, out []nstr) ([]nstr, error) {
	cur := []nstr{n}
	var next []nstr
	var err error
	for _, p := range s {
		next = next[:0]
		for _, c := range cur {
			if next, err = p.split(c, next); err != nil {
				return out, err
			}
		}
		cur, next = next, cur
	}
	return append(out, cur...), nil
}

// whitespacePreTokenizer is the regex \w+|[^\w\s]+ (Whitespace).
type whitespacePreTokenizer struct{}

func (whitespacePreTokenizer) split(n nstr, out []nstr) ([]nstr, error) {
	rs := n.r
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case isRegexWord(r):
			j := i + 1
			for j < len(rs) && isRegexWord(rs[j]) {
				j++
			}
			out = append(out, n.slice(i, j))
			i = j
		case isRegexSpace(r):
			i++
		default:
			j := i + 1
			for j < len(rs) && !isRegexWord(rs[j]) && !isRegexSpace(rs[j]) {
				j++
			}
			out = append(out, n.slice(i, j))
			i = j
		}
	}
	return out, nil
}

// whitespaceSplit splits on Rust whitespace, removing it.
type whitespaceSplit struct{}

func (whitespaceSplit) split(n nstr, out []nstr) ([]nstr, error) {
	rs := n.r
	start := -1
	for i, r := range rs {
		if isRustWhitespace(r) {
			if start >= 0 {
				out = append(out, n.slice(start, i))
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, n.slice(start, len(rs)))
	}
	return out, nil
}

// bertPreTokenizer splits on whitespace (removed) and punctuation (isolated).
type bertPreTokenizer struct{}

func (bertPreTokenizer) split(n nstr, out []nstr) ([]nstr, error) {
	rs := n.r
	start := -1
	for i, r := range rs {
		if isRustWhitespace(r) {
			if start >= 0 {
				out = append(out, n.slice(start, i))
				start = -1
			}
		} else if isBertPunct(r) {
			if start >= 0 {
				out = append(out, n.slice(start, i))
				start = -1
			}
			out = append(out, n.slice(i, i+1))
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, n.slice(start, len(rs)))
	}
	return out, nil
}

// patternSplit splits along a pattern with a delimiter behaviour
// (Punctuation, Digits, Split, CharDelimiterSplit).
type patternSplit struct {
	p        pattern
	behavior splitBehavior
}

func (s patternSplit) split(n nstr, out []nstr) ([]nstr, error) {
	return n.split(s.p, s.behavior, out)
}

// metaspace replaces spaces with the replacement character, optionally
// prepends it, and splits before it.
type metaspace struct {
	replacement rune
	repl        string
	prepend     string // "always", "first" or "never"
	splitOn     bool
}

func (m metaspace) split(n nstr, out []nstr) ([]nstr, error) {
	n = n.mapRunes(func(r rune, o []rune) []rune {
		if r == ' ' {
			return append(o, m.replacement)
		}
		return append(o, r)
	})
	starts := len(n.r) > 0 && n.r[0] == m.replacement
	switch m.prepend {
	case "always":
		if !starts {
			n = n.prepend(m.repl)
		}
	case "first":
		if !starts && n.origStart() == 0 {
			n = n.prepend(m.repl)
		}
	}
	if !m.splitOn {
		if len(n.r) > 0 {
			out = append(out, n)
		}
		return out, nil
	}
	rep := m.replacement
	return n.split(runePattern(func(r rune) bool { return r == rep }), behaviorMergedWithNext, out)
}

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

// literalPattern matches non-overlapping occurrences of a string.
type literalPattern []rune

func (p literalPattern) findMatches(rs []rune) ([]match, error) {
	if len(rs) == 0 {
		return []match{{0, 0, false}}, nil
	}
	if len(p) == 0 {
		return []match{{0, len(rs), false}}, nil
	}
	var out []match
	prev := 0
	for i := 0; i+len(p) <= len(rs); {
		ok := true
		for k := range p {
			if rs[i+k] != p[k] {
				ok = false
				break
			}
		}
		if !ok {
			i++
			continue
		}
		if prev < i {
			out = append(out, match{prev, i, false})
		}
		out = append(out, match{i, i + len(p), true})
		i += len(p)
		prev = i
	}
	if prev < len(rs) {
		out = append(out, match{prev, len(rs), false})
	}
	return out, nil
}

// regexPattern matches a user regular expression, with Go's regexp where the
// pattern allows it and regexp2 (backtracking, lookarounds) otherwise.
type regexPattern struct {
	re  *regexp.Regexp
	re2 *regexp2.Regexp
}

func (p regexPattern) findMatches(rs []rune) ([]match, error) {
	if len(rs) == 0 {
		return []match{{0, 0, false}}, nil
	}
	var spans [][2]int
	if p.re != nil {
		s := string(rs)
		locs := p.re.FindAllStringIndex(s, -1)
		if len(locs) > 0 {
			// Convert byte offsets to rune offsets.
			idx := make([]int, len(s)+1)
			ri := 0
			for bi := range s {
				idx[bi] = ri
				ri++
			}
			idx[len(s)] = ri
			for _, l := range locs {
				spans = append(spans, [2]int{idx[l[0]], idx[l[1]]})
			}
		}
	} else {
		m, err := p.re2.FindRunesMatch(rs)
		for err == nil && m != nil {
			spans = append(spans, [2]int{m.RuneIndex, m.RuneIndex + m.RuneLength})
			m, err = p.re2.FindNextMatch(m)
		}
		if err != nil {
			return nil, fmt.Errorf("regex match: %w", err)
		}
	}
	var out []match
	prev := 0
	for _, sp := range spans {
		if prev != sp[0] {
			out = append(out, match{prev, sp[0], false})
		}
		out = append(out, match{sp[0], sp[1], true})
		prev = sp[1]
	}
	if prev != len(rs) {
		out = append(out, match{prev, len(rs), false})
	}
	return out, nil
}

// oniguruma-style Unicode classes in Go regexp syntax.
const (
	goSpaceClass = `\t-\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}`
	goWordClass  = `\p{L}\p{M}\p{Nd}\p{Pc}`
	goDigitClass = `\p{Nd}`
)

// translateRegex rewrites the Perl classes \s \S \d \D \w \W to Unicode-aware
// Go classes (Go's are ASCII-only, Oniguruma's are Unicode).
func translateRegex(p string) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '\\' && i+1 < len(p) {
			d := p[i+1]
			var cls string
			neg := false
			switch d {
			case 's':
				cls = goSpaceClass
			case 'S':
				cls, neg = goSpaceClass, true
			case 'd':
				cls = goDigitClass
			case 'D':
				cls, neg = goDigitClass, true
			case 'w':
				cls = goWordClass
			case 'W':
				cls, neg = goWordClass, true
			}
			if cls != "" && !(inClass && neg) {
				switch {
				case inClass:
					b.WriteString(cls)
				case neg:
					b.WriteString("[^" + cls + "]")
				default:
					b.WriteString("[" + cls + "]")
				}
				i++
				continue
			}
			b.WriteByte(c)
			b.WriteByte(d)
			i++
			continue
		}
		if c == '[' && !inClass {
			inClass = true
			b.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
			continue
		}
		if c == ']' && inClass {
			inClass = false
		}
		b.WriteByte(c)
	}
	return b.String()
}

func compileRegex(p string) (pattern, error) {
	if re, err := regexp.Compile(translateRegex(p)); err == nil {
		return regexPattern{re: re}, nil
	}
	re2, err := regexp2.Compile(p, regexp2.Unicode)
	if err != nil {
		return nil, fmt.Errorf("compile regex %q: %w", p, err)
	}
	return regexPattern{re2: re2}, nil
}

// buildPattern reads {"String": s} or {"Regex": r}.
func buildPattern(p *patternJSON) (pattern, error) {
	if p == nil {
		return nil, fmt.Errorf("missing pattern")
	}
	if p.Regex != nil {
		return compileRegex(*p.Regex)
	}
	if p.String != nil {
		return literalPattern([]rune(*p.String)), nil
	}
	return nil, fmt.Errorf("pattern needs String or Regex")
}

func parseBehavior(s string) (splitBehavior, error) {
	switch strings.ToLower(s) {
	case "removed":
		return behaviorRemoved, nil
	case "isolated", "":
		return behaviorIsolated, nil
	case "merged_with_previous", "mergedwithprevious":
		return behaviorMergedWithPrevious, nil
	case "merged_with_next", "mergedwithnext":
		return behaviorMergedWithNext, nil
	case "contiguous":
		return behaviorContiguous, nil
	}
	return 0, fmt.Errorf("unknown split behavior %q", s)
}

// buildPreTokenizer turns a JSON pre-tokenizer description into a pre-tokenizer.
func buildPreTokenizer(c *componentJSON) (preTokenizer, error) {
	if c == nil {
		return nil, nil
	}
	switch c.Type {
	case "Sequence":
		var s seqPreTokenizer
		for i := range c.PreTokenizers {
			x, err := buildPreTokenizer(&c.PreTokenizers[i])
			if err != nil {
				return nil, err
			}
			if x != nil {
				s = append(s, x)
			}
		}
		return s, nil
	case "Whitespace":
		return whitespacePreTokenizer{}, nil
	case "WhitespaceSplit":
		return whitespaceSplit{}, nil
	case "BertPreTokenizer":
		return bertPreTokenizer{}, nil
	case "Punctuation":
		b, err := parseBehavior(c.Behavior)
		if err != nil {
			return nil, fmt.Errorf("Punctuation pre-tokenizer: %w", err)
		}
		return patternSplit{p: runePattern(isBertPunct), behavior: b}, nil
	case "Digits":
		b := behaviorContiguous
		if c.IndividualDigits != nil && *c.IndividualDigits {
			b = behaviorIsolated
		}
		return patternSplit{p: runePattern(isRustNumeric), behavior: b}, nil
	case "CharDelimiterSplit":
		d, _ := utf8.DecodeRuneInString(c.Delimiter)
		return patternSplit{p: runePattern(func(r rune) bool { return r == d }), behavior: behaviorRemoved}, nil
	case "Split":
		p, err := buildPattern(c.Pattern)
		if err != nil {
			return nil, fmt.Errorf("Split pre-tokenizer: %w", err)
		}
		b, err := parseBehavior(c.Behavior)
		if err != nil {
			return nil, fmt.Errorf("Split pre-tokenizer: %w", err)
		}
		if c.Invert != nil && *c.Invert {
			p = invertPattern{p}
		}
		return patternSplit{p: p, behavior: b}, nil
	case "Metaspace":
		m := metaspace{replacement: '▁', prepend: "always", splitOn: boolOr(c.Split, true)}
		if c.Replacement != "" {
			m.replacement, _ = utf8.DecodeRuneInString(c.Replacement)
		}
		m.repl = string(m.replacement)
		switch {
		case c.PrependScheme != "":
			m.prepend = strings.ToLower(c.PrependScheme)
		case c.AddPrefixSpace != nil && !*c.AddPrefixSpace:
			m.prepend = "never"
		}
		if m.prepend != "always" && m.prepend != "first" && m.prepend != "never" {
			return nil, fmt.Errorf("Metaspace pre-tokenizer: unknown prepend_scheme %q", c.PrependScheme)
		}
		return m, nil
	case "ByteLevel":
		return byteLevelPre{addPrefixSpace: boolOr(c.AddPrefixSpace, true), useRegex: boolOr(c.UseRegex, true)}, nil
	case "":
		return nil, fmt.Errorf("pre-tokenizer without a type")
	}
	return nil, fmt.Errorf("unsupported pre-tokenizer type %q", c.Type)
}
