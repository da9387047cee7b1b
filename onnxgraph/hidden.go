package onnxgraph

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// ErrNoHidden is wrapped by ExposeHidden's error when a model's last hidden state cannot be found.
var ErrNoHidden = errors.New("no last hidden state found")

// LastHiddenState is the output name feature-extraction exports give the last
// hidden state, and the name ExposeHidden gives the output it adds.
const LastHiddenState = "last_hidden_state"

// HiddenSite is a model's last hidden state as FindHidden finds it.
type HiddenSite struct {
	// Tensor is the [batch, seq, hidden] tensor the model's head reads.
	Tensor string
	// Width is its last dimension, the hidden size.
	Width int64
	// DType is its element type.
	DType onnxpb.TensorProto_DataType
	// Output reports whether Tensor is already a graph output.
	Output bool
}

// FindHidden returns the last hidden state of g: an output named
// last_hidden_state, else another rank-3 float output besides the first (the
// logits), else the first float [batch, seq, hidden] tensor met walking back
// from the first output along its activations (see ExposeHidden).
func FindHidden(g *Graph) (HiddenSite, error) {
	gp := g.Proto()
	outs := gp.GetOutput()
	if len(outs) == 0 {
		return HiddenSite{}, fmt.Errorf("onnxgraph: %w: graph %q has no outputs", ErrNoHidden, gp.GetName())
	}
	shapes, inferErr := inferShapesLenient(g, probeInputShapes(g))
	bsx := func(name string) (*TensorInfo, bool) {
		s := shapes[name]
		return s, s != nil && isFloatType(s.DType) && len(s.Shape) == 3 && s.Shape[0] == probeBatch && s.Shape[1] == probeSeq
	}
	site := func(name string, width int64, dt onnxpb.TensorProto_DataType) HiddenSite {
		return HiddenSite{Tensor: name, Width: width, DType: dt, Output: g.IsGraphOutput(name)}
	}
	fromOutput := func(vi *onnxpb.ValueInfoProto) HiddenSite {
		if s, ok := bsx(vi.GetName()); ok {
			return site(vi.GetName(), s.Shape[2], s.DType)
		}
		tt := vi.GetType().GetTensorType()
		width := int64(-1)
		if dims := tt.GetShape().GetDim(); len(dims) == 3 {
			if d, ok := dims[2].GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); ok {
				width = d.DimValue
			}
		}
		return site(vi.GetName(), width, onnxpb.TensorProto_DataType(tt.GetElemType()))
	}
	// An output the exporter already gives is used as it is.
	for _, vi := range outs {
		if vi.GetName() == LastHiddenState {
			return fromOutput(vi), nil
		}
	}
	for _, vi := range outs[1:] {
		if isRank3FloatOutput(vi, shapes) {
			return fromOutput(vi), nil
		}
	}
	dependent := inputDependent(g)
	widths := modelWidths(g, shapes, dependent)
	logits := outs[0].GetName()
	// A first output that is itself [batch, seq, model width] is a feature
	// extractor's hidden state under another name, not logits.
	if s, ok := bsx(logits); ok && widths[s.Shape[2]] {
		return site(logits, s.Shape[2], s.DType), nil
	}
	vocab := int64(-1) // the logits' last dim when they are per position: pre-bias logits share it
	if s, ok := bsx(logits); ok {
		vocab = s.Shape[2]
	}
	candidate := func(name string) (*TensorInfo, bool) {
		s, ok := bsx(name)
		if !ok {
			return nil, false
		}
		if len(widths) > 0 {
			return s, widths[s.Shape[2]]
		}
		return s, s.Shape[2] != vocab
	}
	active := activations(dependent, shapes)
	p, ok := g.Producer(logits)
	if !ok {
		return HiddenSite{}, fmt.Errorf("onnxgraph: %w: graph %q: its first output %q is not computed by any node", ErrNoHidden, gp.GetName(), logits)
	}
	// Breadth first, so the tensor nearest the logits wins: the one the pooler's
	// Gather/Slice of position 0 reads, or the LM head's input.
	queue := activeInputs(g.Node(p.Node), active)
	seen := map[string]bool{}
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		if seen[t] {
			continue
		}
		seen[t] = true
		if s, ok := candidate(t); ok {
			return site(t, s.Shape[2], s.DType), nil
		}
		if p, ok := g.Producer(t); ok {
			queue = append(queue, activeInputs(g.Node(p.Node), active)...)
		}
	}
	want := "of any width but the logits'"
	if len(widths) > 0 {
		var ws []string
		for w := range widths {
			ws = append(ws, fmt.Sprint(w))
		}
		sort.Strings(ws)
		want = "with hidden = " + strings.Join(ws, " or ")
	}
	note := ""
	if inferErr != nil {
		note = fmt.Sprintf("; shape inference left some tensors unknown: %v", inferErr)
	}
	return HiddenSite{}, fmt.Errorf("onnxgraph: %w: graph %q: walking back from its first output %q through float activations found no [batch, seq, hidden] tensor %s (%d tensors visited, shapes at batch %d, sequence %d)%s",
		ErrNoHidden, gp.GetName(), logits, want, len(seen), probeBatch, probeSeq, note)
}

