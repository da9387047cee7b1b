package tokenizer

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
)

// TestUnicodeMaps checks every code point's lowercase and normalisation
// forms against the Rust library's (testdata/tokenizers/unicode-maps.json.gz,
// probed by scripts/gen-tokenizer-unicode.js).
func TestUnicodeMaps(t *testing.T) {
	maps, nonstarters := readUnicodeMaps(t)
	t.Run("nonstarters", func(t *testing.T) {
		for c := rune(0); c <= 0x10FFFF; c++ {
			if c >= 0xD800 && c <= 0xDFFF || c == 1 {
				continue
			}
			// A character is reordered before U+0345 when its decomposition starts with a non-starter.
			d, _ := decomposeRaw([]rune{c}, false)
			k := ccc(d[0])
			if got := k > 0 && k < 240; got != nonstarters[c] {
				t.Errorf("U+%04X: non-starter %v, the Rust library says %v", c, got, nonstarters[c])
			}
		}
	})
	norms := map[string]normalizer{
		"lowercase":     lowercaseNormalizer{},
		"nfd":           unicodeNormalizer{},
		"nfkd":          unicodeNormalizer{compat: true},
		"nfc":           unicodeNormalizer{compose: true},
		"nfkc":          unicodeNormalizer{compose: true, compat: true},
		"strip_accents": stripAccentsNormalizer{},
		"bert_strip":    bertNormalizer{stripAccents: true},
	}
	for name, nz := range norms {
		t.Run(name, func(t *testing.T) {
			want := map[rune]string{}
			for k, v := range maps[name] {
				c, err := strconv.ParseInt(k, 16, 32)
				if err != nil {
					t.Fatal(err)
				}
				want[rune(c)] = v
			}
			bad := 0
			for c := rune(0); c <= 0x10FFFF; c++ {
				if c >= 0xD800 && c <= 0xDFFF || c == 1 {
					continue
				}
				w, ok := want[c]
				if !ok {
					w = string(c)
				}
				n, err := nz.normalize(newNstr(string(c)))
				if err != nil {
					t.Fatal(err)
				}
				if got := n.String(); got != w {
					bad++
					if bad <= 20 {
						t.Errorf("U+%04X: got %q want %q", c, got, w)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%s: %d code points differ", name, bad)
			}
		})
	}
}

// readUnicodeMaps reads the per-character maps and the set of non-starters.
func readUnicodeMaps(t testing.TB) (map[string]map[string]string, map[rune]bool) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(readGz(t, "unicode-maps.json.gz"), &raw); err != nil {
		t.Fatal(err)
	}
	maps := map[string]map[string]string{}
	nonstarters := map[rune]bool{}
	for k, v := range raw {
		if k == "nonstarters" {
			var list []string
			if err := json.Unmarshal(v, &list); err != nil {
				t.Fatal(err)
			}
			for _, h := range list {
				c, err := strconv.ParseInt(h, 16, 32)
				if err != nil {
					t.Fatal(err)
				}
				nonstarters[rune(c)] = true
			}
			continue
		}
		var m map[string]string
		if err := json.Unmarshal(v, &m); err != nil {
			t.Fatal(err)
		}
		maps[k] = m
	}
	return maps, nonstarters
}

// TestRustClasses spot-checks the probed class tables on characters whose
// class is known to differ between Unicode versions or engines.
func TestRustClasses(t *testing.T) {
	cases := []struct {
		name string
		f    func(rune) bool
		r    rune
		want bool
	}{
		{"gpt2 space NEL", isGPT2Space, 0x85, true},
		{"gpt2 space BOM", isGPT2Space, 0xFEFF, false},
		{"gpt2 space NBSP", isGPT2Space, 0xA0, true},
		{"gpt2 letter a", isGPT2Letter, 'a', true},
		{"gpt2 number 5", isGPT2Number, '5', true},
		{"bert punct $", isBertPunct, '$', true},
		{"bert punct ,", isBertPunct, ',', true},
		{"rust whitespace ideographic", isRustWhitespace, 0x3000, true},
		{"rust whitespace zwsp", isRustWhitespace, 0x200B, false},
		{"numeric superscript two", isRustNumeric, 0xB2, true},
	}
	for _, c := range cases {
		if got := c.f(c.r); got != c.want {
			t.Errorf("%s (U+%04X): got %v want %v", c.name, c.r, got, c.want)
		}
	}
	if fmt.Sprint(bertChinese.has(0x4E00), bertChinese.has(0x3042)) != "true false" {
		t.Errorf("bertChinese table wrong")
	}
}
