package onnxgraph

import (
	"math"
	"testing"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// want is the expected inference of one tensor: its shape and, when set, its values.
type want struct {
	shape  []int64
	ints   []int64   // nil: integer values not checked
	floats []float64 // nil: float values not checked; NaN matches NaN
	dtype  onnxpb.TensorProto_DataType
}

type opCase struct {
	name   string
	build  func() *builder
	inputs map[string][]int64
	want   map[string]want
}

func runOpCases(t *testing.T, cases []opCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.build().graph(t).InferShapes(tc.inputs)
			if err != nil {
				t.Fatal(err)
			}
			for name, w := range tc.want {
				info := s[name]
				switch {
				case info == nil:
					t.Errorf("%s: no shape", name)
				case !eqInts(info.Shape, w.shape):
					t.Errorf("%s: shape %v, want %v", name, info.Shape, w.shape)
				case w.ints != nil && !eqInts(info.Ints, w.ints):
					t.Errorf("%s: values %v, want %v", name, info.Ints, w.ints)
				case w.floats != nil && !eqFloats(info.Floats, w.floats):
					t.Errorf("%s: values %v, want %v", name, info.Floats, w.floats)
				case w.dtype != 0 && info.DType != w.dtype:
					t.Errorf("%s: type %v, want %v", name, info.DType, w.dtype)
				}
			}
		})
	}
}

func eqFloats(a, b []float64) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func stringAttribute(name, v string) *onnxpb.AttributeProto {
	t := onnxpb.AttributeProto_STRING
	return &onnxpb.AttributeProto{Name: strPtr(name), Type: &t, S: []byte(v)}
}

func TestInferGatherND(t *testing.T) {
	runOpCases(t, []opCase{
		{
			name: "index tuples of full length pick elements, negative indices count from the end",
			build: func() *builder {
				return newBuilder(18).
					ints("data", []int64{2, 3}, 0, 1, 2, 3, 4, 5).
					ints("pairs", []int64{3, 2}, 1, 2, 0, 0, -1, -3).
					ints("rows", []int64{1, 1}, 1).
					node("GatherND", []string{"data", "pairs"}, []string{"elems"}).
					node("GatherND", []string{"data", "rows"}, []string{"row"})
			},
			want: map[string]want{
				"elems": {shape: []int64{3}, ints: []int64{5, 0, 3}},
				"row":   {shape: []int64{1, 3}, ints: []int64{3, 4, 5}},
			},
		},
		{
			name: "batch_dims=1 indexes within each batch entry",
			build: func() *builder {
				return newBuilder(18).
					ints("data", []int64{2, 2, 2}, 0, 1, 2, 3, 4, 5, 6, 7).
					ints("idx", []int64{2, 1}, 1, 0).
					node("GatherND", []string{"data", "idx"}, []string{"y"}, IntAttribute("batch_dims", 1))
			},
			// batch 0, row 1 = [2 3]; batch 1, row 0 = [4 5]
			want: map[string]want{"y": {shape: []int64{2, 2}, ints: []int64{2, 3, 4, 5}}},
		},
		{
			name: "dynamo BERT mask: attention_mask[b, k] gathered at an index grid built from Range",
			build: func() *builder {
				// The exporter's vmap'd mask function: b = arange(B)[:, None, None, None],
				// k = arange(S)[None, None, None, :], both expanded to [B, 1, 1, S], stacked
				// on a new last axis and used as GatherND indices into the mask.
				return newBuilder(18).
					input("mask", i64, []int64{-1, -1}, []string{"batch", "sequence"}).
					ints("zero", []int64{}, 0).ints("one", []int64{}, 1).
					ints("ax123", []int64{3}, 1, 2, 3).ints("ax012", []int64{3}, 0, 1, 2).ints("last", []int64{1}, -1).
					node("Shape", []string{"mask"}, []string{"sh"}).
					node("Gather", []string{"sh", "zero"}, []string{"B"}).
					node("Gather", []string{"sh", "one"}, []string{"S"}).
					node("Range", []string{"zero", "B", "one"}, []string{"rb"}).
					node("Range", []string{"zero", "S", "one"}, []string{"rk"}).
					node("Unsqueeze", []string{"rb", "ax123"}, []string{"b4"}).
					node("Unsqueeze", []string{"rk", "ax012"}, []string{"k4"}).
					node("Max", []string{"b4", "k4"}, []string{"both"}).
					node("Shape", []string{"both"}, []string{"grid"}).
					node("Expand", []string{"b4", "grid"}, []string{"bx"}).
					node("Expand", []string{"k4", "grid"}, []string{"kx"}).
					node("Unsqueeze", []string{"bx", "last"}, []string{"bi"}).
					node("Unsqueeze", []string{"kx", "last"}, []string{"ki"}).
					node("Concat", []string{"bi", "ki"}, []string{"idx"}, IntAttribute("axis", -1)).
					node("Cast", []string{"mask"}, []string{"maskb"}, IntAttribute("to", int64(onnxpb.TensorProto_BOOL))).
					node("GatherND", []string{"maskb", "idx"}, []string{"picked"})
			},
			inputs: map[string][]int64{"mask": {2, 3}},
			want: map[string]want{
				"grid":   {shape: []int64{4}, ints: []int64{2, 1, 1, 3}},
				"idx":    {shape: []int64{2, 1, 1, 3, 2}, ints: []int64{0, 0, 0, 1, 0, 2, 1, 0, 1, 1, 1, 2}},
				"picked": {shape: []int64{2, 1, 1, 3}, dtype: onnxpb.TensorProto_BOOL},
			},
		},
		{
			name: "unknown data gives the shape only",
			build: func() *builder {
				return newBuilder(18).
					input("x", f32, []int64{2, 5, 7}, nil).
					ints("idx", []int64{4, 3, 2}, make([]int64, 24)...).
					node("GatherND", []string{"x", "idx"}, []string{"y"})
			},
			want: map[string]want{"y": {shape: []int64{4, 3, 7}}},
		},
	})
}

