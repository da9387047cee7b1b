package perturbation

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/glassbox-ai/glassbox/explanation"
)

// constrainedWLS solves min Σ_k w_k (y_k − x_k·φ)² subject to Σφ = total over
// n ≥ 2 unknowns, where x_k is the 0/1 membership of coalition k. As the shap
// package does, it eliminates the last unknown (φ_{n−1} = total − Σ_{j<n−1} φ_j)
// so the constraint holds by construction, then solves the reduced weighted
// least squares by QR of √W·Z. A rank-deficient design (too few distinct
// coalitions) falls back to the minimum-norm SVD solution. It returns φ and
// the solver used.
func constrainedWLS(sets []coalition, y, w []float64, n int, total float64) ([]float64, string, error) {
	k := len(sets)
	if k == 0 {
		return nil, "", errors.New("no coalitions to regress on")
	}
	m := n - 1
	a := mat.NewDense(k, m, nil)
	b := mat.NewVecDense(k, nil)
	for r, c := range sets {
		sw := math.Sqrt(w[r])
		last := 0.0
		if c.has(n - 1) {
			last = 1
		}
		row := a.RawRowView(r)
		for j := 0; j < m; j++ {
			x := 0.0
			if c.has(j) {
				x = 1
			}
			row[j] = sw * (x - last)
		}
		b.SetVec(r, sw*(y[r]-last*total))
	}
	var beta mat.VecDense
	solver := "qr"
	if err := beta.SolveVec(a, b); err != nil {
		var cond mat.Condition
		if !errors.As(err, &cond) {
			return nil, "", fmt.Errorf("least squares: %w", err)
		}
		solver = "svd-min-norm"
		if err := minNormSolve(&beta, a, b); err != nil {
			return nil, "", err
		}
	}
	phi := make([]float64, n)
	sum := 0.0
	for j := 0; j < m; j++ {
		phi[j] = beta.AtVec(j)
		sum += phi[j]
	}
	phi[n-1] = total - sum
	for _, v := range phi {
		if !finite(v) {
			return nil, "", fmt.Errorf("least squares produced a %w attribution", explanation.ErrNonFinite)
		}
	}
	return phi, solver, nil
}

// minNormSolve writes the minimum-norm least-squares solution of a·x ≈ b into
// dst, truncating singular values below NumPy lstsq's default cutoff.
func minNormSolve(dst *mat.VecDense, a *mat.Dense, b *mat.VecDense) error {
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThin) {
		return errors.New("least squares: SVD did not converge")
	}
	r, c := a.Dims()
	rank := svd.Rank(2.220446049250313e-16 * float64(max(r, c)))
	if rank == 0 {
		// A zero design explains nothing: every free unknown is 0.
		*dst = *mat.NewVecDense(c, nil)
		return nil
	}
	svd.SolveVecTo(dst, b, rank)
	return nil
}

// ridgeFit is a weighted ridge regression with intercept.
type ridgeFit struct {
	coef      []float64
	intercept float64
	// r2 is the weighted coefficient of determination on the fitted rows.
	r2 float64
	// se holds the coefficients' heteroskedasticity-robust (HC0 sandwich)
	// standard errors, √diag(G⁻¹ Σ_k w_k² r_k² x̃_k x̃_kᵀ G⁻¹) with G = X̃ᵀWX̃ + αI,
	// x̃ the centred rows and r the residuals: the rows are random draws, so
	// this is the coefficients' sampling error for the fitted rows' count.
	se []float64
}

// weightedRidge fits y ≈ intercept + x·β minimising Σ_k w_k (y_k − intercept − x_k·β)² + α‖β‖²,
// as scikit-learn's Ridge(alpha, fit_intercept=True).fit(X, y, sample_weight=w):
// X and y are centred on their weighted means (so the intercept is not
// penalised), and (X_cᵀWX_c + αI)β = X_cᵀWy_c is solved by Cholesky. The
// score is sklearn's weighted R² (1 when y is constant and fitted exactly, 0
// when constant and not). x holds the binary features of each row over nf features.
func weightedRidge(x []coalition, y, w []float64, nf int, alpha float64) (ridgeFit, error) {
	k := len(x)
	sumW := 0.0
	xMean := make([]float64, nf)
	yMean := 0.0
	for r, c := range x {
		sumW += w[r]
		yMean += w[r] * y[r]
		for j := 0; j < nf; j++ {
			if c.has(j) {
				xMean[j] += w[r]
			}
		}
	}
	if !(sumW > 0) {
		return ridgeFit{}, errors.New("ridge: sample weights sum to zero")
	}
	yMean /= sumW
	for j := range xMean {
		xMean[j] /= sumW
	}
	xc := mat.NewDense(k, nf, nil)
	rhs := make([]float64, nf)
	for r, c := range x {
		sw := math.Sqrt(w[r])
		row := xc.RawRowView(r)
		yc := sw * (y[r] - yMean)
		for j := 0; j < nf; j++ {
			v := -xMean[j]
			if c.has(j) {
				v += 1
			}
			row[j] = sw * v
			rhs[j] += row[j] * yc
		}
	}
	var gram mat.SymDense
	gram.SymOuterK(1, xc.T())
	for j := 0; j < nf; j++ {
		gram.SetSym(j, j, gram.At(j, j)+alpha)
	}
	var chol mat.Cholesky
	if !chol.Factorize(&gram) {
		return ridgeFit{}, errors.New("ridge: normal equations are not positive definite")
	}
	var beta mat.VecDense
	if err := chol.SolveVecTo(&beta, mat.NewVecDense(nf, rhs)); err != nil {
		return ridgeFit{}, fmt.Errorf("ridge: %w", err)
	}
	fit := ridgeFit{coef: make([]float64, nf), intercept: yMean}
	for j := range fit.coef {
		fit.coef[j] = beta.AtVec(j)
		fit.intercept -= xMean[j] * fit.coef[j]
	}
	var ssRes, ssTot float64
	// u holds each row's score contribution √w_k·r_k·(√w_k·x̃_k), the sandwich's meat.
	u := mat.NewDense(k, nf, nil)
	for r, c := range x {
		pred := fit.intercept
		for j := 0; j < nf; j++ {
			if c.has(j) {
				pred += fit.coef[j]
			}
		}
		ssRes += w[r] * (y[r] - pred) * (y[r] - pred)
		ssTot += w[r] * (y[r] - yMean) * (y[r] - yMean)
		f := math.Sqrt(w[r]) * (y[r] - pred)
		src, dst := xc.RawRowView(r), u.RawRowView(r)
		for j := range dst {
			dst[j] = f * src[j]
		}
	}
	var ginv mat.SymDense
	if err := chol.InverseTo(&ginv); err == nil {
		var v mat.Dense
		v.Mul(&ginv, u.T())
		fit.se = make([]float64, nf)
		for j := range fit.se {
			fit.se[j] = mat.Norm(v.RowView(j), 2)
		}
	}
	switch {
	case ssTot != 0:
		fit.r2 = 1 - ssRes/ssTot
	case ssRes == 0:
		fit.r2 = 1
	default:
		fit.r2 = 0
	}
	return fit, nil
}
