package tokenizer

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// Hand-written tokenizer.json seeds, one per model family, each exercising
// several normalizers, pre-tokenizers, post-processors and decoders, and
// truncation and padding, in a few hundred bytes the fuzzer can mutate fast.
var tokenizerSeeds = []string{
	// WordPiece, BERT-style, with truncation (stride) and fixed padding.
	`{"version":"1.0","truncation":{"direction":"Right","max_length":6,"strategy":"LongestFirst","stride":1},
"padding":{"strategy":{"Fixed":8},"direction":"Right","pad_to_multiple_of":null,"pad_id":0,"pad_type_id":0,"pad_token":"[PAD]"},
"added_tokens":[{"id":0,"content":"[PAD]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
{"id":1,"content":"[UNK]","special":true},{"id":2,"content":"[CLS]","special":true},{"id":3,"content":"[SEP]","special":true},
{"id":4,"content":"[MASK]","lstrip":true,"special":true},{"id":12,"content":"hello world","single_word":true,"normalized":true,"special":false}],
"normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},
"pre_tokenizer":{"type":"BertPreTokenizer"},
"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}],
"pair":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}},{"Sequence":{"id":"B","type_id":1}},{"SpecialToken":{"id":"[SEP]","type_id":1}}],
"special_tokens":{"[CLS]":{"id":"[CLS]","ids":[2],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[3],"tokens":["[SEP]"]}}},
"decoder":{"type":"WordPiece","prefix":"##","cleanup":true},
"model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":10,
"vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"[MASK]":4,"hello":5,"world":6,"##s":7,",":8,"!":9,"h":10,"##e":11,"hello world":12,"中":13,"caf":14,"##e":15}}}`,
	// Byte-level BPE, GPT-2/RoBERTa-style.
	`{"version":"1.0","truncation":null,"padding":null,
"added_tokens":[{"id":0,"content":"<s>","special":true},{"id":1,"content":"</s>","special":true},{"id":2,"content":"<|endoftext|>","normalized":true,"special":true}],
"normalizer":null,
"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true},
"post_processor":{"type":"RobertaProcessing","sep":["</s>",1],"cls":["<s>",0],"trim_offsets":true,"add_prefix_space":true},
"decoder":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true},
"model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,
"vocab":{"<s>":0,"</s>":1,"<|endoftext|>":2,"Ġ":3,"h":4,"e":5,"l":6,"o":7,"Ġh":8,"he":9,"ll":10,"hell":11,"hello":12,"Ġhello":13,",":14,"!":15,"Ã":16,"©":17,"Ã©":18,"w":19,"r":20,"d":21},
"merges":["Ġ h","h e","l l","he ll","hell o",["Ġ","hello"],"Ã ©"]}}`,
	// Unigram, SentencePiece-style, with byte fallback and a Precompiled (empty) charsmap.
	`{"version":"1.0","truncation":{"direction":"Left","max_length":4,"strategy":"OnlyFirst","stride":0},"padding":null,
"added_tokens":[{"id":0,"content":"<unk>","special":true},{"id":1,"content":"<s>","special":true},{"id":2,"content":"</s>","special":true}],
"normalizer":{"type":"Sequence","normalizers":[{"type":"Precompiled","precompiled_charsmap":""},{"type":"NFKC"},{"type":"Replace","pattern":{"Regex":" {2,}"},"content":" "},{"type":"Strip","strip_left":false,"strip_right":true}]},
"pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true},
"post_processor":{"type":"TemplateProcessing","single":[{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}}],"pair":[{"Sequence":{"id":"A","type_id":0}},{"Sequence":{"id":"B","type_id":1}}],
"special_tokens":{"</s>":{"id":"</s>","ids":[2],"tokens":["</s>"]}}},
"decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]},
"model":{"type":"Unigram","unk_id":0,"byte_fallback":true,
"vocab":[["<unk>",0],["<s>",0],["</s>",0],["<0x41>",-10],["<0xC3>",-10],["<0xA9>",-10],["▁",-2],["▁hello",-3.5],["▁h",-4],["ello",-4.5],["e",-5],["l",-5],["o",-5],[",",-3],["▁world",-3.7],["é",-6]]}}`,
	// WordLevel with a pre-tokenizer and decoder Sequence.
	`{"version":"1.0","added_tokens":[{"id":0,"content":"<unk>","special":true},{"id":5,"content":"ab","single_word":true,"lstrip":true,"rstrip":true,"normalized":false,"special":false}],
"normalizer":{"type":"Sequence","normalizers":[{"type":"NFD"},{"type":"StripAccents"},{"type":"Lowercase"},{"type":"Prepend","prepend":"_"},{"type":"Append","append":"."}]},
"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"},{"type":"Punctuation","behavior":"Isolated"},{"type":"Digits","individual_digits":true},
{"type":"Split","pattern":{"Regex":"(?=a)"},"behavior":"MergedWithPrevious","invert":false},{"type":"CharDelimiterSplit","delimiter":"x"},{"type":"Whitespace"}]},
"post_processor":{"type":"Sequence","processors":[{"type":"ByteLevel","trim_offsets":false},{"type":"BertProcessing","sep":["<unk>",0],"cls":["<unk>",0]}]},
"decoder":{"type":"BPEDecoder","suffix":"</w>"},
"model":{"type":"WordLevel","unk_token":"<unk>","vocab":{"<unk>":0,"_hello":1,".":2,"1":3,"2":4,"ab":5,"cafe":6}}}`,
}

