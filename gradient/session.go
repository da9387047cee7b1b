package gradient

import (
	"fmt"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
	"github.com/glassbox-ai/glassbox/ortlib"
)

// Options configures a Session.
type Options struct {
	// IntraOpThreads is ONNX Runtime's intra-op thread count; 0 lets ORT choose.
	IntraOpThreads int
}

// Session runs a built graph in ONNX Runtime. It is safe for concurrent use.
type Session struct {
	g      *Graph
	inputs []string
	mu     sync.RWMutex
	sess   *ort.DynamicAdvancedSession
}

// OpenFile builds the backward graph of the model at path (BuildFile) and opens it.
func OpenFile(path string, s Spec, o Options) (*Session, error) {
	g, err := BuildFile(path, s)
	if err != nil {
		return nil, err
	}
	return Open(g, o)
}

// OpenBytes builds the backward graph of a serialized model (BuildBytes) and opens it.
func OpenBytes(data []byte, s Spec, o Options) (*Session, error) {
	g, err := BuildBytes(data, s)
	if err != nil {
		return nil, err
	}
	return Open(g, o)
}

// Open serialises g.Model and opens an ONNX Runtime session on it (the ordinary
// inference build: the backward graph uses default-domain ops only).
func Open(g *Graph, o Options) (*Session, error) {
	if g.EmbedsType != onnxpb.TensorProto_FLOAT || g.targetType != onnxpb.TensorProto_FLOAT {
		return nil, fmt.Errorf("gradient: Session runs float32 models; this one has %s embeddings", g.EmbedsType)
	}
	if err := ortlib.SharedArena(); err != nil {
		return nil, err
	}
	data, err := onnxgraph.Marshal(g.Model)
	if err != nil {
		return nil, fmt.Errorf("gradient: serialising the backward graph: %w", err)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("gradient: session options: %w", err)
	}
	defer opts.Destroy()
	if o.IntraOpThreads > 0 {
		if err := opts.SetIntraOpNumThreads(o.IntraOpThreads); err != nil {
			return nil, fmt.Errorf("gradient: intra-op threads: %w", err)
		}
	}
	// Backward graphs are open for many lengths at once: they share one arena
	// (ortlib.SharedArena), and without a memory pattern a run allocates tensor
	// by tensor from it rather than one block per shape (as fast, measured, and
	// a smaller peak).
	if err := opts.AddSessionConfigEntry(ortlib.UseEnvAllocatorsKey, "1"); err != nil {
		return nil, fmt.Errorf("gradient: shared allocator: %w", err)
	}
	if err := opts.SetMemPattern(false); err != nil {
		return nil, fmt.Errorf("gradient: memory pattern: %w", err)
	}
	if g.Dir != "" {
		if err := opts.AddSessionConfigEntry(inference.ExternalDataFolderKey, g.Dir); err != nil {
			return nil, fmt.Errorf("gradient: external data folder: %w", err)
		}
	}
	inputs := append([]string{g.InputsEmbeds}, g.Inputs...)
	inputs = append(inputs, g.TargetIndex)
	if g.TargetPosition != "" {
		inputs = append(inputs, g.TargetPosition)
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(data, inputs, []string{g.Target, g.Grad}, opts)
	if err != nil {
		return nil, fmt.Errorf("gradient: opening ONNX Runtime session on the backward graph of %q: %w", g.Model.GetGraph().GetName(), err)
	}
	return &Session{g: g, inputs: inputs, sess: sess}, nil
}

// Graph returns the session's built graph.
func (s *Session) Graph() *Graph { return s.g }

// Close releases the ONNX Runtime session.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sess == nil {
		return nil
	}
	err := s.sess.Destroy()
	s.sess = nil
	if err != nil {
		return fmt.Errorf("gradient: close session: %w", err)
	}
	return nil
}

// Inputs is one batch of Spec.Batch rows of Spec.Seq tokens.
type Inputs struct {
	// Embeds is inputs_embeds, float32 [batch, seq, hidden] row-major.
	Embeds []float32
	// IDs, Mask, TypeIDs and Positions are [batch, seq] row-major; only those
	// the graph reads are needed (Graph.Inputs). A nil Mask means all ones, nil
	// TypeIDs all zeros and nil Positions 0…seq−1 in every row.
	IDs, Mask, TypeIDs, Positions []int64
	// Index is the class (or token, for TokenLogProb) per row, [batch].
	Index []int64
	// Position is the position per row, [batch]; read (and checked) for TokenLogProb only.
	Position []int64
}

// Result is one run's output.
type Result struct {
	// Target is the explained value per row.
	Target []float64
	// Grad is ∂Target[b]/∂inputs_embeds[b], [batch][seq][hidden].
	Grad [][][]float32
}

