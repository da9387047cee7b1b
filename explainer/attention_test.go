package explainer

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/glassbox-ai/glassbox/attention"
	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/onnxgraph"
)

// TestAttentionMethodsMatchPyTorch runs the attention methods on the fixture
// models through the graph surgery and compares raw attention, rollout and
// flow with the same computations on PyTorch's own attention probabilities
// (recorded by scripts/make_test_models.py), within 1e-5.
func TestAttentionMethodsMatchPyTorch(t *testing.T) {
	for _, tc := range []struct {
		dir     string
		decoder bool
	}{{"../testdata/models/distilbert-sentiment", false}, {"../testdata/models/gpt2-tiny", true}, {"../testdata/models/bert-tiny", false}, {"../testdata/models/roberta-tiny", false}} {
		t.Run(filepath.Base(tc.dir), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(tc.dir, "reference.json"))
			if err != nil {
				t.Fatal(err)
			}
			var ref struct {
				Sentences []struct {
					Text       string          `json:"text"`
					Truncated  bool            `json:"truncated"`
					Special    []int           `json:"special_tokens_mask"`
					Attentions [][][][]float32 `json:"attentions"`
				} `json:"sentences"`
			}
			if err := json.Unmarshal(b, &ref); err != nil {
				t.Fatal(err)
			}
			graph, names, err := onnxgraph.ExposeAttentionFile(filepath.Join(tc.dir, "model.onnx"), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			spec := Spec{Model: tc.dir, GraphPath: graph, AttentionOutputs: names, RunID: "r", Seed: 1, Target: "predicted", BatchSize: 4,
				Methods: []MethodConfig{{Name: "attention", Layer: -1, Head: -1}, {Name: "rollout"}, {Name: "flow", MaxLength: 64}}, AttentionFirstN: 100}
			ex := openSpec(t, spec)
			checked, worst := 0, 0.0
			for i, s := range ref.Sentences {
				if len(s.Attentions) == 0 || len(s.Attentions[0][0]) > 40 {
					continue
				}
				out, err := ex.Explain(context.Background(), []corpus.Record{{ID: "s", Text: s.Text, Source: "t", Line: int64(i + 1)}})
				if err != nil || len(out.Rows) != 3 || len(out.Errors) != 0 {
					t.Fatalf("sentence %d: %v %+v", i, err, out.Errors)
				}
				w := attention.Weights(s.Attentions)
				n := len(w[0][0])
				q := attention.QueryPosition(n, tc.decoder)
				roll, _, err := attention.Rollout(w, q)
				if err != nil {
					t.Fatal(err)
				}
				flow, err := attention.Flow(w, q, 64)
				if err != nil {
					t.Fatal(err)
				}
				want := map[string][]float64{"attention": attention.Raw(w, q, len(w)-1), "rollout": roll, "flow": flow}
				for _, row := range out.Rows {
					for j, tok := range row.Tokens {
						exp := want[row.Method][j]
						if s.Special[j] == 1 {
							exp = 0
						}
						if math.Abs(tok.Attribution-exp) > 1e-5 {
							t.Errorf("sentence %d %s token %d: %v, from PyTorch's attention %v", i, row.Method, j, tok.Attribution, exp)
						}
					}
				}
				// The heatmap rows carry the full matrices: compare every weight.
				for _, m := range out.Attention {
					if m.Head < 0 {
						continue
					}
					for qi := 0; qi < n; qi++ {
						for k := 0; k < n; k++ {
							d := math.Abs(float64(m.Weights[qi*n+k] - w[m.Layer][m.Head][qi][k]))
							worst = math.Max(worst, d)
							if d > 1e-5 {
								t.Fatalf("sentence %d layer %d head %d [%d,%d]: %v vs PyTorch %v", i, m.Layer, m.Head, qi, k, m.Weights[qi*n+k], w[m.Layer][m.Head][qi][k])
							}
						}
					}
				}
				if len(out.Attention) != len(w)*(len(w[0])+1) {
					t.Errorf("sentence %d: %d matrix rows, want %d", i, len(out.Attention), len(w)*(len(w[0])+1))
				}
				checked++
			}
			if checked < 5 {
				t.Fatalf("only %d sentences checked", checked)
			}
			t.Logf("%d sentences: extracted attention within %.2g of PyTorch's", checked, worst)
		})
	}
}
