package gradient

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// builder appends backward nodes to a graph. Every gradient it makes has the
// static shape of the forward tensor it belongs to (shapes, from
// onnxgraph.InferShapes at the concrete batch and sequence length), so the
// broadcasting reductions and the Reshapes it writes use constant shapes.
type builder struct {
	g      *onnxgraph.Graph
	shapes onnxgraph.Shapes
	opset  int64
	// graphName names the model's graph in error messages.
	graphName string
	// prefix is the base of the names of nodes being added (see doc.go).
	prefix string
	// consts caches the constant initializers already added, by a key of type and values.
	consts map[string]string
}

func newBuilder(g *onnxgraph.Graph, shapes onnxgraph.Shapes) *builder {
	return &builder{g: g, shapes: shapes, opset: g.Opset(""), graphName: g.Proto().GetName(), prefix: "grad", consts: map[string]string{}}
}

// op appends one single-output default-domain node and returns its output.
func (b *builder) op(opType string, inputs []string, attrs ...*onnxpb.AttributeProto) string {
	_, outs := b.g.AddNode(opType, "", b.prefix+"/"+opType, inputs, 1, attrs...)
	return outs[0]
}

// shape returns the static shape of a forward tensor.
func (b *builder) shape(name string) ([]int64, error) {
	info := b.shapes[name]
	if info == nil || info.Sequence != nil {
		return nil, fmt.Errorf("tensor %q has no static shape", name)
	}
	return info.Shape, nil
}

// dtype returns the element type of a forward tensor.
func (b *builder) dtype(name string) onnxpb.TensorProto_DataType {
	if info := b.shapes[name]; info != nil {
		return info.DType
	}
	return onnxpb.TensorProto_UNDEFINED
}

// isFloat reports whether dt is a type gradients flow through.
func isFloat(dt onnxpb.TensorProto_DataType) bool {
	switch dt {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		return true
	}
	return false
}

// scalar returns a rank-0 constant of type dt holding v.
func (b *builder) scalar(v float64, dt onnxpb.TensorProto_DataType) string {
	key := fmt.Sprintf("s%d:%v", dt, v)
	if name, ok := b.consts[key]; ok {
		return name
	}
	t := &onnxpb.TensorProto{Dims: []int64{}}
	d := int32(dt)
	t.DataType = &d
	switch dt {
	case onnxpb.TensorProto_DOUBLE:
		t.DoubleData = []float64{v}
	default:
		// FLOAT; half types are refused before any rule runs.
		t.FloatData = []float32{float32(v)}
	}
	name := b.g.AddInitializer(b.prefix+"/const", t)
	b.consts[key] = name
	return name
}

// ints returns a 1-D int64 constant holding vals.
func (b *builder) ints(vals ...int64) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = strconv.FormatInt(v, 10)
	}
	key := "i:" + strings.Join(parts, ",")
	if name, ok := b.consts[key]; ok {
		return name
	}
	name := b.g.AddInitializer(b.prefix+"/ints", onnxgraph.Int64Tensor("", []int64{int64(len(vals))}, vals))
	b.consts[key] = name
	return name
}

// reshape reshapes x to the static shape dims.
func (b *builder) reshape(x string, dims []int64) string {
	return b.op("Reshape", []string{x, b.ints(dims...)})
}

// reduce applies ReduceSum or ReduceMean over axes, in the form the model's opset
// takes (axes as an input from opset 13 for ReduceSum and 18 for the others).
func (b *builder) reduce(opType, x string, axes []int64, keepdims bool) string {
	kd := int64(0)
	if keepdims {
		kd = 1
	}
	if opType == "ReduceSum" && b.opset >= 13 || b.opset >= 18 {
		return b.op(opType, []string{x, b.ints(axes...)}, onnxgraph.IntAttribute("keepdims", kd))
	}
	return b.op(opType, []string{x}, onnxgraph.IntsAttribute("axes", axes), onnxgraph.IntAttribute("keepdims", kd))
}

// sumTo undoes broadcasting: g has shape gShape, the operand had shape xShape;
// g is summed over the axes broadcasting added or stretched (leading axes, and
// axes where the operand has 1 and g does not) and reshaped to xShape.
func (b *builder) sumTo(g string, gShape, xShape []int64) string {
	if equalDims(gShape, xShape) {
		return g
	}
	lead := len(gShape) - len(xShape)
	var axes []int64
	for i := range gShape {
		if i < lead || xShape[i-lead] == 1 && gShape[i] != 1 {
			axes = append(axes, int64(i))
		}
	}
	if len(axes) > 0 {
		g = b.reduce("ReduceSum", g, axes, true)
	}
	return b.reshape(g, xShape)
}

// zeros returns a tensor of zeros of type dt and static shape dims.
func (b *builder) zeros(dims []int64, dt onnxpb.TensorProto_DataType) string {
	return b.op("Expand", []string{b.scalar(0, dt), b.ints(dims...)})
}

// sum adds terms (one or more tensors of one shape).
func (b *builder) sum(terms []string) string {
	if len(terms) == 1 {
		return terms[0]
	}
	return b.op("Sum", terms)
}

func equalDims(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func numel(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	return n
}

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis int64, rank int) (int, error) {
	if axis < 0 {
		axis += int64(rank)
	}
	if axis < 0 || axis >= int64(rank) {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return int(axis), nil
}
