package explainer

import (
	"context"
	"fmt"
	"strings"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
)

func checkTarget(m *inference.Model, target string) error {
	switch target {
	case "predicted":
		return nil
	case "all":
		if m.Kind != inference.SequenceClassification {
			return fmt.Errorf("explain: target \"all\" is for classifiers; %s is a %s", m.Files.Dir, m.Kind)
		}
		return nil
	}
	if m.Kind == inference.SequenceClassification {
		for _, l := range m.Labels {
			if l == target {
				return nil
			}
		}
		return fmt.Errorf("explain: target %q is not a label of %s (labels: %s)", target, m.Files.Dir, strings.Join(m.Labels, ", "))
	}
	if _, ok := m.Tokenizer.TokenToID(target); !ok {
		return fmt.Errorf("explain: target %q is not a token of %s's vocabulary", target, m.Files.Dir)
	}
	return nil
}

type target struct {
	label string
	class int // class index, or token id for causal LMs
}

func (e *Explainer) targets(p inference.Prediction) []target {
	m := e.model
	switch e.s.Target {
	case "predicted":
		return []target{{label: p.Label, class: p.LabelIndex}}
	case "all":
		ts := make([]target, len(m.Labels))
		for i, l := range m.Labels {
			ts[i] = target{label: l, class: i}
		}
		return ts
	}
	if m.Kind == inference.SequenceClassification {
		for i, l := range m.Labels {
			if l == e.s.Target {
				return []target{{label: l, class: i}}
			}
		}
	}
	id, _ := m.Tokenizer.TokenToID(e.s.Target)
	return []target{{label: e.s.Target, class: id}}
}

func (e *Explainer) scorer(t target, position int) (explanation.Scorer, error) {
	if e.model.Kind == inference.CausalLM {
		return e.sess.NextTokenScorer(position, t.class, e.s.BatchSize)
	}
	return e.sess.ClassScorer(t.class, e.s.OutputKind, e.s.BatchSize)
}

// targetScore returns f(x) for target t as methods that do not perturb report
// it: a classifier's comes from its prediction; only a causal LM's target token
// may lie outside the top tokens kept there, so it is scored.
func (e *Explainer) targetScore(it *item, t target, sc explanation.Scorer) func(context.Context) (float64, error) {
	return func(ctx context.Context) (float64, error) {
		if e.model.Kind == inference.SequenceClassification {
			if e.s.OutputKind == inference.Logit {
				return it.pred.Logits[t.class], nil
			}
			return it.pred.Probs[t.class], nil
		}
		f, err := sc.Score(ctx, []explanation.Input{it.in})
		if err != nil {
			return 0, err
		}
		return f[0], nil
	}
}

// WithTarget returns an explainer that explains target (predicted, all, a
// label, or a token for causal LMs) and is otherwise e: it shares e's session
// and backward graphs, so it must not outlive e and is never closed itself.
// The sanity check uses it to explain a randomised model for the label the
// original model predicted.
func (e *Explainer) WithTarget(target string) (*Explainer, error) {
	if err := checkTarget(e.model, target); err != nil {
		return nil, err
	}
	c := *e
	c.s.Target = target
	return &c, nil
}
