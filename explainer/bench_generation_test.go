package explainer

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/generation"
)

// benchGenPrompt is the prompt scripts/bench-generation-explain.sh explains on both sides.
const benchGenPrompt = "The dinner was dreadful and the company was even worse, so she"

// BenchmarkGenerationOcclusion generates GLASSBOX_BENCH_GEN_TOKENS (default
// 32) greedy tokens for one prompt with GLASSBOX_BENCH_GEN_MODEL (default the
// GPT-2-small-sized random export of scripts/make_generation_fixtures.py
// --bench) and times explaining them with occlusion over the prompt (replace
// masking, the pad id, as Captum's FeatureAblation ablates to baseline id 0
// here). Metrics: s/op (the explanation of every step), inputs (model inputs
// run: each perturbed input once for all steps), steps. With
// GLASSBOX_BENCH_GEN_OUT set it writes the prompt, continuation and every
// step's attributions there for scripts/bench_generation_captum.py.
func BenchmarkGenerationOcclusion(b *testing.B) {
	model := os.Getenv("GLASSBOX_BENCH_GEN_MODEL")
	if model == "" {
		model = ".cache/bench/gpt2-small-random"
	}
	if !filepath.IsAbs(model) {
		model = filepath.Join("..", model)
	}
	if _, err := os.Stat(filepath.Join(model, "model.onnx")); err != nil {
		b.Skipf("no benchmark model (%v): .cache/pyenv-optimum/bin/python scripts/make_generation_fixtures.py --bench", err)
	}
	n := 32
	if v := os.Getenv("GLASSBOX_BENCH_GEN_TOKENS"); v != "" {
		if err := json.Unmarshal([]byte(v), &n); err != nil {
			b.Fatal(err)
		}
	}
	o := generation.DefaultOptions()
	o.MaxNewTokens, o.StopTokens = n, []int64{}
	spec := Spec{Model: model, RunID: "bench", Seed: 1, Target: "predicted", BatchSize: 64,
		Methods:    []MethodConfig{{Name: "occlusion", Params: json.RawMessage(`{"masking":"replace"}`)}},
		Generation: &GenerationSpec{Options: o}}
	ex, closeFn, err := Open(spec)
	if err != nil {
		b.Fatal(err)
	}
	defer closeFn()
	rec := corpus.Record{ID: "bench", Text: benchGenPrompt, Source: "bench", Line: 1}
	ctx := context.Background()
	start := time.Now()
	gen := ex.s.Generation.Generate
	enc, err := ex.model.Encode(rec.Text)
	if err != nil {
		b.Fatal(err)
	}
	res, err := gen(ctx, []explanation.Input{ex.model.InputFromEncoding(enc)}, []uint64{1})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d tokens in %s (no cache: the full-pass path of %s)", len(res[0].Steps), time.Since(start).Round(time.Millisecond), model)
	// The explanation alone: the continuation is fixed, as in Captum's run.
	ex.s.Generation.Generate = func(context.Context, []explanation.Input, []uint64) ([]generation.Result, error) {
		return res, nil
	}
	var out *Output
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out, err = ex.Explain(ctx, []corpus.Record{rec}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := (cpuSeconds() - cpu0) / float64(b.N)
	b.ReportMetric(cpu, "cpu-s/op")
	if len(out.Errors) > 0 {
		b.Fatalf("errors: %+v", out.Errors)
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/op")
	b.ReportMetric(float64(out.StepInputs), "inputs")
	b.ReportMetric(float64(len(out.Rows)), "steps")
	if path := os.Getenv("GLASSBOX_BENCH_GEN_OUT"); path != "" {
		type step struct {
			Token       int64     `json:"token"`
			LogProb     float64   `json:"logprob"`
			Attribution []float64 `json:"attribution"`
		}
		dump := struct {
			Prompt       string  `json:"prompt"`
			PromptIDs    []int64 `json:"prompt_ids"`
			Continuation []int64 `json:"continuation_ids"`
			ReplaceID    int64   `json:"replace_id"`
			Seconds      float64 `json:"seconds"`
			CPUSeconds   float64 `json:"cpu_seconds"`
			Inputs       int     `json:"inputs"`
			Steps        []step  `json:"steps"`
		}{Prompt: rec.Text, PromptIDs: res[0].PromptIDs, Continuation: res[0].IDs(), ReplaceID: ex.model.MaskID,
			Seconds: b.Elapsed().Seconds() / float64(b.N), CPUSeconds: cpu, Inputs: out.StepInputs}
		for _, r := range out.Rows {
			s := step{Token: out.Generations[0].Steps[*r.Position].TokenID, LogProb: r.TargetScore}
			for _, t := range r.Tokens {
				s.Attribution = append(s.Attribution, t.Attribution)
			}
			dump.Steps = append(dump.Steps, s)
		}
		bs, err := json.Marshal(dump)
		if err != nil {
			b.Fatal(err)
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join("..", path)
		}
		if err := os.WriteFile(path, bs, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuSeconds is the process's user + system time so far (every thread, ONNX Runtime's included).
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
