package inference

import (
	"context"
	"fmt"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// Names of a decoder's key/value cache in optimum's text-generation-with-past
// exports: input past_key_values.N.key (or .value) is fed from the previous
// step's output present.N.key, both [batch, heads, sequence, head_dim].
const (
	PastPrefix    = "past_key_values."
	PresentPrefix = "present."
)

// CacheTensor is one key or value tensor of a decoder's cache.
type CacheTensor struct {
	// Input is the graph input the cache is fed through (past_key_values.N.key).
	Input string
	// Output is the graph output holding the grown cache (present.N.key).
	Output string
	// Heads and HeadDim are the tensor's static dimensions 1 and 3.
	Heads, HeadDim int
}

// HasCache reports whether the graph takes a key/value cache (a with-past export).
func (m *Model) HasCache() bool { return len(m.Cache) > 0 }

// cacheInput checks a past_key_values input: float32, [batch, heads, past, head_dim]
// with heads and head_dim static (they size the empty cache of a first step).
func (m *Model) cacheInput(in ort.InputOutputInfo) error {
	if in.DataType != ort.TensorElementDataTypeFloat {
		return fmt.Errorf("%s: cache input %q has element type %s; Glassbox feeds float32 caches", m.Path, in.Name, in.DataType)
	}
	if len(in.Dimensions) != 4 || in.Dimensions[1] <= 0 || in.Dimensions[3] <= 0 {
		return fmt.Errorf("%s: cache input %q has shape %v; want [batch, heads, past_sequence, head_dim] with heads and head_dim fixed", m.Path, in.Name, in.Dimensions)
	}
	m.Cache = append(m.Cache, CacheTensor{
		Input:  in.Name,
		Output: PresentPrefix + strings.TrimPrefix(in.Name, PastPrefix),
		Heads:  int(in.Dimensions[1]), HeadDim: int(in.Dimensions[3]),
	})
	return nil
}

// checkCacheOutputs requires a present output for every past input.
func (m *Model) checkCacheOutputs() error {
	for _, c := range m.Cache {
		if _, ok := m.outputInfo[c.Output]; !ok {
			return fmt.Errorf("%s: cache input %q has no matching output %q (an optimum text-generation-with-past export has both)", m.Path, c.Input, c.Output)
		}
	}
	return nil
}

// Cache is a decoder's key/value cache for one batch after some steps: the
// present outputs of the last step, kept in ONNX Runtime's memory and fed
// back as the next step's past inputs. Release frees it.
type Cache struct {
	values []ort.Value
	batch  int
	length int
}

// Len returns the number of positions the cache holds.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	return c.length
}

// Release frees the cache's tensors; the cache must not be used afterwards.
func (c *Cache) Release() {
	if c == nil {
		return
	}
	for _, v := range c.values {
		if v != nil {
			v.Destroy()
		}
	}
	c.values = nil
}

// emptyCacheValue is a [batch, heads, 0, head_dim] tensor: "no past yet".
func emptyCacheValue(c CacheTensor, batch int) (ort.Value, error) {
	return ort.NewTensor(ort.NewShape(int64(batch), int64(c.Heads), 0, int64(c.HeadDim)), []float32{})
}

// Step runs a with-past decoder on n new tokens per row after the cache
// (nil: an empty cache), ids row-major [batch, n], no padding: every row's
// attention mask is all ones and its positions continue from past.Len(). It
// returns the logits [batch, n, vocab] of the new positions and the grown
// cache; past stays the caller's to release.
func (s *Session) Step(ctx context.Context, ids []int64, batch int, past *Cache) (*Tensor, *Cache, error) {
	return s.step(ctx, ids, batch, past, false)
}

// StepLast is Step returning only the last new position's logits, [batch, 1,
// vocab] (what choosing the next token needs; a long prompt's other positions
// are not copied out of ONNX Runtime).
func (s *Session) StepLast(ctx context.Context, ids []int64, batch int, past *Cache) (*Tensor, *Cache, error) {
	return s.step(ctx, ids, batch, past, true)
}

