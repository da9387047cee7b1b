package perturbation

import (
	"context"
	"fmt"
	"math"

	"github.com/glassbox-ai/glassbox/explanation"
)

// DefaultKernelSHAPMaxSamples is the default coalition budget: at most this
// many proper coalitions (plus f(x) and f(∅)) per example, under a quarter of
// what the shap package's KernelExplainer spends by default (2n + 2048, or
// all 2^n − 2 coalitions when fewer: 2,046 at n = 11), and the adaptive stop
// often ends sooner. Longer inputs get 16 per player.
const DefaultKernelSHAPMaxSamples = 500

// DefaultKernelSHAPTolerance is the default stopping tolerance: sampling stops
// once every player's standard error is under 0.1% of the scale of the
// values (max(|f(x) − f(∅)|, max |φᵢ|)). On the accuracy harness
// (scripts/bench-accuracy.sh, DEVELOPERS.md) it stops at 461 model calls on
// average on distilbert-sentiment (0.22× KernelExplainer's default, at 0.29×
// its error) and spends the whole budget on the MiniLM classifier (0.24× the
// calls at 0.66× the error); 0.002 stopped at 409 calls with 1.14 times the
// error on distilbert-sentiment.
const DefaultKernelSHAPTolerance = 0.001

// MaxKernelSHAPSamples bounds the coalition budget a user may ask for.
const MaxKernelSHAPSamples = 1 << 20

// kernelSHAPFirstRound is the smallest budget the adaptive schedule checks;
// each later round spends half as much again (kernelSHAPGrowth), so the
// rounds' overhead stays a fixed fraction of the model calls.
const (
	kernelSHAPFirstRound = 128
	kernelSHAPGrowth     = 1.5
)

// kernelSHAPOutOfReach skips a round's estimate (the surrogate's fit, its
// leverages and the standard errors) when the last estimate's largest
// standard error, scaled by 1/√(coalitions) to this round, is still over
// this many times the threshold: a stop that needs the errors to fall twice
// as fast as sampling alone makes them is out of reach, and on a cheap model
// the skipped fits cost more than the calls the stop saves. A skipped round
// can only delay a stop, never end sampling early.
const kernelSHAPOutOfReach = 2

// KernelSHAP estimates Shapley values by Shapley-kernel weighted least squares
// (Lundberg & Lee 2017) with the efficiency constraint, on coalitions sampled
// by size stratum in complementary pairs without replacement
// (kernelshap_plan.go), with control variates: a surrogate fitted on the
// link scale (kernelshap_cv.go) and a kernel ridge regression of what it
// leaves (kernelshap_gp.go); per-player standard errors from leave-one-out
// residuals (kernelshap_estimate.go), and an adaptive
// budget: it scores coalitions in rounds and stops when every standard error
// is under Tolerance times the scale of the values.
type KernelSHAP struct {
	// Samples is the most proper coalitions (neither empty nor full) to
	// evaluate; 0 means max(DefaultKernelSHAPMaxSamples, 16n) for n players. It
	// is capped at 2^n − 2, and when 2^n − 2 fits in it every coalition is
	// enumerated and the result is the exact Shapley value.
	Samples int
	// Players is what a feature is: non-special tokens (default) or words.
	Players explanation.Players
	// Tolerance stops sampling once the largest standard error is at most
	// Tolerance·max(|f(x) − f(∅)|, max|φ|); 0 spends the whole budget.
	Tolerance float64
}