func TestInferGatherElements(t *testing.T) {
	// The examples of the ONNX operator documentation.
	runOpCases(t, []opCase{{
		name: "axis 1 and axis 0",
		build: func() *builder {
			return newBuilder(18).
				ints("d2", []int64{2, 2}, 1, 2, 3, 4).
				ints("i2", []int64{2, 2}, 0, 0, 1, 0).
				ints("d3", []int64{3, 3}, 1, 2, 3, 4, 5, 6, 7, 8, 9).
				ints("i3", []int64{2, 3}, 1, 2, 0, 2, 0, 0).
				ints("neg", []int64{1, 2}, -1, -2).
				node("GatherElements", []string{"d2", "i2"}, []string{"a1"}, IntAttribute("axis", 1)).
				node("GatherElements", []string{"d3", "i3"}, []string{"a0"}, IntAttribute("axis", 0)).
				node("GatherElements", []string{"d3", "neg"}, []string{"an"}, IntAttribute("axis", 1))
		},
		want: map[string]want{
			"a1": {shape: []int64{2, 2}, ints: []int64{1, 1, 4, 3}},
			"a0": {shape: []int64{2, 3}, ints: []int64{4, 8, 3, 7, 2, 3}},
			"an": {shape: []int64{1, 2}, ints: []int64{3, 2}},
		},
	}})
}

