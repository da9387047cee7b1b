package surrogate

import (
	"math"
	"reflect"
	"testing"
)

func TestWords(t *testing.T) {
	tests := []struct {
		in             []string
		lower, bigrams bool
		want           []string
	}{
		{[]string{"Not", "BAD", "at", "all"}, true, false, []string{"not", "bad", "at", "all"}},
		{[]string{"Not", "BAD"}, false, false, []string{"Not", "BAD"}},
		{[]string{"Not", "", "bad", "film"}, true, true, []string{"not", "bad", "film", "not bad", "bad film"}},
		{[]string{"ÉCOLE"}, true, true, []string{"école"}},
		{nil, true, true, []string{}},
	}
	for _, tc := range tests {
		if got := Words(tc.in, tc.lower, tc.bigrams); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Words(%q, %v, %v) = %q, want %q", tc.in, tc.lower, tc.bigrams, got, tc.want)
		}
	}
}

func TestDocFreqTopK(t *testing.T) {
	docs := [][]string{
		{"b", "a", "a", "c"},
		{"a", "c", "B"},
		{"c", "d"},
		{"b", "d", "e"},
		{},
	}
	// Document frequencies: c 3, a 2, b 2, d 2, B 1, e 1.
	var whole DocFreq
	for _, d := range docs {
		whole.AddDoc(d)
	}
	// Shards merged in another order give the same counts.
	var s1, s2, merged DocFreq
	s1.AddDoc(docs[3])
	s1.AddDoc(docs[0])
	s2.AddDoc(docs[4])
	s2.AddDoc(docs[2])
	s2.AddDoc(docs[1])
	merged.Merge(s2)
	merged.Merge(s1)
	if !reflect.DeepEqual(merged, whole) {
		t.Fatalf("merged %+v, want %+v", merged, whole)
	}
	if whole.Docs != 5 || whole.Count["a"] != 2 || whole.Count["c"] != 3 {
		t.Fatalf("counts %+v", whole)
	}
	tests := []struct {
		k    int
		want []string
	}{
		{0, []string{}},
		{1, []string{"c"}},
		{3, []string{"c", "a", "b"}},
		{5, []string{"c", "a", "b", "d", "B"}}, // "B" < "e" in byte order
		{10, []string{"c", "a", "b", "d", "B", "e"}},
	}
	for _, tc := range tests {
		v := whole.TopK(tc.k)
		if !reflect.DeepEqual(v.Words, tc.want) {
			t.Errorf("TopK(%d) = %q, want %q", tc.k, v.Words, tc.want)
		}
	}
}

func TestVocabEncode(t *testing.T) {
	v, err := NewVocab([]string{"bad", "not", "good", "not bad"})
	if err != nil {
		t.Fatal(err)
	}
	feats := Words([]string{"Not", "bad", "not", "BAD", "movie"}, true, true)
	tests := []struct {
		counts bool
		want   Row
	}{
		{false, Row{Index: []int{0, 1, 3}, Value: []float64{1, 1, 1}}},
		{true, Row{Index: []int{0, 1, 3}, Value: []float64{2, 2, 2}}},
	}
	for _, tc := range tests {
		if got := v.Encode(feats, tc.counts); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Encode(counts=%v) = %+v, want %+v", tc.counts, got, tc.want)
		}
	}
	// A vocabulary without its index (as decoded) looks words up the same way.
	plain := Vocab{Words: v.Words}
	if j, ok := plain.Index("good"); !ok || j != 2 {
		t.Errorf("Index(good) = %d, %v", j, ok)
	}
	if _, ok := v.Index("movie"); ok {
		t.Error("movie is not in the vocabulary")
	}
	if _, err := NewVocab([]string{"a", "a"}); err == nil {
		t.Error("NewVocab accepted a repeated word")
	}
}

func TestRowCheck(t *testing.T) {
	tests := []struct {
		name    string
		row     Row
		invalid bool
		err     bool
	}{
		{"sparse", Row{Index: []int{0, 3}, Value: []float64{1, 2}}, false, false},
		{"empty", Row{}, false, false},
		{"dense", Dense([]float64{0, 1, 2, 3}), false, false},
		{"dense wrong length", Dense([]float64{1, 2}), false, true},
		{"unsorted", Row{Index: []int{3, 0}, Value: []float64{1, 1}}, false, true},
		{"duplicate", Row{Index: []int{1, 1}, Value: []float64{1, 1}}, false, true},
		{"out of range", Row{Index: []int{4}, Value: []float64{1}}, false, true},
		{"length mismatch", Row{Index: []int{1}, Value: []float64{1, 2}}, false, true},
		{"nan", Row{Index: []int{1}, Value: []float64{math.NaN()}}, true, false},
		{"huge", Dense([]float64{0, 0, 0, 1 << 32}), true, false},
	}
	for _, tc := range tests {
		err := tc.row.check(4)
		switch {
		case tc.invalid && err != errInvalidValue:
			t.Errorf("%s: %v, want errInvalidValue", tc.name, err)
		case tc.err && (err == nil || err == errInvalidValue):
			t.Errorf("%s: %v, want a structural error", tc.name, err)
		case !tc.invalid && !tc.err && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	r := Row{Index: []int{1, 3}, Value: []float64{2, 5}}
	if r.At(3) != 5 || r.At(2) != 0 || r.Dot([]float64{1, 1, 1, 2}) != 12 {
		t.Errorf("At/Dot wrong on %+v", r)
	}
}
