package onnxgraph

import (
	"fmt"
	"math"
	"sort"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// MaxFoldedElements bounds the size of tensors whose values shape inference tracks;
// shape arithmetic works on tensors far smaller than this.
const MaxFoldedElements = 4096

// TensorInfo is what static shape inference knows about one tensor: its element type,
// its concrete shape and, for small tensors computable from constants and shapes, its values.
type TensorInfo struct {
	DType onnxpb.TensorProto_DataType
	Shape []int64
	// Ints holds the values of integer and bool tensors when known (row-major).
	Ints []int64
	// Floats holds the values of float tensors when known (row-major).
	Floats []float64
	// Sequence holds the elements of a sequence value (made by SplitToSequence and
	// read by SequenceAt in the dynamo exporter's unoptimised graphs); DType is then
	// the elements' type and Shape is nil.
	Sequence []*TensorInfo
}

// HasValue reports whether the tensor's values are known.
func (t *TensorInfo) HasValue() bool { return t != nil && (t.Ints != nil || t.Floats != nil) }

func (t *TensorInfo) n() int { return int(numel(t.Shape)) }

func (t *TensorInfo) f(i int) float64 {
	if t.Floats != nil {
		return t.Floats[i]
	}
	return float64(t.Ints[i])
}

func (t *TensorInfo) i(i int) int64 {
	if t.Ints != nil {
		return t.Ints[i]
	}
	return int64(t.Floats[i])
}

// Shapes maps tensor names to what inference found.
type Shapes map[string]*TensorInfo

// InferShapes computes the shape (and, for small integer tensors derived from shapes,
// the values) of every tensor in the graph for concrete input shapes; inputs whose shape
// is fully static in the model may be left out. An op it does not know is an error naming op and node.
func (g *Graph) InferShapes(inputShapes map[string][]int64) (Shapes, error) {
	s := Shapes{}
	for _, t := range g.Model.GetGraph().GetInitializer() {
		info, err := infoFromTensor(t)
		if err != nil {
			return nil, fmt.Errorf("onnxgraph: initializer: %w", err)
		}
		s[t.GetName()] = info
	}
	real := g.RealInputs()
	for name := range inputShapes {
		if vi := g.inputs[name]; vi == nil || g.initializers[name] != nil {
			return nil, fmt.Errorf("onnxgraph: a shape was given for %q, which is not an input of the model", name)
		}
	}
	for _, vi := range real {
		name := vi.GetName()
		tt := vi.GetType().GetTensorType()
		if tt == nil {
			return nil, fmt.Errorf("onnxgraph: graph input %q is not a tensor", name)
		}
		info := &TensorInfo{DType: onnxpb.TensorProto_DataType(tt.GetElemType())}
		if shape, ok := inputShapes[name]; ok {
			if tt.GetShape() != nil && len(tt.GetShape().GetDim()) != len(shape) {
				return nil, fmt.Errorf("onnxgraph: input %q has rank %d, given shape %v", name, len(tt.GetShape().GetDim()), shape)
			}
			info.Shape = append([]int64{}, shape...)
		} else {
			if tt.GetShape() == nil {
				return nil, fmt.Errorf("onnxgraph: input %q has no declared shape and none was given", name)
			}
			for _, d := range tt.GetShape().GetDim() {
				if _, ok := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); !ok {
					return nil, fmt.Errorf("onnxgraph: input %q has a symbolic dimension %q and no shape was given for it", name, d.GetDimParam())
				}
				info.Shape = append(info.Shape, d.GetDimValue())
			}
		}
		s[name] = info
	}
	order, err := g.TopoOrder()
	if err != nil {
		return nil, err
	}
	for _, i := range order {
		n := g.Node(i)
		ins := make([]*TensorInfo, len(n.GetInput()))
		for j, in := range n.GetInput() {
			if in == "" {
				continue
			}
			info, ok := s[in]
			if !ok {
				return nil, fmt.Errorf("onnxgraph: node %q (%s): input %q has no shape (not produced, not an input or initializer)", n.GetName(), n.GetOpType(), in)
			}
			ins[j] = info
		}
		outs, err := inferNode(g, n, ins)
		if err != nil {
			return nil, fmt.Errorf("onnxgraph: shape inference: node %q (%s%s): %w", n.GetName(), domainPrefix(n.GetDomain()), n.GetOpType(), err)
		}
		for j, out := range n.GetOutput() {
			if out == "" || j >= len(outs) || outs[j] == nil {
				continue
			}
			if outs[j].HasValue() && outs[j].n() > MaxFoldedElements {
				outs[j].Ints, outs[j].Floats = nil, nil
			}
			s[out] = outs[j]
		}
	}
	return s, nil
}

func domainPrefix(d string) string {
	if d == "" || d == "ai.onnx" {
		return ""
	}
	return d + "::"
}

func infoFromTensor(t *onnxpb.TensorProto) (*TensorInfo, error) {
	info := &TensorInfo{DType: onnxpb.TensorProto_DataType(t.GetDataType()), Shape: append([]int64{}, t.GetDims()...)}
	if numel(info.Shape) <= MaxFoldedElements && (isIntType(info.DType) || isFloatType(info.DType)) {
		ints, floats, err := TensorValues(t)
		if err != nil {
			return nil, err
		}
		info.Ints, info.Floats = ints, floats
	}
	return info, nil
}

