package pipelines

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/glassbox-ai/glassbox/jobconfig"
	"github.com/glassbox-ai/glassbox/perturbation"
	"github.com/glassbox-ai/glassbox/schemas"
)

// TestExplainGeneration runs a task-generation job on Prism (gpt2-tiny,
// greedy, 8 tokens, occlusion and KernelSHAP over the prompt, the sequence
// target) and checks what it wrote: generations.parquet holds PyTorch's greedy
// continuations, one explanation row per example, method and step (plus the
// sequence row) in step order, occlusion's values equal the per-step
// log-probabilities of scripts/generation_refs.py, global importances per
// generated token, and the manifest counts every prompt as explained.
func TestExplainGeneration(t *testing.T) {
	b, err := os.ReadFile("../testdata/generation/gpt2-tiny-occlusion.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []struct {
			Prompt          string      `json:"prompt"`
			ContinuationIDs []int64     `json:"continuation_ids"`
			LogProb         []float64   `json:"logprob"`
			MaskedLogProb   [][]float64 `json:"masked_logprob"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	cfg := jobconfig.Default()
	cfg.Task = jobconfig.TaskGeneration
	cfg.Input.Path = "../testdata/generation/prompts.jsonl"
	cfg.Model = "../testdata/models/gpt2-tiny"
	cfg.Output = out
	cfg.Shards = 2
	cfg.IntraOpThreads = 1
	cfg.Faithfulness.Enabled = false
	cfg.Generation.MaxNewTokens = 8
	cfg.Generation.StopTokens = []int64{}
	cfg.Generation.Sequence = true
	cfg.Methods = mustMethods(t, "occlusion", "kernelshap")
	cfg.Methods.Params("occlusion").(*perturbation.OcclusionParams).Masking = "attention"
	cfg.Methods.Params("kernelshap").(*perturbation.KernelSHAPParams).Masking = "attention"
	cfg.Methods.Params("kernelshap").(*perturbation.KernelSHAPParams).Samples = 32
	sum, err := RunExplain(context.Background(), cfg, RunOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts.Read != 3 || sum.Counts.Explained != 3 || sum.Counts.Failed != 0 || sum.Counts.RowsWritten["generations"] != 3 {
		t.Errorf("counts %+v", sum.Counts)
	}
	gens := readRows[schemas.GenerationRow](t, filepath.Join(out, schemas.GenerationsFile))
	if len(gens) != len(ref.Cases) {
		t.Fatalf("%d generation rows", len(gens))
	}
	for i, g := range gens {
		c := ref.Cases[i]
		var ids []int64
		for _, st := range g.Steps {
			ids = append(ids, st.TokenID)
		}
		if g.Prompt != c.Prompt || !slices.Equal(ids, c.ContinuationIDs) || g.StopReason != "max_new_tokens" || len(g.Steps[0].Top) != 5 {
			t.Errorf("generation %d: %q %v %s, want %q %v", i, g.Prompt, ids, g.StopReason, c.Prompt, c.ContinuationIDs)
		}
	}
	var rows []schemas.ExplanationRow
	for s := 0; s < 2; s++ {
		rows = append(rows, readRows[schemas.ExplanationRow](t, filepath.Join(out, schemas.ExplanationsPrefix+"-0000"+itoa(int64(s))+"-of-00002.parquet"))...)
	}
	if want := 3 * 2 * (8 + 1); len(rows) != want {
		t.Fatalf("%d explanation rows, want %d", len(rows), want)
	}
	byExample := map[string][]schemas.ExplanationRow{}
	for _, r := range rows {
		if r.Method == "occlusion" {
			byExample[r.ExampleID] = append(byExample[r.ExampleID], r)
		}
	}
	for i, c := range ref.Cases {
		id := "p" + itoa(int64(i))
		ex := byExample[id]
		if len(ex) != 9 || ex[0].Position != nil {
			t.Fatalf("%s: %d occlusion rows, the sequence row first: %v", id, len(ex), ex[0].Position)
		}
		for j, r := range ex[1:] {
			if r.Position == nil || int(*r.Position) != j || r.SchemaVersion != schemas.Version {
				t.Fatalf("%s: row %d has position %v", id, j, r.Position)
			}
			for k, tok := range r.Tokens {
				if want := c.LogProb[j] - c.MaskedLogProb[k][j]; math.Abs(tok.Attribution-want) > 1e-4 {
					t.Errorf("%s step %d token %d: %v, PyTorch %v", id, j, k, tok.Attribution, want)
				}
			}
		}
	}
	imp := readRows[schemas.GlobalImportanceRow](t, filepath.Join(out, schemas.GlobalImportanceFile))
	targets := map[string]bool{}
	for _, r := range imp {
		targets[r.Target] = true
	}
	if !targets["Ġbeen"] || len(targets) < 3 {
		t.Errorf("global importance targets %v", targets)
	}
}
