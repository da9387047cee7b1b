package onnxgraph

import (
	"fmt"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// Static shape inference: the core (TensorInfo, InferShapes, the op table and its
// arity check, broadcasting helpers). Each op's inference lives with its family:
// shape_elementwise.go (unary, binary and variadic elementwise ops, casts,
// MatMul, Gemm, LayerNormalization), shape_movement.go (Reshape, Squeeze,
// Unsqueeze, Flatten, Transpose, Expand, Tile, Concat, Split, Slice),
// shape_source.go (Constant, ConstantOfShape, Shape, Size, Range), shape_ops.go
// (Gather, GatherND, GatherElements, ScatterND, ScatterElements, Trilu),
// shape_reduce.go (Reduce*, ArgMax, ArgMin, CumSum) and shape_seq.go (sequences).

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

// n is the element count.
func (t *TensorInfo) n() int { return int(numel(t.Shape)) }

// f reads element i as a float, whichever slice holds the values.
func (t *TensorInfo) f(i int) float64 {
	if t.Floats != nil {
		return t.Floats[i]
	}
	return float64(t.Ints[i])
}

// i reads element i as an integer (floats truncate toward zero).
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
			// Ops fed hostile values (Tile's negative repeats, ...) must not pass on
			// a negative or overflowing shape for later ops to size buffers from.
			for _, o := range append([]*TensorInfo{outs[j]}, outs[j].Sequence...) {
				if _, err := elementCount(o.Shape); err != nil {
					return nil, fmt.Errorf("onnxgraph: shape inference: node %q (%s%s): output %q: %w", n.GetName(), domainPrefix(n.GetDomain()), n.GetOpType(), out, err)
				}
			}
			if outs[j].HasValue() && outs[j].n() > MaxFoldedElements {
				outs[j].Ints, outs[j].Floats = nil, nil
			}
			s[out] = outs[j]
		}
	}
	return s, nil
}

// inferFunc infers a node's outputs from its inputs; opset is the model's default-domain
// opset. The op table has already checked that the inputs it declares required are present.
type inferFunc func(n *onnxpb.NodeProto, ins []*TensorInfo, opset int64) ([]*TensorInfo, error)

// variadic marks an op without an upper bound on its number of inputs.
const variadic = -1

// opRule is one op's entry in the shape inference table: how many inputs it takes
// (the first minIn are required; at most maxIn, or any number when maxIn is
// variadic) and the function inferring its outputs.
type opRule struct {
	minIn, maxIn int
	infer        inferFunc
}

