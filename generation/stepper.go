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
// each later one feeds the live rows' last tokens after the cache. A row that
// has stopped leaves the batch (and the cache) at the next call.
type cachedStepper struct {
	sess  *inference.Session
	rows  []*row
	live  []int // indices into rows of the cache's batch rows
	cache *inference.Cache
}

func (c *cachedStepper) next(ctx context.Context) ([][]float32, error) {
	var ids []int64
	if c.cache == nil {
		for j, r := range c.rows {
			ids = append(ids, r.res.PromptIDs...)
			c.live = append(c.live, j)
		}
	} else {
		var keep, live []int
		for k, j := range c.live {
			if !c.rows[j].done {
				keep, live = append(keep, k), append(live, j)
			}
		}
		if len(live) == 0 {
			return nil, fmt.Errorf("every row has stopped")
		}
		if len(live) < len(c.live) {
			kept, err := c.cache.Keep(keep)
			if err != nil {
				return nil, err
			}
			c.cache.Release()
			c.cache, c.live = kept, live
		}
		for _, j := range c.live {
			ids = append(ids, c.rows[j].res.Steps[len(c.rows[j].res.Steps)-1].Token)
		}
	}
	logits, next, err := c.sess.StepLast(ctx, ids, len(c.live), c.cache)
	if err != nil {
		return nil, err
	}
	c.cache.Release()
	c.cache = next
	last, err := lastPositions(logits, len(c.live))
	if err != nil {
		return nil, err
	}
	res := make([][]float32, len(c.rows))
	for k, j := range c.live {
		res[j] = last[k]
	}
	return res, nil
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
