package perturbation

import (
	"math"
	"math/rand/v2"

	"github.com/glassbox-ai/glassbox/explanation"
)

// kernelEstimate is one round's KernelSHAP values with their standard errors.
type kernelEstimate struct {
	phi []float64
	// se holds the standard errors, nil when the bootstrap could not measure them.
	se []float64
	// solver is the least-squares path used for the (residual) regression.
	solver string
	// control names the control variate used, "none" without one.
	control string
	// g is the control variate, nil without one; phi then holds the plain
	// estimate (for the stopping rule's scale) and phiR the residual's values
	// until finish adds φ(g).
	g    *surrogate
	phiR []float64
}

// finish completes an estimate with a control variate: φ = φ(g) + φ̂(f − g),
// and the standard errors gain φ(g)'s own Monte Carlo error where it is
// estimated by permutations (0 when computed exactly). φ(g) is computed once,
// here, because the stopping rule does not need it.
func (e *kernelEstimate) finish(rng *rand.Rand) {
	if e.g == nil {
		return
	}
	phiG, seG := e.g.shapley(rng)
	for i := range e.phi {
		e.phi[i] = phiG[i] + e.phiR[i]
		if e.se != nil {
			e.se[i] = math.Hypot(e.se[i], seG[i])
		}
	}
	e.g, e.phiR = nil, nil
}

// maxSE returns the largest standard error.
func (e kernelEstimate) maxSE() float64 {
	m := 0.0
	for _, v := range e.se {
		m = math.Max(m, v)
	}
	return m
}

// converged reports whether every standard error is at most tol times the
// values' scale, max(|f(x) − f(∅)|, max|φᵢ|): the total alone understates the
// scale when large contributions cancel. tol 0 or unknown errors never converge.
func (e kernelEstimate) converged(tol, total float64) bool {
	if tol == 0 || e.se == nil {
		return false
	}
	scale := math.Abs(total)
	for _, v := range e.phi {
		scale = math.Max(scale, math.Abs(v))
	}
	return e.maxSE() <= tol*scale
}

// estimateKernelSHAP computes the values from the coalitions held (vals[i] is
// f of the evaluator's coalition i; 0 is full, 1 empty). With a link that
// admits a surrogate and an incomplete sample it uses the control variate of
// kernelshap_cv.go. Standard errors come from kernelSHAPBootstrap replicates
// that resample the pairs of each sampled stratum (complete strata carry no
// sampling error) and redo the (residual) regression with the surrogate held
// fixed (the surrogate's own fitting noise is left out: on the accuracy harness
// the errors still track the actual ones); they are 0 for an exact result.
func estimateKernelSHAP(k *kernelStrata, vals []float64, link explanation.Link, exact bool, rng *rand.Rand) (kernelEstimate, error) {
	n := k.n
	sets := k.ev.sets[2:]
	fx, f0 := vals[0], vals[1]
	y := vals[2:]
	w := k.weights(nil)
	total := fx - f0
	target := make([]float64, len(y))
	for i, v := range y {
		target[i] = v - f0
	}
	phi, solver, err := constrainedWLS(sets, target, w, n, total)
	if err != nil {
		return kernelEstimate{}, err
	}
	est := kernelEstimate{phi: phi, se: make([]float64, n), solver: solver, control: "none"}
	if exact {
		return est, nil
	}
	if g, ok := fitSurrogate(link, sets, y, w, fx, f0, phi, n); ok {
		g0, gN := g.at(newCoalition(n)), g.at(fullCoalition(n))
		r := make([]float64, len(y))
		for i, c := range sets {
			r[i] = y[i] - g.at(c) - (f0 - g0)
		}
		rTotal := (fx - gN) - (f0 - g0)
		phiR, rSolver, err := constrainedWLS(sets, r, w, n, rTotal)
		if err == nil {
			est.g, est.phiR = g, phiR
			est.solver, est.control = rSolver, "surrogate-"+string(link)
			target, total = r, rTotal
		}
	}

	mult := make([]float64, len(k.pairs))
	var reps [][]float64
	for b := 0; b < kernelSHAPBootstrap; b++ {
		k.resample(rng, mult)
		phiB, _, err := constrainedWLS(sets, target, k.weights(mult), n, total)
		if err == nil {
			reps = append(reps, phiB)
		}
	}
	if len(reps) < 2 {
		// No spread can be measured: the error is unknown, and the budget is spent.
		est.se = nil
		return est, nil
	}
	for i := range est.se {
		mean := 0.0
		for _, r := range reps {
			mean += r[i]
		}
		mean /= float64(len(reps))
		ss := 0.0
		for _, r := range reps {
			ss += (r[i] - mean) * (r[i] - mean)
		}
		est.se[i] = math.Sqrt(ss / float64(len(reps)-1))
	}
	return est, nil
}
