package explainer

import (
	"encoding/json"
	"fmt"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/perturbation"
)

// MethodConfig is one method's parameters as the job states them (zero values mean defaults).
type MethodConfig struct {
	// Name is the method name.
	Name string `json:"name"`
	// Masking is auto (the default), attention or replace (perturbation methods).
	Masking string `json:"masking,omitempty"`
	// Level is tokens or words (occlusion).
	Level string `json:"level,omitempty"`
	// Players is tokens or words (kernelshap).
	Players string `json:"players,omitempty"`
	// Samples is the sample budget (kernelshap, lime).
	Samples int `json:"samples,omitempty"`
	// KernelWidth is LIME's kernel width.
	KernelWidth float64 `json:"kernel_width,omitempty"`
	// Alpha is LIME's ridge penalty.
	Alpha float64 `json:"alpha,omitempty"`
	// Layer is the attention method's layer (-1 = last).
	Layer int `json:"layer,omitempty"`
	// Head is the attention method's head (-1 = the average over heads).
	Head int `json:"head,omitempty"`
	// MaxLength bounds attention flow's sequence length.
	MaxLength int `json:"max_length,omitempty"`
}

// Spec is a serialisable description of an explainer, from which every worker opens its own.
type Spec struct {
	// Model is the model as the user named it: a folder or an .onnx file (see inference.Locate).
	Model string `json:"model"`
	// MaxLength is the truncation length in tokens; 0 means the model's default.
	MaxLength int `json:"max_length,omitempty"`
	// GraphPath is the ONNX file to load in place of model.onnx ("" = model.onnx), e.g. one exposing attention.
	GraphPath string `json:"graph_path,omitempty"`
	// AttentionOutputs are GraphPath's attention outputs in layer order.
	AttentionOutputs []string `json:"attention_outputs,omitempty"`
	// IntraOpThreads is ONNX Runtime's intra-op thread count (0 = ORT's choice).
	IntraOpThreads int `json:"intra_op_threads,omitempty"`
	// RunID is written on every row.
	RunID string `json:"run_id"`
	// Seed is the run seed.
	Seed uint64 `json:"seed"`
	// Target is predicted, all or a label.
	Target string `json:"target"`
	// OutputKind is probability or logit.
	OutputKind string `json:"output_kind"`
	// BatchSize bounds the rows per ONNX Runtime call.
	BatchSize int `json:"batch_size"`
	// Shards is the number of output shards rows are spread over.
	Shards int `json:"shards"`
	// Methods are the selected methods in output order.
	Methods []MethodConfig `json:"methods"`
	// AttentionExamples selects examples by id for full attention matrices.
	AttentionExamples []string `json:"attention_examples,omitempty"`
	// AttentionFirstN selects the first N rows of each file for full attention matrices.
	AttentionFirstN int `json:"attention_first_n,omitempty"`
}

// Encode returns the spec's JSON.
func (s Spec) Encode() ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode explainer spec: %w", err)
	}
	return b, nil
}

// ParseSpec decodes a spec written by Encode.
func ParseSpec(b []byte) (Spec, error) {
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return Spec{}, fmt.Errorf("decode explainer spec: %w", err)
	}
	return s, nil
}

// NeedsAttention reports whether a selected method reads attention.
func (s Spec) NeedsAttention() bool {
	for _, m := range s.Methods {
		if (MethodSpec{Name: m.Name}).Kind() == KindAttention {
			return true
		}
	}
	return s.AttentionFirstN > 0 || len(s.AttentionExamples) > 0
}

