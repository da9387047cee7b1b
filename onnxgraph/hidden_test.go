package onnxgraph

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// hiddenEncoder starts a model: ids [batch, sequence] → token embedding [50, 8] →
// a float [batch, seq, 8] tensor "h" (embedding × [8, 8]).
func hiddenEncoder() *builder {
	return newBuilder(17).
		input("ids", i64, []int64{-1, -1}, []string{"batch", "sequence"}).
		floats("emb", []int64{50, 8}).floats("w", []int64{8, 8}).
		node("Gather", []string{"emb", "ids"}, []string{"e"}).
		node("MatMul", []string{"e", "w"}, []string{"h"})
}

// poolerHead ends a model the way BERT's does: h[:, 0] → Gemm → Tanh → Gemm → logits [batch, 2].
func poolerHead(b *builder, h string) *builder {
	return b.ints("zero", []int64{}, 0).floats("wp", []int64{8, 8}).floats("wc", []int64{8, 2}).floats("bc", []int64{2}).
		node("Gather", []string{h, "zero"}, []string{"first"}, IntAttribute("axis", 1)).
		node("Gemm", []string{"first", "wp"}, []string{"pooled"}).
		node("Tanh", []string{"pooled"}, []string{"act"}).
		node("Gemm", []string{"act", "wc", "bc"}, []string{"logits"}).
		output("logits", f32)
}

