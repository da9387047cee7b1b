package perturbation

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/stat/combin"

	"github.com/glassbox-ai/glassbox/explanation"
)

// kernelSHAPExtraSamples is the constant part of the default budget 2n + 2048,
// the shap package's default for KernelExplainer.
const kernelSHAPExtraSamples = 2048

// MaxKernelSHAPSamples bounds the coalition budget a user may ask for.
const MaxKernelSHAPSamples = 1 << 20

// KernelSHAP estimates Shapley values by Shapley-kernel weighted least squares
// (Lundberg & Lee 2017), sampling coalitions as the shap package's KernelExplainer does.
type KernelSHAP struct {
	// Samples is the budget of proper coalitions (neither empty nor full) to
	// evaluate; 0 means 2n + 2048 for n players. It is capped at 2^n − 2, and
	// when 2^n − 2 fits in it every coalition is enumerated and the result is
	// the exact Shapley value.
	Samples int
	// Players is what a feature is: non-special tokens (default) or words.
	Players explanation.Players
}

// NewKernelSHAP returns a validated KernelSHAP; samples 0 means the default
// budget and an empty players value means tokens.
func NewKernelSHAP(samples int, players explanation.Players) (KernelSHAP, error) {
	k := KernelSHAP{Samples: samples, Players: players}
	if k.Players == "" {
		k.Players = explanation.PlayersTokens
	}
	if err := k.Validate(); err != nil {
		return KernelSHAP{}, err
	}
	return k, nil
}

// Validate reports a configuration error, naming the parameter.
func (k KernelSHAP) Validate() error {
	if k.Samples < 0 {
		return fmt.Errorf("kernelshap: samples must be >= 0 (0 = default 2n+2048), got %d", k.Samples)
	}
	if k.Samples > MaxKernelSHAPSamples {
		// Every coalition is a model call held in memory: a typo must not become a billion of them.
		return fmt.Errorf("kernelshap: samples must be at most %d, got %d", MaxKernelSHAPSamples, k.Samples)
	}
	switch k.Players {
	case "", explanation.PlayersTokens, explanation.PlayersWords:
		return nil
	}
	return fmt.Errorf("kernelshap: players must be %q or %q, got %q",
		explanation.PlayersTokens, explanation.PlayersWords, k.Players)
}

// Name returns "kernelshap".
func (KernelSHAP) Name() string { return "kernelshap" }

// Explain computes the KernelSHAP attributions of req. The empty and full
// coalitions are enforced exactly, so the player values sum to
// f(x) − f(empty); Quality is the remaining floating-point additivity gap
// |Σφ − (f(x) − f(empty))|. With word players Result.Words holds the word
// values and each token gets its word's value divided by the word's token count.
func (k KernelSHAP) Explain(ctx context.Context, s explanation.Scorer, req explanation.Request) (res explanation.Result, err error) {
	defer guard("kernelshap", &err)
	if err := k.Validate(); err != nil {
		return explanation.Result{}, err
	}
	players := k.Players
	if players == "" {
		players = explanation.PlayersTokens
	}
	st, err := newSetup(req, players)
	if err != nil {
		return explanation.Result{}, fmt.Errorf("kernelshap: %w", err)
	}
	n := st.n()
	budget, exact := kernelSHAPBudget(k.Samples, n)

	ev := newEvaluator()
	iFull, _ := ev.add(fullCoalition(n))
	iEmpty, _ := ev.add(newCoalition(n))
	var plan kernelPlan
	if n >= 2 {
		rng := explanation.NewRand(req.Seed, "kernelshap")
		plan, err = planKernelSHAP(ctx, ev, n, budget, exact, rng)
		if err != nil {
			return explanation.Result{}, fmt.Errorf("kernelshap: sampling coalitions: %w", err)
		}
	}
	vals, err := st.score(ctx, s, ev)
	if err != nil {
		return explanation.Result{}, fmt.Errorf("kernelshap: %w", err)
	}
	fx, f0 := vals[iFull], vals[iEmpty]
	total := fx - f0

	phi := make([]float64, n)
	solver := "none"
	switch {
	case n == 1:
		// One player takes the whole difference: efficiency fixes it.
		phi[0] = total
	case n >= 2:
		sets := ev.sets[2:]
		y := make([]float64, len(sets))
		for r := range sets {
			y[r] = vals[r+2] - f0
		}
		phi, solver, err = constrainedWLS(sets, y, plan.weights, n, total)
		if err != nil {
			return explanation.Result{}, fmt.Errorf("kernelshap: %w", err)
		}
	}
	sum := 0.0
	for _, v := range phi {
		sum += v
	}
	gap := math.Abs(sum - total)

	params := st.commonParams()
	params["players"] = string(players)
	params["samples"] = k.Samples
	params["sample_budget"] = budget
	params["coalitions"] = len(ev.sets) - min(len(ev.sets), 2)
	params["evaluations"] = len(ev.sets)
	params["exact"] = exact
	params["complete_sizes"] = plan.completeSizes
	params["seed"] = req.Seed
	params["seeded"] = plan.random
	params["solver"] = solver
	res = explanation.Result{
		Tokens:        st.tokenValues(phi),
		TargetScore:   fx,
		BaselineScore: &f0,
		Quality:       &gap,
		Params:        params,
	}
	if players == explanation.PlayersWords {
		res.Words = st.wordValues(phi)
	}
	return res, nil
}

