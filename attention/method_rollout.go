package attention

import (
	"context"

	"github.com/glassbox-ai/glassbox/explanation"
)

// RolloutMethod is attention rollout (Abnar & Zuidema 2020, see Rollout); it
// has no parameters: conventions.md fixes the residual weight at 0.5.
type RolloutMethod struct{}

// Validate accepts the empty parameter set.
func (*RolloutMethod) Validate() error { return nil }

// Name returns "rollout".
func (RolloutMethod) Name() string { return "rollout" }

// Explain returns the rolled-out attention of the request's position.
func (RolloutMethod) Explain(ctx context.Context, _ explanation.Scorer, req explanation.Request) (explanation.Result, error) {
	attr, _, err := Rollout(Weights(req.Attention), req.Position)
	if err != nil {
		return explanation.Result{}, err
	}
	return result(ctx, req, attr, map[string]any{"query_position": req.Position})
}
