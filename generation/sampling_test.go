package generation

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
)

// logitsOf returns float32 logits log(p) for probabilities p.
func logitsOf(p ...float64) []float32 {
	out := make([]float32, len(p))
	for i, x := range p {
		out[i] = float32(math.Log(x))
	}
	return out
}

func sampling(temperature float64, topK int, topP float64) Options {
	o := DefaultOptions()
	o.Sample, o.Temperature, o.TopK, o.TopP = true, temperature, topK, topP
	return o
}

// TestFilteredSupport checks the kept tokens and their probabilities against
// closed forms: temperature scales log-probabilities, top-k keeps ties with the
// K-th, top-p keeps the most likely tokens while the mass before them is below p.
func TestFilteredSupport(t *testing.T) {
	p := []float64{0.05, 0.5, 0.15, 0.3} // by rank: 1, 3, 2, 0
	tests := []struct {
		name   string
		logits []float32
		o      Options
		ids    []int
		probs  []float64
	}{
		{"no filter", logitsOf(p...), sampling(1, 0, 1), []int{1, 3, 2, 0}, []float64{0.5, 0.3, 0.15, 0.05}},
		{"top-k 2", logitsOf(p...), sampling(1, 2, 1), []int{1, 3}, []float64{0.5 / 0.8, 0.3 / 0.8}},
		{"top-k 1", logitsOf(p...), sampling(1, 1, 1), []int{1}, []float64{1}},
		{"top-k beyond vocabulary", logitsOf(p...), sampling(1, 9, 1), []int{1, 3, 2, 0}, []float64{0.5, 0.3, 0.15, 0.05}},
		{"top-k keeps ties", []float32{1, 3, 3, 3, 0}, sampling(1, 2, 1), []int{1, 2, 3}, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}},
		{"top-p 0.45: the first token alone", logitsOf(p...), sampling(1, 0, 0.45), []int{1}, []float64{1}},
		{"top-p 0.55", logitsOf(p...), sampling(1, 0, 0.55), []int{1, 3}, []float64{0.5 / 0.8, 0.3 / 0.8}},
		{"top-p 0.85", logitsOf(p...), sampling(1, 0, 0.85), []int{1, 3, 2}, []float64{0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95}},
		{"top-k then top-p", logitsOf(p...), sampling(1, 3, 0.9), []int{1, 3, 2}, []float64{0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95}},
		{"top-p after top-k renormalises", logitsOf(p...), sampling(1, 2, 0.6), []int{1}, []float64{1}},
		{"temperature 2", logitsOf(p...), sampling(2, 0, 1), []int{1, 3, 2, 0}, sqrtNormalised(0.5, 0.3, 0.15, 0.05)},
		{"temperature 0.5", logitsOf(p...), sampling(0.5, 0, 1), []int{1, 3, 2, 0}, squareNormalised(0.5, 0.3, 0.15, 0.05)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs := newDistribution(tc.logits).filtered(tc.o)
			ids := make([]int, len(cs))
			for i, c := range cs {
				ids[i] = c.id
			}
			if !slices.Equal(ids, tc.ids) {
				t.Fatalf("kept %v; want %v", ids, tc.ids)
			}
			for i, c := range cs {
				if math.Abs(c.p-tc.probs[i]) > 1e-6 {
					t.Errorf("p(%d) = %v; want %v", c.id, c.p, tc.probs[i])
				}
			}
		})
	}
}

func sqrtNormalised(p ...float64) []float64   { return powNormalised(0.5, p) }
func squareNormalised(p ...float64) []float64 { return powNormalised(2, p) }

