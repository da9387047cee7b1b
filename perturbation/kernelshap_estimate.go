package perturbation

import (
	"math"

	"gonum.org/v1/gonum/mat"

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

// finish completes an estimate with a control variate: φ = φ(g) + φ̂(f − g).
// φ(g) is computed once, here, because the stopping rule does not need it.
func (e *kernelEstimate) finish() {
	if e.g == nil {
		return
	}
	phiG := e.g.exactShapley()
	for i := range e.phi {
		e.phi[i] = phiG[i] + e.phiR[i]
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
// kernelshap_cv.go. Standard errors are those of the (residual) regression
// with the surrogate held fixed (stratifiedStdErrors; the surrogate's own
// fitting noise is left out); they are 0 for an exact result.
func estimateKernelSHAP(k *kernelStrata, vals []float64, link explanation.Link, exact bool) (kernelEstimate, error) {
	n := k.n
	sets := k.ev.sets[2:]
	fx, f0 := vals[0], vals[1]
	y := vals[2:]
	w := k.weights()
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

	solved := est.phi
	if est.g != nil {
		solved = est.phiR
	}
	est.se = stratifiedStdErrors(k, target, w, solved, total)
	return est, nil
}

// stratifiedStdErrors returns the standard errors of the constrained
// weighted least-squares solution phi of target on the sample k holds, by
// linearisation (the sandwich estimator that a bootstrap resampling each
// sampled stratum's pairs approximates, in one pass). With the last value
// eliminated (β = φ₀..φₙ₋₂, φₙ₋₁ = total − Σβ), each coalition's design row
// is z = x₀..ₙ₋₂ − xₙ₋₁ and its score contribution u = w·(t − z·β)·z; a pair's
// u is the sum of its two coalitions'. Then
//
//	Cov(β) = A⁻¹ (Σ_s k_s/(k_s − 1) Σ_{p∈s} (u_p − ū_s)(u_p − ū_s)ᵀ) A⁻¹,  A = Σ w z zᵀ,
//
// over the sampled strata s with k_s pairs (complete strata carry no
// sampling error), and Var(φₙ₋₁) = 1ᵀ Cov(β) 1. It returns nil when A is
// singular (too few coalitions to measure a spread).
func stratifiedStdErrors(k *kernelStrata, target, w, phi []float64, total float64) []float64 {
	n := k.n
	m := n - 1
	sets := k.ev.sets[2:]
	a := mat.NewSymDense(m, nil)
	z := make([]float64, m)
	// row sets z to coalition i's design row and returns its last player's membership.
	row := func(i int) float64 {
		c := sets[i]
		last := 0.0
		if c.has(n - 1) {
			last = 1
		}
		for j := 0; j < m; j++ {
			x := 0.0
			if c.has(j) {
				x = 1
			}
			z[j] = x - last
		}
		return last
	}
	for i := range sets {
		row(i)
		a.SymRankOne(a, w[i], mat.NewVecDense(m, z))
	}
	var chol mat.Cholesky
	if !chol.Factorize(a) {
		return nil
	}
	// Each pair's score contribution, grouped by stratum.
	byStratum := make([][][]float64, n/2) // indexed s−1: a fixed order keeps the sums' bits reproducible
	for p, pair := range k.pairs {
		s := k.stratum[p]
		if k.complete[s-1] {
			continue
		}
		u := make([]float64, m)
		for _, ci := range pair {
			i := ci - 2
			last := row(i)
			pred := last * total
			for j := 0; j < m; j++ {
				pred += z[j] * phi[j]
			}
			r := w[i] * (target[i] - pred)
			for j := range u {
				u[j] += r * z[j]
			}
		}
		byStratum[s-1] = append(byStratum[s-1], u)
	}
	meat := mat.NewSymDense(m, nil)
	for _, us := range byStratum {
		if len(us) == 0 {
			continue
		}
		kp := float64(len(us))
		mean := make([]float64, m)
		for _, u := range us {
			for j, v := range u {
				mean[j] += v / kp
			}
		}
		scale := 1.0
		if len(us) > 1 {
			scale = kp / (kp - 1)
		}
		d := mat.NewVecDense(m, nil)
		for _, u := range us {
			for j, v := range u {
				d.SetVec(j, v-mean[j])
			}
			meat.SymRankOne(meat, scale, d)
		}
	}
	var ainv mat.SymDense
	if err := chol.InverseTo(&ainv); err != nil {
		return nil
	}
	var cov mat.Dense
	cov.Product(&ainv, meat, &ainv)
	se := make([]float64, n)
	sum := 0.0
	for i := 0; i < m; i++ {
		se[i] = math.Sqrt(math.Max(cov.At(i, i), 0))
		for j := 0; j < m; j++ {
			sum += cov.At(i, j)
		}
	}
	se[m] = math.Sqrt(math.Max(sum, 0))
	return se
}
