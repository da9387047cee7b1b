package gradient

import (
	"testing"

	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

func fdX(shape ...int64) tin { return tin{shape: shape} }

func fdPos(shape ...int64) tin { return tin{shape: shape, lo: 0.5, hi: 1.5} }

func fdInts(shape []int64, v ...int64) tin { return tin{shape: shape, ints: v} }

func fdVals(shape []int64, v ...float64) tin { return tin{shape: shape, vals: v} }

var (
	fdAttrI  = onnxgraph.IntAttribute
	fdAttrIs = onnxgraph.IntsAttribute
)

func fdAttrF(name string, v float32) *onnxpb.AttributeProto {
	t := onnxpb.AttributeProto_FLOAT
	return &onnxpb.AttributeProto{Name: &name, Type: &t, F: &v}
}

func fdAttrS(name, v string) *onnxpb.AttributeProto {
	t := onnxpb.AttributeProto_STRING
	return &onnxpb.AttributeProto{Name: &name, Type: &t, S: []byte(v)}
}

// fdCases holds one case per op plus broadcasting and attribute variants.
var fdCases = []fdCase{
	// Linear algebra.
	{name: "MatMul2D", op: "MatMul", in: []tin{fdX(3, 4), fdX(4, 5)}},
	{name: "MatMulBatchedByMatrix", op: "MatMul", in: []tin{fdX(2, 3, 4), fdX(4, 5)}},
	{name: "MatMulBroadcastBatch", op: "MatMul", in: []tin{fdX(2, 1, 3, 4), fdX(3, 4, 2)}},
	{name: "MatMulVectorLeft", op: "MatMul", in: []tin{fdX(4), fdX(2, 4, 3)}},
	{name: "MatMulVectorRight", op: "MatMul", in: []tin{fdX(2, 3, 4), fdX(4)}},
	{name: "Gemm", op: "Gemm", in: []tin{fdX(3, 4), fdX(4, 5), fdX(5)}},
	{name: "GemmTransAlphaBeta", op: "Gemm", in: []tin{fdX(4, 3), fdX(5, 4), fdX(3, 1)}, attrs: []*onnxpb.AttributeProto{fdAttrI("transA", 1), fdAttrI("transB", 1), fdAttrF("alpha", 0.7), fdAttrF("beta", 1.3)}},
	// Binary elementwise.
	{name: "Add", op: "Add", in: []tin{fdX(2, 3), fdX(2, 3)}},
	{name: "AddBroadcastTrailing", op: "Add", in: []tin{fdX(2, 3, 4), fdX(4)}},
	{name: "AddBroadcastBoth", op: "Add", in: []tin{fdX(2, 1, 4), fdX(3, 1)}},
	{name: "SubBroadcast", op: "Sub", in: []tin{fdX(2, 3), fdX(2, 1)}},
	{name: "MulBroadcast", op: "Mul", in: []tin{fdX(2, 3, 4), fdX(1, 3, 1)}},
	{name: "MulScalar", op: "Mul", in: []tin{fdX(2, 3), fdX()}},
	{name: "SumThree", op: "Sum", in: []tin{fdX(2, 3), fdX(3), fdX(2, 1)}},
	{name: "Mean", op: "Mean", in: []tin{fdX(2, 3), fdX(2, 3)}, single: true},
	{name: "DivBroadcast", op: "Div", in: []tin{fdX(2, 3), fdPos(3)}},
	{name: "PowConstExponent", op: "Pow", in: []tin{fdX(2, 3), fdVals(nil, 2)}},
	{name: "PowCube", op: "Pow", in: []tin{fdX(2, 3), fdVals(nil, 3)}},
	{name: "PowOne", op: "Pow", in: []tin{fdX(2, 3), fdVals(nil, 1)}},
	{name: "PowConstHalf", op: "Pow", in: []tin{fdPos(2, 3), fdVals([]int64{1}, 0.5)}},
	{name: "PowConstVector", op: "Pow", in: []tin{fdPos(2, 3), fdVals([]int64{3}, 0.5, 2, -1.5)}},
	{name: "PowBothActive", op: "Pow", in: []tin{fdPos(2, 3), fdX(3)}},
	// Unary elementwise.
	{name: "Sqrt", op: "Sqrt", in: []tin{fdPos(2, 3)}},
	{name: "Reciprocal", op: "Reciprocal", in: []tin{fdPos(2, 3)}},
	{name: "Erf", op: "Erf", in: []tin{fdX(2, 3)}, single: true},
	{name: "Tanh", op: "Tanh", in: []tin{fdX(2, 3)}},
	{name: "Relu", op: "Relu", in: []tin{fdX(3, 4)}},
	{name: "Gelu", op: "Gelu", in: []tin{fdX(3, 4)}, single: true},
	{name: "GeluTanh", op: "Gelu", in: []tin{fdX(3, 4)}, attrs: []*onnxpb.AttributeProto{fdAttrS("approximate", "tanh")}, single: true},
	{name: "Sigmoid", op: "Sigmoid", in: []tin{fdX(2, 3)}},
	{name: "Neg", op: "Neg", in: []tin{fdX(2, 3)}},
	{name: "Exp", op: "Exp", in: []tin{fdX(2, 3)}},
	{name: "Log", op: "Log", in: []tin{fdPos(2, 3)}},
	{name: "Identity", op: "Identity", in: []tin{fdX(2, 3)}},
	{name: "Dropout", op: "Dropout", in: []tin{fdX(2, 3)}, nOut: 2},
	{name: "CastToFloat", op: "Cast", in: []tin{fdX(2, 3)}, attrs: []*onnxpb.AttributeProto{fdAttrI("to", int64(onnxpb.TensorProto_FLOAT))}, loose: true},
	{name: "Clip", op: "Clip", in: []tin{fdX(3, 4), fdVals(nil, -0.5), fdVals(nil, 0.7)}},
	{name: "ClipActiveBounds", op: "Clip", in: []tin{fdX(3, 4), {lo: -1, hi: -0.3}, {lo: 0.3, hi: 1}}},
	// Selection.
	{name: "WhereBroadcast", op: "Where", in: []tin{{shape: []int64{2, 3}, bools: []bool{true, false, true, false, false, true}}, fdX(2, 3), fdX(3)}},
	{name: "MaxBroadcast", op: "Max", in: []tin{fdX(2, 3), fdX(3)}},
	// Every element ties; max(x, x) = x, so the subgradient must sum to 1 (here all to the first operand).
	{name: "MaxTies", in: []tin{fdX(2, 3)}, build: func(b *builder, xs []string) []string {
		return []string{b.op("Max", []string{xs[0], b.op("Identity", []string{xs[0]})})}
	}},
	{name: "MinThree", op: "Min", in: []tin{fdX(2, 3), fdX(2, 3), fdX(1, 3)}},
	// Normalisations and reductions.
	{name: "SoftmaxLast", op: "Softmax", in: []tin{fdX(2, 3, 4)}},
	{name: "SoftmaxAxis1", op: "Softmax", in: []tin{fdX(2, 3, 4)}, attrs: []*onnxpb.AttributeProto{fdAttrI("axis", 1)}},
	{name: "LogSoftmaxLast", op: "LogSoftmax", in: []tin{fdX(2, 5)}},
	{name: "LogSoftmaxAxis0", op: "LogSoftmax", in: []tin{fdX(3, 4)}, attrs: []*onnxpb.AttributeProto{fdAttrI("axis", 0)}},
	{name: "ReduceMeanAttrAxes", op: "ReduceMean", in: []tin{fdX(2, 3, 4)}, attrs: []*onnxpb.AttributeProto{fdAttrIs("axes", []int64{-1}), fdAttrI("keepdims", 0)}, opset: 14},
	{name: "ReduceMeanInputAxes", op: "ReduceMean", in: []tin{fdX(2, 3, 4), fdInts([]int64{2}, 0, 2)}},
	{name: "ReduceSumKeep", op: "ReduceSum", in: []tin{fdX(2, 3, 4), fdInts([]int64{1}, 1)}},
	{name: "ReduceSumAll", op: "ReduceSum", in: []tin{fdX(2, 3)}, attrs: []*onnxpb.AttributeProto{fdAttrI("keepdims", 0)}},
	{name: "ReduceSumAttrAxes", op: "ReduceSum", in: []tin{fdX(2, 3)}, attrs: []*onnxpb.AttributeProto{fdAttrIs("axes", []int64{0})}, opset: 12},
	{name: "LayerNorm", op: "LayerNormalization", in: []tin{fdX(2, 3, 4), fdX(4), fdX(4)}},
	{name: "LayerNormOpset17", op: "LayerNormalization", in: []tin{fdX(2, 3, 4), fdX(4), fdX(4)}, opset: 17},
	{name: "LayerNormAllOutputs", op: "LayerNormalization", in: []tin{fdX(2, 3, 4), fdX(3, 4)}, attrs: []*onnxpb.AttributeProto{fdAttrI("axis", 1), fdAttrF("epsilon", 0.1)}, nOut: 3, loose: true},
	{name: "LayerNormStatsOnly", op: "LayerNormalization", in: []tin{fdX(3, 4), fdX(4), fdX(4)}, nOut: 3, loss: []int{1, 2}, loose: true},
	{name: "LayerNormDecomposed", in: []tin{fdX(2, 3, 4), fdX(4), fdX(4)}, opset: 14, build: decomposedLayerNorm},
	// Data movement.
	{name: "GatherAxis0", op: "Gather", in: []tin{fdX(5, 3), fdInts([]int64{2, 2}, 0, 4, -1, 0)}},
	{name: "GatherAxis1", op: "Gather", in: []tin{fdX(2, 4, 3), fdInts([]int64{3}, 3, 1, 3)}, attrs: []*onnxpb.AttributeProto{fdAttrI("axis", 1)}},
	{name: "GatherScalarIndex", op: "Gather", in: []tin{fdX(4, 3), fdInts(nil, 2)}},
	{name: "GatherNDRows", op: "GatherND", in: []tin{fdX(3, 5, 2), fdInts([]int64{3, 2}, 0, 4, 1, 0, 2, 3)}, opset: 18},
	{name: "GatherNDRepeated", op: "GatherND", in: []tin{fdX(4, 3), fdInts([]int64{3, 1}, 2, 0, 2)}, opset: 18},
	{name: "Slice", op: "Slice", in: []tin{fdX(4, 5), fdInts([]int64{2}, 1, -4), fdInts([]int64{2}, 3, 100), fdInts([]int64{2}, 0, 1)}},
	{name: "SliceSteps", op: "Slice", in: []tin{fdX(5, 6, 2), fdInts([]int64{3}, -1, 0, 0), fdInts([]int64{3}, -100, 6, 2), fdInts([]int64{3}, 0, 1, 2), fdInts([]int64{3}, -2, 2, 1)}},
	{name: "SliceDefaultAxes", op: "Slice", in: []tin{fdX(3, 4), fdInts([]int64{1}, 1), fdInts([]int64{1}, 3)}},
	{name: "SplitInputSizes", op: "Split", in: []tin{fdX(2, 5), fdInts([]int64{2}, 2, 3)}, attrs: []*onnxpb.AttributeProto{fdAttrI("axis", 1)}, nOut: 2, opset: 13},
	{name: "SplitUnusedOutput", op: "Split", in: []tin{fdX(6, 2)}, attrs: []*onnxpb.AttributeProto{fdAttrI("num_outputs", 3)}, nOut: 3, loss: []int{0, 2}},
	{name: "Concat", op: "Concat", in: []tin{fdX(2, 1), fdX(2, 3), fdX(2, 2)}, attrs: []*onnxpb.AttributeProto{fdAttrI("axis", -1)}},
	{name: "Reshape", op: "Reshape", in: []tin{fdX(2, 3, 4), fdInts([]int64{2}, 6, -1)}},
	{name: "Transpose", op: "Transpose", in: []tin{fdX(2, 3, 4)}, attrs: []*onnxpb.AttributeProto{fdAttrIs("perm", []int64{2, 0, 1})}},
	{name: "TransposeDefault", op: "Transpose", in: []tin{fdX(2, 3, 4)}},
	{name: "Squeeze", op: "Squeeze", in: []tin{fdX(2, 1, 3), fdInts([]int64{1}, 1)}},
	{name: "Unsqueeze", op: "Unsqueeze", in: []tin{fdX(2, 3), fdInts([]int64{2}, 0, 2)}},
	{name: "Flatten", op: "Flatten", in: []tin{fdX(2, 3, 4)}, attrs: []*onnxpb.AttributeProto{fdAttrI("axis", 2)}},
	{name: "Expand", op: "Expand", in: []tin{fdX(3, 1), fdInts([]int64{3}, 2, 3, 4)}},
}

// decomposedLayerNorm is LayerNorm as the legacy exporter writes it:
// (x − mean)/sqrt(mean((x − mean)²) + ε)·w + b.
func decomposedLayerNorm(b *builder, xs []string) []string {
	mu := b.reduce("ReduceMean", xs[0], []int64{-1}, true)
	d := b.op("Sub", []string{xs[0], mu})
	v := b.reduce("ReduceMean", b.op("Pow", []string{d, b.scalar(2, onnxpb.TensorProto_DOUBLE)}), []int64{-1}, true)
	den := b.op("Sqrt", []string{b.op("Add", []string{v, b.scalar(1e-5, onnxpb.TensorProto_DOUBLE)})})
	return []string{b.op("Add", []string{b.op("Mul", []string{b.op("Div", []string{d, den}), xs[1]}), xs[2]})}
}

func TestRulesMatchFiniteDifferences(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range fdCases {
		covered[tc.op] = true
		t.Run(tc.name, func(t *testing.T) {
			worst, single := checkFD(t, tc)
			prec := "float64"
			if single {
				prec = "float32"
			}
			t.Logf("%s: max |analytic − FD| = %.3g (%s)", tc.name, worst, prec)
		})
	}
	for op := range rules {
		if !covered[op] {
			t.Errorf("rule %s has no finite-difference case", op)
		}
	}
}
