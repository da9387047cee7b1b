package jobconfig

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// MethodNames lists every method name a config may mention, in canonical order.
var MethodNames = []string{"occlusion", "kernelshap", "lime", "attention", "rollout", "flow", "saliency", "gradxinput", "ig"}

// notImplemented are the gradient methods: their parameters parse, but Validate rejects them until the gradient path exists.
var notImplemented = map[string]bool{"saliency": true, "gradxinput": true, "ig": true}

// Methods holds the enabled methods; a nil field is a method that does not run.
type Methods struct {
	Occlusion  *OcclusionParams  `yaml:"occlusion" json:"occlusion,omitempty"`
	KernelSHAP *KernelSHAPParams `yaml:"kernelshap" json:"kernelshap,omitempty"`
	LIME       *LIMEParams       `yaml:"lime" json:"lime,omitempty"`
	Attention  *AttentionParams  `yaml:"attention" json:"attention,omitempty"`
	Rollout    *RolloutParams    `yaml:"rollout" json:"rollout,omitempty"`
	Flow       *FlowParams       `yaml:"flow" json:"flow,omitempty"`
	Saliency   *SaliencyParams   `yaml:"saliency" json:"saliency,omitempty"`
	GradXInput *GradXInputParams `yaml:"gradxinput" json:"gradxinput,omitempty"`
	IG         *IGParams         `yaml:"ig" json:"ig,omitempty"`
}

// OcclusionParams are leave-one-out occlusion's parameters.
type OcclusionParams struct {
	// Level is "tokens" (one token absent at a time) or "words" (all tokens of a word together).
	Level string `yaml:"level" json:"level"`
	// Masking is "auto", "attention" or "replace" (see MaskingValues).
	Masking string `yaml:"masking" json:"masking"`
}

// KernelSHAPParams are KernelSHAP's parameters.
type KernelSHAPParams struct {
	// Samples is the coalition budget; 0 lets the method choose (exact enumeration when 2^n − 2 fits).
	Samples int `yaml:"samples" json:"samples"`
	// Players is "tokens" or "words".
	Players string `yaml:"players" json:"players"`
	// Masking is "auto", "attention" or "replace" (see MaskingValues).
	Masking string `yaml:"masking" json:"masking"`
}

// LIMEParams are LIME's parameters (words are the features).
type LIMEParams struct {
	// Samples is the number of perturbed samples.
	Samples int `yaml:"samples" json:"samples"`
	// KernelWidth is the exponential kernel's width over cosine distance × 100.
	KernelWidth float64 `yaml:"kernel_width" json:"kernel_width"`
	// Alpha is the ridge surrogate's L2 penalty.
	Alpha float64 `yaml:"alpha" json:"alpha"`
	// Masking is how removed words are made absent: "auto", "attention" or "replace" (see MaskingValues).
	Masking string `yaml:"masking" json:"masking"`
}

// AttentionParams are raw attention's parameters.
type AttentionParams struct {
	// Layer is the 0-based layer whose attention is reported; -1 is the last layer.
	Layer int `yaml:"layer" json:"layer"`
	// Head is the 0-based head; -1 averages the heads.
	Head int `yaml:"head" json:"head"`
}

// RolloutParams are attention rollout's parameters; it has none yet (the residual weight is fixed at 0.5 by conventions.md).
type RolloutParams struct{}

// FlowParams are attention flow's parameters.
type FlowParams struct {
	// MaxLength is the longest input (in tokens) flow is computed for; flow's max-flow cost grows fast with length.
	MaxLength int `yaml:"max_length" json:"max_length"`
}

// SaliencyParams are gradient saliency's parameters (none; the method is not yet implemented).
type SaliencyParams struct{}

// GradXInputParams are gradient × input's parameters (none; the method is not yet implemented).
type GradXInputParams struct{}

// IGParams are integrated gradients' parameters (the method is not yet implemented).
type IGParams struct {
	// Steps is the number of Gauss–Legendre points on the path.
	Steps int `yaml:"steps" json:"steps"`
	// Baseline is "pad" (the pad token's embedding) or "zeros".
	Baseline string `yaml:"baseline" json:"baseline"`
}

// MaskingAuto is the default masking: attention masking (conventions.md) where the
// model honours holes in the attention mask, else replace masking with a warning in
// the manifest. The check runs when the model opens (inference.Session.CheckAttentionMask).
const MaskingAuto = "auto"

