package inference

import (
	"context"
	"fmt"
	"math"

	"github.com/glassbox-ai/glassbox/explanation"
)

// OutputKind says which quantity of a classifier is explained.
type OutputKind string

const (
	// Probability explains the class probability (softmax, sigmoid for multi-label, identity for regression).
	Probability OutputKind = "probability"
	// Logit explains the raw logit.
	Logit OutputKind = "logit"
)

// Probabilities turns one row of logits into the model's output scores per problem type.
func Probabilities(logits []float64, problemType string) []float64 {
	out := make([]float64, len(logits))
	switch problemType {
	case MultiLabel:
		for i, z := range logits {
			out[i] = 1 / (1 + math.Exp(-z))
		}
	case Regression:
		copy(out, logits)
	default:
		m := math.Inf(-1)
		for _, z := range logits {
			m = math.Max(m, z)
		}
		var sum float64
		for i, z := range logits {
			out[i] = math.Exp(z - m)
			sum += out[i]
		}
		for i := range out {
			out[i] /= sum
		}
	}
	return out
}

// LogSoftmaxAt returns log softmax(logits)[k], computed stably in float64.
func LogSoftmaxAt(logits []float32, k int) float64 {
	m := math.Inf(-1)
	for _, z := range logits {
		m = math.Max(m, float64(z))
	}
	var sum float64
	for _, z := range logits {
		sum += math.Exp(float64(z) - m)
	}
	return float64(logits[k]) - m - math.Log(sum)
}

// ClassScorer explains class `class` of a sequence classifier; batchSize bounds the rows per ORT call.
func (s *Session) ClassScorer(class int, kind OutputKind, batchSize int) (explanation.Scorer, error) {
	m := s.model
	if m.Kind != SequenceClassification {
		return nil, fmt.Errorf("class scorer: model is a %s, not a sequence classifier", m.Kind)
	}
	if class < 0 || class >= len(m.Labels) {
		return nil, fmt.Errorf("class scorer: class %d out of range [0, %d)", class, len(m.Labels))
	}
	if kind != Probability && kind != Logit {
		return nil, fmt.Errorf("class scorer: output kind %q; want %q or %q", kind, Probability, Logit)
	}
	return explanation.ScorerFunc(func(ctx context.Context, inputs []explanation.Input) ([]float64, error) {
		out := make([]float64, len(inputs))
		err := s.ForBatches(ctx, inputs, batchSize, func(idx []int, o Outputs) error {
			t := o[m.Output]
			for b, i := range idx {
				row := t.Row(b)
				if kind == Logit {
					out[i] = row[class]
				} else {
					out[i] = Probabilities(row, m.Config.ProblemType)[class]
				}
			}
			return nil
		})
		return out, err
	}), nil
}

// NextTokenScorer explains the log-probability of token `token` at position
// `position` of a causal LM (the position of the last real token of the unperturbed input).
func (s *Session) NextTokenScorer(position, token, batchSize int) (explanation.Scorer, error) {
	m := s.model
	if m.Kind != CausalLM {
		return nil, fmt.Errorf("next-token scorer: model is a %s, not a causal LM", m.Kind)
	}
	return explanation.ScorerFunc(func(ctx context.Context, inputs []explanation.Input) ([]float64, error) {
		out := make([]float64, len(inputs))
		err := s.ForBatches(ctx, inputs, batchSize, func(idx []int, o Outputs) error {
			t := o[m.Output]
			seq, vocab := t.Shape[1], t.Shape[2]
			if position >= seq || token < 0 || token >= vocab {
				return fmt.Errorf("next-token scorer: position %d / token %d outside logits [%d, %d]", position, token, seq, vocab)
			}
			for b, i := range idx {
				base := (b*seq + position) * vocab
				out[i] = LogSoftmaxAt(t.Data[base:base+vocab], token)
			}
			return nil
		})
		return out, err
	}), nil
}

// ForBatches runs inputs in length-grouped batches and hands each batch's
// outputs, with the input indices of its rows, to fn; the outputs are valid
// only until fn returns (see RunWith).
func (s *Session) ForBatches(ctx context.Context, inputs []explanation.Input, batchSize int, fn func(idx []int, o Outputs) error) error {
	lengths := make([]int, len(inputs))
	for i, in := range inputs {
		lengths[i] = len(in.IDs)
	}
	for _, idx := range GroupByLength(lengths, batchSize, SimilarLength) {
		rows := make([]explanation.Input, len(idx))
		for j, i := range idx {
			rows[j] = inputs[i]
		}
		// The outputs are read inside fn: RunWith reuses their buffer.
		err := s.RunWith(ctx, rows, func(o Outputs) error { return fn(idx, o) })
		if err != nil {
			return err
		}
	}
	return nil
}

// ScoreLink says on which scale the quantity its scorers explain lives (see
// explanation.Link): a causal LM's next-token log-probability, a classifier's
// softmax or sigmoid probability, or no probability scale (logits, regression).
func (m *Model) ScoreLink(kind OutputKind) explanation.Link {
	switch {
	case m.Kind == CausalLM:
		return explanation.LinkLogProb
	case kind == Probability && m.Config.ProblemType != Regression:
		return explanation.LinkLogit
	}
	return explanation.LinkIdentity
}
