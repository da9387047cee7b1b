package perturbation

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
)

func TestKernelSHAPExactAdditive(t *testing.T) {
	// For an additive game the Shapley value of a player is its own term.
	for _, tc := range []struct {
		name    string
		players explanation.Players
		masking explanation.Masking
	}{
		{"tokens/attention", explanation.PlayersTokens, explanation.MaskAttention},
		{"tokens/replace", explanation.PlayersTokens, explanation.MaskReplace},
		{"words/attention", explanation.PlayersWords, explanation.MaskAttention},
		{"words/replace", explanation.PlayersWords, explanation.MaskReplace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := example(multiWords, tc.masking, 3)
			w := terms(req)
			rec := &recorder{t: t, req: req, wordLevel: tc.players == explanation.PlayersWords, game: additive(w, -0.5)}
			res, err := KernelSHAP{Players: tc.players}.Explain(context.Background(), rec, req)
			if err != nil {
				t.Fatal(err)
			}
			if rec.calls != 1 {
				t.Errorf("scorer called %d times, want 1", rec.calls)
			}
			n := 7
			if tc.players == explanation.PlayersWords {
				n = 4
			}
			// Every coalition scored exactly once: 2^n inputs.
			if got := len(rec.inputs); got != 1<<n {
				t.Errorf("scored %d inputs, want %d", got, 1<<n)
			}
			if res.Params["exact"] != true || res.Params["coalitions"] != (1<<n)-2 || res.Params["seeded"] != false {
				t.Errorf("Params = %v", res.Params)
			}
			wordSum := explanation.WordSums(w, req.WordIDs)
			want := make([]float64, len(w))
			if tc.players == explanation.PlayersWords {
				assertClose(t, "Words", res.Words, wordSum, 1e-12)
				count := explanation.WordSums([]float64{1, 1, 1, 1, 1, 1, 1, 1, 1}, req.WordIDs)
				for i, wd := range req.WordIDs {
					if wd >= 0 {
						want[i] = wordSum[wd] / count[wd]
					}
				}
			} else {
				for i := range w {
					if !req.Special[i] {
						want[i] = w[i]
					}
				}
			}
			assertClose(t, "Tokens", res.Tokens, want, 1e-12)
			if *res.Quality > 1e-12 {
				t.Errorf("additivity gap %g", *res.Quality)
			}
		})
	}
}

func TestKernelSHAPExactNonAdditive(t *testing.T) {
	for _, tc := range []struct {
		name    string
		words   []int
		players explanation.Players
		v       func(m uint64) float64
	}{
		{"min of two", oneTokenWords(2), explanation.PlayersTokens, func(m uint64) float64 {
			return math.Min(float64(m&1), 0.5*float64(m>>1&1))
		}},
		{"product and square, 5 tokens", oneTokenWords(5), explanation.PlayersTokens, func(m uint64) float64 {
			s := 0.3*float64(m&1) - 0.7*float64(m>>1&1) + 0.2*float64(m>>4&1)
			return s*s + 2*float64(m&1)*float64(m>>2&1)*float64(m>>3&1) + math.Sin(float64(m))
		}},
		{"majority, 8 tokens", oneTokenWords(8), explanation.PlayersTokens, func(m uint64) float64 {
			if popcount(m) >= 5 {
				return 1
			}
			return float64(m&3) / 10
		}},
		{"threshold over multi-token words", multiWords, explanation.PlayersWords, func(m uint64) float64 {
			return 1 / (1 + math.Exp(-(2*float64(m&1) - float64(m>>1&1) + 1.5*float64(m>>2&1)*float64(m>>3&1))))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := example(tc.words, explanation.MaskAttention, 11)
			game, n := playerGame(req, tc.players == explanation.PlayersWords, tc.v)
			rec := &recorder{t: t, req: req, wordLevel: tc.players == explanation.PlayersWords, game: game}
			res, err := KernelSHAP{Players: tc.players}.Explain(context.Background(), rec, req)
			if err != nil {
				t.Fatal(err)
			}
			want := bruteShapley(n, tc.v)
			got := res.Words
			if tc.players == explanation.PlayersTokens {
				got = nil
				for i, sp := range req.Special {
					if !sp {
						got = append(got, res.Tokens[i])
					} else if res.Tokens[i] != 0 {
						t.Errorf("special token %d has attribution %v", i, res.Tokens[i])
					}
				}
			}
			assertClose(t, "shapley", got, want, 1e-9)
			if res.Params["exact"] != true || rec.calls != 1 {
				t.Errorf("exact = %v, calls = %d", res.Params["exact"], rec.calls)
			}
		})
	}
}

func TestKernelSHAPEfficiencyProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 7))
	for trial := 0; trial < 40; trial++ {
		n := 2 + r.IntN(10)
		samples := 0 // exact for n ≤ 11
		if trial%2 == 1 {
			samples = n + r.IntN(1<<uint(n)-2-n+1) // often below 2^n − 2: sampled
		}
		table := make([]float64, 1<<uint(n))
		for i := range table {
			table[i] = r.NormFloat64() * 3
		}
		req := example(oneTokenWords(n), explanation.MaskReplace, r.Uint64())
		game, _ := playerGame(req, false, func(m uint64) float64 { return table[m] })
		rec := &recorder{t: t, req: req, game: game}
		res, err := KernelSHAP{Samples: samples}.Explain(context.Background(), rec, req)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		sum := 0.0
		for _, v := range res.Tokens {
			sum += v
		}
		total := table[1<<uint(n)-1] - table[0]
		if math.Abs(sum-total) > 1e-9 || *res.Quality > 1e-9 {
			t.Errorf("trial %d (n=%d, samples=%d, exact=%v): Σφ = %.15g, f(x)−f(∅) = %.15g, gap %g",
				trial, n, samples, res.Params["exact"], sum, total, *res.Quality)
		}
		if rec.calls != 1 {
			t.Errorf("trial %d: %d scorer calls", trial, rec.calls)
		}
		if samples > 0 && samples < 1<<uint(n)-2 && res.Params["coalitions"].(int) > samples {
			t.Errorf("trial %d: %v coalitions over budget %d", trial, res.Params["coalitions"], samples)
		}
	}
}

// sigmoidGame is a smooth non-additive game of magnitude ~1: the sigmoid of an additive score.
func sigmoidGame(n int) func(m uint64) float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1.2 * math.Sin(float64(3*i+1))
	}
	return func(m uint64) float64 {
		s := -0.3
		for i := range w {
			if m>>uint(i)&1 == 1 {
				s += w[i]
			}
		}
		return 1 / (1 + math.Exp(-s))
	}
}

func TestKernelSHAPSampled(t *testing.T) {
	const n = 14 // default budget 500 < 2^14 − 2
	interacting := sigmoidPairsGame(n)
	for _, tc := range []struct {
		name      string
		game      func(uint64) float64
		link      explanation.Link
		tolerance float64
		control   string
		maxErr    float64
		maxEvals  int
	}{
		// Stratified paired sampling alone, the whole budget.
		{"plain", sigmoidGame(n), explanation.LinkIdentity, 0, "none", 0.02, 512},
		// σ(additive) is the surrogate's own form: the residual is 0 and the values exact.
		{"surrogate exact", sigmoidGame(n), explanation.LinkLogit, 0, "surrogate-logit+kernel-ridge", 1e-9, 512},
		// Pairwise interactions inside the sigmoid are the surrogate's form too (all 14 players get pairs at
		// 500); the ridge on the pair terms leaves ~1e-5.
		{"surrogate pairs", interacting, explanation.LinkLogit, 0, "surrogate-logit+kernel-ridge", 1e-4, 512},
		// log σ(·) is the log-probability link's form.
		{"surrogate logprob", func(m uint64) float64 { return math.Log(sigmoidGame(n)(m)) }, explanation.LinkLogProb, 0, "surrogate-logprob+kernel-ridge", 1e-9, 512},
		// Adaptive: the exact-form game stops at the first round.
		{"adaptive", sigmoidGame(n), explanation.LinkLogit, DefaultKernelSHAPTolerance, "surrogate-logit+kernel-ridge", 1e-9, 130},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := bruteShapley(n, tc.game)
			for _, seed := range []uint64{1, 2, 3} {
				req := example(oneTokenWords(n), explanation.MaskAttention, seed)
				req.Link = tc.link
				game, _ := playerGame(req, false, tc.game)
				rec := &recorder{t: t, req: req, game: game}
				res, err := KernelSHAP{Tolerance: tc.tolerance}.Explain(context.Background(), rec, req)
				if err != nil {
					t.Fatal(err)
				}
				if res.Params["exact"] != false || res.Params["sample_budget"] != 500 || res.Params["seeded"] != true || res.Params["control_variate"] != tc.control {
					t.Fatalf("Params = %v", res.Params)
				}
				ev := res.Params["evaluations"].(int)
				if ev > tc.maxEvals || len(rec.inputs) != ev {
					t.Errorf("seed %d: %d evaluations (scored %d), want at most %d", seed, ev, len(rec.inputs), tc.maxEvals)
				}
				worst := 0.0
				for p := 0; p < n; p++ {
					worst = math.Max(worst, math.Abs(res.Tokens[p+1]-want[p]))
				}
				if worst > tc.maxErr {
					t.Errorf("seed %d: max |φ − Shapley| = %g > %g", seed, worst, tc.maxErr)
				}
				if len(res.TokenStdErrors) != n+2 || res.TokenStdErrors[0] != 0 || res.TokenStdErrors[n+1] != 0 {
					t.Errorf("seed %d: std errors %v", seed, res.TokenStdErrors)
				}
				t.Logf("seed %d: max |φ − Shapley| = %.2g, max std error %.2g, %d evaluations", seed, worst, res.Params["max_std_error"], ev)
			}
		})
	}
}

