package pipelines

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/glassbox-ai/glassbox/schemas"
)

// TestExplainGradientMethods runs saliency, gradient × input and IG through the
// pipeline on the additive model, whose logit of class c is
// bias_c + Σ_i mask_i·W[id_i, c]: the "word embedding" is the row W[id] itself,
// so ∂logit_c/∂e_i is the unit vector of c. Closed forms, for every target:
// saliency = 1, gradxinput = W[id_i, c] (the contribution), IG from the pad
// baseline (W[pad] = 0) = the contribution too, with a zero completeness gap.
func TestExplainGradientMethods(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	cfg := e2eConfig(out)
	cfg.Input.Path = "../testdata/corpus/mixed.jsonl"
	cfg.Shards = 1
	cfg.Methods = mustMethods(t, "saliency", "gradxinput", "ig")
	sum, err := RunExplain(context.Background(), cfg, RunOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var ref additiveRef
	b, err := os.ReadFile("../testdata/models/additive/reference.json")
	if err != nil || json.Unmarshal(b, &ref) != nil {
		t.Fatalf("reference: %v", err)
	}
	contrib := map[string][][]float64{}
	for _, s := range ref.Sentences {
		contrib[s.Text] = s.Contributions
	}
	rows := readRows[schemas.ExplanationRow](t, filepath.Join(out, "explanations-00000-of-00001.parquet"))
	class := map[string]int{"NEGATIVE": 0, "POSITIVE": 1}
	checked := 0
	for _, r := range rows {
		c, ok := contrib[r.Text]
		if !ok {
			continue
		}
		for i, tok := range r.Tokens {
			want := c[i][class[r.Target]]
			if r.Method == "saliency" {
				want = 1
			}
			if tok.Special {
				want = 0
			}
			if math.Abs(tok.Attribution-want) > 1e-5 {
				t.Errorf("%s %s %s token %d %q: %.7f, closed form %.7f", r.ExampleID, r.Method, r.Target, i, tok.Text, tok.Attribution, want)
			}
		}
		if r.Method == "ig" && (r.Quality == nil || *r.Quality > 1e-4) {
			t.Errorf("%s ig %s: completeness gap %v", r.ExampleID, r.Target, r.Quality)
		}
		checked++
	}
	if checked < 3*2*6 || sum.Counts.Explained != 7 { // mixed.jsonl: 7 good rows, 6 of them reference sentences
		t.Errorf("%d rows checked against the closed form; counts %+v", checked, sum.Counts)
	}
	// The backward graphs are cached beside the run, and a second run reads
	// them (same files, same rows).
	cached, _ := filepath.Glob(filepath.Join(out, ".glassbox-cache", "gradient-*.onnx"))
	if len(cached) == 0 {
		t.Fatal("no backward graph cached in the output folder's .glassbox-cache")
	}
	stamp := map[string]int64{}
	for _, f := range cached {
		st, _ := os.Stat(f)
		stamp[f] = st.ModTime().UnixNano()
	}
	if _, err := RunExplain(context.Background(), cfg, RunOptions{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	again, _ := filepath.Glob(filepath.Join(out, ".glassbox-cache", "gradient-*.onnx"))
	for _, f := range again {
		st, _ := os.Stat(f)
		if stamp[f] != st.ModTime().UnixNano() {
			t.Errorf("second run rebuilt %s instead of reading it", filepath.Base(f))
		}
	}
	if len(again) != len(cached) {
		t.Errorf("second run cached %d graphs, first %d", len(again), len(cached))
	}
	if rows2 := readRows[schemas.ExplanationRow](t, filepath.Join(out, "explanations-00000-of-00001.parquet")); len(rows2) != len(rows) {
		t.Errorf("second run wrote %d rows, first %d", len(rows2), len(rows))
	}
}
