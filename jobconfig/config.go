package jobconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/glassbox-ai/glassbox/counterfactual"
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/prototypes"
	"github.com/glassbox-ai/glassbox/surrogate"
)

// Config is the job's configuration; its YAML and JSON keys are the snake_case names in the tags.
type Config struct {
	// Input says where the corpus is and how to read it.
	Input Input `yaml:"input" json:"input"`
	// Model is the model: a folder in Hugging Face layout (model.onnx or onnx/model.onnx,
	// tokenizer.json, config.json) or the .onnx file itself (see inference.Locate).
	Model string `yaml:"model" json:"model"`
	// Target is which label is explained: "predicted", "all" or a label name.
	Target string `yaml:"target" json:"target"`
	// OutputKind is what is explained: "probability" (after softmax/sigmoid) or "logit".
	OutputKind string `yaml:"output_kind" json:"output_kind"`
	// BatchSize is the number of model inputs per ONNX Runtime call.
	BatchSize int `yaml:"batch_size" json:"batch_size"`
	// Output is the output directory (local path or URL).
	Output string `yaml:"output" json:"output"`
	// Seed is the run seed every per-example random choice derives from.
	Seed uint64 `yaml:"seed" json:"seed"`
	// RunID overrides the derived run id when non-empty.
	RunID string `yaml:"run_id" json:"run_id"`
	// Shards is the number of explanation (and attention) output files.
	Shards int `yaml:"shards" json:"shards"`
	// Methods are the attribution methods to run, each with its parameters.
	Methods Methods `yaml:"methods" json:"methods"`
	// AttentionMatrices selects examples whose full attention matrices are written.
	AttentionMatrices AttentionMatrices `yaml:"attention_matrices" json:"attention_matrices"`
	// IntraOpThreads is ONNX Runtime's intra-op thread count; 0 lets ONNX Runtime choose.
	IntraOpThreads int `yaml:"intra_op_threads" json:"intra_op_threads"`
	// MaxLength is the truncation length in tokens; 0 uses the model's own (tokenizer_config.json's
	// model_max_length, else tokenizer.json's truncation, capped by the position embeddings).
	MaxLength int `yaml:"max_length" json:"max_length"`
	// Surrogates are the corpus-wide surrogate models fitted after the per-example stages (off by default).
	Surrogates surrogate.Config `yaml:"surrogates" json:"surrogates"`
	// Faithfulness measures each explanation's faithfulness (on by default for the
	// methods whose registry entry says so: perturbation and gradient methods).
	Faithfulness Faithfulness `yaml:"faithfulness" json:"faithfulness"`
	// Counterfactuals searches examples for a minimal edit that flips the prediction (off by default).
	Counterfactuals counterfactual.Config `yaml:"counterfactuals" json:"counterfactuals"`
	// Task is "predict" (the default; "" too) or "generation" (continue each
	// text with a causal LM and explain every generated token).
	Task string `yaml:"task" json:"task"`
	// Generation configures task generation (ignored by other tasks).
	Generation Generation `yaml:"generation" json:"generation"`
	// Examples are the example-based explanations over the pooled representations
	// (prototypes and criticisms by MMD-critic, nearest neighbours; off by default).
	Examples prototypes.Config `yaml:"examples" json:"examples"`
	// Int8 scores the model through its int8 graph (onnxgraph.QuantizeDynamic:
	// dynamic quantisation of the MatMul weights, written beside the run) in
	// every method that runs the model forward; gradient methods keep the float
	// graph. Off by default.
	Int8 bool `yaml:"int8" json:"int8"`
}

// Faithfulness configures the per-explanation faithfulness metrics
// (shared/conventions.md, "Faithfulness"; schemas/README.md).
type Faithfulness struct {
	// Enabled computes them for every selected method whose registry entry has
	// explanation.Info.Faithfulness (occlusion, kernelshap, lime, saliency,
	// gradxinput, ig; never the attention methods).
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Masking is how tokens are removed for methods without a masking of their
	// own (the gradient methods): auto, attention or replace, resolved as a
	// method's is. Perturbation methods remove tokens by their own masking.
	Masking string `yaml:"masking" json:"masking"`
}

