package onnxgraph

import (
	"fmt"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// Data movement: ops that rearrange, repeat or cut a tensor without computing new
// values (Reshape, Squeeze, Unsqueeze, Flatten, Transpose, Expand, Tile, Concat,
// Split, Slice). Values are carried along when known, since shape tensors flow
// through them on the way to Reshape and Slice.

// axesOf reads the axes of Squeeze/Unsqueeze/Reduce*: from input 1 when present, else from the "axes" attribute.
func axesOf(n *onnxpb.NodeProto, ins []*TensorInfo) ([]int64, bool, error) {
	if len(ins) > 1 && ins[1] != nil {
		v, err := needValue(ins, 1, "axes")
		return v, true, err
	}
	v, ok := IntsAttr(n, "axes")
	return v, ok, nil
}

// inferSqueeze inserts (Unsqueeze) or drops (Squeeze; every size-1 dim without
// axes) dims of size 1, keeping the values.
func inferSqueeze(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	x := ins[0]
	axes, haveAxes, err := axesOf(n, ins)
	if err != nil {
		return nil, err
	}
	out := &TensorInfo{DType: x.DType, Ints: x.Ints, Floats: x.Floats}
	if n.GetOpType() == "Unsqueeze" {
		if !haveAxes {
			return nil, fmt.Errorf("Unsqueeze without axes")
		}
		r := len(x.Shape) + len(axes)
		ins := make([]bool, r)
		for _, a := range axes {
			k, err := normAxis(a, r)
			if err != nil {
				return nil, err
			}
			if ins[k] {
				return nil, fmt.Errorf("Unsqueeze axis %d repeated", a)
			}
			ins[k] = true
		}
		src := 0
		for k := 0; k < r; k++ {
			if ins[k] {
				out.Shape = append(out.Shape, 1)
			} else {
				out.Shape = append(out.Shape, x.Shape[src])
				src++
			}
		}
		return []*TensorInfo{out}, nil
	}
	drop := make([]bool, len(x.Shape))
	if haveAxes {
		for _, a := range axes {
			k, err := normAxis(a, len(x.Shape))
			if err != nil {
				return nil, err
			}
			if x.Shape[k] != 1 {
				return nil, fmt.Errorf("Squeeze axis %d has size %d, not 1", a, x.Shape[k])
			}
			drop[k] = true
		}
	} else {
		for k, d := range x.Shape {
			drop[k] = d == 1
		}
	}
	out.Shape = []int64{}
	for k, d := range x.Shape {
		if !drop[k] {
			out.Shape = append(out.Shape, d)
		}
	}
	return []*TensorInfo{out}, nil
}

// inferConcat joins its inputs along axis; ConcatFromSequence reuses it on a sequence's elements.
func inferConcat(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	if len(ins) == 0 {
		return nil, fmt.Errorf("Concat has no inputs")
	}
	first, err := need(ins, 0)
	if err != nil {
		return nil, err
	}
	r := len(first.Shape)
	axis, err := normAxis(IntAttr(n, "axis", 0), r)
	if err != nil {
		return nil, err
	}
	out := &TensorInfo{DType: first.DType, Shape: append([]int64{}, first.Shape...)}
	out.Shape[axis] = 0
	allKnown := true
	for j := range ins {
		x, err := need(ins, j)
		if err != nil {
			return nil, err
		}
		if len(x.Shape) != r {
			return nil, fmt.Errorf("Concat inputs have ranks %d and %d", r, len(x.Shape))
		}
		for k := range x.Shape {
			if k != axis && x.Shape[k] != first.Shape[k] {
				return nil, fmt.Errorf("Concat inputs have shapes %v and %v", first.Shape, x.Shape)
			}
		}
		out.Shape[axis] += x.Shape[axis]
		allKnown = allKnown && x.HasValue()
	}
	if allKnown {
		outer := numel(first.Shape[:axis])
		inner := numel(first.Shape[axis+1:])
		float := isFloatType(first.DType)
		for o := int64(0); o < outer; o++ {
			for _, x := range ins {
				chunk := x.Shape[axis] * inner
				for c := int64(0); c < chunk; c++ {
					idx := int(o*chunk + c)
					if float {
						out.Floats = append(out.Floats, x.f(idx))
					} else {
						out.Ints = append(out.Ints, x.i(idx))
					}
				}
			}
		}
		if float && out.Floats == nil {
			out.Floats = []float64{}
		} else if !float && out.Ints == nil {
			out.Ints = []int64{}
		}
	}
	return []*TensorInfo{out}, nil
}

// inferReshape resolves the target shape (input 1, or the shape attribute before
// opset 5): 0 copies the input dim unless allowzero is set, -1 takes what is left.
func inferReshape(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	x := ins[0]
	var target []int64
	var err error
	if len(ins) > 1 && ins[1] != nil {
		target, err = needValue(ins, 1, "target shape")
		if err != nil {
			return nil, err
		}
	} else if v, ok := IntsAttr(n, "shape"); ok {
		target = v
	} else {
		return nil, fmt.Errorf("Reshape without a shape")
	}
	allowZero := IntAttr(n, "allowzero", 0) != 0
	out := make([]int64, len(target))
	infer := -1
	known := int64(1)
	for k, d := range target {
		switch {
		case d == 0 && !allowZero:
			if k >= len(x.Shape) {
				return nil, fmt.Errorf("Reshape copies dim %d of a rank-%d input", k, len(x.Shape))
			}
			out[k] = x.Shape[k]
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("Reshape target %v has two -1", target)
			}
			infer = k
			continue
		case d < 0:
			return nil, fmt.Errorf("Reshape target %v has a negative size", target)
		default:
			out[k] = d
		}
		known *= out[k]
	}
	total := numel(x.Shape)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v into %v", x.Shape, target)
		}
		out[infer] = total / known
	} else if known != total {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) into %v", x.Shape, total, out)
	}
	return []*TensorInfo{{DType: x.DType, Shape: out, Ints: x.Ints, Floats: x.Floats}}, nil
}

