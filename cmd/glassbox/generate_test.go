package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestGenerateMatchesPyTorch runs `glassbox generate` on gpt2-tiny and its
// with-past twin with the prompts of generation.json: every line's token ids
// are PyTorch's greedy ones; sampling with a seed is deterministic; bad flags
// exit 2 and a bad row exits 1 after every line is written.
func TestGenerateMatchesPyTorch(t *testing.T) {
	const dir = "../../testdata/models/gpt2-tiny"
	b, err := os.ReadFile(filepath.Join(dir, "generation.json"))
	if err != nil {
		t.Fatal(err)
	}
	var gold struct {
		Settings struct {
			MaxNewTokens int `json:"max_new_tokens"`
		} `json:"settings"`
		Greedy []struct {
			Prompt    string  `json:"prompt"`
			Generated []int64 `json:"generated_ids"`
			Text      string  `json:"text"`
		} `json:"greedy"`
	}
	if err := json.Unmarshal(b, &gold); err != nil {
		t.Fatal(err)
	}
	var in strings.Builder
	for i, g := range gold.Greedy {
		j, _ := json.Marshal(map[string]string{"id": "p" + strconv.Itoa(i), "text": g.Prompt})
		in.Write(append(j, '\n'))
	}
	input := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(input, []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	maxNew := strconv.Itoa(gold.Settings.MaxNewTokens)
	for _, model := range []string{dir, filepath.Join(dir, "with-past", "model.onnx")} {
		code, out, errOut := runCLI(t, "", "generate", "--model", model, "--input", input, "--max-new-tokens", maxNew)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", model, code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != len(gold.Greedy) {
			t.Fatalf("%s: %d lines for %d prompts", model, len(lines), len(gold.Greedy))
		}
		for i, l := range lines {
			var got generateLine
			if err := json.Unmarshal([]byte(l), &got); err != nil {
				t.Fatal(err)
			}
			want := gold.Greedy[i]
			if got.ID != "p"+strconv.Itoa(i) || got.Prompt != want.Prompt || !slices.Equal(got.IDs, want.Generated) || got.Continuation != want.Text || len(got.Steps) != len(want.Generated) {
				t.Errorf("%s line %d: %s; want ids %v text %q", model, i, l, want.Generated, want.Text)
			}
		}
	}
	sampled := func() string {
		code, out, errOut := runCLI(t, "", "generate", "--model", dir, "--input", input, "--sample", "--temperature", "1.3", "--top-p", "0.9", "--seed", "5")
		if code != 0 {
			t.Fatalf("sampling: exit %d: %s", code, errOut)
		}
		return out
	}
	if a, b := sampled(), sampled(); a != b {
		t.Errorf("two sampling runs with one seed differ:\n%s\n%s", a, b)
	}
	for _, args := range [][]string{
		{"generate"},
		{"generate", "--model", dir, "--temperature", "0.7"},
		{"generate", "--model", dir, "--max-new-tokens", "0"},
		{"generate", "--model", dir, "--sample", "--top-p", "1.5"},
		{"generate", "--model", dir, "--stop-tokens", "eos"},
	} {
		if code, _, errOut := runCLI(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d; want 2 (%s)", args, code, errOut)
		}
	}
	code, out, _ := runCLI(t, "Good.\n\nThe dinner was\n", "generate", "--model", dir, "--max-new-tokens", "2")
	if n := strings.Count(out, "\n"); code != 1 || n != 3 || !strings.Contains(out, `"code":"empty_text"`) {
		t.Errorf("a blank line: exit %d, %d lines:\n%s; want exit 1 and 3 lines", code, n, out)
	}
}