// DefaultFaithfulness is the faithfulness option in force when a config sets none: on, auto masking.
func DefaultFaithfulness() Faithfulness {
	return Faithfulness{Enabled: true, Masking: explanation.MaskingAuto}
}

// FaithfulnessMethods returns the selected methods whose rows get faithfulness
// metrics, in canonical order; none when the option is off.
func (c *Config) FaithfulnessMethods() []string {
	if !c.Faithfulness.Enabled {
		return nil
	}
	var out []string
	for _, n := range c.Methods.Names() {
		if info, ok := explanation.Lookup(n); ok && info.Faithfulness {
			out = append(out, n)
		}
	}
	return out
}

// Input locates and describes the corpus.
type Input struct {
	// Path is a file, directory or glob (local), or a URL pattern the pipeline expands.
	Path string `yaml:"path" json:"path"`
	// Format is text, jsonl, csv or parquet; empty infers it from each file's extension.
	Format string `yaml:"format" json:"format"`
	// TextField is the field (JSON key, CSV or Parquet column) holding the text.
	TextField string `yaml:"text_field" json:"text_field"`
	// IDField is the optional id field.
	IDField string `yaml:"id_field" json:"id_field"`
	// LabelField is the optional gold label field.
	LabelField string `yaml:"label_field" json:"label_field"`
}

// AttentionMatrices selects the examples whose attention matrices are written to attention-*.parquet.
type AttentionMatrices struct {
	// Examples lists example ids to write matrices for.
	Examples []string `yaml:"examples" json:"examples"`
	// FirstN also writes matrices for the first N examples of each input file (by line).
	FirstN int `yaml:"first_n" json:"first_n"`
}

// Allowed values of the enumerated options.
const (
	TargetPredicted = "predicted"
	TargetAll       = "all"

	OutputProbability = "probability"
	OutputLogit       = "logit"
)

// Default returns the configuration in force when a YAML file sets nothing:
// occlusion only, explaining the predicted class's probability.
func Default() *Config {
	return &Config{
		Input: Input{
			TextField:  "text",
			IDField:    "id",
			LabelField: "label",
		},
		Target:            TargetPredicted,
		OutputKind:        OutputProbability,
		BatchSize:         inference.DefaultBatchSize,
		Output:            "out",
		Seed:              1,
		Shards:            4,
		Methods:           defaultMethods(),
		AttentionMatrices: AttentionMatrices{Examples: []string{}},
		Surrogates:        surrogate.DefaultConfig(),
		Faithfulness:      DefaultFaithfulness(),
		Counterfactuals:   counterfactual.DefaultConfig(),
		Task:              TaskPredict,
		Generation:        DefaultGeneration(),
		Examples:          prototypes.DefaultConfig(),
	}
}

// defaultMethods is what runs when a config names no method: occlusion.
func defaultMethods() Methods {
	m, err := NewMethods("occlusion")
	if err != nil {
		panic(err) // occlusion is registered by the methods package this one imports
	}
	return m
}

// Load reads the YAML config at path strictly (see Parse).
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes a YAML config over Default(): keys it omits keep their
// defaults, except that a methods mapping lists exactly the methods to run
// (each with defaults for the parameters it omits). Unknown keys and
// ill-typed values are errors naming the key path. Values are not validated;
// call Validate after ApplyOverrides.
func Parse(data []byte) (*Config, error) {
	cfg := Default()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse yaml: %w", err)
	}
	if doc.Kind == 0 { // empty document
		return cfg, nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if isNull(root) {
		return cfg, nil
	}
	if err := checkKeys(root, typeOfConfig, ""); err != nil {
		return nil, err
	}
	if err := root.Decode(cfg); err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	if cfg.AttentionMatrices.Examples == nil {
		cfg.AttentionMatrices.Examples = []string{}
	}
	if cfg.Surrogates.Kinds == nil {
		cfg.Surrogates.Kinds = []string{}
	}
	return cfg, nil
}

