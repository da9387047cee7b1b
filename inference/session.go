package inference

import (
	"context"
	"fmt"
	"sync"

	"github.com/glassbox-ai/glassbox/explanation"
	ort "github.com/yalue/onnxruntime_go"
)

// DefaultBatchSize is the rows per ONNX Runtime call when a job sets none: on
// CPUs, larger batches add latency without adding throughput (see the
// SessionRun benchmark).
const DefaultBatchSize = 32

// SessionOptions configures a Session.
type SessionOptions struct {
	// IntraOpThreads is ONNX Runtime's intra-op thread count; 0 lets ORT choose.
	IntraOpThreads int
	// ExtraOutputs are further graph outputs to fetch (e.g. exposed attention tensors).
	ExtraOutputs []string
}

// Tensor is a float32 output of the model.
type Tensor struct {
	// Shape is the tensor's shape.
	Shape []int
	// Data holds the values in row-major order.
	Data []float32
}

// Row returns row b of a [batch, n] tensor (a classifier's logits) as float64.
func (t *Tensor) Row(b int) []float64 {
	n := t.Shape[len(t.Shape)-1]
	row := make([]float64, n)
	for j, v := range t.Data[b*n : (b+1)*n] {
		row[j] = float64(v)
	}
	return row
}

// Outputs are the tensors of one Run, by output name.
type Outputs map[string]*Tensor

// Session runs one model through a single ONNX Runtime session; it is safe for
// concurrent use (ONNX Runtime sessions run concurrently; Close waits for runs).
type Session struct {
	model *Model
	// outputs are the fetched outputs: the reported ones first, then a
	// with-past graph's present outputs (fetched because Step feeds them back).
	outputs  []string
	reported int
	mu       sync.RWMutex
	sess     *ort.DynamicAdvancedSession
}

// NewSession opens an ONNX Runtime session on the model.
func (m *Model) NewSession(o SessionOptions) (*Session, error) {
	opts, err := m.sessionOptions(o.IntraOpThreads)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	outputs := []string{m.Output}
	if m.PooledOutput != "" {
		outputs = append(outputs, m.PooledOutput)
	}
	for _, name := range o.ExtraOutputs {
		if _, ok := m.outputInfo[name]; !ok {
			return nil, fmt.Errorf("%s: no graph output named %q", m.Path, name)
		}
		outputs = append(outputs, name)
	}
	reported := len(outputs)
	for _, c := range m.Cache {
		outputs = append(outputs, c.Output)
	}
	sess, err := ort.NewDynamicAdvancedSession(m.Path, m.Inputs, outputs, opts)
	if err != nil {
		return nil, fmt.Errorf("open ONNX Runtime session on %s: %w", m.Path, err)
	}
	return &Session{model: m, outputs: outputs, reported: reported, sess: sess}, nil
}

// Model returns the session's model.
func (s *Session) Model() *Model { return s.model }

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
		return fmt.Errorf("close session: %w", err)
	}
	return nil
}

// Padded is a batch of rows padded on the right to the longest row.
type Padded struct {
	// Batch and Seq are the padded batch's dimensions.
	Batch, Seq int
	// IDs, Mask, TypeIDs and Positions are row-major [Batch, Seq].
	IDs, Mask, TypeIDs, Positions []int64
}

// Pad pads rows on the right to the longest one with padID and attention 0;
// position ids count the row's tokens from 0.
func Pad(rows []explanation.Input, padID int64) Padded {
	seq := 0
	for _, r := range rows {
		if len(r.IDs) > seq {
			seq = len(r.IDs)
		}
	}
	p := Padded{Batch: len(rows), Seq: seq}
	n := len(rows) * seq
	p.IDs, p.Mask, p.TypeIDs, p.Positions = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for b, r := range rows {
		base := b * seq
		for i := 0; i < seq; i++ {
			p.Positions[base+i] = int64(i)
			if i >= len(r.IDs) {
				p.IDs[base+i] = padID
				continue
			}
			p.IDs[base+i] = r.IDs[i]
			if r.Mask != nil {
				p.Mask[base+i] = r.Mask[i]
			} else {
				p.Mask[base+i] = 1
			}
			if r.TypeIDs != nil {
				p.TypeIDs[base+i] = r.TypeIDs[i]
			}
		}
	}
	return p
}

