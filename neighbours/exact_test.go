package neighbours

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

// TestExactMatchesNumpy compares with the numpy cosine ranking of
// testdata/prototypes/mmdcritic_refs.json (scripts/mmdcritic_refs.py).
func TestExactMatchesNumpy(t *testing.T) {
	b, err := os.ReadFile("../testdata/prototypes/mmdcritic_refs.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []struct {
			Name       string      `json:"name"`
			IDs        []string    `json:"ids"`
			X          [][]float32 `json:"x"`
			Query, K   int
			Neighbours [][2]float64 `json:"neighbours"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Cases {
		refs := make([]Ref, len(c.IDs))
		for i := range refs {
			refs[i] = Ref{ID: c.IDs[i], Vector: c.X[i]}
		}
		e, err := NewExact(refs)
		if err != nil {
			t.Fatal(err)
		}
		hits, err := e.Search(c.X[c.Query], c.K, c.IDs[c.Query])
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != len(c.Neighbours) {
			t.Fatalf("%s: %d hits, want %d", c.Name, len(hits), len(c.Neighbours))
		}
		for r, h := range hits {
			want := c.Neighbours[r]
			if h.Index != int(want[0]) || math.Abs(h.Similarity-want[1]) > 1e-12 {
				t.Errorf("%s hit %d: %d %.15f, want %d %.15f", c.Name, r, h.Index, h.Similarity, int(want[0]), want[1])
			}
		}
	}
}

// bruteForce ranks every reference by a full sort.
func bruteForce(refs []Ref, q []float32, k int, self string) []Hit {
	var all []Hit
	qn := 0.0
	for _, v := range q {
		qn += float64(v) * float64(v)
	}
	for i, r := range refs {
		if r.ID == self {
			continue
		}
		d, rn := 0.0, 0.0
		for j, v := range r.Vector {
			d += float64(v) * float64(q[j])
			rn += float64(v) * float64(v)
		}
		s := 0.0
		if qn > 0 && rn > 0 {
			s = d / (math.Sqrt(rn) * math.Sqrt(qn))
		}
		all = append(all, Hit{Index: i, ID: r.ID, Similarity: s})
	}
	slices.SortStableFunc(all, func(a, b Hit) int {
		if a.Similarity != b.Similarity {
			if a.Similarity > b.Similarity {
				return -1
			}
			return 1
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return all[:min(k, len(all))]
}

// TestExactEqualsBruteForce: random sets with many exact ties (vectors on a
// coarse grid, repeated vectors, a zero vector, ids not in vector order).
func TestExactEqualsBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := range 30 {
		n, d, k := 5+rng.IntN(200), 1+rng.IntN(6), 1+rng.IntN(12)
		refs := make([]Ref, n)
		for i := range refs {
			v := make([]float32, d)
			for j := range v {
				v[j] = float32(rng.IntN(3) - 1) // many ties
			}
			refs[i] = Ref{ID: fmt.Sprintf("x%05d", rng.IntN(1_000_000)*1000+i), Vector: v}
		}
		e, err := NewExact(refs)
		if err != nil {
			t.Fatal(err)
		}
		for q := range min(n, 20) {
			got, err := e.Search(refs[q].Vector, k, refs[q].ID)
			if err != nil {
				t.Fatal(err)
			}
			want := bruteForce(refs, refs[q].Vector, k, refs[q].ID)
			if len(got) != len(want) {
				t.Fatalf("trial %d: %d hits, want %d", trial, len(got), len(want))
			}
			for r := range got {
				if got[r] != want[r] {
					t.Fatalf("trial %d query %d hit %d: %+v, want %+v", trial, q, r, got[r], want[r])
				}
			}
		}
	}
}

func TestExactRefusesRaggedVectors(t *testing.T) {
	if _, err := NewExact([]Ref{{ID: "a", Vector: []float32{1}}, {ID: "b", Vector: []float32{1, 2}}}); err == nil {
		t.Error("NewExact accepted ragged vectors")
	}
	e, _ := NewExact([]Ref{{ID: "a", Vector: []float32{1}}})
	if _, err := e.Search([]float32{1, 2}, 1, ""); err == nil {
		t.Error("Search accepted a query of another dimension")
	}
}