// Canonical returns the deterministic JSON of the config in force (fixed key
// order, enabled methods only, every parameter explicit); it is hashed into
// the run id and embedded in the manifest. The surrogates section is left out
// while no surrogate is selected, and the faithfulness section while it
// measures no selected method, and the counterfactuals and examples sections
// while they are off, so such runs keep the ids they had before these
// sections existed; so are the task and generation section except for task
// generation, and int8 while it is false.
func (c *Config) Canonical() ([]byte, error) {
	type plain Config
	v := struct {
		*plain
		Surrogates      *surrogate.Config      `json:"surrogates,omitempty"`
		Faithfulness    *Faithfulness          `json:"faithfulness,omitempty"`
		Counterfactuals *counterfactual.Config `json:"counterfactuals,omitempty"`
		Examples        *prototypes.Config     `json:"examples,omitempty"`
		Task            string                 `json:"task,omitempty"`
		Generation      *Generation            `json:"generation,omitempty"`
		Int8            bool                   `json:"int8,omitempty"`
	}{plain: (*plain)(c), Int8: c.Int8}
	if c.Counterfactuals.Enabled {
		v.Counterfactuals = &c.Counterfactuals
	}
	if c.Examples.Enabled {
		v.Examples = &c.Examples
	}
	if c.Generating() {
		v.Task, v.Generation = c.Task, &c.Generation
	}
	if c.Surrogates.Enabled() {
		v.Surrogates = &c.Surrogates
	}
	if len(c.FaithfulnessMethods()) > 0 {
		v.Faithfulness = &c.Faithfulness
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("canonical config: %w", err)
	}
	return b, nil
}

// Overrides are CLI flag values; a nil field leaves the config unchanged.
type Overrides struct {
	Model      *string
	Input      *string
	Format     *string
	TextField  *string
	IDField    *string
	LabelField *string
	// Methods is a comma-separated list: exactly these methods run, each keeping
	// the YAML's parameters if it had them and defaults otherwise.
	Methods *string
	// Surrogates is a comma-separated list of surrogate kinds (ridge, logistic, tree, probe), or none.
	Surrogates *string
	Target     *string
	Output     *string
	Seed       *uint64
	RunID      *string
	BatchSize  *int
	MaxLength  *int
}

// ApplyOverrides applies CLI flag values; it fails only on a malformed
// methods list (values are checked by Validate).
func (c *Config) ApplyOverrides(o Overrides) error {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&c.Model, o.Model)
	set(&c.Input.Path, o.Input)
	set(&c.Input.Format, o.Format)
	set(&c.Input.TextField, o.TextField)
	set(&c.Input.IDField, o.IDField)
	set(&c.Input.LabelField, o.LabelField)
	set(&c.Target, o.Target)
	set(&c.Output, o.Output)
	set(&c.RunID, o.RunID)
	if o.Seed != nil {
		c.Seed = *o.Seed
	}
	if o.BatchSize != nil {
		c.BatchSize = *o.BatchSize
	}
	if o.MaxLength != nil {
		c.MaxLength = *o.MaxLength
	}
	if o.Methods != nil {
		m, err := c.Methods.restrict(*o.Methods)
		if err != nil {
			return fmt.Errorf("--methods: %w", err)
		}
		c.Methods = m
	}
	if o.Surrogates != nil {
		k, err := surrogate.ParseKinds(*o.Surrogates)
		if err != nil {
			return fmt.Errorf("--surrogates: %w", err)
		}
		c.Surrogates.Kinds = k
	}
	return nil
}

