package gradient

import (
	"fmt"
	"slices"

	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// Data movement: the gradient moves back the way the data moved. Shape and
// index operands (Reshape's shape, Slice's bounds, Split's sizes, Gather's
// indices) are integers, never active, and must be known statically (shape
// inference folds them) where the rule needs their values.

// gradReshape: Reshape, Squeeze, Unsqueeze and Flatten keep the elements in
// order; ∂x = reshape(g, shape of x).
func gradReshape(c *node) ([]string, error) {
	xs, err := c.shape(c.in[0])
	if err != nil {
		return nil, err
	}
	res := make([]string, len(c.in))
	res[0] = c.reshape(c.gOut[0], xs)
	return res, nil
}

// gradTranspose: y = transpose(x, perm); ∂x = transpose(g, perm⁻¹).
func gradTranspose(c *node) ([]string, error) {
	xs, err := c.shape(c.in[0])
	if err != nil {
		return nil, err
	}
	perm, ok := onnxgraph.IntsAttr(c.n, "perm")
	if !ok {
		perm = make([]int64, len(xs))
		for i := range perm {
			perm[i] = int64(len(xs) - 1 - i)
		}
	}
	inv := make([]int64, len(perm))
	for i, p := range perm {
		if p < 0 || int(p) >= len(perm) {
			return nil, fmt.Errorf("perm %v is not a permutation", perm)
		}
		inv[p] = int64(i)
	}
	return []string{c.op("Transpose", []string{c.gOut[0]}, onnxgraph.IntsAttribute("perm", inv))}, nil
}

// gradExpand: y = expand(x, shape) broadcasts; ∂x = Σ_broadcast g.
func gradExpand(c *node) ([]string, error) {
	g, err := c.unbroadcast(c.gOut[0], 0)
	if err != nil {
		return nil, err
	}
	return []string{g, ""}, nil
}

// constInts returns the statically known values of integer tensor name.
func (c *node) constInts(name string) ([]int64, error) {
	info := c.shapes[name]
	if info == nil || info.Ints == nil {
		return nil, fmt.Errorf("%q is not a known constant", name)
	}
	return info.Ints, nil
}

// gradSlice: y = x[start:end:step] per sliced axis (opset ≥ 10 inputs starts,
// ends, axes, steps; bounds resolved and clamped as ONNX does). Each sliced axis
// is undone separately (slicing different axes commutes): unit steps by padding
// g with zeros, start elements before and d − end after (one Pad for all of
// them); other steps, negative ones included, by scattering g to the taken
// positions start, start + step, … (scatterAxis).
func gradSlice(c *node) ([]string, error) {
	xs, err := c.shape(c.in[0])
	if err != nil {
		return nil, err
	}
	ys, err := c.shape(c.out[0])
	if err != nil {
		return nil, err
	}
	if len(c.in) < 3 {
		return nil, fmt.Errorf("Slice with starts/ends attributes (opset < 10) is not supported")
	}
	var starts, ends, axes, steps []int64
	for j, dst := range []*[]int64{&starts, &ends, &axes, &steps} {
		if j+1 >= len(c.in) || c.in[j+1] == "" {
			continue
		}
		if *dst, err = c.constInts(c.in[j+1]); err != nil {
			return nil, err
		}
	}
	if axes == nil {
		for i := range starts {
			axes = append(axes, int64(i))
		}
	}
	if steps == nil {
		steps = slices.Repeat([]int64{1}, len(starts))
	}
	if len(ends) != len(starts) || len(axes) != len(starts) || len(steps) != len(starts) {
		return nil, fmt.Errorf("starts, ends, axes and steps differ in length")
	}
	g := c.gOut[0]
	cur := append([]int64{}, ys...)
	pads := make([]int64, 2*len(xs))
	padded := false
	for i := range starts {
		ax, err := normAxis(axes[i], len(xs))
		if err != nil {
			return nil, err
		}
		d, step := xs[ax], steps[i]
		if step == 0 {
			return nil, fmt.Errorf("slice step 0")
		}
		if step == 1 {
			s, e := clampIndex(starts[i], d), clampIndex(ends[i], d)
			pads[ax], pads[len(xs)+ax] = s, d-max(e, s)
			padded = true
			continue
		}
		taken := sliceIndices(starts[i], ends[i], step, d)
		if int64(len(taken)) != cur[ax] {
			return nil, fmt.Errorf("slice of axis %d takes %d elements; shape inference says %d", ax, len(taken), cur[ax])
		}
		cur[ax] = d
		g = c.scatterAxis(g, cur, ax, c.ints(taken...), int64(len(taken)), c.dtype(c.in[0]))
	}
	if padded {
		g = c.op("Pad", []string{g, c.ints(pads...)})
	}
	res := make([]string, len(c.in))
	res[0] = g
	return res, nil
}

// sliceIndices lists the positions a Slice with the given bounds and non-zero
// step takes from an axis of size d (ONNX's clamping: [0, d] for positive
// steps, [−1, d−1] for negative ones, after adding d to negative bounds).
func sliceIndices(start, end, step, d int64) []int64 {
	if start < 0 {
		start += d
	}
	if end < 0 {
		end += d
	}
	var out []int64
	if step > 0 {
		start, end = max(0, min(start, d)), max(0, min(end, d))
		for i := start; i < end; i += step {
			out = append(out, i)
		}
		return out
	}
	start, end = max(-1, min(start, d-1)), max(-1, min(end, d-1))
	for i := start; i > end; i += step {
		out = append(out, i)
	}
	return out
}

// clampIndex resolves a Slice bound for a positive step: negative counts from
// the end, then clamped to [0, d].
func clampIndex(i, d int64) int64 {
	if i < 0 {
		i += d
	}
	return max(0, min(i, d))
}

// gradSplit: x splits along axis into y_0…y_k; ∂x = concat(g_0…g_k) along axis,
// zeros standing in for outputs that get no gradient.
func gradSplit(c *node) ([]string, error) {
	xs, err := c.shape(c.in[0])
	if err != nil {
		return nil, err
	}
	axis, err := normAxis(onnxgraph.IntAttr(c.n, "axis", 0), len(xs))
	if err != nil {
		return nil, err
	}
	parts := make([]string, len(c.out))
	for j, out := range c.out {
		if c.gOut[j] != "" {
			parts[j] = c.gOut[j]
			continue
		}
		if out == "" {
			return nil, fmt.Errorf("output %d is omitted", j)
		}
		s, err := c.shape(out)
		if err != nil {
			return nil, err
		}
		parts[j] = c.zeros(s, c.dtype(c.in[0]))
	}
	res := make([]string, len(c.in))
	res[0] = c.op("Concat", parts, onnxgraph.IntAttribute("axis", int64(axis)))
	return res, nil
}

// gradConcat: y = concat(x_0…x_k) along axis; ∂x_i = g[…, o_i:o_i+n_i, …], the
// slice of g at x_i's offset along axis.
func gradConcat(c *node) ([]string, error) {
	ys, err := c.shape(c.out[0])
	if err != nil {
		return nil, err
	}
	axis, err := normAxis(onnxgraph.IntAttr(c.n, "axis", 0), len(ys))
	if err != nil {
		return nil, err
	}
	res := make([]string, len(c.in))
	off := int64(0)
	for j, in := range c.in {
		s, err := c.shape(in)
		if err != nil {
			return nil, err
		}
		if c.need[j] {
			res[j] = c.op("Slice", []string{c.gOut[0], c.ints(off), c.ints(off + s[axis]), c.ints(int64(axis))})
		}
		off += s[axis]
	}
	return res, nil
}

// gradGather: y = gather(x, idx, axis), y[p, i, q] = x[p, idx[i], q] with p the
// axes before axis, i the index axes and q those after. The gradient scatters
// g back with additions (indices may repeat), see scatterAxis. Only the data
// operand gets a gradient.
func gradGather(c *node) ([]string, error) {
	xs, err := c.shape(c.in[0])
	if err != nil {
		return nil, err
	}
	is, err := c.shape(c.in[1])
	if err != nil {
		return nil, err
	}
	axis, err := normAxis(onnxgraph.IntAttr(c.n, "axis", 0), len(xs))
	if err != nil {
		return nil, err
	}
	idx := c.in[1]
	if c.dtype(idx) != onnxpb.TensorProto_INT64 {
		idx = c.op("Cast", []string{idx}, onnxgraph.IntAttribute("to", int64(onnxpb.TensorProto_INT64)))
	}
	// Negative indices count from the end.
	d := xs[axis]
	neg := c.op("Less", []string{idx, c.ints(0)})
	idx = c.op("Where", []string{neg, c.op("Add", []string{idx, c.ints(d)}), idx})
	return []string{c.scatterAxis(c.gOut[0], xs, axis, idx, numel(is), c.dtype(c.in[0])), ""}, nil
}

// gradGatherND: y = GatherND(x, idx) with batch_dims 0 picks slices of x at
// the index tuples idx[…, :]; ∂x = ScatterND(0, idx, g) with reduction add, so
// an index taken twice gets both gradients (GPT-2's classifier picks each row's
// last real token this way). Needs opset 16 for the reduction.
func gradGatherND(c *node) ([]string, error) {
	if bd := onnxgraph.IntAttr(c.n, "batch_dims", 0); bd != 0 {
		return nil, fmt.Errorf("GatherND with batch_dims %d has no gradient rule (only 0)", bd)
	}
	if op := c.g.Opset(""); op < 16 {
		return nil, fmt.Errorf("GatherND's gradient needs ScatterND's add reduction (opset 16); the model imports opset %d", op)
	}
	xs, err := c.shape(c.in[0])
	if err != nil {
		return nil, err
	}
	zero := c.zeros(xs, c.dtype(c.in[0]))
	return []string{c.op("ScatterND", []string{zero, c.in[1], c.gOut[0]}, stringAttr("reduction", "add")), ""}, nil
}

// stringAttr builds a STRING attribute.
func stringAttr(name, v string) *onnxpb.AttributeProto {
	t := onnxpb.AttributeProto_STRING
	return &onnxpb.AttributeProto{Name: &name, Type: &t, S: []byte(v)}
}

// scatterAxis is the adjoint of taking n entries idx (int64, any shape, values
// in [0, d)) along axis of a tensor of shape xs: g has shape xs with that axis
// replaced by idx's axes, and the result, of shape xs, adds each g[p, i, q] into
// position idx_i. It is a one-hot product:
//
//	∂x[p, k, q] = Σ_i [idx_i = k]·g[p, i, q]  =  (onehot(idx)ᵀ · g)[p, k, q],
//
// onehot being [n, d], g reshaped to [Π p, n, Π q].
func (b *builder) scatterAxis(g string, xs []int64, axis int, idx string, n int64, dt onnxpb.TensorProto_DataType) string {
	d := xs[axis]
	p, q := numel(xs[:axis]), numel(xs[axis+1:])
	arange := make([]int64, d)
	for k := range arange {
		arange[k] = int64(k)
	}
	col := b.reshape(idx, []int64{n, 1})
	hot := b.op("Cast", []string{b.op("Equal", []string{col, b.ints(arange...)})}, onnxgraph.IntAttribute("to", int64(dt)))
	scattered := b.op("MatMul", []string{b.swapLast(hot, 2), b.reshape(g, []int64{p, n, q})})
	return b.reshape(scattered, xs)
}