// Run runs one batch (padded here to its longest row) and returns every output.
func (s *Session) Run(ctx context.Context, rows []explanation.Input) (Outputs, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return Outputs{}, nil
	}
	for i, r := range rows {
		if len(r.IDs) == 0 {
			return nil, fmt.Errorf("row %d has no tokens", i)
		}
		if r.Mask != nil && len(r.Mask) != len(r.IDs) || r.TypeIDs != nil && len(r.TypeIDs) != len(r.IDs) {
			return nil, fmt.Errorf("row %d: ids, mask and type ids differ in length", i)
		}
		if len(r.IDs) > s.model.MaxLength {
			return nil, fmt.Errorf("row %d has %d tokens; the model takes at most %d", i, len(r.IDs), s.model.MaxLength)
		}
	}
	p := Pad(rows, s.model.PadID)
	return s.RunPadded(p)
}

// RunPadded runs an already padded batch. A with-past graph gets an empty
// cache, so it computes what its no-past twin does.
func (s *Session) RunPadded(p Padded) (Outputs, error) {
	shape := ort.NewShape(int64(p.Batch), int64(p.Seq))
	inputs := make([]ort.Value, 0, len(s.model.Inputs))
	defer func() {
		for _, v := range inputs {
			v.Destroy()
		}
	}()
	cache := map[string]CacheTensor{}
	for _, c := range s.model.Cache {
		cache[c.Input] = c
	}
	for _, name := range s.model.Inputs {
		if c, ok := cache[name]; ok {
			v, err := emptyCacheValue(c, p.Batch)
			if err != nil {
				return nil, fmt.Errorf("input %s: %w", name, err)
			}
			inputs = append(inputs, v)
			continue
		}
		var data []int64
		switch name {
		case InputIDs:
			data = p.IDs
		case AttentionMask:
			data = p.Mask
		case TokenTypeIDs:
			data = p.TypeIDs
		case PositionIDs:
			data = p.Positions
		}
		v, err := newIntTensor(shape, data, s.model.int32Inputs[name])
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", name, err)
		}
		inputs = append(inputs, v)
	}
	outs := make([]ort.Value, len(s.outputs))
	s.mu.RLock()
	if s.sess == nil {
		s.mu.RUnlock()
		return nil, ErrClosed
	}
	err := s.sess.Run(inputs, outs)
	s.mu.RUnlock()
	defer func() {
		for _, v := range outs {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", s.model.Path, err)
	}
	res := make(Outputs, s.reported)
	for i, v := range outs[:s.reported] {
		t, err := toTensor(v, s.outputs[i])
		if err != nil {
			return nil, err
		}
		res[s.outputs[i]] = t
	}
	return res, nil
}

// toTensor copies a float32 output of ONNX Runtime into Go memory.
func toTensor(v ort.Value, name string) (*Tensor, error) {
	t, ok := v.(*ort.Tensor[float32])
	if !ok {
		return nil, fmt.Errorf("output %s is %T; want a float32 tensor", name, v)
	}
	shape := t.GetShape()
	dims := make([]int, len(shape))
	for j, d := range shape {
		dims[j] = int(d)
	}
	return &Tensor{Shape: dims, Data: append([]float32(nil), t.GetData()...)}, nil
}

func newIntTensor(shape ort.Shape, data []int64, as32 bool) (ort.Value, error) {
	if !as32 {
		return ort.NewTensor(shape, data)
	}
	d32 := make([]int32, len(data))
	for i, v := range data {
		d32[i] = int32(v)
	}
	return ort.NewTensor(shape, d32)
}