// ExposeHidden returns a copy of m whose graph also outputs the last hidden state
// [batch, seq, hidden] (the tensor the classification head or LM head reads), and
// that output's name. If m already outputs it (an output named last_hidden_state,
// or another rank-3 float output besides the logits), m itself is returned with
// its name and no edit. m is never modified.
//
// Otherwise the tensor is found structurally: static shape inference runs at
// batch 2, sequence 11, and a breadth-first walk goes back from the model's first
// output (the logits) through the inputs of each node that are activations
// (float tensors computed from a graph input, so not initializers, constants or
// shape arithmetic) to the first float [batch, seq, W] tensor whose width W is the
// model's: the token embedding width, or the width of the last attention layer's
// output (the two differ with factorised embeddings); with neither, any width
// except the logits' own. For BERT, DistilBERT and RoBERTa classifiers that is the
// tensor the pooler's Gather of position 0 reads, for GPT-2 the LM-head MatMul's
// input (ln_f's output). ONNX Runtime's fused ops (com.microsoft Attention,
// MultiHeadAttention, SkipLayerNormalization, EmbedLayerNormalization, …) are
// walked through. The new output is an Identity copy named last_hidden_state
// (or a unique variant), declared [batch, seq, W] with the model's symbolic names.
func ExposeHidden(m *onnxpb.ModelProto) (*onnxpb.ModelProto, string, error) {
	return exposeHidden(m, true)
}

// exposeHidden is ExposeHidden; with clone false it edits m itself (for a model
// that is already a private copy) and returns m.
func exposeHidden(m *onnxpb.ModelProto, clone bool) (*onnxpb.ModelProto, string, error) {
	g, err := NewGraph(m)
	if err != nil {
		return nil, "", err
	}
	s, err := FindHidden(g)
	if err != nil {
		return nil, "", err
	}
	if s.Output {
		return m, s.Tensor, nil
	}
	out, eg := m, g
	if clone {
		out = proto.Clone(m).(*onnxpb.ModelProto)
		if eg, err = NewGraph(out); err != nil {
			return nil, "", err
		}
	}
	batchName, seqName := symbolicNames(eg)
	name := eg.UniqueName(LastHiddenState)
	eg.AddNodeWithOutputs("Identity", "", "glassbox_expose_hidden", []string{s.Tensor}, []string{name})
	if err := eg.AddOutput(name, s.DType, []int64{-1, -1, s.Width}, []string{batchName, seqName}); err != nil {
		return nil, "", fmt.Errorf("onnxgraph: exposing the last hidden state: %w", err)
	}
	return out, name, nil
}

// isRank3FloatOutput reports whether a graph output is a float tensor of rank 3,
// by its inferred shape when known and else by its declared type.
func isRank3FloatOutput(vi *onnxpb.ValueInfoProto, shapes Shapes) bool {
	if s := shapes[vi.GetName()]; s != nil {
		return isFloatType(s.DType) && len(s.Shape) == 3 && s.Shape[0] == probeBatch && s.Shape[1] == probeSeq
	}
	tt := vi.GetType().GetTensorType()
	return tt != nil && tt.GetShape() != nil && len(tt.GetShape().GetDim()) == 3 && isFloatType(onnxpb.TensorProto_DataType(tt.GetElemType()))
}

