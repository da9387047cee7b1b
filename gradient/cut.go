package gradient

import (
	"fmt"
	"slices"

	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// cut replaces the word-embedding lookup by the input inputs_embeds, adds the
// target inputs, drops what no longer feeds an output and records the inputs
// still fed.
func (r *Graph) cut(g *onnxgraph.Graph) error {
	gp := g.Proto()
	if !g.IsGraphInput("input_ids") {
		return fmt.Errorf("no input_ids input")
	}
	// Shapes of the original graph at [batch, seq].
	in := map[string][]int64{}
	for _, vi := range g.RealInputs() {
		if slices.Contains(intInputs, vi.GetName()) {
			in[vi.GetName()] = []int64{int64(r.Spec.Batch), int64(r.Spec.Seq)}
		}
	}
	shapes, err := inferShapes(g, in)
	if err != nil {
		return err
	}
	bsq := []int64{int64(r.Spec.Batch), int64(r.Spec.Seq)}
	// input_ids and what Cast, Identity and [batch, seq]-preserving Reshapes make of it.
	ids := map[string]bool{"input_ids": true}
	order, err := g.TopoOrder()
	if err != nil {
		return err
	}
	for _, i := range order {
		n := g.Node(i)
		switch n.GetOpType() {
		case "Cast", "Identity", "Reshape":
			if len(n.GetInput()) > 0 && ids[n.GetInput()[0]] && shapes[n.GetOutput()[0]] != nil && equalDims(shapes[n.GetOutput()[0]].Shape, bsq) {
				ids[n.GetOutput()[0]] = true
			}
		}
	}
	lookup := -1
	for i, n := range g.Nodes() {
		if n.GetOpType() != "Gather" || len(n.GetInput()) != 2 || !ids[n.GetInput()[1]] {
			continue
		}
		t := g.Initializer(n.GetInput()[0])
		dt := onnxpb.TensorProto_DataType(t.GetDataType())
		if t == nil || len(t.GetDims()) != 2 || (dt != onnxpb.TensorProto_FLOAT && dt != onnxpb.TensorProto_DOUBLE) || onnxgraph.IntAttr(n, "axis", 0) != 0 {
			continue
		}
		if info := shapes[n.GetOutput()[0]]; info == nil || !equalDims(info.Shape, append(bsq, t.GetDims()[1])) {
			continue
		}
		if lookup >= 0 {
			return fmt.Errorf("two word-embedding lookups read input_ids: nodes %q and %q", g.Node(lookup).GetName(), n.GetName())
		}
		lookup = i
	}
	if lookup < 0 {
		return fmt.Errorf("no word-embedding lookup found (a Gather of a 2-D float initializer at input_ids)")
	}
	ln := g.Node(lookup)
	r.EmbeddingTable = ln.GetInput()[0]
	table := g.Initializer(r.EmbeddingTable)
	r.Hidden = int(table.GetDims()[1])
	r.EmbedsType = onnxpb.TensorProto_DataType(table.GetDataType())
	emb := ln.GetOutput()[0]
	if g.IsGraphOutput(emb) {
		return fmt.Errorf("the word-embedding lookup %q is a graph output", emb)
	}
	for _, name := range []string{InputsEmbeds, TargetIndexInput, TargetPositionInput, TargetOutput, GradOutput} {
		if got := g.UniqueName(name); got != name {
			return fmt.Errorf("the model already uses the name %q", name)
		}
	}
	for _, u := range g.Consumers(emb) {
		g.Node(u.Node).Input[u.Input] = InputsEmbeds
	}
	gp.Node = slices.Delete(gp.Node, lookup, lookup+1)
	gp.Input = append(gp.Input, onnxgraph.TensorValueInfo(InputsEmbeds, r.EmbedsType, []int64{-1, -1, int64(r.Hidden)}, []string{"batch", "sequence"}))
	gp.Input = append(gp.Input, onnxgraph.TensorValueInfo(TargetIndexInput, onnxpb.TensorProto_INT64, []int64{-1}, []string{"batch"}))
	r.intTypes[TargetIndexInput] = onnxpb.TensorProto_INT64
	if r.Spec.Target == TokenLogProb {
		r.TargetPosition = TargetPositionInput
		gp.Input = append(gp.Input, onnxgraph.TensorValueInfo(TargetPositionInput, onnxpb.TensorProto_INT64, []int64{-1}, []string{"batch"}))
		r.intTypes[TargetPositionInput] = onnxpb.TensorProto_INT64
	}
	if err := prune(g); err != nil {
		return err
	}
	// The table is no longer read unless tied (GPT-2's output projection): keep it aside.
	r.table = table
	if len(g.Consumers(r.EmbeddingTable)) == 0 {
		gp.Initializer = slices.DeleteFunc(gp.Initializer, func(t *onnxpb.TensorProto) bool { return t.GetName() == r.EmbeddingTable })
		gp.Input = slices.DeleteFunc(gp.Input, func(vi *onnxpb.ValueInfoProto) bool { return vi.GetName() == r.EmbeddingTable })
		if err := g.Reindex(); err != nil {
			return err
		}
	}
	for _, vi := range g.RealInputs() {
		name := vi.GetName()
		if name == InputsEmbeds || name == TargetIndexInput || name == TargetPositionInput {
			continue
		}
		if !slices.Contains(intInputs, name) {
			return fmt.Errorf("input %q is not one of %v", name, intInputs)
		}
		dt := onnxpb.TensorProto_DataType(vi.GetType().GetTensorType().GetElemType())
		if dt != onnxpb.TensorProto_INT64 && dt != onnxpb.TensorProto_INT32 {
			return fmt.Errorf("input %q has element type %s; want int64 or int32", name, dt)
		}
		r.intTypes[name] = dt
		r.Inputs = append(r.Inputs, name)
	}
	return nil
}

// prune removes nodes none of whose outputs is read or is a graph output, and
// then the real inputs nothing reads (except the ones Build adds), and reindexes.
func prune(g *onnxgraph.Graph) error {
	gp := g.Proto()
	for {
		if err := g.Reindex(); err != nil {
			return err
		}
		before := len(gp.Node)
		gp.Node = slices.DeleteFunc(gp.Node, func(n *onnxpb.NodeProto) bool {
			for _, out := range n.GetOutput() {
				if out != "" && (len(g.Consumers(out)) > 0 || g.IsGraphOutput(out)) {
					return false
				}
			}
			return true
		})
		if len(gp.Node) == before {
			break
		}
	}
	gp.Input = slices.DeleteFunc(gp.Input, func(vi *onnxpb.ValueInfoProto) bool {
		name := vi.GetName()
		switch name {
		case InputsEmbeds, TargetIndexInput, TargetPositionInput:
			return false
		}
		return g.Initializer(name) == nil && len(g.Consumers(name)) == 0
	})
	return g.Reindex()
}

// head appends the explained scalar per row, output TargetOutput [batch], read
// from the logits tensor out. Selections are products with one-hot masks built
// from the index inputs, so the backward pass needs only the Mul and ReduceSum
// rules: target[b] = Σ_c f(logits)[b, c]·[c = index[b]].
func (r *Graph) head(b *builder, out string) error {
	b.prefix = "target"
	ls, err := b.shape(out)
	if err != nil {
		return err
	}
	dt := b.dtype(out)
	if !isFloat(dt) {
		return fmt.Errorf("output %q is not a float tensor", out)
	}
	r.targetType = dt
	batch := int64(r.Spec.Batch)
	oneHot := func(idx string, n int64) string {
		arange := make([]int64, n)
		for k := range arange {
			arange[k] = int64(k)
		}
		eq := b.op("Equal", []string{b.reshape(idx, []int64{batch, 1}), b.ints(arange...)})
		return b.op("Cast", []string{eq}, onnxgraph.IntAttribute("to", int64(dt)))
	}
	var scores string
	switch r.Spec.Target {
	case Logit, Probability, Sigmoid:
		if len(ls) != 2 {
			return fmt.Errorf("output %q has shape %v; want [batch, classes]", out, ls)
		}
		scores = out
		switch r.Spec.Target {
		case Probability:
			scores = b.op("Softmax", []string{out}, onnxgraph.IntAttribute("axis", -1))
		case Sigmoid:
			scores = b.op("Sigmoid", []string{out})
		}
	case TokenLogProb:
		if len(ls) != 3 {
			return fmt.Errorf("output %q has shape %v; want [batch, seq, vocab]", out, ls)
		}
		pos := b.reshape(oneHot(TargetPositionInput, ls[1]), []int64{batch, ls[1], 1})
		row := b.reduce("ReduceSum", b.op("Mul", []string{out, pos}), []int64{1}, false)
		scores = b.op("LogSoftmax", []string{row}, onnxgraph.IntAttribute("axis", -1))
	default:
		return fmt.Errorf("unknown target %d", int(r.Spec.Target))
	}
	classes := ls[len(ls)-1]
	r.Classes = int(classes)
	sel := b.reduce("ReduceSum", b.op("Mul", []string{scores, oneHot(TargetIndexInput, classes)}), []int64{1}, false)
	b.g.AddNodeWithOutputs("Identity", "", "target/output", []string{sel}, []string{TargetOutput})
	return nil
}

// finish names the gradient GradOutput and declares both outputs.
func (r *Graph) finish(b *builder, grad string) error {
	b.g.AddNodeWithOutputs("Identity", "", "grad/output", []string{grad}, []string{GradOutput})
	if err := b.g.AddOutput(TargetOutput, r.targetType, []int64{-1}, []string{"batch"}); err != nil {
		return err
	}
	return b.g.AddOutput(GradOutput, r.EmbedsType, []int64{-1, -1, int64(r.Hidden)}, []string{"batch", "sequence"})
}
