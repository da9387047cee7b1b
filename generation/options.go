package generation

import (
	"fmt"
	"math"
	"strings"
)

// Defaults of Options, as Hugging Face's GenerationConfig has them (except
// MaxNewTokens, which transformers bounds through max_length = 20 in all).
const (
	DefaultMaxNewTokens    = 20
	DefaultTemperature     = 1.0
	DefaultTopK            = 50
	DefaultTopP            = 1.0
	DefaultTopAlternatives = 5
	// MaxNewTokensLimit bounds MaxNewTokens (the model's positions bound it further).
	MaxNewTokensLimit = 4096
	// MaxAlternatives bounds TopAlternatives.
	MaxAlternatives = 100
)

// Options are a generation's settings; start from DefaultOptions. The yaml and
// json names are those of a job config's generation section.
type Options struct {
	// MaxNewTokens bounds the generated tokens per prompt (stop tokens included).
	MaxNewTokens int `yaml:"max_new_tokens" json:"max_new_tokens"`
	// Sample draws each token from the (filtered) distribution; false is greedy
	// decoding (the most likely token, the lowest id on ties).
	Sample bool `yaml:"sample" json:"sample"`
	// Temperature divides the logits before sampling (> 0; sampling only).
	Temperature float64 `yaml:"temperature" json:"temperature"`
	// TopK keeps the K most likely tokens (ties with the K-th kept) before
	// sampling; 0 keeps all (sampling only).
	TopK int `yaml:"top_k" json:"top_k"`
	// TopP keeps the smallest set of most likely tokens whose probability
	// (after temperature and top-k) reaches TopP, in (0, 1]; 1 keeps all (sampling only).
	TopP float64 `yaml:"top_p" json:"top_p"`
	// StopStrings end a row's generation as soon as its continuation's text
	// contains one of them (the tokens that made it are kept).
	StopStrings []string `yaml:"stop_strings,omitempty" json:"stop_strings,omitempty"`
	// StopTokens end a row's generation when generated (and are kept as its
	// last step); nil means the model's EOS ids (generation_config.json, else
	// config.json); an empty non-nil list means none.
	StopTokens []int64 `yaml:"stop_tokens,omitempty" json:"stop_tokens,omitempty"`
	// TopAlternatives is the number of most likely tokens reported per step.
	TopAlternatives int `yaml:"top_alternatives" json:"top_alternatives"`
}

// DefaultOptions returns greedy decoding of DefaultMaxNewTokens tokens with
// the sampling settings at transformers' defaults.
func DefaultOptions() Options {
	return Options{
		MaxNewTokens:    DefaultMaxNewTokens,
		Temperature:     DefaultTemperature,
		TopK:            DefaultTopK,
		TopP:            DefaultTopP,
		TopAlternatives: DefaultTopAlternatives,
	}
}

// Validate reports the first setting out of range, naming it as the job
// config and the CLI do (max_new_tokens, temperature, ...).
func (o Options) Validate() error {
	if o.MaxNewTokens < 1 || o.MaxNewTokens > MaxNewTokensLimit {
		return fmt.Errorf("max_new_tokens is %d; want 1 to %d", o.MaxNewTokens, MaxNewTokensLimit)
	}
	if o.TopAlternatives < 0 || o.TopAlternatives > MaxAlternatives {
		return fmt.Errorf("top_alternatives is %d; want 0 to %d", o.TopAlternatives, MaxAlternatives)
	}
	for i, s := range o.StopStrings {
		if s == "" {
			return fmt.Errorf("stop_strings[%d] is empty; every stop string needs at least one character", i)
		}
	}
	for i, t := range o.StopTokens {
		if t < 0 {
			return fmt.Errorf("stop_tokens[%d] is %d; token ids are non-negative", i, t)
		}
	}
	if !o.Sample {
		return nil
	}
	if !(o.Temperature > 0) || math.IsInf(o.Temperature, 0) {
		return fmt.Errorf("temperature is %v; sampling needs a finite temperature > 0 (for the most likely token, turn sampling off)", o.Temperature)
	}
	if o.TopK < 0 {
		return fmt.Errorf("top_k is %d; want 0 (no top-k filter) or more", o.TopK)
	}
	if !(o.TopP > 0 && o.TopP <= 1) {
		return fmt.Errorf("top_p is %v; want a value in (0, 1] (1: no top-p filter)", o.TopP)
	}
	return nil
}

// String describes the decoding in a few words (for logs and errors).
func (o Options) String() string {
	var b strings.Builder
	if o.Sample {
		fmt.Fprintf(&b, "sampling (temperature %g, top_k %d, top_p %g)", o.Temperature, o.TopK, o.TopP)
	} else {
		b.WriteString("greedy")
	}
	fmt.Fprintf(&b, ", at most %d new tokens", o.MaxNewTokens)
	return b.String()
}
