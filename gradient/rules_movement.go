package gradient

import (
	"fmt"

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
// ends, axes, steps). For unit steps ∂x = pad(g) with zeros: start elements before
// and d − start − len after on each sliced axis. Other steps are refused.
func gradSlice(c *node) ([]string, error) {
	xs, err := c.shape(c.in[0])
	if err != nil {
		return nil, err
	}
	if len(c.in) < 3 {
		return nil, fmt.Errorf("Slice with starts/ends attributes (opset < 10) is not supported")
	}
	starts, err := c.constInts(c.in[1])
	if err != nil {
		return nil, err
	}
	ends, err := c.constInts(c.in[2])
	if err != nil {
		return nil, err
	}
	axes := make([]int64, len(starts))
	for i := range axes {
		axes[i] = int64(i)
	}
	if len(c.in) > 3 && c.in[3] != "" {
		if axes, err = c.constInts(c.in[3]); err != nil {
			return nil, err
		}
	}
	steps := make([]int64, len(starts))
	for i := range steps {
		steps[i] = 1
	}
	if len(c.in) > 4 && c.in[4] != "" {
		if steps, err = c.constInts(c.in[4]); err != nil {
			return nil, err
		}
	}
	if len(ends) != len(starts) || len(axes) != len(starts) || len(steps) != len(starts) {
		return nil, fmt.Errorf("starts, ends, axes and steps differ in length")
	}
	pads := make([]int64, 2*len(xs))
	for i := range starts {
		if steps[i] != 1 {
			return nil, fmt.Errorf("slice step %d is not supported (only 1)", steps[i])
		}
		ax, err := normAxis(axes[i], len(xs))
		if err != nil {
			return nil, err
		}
		d := xs[ax]
		s, e := clampIndex(starts[i], d), clampIndex(ends[i], d)
		if e < s {
			e = s
		}
		pads[ax] = s
		pads[len(xs)+ax] = d - e
	}
	res := make([]string, len(c.in))
	res[0] = c.op("Pad", []string{c.gOut[0], c.ints(pads...)})
	return res, nil
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
// g back with additions (indices may repeat) as a one-hot product:
//
//	∂x[p, k, q] = Σ_i [idx_i = k]·g[p, i, q]  =  (onehot(idx)ᵀ · g)[p, k, q],
//
// onehot being [N, d] (N indices, d = x's size along axis, negative indices
// counted from the end). Only the data operand gets a gradient.
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
	d := xs[axis]
	p, q := numel(xs[:axis]), numel(xs[axis+1:])
	nIdx := numel(is)
	idx := c.in[1]
	if c.dtype(idx) != onnxpb.TensorProto_INT64 {
		idx = c.op("Cast", []string{idx}, onnxgraph.IntAttribute("to", int64(onnxpb.TensorProto_INT64)))
	}
	idx = c.reshape(idx, []int64{nIdx, 1})
	neg := c.op("Less", []string{idx, c.ints(0)})
	idx = c.op("Where", []string{neg, c.op("Add", []string{idx, c.ints(d)}), idx})
	arange := make([]int64, d)
	for k := range arange {
		arange[k] = int64(k)
	}
	hot := c.op("Cast", []string{c.op("Equal", []string{idx, c.ints(arange...)})}, onnxgraph.IntAttribute("to", int64(c.dtype(c.in[0]))))
	g := c.reshape(c.gOut[0], []int64{p, nIdx, q})
	scattered := c.op("MatMul", []string{c.swapLast(hot, 2), g})
	return []string{c.reshape(scattered, xs), ""}, nil
}
