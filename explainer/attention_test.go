package explainer

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/onnxgraph"
)

// attentionRefs are rollout and flow computed outside Glassbox (numpy and
// networkx's maximum_flow) from PyTorch's attention probabilities, raw (special
// tokens not zeroed), as scripts/attention_refs.py writes them.
type attentionRefs struct {
	Sentences []struct {
		Index   int       `json:"index"`
		Query   int       `json:"query"`
		Rollout []float64 `json:"rollout"`
		Flow    []float64 `json:"flow"`
	} `json:"sentences"`
}

// TestAttentionMethodsMatchPyTorch runs the attention methods on the fixture
// models through the graph surgery and compares, within 1e-5, raw attention
// with the head average of PyTorch's own attention probabilities (recorded by
// scripts/make_test_models.py) and rollout and flow with the values
// scripts/attention_refs.py computed from them with numpy and networkx.
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
			b, err = os.ReadFile(filepath.Join(tc.dir, "attention_methods.json"))
			if err != nil {
				t.Fatal(err)
			}
			var refs attentionRefs
			if err := json.Unmarshal(b, &refs); err != nil {
				t.Fatal(err)
			}
			recorded := map[int]int{}
			for k, r := range refs.Sentences {
				recorded[r.Index] = k
			}
			graph, names, err := onnxgraph.ExposeAttentionFile(filepath.Join(tc.dir, "model.onnx"), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			spec := Spec{Model: tc.dir, GraphPath: graph, AttentionOutputs: names, RunID: "r", Seed: 1, Target: "predicted", BatchSize: 4,
				Methods: []MethodConfig{{Name: "attention"}, {Name: "rollout"}, {Name: "flow", Params: []byte(`{"max_length":64}`)}}, AttentionFirstN: 100}
			ex := openSpec(t, spec)
			checked, worst, worstMethod := 0, 0.0, map[string]float64{}
			for i, s := range ref.Sentences {
				if len(s.Attentions) == 0 || len(s.Attentions[0][0]) > 40 {
					continue
				}
				out, err := ex.Explain(context.Background(), []corpus.Record{{ID: "s", Text: s.Text, Source: "t", Line: int64(i + 1)}})
				if err != nil || len(out.Rows) != 3 || len(out.Errors) != 0 {
					t.Fatalf("sentence %d: %v %+v", i, err, out.Errors)
				}
				w := s.Attentions
				n := len(w[0][0])
				q := 0
				if tc.decoder {
					q = n - 1
				}
				k, ok := recorded[i]
				if !ok {
					t.Fatalf("sentence %d: no rollout and flow in attention_methods.json (rerun scripts/attention_refs.py)", i)
				}
				r := refs.Sentences[k]
				if r.Query != q || len(r.Rollout) != n || len(r.Flow) != n {
					t.Fatalf("sentence %d: attention_methods.json has query %d and %d/%d values, want query %d and %d", i, r.Query, len(r.Rollout), len(r.Flow), q, n)
				}
				// Raw attention: the last layer's head average at the query.
				last := w[len(w)-1]
				raw := make([]float64, n)
				for _, head := range last {
					for j, v := range head[q] {
						raw[j] += float64(v) / float64(len(last))
					}
				}
				want := map[string][]float64{"attention": raw, "rollout": r.Rollout, "flow": r.Flow}
				for _, row := range out.Rows {
					for j, tok := range row.Tokens {
						exp := want[row.Method][j]
						if s.Special[j] == 1 {
							exp = 0
						}
						worstMethod[row.Method] = math.Max(worstMethod[row.Method], math.Abs(tok.Attribution-exp))
						if math.Abs(tok.Attribution-exp) > 1e-5 {
							t.Errorf("sentence %d %s token %d: %v, from PyTorch's attention (numpy/networkx) %v", i, row.Method, j, tok.Attribution, exp)
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
			t.Logf("%d sentences: extracted attention within %.2g of PyTorch's; rows within %v of the references", checked, worst, worstMethod)
		})
	}
}