// kernelSHAPBudget resolves the coalition budget for n players and whether it
// covers all 2^n − 2 proper coalitions (then the result is exact).
func kernelSHAPBudget(samples, n int) (int, bool) {
	budget := samples
	if budget == 0 {
		budget = 2*n + kernelSHAPExtraSamples
	}
	if n < 2 {
		// No proper coalitions exist; the values are exact by efficiency.
		return 0, true
	}
	if n < 62 {
		proper := (1 << uint(n)) - 2
		if proper <= budget {
			return proper, true
		}
	}
	return budget, false
}

// kernelPlan is the weighting of the coalitions added to an evaluator after
// the full and empty ones (indices 2, 3, …).
type kernelPlan struct {
	weights       []float64
	completeSizes int
	random        bool
}

// planKernelSHAP chooses the coalitions and their Shapley-kernel weights as
// shap's KernelExplainer does. Coalition sizes s and n−s are paired. Going
// from the smallest size up, a size pair is enumerated completely (each
// coalition weighted by its exact kernel mass) while the remaining budget,
// spread by kernel mass, would cover all of its coalitions; the rest of the
// budget is sampled: a size is drawn with probability ∝ its kernel mass,
// then a uniform coalition of that size, and its complement is added with it
// (antithetic pairs). Repeated draws add weight to the coalition already held
// instead of scoring it again, and the sampled weights are finally scaled to
// the kernel mass of the sizes not enumerated.
func planKernelSHAP(ctx context.Context, ev *evaluator, n, budget int, exact bool, rng *rand.Rand) (kernelPlan, error) {
	numSizes := n / 2        // ⌈(n−1)/2⌉: sizes 1..numSizes, with their complements
	numPaired := (n - 1) / 2 // ⌊(n−1)/2⌋: sizes whose complement has a different size
	wv := make([]float64, numSizes)
	sum := 0.0
	for i := range wv {
		s := float64(i + 1)
		wv[i] = float64(n-1) / (s * (float64(n) - s))
		if i+1 <= numPaired {
			wv[i] *= 2
		}
		sum += wv[i]
	}
	for i := range wv {
		wv[i] /= sum
	}
	var plan kernelPlan
	remaining := append([]float64(nil), wv...)
	left := float64(budget)
	for s := 1; s <= numSizes; s++ {
		paired := s <= numPaired
		// C(n, s) is exact in an int: a size is reached only after the previous
		// one was enumerated, so C(n, s−1) ≤ budget ≤ MaxKernelSHAPSamples and
		// C(n, s) ≤ n·C(n, s−1).
		count := float64(combin.Binomial(n, s))
		nsub := count
		if paired {
			nsub *= 2
		}
		if !exact && left*remaining[s-1]/nsub < 1-1e-8 {
			break
		}
		plan.completeSizes++
		left -= nsub
		if r := remaining[s-1]; r < 1 {
			for i := range remaining {
				remaining[i] /= 1 - r
			}
		}
		w := wv[s-1] / count
		if paired {
			w /= 2
		}
		// Coalitions of a size are enumerated in lexicographic order.
		gen := combin.NewCombinationGenerator(n, s)
		idx := make([]int, s)
		for gen.Next() {
			if len(plan.weights)%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return kernelPlan{}, err
				}
			}
			c := newCoalition(n)
			for _, p := range gen.Combination(idx) {
				c.set(p)
			}
			ev.add(c)
			plan.weights = append(plan.weights, w)
			if paired {
				ev.add(c.complement(n))
				plan.weights = append(plan.weights, w)
			}
		}
	}
	if plan.completeSizes == numSizes {
		return plan, nil
	}

	// Sample the sizes not enumerated. Each draw of a paired size yields two
	// coalitions, so its per-draw probability is half its (doubled) mass.
	fixed := len(plan.weights)
	samplesLeft := budget - fixed
	rw := make([]float64, numSizes-plan.completeSizes)
	cum := 0.0
	for i := range rw {
		m := wv[plan.completeSizes+i]
		if plan.completeSizes+i+1 <= numPaired {
			m /= 2
		}
		cum += m
		rw[i] = cum
	}
	weightLeft := 0.0
	for _, m := range wv[plan.completeSizes:] {
		weightLeft += m
	}
	subsets := newSubsetSampler(rng, n)
	count := func(c coalition) (int, bool) {
		i, isNew := ev.add(c)
		j := i - 2
		if isNew {
			plan.weights = append(plan.weights, 0)
		}
		plan.weights[j]++
		return i, isNew
	}
	// Like shap, stop after 4 draws per wanted coalition, so a budget close
	// to the number of coalitions cannot loop on duplicates forever.
	maxDraws := 4 * samplesLeft
	for draw := 0; samplesLeft > 0 && draw < maxDraws; draw++ {
		if draw%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return kernelPlan{}, err
			}
		}
		plan.random = true
		u := rng.Float64() * cum
		si := 0
		for si < len(rw)-1 && rw[si] <= u {
			si++
		}
		s := plan.completeSizes + 1 + si
		c := newCoalition(n)
		for _, p := range subsets.draw(s) {
			c.set(p)
		}
		_, isNew := count(c)
		if isNew {
			samplesLeft--
		}
		if s <= numPaired {
			comp := c.complement(n)
			if ev.lookup(comp) >= 0 {
				count(comp)
			} else if samplesLeft > 0 {
				count(comp)
				samplesLeft--
			}
		}
	}
	sampled := 0.0
	for _, w := range plan.weights[fixed:] {
		sampled += w
	}
	if sampled > 0 {
		scale := weightLeft / sampled
		for i := fixed; i < len(plan.weights); i++ {
			plan.weights[i] *= scale
		}
	}
	return plan, nil
}
