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