// Run feeds one batch and returns each row's target and gradient.
func (s *Session) Run(in Inputs) (*Result, error) {
	g := s.g
	bs, sq, h := g.Spec.Batch, g.Spec.Seq, g.Hidden
	if len(in.Embeds) != bs*sq*h {
		return nil, fmt.Errorf("gradient: %d embedding values; the graph takes [%d, %d, %d]", len(in.Embeds), bs, sq, h)
	}
	if len(in.Index) != bs {
		return nil, fmt.Errorf("gradient: %d target indices for %d rows", len(in.Index), bs)
	}
	if g.TargetPosition != "" && len(in.Position) != bs {
		return nil, fmt.Errorf("gradient: %d target positions for %d rows", len(in.Position), bs)
	}
	for b, c := range in.Index {
		if c < 0 || c >= int64(g.Classes) {
			return nil, fmt.Errorf("gradient: row %d: target index %d outside [0, %d)", b, c, g.Classes)
		}
	}
	if g.TargetPosition != "" {
		for b, p := range in.Position {
			if p < 0 || p >= int64(sq) {
				return nil, fmt.Errorf("gradient: row %d: target position %d outside [0, %d)", b, p, sq)
			}
		}
	}
	var values []ort.Value
	defer func() {
		for _, v := range values {
			v.Destroy()
		}
	}()
	add := func(v ort.Value, err error) error {
		if err != nil {
			return fmt.Errorf("gradient: input tensor: %w", err)
		}
		values = append(values, v)
		return nil
	}
	if err := add(ort.NewTensor(ort.NewShape(int64(bs), int64(sq), int64(h)), in.Embeds)); err != nil {
		return nil, err
	}
	for _, name := range g.Inputs {
		data, err := intInput(name, in, bs, sq)
		if err != nil {
			return nil, err
		}
		if err := add(newIntTensor(ort.NewShape(int64(bs), int64(sq)), data, g.intTypes[name] == onnxpb.TensorProto_INT32)); err != nil {
			return nil, err
		}
	}
	if err := add(ort.NewTensor(ort.NewShape(int64(bs)), append([]int64(nil), in.Index...))); err != nil {
		return nil, err
	}
	if g.TargetPosition != "" {
		if err := add(ort.NewTensor(ort.NewShape(int64(bs)), append([]int64(nil), in.Position...))); err != nil {
			return nil, err
		}
	}
	outs := make([]ort.Value, 2)
	s.mu.RLock()
	if s.sess == nil {
		s.mu.RUnlock()
		return nil, fmt.Errorf("gradient: session is closed")
	}
	err := s.sess.Run(values, outs)
	s.mu.RUnlock()
	defer func() {
		for _, v := range outs {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	if err != nil {
		return nil, fmt.Errorf("gradient: run: %w", err)
	}
	tv, ok1 := outs[0].(*ort.Tensor[float32])
	gv, ok2 := outs[1].(*ort.Tensor[float32])
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("gradient: outputs are %T and %T; want float32 tensors", outs[0], outs[1])
	}
	td, gd := tv.GetData(), gv.GetData()
	if len(td) != bs || len(gd) != bs*sq*h {
		return nil, fmt.Errorf("gradient: outputs have %d and %d values; want %d and %d", len(td), len(gd), bs, bs*sq*h)
	}
	res := &Result{Target: make([]float64, bs), Grad: make([][][]float32, bs)}
	for b := range bs {
		res.Target[b] = float64(td[b])
		res.Grad[b] = make([][]float32, sq)
		for i := range sq {
			off := (b*sq + i) * h
			res.Grad[b][i] = append([]float32(nil), gd[off:off+h]...)
		}
	}
	return res, nil
}

// intInput returns the [batch, seq] values fed to the int input name.
func intInput(name string, in Inputs, bs, sq int) ([]int64, error) {
	var data []int64
	fill := func(f func(i int) int64) []int64 {
		d := make([]int64, bs*sq)
		for k := range d {
			d[k] = f(k % sq)
		}
		return d
	}
	switch name {
	case "input_ids":
		if in.IDs == nil {
			return nil, fmt.Errorf("gradient: the graph reads input_ids; give Inputs.IDs")
		}
		data = in.IDs
	case "attention_mask":
		data = in.Mask
		if data == nil {
			data = fill(func(int) int64 { return 1 })
		}
	case "token_type_ids":
		data = in.TypeIDs
		if data == nil {
			data = fill(func(int) int64 { return 0 })
		}
	case "position_ids":
		data = in.Positions
		if data == nil {
			data = fill(func(i int) int64 { return int64(i) })
		}
	default:
		return nil, fmt.Errorf("gradient: unknown input %q", name)
	}
	if len(data) != bs*sq {
		return nil, fmt.Errorf("gradient: %s has %d values; want %d×%d", name, len(data), bs, sq)
	}
	return data, nil
}

func newIntTensor(shape ort.Shape, data []int64, as32 bool) (ort.Value, error) {
	if !as32 {
		return ort.NewTensor(shape, append([]int64(nil), data...))
	}
	d32 := make([]int32, len(data))
	for i, v := range data {
		d32[i] = int32(v)
	}
	return ort.NewTensor(shape, d32)
}
