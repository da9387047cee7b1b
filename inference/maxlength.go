package inference

import (
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/glassbox-ai/glassbox/tokenizer"
)

// Where a model's truncation length came from; the manifest records the rule with the value.
const (
	// MaxLengthOption is the user's max_length (job config or --max-length).
	MaxLengthOption = "max_length option"
	// MaxLengthTokenizerConfig is tokenizer_config.json's model_max_length.
	MaxLengthTokenizerConfig = "tokenizer_config.json model_max_length"
	// MaxLengthTokenizer is tokenizer.json's truncation.max_length.
	MaxLengthTokenizer = "tokenizer.json truncation"
	// MaxLengthPositions is config.json's position-embedding count.
	MaxLengthPositions = "config.json max_position_embeddings"
)

// noLimit is where model_max_length stops being a length: transformers writes
// VERY_LARGE_INTEGER (1e30) for "no limit", and no model takes a billion tokens.
const noLimit = 1e9

// resolveMaxLength chooses the truncation length: the user's value if set;
// else tokenizer_config.json's model_max_length when it is a real length;
// else tokenizer.json's own truncation; each capped by the model's positions.
// A user value beyond the positions is an error rather than a silent cap,
// since the user asked for something the model cannot do.
func resolveMaxLength(requested int, f Files, cfg *Config, tok *tokenizer.Tokenizer) (int, string, error) {
	positions := cfg.MaxPositions
	if requested < 0 {
		return 0, "", fmt.Errorf("max_length %d: must be positive (0 = the model's default)", requested)
	}
	if requested > 0 {
		if positions > 0 && requested > positions {
			return 0, "", fmt.Errorf("max_length %d exceeds the %d positions %s allows", requested, positions, f.Config())
		}
		return requested, MaxLengthOption, nil
	}
	n, rule := 0, ""
	fromConfig, err := modelMaxLength(f.TokenizerConfig())
	if err != nil {
		return 0, "", err
	}
	switch {
	case fromConfig > 0:
		n, rule = fromConfig, MaxLengthTokenizerConfig
	case tok.Truncation() != nil && tok.Truncation().MaxLength > 0:
		n, rule = tok.Truncation().MaxLength, MaxLengthTokenizer
	case positions > 0:
		return positions, MaxLengthPositions, nil
	default:
		return 0, "", fmt.Errorf("%s: field \"max_position_embeddings\" is missing (and neither %s nor %s sets a length)", f.Config(), TokenizerConfigFile, TokenizerFile)
	}
	if positions > 0 && n > positions {
		return positions, rule + ", capped by " + MaxLengthPositions, nil
	}
	return n, rule, nil
}

// modelMaxLength reads model_max_length from tokenizer_config.json; 0 when the
// file or the field is absent or holds transformers' "no limit" sentinel.
func modelMaxLength(path string) (int, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	var raw struct {
		ModelMaxLength *float64 `json:"model_max_length"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if raw.ModelMaxLength == nil {
		return 0, nil
	}
	v := *raw.ModelMaxLength
	if v >= noLimit {
		return 0, nil
	}
	if v < 1 || v != math.Trunc(v) {
		return 0, fmt.Errorf("%s: field \"model_max_length\" must be a positive integer, got %v", path, v)
	}
	return int(v), nil
}
