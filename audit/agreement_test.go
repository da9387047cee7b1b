package audit

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/glassbox-ai/glassbox/schemas"
)

func TestAgreementRows(t *testing.T) {
	special := []bool{true, false, false, false, true}
	rows := Agreement("r", "ex", special, []Attributions{
		{Method: "occlusion", Target: "POS", Tokens: []float64{9, 1, 2, 3, -9}},
		{Method: "ig", Target: "POS", Tokens: []float64{-5, 10, 20, 30, 5}}, // same order on the real tokens
		{Method: "saliency", Target: "POS", Tokens: []float64{0, 3, 2, 1, 0}},
		{Method: "occlusion", Target: "NEG", Tokens: []float64{0, 1, 2, 3, 0}}, // another target: no pair
	})
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3: %+v", len(rows), rows)
	}
	r := rows[0]
	if r.MethodA != "occlusion" || r.MethodB != "ig" || *r.KendallTau != 1 || *r.Spearman != 1 || r.TopKOverlap != 1 || r.K != 3 || r.NTokens != 3 {
		t.Errorf("occlusion/ig: %+v", r)
	}
	r = rows[1]
	if r.MethodB != "saliency" || *r.KendallTau != -1 || *r.Spearman != -1 || r.TopKOverlap != 1 {
		t.Errorf("occlusion/saliency: %+v", r)
	}
	// One real token: nothing ranks, overlap is 1 of 1.
	one := Agreement("r", "e", []bool{true, false, true}, []Attributions{
		{Method: "a", Target: "T", Tokens: []float64{0, 1, 0}}, {Method: "b", Target: "T", Tokens: []float64{0, 2, 0}},
	})
	if len(one) != 1 || one[0].KendallTau != nil || one[0].Spearman != nil || one[0].TopKOverlap != 1 || one[0].K != 1 {
		t.Errorf("one token: %+v", one)
	}
}

// The summary is the same bytes whatever order rows are added and merged in.
func TestAgreementAccMergeOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var rows []schemas.AgreementRow
	var sumTau, sumOverlap float64
	nTau := 0
	for i := range 200 {
		r := schemas.AgreementRow{MethodA: "a", MethodB: "b", Target: "T", TopKOverlap: float64(rng.IntN(6)) / 5, K: 5}
		if i%7 != 0 {
			v := rng.Float64()*2 - 1
			r.KendallTau = &v
			sumTau += v
			nTau++
		}
		s := rng.Float64()*2 - 1
		r.Spearman = &s
		sumOverlap += r.TopKOverlap
		rows = append(rows, r)
	}
	k := AgreementKey{"a", "b", "T"}
	whole := AgreementContributions(rows)[k]
	for trial := range 5 {
		perm := rng.Perm(len(rows))
		parts := make([]AgreementAcc, 1+trial)
		for j, p := range perm {
			parts[j%len(parts)].Add(rows[p])
		}
		var merged AgreementAcc
		for _, j := range rng.Perm(len(parts)) {
			merged = merged.Merge(parts[j])
		}
		if !reflect.DeepEqual(merged, whole) {
			t.Fatalf("trial %d: merged %+v, whole %+v", trial, merged, whole)
		}
	}
	sum := AgreementSummaries("r", map[AgreementKey]AgreementAcc{k: whole})[0]
	if sum.Count != 200 || sum.TauCount != int64(nTau) || sum.SpearmanCount != 200 {
		t.Errorf("counts %+v", sum)
	}
	if math.Abs(*sum.MeanKendallTau-sumTau/float64(nTau)) > 1e-14 || math.Abs(sum.MeanTopKOverlap-sumOverlap/200) > 1e-14 {
		t.Errorf("means %v %v, want %v %v", *sum.MeanKendallTau, sum.MeanTopKOverlap, sumTau/float64(nTau), sumOverlap/200)
	}
}
