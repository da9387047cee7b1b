package tokenizer

import (
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// TestEncodeBoundedEqualsEncode checks EncodeBounded against Encode on long
// texts for every kind of tokenizer the project ships (WordPiece, byte-level
// BPE, Unigram, and the fixture models' own), at several truncation lengths,
// with texts made to stress the cut: runs of mixed whitespace, newlines,
// non-Latin scripts, long words and punctuation. Every field must be equal
// (Overflowing aside, which EncodeBounded leaves empty).
func TestEncodeBoundedEqualsEncode(t *testing.T) {
	english := string(readGz(t, "english.txt.gz"))
	texts := map[string]string{
		"english":     english,
		"whitespace":  strings.Repeat("word \t\n  ", 5000) + strings.Repeat("x", 300),
		"scripts":     strings.Repeat("Привет мир, 你好世界! Καλημέρα κόσμε… naïve café ", 2000),
		"long words":  strings.Repeat(strings.Repeat("antidisestablishment", 20)+" ", 400),
		"punctuation": strings.Repeat("a,b.c;d!? (e) [f] {g} \"h\" ", 3000),
	}
	files := []string{"bert-base-uncased.json.gz", "gpt2.json.gz", "unigram.json.gz", "unigram-nmt.json.gz"}
	models, err := filepath.Glob("../testdata/models/*/tokenizer.json")
	if err != nil || len(models) == 0 {
		t.Fatalf("fixture tokenizers: %v %v", models, err)
	}
	for _, file := range append(files, models...) {
		for _, maxLen := range []int{8, 128, 512} {
			var tk *Tokenizer
			if strings.HasSuffix(file, ".gz") {
				tk = loadTest(t, file)
			} else if tk, err = Load(file); err != nil {
				t.Fatal(err)
			}
			if err := tk.SetTruncation(&Truncation{MaxLength: maxLen}); err != nil {
				t.Fatal(err)
			}
			tk.padding = nil
			for name, text := range texts {
				want, err := tk.Encode(text, true)
				if err != nil {
					t.Fatal(err)
				}
				got, err := tk.EncodeBounded(text)
				if err != nil {
					t.Fatal(err)
				}
				want.Overflowing = nil
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s, max length %d, %s text: EncodeBounded differs from Encode:\n got %v\nwant %v", file, maxLen, name, got.Tokens[:min(12, len(got.Tokens))], want.Tokens[:min(12, len(want.Tokens))])
				}
			}
		}
	}
}

// TestEncodeBoundedCost encodes a 4 MB text truncated to 512 tokens and
// checks it allocates a small fraction of what tokenizing it whole does.
func TestEncodeBoundedCost(t *testing.T) {
	tk := loadTest(t, "bert-base-uncased.json.gz")
	if err := tk.SetTruncation(&Truncation{MaxLength: 512}); err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 4<<20/45)
	alloc := func(f func()) uint64 {
		var a, b runtime.MemStats
		runtime.ReadMemStats(&a)
		f()
		runtime.ReadMemStats(&b)
		return b.TotalAlloc - a.TotalAlloc
	}
	whole := alloc(func() { tk.Encode(text, true) })
	bounded := alloc(func() { tk.EncodeBounded(text) })
	if bounded*100 > whole {
		t.Errorf("EncodeBounded allocated %d bytes, Encode %d: want under 1%%", bounded, whole)
	}
	t.Logf("4 MB text to 512 tokens: Encode allocates %d MB, EncodeBounded %d KB", whole>>20, bounded>>10)
}
