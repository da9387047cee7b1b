package gradient

import (
	"fmt"

	"github.com/glassbox-ai/glassbox/onnxgraph"
)

// Normalisations and reductions.

// softmaxAxis is the normalised axis of a Softmax or LogSoftmax (opset ≥ 13: one axis, default −1).
func (c *node) softmaxAxis() (int64, error) {
	s, err := c.shape(c.out[0])
	if err != nil {
		return 0, err
	}
	ax, err := normAxis(onnxgraph.IntAttr(c.n, "axis", -1), len(s))
	return int64(ax), err
}

// gradSoftmax: y = softmax(x) along axis; ∂x = y·(g − Σ_axis g·y).
func gradSoftmax(c *node) ([]string, error) {
	ax, err := c.softmaxAxis()
	if err != nil {
		return nil, err
	}
	y, g := c.out[0], c.gOut[0]
	gy := c.op("Mul", []string{g, y})
	s := c.reduce("ReduceSum", gy, []int64{ax}, true)
	return []string{c.op("Sub", []string{gy, c.op("Mul", []string{y, s})})}, nil
}

// gradLogSoftmax: y = x − log Σ_axis exp x; ∂x = g − exp(y)·Σ_axis g.
func gradLogSoftmax(c *node) ([]string, error) {
	ax, err := c.softmaxAxis()
	if err != nil {
		return nil, err
	}
	y, g := c.out[0], c.gOut[0]
	s := c.reduce("ReduceSum", g, []int64{ax}, true)
	return []string{c.op("Sub", []string{g, c.op("Mul", []string{c.op("Exp", []string{y}), s})})}, nil
}

// reduceAxes reads a Reduce* node's axes (attribute, or constant input 1 from
// opset 13 for ReduceSum and 18 for the others), normalised; nil with noop true
// means the node is the identity (noop_with_empty_axes=1 and no axes).
func (c *node) reduceAxes(rank int) (axes []int, noop bool, err error) {
	var raw []int64
	if v, ok := onnxgraph.IntsAttr(c.n, "axes"); ok {
		raw = v
	} else if len(c.in) > 1 && c.in[1] != "" {
		info := c.shapes[c.in[1]]
		if info == nil || info.Ints == nil {
			return nil, false, fmt.Errorf("axes %q are not a constant", c.in[1])
		}
		raw = info.Ints
	}
	if len(raw) == 0 {
		if onnxgraph.IntAttr(c.n, "noop_with_empty_axes", 0) != 0 {
			return nil, true, nil
		}
		for i := 0; i < rank; i++ {
			axes = append(axes, i)
		}
		return axes, false, nil
	}
	for _, a := range raw {
		ax, err := normAxis(a, rank)
		if err != nil {
			return nil, false, err
		}
		axes = append(axes, ax)
	}
	return axes, false, nil
}

// gradReduce: y = Σ_axes x (ReduceSum) or the mean (ReduceMean, over N = Π of
// the reduced sizes); ∂x = expand(g with the reduced axes kept as 1) (÷ N).
func gradReduce(c *node) ([]string, error) {
	xs, err := c.shape(c.in[0])
	if err != nil {
		return nil, err
	}
	axes, noop, err := c.reduceAxes(len(xs))
	if err != nil {
		return nil, err
	}
	res := make([]string, len(c.in))
	if noop {
		res[0] = c.gOut[0]
		return res, nil
	}
	kept := append([]int64{}, xs...)
	n := int64(1)
	for _, a := range axes {
		n *= xs[a]
		kept[a] = 1
	}
	g := c.reshape(c.gOut[0], kept)
	if c.n.GetOpType() == "ReduceMean" {
		g = c.op("Mul", []string{g, c.scalar(1/float64(n), c.dt())})
	}
	res[0] = c.op("Expand", []string{g, c.ints(xs...)})
	return res, nil
}

// gradLayerNorm: LayerNormalization(X, scale, bias) over the axes from axis on
// (N elements each), outputs Y = x̂·scale + bias, Mean μ and InvStdDev r, with
// x̂ = (x − μ)·r, r = (var + ε)^(−½). μ, var and r are recomputed from X. With
// ĝ = g_Y·scale and ⟨·⟩ the mean over the normalised axes,
//
//	∂X = r·(ĝ − ⟨ĝ⟩ − x̂·⟨ĝ·x̂⟩) + g_μ/N − g_r·r³·(x − μ)/N,
//	∂scale = Σ_broadcast g_Y·x̂,  ∂bias = Σ_broadcast g_Y.
//
// Outputs that are unused or inactive contribute nothing.
func gradLayerNorm(c *node) ([]string, error) {
	xs, err := c.shape(c.in[0])
	if err != nil {
		return nil, err
	}
	ys, err := c.shape(c.out[0])
	if err != nil {
		return nil, err
	}
	axis, err := normAxis(onnxgraph.IntAttr(c.n, "axis", -1), len(xs))
	if err != nil {
		return nil, err
	}
	eps := 1e-5
	if a := onnxgraph.Attr(c.n, "epsilon"); a != nil {
		eps = float64(a.GetF())
	}
	var axes []int64
	n := int64(1)
	for i := axis; i < len(xs); i++ {
		axes = append(axes, int64(i))
		n *= xs[i]
	}
	x, dt := c.in[0], c.dtype(c.in[0])
	mean := func(t string) string { return c.reduce("ReduceMean", t, axes, true) }
	mu := mean(x)
	xc := c.op("Sub", []string{x, mu})
	variance := mean(c.op("Mul", []string{xc, xc}))
	r := c.op("Reciprocal", []string{c.op("Sqrt", []string{c.op("Add", []string{variance, c.scalar(eps, dt)})})})
	xhat := c.op("Mul", []string{xc, r})
	res := make([]string, len(c.in))
	var terms []string
	gy := c.gOut[0]
	if gy != "" {
		gh := c.op("Mul", []string{gy, c.in[1]})
		inner := c.op("Sub", []string{c.op("Sub", []string{gh, mean(gh)}), c.op("Mul", []string{xhat, mean(c.op("Mul", []string{gh, xhat}))})})
		terms = append(terms, c.op("Mul", []string{r, inner}))
		for j := 1; j <= 2 && j < len(c.in); j++ {
			if !c.need[j] {
				continue
			}
			d := gy
			if j == 1 {
				d = c.op("Mul", []string{gy, xhat})
			}
			ps, err := c.shape(c.in[j])
			if err != nil {
				return nil, err
			}
			res[j] = c.sumTo(d, ys, ps)
		}
	}
	// Mean and InvStdDev have stash_type's type (float32 by default).
	stat := func(j int) string {
		if c.dtype(c.out[j]) == dt {
			return c.gOut[j]
		}
		return c.op("Cast", []string{c.gOut[j]}, onnxgraph.IntAttribute("to", int64(dt)))
	}
	if len(c.gOut) > 1 && c.gOut[1] != "" {
		terms = append(terms, c.op("Expand", []string{c.op("Mul", []string{stat(1), c.scalar(1/float64(n), dt)}), c.ints(xs...)}))
	}
	if len(c.gOut) > 2 && c.gOut[2] != "" {
		r3 := c.op("Mul", []string{r, c.op("Mul", []string{r, r})})
		k := c.op("Mul", []string{stat(2), c.op("Mul", []string{r3, c.scalar(-1/float64(n), dt)})})
		terms = append(terms, c.op("Mul", []string{k, xc}))
	}
	if c.need[0] && len(terms) > 0 {
		res[0] = c.sum(terms)
	}
	return res, nil
}
