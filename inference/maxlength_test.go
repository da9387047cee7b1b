package inference

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/tokenizer"
)

func TestResolveMaxLength(t *testing.T) {
	tests := []struct {
		name         string
		requested    int
		tokConfig    string // tokenizer_config.json's content, "" for no file
		tokTrunc     int    // tokenizer.json's truncation length, 0 for none
		positions    int
		want         int
		wantRule     string
		wantErrorHas string
	}{
		// MiniLM ships model_max_length 512, truncation 128 in tokenizer.json and 512 positions.
		{"tokenizer_config wins", 0, `{"model_max_length": 512}`, 128, 512, 512, MaxLengthTokenizerConfig, ""},
		{"sentinel means unset", 0, `{"model_max_length": 1000000000000000019884624838656}`, 128, 512, 128, MaxLengthTokenizer, ""},
		{"no field", 0, `{"do_lower_case": true}`, 0, 512, 512, MaxLengthPositions, ""},
		{"no file", 0, "", 0, 256, 256, MaxLengthPositions, ""},
		{"capped by positions", 0, `{"model_max_length": 1024}`, 0, 512, 512, MaxLengthTokenizerConfig + ", capped by " + MaxLengthPositions, ""},
		{"tokenizer.json capped", 0, "", 1024, 512, 512, MaxLengthTokenizer + ", capped by " + MaxLengthPositions, ""},
		{"user value", 64, `{"model_max_length": 512}`, 128, 512, 64, MaxLengthOption, ""},
		{"user value beyond positions", 1000, "", 0, 512, 0, "", "exceeds the 512 positions"},
		{"fractional", 0, `{"model_max_length": 12.5}`, 0, 512, 0, "", "model_max_length"},
		{"not json", 0, `{`, 0, 512, 0, "", "tokenizer_config.json"},
		{"nothing at all", 0, "", 0, 0, 0, "", "max_position_embeddings"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.tokConfig != "" {
				if err := os.WriteFile(filepath.Join(dir, TokenizerConfigFile), []byte(tc.tokConfig), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			tok, err := tokenizer.Load(filepath.Join(distilbert, TokenizerFile))
			if err != nil {
				t.Fatal(err)
			}
			if tc.tokTrunc > 0 {
				if err := tok.SetTruncation(&tokenizer.Truncation{MaxLength: tc.tokTrunc}); err != nil {
					t.Fatal(err)
				}
			}
			n, rule, err := resolveMaxLength(tc.requested, Files{Dir: dir}, &Config{MaxPositions: tc.positions}, tok)
			if tc.wantErrorHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrorHas) {
					t.Fatalf("got %d (%s), %v; want an error containing %q", n, rule, err, tc.wantErrorHas)
				}
				return
			}
			if err != nil || n != tc.want || rule != tc.wantRule {
				t.Errorf("got %d (%s), %v; want %d (%s)", n, rule, err, tc.want, tc.wantRule)
			}
		})
	}
}

// TestMaxLengthTruncates checks the value in force reaches the tokenizer: a
// 10-token limit truncates a long text to 10 tokens with [SEP] kept.
func TestMaxLengthTruncates(t *testing.T) {
	m, err := LoadWith(distilbert, LoadOptions{MaxLength: 10})
	if err != nil {
		t.Fatal(err)
	}
	if m.MaxLength != 10 || m.MaxLengthRule != MaxLengthOption {
		t.Fatalf("MaxLength %d (%s)", m.MaxLength, m.MaxLengthRule)
	}
	enc, err := m.Encode("it is a truth universally acknowledged that a single man in possession of a good fortune")
	if err != nil {
		t.Fatal(err)
	}
	if len(enc.IDs) != 10 || !enc.Truncated || enc.Tokens[9] != "[SEP]" {
		t.Errorf("encoding %v (truncated %v)", enc.Tokens, enc.Truncated)
	}
	def, err := Load(distilbert)
	if err != nil {
		t.Fatal(err)
	}
	if def.MaxLength != 128 || def.MaxLengthRule != MaxLengthTokenizerConfig {
		t.Errorf("default %d (%s); want 128 from %s", def.MaxLength, def.MaxLengthRule, MaxLengthTokenizerConfig)
	}
	if _, err := LoadWith(distilbert, LoadOptions{MaxLength: 129}); err == nil || !strings.Contains(err.Error(), "exceeds the 128 positions") {
		t.Errorf("129 tokens on a 128-position model: %v", err)
	}
}

// TestDecoderFromConfig checks which configs make the explained position the
// last real token: decoder-only families whatever their head, and is_decoder.
func TestDecoderFromConfig(t *testing.T) {
	tests := []struct {
		json string
		want bool
	}{
		{`{"model_type":"gpt2","architectures":["GPT2ForSequenceClassification"]}`, true},
		{`{"model_type":"gpt2","architectures":["GPT2LMHeadModel"]}`, true},
		{`{"model_type":"llama","architectures":["LlamaForSequenceClassification"]}`, true},
		{`{"model_type":"custom","architectures":["CustomForCausalLM"]}`, true},
		{`{"model_type":"bert","is_decoder":true}`, true},
		{`{"model_type":"bert","architectures":["BertForSequenceClassification"]}`, false},
		{`{"model_type":"roberta","is_decoder":false}`, false},
	}
	for _, tc := range tests {
		c, err := ParseConfig("config.json", []byte(tc.json))
		if err != nil {
			t.Fatal(err)
		}
		m := &Model{Kind: SequenceClassification, Config: c}
		if got := m.IsDecoder(); got != tc.want {
			t.Errorf("%s: decoder %v, want %v", tc.json, got, tc.want)
		}
		if want := map[bool]int{true: 6, false: 0}[tc.want]; m.ExplainedPosition(7) != want {
			t.Errorf("%s: explained position %d of 7 tokens, want %d", tc.json, m.ExplainedPosition(7), want)
		}
	}
}
