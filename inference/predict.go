package inference

import (
	"context"
	"fmt"
	"math"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/tokenizer"
)

// TokenProb is one candidate next token of a causal LM.
type TokenProb struct {
	// ID is the token id.
	ID int `json:"id"`
	// Token is the token string.
	Token string `json:"token"`
	// Prob is its probability.
	Prob float64 `json:"prob"`
}

// Prediction is the model's output for one input.
type Prediction struct {
	// Label is a classifier's predicted class name.
	Label string
	// LabelIndex is the predicted class index (-1 for other kinds).
	LabelIndex int
	// Logits are a classifier's logits.
	Logits []float64
	// Probs are a classifier's output scores (softmax, sigmoid or identity per problem type).
	Probs []float64
	// NextTokens are a causal LM's top next tokens at the last real position.
	NextTokens []TokenProb
	// Embedding is a feature extractor's pooled output (or the mean of its last hidden states over real tokens).
	Embedding []float64
	// Position is the explained position for a causal LM (its last real token).
	Position int
}

// ExplainedPosition returns the position of an n-token input whose output is
// explained: the classification token (0) of an encoder, the last real token of a decoder.
func (m *Model) ExplainedPosition(n int) int {
	if m.IsDecoder() {
		return n - 1
	}
	return 0
}

// InputFromEncoding turns an encoding into a model input, keeping type ids only when the graph takes them.
func (m *Model) InputFromEncoding(enc *tokenizer.Encoding) explanation.Input {
	in := explanation.Input{IDs: make([]int64, len(enc.IDs)), Mask: make([]int64, len(enc.IDs))}
	for i, id := range enc.IDs {
		in.IDs[i] = int64(id)
		in.Mask[i] = 1
	}
	for _, name := range m.Inputs {
		if name == TokenTypeIDs {
			in.TypeIDs = make([]int64, len(enc.IDs))
			for i := range in.TypeIDs {
				if i < len(enc.TypeIDs) {
					in.TypeIDs[i] = int64(enc.TypeIDs[i])
				}
			}
		}
	}
	return in
}

// Predict runs inputs in length-grouped batches of batchSize and returns one
// prediction per input, in order; topK bounds a causal LM's next tokens.
func (s *Session) Predict(ctx context.Context, inputs []explanation.Input, batchSize, topK int) ([]Prediction, error) {
	preds := make([]Prediction, len(inputs))
	err := s.ForBatches(ctx, inputs, batchSize, func(idx []int, o Outputs) error {
		for b, i := range idx {
			p, err := s.model.PredictionAt(o, b, inputs[i], topK)
			if err != nil {
				return err
			}
			preds[i] = p
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return preds, nil
}

// PredictionAt reads the prediction for row b of a batch's outputs; in is that row's unpadded input.
func (m *Model) PredictionAt(o Outputs, b int, in explanation.Input, topK int) (Prediction, error) {
	t, ok := o[m.Output]
	if !ok {
		return Prediction{}, fmt.Errorf("predict: output %q missing", m.Output)
	}
	p := Prediction{LabelIndex: -1}
	real := len(in.IDs)
	switch m.Kind {
	case SequenceClassification:
		p.Logits = t.Row(b)
		p.Probs = Probabilities(p.Logits, m.Config.ProblemType)
		best := 0
		for j := range p.Probs {
			if p.Probs[j] > p.Probs[best] {
				best = j
			}
		}
		p.LabelIndex, p.Label = best, m.Labels[best]
	case CausalLM:
		seq, vocab := t.Shape[1], t.Shape[2]
		p.Position = real - 1
		row := t.Data[(b*seq+p.Position)*vocab : (b*seq+p.Position+1)*vocab]
		p.NextTokens = topTokens(m, row, topK)
		if len(p.NextTokens) > 0 {
			p.Label, p.LabelIndex = p.NextTokens[0].Token, p.NextTokens[0].ID
		}
	case FeatureExtraction:
		if pooled, ok := o[m.PooledOutput]; ok && m.PooledOutput != "" {
			h := pooled.Shape[1]
			p.Embedding = make([]float64, h)
			for j := 0; j < h; j++ {
				p.Embedding[j] = float64(pooled.Data[b*h+j])
			}
		} else {
			seq, h := t.Shape[1], t.Shape[2]
			p.Embedding = make([]float64, h)
			n := 0
			for pos := 0; pos < real; pos++ {
				if in.Mask != nil && in.Mask[pos] == 0 {
					continue
				}
				n++
				for j := 0; j < h; j++ {
					p.Embedding[j] += float64(t.Data[(b*seq+pos)*h+j])
				}
			}
			for j := range p.Embedding {
				p.Embedding[j] /= math.Max(1, float64(n))
			}
		}
	default:
		return Prediction{}, fmt.Errorf("predict: unsupported model kind %q", m.Kind)
	}
	return p, nil
}

// topTokens returns the k most likely next tokens (ties: lower id first) in
// one pass over the vocabulary, with the normaliser computed once.
func topTokens(m *Model, logits []float32, k int) []TokenProb {
	if k <= 0 {
		k = 5
	}
	k = min(k, len(logits))
	top := make([]int, 0, k+1)
	maxLogit := math.Inf(-1)
	for id, z := range logits {
		maxLogit = math.Max(maxLogit, float64(z))
		if len(top) == k && z <= logits[top[k-1]] {
			continue
		}
		// Insert after every kept id with a logit >= z, so earlier ids win ties.
		at := len(top)
		for at > 0 && logits[top[at-1]] < z {
			at--
		}
		top = append(top, 0)
		copy(top[at+1:], top[at:])
		top[at] = id
		if len(top) > k {
			top = top[:k]
		}
	}
	var sum float64
	for _, z := range logits {
		sum += math.Exp(float64(z) - maxLogit)
	}
	logZ := maxLogit + math.Log(sum)
	out := make([]TokenProb, len(top))
	for j, id := range top {
		tok, _ := m.Tokenizer.IDToToken(id)
		out[j] = TokenProb{ID: id, Token: tok, Prob: math.Exp(float64(logits[id]) - logZ)}
	}
	return out
}

// TopTokens returns the k most likely tokens of one position's logits with
// their softmax probabilities (ties: lower id first).
func (m *Model) TopTokens(logits []float32, k int) []TokenProb { return topTokens(m, logits, k) }
