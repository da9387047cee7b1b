package gradient

import (
	"context"
	"fmt"
	"math"

	"github.com/glassbox-ai/glassbox/explanation"
)

// SaliencyMethod is gradient saliency: attribution(i) = ‖∂f/∂e_i‖₂ over the
// hidden dimension, e the word-embedding output (conventions.md). It has no parameters.
type SaliencyMethod struct{}

// Validate accepts the empty parameter set.
func (*SaliencyMethod) Validate() error { return nil }

// Name returns "saliency".
func (SaliencyMethod) Name() string { return "saliency" }

// Explain takes one gradient at the input's embeddings.
func (SaliencyMethod) Explain(ctx context.Context, _ explanation.Scorer, req explanation.Request) (explanation.Result, error) {
	g, err := inputGradient(ctx, req)
	if err != nil {
		return explanation.Result{}, fmt.Errorf("saliency: %w", err)
	}
	attr := make([]float64, len(req.Input.IDs))
	for i := range attr {
		s := 0.0
		for _, v := range g[i*req.Hidden : (i+1)*req.Hidden] {
			s += float64(v) * float64(v)
		}
		attr[i] = math.Sqrt(s)
	}
	return gradientResult(ctx, req, attr, map[string]any{"norm": "l2"})
}

// inputGradient returns ∂f/∂e at the input's own embeddings.
func inputGradient(ctx context.Context, req explanation.Request) ([]float32, error) {
	if req.Gradients == nil || req.Hidden <= 0 || len(req.Embeddings) != len(req.Input.IDs)*req.Hidden {
		return nil, fmt.Errorf("the request carries no gradients for its %d tokens", len(req.Input.IDs))
	}
	_, grads, err := req.Gradients(ctx, [][]float32{req.Embeddings})
	if err != nil {
		return nil, err
	}
	return grads[0], nil
}

// gradientResult zeroes special tokens and reports f(x) as the prediction has it.
func gradientResult(ctx context.Context, req explanation.Request, attr []float64, params map[string]any) (explanation.Result, error) {
	fx, err := req.Score(ctx)
	if err != nil {
		return explanation.Result{}, err
	}
	return explanation.Result{Tokens: explanation.ZeroSpecial(attr, req.Special), TargetScore: fx, Params: params}, nil
}