// need returns input j or an error if it is missing.
func need(ins []*TensorInfo, j int) (*TensorInfo, error) {
	if j >= len(ins) || ins[j] == nil {
		return nil, fmt.Errorf("input %d is missing", j)
	}
	return ins[j], nil
}

// needValue returns input j's integer values or an error saying they could not be folded.
func needValue(ins []*TensorInfo, j int, what string) ([]int64, error) {
	t, err := need(ins, j)
	if err != nil {
		return nil, err
	}
	if !t.HasValue() {
		return nil, fmt.Errorf("%s (input %d) is not a constant and could not be folded from shapes", what, j)
	}
	v := make([]int64, t.n())
	for i := range v {
		v[i] = t.i(i)
	}
	return v, nil
}

func normAxis(axis int64, rank int) (int, error) {
	if axis < 0 {
		axis += int64(rank)
	}
	if axis < 0 || axis >= int64(rank) {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return int(axis), nil
}

func same(t *TensorInfo) *TensorInfo {
	return &TensorInfo{DType: t.DType, Shape: append([]int64{}, t.Shape...)}
}

func inferNode(g *Graph, n *onnxpb.NodeProto, ins []*TensorInfo) ([]*TensorInfo, error) {
	domain := n.GetDomain()
	if domain == "ai.onnx" {
		domain = ""
	}
	op := n.GetOpType()
	if domain == "com.microsoft" {
		switch op {
		case "Gelu", "FastGelu", "BiasGelu", "QuickGelu":
			x, err := need(ins, 0)
			if err != nil {
				return nil, err
			}
			return []*TensorInfo{same(x)}, nil
		}
		return nil, fmt.Errorf("unsupported op %s::%s", domain, op)
	}
	if domain != "" {
		return nil, fmt.Errorf("unsupported op %s::%s", domain, op)
	}
	opset := g.Opset("")
	if infer := extraOps[op]; infer != nil {
		return infer(n, ins)
	}
	switch op {
	case "Identity", "Dropout":
		x, err := need(ins, 0)
		if err != nil {
			return nil, err
		}
		out := same(x)
		out.Ints, out.Floats = x.Ints, x.Floats
		mask := same(x)
		mask.DType = onnxpb.TensorProto_BOOL
		return []*TensorInfo{out, mask}, nil
	case "Softmax", "LogSoftmax", "Erf", "Tanh", "Sigmoid", "Exp", "Log", "Gelu", "Softplus",
		"Sin", "Cos", "Elu", "LeakyRelu", "HardSigmoid", "Sign", "Round":
		x, err := need(ins, 0)
		if err != nil {
			return nil, err
		}
		return []*TensorInfo{same(x)}, nil
	case "Neg", "Not", "Abs", "Sqrt", "Relu", "Floor", "Ceil", "Reciprocal":
		x, err := need(ins, 0)
		if err != nil {
			return nil, err
		}
		out := same(x)
		if x.HasValue() {
			fn := unaryFuncs[op]
			if isFloatType(x.DType) {
				out.Floats = make([]float64, x.n())
				for k := range out.Floats {
					out.Floats[k] = fn(x.f(k))
				}
			} else {
				out.Ints = make([]int64, x.n())
				for k := range out.Ints {
					out.Ints[k] = int64(fn(float64(x.i(k))))
				}
			}
		}
		return []*TensorInfo{out}, nil
	case "Cast":
		x, err := need(ins, 0)
		if err != nil {
			return nil, err
		}
		return []*TensorInfo{castInfo(x, onnxpb.TensorProto_DataType(IntAttr(n, "to", 0)))}, nil
	case "CastLike":
		x, err := need(ins, 0)
		if err != nil {
			return nil, err
		}
		like, err := need(ins, 1)
		if err != nil {
			return nil, err
		}
		// The dynamo exporter's unoptimised graphs make Range bounds with CastLike, so its values matter.
		return []*TensorInfo{castInfo(x, like.DType)}, nil
	case "Shape":
		x, err := need(ins, 0)
		if err != nil {
			return nil, err
		}
		r := int64(len(x.Shape))
		start, end := IntAttr(n, "start", 0), IntAttr(n, "end", r)
		start, end = clampIndex(start, r), clampIndex(end, r)
		if end < start {
			end = start
		}
		vals := append([]int64{}, x.Shape[start:end]...)
		return []*TensorInfo{{DType: onnxpb.TensorProto_INT64, Shape: []int64{int64(len(vals))}, Ints: vals}}, nil
	case "Size":
		x, err := need(ins, 0)
		if err != nil {
			return nil, err
		}
		return []*TensorInfo{{DType: onnxpb.TensorProto_INT64, Shape: []int64{}, Ints: []int64{numel(x.Shape)}}}, nil
	case "Constant":
		return inferConstant(n)
	case "ConstantOfShape":
		shape, err := needValue(ins, 0, "shape")
		if err != nil {
			return nil, err
		}
		out := &TensorInfo{DType: onnxpb.TensorProto_FLOAT, Shape: shape}
		fill := 0.0
		if a := Attr(n, "value"); a != nil && a.GetT() != nil {
			out.DType = onnxpb.TensorProto_DataType(a.GetT().GetDataType())
			ints, floats, err := TensorValues(a.GetT())
			if err != nil {
				return nil, err
			}
			if len(ints) > 0 {
				fill = float64(ints[0])
			} else if len(floats) > 0 {
				fill = floats[0]
			}
		}
		if numel(shape) <= MaxFoldedElements {
			if isFloatType(out.DType) {
				out.Floats = make([]float64, numel(shape))
				for k := range out.Floats {
					out.Floats[k] = fill
				}
			} else if isIntType(out.DType) {
				out.Ints = make([]int64, numel(shape))
				for k := range out.Ints {
					out.Ints[k] = int64(fill)
				}
			}
		}
		return []*TensorInfo{out}, nil
	case "Unsqueeze", "Squeeze":
		return inferSqueeze(n, ins, opset)
	case "Concat":
		return inferConcat(n, ins)
	case "Reshape":
		return inferReshape(n, ins)
	case "Flatten":
		x, err := need(ins, 0)
		if err != nil {
			return nil, err
		}
		axis := IntAttr(n, "axis", 1)
		if axis < 0 {
			axis += int64(len(x.Shape))
		}
		if axis < 0 || axis > int64(len(x.Shape)) {
			return nil, fmt.Errorf("axis %d out of range for rank %d", axis, len(x.Shape))
		}
		out := &TensorInfo{DType: x.DType, Shape: []int64{numel(x.Shape[:axis]), numel(x.Shape[axis:])}, Ints: x.Ints, Floats: x.Floats}
		return []*TensorInfo{out}, nil
	case "Transpose":
		return inferTranspose(n, ins)
	case "Gather":
		return inferGather(n, ins)
	case "MatMul":
		return inferMatMul(ins)
	case "Gemm":
		a, err := need(ins, 0)
		if err != nil {
			return nil, err
		}
		b, err := need(ins, 1)
		if err != nil {
			return nil, err
		}
		if len(a.Shape) != 2 || len(b.Shape) != 2 {
			return nil, fmt.Errorf("Gemm needs 2-D inputs, got %v and %v", a.Shape, b.Shape)
		}
		m, k := a.Shape[0], a.Shape[1]
		if IntAttr(n, "transA", 0) != 0 {
			m, k = k, m
		}
		k2, nn := b.Shape[0], b.Shape[1]
		if IntAttr(n, "transB", 0) != 0 {
			k2, nn = nn, k2
		}
		if k != k2 {
			return nil, fmt.Errorf("Gemm inner dimensions differ: %v and %v", a.Shape, b.Shape)
		}
		return []*TensorInfo{{DType: a.DType, Shape: []int64{m, nn}}}, nil
	case "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual",
		"And", "Or", "Xor", "Max", "Min", "Sum", "Mean", "Where", "BitwiseAnd", "BitwiseOr":
		return inferElementwise(op, n, ins)
	case "Expand":
		x, err := need(ins, 0)
		if err != nil {
			return nil, err
		}
		shape, err := needValue(ins, 1, "shape")
		if err != nil {
			return nil, err
		}
		out, err := broadcastShapes(x.Shape, shape)
		if err != nil {
			return nil, err
		}
		info := &TensorInfo{DType: x.DType, Shape: out}
		if x.HasValue() && numel(out) <= MaxFoldedElements {
			pick(info, x, broadcastIndex(out, x.Shape))
		}
		return []*TensorInfo{info}, nil
	case "Tile":
		x, err := need(ins, 0)
		if err != nil {
			return nil, err
		}
		reps, err := needValue(ins, 1, "repeats")
		if err != nil {
			return nil, err
		}
		if len(reps) != len(x.Shape) {
			return nil, fmt.Errorf("Tile repeats %v do not match rank %d", reps, len(x.Shape))
		}
		out := make([]int64, len(x.Shape))
		for k := range out {
			out[k] = x.Shape[k] * reps[k]
		}
		return []*TensorInfo{{DType: x.DType, Shape: out}}, nil
	case "Slice":
		return inferSlice(n, ins, opset)
	case "Range":
		return inferRange(ins)
	case "Split":
		return inferSplit(n, ins, opset)
	case "LayerNormalization":
		x, err := need(ins, 0)
		if err != nil {
			return nil, err
		}
		axis, err := normAxis(IntAttr(n, "axis", -1), len(x.Shape))
		if err != nil {
			return nil, err
		}
		stat := append([]int64{}, x.Shape...)
		for k := axis; k < len(stat); k++ {
			stat[k] = 1
		}
		return []*TensorInfo{same(x), {DType: onnxpb.TensorProto_FLOAT, Shape: stat}, {DType: onnxpb.TensorProto_FLOAT, Shape: append([]int64{}, stat...)}}, nil
	case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2", "ReduceL1", "ReduceSumSquare", "ReduceLogSumExp":
		return inferReduce(n, ins)
	}
	return nil, fmt.Errorf("unsupported op %s (opset %d)", op, opset)
}

// castInfo converts x's info, values included, to the element type to.
func castInfo(x *TensorInfo, to onnxpb.TensorProto_DataType) *TensorInfo {
	out := &TensorInfo{DType: to, Shape: append([]int64{}, x.Shape...)}
	if !x.HasValue() {
		return out
	}
	switch {
	case isFloatType(to):
		out.Floats = make([]float64, x.n())
		for k := range out.Floats {
			out.Floats[k] = x.f(k)
		}
	case to == onnxpb.TensorProto_BOOL:
		out.Ints = make([]int64, x.n())
		for k := range out.Ints {
			if x.f(k) != 0 {
				out.Ints[k] = 1
			}
		}
	case isIntType(to):
		out.Ints = make([]int64, x.n())
		for k := range out.Ints {
			out.Ints[k] = x.i(k) // float to int truncates toward zero, as ONNX Runtime does
		}
	}
	return out
}

var unaryFuncs = map[string]func(float64) float64{
	"Neg":        func(v float64) float64 { return -v },
	"Not":        func(v float64) float64 { return b2f(v == 0) },
	"Abs":        math.Abs,
	"Sqrt":       math.Sqrt,
	"Relu":       func(v float64) float64 { return math.Max(v, 0) },
	"Floor":      math.Floor,
	"Ceil":       math.Ceil,
	"Reciprocal": func(v float64) float64 { return 1 / v },
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func clampIndex(i, r int64) int64 {
	if i < 0 {
		i += r
	}
	if i < 0 {
		return 0
	}
	if i > r {
		return r
	}
	return i
}

func inferConstant(n *onnxpb.NodeProto) ([]*TensorInfo, error) {
	for _, a := range n.GetAttribute() {
		switch a.GetName() {
		case "value":
			info, err := infoFromTensor(a.GetT())
			if err != nil {
				return nil, err
			}
			return []*TensorInfo{info}, nil
		case "value_int":
			return []*TensorInfo{{DType: onnxpb.TensorProto_INT64, Shape: []int64{}, Ints: []int64{a.GetI()}}}, nil
		case "value_ints":
			return []*TensorInfo{{DType: onnxpb.TensorProto_INT64, Shape: []int64{int64(len(a.GetInts()))}, Ints: append([]int64{}, a.GetInts()...)}}, nil
		case "value_float":
			return []*TensorInfo{{DType: onnxpb.TensorProto_FLOAT, Shape: []int64{}, Floats: []float64{float64(a.GetF())}}}, nil
		case "value_floats":
			fs := make([]float64, len(a.GetFloats()))
			for k, v := range a.GetFloats() {
				fs[k] = float64(v)
			}
			return []*TensorInfo{{DType: onnxpb.TensorProto_FLOAT, Shape: []int64{int64(len(fs))}, Floats: fs}}, nil
		}
	}
	return nil, fmt.Errorf("Constant has no supported value attribute")
}

// axesOf reads the axes of Squeeze/Unsqueeze/Reduce*: from input 1 when present, else from the "axes" attribute.
func axesOf(n *onnxpb.NodeProto, ins []*TensorInfo) ([]int64, bool, error) {
	if len(ins) > 1 && ins[1] != nil {
		v, err := needValue(ins, 1, "axes")
		return v, true, err
	}
	v, ok := IntsAttr(n, "axes")
	return v, ok, nil
}

func inferSqueeze(n *onnxpb.NodeProto, ins []*TensorInfo, opset int64) ([]*TensorInfo, error) {
	x, err := need(ins, 0)
	if err != nil {
		return nil, err
	}
	axes, haveAxes, err := axesOf(n, ins)
	if err != nil {
		return nil, err
	}
	out := &TensorInfo{DType: x.DType, Ints: x.Ints, Floats: x.Floats}
	if n.GetOpType() == "Unsqueeze" {
		if !haveAxes {
			return nil, fmt.Errorf("Unsqueeze without axes")
		}
		r := len(x.Shape) + len(axes)
		ins := make([]bool, r)
		for _, a := range axes {
			k, err := normAxis(a, r)
			if err != nil {
				return nil, err
			}
			if ins[k] {
				return nil, fmt.Errorf("Unsqueeze axis %d repeated", a)
			}
			ins[k] = true
		}
		src := 0
		for k := 0; k < r; k++ {
			if ins[k] {
				out.Shape = append(out.Shape, 1)
			} else {
				out.Shape = append(out.Shape, x.Shape[src])
				src++
			}
		}
		return []*TensorInfo{out}, nil
	}
	drop := make([]bool, len(x.Shape))
	if haveAxes {
		for _, a := range axes {
			k, err := normAxis(a, len(x.Shape))
			if err != nil {
				return nil, err
			}
			if x.Shape[k] != 1 {
				return nil, fmt.Errorf("Squeeze axis %d has size %d, not 1", a, x.Shape[k])
			}
			drop[k] = true
		}
	} else {
		for k, d := range x.Shape {
			drop[k] = d == 1
		}
	}
	out.Shape = []int64{}
	for k, d := range x.Shape {
		if !drop[k] {
			out.Shape = append(out.Shape, d)
		}
	}
	return []*TensorInfo{out}, nil
}

func inferConcat(n *onnxpb.NodeProto, ins []*TensorInfo) ([]*TensorInfo, error) {
	if len(ins) == 0 {
		return nil, fmt.Errorf("Concat has no inputs")
	}
	first, err := need(ins, 0)
	if err != nil {
		return nil, err
	}
	r := len(first.Shape)
	axis, err := normAxis(IntAttr(n, "axis", 0), r)
	if err != nil {
		return nil, err
	}
	out := &TensorInfo{DType: first.DType, Shape: append([]int64{}, first.Shape...)}
	out.Shape[axis] = 0
	allKnown := true
	for j := range ins {
		x, err := need(ins, j)
		if err != nil {
			return nil, err
		}
		if len(x.Shape) != r {
			return nil, fmt.Errorf("Concat inputs have ranks %d and %d", r, len(x.Shape))
		}
		for k := range x.Shape {
			if k != axis && x.Shape[k] != first.Shape[k] {
				return nil, fmt.Errorf("Concat inputs have shapes %v and %v", first.Shape, x.Shape)
			}
		}
		out.Shape[axis] += x.Shape[axis]
		allKnown = allKnown && x.HasValue()
	}
	if allKnown {
		outer := numel(first.Shape[:axis])
		inner := numel(first.Shape[axis+1:])
		float := isFloatType(first.DType)
		for o := int64(0); o < outer; o++ {
			for _, x := range ins {
				chunk := x.Shape[axis] * inner
				for c := int64(0); c < chunk; c++ {
					idx := int(o*chunk + c)
					if float {
						out.Floats = append(out.Floats, x.f(idx))
					} else {
						out.Ints = append(out.Ints, x.i(idx))
					}
				}
			}
		}
		if float && out.Floats == nil {
			out.Floats = []float64{}
		} else if !float && out.Ints == nil {
			out.Ints = []int64{}
		}
	}
	return []*TensorInfo{out}, nil
}

func inferReshape(n *onnxpb.NodeProto, ins []*TensorInfo) ([]*TensorInfo, error) {
	x, err := need(ins, 0)
	if err != nil {
		return nil, err
	}
	var target []int64
	if len(ins) > 1 && ins[1] != nil {
		target, err = needValue(ins, 1, "target shape")
		if err != nil {
			return nil, err
		}
	} else if v, ok := IntsAttr(n, "shape"); ok {
		target = v
	} else {
		return nil, fmt.Errorf("Reshape without a shape")
	}
	allowZero := IntAttr(n, "allowzero", 0) != 0
	out := make([]int64, len(target))
	infer := -1
	known := int64(1)
	for k, d := range target {
		switch {
		case d == 0 && !allowZero:
			if k >= len(x.Shape) {
				return nil, fmt.Errorf("Reshape copies dim %d of a rank-%d input", k, len(x.Shape))
			}
			out[k] = x.Shape[k]
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("Reshape target %v has two -1", target)
			}
			infer = k
			continue
		case d < 0:
			return nil, fmt.Errorf("Reshape target %v has a negative size", target)
		default:
			out[k] = d
		}
		known *= out[k]
	}
	total := numel(x.Shape)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v into %v", x.Shape, target)
		}
		out[infer] = total / known
	} else if known != total {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) into %v", x.Shape, total, out)
	}
	return []*TensorInfo{{DType: x.DType, Shape: out, Ints: x.Ints, Floats: x.Floats}}, nil
}

