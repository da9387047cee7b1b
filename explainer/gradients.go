package explainer

import (
	"context"
	"fmt"
	"log"
	"path/filepath"
	"sync"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/gradient"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// Each backward graph has one concrete shape, and opening an ONNX Runtime
// session on a base-sized model takes about a second, so an input is
// right-padded (mask 0, which every export honours) to the next bucket length.
// coarseBuckets pad at most 25% with few graphs; a model small enough that
// fineSessions sessions fit in gradCacheBytes gets fineBuckets, 4 tokens apart
// up to 64 tokens (at most 4 padded positions where short sentences are most
// common; padding costs compute like real tokens do).
var (
	coarseBuckets = []int{8, 16, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512}
	fineBuckets   = []int{8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60, 64, 72, 80, 96, 112, 128, 160, 192, 256, 320, 384, 512}
)

// fineSessions is the number of open sessions from which fine buckets pay:
// the explainer visits a bundle's examples in length order, so a bundle opens
// each length's graph once, and the sessions of the lengths common in a corpus
// stay open across bundles.
const fineSessions = 16

// maxSessions bounds the open sessions of a small model.
const maxSessions = 32

// gradCacheBytes bounds the memory the open backward graphs may hold, each
// about twice the model's weights (weights, ONNX Runtime's prepacked copies).
const gradCacheBytes = 4 << 30

// gradients serves the gradient methods: backward graphs of the model
// (gradient.Build) per padded length and batch size, in a small LRU of
// ONNX Runtime sessions.
type gradients struct {
	model   *inference.Model
	base    *onnxpb.ModelProto
	cache   gradient.Cache
	target  gradient.Target
	batch   int
	threads int

	mu       sync.Mutex
	lru      []*gradSession // most recently used last
	capacity int            // sessions kept open
	buckets  []int          // padded lengths
	pad      []float32
	table    *gradient.Graph // any built graph: it reads the embedding table
}

type gradSession struct {
	seq, batch int
	sess       *gradient.Session
}

// newGradients loads the model's graph once; the target follows what the job explains.
func newGradients(m *inference.Model, graph string, kind inference.OutputKind, batch, threads int, cache gradient.Cache) (*gradients, error) {
	if graph == "" {
		graph = m.Files.ONNX
	}
	base, err := onnxgraph.LoadFrom(graph, filepath.Dir(m.Files.ONNX))
	if err != nil {
		return nil, fmt.Errorf("gradient methods: %w", err)
	}
	t := gradient.Probability
	switch {
	case m.Kind == inference.CausalLM:
		t = gradient.TokenLogProb
	case kind == inference.Logit || m.Config.ProblemType == inference.Regression:
		t = gradient.Logit
	case m.Config.ProblemType == inference.MultiLabel:
		t = gradient.Sigmoid
	}
	g := &gradients{model: m, base: base, target: t, batch: max(1, batch), threads: threads, buckets: coarseBuckets, cache: cache}
	// One small build up front fails early on a model without a rule for some op,
	// gives the embedding table's reader and the weights a session holds.
	if g.table, err = gradient.Build(base, gradient.Spec{Target: t, Batch: 1, Seq: coarseBuckets[0], Output: m.Output}); err != nil {
		return nil, fmt.Errorf("gradient methods: %s: %w", m.Files.ONNX, err)
	}
	g.capacity = int(min(maxSessions, max(2, gradCacheBytes/(2*max(weightBytes(g.table.Model), 1)))))
	if g.capacity >= fineSessions {
		g.buckets = fineBuckets
	}
	g.table.Dir = filepath.Dir(m.Files.ONNX)
	return g, nil
}

// session returns an open backward graph for seq tokens (bucketed) and batch rows.
func (g *gradients) session(seq, batch int) (*gradient.Session, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, s := range g.lru {
		if s.seq == seq && s.batch == batch {
			g.lru = append(append(g.lru[:i:i], g.lru[i+1:]...), s)
			return s.sess, nil
		}
	}
	built, warn, err := g.cache.Build(g.base, gradient.Spec{Target: g.target, Batch: batch, Seq: seq, Output: g.model.Output})
	if warn != nil {
		log.Printf("warning: %v", warn)
	}
	if err != nil {
		return nil, fmt.Errorf("gradient methods: %s: %w", g.model.Files.ONNX, err)
	}
	built.Dir = filepath.Dir(g.model.Files.ONNX)
	sess, err := gradient.Open(built, gradient.Options{IntraOpThreads: g.threads})
	if err != nil {
		return nil, err
	}
	if len(g.lru) == g.capacity {
		_ = g.lru[0].sess.Close()
		g.lru = g.lru[1:]
	}
	g.lru = append(g.lru, &gradSession{seq: seq, batch: batch, sess: sess})
	return sess, nil
}

// weightBytes is the size of m's initializers (inline or external), which
// each open session holds about twice (its copy and ONNX Runtime's prepacked one).
func weightBytes(m *onnxpb.ModelProto) int64 {
	var n int64
	for _, t := range m.GetGraph().GetInitializer() {
		elems := int64(1)
		for _, d := range t.GetDims() {
			elems *= d
		}
		size := int64(4)
		switch onnxpb.TensorProto_DataType(t.GetDataType()) {
		case onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_INT64, onnxpb.TensorProto_UINT64:
			size = 8
		case onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16, onnxpb.TensorProto_INT16, onnxpb.TensorProto_UINT16:
			size = 2
		case onnxpb.TensorProto_INT8, onnxpb.TensorProto_UINT8, onnxpb.TensorProto_BOOL:
			size = 1
		}
		n += elems * size
	}
	return n
}

// close releases every session.
func (g *gradients) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, s := range g.lru {
		_ = s.sess.Close()
	}
	g.lru = nil
}