func TestInferScatter(t *testing.T) {
	runOpCases(t, []opCase{
		{
			name: "ScatterND on elements, with and without add reduction (ONNX documentation example)",
			build: func() *builder {
				return newBuilder(18).
					ints("data", []int64{8}, 1, 2, 3, 4, 5, 6, 7, 8).
					ints("idx", []int64{4, 1}, 4, 3, 1, 7).
					ints("upd", []int64{4}, 9, 10, 11, 12).
					ints("dup", []int64{2, 1}, 1, 1).
					ints("two", []int64{2}, 5, 6).
					node("ScatterND", []string{"data", "idx", "upd"}, []string{"set"}).
					node("ScatterND", []string{"data", "dup", "two"}, []string{"add"}, stringAttribute("reduction", "add")).
					node("ScatterND", []string{"data", "dup", "two"}, []string{"mul"}, stringAttribute("reduction", "mul")).
					node("ScatterND", []string{"data", "dup", "two"}, []string{"max"}, stringAttribute("reduction", "max"))
			},
			want: map[string]want{
				"set": {shape: []int64{8}, ints: []int64{1, 11, 3, 10, 9, 6, 7, 12}},
				"add": {shape: []int64{8}, ints: []int64{1, 13, 3, 4, 5, 6, 7, 8}},
				"mul": {shape: []int64{8}, ints: []int64{1, 60, 3, 4, 5, 6, 7, 8}},
				"max": {shape: []int64{8}, ints: []int64{1, 6, 3, 4, 5, 6, 7, 8}},
			},
		},
		{
			name: "ScatterND replaces whole rows; unknown data gives the shape",
			build: func() *builder {
				return newBuilder(18).
					ints("data", []int64{3, 2}, 0, 0, 0, 0, 0, 0).
					ints("rows", []int64{2, 1}, 2, 0).
					ints("upd", []int64{2, 2}, 1, 2, 3, 4).
					input("x", f32, []int64{3, 2}, nil).
					floats("fupd", []int64{2, 2}).
					node("ScatterND", []string{"data", "rows", "upd"}, []string{"y"}).
					node("ScatterND", []string{"x", "rows", "fupd"}, []string{"xs"})
			},
			want: map[string]want{
				"y":  {shape: []int64{3, 2}, ints: []int64{3, 4, 0, 0, 1, 2}},
				"xs": {shape: []int64{3, 2}},
			},
		},
		{
			name: "ScatterElements along axis 0 and 1 (ONNX documentation examples)",
			build: func() *builder {
				return newBuilder(18).
					floats("zeros", []int64{3, 3}).
					ints("i0", []int64{2, 3}, 1, 0, 2, 0, 2, 1).
					floats("u0", []int64{2, 3}, 1.0, 1.5, 1.25, 2.0, 2.5, 2.25).
					ints("row", []int64{1, 5}, 1, 2, 3, 4, 5).
					ints("i1", []int64{1, 2}, 1, 3).
					ints("u1", []int64{1, 2}, 11, 21).
					node("ScatterElements", []string{"zeros", "i0", "u0"}, []string{"s0"}, IntAttribute("axis", 0)).
					node("ScatterElements", []string{"row", "i1", "u1"}, []string{"s1"}, IntAttribute("axis", 1)).
					node("ScatterElements", []string{"row", "i1", "u1"}, []string{"s1add"}, IntAttribute("axis", 1), stringAttribute("reduction", "add"))
			},
			want: map[string]want{
				"s0":    {shape: []int64{3, 3}, floats: []float64{2.0, 1.5, 0, 1.0, 0, 2.25, 0, 2.5, 1.25}},
				"s1":    {shape: []int64{1, 5}, ints: []int64{1, 11, 3, 21, 5}},
				"s1add": {shape: []int64{1, 5}, ints: []int64{1, 13, 3, 25, 5}},
			},
		},
	})
}

