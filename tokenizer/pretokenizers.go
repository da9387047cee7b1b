package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"
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
