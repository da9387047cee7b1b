package pipelines

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/explainer"
	"github.com/glassbox-ai/glassbox/jobconfig"
	"github.com/glassbox-ai/glassbox/schemas"
)

// TestExplainInt8 runs the same job on distilbert-sentiment with int8 off and
// on: with it on, occlusion's target scores are an int8 session's (those of
// the manifest's int8 graph opened directly, far closer than the float run's),
// saliency keeps differentiating the float graph (the same attributions),
// and the manifest's int8 section holds the sample's agreement in range.
func TestExplainInt8(t *testing.T) {
	run := func(on bool) ([]schemas.ExplanationRow, jobconfig.Manifest) {
		out := filepath.Join(t.TempDir(), "out")
		cfg := jobconfig.Default()
		cfg.Input.Path = "../testdata/corpus/mixed.jsonl"
		cfg.Model = "../testdata/models/distilbert-sentiment"
		cfg.Output = out
		cfg.Shards = 1
		cfg.IntraOpThreads = 1
		cfg.Methods = mustMethods(t, "occlusion", "saliency")
		cfg.Int8 = on
		sum, err := RunExplain(context.Background(), cfg, RunOptions{Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return readRows[schemas.ExplanationRow](t, filepath.Join(out, "explanations-00000-of-00001.parquet")), readManifest(t, sum.Manifest)
	}
	floatRows, floatManifest := run(false)
	int8Rows, m := run(true)
	if floatManifest.Int8 != nil {
		t.Errorf("manifest of a float run has an int8 section: %+v", floatManifest.Int8)
	}
	if m.Int8 == nil {
		t.Fatal("manifest of an int8 run has no int8 section")
	}

	type key struct{ id, method string }
	float := map[key]schemas.ExplanationRow{}
	var recs []corpus.Record
	for _, r := range floatRows {
		float[key{r.ExampleID, r.Method}] = r
		if r.Method == "occlusion" {
			recs = append(recs, corpus.Record{ID: r.ExampleID, Text: r.Text})
		}
	}
	ex, closeFn, err := explainer.Open(explainer.Spec{
		Model: "../testdata/models/distilbert-sentiment", GraphPath: m.Int8.Graph, RunID: "direct", Seed: 1,
		Target: "predicted", OutputKind: "probability", BatchSize: jobconfig.Default().BatchSize, IntraOpThreads: 1,
		Methods: []explainer.MethodConfig{{Name: "occlusion"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := ex.Explain(context.Background(), recs)
	closeFn()
	if err != nil {
		t.Fatal(err)
	}
	directScore := map[string]float64{}
	for _, r := range direct.Rows {
		directScore[r.ExampleID] = r.TargetScore
	}
	var toFloat, toDirect float64
	n := 0
	for _, q := range int8Rows {
		f, ok := float[key{q.ExampleID, q.Method}]
		if !ok || f.Target != q.Target {
			continue
		}
		switch q.Method {
		case "occlusion":
			n++
			d := math.Abs(q.TargetScore - f.TargetScore)
			if d > 0.05 {
				t.Errorf("%s: int8 target score %v, float %v: more than 0.05 apart", q.ExampleID, q.TargetScore, f.TargetScore)
			}
			toFloat += d
			toDirect += math.Abs(q.TargetScore - directScore[q.ExampleID])
		case "saliency":
			for i := range q.Tokens {
				if q.Tokens[i].Attribution != f.Tokens[i].Attribution {
					t.Errorf("%s saliency token %d: %v, float run %v; gradient methods must keep the float graph", q.ExampleID, i, q.Tokens[i].Attribution, f.Tokens[i].Attribution)
					break
				}
			}
		}
	}
	t.Logf("occlusion rows %d: mean |int8 − float| %.3g, mean |int8 − direct int8 session| %.3g", n, toFloat/float64(max(n, 1)), toDirect/float64(max(n, 1)))
	if n < 6 || toFloat == 0 || toDirect > toFloat/100 {
		t.Errorf("int8 run's target scores: %d rows, total |int8 − float| %v, |int8 − direct int8 session| %v; want the direct session's", n, toFloat, toDirect)
	}

	s := m.Int8
	if s.Examples != 7 || s.SameLabel < 0.5 || s.SameLabel > 1 || len(s.Spearman) != 1 {
		t.Errorf("int8 section %+v: want 7 examples (every good row), same_label in [0.5, 1], occlusion only", s)
	}
	if rho, ok := s.Spearman["occlusion"]; !ok || rho < 0.5 || rho > 1 {
		t.Errorf("occlusion's mean Spearman int8 vs float %v, want in [0.5, 1]", rho)
	}
	t.Logf("int8 section: %+v", s)
}
