package onnxgraph

import (
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// relu is a one-node model, x [2] → y, for Check's cases to edit.
func relu() *builder {
	return newBuilder(14).input("x", f32, []int64{2}, nil).node("Relu", []string{"x"}, []string{"y"}).output("y", f32)
}

func typed(name string, dt onnxpb.TensorProto_DataType, dims []int64, raw []byte) *onnxpb.TensorProto {
	d := int32(dt)
	return &onnxpb.TensorProto{Name: strPtr(name), DataType: &d, Dims: dims, RawData: raw}
}

// TestCheckRefuses checks the refusals that do not need a file (the file ones are
// inference's TestLoadRefusesHostileModels and TestLoadRefusesHostileExternalData).
func TestCheckRefuses(t *testing.T) {
	ifWith := func(sub *onnxpb.GraphProto) *onnxpb.AttributeProto {
		typ := onnxpb.AttributeProto_GRAPH
		return &onnxpb.AttributeProto{Name: strPtr("then_branch"), Type: &typ, G: sub}
	}
	tests := []struct {
		name string
		edit func(b *builder)
		want string // "" means Check must pass
	}{
		{"plain", func(b *builder) {}, ""},
		{"contrib op", func(b *builder) { b.domainNode("com.microsoft", "FastGelu", []string{"y"}, []string{"z"}) }, ""},
		{"ORT optimizer's stamped imports", func(b *builder) {
			for _, d := range []string{"com.microsoft.experimental", "org.pytorch.aten", "ai.onnx.preview.training"} {
				v := int64(1)
				b.m.OpsetImport = append(b.m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: strPtr(d), Version: &v})
			}
		}, ""},
		{"node in a stamped domain", func(b *builder) { b.domainNode("org.pytorch.aten", "ATen", []string{"y"}, []string{"z"}) }, `node "ATen_z" (op ATen) uses operator domain "org.pytorch.aten"`},
		{"custom op", func(b *builder) { b.domainNode("ai.custom", "Evil", []string{"y"}, []string{"z"}) }, `opset_import names operator domain "ai.custom"`},
		{"custom op without import", func(b *builder) {
			b.m.Graph.Node = append(b.m.Graph.Node, &onnxpb.NodeProto{OpType: strPtr("Evil"), Domain: strPtr("ai.custom"), Input: []string{"y"}, Output: []string{"z"}})
		}, `node #1 (op Evil) uses operator domain "ai.custom"`},
		{"custom op in a subgraph", func(b *builder) {
			sub := &onnxpb.GraphProto{Node: []*onnxpb.NodeProto{{Name: strPtr("inner"), OpType: strPtr("Evil"), Domain: strPtr("ai.custom")}}}
			b.node("If", []string{"c"}, []string{"z"}, ifWith(sub))
		}, `node "inner" (op Evil) uses operator domain "ai.custom"`},
		{"model-local function", func(b *builder) {
			v := int64(14)
			b.m.Functions = append(b.m.Functions, &onnxpb.FunctionProto{Name: strPtr("MyRelu"), Domain: strPtr("my.local"), Input: []string{"a"}, Output: []string{"b"},
				Node:        []*onnxpb.NodeProto{{OpType: strPtr("Relu"), Input: []string{"a"}, Output: []string{"b"}}},
				OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: strPtr(""), Version: &v}}})
			b.domainNode("my.local", "MyRelu", []string{"y"}, []string{"z"})
		}, ""},
		{"custom op in a function", func(b *builder) {
			b.m.Functions = append(b.m.Functions, &onnxpb.FunctionProto{Name: strPtr("F"), Domain: strPtr("my.local"),
				Node: []*onnxpb.NodeProto{{Name: strPtr("body"), OpType: strPtr("Evil"), Domain: strPtr("ai.custom")}}})
		}, `function my.local::F: node "body" (op Evil) uses operator domain "ai.custom"`},
		{"absurd output dim", func(b *builder) {
			b.m.Graph.Output[0] = TensorValueInfo("y", f32, []int64{1 << 33}, nil)
		}, `graph output "y" declares dimension 0 = 8589934592`},
		{"typed values short", func(b *builder) { b.floats("w", []int64{3}, 1, 2) }, `tensor "w": holds 2 values but dims [3] of FLOAT need 3`},
		{"no data", func(b *builder) {
			b.m.Graph.Initializer = append(b.m.Graph.Initializer, typed("w", onnxpb.TensorProto_FLOAT, []int64{1 << 40}, nil))
		}, `tensor "w": holds 0 values but dims [1099511627776] of FLOAT need 1099511627776`},
		{"int4 packed", func(b *builder) {
			b.m.Graph.Initializer = append(b.m.Graph.Initializer, typed("q", onnxpb.TensorProto_INT4, []int64{3}, []byte{1, 2}))
		}, ""},
		{"int4 raw too long", func(b *builder) {
			b.m.Graph.Initializer = append(b.m.Graph.Initializer, typed("q", onnxpb.TensorProto_INT4, []int64{3}, []byte{1, 2, 3}))
		}, `tensor "q": raw_data holds 3 bytes but dims [3] of INT4 need 2`},
		{"unknown data type", func(b *builder) {
			b.m.Graph.Initializer = append(b.m.Graph.Initializer, typed("u", 99, []int64{1}, []byte{1}))
		}, `tensor "u": data type 99 is not an ONNX tensor type`},
		{"Constant with bad raw", func(b *builder) {
			b.node("Constant", nil, []string{"c"}, TensorAttribute("value", typed("", onnxpb.TensorProto_INT64, []int64{2}, make([]byte, 12))))
		}, `the tensor in attribute "value" of node "Constant_c": raw_data holds 12 bytes`},
		{"string in external data", func(b *builder) {
			s := typed("s", onnxpb.TensorProto_STRING, []int64{1}, nil)
			ext := onnxpb.TensorProto_EXTERNAL
			s.DataLocation = &ext
			b.m.Graph.Initializer = append(b.m.Graph.Initializer, s)
		}, `tensor "s": a string tensor cannot be stored as external data`},
		{"no ir_version", func(b *builder) { b.m.IrVersion = nil }, "no ir_version"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := relu()
			tc.edit(b)
			err := Check(b.m, "")
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Check refused a sound model: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Check error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestWordEmbeddingRows checks the table found through Cast and Reshape, the
// smallest of two, EmbedLayerNormalization's, and none.
func TestWordEmbeddingRows(t *testing.T) {
	b := newBuilder(14).input("input_ids", onnxpb.TensorProto_INT64, []int64{-1, -1}, []string{"b", "s"}).
		floats("big", []int64{50, 4}).floats("small", []int64{40, 4}).floats("pos", []int64{7, 4}).ints("shape", []int64{2}, -1, 3).
		node("Cast", []string{"input_ids"}, []string{"ids32"}, IntAttribute("to", int64(onnxpb.TensorProto_INT32))).
		node("Reshape", []string{"ids32", "shape"}, []string{"ids2"}).
		node("Gather", []string{"big", "ids2"}, []string{"e1"}).
		node("Gather", []string{"small", "input_ids"}, []string{"e2"}).
		node("Shape", []string{"input_ids"}, []string{"shp"}).
		node("Gather", []string{"pos", "shp"}, []string{"e3"}) // indices computed from input_ids, not the ids
	if rows, table, ok := WordEmbeddingRows(b.m); !ok || rows != 40 || table != "small" {
		t.Errorf("got %d rows of %q (%v), want 40 of small", rows, table, ok)
	}
	fused := newBuilder(14).input("input_ids", onnxpb.TensorProto_INT32, []int64{-1, -1}, []string{"b", "s"}).floats("words", []int64{30, 4}).
		domainNode("com.microsoft", "EmbedLayerNormalization", []string{"input_ids", "", "words"}, []string{"out"})
	if rows, _, ok := WordEmbeddingRows(fused.m); !ok || rows != 30 {
		t.Errorf("EmbedLayerNormalization: %d rows (%v), want 30", rows, ok)
	}
	if _, _, ok := WordEmbeddingRows(relu().m); ok {
		t.Error("a model without input_ids has an embedding table")
	}
}
