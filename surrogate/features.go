package surrogate

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// MaxAbs is the largest feature or target magnitude the accumulators accept (2^31), so every product they sum stays inside Fixed's range.
const MaxAbs = 1 << 31

// Row is one example's feature vector, sparse or dense.
//
// Sparse (len(Index) > 0, or both slices empty): Value[i] is feature
// Index[i], indices strictly increasing, every other feature 0. Dense
// (Index empty, Value non-empty): Value[j] is feature j and len(Value) is the
// feature count. Word features come from Vocab.Encode; a probe (a pooled
// hidden state of dimension d) is Dense(h).
type Row struct {
	// Index holds the sorted feature indices of a sparse row; empty for a dense row.
	Index []int
	// Value holds the values matching Index, or every feature of a dense row.
	Value []float64
}

// Dense returns the dense row with values x (not copied).
func Dense(x []float64) Row { return Row{Value: x} }

// IsDense reports whether r is a dense row.
func (r Row) IsDense() bool { return len(r.Index) == 0 && len(r.Value) > 0 }

// errInvalidValue marks a row with a non-finite value or one beyond MaxAbs.
var errInvalidValue = errors.New("non-finite value or |value| > MaxAbs")

// check validates r against p features: a structural problem is an error; a
// non-finite or too large value is errInvalidValue (the accumulators count
// such rows instead of failing).
func (r Row) check(p int) error {
	if r.IsDense() {
		if len(r.Value) != p {
			return fmt.Errorf("dense row has %d values, want %d features", len(r.Value), p)
		}
	} else {
		if len(r.Index) != len(r.Value) {
			return fmt.Errorf("sparse row has %d indices and %d values", len(r.Index), len(r.Value))
		}
		for i, j := range r.Index {
			if j < 0 || j >= p {
				return fmt.Errorf("sparse row index %d outside [0, %d)", j, p)
			}
			if i > 0 && j <= r.Index[i-1] {
				return fmt.Errorf("sparse row indices not strictly increasing at %d", i)
			}
		}
	}
	for _, v := range r.Value {
		if !validValue(v) {
			return errInvalidValue
		}
	}
	return nil
}

func validValue(v float64) bool { return math.Abs(v) <= MaxAbs } // false for NaN too

// At returns feature j of a row with p features (0 for j out of range).
func (r Row) At(j int) float64 {
	if r.IsDense() {
		if j < 0 || j >= len(r.Value) {
			return 0
		}
		return r.Value[j]
	}
	if i, ok := slices.BinarySearch(r.Index, j); ok {
		return r.Value[i]
	}
	return 0
}

// Dot returns Σ_j x_j·w_j over the row's stored entries, in index order.
func (r Row) Dot(w []float64) float64 {
	s := 0.0
	if r.IsDense() {
		for j, v := range r.Value {
			if j < len(w) {
				s += v * w[j]
			}
		}
		return s
	}
	for i, j := range r.Index {
		if j >= 0 && j < len(w) {
			s += r.Value[i] * w[j]
		}
	}
	return s
}

// scratch holds a row's nonzero entries, optionally behind a leading
// constant 1 at index 0 with the features shifted by one (the intercept).
type scratch struct {
	idx []int
	val []float64
}

// load fills s with the nonzero entries of a checked row; with intercept the
// entry (0, 1) comes first and feature j becomes index j+1.
func (s *scratch) load(r Row, intercept bool) {
	s.idx, s.val = s.idx[:0], s.val[:0]
	off := 0
	if intercept {
		s.idx, s.val, off = append(s.idx, 0), append(s.val, 1), 1
	}
	for i, v := range r.Value {
		if v == 0 {
			continue
		}
		j := i
		if !r.IsDense() {
			j = r.Index[i]
		}
		s.idx, s.val = append(s.idx, j+off), append(s.val, v)
	}
}

// packed returns the position of (i, j), i ≤ j, in a packed upper triangle stored column by column.
func packed(i, j int) int { return j*(j+1)/2 + i }

// Words returns a document's features from its word texts (the tokenizer's words): each word lower-cased with strings.ToLower when lower is set, empty words dropped, then with bigrams the adjacent pairs "w1 w2" (one space) appended after the unigrams.
func Words(words []string, lower bool, bigrams bool) []string {
	out := make([]string, 0, 2*len(words))
	for _, w := range words {
		if lower {
			w = strings.ToLower(w)
		}
		if w != "" {
			out = append(out, w)
		}
	}
	if bigrams {
		n := len(out)
		for i := 1; i < n; i++ {
			out = append(out, out[i-1]+" "+out[i])
		}
	}
	return out
}

// Encode returns the sparse row of a document's features (from Words): the sorted vocabulary indices present, valued 1 (presence) or, with counts, the number of occurrences; features outside the vocabulary are dropped.
func (v Vocab) Encode(features []string, counts bool) Row {
	occ := make(map[int]float64, len(features))
	for _, f := range features {
		if j, ok := v.Index(f); ok {
			if counts {
				occ[j]++
			} else {
				occ[j] = 1
			}
		}
	}
	r := Row{Index: make([]int, 0, len(occ)), Value: make([]float64, 0, len(occ))}
	for j := range occ {
		r.Index = append(r.Index, j)
	}
	slices.Sort(r.Index)
	for _, j := range r.Index {
		r.Value = append(r.Value, occ[j])
	}
	return r
}
