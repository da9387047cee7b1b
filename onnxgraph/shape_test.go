package onnxgraph

import (
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

const (
	f32 = onnxpb.TensorProto_FLOAT
	i64 = onnxpb.TensorProto_INT64
)

type wantInfo struct {
	shape []int64
	ints  []int64 // nil: values not checked
}

func TestInferShapesOps(t *testing.T) {
	tests := []struct {
		name   string
		build  func() *builder
		inputs map[string][]int64
		want   map[string]wantInfo
	}{
		{
			name: "shape arithmetic feeds Reshape with 0 and -1",
			build: func() *builder {
				return newBuilder(14).
					input("x", f32, []int64{-1, -1, 12}, []string{"b", "s"}).
					ints("idx0", []int64{}, 0).ints("ax0", []int64{1}, 0).ints("heads", []int64{1}, 3).ints("m1", []int64{1}, -1).
					node("Shape", []string{"x"}, []string{"sh"}).
					node("Gather", []string{"sh", "idx0"}, []string{"b"}, IntAttribute("axis", 0)).
					node("Unsqueeze", []string{"b", "ax0"}, []string{"b1"}).
					ints("hd", []int64{1}, 4).
					node("Concat", []string{"b1", "m1", "heads", "hd"}, []string{"target"}, IntAttribute("axis", 0)).
					node("Reshape", []string{"x", "target"}, []string{"r"}).
					ints("zero_target", []int64{3}, 0, 0, -1).
					node("Reshape", []string{"x", "zero_target"}, []string{"r0"}).
					node("Transpose", []string{"r"}, []string{"tr"}, IntsAttribute("perm", []int64{0, 2, 1, 3}))
			},
			inputs: map[string][]int64{"x": {2, 5, 12}},
			want: map[string]wantInfo{
				"sh":     {[]int64{3}, []int64{2, 5, 12}},
				"b":      {[]int64{}, []int64{2}},
				"b1":     {[]int64{1}, []int64{2}},
				"target": {[]int64{4}, []int64{2, -1, 3, 4}},
				"r":      {[]int64{2, 5, 3, 4}, nil},
				"r0":     {[]int64{2, 5, 12}, nil},
				"tr":     {[]int64{2, 3, 5, 4}, nil},
			},
		},
		{
			name: "Reshape with a -1 in the middle",
			build: func() *builder {
				return newBuilder(14).
					input("x", f32, []int64{6, 4}, nil).
					ints("t", []int64{3}, 3, -1, 2).
					node("Reshape", []string{"x", "t"}, []string{"y"})
			},
			want: map[string]wantInfo{"y": {[]int64{3, 4, 2}, nil}},
		},
		{
			name: "MatMul broadcasting, 1-D operands and Gemm with transB",
			build: func() *builder {
				return newBuilder(14).
					input("a", f32, []int64{2, 1, 5, 4}, nil).
					input("b", f32, []int64{3, 4, 6}, nil).
					input("v", f32, []int64{4}, nil).
					input("m", f32, []int64{7, 4}, nil).
					input("w", f32, []int64{9, 4}, nil).
					node("MatMul", []string{"a", "b"}, []string{"ab"}).
					node("MatMul", []string{"a", "v"}, []string{"av"}).
					node("MatMul", []string{"v", "b"}, []string{"vb"}).
					node("Gemm", []string{"m", "w"}, []string{"g"}, IntAttribute("transB", 1))
			},
			want: map[string]wantInfo{
				"ab": {[]int64{2, 3, 5, 6}, nil},
				"av": {[]int64{2, 1, 5}, nil},
				"vb": {[]int64{3, 6}, nil},
				"g":  {[]int64{7, 9}, nil},
			},
		},
		{
			name: "broadcasting elementwise ops fold integer values",
			build: func() *builder {
				return newBuilder(14).
					ints("a", []int64{2, 1}, 3, 10).
					ints("b", []int64{3}, 1, 2, 3).
					node("Add", []string{"a", "b"}, []string{"add"}).
					node("Sub", []string{"a", "b"}, []string{"sub"}).
					node("Mul", []string{"a", "b"}, []string{"mul"}).
					node("Div", []string{"a", "b"}, []string{"div"}).
					node("Equal", []string{"a", "b"}, []string{"eq"}).
					node("Less", []string{"b", "a"}, []string{"lt"}).
					node("Where", []string{"eq", "a", "b"}, []string{"wh"}).
					node("Max", []string{"a", "b"}, []string{"mx"}).
					node("Min", []string{"a", "b"}, []string{"mn"}).
					node("Neg", []string{"b"}, []string{"neg"}).
					node("Not", []string{"eq"}, []string{"not"}).
					node("Pow", []string{"b", "b"}, []string{"pow"})
			},
			want: map[string]wantInfo{
				"add": {[]int64{2, 3}, []int64{4, 5, 6, 11, 12, 13}},
				"sub": {[]int64{2, 3}, []int64{2, 1, 0, 9, 8, 7}},
				"mul": {[]int64{2, 3}, []int64{3, 6, 9, 10, 20, 30}},
				"div": {[]int64{2, 3}, []int64{3, 1, 1, 10, 5, 3}},
				"eq":  {[]int64{2, 3}, []int64{0, 0, 1, 0, 0, 0}},
				"lt":  {[]int64{2, 3}, []int64{1, 1, 0, 1, 1, 1}},
				"wh":  {[]int64{2, 3}, []int64{1, 2, 3, 1, 2, 3}},
				"mx":  {[]int64{2, 3}, []int64{3, 3, 3, 10, 10, 10}},
				"mn":  {[]int64{2, 3}, []int64{1, 2, 3, 1, 2, 3}},
				"neg": {[]int64{3}, []int64{-1, -2, -3}},
				"not": {[]int64{2, 3}, []int64{1, 1, 0, 1, 1, 1}},
				"pow": {[]int64{3}, []int64{1, 4, 27}},
			},
		},
		{
			name: "Slice with starts and ends computed from Shape (GPT-2 causal-mask style)",
			build: func() *builder {
				return newBuilder(14).
					input("ids", i64, []int64{-1, -1}, []string{"b", "s"}).
					floats("bias", []int64{1, 1, 16, 16}).
					ints("one", []int64{}, 1).ints("zero1", []int64{1}, 0).ints("ax2", []int64{1}, 2).ints("ax3", []int64{1}, 3).
					node("Shape", []string{"ids"}, []string{"sh"}).
					node("Gather", []string{"sh", "one"}, []string{"s"}, IntAttribute("axis", 0)).
					node("Unsqueeze", []string{"s", "zero1"}, []string{"s1"}).
					node("Sub", []string{"s1", "s1"}, []string{"start"}).
					node("Slice", []string{"bias", "start", "s1", "ax2"}, []string{"rows"}).
					node("Slice", []string{"rows", "zero1", "s1", "ax3"}, []string{"mask"}).
					ints("neg", []int64{1}, -1).ints("big", []int64{1}, 1<<62).ints("nbig", []int64{1}, -(1<<62)).ints("m2", []int64{1}, -2).
					node("Slice", []string{"sh", "neg", "big"}, []string{"last"}).
					node("Slice", []string{"sh", "neg", "nbig", "zero1", "m2"}, []string{"back"}).
					node("Slice", []string{"sh", "neg", "big", "zero1", "m2"}, []string{"empty"})
			},
			inputs: map[string][]int64{"ids": {3, 9}},
			want: map[string]wantInfo{
				"s":     {[]int64{}, []int64{9}},
				"start": {[]int64{1}, []int64{0}},
				"rows":  {[]int64{1, 1, 9, 16}, nil},
				"mask":  {[]int64{1, 1, 9, 9}, nil},
				"last":  {[]int64{1}, []int64{9}},
				"back":  {[]int64{1}, []int64{9}},
				"empty": {[]int64{0}, []int64{}},
			},
		},
		{
			name: "Range, Expand, ConstantOfShape, Constant and Cast",
			build: func() *builder {
				v := Int64Tensor("", []int64{1}, []int64{7})
				return newBuilder(14).
					input("ids", i64, []int64{-1, -1}, []string{"b", "s"}).
					ints("zero", []int64{}, 0).ints("one", []int64{}, 1).
					node("Shape", []string{"ids"}, []string{"sh"}).
					node("Gather", []string{"sh", "one"}, []string{"s"}, IntAttribute("axis", 0)).
					node("Range", []string{"zero", "s", "one"}, []string{"pos"}).
					node("Expand", []string{"pos", "sh"}, []string{"posb"}).
					node("ConstantOfShape", []string{"sh"}, []string{"sevens"}, TensorAttribute("value", v)).
					node("Constant", nil, []string{"c"}, IntsAttribute("value_ints", []int64{4, 5})).
					node("Cast", []string{"c"}, []string{"cf"}, IntAttribute("to", int64(onnxpb.TensorProto_FLOAT))).
					node("Cast", []string{"cf"}, []string{"ci"}, IntAttribute("to", int64(onnxpb.TensorProto_INT32)))
			},
			inputs: map[string][]int64{"ids": {2, 4}},
			want: map[string]wantInfo{
				"pos":    {[]int64{4}, []int64{0, 1, 2, 3}},
				"posb":   {[]int64{2, 4}, []int64{0, 1, 2, 3, 0, 1, 2, 3}},
				"sevens": {[]int64{2, 4}, []int64{7, 7, 7, 7, 7, 7, 7, 7}},
				"c":      {[]int64{2}, []int64{4, 5}},
				"ci":     {[]int64{2}, []int64{4, 5}},
			},
		},
		{
			name: "Split, Squeeze, reductions, LayerNormalization, Softmax family",
			build: func() *builder {
				return newBuilder(17).
					input("x", f32, []int64{2, 6, 8}, nil).
					ints("sizes", []int64{2}, 2, 4).ints("ax1", []int64{1}, 1).
					node("Split", []string{"x", "sizes"}, []string{"p", "q"}, IntAttribute("axis", 1)).
					node("Split", []string{"x"}, []string{"h1", "h2"}, IntAttribute("axis", 2)).
					node("ReduceMean", []string{"x"}, []string{"mean"}, IntsAttribute("axes", []int64{-1})).
					node("ReduceSum", []string{"x", "ax1"}, []string{"sum"}, IntAttribute("keepdims", 0)).
					node("LayerNormalization", []string{"x", "g", "bb"}, []string{"ln", "lnm", "lns"}).
					floats("g", []int64{8}).floats("bb", []int64{8}).
					node("Softmax", []string{"x"}, []string{"sm"}).
					node("Erf", []string{"x"}, []string{"erf"}).
					node("Trilu", []string{"x"}, []string{"tri"}).
					node("Dropout", []string{"x"}, []string{"dr", "drm"}).
					node("Unsqueeze", []string{"sum", "ax1"}, []string{"us"}).
					node("Squeeze", []string{"us", "ax1"}, []string{"sq"}).
					node("Identity", []string{"sizes"}, []string{"id"})
			},
			want: map[string]wantInfo{
				"p":    {[]int64{2, 2, 8}, nil},
				"q":    {[]int64{2, 4, 8}, nil},
				"h1":   {[]int64{2, 6, 4}, nil},
				"h2":   {[]int64{2, 6, 4}, nil},
				"mean": {[]int64{2, 6, 1}, nil},
				"sum":  {[]int64{2, 8}, nil},
				"ln":   {[]int64{2, 6, 8}, nil},
				"lnm":  {[]int64{2, 6, 1}, nil},
				"sm":   {[]int64{2, 6, 8}, nil},
				"erf":  {[]int64{2, 6, 8}, nil},
				"tri":  {[]int64{2, 6, 8}, nil},
				"dr":   {[]int64{2, 6, 8}, nil},
				"drm":  {[]int64{2, 6, 8}, nil},
				"us":   {[]int64{2, 1, 8}, nil},
				"sq":   {[]int64{2, 8}, nil},
				"id":   {[]int64{2}, []int64{2, 4}},
			},
		},
		{
			name: "opset 11 attribute forms of Unsqueeze, Squeeze and ReduceSum",
			build: func() *builder {
				return newBuilder(11).
					input("x", f32, []int64{3, 4}, nil).
					node("Unsqueeze", []string{"x"}, []string{"u"}, IntsAttribute("axes", []int64{0, 3})).
					node("Squeeze", []string{"u"}, []string{"s"}).
					node("ReduceSum", []string{"x"}, []string{"r"}, IntsAttribute("axes", []int64{0}))
			},
			want: map[string]wantInfo{
				"u": {[]int64{1, 3, 4, 1}, nil},
				"s": {[]int64{3, 4}, nil},
				"r": {[]int64{1, 4}, nil},
			},
		},
		{
			name: "com.microsoft FastGelu keeps the shape",
			build: func() *builder {
				return newBuilder(14).
					input("x", f32, []int64{2, 3, 8}, nil).
					floats("bias", []int64{8}).
					domainNode("com.microsoft", "FastGelu", []string{"x", "bias"}, []string{"y"})
			},
			want: map[string]wantInfo{"y": {[]int64{2, 3, 8}, nil}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.build().graph(t)
			s, err := g.InferShapes(tc.inputs)
			if err != nil {
				t.Fatal(err)
			}
			for name, w := range tc.want {
				info := s[name]
				if info == nil {
					t.Errorf("%s: no shape", name)
					continue
				}
				if !eqInts(info.Shape, w.shape) {
					t.Errorf("%s: shape %v, want %v", name, info.Shape, w.shape)
				}
				if w.ints != nil && !eqInts(info.Ints, w.ints) {
					t.Errorf("%s: values %v, want %v", name, info.Ints, w.ints)
				}
			}
		})
	}
}

func TestInferShapesErrors(t *testing.T) {
	tests := []struct {
		name    string
		build   func() *builder
		inputs  map[string][]int64
		wantErr []string
	}{
		{
			name: "unknown op names op and node",
			build: func() *builder {
				return newBuilder(14).input("x", f32, []int64{2}, nil).node("FancyOp", []string{"x"}, []string{"y"})
			},
			wantErr: []string{"FancyOp", `"FancyOp_y"`},
		},
		{
			name: "unknown contrib op names its domain",
			build: func() *builder {
				return newBuilder(14).input("x", f32, []int64{2}, nil).domainNode("com.microsoft", "SkipLayerNormalization", []string{"x"}, []string{"y"})
			},
			wantErr: []string{"com.microsoft::SkipLayerNormalization"},
		},
		{
			name: "symbolic input without a given shape",
			build: func() *builder {
				return newBuilder(14).input("x", f32, []int64{-1}, []string{"n"}).node("Relu", []string{"x"}, []string{"y"})
			},
			wantErr: []string{`input "x"`, `"n"`},
		},
		{
			name: "shape for a tensor that is not an input",
			build: func() *builder {
				return newBuilder(14).input("x", f32, []int64{2}, nil).node("Relu", []string{"x"}, []string{"y"})
			},
			inputs:  map[string][]int64{"y": {2}},
			wantErr: []string{`"y"`, "not an input"},
		},
		{
			name: "Reshape to a shape that is not foldable",
			build: func() *builder {
				return newBuilder(14).input("x", f32, []int64{4}, nil).input("t", i64, []int64{1}, nil).node("Reshape", []string{"x", "t"}, []string{"y"})
			},
			wantErr: []string{"Reshape", "could not be folded"},
		},
		{
			name: "broadcast mismatch",
			build: func() *builder {
				return newBuilder(14).input("a", f32, []int64{3}, nil).input("b", f32, []int64{4}, nil).node("Add", []string{"a", "b"}, []string{"y"})
			},
			wantErr: []string{"cannot be broadcast"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.build().graph(t)
			_, err := g.InferShapes(tc.inputs)
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
