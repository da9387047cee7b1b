package explainer

import (
	"context"
	"crypto/sha256"
	"encoding/binary"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
)

// logitCache keeps one example's classifier logits by input, so each distinct
// input of the example is scored once across its methods and targets: methods
// share inputs (f(x) and f(∅) in every perturbation method, occlusion's
// leave-one-out inputs among KernelSHAP's enumerated sizes, faithfulness's
// deletions), and explaining several targets (target: all) repeats them all,
// since the methods' seed depends only on the run seed and the example id.
type logitCache struct {
	sess      *inference.Session
	batchSize int
	rows      map[[32]byte][]float64
}

func newLogitCache(sess *inference.Session, batchSize int) *logitCache {
	return &logitCache{sess: sess, batchSize: batchSize, rows: map[[32]byte][]float64{}}
}

func inputKey(in explanation.Input) [32]byte {
	h := sha256.New()
	var b [8]byte
	for _, s := range [][]int64{in.IDs, in.Mask, in.TypeIDs} {
		binary.LittleEndian.PutUint64(b[:], uint64(len(s)))
		h.Write(b[:])
		for _, v := range s {
			binary.LittleEndian.PutUint64(b[:], uint64(v))
			h.Write(b[:])
		}
	}
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k
}

// logits returns the logits of every input, running only the ones not seen yet.
func (c *logitCache) logits(ctx context.Context, inputs []explanation.Input) ([][]float64, error) {
	keys, missing, missingKeys := unseen(c.rows, inputs)
	m := c.sess.Model()
	err := c.sess.ForBatches(ctx, missing, c.batchSize, func(idx []int, o inference.Outputs) error {
		t := o[m.Output]
		for b, i := range idx {
			c.rows[missingKeys[i]] = t.Row(b)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([][]float64, len(inputs))
	for i, k := range keys {
		out[i] = c.rows[k]
	}
	return out, nil
}

// scorer explains class `class` (probability or logit) from the cache.
func (c *logitCache) scorer(class int, kind inference.OutputKind) explanation.Scorer {
	problem := c.sess.Model().Config.ProblemType
	return explanation.ScorerFunc(func(ctx context.Context, inputs []explanation.Input) ([]float64, error) {
		rows, err := c.logits(ctx, inputs)
		if err != nil {
			return nil, err
		}
		out := make([]float64, len(rows))
		for i, r := range rows {
			if kind == inference.Logit {
				out[i] = r[class]
			} else {
				out[i] = inference.Probabilities(r, problem)[class]
			}
		}
		return out, nil
	})
}

// scoreCache keeps one target's scores by input (a causal LM's next-token
// log-probability), so the example's methods score each distinct input once.
type scoreCache struct {
	sc     explanation.Scorer
	scores map[[32]byte]float64
}

func newScoreCache(sc explanation.Scorer) *scoreCache {
	return &scoreCache{sc: sc, scores: map[[32]byte]float64{}}
}

// Score scores the inputs not seen yet, in one call.
func (c *scoreCache) Score(ctx context.Context, inputs []explanation.Input) ([]float64, error) {
	keys, missing, missingKeys := unseen(c.scores, inputs)
	if len(missing) > 0 {
		got, err := c.sc.Score(ctx, missing)
		if err != nil {
			return nil, err
		}
		for i, k := range missingKeys {
			c.scores[k] = got[i]
		}
	}
	out := make([]float64, len(inputs))
	for i, k := range keys {
		out[i] = c.scores[k]
	}
	return out, nil
}

// unseen returns the key of every input, and the inputs (each distinct one
// once) whose key seen does not hold yet, with their keys.
func unseen[V any](seen map[[32]byte]V, inputs []explanation.Input) (keys [][32]byte, missing []explanation.Input, missingKeys [][32]byte) {
	keys = make([][32]byte, len(inputs))
	pending := map[[32]byte]bool{}
	for i, in := range inputs {
		keys[i] = inputKey(in)
		if _, ok := seen[keys[i]]; !ok && !pending[keys[i]] {
			pending[keys[i]] = true
			missing = append(missing, in)
			missingKeys = append(missingKeys, keys[i])
		}
	}
	return keys, missing, missingKeys
}
