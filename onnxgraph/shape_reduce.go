package onnxgraph

import (
	"fmt"
	"math"
	"sort"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// Reductions and scans: Reduce* (values folded for Sum, Mean, Max, Min and Prod),
// ArgMax, ArgMin and CumSum. The dynamo exporter finds GPT-2's last real token with
// ArgMax and makes RoBERTa's position ids with CumSum, so their values matter.

// reducedShape drops (or, with keep, sets to 1) the dims listed in axes.
func reducedShape(shape []int64, axes []int, keep bool) []int64 {
	red := make([]bool, len(shape))
	for _, a := range axes {
		red[a] = true
	}
	out := []int64{}
	for k, d := range shape {
		switch {
		case !red[k]:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return out
}

// inferReduce reduces over the axes input or attribute (all dims without one,
// unless noop_with_empty_axes is set).
func inferReduce(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	x := ins[0]
	axes, _, err := axesOf(n, ins)
	if err != nil {
		return nil, err
	}
	keep := IntAttr(n, "keepdims", 1) != 0
	var norm []int
	if len(axes) == 0 {
		if IntAttr(n, "noop_with_empty_axes", 0) != 0 {
			out := same(x)
			out.Ints, out.Floats = x.Ints, x.Floats
			return []*TensorInfo{out}, nil
		}
		for k := range x.Shape {
			norm = append(norm, k)
		}
	}
	for _, a := range axes {
		k, err := normAxis(a, len(x.Shape))
		if err != nil {
			return nil, err
		}
		norm = append(norm, k)
	}
	sort.Ints(norm)
	out := &TensorInfo{DType: x.DType, Shape: reducedShape(x.Shape, norm, keep)}
	foldReduce(n.GetOpType(), x, out, norm)
	return []*TensorInfo{out}, nil
}

// foldReduce computes the values of ReduceSum/Mean/Max/Min/Prod over the sorted axes
// when x's values are known; other reductions are left unfolded.
func foldReduce(op string, x, out *TensorInfo, axes []int) {
	switch op {
	case "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd":
	default:
		return
	}
	if !x.HasValue() || !foldable(out.Shape) {
		return
	}
	if numel(x.Shape) == 0 && numel(out.Shape) > 0 && op != "ReduceSum" {
		return // an empty reduction's identity (1, ±Inf, NaN) is not a shape value
	}
	red := make([]bool, len(x.Shape))
	for _, a := range axes {
		red[a] = true
	}
	// The kept-dims shape lets every input position map to its output slot.
	kept := append([]int64{}, x.Shape...)
	for a := range kept {
		if red[a] {
			kept[a] = 1
		}
	}
	slot := make([]int, x.n())
	ks := strides(kept)
	forEachIndex(x.Shape, func(flat int, pos []int64) {
		s := int64(0)
		for a, p := range pos {
			if !red[a] {
				s += p * ks[a]
			}
		}
		slot[flat] = int(s)
	})
	if x.Floats != nil || op == "ReduceMean" {
		out.Floats = reduceFloats(op, x, slot, int(numel(out.Shape)))
		if !isFloatType(out.DType) && out.Floats != nil {
			out.Ints = make([]int64, len(out.Floats))
			for k, v := range out.Floats {
				out.Ints[k] = int64(v)
			}
			out.Floats = nil
		}
		return
	}
	out.Ints = reduceInts(op, x, slot, int(numel(out.Shape)))
}

// reduceFloats folds x's values into size output slots (slot[j] is element j's) in float math.
func reduceFloats(op string, x *TensorInfo, slot []int, size int) []float64 {
	acc := make([]float64, size)
	cnt := make([]int, size)
	for j, s := range slot {
		v := x.f(j)
		switch {
		case cnt[s] == 0:
			acc[s] = v
		case op == "ReduceSum" || op == "ReduceMean":
			acc[s] += v
		case op == "ReduceProd":
			acc[s] *= v
		case op == "ReduceMax":
			acc[s] = math.Max(acc[s], v)
		case op == "ReduceMin":
			acc[s] = math.Min(acc[s], v)
		}
		cnt[s]++
	}
	if op == "ReduceMean" {
		for s := range acc {
			acc[s] /= float64(max(cnt[s], 1))
		}
	}
	return acc
}

// reduceInts folds x's values into size output slots in exact integer math.
func reduceInts(op string, x *TensorInfo, slot []int, size int) []int64 {
	acc := make([]int64, size)
	cnt := make([]int, size)
	for j, s := range slot {
		v := x.i(j)
		switch {
		case cnt[s] == 0:
			acc[s] = v
		case op == "ReduceSum":
			acc[s] += v
		case op == "ReduceProd":
			acc[s] *= v
		case op == "ReduceMax":
			acc[s] = max(acc[s], v)
		case op == "ReduceMin":
			acc[s] = min(acc[s], v)
		}
		cnt[s]++
	}
	return acc
}

// inferArgMinMax reduces one axis to the index of its largest (ArgMax) or smallest
// (ArgMin) value: the first such index, or the last with select_last_index=1.
func inferArgMinMax(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	x := ins[0]
	axis, err := normAxis(IntAttr(n, "axis", 0), len(x.Shape))
	if err != nil {
		return nil, err
	}
	out := &TensorInfo{DType: onnxpb.TensorProto_INT64, Shape: reducedShape(x.Shape, []int{axis}, IntAttr(n, "keepdims", 1) != 0)}
	if !x.HasValue() {
		return []*TensorInfo{out}, nil
	}
	last := IntAttr(n, "select_last_index", 0) != 0
	isMax := n.GetOpType() == "ArgMax"
	dim, inner := x.Shape[axis], numel(x.Shape[axis+1:])
	if dim == 0 {
		return nil, fmt.Errorf("%s over an empty axis %d", n.GetOpType(), axis)
	}
	outer := numel(x.Shape[:axis])
	out.Ints = make([]int64, outer*inner)
	for o := int64(0); o < outer; o++ {
		for in := int64(0); in < inner; in++ {
			best := int64(0)
			for s := int64(1); s < dim; s++ {
				v, b := x.f(int((o*dim+s)*inner+in)), x.f(int((o*dim+best)*inner+in))
				better := (isMax && v > b) || (!isMax && v < b) || (last && v == b)
				if better {
					best = s
				}
			}
			out.Ints[o*inner+in] = best
		}
	}
	return []*TensorInfo{out}, nil
}

// inferCumSum sums along the axis given as input 1, optionally exclusive (each
// position leaves itself out) and reversed (summing from the end).
func inferCumSum(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	x := ins[0]
	a, err := scalarValue(ins, 1, "axis")
	if err != nil {
		return nil, err
	}
	axis, err := normAxis(a, len(x.Shape))
	if err != nil {
		return nil, err
	}
	out := same(x)
	if !x.HasValue() {
		return []*TensorInfo{out}, nil
	}
	exclusive, reverse := IntAttr(n, "exclusive", 0) != 0, IntAttr(n, "reverse", 0) != 0
	dim, inner := x.Shape[axis], numel(x.Shape[axis+1:])
	if x.Floats != nil {
		out.Floats = make([]float64, x.n())
	} else {
		out.Ints = make([]int64, x.n())
	}
	for o := int64(0); o < numel(x.Shape[:axis]); o++ {
		for in := int64(0); in < inner; in++ {
			var fAcc float64
			var iAcc int64
			for s := int64(0); s < dim; s++ {
				p := s
				if reverse {
					p = dim - 1 - s
				}
				j := int((o*dim+p)*inner + in)
				if !exclusive {
					fAcc, iAcc = fAcc+x.f(j), iAcc+x.i(j)
				}
				if out.Floats != nil {
					out.Floats[j] = fAcc
				} else {
					out.Ints[j] = iAcc
				}
				if exclusive {
					fAcc, iAcc = fAcc+x.f(j), iAcc+x.i(j)
				}
			}
		}
	}
	return []*TensorInfo{out}, nil
}
