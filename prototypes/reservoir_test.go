package prototypes

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
)

// TestReservoirIndependentOfSplitting: however the examples are split into
// partial reservoirs and merged, the result is the Cap smallest priorities
// of the whole set (computed by sorting everything).
func TestReservoirIndependentOfSplitting(t *testing.T) {
	const n, capacity, seed = 500, 37, 11
	var all []Example
	for i := range n {
		all = append(all, Example{ID: fmt.Sprintf("e%04d", i), Vector: []float32{float32(i)}})
	}
	type pe struct {
		p  uint64
		id string
	}
	var want []string
	ps := make([]pe, n)
	for i, e := range all {
		ps[i] = pe{explanation.Seed(seed, e.ID), e.ID}
	}
	slices.SortFunc(ps, func(a, b pe) int {
		if a.p != b.p {
			if a.p < b.p {
				return -1
			}
			return 1
		}
		return 0
	})
	for _, p := range ps[:capacity] {
		want = append(want, p.id)
	}
	slices.Sort(want)
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 5 {
		perm := rng.Perm(n)
		parts := 1 + trial*3
		rs := make([]*Reservoir, parts)
		for i := range rs {
			rs[i] = NewReservoir(capacity, seed)
		}
		for i, j := range perm {
			rs[i%parts].Add(all[j])
			if i%7 == 0 { // an id seen twice is kept once
				rs[(i+1)%parts].Add(all[j])
			}
		}
		// Merge in a shuffled tree order, through the gob encoding.
		for len(rs) > 1 {
			a, b := rng.IntN(len(rs)), 0
			for b = rng.IntN(len(rs)); b == a; b = rng.IntN(len(rs)) {
			}
			enc, err := rs[b].Encode()
			if err != nil {
				t.Fatal(err)
			}
			o, err := DecodeReservoir(enc)
			if err != nil {
				t.Fatal(err)
			}
			if err := rs[a].Merge(o); err != nil {
				t.Fatal(err)
			}
			rs = slices.Delete(rs, b, b+1)
		}
		var got []string
		for _, e := range rs[0].Examples() {
			got = append(got, e.ID)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: got %v, want %v", trial, got, want)
		}
	}
}

func TestStrata(t *testing.T) {
	for _, tc := range []struct {
		e    Example
		ref  bool
		want []Stratum
	}{
		{Example{Predicted: "pos"}, false, []Stratum{{ByPredicted, "pos"}}},
		{Example{Predicted: "pos", Gold: "neg"}, true, []Stratum{{ByPredicted, "pos"}, {ByGold, "neg"}, {ByReference, ""}}},
	} {
		got := Strata(tc.e, tc.ref)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Strata(%+v) = %v, want %v", tc.e, got, tc.want)
		}
		for _, s := range got {
			if back, err := ParseStratum(s.Key()); err != nil || back != s {
				t.Errorf("ParseStratum(%q) = %v, %v", s.Key(), back, err)
			}
		}
	}
	if _, err := ParseStratum("label"); err == nil {
		t.Error("ParseStratum accepted a key without kind")
	}
}
