package tokenizer

import (
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

var (
	fuzzOnce sync.Once
	fuzzToks map[string]*Tokenizer
	fuzzErr  error
)

func fuzzTokenizers(t testing.TB) map[string]*Tokenizer {
	fuzzOnce.Do(func() {
		fuzzToks = map[string]*Tokenizer{}
		for name, file := range map[string]string{"bert": "bert-base-uncased.json.gz", "gpt2": "gpt2.json.gz", "unigram": "unigram.json.gz", "unigram-nmt": "unigram-nmt.json.gz"} {
			tk, err := Load(testdataDir + "/" + file)
			if err != nil {
				fuzzErr = err
				return
			}
			fuzzToks[name] = tk
		}
	})
	if fuzzErr != nil {
		t.Fatal(fuzzErr)
	}
	return fuzzToks
}

// checkEncoding asserts the structural invariants of an encoding of text.
func checkEncoding(t *testing.T, name, text string, enc *Encoding) {
	t.Helper()
	checkOffsets(t, name, text, enc)
	lastStart := -1
	for i := 0; i < enc.Len(); i++ {
		if enc.SpecialTokensMask[i] == 1 && enc.WordIDs[i] < 0 {
			continue
		}
		if o := enc.Offsets[i]; o[0] < lastStart {
			t.Fatalf("%s %q: token %d starts at %d before the previous token (%d)", name, text, i, o[0], lastStart)
		} else {
			lastStart = o[0]
		}
	}
}

// checkOffsets asserts the invariants any tokenizer's encoding of text keeps,
// whatever its configuration: fields of equal length, offsets within the
// text, on rune boundaries, and code point and byte offsets that agree
// (callers slice the text with them).
func checkOffsets(t *testing.T, name, text string, enc *Encoding) {
	t.Helper()
	nr := utf8.RuneCountInString(text)
	n := enc.Len()
	for _, l := range []int{len(enc.Tokens), len(enc.TypeIDs), len(enc.Offsets), len(enc.ByteOffsets), len(enc.WordIDs), len(enc.SpecialTokensMask), len(enc.AttentionMask), len(enc.SequenceIDs)} {
		if l != n {
			t.Fatalf("%s %q: field lengths differ", name, text)
		}
	}
	for i := 0; i < n; i++ {
		o, b := enc.Offsets[i], enc.ByteOffsets[i]
		if o[0] < 0 || o[0] > o[1] || o[1] > nr {
			t.Fatalf("%s %q: token %d offsets %v out of bounds (%d runes)", name, text, i, o, nr)
		}
		if b[0] < 0 || b[0] > b[1] || b[1] > len(text) {
			t.Fatalf("%s %q: token %d byte offsets %v out of bounds", name, text, i, b)
		}
		for _, x := range b {
			if x < len(text) && !utf8.RuneStart(text[x]) {
				t.Fatalf("%s %q: token %d byte offset %d not on a rune boundary", name, text, i, x)
			}
		}
		if got := utf8.RuneCountInString(text[:b[0]]); got != o[0] {
			t.Fatalf("%s %q: token %d byte start %d is rune %d, want %d", name, text, i, b[0], got, o[0])
		}
		if got := utf8.RuneCountInString(text[:b[1]]); got != o[1] {
			t.Fatalf("%s %q: token %d byte end %d is rune %d, want %d", name, text, i, b[1], got, o[1])
		}
	}
}

// fuzzSeeds are hard strings every fuzz target starts from.
var fuzzSeeds = []string{"", " ", "Hello, world!", "Café naïve", "中文 😀 👨‍👩‍👧", "a\u0301\u0302 x", "<|endoftext|> hi", "[MASK] it's", "\u00a0\u2028\u0085\ufeff\u3000", "ﬁ ß İ ı Σσς", "123 4.5", "x\ty\nz\r\n", strings.Repeat("ab", 80)}

// fuzzFamily runs the structural checks of checkEncoding, with and without
// special tokens, on the named tokenizers, plus the family's round trip.
func fuzzFamily(f *testing.F, names []string, roundTrip func(t *testing.T, toks map[string]*Tokenizer, text string)) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	toks := fuzzTokenizers(f)
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			return
		}
		for _, name := range names {
			for _, add := range []bool{true, false} {
				enc, err := toks[name].Encode(text, add)
				if err != nil {
					t.Fatalf("%s %q: %v", name, text, err)
				}
				checkEncoding(t, name, text, enc)
			}
		}
		if roundTrip != nil {
			roundTrip(t, toks, text)
		}
	})
}

// FuzzWordPiece checks the BERT WordPiece tokenizer: never an error or panic
// on valid UTF-8, offsets in bounds, on rune boundaries, consistent between
// code points and bytes, non-decreasing; and decoding gives the normalised
// words back when no [UNK] is involved.
func FuzzWordPiece(f *testing.F) {
	fuzzFamily(f, []string{"bert"}, bertRoundTrip)
}

// FuzzByteLevelBPE checks the GPT-2 byte-level BPE tokenizer the same way;
// byte-level BPE is lossless, so decoding gives the input back exactly.
func FuzzByteLevelBPE(f *testing.F) {
	fuzzFamily(f, []string{"gpt2"}, gpt2RoundTrip)
}

// FuzzUnigram checks the Unigram/Metaspace tokenizers (plain and with a
// Precompiled normaliser) the same way.
func FuzzUnigram(f *testing.F) {
	fuzzFamily(f, []string{"unigram", "unigram-nmt"}, nil)
}

// FuzzEncode runs every family on each input.
func FuzzEncode(f *testing.F) {
	fuzzFamily(f, []string{"bert", "gpt2", "unigram", "unigram-nmt"}, func(t *testing.T, toks map[string]*Tokenizer, text string) {
		gpt2RoundTrip(t, toks, text)
		bertRoundTrip(t, toks, text)
	})
}

func gpt2RoundTrip(t *testing.T, toks map[string]*Tokenizer, text string) {
	gpt2 := toks["gpt2"]
	enc, _ := gpt2.Encode(text, false)
	if got, err := gpt2.Decode(enc.IDs, false); err != nil || got != text {
		t.Fatalf("gpt2 decode %q: got %q (%v)", text, got, err)
	}
}

// bertRoundTrip: WordPiece without [UNK] decodes to the normalised words joined by spaces.
func bertRoundTrip(t *testing.T, toks map[string]*Tokenizer, text string) {
	bert := toks["bert"]
	enc, _ := bert.Encode(text, false)
	for _, tok := range enc.Tokens {
		if tok == "[UNK]" || strings.HasPrefix(tok, "[") {
			return
		}
	}
	if strings.Contains(text, "[") {
		return
	}
	n, err := bert.normalizer.normalize(newNstr(text))
	if err != nil {
		t.Fatal(err)
	}
	words, _ := bert.preTokenizer.split(n, nil)
	var ws []string
	for _, w := range words {
		ws = append(ws, w.String())
	}
	got, err := (wordPieceDecoder{prefix: "##"}).decodeChain(enc.Tokens)
	if err != nil || strings.Join(got, "") != strings.Join(ws, " ") {
		t.Fatalf("bert decode %q: got %q want %q", text, strings.Join(got, ""), strings.Join(ws, " "))
	}
}