func (s *Session) step(ctx context.Context, ids []int64, batch int, past *Cache, lastOnly bool) (*Tensor, *Cache, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	m := s.model
	if !m.HasCache() {
		return nil, nil, fmt.Errorf("step: %s takes no key/value cache", m.Path)
	}
	if batch <= 0 || len(ids) == 0 || len(ids)%batch != 0 {
		return nil, nil, fmt.Errorf("step: %d ids do not make %d rows", len(ids), batch)
	}
	if past != nil && (past.batch != batch || past.values == nil) {
		return nil, nil, fmt.Errorf("step: cache of %d rows (released: %t) fed to a batch of %d", past.batch, past.values == nil, batch)
	}
	n, pastLen := len(ids)/batch, past.Len()
	if pastLen+n > m.MaxLength {
		return nil, nil, fmt.Errorf("step: %d positions; the model takes at most %d", pastLen+n, m.MaxLength)
	}
	total := pastLen + n
	mask := make([]int64, batch*total)
	for i := range mask {
		mask[i] = 1
	}
	pos := make([]int64, batch*n)
	for i := range pos {
		pos[i] = int64(pastLen + i%n)
	}
	var owned []ort.Value
	defer func() {
		for _, v := range owned {
			v.Destroy()
		}
	}()
	cacheAt := map[string]int{}
	for i, c := range m.Cache {
		cacheAt[c.Input] = i
	}
	inputs := make([]ort.Value, 0, len(m.Inputs))
	for _, name := range m.Inputs {
		if i, ok := cacheAt[name]; ok {
			if past != nil {
				inputs = append(inputs, past.values[i])
				continue
			}
			v, err := emptyCacheValue(m.Cache[i], batch)
			if err != nil {
				return nil, nil, fmt.Errorf("input %s: %w", name, err)
			}
			owned = append(owned, v)
			inputs = append(inputs, v)
			continue
		}
		var data []int64
		shape := ort.NewShape(int64(batch), int64(n))
		switch name {
		case InputIDs:
			data = ids
		case AttentionMask:
			data, shape = mask, ort.NewShape(int64(batch), int64(total))
		case PositionIDs:
			data = pos
		case TokenTypeIDs:
			data = make([]int64, batch*n)
		}
		v, err := newIntTensor(shape, data, m.int32Inputs[name])
		if err != nil {
			return nil, nil, fmt.Errorf("input %s: %w", name, err)
		}
		owned = append(owned, v)
		inputs = append(inputs, v)
	}
	outs := make([]ort.Value, len(s.outputs))
	s.mu.RLock()
	if s.sess == nil {
		s.mu.RUnlock()
		return nil, nil, ErrClosed
	}
	err := s.sess.Run(inputs, outs)
	s.mu.RUnlock()
	next := &Cache{batch: batch, length: total, values: make([]ort.Value, len(m.Cache))}
	for i, v := range outs {
		if i >= s.reported && v != nil {
			next.values[i-s.reported] = v // kept: the next step's past
			continue
		}
		if v != nil {
			defer v.Destroy()
		}
	}
	if err != nil {
		next.Release()
		return nil, nil, fmt.Errorf("run %s: %w", m.Path, err)
	}
	var t *Tensor
	if lastOnly {
		t, err = lastPosition(outs[0], s.outputs[0])
	} else {
		t, err = toTensor(outs[0], s.outputs[0])
	}
	if err != nil {
		next.Release()
		return nil, nil, err
	}
	return t, next, nil
}

// lastPosition copies the last position of a [batch, seq, vocab] float32 output.
func lastPosition(v ort.Value, name string) (*Tensor, error) {
	t, ok := v.(*ort.Tensor[float32])
	if !ok {
		return nil, fmt.Errorf("output %s is %T; want a float32 tensor", name, v)
	}
	shape := t.GetShape()
	if len(shape) != 3 {
		return nil, fmt.Errorf("output %s has shape %v; want [batch, sequence, vocab]", name, shape)
	}
	batch, seq, vocab := int(shape[0]), int(shape[1]), int(shape[2])
	data := t.GetData()
	out := &Tensor{Shape: []int{batch, 1, vocab}, Data: make([]float32, 0, batch*vocab)}
	for b := 0; b < batch; b++ {
		base := (b*seq + seq - 1) * vocab
		out.Data = append(out.Data, data[base:base+vocab]...)
	}
	return out, nil
}

// Keep returns a new cache holding only the given rows of c (indices into its
// batch, in the order given), copied into Go memory; c stays the caller's.
// Generation drops the rows that have stopped with it.
func (c *Cache) Keep(rows []int) (*Cache, error) {
	if c == nil || c.values == nil {
		return nil, fmt.Errorf("keep rows: the cache is released")
	}
	out := &Cache{batch: len(rows), length: c.length, values: make([]ort.Value, 0, len(c.values))}
	for _, v := range c.values {
		t, ok := v.(*ort.Tensor[float32])
		if !ok {
			out.Release()
			return nil, fmt.Errorf("keep rows: cache tensor is %T; want float32", v)
		}
		shape := t.GetShape()
		data := t.GetData()
		per := len(data) / c.batch
		kept := make([]float32, 0, per*len(rows))
		for _, r := range rows {
			if r < 0 || r >= c.batch {
				out.Release()
				return nil, fmt.Errorf("keep rows: row %d of a batch of %d", r, c.batch)
			}
			kept = append(kept, data[r*per:(r+1)*per]...)
		}
		ns := shape.Clone()
		ns[0] = int64(len(rows))
		nv, err := ort.NewTensor(ns, kept)
		if err != nil {
			out.Release()
			return nil, fmt.Errorf("keep rows: %w", err)
		}
		out.values = append(out.values, nv)
	}
	return out, nil
}