// modelWidths returns the widths a hidden state of g may have: that of the token
// embedding lookups (a Gather of a constant float [vocab, width] table by indices
// computed from a graph input, or EmbedLayerNormalization's word table) and that
// of the deepest attention layer's output (heads × head size of its
// probabilities × values, or a fused attention op's output width).
func modelWidths(g *Graph, shapes Shapes, dependent map[string]bool) map[int64]bool {
	widths := map[int64]bool{}
	depth, err := g.Depths()
	if err != nil {
		return widths
	}
	attnDepth, attnWidth := -1, int64(0)
	for i, n := range g.Nodes() {
		key := opKey(n)
		ins := n.GetInput()
		switch {
		case key == "::Gather" && len(ins) == 2 && !dependent[ins[0]] && dependent[ins[1]]:
			if t := shapes[ins[0]]; t != nil && len(t.Shape) == 2 && isFloatType(t.DType) {
				widths[t.Shape[1]] = true
			}
		case key == "com.microsoft::EmbedLayerNormalization" && len(ins) > 2:
			if t := shapes[ins[2]]; t != nil && len(t.Shape) == 2 {
				widths[t.Shape[1]] = true
			}
		case fusedAttentionOps[key] && len(n.GetOutput()) > 0:
			if t := shapes[n.GetOutput()[0]]; t != nil && len(t.Shape) == 3 && depth[i] > attnDepth {
				attnDepth, attnWidth = depth[i], t.Shape[2]
			}
		case key == "::Softmax":
			site, ok := followToMatMul(g, i)
			if !ok {
				continue
			}
			probs, ctx := shapes[site.Probs], shapes[g.Node(site.MatMul).GetOutput()[0]]
			if probs == nil || ctx == nil || len(probs.Shape) != 4 || len(ctx.Shape) != 4 || probs.Shape[2] != probeSeq || probs.Shape[3] != probeSeq {
				continue
			}
			if depth[i] > attnDepth {
				attnDepth, attnWidth = depth[i], ctx.Shape[1]*ctx.Shape[3]
			}
		}
	}
	if attnDepth >= 0 && attnWidth > 0 {
		widths[attnWidth] = true
	}
	return widths
}

// inputDependent marks every tensor computed (transitively) from a graph input that is not an initializer.
func inputDependent(g *Graph) map[string]bool {
	dep := map[string]bool{}
	for _, vi := range g.RealInputs() {
		dep[vi.GetName()] = true
	}
	order, err := g.TopoOrder()
	if err != nil {
		return dep
	}
	for _, i := range order {
		n := g.Node(i)
		from := false
		for _, in := range n.GetInput() {
			from = from || (in != "" && dep[in])
		}
		if from {
			for _, out := range n.GetOutput() {
				if out != "" {
					dep[out] = true
				}
			}
		}
	}
	return dep
}

// activations marks the tensors that carry the model's activations: computed from
// a graph input (dependent) and of a float type (when shape inference knows the type).
func activations(dependent map[string]bool, shapes Shapes) map[string]bool {
	act := map[string]bool{}
	for name := range dependent {
		if s := shapes[name]; s == nil || isFloatType(s.DType) {
			act[name] = true
		}
	}
	return act
}

// activeInputs lists the inputs of n that are activations, in order.
func activeInputs(n *onnxpb.NodeProto, active map[string]bool) []string {
	var out []string
	for _, in := range n.GetInput() {
		if in != "" && active[in] {
			out = append(out, in)
		}
	}
	return out
}

