package explainer

import (
	"context"
	"testing"

	"github.com/glassbox-ai/glassbox/audit"
	"github.com/glassbox-ai/glassbox/corpus"
)

// On the additive model the logit's Shapley values are the token
// contributions, which is occlusion too: the two methods rank the tokens
// identically (τ = ρ = 1, full top-k overlap), for every target. A third
// method gives a row per pair, and the corpus accumulator counts them.
func TestAgreementRows(t *testing.T) {
	ex := openSpec(t, Spec{Model: "../testdata/models/additive", RunID: "r", Seed: 1, Target: "all", OutputKind: "logit", BatchSize: 8,
		Methods: []MethodConfig{{Name: "occlusion"}, {Name: "kernelshap"}, {Name: "saliency"}}})
	recs := []corpus.Record{{ID: "a", Text: "What a wonderful evening with friends"}, {ID: "b", Text: "terrible plot, awful acting"}}
	out, err := ex.Explain(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	// 2 examples × 2 targets × 3 pairs.
	if len(out.Agreement) != 12 {
		t.Fatalf("%d agreement rows, want 12", len(out.Agreement))
	}
	pairs := map[[2]string]int{}
	for _, r := range out.Agreement {
		pairs[[2]string{r.MethodA, r.MethodB}]++
		if r.RunID != "r" || r.K != min(5, r.NTokens) {
			t.Errorf("row %+v", r)
		}
		if r.MethodA == "occlusion" && r.MethodB == "kernelshap" {
			if r.KendallTau == nil || *r.KendallTau != 1 || *r.Spearman != 1 || r.TopKOverlap != 1 {
				t.Errorf("occlusion vs kernelshap on the additive model: %+v", r)
			}
		}
	}
	for _, p := range [][2]string{{"occlusion", "kernelshap"}, {"occlusion", "saliency"}, {"kernelshap", "saliency"}} {
		if pairs[p] != 4 {
			t.Errorf("pair %v: %d rows, want 4", p, pairs[p])
		}
	}
	// The rows are those audit.Agreement gives on the explanation rows' non-special tokens.
	for _, r := range out.Agreement {
		var a, b []float64
		for _, row := range out.Rows {
			if row.ExampleID != r.ExampleID || row.Target != r.Target {
				continue
			}
			var v []float64
			for _, tok := range row.Tokens {
				if !tok.Special {
					v = append(v, tok.Attribution)
				}
			}
			switch row.Method {
			case r.MethodA:
				a = v
			case r.MethodB:
				b = v
			}
		}
		if want, _ := audit.Spearman(a, b); r.Spearman != nil && *r.Spearman != want {
			t.Errorf("%s/%s %s: spearman %v, want %v", r.MethodA, r.MethodB, r.ExampleID, *r.Spearman, want)
		}
		if int(r.NTokens) != len(a) {
			t.Errorf("n_tokens %d, want %d", r.NTokens, len(a))
		}
	}
	sums := audit.AgreementSummaries("r", out.AgreementAcc)
	if len(sums) != 6 {
		t.Fatalf("%d summaries, want 6 (3 pairs × 2 targets)", len(sums))
	}
	for _, s := range sums {
		if s.Count != 2 {
			t.Errorf("summary %+v", s)
		}
		if s.MethodA == "occlusion" && s.MethodB == "kernelshap" && (*s.MeanKendallTau != 1 || s.MeanTopKOverlap != 1) {
			t.Errorf("summary %+v", s)
		}
	}
	// One method: no agreement.
	one := openSpec(t, Spec{Model: "../testdata/models/additive", RunID: "r", Seed: 1, Target: "predicted", OutputKind: "logit", Methods: []MethodConfig{{Name: "occlusion"}}})
	out, err = one.Explain(context.Background(), recs)
	if err != nil || len(out.Agreement) != 0 || len(out.AgreementAcc) != 0 {
		t.Errorf("one method: %v %d rows", err, len(out.Agreement))
	}
}
