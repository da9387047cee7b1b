package gradient

import (
	"fmt"
	"math"

	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// Unary elementwise ops: ∂x = g·f′(x), with f′ written from x or, where cheaper,
// from the forward output y.

// unary returns the single input gradient g·d.
func (c *node) unary(d string) ([]string, error) {
	return []string{c.op("Mul", []string{c.gOut[0], d})}, nil
}

// dt is the element type of c's first output.
func (c *node) dt() onnxpb.TensorProto_DataType { return c.dtype(c.out[0]) }

// gradSqrt: y = √x; ∂x = g·0.5/y.
func gradSqrt(c *node) ([]string, error) {
	return []string{c.op("Div", []string{c.op("Mul", []string{c.gOut[0], c.scalar(0.5, c.dt())}), c.out[0]})}, nil
}

// gradReciprocal: y = 1/x; ∂x = −g·y².
func gradReciprocal(c *node) ([]string, error) {
	return c.unary(c.op("Neg", []string{c.op("Mul", []string{c.out[0], c.out[0]})}))
}

// gradErf: y = erf(x); ∂x = g·(2/√π)·exp(−x²).
func gradErf(c *node) ([]string, error) {
	x := c.in[0]
	e := c.op("Exp", []string{c.op("Neg", []string{c.op("Mul", []string{x, x})})})
	return c.unary(c.op("Mul", []string{e, c.scalar(2/math.Sqrt(math.Pi), c.dt())}))
}

// gradTanh: y = tanh(x); ∂x = g·(1 − y²).
func gradTanh(c *node) ([]string, error) {
	y := c.out[0]
	return c.unary(c.op("Sub", []string{c.scalar(1, c.dt()), c.op("Mul", []string{y, y})}))
}

// gradSigmoid: y = σ(x); ∂x = g·y·(1 − y).
func gradSigmoid(c *node) ([]string, error) {
	y := c.out[0]
	return c.unary(c.op("Mul", []string{y, c.op("Sub", []string{c.scalar(1, c.dt()), y})}))
}

// gradRelu: y = max(x, 0); ∂x = g·[x > 0] (0 at x = 0, as PyTorch).
func gradRelu(c *node) ([]string, error) {
	pos := c.op("Greater", []string{c.in[0], c.scalar(0, c.dt())})
	return []string{c.op("Where", []string{pos, c.gOut[0], c.scalar(0, c.dt())})}, nil
}

// gradGelu: opset 20's Gelu.
//
//	approximate="none": y = x·Φ(x); ∂x = g·(Φ(x) + x·φ(x)), Φ(x) = ½(1 + erf(x/√2)),
//	φ(x) = exp(−x²/2)/√(2π).
//	approximate="tanh": y = ½x(1 + t), t = tanh(u), u = √(2/π)(x + 0.044715x³);
//	∂x = g·(½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²)).
func gradGelu(c *node) ([]string, error) {
	x, dt := c.in[0], c.dt()
	approx := "none"
	if a := onnxgraph.Attr(c.n, "approximate"); a != nil {
		approx = string(a.GetS())
	}
	x2 := c.op("Mul", []string{x, x})
	half := c.scalar(0.5, dt)
	one := c.scalar(1, dt)
	switch approx {
	case "none":
		cdf := c.op("Mul", []string{half, c.op("Add", []string{one, c.op("Erf", []string{c.op("Mul", []string{x, c.scalar(1/math.Sqrt2, dt)})})})})
		pdf := c.op("Mul", []string{c.op("Exp", []string{c.op("Mul", []string{x2, c.scalar(-0.5, dt)})}), c.scalar(1/math.Sqrt(2*math.Pi), dt)})
		return c.unary(c.op("Add", []string{cdf, c.op("Mul", []string{x, pdf})}))
	case "tanh":
		k := math.Sqrt(2 / math.Pi)
		inner := c.op("Add", []string{x, c.op("Mul", []string{c.scalar(0.044715, dt), c.op("Mul", []string{x2, x})})})
		t := c.op("Tanh", []string{c.op("Mul", []string{c.scalar(k, dt), inner})})
		left := c.op("Mul", []string{half, c.op("Add", []string{one, t})})
		sech2 := c.op("Sub", []string{one, c.op("Mul", []string{t, t})})
		du := c.op("Mul", []string{c.scalar(k, dt), c.op("Add", []string{one, c.op("Mul", []string{c.scalar(3*0.044715, dt), x2})})})
		right := c.op("Mul", []string{c.op("Mul", []string{half, x}), c.op("Mul", []string{sech2, du})})
		return c.unary(c.op("Add", []string{left, right}))
	}
	return nil, fmt.Errorf("unknown approximate %q", approx)
}

// gradNeg: y = −x; ∂x = −g.
func gradNeg(c *node) ([]string, error) {
	return []string{c.op("Neg", []string{c.gOut[0]})}, nil
}

// gradExp: y = exp(x); ∂x = g·y.
func gradExp(c *node) ([]string, error) { return c.unary(c.out[0]) }

// gradLog: y = ln x; ∂x = g/x.
func gradLog(c *node) ([]string, error) {
	return []string{c.op("Div", []string{c.gOut[0], c.in[0]})}, nil
}

// gradIdentity: y = x (Identity, and Dropout at inference); ∂x = g. Dropout's
// mask output is boolean and carries no gradient.
func gradIdentity(c *node) ([]string, error) {
	res := make([]string, len(c.in))
	res[0] = c.gOut[0]
	return res, nil
}

// gradCast: y = cast(x) between float types; ∂x = cast(g) back to x's type.
func gradCast(c *node) ([]string, error) {
	to := c.dtype(c.in[0])
	if !isFloat(to) {
		return nil, fmt.Errorf("cast from non-float type %s", to)
	}
	if to == c.dt() {
		return []string{c.gOut[0]}, nil
	}
	return []string{c.op("Cast", []string{c.gOut[0]}, onnxgraph.IntAttribute("to", int64(to)))}, nil
}

// gradClip: y = min(max(x, lo), hi); ∂x = g·[lo ≤ x ≤ hi] (PyTorch's clamp
// convention: the bounds pass the gradient). Bounds are inputs (opset ≥ 11); an
// active bound gets Σ_broadcast g·[x < lo] (resp. [x > hi]).
func gradClip(c *node) ([]string, error) {
	x, dt := c.in[0], c.dt()
	zero := c.scalar(0, dt)
	pass := ""
	res := make([]string, len(c.in))
	for j := 1; j < len(c.in) && j <= 2; j++ {
		if c.in[j] == "" {
			continue
		}
		op, out := "GreaterOrEqual", "Less"
		if j == 2 {
			op, out = "LessOrEqual", "Greater"
		}
		in := c.op(op, []string{x, c.in[j]})
		if pass == "" {
			pass = in
		} else {
			pass = c.op("And", []string{pass, in})
		}
		if c.need[j] {
			g := c.op("Where", []string{c.op(out, []string{x, c.in[j]}), c.gOut[0], zero})
			xs, err := c.shape(c.in[j])
			if err != nil {
				return nil, err
			}
			ys, err := c.shape(c.out[0])
			if err != nil {
				return nil, err
			}
			res[j] = c.sumTo(g, ys, xs)
		}
	}
	if pass == "" {
		res[0] = c.gOut[0]
	} else {
		res[0] = c.op("Where", []string{pass, c.gOut[0], zero})
	}
	return res, nil
}
