package jobconfig

import (
	"fmt"

	"github.com/glassbox-ai/glassbox/generation"
)

// Tasks a job can run (Config.Task).
const (
	// TaskPredict explains the model's own prediction: a class, or a causal LM's next token (the default, also "").
	TaskPredict = "predict"
	// TaskGeneration continues every text with the causal LM and explains each generated token.
	TaskGeneration = "generation"
)

// Attribute-over choices of the generation section.
const (
	AttributePrompt  = "prompt"
	AttributeContext = "context"
)

// Generation is the generation section (task: generation): how prompts are
// continued (the generation package's options, under the same names) and
// what each generated token is explained over.
type Generation struct {
	// MaxNewTokens bounds the generated tokens per prompt (stop tokens included).
	MaxNewTokens int `yaml:"max_new_tokens" json:"max_new_tokens"`
	// Sample draws tokens at random (seeded per example); false is greedy decoding.
	Sample bool `yaml:"sample" json:"sample"`
	// Temperature divides the logits before sampling.
	Temperature float64 `yaml:"temperature" json:"temperature"`
	// TopK keeps the K most likely tokens before sampling (0 = all).
	TopK int `yaml:"top_k" json:"top_k"`
	// TopP keeps the smallest most-likely set of probability TopP before sampling (1 = all).
	TopP float64 `yaml:"top_p" json:"top_p"`
	// StopStrings end a continuation once its text contains one.
	StopStrings []string `yaml:"stop_strings" json:"stop_strings"`
	// StopTokens end a continuation when generated; unset means the model's EOS, [] none.
	StopTokens []int64 `yaml:"stop_tokens" json:"stop_tokens"`
	// TopAlternatives is the number of most likely tokens generations.parquet keeps per step.
	TopAlternatives int `yaml:"top_alternatives" json:"top_alternatives"`
	// AttributeOver is "prompt" (each generated token over the prompt's tokens)
	// or "context" (over the prompt and the tokens generated before it).
	AttributeOver string `yaml:"attribute_over" json:"attribute_over"`
	// Contrast, when set, is a vocabulary token B: each step explains
	// log p(t_j) − log p(B), "why t_j rather than B".
	Contrast string `yaml:"contrast" json:"contrast"`
	// Sequence adds one row per method for the whole continuation's log-probability.
	Sequence bool `yaml:"sequence" json:"sequence"`
}

// DefaultGeneration is the generation section in force when a config sets
// none: the generation package's defaults, attributed over the prompt.
func DefaultGeneration() Generation {
	o := generation.DefaultOptions()
	return Generation{
		MaxNewTokens: o.MaxNewTokens, Temperature: o.Temperature, TopK: o.TopK, TopP: o.TopP,
		TopAlternatives: o.TopAlternatives, AttributeOver: AttributePrompt, StopStrings: []string{},
	}
}

// Options returns the section's generation options.
func (g Generation) Options() generation.Options {
	return generation.Options{
		MaxNewTokens: g.MaxNewTokens, Sample: g.Sample, Temperature: g.Temperature, TopK: g.TopK, TopP: g.TopP,
		StopStrings: g.StopStrings, StopTokens: g.StopTokens, TopAlternatives: g.TopAlternatives,
	}
}

// validate reports the section's problems, each naming its key.
func (g Generation) validate() []error {
	var errs []error
	if err := g.Options().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("generation.%w", err))
	}
	switch g.AttributeOver {
	case AttributePrompt, AttributeContext:
	default:
		errs = append(errs, fmt.Errorf("generation.attribute_over: %q is not allowed (allowed: %s, %s)", g.AttributeOver, AttributePrompt, AttributeContext))
	}
	return errs
}

// Generating reports whether the job runs the generation task.
func (c *Config) Generating() bool { return c.Task == TaskGeneration }

// validateTask checks the task and, for generation, the options that do not apply to it.
func (c *Config) validateTask() []error {
	switch c.Task {
	case "", TaskPredict:
		return nil
	case TaskGeneration:
	default:
		return []error{fmt.Errorf("task: %q is not allowed (allowed: %s, %s)", c.Task, TaskPredict, TaskGeneration)}
	}
	errs := c.Generation.validate()
	if c.Target != TargetPredicted {
		errs = append(errs, fmt.Errorf("target: %q does not apply to task %s (each generated token is its own target; use generation.contrast for \"why A rather than B\")", c.Target, TaskGeneration))
	}
	if c.Surrogates.Enabled() {
		errs = append(errs, fmt.Errorf("surrogates: not available with task %s (surrogates imitate one prediction per text)", TaskGeneration))
	}
	if c.AttentionMatrices.FirstN > 0 || len(c.AttentionMatrices.Examples) > 0 {
		errs = append(errs, fmt.Errorf("attention_matrices: not available with task %s", TaskGeneration))
	}
	return errs
}
