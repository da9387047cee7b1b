package onnxgraph

import (
	"fmt"
	"math"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// Sources: ops that make tensors from attributes, shapes or scalars (Constant,
// ConstantOfShape, Shape, Size, Range). Their values are what the rest of shape
// inference folds.

// inferShape gives x's dims [start, end) as an int64 vector with its values.
func inferShape(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	x := ins[0]
	r := int64(len(x.Shape))
	start, end := IntAttr(n, "start", 0), IntAttr(n, "end", r)
	start, end = clampIndex(start, r), clampIndex(end, r)
	if end < start {
		end = start
	}
	vals := append([]int64{}, x.Shape[start:end]...)
	return []*TensorInfo{{DType: onnxpb.TensorProto_INT64, Shape: []int64{int64(len(vals))}, Ints: vals}}, nil
}

// inferSize gives x's element count as an int64 scalar.
func inferSize(_ *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	return []*TensorInfo{{DType: onnxpb.TensorProto_INT64, Shape: []int64{}, Ints: []int64{numel(ins[0].Shape)}}}, nil
}

// inferConstantOfShape fills the folded shape (input 0) with the value attribute's
// first element (float 0 without one).
func inferConstantOfShape(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	shape, err := needValue(ins, 0, "shape")
	if err != nil {
		return nil, err
	}
	out := &TensorInfo{DType: onnxpb.TensorProto_FLOAT, Shape: shape}
	fill := 0.0
	if a := Attr(n, "value"); a != nil && a.GetT() != nil {
		out.DType = onnxpb.TensorProto_DataType(a.GetT().GetDataType())
		ints, floats, err := TensorValues(a.GetT())
		if err != nil {
			return nil, err
		}
		if len(ints) > 0 {
			fill = float64(ints[0])
		} else if len(floats) > 0 {
			fill = floats[0]
		}
	}
	if numel(shape) <= MaxFoldedElements {
		if isFloatType(out.DType) {
			out.Floats = make([]float64, numel(shape))
			for k := range out.Floats {
				out.Floats[k] = fill
			}
		} else if isIntType(out.DType) {
			out.Ints = make([]int64, numel(shape))
			for k := range out.Ints {
				out.Ints[k] = int64(fill)
			}
		}
	}
	return []*TensorInfo{out}, nil
}

// clampIndex clamps a possibly negative index into [0, r], as Shape's start and end are.
func clampIndex(i, r int64) int64 {
	if i < 0 {
		i += r
	}
	if i < 0 {
		return 0
	}
	if i > r {
		return r
	}
	return i
}

// inferConstant reads the node's value attribute, whichever of its forms is set.
func inferConstant(n *onnxpb.NodeProto, _ []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	for _, a := range n.GetAttribute() {
		switch a.GetName() {
		case "value":
			info, err := infoFromTensor(a.GetT())
			if err != nil {
				return nil, err
			}
			return []*TensorInfo{info}, nil
		case "value_int":
			return []*TensorInfo{{DType: onnxpb.TensorProto_INT64, Shape: []int64{}, Ints: []int64{a.GetI()}}}, nil
		case "value_ints":
			return []*TensorInfo{{DType: onnxpb.TensorProto_INT64, Shape: []int64{int64(len(a.GetInts()))}, Ints: append([]int64{}, a.GetInts()...)}}, nil
		case "value_float":
			return []*TensorInfo{{DType: onnxpb.TensorProto_FLOAT, Shape: []int64{}, Floats: []float64{float64(a.GetF())}}}, nil
		case "value_floats":
			fs := make([]float64, len(a.GetFloats()))
			for k, v := range a.GetFloats() {
				fs[k] = float64(v)
			}
			return []*TensorInfo{{DType: onnxpb.TensorProto_FLOAT, Shape: []int64{int64(len(fs))}, Floats: fs}}, nil
		}
	}
	return nil, fmt.Errorf("Constant has no supported value attribute")
}

// inferRange gives the values start, start+delta, … below limit from three folded scalars.
func inferRange(_ *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	var v [3]*TensorInfo
	for j := range v {
		x, err := need(ins, j)
		if err != nil {
			return nil, err
		}
		if !x.HasValue() || x.n() != 1 {
			return nil, fmt.Errorf("Range input %d is not a scalar that could be folded from shapes", j)
		}
		v[j] = x
	}
	dt := v[0].DType
	out := &TensorInfo{DType: dt}
	if isFloatType(dt) {
		start, limit, delta := v[0].f(0), v[1].f(0), v[2].f(0)
		if delta == 0 {
			return nil, fmt.Errorf("Range delta 0")
		}
		cnt := int64(math.Max(math.Ceil((limit-start)/delta), 0))
		out.Shape = []int64{cnt}
		if cnt <= MaxFoldedElements {
			out.Floats = make([]float64, cnt)
			for k := range out.Floats {
				out.Floats[k] = start + float64(k)*delta
			}
		}
		return []*TensorInfo{out}, nil
	}
	start, limit, delta := v[0].i(0), v[1].i(0), v[2].i(0)
	if delta == 0 {
		return nil, fmt.Errorf("Range delta 0")
	}
	cnt := int64(math.Max(math.Ceil(float64(limit-start)/float64(delta)), 0))
	out.Shape = []int64{cnt}
	if cnt <= MaxFoldedElements {
		out.Ints = make([]int64, cnt)
		for k := range out.Ints {
			out.Ints[k] = start + int64(k)*delta
		}
	}
	return []*TensorInfo{out}, nil
}