// MaskingValues are the allowed masking values; an explicit "attention" is refused
// on a model that does not honour it rather than silently giving wrong numbers.
var MaskingValues = []string{MaskingAuto, "attention", "replace"}

// DefaultOcclusion returns occlusion's default parameters.
func DefaultOcclusion() *OcclusionParams {
	return &OcclusionParams{Level: "tokens", Masking: MaskingAuto}
}

// DefaultKernelSHAP returns KernelSHAP's default parameters.
func DefaultKernelSHAP() *KernelSHAPParams {
	return &KernelSHAPParams{Samples: 0, Players: "tokens", Masking: MaskingAuto}
}

// DefaultLIME returns LIME's default parameters (Ribeiro et al. 2016's text defaults).
func DefaultLIME() *LIMEParams {
	return &LIMEParams{Samples: 5000, KernelWidth: 25, Alpha: 1, Masking: MaskingAuto}
}

// DefaultAttention returns raw attention's default parameters: last layer, head average.
func DefaultAttention() *AttentionParams { return &AttentionParams{Layer: -1, Head: -1} }

// DefaultRollout returns rollout's default parameters.
func DefaultRollout() *RolloutParams { return &RolloutParams{} }

// DefaultFlow returns flow's default parameters.
func DefaultFlow() *FlowParams { return &FlowParams{MaxLength: 64} }

// DefaultSaliency returns saliency's default parameters.
func DefaultSaliency() *SaliencyParams { return &SaliencyParams{} }

// DefaultGradXInput returns gradient × input's default parameters.
func DefaultGradXInput() *GradXInputParams { return &GradXInputParams{} }

// DefaultIG returns integrated gradients' default parameters.
func DefaultIG() *IGParams { return &IGParams{Steps: 50, Baseline: "pad"} }

// methodSlot gives uniform access to one method's field of Methods.
type methodSlot struct {
	// isSet reports whether the method is enabled.
	isSet func() bool
	// value returns the field (e.g. *KernelSHAPParams); meaningful when isSet.
	value func() any
	// reset enables the method with its defaults and returns the new field.
	reset func() any
	// setCopy enables the method with a copy of another slot's value.
	setCopy func(v any)
}

func slotFor[T any](field **T, defaults func() *T) methodSlot {
	return methodSlot{
		isSet:   func() bool { return *field != nil },
		value:   func() any { return *field },
		reset:   func() any { *field = defaults(); return *field },
		setCopy: func(v any) { c := *v.(*T); *field = &c },
	}
}

// slot returns the field of m for a method name.
func (m *Methods) slot(name string) (methodSlot, bool) {
	switch name {
	case "occlusion":
		return slotFor(&m.Occlusion, DefaultOcclusion), true
	case "kernelshap":
		return slotFor(&m.KernelSHAP, DefaultKernelSHAP), true
	case "lime":
		return slotFor(&m.LIME, DefaultLIME), true
	case "attention":
		return slotFor(&m.Attention, DefaultAttention), true
	case "rollout":
		return slotFor(&m.Rollout, DefaultRollout), true
	case "flow":
		return slotFor(&m.Flow, DefaultFlow), true
	case "saliency":
		return slotFor(&m.Saliency, DefaultSaliency), true
	case "gradxinput":
		return slotFor(&m.GradXInput, DefaultGradXInput), true
	case "ig":
		return slotFor(&m.IG, DefaultIG), true
	}
	return methodSlot{}, false
}

// enabled reports whether the named method is set.
func (m *Methods) enabled(name string) bool {
	s, ok := m.slot(name)
	return ok && s.isSet()
}

// Names returns the enabled methods' names in canonical order.
func (m Methods) Names() []string {
	var out []string
	for _, n := range MethodNames {
		if m.enabled(n) {
			out = append(out, n)
		}
	}
	return out
}

// Params returns the enabled method's parameter struct (e.g. *KernelSHAPParams), or nil.
func (m Methods) Params(name string) any {
	if !m.enabled(name) {
		return nil
	}
	s, _ := m.slot(name)
	return s.value()
}