// BuildMethods turns method configs into validated method specs.
func BuildMethods(cfgs []MethodConfig) ([]MethodSpec, error) {
	var out []MethodSpec
	for _, c := range cfgs {
		spec := MethodSpec{Name: c.Name, MaskingRequested: c.Masking, Layer: c.Layer, Head: c.Head, FlowMaxLength: c.MaxLength, Params: map[string]any{}}
		switch c.Name {
		case "occlusion", "kernelshap", "lime":
			if spec.MaskingRequested == "" {
				spec.MaskingRequested = MaskingAuto
			}
			switch spec.MaskingRequested {
			case MaskingAuto, string(explanation.MaskAttention), string(explanation.MaskReplace):
			default:
				return nil, fmt.Errorf("methods.%s.masking: %q is not %q, %q or %q", c.Name, c.Masking, MaskingAuto, explanation.MaskAttention, explanation.MaskReplace)
			}
			if spec.MaskingRequested != MaskingAuto {
				spec.Masking = explanation.Masking(spec.MaskingRequested)
			}
		}
		var err error
		switch c.Name {
		case "occlusion":
			var o perturbation.Occlusion
			o, err = perturbation.NewOcclusion(explanation.Players(c.Level))
			spec.Perturb = o
			spec.Params["level"] = string(o.Level)
		case "kernelshap":
			var k perturbation.KernelSHAP
			k, err = perturbation.NewKernelSHAP(c.Samples, explanation.Players(c.Players))
			spec.Perturb = k
			spec.Params["players"] = string(k.Players)
		case "lime":
			var l perturbation.LIME
			l, err = perturbation.NewLIME(c.Samples, c.KernelWidth, c.Alpha)
			spec.Perturb = l
		case "attention":
			// Layer counts from 0; negative values count from the last layer (-1 = last).
			spec.Params["head"] = c.Head
		case "rollout":
		case "flow":
			if spec.FlowMaxLength <= 0 {
				spec.FlowMaxLength = DefaultFlowMaxLength
			}
			spec.Params["max_length"] = spec.FlowMaxLength
		case "saliency", "gradxinput", "ig":
			return nil, fmt.Errorf("methods.%s: gradient methods are not implemented yet", c.Name)
		default:
			return nil, fmt.Errorf("methods.%s: unknown method (known: occlusion, kernelshap, lime, attention, rollout, flow)", c.Name)
		}
		if err != nil {
			return nil, fmt.Errorf("methods.%s: %w", c.Name, err)
		}
		out = append(out, spec)
	}
	return out, nil
}

// MaskingAuto is the default masking request: attention masking where the model
// honours holes in the attention mask (checked when the explainer opens), else
// replace masking, with the reason in the run's manifest.
const MaskingAuto = "auto"

// DefaultFlowMaxLength bounds attention flow by default: its cost grows as n^4 or so.
const DefaultFlowMaxLength = 64

// Open loads the model, opens its ONNX Runtime session and returns the
// explainer with a function that closes the session.
func Open(s Spec) (*Explainer, func() error, error) {
	methods, err := BuildMethods(s.Methods)
	if err != nil {
		return nil, nil, err
	}
	m, err := inference.LoadWith(s.Model, inference.LoadOptions{Graph: s.GraphPath, MaxLength: s.MaxLength})
	if err != nil {
		return nil, nil, err
	}
	sess, err := m.NewSession(inference.SessionOptions{IntraOpThreads: s.IntraOpThreads, ExtraOutputs: s.AttentionOutputs})
	if err != nil {
		return nil, nil, err
	}
	examples := map[string]bool{}
	for _, id := range s.AttentionExamples {
		examples[id] = true
	}
	ex, err := New(sess, s.AttentionOutputs, Settings{
		RunID: s.RunID, Seed: s.Seed, Target: s.Target, OutputKind: inference.OutputKind(s.OutputKind),
		BatchSize: s.BatchSize, Methods: methods, AttentionExamples: examples, AttentionFirstN: s.AttentionFirstN,
	})
	if err != nil {
		sess.Close()
		return nil, nil, err
	}
	ex.shards = s.Shards
	return ex, sess.Close, nil
}

// Shards returns the number of output shards rows are spread over.
func (e *Explainer) Shards() int { return max(1, e.shards) }
