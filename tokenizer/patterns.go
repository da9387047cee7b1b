package tokenizer

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/dlclark/regexp2/v2"
)

// Split patterns: literal strings and regular expressions. A regex runs on Go's
// regexp with its Perl classes made Unicode-aware, as Oniguruma's (the Rust
// library's engine) are, or on regexp2 when it needs look-around.

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