func TestInferTriluCumSum(t *testing.T) {
	runOpCases(t, []opCase{
		{
			name: "Trilu upper and lower with diagonal offsets, batched",
			build: func() *builder {
				return newBuilder(18).
					ints("x", []int64{3, 3}, 1, 2, 3, 4, 5, 6, 7, 8, 9).
					ints("k1", []int64{}, 1).ints("km1", []int64{}, -1).
					ints("b", []int64{2, 2, 3}, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2).
					node("Trilu", []string{"x"}, []string{"up"}).
					node("Trilu", []string{"x"}, []string{"lo"}, IntAttribute("upper", 0)).
					node("Trilu", []string{"x", "k1"}, []string{"up1"}).
					node("Trilu", []string{"x", "km1"}, []string{"lo1"}, IntAttribute("upper", 0)).
					node("Trilu", []string{"b"}, []string{"bup"})
			},
			want: map[string]want{
				"up":  {shape: []int64{3, 3}, ints: []int64{1, 2, 3, 0, 5, 6, 0, 0, 9}},
				"lo":  {shape: []int64{3, 3}, ints: []int64{1, 0, 0, 4, 5, 0, 7, 8, 9}},
				"up1": {shape: []int64{3, 3}, ints: []int64{0, 2, 3, 0, 0, 6, 0, 0, 0}},
				"lo1": {shape: []int64{3, 3}, ints: []int64{0, 0, 0, 4, 0, 0, 7, 8, 0}},
				"bup": {shape: []int64{2, 2, 3}, ints: []int64{1, 1, 1, 0, 1, 1, 2, 2, 2, 0, 2, 2}},
			},
		},
		{
			name: "CumSum inclusive, exclusive, reversed, along an inner axis, and on floats",
			build: func() *builder {
				return newBuilder(18).
					ints("v", []int64{5}, 1, 2, 3, 4, 5).
					ints("m", []int64{2, 3}, 1, 2, 3, 4, 5, 6).
					floats("f", []int64{3}, 0.5, 0.25, 1).
					ints("ax0", []int64{}, 0).ints("ax1", []int64{1}, -1).
					node("CumSum", []string{"v", "ax0"}, []string{"inc"}).
					node("CumSum", []string{"v", "ax0"}, []string{"exc"}, IntAttribute("exclusive", 1)).
					node("CumSum", []string{"v", "ax0"}, []string{"rev"}, IntAttribute("reverse", 1)).
					node("CumSum", []string{"v", "ax0"}, []string{"both"}, IntAttribute("reverse", 1), IntAttribute("exclusive", 1)).
					node("CumSum", []string{"m", "ax1"}, []string{"rows"}).
					node("CumSum", []string{"f", "ax0"}, []string{"fs"})
			},
			want: map[string]want{
				"inc":  {shape: []int64{5}, ints: []int64{1, 3, 6, 10, 15}},
				"exc":  {shape: []int64{5}, ints: []int64{0, 1, 3, 6, 10}},
				"rev":  {shape: []int64{5}, ints: []int64{15, 14, 12, 9, 5}},
				"both": {shape: []int64{5}, ints: []int64{14, 12, 9, 5, 0}},
				"rows": {shape: []int64{2, 3}, ints: []int64{1, 3, 6, 4, 9, 15}},
				"fs":   {shape: []int64{3}, floats: []float64{0.5, 0.75, 1.75}},
			},
		},
		{
			name: "RoBERTa position ids: cumsum(ids != pad) * (ids != pad) + pad",
			build: func() *builder {
				return newBuilder(18).
					ints("ids", []int64{2, 4}, 5, 6, 1, 1, 7, 8, 9, 1).
					ints("pad", []int64{}, 1).ints("ax", []int64{}, 1).
					node("Equal", []string{"ids", "pad"}, []string{"isPad"}).
					node("Not", []string{"isPad"}, []string{"real"}).
					node("Cast", []string{"real"}, []string{"mask"}, IntAttribute("to", int64(onnxpb.TensorProto_INT32))).
					node("CumSum", []string{"mask", "ax"}, []string{"cs"}).
					node("Mul", []string{"cs", "mask"}, []string{"inc"}).
					node("Cast", []string{"inc"}, []string{"inc64"}, IntAttribute("to", int64(onnxpb.TensorProto_INT64))).
					node("Add", []string{"inc64", "pad"}, []string{"pos"})
			},
			want: map[string]want{"pos": {shape: []int64{2, 4}, ints: []int64{2, 3, 1, 1, 2, 3, 4, 1}}},
		},
		{
			name: "unknown input gives the shape only",
			build: func() *builder {
				return newBuilder(18).
					input("x", f32, []int64{-1, -1}, []string{"b", "s"}).
					ints("ax", []int64{}, 1).
					node("CumSum", []string{"x", "ax"}, []string{"c"}).
					node("Trilu", []string{"x"}, []string{"t"})
			},
			inputs: map[string][]int64{"x": {2, 6}},
			want: map[string]want{
				"c": {shape: []int64{2, 6}},
				"t": {shape: []int64{2, 6}},
			},
		},
	})
}