func TestExposeHiddenSynthetic(t *testing.T) {
	tests := []struct {
		name      string
		model     func() *onnxpb.ModelProto
		want      string // the tensor the new output copies
		wantWidth int64
	}{
		{
			name:  "pooler of position 0 (BERT, RoBERTa)",
			model: func() *onnxpb.ModelProto { return poolerHead(hiddenEncoder(), "h").m },
			want:  "h", wantWidth: 8,
		},
		{
			name: "Slice of position 0 is [batch, 1, hidden], not the hidden state",
			model: func() *onnxpb.ModelProto {
				return hiddenEncoder().ints("s0", []int64{1}, 0).ints("s1", []int64{1}, 1).ints("ax", []int64{1}, 1).
					floats("wc", []int64{8, 2}).
					node("Slice", []string{"h", "s0", "s1", "ax"}, []string{"first3"}).
					node("Squeeze", []string{"first3", "ax"}, []string{"first"}).
					node("Gemm", []string{"first", "wc"}, []string{"logits"}).
					output("logits", f32).m
			},
			want: "h", wantWidth: 8,
		},
		{
			name: "LM head with a bias: [batch, seq, vocab] tensors are skipped",
			model: func() *onnxpb.ModelProto {
				return hiddenEncoder().floats("lm", []int64{8, 50}).floats("lmb", []int64{50}).
					node("LayerNormalization", []string{"h", "g8", "b8"}, []string{"ln"}, IntAttribute("axis", -1)).
					floats("g8", []int64{8}).floats("b8", []int64{8}).
					node("MatMul", []string{"ln", "lm"}, []string{"scores"}).
					node("Add", []string{"scores", "lmb"}, []string{"logits"}).
					output("logits", f32).m
			},
			want: "ln", wantWidth: 8,
		},
		{
			name: "per-token MLP before mean pooling: its width is not the model's",
			model: func() *onnxpb.ModelProto {
				return hiddenEncoder().floats("w6", []int64{8, 6}).floats("wc", []int64{6, 2}).
					node("MatMul", []string{"h", "w6"}, []string{"t6"}).
					node("Relu", []string{"t6"}, []string{"r6"}).
					node("ReduceMean", []string{"r6"}, []string{"mean"}, IntsAttribute("axes", []int64{1}), IntAttribute("keepdims", 0)).
					node("Gemm", []string{"mean", "wc"}, []string{"logits"}).
					output("logits", f32).m
			},
			want: "h", wantWidth: 8,
		},
		{
			name: "no embedding table: any width but the logits'",
			model: func() *onnxpb.ModelProto {
				return newBuilder(14).input("x", f32, []int64{-1, -1, 8}, []string{"batch", "sequence"}).
					floats("lm", []int64{8, 50}).floats("lmb", []int64{50}).
					node("Relu", []string{"x"}, []string{"h"}).
					node("MatMul", []string{"h", "lm"}, []string{"scores"}).
					node("Add", []string{"scores", "lmb"}, []string{"logits"}).
					output("logits", f32).m
			},
			want: "h", wantWidth: 8,
		},
		{
			name: "attention encoder: width from the attention layers",
			model: func() *onnxpb.ModelProto {
				return synthAttention(synthOptions{layers: 3, classifier: true}).m
			},
			want: "l2_out", wantWidth: 8,
		},
		{
			name: "ONNX Runtime fused encoder (EmbedLayerNormalization, Attention, SkipLayerNormalization)",
			model: func() *onnxpb.ModelProto {
				b := newBuilder(14).
					input("ids", i64, []int64{-1, -1}, []string{"batch", "sequence"}).
					floats("emb", []int64{50, 8}).floats("pos", []int64{16, 8}).floats("gamma", []int64{8}).floats("beta", []int64{8}).
					floats("qkv", []int64{8, 24}).floats("qkvb", []int64{24}).
					domainNode("com.microsoft", "EmbedLayerNormalization", []string{"ids", "", "emb", "pos", "", "gamma", "beta"}, []string{"e", "mask_index"}).
					domainNode("com.microsoft", "Attention", []string{"e", "qkv", "qkvb", "mask_index"}, []string{"ctx"}, IntAttribute("num_heads", 2)).
					domainNode("com.microsoft", "SkipLayerNormalization", []string{"ctx", "e", "gamma", "beta"}, []string{"h"})
				return poolerHead(b, "h").m
			},
			want: "h", wantWidth: 8,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.model()
			before := proto.Clone(m)
			out, name, err := ExposeHidden(m)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(before, m) {
				t.Fatal("ExposeHidden modified its input model")
			}
			if out == m || name != LastHiddenState {
				t.Fatalf("output %q (same model: %v)", name, out == m)
			}
			g, err := NewGraph(out)
			if err != nil {
				t.Fatal(err)
			}
			p, ok := g.Producer(name)
			if !ok || !g.IsGraphOutput(name) {
				t.Fatalf("%s is not a produced graph output", name)
			}
			if n := g.Node(p.Node); n.GetOpType() != "Identity" || n.GetInput()[0] != tc.want {
				t.Errorf("%s = %s(%v), want Identity(%s)", name, n.GetOpType(), n.GetInput(), tc.want)
			}
			vi := g.ValueInfo(name).GetType().GetTensorType()
			dims := vi.GetShape().GetDim()
			if onnxpb.TensorProto_DataType(vi.GetElemType()) != f32 || len(dims) != 3 ||
				dims[0].GetDimParam() != "batch" || dims[1].GetDimParam() != "sequence" || dims[2].GetDimValue() != tc.wantWidth {
				t.Errorf("declared %v %v, want float [batch, sequence, %d]", vi.GetElemType(), dims, tc.wantWidth)
			}
			// The edited model is a fixed point: its new output is found and used as is.
			again, name2, err := ExposeHidden(out)
			if err != nil || again != out || name2 != name {
				t.Errorf("re-exposing: %q, %v (same model: %v)", name2, err, again == out)
			}
		})
	}
}

func TestExposeHiddenUsesExistingOutputs(t *testing.T) {
	tests := []struct {
		name  string
		model func() *onnxpb.ModelProto
		want  string
	}{
		{
			name: "feature extraction output last_hidden_state",
			model: func() *onnxpb.ModelProto {
				return hiddenEncoder().node("Identity", []string{"h"}, []string{LastHiddenState}).output(LastHiddenState, f32).m
			},
			want: LastHiddenState,
		},
		{
			name: "another rank-3 float output besides the logits",
			model: func() *onnxpb.ModelProto {
				b := poolerHead(hiddenEncoder(), "h")
				b.m.Graph.Output = append(b.m.Graph.Output, TensorValueInfo("h", f32, []int64{-1, -1, 8}, []string{"batch", "sequence"}))
				return b.m
			},
			want: "h",
		},
		{
			name: "a first output of the model's width under another name",
			model: func() *onnxpb.ModelProto {
				return hiddenEncoder().node("Relu", []string{"h"}, []string{"output_0"}).output("output_0", f32).m
			},
			want: "output_0",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.model()
			before := proto.Clone(m)
			out, name, err := ExposeHidden(m)
			if err != nil {
				t.Fatal(err)
			}
			if out != m || name != tc.want || !proto.Equal(before, m) {
				t.Errorf("got %q (same model: %v, unmodified: %v), want %q used as is", name, out == m, proto.Equal(before, m), tc.want)
			}
		})
	}
}

