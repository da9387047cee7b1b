package explainer

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/faithfulness"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/onnxgraph"
)

// TestFaithfulnessAdditive: on the additive fixture's logit, occlusion gives
// each token its own term, so comprehensiveness(k) is the sum of the top c(k)
// attributions and sufficiency(k) the sum of the others (closed forms), on
// the rows the explainer writes.
func TestFaithfulnessAdditive(t *testing.T) {
	ex := openSpec(t, Spec{Model: "../testdata/models/additive", RunID: "r", Seed: 1, Target: "all", OutputKind: "logit", BatchSize: 8,
		Methods: []MethodConfig{{Name: "occlusion"}}, Faithfulness: &Faithfulness{}})
	texts := []string{"What a wonderful evening", "The dinner was dreadful and the company was even worse, truly awful and sad.", "Good."}
	for _, text := range texts {
		out, err := ex.Explain(context.Background(), []corpus.Record{{ID: "a", Text: text}})
		if err != nil || len(out.Rows) != 2 || len(out.Errors) != 0 {
			t.Fatalf("%q: %v, %d rows, errors %+v", text, err, len(out.Rows), out.Errors)
		}
		for _, row := range out.Rows {
			f := row.Faithfulness
			if f == nil {
				t.Fatalf("%q %s: no faithfulness", text, row.Target)
			}
			var attr []float64
			total := 0.0
			for _, tok := range row.Tokens {
				if !tok.Special {
					attr = append(attr, tok.Attribution)
					total += tok.Attribution
				}
			}
			sorted := slices.Clone(attr)
			sort.Sort(sort.Reverse(sort.Float64Slice(sorted)))
			if f.Masking != "attention" || int(f.Tokens) != len(attr) || math.Abs(f.FullScore-row.TargetScore) > 1e-5 {
				t.Errorf("%q %s: masking %s tokens %d full %v target score %v", text, row.Target, f.Masking, f.Tokens, f.FullScore, row.TargetScore)
			}
			var aopc float64
			for j, k := range faithfulness.Ks {
				c := (k*len(attr) + 99) / 100
				top := 0.0
				for _, a := range sorted[:c] {
					top += a
				}
				aopc += top / 5
				if int(f.KTokens[j]) != c || math.Abs(f.Comprehensiveness[j]-top) > 1e-5 || math.Abs(f.Sufficiency[j]-(total-top)) > 1e-5 {
					t.Errorf("%q %s k=%d%%: c %d comprehensiveness %v sufficiency %v, want %d %v %v", text, row.Target, k,
						f.KTokens[j], f.Comprehensiveness[j], f.Sufficiency[j], c, top, total-top)
				}
			}
			if math.Abs(f.AOPCComprehensiveness-aopc) > 1e-5 {
				t.Errorf("%q %s: AOPC %v, want %v", text, row.Target, f.AOPCComprehensiveness, aopc)
			}
		}
	}
	// The batch's aggregate holds every row's metrics, per method and target.
	var rows []faithfulness.Row
	out, err := ex.Explain(context.Background(), []corpus.Record{{ID: "a", Text: texts[0]}, {ID: "b", Text: texts[1]}, {ID: "c", Text: texts[2]}})
	if err != nil || len(out.Faithfulness) != 2 {
		t.Fatalf("%v: %d aggregates", err, len(out.Faithfulness))
	}
	for k, acc := range out.Faithfulness {
		rows = append(rows, faithfulness.Finalize(k, acc)...)
	}
	faithfulness.SortRows(rows)
	if rows[0].Method != "occlusion" || rows[0].Target != "NEGATIVE" || rows[0].Metric != "comprehensiveness_1" || rows[0].Count != 3 {
		t.Errorf("first aggregate row %+v", rows[0])
	}
	// Off: no column.
	off := openSpec(t, Spec{Model: "../testdata/models/additive", RunID: "r", Seed: 1, Target: "predicted", OutputKind: "logit",
		Methods: []MethodConfig{{Name: "occlusion"}}})
	out, err = off.Explain(context.Background(), []corpus.Record{{ID: "a", Text: texts[0]}})
	if err != nil || len(out.Rows) != 1 || out.Rows[0].Faithfulness != nil || len(out.Faithfulness) != 0 {
		t.Fatalf("faithfulness off: %v %+v", err, out.Rows)
	}
}

