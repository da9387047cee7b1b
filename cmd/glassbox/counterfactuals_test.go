package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplainCounterfactualsCLI runs `glassbox explain --config` with the
// sample config plus a counterfactuals section on part of the sample corpus,
// checks the manifest counts the counterfactual rows and the report shows
// them; bad section values fail with exit 2 and a message naming the key.
func TestExplainCounterfactualsCLI(t *testing.T) {
	data, err := os.ReadFile("../../testdata/sample/austen-sentiment.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile("../../configs/sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	input := filepath.Join(dir, "part.jsonl")
	if err := os.WriteFile(input, []byte(strings.Join(strings.SplitAfter(string(data), "\n")[:40], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(name, section string) string {
		p := filepath.Join(dir, name)
		cfg := strings.ReplaceAll(string(sample), "testdata/models/", "../../testdata/models/") + section
		if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	out := filepath.Join(dir, "out")
	good := write("cf.yaml", "counterfactuals:\n  enabled: true\n  budget: 60\n")
	code, stdout, stderr := runCLI(t, "", "explain", "--config", good, "--input", input, "--methods", "occlusion", "--output", out, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	var m struct {
		Config struct {
			Counterfactuals struct {
				Enabled bool `json:"enabled"`
				Budget  int  `json:"budget"`
			} `json:"counterfactuals"`
		} `json:"config"`
		Counts struct {
			RowsWritten map[string]int64 `json:"rows_written"`
		} `json:"counts"`
	}
	b, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	n := m.Counts.RowsWritten["counterfactuals"]
	if n < 5 || !m.Config.Counterfactuals.Enabled || m.Config.Counterfactuals.Budget != 60 || !strings.Contains(stdout, "counterfactuals") {
		t.Errorf("manifest: %d counterfactual rows, config %+v; stdout %q", n, m.Config.Counterfactuals, stdout)
	}
	report, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(report), `id="counterfactuals"`) {
		t.Error("the report has no counterfactuals section")
	}

	for _, tc := range []struct {
		section, msg string
	}{
		{"counterfactuals:\n  enabled: true\n  budget: 0\n", "counterfactuals.budget: 0 is not allowed"},
		{"counterfactuals:\n  enabled: true\n  examples: worst\n", `counterfactuals.examples: "worst" is not allowed (allowed: all, mispredicted, least_confident)`},
		{"counterfactuals:\n  enabled: true\n  guide: lime\n", `counterfactuals.guide: "lime" is not a selected method`},
		{"counterfactuals:\n  enabled: true\n  delete: false\n  substitutions: 0\n", "counterfactuals.delete: false with substitutions 0 leaves no edit to try"},
		{"counterfactuals:\n  budgets: 5\n", "counterfactuals.budgets: unknown key"},
	} {
		p := write("bad.yaml", tc.section)
		code, stdout, stderr := runCLI(t, "", "explain", "--config", p, "--input", input, "--methods", "occlusion", "--output", filepath.Join(dir, "bad"), "--quiet", "--no-report")
		if code != 2 || !strings.Contains(stdout+stderr, tc.msg) {
			t.Errorf("%q: exit %d (want 2), output %q lacks %q", tc.section, code, stdout+stderr, tc.msg)
		}
	}
}
