package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

func TestMain(m *testing.M) {
	flag.Parse()
	beam.Init()
	code := m.Run()
	if binaryDir != "" { // a test built the binary
		os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// TestPredictMatchesPyTorch runs `glassbox predict` on the fixture classifier's
// reference sentences and compares with PyTorch's probabilities.
func TestPredictMatchesPyTorch(t *testing.T) {
	const dir = "../../testdata/models/distilbert-sentiment"
	b, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Sentences []struct {
			Text  string    `json:"text"`
			Probs []float64 `json:"probabilities"`
			Label string    `json:"predicted_label"`
		} `json:"sentences"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	var in strings.Builder
	for _, s := range ref.Sentences {
		j, _ := json.Marshal(map[string]string{"text": s.Text})
		in.Write(append(j, '\n'))
	}
	input := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(input, []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", "predict", "--model", dir, "--input", input)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(ref.Sentences) {
		t.Fatalf("%d output lines for %d inputs", len(lines), len(ref.Sentences))
	}
	for i, l := range lines {
		var p struct {
			Label  string    `json:"label"`
			Probs  []float64 `json:"probs"`
			Logits []float64 `json:"logits"`
		}
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatal(err)
		}
		if p.Label != ref.Sentences[i].Label || len(p.Logits) != 2 {
			t.Errorf("line %d: %s", i, l)
		}
		for k := range p.Probs {
			if math.Abs(p.Probs[k]-ref.Sentences[i].Probs[k]) > 1e-4 {
				t.Errorf("line %d: probs %v, PyTorch %v", i, p.Probs, ref.Sentences[i].Probs)
			}
		}
	}
}

func TestPredictCausalLMAndErrors(t *testing.T) {
	code, out, _ := runCLI(t, "What a wonderful\nIt was\n", "predict", "--model", "../../testdata/models/gpt2-tiny")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var p struct {
			Next []struct {
				Token string  `json:"token"`
				Prob  float64 `json:"prob"`
			} `json:"next_tokens"`
		}
		if err := json.Unmarshal([]byte(l), &p); err != nil || len(p.Next) != 5 {
			t.Fatalf("line %q: %v", l, err)
		}
		for k := 1; k < 5; k++ {
			if p.Next[k].Prob > p.Next[k-1].Prob {
				t.Errorf("top tokens not sorted: %s", l)
			}
		}
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		msg   string
	}{
		{"help", "", []string{"predict", "--help"}, 0, "--model"},
		{"no model", "", []string{"predict"}, 2, "--model is required"},
		{"unknown flag", "", []string{"predict", "--nope"}, 2, "nope"},
		{"bad jsonl", "{\"text\": \"fine\"}\nnot json\n", []string{"predict", "--model", "../../testdata/models/distilbert-sentiment", "--format", "jsonl"}, 1, "line 2"},
		{"missing model dir", "x\n", []string{"predict", "--model", "/nonexistent"}, 1, "model /nonexistent does not exist"},
		{"tokenize help", "", []string{"tokenize", "--help"}, 0, "--tokenizer"},
		{"explain help", "", []string{"explain", "--help"}, 0, "--config"},
		{"explain bad key", "", []string{"explain", "--config", "testdata/bad.yaml"}, 2, "sampels"}, // a bad config is a usage error
		{"unknown command", "", []string{"frobnicate"}, 2, "unknown command"},
	}
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(out+errs, tc.msg) {
				t.Errorf("exit %d (want %d), output %q / %q lacks %q", code, tc.code, out, errs, tc.msg)
			}
			if strings.Contains(errs, "goroutine ") {
				t.Errorf("panic trace: %s", errs)
			}
		})
	}
}

// TestTokenizeCLI checks the JSON line format of `glassbox tokenize`.
func TestTokenizeCLI(t *testing.T) {
	code, out, errs := runCLI(t, "Café naïve\n\n", "tokenize", "--tokenizer", "../../testdata/models/distilbert-sentiment/tokenizer.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), out)
	}
	var got struct {
		IDs         []int    `json:"ids"`
		Tokens      []string `json:"tokens"`
		Offsets     [][2]int `json:"offsets"`
		ByteOffsets [][2]int `json:"byte_offsets"`
		WordIDs     []*int   `json:"word_ids"`
		Special     []int    `json:"special_tokens_mask"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Tokens, " ") != "[CLS] cafe naive [SEP]" {
		t.Errorf("tokens %v", got.Tokens)
	}
	// "Café" is 4 code points but 5 bytes: both spans must be reported.
	if got.Offsets[1] != [2]int{0, 4} || got.ByteOffsets[1] != [2]int{0, 5} || got.Offsets[2] != [2]int{5, 10} || got.ByteOffsets[2] != [2]int{6, 12} {
		t.Errorf("offsets %v bytes %v", got.Offsets, got.ByteOffsets)
	}
	if got.WordIDs[0] != nil || got.WordIDs[1] == nil || *got.WordIDs[1] != 0 || got.Special[0] != 1 || got.Special[1] != 0 {
		t.Errorf("word ids / special mask: %s", lines[0])
	}
}

// TestIsBeamWorker checks worker mode follows Beam's own --worker flag in
// every spelling Go's flag package accepts, and that CLI command lines (a
// subcommand first) never start a worker.
func TestIsBeamWorker(t *testing.T) {
	if flag.Lookup("worker") == nil {
		t.Fatal("Beam's --worker flag is not registered: worker mode could never start")
	}
	tests := []struct {
		args []string
		want bool
	}{
		{[]string{"--worker"}, true},
		{[]string{"-worker"}, true},
		{[]string{"--worker=true"}, true},
		{[]string{"-worker=true"}, true},
		{[]string{"--worker=1"}, true},
		{[]string{"--worker=t"}, true},
		{[]string{"--worker=TRUE"}, true},
		{[]string{"--worker=True"}, true},
		// What Beam's boot loader passes (container/boot.go), in its order.
		{[]string{"--worker=true", "--id=1-1", "--logging_endpoint=localhost:1", "--control_endpoint=localhost:2", "--semi_persist_dir=/tmp"}, true},
		// Beam flags before --worker, with and without values.
		{[]string{"--id", "1-1", "--worker"}, true},
		{[]string{"--id=1-1", "-worker=1"}, true},
		{[]string{"--worker=false"}, false},
		{[]string{"--worker=0"}, false},
		{[]string{"-worker=f"}, false},
		{[]string{"--worker", "--worker=false"}, false},
		{[]string{"--worker=yes"}, false},
		{[]string{"--workers"}, false},
		{[]string{"--worker_binary=bin/glassbox-worker"}, false},
		{[]string{"explain", "--worker"}, false},
		{[]string{"explain", "--config", "job.yaml", "--worker=true"}, false},
		{[]string{"--version"}, false},
		{[]string{"--help"}, false},
		{[]string{"-h"}, false},
		{nil, false},
		// A string flag swallows the next argument as its value, as flag.Parse does.
		{[]string{"--id", "--worker"}, false},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			if got := isBeamWorker(tc.args); got != tc.want {
				t.Errorf("isBeamWorker(%q) = %v, want %v", tc.args, got, tc.want)
			}
		})
	}
	if f := flag.Lookup("worker"); f.Value.String() != "false" {
		t.Errorf("detection set the real --worker flag to %s", f.Value.String())
	}
}
