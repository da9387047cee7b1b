package tokenizer

import "sort"

// rangeTable is a sorted list of inclusive code point ranges.
type rangeTable [][2]rune

// has reports whether r lies in one of the table's ranges.
func (t rangeTable) has(r rune) bool {
	i := sort.Search(len(t), func(i int) bool { return t[i][1] >= r })
	return i < len(t) && t[i][0] <= r
}

// asciiClass caches the classes of ASCII characters, the common case.
var asciiClass [128]uint16

const (
	clsGPT2Letter uint16 = 1 << iota
	clsGPT2Number
	clsGPT2Space
	clsRustSpace
	clsBertPunct
	clsWord
	clsRegexSpace
	clsNumeric
)

func init() {
	for r := rune(0); r < 128; r++ {
		var c uint16
		if gpt2Letter.has(r) {
			c |= clsGPT2Letter
		}
		if gpt2Number.has(r) {
			c |= clsGPT2Number
		}
		if gpt2Space.has(r) {
			c |= clsGPT2Space
		}
		if rustWhitespace.has(r) {
			c |= clsRustSpace
		}
		if bertPunctuation.has(r) {
			c |= clsBertPunct
		}
		if regexWord.has(r) {
			c |= clsWord
		}
		if regexSpace.has(r) {
			c |= clsRegexSpace
		}
		if rustNumeric.has(r) {
			c |= clsNumeric
		}
		asciiClass[r] = c
	}
}

func classOf(r rune, bit uint16, t rangeTable) bool {
	if r >= 0 && r < 128 {
		return asciiClass[r]&bit != 0
	}
	return t.has(r)
}

func isGPT2Letter(r rune) bool { return classOf(r, clsGPT2Letter, gpt2Letter) }
func isGPT2Number(r rune) bool { return classOf(r, clsGPT2Number, gpt2Number) }
func isGPT2Space(r rune) bool  { return classOf(r, clsGPT2Space, gpt2Space) }

// isRustWhitespace is Rust's char::is_whitespace.
func isRustWhitespace(r rune) bool { return classOf(r, clsRustSpace, rustWhitespace) }

// isBertPunct is the punctuation test of BertPreTokenizer and Punctuation.
func isBertPunct(r rune) bool   { return classOf(r, clsBertPunct, bertPunctuation) }
func isRegexWord(r rune) bool   { return classOf(r, clsWord, regexWord) }
func isRegexSpace(r rune) bool  { return classOf(r, clsRegexSpace, regexSpace) }
func isRustNumeric(r rune) bool { return classOf(r, clsNumeric, rustNumeric) }
