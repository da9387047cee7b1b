package pipelines

import (
	"context"
	"math"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/glassbox-ai/glassbox/audit"
	"github.com/glassbox-ai/glassbox/faithfulness"
	"github.com/glassbox-ai/glassbox/schemas"
)

// TestExplainFaithfulnessAndAgreement runs the explain job on the additive
// model with small batches (many bundles, many partial aggregates) and checks
// the audit outputs against what the rows say: faithfulness.parquet and
// agreement_summary.parquet equal aggregating the written rows in memory,
// occlusion's comprehensiveness is the closed form (the sum of the top
// tokens' terms), and another shard count gives the same values.
func TestExplainFaithfulnessAndAgreement(t *testing.T) {
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "out")
	cfg := e2eConfig(out)
	cfg.Input.Path = "../testdata/corpus/mixed.jsonl"
	cfg.BatchSize, cfg.Shards = 3, 2
	sum, err := RunExplain(ctx, cfg, RunOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var rows []schemas.ExplanationRow
	shards, _ := filepath.Glob(filepath.Join(out, schemas.ExplanationsPrefix+"-*.parquet"))
	for _, s := range shards {
		rows = append(rows, readRows[schemas.ExplanationRow](t, s)...)
	}
	if len(rows) == 0 {
		t.Fatal("no explanation rows")
	}

	// faithfulness.parquet is the exact aggregate of the rows' columns.
	accs := map[faithfulness.Key]faithfulness.Acc{}
	for _, r := range rows {
		if r.Faithfulness == nil {
			t.Fatalf("%s/%s/%s: no faithfulness column", r.ExampleID, r.Method, r.Target)
		}
		k, a, ok := faithfulness.RowContribution(r)
		if !ok {
			t.Fatalf("%s: unreadable faithfulness column", r.ExampleID)
		}
		accs[k] = accs[k].Merge(a)
	}
	var want []faithfulness.Row
	for k, a := range accs {
		want = append(want, faithfulness.Finalize(k, a)...)
	}
	faithfulness.SortRows(want)
	wantRows := make([]schemas.FaithfulnessRow, len(want))
	for i, r := range want {
		wantRows[i] = r.Schema(sum.RunID)
	}
	if got := readRows[schemas.FaithfulnessRow](t, filepath.Join(out, schemas.FaithfulnessFile)); !reflect.DeepEqual(got, wantRows) {
		t.Errorf("faithfulness.parquet has %d rows, differing from the rows' aggregate (%d rows)", len(got), len(wantRows))
	}

	// Occlusion on the additive model explains each token by its own term of
	// the logit, so removing the top c(k) tokens lowers f by their sum.
	checked := 0
	for _, r := range rows {
		if r.Method != "occlusion" {
			continue
		}
		var attr []float64
		scale := 1.0 // the model sums float32 terms: allow their rounding, far below any one term
		for _, tok := range r.Tokens {
			if !tok.Special {
				attr = append(attr, tok.Attribution)
				scale += math.Abs(tok.Attribution)
			}
		}
		sorted := append([]float64(nil), attr...)
		sort.Sort(sort.Reverse(sort.Float64Slice(sorted)))
		f := r.Faithfulness
		for i, c := range f.KTokens {
			var s float64
			for _, v := range sorted[:c] {
				s += v
			}
			if math.Abs(f.Comprehensiveness[i]-s) > 1e-5*scale {
				t.Errorf("%s/%s: comprehensiveness at %d%% = %v, want the top %d terms' sum %v", r.ExampleID, r.Target, f.KPercent[i], f.Comprehensiveness[i], c, s)
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no occlusion rows checked")
	}

	// agreement_summary.parquet is the exact aggregate of the agreement rows.
	var agree []schemas.AgreementRow
	ashards, _ := filepath.Glob(filepath.Join(out, schemas.AgreementPrefix+"-*-of-*.parquet"))
	for _, s := range ashards {
		agree = append(agree, readRows[schemas.AgreementRow](t, s)...)
	}
	if len(agree) != len(rows) { // three methods: three pairs per example and target, as many as rows
		t.Errorf("%d agreement rows for %d explanation rows", len(agree), len(rows))
	}
	aaccs := map[audit.AgreementKey]audit.AgreementAcc{}
	for _, r := range agree {
		k := audit.AgreementKey{MethodA: r.MethodA, MethodB: r.MethodB, Target: r.Target}
		a := aaccs[k]
		a.Add(r)
		aaccs[k] = a
	}
	if got, want := readRows[schemas.AgreementSummaryRow](t, filepath.Join(out, schemas.AgreementSummaryFile)), audit.AgreementSummaries(sum.RunID, aaccs); !reflect.DeepEqual(got, want) {
		t.Errorf("agreement_summary.parquet\n got %+v\nwant %+v", got, want)
	}

	// Another shard count: the same aggregates, value for value (the run id
	// differs, since the shard count is part of the config; the batch size is
	// kept, since ONNX Runtime's float32 results depend on the call's shape).
	out2 := filepath.Join(t.TempDir(), "out2")
	cfg2 := e2eConfig(out2)
	cfg2.Input.Path = cfg.Input.Path
	cfg2.BatchSize, cfg2.Shards = cfg.BatchSize, 1
	if _, err := RunExplain(ctx, cfg2, RunOptions{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	same := func(name string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s differs between 2 shards and 1", name)
		}
	}
	f1 := readRows[schemas.FaithfulnessRow](t, filepath.Join(out, schemas.FaithfulnessFile))
	f2 := readRows[schemas.FaithfulnessRow](t, filepath.Join(out2, schemas.FaithfulnessFile))
	for i := range f2 {
		f2[i].RunID = sum.RunID
	}
	same(schemas.FaithfulnessFile, f1, f2)
	a1 := readRows[schemas.AgreementSummaryRow](t, filepath.Join(out, schemas.AgreementSummaryFile))
	a2 := readRows[schemas.AgreementSummaryRow](t, filepath.Join(out2, schemas.AgreementSummaryFile))
	for i := range a2 {
		a2[i].RunID = sum.RunID
	}
	same(schemas.AgreementSummaryFile, a1, a2)
}
