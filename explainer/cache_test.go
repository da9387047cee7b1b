package explainer

import (
	"context"
	"math"
	"testing"

	"github.com/glassbox-ai/glassbox/corpus"
)

// TestInputsScoredOncePerExample: with occlusion and KernelSHAP at a budget
// that enumerates every coalition, the example's distinct inputs are the 2^n
// coalitions of its n players (occlusion's inputs are among them), so the
// session runs 1 (prediction) + 2^n rows, where running the methods apart adds
// occlusion's own; the attributions are those of the separate runs. The same
// holds for a causal LM through its per-target score cache.
func TestInputsScoredOncePerExample(t *testing.T) {
	for _, c := range []struct{ dir, text string }{
		{"../testdata/models/distilbert-sentiment", "a quiet and pleasant evening walk"},
		{"../testdata/models/gpt2-tiny", "She walked to the window and"},
	} {
		t.Run(c.dir, func(t *testing.T) {
			rec := corpus.Record{ID: "a", Text: c.text, Source: "t", Line: 1}
			shap := MethodConfig{Name: "kernelshap", Params: []byte(`{"samples":4096}`)}
			run := func(methods ...MethodConfig) (map[string][]float64, int64) {
				ex := openSpec(t, Spec{Model: c.dir, RunID: "r", Seed: 1, Target: "predicted", BatchSize: 16, Methods: methods})
				before := ex.sess.RowsRun()
				out, err := ex.Explain(context.Background(), []corpus.Record{rec})
				if err != nil || len(out.Rows) != len(methods) {
					t.Fatalf("explain: %v %+v", err, out)
				}
				attr := map[string][]float64{}
				for _, r := range out.Rows {
					for _, tok := range r.Tokens {
						attr[r.Method] = append(attr[r.Method], tok.Attribution)
					}
				}
				return attr, ex.sess.RowsRun() - before
			}
			occ, occRows := run(MethodConfig{Name: "occlusion"})
			ks, ksRows := run(shap)
			both, bothRows := run(MethodConfig{Name: "occlusion"}, shap)
			n := len(occ["occlusion"])
			special := 0
			if c.dir == "../testdata/models/distilbert-sentiment" {
				special = 2 // [CLS] and [SEP] are never absent
			}
			players := n - special
			full := int64(1) << players
			if occRows < int64(players) {
				t.Errorf("occlusion alone ran %d rows; want at least %d", occRows, players)
			}
			if ksRows != 1+full {
				t.Errorf("kernelshap alone ran %d rows; want 1 + 2^%d", ksRows, players)
			}
			if bothRows != 1+full {
				t.Errorf("both ran %d rows; want 1 + 2^%d = %d (apart: %d)", bothRows, players, 1+full, occRows+ksRows)
			}
			for m, want := range map[string][]float64{"occlusion": occ["occlusion"], "kernelshap": ks["kernelshap"]} {
				for i, w := range want {
					if math.Abs(both[m][i]-w) > 1e-6 {
						t.Errorf("%s token %d: %v together, %v apart", m, i, both[m][i], w)
					}
				}
			}
			t.Logf("rows run: occlusion %d, kernelshap %d, apart %d, together %d", occRows, ksRows, occRows+ksRows, bothRows)
		})
	}
}
