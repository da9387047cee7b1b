package onnxgraph

import (
	"fmt"
	"math"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// Indexing: Gather, GatherND, GatherElements, ScatterND, ScatterElements and Trilu.
// The dynamo exporter (torch.onnx.export(..., dynamo=True)) builds attention masks
// and position ids with them: GatherND picks mask entries at Range-made index
// grids, Trilu makes causal masks. Folding their values keeps Reshape/Slice targets
// computed downstream resolvable.

// inferGather picks entries of data along axis at the indices (input 1).
func inferGather(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	data := ins[0]
	indices := ins[1]
	axis, err := normAxis(IntAttr(n, "axis", 0), len(data.Shape))
	if err != nil {
		return nil, err
	}
	shape := append(append(append([]int64{}, data.Shape[:axis]...), indices.Shape...), data.Shape[axis+1:]...)
	out := &TensorInfo{DType: data.DType, Shape: shape}
	if data.HasValue() && indices.HasValue() {
		outer := numel(data.Shape[:axis])
		inner := numel(data.Shape[axis+1:])
		dim := data.Shape[axis]
		var idx []int
		for o := int64(0); o < outer; o++ {
			for k := 0; k < indices.n(); k++ {
				ix := indices.i(k)
				if ix < 0 {
					ix += dim
				}
				if ix < 0 || ix >= dim {
					return nil, fmt.Errorf("Gather index %d out of range for dim %d", indices.i(k), dim)
				}
				for in := int64(0); in < inner; in++ {
					idx = append(idx, int((o*dim+ix)*inner+in))
				}
			}
		}
		pick(out, data, idx)
	}
	return []*TensorInfo{out}, nil
}

// foldable reports whether an output of this shape is small enough to carry values.
func foldable(shape []int64) bool { return numel(shape) <= MaxFoldedElements }

// checkIndex normalises a possibly negative index into [0, dim).
func checkIndex(op string, ix, dim int64) (int64, error) {
	k := ix
	if k < 0 {
		k += dim
	}
	if k < 0 || k >= dim {
		return 0, fmt.Errorf("%s index %d out of range for dim %d", op, ix, dim)
	}
	return k, nil
}

// inferGatherND: output shape indices.shape[:-1] + data.shape[batch_dims+m:], where m
// is indices.shape[-1]; each index tuple selects a slice of data within its batch.
func inferGatherND(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	data := ins[0]
	indices := ins[1]
	b := int(IntAttr(n, "batch_dims", 0))
	q, r := len(indices.Shape), len(data.Shape)
	if q < 1 || b < 0 || b >= q || b >= r {
		return nil, fmt.Errorf("GatherND batch_dims %d does not fit data rank %d and indices rank %d", b, r, q)
	}
	m := int(indices.Shape[q-1])
	if m < 1 || b+m > r {
		return nil, fmt.Errorf("GatherND index tuples of length %d do not fit data rank %d with batch_dims %d", m, r, b)
	}
	for k := 0; k < b; k++ {
		if indices.Shape[k] != data.Shape[k] {
			return nil, fmt.Errorf("GatherND batch dims differ: data %v, indices %v", data.Shape, indices.Shape)
		}
	}
	shape := append(append([]int64{}, indices.Shape[:q-1]...), data.Shape[b+m:]...)
	out := &TensorInfo{DType: data.DType, Shape: shape}
	if !data.HasValue() || !indices.HasValue() || !foldable(shape) {
		return []*TensorInfo{out}, nil
	}
	st := strides(data.Shape)
	inner := numel(data.Shape[b+m:])
	tuples := numel(indices.Shape[:q-1])
	perBatch := numel(indices.Shape[b : q-1]) // tuples per batch entry; 0 only when tuples is 0
	idx := make([]int, 0, numel(shape))
	for t := int64(0); t < tuples; t++ {
		base := t / perBatch * numel(data.Shape[b:]) // flat offset of this tuple's batch
		for k := 0; k < m; k++ {
			ix, err := checkIndex("GatherND", indices.i(int(t)*m+k), data.Shape[b+k])
			if err != nil {
				return nil, err
			}
			base += ix * st[b+k]
		}
		for in := int64(0); in < inner; in++ {
			idx = append(idx, int(base+in))
		}
	}
	pick(out, data, idx)
	return []*TensorInfo{out}, nil
}

// inferGatherElements: output has the shape of indices; out[..i..] = data[..indices[..i..]..]
// along axis.
func inferGatherElements(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	data := ins[0]
	indices := ins[1]
	if len(indices.Shape) != len(data.Shape) {
		return nil, fmt.Errorf("GatherElements data rank %d and indices rank %d differ", len(data.Shape), len(indices.Shape))
	}
	axis, err := normAxis(IntAttr(n, "axis", 0), len(data.Shape))
	if err != nil {
		return nil, err
	}
	out := &TensorInfo{DType: data.DType, Shape: append([]int64{}, indices.Shape...)}
	if !data.HasValue() || !indices.HasValue() {
		return []*TensorInfo{out}, nil
	}
	idx, err := elementIndex("GatherElements", data.Shape, indices, axis)
	if err != nil {
		return nil, err
	}
	pick(out, data, idx)
	return []*TensorInfo{out}, nil
}

// elementIndex maps each position of indices to the flat index in a tensor of shape
// dataShape that GatherElements reads (and ScatterElements writes): the position
// itself with its axis coordinate replaced by the index value.
func elementIndex(op string, dataShape []int64, indices *TensorInfo, axis int) ([]int, error) {
	st := strides(dataShape)
	idx := make([]int, indices.n())
	var bad error
	forEachIndex(indices.Shape, func(flat int, pos []int64) {
		ix, err := checkIndex(op, indices.i(flat), dataShape[axis])
		if err != nil {
			bad = err
			return
		}
		src := int64(0)
		for k, p := range pos {
			if k == axis {
				p = ix
			} else if p >= dataShape[k] {
				bad = fmt.Errorf("%s indices shape %v exceeds data shape %v", op, indices.Shape, dataShape)
				return
			}
			src += p * st[k]
		}
		idx[flat] = int(src)
	})
	return idx, bad
}

// scatterInto copies data's values into a new tensor and applies updates at the
// given flat indices with the node's reduction (none, add, mul, max, min).
func scatterInto(n *onnxpb.NodeProto, data, updates *TensorInfo, idx []int) (*TensorInfo, error) {
	red, combine, err := scatterReduction(n)
	if err != nil {
		return nil, err
	}
	out := same(data)
	if data.Floats != nil {
		out.Floats = append([]float64{}, data.Floats...)
		for k, j := range idx {
			out.Floats[j] = combine(out.Floats[j], updates.f(k))
		}
		return out, nil
	}
	out.Ints = append([]int64{}, data.Ints...)
	for k, j := range idx {
		// Integer scatters carry shape values, which stay exact as int64.
		switch red {
		case "none":
			out.Ints[j] = updates.i(k)
		case "add":
			out.Ints[j] += updates.i(k)
		case "mul":
			out.Ints[j] *= updates.i(k)
		case "max":
			out.Ints[j] = max(out.Ints[j], updates.i(k))
		case "min":
			out.Ints[j] = min(out.Ints[j], updates.i(k))
		}
	}
	return out, nil
}

// scatterReduction reads the reduction attribute of ScatterND/ScatterElements.
func scatterReduction(n *onnxpb.NodeProto) (string, func(a, b float64) float64, error) {
	red := "none"
	if a := Attr(n, "reduction"); a != nil {
		red = string(a.GetS())
	}
	combine, ok := scatterReductions[red]
	if !ok {
		return "", nil, fmt.Errorf("%s reduction %q not supported", n.GetOpType(), red)
	}
	return red, combine, nil
}

// scatterReductions combine an existing value a with an update b.
var scatterReductions = map[string]func(a, b float64) float64{
	"none": func(_, b float64) float64 { return b },
	"add":  func(a, b float64) float64 { return a + b },
	"mul":  func(a, b float64) float64 { return a * b },
	"max":  math.Max,
	"min":  math.Min,
}

// inferScatterND: output is data with the slices addressed by each index tuple replaced
// (or reduced) by the matching slice of updates.
func inferScatterND(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	data, indices, updates := ins[0], ins[1], ins[2]
	q, r := len(indices.Shape), len(data.Shape)
	if q < 1 {
		return nil, fmt.Errorf("ScatterND indices are a scalar")
	}
	m := int(indices.Shape[q-1])
	if m < 1 || m > r {
		return nil, fmt.Errorf("ScatterND index tuples of length %d do not fit data rank %d", m, r)
	}
	want := append(append([]int64{}, indices.Shape[:q-1]...), data.Shape[m:]...)
	if !sameShape(updates.Shape, want) {
		return nil, fmt.Errorf("ScatterND updates shape %v, want %v", updates.Shape, want)
	}
	if _, _, err := scatterReduction(n); err != nil {
		return nil, err
	}
	if !data.HasValue() || !indices.HasValue() || !updates.HasValue() {
		return []*TensorInfo{same(data)}, nil
	}
	st := strides(data.Shape)
	inner := numel(data.Shape[m:])
	idx := []int{}
	for t := 0; t < int(numel(indices.Shape[:q-1])); t++ {
		base := int64(0)
		for k := 0; k < m; k++ {
			ix, err := checkIndex("ScatterND", indices.i(t*m+k), data.Shape[k])
			if err != nil {
				return nil, err
			}
			base += ix * st[k]
		}
		for in := int64(0); in < inner; in++ {
			idx = append(idx, int(base+in))
		}
	}
	out, err := scatterInto(n, data, updates, idx)
	return []*TensorInfo{out}, err
}

// inferScatterElements: output is data with data[..indices[..i..]..] along axis set
// (or reduced) to updates[..i..].
func inferScatterElements(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	data, indices, updates := ins[0], ins[1], ins[2]
	if len(indices.Shape) != len(data.Shape) || !sameShape(indices.Shape, updates.Shape) {
		return nil, fmt.Errorf("ScatterElements data %v, indices %v and updates %v do not match", data.Shape, indices.Shape, updates.Shape)
	}
	axis, err := normAxis(IntAttr(n, "axis", 0), len(data.Shape))
	if err != nil {
		return nil, err
	}
	if _, _, err := scatterReduction(n); err != nil {
		return nil, err
	}
	if !data.HasValue() || !indices.HasValue() || !updates.HasValue() {
		return []*TensorInfo{same(data)}, nil
	}
	idx, err := elementIndex("ScatterElements", data.Shape, indices, axis)
	if err != nil {
		return nil, err
	}
	out, err := scatterInto(n, data, updates, idx)
	return []*TensorInfo{out}, err
}

// optionalScalar returns input j's single value, or def when the input is absent.
func optionalScalar(ins []*TensorInfo, j int, def int64, what string) (int64, error) {
	if j >= len(ins) || ins[j] == nil {
		return def, nil
	}
	return scalarValue(ins, j, what)
}

// scalarValue returns the single value of input j, which must be present and folded.
func scalarValue(ins []*TensorInfo, j int, what string) (int64, error) {
	v, err := needValue(ins, j, what)
	if err != nil {
		return 0, err
	}
	if len(v) != 1 {
		return 0, fmt.Errorf("%s (input %d) has %d values, want 1", what, j, len(v))
	}
	return v[0], nil
}

// inferTrilu keeps the upper (upper=1, default) or lower triangle of the last two
// dims, shifted by the diagonal offset k, and zeroes the rest.
func inferTrilu(n *onnxpb.NodeProto, ins []*TensorInfo, _ int64) ([]*TensorInfo, error) {
	x := ins[0]
	r := len(x.Shape)
	if r < 2 {
		return nil, fmt.Errorf("Trilu needs rank >= 2, got %v", x.Shape)
	}
	k, err := optionalScalar(ins, 1, 0, "k")
	if err != nil {
		return nil, err
	}
	out := same(x)
	if !x.HasValue() {
		return []*TensorInfo{out}, nil
	}
	upper := IntAttr(n, "upper", 1) != 0
	keep := make([]bool, x.n())
	forEachIndex(x.Shape, func(flat int, pos []int64) {
		d := pos[r-1] - pos[r-2] // column − row
		keep[flat] = (upper && d >= k) || (!upper && d <= k)
	})
	if x.Floats != nil {
		out.Floats = make([]float64, x.n())
	} else {
		out.Ints = make([]int64, x.n())
	}
	for j, kept := range keep {
		if !kept {
			continue
		}
		if out.Floats != nil {
			out.Floats[j] = x.Floats[j]
		} else {
			out.Ints[j] = x.Ints[j]
		}
	}
	return []*TensorInfo{out}, nil
}

// sameShape compares shapes, treating nil and empty (a scalar) alike.
func sameShape(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}
