package onnxgraph

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// synthOptions shape a small synthetic multi-head attention encoder.
type synthOptions struct {
	layers          int
	whereAfter      bool // mask the probabilities with a Where after the Softmax
	reverseFile     bool // list the layers' nodes in reverse file order
	classifier      bool // end with a classifier Softmax that must not be picked
	outputSoftmaxes bool // declare each layer's Softmax output as a graph output
	// sdpa shapes each layer like the dynamo exporter's decomposition of
	// scaled_dot_product_attention: Q and Kᵀ each scaled by √scale, a float mask
	// bias made by Where(mask, 0, -inf) added to the scores, and the Softmax
	// output guarded by Where(IsNaN(p), 0, p) before the MatMul with V.
	sdpa bool
}

// synthAttention builds x [batch, seq, 8] → layers of 2-head attention (no projections
// of V, to keep it short) → optionally mean-pool, Gemm and a classifier Softmax.
func synthAttention(o synthOptions) *builder {
	b := newBuilder(14).
		input("x", f32, []int64{-1, -1, 8}, []string{"batch", "sequence"}).
		ints("split_heads", []int64{4}, 0, 0, 2, 4).
		ints("merge_heads", []int64{3}, 0, 0, 8).
		floats("wq", []int64{8, 8}).floats("wk", []int64{8, 8})
	var layerNodes [][]*onnxpb.NodeProto
	prev := "x"
	for l := 0; l < o.layers; l++ {
		p := "l" + formatInt(int64(l)) + "_"
		start := len(b.m.Graph.Node)
		b.node("MatMul", []string{prev, "wq"}, []string{p + "q"}).
			node("Reshape", []string{p + "q", "split_heads"}, []string{p + "q4"}).
			node("Transpose", []string{p + "q4"}, []string{p + "qt"}, IntsAttribute("perm", []int64{0, 2, 1, 3})).
			node("MatMul", []string{prev, "wk"}, []string{p + "k"}).
			node("Reshape", []string{p + "k", "split_heads"}, []string{p + "k4"}).
			node("Transpose", []string{p + "k4"}, []string{p + "kt"}, IntsAttribute("perm", []int64{0, 2, 3, 1})).
			node("Reshape", []string{prev, "split_heads"}, []string{p + "v4"}).
			node("Transpose", []string{p + "v4"}, []string{p + "vt"}, IntsAttribute("perm", []int64{0, 2, 1, 3}))
		scores := p + "scores"
		if !o.sdpa {
			b.node("MatMul", []string{p + "qt", p + "kt"}, []string{scores})
		} else {
			b.floats(p+"sqrt_scale", []int64{}, 0.8408964).floats(p+"zero", []int64{}, 0).floats(p+"ninf", []int64{}, float32(math.Inf(-1))).
				ints(p+"keep", []int64{1, 1, 1, 1}, 1).
				node("Cast", []string{p + "keep"}, []string{p + "keepb"}, IntAttribute("to", int64(onnxpb.TensorProto_BOOL))).
				node("Where", []string{p + "keepb", p + "zero", p + "ninf"}, []string{p + "bias"}).
				node("Mul", []string{p + "qt", p + "sqrt_scale"}, []string{p + "qs"}).
				node("Mul", []string{p + "kt", p + "sqrt_scale"}, []string{p + "ks"}).
				node("MatMul", []string{p + "qs", p + "ks"}, []string{p + "scaled"}).
				node("Add", []string{p + "scaled", p + "bias"}, []string{p + "biased"})
			scores = p + "biased"
		}
		b.node("Softmax", []string{scores}, []string{p + "probs"}, IntAttribute("axis", -1))
		probs := p + "probs"
		if o.sdpa {
			b.node("IsNaN", []string{probs}, []string{p + "nan"}).
				node("Where", []string{p + "nan", p + "zero", probs}, []string{p + "guarded"})
			probs = p + "guarded"
		}
		if o.whereAfter {
			b.ints(p+"keep", []int64{1, 1, 1, 1}, 1).floats(p+"zero", []int64{}, 0).
				node("Cast", []string{p + "keep"}, []string{p + "keepb"}, IntAttribute("to", int64(onnxpb.TensorProto_BOOL))).
				node("Where", []string{p + "keepb", probs, p + "zero"}, []string{p + "masked"})
			probs = p + "masked"
		}
		b.node("MatMul", []string{probs, p + "vt"}, []string{p + "ctx"}).
			node("Transpose", []string{p + "ctx"}, []string{p + "ctxt"}, IntsAttribute("perm", []int64{0, 2, 1, 3})).
			node("Reshape", []string{p + "ctxt", "merge_heads"}, []string{p + "out"})
		if o.outputSoftmaxes {
			b.output(p+"probs", f32)
		}
		layerNodes = append(layerNodes, b.m.Graph.Node[start:])
		b.m.Graph.Node = b.m.Graph.Node[:start:start]
		prev = p + "out"
	}
	if o.reverseFile {
		for l := len(layerNodes) - 1; l >= 0; l-- {
			b.m.Graph.Node = append(b.m.Graph.Node, layerNodes[l]...)
		}
	} else {
		for _, ns := range layerNodes {
			b.m.Graph.Node = append(b.m.Graph.Node, ns...)
		}
	}
	if o.classifier {
		b.floats("wc", []int64{8, 3}).floats("bc", []int64{3}).
			node("ReduceMean", []string{prev}, []string{"pooled"}, IntsAttribute("axes", []int64{1}), IntAttribute("keepdims", 0)).
			node("Gemm", []string{"pooled", "wc", "bc"}, []string{"logits"}).
			node("Softmax", []string{"logits"}, []string{"class_probs"}, IntAttribute("axis", -1)).
			output("class_probs", f32)
	} else {
		b.output(prev, f32)
	}
	return b
}