// Validate checks every value, reporting all problems at once, each naming
// its key and the allowed values.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if strings.TrimSpace(c.Input.Path) == "" {
		bad("input.path", "required (a file, directory or glob)")
	}
	switch c.Input.Format {
	case "", "text", "jsonl", "csv", "parquet":
	default:
		bad("input.format", "%q is not allowed (allowed: text, jsonl, csv, parquet, or empty to infer from the extension)", c.Input.Format)
	}
	if c.Input.TextField == "" {
		bad("input.text_field", "must not be empty")
	}
	if c.Input.IDField == "" {
		bad("input.id_field", "must not be empty")
	}
	if c.Input.LabelField == "" {
		bad("input.label_field", "must not be empty")
	}
	if strings.TrimSpace(c.Model) == "" {
		bad("model", "required (a model folder with model.onnx, tokenizer.json, config.json, or the .onnx file)")
	}
	if strings.TrimSpace(c.Target) == "" {
		bad("target", "must not be empty (allowed: predicted, all, or a label name)")
	}
	switch c.OutputKind {
	case OutputProbability, OutputLogit:
	default:
		bad("output_kind", "%q is not allowed (allowed: probability, logit)", c.OutputKind)
	}
	if c.BatchSize < 1 {
		bad("batch_size", "%d is not allowed (must be at least 1)", c.BatchSize)
	}
	if strings.TrimSpace(c.Output) == "" {
		bad("output", "required (an output directory)")
	}
	if c.RunID != "" && !validRunID(c.RunID) {
		bad("run_id", "%q is not allowed (letters, digits, '-', '_' and '.' only, at most 128 characters)", c.RunID)
	}
	if c.Shards < 1 {
		bad("shards", "%d is not allowed (must be at least 1)", c.Shards)
	}
	if c.MaxLength < 0 {
		bad("max_length", "%d is not allowed (0 = the model's own length, or a positive token count)", c.MaxLength)
	}
	if c.IntraOpThreads < 0 {
		bad("intra_op_threads", "%d is not allowed (0 = ONNX Runtime's choice, or a positive count)", c.IntraOpThreads)
	}
	if c.AttentionMatrices.FirstN < 0 {
		bad("attention_matrices.first_n", "%d is not allowed (must be at least 0)", c.AttentionMatrices.FirstN)
	}
	for i, id := range c.AttentionMatrices.Examples {
		if id == "" {
			bad(fmt.Sprintf("attention_matrices.examples[%d]", i), "must not be empty")
		}
	}
	errs = append(errs, c.validateTask()...)
	if c.Int8 && c.Generating() {
		bad("int8", "true is not available with task generation (its effect is measured on a sample's predicted labels and attributions); set int8: false")
	}
	errs = append(errs, c.Counterfactuals.Validate("counterfactuals")...)
	if c.Counterfactuals.Enabled {
		names := c.Methods.Names()
		switch {
		case len(names) == 0:
			bad("counterfactuals.enabled", "true needs at least one method: its attributions order the words the search edits")
		case c.Counterfactuals.Guide != "" && !slices.Contains(names, c.Counterfactuals.Guide):
			bad("counterfactuals.guide", "%q is not a selected method (selected: %s)", c.Counterfactuals.Guide, strings.Join(names, ", "))
		}
	}
	errs = append(errs, c.Methods.validate(c.Surrogates.Enabled() || c.Examples.Enabled)...)
	errs = append(errs, c.Surrogates.Validate("surrogates")...)
	if c.Examples.Enabled {
		errs = append(errs, c.Examples.Validate("examples")...)
		if len(c.Methods.Names()) == 0 && !c.Surrogates.Enabled() && c.Examples.Neighbours == 0 && !c.Examples.Embeddings {
			bad("examples", "with no method and no surrogate, set neighbours > 0 or embeddings: true, so every example has a row the run is checked against")
		}
		if c.Surrogates.Has(surrogate.KindProbe) && c.Surrogates.Probe.Pool != c.Examples.Pool {
			bad("examples.pool", "%q differs from surrogates.probe.pool %q: the run pools the hidden state once, so set both alike", c.Examples.Pool, c.Surrogates.Probe.Pool)
		}
	}
	if !slices.Contains(explanation.MaskingValues, c.Faithfulness.Masking) {
		bad("faithfulness.masking", "%q is not allowed (allowed: %s)", c.Faithfulness.Masking, strings.Join(explanation.MaskingValues, ", "))
	}
	errs = append(errs, nonFinite(reflect.ValueOf(c), "")...)
	for _, n := range c.Methods.Names() {
		errs = append(errs, nonFinite(reflect.ValueOf(c.Methods.Params(n)), "methods."+n)...)
	}
	return errors.Join(errs...)
}

// validRunID keeps run ids safe as path components and warehouse values.
func validRunID(s string) bool {
	if len(s) > 128 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}
