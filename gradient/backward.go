package gradient

import (
	"fmt"

	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// node is what a rule sees: the forward node, the gradients of its outputs and
// which inputs need one. gOut[j] is "" when output j gets no gradient (it is
// unused or off the active path).
type node struct {
	*builder
	n    *onnxpb.NodeProto
	in   []string
	out  []string
	gOut []string
	need []bool
}

// rule returns the gradient of each input of c.n (len(c.in) entries; "" where
// c.need is false or the input gets no gradient).
type rule func(c *node) ([]string, error)

// activity computes the tensors on an active path: float tensors that depend on
// one of the wrt tensors and that loss depends on. Integer and boolean tensors
// (shapes, indices, masks) are never active, which keeps shape sub-graphs out.
func activity(g *onnxgraph.Graph, shapes onnxgraph.Shapes, order []int, wrt []string, loss string) map[string]bool {
	fwd := map[string]bool{}
	for _, w := range wrt {
		fwd[w] = true
	}
	for _, i := range order {
		n := g.Node(i)
		dep := false
		for _, in := range n.GetInput() {
			if in != "" && fwd[in] {
				dep = true
				break
			}
		}
		if !dep {
			continue
		}
		for _, out := range n.GetOutput() {
			if info := shapes[out]; out != "" && info != nil && isFloat(info.DType) {
				fwd[out] = true
			}
		}
	}
	bwd := map[string]bool{loss: true}
	for k := len(order) - 1; k >= 0; k-- {
		n := g.Node(order[k])
		reach := false
		for _, out := range n.GetOutput() {
			if out != "" && bwd[out] {
				reach = true
				break
			}
		}
		if !reach {
			continue
		}
		for _, in := range n.GetInput() {
			if in != "" {
				bwd[in] = true
			}
		}
	}
	active := map[string]bool{}
	for name := range fwd {
		if bwd[name] {
			active[name] = true
		}
	}
	return active
}

// backward appends the reverse-mode graph of Σ loss (the seed is a tensor of
// ones of loss's shape) and returns, for each wrt tensor, the name of its
// gradient (a zero tensor when loss does not depend on it). shapes must cover
// every forward tensor.
func backward(b *builder, wrt []string, loss string) (map[string]string, error) {
	g := b.g
	order, err := g.TopoOrder()
	if err != nil {
		return nil, err
	}
	active := activity(g, b.shapes, order, wrt, loss)
	grads := map[string][]string{}
	lossShape, err := b.shape(loss)
	if err != nil {
		return nil, err
	}
	if !isFloat(b.dtype(loss)) {
		return nil, fmt.Errorf("the explained tensor %q is not a float tensor", loss)
	}
	b.prefix = "grad/seed"
	grads[loss] = []string{b.op("Expand", []string{b.scalar(1, b.dtype(loss)), b.ints(lossShape...)})}
	for k := len(order) - 1; k >= 0; k-- {
		n := g.Node(order[k])
		c := &node{builder: b, n: n, in: n.GetInput(), out: n.GetOutput()}
		c.gOut = make([]string, len(c.out))
		has := false
		for j, out := range c.out {
			if out == "" || !active[out] || len(grads[out]) == 0 {
				continue
			}
			b.prefix = "grad/" + out
			c.gOut[j] = b.sum(grads[out])
			has = true
		}
		if !has {
			continue
		}
		c.need = make([]bool, len(c.in))
		needAny := false
		for j, in := range c.in {
			c.need[j] = in != "" && active[in]
			needAny = needAny || c.need[j]
		}
		if !needAny {
			continue
		}
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			return nil, fmt.Errorf("graph %q: node %q: no gradient rule for %s::%s", b.graphName, n.GetName(), d, n.GetOpType())
		}
		r, ok := rules[n.GetOpType()]
		if !ok {
			return nil, fmt.Errorf("graph %q: node %q: no gradient rule for op %s", b.graphName, n.GetName(), n.GetOpType())
		}
		for _, t := range append(append([]string{}, c.in...), c.out...) {
			if dt := b.dtype(t); t != "" && (dt == onnxpb.TensorProto_FLOAT16 || dt == onnxpb.TensorProto_BFLOAT16) {
				return nil, fmt.Errorf("graph %q: node %q (%s): half-precision tensor %q is not supported", b.graphName, n.GetName(), n.GetOpType(), t)
			}
		}
		b.prefix = "grad/" + nodeLabel(n)
		gIn, err := r(c)
		if err != nil {
			return nil, fmt.Errorf("graph %q: gradient of node %q (%s): %w", b.graphName, n.GetName(), n.GetOpType(), err)
		}
		for j, gi := range gIn {
			if j < len(c.in) && c.need[j] && gi != "" {
				grads[c.in[j]] = append(grads[c.in[j]], gi)
			}
		}
	}
	res := map[string]string{}
	for _, w := range wrt {
		b.prefix = "grad/" + w
		if len(grads[w]) == 0 {
			s, err := b.shape(w)
			if err != nil {
				return nil, err
			}
			res[w] = b.zeros(s, b.dtype(w))
			continue
		}
		res[w] = b.sum(grads[w])
	}
	return res, nil
}

// nodeLabel is a node's name, or its first output when it has none.
func nodeLabel(n *onnxpb.NodeProto) string {
	if n.GetName() != "" {
		return n.GetName()
	}
	if len(n.GetOutput()) > 0 {
		return n.GetOutput()[0]
	}
	return n.GetOpType()
}

// rules maps a default-domain op type to its gradient rule.
var rules map[string]rule

func init() {
	rules = map[string]rule{
		// Linear algebra (rules_linalg.go).
		"MatMul": gradMatMul,
		"Gemm":   gradGemm,
		// Binary elementwise with broadcasting (rules_elementwise.go).
		"Add":  gradAdd,
		"Sub":  gradSub,
		"Mul":  gradMul,
		"Div":  gradDiv,
		"Pow":  gradPow,
		"Sum":  gradSum,
		"Mean": gradMean,
		// Unary elementwise (rules_unary.go).
		"Sqrt":       gradSqrt,
		"Reciprocal": gradReciprocal,
		"Erf":        gradErf,
		"Tanh":       gradTanh,
		"Relu":       gradRelu,
		"Gelu":       gradGelu,
		"Sigmoid":    gradSigmoid,
		"Neg":        gradNeg,
		"Exp":        gradExp,
		"Log":        gradLog,
		"Identity":   gradIdentity,
		"Dropout":    gradIdentity,
		"Cast":       gradCast,
		"Clip":       gradClip,
		// Selection (rules_elementwise.go).
		"Where": gradWhere,
		"Max":   gradMaxMin,
		"Min":   gradMaxMin,
		// Normalisations and reductions (rules_norm.go).
		"Softmax":            gradSoftmax,
		"LogSoftmax":         gradLogSoftmax,
		"ReduceSum":          gradReduce,
		"ReduceMean":         gradReduce,
		"LayerNormalization": gradLayerNorm,
		// Data movement (rules_movement.go).
		"Reshape":   gradReshape,
		"Squeeze":   gradReshape,
		"Unsqueeze": gradReshape,
		"Flatten":   gradReshape,
		"Transpose": gradTranspose,
		"Expand":    gradExpand,
		"Slice":     gradSlice,
		"Split":     gradSplit,
		"Concat":    gradConcat,
		"Gather":    gradGather,
		"GatherND":  gradGatherND,
	}
}