func TestExposeAttentionSynthetic(t *testing.T) {
	tests := []struct {
		name      string
		opts      synthOptions
		wantProbs []string // tensors that the new outputs must copy, in layer order
	}{
		{"three layers with a classifier softmax", synthOptions{layers: 3, classifier: true}, []string{"l0_probs", "l1_probs", "l2_probs"}},
		{"layers listed in reverse file order", synthOptions{layers: 3, reverseFile: true, classifier: true}, []string{"l0_probs", "l1_probs", "l2_probs"}},
		{"Where masking after the softmax", synthOptions{layers: 2, whereAfter: true}, []string{"l0_masked", "l1_masked"}},
		{"dynamo SDPA decomposition with IsNaN guard", synthOptions{layers: 3, sdpa: true, classifier: true}, []string{"l0_guarded", "l1_guarded", "l2_guarded"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := synthAttention(tc.opts).m
			before := len(m.GetGraph().GetOutput())
			out, names, err := ExposeAttention(m)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.GetGraph().GetOutput()) != before {
				t.Fatal("the input model was modified")
			}
			if len(names) != len(tc.wantProbs) {
				t.Fatalf("names %v, want %d layers", names, len(tc.wantProbs))
			}
			g, err := NewGraph(out)
			if err != nil {
				t.Fatal(err)
			}
			for k, name := range names {
				if name != "attention_"+formatInt(int64(k)) || !g.IsGraphOutput(name) {
					t.Errorf("layer %d: output %q missing or misnamed", k, name)
					continue
				}
				p, _ := g.Producer(name)
				n := g.Node(p.Node)
				if n.GetOpType() != "Identity" || n.GetInput()[0] != tc.wantProbs[k] {
					t.Errorf("layer %d: %s = %s(%v), want Identity(%s)", k, name, n.GetOpType(), n.GetInput(), tc.wantProbs[k])
				}
				dims := g.ValueInfo(name).GetType().GetTensorType().GetShape().GetDim()
				if len(dims) != 4 || dims[0].GetDimParam() != "batch" || dims[1].GetDimValue() != 2 || dims[2].GetDimParam() != "sequence" {
					t.Errorf("layer %d: declared shape %v", k, dims)
				}
			}
			s, err := g.InferShapes(map[string][]int64{"x": {3, 5}})
			if err == nil {
				t.Fatal("rank mismatch not reported")
			}
			s, err = g.InferShapes(map[string][]int64{"x": {3, 5, 8}})
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range names {
				if !eqInts(s[name].Shape, []int64{3, 2, 5, 5}) {
					t.Errorf("%s: shape %v", name, s[name].Shape)
				}
			}
		})
	}
}

