package pipelines

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/jobconfig"
	"github.com/glassbox-ai/glassbox/schemas"
)

// TestExplainCounterfactuals runs the explain job with the counterfactual
// search on 30 sample rows: counterfactuals-*.parquet is sharded and sorted
// by example id, counted in the manifest, every row is an explained example
// whose prediction the edited text flips when scored here independently, and
// no row spends more than the budget.
func TestExplainCounterfactuals(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "sample.jsonl")
	src, err := os.Open("../testdata/sample/austen-sentiment.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var lines []string
	sc := bufio.NewScanner(src)
	for sc.Scan() && len(lines) < 30 {
		lines = append(lines, sc.Text())
	}
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := jobconfig.Default()
	cfg.Input.Path = in
	cfg.Model = "../testdata/models/distilbert-sentiment"
	cfg.Output = filepath.Join(dir, "out")
	cfg.Shards = 2
	cfg.IntraOpThreads = 1
	cfg.Methods = mustMethods(t, "occlusion")
	cfg.Faithfulness.Enabled = false
	cfg.Counterfactuals.Enabled = true
	cfg.Counterfactuals.Budget = 50
	sum, err := RunExplain(context.Background(), cfg, RunOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	shards, _ := filepath.Glob(filepath.Join(cfg.Output, schemas.CounterfactualsPrefix+"-*-of-00002.parquet"))
	if len(shards) != 2 {
		t.Fatalf("counterfactual shards: %v", shards)
	}
	var rows []schemas.CounterfactualRow
	for _, s := range shards {
		part := readRows[schemas.CounterfactualRow](t, s)
		if !slices.IsSortedFunc(part, func(a, b schemas.CounterfactualRow) int { return strings.Compare(a.ExampleID, b.ExampleID) }) {
			t.Errorf("%s is not sorted by example id", s)
		}
		rows = append(rows, part...)
	}
	if got := sum.Counts.RowsWritten["counterfactuals"]; got != int64(len(rows)) || len(rows) < 5 {
		t.Fatalf("manifest counts %d counterfactuals, files hold %d", got, len(rows))
	}
	if !slices.ContainsFunc(sum.Outputs, func(p string) bool { return strings.Contains(p, schemas.CounterfactualsPrefix+"-") }) {
		t.Errorf("manifest outputs %v", sum.Outputs)
	}
	m, err := inference.Load(cfg.Model)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := m.NewSession(inference.SessionOptions{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	for _, r := range rows {
		enc, err := m.Encode(r.CounterfactualText)
		if err != nil {
			t.Fatal(err)
		}
		p, err := sess.Predict(context.Background(), []explanation.Input{m.InputFromEncoding(enc)}, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		if p[0].Label == r.PredictedLabel || p[0].Label != r.CounterfactualLabel {
			t.Errorf("%s: %q predicts %s, row says %s → %s", r.ExampleID, r.CounterfactualText, p[0].Label, r.PredictedLabel, r.CounterfactualLabel)
		}
		if r.ModelCalls > 50 || r.Budget != 50 || r.RunID != sum.RunID {
			t.Errorf("%s: %d calls, budget %d, run %s", r.ExampleID, r.ModelCalls, r.Budget, r.RunID)
		}
	}
}