// shapeOps maps an op, qualified by domainPrefix ("Add", "com.microsoft::Gelu"),
// to its inference. The input counts are the union over the ONNX opsets this
// package reads (Tile took a third input and Reshape and Slice read attributes
// before opsets 6, 5 and 10), so every valid node passes the arity check.
var shapeOps = map[string]opRule{
	// Shape-preserving ops whose values are not tracked (shape_elementwise.go).
	"Softmax":     {1, 1, inferSameShape},
	"LogSoftmax":  {1, 1, inferSameShape},
	"Erf":         {1, 1, inferSameShape},
	"Tanh":        {1, 1, inferSameShape},
	"Sigmoid":     {1, 1, inferSameShape},
	"Exp":         {1, 1, inferSameShape},
	"Log":         {1, 1, inferSameShape},
	"Gelu":        {1, 1, inferSameShape},
	"Softplus":    {1, 1, inferSameShape},
	"Sin":         {1, 1, inferSameShape},
	"Cos":         {1, 1, inferSameShape},
	"Elu":         {1, 1, inferSameShape},
	"LeakyRelu":   {1, 1, inferSameShape},
	"HardSigmoid": {1, 1, inferSameShape},
	"Sign":        {1, 1, inferSameShape},
	"Round":       {1, 1, inferSameShape},
	// ONNX Runtime's contrib activations (FastGelu and BiasGelu add a bias first).
	"com.microsoft::Gelu":      {1, 1, inferSameShape},
	"com.microsoft::FastGelu":  {1, 2, inferSameShape},
	"com.microsoft::BiasGelu":  {2, 2, inferSameShape},
	"com.microsoft::QuickGelu": {1, 1, inferSameShape},
	// Layer-norm fusions ORT's optimizer writes around attention it leaves unfused (shape_contrib.go).
	"com.microsoft::SkipLayerNormalization":           {3, 5, inferSkipLayerNorm},
	"com.microsoft::SkipSimplifiedLayerNormalization": {3, 4, inferSkipLayerNorm},
	"com.microsoft::EmbedLayerNormalization":          {1, 9, inferEmbedLayerNorm}, // segment_ids (input 1) is optional; word_embedding is checked inside
	// Unary ops with value folding, casts and elementwise ops (shape_elementwise.go).
	"Identity":       {1, 1, inferIdentity},
	"Dropout":        {1, 3, inferIdentity},
	"Neg":            {1, 1, inferUnary},
	"Not":            {1, 1, inferUnary},
	"Abs":            {1, 1, inferUnary},
	"Sqrt":           {1, 1, inferUnary},
	"Relu":           {1, 1, inferUnary},
	"Floor":          {1, 1, inferUnary},
	"Ceil":           {1, 1, inferUnary},
	"Reciprocal":     {1, 1, inferUnary},
	"IsNaN":          {1, 1, inferIsNaNInf},
	"IsInf":          {1, 1, inferIsNaNInf},
	"Cast":           {1, 1, inferCast},
	"CastLike":       {2, 2, inferCastLike},
	"Add":            {2, 2, inferElementwise},
	"Sub":            {2, 2, inferElementwise},
	"Mul":            {2, 2, inferElementwise},
	"Div":            {2, 2, inferElementwise},
	"Pow":            {2, 2, inferElementwise},
	"Mod":            {2, 2, inferElementwise},
	"Equal":          {2, 2, inferElementwise},
	"Less":           {2, 2, inferElementwise},
	"Greater":        {2, 2, inferElementwise},
	"LessOrEqual":    {2, 2, inferElementwise},
	"GreaterOrEqual": {2, 2, inferElementwise},
	"And":            {2, 2, inferElementwise},
	"Or":             {2, 2, inferElementwise},
	"Xor":            {2, 2, inferElementwise},
	"BitwiseAnd":     {2, 2, inferElementwise},
	"BitwiseOr":      {2, 2, inferElementwise},
	"Max":            {1, variadic, inferElementwise},
	"Min":            {1, variadic, inferElementwise},
	"Sum":            {1, variadic, inferElementwise},
	"Mean":           {1, variadic, inferElementwise},
	"Where":          {3, 3, inferElementwise},
	"MatMul":         {2, 2, inferMatMul},
	"Gemm":           {2, 3, inferGemm},
	// LayerNormalization's bias is optional; its scale is not.
	"LayerNormalization": {2, 3, inferLayerNorm},
	// Data movement (shape_movement.go).
	"Reshape":   {1, 2, inferReshape},
	"Unsqueeze": {1, 2, inferSqueeze},
	"Squeeze":   {1, 2, inferSqueeze},
	"Flatten":   {1, 1, inferFlatten},
	"Transpose": {1, 1, inferTranspose},
	"Expand":    {2, 2, inferExpand},
	"Tile":      {2, 3, inferTile},
	"Concat":    {1, variadic, inferConcat},
	"Split":     {1, 2, inferSplit},
	"Slice":     {1, 5, inferSlice},
	// Tensors made from attributes, shapes and scalars (shape_source.go).
	"Constant":        {0, 0, inferConstant},
	"ConstantOfShape": {1, 1, inferConstantOfShape},
	"Shape":           {1, 1, inferShape},
	"Size":            {1, 1, inferSize},
	"Range":           {3, 3, inferRange},
	// Indexing (shape_ops.go).
	"Gather":          {2, 2, inferGather},
	"GatherND":        {2, 2, inferGatherND},
	"GatherElements":  {2, 2, inferGatherElements},
	"ScatterND":       {3, 3, inferScatterND},
	"ScatterElements": {3, 3, inferScatterElements},
	"Trilu":           {1, 2, inferTrilu},
	// Reductions and scans (shape_reduce.go).
	"ReduceMean":      {1, 2, inferReduce},
	"ReduceSum":       {1, 2, inferReduce},
	"ReduceMax":       {1, 2, inferReduce},
	"ReduceMin":       {1, 2, inferReduce},
	"ReduceProd":      {1, 2, inferReduce},
	"ReduceL2":        {1, 2, inferReduce},
	"ReduceL1":        {1, 2, inferReduce},
	"ReduceSumSquare": {1, 2, inferReduce},
	"ReduceLogSumExp": {1, 2, inferReduce},
	"ArgMax":          {1, 1, inferArgMinMax},
	"ArgMin":          {1, 1, inferArgMinMax},
	"CumSum":          {2, 2, inferCumSum},
	// Sequences (shape_seq.go).
	"SplitToSequence":    {1, 2, inferSplitToSequence},
	"SequenceAt":         {2, 2, inferSequenceAt},
	"SequenceLength":     {1, 1, inferSequenceLength},
	"SequenceConstruct":  {1, variadic, inferSequenceConstruct},
	"ConcatFromSequence": {1, 1, inferConcatFromSequence},
}

// inferNode looks n's op up in shapeOps, checks its input count and infers its outputs.
func inferNode(g *Graph, n *onnxpb.NodeProto, ins []*TensorInfo) ([]*TensorInfo, error) {
	domain, op := normDomain(n.GetDomain()), n.GetOpType()
	opset := g.Opset("")
	rule, ok := shapeOps[domainPrefix(domain)+op]
	switch {
	case !ok && domain == "":
		return nil, fmt.Errorf("unsupported op %s (opset %d)", op, opset)
	case !ok:
		return nil, fmt.Errorf("unsupported op %s::%s", domain, op)
	}
	if err := rule.checkInputs(ins); err != nil {
		return nil, err
	}
	return rule.infer(n, ins, opset)
}

// checkInputs checks that the required inputs are present and that no input lies
// past the last one the op takes (omitted trailing optional inputs do not count).
func (r opRule) checkInputs(ins []*TensorInfo) error {
	for j := 0; j < r.minIn; j++ {
		if j >= len(ins) || ins[j] == nil {
			return fmt.Errorf("input %d is missing", j)
		}
	}
	given := len(ins)
	for given > 0 && ins[given-1] == nil {
		given--
	}
	if r.maxIn != variadic && given > r.maxIn {
		return fmt.Errorf("takes at most %d inputs, got %d", r.maxIn, given)
	}
	return nil
}

// infoFromTensor describes a constant tensor, with its values when small enough to fold.
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

// normAxis turns a possibly negative axis into an index in [0, rank).
func normAxis(axis int64, rank int) (int, error) {
	if axis < 0 {
		axis += int64(rank)
	}
	if axis < 0 || axis >= int64(rank) {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return int(axis), nil
}

// same gives a tensor of t's type and shape without values.
func same(t *TensorInfo) *TensorInfo {
	return &TensorInfo{DType: t.DType, Shape: append([]int64{}, t.Shape...)}
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

// strides gives the row-major stride of each dim of shape.
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
