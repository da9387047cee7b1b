package tokenizer

import "testing"

func TestLowercases(t *testing.T) {
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"../testdata/models/distilbert-sentiment/tokenizer.json", true},
		{"../testdata/models/gpt2-tiny/tokenizer.json", false},
	} {
		tok, err := Load(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.Lowercases(); got != tc.want {
			t.Errorf("%s: Lowercases() = %v, want %v", tc.path, got, tc.want)
		}
	}
	for _, tc := range []struct {
		n    normalizer
		want bool
	}{
		{nil, false}, {lowercaseNormalizer{}, true}, {bertNormalizer{lowercase: false}, false},
		{seqNormalizer{unicodeNormalizer{}, lowercaseNormalizer{}}, true}, {seqNormalizer{stripAccentsNormalizer{}}, false},
	} {
		if got := lowercases(tc.n); got != tc.want {
			t.Errorf("lowercases(%T %v) = %v", tc.n, tc.n, got)
		}
	}
}
