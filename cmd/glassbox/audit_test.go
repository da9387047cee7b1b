package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/schemas"
)

// TestAuditSanity runs `glassbox audit sanity` as a user would: on the
// additive fixture, then into an explain run's folder (whose whole report
// gains the section), then with bad input (exit 2 for bad flags, 1 for a missing model or input, a message naming it).
func TestAuditSanity(t *testing.T) {
	const model = "../../testdata/models/additive"
	const input = "../../testdata/sample/austen-sentiment.jsonl"
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "", "audit", "sanity", "--model", model, "--input", input, "--methods", "occlusion", "--output", out, "--sample", "20", "--output-kind", "logit")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "occlusion") || !strings.Contains(stdout, "passes") {
		t.Errorf("stdout %q", stdout)
	}
	for _, f := range []string{schemas.SanityFile, schemas.SanitySummaryFile, schemas.ReportFile} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	page, _ := os.ReadFile(filepath.Join(out, schemas.ReportFile))
	if !bytes.Contains(page, []byte(`class="chart lines"`)) || !bytes.Contains(page, []byte("No method is flagged")) {
		t.Error("the standalone page lacks the chart or the verdict")
	}
	// Into a finished explain run's folder: its report now has the section.
	run := t.TempDir()
	for _, f := range []string{"manifest.json", "explanations-00000-of-00001.parquet", "errors.parquet", "global_importance.parquet"} {
		b, err := os.ReadFile(filepath.Join("../../schemas/testdata/run", f))
		if err != nil {
			t.Skip(err)
		}
		if err := os.WriteFile(filepath.Join(run, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, stderr := runCLI(t, "", "audit", "sanity", "--model", model, "--input", input, "--methods", "occlusion", "--output", run, "--sample", "5"); code != 0 {
		t.Fatalf("into a run folder: exit %d: %s", code, stderr)
	}
	page, _ = os.ReadFile(filepath.Join(run, schemas.ReportFile))
	if !bytes.Contains(page, []byte(`id="global"`)) || !bytes.Contains(page, []byte(`class="chart lines"`)) {
		t.Error("the run's report lacks its own sections or the sanity section")
	}
	// Bad flags are usage errors (exit 2); a model or input that is not there fails the run (exit 1), as for explain.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"audit"}, 2, "no check named"},
		{[]string{"audit", "sanity", "--input", input, "--methods", "occlusion", "--output", out}, 2, "--model is required"},
		{[]string{"audit", "sanity", "--model", model, "--input", input, "--methods", "occlusion,nope", "--output", out}, 2, `unknown method "nope"`},
		{[]string{"audit", "sanity", "--model", model, "--input", "/no/such.jsonl", "--methods", "occlusion", "--output", out}, 1, "--input /no/such.jsonl"},
		{[]string{"audit", "sanity", "--model", "/no/such", "--input", input, "--methods", "occlusion", "--output", out}, 1, "--model"},
		{[]string{"audit", "sanity", "--model", model, "--input", input, "--methods", "occlusion", "--output", out, "--threshold", "2"}, 2, "--threshold 2"},
	} {
		code, _, stderr := runCLI(t, "", tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q (want %d and %q)", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}
