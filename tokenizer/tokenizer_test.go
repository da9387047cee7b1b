package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func loadTest(t testing.TB, file string) *Tokenizer {
	t.Helper()
	tk, err := Load(filepath.Join(testdataDir, file))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestUnknownComponentsAreErrors(t *testing.T) {
	base := `{"model":{"type":"WordLevel","vocab":{"a":0,"<unk>":1},"unk_token":"<unk>"}`
	cases := []struct {
		name, json, want string
	}{
		{"normalizer", base + `,"normalizer":{"type":"Frobnicate"}}`, `unsupported normalizer type "Frobnicate"`},
		{"pre_tokenizer", base + `,"pre_tokenizer":{"type":"UnicodeScripts"}}`, `unsupported pre-tokenizer type "UnicodeScripts"`},
		{"post_processor", base + `,"post_processor":{"type":"Magic"}}`, `unsupported post-processor type "Magic"`},
		{"decoder", base + `,"decoder":{"type":"CTC2"}}`, `unsupported decoder type "CTC2"`},
		{"model", `{"model":{"type":"Bigram","vocab":{}}}`, `unsupported model type "Bigram"`},
		{"nested", base + `,"normalizer":{"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Nope"}]}}`, `unsupported normalizer type "Nope"`},
		{"precompiled", base + `,"normalizer":{"type":"Precompiled","precompiled_charsmap":"AAAA"}}`, "Precompiled charsmap"},
		{"bad json", `{`, "parse tokenizer.json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.json))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestWordsBert(t *testing.T) {
	tk := loadTest(t, "bert-base-uncased.json.gz")
	text := "Unaffable café, 中文!"
	enc, err := tk.Encode(text, true)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := enc.Tokens, []string{"[CLS]", "una", "##ffa", "##ble", "cafe", ",", "中", "文", "!", "[SEP]"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("tokens %v want %v", got, want)
	}
	words := Words(enc, text)
	type w struct {
		Text       string
		Start, End int
		BS, BE     int
		Tokens     []int
	}
	var got []w
	for _, x := range words {
		got = append(got, w{x.Text, x.Start, x.End, x.ByteStart, x.ByteEnd, x.Tokens})
	}
	want := []w{
		{"Unaffable", 0, 9, 0, 9, []int{1, 2, 3}},
		{"café", 10, 14, 10, 15, []int{4}},
		{",", 14, 15, 15, 16, []int{5}},
		{"中", 16, 17, 17, 20, []int{6}},
		{"文", 17, 18, 20, 23, []int{7}},
		{"!", 18, 19, 23, 24, []int{8}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("words\n got %+v\nwant %+v", got, want)
	}
	for i, x := range words {
		if x.Index != i {
			t.Fatalf("word %d has index %d", i, x.Index)
		}
	}
}

func TestWordsGPT2Emoji(t *testing.T) {
	tk := loadTest(t, "gpt2.json.gz")
	text := "Hi 😀!"
	enc, err := tk.Encode(text, true)
	if err != nil {
		t.Fatal(err)
	}
	// " 😀!" is one GPT-2 word (both are neither letters, digits nor spaces);
	// the emoji's bytes are split over two tokens that both span it.
	if want := [][2]int{{0, 2}, {2, 4}, {3, 4}, {4, 5}}; !reflect.DeepEqual(enc.Offsets, want) {
		t.Fatalf("offsets %v want %v", enc.Offsets, want)
	}
	words := Words(enc, text)
	var texts []string
	for _, w := range words {
		texts = append(texts, w.Text)
	}
	if want := []string{"Hi", " 😀!"}; !reflect.DeepEqual(texts, want) {
		t.Fatalf("words %q want %q (tokens %q offsets %v)", texts, want, enc.Tokens, enc.Offsets)
	}
}

func TestMarshalJSONLine(t *testing.T) {
	tk := loadTest(t, "bert-base-uncased.json.gz")
	enc, err := tk.Encode("Héllo", true)
	if err != nil {
		t.Fatal(err)
	}
	b, err := enc.MarshalJSONLine()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ids":[101,7592,102],"tokens":["[CLS]","hello","[SEP]"],"offsets":[[0,0],[0,5],[0,0]],"byte_offsets":[[0,0],[0,6],[0,0]],"word_ids":[null,0,null],"special_tokens_mask":[1,0,1]}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	g := loadTest(t, "gpt2.json.gz")
	enc, err = g.Encode("a<|endoftext|>", true)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = enc.MarshalJSONLine(); err != nil || !strings.Contains(string(b), `"tokens":["a","<|endoftext|>"]`) || !strings.Contains(string(b), `"word_ids":[0,1]`) {
		t.Fatalf("gpt2 line: %s %v", b, err)
	}
	empty, err := (&Encoding{}).MarshalJSONLine()
	if err != nil {
		t.Fatal(err)
	}
	if string(empty) != `{"ids":[],"tokens":[],"offsets":[],"byte_offsets":[],"word_ids":[],"special_tokens_mask":[]}` {
		t.Fatalf("empty encoding: %s", empty)
	}
}

func TestSpecialTokens(t *testing.T) {
	cases := []struct {
		file               string
		mask, pad          string
		maskID, padID      int
		maskOK, vocabAdded int
	}{
		{"bert-base-uncased.json.gz", "[MASK]", "[PAD]", 103, 0, 1, 30522},
		{"gpt2.json.gz", "", "<|endoftext|>", 0, 50256, 0, 50257},
		{"unigram.json.gz", "", "</s>", 0, 2, 0, 0},
	}
	for _, c := range cases {
		tk := loadTest(t, c.file)
		tok, id, ok := tk.MaskToken()
		if tok != c.mask || (ok && id != c.maskID) || ok != (c.maskOK == 1) {
			t.Errorf("%s mask: got %q %d %v", c.file, tok, id, ok)
		}
		tok, id, ok = tk.PadToken()
		if tok != c.pad || id != c.padID || !ok {
			t.Errorf("%s pad: got %q %d %v", c.file, tok, id, ok)
		}
		if c.vocabAdded > 0 && tk.VocabSize() != c.vocabAdded {
			t.Errorf("%s vocab size %d want %d", c.file, tk.VocabSize(), c.vocabAdded)
		}
	}
	tk := loadTest(t, "bert-base-uncased.json.gz")
	if err := tk.SetPadding(&Padding{Length: 8, PadID: 7, PadToken: "[X]"}); err != nil {
		t.Fatal(err)
	}
	if tok, id, _ := tk.PadToken(); tok != "[X]" || id != 7 {
		t.Errorf("padding pad token: %q %d", tok, id)
	}
	enc, err := tk.Encode("hi", true)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(enc.IDs, []int{101, 7632, 102, 7, 7, 7, 7, 7}) || !reflect.DeepEqual(enc.AttentionMask, []int{1, 1, 1, 0, 0, 0, 0, 0}) {
		t.Errorf("padded: %v %v", enc.IDs, enc.AttentionMask)
	}
	if id, ok := tk.TokenToID("hello"); !ok || id != 7592 {
		t.Errorf("TokenToID(hello) = %d %v", id, ok)
	}
	if s, ok := tk.IDToToken(7592); !ok || s != "hello" {
		t.Errorf("IDToToken(7592) = %q %v", s, ok)
	}
}

func TestDecode(t *testing.T) {
	cases := []struct {
		file, text string
		skip       bool
		want       string
	}{
		{"bert-base-uncased.json.gz", "Hello, unaffable world!", true, "hello, unaffable world!"},
		{"bert-base-uncased.json.gz", "Hello", false, "[CLS] hello [SEP]"},
		{"gpt2.json.gz", "Hi 😀 <|endoftext|>x", false, "Hi 😀 <|endoftext|>x"},
		{"gpt2.json.gz", "Hi <|endoftext|>x", true, "Hi x"},
		{"unigram.json.gz", "Hello world", true, "Hello world"},
	}
	for _, c := range cases {
		tk := loadTest(t, c.file)
		enc, err := tk.Encode(c.text, true)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tk.Decode(enc.IDs, c.skip)
		if err != nil || got != c.want {
			t.Errorf("%s %q: got %q (%v) want %q", c.file, c.text, got, err, c.want)
		}
	}
}

// TestMergeFormats checks that "a b" merges and [a, b] merges load the same model.
func TestMergeFormats(t *testing.T) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(readGz(t, "gpt2.json.gz"), &m); err != nil {
		t.Fatal(err)
	}
	var model map[string]json.RawMessage
	if err := json.Unmarshal(m["model"], &model); err != nil {
		t.Fatal(err)
	}
	var merges []string
	if err := json.Unmarshal(model["merges"], &merges); err != nil {
		t.Fatal(err)
	}
	pairs := make([][2]string, len(merges))
	for i, s := range merges {
		a, b, _ := strings.Cut(s, " ")
		pairs[i] = [2]string{a, b}
	}
	model["merges"], _ = json.Marshal(pairs)
	m["model"], _ = json.Marshal(model)
	data, _ := json.Marshal(m)
	tkPairs, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	tk := loadTest(t, "gpt2.json.gz")
	for _, s := range []string{"Hello world, tokenizers!", "unbelievably 12345 😀"} {
		a, _ := tk.Encode(s, true)
		b, _ := tkPairs.Encode(s, true)
		if !reflect.DeepEqual(a.IDs, b.IDs) || len(a.IDs) < 3 {
			t.Errorf("%q: %v vs %v", s, a.IDs, b.IDs)
		}
	}
}

func TestTruncationConfig(t *testing.T) {
	tk := loadTest(t, "bert-base-uncased.json.gz")
	if err := tk.SetTruncation(&Truncation{MaxLength: 5, Strategy: "median"}); err == nil {
		t.Fatal("unknown strategy accepted")
	}
	if err := tk.SetTruncation(&Truncation{MaxLength: 5, Stride: 1}); err != nil {
		t.Fatal(err)
	}
	got := tk.Truncation()
	if got.Strategy != "longest_first" || got.Direction != "right" || got.MaxLength != 5 {
		t.Fatalf("defaults not applied: %+v", got)
	}
	enc, err := tk.Encode("one two three four five", true)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(enc.Tokens, []string{"[CLS]", "one", "two", "three", "[SEP]"}) || !enc.Truncated || len(enc.Overflowing) != 1 {
		t.Fatalf("truncated: %v %v %d", enc.Tokens, enc.Truncated, len(enc.Overflowing))
	}
	if !reflect.DeepEqual(enc.Overflowing[0].Tokens, []string{"[CLS]", "three", "four", "five", "[SEP]"}) {
		t.Fatalf("overflow: %v", enc.Overflowing[0].Tokens)
	}
	if err := tk.SetTruncation(&Truncation{MaxLength: 3, Stride: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Encode("one two three", true); err == nil {
		t.Fatal("stride >= max length (special tokens excluded) accepted")
	}
	tk.SetTruncation(nil)
	if tk.Truncation() != nil {
		t.Fatal("truncation not cleared")
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "load tokenizer") {
		t.Fatalf("missing file: %v", err)
	}
	p := filepath.Join(t.TempDir(), "t.json")
	if err := os.WriteFile(p, []byte(`{"model":{"type":"WordPiece","vocab":{"a":0}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tk, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Encode("b", false); err == nil || !strings.Contains(err.Error(), "unk token") {
		t.Fatalf("missing unk: %v", err)
	}
}
