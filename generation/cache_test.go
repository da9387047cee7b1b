package generation

import (
	"context"
	"math"
	"testing"
)

// TestCacheAndFullPassesGiveEqualLogits drives the with-past export through
// its cache, and both exports through full passes, in lockstep on the same
// tokens (a batch of two equal-length prompts, then one alone): every step's
// logits agree within 1e-5 over the whole vocabulary.
func TestCacheAndFullPassesGiveEqualLogits(t *testing.T) {
	gold := loadGolden(t)
	gens := fixtures(t)
	var batches [][][]int64
	byLen := map[int][][]int64{}
	for _, g := range gold.Greedy {
		byLen[len(g.PromptIDs)] = append(byLen[len(g.PromptIDs)], g.PromptIDs)
	}
	paired := false
	for _, ps := range byLen {
		batches = append(batches, ps)
		paired = paired || len(ps) > 1
	}
	if !paired {
		t.Fatal("generation.json has no two prompts of one length; the batched cache is not checked")
	}
	const steps = 24
	for _, prompts := range batches {
		rowsOf := func() []*row {
			rs := make([]*row, len(prompts))
			for i, p := range prompts {
				rs[i] = &row{res: Result{PromptIDs: p}}
			}
			return rs
		}
		cachedRows, fullRows, noPastRows := rowsOf(), rowsOf(), rowsOf()
		cached := gens["with-past"].newStepper(cachedRows)
		full := gens["with-past-full-passes"].newStepper(fullRows)
		noPast := gens["no-past"].newStepper(noPastRows)
		if _, ok := cached.(*cachedStepper); !ok {
			t.Fatalf("with-past stepper is %T", cached)
		}
		worst, worstNoPast := 0.0, 0.0
		for step := 0; step < steps; step++ {
			a, err := cached.next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			b, err := full.next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			c, err := noPast.next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for j := range prompts {
				worst = math.Max(worst, maxAbsDiff(a[j], b[j]))
				worstNoPast = math.Max(worstNoPast, maxAbsDiff(a[j], c[j]))
				// Every stepper continues with the cached run's greedy token (rows never stop here).
				tok := int64(newDistribution(a[j]).argmax())
				for _, rs := range [][]*row{cachedRows, fullRows, noPastRows} {
					rs[j].res.Steps = append(rs[j].res.Steps, Step{Token: tok})
				}
			}
		}
		cached.close()
		if worst > 1e-5 || worstNoPast > 1e-5 {
			t.Errorf("prompts of %d tokens ×%d: max |cached − full passes| = %.3g (same graph), %.3g (no-past twin); want ≤ 1e-5", len(prompts[0]), len(prompts), worst, worstNoPast)
		}
		t.Logf("prompts of %d tokens ×%d, %d steps: max |Δlogit| %.2g (same graph), %.2g (no-past twin)", len(prompts[0]), len(prompts), steps, worst, worstNoPast)
	}
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}