// sigmoidPairsGame is σ of an additive score plus pairwise interactions.
func sigmoidPairsGame(n int) func(m uint64) float64 {
	return func(m uint64) float64 {
		s := -0.3
		for i := 0; i < n; i++ {
			if m>>uint(i)&1 == 0 {
				continue
			}
			s += 1.2 * math.Sin(float64(3*i+1))
			for j := i + 1; j < n; j++ {
				if m>>uint(j)&1 == 1 {
					s += 0.3 * math.Cos(float64(5*i+7*j))
				}
			}
		}
		return 1 / (1 + math.Exp(-s))
	}
}

func TestKernelSHAPDeterminism(t *testing.T) {
	const n = 12
	v := sigmoidGame(n)
	run := func(seed uint64) (explanation.Result, map[string]bool) {
		req := example(oneTokenWords(n), explanation.MaskAttention, seed)
		game, _ := playerGame(req, false, v)
		rec := &recorder{t: t, req: req, game: game}
		res, err := KernelSHAP{Samples: 300}.Explain(context.Background(), rec, req)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, in := range rec.inputs {
			seen[string(fmtMask(in.Mask))] = true
		}
		return res, seen
	}
	a, sa := run(5)
	b, sb := run(5)
	c, sc := run(6)
	if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(sa, sb) {
		t.Fatal("same seed gave different results")
	}
	for i := range a.Tokens {
		if math.Float64bits(a.Tokens[i]) != math.Float64bits(b.Tokens[i]) {
			t.Fatalf("token %d differs in its bits", i)
		}
	}
	if reflect.DeepEqual(sa, sc) || reflect.DeepEqual(a.Tokens, c.Tokens) {
		t.Error("different seeds drew the same coalitions")
	}
}

func fmtMask(m []int64) []byte {
	b := make([]byte, len(m))
	for i, v := range m {
		b[i] = byte('0' + v)
	}
	return b
}

func TestKernelSHAPSmallGames(t *testing.T) {
	for _, tc := range []struct {
		name  string
		words []int
		want  []float64
	}{
		// No players: nothing to attribute, f(x) = f(∅).
		{"no players", []int{-1, -1}, []float64{0, 0}},
		// One player takes f(x) − f(∅) = its term.
		{"one player", []int{-1, 0, -1}, []float64{0, -0.2, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := example(tc.words, explanation.MaskAttention, 0)
			rec := &recorder{t: t, req: req, game: additive(terms(req), 1)}
			res, err := KernelSHAP{}.Explain(context.Background(), rec, req)
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, "Tokens", res.Tokens, tc.want, 1e-15)
			if rec.calls != 1 || *res.Quality != 0 || res.Params["exact"] != true {
				t.Errorf("calls %d, quality %v, params %v", rec.calls, *res.Quality, res.Params)
			}
		})
	}
}