func inferTranspose(n *onnxpb.NodeProto, ins []*TensorInfo) ([]*TensorInfo, error) {
	x, err := need(ins, 0)
	if err != nil {
		return nil, err
	}
	r := len(x.Shape)
	perm, ok := IntsAttr(n, "perm")
	if !ok {
		for k := r - 1; k >= 0; k-- {
			perm = append(perm, int64(k))
		}
	}
	if len(perm) != r {
		return nil, fmt.Errorf("Transpose perm %v does not match rank %d", perm, r)
	}
	out := &TensorInfo{DType: x.DType, Shape: make([]int64, r)}
	for k, p := range perm {
		if p < 0 || int(p) >= r {
			return nil, fmt.Errorf("Transpose perm %v out of range", perm)
		}
		out.Shape[k] = x.Shape[p]
	}
	if x.HasValue() {
		inStrides := strides(x.Shape)
		idx := make([]int, x.n())
		forEachIndex(out.Shape, func(flat int, pos []int64) {
			src := int64(0)
			for k, p := range perm {
				src += pos[k] * inStrides[p]
			}
			idx[flat] = int(src)
		})
		pick(out, x, idx)
	}
	return []*TensorInfo{out}, nil
}

func inferGather(n *onnxpb.NodeProto, ins []*TensorInfo) ([]*TensorInfo, error) {
	data, err := need(ins, 0)
	if err != nil {
		return nil, err
	}
	indices, err := need(ins, 1)
	if err != nil {
		return nil, err
	}
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

func inferMatMul(ins []*TensorInfo) ([]*TensorInfo, error) {
	a, err := need(ins, 0)
	if err != nil {
		return nil, err
	}
	b, err := need(ins, 1)
	if err != nil {
		return nil, err
	}
	as, bs := append([]int64{}, a.Shape...), append([]int64{}, b.Shape...)
	if len(as) == 0 || len(bs) == 0 {
		return nil, fmt.Errorf("MatMul of a scalar")
	}
	aVec, bVec := len(as) == 1, len(bs) == 1
	if aVec {
		as = []int64{1, as[0]}
	}
	if bVec {
		bs = []int64{bs[0], 1}
	}
	if as[len(as)-1] != bs[len(bs)-2] {
		return nil, fmt.Errorf("MatMul inner dimensions differ: %v × %v", a.Shape, b.Shape)
	}
	batch, err := broadcastShapes(as[:len(as)-2], bs[:len(bs)-2])
	if err != nil {
		return nil, fmt.Errorf("MatMul batch dims: %w", err)
	}
	out := batch
	if !aVec {
		out = append(out, as[len(as)-2])
	}
	if !bVec {
		out = append(out, bs[len(bs)-1])
	}
	return []*TensorInfo{{DType: a.DType, Shape: out}}, nil
}

// broadcastShapes applies numpy (multidirectional) broadcasting.
func broadcastShapes(shapes ...[]int64) ([]int64, error) {
	r := 0
	for _, s := range shapes {
		if len(s) > r {
			r = len(s)
		}
	}
	out := make([]int64, r)
	for k := range out {
		out[k] = 1
	}
	for _, s := range shapes {
		off := r - len(s)
		for k, d := range s {
			switch {
			case d == out[off+k] || d == 1:
			case out[off+k] == 1:
				out[off+k] = d
			default:
				return nil, fmt.Errorf("shapes %v cannot be broadcast together", shapes)
			}
		}
	}
	return out, nil
}

func strides(shape []int64) []int64 {
	st := make([]int64, len(shape))
	acc := int64(1)
	for k := len(shape) - 1; k >= 0; k-- {
		st[k] = acc
		acc *= shape[k]
	}
	return st
}

// forEachIndex calls fn for every position of shape in row-major order.
func forEachIndex(shape []int64, fn func(flat int, pos []int64)) {
	total := numel(shape)
	pos := make([]int64, len(shape))
	for flat := int64(0); flat < total; flat++ {
		fn(int(flat), pos)
		for k := len(shape) - 1; k >= 0; k-- {
			pos[k]++
			if pos[k] < shape[k] {
				break
			}
			pos[k] = 0
		}
	}
}

// broadcastIndex maps each position of out to the flat index of the broadcast input of shape in.
func broadcastIndex(out, in []int64) []int {
	st := strides(in)
	off := len(out) - len(in)
	idx := make([]int, numel(out))
	forEachIndex(out, func(flat int, pos []int64) {
		src := int64(0)
		for k := range in {
			if in[k] != 1 {
				src += pos[off+k] * st[k]
			}
		}
		idx[flat] = int(src)
	})
	return idx
}

// pick fills out's values with src's values at the given flat indices.
func pick(out, src *TensorInfo, idx []int) {
	if src.Floats != nil {
		out.Floats = make([]float64, len(idx))
		for k, j := range idx {
			out.Floats[k] = src.Floats[j]
		}
	} else if src.Ints != nil {
		out.Ints = make([]int64, len(idx))
		for k, j := range idx {
			out.Ints[k] = src.Ints[j]
		}
	}
}

func inferElementwise(op string, n *onnxpb.NodeProto, ins []*TensorInfo) ([]*TensorInfo, error) {
	var shapes [][]int64
	allKnown := true
	for j := range ins {
		x, err := need(ins, j)
		if err != nil {
			return nil, err
		}
		shapes = append(shapes, x.Shape)
		allKnown = allKnown && x.HasValue()
	}
	if len(shapes) == 0 {
		return nil, fmt.Errorf("%s has no inputs", op)
	}
	out, err := broadcastShapes(shapes...)
	if err != nil {
		return nil, err
	}
	dt := ins[0].DType
	switch op {
	case "Where":
		if len(ins) != 3 {
			return nil, fmt.Errorf("Where needs 3 inputs")
		}
		dt = ins[1].DType
	case "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor":
		dt = onnxpb.TensorProto_BOOL
	}
	info := &TensorInfo{DType: dt, Shape: out}
	if !allKnown || numel(out) > MaxFoldedElements {
		return []*TensorInfo{info}, nil
	}
	maps := make([][]int, len(ins))
	for j, x := range ins {
		maps[j] = broadcastIndex(out, x.Shape)
	}
	total := int(numel(out))
	if op == "Where" {
		x, y := ins[1], ins[2]
		if isFloatType(dt) {
			info.Floats = make([]float64, total)
		} else {
			info.Ints = make([]int64, total)
		}
		for k := 0; k < total; k++ {
			src, m := y, maps[2]
			if ins[0].i(maps[0][k]) != 0 {
				src, m = x, maps[1]
			}
			if info.Floats != nil {
				info.Floats[k] = src.f(m[k])
			} else {
				info.Ints[k] = src.i(m[k])
			}
		}
		return []*TensorInfo{info}, nil
	}
	// Arithmetic follows the inputs' type: float math for float tensors,
	// integer math (truncating division) for integer ones.
	floatMath := isFloatType(ins[0].DType)
	fold := func(a, b float64) float64 { return 0 }
	foldInt := func(a, b int64) int64 { return 0 }
	switch op {
	case "Add", "Sum":
		fold, foldInt = func(a, b float64) float64 { return a + b }, func(a, b int64) int64 { return a + b }
	case "Sub":
		fold, foldInt = func(a, b float64) float64 { return a - b }, func(a, b int64) int64 { return a - b }
	case "Mul":
		fold, foldInt = func(a, b float64) float64 { return a * b }, func(a, b int64) int64 { return a * b }
	case "Div":
		fold = func(a, b float64) float64 { return a / b }
		foldInt = func(a, b int64) int64 {
			if b == 0 {
				return 0
			}
			return a / b
		}
	case "Mod":
		fold = math.Mod
		foldInt = func(a, b int64) int64 {
			if b == 0 {
				return 0
			}
			// ONNX Mod with fmod=0 follows the divisor's sign, like Python.
			m := a % b
			if m != 0 && (m < 0) != (b < 0) {
				m += b
			}
			return m
		}
	case "Pow":
		fold = math.Pow
		foldInt = func(a, b int64) int64 { return int64(math.Pow(float64(a), float64(b))) }
	case "Max":
		fold, foldInt = math.Max, func(a, b int64) int64 { return max(a, b) }
	case "Min":
		fold, foldInt = math.Min, func(a, b int64) int64 { return min(a, b) }
	case "Equal":
		fold, foldInt = func(a, b float64) float64 { return b2f(a == b) }, func(a, b int64) int64 { return int64(b2f(a == b)) }
	case "Less":
		fold, foldInt = func(a, b float64) float64 { return b2f(a < b) }, func(a, b int64) int64 { return int64(b2f(a < b)) }
	case "Greater":
		fold, foldInt = func(a, b float64) float64 { return b2f(a > b) }, func(a, b int64) int64 { return int64(b2f(a > b)) }
	case "LessOrEqual":
		fold, foldInt = func(a, b float64) float64 { return b2f(a <= b) }, func(a, b int64) int64 { return int64(b2f(a <= b)) }
	case "GreaterOrEqual":
		fold, foldInt = func(a, b float64) float64 { return b2f(a >= b) }, func(a, b int64) int64 { return int64(b2f(a >= b)) }
	case "And", "BitwiseAnd":
		foldInt = func(a, b int64) int64 { return a & b }
		floatMath = false
	case "Or", "BitwiseOr":
		foldInt = func(a, b int64) int64 { return a | b }
		floatMath = false
	case "Xor":
		foldInt = func(a, b int64) int64 { return a ^ b }
		floatMath = false
	case "Mean":
		// Mean of integer tensors is not a shape computation; leave it unfolded.
		return []*TensorInfo{info}, nil
	}
	if floatMath {
		vals := make([]float64, total)
		for k := range vals {
			acc := ins[0].f(maps[0][k])
			for j := 1; j < len(ins); j++ {
				acc = fold(acc, ins[j].f(maps[j][k]))
			}
			vals[k] = acc
		}
		if isFloatType(dt) {
			info.Floats = vals
		} else {
			info.Ints = make([]int64, total)
			for k, v := range vals {
				info.Ints[k] = int64(v)
			}
		}
	} else {
		info.Ints = make([]int64, total)
		for k := range info.Ints {
			acc := ins[0].i(maps[0][k])
			for j := 1; j < len(ins); j++ {
				acc = foldInt(acc, ins[j].i(maps[j][k]))
			}
			info.Ints[k] = acc
		}
	}
	return []*TensorInfo{info}, nil
}

func inferSlice(n *onnxpb.NodeProto, ins []*TensorInfo, opset int64) ([]*TensorInfo, error) {
	x, err := need(ins, 0)
	if err != nil {
		return nil, err
	}
	r := len(x.Shape)
	var starts, ends, axes, steps []int64
	if opset < 10 {
		starts, _ = IntsAttr(n, "starts")
		ends, _ = IntsAttr(n, "ends")
		axes, _ = IntsAttr(n, "axes")
	} else {
		if starts, err = needValue(ins, 1, "starts"); err != nil {
			return nil, err
		}
		if ends, err = needValue(ins, 2, "ends"); err != nil {
			return nil, err
		}
		if len(ins) > 3 && ins[3] != nil {
			if axes, err = needValue(ins, 3, "axes"); err != nil {
				return nil, err
			}
		}
		if len(ins) > 4 && ins[4] != nil {
			if steps, err = needValue(ins, 4, "steps"); err != nil {
				return nil, err
			}
		}
	}
	if len(starts) != len(ends) {
		return nil, fmt.Errorf("Slice starts %v and ends %v differ in length", starts, ends)
	}
	if axes == nil {
		for k := range starts {
			axes = append(axes, int64(k))
		}
	}
	if steps == nil {
		steps = make([]int64, len(starts))
		for k := range steps {
			steps[k] = 1
		}
	}
	if len(axes) != len(starts) || len(steps) != len(starts) {
		return nil, fmt.Errorf("Slice starts, ends, axes and steps differ in length")
	}
	begin := make([]int64, r)
	step := make([]int64, r)
	outShape := append([]int64{}, x.Shape...)
	for k := range step {
		step[k] = 1
	}
	for k, a := range axes {
		ax, err := normAxis(a, r)
		if err != nil {
			return nil, err
		}
		dim := x.Shape[ax]
		st := steps[k]
		if st == 0 {
			return nil, fmt.Errorf("Slice step 0")
		}
		s, e := starts[k], ends[k]
		if s < 0 {
			s += dim
		}
		if e < 0 {
			e += dim
		}
		var cnt int64
		if st > 0 {
			s = min(max(s, 0), dim)
			e = min(max(e, 0), dim)
			if e > s {
				cnt = (e - s + st - 1) / st
			}
		} else {
			s = min(max(s, 0), dim-1)
			e = min(max(e, -1), dim-1)
			if s > e {
				cnt = (s - e + (-st) - 1) / (-st)
			}
		}
		begin[ax], step[ax], outShape[ax] = s, st, cnt
	}
	out := &TensorInfo{DType: x.DType, Shape: outShape}
	if x.HasValue() {
		st := strides(x.Shape)
		idx := make([]int, numel(outShape))
		forEachIndex(outShape, func(flat int, pos []int64) {
			src := int64(0)
			for k := range pos {
				src += (begin[k] + pos[k]*step[k]) * st[k]
			}
			idx[flat] = int(src)
		})
		pick(out, x, idx)
	}
	return []*TensorInfo{out}, nil
}

func inferRange(ins []*TensorInfo) ([]*TensorInfo, error) {
	var v [3]*TensorInfo
	for j := range v {
		x, err := need(ins, j)
		if err != nil {
			return nil, err
		}
		if !x.HasValue() || x.n() != 1 {
			return nil, fmt.Errorf("Range input %d is not a scalar that could be folded from shapes", j)
		}
		v[j] = x
	}
	dt := v[0].DType
	out := &TensorInfo{DType: dt}
	if isFloatType(dt) {
		start, limit, delta := v[0].f(0), v[1].f(0), v[2].f(0)
		if delta == 0 {
			return nil, fmt.Errorf("Range delta 0")
		}
		cnt := int64(math.Max(math.Ceil((limit-start)/delta), 0))
		out.Shape = []int64{cnt}
		if cnt <= MaxFoldedElements {
			out.Floats = make([]float64, cnt)
			for k := range out.Floats {
				out.Floats[k] = start + float64(k)*delta
			}
		}
		return []*TensorInfo{out}, nil
	}
	start, limit, delta := v[0].i(0), v[1].i(0), v[2].i(0)
	if delta == 0 {
		return nil, fmt.Errorf("Range delta 0")
	}
	cnt := int64(math.Max(math.Ceil(float64(limit-start)/float64(delta)), 0))
	out.Shape = []int64{cnt}
	if cnt <= MaxFoldedElements {
		out.Ints = make([]int64, cnt)
		for k := range out.Ints {
			out.Ints[k] = start + int64(k)*delta
		}
	}
	return []*TensorInfo{out}, nil
}

func inferSplit(n *onnxpb.NodeProto, ins []*TensorInfo, opset int64) ([]*TensorInfo, error) {
	x, err := need(ins, 0)
	if err != nil {
		return nil, err
	}
	axis, err := normAxis(IntAttr(n, "axis", 0), len(x.Shape))
	if err != nil {
		return nil, err
	}
	nOut := len(n.GetOutput())
	var split []int64
	if len(ins) > 1 && ins[1] != nil {
		if split, err = needValue(ins, 1, "split"); err != nil {
			return nil, err
		}
	} else if v, ok := IntsAttr(n, "split"); ok {
		split = v
	} else {
		if num := IntAttr(n, "num_outputs", 0); num > 0 {
			nOut = int(num)
		}
		dim := x.Shape[axis]
		size := (dim + int64(nOut) - 1) / int64(nOut)
		for k := 0; k < nOut; k++ {
			s := min(size, dim-int64(k)*size)
			split = append(split, max(s, 0))
		}
	}
	return splitPieces(x, axis, split)
}

// splitPieces cuts x along axis into consecutive pieces of the given sizes, with
// their values when x's are known.
func splitPieces(x *TensorInfo, axis int, split []int64) ([]*TensorInfo, error) {
	var sum int64
	for _, s := range split {
		if s < 0 {
			return nil, fmt.Errorf("Split sizes %v include a negative size", split)
		}
		sum += s
	}
	if sum != x.Shape[axis] {
		return nil, fmt.Errorf("Split sizes %v do not add up to dim %d", split, x.Shape[axis])
	}
	outs := make([]*TensorInfo, len(split))
	var offset int64
	for k, s := range split {
		shape := append([]int64{}, x.Shape...)
		shape[axis] = s
		outs[k] = &TensorInfo{DType: x.DType, Shape: shape}
		if x.HasValue() {
			st := strides(x.Shape)
			idx := make([]int, numel(shape))
			forEachIndex(shape, func(flat int, pos []int64) {
				src := int64(0)
				for d := range pos {
					p := pos[d]
					if d == axis {
						p += offset
					}
					src += p * st[d]
				}
				idx[flat] = int(src)
			})
			pick(outs[k], x, idx)
		}
		offset += s
	}
	return outs, nil
}

func reducedShape(shape []int64, axes []int, keep bool) []int64 {
	red := make([]bool, len(shape))
	for _, a := range axes {
		red[a] = true
	}
	out := []int64{}
	for k, d := range shape {
		switch {
		case !red[k]:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return out
}

func inferReduce(n *onnxpb.NodeProto, ins []*TensorInfo) ([]*TensorInfo, error) {
	x, err := need(ins, 0)
	if err != nil {
		return nil, err
	}
	axes, _, err := axesOf(n, ins)
	if err != nil {
		return nil, err
	}
	keep := IntAttr(n, "keepdims", 1) != 0
	var norm []int
	if len(axes) == 0 {
		if IntAttr(n, "noop_with_empty_axes", 0) != 0 {
			out := same(x)
			out.Ints, out.Floats = x.Ints, x.Floats
			return []*TensorInfo{out}, nil
		}
		for k := range x.Shape {
			norm = append(norm, k)
		}
	}
	for _, a := range axes {
		k, err := normAxis(a, len(x.Shape))
		if err != nil {
			return nil, err
		}
		norm = append(norm, k)
	}
	sort.Ints(norm)
	out := &TensorInfo{DType: x.DType, Shape: reducedShape(x.Shape, norm, keep)}
	foldReduce(n.GetOpType(), x, out, norm)
	return []*TensorInfo{out}, nil
}
