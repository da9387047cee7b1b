package explainer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/gradient"
	"github.com/glassbox-ai/glassbox/inference"

	// Every method registers itself; specs find them through the registry.
	_ "github.com/glassbox-ai/glassbox/methods"
)

// MethodConfig is one method as the job states it: its name and its
// parameters as JSON (the registered parameter struct's keys; keys left out
// keep their defaults).
type MethodConfig struct {
	// Name is the method's registered name.
	Name string `json:"name"`
	// Params are the method's parameters as JSON; empty means the defaults.
	Params json.RawMessage `json:"params,omitempty"`
}

// Spec is a serialisable description of an explainer, from which every worker opens its own.
type Spec struct {
	// Model is the model as the user named it: a folder or an .onnx file (see
	// inference.Locate), local or, with ModelFiles, a URL workers fetch it from.
	Model string `json:"model"`
	// ModelFiles are a remote Model's files and digests: each worker fetches
	// and verifies these before opening the model (transforms.MaterializeModel).
	ModelFiles []inference.StoredFile `json:"model_files,omitempty"`
	// ORTLibrary and ORTLibrarySHA256 are the ONNX Runtime library the launcher
	// loaded, which workers elsewhere on a shared filesystem load too (ortlib.Offer).
	ORTLibrary       string `json:"ort_library,omitempty"`
	ORTLibrarySHA256 string `json:"ort_library_sha256,omitempty"`
	// MaxLength is the truncation length in tokens; 0 means the model's default.
	MaxLength int `json:"max_length,omitempty"`
	// GraphPath is the ONNX file to load in place of model.onnx ("" = model.onnx), e.g. one exposing attention.
	GraphPath string `json:"graph_path,omitempty"`
	// GradientGraph is the ONNX file the gradient methods differentiate ("" =
	// the located model's own file), derived from it with any external data
	// still in the model's folder: the sanity check's randomised models. With a
	// GraphCache, ModelIdentity must identify this file's weights.
	GradientGraph string `json:"gradient_graph,omitempty"`
	// AttentionOutputs are GraphPath's attention outputs in layer order.
	AttentionOutputs []string `json:"attention_outputs,omitempty"`
	// GraphCache is the folder built backward graphs are cached in ("" = none; see gradient.Cache).
	GraphCache string `json:"graph_cache,omitempty"`
	// ModelIdentity identifies the model's bytes (graph and external data); it keys GraphCache.
	ModelIdentity string `json:"model_identity,omitempty"`
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
	// Surrogates records one surrogate example per predicted record.
	Surrogates bool `json:"surrogates,omitempty"`
	// Representations records each predicted record's pooled representation (the examples section).
	Representations bool `json:"representations,omitempty"`
	// HiddenOutput is GraphPath's last-hidden-state output, read for the probe and the representations ("" = none).
	HiddenOutput string `json:"hidden_output,omitempty"`
	// ProbePool is the probe's pooling: cls or mean.
	ProbePool string `json:"probe_pool,omitempty"`
	// Faithfulness, when set, measures the faithfulness of the rows of every
	// method whose registry entry has Info.Faithfulness; nil measures none.
	Faithfulness *Faithfulness `json:"faithfulness,omitempty"`
	// Counterfactuals, when set, searches the selected examples for minimal flipping edits; nil searches none.
	Counterfactuals *Counterfactuals `json:"counterfactuals,omitempty"`
	// Generation, when set, runs the generation mode (task: generation).
	Generation *GenerationSpec `json:"generation,omitempty"`
}

// Faithfulness turns on the per-row faithfulness metrics (package faithfulness).
type Faithfulness struct {
	// Masking is the masking request (auto, attention or replace; "" = auto)
	// for methods without a masking of their own (the gradient methods);
	// perturbation methods remove tokens by their own masking.
	Masking string `json:"masking,omitempty"`
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

// AttentionUsers names what in the spec reads the attention probabilities
// (methods that need them, attention_matrices); "" when nothing does.
func (s Spec) AttentionUsers() string {
	var users []string
	for _, m := range s.Methods {
		if info, ok := explanation.Lookup(m.Name); ok && info.Needs.Attention {
			users = append(users, "method "+m.Name)
		}
	}
	if s.AttentionFirstN > 0 || len(s.AttentionExamples) > 0 {
		users = append(users, "attention_matrices")
	}
	return strings.Join(users, ", ")
}

// NeedsAttention reports whether a selected method, or the attention matrices, read attention.
func (s Spec) NeedsAttention() bool { return s.AttentionUsers() != "" }

// BuildMethods turns method configs into validated method specs, through the method registry.
func BuildMethods(cfgs []MethodConfig) ([]MethodSpec, error) {
	var out []MethodSpec
	for _, c := range cfgs {
		info, ok := explanation.Lookup(c.Name)
		if !ok {
			return nil, fmt.Errorf("methods.%s: %w", c.Name, explanation.UnknownMethod(c.Name))
		}
		p := info.Defaults()
		if len(c.Params) > 0 {
			dec := json.NewDecoder(bytes.NewReader(c.Params))
			dec.DisallowUnknownFields()
			if err := dec.Decode(p); err != nil {
				return nil, fmt.Errorf("methods.%s: %w", c.Name, err)
			}
		}
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("methods.%s: %w", c.Name, err)
		}
		m, err := info.New(p)
		if err != nil {
			return nil, fmt.Errorf("methods.%s: %w", c.Name, err)
		}
		spec := MethodSpec{Info: info, Params: p, Method: m}
		if mk, ok := p.(explanation.Masked); ok {
			spec.MaskingRequested = mk.MaskingRequest()
		}
		out = append(out, spec)
	}
	return out, nil
}

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
	extra := s.AttentionOutputs
	if s.HiddenOutput != "" {
		extra = append(append([]string{}, extra...), s.HiddenOutput)
	}
	sess, err := m.NewSession(inference.SessionOptions{IntraOpThreads: s.IntraOpThreads, ExtraOutputs: extra})
	if err != nil {
		return nil, nil, err
	}
	examples := map[string]bool{}
	for _, id := range s.AttentionExamples {
		examples[id] = true
	}
	var gen *Generation
	if s.Generation != nil {
		if gen, err = newGeneration(s.Generation, sess, s.BatchSize); err != nil {
			sess.Close()
			return nil, nil, err
		}
	}
	ex, err := New(sess, s.AttentionOutputs, Settings{
		RunID: s.RunID, Seed: s.Seed, Target: s.Target, OutputKind: inference.OutputKind(s.OutputKind),
		BatchSize: s.BatchSize, Methods: methods, AttentionExamples: examples, AttentionFirstN: s.AttentionFirstN,
		IntraOpThreads: s.IntraOpThreads, GradientCache: gradient.Cache{Dir: s.GraphCache, Model: s.ModelIdentity},
		Surrogates: s.Surrogates, Representations: s.Representations, HiddenOutput: s.HiddenOutput, ProbePool: s.ProbePool, Faithfulness: s.Faithfulness, GradientGraph: s.GradientGraph,
		Counterfactuals: s.Counterfactuals,
		Generation:      gen,
	})
	if err != nil {
		sess.Close()
		return nil, nil, err
	}
	ex.shards = s.Shards
	return ex, func() error { ex.Close(); return sess.Close() }, nil
}

// Shards returns the number of output shards rows are spread over.
func (e *Explainer) Shards() int { return max(1, e.shards) }
