package gradient

import (
	"github.com/glassbox-ai/glassbox/onnxgraph"
)

// swapLast transposes the last two axes of a tensor of the given rank.
func (b *builder) swapLast(x string, rank int) string {
	perm := make([]int64, rank)
	for i := range perm {
		perm[i] = int64(i)
	}
	perm[rank-2], perm[rank-1] = perm[rank-1], perm[rank-2]
	return b.op("Transpose", []string{x}, onnxgraph.IntsAttribute("perm", perm))
}

// gradMatMul: Y = A·B (numpy matmul: batch axes broadcast, a 1-D A is a row
// [1, K] and a 1-D B a column [K, 1] whose unit axis the output drops).
// With A, B and g lifted to those 2-D-or-more forms,
//
//	∂A = Σ_broadcast g·Bᵀ,  ∂B = Σ_broadcast Aᵀ·g,
//
// transposing the last two axes, summed over broadcast batch axes and reshaped
// to the operands' shapes.
func gradMatMul(c *node) ([]string, error) {
	sa, err := c.shape(c.in[0])
	if err != nil {
		return nil, err
	}
	sb, err := c.shape(c.in[1])
	if err != nil {
		return nil, err
	}
	sy, err := c.shape(c.out[0])
	if err != nil {
		return nil, err
	}
	a, b, g := c.in[0], c.in[1], c.gOut[0]
	ea, eb := sa, sb
	trailing := 0
	if len(sa) == 1 {
		ea = []int64{1, sa[0]}
		a = c.reshape(a, ea)
	} else {
		trailing++
	}
	if len(sb) == 1 {
		eb = []int64{sb[0], 1}
		b = c.reshape(b, eb)
	} else {
		trailing++
	}
	ey := append(append([]int64{}, sy[:len(sy)-trailing]...), ea[len(ea)-2], eb[len(eb)-1])
	if !equalDims(ey, sy) {
		g = c.reshape(g, ey)
	}
	res := make([]string, 2)
	if c.need[0] {
		d := c.op("MatMul", []string{g, c.swapLast(b, len(eb))})
		ds := append(append([]int64{}, ey[:len(ey)-1]...), ea[len(ea)-1])
		res[0] = c.sumTo(d, ds, ea)
		if !equalDims(ea, sa) {
			res[0] = c.reshape(res[0], sa)
		}
	}
	if c.need[1] {
		d := c.op("MatMul", []string{c.swapLast(a, len(ea)), g})
		ds := append(append([]int64{}, ey[:len(ey)-2]...), eb[len(eb)-2], ey[len(ey)-1])
		res[1] = c.sumTo(d, ds, eb)
		if !equalDims(eb, sb) {
			res[1] = c.reshape(res[1], sb)
		}
	}
	return res, nil
}

// gradGemm: Y = α·A′·B′ + β·C with A′ = transA ? Aᵀ : A and B′ = transB ? Bᵀ : B
// (2-D; C broadcasts to Y).
//
//	∂A′ = α·g·B′ᵀ (∂A = ∂A′ᵀ when transA),  ∂B′ = α·A′ᵀ·g (∂B = ∂B′ᵀ when transB),
//	∂C = β·Σ_broadcast g.
func gradGemm(c *node) ([]string, error) {
	alpha := 1.0
	if a := onnxgraph.Attr(c.n, "alpha"); a != nil {
		alpha = float64(a.GetF())
	}
	beta := 1.0
	if a := onnxgraph.Attr(c.n, "beta"); a != nil {
		beta = float64(a.GetF())
	}
	transA := onnxgraph.IntAttr(c.n, "transA", 0) != 0
	transB := onnxgraph.IntAttr(c.n, "transB", 0) != 0
	dt := c.dt()
	g := c.gOut[0]
	tr := func(x string) string { return c.swapLast(x, 2) }
	scale := func(x string, s float64) string {
		if s == 1 {
			return x
		}
		return c.op("Mul", []string{x, c.scalar(s, dt)})
	}
	ap, bp := c.in[0], c.in[1]
	if transA {
		ap = tr(ap)
	}
	if transB {
		bp = tr(bp)
	}
	res := make([]string, len(c.in))
	if c.need[0] {
		d := c.op("MatMul", []string{g, tr(bp)})
		if transA {
			d = tr(d)
		}
		res[0] = scale(d, alpha)
	}
	if c.need[1] {
		d := c.op("MatMul", []string{tr(ap), g})
		if transB {
			d = tr(d)
		}
		res[1] = scale(d, alpha)
	}
	if len(c.in) > 2 && c.need[2] {
		gc, err := c.unbroadcast(scale(g, beta), 2)
		if err != nil {
			return nil, err
		}
		res[2] = gc
	}
	return res, nil
}
