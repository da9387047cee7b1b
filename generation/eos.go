package generation

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/glassbox-ai/glassbox/inference"
)

// GenerationConfigFile is Hugging Face's file of generation defaults, beside config.json.
const GenerationConfigFile = "generation_config.json"

// EOSTokens returns the model's end-of-sequence ids: eos_token_id (an id or a
// list) of generation_config.json when it sets one, else of config.json, as
// transformers' generate takes them; none if neither sets it.
func EOSTokens(m *inference.Model) ([]int64, error) {
	cfg := m.Files.Config()
	for _, path := range []string{filepath.Join(filepath.Dir(cfg), GenerationConfigFile), cfg} {
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		ids, ok, err := parseEOS(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if ok {
			return ids, nil
		}
	}
	return nil, nil
}

// parseEOS reads eos_token_id from a config's JSON; ok is false when it is absent or null.
func parseEOS(data []byte) (ids []int64, ok bool, err error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, false, fmt.Errorf("not a JSON object: %w", err)
	}
	v, found := raw["eos_token_id"]
	if !found || string(v) == "null" {
		return nil, false, nil
	}
	var one int64
	if err := json.Unmarshal(v, &one); err == nil {
		ids = []int64{one}
	} else if err := json.Unmarshal(v, &ids); err != nil {
		return nil, false, fmt.Errorf("field \"eos_token_id\" must be a token id or a list of them, got %s", v)
	}
	for _, id := range ids {
		if id < 0 {
			return nil, false, fmt.Errorf("field \"eos_token_id\" holds %d; token ids are non-negative", id)
		}
	}
	return ids, true, nil
}
