package explainer

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/glassbox-ai/glassbox/corpus"
)

// TestGradientMethodsMatchPyTorch runs saliency and gradient × input on the
// DistilBERT and GPT-2 fixtures and compares them with the same definitions
// applied to PyTorch's gradient (reference.json) of P(POSITIVE), and of the log
// probability of the predicted next token at the last position, with respect to
// the word-embedding output; the embeddings e are the model's own table rows.
func TestGradientMethodsMatchPyTorch(t *testing.T) {
	for _, tc := range []struct{ dir, target string }{
		{"../testdata/models/distilbert-sentiment", "POSITIVE"},
		{"../testdata/models/gpt2-tiny", "predicted"},
	} {
		t.Run(tc.dir, func(t *testing.T) { testGradientMethods(t, tc.dir, tc.target) })
	}
}

func testGradientMethods(t *testing.T, dir, target string) {
	b, err := os.ReadFile(dir + "/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Sentences []struct {
			Text string `json:"text"`
		} `json:"sentences"`
		Gradients struct {
			Items []struct {
				Sentence int         `json:"sentence"`
				Value    float64     `json:"value"`
				Grad     [][]float64 `json:"grad"`
			} `json:"items"`
		} `json:"gradients"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	ex := openSpec(t, Spec{Model: dir, RunID: "r", Seed: 1, Target: target, OutputKind: "probability", BatchSize: 8,
		Methods: []MethodConfig{{Name: "saliency"}, {Name: "gradxinput"}}})
	if len(ref.Gradients.Items) == 0 {
		t.Fatal("no gradient references")
	}
	for _, item := range ref.Gradients.Items {
		text := ref.Sentences[item.Sentence].Text
		out, err := ex.Explain(context.Background(), []corpus.Record{{ID: "x", Text: text}})
		if err != nil || len(out.Rows) != 2 {
			t.Fatalf("%q: %v, %d rows, errors %+v", text, err, len(out.Rows), out.Errors)
		}
		enc, _ := ex.model.Encode(text)
		emb, _, hidden, err := ex.grads.embeddings(ex.model.InputFromEncoding(enc).IDs, nil)
		if err != nil {
			t.Fatal(err)
		}
		special := enc.SpecialTokensMask
		for _, row := range out.Rows {
			want := make([]float64, len(item.Grad))
			scale := 0.0
			for i, g := range item.Grad {
				for h, v := range g {
					if row.Method == "saliency" {
						want[i] += v * v
					} else {
						want[i] += float64(emb[i*hidden+h]) * v
					}
				}
				if row.Method == "saliency" {
					want[i] = math.Sqrt(want[i])
				}
				if special[i] != 0 {
					want[i] = 0
				}
				scale = math.Max(scale, math.Abs(want[i]))
			}
			worst := 0.0
			for i, tok := range row.Tokens {
				worst = math.Max(worst, math.Abs(tok.Attribution-want[i]))
			}
			if worst > 1e-4*scale || math.Abs(row.TargetScore-item.Value) > 1e-5 {
				t.Errorf("%s %q: max diff %.3g (row max %.3g), f(x) %v vs %v", row.Method, text, worst, scale, row.TargetScore, item.Value)
			}
			t.Logf("%s sentence %d: max |Δ| %.2g of row max %.2g", row.Method, item.Sentence, worst, scale)
		}
	}
}

// TestIGMatchesPyTorch compares saliency, gradient × input and IG (50
// Gauss–Legendre points, and 50 midpoints) on the bert-tiny dynamo export
// (weights in external data) with float64 PyTorch computing the same
// definitions (scripts/make_export_fixtures.py), for the probability and the
// logit of the predicted class, within 1e-3 of the row's largest attribution.
func TestIGMatchesPyTorch(t *testing.T) {
	b, err := os.ReadFile(bertTiny + "/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	type igRef struct {
		Attributions    []float64 `json:"attributions"`
		BaselineValue   float64   `json:"baseline_value"`
		CompletenessGap float64   `json:"completeness_gap"`
	}
	type methodsRef struct {
		Value      float64   `json:"value"`
		Saliency   []float64 `json:"saliency"`
		GradXInput []float64 `json:"gradxinput"`
		IG         igRef     `json:"ig"`
		IGMiddle   *igRef    `json:"ig_riemann_middle"`
	}
	var ref struct {
		Sentences []struct {
			Text  string      `json:"text"`
			Prob  *methodsRef `json:"gradient_methods"`
			Logit *methodsRef `json:"gradient_methods_logit"`
		} `json:"sentences"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"probability", "logit"} {
		ex := openSpec(t, Spec{Model: bertTiny, RunID: "r", Seed: 1, Target: "predicted", OutputKind: kind, BatchSize: 64,
			Methods: []MethodConfig{{Name: "saliency"}, {Name: "gradxinput"}, {Name: "ig"}}})
		mid := openSpec(t, Spec{Model: bertTiny, RunID: "r", Seed: 1, Target: "predicted", OutputKind: kind, BatchSize: 64,
			Methods: []MethodConfig{{Name: "ig", Params: []byte(`{"rule":"riemann_middle"}`)}}})
		checked, worstRel := 0, 0.0
		for _, s := range ref.Sentences {
			r := s.Prob
			if kind == "logit" {
				r = s.Logit
			}
			if r == nil {
				continue
			}
			out, err := ex.Explain(context.Background(), []corpus.Record{{ID: "x", Text: s.Text}})
			if err != nil || len(out.Rows) != 3 {
				t.Fatalf("%q: %v %+v", s.Text, err, out.Errors)
			}
			rows := out.Rows
			if r.IGMiddle != nil {
				o2, err := mid.Explain(context.Background(), []corpus.Record{{ID: "x", Text: s.Text}})
				if err != nil || len(o2.Rows) != 1 {
					t.Fatalf("%q: %v", s.Text, err)
				}
				o2.Rows[0].Method = "ig_riemann_middle"
				rows = append(rows, o2.Rows[0])
			}
			for _, row := range rows {
				want := map[string][]float64{"saliency": r.Saliency, "gradxinput": r.GradXInput, "ig": r.IG.Attributions}[row.Method]
				if row.Method == "ig_riemann_middle" {
					want = r.IGMiddle.Attributions
				}
				if len(want) != len(row.Tokens) {
					t.Fatalf("%s %q: %d tokens, reference %d", row.Method, s.Text, len(row.Tokens), len(want))
				}
				scale, worst := 0.0, 0.0
				for i, tok := range row.Tokens {
					scale = math.Max(scale, math.Abs(want[i]))
					worst = math.Max(worst, math.Abs(tok.Attribution-want[i]))
				}
				if worst > 1e-3*scale {
					t.Errorf("%s %s %q: max diff %.3g, row max %.3g", kind, row.Method, s.Text, worst, scale)
				}
				worstRel = math.Max(worstRel, worst/scale)
				if row.Method == "ig" && math.Abs(*row.BaselineScore-r.IG.BaselineValue) > 1e-5 {
					t.Errorf("%s ig %q: f(x′) %v, PyTorch %v", kind, s.Text, *row.BaselineScore, r.IG.BaselineValue)
				}
				checked++
			}
		}
		if checked < 8 {
			t.Errorf("%s: only %d rows checked", kind, checked)
		}
		t.Logf("%s: %d rows, worst difference %.2g of the row's largest attribution", kind, checked, worstRel)
	}
}
