package explainer

import (
	"github.com/glassbox-ai/glassbox/inference"
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
