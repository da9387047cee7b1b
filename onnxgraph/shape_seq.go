package onnxgraph

import (
	"fmt"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// Sequence ops. torch.onnx.export(..., dynamo=True, optimize=False) splits GPT-2's
// fused QKV projection with SplitToSequence and picks q, k and v with SequenceAt;
// the default (optimised) export rewrites that into Split.

// needSeq returns input j as a sequence or an error.
func needSeq(ins []*TensorInfo, j int) (*TensorInfo, error) {
	s, err := need(ins, j)
	if err != nil {
		return nil, err
	}
	if s.Sequence == nil {
		return nil, fmt.Errorf("input %d is a tensor, not a sequence", j)
	}
	return s, nil
}

// inferSplitToSequence: with no split input the axis is cut into pieces of size 1
// (squeezed away unless keepdims=1); a scalar split gives chunks of that size (the
// last may be shorter); a 1-D split gives the sizes.
func inferSplitToSequence(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	x := ins[0]
	axis, err := normAxis(IntAttr(n, "axis", 0), len(x.Shape))
	if err != nil {
		return nil, err
	}
	dim := x.Shape[axis]
	var sizes []int64
	switch {
	case len(ins) < 2 || ins[1] == nil:
		for k := int64(0); k < dim; k++ {
			sizes = append(sizes, 1)
		}
	case len(ins[1].Shape) == 0:
		chunk, err := scalarValue(ins, 1, "split")
		if err != nil {
			return nil, err
		}
		if chunk <= 0 {
			return nil, fmt.Errorf("SplitToSequence chunk size %d", chunk)
		}
		for left := dim; left > 0; left -= chunk {
			sizes = append(sizes, min(chunk, left))
		}
	default:
		if sizes, err = needValue(ins, 1, "split"); err != nil {
			return nil, err
		}
	}
	pieces, err := splitPieces(x, axis, sizes)
	if err != nil {
		return nil, err
	}
	if (len(ins) < 2 || ins[1] == nil) && IntAttr(n, "keepdims", 1) == 0 {
		for _, p := range pieces {
			p.Shape = append(p.Shape[:axis:axis], p.Shape[axis+1:]...)
		}
	}
	return []*TensorInfo{{DType: x.DType, Sequence: pieces}}, nil
}

// inferSequenceAt returns the element at a (possibly negative) position.
func inferSequenceAt(_ *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	s, err := needSeq(ins, 0)
	if err != nil {
		return nil, err
	}
	pos, err := scalarValue(ins, 1, "position")
	if err != nil {
		return nil, err
	}
	k, err := checkIndex("SequenceAt", pos, int64(len(s.Sequence)))
	if err != nil {
		return nil, err
	}
	e := s.Sequence[k]
	return []*TensorInfo{{DType: e.DType, Shape: append([]int64{}, e.Shape...), Ints: e.Ints, Floats: e.Floats}}, nil
}

// inferSequenceLength gives the number of elements as an int64 scalar.
func inferSequenceLength(_ *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	s, err := needSeq(ins, 0)
	if err != nil {
		return nil, err
	}
	return []*TensorInfo{{DType: onnxpb.TensorProto_INT64, Shape: []int64{}, Ints: []int64{int64(len(s.Sequence))}}}, nil
}

// inferSequenceConstruct makes a sequence of its inputs.
func inferSequenceConstruct(_ *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	if len(ins) == 0 {
		return nil, fmt.Errorf("SequenceConstruct has no inputs")
	}
	elems := make([]*TensorInfo, len(ins))
	for j := range ins {
		x, err := need(ins, j)
		if err != nil {
			return nil, err
		}
		elems[j] = x
	}
	return []*TensorInfo{{DType: elems[0].DType, Sequence: elems}}, nil
}

// inferConcatFromSequence concatenates the elements along axis, or stacks them on a
// new axis when new_axis=1.
func inferConcatFromSequence(n *onnxpb.NodeProto, ins []*TensorInfo, opset int64) ([]*TensorInfo, error) {
	s, err := needSeq(ins, 0)
	if err != nil {
		return nil, err
	}
	elems := s.Sequence
	if IntAttr(n, "new_axis", 0) != 0 && len(elems) > 0 {
		r := len(elems[0].Shape) + 1
		axis, err := normAxis(IntAttr(n, "axis", 0), r)
		if err != nil {
			return nil, err
		}
		stacked := make([]*TensorInfo, len(elems))
		for k, e := range elems {
			shape := append(append(append([]int64{}, e.Shape[:min(axis, len(e.Shape))]...), 1), e.Shape[min(axis, len(e.Shape)):]...)
			stacked[k] = &TensorInfo{DType: e.DType, Shape: shape, Ints: e.Ints, Floats: e.Floats}
		}
		elems = stacked
	}
	return inferConcat(n, elems, opset)
}
