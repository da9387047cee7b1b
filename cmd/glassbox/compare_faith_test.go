package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/compare"
	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/report"
	"github.com/glassbox-ai/glassbox/schemas"
)

// TestCompareFaithfulnessAndFailed compares the committed sample run with a
// copy whose explanations are 0.125 less comprehensive and whose second
// example failed (its id in errors.parquet), through the CLI.
func TestCompareFaithfulnessAndFailed(t *testing.T) {
	const runA = "../../schemas/testdata/run"
	ctx := context.Background()
	runB := filepath.Join(t.TempDir(), "b")
	if err := os.MkdirAll(runB, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(runA, schemas.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(runB, schemas.ManifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	shard := "explanations-00000-of-00001.parquet"
	rows, err := report.ReadOptional[schemas.ExplanationRow](ctx, report.Local(), filepath.Join(runA, shard))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rows {
		if len(ids) == 0 || ids[len(ids)-1] != r.ExampleID {
			ids = append(ids, r.ExampleID)
		}
	}
	if len(ids) != 2 {
		t.Fatalf("the sample run has %d examples, want 2", len(ids))
	}
	var kept []schemas.ExplanationRow
	withFaith := 0
	for _, r := range rows {
		if r.ExampleID == ids[1] {
			continue
		}
		if r.Faithfulness != nil {
			f := *r.Faithfulness
			f.AOPCComprehensiveness -= 0.125
			r.Faithfulness = &f
			withFaith++
		}
		kept = append(kept, r)
	}
	if withFaith == 0 {
		t.Fatal("the sample run's first example has no faithfulness column")
	}
	if err := parquetsink.WriteRows(ctx, parquetsink.Local(), filepath.Join(runB, shard), kept); err != nil {
		t.Fatal(err)
	}
	errs := []schemas.ErrorRow{{RunID: "b", Source: "in.jsonl", Line: 2, ExampleID: &ids[1], Stage: schemas.StageExplain, Code: schemas.CodeModelError, Reason: "onnxruntime failed"}}
	if err := parquetsink.WriteRows(ctx, parquetsink.Local(), filepath.Join(runB, schemas.ErrorsFile), errs); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLI(t, "", "compare", runA, runB, "--output", out, "--fail-on", "faithfulness_drop>0.05,sufficiency_rise>0,failed>=1,removed>0")
	if code != 1 || !strings.Contains(stderr, "2 of 4 --fail-on thresholds crossed") || !strings.Contains(stderr, "faithfulness_drop>0.05: 0.125") ||
		!strings.Contains(stderr, "failed>=1: 1") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	ex, err := report.ReadOptional[compare.ExampleRow](ctx, report.Local(), filepath.Join(out, compare.Dir, compare.ExamplesFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) != 2 || ex[1].Status != compare.StatusFailedB || ex[1].Error != "explain model_error: onnxruntime failed" {
		t.Errorf("examples.parquet: %+v", ex)
	}
	at, err := report.ReadOptional[compare.AttributionRow](ctx, report.Local(), filepath.Join(out, compare.Dir, compare.AttributionsFile))
	if err != nil {
		t.Fatal(err)
	}
	shifted := 0
	for _, r := range at {
		if r.AOPCComprehensivenessShift != nil {
			shifted++
			if math.Abs(*r.AOPCComprehensivenessShift+0.125) > 1e-12 || *r.AOPCSufficiencyShift != 0 {
				t.Errorf("%s %s: shifts %v %v", r.ExampleID, r.Method, *r.AOPCComprehensivenessShift, *r.AOPCSufficiencyShift)
			}
		}
	}
	if shifted != withFaith {
		t.Errorf("%d rows with faithfulness shifts, want %d", shifted, withFaith)
	}
	page, _ := os.ReadFile(filepath.Join(out, compare.Dir, compare.ReportFile))
	for _, want := range []string{"Faithfulness shifts (B − A)", "failed in B (explained in A)", "onnxruntime failed"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}