func TestExposeHiddenRefuses(t *testing.T) {
	tests := []struct {
		name    string
		model   func() *onnxpb.ModelProto
		wantErr []string
	}{
		{
			name: "no [batch, seq, hidden] tensor on the way to the logits",
			model: func() *onnxpb.ModelProto {
				b := newBuilder(14).input("x", f32, []int64{-1, 8}, []string{"batch"}).floats("wc", []int64{8, 2}).
					node("Gemm", []string{"x", "wc"}, []string{"logits"}).output("logits", f32)
				b.m.Graph.Name = strPtr("tabular")
				return b.m
			},
			wantErr: []string{`graph "tabular"`, `"logits"`, "[batch, seq, hidden]"},
		},
		{
			name: "the hidden-width tensor lies off the path (the head reads a mask-derived tensor)",
			model: func() *onnxpb.ModelProto {
				b := hiddenEncoder().
					node("Cast", []string{"ids"}, []string{"idsf"}, IntAttribute("to", int64(onnxpb.TensorProto_FLOAT))).
					floats("wc", []int64{1, 2}).ints("ax", []int64{1}, 1).
					node("ReduceSum", []string{"idsf", "ax"}, []string{"total"}, IntAttribute("keepdims", 1)).
					node("MatMul", []string{"total", "wc"}, []string{"logits"}).
					output("logits", f32) // h is computed but the head never reads it
				b.m.Graph.Name = strPtr("maskonly")
				return b.m
			},
			wantErr: []string{`graph "maskonly"`, "hidden = 8"},
		},
		{
			name: "no outputs",
			model: func() *onnxpb.ModelProto {
				return newBuilder(14).input("x", f32, []int64{2}, nil).node("Relu", []string{"x"}, []string{"y"}).m
			},
			wantErr: []string{`graph "test" has no outputs`},
		},
		{
			name: "the first output is a graph input",
			model: func() *onnxpb.ModelProto {
				b := newBuilder(14).input("x", f32, []int64{-1, 2}, []string{"batch"})
				b.m.Graph.Output = append(b.m.Graph.Output, TensorValueInfo("x", f32, []int64{-1, 2}, []string{"batch"}))
				return b.m
			},
			wantErr: []string{`"x" is not computed by any node`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.model()
			before := proto.Clone(m)
			_, _, err := ExposeHidden(m)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrNoHidden) {
				t.Errorf("error %v does not wrap ErrNoHidden", err)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if !proto.Equal(before, m) {
				t.Error("the input model was modified")
			}
		})
	}
}

func TestContribAttentionShape(t *testing.T) {
	x := &TensorInfo{DType: f32, Shape: []int64{2, 5, 8}}
	node := func(op string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
		return &onnxpb.NodeProto{OpType: strPtr(op), Domain: strPtr("com.microsoft"), Attribute: attrs}
	}
	tests := []struct {
		name string
		n    *onnxpb.NodeProto
		ins  []*TensorInfo
		want []int64
	}{
		{"Attention, packed weights", node("Attention"), []*TensorInfo{x, {DType: f32, Shape: []int64{8, 24}}}, []int64{2, 5, 8}},
		{"Attention, qkv_hidden_sizes", node("Attention", IntsAttribute("qkv_hidden_sizes", []int64{8, 8, 12})), []*TensorInfo{x, {DType: f32, Shape: []int64{8, 28}}}, []int64{2, 5, 12}},
		{"MultiHeadAttention, 3-D value", node("MultiHeadAttention"), []*TensorInfo{x, x, {DType: f32, Shape: []int64{2, 7, 6}}}, []int64{2, 5, 6}},
		{"MultiHeadAttention, 4-D value", node("MultiHeadAttention"), []*TensorInfo{x, x, {DType: f32, Shape: []int64{2, 2, 7, 4}}}, []int64{2, 5, 8}},
		{"unknown op", node("PackedAttention"), []*TensorInfo{x}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			outs, err := contribAttentionShape(tc.n, tc.ins)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("accepted: %v", outs[0].Shape)
				}
				return
			}
			if err != nil || !eqInts(outs[0].Shape, tc.want) {
				t.Errorf("got %v, %v; want %v", outs, err, tc.want)
			}
		})
	}
}
