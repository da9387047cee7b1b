package attention

import (
	"context"

	"github.com/glassbox-ai/glassbox/explanation"
)

// DefaultFlowMaxLength bounds attention flow by default: its max-flow cost grows
// as n^4 or so, and at 64 tokens one example takes milliseconds.
const DefaultFlowMaxLength = 64

// FlowMethod is attention flow (see Flow), refused beyond MaxLength tokens.
type FlowMethod struct {
	// MaxLength is the longest input, in tokens, flow is computed for.
	MaxLength int `yaml:"max_length" json:"max_length"`
}

// Validate reports every invalid value.
func (m *FlowMethod) Validate() error {
	var e explanation.ParamErrors
	e.AtLeast("max_length", m.MaxLength, 1, "must be at least 1")
	return e.Err()
}

// Name returns "flow".
func (FlowMethod) Name() string { return "flow" }

// Explain returns the maximum flow from the request's position to each input position.
func (m FlowMethod) Explain(ctx context.Context, _ explanation.Scorer, req explanation.Request) (explanation.Result, error) {
	attr, err := Flow(Weights(req.Attention), req.Position, m.MaxLength)
	if err != nil {
		return explanation.Result{}, err
	}
	return result(ctx, req, attr, map[string]any{"query_position": req.Position, "max_length": m.MaxLength})
}
