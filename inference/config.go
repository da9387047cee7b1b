package inference

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Kind is what a model computes.
type Kind string

const (
	// SequenceClassification models output logits [batch, classes].
	SequenceClassification Kind = "sequence-classification"
	// CausalLM models output next-token logits [batch, seq, vocab].
	CausalLM Kind = "causal-lm"
	// FeatureExtraction models output hidden states [batch, seq, hidden] (and maybe a pooled vector).
	FeatureExtraction Kind = "feature-extraction"
)

// Problem types of sequence classifiers, as Hugging Face's config.json names them.
const (
	SingleLabel = "single_label_classification"
	MultiLabel  = "multi_label_classification"
	Regression  = "regression"
)

// Config is the part of a Hugging Face config.json that Glassbox uses.
type Config struct {
	// ModelType is config.json's model_type (e.g. "distilbert", "gpt2").
	ModelType string
	// Architectures is config.json's architectures list.
	Architectures []string
	// Labels are the class names by index, from id2label.
	Labels []string
	// ProblemType is single_label_classification (softmax), multi_label_classification (sigmoid) or regression (identity).
	ProblemType string
	// MaxPositions is the largest number of tokens the model accepts.
	MaxPositions int
	// PadTokenID is config.json's pad_token_id, -1 if unset.
	PadTokenID int
	// VocabSize is config.json's vocab_size, 0 if unset: the embedding rows when the graph does not show them.
	VocabSize int
	// Decoder reports a model that attends causally (a decoder-only family, or is_decoder),
	// whose prediction reads the last real token, whatever its head.
	Decoder bool
}

// decoderTypes are Hugging Face model_type values of decoder-only families: their
// sequence classifiers, too, read the last real token (e.g. GPT2ForSequenceClassification).
var decoderTypes = map[string]bool{
	"gpt2": true, "gpt_neo": true, "gpt_neox": true, "gptj": true, "gpt_bigcode": true, "codegen": true, "ctrl": true,
	"llama": true, "mistral": true, "mixtral": true, "qwen2": true, "qwen3": true, "phi": true, "phi3": true,
	"gemma": true, "gemma2": true, "gemma3_text": true, "falcon": true, "bloom": true, "opt": true, "mpt": true,
	"xglm": true, "starcoder2": true, "olmo": true, "olmo2": true, "stablelm": true, "smollm3": true,
}

// ParseConfig reads the fields Glassbox needs from config.json data; path is used in errors.
func ParseConfig(path string, data []byte) (*Config, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, jsonError(data, err))
	}
	c := &Config{PadTokenID: -1}
	str := func(key string) (string, error) {
		v, ok := raw[key]
		if !ok || string(v) == "null" {
			return "", nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", fmt.Errorf("%s: field %q must be a string: %w", path, key, err)
		}
		return s, nil
	}
	var err error
	if c.ModelType, err = str("model_type"); err != nil {
		return nil, err
	}
	if c.ModelType == "" {
		return nil, fmt.Errorf("%s: field \"model_type\" is missing", path)
	}
	if c.ProblemType, err = str("problem_type"); err != nil {
		return nil, err
	}
	if v, ok := raw["architectures"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &c.Architectures); err != nil {
			return nil, fmt.Errorf("%s: field \"architectures\" must be a list of strings: %w", path, err)
		}
	}
	if v, ok := raw["id2label"]; ok && string(v) != "null" {
		var m map[string]string
		if err := json.Unmarshal(v, &m); err != nil {
			return nil, fmt.Errorf("%s: field \"id2label\" must map ids to label names: %w", path, err)
		}
		labels, err := labelsFromMap(m)
		if err != nil {
			return nil, fmt.Errorf("%s: field \"id2label\": %w", path, err)
		}
		c.Labels = labels
		if err := checkLabel2ID(raw["label2id"], labels); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	for _, key := range []string{"max_position_embeddings", "n_positions", "max_seq_len", "n_ctx"} {
		v, ok := raw[key]
		if !ok || string(v) == "null" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(v)))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s: field %q must be a positive integer, got %s", path, key, v)
		}
		c.MaxPositions = n
		break
	}
	// RoBERTa-family position tables start after the padding index, so two rows are unusable.
	if (c.ModelType == "roberta" || c.ModelType == "xlm-roberta" || c.ModelType == "camembert") && c.MaxPositions > 2 {
		c.MaxPositions -= 2
	}
	if v, ok := raw["pad_token_id"]; ok && string(v) != "null" {
		n, err := strconv.Atoi(strings.TrimSpace(string(v)))
		if err != nil {
			return nil, fmt.Errorf("%s: field \"pad_token_id\" must be an integer, got %s", path, v)
		}
		c.PadTokenID = n
	}
	if v, ok := raw["vocab_size"]; ok && string(v) != "null" {
		n, err := strconv.Atoi(strings.TrimSpace(string(v)))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s: field \"vocab_size\" must be a positive integer, got %s", path, v)
		}
		c.VocabSize = n
	}
	if v, ok := raw["is_decoder"]; ok && string(v) == "true" {
		c.Decoder = true
	}
	c.Decoder = c.Decoder || decoderTypes[c.ModelType] || kindFromArchitectures(c.Architectures) == CausalLM
	switch c.ProblemType {
	case "", SingleLabel, MultiLabel, Regression:
	default:
		return nil, fmt.Errorf("%s: field \"problem_type\" is %q; want %s, %s or %s", path, c.ProblemType, SingleLabel, MultiLabel, Regression)
	}
	return c, nil
}

