package tokenizer

import (
	"encoding/json"
	"reflect"
	"testing"
)

// jsonVocab and jsonMerges are the reference decodings: encoding/json's.
func jsonVocab(raw []byte) (map[string]int, error) {
	var v map[string]int
	err := json.Unmarshal(raw, &v)
	return v, err
}

// checkScanners asserts that whatever the scanners accept, they decode as
// encoding/json does (they may decline, ok false, and leave it to encoding/json).
func checkScanners(t *testing.T, raw []byte) (vocabOK, mergesOK bool) {
	t.Helper()
	if !json.Valid(raw) {
		return false, false // the scanners only ever see validated text
	}
	if got, ok := scanVocab(raw); ok {
		want, err := jsonVocab(raw)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("vocab %q: scanned %v; encoding/json gives %v, %v", raw, got, want, err)
		}
		vocabOK = true
	}
	if got, ok := scanMerges(raw); ok {
		want, err := decodeMerges(raw)
		if err != nil || !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("merges %q: scanned %v; encoding/json gives %v, %v", raw, got, want, err)
		}
		mergesOK = true
	}
	return vocabOK, mergesOK
}

func TestScannersMatchEncodingJSON(t *testing.T) {
	for _, c := range []struct {
		raw                  string
		wantVocab, wantMerge bool
	}{
		{`{}`, true, false},
		{` { "a" : 1 , "b":-2 }  `, true, false},
		{`{"a": 1, "a": 2}`, true, false},           // last wins
		{`{"\u0120the": 3, "q\"": 4}`, true, false}, // escapes through encoding/json
		{"{\"\xff\": 1}", true, false},              // not UTF-8: U+FFFD, as encoding/json gives
		{`{"a": 1e3}`, false, false},                // declined: encoding/json decides
		{`{"a": 2.0}`, false, false},
		{`{"a": 99999999999999999999}`, false, false},
		{`{"a": "1"}`, false, false},
		{`null`, false, false},
		{`[]`, false, true},
		{`["a b", "Ġ t"]`, false, true},
		{`[["a", "b"], ["Ġ", "t\u00e9"]]`, false, true},
		{`["a b", ["c", "d"]]`, false, true},
		{`[["a", "b", "c"]]`, false, false},
		{`[1]`, false, false},
		{`[["a"]]`, false, false},
	} {
		v, m := checkScanners(t, []byte(c.raw))
		if v != c.wantVocab || m != c.wantMerge {
			t.Errorf("%s: scanned vocab %v merges %v; want %v %v", c.raw, v, m, c.wantVocab, c.wantMerge)
		}
	}
}

// FuzzScanners: on any valid JSON, an accepted scan equals encoding/json's decoding.
func FuzzScanners(f *testing.F) {
	for _, s := range []string{`{"a": 1, "b\n": -2}`, `["a b", ["c", "d"]]`, `[["\u00e9", "x"]]`, `{"x":0}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkScanners(t, raw)
	})
}
