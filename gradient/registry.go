package gradient

import "github.com/glassbox-ai/glassbox/explanation"

// The gradient methods' registry entries (see explanation.Register); each
// method's parameter struct is the method itself.
func init() {
	explanation.Register(explanation.Info{
		Name: "saliency", Rank: 70, Faithfulness: true, Needs: explanation.Needs{Gradients: true},
		Defaults: func() explanation.Params { return &SaliencyMethod{} },
		New:      func(p explanation.Params) (explanation.Method, error) { return *p.(*SaliencyMethod), nil },
	})
	explanation.Register(explanation.Info{
		Name: "gradxinput", Rank: 80, Faithfulness: true, Needs: explanation.Needs{Gradients: true},
		Defaults: func() explanation.Params { return &GradXInputMethod{} },
		New:      func(p explanation.Params) (explanation.Method, error) { return *p.(*GradXInputMethod), nil },
	})
	explanation.Register(explanation.Info{
		Name: "ig", Rank: 90, Faithfulness: true, Needs: explanation.Needs{Gradients: true},
		Defaults: func() explanation.Params {
			return &IGMethod{Steps: DefaultIGSteps, Baseline: BaselinePad, Rule: RuleGaussLegendre, MaxSteps: DefaultIGMaxSteps}
		},
		New: func(p explanation.Params) (explanation.Method, error) { return *p.(*IGMethod), nil },
	})
}