func labelsFromMap(m map[string]string) ([]string, error) {
	ids := make([]int, 0, len(m))
	byID := make(map[int]string, len(m))
	for k, v := range m {
		id, err := strconv.Atoi(k)
		if err != nil || id < 0 {
			return nil, fmt.Errorf("key %q is not a class index", k)
		}
		ids = append(ids, id)
		byID[id] = v
	}
	sort.Ints(ids)
	for i, id := range ids {
		if id != i {
			return nil, fmt.Errorf("class indices must be 0..%d without gaps, missing %d", len(ids)-1, i)
		}
	}
	labels := make([]string, len(ids))
	for i := range labels {
		labels[i] = byID[i]
	}
	return labels, nil
}

// checkLabel2ID refuses a label2id (raw, absent when nil) that is not the
// inverse of id2label's labels: the two would name classes differently.
func checkLabel2ID(raw json.RawMessage, labels []string) error {
	if raw == nil || string(raw) == "null" {
		return nil
	}
	var m map[string]int
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("field \"label2id\" must map label names to class indices: %w", err)
	}
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		switch id := m[name]; {
		case id < 0 || id >= len(labels):
			return fmt.Errorf("field \"label2id\" maps %q to %d, which is not a class of \"id2label\" (0..%d)", name, id, len(labels)-1)
		case labels[id] != name:
			return fmt.Errorf("field \"label2id\" maps %q to %d, but \"id2label\" names class %d %q", name, id, id, labels[id])
		}
	}
	if len(m) != len(labels) {
		return fmt.Errorf("field \"label2id\" has %d labels but \"id2label\" has %d (are two classes named alike?)", len(m), len(labels))
	}
	return nil
}

// jsonError says where data stops being JSON (line and column of a syntax
// error) or that it is JSON of the wrong kind.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := 1, 1
		for _, b := range data[:min(max(int(syn.Offset)-1, 0), len(data))] {
			if b == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return fmt.Errorf("not valid JSON (at line %d, column %d): %w", line, col, err)
	}
	return fmt.Errorf("not a JSON object: %w", err)
}

// kindFromArchitectures guesses the kind from config.json's architectures; "" if it cannot tell.
func kindFromArchitectures(archs []string) Kind {
	for _, a := range archs {
		switch {
		case strings.HasSuffix(a, "ForSequenceClassification"):
			return SequenceClassification
		case strings.HasSuffix(a, "ForCausalLM"), strings.HasSuffix(a, "LMHeadModel"):
			return CausalLM
		case strings.HasSuffix(a, "Model"):
			return FeatureExtraction
		}
	}
	return ""
}

func readConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read model config: %w", err)
	}
	return ParseConfig(path, data)
}
