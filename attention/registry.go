package attention

import (
	"context"

	"github.com/glassbox-ai/glassbox/explanation"
)

// The attention methods' registry entries (see explanation.Register); each
// method's parameter struct is the method itself.
func init() {
	explanation.Register(explanation.Info{
		Name: "attention", Rank: 40, Needs: explanation.Needs{Attention: true}, AttentionStats: true,
		Defaults: func() explanation.Params { return &RawMethod{Layer: LastLayer, Head: AllHeads} },
		New:      func(p explanation.Params) (explanation.Method, error) { return *p.(*RawMethod), nil },
	})
	explanation.Register(explanation.Info{
		Name: "rollout", Rank: 50, Needs: explanation.Needs{Attention: true},
		Defaults: func() explanation.Params { return &RolloutMethod{} },
		New:      func(p explanation.Params) (explanation.Method, error) { return *p.(*RolloutMethod), nil },
	})
	explanation.Register(explanation.Info{
		Name: "flow", Rank: 60, Needs: explanation.Needs{Attention: true},
		Defaults: func() explanation.Params { return &FlowMethod{MaxLength: DefaultFlowMaxLength} },
		New:      func(p explanation.Params) (explanation.Method, error) { return *p.(*FlowMethod), nil },
	})
}

// result is an attention method's answer: attributions at the request's
// position with special tokens zeroed, and f(x) from the request.
func result(ctx context.Context, req explanation.Request, attr []float64, params map[string]any) (explanation.Result, error) {
	fx, err := req.Score(ctx)
	if err != nil {
		return explanation.Result{}, err
	}
	tokens := make([]float64, len(req.Input.IDs))
	copy(tokens, attr)
	return explanation.Result{Tokens: explanation.ZeroSpecial(tokens, req.Special), TargetScore: fx, Params: params}, nil
}