// inferFlatten reshapes x to 2-D, [prod(dims before axis), prod(dims from axis)].
func inferFlatten(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	x := ins[0]
	axis := IntAttr(n, "axis", 1)
	if axis < 0 {
		axis += int64(len(x.Shape))
	}
	if axis < 0 || axis > int64(len(x.Shape)) {
		return nil, fmt.Errorf("axis %d out of range for rank %d", axis, len(x.Shape))
	}
	out := &TensorInfo{DType: x.DType, Shape: []int64{numel(x.Shape[:axis]), numel(x.Shape[axis:])}, Ints: x.Ints, Floats: x.Floats}
	return []*TensorInfo{out}, nil
}

// inferTranspose permutes the dims (reversing them without a perm attribute).
func inferTranspose(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	x := ins[0]
	r := len(x.Shape)
	perm, ok := IntsAttr(n, "perm")
	if !ok {
		for k := r - 1; k >= 0; k-- {
			perm = append(perm, int64(k))
		}
	}
	if len(perm) != r {
		return nil, fmt.Errorf("Transpose perm %v does not match rank %d", perm, r)
	}
	out := &TensorInfo{DType: x.DType, Shape: make([]int64, r)}
	for k, p := range perm {
		if p < 0 || int(p) >= r {
			return nil, fmt.Errorf("Transpose perm %v out of range", perm)
		}
		out.Shape[k] = x.Shape[p]
	}
	if x.HasValue() {
		inStrides := strides(x.Shape)
		idx := make([]int, x.n())
		forEachIndex(out.Shape, func(flat int, pos []int64) {
			src := int64(0)
			for k, p := range perm {
				src += pos[k] * inStrides[p]
			}
			idx[flat] = int(src)
		})
		pick(out, x, idx)
	}
	return []*TensorInfo{out}, nil
}

// inferExpand broadcasts x to the target shape (input 1), which must be folded.
func inferExpand(_ *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	x := ins[0]
	shape, err := needValue(ins, 1, "shape")
	if err != nil {
		return nil, err
	}
	out, err := broadcastShapes(x.Shape, shape)
	if err != nil {
		return nil, err
	}
	info := &TensorInfo{DType: x.DType, Shape: out}
	if x.HasValue() && numel(out) <= MaxFoldedElements {
		pick(info, x, broadcastIndex(out, x.Shape))
	}
	return []*TensorInfo{info}, nil
}

// inferTile repeats each dim of x by the folded repeats (input 1); values are not tracked.
func inferTile(_ *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	x := ins[0]
	reps, err := needValue(ins, 1, "repeats")
	if err != nil {
		return nil, err
	}
	if len(reps) != len(x.Shape) {
		return nil, fmt.Errorf("Tile repeats %v do not match rank %d", reps, len(x.Shape))
	}
	out := make([]int64, len(x.Shape))
	for k := range out {
		out[k] = x.Shape[k] * reps[k]
	}
	return []*TensorInfo{{DType: x.DType, Shape: out}}, nil
}

// inferSplit cuts x along axis by the split input or attribute, or into equal
// pieces (the last may be smaller) one per output or num_outputs.
func inferSplit(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	x := ins[0]
	axis, err := normAxis(IntAttr(n, "axis", 0), len(x.Shape))
	if err != nil {
		return nil, err
	}
	nOut := len(n.GetOutput())
	var split []int64
	if len(ins) > 1 && ins[1] != nil {
		if split, err = needValue(ins, 1, "split"); err != nil {
			return nil, err
		}
	} else if v, ok := IntsAttr(n, "split"); ok {
		split = v
	} else {
		if num := IntAttr(n, "num_outputs", 0); num > 0 {
			nOut = int(num)
		}
		dim := x.Shape[axis]
		size := (dim + int64(nOut) - 1) / int64(nOut)
		for k := 0; k < nOut; k++ {
			s := min(size, dim-int64(k)*size)
			split = append(split, max(s, 0))
		}
	}
	return splitPieces(x, axis, split)
}