func TestKernelSHAPTinyBudget(t *testing.T) {
	// Fewer coalitions than players: the system is underdetermined, the
	// minimum-norm solution is used and efficiency still holds exactly.
	const n = 10
	req := example(oneTokenWords(n), explanation.MaskAttention, 9)
	v := sigmoidGame(n)
	game, _ := playerGame(req, false, v)
	rec := &recorder{t: t, req: req, game: game}
	res, err := KernelSHAP{Samples: 4}.Explain(context.Background(), rec, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Params["solver"] != "svd-min-norm" || res.Params["coalitions"] != 4 {
		t.Errorf("Params = %v", res.Params)
	}
	if *res.Quality > 1e-12 {
		t.Errorf("gap %g", *res.Quality)
	}
}

// TestExactEnumerationOrder pins the order in which exact KernelSHAP adds
// coalitions (full, empty, then each stratum's coalitions of the smaller size in
// lexicographic order, each complement right after its coalition; in the middle
// stratum a coalition listed as a complement is not listed again): the
// least-squares rows follow it, so the attributions' last bits do too.
func TestExactEnumerationOrder(t *testing.T) {
	sets := func(ss ...[]int) []string {
		var out []string
		for _, players := range ss {
			out = append(out, fmt.Sprint(players))
		}
		return out
	}
	want := sets([]int{0, 1, 2, 3}, []int{},
		[]int{0}, []int{1, 2, 3}, []int{1}, []int{0, 2, 3}, []int{2}, []int{0, 1, 3}, []int{3}, []int{0, 1, 2},
		[]int{0, 1}, []int{2, 3}, []int{0, 2}, []int{1, 3}, []int{0, 3}, []int{1, 2})
	ev := newEvaluator()
	ev.add(fullCoalition(4))
	ev.add(newCoalition(4))
	budget, exact := kernelSHAPBudget(0, 4)
	strata := newKernelStrata(4, ev, explanation.NewRand(1, "kernelshap"))
	done, err := strata.grow(context.Background(), budget)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range ev.sets {
		var players []int
		for p := 0; p < 4; p++ {
			if c.has(p) {
				players = append(players, p)
			}
		}
		if players == nil {
			players = []int{}
		}
		got = append(got, fmt.Sprint(players))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("coalitions\n%v\nwant\n%v", got, want)
	}
	if !exact || !done || strata.random || !strata.complete[0] || !strata.complete[1] || len(strata.weights()) != 14 {
		t.Errorf("exact %v, done %v, strata %+v", exact, done, strata)
	}
}

func TestSubsetSampler(t *testing.T) {
	tests := []struct {
		name string
		n    int
		ks   []int
	}{
		{"one player", 1, []int{1, 0, 1}},
		{"all sizes", 7, []int{1, 2, 3, 4, 5, 6, 7, 0}},
		{"many players", 130, []int{64, 1, 129, 130}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sampler := newSubsetSampler(explanation.NewRand(3, "subsets"), tc.n)
			ref := explanation.NewRand(3, "subsets")
			perm := make([]int, tc.n)
			for i := range perm {
				perm[i] = i
			}
			for _, k := range tc.ks {
				got := sampler.draw(k)
				// The reference: k steps of a Fisher–Yates shuffle of the permutation
				// left by the previous draw, one IntN call each.
				for i := 0; i < k; i++ {
					j := i + ref.IntN(tc.n-i)
					perm[i], perm[j] = perm[j], perm[i]
				}
				if !reflect.DeepEqual(got, perm[:k]) {
					t.Fatalf("draw(%d) = %v, want %v", k, got, perm[:k])
				}
				seen := map[int]bool{}
				for _, p := range got {
					if p < 0 || p >= tc.n || seen[p] {
						t.Fatalf("draw(%d) = %v: not %d distinct players", k, got, k)
					}
					seen[p] = true
				}
			}
			// Both generators must be at the same point: the sampler made exactly the reference's calls.
			if a, b := sampler.rng.Uint64(), ref.Uint64(); a != b {
				t.Errorf("sampler consumed a different number of random draws")
			}
		})
	}
}
