package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/compare"
	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/report"
	"github.com/glassbox-ai/glassbox/schemas"
)

// TestCompareExitStatus compares the committed sample run with a copy whose
// first example's prediction is flipped, and checks the exit status against
// --fail-on, and on bad input.
func TestCompareExitStatus(t *testing.T) {
	const runA = "../../schemas/testdata/run"
	ctx := context.Background()
	runB := filepath.Join(t.TempDir(), "b")
	for _, f := range []string{schemas.ManifestFile, schemas.GlobalImportanceFile} {
		b, err := os.ReadFile(filepath.Join(runA, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(runB, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(runB, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	shard := "explanations-00000-of-00001.parquet"
	rows, err := report.ReadOptional[schemas.ExplanationRow](ctx, report.Local(), filepath.Join(runA, shard))
	if err != nil || len(rows) == 0 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	ids := map[string]bool{}
	for _, r := range rows {
		ids[r.ExampleID] = true
	}
	first := rows[0].ExampleID
	for i := range rows {
		if rows[i].ExampleID == first {
			rows[i].PredictedLabel += "-flipped"
		}
	}
	if err := parquetsink.WriteRows(ctx, parquetsink.Local(), filepath.Join(runB, shard), rows); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	if len(ids) != 2 {
		t.Fatalf("the sample run has %d examples; the percentages below assume 2 (one flipped: 50%%)", len(ids))
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no thresholds", []string{"compare", runA, runB, "--output", out}, 0, ""},
		{"crossed", []string{"compare", "--fail-on", "flips>=1,added>0", runA, runB, "--output", out}, 1, "1 of 2 --fail-on thresholds crossed: flips>=1: 1"},
		{"percent not crossed", []string{"compare", runA, runB, "--output", out, "--fail-on", "flips>50%"}, 0, ""},
		{"percent crossed", []string{"compare", runA, runB, "--output", out, "--fail-on", "flips>=50%"}, 1, "flips>=50%: 50% (1 of 2 common examples)"},
		{"unknown metric", []string{"compare", runA, runB, "--fail-on", "flipz>1"}, 2, "known metrics: added"},
		{"bad value", []string{"compare", runA, runB, "--fail-on", "flips>lots"}, 2, "not a finite number"},
		{"one run", []string{"compare", runA}, 2, "want two run folders"},
		{"missing folder", []string{"compare", runA, filepath.Join(out, "nope"), "--output", out}, 1, "run B"},
		{"not a run", []string{"compare", t.TempDir(), runB, "--output", out}, 1, "finished run"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d (want %d), stdout %q, stderr %q", code, tc.code, stdout, stderr)
			}
		})
	}
	ex, err := report.ReadOptional[compare.ExampleRow](ctx, report.Local(), filepath.Join(out, compare.Dir, compare.ExamplesFile))
	if err != nil {
		t.Fatal(err)
	}
	var flipped []string
	for _, e := range ex {
		if e.Flipped {
			flipped = append(flipped, e.ExampleID)
		}
	}
	if len(ex) != len(ids) || len(flipped) != 1 || flipped[0] != first {
		t.Errorf("examples.parquet: %d rows (want %d), flipped %v (want [%s])", len(ex), len(ids), flipped, first)
	}
	for _, f := range []string{compare.SummaryFile, compare.ReportFile, compare.AttributionsFile, compare.GlobalFile} {
		if _, err := os.Stat(filepath.Join(out, compare.Dir, f)); err != nil {
			t.Error(err)
		}
	}
}
