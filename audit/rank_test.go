package audit

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"
)

func TestClosedForms(t *testing.T) {
	// Monotone transforms keep both rank correlations at exactly 1; reversal gives −1.
	a := []float64{0.3, -1, 2, 7, 0.1}
	b := []float64{math.Exp(0.3), math.Exp(-1), math.Exp(2), math.Exp(7), math.Exp(0.1)}
	if r, ok := Spearman(a, b); !ok || r != 1 {
		t.Errorf("spearman of a monotone transform = %v %v", r, ok)
	}
	if r, ok := KendallTauB(a, b); !ok || r != 1 {
		t.Errorf("tau of a monotone transform = %v %v", r, ok)
	}
	neg := make([]float64, len(a))
	for i, x := range a {
		neg[i] = -x
	}
	if r, _ := Spearman(a, neg); r != -1 {
		t.Errorf("spearman reversed = %v", r)
	}
	if r, _ := KendallTauB(a, neg); r != -1 {
		t.Errorf("tau reversed = %v", r)
	}
	// n = 3, one swap: ρ = 1 − 6·2/(3·8) = 0.5, τ = (2 − 1)/3.
	if r, _ := Spearman([]float64{1, 2, 3}, []float64{1, 3, 2}); math.Abs(r-0.5) > 1e-15 {
		t.Errorf("spearman one swap = %v", r)
	}
	if r, _ := KendallTauB([]float64{1, 2, 3}, []float64{1, 3, 2}); math.Abs(r-1.0/3) > 1e-15 {
		t.Errorf("tau one swap = %v", r)
	}
	if _, ok := Spearman([]float64{1, 1}, []float64{1, 2}); ok {
		t.Error("spearman of a constant vector is defined")
	}
	if _, ok := KendallTauB([]float64{1}, []float64{1}); ok {
		t.Error("tau of one value is defined")
	}
	if _, ok := Spearman([]float64{1, math.NaN()}, []float64{1, 2}); ok {
		t.Error("spearman with NaN is defined")
	}
	if got := Ranks([]float64{3, 1, 3, 2}); !slices.Equal(got, []float64{3.5, 1, 3.5, 2}) {
		t.Errorf("ranks %v", got)
	}
	// Top-k: ties by position, k = min(5, n).
	if got := TopK([]float64{1, 2, 2, 0}, 2); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("topk %v", got)
	}
	if o, k, _ := TopKOverlap([]float64{1, 2, 3}, []float64{3, 2, 1}); o != 1 || k != 3 {
		t.Errorf("overlap n=3: %v %v", o, k)
	}
	if o, k, _ := TopKOverlap([]float64{9, 8, 7, 6, 5, 0, 0, 0}, []float64{0, 0, 0, 6, 5, 9, 8, 7}); o != 0.4 || k != 5 {
		t.Errorf("overlap: %v %v", o, k)
	}
}

type rankRef struct {
	Name        string    `json:"name"`
	A           []float64 `json:"a"`
	B           []float64 `json:"b"`
	Spearman    *float64  `json:"spearman"`
	KendallTauB *float64  `json:"kendall_tau_b"`
	K           int       `json:"k"`
	TopK        float64   `json:"topk_overlap"`
}

// TestScipyReferences compares with scipy.stats (scripts/rank_refs.py).
func TestScipyReferences(t *testing.T) {
	data, err := os.ReadFile("../testdata/audit/rank_refs.json")
	if err != nil {
		t.Fatal(err)
	}
	var refs struct {
		Cases []rankRef `json:"cases"`
	}
	if err := json.Unmarshal(data, &refs); err != nil {
		t.Fatal(err)
	}
	if len(refs.Cases) < 20 {
		t.Fatalf("%d cases", len(refs.Cases))
	}
	check := func(name, what string, got float64, ok bool, want *float64) {
		if want == nil {
			if ok {
				t.Errorf("%s %s: got %v, scipy says undefined", name, what, got)
			}
			return
		}
		if !ok || math.Abs(got-*want) > 1e-12 {
			t.Errorf("%s %s: got %v (%v), scipy %v", name, what, got, ok, *want)
		}
	}
	for _, c := range refs.Cases {
		r, ok := Spearman(c.A, c.B)
		check(c.Name, "spearman", r, ok, c.Spearman)
		tau, ok := KendallTauB(c.A, c.B)
		check(c.Name, "tau-b", tau, ok, c.KendallTauB)
		o, k, _ := TopKOverlap(c.A, c.B)
		if o != c.TopK || k != c.K {
			t.Errorf("%s top-k: %v (k %d), want %v (k %d)", c.Name, o, k, c.TopK, c.K)
		}
	}
}
