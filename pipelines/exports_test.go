package pipelines

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/jobconfig"
	"github.com/glassbox-ai/glassbox/schemas"
)

func readManifest(t *testing.T, path string) jobconfig.Manifest {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m jobconfig.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func exportsCorpus(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "texts.jsonl")
	lines := `{"id":"a","text":"I do not like this at all."}` + "\n" + `{"id":"b","text":"Sad, sad, sad."}` + "\n" + `{"id":"c","text":"She walked to the window and looked out at the lane."}` + "\n"
	if err := os.WriteFile(p, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestExplainFusedExportFallsBackToReplace runs an ORT-fused export, named by
// its .onnx path, with the default masking: the run uses replace masking, says
// so on every row, in the manifest (with the evidence) and as a warning, and
// records which file it used.
func TestExplainFusedExportFallsBackToReplace(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	cfg := jobconfig.Default()
	cfg.Input.Path = exportsCorpus(t)
	cfg.Model = "../testdata/models/bert-tiny/fused/model_optimized.onnx"
	cfg.Output = out
	cfg.Shards = 1
	cfg.Methods = mustMethods(t, "occlusion", "kernelshap")
	var warn bytes.Buffer
	sum, err := RunExplain(context.Background(), cfg, RunOptions{Version: "test", Warnings: &warn})
	if err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, sum.Manifest)
	if m.Model.ONNX != cfg.Model || m.Model.AttentionMask == nil || m.Model.AttentionMask.Honoured || !strings.Contains(m.Model.AttentionMask.Evidence, "com.microsoft::Attention") {
		t.Errorf("manifest model %+v", m.Model)
	}
	if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "replace masking") || !strings.Contains(warn.String(), "warning: masking:") {
		t.Errorf("warnings %q, printed %q", m.Warnings, warn.String())
	}
	rows := readRows[schemas.ExplanationRow](t, filepath.Join(out, "explanations-00000-of-00001.parquet"))
	if len(rows) != 6 {
		t.Fatalf("%d rows, want 6", len(rows))
	}
	for _, r := range rows {
		if !strings.Contains(r.Params, `"masking":"replace"`) || !strings.Contains(r.Params, `"masking_requested":"auto"`) {
			t.Errorf("%s %s params %s", r.ExampleID, r.Method, r.Params)
		}
	}
}

// TestExplainDynamoExportWithExternalData runs the dynamo export (weights in
// model.onnx.data) with occlusion and attention matrices but no attention
// method: surgery references the weights from the run's cache, the manifest
// digests the data file, and the length rule is recorded.
func TestExplainDynamoExportWithExternalData(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	cfg := jobconfig.Default()
	cfg.Input.Path = exportsCorpus(t)
	cfg.Model = "../testdata/models/bert-tiny"
	cfg.Output = out
	cfg.Shards = 1
	cfg.MaxLength = 12
	cfg.Methods = mustMethods(t, "occlusion")
	cfg.AttentionMatrices = jobconfig.AttentionMatrices{FirstN: 2}
	sum, err := RunExplain(context.Background(), cfg, RunOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, sum.Manifest)
	if len(m.Model.ExternalData) != 1 || filepath.Base(m.Model.ExternalData[0].Path) != "model.onnx.data" || len(m.Model.ExternalData[0].SHA256) != 64 {
		t.Errorf("external data %+v", m.Model.ExternalData)
	}
	if m.Model.MaxLength != 12 || m.Model.MaxLengthRule != "max_length option" || !m.Model.AttentionMask.Honoured || len(m.Warnings) != 0 {
		t.Errorf("manifest model %+v, warnings %q", m.Model, m.Warnings)
	}
	rows := readRows[schemas.ExplanationRow](t, filepath.Join(out, "explanations-00000-of-00001.parquet"))
	truncated := 0
	for _, r := range rows {
		if len(r.Tokens) > 12 {
			t.Errorf("%s: %d tokens beyond max_length 12", r.ExampleID, len(r.Tokens))
		}
		if r.Truncated {
			truncated++
		}
		if !strings.Contains(r.Params, `"masking":"attention"`) {
			t.Errorf("%s params %s", r.ExampleID, r.Params)
		}
	}
	if len(rows) != 3 || truncated != 1 {
		t.Errorf("%d rows, %d truncated; want 3, 1 (the 14-word sentence)", len(rows), truncated)
	}
	// The matrices equal PyTorch's eager attention for the same sentences (reference.json).
	var ref struct {
		Sentences []struct {
			Text       string          `json:"text"`
			Attentions [][][][]float64 `json:"attentions"`
		} `json:"sentences"`
	}
	b, err := os.ReadFile("../testdata/models/bert-tiny/reference.json")
	if err != nil || json.Unmarshal(b, &ref) != nil {
		t.Fatalf("reference: %v", err)
	}
	want := map[string][][][][]float64{}
	for _, s := range ref.Sentences {
		switch s.Text {
		case "I do not like this at all.":
			want["a"] = s.Attentions
		case "Sad, sad, sad.":
			want["b"] = s.Attentions
		}
	}
	mats := readRows[schemas.AttentionMatrixRow](t, filepath.Join(out, "attention-00000-of-00001.parquet"))
	if len(mats) != 2*2*3 { // 2 examples (first_n) × 2 layers × (2 heads + their average)
		t.Errorf("%d attention matrices, want 12", len(mats))
	}
	worst, compared := 0.0, 0
	for _, m := range mats {
		w := want[m.ExampleID]
		if w == nil || m.Head < 0 {
			continue
		}
		compared++
		for q := 0; q < int(m.SeqLen); q++ {
			for k := 0; k < int(m.SeqLen); k++ {
				worst = math.Max(worst, math.Abs(float64(m.Weights[q*int(m.SeqLen)+k])-w[m.Layer][m.Head][q][k]))
			}
		}
	}
	if worst > 1e-5 || compared != 8 {
		t.Errorf("attention differs from PyTorch by %.2g over %d matrices (want 8)", worst, compared)
	}
	t.Logf("attention through the pipeline vs PyTorch: max abs diff %.2g", worst)
}