// UnmarshalYAML makes a methods mapping list exactly the methods to run, each
// starting from its defaults; "rollout:" with no value enables rollout too.
// Unknown names and keys were already rejected by checkKeys.
func (m *Methods) UnmarshalYAML(n *yaml.Node) error {
	*m = Methods{}
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("methods: want a mapping of method names to parameters")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, val := n.Content[i].Value, n.Content[i+1]
		slot, ok := m.slot(name)
		if !ok {
			return fmt.Errorf("methods.%s: unknown method (known: %s)", name, strings.Join(MethodNames, ", "))
		}
		params := slot.reset()
		if isNull(val) {
			continue
		}
		if err := val.Decode(params); err != nil {
			return fmt.Errorf("methods.%s: %w", name, err)
		}
	}
	return nil
}

// restrict returns the methods named in a comma list: those already
// configured keep their parameters, the others get defaults.
func (m Methods) restrict(list string) (Methods, error) {
	var out Methods
	listed := false
	for _, raw := range strings.Split(list, ",") {
		name := strings.TrimSpace(raw)
		if name == "" {
			continue
		}
		slot, ok := out.slot(name)
		if !ok {
			return Methods{}, fmt.Errorf("unknown method %q (known: %s)", name, strings.Join(MethodNames, ", "))
		}
		listed = true
		if out.enabled(name) {
			continue // listed twice
		}
		if src, _ := m.slot(name); src.isSet() {
			slot.setCopy(src.value())
		} else {
			slot.reset()
		}
	}
	if !listed {
		return Methods{}, fmt.Errorf("empty method list (known: %s)", strings.Join(MethodNames, ", "))
	}
	return out, nil
}

func oneOf(errs *[]error, key, value string, allowed ...string) {
	if !slices.Contains(allowed, value) {
		*errs = append(*errs, fmt.Errorf("%s: %q is not allowed (allowed: %s)", key, value, strings.Join(allowed, ", ")))
	}
}

func atLeast(errs *[]error, key string, value, min int, what string) {
	if value < min {
		*errs = append(*errs, fmt.Errorf("%s: %d is not allowed (%s)", key, value, what))
	}
}

func (m Methods) validate() []error {
	var errs []error
	names := m.Names()
	if len(names) == 0 {
		errs = append(errs, fmt.Errorf("methods: at least one method is required (known: %s)", strings.Join(MethodNames, ", ")))
	}
	for _, n := range names {
		if notImplemented[n] {
			errs = append(errs, fmt.Errorf("methods.%s: not yet implemented (gradient methods need the gradient model path; use occlusion, kernelshap, lime, attention, rollout or flow)", n))
		}
	}
	if p := m.Occlusion; p != nil {
		oneOf(&errs, "methods.occlusion.level", p.Level, "tokens", "words")
		oneOf(&errs, "methods.occlusion.masking", p.Masking, MaskingValues...)
	}
	if p := m.KernelSHAP; p != nil {
		atLeast(&errs, "methods.kernelshap.samples", p.Samples, 0, "0 = automatic, or a positive budget")
		oneOf(&errs, "methods.kernelshap.players", p.Players, "tokens", "words")
		oneOf(&errs, "methods.kernelshap.masking", p.Masking, MaskingValues...)
	}
	if p := m.LIME; p != nil {
		atLeast(&errs, "methods.lime.samples", p.Samples, 1, "must be at least 1")
		if !(p.KernelWidth > 0) {
			errs = append(errs, fmt.Errorf("methods.lime.kernel_width: %v is not allowed (must be positive)", p.KernelWidth))
		}
		if !(p.Alpha >= 0) {
			errs = append(errs, fmt.Errorf("methods.lime.alpha: %v is not allowed (must be at least 0)", p.Alpha))
		}
		oneOf(&errs, "methods.lime.masking", p.Masking, MaskingValues...)
	}
	if p := m.Attention; p != nil {
		atLeast(&errs, "methods.attention.layer", p.Layer, -1, "-1 = last layer, or a 0-based layer")
		atLeast(&errs, "methods.attention.head", p.Head, -1, "-1 = average of heads, or a 0-based head")
	}
	if p := m.Flow; p != nil {
		atLeast(&errs, "methods.flow.max_length", p.MaxLength, 1, "must be at least 1")
	}
	if p := m.IG; p != nil {
		atLeast(&errs, "methods.ig.steps", p.Steps, 1, "must be at least 1")
		oneOf(&errs, "methods.ig.baseline", p.Baseline, "pad", "zeros")
	}
	return errs
}