func TestExposeAttentionUsesExistingOutputs(t *testing.T) {
	t.Run("outputs named attentions.N", func(t *testing.T) {
		b := synthAttention(synthOptions{layers: 2})
		// Declared in reverse: the layer number in the name decides the order.
		b.node("Identity", []string{"l1_probs"}, []string{"attentions.1"}).
			node("Identity", []string{"l0_probs"}, []string{"attentions.0"}).
			output("attentions.1", f32).output("attentions.0", f32)
		out, names, err := ExposeAttention(b.m)
		if err != nil {
			t.Fatal(err)
		}
		if out != b.m || strings.Join(names, ",") != "attentions.0,attentions.1" {
			t.Errorf("got names %v (same model: %v)", names, out == b.m)
		}
	})
	t.Run("softmax outputs already graph outputs", func(t *testing.T) {
		b := synthAttention(synthOptions{layers: 2, outputSoftmaxes: true, reverseFile: true})
		out, names, err := ExposeAttention(b.m)
		if err != nil {
			t.Fatal(err)
		}
		if out != b.m || strings.Join(names, ",") != "l0_probs,l1_probs" {
			t.Errorf("got names %v (same model: %v)", names, out == b.m)
		}
	})
}

func TestExposeAttentionRefuses(t *testing.T) {
	tests := []struct {
		name    string
		model   func() *onnxpb.ModelProto
		wantErr []string
	}{
		{
			name: "fused com.microsoft Attention",
			model: func() *onnxpb.ModelProto {
				return newBuilder(14).
					input("x", f32, []int64{-1, -1, 8}, []string{"batch", "sequence"}).
					input("mask", i64, []int64{-1, -1}, []string{"batch", "sequence"}).
					floats("w", []int64{8, 24}).floats("bias", []int64{24}).
					domainNode("com.microsoft", "Attention", []string{"x", "w", "bias", "mask"}, []string{"y"}, IntAttribute("num_heads", 2)).
					output("y", f32).m
			},
			wantErr: []string{"com.microsoft::Attention", `"Attention_y"`, "torch.onnx", "without ONNX Runtime fusion"},
		},
		{
			name: "fused MultiHeadAttention next to a plain softmax",
			model: func() *onnxpb.ModelProto {
				b := synthAttention(synthOptions{layers: 1})
				return b.domainNode("com.microsoft", "MultiHeadAttention", []string{"l0_out", "l0_out", "l0_out"}, []string{"mha"}).m
			},
			wantErr: []string{"com.microsoft::MultiHeadAttention"},
		},
		{
			name: "classifier softmax only",
			model: func() *onnxpb.ModelProto {
				return synthAttention(synthOptions{layers: 0, classifier: true}).m
			},
			wantErr: []string{"none of the 1 Softmax", "torch.onnx"},
		},
		{
			name: "softmax feeding a 2-D MatMul is not attention",
			model: func() *onnxpb.ModelProto {
				return newBuilder(14).
					input("x", f32, []int64{-1, 4}, []string{"batch"}).
					floats("w", []int64{4, 4}).
					node("Softmax", []string{"x"}, []string{"p"}, IntAttribute("axis", -1)).
					node("MatMul", []string{"p", "w"}, []string{"y"}).
					output("y", f32).m
			},
			wantErr: []string{"[batch, heads, seq, seq]"},
		},
		{
			name: "no softmax at all",
			model: func() *onnxpb.ModelProto {
				return newBuilder(14).input("x", f32, []int64{2}, nil).node("Relu", []string{"x"}, []string{"y"}).output("y", f32).m
			},
			wantErr: []string{"no Softmax"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ExposeAttention(tc.model())
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrNoAttention) {
				t.Errorf("error %v does not wrap ErrNoAttention", err)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestExposeAttentionAdditiveFixtureHasNone(t *testing.T) {
	m, err := Load(fixtureDir(t, "additive") + "/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ExposeAttention(m); !errors.Is(err, ErrNoAttention) {
		t.Errorf("additive model (0 layers): err = %v, want ErrNoAttention", err)
	}
}
