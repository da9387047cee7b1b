package surrogate

import (
	"cmp"
	"fmt"
	"slices"
)

// DocFreq accumulates document frequencies: for each feature string the number of documents that contain it; the zero value is empty.
//
// Its size is the number of distinct feature strings in the corpus (the full
// vocabulary, bigrams included when they are counted), which the exact top-K
// choice needs; it never grows with the number of documents otherwise.
type DocFreq struct {
	// Docs is the number of documents added.
	Docs int64
	// Count maps a feature string to the number of documents containing it.
	Count map[string]int64
}

// AddDoc counts one document whose features (as returned by Words) are given; repeated features count once.
func (d *DocFreq) AddDoc(features []string) {
	d.Docs++
	if len(features) == 0 {
		return
	}
	if d.Count == nil {
		d.Count = make(map[string]int64, len(features))
	}
	seen := make(map[string]struct{}, len(features))
	for _, f := range features {
		if _, ok := seen[f]; ok {
			continue
		}
		seen[f] = struct{}{}
		d.Count[f]++
	}
}

// Merge adds the counts of other to d; the result does not depend on the order of merges.
func (d *DocFreq) Merge(other DocFreq) {
	d.Docs += other.Docs
	if len(other.Count) == 0 {
		return
	}
	if d.Count == nil {
		d.Count = make(map[string]int64, len(other.Count))
	}
	for w, c := range other.Count {
		d.Count[w] += c
	}
}

// TopK returns the k features with the highest document frequency, ties broken by byte-wise lexicographic order (ascending); fewer when the corpus has fewer.
func (d DocFreq) TopK(k int) Vocab {
	type wc struct {
		w string
		c int64
	}
	all := make([]wc, 0, len(d.Count))
	for w, c := range d.Count {
		all = append(all, wc{w, c})
	}
	slices.SortFunc(all, func(a, b wc) int {
		if a.c != b.c {
			return cmp.Compare(b.c, a.c)
		}
		return cmp.Compare(a.w, b.w)
	})
	k = max(min(k, len(all)), 0)
	words := make([]string, k)
	for i := range words {
		words[i] = all[i].w
	}
	v, _ := NewVocab(words) // distinct map keys: no error
	return v
}

// Vocab is an ordered feature vocabulary: feature j is Words[j].
//
// A Vocab made by NewVocab or TopK carries an index for Index; one built
// directly (for example decoded from storage) still works, with a linear
// search, until it is passed through NewVocab.
type Vocab struct {
	// Words are the feature strings in feature order.
	Words []string
	index map[string]int
}

// NewVocab returns the vocabulary with the given words in order, or an error if a word repeats.
func NewVocab(words []string) (Vocab, error) {
	idx := make(map[string]int, len(words))
	for j, w := range words {
		if _, dup := idx[w]; dup {
			return Vocab{}, fmt.Errorf("vocabulary: word %q appears twice", w)
		}
		idx[w] = j
	}
	return Vocab{Words: words, index: idx}, nil
}

// Len returns the number of features.
func (v Vocab) Len() int { return len(v.Words) }

// Index returns the feature index of word and whether it is in the vocabulary.
func (v Vocab) Index(word string) (int, bool) {
	if v.index != nil {
		j, ok := v.index[word]
		return j, ok
	}
	for j, w := range v.Words {
		if w == word {
			return j, true
		}
	}
	return -1, false
}
