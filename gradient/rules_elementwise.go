package gradient

import (
	"fmt"
)

// Binary and variadic elementwise ops. Their operands broadcast (numpy rules), so
// every operand's gradient is first formed at the output's shape and then summed
// back to the operand's shape (builder.sumTo).

// unbroadcast sums a gradient g, shaped like c's output 0, to the shape of input j.
func (c *node) unbroadcast(g string, j int) (string, error) {
	gs, err := c.shape(c.out[0])
	if err != nil {
		return "", err
	}
	xs, err := c.shape(c.in[j])
	if err != nil {
		return "", err
	}
	return c.sumTo(g, gs, xs), nil
}

// binary forms the gradient of each needed operand with local(j), which returns
// the gradient at the output's shape, and unbroadcasts it.
func (c *node) binary(local func(j int) string) ([]string, error) {
	res := make([]string, len(c.in))
	for j := range c.in {
		if !c.need[j] {
			continue
		}
		g, err := c.unbroadcast(local(j), j)
		if err != nil {
			return nil, err
		}
		res[j] = g
	}
	return res, nil
}

// gradAdd: y = a + b; ∂a = Σ_broadcast g, ∂b = Σ_broadcast g.
func gradAdd(c *node) ([]string, error) {
	return c.binary(func(int) string { return c.gOut[0] })
}

// gradSub: y = a − b; ∂a = Σ_broadcast g, ∂b = −Σ_broadcast g.
func gradSub(c *node) ([]string, error) {
	return c.binary(func(j int) string {
		if j == 0 {
			return c.gOut[0]
		}
		return c.op("Neg", []string{c.gOut[0]})
	})
}

// gradMul: y = a·b; ∂a = Σ_broadcast g·b, ∂b = Σ_broadcast g·a.
func gradMul(c *node) ([]string, error) {
	return c.binary(func(j int) string {
		return c.op("Mul", []string{c.gOut[0], c.in[1-j]})
	})
}

// gradDiv: y = a/b; ∂a = Σ_broadcast g/b, ∂b = −Σ_broadcast g·y/b.
func gradDiv(c *node) ([]string, error) {
	return c.binary(func(j int) string {
		q := c.op("Div", []string{c.gOut[0], c.in[1]})
		if j == 0 {
			return q
		}
		return c.op("Neg", []string{c.op("Mul", []string{q, c.out[0]})})
	})
}

// gradPow: y = a^p; ∂a = Σ_broadcast g·p·a^(p−1), ∂p = Σ_broadcast g·y·ln a
// (the exponent is usually a constant and then gets none).
func gradPow(c *node) ([]string, error) {
	if c.need[0] && c.dtype(c.in[1]) != c.dtype(c.in[0]) {
		// a^(p−1) needs p in a's type.
		return nil, fmt.Errorf("exponent of type %s differs from base of type %s", c.dtype(c.in[1]), c.dtype(c.in[0]))
	}
	return c.binary(func(j int) string {
		if j == 0 {
			return c.op("Mul", []string{c.gOut[0], c.powSlope()})
		}
		return c.op("Mul", []string{c.op("Mul", []string{c.gOut[0], c.out[0]}), c.op("Log", []string{c.in[0]})})
	})
}

// powSlope returns ∂(a^p)/∂a = p·a^(p−1). A known scalar exponent (the
// exporters' Pow(x, 2) and Pow(x, 3)) is folded: 2a, 3a², 1, or p·a^(p−1) with
// p−1 constant; otherwise p−1 is computed in the graph.
func (c *node) powSlope() string {
	a, dt := c.in[0], c.dtype(c.in[0])
	if info := c.shapes[c.in[1]]; info != nil && len(info.Floats) == 1 && !c.need[1] {
		switch p := info.Floats[0]; p {
		case 1:
			return c.op("Expand", []string{c.scalar(1, dt), c.ints(c.shapeOr(c.out[0])...)})
		case 2:
			return c.op("Mul", []string{a, c.scalar(2, dt)})
		case 3:
			return c.op("Mul", []string{c.op("Mul", []string{a, a}), c.scalar(3, dt)})
		default:
			return c.op("Mul", []string{c.op("Pow", []string{a, c.scalar(p-1, dt)}), c.scalar(p, dt)})
		}
	}
	pm1 := c.op("Sub", []string{c.in[1], c.scalar(1, c.dtype(c.in[1]))})
	return c.op("Mul", []string{c.in[1], c.op("Pow", []string{a, pm1})})
}

// shapeOr returns name's static shape, or nil (a scalar) if unknown.
func (c *node) shapeOr(name string) []int64 {
	s, _ := c.shape(name)
	return s
}

// gradWhere: y = cond ? a : b; ∂a = Σ_broadcast (cond ? g : 0), ∂b = Σ_broadcast
// (cond ? 0 : g). The condition is boolean and gets no gradient.
func gradWhere(c *node) ([]string, error) {
	zero := c.scalar(0, c.dtype(c.out[0]))
	return c.binary(func(j int) string {
		if j == 1 {
			return c.op("Where", []string{c.in[0], c.gOut[0], zero})
		}
		return c.op("Where", []string{c.in[0], zero, c.gOut[0]})
	})
}

// gradMaxMin: y = max(x_0, …, x_k) (or min), elementwise with broadcasting. The
// gradient goes to the operand that won: ∂x_i = Σ_broadcast g·[x_i = y and x_j ≠ y
// for every j < i]: ties go wholly to the first operand that attains y, which
// is a valid subgradient (PyTorch's torch.maximum splits ties evenly instead).
func gradMaxMin(c *node) ([]string, error) {
	zero := c.scalar(0, c.dtype(c.out[0]))
	var taken string // operands before i that attain y
	res := make([]string, len(c.in))
	for i := range c.in {
		eq := c.op("Equal", []string{c.in[i], c.out[0]})
		win := eq
		if taken != "" {
			win = c.op("And", []string{eq, c.op("Not", []string{taken})})
			taken = c.op("Or", []string{taken, eq})
		} else {
			taken = eq
		}
		if !c.need[i] {
			continue
		}
		g, err := c.unbroadcast(c.op("Where", []string{win, c.gOut[0], zero}), i)
		if err != nil {
			return nil, err
		}
		res[i] = g
	}
	return res, nil
}

// gradSum: y = x_0 + … + x_k (variadic, broadcasting); ∂x_i = Σ_broadcast g.
func gradSum(c *node) ([]string, error) {
	return c.binary(func(int) string { return c.gOut[0] })
}

// gradMean: y = (x_0 + … + x_k)/(k+1); ∂x_i = Σ_broadcast g/(k+1).
func gradMean(c *node) ([]string, error) {
	g := c.op("Mul", []string{c.gOut[0], c.scalar(1/float64(len(c.in)), c.dtype(c.out[0]))})
	return c.binary(func(int) string { return g })
}