// NewKernelSHAP returns a validated KernelSHAP; samples 0 means the default
// budget and an empty players value means tokens.
func NewKernelSHAP(samples int, players explanation.Players, tolerance float64) (KernelSHAP, error) {
	k := KernelSHAP{Samples: samples, Players: players, Tolerance: tolerance}
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
		return fmt.Errorf("kernelshap: samples must be >= 0 (0 = default), got %d", k.Samples)
	}
	if k.Samples > MaxKernelSHAPSamples {
		// Every coalition is a model call held in memory: a typo must not become a billion of them.
		return fmt.Errorf("kernelshap: samples must be at most %d, got %d", MaxKernelSHAPSamples, k.Samples)
	}
	if !(k.Tolerance >= 0 && k.Tolerance < 1) {
		return fmt.Errorf("kernelshap: tolerance must be in [0, 1) (0 = spend the whole budget), got %v", k.Tolerance)
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
// values and each token gets its word's value divided by the word's token
// count (and so does its standard error).
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
	iEmpty, _ := ev.add(newCoalition(n)) // the same coalition as the full one when n = 0
	var vals []float64
	// score evaluates the coalitions added since the last call, in one Score call.
	score := func() error {
		more, err := st.score(ctx, s, ev.sets[len(vals):])
		if err != nil {
			return fmt.Errorf("kernelshap: %w", err)
		}
		vals = append(vals, more...)
		return nil
	}

	est := kernelEstimate{phi: make([]float64, n), se: make([]float64, n), solver: "none", control: "none"}
	rounds := 0
	// reach is the last estimate's largest standard error over the stopping
	// threshold, from estimated coalitions (converged at ≤ 1).
	reach, estimated := 0.0, 0
	var strata *kernelStrata
	if n >= 2 {
		rng := explanation.NewRand(req.Seed, "kernelshap")
		strata = newKernelStrata(n, ev, rng)
		for b := min(budget, kernelSHAPFirstRound); ; b = min(budget, int(math.Ceil(float64(b)*kernelSHAPGrowth))) {
			if exact || k.Tolerance == 0 {
				b = budget
			}
			done, err := strata.grow(ctx, b)
			if err != nil {
				return explanation.Result{}, fmt.Errorf("kernelshap: sampling coalitions: %w", err)
			}
			if err := score(); err != nil {
				return explanation.Result{}, err
			}
			rounds++
			last := done || b >= budget
			if !last && reach > 0 && !math.IsInf(reach, 1) &&
				reach*math.Sqrt(float64(estimated)/float64(len(ev.sets))) > kernelSHAPOutOfReach {
				continue // the stop is out of reach this round: skip the estimate's CPU
			}
			est, err = estimateKernelSHAP(strata, vals, req.Link, done)
			if err != nil {
				return explanation.Result{}, fmt.Errorf("kernelshap: %w", err)
			}
			reach, estimated = est.reach(k.Tolerance, vals[iFull]-vals[iEmpty]), len(ev.sets)
			if last || reach <= 1 {
				exact = done
				break
			}
		}
		est.finish(strata)
	} else {
		if err := score(); err != nil {
			return explanation.Result{}, err
		}
		rounds = 1
		if n == 1 {
			// One player takes the whole difference: efficiency fixes it.
			est.phi[0] = vals[iFull] - vals[iEmpty]
		}
	}
	fx, f0 := vals[iFull], vals[iEmpty]
	total := fx - f0
	sum := 0.0
	for _, v := range est.phi {
		sum += v
	}
	gap := math.Abs(sum - total)

	params := st.commonParams()
	params["players"] = string(players)
	params["samples"] = k.Samples
	params["sample_budget"] = budget
	params["tolerance"] = k.Tolerance
	params["coalitions"] = len(ev.sets) - 2
	params["evaluations"] = len(ev.sets)
	params["rounds"] = rounds
	params["exact"] = exact
	params["seed"] = req.Seed
	params["seeded"] = strata != nil && strata.random
	params["solver"] = est.solver
	params["control_variate"] = est.control
	if est.se != nil {
		params["max_std_error"] = est.maxSE()
	}
	if strata != nil {
		complete := 0
		for complete < len(strata.complete) && strata.complete[complete] {
			complete++
		}
		params["complete_sizes"] = complete
	} else {
		params["complete_sizes"] = 0
	}
	res = explanation.Result{
		Tokens:        st.tokenValues(est.phi),
		TargetScore:   fx,
		BaselineScore: &f0,
		Quality:       &gap,
		Params:        params,
	}
	if est.se != nil {
		res.TokenStdErrors = st.tokenValues(est.se)
	}
	if players == explanation.PlayersWords {
		res.Words = st.wordValues(est.phi)
		if est.se != nil {
			res.WordStdErrors = st.wordValues(est.se)
		}
	}
	return res, nil
}

// kernelSHAPBudget resolves the coalition budget for n players and whether it
// covers all 2^n − 2 proper coalitions (then the result is exact).
func kernelSHAPBudget(samples, n int) (int, bool) {
	budget := samples
	if budget == 0 {
		budget = max(DefaultKernelSHAPMaxSamples, 16*n)
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
