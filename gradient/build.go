package gradient

import (
	"fmt"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// Names of the tensors Build adds (see doc.go).
const (
	// InputsEmbeds is the new float input [batch, seq, hidden] that replaces the word-embedding lookup.
	InputsEmbeds = "inputs_embeds"
	// TargetIndexInput is the int64 [batch] input choosing the class (or token) explained per row.
	TargetIndexInput = "target_index"
	// TargetPositionInput is the int64 [batch] input choosing the position (TokenLogProb only).
	TargetPositionInput = "target_position"
	// TargetOutput is the explained scalar per row, [batch].
	TargetOutput = "target"
	// GradOutput is ∂(Σ_b target[b])/∂inputs_embeds, [batch, seq, hidden].
	GradOutput = "grad_inputs_embeds"
)

// The int inputs Build knows the shape of ([batch, seq]).
var intInputs = []string{"input_ids", "attention_mask", "token_type_ids", "position_ids"}

// Target is the scalar per row that is differentiated.
type Target int

const (
	// Logit is logits[b, c] of a classifier's [batch, classes] output.
	Logit Target = iota
	// Probability is softmax(logits[b, :])[c].
	Probability
	// Sigmoid is σ(logits[b, c]) (multi-label classifiers).
	Sigmoid
	// TokenLogProb is log_softmax(logits[b, p, :])[t] of a causal LM's [batch, seq, vocab] output.
	TokenLogProb
)

func (t Target) String() string {
	switch t {
	case Logit:
		return "logit"
	case Probability:
		return "probability"
	case Sigmoid:
		return "sigmoid"
	case TokenLogProb:
		return "token_log_prob"
	}
	return fmt.Sprintf("Target(%d)", int(t))
}

// Spec says what to differentiate and at which shapes.
type Spec struct {
	Target Target
	// Batch and Seq are the concrete input shape [Batch, Seq] the graph is built
	// for; broadcasting reductions are resolved at these sizes, so Session.Run
	// accepts exactly them. Use Batch, Seq ≥ 2 if you mean to reuse the shapes'
	// structure elsewhere.
	Batch, Seq int
	// Output is the logits output; "" means the model's first output.
	Output string
}

// Graph is a built backward graph.
type Graph struct {
	// Model holds the forward graph cut at the word-embedding lookup, the target
	// head and the backward nodes; its outputs include TargetOutput and GradOutput.
	Model *onnxpb.ModelProto
	// Dir is the model's folder, where external data is read from ("" if none).
	Dir  string
	Spec Spec
	// EmbeddingTable is the initializer [vocab, hidden] the cut lookup read.
	EmbeddingTable string
	// Hidden is the embedding width.
	Hidden int
	// Classes is the size of the axis target_index selects from (classes, or the
	// vocabulary for TokenLogProb).
	Classes int
	// Inputs are the original inputs still fed (e.g. attention_mask, and
	// input_ids when other nodes, such as position ids, read it), in model order.
	Inputs []string
	// InputsEmbeds, TargetIndex and TargetPosition ("" unless TokenLogProb) are
	// the added inputs; Target and Grad the added outputs.
	InputsEmbeds, TargetIndex, TargetPosition string
	Target, Grad                              string
	// EmbedsType is the element type of InputsEmbeds and Grad.
	EmbedsType onnxpb.TensorProto_DataType
	// table is the EmbeddingTable initializer (removed from Model when nothing else reads it).
	table *onnxpb.TensorProto
	// targetType is the element type of the Target output.
	targetType onnxpb.TensorProto_DataType
	// intTypes records each int input's element type (int64 or int32).
	intTypes map[string]onnxpb.TensorProto_DataType
}

// BuildFile loads the model at path with onnxgraph.Load (which resolves external
// data against the model's folder) and builds its backward graph.
func BuildFile(path string, s Spec) (*Graph, error) {
	m, err := onnxgraph.Load(path)
	if err != nil {
		return nil, fmt.Errorf("gradient: %w", err)
	}
	g, err := build(m, s)
	if err != nil {
		return nil, fmt.Errorf("gradient: %s: %w", path, err)
	}
	g.Dir = filepath.Dir(path)
	return g, nil
}

// BuildBytes parses a serialized model with onnxgraph.Parse (which refuses
// external data, as it needs the model's folder: use BuildFile for such models)
// and builds its backward graph.
func BuildBytes(data []byte, s Spec) (*Graph, error) {
	m, err := onnxgraph.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("gradient: %w", err)
	}
	return Build(m, s)
}

