package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplainSurrogatesCLI runs `glassbox explain --surrogates ridge,tree`
// (predictions only) on part of the sample corpus and checks the outputs and
// the manifest's counts; bad values fail with a clear message and exit 2.
func TestExplainSurrogatesCLI(t *testing.T) {
	data, err := os.ReadFile("../../testdata/sample/austen-sentiment.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	dir := t.TempDir()
	input := filepath.Join(dir, "part.jsonl")
	if err := os.WriteFile(input, []byte(strings.Join(lines[:400], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCLI(t, "", "explain", "--model", "../../testdata/models/distilbert-sentiment", "--input", input,
		"--methods", "none", "--surrogates", "ridge,tree", "--output", out, "--quiet", "--no-report")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "predictions only + surrogates ridge, tree") || !strings.Contains(stdout, "surrogates") {
		t.Errorf("output %q / %q", stdout, stderr)
	}
	var doc struct {
		Surrogates []struct {
			Key, Kind, Target string
			NTrain            int64    `json:"n_train"`
			R2                *float64 `json:"r2"`
			Accuracy          *float64 `json:"accuracy"`
			Rules             []string `json:"rules"`
		} `json:"surrogates"`
	}
	b, err := os.ReadFile(filepath.Join(out, "surrogates.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range doc.Surrogates {
		keys = append(keys, s.Key)
		if s.NTrain < 300 || (s.R2 == nil && s.Accuracy == nil) {
			t.Errorf("%s: n_train %d, no fidelity", s.Key, s.NTrain)
		}
		if s.Kind == "tree" && len(s.Rules) < 2 {
			t.Errorf("%s: rules %q", s.Key, s.Rules)
		}
	}
	if got := strings.Join(keys, " "); got != "words/ridge/log_odds/POSITIVE words/tree/label words/tree/gold" {
		t.Errorf("surrogates %s", got)
	}
	var m struct {
		Counts struct {
			RowsWritten map[string]int64 `json:"rows_written"`
		} `json:"counts"`
	}
	b, err = os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Counts.RowsWritten["surrogates"] != 3 || m.Counts.RowsWritten["surrogate_examples"] != 400 {
		t.Errorf("manifest rows_written %v", m.Counts.RowsWritten)
	}

	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--surrogates", "foo"}, 2, `--surrogates: unknown surrogate "foo" (known: ridge, logistic, tree, probe, or none)`},
		{[]string{"--methods", "none"}, 2, "methods: at least one method is required unless surrogates are fitted"},
	} {
		args := append([]string{"explain", "--model", "../../testdata/models/distilbert-sentiment", "--input", input, "--output", filepath.Join(dir, "bad")}, tc.args...)
		code, stdout, stderr := runCLI(t, "", args...)
		if code != tc.code || !strings.Contains(stdout+stderr, tc.msg) {
			t.Errorf("%v: exit %d (want %d), output %q lacks %q", tc.args, code, tc.code, stdout+stderr, tc.msg)
		}
	}
}
