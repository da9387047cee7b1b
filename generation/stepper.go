package generation

import (
	"context"
	"fmt"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
)

// stepper produces, per call, every row's next-token logits for the rows'
// tokens so far (prompt plus the steps taken), one row per prompt of the batch.
type stepper interface {
	next(ctx context.Context) ([][]float32, error)
	close()
}

func (g *Generator) newStepper(rows []*row) stepper {
	if g.UsesCache() {
		return &cachedStepper{sess: g.sess, rows: rows}
	}
	return &fullStepper{sess: g.sess, rows: rows}
}

// cachedStepper drives a with-past export: the first call runs the prompts,
// each later one feeds the rows' last tokens after the cache. Rows that have
// stopped keep feeding their last token (their logits are ignored), so the
// cache keeps its batch.
type cachedStepper struct {
	sess  *inference.Session
	rows  []*row
	cache *inference.Cache
}

func (c *cachedStepper) next(ctx context.Context) ([][]float32, error) {
	var ids []int64
	if c.cache == nil {
		for _, r := range c.rows {
			ids = append(ids, r.res.PromptIDs...)
		}
	} else {
		for _, r := range c.rows {
			ids = append(ids, r.res.Steps[len(r.res.Steps)-1].Token)
		}
	}
	logits, next, err := c.sess.Step(ctx, ids, len(c.rows), c.cache)
	if err != nil {
		return nil, err
	}
	c.cache.Release()
	c.cache = next
	return lastPositions(logits, len(c.rows))
}

func (c *cachedStepper) close() { c.cache.Release() }

// fullStepper runs prompt and continuation whole at every step (a graph
// without a cache); rows that have stopped are left out.
type fullStepper struct {
	sess *inference.Session
	rows []*row
}

func (f *fullStepper) next(ctx context.Context) ([][]float32, error) {
	var inputs []explanation.Input
	var at []int
	for j, r := range f.rows {
		if r.done {
			continue
		}
		ids := append(append([]int64(nil), r.res.PromptIDs...), r.res.IDs()...)
		mask := make([]int64, len(ids))
		for i := range mask {
			mask[i] = 1
		}
		inputs = append(inputs, explanation.Input{IDs: ids, Mask: mask})
		at = append(at, j)
	}
	out, err := f.sess.Run(ctx, inputs)
	if err != nil {
		return nil, err
	}
	t, ok := out[f.sess.Model().Output]
	if !ok {
		return nil, fmt.Errorf("output %q missing", f.sess.Model().Output)
	}
	last, err := lastPositions(t, len(inputs))
	if err != nil {
		return nil, err
	}
	res := make([][]float32, len(f.rows))
	for k, j := range at {
		res[j] = last[k]
	}
	return res, nil
}

func (f *fullStepper) close() {}

// lastPositions returns each row's logits at the last position of a [batch, seq, vocab] tensor.
func lastPositions(t *inference.Tensor, batch int) ([][]float32, error) {
	if len(t.Shape) != 3 || t.Shape[0] != batch {
		return nil, fmt.Errorf("logits of shape %v; want [%d, sequence, vocab]", t.Shape, batch)
	}
	seq, vocab := t.Shape[1], t.Shape[2]
	out := make([][]float32, batch)
	for b := range out {
		base := (b*seq + seq - 1) * vocab
		out[b] = t.Data[base : base+vocab : base+vocab]
	}
	return out, nil
}
