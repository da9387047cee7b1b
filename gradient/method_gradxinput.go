package gradient

import (
	"context"
	"fmt"

	"github.com/glassbox-ai/glassbox/explanation"
)

// GradXInputMethod is gradient × input: attribution(i) = Σ_h e_ih · ∂f/∂e_ih,
// e the word-embedding output (conventions.md). It has no parameters.
type GradXInputMethod struct{}

// Validate accepts the empty parameter set.
func (*GradXInputMethod) Validate() error { return nil }

// Name returns "gradxinput".
func (GradXInputMethod) Name() string { return "gradxinput" }

// Explain takes one gradient at the input's embeddings.
func (GradXInputMethod) Explain(ctx context.Context, _ explanation.Scorer, req explanation.Request) (explanation.Result, error) {
	g, err := inputGradient(ctx, req)
	if err != nil {
		return explanation.Result{}, fmt.Errorf("gradxinput: %w", err)
	}
	attr := make([]float64, len(req.Input.IDs))
	for i := range attr {
		for h := i * req.Hidden; h < (i+1)*req.Hidden; h++ {
			attr[i] += float64(req.Embeddings[h]) * float64(g[h])
		}
	}
	return gradientResult(ctx, req, attr, map[string]any{})
}
