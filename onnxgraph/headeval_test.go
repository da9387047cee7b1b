package onnxgraph

// A float64 evaluator for the few ops of a classifier or LM head, so the
// hidden-state tests can recompute a model's output from the exposed tensor
// through the head's own nodes and initializers.

import (
	"math"
	"testing"
)

// mat is a row-major float64 matrix: one batch row's [seq, width] activations.
type mat struct {
	rows, cols int
	v          []float64
}

func toMat(data []float32, rows, cols int) mat {
	m := mat{rows: rows, cols: cols, v: make([]float64, len(data))}
	for i, x := range data {
		m.v[i] = float64(x)
	}
	return m
}

func (m mat) row(r int) mat {
	return mat{rows: 1, cols: m.cols, v: append([]float64{}, m.v[r*m.cols:(r+1)*m.cols]...)}
}

// matMulT returns x · wᵀ for w [n, x.cols].
func matMulT(x, w mat) mat {
	out := mat{rows: x.rows, cols: w.rows, v: make([]float64, x.rows*w.rows)}
	for r := 0; r < x.rows; r++ {
		for j := 0; j < w.rows; j++ {
			s := 0.0
			for k := 0; k < x.cols; k++ {
				s += x.v[r*x.cols+k] * w.v[j*w.cols+k]
			}
			out.v[r*out.cols+j] = s
		}
	}
	return out
}

func maxAbsDiff(a []float64, b []float32) float64 {
	d := 0.0
	if len(a) > len(b) {
		return math.Inf(1)
	}
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-float64(b[i])))
	}
	return d
}

// constMat returns the value of a constant (initializer or Constant node) as a
// matrix: rank 2 as it is, rank 0 and 1 as one row.
func constMat(t *testing.T, g *Graph, name string) mat {
	t.Helper()
	tp := g.Initializer(name)
	for tp == nil {
		p, ok := g.Producer(name)
		if !ok {
			break
		}
		n := g.Node(p.Node)
		if n.GetOpType() == "Constant" {
			tp = Attr(n, "value").GetT()
			break
		}
		if n.GetOpType() != "Identity" { // exporters alias shared weights through Identity
			break
		}
		name = n.GetInput()[0]
		tp = g.Initializer(name)
	}
	if tp == nil {
		t.Fatalf("%q is not a constant", name)
	}
	ints, floats, err := TensorValues(tp)
	if err != nil {
		t.Fatalf("constant %q: %v", name, err)
	}
	if floats == nil {
		for _, v := range ints {
			floats = append(floats, float64(v))
		}
	}
	dims := tp.GetDims()
	switch len(dims) {
	case 0:
		return mat{rows: 1, cols: 1, v: floats}
	case 1:
		return mat{rows: 1, cols: int(dims[0]), v: floats}
	case 2:
		return mat{rows: int(dims[0]), cols: int(dims[1]), v: floats}
	}
	t.Fatalf("constant %q has rank %d", name, len(dims))
	return mat{}
}

// evalHead evaluates in float64 the nodes from the hidden state h (tensor start,
// [seq, hidden] of batch row 0) to the output stop, following the one consumer of
// each tensor (ignoring the exposing output) and reading weights from the graph.
func evalHead(t *testing.T, g *Graph, start, stop, exposed string, h mat) mat {
	t.Helper()
	x, cur := h, start
	for step := 0; cur != stop; step++ {
		if step > 16 {
			t.Fatalf("no path of at most 16 nodes from %s to %s", start, stop)
		}
		var uses []Use
		for _, u := range g.Consumers(cur) {
			if out := g.Node(u.Node).GetOutput(); len(out) > 0 && out[0] != exposed {
				uses = append(uses, u)
			}
		}
		if len(uses) != 1 {
			t.Fatalf("%s has %d readers in the head, want 1", cur, len(uses))
		}
		n := g.Node(uses[0].Node)
		ins := n.GetInput()
		other := func() mat { return constMat(t, g, ins[1-uses[0].Input]) }
		switch n.GetOpType() {
		case "Gather": // position p of the sequence axis
			idx := constMat(t, g, ins[1])
			if uses[0].Input != 0 || IntAttr(n, "axis", 0) != 1 || len(idx.v) != 1 {
				t.Fatalf("Gather %s: want one position of axis 1", n.GetName())
			}
			x = x.row(int(idx.v[0]))
		case "ReduceSum": // over the sequence axis
			axes, ok := IntsAttr(n, "axes")
			if !ok {
				axes = []int64{int64(constMat(t, g, ins[1]).v[0])}
			}
			if len(axes) != 1 || axes[0] != 1 {
				t.Fatalf("ReduceSum %s over axes %v, want [1]", n.GetName(), axes)
			}
			sum := mat{rows: 1, cols: x.cols, v: make([]float64, x.cols)}
			for r := 0; r < x.rows; r++ {
				for c := 0; c < x.cols; c++ {
					sum.v[c] += x.v[r*x.cols+c]
				}
			}
			x = sum
		case "Gemm", "MatMul":
			if uses[0].Input != 0 || IntAttr(n, "transA", 0) != 0 {
				t.Fatalf("%s %s: the activation must be A", n.GetOpType(), n.GetName())
			}
			w := constMat(t, g, ins[1])
			if IntAttr(n, "transB", 0) == 0 { // matMulT wants B transposed
				wt := mat{rows: w.cols, cols: w.rows, v: make([]float64, len(w.v))}
				for r := 0; r < w.rows; r++ {
					for c := 0; c < w.cols; c++ {
						wt.v[c*w.rows+r] = w.v[r*w.cols+c]
					}
				}
				w = wt
			}
			y := matMulT(x, w)
			alpha := 1.0
			if a := Attr(n, "alpha"); a != nil {
				alpha = float64(a.GetF())
			}
			beta := 1.0
			if a := Attr(n, "beta"); a != nil {
				beta = float64(a.GetF())
			}
			var c mat
			if len(ins) > 2 && ins[2] != "" {
				c = constMat(t, g, ins[2])
			}
			for i := range y.v {
				y.v[i] *= alpha
				if c.v != nil {
					y.v[i] += beta * c.v[(i%y.cols)%len(c.v)]
				}
			}
			x = y
		case "Add":
			b := other()
			for i := range x.v {
				x.v[i] += b.v[(i%x.cols)%len(b.v)]
			}
		case "Tanh":
			for i := range x.v {
				x.v[i] = math.Tanh(x.v[i])
			}
		case "Relu":
			for i := range x.v {
				x.v[i] = math.Max(x.v[i], 0)
			}
		case "Identity", "Dropout":
		default:
			t.Fatalf("head op %s (node %s) not known to the test", n.GetOpType(), n.GetName())
		}
		cur = n.GetOutput()[0]
	}
	return x
}

// embeddingTable finds the token embedding: the Gather of a [vocab, hidden] initializer.
func embeddingTable(t *testing.T, g *Graph, vocab, hidden int64) mat {
	t.Helper()
	for _, n := range g.Nodes() {
		if n.GetOpType() != "Gather" {
			continue
		}
		if tp := g.Initializer(n.GetInput()[0]); tp != nil && eqInts(tp.GetDims(), []int64{vocab, hidden}) {
			return constMat(t, g, n.GetInput()[0])
		}
	}
	t.Fatalf("no Gather of a [%d, %d] embedding table", vocab, hidden)
	return mat{}
}
