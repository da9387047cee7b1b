package explainer

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/perturbation"
)

// BenchmarkPerturbationTiming measures Glassbox's seconds per example for
// KernelSHAP, LIME and occlusion at their defaults (and LIME at lime's 5,000
// rows), the Glassbox side of scripts/bench-perturbation.sh; the peers'
// side, on the same sentences, is scripts/bench-perturbation-peers.py.
//
// Model, texts and sentence choice are BenchmarkKernelSHAPAccuracy's
// (GLASSBOX_BENCH_MODEL, GLASSBOX_BENCH_TEXTS, GLASSBOX_BENCH_MIN_N,
// GLASSBOX_BENCH_MAX_N; GLASSBOX_BENCH_SENTENCES defaults to 8 here), with
// GLASSBOX_BENCH_THREADS (default 2) ONNX Runtime intra-op threads and the
// scorer batching inputs by 64. Only the Explain calls are timed, one sentence
// at a time, after an untimed warm-up (one batch of the first sentence); each method's
// pass over all sentences is repeated GLASSBOX_BENCH_REPEATS times (default 3)
// and the fastest pass is reported, because other processes share the cores.
// Lines starting "PERF " carry sec_per_example and the mean evaluations
// (scored inputs) per sentence. With GLASSBOX_BENCH_DUMP set the sentences are
// written there as JSONL.
func BenchmarkPerturbationTiming(b *testing.B) {
	model, texts := benchPaths()
	want := envInt("GLASSBOX_BENCH_SENTENCES", 8)
	minN, maxN := envInt("GLASSBOX_BENCH_MIN_N", 10), envInt("GLASSBOX_BENCH_MAX_N", 14)
	repeats := envInt("GLASSBOX_BENCH_REPEATS", 3)
	const batch = 64
	ex, closeFn, err := Open(Spec{Model: model, RunID: "bench", Seed: 1, Target: "predicted", OutputKind: "probability",
		BatchSize: batch, IntraOpThreads: envInt("GLASSBOX_BENCH_THREADS", 2)})
	if err != nil {
		b.Fatal(err)
	}
	defer closeFn()
	ctx := context.Background()

	sents := loadBenchSentences(b, ex, texts, want, minN, maxN, batch)
	dumpBenchSentences(b, sents)
	nMean := 0.0
	for _, s := range sents {
		nMean += float64(s.N)
	}
	fmt.Printf("PERF sentences=%d mean_n=%.2f model=%s threads=%d batch=%d repeats=%d\n", len(sents),
		nMean/float64(len(sents)), filepath.Base(model), envInt("GLASSBOX_BENCH_THREADS", 2), batch, repeats)

	runs := []struct {
		method, config string
		m              explanation.Method
	}{
		{"kernelshap", "default", perturbation.KernelSHAP{Tolerance: perturbation.DefaultKernelSHAPTolerance}},
		{"lime", "default", perturbation.LIME{Tolerance: perturbation.DefaultLIMETolerance}},
		{"lime", "rows=5000", perturbation.LIME{Samples: 5000}},
		{"occlusion", "default", perturbation.Occlusion{}},
	}
	printed := map[string]bool{}
	for _, r := range runs {
		b.Run(r.method+"/"+r.config, func(b *testing.B) {
			// pass explains every sentence once, returning the seconds spent in
			// Explain and the evaluations scored.
			pass := func(sents []*benchSentence) (float64, float64) {
				var secs, evals float64
				for _, s := range sents {
					cs := &countingScorer{s: s.sc}
					t0 := time.Now()
					if _, err := r.m.Explain(ctx, cs, s.req); err != nil {
						b.Fatal(err)
					}
					secs += time.Since(t0).Seconds()
					evals += float64(cs.calls)
				}
				return secs, evals
			}
			// Warm-up: ONNX Runtime's first runs allocate.
			warm := make([]explanation.Input, batch)
			for i := range warm {
				warm[i] = sents[0].req.Input
			}
			if _, err := sents[0].sc.Score(ctx, warm); err != nil {
				b.Fatal(err)
			}
			best, evals := math.Inf(1), 0.0
			for i := 0; i < b.N; i++ {
				for rep := 0; rep < repeats; rep++ {
					s, e := pass(sents)
					best, evals = math.Min(best, s), e
				}
			}
			k := float64(len(sents))
			b.ReportMetric(best/k, "s/example")
			b.ReportMetric(evals/k, "evals")
			if printed[r.method+r.config] {
				return
			}
			printed[r.method+r.config] = true
			fmt.Printf("PERF side=glassbox method=%s config=%s sec_per_example=%.6g evals=%.1f\n", r.method, r.config, best/k, evals/k)
		})
	}
}