// inferShapesLenient is InferShapes for finding tensors rather than for checking
// a graph: a node whose op the table does not know, or whose inference fails,
// leaves its outputs (and everything computed from them) unknown instead of
// stopping, except for ONNX Runtime's fused attention ops (contribAttentionShape),
// which keep the walk through fused encoders going. The first failure is returned
// as a note beside the shapes; shapes is nil only when the inputs cannot be set up.
func inferShapesLenient(g *Graph, inputShapes map[string][]int64) (Shapes, error) {
	s := Shapes{}
	var first error
	note := func(err error) {
		if first == nil {
			first = err
		}
	}
	for _, t := range g.Proto().GetInitializer() {
		info, err := infoFromTensor(t)
		if err != nil {
			note(fmt.Errorf("initializer %q: %w", t.GetName(), err))
			continue
		}
		s[t.GetName()] = info
	}
	for _, vi := range g.RealInputs() {
		tt := vi.GetType().GetTensorType()
		if tt == nil {
			continue
		}
		info := &TensorInfo{DType: onnxpb.TensorProto_DataType(tt.GetElemType())}
		if shape, ok := inputShapes[vi.GetName()]; ok {
			info.Shape = append([]int64{}, shape...)
		} else {
			for _, d := range tt.GetShape().GetDim() {
				info.Shape = append(info.Shape, d.GetDimValue()) // fully static: probeInputShapes filled every symbolic dim
			}
		}
		s[vi.GetName()] = info
	}
	order, err := g.TopoOrder()
	if err != nil {
		return s, err
	}
nodes:
	for _, i := range order {
		n := g.Node(i)
		ins := make([]*TensorInfo, len(n.GetInput()))
		for j, in := range n.GetInput() {
			if in == "" {
				continue
			}
			if ins[j] = s[in]; ins[j] == nil {
				continue nodes // computed from something unknown
			}
		}
		var outs []*TensorInfo
		if _, known := shapeOps[domainPrefix(n.GetDomain())+n.GetOpType()]; known {
			outs, err = inferNode(g, n, ins)
		} else {
			outs, err = contribAttentionShape(n, ins)
		}
		if err != nil {
			note(fmt.Errorf("node %q (%s%s): %w", n.GetName(), domainPrefix(n.GetDomain()), n.GetOpType(), err))
			continue
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
	return s, first
}

// contribAttentionShape gives the main output of ONNX Runtime's fused attention
// ops in their [batch, seq, hidden] layouts: com.microsoft::Attention writes
// [batch, seq, v_hidden] with v_hidden the last of qkv_hidden_sizes or a third of
// the packed weights' width; com.microsoft::MultiHeadAttention writes [batch, seq,
// v_hidden] from a [batch, kv_seq, v_hidden] value, or [batch, seq, heads × head]
// from a [batch, heads, kv_seq, head] one. Other ops are an error.
func contribAttentionShape(n *onnxpb.NodeProto, ins []*TensorInfo) ([]*TensorInfo, error) {
	key := opKey(n)
	var x *TensorInfo
	width := int64(-1)
	switch key {
	case "com.microsoft::Attention":
		if len(ins) < 2 || ins[0] == nil || ins[1] == nil || len(ins[0].Shape) != 3 || len(ins[1].Shape) != 2 {
			return nil, fmt.Errorf("want input [batch, seq, hidden] and weights [hidden, 3·hidden]")
		}
		x = ins[0]
		if sizes, ok := IntsAttr(n, "qkv_hidden_sizes"); ok && len(sizes) == 3 {
			width = sizes[2]
		} else if ins[1].Shape[1]%3 == 0 {
			width = ins[1].Shape[1] / 3
		}
	case "com.microsoft::MultiHeadAttention":
		if len(ins) < 3 || ins[0] == nil || ins[2] == nil || len(ins[0].Shape) != 3 {
			return nil, fmt.Errorf("only the [batch, seq, hidden] query with a separate value is known")
		}
		x = ins[0]
		switch v := ins[2].Shape; len(v) {
		case 3:
			width = v[2]
		case 4:
			width = v[1] * v[3]
		}
	default:
		return nil, fmt.Errorf("unsupported op %s", key)
	}
	if width <= 0 {
		return nil, fmt.Errorf("cannot tell the output width")
	}
	return []*TensorInfo{{DType: x.DType, Shape: []int64{x.Shape[0], x.Shape[1], width}}}, nil
}
