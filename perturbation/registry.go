package perturbation

import "github.com/glassbox-ai/glassbox/explanation"

// The perturbation methods' registry entries and job parameters
// (see explanation.Register). Every parameter struct carries the job's masking
// request, which the explainer resolves against the model.
func init() {
	explanation.Register(explanation.Info{
		Name: "occlusion", Rank: 10, Faithfulness: true,
		Defaults: func() explanation.Params {
			return &OcclusionParams{Level: string(explanation.PlayersTokens), Masking: explanation.MaskingAuto}
		},
		New: func(p explanation.Params) (explanation.Method, error) {
			return NewOcclusion(explanation.Players(p.(*OcclusionParams).Level))
		},
	})
	explanation.Register(explanation.Info{
		Name: "kernelshap", Rank: 20, Faithfulness: true,
		Defaults: func() explanation.Params {
			return &KernelSHAPParams{Players: string(explanation.PlayersTokens), Tolerance: DefaultKernelSHAPTolerance, Masking: explanation.MaskingAuto}
		},
		New: func(p explanation.Params) (explanation.Method, error) {
			k := p.(*KernelSHAPParams)
			return NewKernelSHAP(k.Samples, explanation.Players(k.Players), k.Tolerance)
		},
	})
	explanation.Register(explanation.Info{
		Name: "lime", Rank: 30, Faithfulness: true,
		Defaults: func() explanation.Params {
			return &LIMEParams{Samples: defaultLIMESamples, KernelWidth: defaultLIMEKernelWidth, Alpha: defaultLIMEAlpha, Tolerance: DefaultLIMETolerance, Masking: explanation.MaskingAuto}
		},
		New: func(p explanation.Params) (explanation.Method, error) {
			l := p.(*LIMEParams)
			return NewLIME(l.Samples, l.KernelWidth, l.Alpha, l.Tolerance)
		},
	})
}

// OcclusionParams are occlusion's job parameters.
type OcclusionParams struct {
	// Level is "tokens" (one token absent at a time) or "words" (all tokens of a word together).
	Level string `yaml:"level" json:"level"`
	// Masking is "auto", "attention" or "replace" (explanation.MaskingValues).
	Masking string `yaml:"masking" json:"masking"`
}

// Validate reports every invalid value.
func (p *OcclusionParams) Validate() error {
	var e explanation.ParamErrors
	e.OneOf("level", p.Level, string(explanation.PlayersTokens), string(explanation.PlayersWords))
	e.Masking(p.Masking)
	return e.Err()
}

// MaskingRequest returns the job's masking request.
func (p *OcclusionParams) MaskingRequest() string { return p.Masking }

// KernelSHAPParams are KernelSHAP's job parameters.
type KernelSHAPParams struct {
	// Samples is the most coalitions to score; 0 lets the method choose (exact enumeration when 2^n − 2 fits).
	Samples int `yaml:"samples" json:"samples"`
	// Players is "tokens" or "words".
	Players string `yaml:"players" json:"players"`
	// Tolerance stops sampling once every standard error is under this fraction of the values' scale; 0 spends the whole budget.
	Tolerance float64 `yaml:"tolerance" json:"tolerance"`
	// Masking is "auto", "attention" or "replace" (explanation.MaskingValues).
	Masking string `yaml:"masking" json:"masking"`
}

// Validate reports every invalid value.
func (p *KernelSHAPParams) Validate() error {
	var e explanation.ParamErrors
	e.AtLeast("samples", p.Samples, 0, "0 = automatic, or a positive budget")
	e.Check(p.Samples <= MaxKernelSHAPSamples, "samples", "%d is not allowed (at most %d)", p.Samples, MaxKernelSHAPSamples)
	e.OneOf("players", p.Players, string(explanation.PlayersTokens), string(explanation.PlayersWords))
	e.Check(p.Tolerance >= 0 && p.Tolerance < 1, "tolerance", "%v is not allowed (0 = spend the whole budget, or a fraction below 1)", p.Tolerance)
	e.Masking(p.Masking)
	return e.Err()
}

// MaskingRequest returns the job's masking request.
func (p *KernelSHAPParams) MaskingRequest() string { return p.Masking }

// LIMEParams are LIME's job parameters (words are the features).
type LIMEParams struct {
	// Samples is the most perturbed samples to draw.
	Samples int `yaml:"samples" json:"samples"`
	// KernelWidth is the exponential kernel's width over cosine distance × 100.
	KernelWidth float64 `yaml:"kernel_width" json:"kernel_width"`
	// Alpha is the ridge surrogate's L2 penalty.
	Alpha float64 `yaml:"alpha" json:"alpha"`
	// Tolerance stops drawing samples once every coefficient's standard error is under this fraction of their scale; 0 draws them all.
	Tolerance float64 `yaml:"tolerance" json:"tolerance"`
	// Masking is how removed words are made absent: "auto", "attention" or "replace".
	Masking string `yaml:"masking" json:"masking"`
}

// Validate reports every invalid value.
func (p *LIMEParams) Validate() error {
	var e explanation.ParamErrors
	e.AtLeast("samples", p.Samples, 1, "must be at least 1")
	e.Check(p.Samples <= MaxKernelSHAPSamples, "samples", "%d is not allowed (at most %d)", p.Samples, MaxKernelSHAPSamples)
	e.Check(p.KernelWidth > 0, "kernel_width", "%v is not allowed (must be positive)", p.KernelWidth)
	e.Check(p.Alpha >= 0, "alpha", "%v is not allowed (must be at least 0)", p.Alpha)
	e.Check(p.Tolerance >= 0 && p.Tolerance < 1, "tolerance", "%v is not allowed (0 = draw every sample, or a fraction below 1)", p.Tolerance)
	e.Masking(p.Masking)
	return e.Err()
}

// MaskingRequest returns the job's masking request.
func (p *LIMEParams) MaskingRequest() string { return p.Masking }