func powNormalised(e float64, p []float64) []float64 {
	out := make([]float64, len(p))
	var sum float64
	for i, x := range p {
		out[i] = math.Pow(x, e)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// TestSampleFrequencies: 40,000 draws (one seeded stream) fall on each kept
// token with its filtered probability, within 4.5 standard errors, and never
// on a filtered-out token.
func TestSampleFrequencies(t *testing.T) {
	d := newDistribution(logitsOf(0.05, 0.5, 0.15, 0.3))
	for _, o := range []Options{sampling(1, 0, 1), sampling(1, 0, 0.85), sampling(0.7, 2, 1)} {
		rng := explanation.NewRand(42, SeedStream)
		const n = 40000
		counts := map[int]int{}
		for i := 0; i < n; i++ {
			counts[d.sample(rng, o)]++
		}
		kept := map[int]float64{}
		for _, c := range d.filtered(o) {
			kept[c.id] = c.p
		}
		for id, k := range counts {
			p, ok := kept[id]
			if !ok {
				t.Errorf("%v: drew filtered-out token %d %d times", o, id, k)
				continue
			}
			se := math.Sqrt(p * (1 - p) / n)
			if got := float64(k) / n; math.Abs(got-p) > 4.5*se+1e-12 {
				t.Errorf("%v: token %d drawn %.4f of the time; want %.4f ± %.4f", o, id, got, p, 4.5*se)
			}
		}
	}
}

// TestSamplingClosedForms runs sampling on gpt2-tiny (no-past and with-past):
// top-k 1 and a vanishing temperature both give the greedy continuation; one
// seed gives one continuation whatever the batch; seeds differ in what they draw.
func TestSamplingClosedForms(t *testing.T) {
	gold := loadGolden(t)
	prompts := make([][]int64, len(gold.Greedy))
	seeds := make([]uint64, len(gold.Greedy))
	for i, g := range gold.Greedy {
		prompts[i] = g.PromptIDs
		seeds[i] = explanation.Seed(7, g.Prompt)
	}
	ctx := context.Background()
	for name, gen := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			greedy, err := gen.Generate(ctx, prompts, nil, greedyOptions(16))
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range []Options{sampling(1, 1, 1), sampling(1e-4, 0, 1), sampling(1.5, 0, 1e-9)} {
				o.MaxNewTokens = 16
				got, err := gen.Generate(ctx, prompts, seeds, o)
				if err != nil {
					t.Fatal(err)
				}
				for i := range prompts {
					if !slices.Equal(got[i].IDs(), greedy[i].IDs()) {
						t.Errorf("%v: %v; greedy %v", o, got[i].IDs(), greedy[i].IDs())
					}
				}
			}
			o := sampling(1.5, 0, 1)
			o.MaxNewTokens = 16
			all, err := gen.Generate(ctx, prompts, seeds, o)
			if err != nil {
				t.Fatal(err)
			}
			again, err := gen.Generate(ctx, prompts, seeds, o)
			if err != nil {
				t.Fatal(err)
			}
			differs := false
			for i := range prompts {
				alone, err := gen.Generate(ctx, prompts[i:i+1], seeds[i:i+1], o)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(all[i].IDs(), again[i].IDs()) || !slices.Equal(all[i].IDs(), alone[0].IDs()) {
					t.Errorf("prompt %d: %v, rerun %v, alone %v; want one continuation per seed", i, all[i].IDs(), again[i].IDs(), alone[0].IDs())
				}
				other, err := gen.Generate(ctx, prompts[i:i+1], []uint64{seeds[i] + 1}, o)
				if err != nil {
					t.Fatal(err)
				}
				differs = differs || !slices.Equal(other[0].IDs(), all[i].IDs())
				// Reported probabilities are the model's, before temperature: the same as greedy's where the tokens agree.
				for j, s := range all[i].Steps {
					if j < len(greedy[i].Steps) && s.Token == greedy[i].Steps[j].Token && math.Abs(s.LogProb-greedy[i].Steps[j].LogProb) > 1e-6 && slices.Equal(all[i].IDs()[:j], greedy[i].IDs()[:j]) {
						t.Errorf("prompt %d step %d: log p %v while greedy's is %v", i, j, s.LogProb, greedy[i].Steps[j].LogProb)
					}
				}
			}
			if !differs {
				t.Error("another seed changed no continuation at temperature 1.5")
			}
		})
	}
}

// TestFilteredEqualsTransformers: on gpt2-tiny's next-token logits (both
// exports), the tokens kept after temperature, top-k and top-p and their
// probabilities are those of transformers' warpers (generation.json).
func TestFilteredEqualsTransformers(t *testing.T) {
	var gold struct {
		Dists []struct {
			PromptIDs   []int64   `json:"prompt_ids"`
			Temperature float64   `json:"temperature"`
			TopK        int       `json:"top_k"`
			TopP        float64   `json:"top_p"`
			KeptIDs     []int     `json:"kept_ids"`
			KeptProbs   []float64 `json:"kept_probs"`
		} `json:"sampling_distributions"`
	}
	readGolden(t, &gold)
	if len(gold.Dists) == 0 {
		t.Fatal("generation.json has no sampling_distributions")
	}
	for name, gen := range fixtures(t) {
		for _, want := range gold.Dists {
			st := gen.newStepper([]*row{{res: Result{PromptIDs: want.PromptIDs}}})
			logits, err := st.next(context.Background())
			st.close()
			if err != nil {
				t.Fatal(err)
			}
			cs := newDistribution(logits[0]).filtered(sampling(want.Temperature, want.TopK, want.TopP))
			ids := make([]int, len(cs))
			worst := 0.0
			for i, c := range cs {
				ids[i] = c.id
				if i < len(want.KeptProbs) {
					worst = math.Max(worst, math.Abs(c.p-want.KeptProbs[i]))
				}
			}
			if !slices.Equal(ids, want.KeptIDs) || worst > 1e-5 {
				t.Errorf("%s: T %g top-k %d top-p %g: kept %v (max |Δp| %.3g); transformers %v", name, want.Temperature, want.TopK, want.TopP, ids, worst, want.KeptIDs)
			}
		}
	}
}
