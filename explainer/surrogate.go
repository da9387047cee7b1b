package explainer

import (
	"context"
	"fmt"
	"math"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/prototypes"
	"github.com/glassbox-ai/glassbox/surrogate"
)

// surrogateExample records what the surrogates need from one predicted
// example: its words as the tokenizer groups them (lower-cased when the
// tokenizer lower-cases), the model's outputs and the gold label.
func (e *Explainer) surrogateExample(it *item) surrogate.Example {
	texts := make([]string, len(it.words))
	for i, w := range it.words {
		texts[i] = w.Text
	}
	ex := surrogate.Example{
		ID: it.rec.ID, Words: surrogate.Words(texts, e.model.Tokenizer.Lowercases(), false),
		Logits: it.pred.Logits, LogOdds: surrogate.LogOdds(it.pred.Logits, e.model.Config.ProblemType == inference.MultiLabel),
		Label: it.pred.LabelIndex, Gold: -1, Probe: it.probe,
	}
	if it.rec.Label != nil {
		ex.GoldText = *it.rec.Label
		ex.Gold = surrogate.GoldIndex(ex.GoldText, e.model.Labels)
	}
	return ex
}

// representation returns an example's pooled representation (the probe
// vector, in float32) with its prediction and gold label; a non-finite value
// is an error, so the example goes to errors.parquet instead.
func (e *Explainer) representation(it *item) (prototypes.Example, error) {
	v := make([]float32, len(it.probe))
	for j, x := range it.probe {
		v[j] = float32(x)
		if math.IsNaN(float64(v[j])) || math.IsInf(float64(v[j]), 0) {
			return prototypes.Example{}, fmt.Errorf("representation: non-finite value %g at dimension %d of the pooled hidden state", x, j)
		}
	}
	ex := prototypes.Example{ID: it.rec.ID, Text: it.rec.Text, Predicted: it.pred.Label, Vector: v}
	if i := it.pred.LabelIndex; i >= 0 && i < len(it.pred.Probs) {
		ex.Confidence = it.pred.Probs[i]
	}
	if it.rec.Label != nil {
		ex.Gold = *it.rec.Label
	}
	return ex, nil
}

// poolHidden pools row b of the last hidden state output ([batch, n, d]):
// the explained position's row (the classification token of an encoder) or,
// with pool mean, the mean over the non-special tokens.
func (e *Explainer) poolHidden(o inference.Outputs, b int, it *item) ([]float64, error) {
	n := len(it.in.IDs)
	t, ok := o[e.s.HiddenOutput]
	if !ok || len(t.Shape) != 3 || t.Shape[1] != n || b >= t.Shape[0] {
		var shape []int
		if ok {
			shape = t.Shape
		}
		return nil, fmt.Errorf("hidden state output %s: want shape [batch, %d, d], got %v", e.s.HiddenOutput, n, shape)
	}
	d := t.Shape[2]
	row := func(q int) []float32 { return t.Data[(b*n+q)*d : (b*n+q+1)*d] }
	out := make([]float64, d)
	if e.s.ProbePool == surrogate.PoolMean {
		k := 0
		for q := range n {
			if it.special[q] {
				continue
			}
			for j, v := range row(q) {
				out[j] += float64(v)
			}
			k++
		}
		for j := range out {
			out[j] /= float64(max(k, 1))
		}
		return out, nil
	}
	for j, v := range row(e.model.ExplainedPosition(n)) {
		out[j] = float64(v)
	}
	return out, nil
}

// ProbeDim returns the dimension of the pooled hidden state (0 without a
// hidden output), found by predicting one short text.
func (e *Explainer) ProbeDim(ctx context.Context) (int, error) {
	if e.s.HiddenOutput == "" {
		return 0, nil
	}
	enc, err := e.model.Encode("hello")
	if err != nil {
		return 0, fmt.Errorf("probe dimension: %w", err)
	}
	it := &item{rec: corpus.Record{ID: "probe-dimension"}, enc: enc, in: e.model.InputFromEncoding(enc), special: make([]bool, enc.Len())}
	for i, sp := range enc.SpecialTokensMask {
		it.special[i] = sp != 0
	}
	if err := e.predict(ctx, []*item{it}); err != nil {
		return 0, fmt.Errorf("probe dimension: %w", err)
	}
	return len(it.probe), nil
}
