package onnxgraph

import (
	"fmt"
	"math"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// Elementwise ops (unary, binary, variadic, Where), casts, and the matrix ops
// MatMul, Gemm and LayerNormalization. Values are folded where shape arithmetic
// needs them (integer Add/Mul/Div of dims, Equal/Where masks, casts of dims).

// inferSameShape gives one output of x's type and shape; its values are not tracked.
func inferSameShape(_ *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	return []*TensorInfo{same(ins[0])}, nil
}

// inferIdentity passes x (values included) through; Dropout's second output is a bool mask of x's shape.
func inferIdentity(_ *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	x := ins[0]
	out := same(x)
	out.Ints, out.Floats = x.Ints, x.Floats
	mask := same(x)
	mask.DType = onnxpb.TensorProto_BOOL
	return []*TensorInfo{out, mask}, nil
}

// inferUnary applies one of unaryFuncs, folding the values when x's are known.
func inferUnary(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	x := ins[0]
	out := same(x)
	if x.HasValue() {
		fn := unaryFuncs[n.GetOpType()]
		if isFloatType(x.DType) {
			out.Floats = make([]float64, x.n())
			for k := range out.Floats {
				out.Floats[k] = fn(x.f(k))
			}
		} else {
			out.Ints = make([]int64, x.n())
			for k := range out.Ints {
				out.Ints[k] = int64(fn(float64(x.i(k))))
			}
		}
	}
	return []*TensorInfo{out}, nil
}

// unaryFuncs are the unary ops whose values inferUnary folds.
var unaryFuncs = map[string]func(float64) float64{
	"Neg":        func(v float64) float64 { return -v },
	"Not":        func(v float64) float64 { return b2f(v == 0) },
	"Abs":        math.Abs,
	"Sqrt":       math.Sqrt,
	"Relu":       func(v float64) float64 { return math.Max(v, 0) },
	"Floor":      math.Floor,
	"Ceil":       math.Ceil,
	"Reciprocal": func(v float64) float64 { return 1 / v },
}

// b2f is 1 for true and 0 for false, ONNX's bool values.
func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// inferIsNaNInf gives a bool tensor of x's shape; integer tensors hold neither NaN nor Inf.
// The dynamo exporter guards the SDPA Softmax with Where(IsNaN(p), 0, p).
func inferIsNaNInf(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	x := ins[0]
	out := &TensorInfo{DType: onnxpb.TensorProto_BOOL, Shape: append([]int64{}, x.Shape...)}
	if !x.HasValue() {
		return []*TensorInfo{out}, nil
	}
	out.Ints = make([]int64, x.n())
	if x.Floats == nil {
		return []*TensorInfo{out}, nil // all false
	}
	pos, neg := IntAttr(n, "detect_positive", 1) != 0, IntAttr(n, "detect_negative", 1) != 0
	for k := range out.Ints {
		v := x.Floats[k]
		hit := math.IsNaN(v)
		if n.GetOpType() == "IsInf" {
			hit = (pos && math.IsInf(v, 1)) || (neg && math.IsInf(v, -1))
		}
		out.Ints[k] = int64(b2f(hit))
	}
	return []*TensorInfo{out}, nil
}

// inferCast converts x, values included, to the type of the "to" attribute.
func inferCast(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	return []*TensorInfo{castInfo(ins[0], onnxpb.TensorProto_DataType(IntAttr(n, "to", 0)))}, nil
}

// inferCastLike converts x to the type of input 1. The dynamo exporter's unoptimised
// graphs make Range bounds with CastLike, so its values matter.
func inferCastLike(_ *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	return []*TensorInfo{castInfo(ins[0], ins[1].DType)}, nil
}

// castInfo converts x's info, values included, to the element type to.
func castInfo(x *TensorInfo, to onnxpb.TensorProto_DataType) *TensorInfo {
	out := &TensorInfo{DType: to, Shape: append([]int64{}, x.Shape...)}
	if !x.HasValue() {
		return out
	}
	switch {
	case isFloatType(to):
		out.Floats = make([]float64, x.n())
		for k := range out.Floats {
			out.Floats[k] = x.f(k)
		}
	case to == onnxpb.TensorProto_BOOL:
		out.Ints = make([]int64, x.n())
		for k := range out.Ints {
			if x.f(k) != 0 {
				out.Ints[k] = 1
			}
		}
	case isIntType(to):
		out.Ints = make([]int64, x.n())
		for k := range out.Ints {
			out.Ints[k] = x.i(k) // float to int truncates toward zero, as ONNX Runtime does
		}
	}
	return out
}

// inferElementwise broadcasts its inputs (numpy rules) and folds the values of
// small known inputs; comparisons and logic ops give bool tensors.
func inferElementwise(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	op := n.GetOpType()
	var shapes [][]int64
	allKnown := true
	for j := range ins {
		x, err := need(ins, j)
		if err != nil {
			return nil, err
		}
		shapes = append(shapes, x.Shape)
		allKnown = allKnown && x.HasValue()
	}
	out, err := broadcastShapes(shapes...)
	if err != nil {
		return nil, err
	}
	dt := ins[0].DType
	switch op {
	case "Where":
		dt = ins[1].DType
	case "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor":
		dt = onnxpb.TensorProto_BOOL
	}
	info := &TensorInfo{DType: dt, Shape: out}
	if !allKnown || numel(out) > MaxFoldedElements {
		return []*TensorInfo{info}, nil
	}
	maps := make([][]int, len(ins))
	for j, x := range ins {
		maps[j] = broadcastIndex(out, x.Shape)
	}
	total := int(numel(out))
	if op == "Where" {
		x, y := ins[1], ins[2]
		if isFloatType(dt) {
			info.Floats = make([]float64, total)
		} else {
			info.Ints = make([]int64, total)
		}
		for k := 0; k < total; k++ {
			src, m := y, maps[2]
			if ins[0].i(maps[0][k]) != 0 {
				src, m = x, maps[1]
			}
			if info.Floats != nil {
				info.Floats[k] = src.f(m[k])
			} else {
				info.Ints[k] = src.i(m[k])
			}
		}
		return []*TensorInfo{info}, nil
	}
	// Arithmetic follows the inputs' type: float math for float tensors,
	// integer math (truncating division) for integer ones.
	floatMath := isFloatType(ins[0].DType)
	fold := func(a, b float64) float64 { return 0 }
	foldInt := func(a, b int64) int64 { return 0 }
	switch op {
	case "Add", "Sum":
		fold, foldInt = func(a, b float64) float64 { return a + b }, func(a, b int64) int64 { return a + b }
	case "Sub":
		fold, foldInt = func(a, b float64) float64 { return a - b }, func(a, b int64) int64 { return a - b }
	case "Mul":
		fold, foldInt = func(a, b float64) float64 { return a * b }, func(a, b int64) int64 { return a * b }
	case "Div":
		fold = func(a, b float64) float64 { return a / b }
		foldInt = func(a, b int64) int64 {
			if b == 0 {
				return 0
			}
			return a / b
		}
	case "Mod":
		fold = math.Mod
		foldInt = func(a, b int64) int64 {
			if b == 0 {
				return 0
			}
			// ONNX Mod with fmod=0 follows the divisor's sign, like Python.
			m := a % b
			if m != 0 && (m < 0) != (b < 0) {
				m += b
			}
			return m
		}
	case "Pow":
		fold = math.Pow
		foldInt = func(a, b int64) int64 { return int64(math.Pow(float64(a), float64(b))) }
	case "Max":
		fold, foldInt = math.Max, func(a, b int64) int64 { return max(a, b) }
	case "Min":
		fold, foldInt = math.Min, func(a, b int64) int64 { return min(a, b) }
	case "Equal":
		fold, foldInt = func(a, b float64) float64 { return b2f(a == b) }, func(a, b int64) int64 { return int64(b2f(a == b)) }
	case "Less":
		fold, foldInt = func(a, b float64) float64 { return b2f(a < b) }, func(a, b int64) int64 { return int64(b2f(a < b)) }
	case "Greater":
		fold, foldInt = func(a, b float64) float64 { return b2f(a > b) }, func(a, b int64) int64 { return int64(b2f(a > b)) }
	case "LessOrEqual":
		fold, foldInt = func(a, b float64) float64 { return b2f(a <= b) }, func(a, b int64) int64 { return int64(b2f(a <= b)) }
	case "GreaterOrEqual":
		fold, foldInt = func(a, b float64) float64 { return b2f(a >= b) }, func(a, b int64) int64 { return int64(b2f(a >= b)) }
	case "And", "BitwiseAnd":
		foldInt = func(a, b int64) int64 { return a & b }
		floatMath = false
	case "Or", "BitwiseOr":
		foldInt = func(a, b int64) int64 { return a | b }
		floatMath = false
	case "Xor":
		foldInt = func(a, b int64) int64 { return a ^ b }
		floatMath = false
	case "Mean":
		// Mean of integer tensors is not a shape computation; leave it unfolded.
		return []*TensorInfo{info}, nil
	}
	if floatMath {
		vals := make([]float64, total)
		for k := range vals {
			acc := ins[0].f(maps[0][k])
			for j := 1; j < len(ins); j++ {
				acc = fold(acc, ins[j].f(maps[j][k]))
			}
			vals[k] = acc
		}
		if isFloatType(dt) {
			info.Floats = vals
		} else {
			info.Ints = make([]int64, total)
			for k, v := range vals {
				info.Ints[k] = int64(v)
			}
		}
	} else {
		info.Ints = make([]int64, total)
		for k := range info.Ints {
			acc := ins[0].i(maps[0][k])
			for j := 1; j < len(ins); j++ {
				acc = foldInt(acc, ins[j].i(maps[j][k]))
			}
			info.Ints[k] = acc
		}
	}
	return []*TensorInfo{info}, nil
}

// inferMatMul follows numpy's matmul: 1-D operands are promoted and their dim
// dropped again, batch dims broadcast.
func inferMatMul(_ *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	a, b := ins[0], ins[1]
	as, bs := append([]int64{}, a.Shape...), append([]int64{}, b.Shape...)
	if len(as) == 0 || len(bs) == 0 {
		return nil, fmt.Errorf("MatMul of a scalar")
	}
	aVec, bVec := len(as) == 1, len(bs) == 1
	if aVec {
		as = []int64{1, as[0]}
	}
	if bVec {
		bs = []int64{bs[0], 1}
	}
	if as[len(as)-1] != bs[len(bs)-2] {
		return nil, fmt.Errorf("MatMul inner dimensions differ: %v × %v", a.Shape, b.Shape)
	}
	batch, err := broadcastShapes(as[:len(as)-2], bs[:len(bs)-2])
	if err != nil {
		return nil, fmt.Errorf("MatMul batch dims: %w", err)
	}
	out := batch
	if !aVec {
		out = append(out, as[len(as)-2])
	}
	if !bVec {
		out = append(out, bs[len(bs)-1])
	}
	return []*TensorInfo{{DType: a.DType, Shape: out}}, nil
}

// inferGemm gives the [M, N] result of op(A) × op(B) with the transA/transB attributes.
func inferGemm(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	a, b := ins[0], ins[1]
	if len(a.Shape) != 2 || len(b.Shape) != 2 {
		return nil, fmt.Errorf("Gemm needs 2-D inputs, got %v and %v", a.Shape, b.Shape)
	}
	m, k := a.Shape[0], a.Shape[1]
	if IntAttr(n, "transA", 0) != 0 {
		m, k = k, m
	}
	k2, nn := b.Shape[0], b.Shape[1]
	if IntAttr(n, "transB", 0) != 0 {
		k2, nn = nn, k2
	}
	if k != k2 {
		return nil, fmt.Errorf("Gemm inner dimensions differ: %v and %v", a.Shape, b.Shape)
	}
	return []*TensorInfo{{DType: a.DType, Shape: []int64{m, nn}}}, nil
}

// inferLayerNorm gives the normalised output and the mean and inverse standard
// deviation outputs, whose dims from axis on are 1.
func inferLayerNorm(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	x := ins[0]
	axis, err := normAxis(IntAttr(n, "axis", -1), len(x.Shape))
	if err != nil {
		return nil, err
	}
	stat := append([]int64{}, x.Shape...)
	for k := axis; k < len(stat); k++ {
		stat[k] = 1
	}
	return []*TensorInfo{same(x), {DType: onnxpb.TensorProto_FLOAT, Shape: stat}, {DType: onnxpb.TensorProto_FLOAT, Shape: append([]int64{}, stat...)}}, nil
}