// TestFaithfulnessMethods: gradient methods get faithfulness with the
// option's masking, perturbation methods with their own, attention methods none;
// the values are Compute's on the row's attributions with the row's scorer.
func TestFaithfulnessMethods(t *testing.T) {
	const dir = "../testdata/models/distilbert-sentiment"
	graph, names, err := onnxgraph.ExposeAttentionFile(filepath.Join(dir, "model.onnx"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ex := openSpec(t, Spec{Model: dir, GraphPath: graph, AttentionOutputs: names, RunID: "r", Seed: 1, Target: "predicted", OutputKind: "probability", BatchSize: 8,
		Methods:      []MethodConfig{{Name: "occlusion", Params: []byte(`{"masking":"attention"}`)}, {Name: "rollout"}, {Name: "saliency"}},
		Faithfulness: &Faithfulness{Masking: "replace"}})
	text := "The dinner was dreadful and the company was even worse."
	out, err := ex.Explain(context.Background(), []corpus.Record{{ID: "a", Text: text}})
	if err != nil || len(out.Rows) != 3 || len(out.Errors) != 0 {
		t.Fatalf("%v, %d rows, errors %+v", err, len(out.Rows), out.Errors)
	}
	m := ex.model
	enc, _ := m.Encode(text)
	in := m.InputFromEncoding(enc)
	special := make([]bool, len(in.IDs))
	for i, s := range enc.SpecialTokensMask {
		special[i] = s != 0
	}
	want := map[string]string{"occlusion": "attention", "rollout": "", "saliency": "replace"}
	for _, row := range out.Rows {
		f := row.Faithfulness
		if want[row.Method] == "" {
			if f != nil {
				t.Errorf("%s: faithfulness %+v, want none", row.Method, f)
			}
			continue
		}
		if f == nil || f.Masking != want[row.Method] {
			t.Fatalf("%s: faithfulness %+v, want masking %s", row.Method, f, want[row.Method])
		}
		attr := make([]float64, len(row.Tokens))
		for i, tok := range row.Tokens {
			attr[i] = tok.Attribution
		}
		pos := slices.Index(m.Labels, row.Target)
		sc, err := ex.sess.ClassScorer(pos, inference.Probability, 8)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := faithfulness.Compute(context.Background(), sc, explanation.Request{Input: in, Special: special,
			Masking: explanation.Masking(f.Masking), ReplaceID: m.MaskID}, attr)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := faithfulness.FromColumn(f)
		if !ok {
			t.Fatal("bad column")
		}
		for j := range faithfulness.Ks {
			if math.Abs(got.Comprehensiveness[j]-ref.Comprehensiveness[j]) > 1e-9 || math.Abs(got.Sufficiency[j]-ref.Sufficiency[j]) > 1e-9 {
				t.Errorf("%s k=%d%%: %v %v, want %v %v", row.Method, faithfulness.Ks[j], got.Comprehensiveness[j], got.Sufficiency[j], ref.Comprehensiveness[j], ref.Sufficiency[j])
			}
		}
		if math.Abs(got.DeletionAUC-ref.DeletionAUC) > 1e-9 || math.Abs(got.InsertionAUC-ref.InsertionAUC) > 1e-9 || math.Abs(f.FullScore-row.TargetScore) > 1e-6 {
			t.Errorf("%s: AUCs %v %v full %v, want %v %v %v", row.Method, got.DeletionAUC, got.InsertionAUC, f.FullScore, ref.DeletionAUC, ref.InsertionAUC, row.TargetScore)
		}
	}
	if _, _, err := Open(Spec{Model: dir, RunID: "r", Target: "predicted", Methods: []MethodConfig{{Name: "occlusion"}}, Faithfulness: &Faithfulness{Masking: "zeros"}}); err == nil {
		t.Error("bad faithfulness masking accepted")
	}
}
