package onnxgraph

import (
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

func TestInferShapesArity(t *testing.T) {
	x := func(b *builder) *builder { return b.input("x", f32, []int64{2, 3}, nil) }
	tests := []struct {
		name  string
		build func() *builder
		// wantErr lists what the error mentions; empty means inference succeeds.
		wantErr []string
		// wantShape is y's shape when inference succeeds.
		wantShape []int64
	}{
		{
			name:    "binary op with one input",
			build:   func() *builder { return x(newBuilder(14)).node("Add", []string{"x"}, []string{"y"}) },
			wantErr: []string{`"Add_y"`, "(Add)", "input 1 is missing"},
		},
		{
			name:    "required input left empty",
			build:   func() *builder { return x(newBuilder(14)).node("Where", []string{"x", "", "x"}, []string{"y"}) },
			wantErr: []string{`"Where_y"`, "input 1 is missing"},
		},
		{
			name:    "too many inputs",
			build:   func() *builder { return x(newBuilder(14)).node("Identity", []string{"x", "x"}, []string{"y"}) },
			wantErr: []string{`"Identity_y"`, "(Identity)", "takes at most 1 inputs, got 2"},
		},
		{
			name:    "variadic op without inputs",
			build:   func() *builder { return newBuilder(14).node("Concat", nil, []string{"y"}, IntAttribute("axis", 0)) },
			wantErr: []string{`"Concat_y"`, "input 0 is missing"},
		},
		{
			name:    "Constant with an input",
			build:   func() *builder { return x(newBuilder(14)).node("Constant", []string{"x"}, []string{"y"}) },
			wantErr: []string{"takes at most 0 inputs, got 1"},
		},
		{
			name: "omitted trailing optional inputs do not count",
			build: func() *builder {
				return x(newBuilder(14)).node("Dropout", []string{"x", "", ""}, []string{"y"})
			},
			wantShape: []int64{2, 3},
		},
		{
			name: "variadic op with many inputs",
			build: func() *builder {
				return x(newBuilder(14)).node("Sum", []string{"x", "x", "x", "x", "x"}, []string{"y"})
			},
			wantShape: []int64{2, 3},
		},
		{
			name: "Slice before opset 10 reads attributes",
			build: func() *builder {
				return x(newBuilder(9)).node("Slice", []string{"x"}, []string{"y"},
					IntsAttribute("starts", []int64{1}), IntsAttribute("ends", []int64{3}), IntsAttribute("axes", []int64{1}))
			},
			wantShape: []int64{2, 2},
		},
		{
			name:      "ai.onnx is the default domain",
			build:     func() *builder { return x(newBuilder(14)).domainNode("ai.onnx", "Relu", []string{"x"}, []string{"y"}) },
			wantShape: []int64{2, 3},
		},
		{
			name: "contrib op with its optional bias",
			build: func() *builder {
				return x(newBuilder(14)).floats("b", []int64{3}).domainNode("com.microsoft", "FastGelu", []string{"x", "b"}, []string{"y"})
			},
			wantShape: []int64{2, 3},
		},
		{
			name: "contrib op missing its bias",
			build: func() *builder {
				return x(newBuilder(14)).domainNode("com.microsoft", "BiasGelu", []string{"x"}, []string{"y"})
			},
			wantErr: []string{`"BiasGelu_y"`, "(com.microsoft::BiasGelu)", "input 1 is missing"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.build().graph(t).InferShapes(nil)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if got := s["y"].Shape; !eqInts(got, tc.wantShape) {
					t.Errorf("shape %v, want %v", got, tc.wantShape)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestShapeOpsTable checks each entry's input bounds and that doc.go lists exactly
// the ops of the table.
func TestShapeOpsTable(t *testing.T) {
	var standard, contrib []string
	for op, r := range shapeOps {
		if r.minIn < 0 || (r.maxIn != variadic && r.maxIn < r.minIn) || r.infer == nil {
			t.Errorf("%s: bad rule min %d max %d", op, r.minIn, r.maxIn)
		}
		if name, ok := strings.CutPrefix(op, "com.microsoft::"); ok {
			contrib = append(contrib, name)
		} else {
			standard = append(standard, op)
		}
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(strings.ReplaceAll(string(doc), "//", "")), " ")
	for _, tc := range []struct {
		from, to string
		want     []string
	}{
		{"It knows the default-domain ops ", ", and com.microsoft's ", standard},
		{", and com.microsoft's ", ". ", contrib},
	} {
		_, rest, ok := strings.Cut(text, tc.from)
		list, _, ok2 := strings.Cut(rest, tc.to)
		if !ok || !ok2 {
			t.Fatalf("doc.go has no op list between %q and %q", tc.from, tc.to)
		}
		var listed []string
		for _, op := range strings.Split(strings.ReplaceAll(list, " and ", ", "), ",") {
			listed = append(listed, strings.TrimSpace(op))
		}
		sort.Strings(listed)
		sort.Strings(tc.want)
		if !slices.Equal(listed, tc.want) {
			t.Errorf("doc.go lists %v\ntable has %v", listed, tc.want)
		}
	}
}

func TestDomainSpellings(t *testing.T) {
	tests := []struct {
		domain, op       string
		wantKey, wantPre string
		wantDefault      bool
	}{
		{"", "Softmax", "::Softmax", "", true},
		{"ai.onnx", "Softmax", "::Softmax", "", true},
		{"com.microsoft", "Attention", "com.microsoft::Attention", "com.microsoft::", false},
	}
	for _, tc := range tests {
		n := &onnxpb.NodeProto{OpType: strPtr(tc.op), Domain: strPtr(tc.domain)}
		if got := opKey(n); got != tc.wantKey {
			t.Errorf("opKey(%q, %q) = %q, want %q", tc.domain, tc.op, got, tc.wantKey)
		}
		if got := domainPrefix(tc.domain); got != tc.wantPre {
			t.Errorf("domainPrefix(%q) = %q, want %q", tc.domain, got, tc.wantPre)
		}
		if got := isDefaultDomain(n); got != tc.wantDefault {
			t.Errorf("isDefaultDomain(%q) = %v", tc.domain, got)
		}
	}
}

// TestFusedMasksDefaultDomainSpellings: ONNX's own Attention op is found under
// both spellings of the default domain and reported as "::Attention".
func TestFusedMasksDefaultDomainSpellings(t *testing.T) {
	for _, domain := range []string{"", "ai.onnx"} {
		b := newBuilder(23).input("q", f32, []int64{1, 2, 4}, nil).input("k", f32, []int64{1, 2, 4}, nil).input("v", f32, []int64{1, 2, 4}, nil)
		b.m.Graph.Node = append(b.m.Graph.Node, &onnxpb.NodeProto{Name: strPtr("att"), OpType: strPtr("Attention"), Domain: strPtr(domain),
			Input: []string{"q", "k", "v"}, Output: []string{"y"}})
		got := FusedAttentionMasks(b.graph(t))
		want := []FusedMask{{Node: "att", Op: "::Attention", Reads: MaskUnknown}}
		if !slices.Equal(got, want) {
			t.Errorf("domain %q: %+v, want %+v", domain, got, want)
		}
	}
}

// TestContribLayerNormShapes checks the shapes of ORT's fused layer-norm ops.
func TestContribLayerNormShapes(t *testing.T) {
	b := newBuilder(14).
		input("ids", onnxpb.TensorProto_INT64, []int64{2, 5}, nil).
		input("x", f32, []int64{2, 5, 8}, nil).
		floats("words", []int64{30, 8}).floats("pos", []int64{16, 8}).floats("gamma", []int64{8}).floats("beta", []int64{8}).
		domainNode("com.microsoft", "EmbedLayerNormalization", []string{"ids", "", "words", "pos", "", "gamma", "beta"}, []string{"emb", "mask_index"}).
		domainNode("com.microsoft", "SkipLayerNormalization", []string{"x", "emb", "gamma", "beta"}, []string{"y", "mean", "inv_std", "sum"}).
		output("y", f32)
	shapes, err := b.graph(t).InferShapes(nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]int64{"emb": {2, 5, 8}, "mask_index": {2}, "y": {2, 5, 8}, "mean": {2, 5, 1}, "inv_std": {2, 5, 1}, "sum": {2, 5, 8}} {
		if got := shapes[name]; got == nil || !eqInts(got.Shape, want) {
			t.Errorf("%s: %+v, want shape %v", name, got, want)
		}
	}
	if shapes["mask_index"].DType != onnxpb.TensorProto_INT32 {
		t.Errorf("mask_index type %v, want int32", shapes["mask_index"].DType)
	}
}
