package onnxgraph_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/onnxgraph"
)

// TestQuantizeDynamicCloseToFloat: the int8 graph's outputs stay close to the
// float graph's on the fixtures (relative to the largest |output|, over every
// position of a causal LM's logits), and its MatMuls are all rewritten.
func TestQuantizeDynamicCloseToFloat(t *testing.T) {
	texts := []string{"It is very unpleasant, having such connexions!", "One likes to get out into a shrubbery in fine weather.", "She walked to the window"}
	for _, c := range []struct {
		dir   string
		bound float64
	}{
		{"../testdata/models/distilbert-sentiment", 0.005},
		{"../testdata/models/roberta-tiny", 0.005},
		{"../testdata/models/gpt2-tiny", 0.02},
	} {
		t.Run(filepath.Base(c.dir), func(t *testing.T) {
			m, err := onnxgraph.Load(filepath.Join(c.dir, "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			n, err := onnxgraph.QuantizeDynamic(m)
			if err != nil || n == 0 {
				t.Fatalf("quantize: %d MatMuls, %v", n, err)
			}
			for _, node := range m.GetGraph().GetNode() {
				if node.GetOpType() == "MatMul" {
					if g, _ := onnxgraph.NewGraph(m); g.Initializer(node.GetInput()[1]) != nil {
						t.Errorf("MatMul %s with a constant weight left in float", node.GetName())
					}
				}
			}
			q := filepath.Join(t.TempDir(), "model.onnx")
			if err := onnxgraph.Save(m, q); err != nil {
				t.Fatal(err)
			}
			run := func(graph string) [][]float32 {
				model, err := inference.LoadWith(c.dir, inference.LoadOptions{Graph: graph})
				if err != nil {
					t.Fatal(err)
				}
				sess, err := model.NewSession(inference.SessionOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer sess.Close()
				var out [][]float32
				for _, text := range texts {
					enc, err := model.Encode(text)
					if err != nil {
						t.Fatal(err)
					}
					o, err := sess.Run(context.Background(), []explanation.Input{model.InputFromEncoding(enc)})
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, o[model.Output].Data)
				}
				return out
			}
			want, got := run(""), run(q)
			var worst, scale float64
			for i := range want {
				for j := range want[i] {
					worst = math.Max(worst, math.Abs(float64(got[i][j]-want[i][j])))
					scale = math.Max(scale, math.Abs(float64(want[i][j])))
				}
			}
			t.Logf("%d MatMuls quantised; max |int8 − float| = %.4g, max |float| = %.4g (relative %.3g)", n, worst, scale, worst/scale)
			if worst > c.bound*scale {
				t.Errorf("max |int8 − float| = %v > %v × %v", worst, c.bound, scale)
			}
		})
	}
}

// TestQuantizeDynamicMatchesONNXRuntime: on distilbert-sentiment, the int8
// graph's logits match, within 1e-5, those of ONNX Runtime's quantize_dynamic
// (QInt8, restricted to the same MatMuls) on the same sentences
// (testdata/quantize, scripts/quantize_refs.py).
func TestQuantizeDynamicMatchesONNXRuntime(t *testing.T) {
	const dir = "../testdata/models/distilbert-sentiment"
	data, err := os.ReadFile("../testdata/quantize/distilbert-sentiment.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Rows []struct {
			IDs    []int64   `json:"ids"`
			Logits []float64 `json:"logits"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	m, err := onnxgraph.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := onnxgraph.QuantizeDynamic(m); err != nil {
		t.Fatal(err)
	}
	q := filepath.Join(t.TempDir(), "model.onnx")
	if err := onnxgraph.Save(m, q); err != nil {
		t.Fatal(err)
	}
	model, err := inference.LoadWith(dir, inference.LoadOptions{Graph: q})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := model.NewSession(inference.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	for i, r := range ref.Rows {
		in := explanation.Input{IDs: r.IDs, Mask: make([]int64, len(r.IDs))}
		for j := range in.Mask {
			in.Mask[j] = 1
		}
		o, err := sess.Run(context.Background(), []explanation.Input{in})
		if err != nil {
			t.Fatal(err)
		}
		for j, want := range r.Logits {
			if got := float64(o[model.Output].Data[j]); math.Abs(got-want) > 1e-5 {
				t.Errorf("sentence %d logit %d: %v, ONNX Runtime's quantize_dynamic gives %v", i, j, got, want)
			}
		}
	}
}