func TestInferPredicatesArgReduce(t *testing.T) {
	inf := float32(math.Inf(1))
	runOpCases(t, []opCase{
		{
			name: "IsNaN and IsInf on floats, integers are neither",
			build: func() *builder {
				return newBuilder(20).
					floats("f", []int64{4}, 1, float32(math.NaN()), inf, -inf).
					ints("i", []int64{2}, 1, 2).
					node("IsNaN", []string{"f"}, []string{"nan"}).
					node("IsInf", []string{"f"}, []string{"inf"}).
					node("IsInf", []string{"f"}, []string{"pinf"}, IntAttribute("detect_negative", 0)).
					node("IsNaN", []string{"i"}, []string{"inan"}).
					node("Where", []string{"nan", "zero", "f"}, []string{"guarded"}).
					floats("zero", []int64{}, 0)
			},
			want: map[string]want{
				"nan":     {shape: []int64{4}, ints: []int64{0, 1, 0, 0}, dtype: onnxpb.TensorProto_BOOL},
				"inf":     {shape: []int64{4}, ints: []int64{0, 0, 1, 1}},
				"pinf":    {shape: []int64{4}, ints: []int64{0, 0, 1, 0}},
				"inan":    {shape: []int64{2}, ints: []int64{0, 0}},
				"guarded": {shape: []int64{4}, floats: []float64{1, 0, math.Inf(1), math.Inf(-1)}},
			},
		},
		{
			name: "ArgMax and ArgMin: first or last of ties, keepdims",
			build: func() *builder {
				return newBuilder(18).
					ints("x", []int64{2, 3}, 1, 5, 5, 7, 2, 7).
					node("ArgMax", []string{"x"}, []string{"amax"}, IntAttribute("axis", 1), IntAttribute("keepdims", 0)).
					node("ArgMax", []string{"x"}, []string{"alast"}, IntAttribute("axis", 1), IntAttribute("keepdims", 0), IntAttribute("select_last_index", 1)).
					node("ArgMin", []string{"x"}, []string{"amin"}, IntAttribute("axis", -1)).
					node("ArgMax", []string{"x"}, []string{"a0"}, IntAttribute("axis", 0), IntAttribute("keepdims", 0))
			},
			want: map[string]want{
				"amax":  {shape: []int64{2}, ints: []int64{1, 0}, dtype: i64},
				"alast": {shape: []int64{2}, ints: []int64{2, 2}},
				"amin":  {shape: []int64{2, 1}, ints: []int64{0, 1}},
				"a0":    {shape: []int64{3}, ints: []int64{1, 0, 1}},
			},
		},
		{
			name: "reductions fold values, axes given as an input (opset 18) or left out",
			build: func() *builder {
				return newBuilder(18).
					ints("x", []int64{2, 3}, 1, 2, 3, 4, 5, 6).
					floats("f", []int64{2, 2}, 1, 2, 4, 8).
					ints("ax1", []int64{1}, 1).ints("ax0", []int64{1}, 0).ints("none", []int64{0}).
					node("ReduceSum", []string{"x", "ax1"}, []string{"sum"}, IntAttribute("keepdims", 0)).
					node("ReduceMax", []string{"x", "ax0"}, []string{"max"}).
					node("ReduceMin", []string{"x"}, []string{"min"}, IntAttribute("keepdims", 0)).
					node("ReduceProd", []string{"x", "ax1"}, []string{"prod"}, IntAttribute("keepdims", 0)).
					node("ReduceMean", []string{"f", "ax1"}, []string{"mean"}, IntAttribute("keepdims", 0)).
					node("ReduceMax", []string{"x", "none"}, []string{"noop"}, IntAttribute("noop_with_empty_axes", 1)).
					node("ReduceL2", []string{"f", "ax1"}, []string{"l2"})
			},
			want: map[string]want{
				"sum":  {shape: []int64{2}, ints: []int64{6, 15}},
				"max":  {shape: []int64{1, 3}, ints: []int64{4, 5, 6}},
				"min":  {shape: []int64{}, ints: []int64{1}},
				"prod": {shape: []int64{2}, ints: []int64{6, 120}},
				"mean": {shape: []int64{2}, floats: []float64{1.5, 6}},
				"noop": {shape: []int64{2, 3}, ints: []int64{1, 2, 3, 4, 5, 6}},
				"l2":   {shape: []int64{2, 1}},
			},
		},
		{
			name: "CastLike folds values into the other input's type",
			build: func() *builder {
				return newBuilder(18).
					ints("n", []int64{2}, 3, -4).
					floats("half", []int64{2}, 0.5, -2.75).
					floats("likeF", []int64{}, 0).ints("likeI", []int64{}, 0).
					node("CastLike", []string{"n", "likeF"}, []string{"nf"}).
					node("CastLike", []string{"half", "likeI"}, []string{"hi"})
			},
			want: map[string]want{
				"nf": {shape: []int64{2}, floats: []float64{3, -4}, dtype: f32},
				"hi": {shape: []int64{2}, ints: []int64{0, -2}, dtype: i64},
			},
		},
	})
}