// minimiseTokenizer shrinks a fixture tokenizer.json to a seed of a few KB
// that keeps its normalizer, pre-tokenizer, post-processor, decoder and added
// tokens: WordPiece and WordLevel keep their special and single-character
// tokens, BPE its first 256 tokens (the bytes) and the merges among them,
// Unigram its first 200 pieces; a large Precompiled charsmap becomes the
// empty one (the identity).
func minimiseTokenizer(t testing.TB, data []byte) []byte {
	t.Helper()
	var f map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keep scores and ids exactly as written
	if err := dec.Decode(&f); err != nil {
		t.Fatal(err)
	}
	keepToken := map[string]bool{}
	if added, ok := f["added_tokens"].([]any); ok {
		for _, a := range added {
			keepToken[a.(map[string]any)["content"].(string)] = true
		}
	}
	m := f["model"].(map[string]any)
	if unk, ok := m["unk_token"].(string); ok {
		keepToken[unk] = true
	}
	switch vocab := m["vocab"].(type) {
	case map[string]any:
		kept := map[string]any{}
		if merges, ok := m["merges"].([]any); ok {
			// BPE: the byte (or character) tokens, then the merges among them in rank order.
			for tok, id := range vocab {
				if n, _ := id.(json.Number).Int64(); n < 256 || keepToken[tok] {
					kept[tok] = id
				}
			}
			var keptMerges []any
			for _, mg := range merges {
				var a, b string
				switch x := mg.(type) {
				case string:
					a, b, _ = strings.Cut(x, " ")
				case []any:
					a, b = x[0].(string), x[1].(string)
				}
				id, ok := vocab[a+b]
				if kept[a] != nil && kept[b] != nil && ok {
					kept[a+b] = id
					keptMerges = append(keptMerges, mg)
				}
				if len(keptMerges) == 60 {
					break
				}
			}
			m["merges"] = keptMerges
		} else {
			for tok, id := range vocab {
				c := strings.TrimPrefix(tok, "##")
				if keepToken[tok] || (len(c) == 1 && c[0] > ' ' && c[0] < 0x7f) || tok == "the" || tok == "hello" {
					kept[tok] = id
				}
			}
		}
		m["vocab"] = kept
	case []any:
		m["vocab"] = vocab[:min(len(vocab), 200)]
	}
	if n, ok := f["normalizer"].(map[string]any); ok {
		for _, c := range append([]any{n}, asSlice(n["normalizers"])...) {
			if c := c.(map[string]any); c["type"] == "Precompiled" {
				c["precompiled_charsmap"] = ""
			}
		}
	}
	out, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// fixtureTokenizers reads every fixture tokenizer.json (the models' and the
// gzipped ones of testdata/tokenizers), each minimised to a small seed.
func fixtureTokenizers(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("../testdata/models/*/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bert-base-uncased.json.gz", "gpt2.json.gz", "unigram.json.gz", "unigram-nmt.json.gz"} {
		paths = append(paths, filepath.Join(testdataDir, name))
	}
	out := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(p, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		out[p] = minimiseTokenizer(t, data)
	}
	return out
}

// TestTokenizerSeeds keeps the fuzz seeds meaningful: each loads and encodes,
// so the fuzzer starts from tokenizers that work rather than from errors.
func TestTokenizerSeeds(t *testing.T) {
	seeds := fixtureTokenizers(t)
	for i, s := range tokenizerSeeds {
		seeds["hand-written "+string(rune('0'+i))] = []byte(s)
	}
	for name, data := range seeds {
		if len(data) > 8<<10 {
			t.Errorf("%s: seed is %d bytes, want a few KB", name, len(data))
		}
		tk, err := Parse(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		enc, err := tk.Encode("Hello, world! héllo", true)
		if err != nil || enc.Len() < 2 {
			t.Errorf("%s: encoding gave %v, %v", name, enc, err)
		}
	}
}

// fuzzTexts are the short texts every loaded tokenizer encodes: short, since
// a tokenizer.json may carry a backtracking regex.
var fuzzTexts = []string{"", "Hello, world!", " héllo  ab 12 ", "中文😀 [MASK]<s>", "a\u0301\tx\n"}

// FuzzTokenizerJSON loads arbitrary bytes as a tokenizer.json. A load error
// is fine; a panic is not, and a tokenizer that loads must encode short texts
// (single and pairs, with and without special tokens) without panicking or
// failing internally, with every field of equal length and offsets inside the
// text on rune boundaries, its overflowing windows too; decoding the ids must
// not panic either.
func FuzzTokenizerJSON(f *testing.F) {
	for _, s := range tokenizerSeeds {
		f.Add([]byte(s))
	}
	for _, data := range fixtureTokenizers(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tk, err := Parse(data)
		if err != nil {
			return
		}
		if p := tk.Padding(); p != nil && (p.Length > 4096 || p.PadToMultipleOf > 4096) {
			return // the loader bounds padding (TestPaddingBound); encoding up to that bound is only slow
		}
		var check func(text string, enc *Encoding)
		check = func(text string, enc *Encoding) {
			checkOffsets(t, "fuzzed", text, enc)
			for _, o := range enc.Overflowing {
				check(text, o)
			}
		}
		for _, text := range fuzzTexts {
			for _, add := range []bool{true, false} {
				enc, err := tk.Encode(text, add)
				if err != nil {
					// Encode recovers its panics as "internal error"s: still a bug.
					if strings.Contains(err.Error(), "internal error") {
						t.Fatal(err)
					}
					continue
				}
				check(text, enc)
				for _, skip := range []bool{true, false} {
					if s, err := tk.Decode(enc.IDs, skip); err == nil && !utf8.ValidString(s) {
						t.Fatalf("decoding %v gave invalid UTF-8 %q", enc.IDs, s)
					}
				}
				if pair, err := tk.EncodePair(text, "x y", add); err != nil && strings.Contains(err.Error(), "internal error") {
					t.Fatal(err)
				} else if err == nil && len(pair.Tokens) != pair.Len() {
					t.Fatalf("pair: %d tokens for %d ids", len(pair.Tokens), pair.Len())
				}
			}
		}
	})
}

// TestPaddingBound: fixed padding is bounded when loading, since each encoding
// is padded up front (10^8 tokens took 24 GB and 80 s for one text).
func TestPaddingBound(t *testing.T) {
	for _, pad := range []string{`"strategy":{"Fixed":100000000},"direction":"Right","pad_to_multiple_of":null`, `"strategy":"BatchLongest","direction":"Right","pad_to_multiple_of":100000000`} {
		s := strings.Replace(tokenizerSeeds[0], `"strategy":{"Fixed":8},"direction":"Right","pad_to_multiple_of":null`, pad, 1)
		if _, err := Parse([]byte(s)); err == nil || !strings.Contains(err.Error(), "is beyond 1048576 tokens") {
			t.Errorf("%s: err = %v, want the padding refused", pad, err)
		}
	}
	if _, err := Parse([]byte(strings.Replace(tokenizerSeeds[0], `"Fixed":8`, `"Fixed":1048576`, 1))); err != nil {
		t.Errorf("padding to 2^20 refused: %v", err)
	}
}