// embeddings returns the word embeddings of ids (known, when not nil) and of the pad token.
func (g *gradients) embeddings(ids []int64, known []float32) (emb, pad []float32, hidden int, err error) {
	g.mu.Lock()
	gr := g.table
	g.mu.Unlock()
	if emb = known; emb == nil {
		if emb, err = gr.EmbeddingRows(ids); err != nil {
			return nil, nil, 0, err
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pad == nil {
		if g.pad, err = gr.EmbeddingRows([]int64{g.model.PadID}); err != nil {
			return nil, nil, 0, err
		}
	}
	return emb, g.pad, gr.Hidden, nil
}

// bucket returns the padded length for n tokens.
func (g *gradients) bucket(n int) int {
	for _, b := range g.buckets {
		if n <= b {
			return b
		}
	}
	return (n + 127) / 128 * 128
}

// fn returns the request's GradientFunc: points of in's shape, for class (or
// token) index at position, run in as few calls as the batch size allows
// (ceil(k / batch) calls of equal size rounded up to a multiple of 8, padded
// by repetition).
func (g *gradients) fn(in explanation.Input, hidden int, index, position int) explanation.GradientFunc {
	n := len(in.IDs)
	seq := g.bucket(n)
	padded := inference.Pad([]explanation.Input{in}, g.model.PadID)
	row := func(src []int64, fill int64) []int64 {
		out := make([]int64, seq)
		for i := range out {
			out[i] = fill
		}
		copy(out, src)
		return out
	}
	ids, mask, types := row(padded.IDs, g.model.PadID), row(padded.Mask, 0), row(padded.TypeIDs, 0)
	return func(ctx context.Context, points [][]float32) ([]float64, [][]float32, error) {
		k := len(points)
		calls := (k + g.batch - 1) / g.batch
		// Calls have sizes in multiples of 8 (up to the batch size): each size
		// is a session of its own, and target_gap's rounds ask for many sizes.
		size := min(g.batch, (((k+calls-1)/calls)+7)/8*8)
		f := make([]float64, 0, k)
		grads := make([][]float32, 0, k)
		for start := 0; start < k; start += size {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			sess, err := g.session(seq, size)
			if err != nil {
				return nil, nil, err
			}
			var x gradient.Inputs
			x.Embeds = make([]float32, size*seq*hidden)
			for b := 0; b < size; b++ {
				p := points[min(start+b, k-1)] // repetition pads the last call
				copy(x.Embeds[b*seq*hidden:], p)
				x.IDs, x.Mask, x.TypeIDs = append(x.IDs, ids...), append(x.Mask, mask...), append(x.TypeIDs, types...)
				x.Index, x.Position = append(x.Index, int64(index)), append(x.Position, int64(position))
			}
			res, err := sess.Run(x)
			if err != nil {
				return nil, nil, modelError{fmt.Errorf("gradients: %w", err)}
			}
			for b := 0; b < size && start+b < k; b++ {
				f = append(f, res.Target[b])
				flat := make([]float32, 0, n*hidden)
				for i := 0; i < n; i++ {
					flat = append(flat, res.Grad[b][i]...)
				}
				grads = append(grads, flat)
			}
		}
		return f, grads, nil
	}
}

// withGradients gives a gradient method's request the example's embeddings and
// a GradientFunc for target t (a class, or a causal LM's next token at its last position).
func (e *Explainer) withGradients(req *explanation.Request, it *item, t target) error {
	emb, pad, hidden, err := e.grads.embeddings(it.in.IDs, it.emb)
	if err != nil {
		return err
	}
	it.emb, req.Embeddings, req.PadEmbedding, req.Hidden = emb, emb, pad, hidden
	req.Gradients = e.grads.fn(it.in, req.Hidden, t.class, req.Position)
	return nil
}