// Build returns a copy of m cut at the word-embedding lookup, with the target
// head of s appended and the reverse-mode graph from Σ_b target[b] back to
// inputs_embeds. m is not modified.
func Build(m *onnxpb.ModelProto, s Spec) (*Graph, error) {
	g, err := build(m, s)
	if err != nil {
		return nil, fmt.Errorf("gradient: %w", err)
	}
	return g, nil
}

func build(m *onnxpb.ModelProto, s Spec) (*Graph, error) {
	if s.Batch < 1 || s.Seq < 1 {
		return nil, fmt.Errorf("batch %d and seq %d must be positive", s.Batch, s.Seq)
	}
	m = proto.Clone(m).(*onnxpb.ModelProto)
	g, err := onnxgraph.NewGraph(m)
	if err != nil {
		return nil, err
	}
	name := m.GetGraph().GetName()
	if op := g.Opset(""); op < 13 {
		return nil, fmt.Errorf("graph %q: opset %d; need 13 or later", name, op)
	}
	out := s.Output
	if out == "" {
		if len(m.GetGraph().GetOutput()) == 0 {
			return nil, fmt.Errorf("graph %q has no outputs", name)
		}
		out = m.GetGraph().GetOutput()[0].GetName()
	} else if !g.IsGraphOutput(out) {
		return nil, fmt.Errorf("graph %q has no output %q", name, out)
	}
	res := &Graph{Model: m, Spec: s, InputsEmbeds: InputsEmbeds, TargetIndex: TargetIndexInput, Target: TargetOutput, Grad: GradOutput, intTypes: map[string]onnxpb.TensorProto_DataType{}}
	if err := res.cut(g); err != nil {
		return nil, fmt.Errorf("graph %q: %w", name, err)
	}
	shapes, err := inferShapes(g, res.inputShapes())
	if err != nil {
		return nil, fmt.Errorf("graph %q: %w", name, err)
	}
	b := newBuilder(g, shapes)
	if err := res.head(b, out); err != nil {
		return nil, fmt.Errorf("graph %q: target %s: %w", name, s.Target, err)
	}
	// Shapes of the head's tensors.
	if b.shapes, err = inferShapes(g, res.inputShapes()); err != nil {
		return nil, fmt.Errorf("graph %q: %w", name, err)
	}
	grads, err := backward(b, []string{InputsEmbeds}, TargetOutput)
	if err != nil {
		return nil, err
	}
	if err := res.finish(b, grads[InputsEmbeds]); err != nil {
		return nil, fmt.Errorf("graph %q: %w", name, err)
	}
	return res, nil
}

// inputShapes gives the shapes of every input the built graph takes.
func (r *Graph) inputShapes() map[string][]int64 {
	bs, sq := int64(r.Spec.Batch), int64(r.Spec.Seq)
	shapes := map[string][]int64{InputsEmbeds: {bs, sq, int64(r.Hidden)}}
	for _, in := range r.Inputs {
		shapes[in] = []int64{bs, sq}
	}
	if r.TargetIndex != "" && r.intTypes[r.TargetIndex] != 0 {
		shapes[r.TargetIndex] = []int64{bs}
	}
	if r.TargetPosition != "" && r.intTypes[r.TargetPosition] != 0 {
		shapes[r.TargetPosition] = []int64{bs}
	}
	return shapes
}
