package explainer

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/perturbation"
)

// countingScorer counts the inputs (model evaluations) it scores.
type countingScorer struct {
	s     explanation.Scorer
	calls int
}

func (c *countingScorer) Score(ctx context.Context, in []explanation.Input) ([]float64, error) {
	c.calls += len(in)
	return c.s.Score(ctx, in)
}

// accSentence is one benchmark sentence with its exact Shapley values.
type accSentence struct {
	*benchSentence
	Fx    float64   `json:"f_full"`
	F0    float64   `json:"f_empty"`
	Exact []float64 `json:"exact_shapley"`
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// exactShapley enumerates all 2^n coalitions of the request's non-special
// tokens through perturbation.TokenInputs (the masking every method uses) and
// returns the Shapley values, f(full) and f(empty).
func exactShapley(ctx context.Context, sc explanation.Scorer, req explanation.Request, n int) ([]float64, float64, float64, error) {
	m := 1 << n
	present := make([][]bool, m)
	for s := 0; s < m; s++ {
		present[s] = make([]bool, n)
		for p := 0; p < n; p++ {
			present[s][p] = s&(1<<p) != 0
		}
	}
	inputs, err := perturbation.TokenInputs(req, present)
	if err != nil {
		return nil, 0, 0, err
	}
	v, err := sc.Score(ctx, inputs)
	if err != nil {
		return nil, 0, 0, err
	}
	// w[s] = s!(n−s−1)!/n!, the Shapley weight of a coalition of size s without the player.
	w := make([]float64, n)
	for s := 0; s < n; s++ {
		lw, _ := math.Lgamma(float64(s + 1))
		lw2, _ := math.Lgamma(float64(n - s))
		ln, _ := math.Lgamma(float64(n + 1))
		w[s] = math.Exp(lw + lw2 - ln)
	}
	phi := make([]float64, n)
	for s := 0; s < m; s++ {
		size := 0
		for x := s; x != 0; x &= x - 1 {
			size++
		}
		for p := 0; p < n; p++ {
			if s&(1<<p) == 0 {
				phi[p] += w[size] * (v[s|1<<p] - v[s])
			}
		}
	}
	return phi, v[m-1], v[0], nil
}

// accErrors returns ‖φ − φ*‖₂/‖φ*‖₂ and max |φ − φ*| over the non-special tokens.
func accErrors(tokens []float64, special []bool, exact []float64) (float64, float64) {
	var d2, e2, maxAbs float64
	p := 0
	for i, v := range tokens {
		if special[i] {
			continue
		}
		d := v - exact[p]
		d2 += d * d
		e2 += exact[p] * exact[p]
		maxAbs = math.Max(maxAbs, math.Abs(d))
		p++
	}
	return math.Sqrt(d2 / e2), maxAbs
}

// BenchmarkKernelSHAPAccuracy measures the error of KernelSHAP (and, for
// reference, occlusion and LIME, which estimate other quantities) against the
// exact Shapley values, as a function of the model evaluations used.
//
// The model is GLASSBOX_BENCH_MODEL (default testdata/models/distilbert-sentiment),
// the texts GLASSBOX_BENCH_TEXTS (JSONL with "id" and "text"; default
// testdata/sample/austen-sentiment.jsonl); the first GLASSBOX_BENCH_SENTENCES
// (default 6) texts with GLASSBOX_BENCH_MIN_N..GLASSBOX_BENCH_MAX_N (default
// 10..14) non-special tokens are used. The explained quantity is the predicted
// class probability with attention masking, the seed 1 (per example
// explanation.Seed(1, id)). Exact Shapley values enumerate all 2^n coalitions
// through perturbation.TokenInputs. Each sub-benchmark reports, as means over
// the sentences, rel_l2 (‖φ − φ*‖/‖φ*‖), max_abs (the largest |φ_i − φ*_i| of
// all sentences is max_abs_all) and evals (scored inputs per sentence); lines
// starting "ACC " print the same table for scripts/bench-accuracy.sh. With
// GLASSBOX_BENCH_DUMP set, the sentences (token ids, mask, class, exact values)
// are written there as JSONL for scripts/bench-shapley-peers.py.
func BenchmarkKernelSHAPAccuracy(b *testing.B) {
	model, texts := benchPaths()
	want := envInt("GLASSBOX_BENCH_SENTENCES", 6)
	minN, maxN := envInt("GLASSBOX_BENCH_MIN_N", 10), envInt("GLASSBOX_BENCH_MAX_N", 14)
	if maxN > 16 {
		b.Fatalf("GLASSBOX_BENCH_MAX_N %d: exact enumeration is limited to 16 players", maxN)
	}
	ex, closeFn, err := Open(Spec{Model: model, RunID: "bench", Seed: 1, Target: "predicted", OutputKind: "probability",
		BatchSize: 256, IntraOpThreads: envInt("GLASSBOX_BENCH_THREADS", 2)})
	if err != nil {
		b.Fatal(err)
	}
	defer closeFn()
	ctx := context.Background()
	var sents []*accSentence
	for _, bs := range loadBenchSentences(b, ex, texts, want, minN, maxN, 256) {
		phi, fx, f0, err := exactShapley(ctx, bs.sc, bs.req, bs.N)
		if err != nil {
			b.Fatal(err)
		}
		sents = append(sents, &accSentence{benchSentence: bs, Fx: fx, F0: f0, Exact: phi})
	}
	dumpBenchSentences(b, sents)
	nMean := 0.0
	for _, s := range sents {
		nMean += float64(s.N)
	}
	fmt.Printf("ACC sentences=%d mean_n=%.2f model=%s\n", len(sents), nMean/float64(len(sents)), filepath.Base(model))

	type run struct {
		name, budget string
		method       explanation.Method
	}
	var runs []run
	// Fixed budgets spend the whole budget (tolerance 0); "default" is the
	// method's defaults (adaptive, at most DefaultKernelSHAPMaxSamples); the
	// tol= rows are the default budget at other tolerances.
	for _, k := range []int{32, 64, 128, 256, 288, 432, 512, 1024, 2048, perturbation.MaxKernelSHAPSamples} {
		label := strconv.Itoa(k)
		if k == perturbation.MaxKernelSHAPSamples {
			label = "exact" // capped at 2^n − 2: every coalition
		}
		runs = append(runs, run{"kernelshap", label, perturbation.KernelSHAP{Samples: k}})
	}
	runs = append(runs, run{"kernelshap", "default", perturbation.KernelSHAP{Tolerance: perturbation.DefaultKernelSHAPTolerance}})
	for _, tol := range []float64{0.002, 0.001} {
		runs = append(runs, run{"kernelshap", "tol=" + strconv.FormatFloat(tol, 'g', -1, 64), perturbation.KernelSHAP{Tolerance: tol}})
	}
	runs = append(runs, run{"occlusion", "n", perturbation.Occlusion{}})
	// LIME estimates its own quantity (the infinite-sample surrogate): its rows
	// are measured against a 20,000-row fit, fixed budgets with tolerance 0,
	// "default" with the method's defaults, tol= at the default cap.
	for _, k := range []int{128, 256, 512, 1024, 2048, 5000} {
		runs = append(runs, run{"lime", strconv.Itoa(k), perturbation.LIME{Samples: k}})
	}
	runs = append(runs, run{"lime", "default", perturbation.LIME{Tolerance: perturbation.DefaultLIMETolerance}})
	for _, tol := range []float64{0.02, 0.005} {
		runs = append(runs, run{"lime", "tol=" + strconv.FormatFloat(tol, 'g', -1, 64), perturbation.LIME{Tolerance: tol}})
	}
	limeRef := make([][]float64, len(sents))
	for i, s := range sents {
		res, err := perturbation.LIME{Samples: 20000}.Explain(ctx, s.sc, s.req)
		if err != nil {
			b.Fatal(err)
		}
		limeRef[i] = res.Tokens
	}
	printed := map[string]bool{} // the framework calls each sub-benchmark again as it grows b.N
	for _, r := range runs {
		b.Run(r.name+"/budget="+r.budget, func(b *testing.B) {
			var rel, maxAbs, maxAll, evals float64
			for i := 0; i < b.N; i++ {
				rel, maxAbs, maxAll, evals = 0, 0, 0, 0
				for si, s := range sents {
					cs := &countingScorer{s: s.sc}
					res, err := r.method.Explain(ctx, cs, s.req)
					if err != nil {
						b.Fatal(err)
					}
					ref := s.Exact
					if r.name == "lime" {
						ref = players(limeRef[si], s.Special)
					}
					e, m := accErrors(res.Tokens, s.Special, ref)
					rel += e
					maxAbs += m
					maxAll = math.Max(maxAll, m)
					evals += float64(cs.calls)
				}
			}
			k := float64(len(sents))
			b.ReportMetric(rel/k, "rel_l2")
			b.ReportMetric(maxAbs/k, "max_abs")
			b.ReportMetric(maxAll, "max_abs_all")
			b.ReportMetric(evals/k, "evals")
			if printed[r.name+r.budget] {
				return
			}
			printed[r.name+r.budget] = true
			method := r.name
			if method == "lime" {
				method = "lime-vs-20000" // not Shapley values: the error is against a 20,000-row LIME
			}
			fmt.Printf("ACC side=glassbox method=%s budget=%s evals=%.1f rel_l2=%.6g max_abs=%.6g max_abs_all=%.6g\n",
				method, r.budget, evals/k, rel/k, maxAbs/k, maxAll)
		})
	}
}

// players returns the values of the non-special tokens, in order (the layout of accSentence.Exact).
func players(tokens []float64, special []bool) []float64 {
	var out []float64
	for i, v := range tokens {
		if !special[i] {
			out = append(out, v)
		}
	}
	return out
}