// splitPieces cuts x along axis into consecutive pieces of the given sizes, with
// their values when x's are known.
func splitPieces(x *TensorInfo, axis int, split []int64) ([]*TensorInfo, error) {
	var sum int64
	for _, s := range split {
		if s < 0 {
			return nil, fmt.Errorf("Split sizes %v include a negative size", split)
		}
		sum += s
	}
	if sum != x.Shape[axis] {
		return nil, fmt.Errorf("Split sizes %v do not add up to dim %d", split, x.Shape[axis])
	}
	outs := make([]*TensorInfo, len(split))
	var offset int64
	for k, s := range split {
		shape := append([]int64{}, x.Shape...)
		shape[axis] = s
		outs[k] = &TensorInfo{DType: x.DType, Shape: shape}
		if x.HasValue() {
			st := strides(x.Shape)
			idx := make([]int, numel(shape))
			forEachIndex(shape, func(flat int, pos []int64) {
				src := int64(0)
				for d := range pos {
					p := pos[d]
					if d == axis {
						p += offset
					}
					src += p * st[d]
				}
				idx[flat] = int(src)
			})
			pick(outs[k], x, idx)
		}
		offset += s
	}
	return outs, nil
}

// inferSlice takes starts, ends, axes and steps from attributes before opset 10 and
// from inputs 1–4 since; bounds are clamped as numpy does.
func inferSlice(n *onnxpb.NodeProto, ins []*TensorInfo, opset int64) ([]*TensorInfo, error) {
	x := ins[0]
	r := len(x.Shape)
	var starts, ends, axes, steps []int64
	var err error
	if opset < 10 {
		starts, _ = IntsAttr(n, "starts")
		ends, _ = IntsAttr(n, "ends")
		axes, _ = IntsAttr(n, "axes")
	} else {
		if starts, err = needValue(ins, 1, "starts"); err != nil {
			return nil, err
		}
		if ends, err = needValue(ins, 2, "ends"); err != nil {
			return nil, err
		}
		if len(ins) > 3 && ins[3] != nil {
			if axes, err = needValue(ins, 3, "axes"); err != nil {
				return nil, err
			}
		}
		if len(ins) > 4 && ins[4] != nil {
			if steps, err = needValue(ins, 4, "steps"); err != nil {
				return nil, err
			}
		}
	}
	if len(starts) != len(ends) {
		return nil, fmt.Errorf("Slice starts %v and ends %v differ in length", starts, ends)
	}
	if axes == nil {
		for k := range starts {
			axes = append(axes, int64(k))
		}
	}
	if steps == nil {
		steps = make([]int64, len(starts))
		for k := range steps {
			steps[k] = 1
		}
	}
	if len(axes) != len(starts) || len(steps) != len(starts) {
		return nil, fmt.Errorf("Slice starts, ends, axes and steps differ in length")
	}
	begin := make([]int64, r)
	step := make([]int64, r)
	outShape := append([]int64{}, x.Shape...)
	for k := range step {
		step[k] = 1
	}
	for k, a := range axes {
		ax, err := normAxis(a, r)
		if err != nil {
			return nil, err
		}
		dim := x.Shape[ax]
		st := steps[k]
		if st == 0 {
			return nil, fmt.Errorf("Slice step 0")
		}
		s, e := starts[k], ends[k]
		if s < 0 {
			s += dim
		}
		if e < 0 {
			e += dim
		}
		var cnt int64
		if st > 0 {
			s = min(max(s, 0), dim)
			e = min(max(e, 0), dim)
			if e > s {
				cnt = (e - s + st - 1) / st
			}
		} else {
			s = min(max(s, 0), dim-1)
			e = min(max(e, -1), dim-1)
			if s > e {
				cnt = (s - e + (-st) - 1) / (-st)
			}
		}
		begin[ax], step[ax], outShape[ax] = s, st, cnt
	}
	out := &TensorInfo{DType: x.DType, Shape: outShape}
	if x.HasValue() {
		st := strides(x.Shape)
		idx := make([]int, numel(outShape))
		forEachIndex(outShape, func(flat int, pos []int64) {
			src := int64(0)
			for k := range pos {
				src += (begin[k] + pos[k]*step[k]) * st[k]
			}
			idx[flat] = int(src)
		})
		pick(out, x, idx)
	}
	return []*TensorInfo{out}, nil
}
