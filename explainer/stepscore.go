package explainer

import (
	"context"
	"fmt"
	"slices"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
)

// stepScores scores one generated continuation under teacher forcing: one
// forward pass over prompt + continuation gives log p(t_j | prompt + t_<j) for
// every step j at position P+j−1, and by causality tokens at positions ≥ P+j
// do not change step j's value. So every perturbed input (always of the full
// length P+N) is run once and its N step values (and the contrast token's)
// are kept: the per-step scorers of all steps and methods share them. The
// methods draw coalitions from the example's seed, not the step's, so the
// steps ask for the same inputs and the memo answers all but the first.
type stepScores struct {
	sess      *inference.Session
	batchSize int
	prompt    int     // P, the prompt's token count
	cont      []int64 // t_0 … t_{N−1}
	contrast  int     // the contrast token's id, −1 for none
	rows      map[[32]byte]stepRow
	// runs counts the inputs sent to the model (tests and benchmarks read it).
	runs int
}

// stepRow is what one input gives: the log-probabilities of each generated
// token and of the contrast token, per step.
type stepRow struct {
	tok, alt []float64
}

func newStepScores(sess *inference.Session, batchSize, prompt int, cont []int64, contrast int) *stepScores {
	return &stepScores{sess: sess, batchSize: batchSize, prompt: prompt, cont: cont, contrast: contrast, rows: map[[32]byte]stepRow{}}
}

// values returns each input's step row, running only the inputs not seen yet.
func (s *stepScores) values(ctx context.Context, inputs []explanation.Input) ([]stepRow, error) {
	n := s.prompt + len(s.cont)
	keys := make([][32]byte, len(inputs))
	var missing []explanation.Input
	var missingKeys [][32]byte
	pending := map[[32]byte]bool{}
	for i, in := range inputs {
		if len(in.IDs) != n {
			return nil, fmt.Errorf("step scorer: input of %d tokens, want prompt + continuation = %d", len(in.IDs), n)
		}
		keys[i] = inputKey(in)
		if _, ok := s.rows[keys[i]]; !ok && !pending[keys[i]] {
			pending[keys[i]] = true
			missing = append(missing, in)
			missingKeys = append(missingKeys, keys[i])
		}
	}
	m := s.sess.Model()
	err := s.sess.ForBatches(ctx, missing, s.batchSize, func(idx []int, o inference.Outputs) error {
		t := o[m.Output]
		seq, vocab := t.Shape[1], t.Shape[2]
		if seq < n || s.contrast >= vocab {
			return fmt.Errorf("step scorer: logits [%d, %d] do not cover %d positions and token %d", seq, vocab, n, s.contrast)
		}
		for b, i := range idx {
			r := stepRow{tok: make([]float64, len(s.cont))}
			if s.contrast >= 0 {
				r.alt = make([]float64, len(s.cont))
			}
			for j, tok := range s.cont {
				if int(tok) < 0 || int(tok) >= vocab {
					return fmt.Errorf("step scorer: generated token %d outside the vocabulary (%d)", tok, vocab)
				}
				base := (b*seq + s.prompt + j - 1) * vocab
				logits := t.Data[base : base+vocab]
				r.tok[j] = inference.LogSoftmaxAt(logits, int(tok))
				if s.contrast >= 0 {
					r.alt[j] = inference.LogSoftmaxAt(logits, s.contrast)
				}
			}
			s.rows[missingKeys[i]] = r
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.runs += len(missing)
	if err := s.emptyContexts(ctx, missing, missingKeys); err != nil {
		return nil, err
	}
	out := make([]stepRow, len(inputs))
	for i, k := range keys {
		out[i] = s.rows[k]
	}
	return out, nil
}

// emptyContexts rescores the steps whose whole context is absent in an input
// on that context alone. Causality fails there: exported GPT-2 graphs add the
// mask as finfo.min to scores already at finfo.min outside the causal
// triangle, so a query row with every key it may see masked attends uniformly
// to the later unmasked tokens too. Scoring such a step on prompt + t_<j alone
// gives what explaining the step by itself gives (at most one extra run per
// step and input, for the empty coalitions).
func (s *stepScores) emptyContexts(ctx context.Context, inputs []explanation.Input, keys [][32]byte) error {
	for i, in := range inputs {
		for j := range s.cont {
			n := s.prompt + j
			if slices.ContainsFunc(in.Mask[:n], func(m int64) bool { return m != 0 }) {
				break // contexts only grow with j
			}
			cut := explanation.Input{IDs: in.IDs[:n], Mask: in.Mask[:n]}
			if in.TypeIDs != nil {
				cut.TypeIDs = in.TypeIDs[:n]
			}
			o, err := s.sess.Run(ctx, []explanation.Input{cut})
			if err != nil {
				return err
			}
			s.runs++
			t := o[s.sess.Model().Output]
			vocab := t.Shape[2]
			logits := t.Data[(n-1)*vocab : n*vocab]
			r := s.rows[keys[i]]
			r.tok[j] = inference.LogSoftmaxAt(logits, int(s.cont[j]))
			if s.contrast >= 0 {
				r.alt[j] = inference.LogSoftmaxAt(logits, s.contrast)
			}
		}
	}
	return nil
}

// stepTarget says which quantity a step scorer explains.
type stepTarget int

const (
	// targetToken is log p(t_j | context).
	targetToken stepTarget = iota
	// targetContrast is log p(t_j | context) − log p(contrast | context).
	targetContrast
	// targetSequence is Σ_j log p(t_j | context_j), the whole continuation's log-probability.
	targetSequence
)

// String is the target's name in the rows' params ("output").
func (t stepTarget) String() string {
	switch t {
	case targetContrast:
		return "contrastive_logprob"
	case targetSequence:
		return "sequence_logprob"
	}
	return "generated_token_logprob"
}

// scorer explains what of step (ignored for the sequence target).
func (s *stepScores) scorer(what stepTarget, step int) explanation.Scorer {
	return explanation.ScorerFunc(func(ctx context.Context, inputs []explanation.Input) ([]float64, error) {
		rows, err := s.values(ctx, inputs)
		if err != nil {
			return nil, err
		}
		out := make([]float64, len(rows))
		for i, r := range rows {
			switch what {
			case targetToken:
				out[i] = r.tok[step]
			case targetContrast:
				out[i] = r.tok[step] - r.alt[step]
			case targetSequence:
				for _, v := range r.tok {
					out[i] += v
				}
			}
		}
		return out, nil
	})
}
