package neighbours

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// clustered makes n references of dimension d around 20 centres.
func clustered(rng *rand.Rand, n, d int) []Ref {
	centres := make([][]float64, 20)
	for i := range centres {
		centres[i] = make([]float64, d)
		for j := range centres[i] {
			centres[i][j] = 3 * rng.NormFloat64()
		}
	}
	refs := make([]Ref, n)
	for i := range refs {
		c := centres[rng.IntN(len(centres))]
		v := make([]float32, d)
		for j := range v {
			v[j] = float32(c[j] + rng.NormFloat64())
		}
		refs[i] = Ref{ID: fmt.Sprintf("r%06d", rng.IntN(1_000_000)*10+i%10), Vector: v}
	}
	return refs
}

// TestHNSWRecall: on 2,000 clustered vectors, with a small graph (M 8,
// efConstruction 40, efSearch 20) so that it is approximate, the graph finds
// at least 90% of the exact 10 nearest neighbours of 200 queries, every similarity it
// reports is the exact one, and the index (so its answers) does not depend
// on the order the references are given in.
func TestHNSWRecall(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	refs := clustered(rng, 2000, 32)
	p := HNSWParams{M: 8, EfConstruction: 40, EfSearch: 20, Seed: 3}
	exact, err := NewExact(refs)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHNSW(context.Background(), refs, p)
	if err != nil {
		t.Fatal(err)
	}
	shuffled := slices.Clone(refs)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	h2, err := NewHNSW(context.Background(), shuffled, p)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	const queries, k = 200, 10
	for q := range queries {
		want, _ := exact.Search(refs[q].Vector, k, refs[q].ID)
		got, err := h.Search(refs[q].Vector, k, refs[q].ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range got {
			if g.ID == refs[q].ID {
				t.Fatal("the query is its own neighbour")
			}
			if g.Similarity != Cosine(exact.vecs[g.Index], exact.norms[g.Index], exact.vecs[q], exact.norms[q]) {
				t.Fatalf("similarity %v is not the exact cosine", g.Similarity)
			}
		}
		got2, _ := h2.Search(refs[q].Vector, k, refs[q].ID)
		for i := range got2 {
			if got2[i].ID != got[i].ID || got2[i].Similarity != got[i].Similarity {
				t.Fatalf("query %d: shuffled references give %v, want %v", q, got2, got)
			}
		}
		sum += Recall(got, want)
	}
	if recall := sum / queries; recall < 0.9 {
		t.Errorf("recall@%d = %.4f, want ≥ 0.9", k, recall)
	} else {
		t.Logf("recall@%d = %.4f", k, recall)
	}
}

func TestHNSWRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	if _, err := NewHNSW(ctx, []Ref{{ID: "a", Vector: []float32{1}}, {ID: "b", Vector: []float32{1, 2}}}, DefaultHNSW()); err == nil {
		t.Error("ragged vectors accepted")
	}
	if _, err := NewHNSW(ctx, nil, HNSWParams{M: 1, EfConstruction: 1, EfSearch: 1}); err == nil {
		t.Error("M = 1 accepted")
	}
	h, err := NewHNSW(ctx, nil, DefaultHNSW())
	if err != nil {
		t.Fatal(err)
	}
	if hits, err := h.Search([]float32{1}, 3, ""); err != nil || len(hits) != 0 {
		t.Errorf("empty index: %v, %v", hits, err)
	}
}
