package surrogate

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// ErrNotConverged is returned (wrapped, with the last iterate) when an iterative fit stops at its iteration limit.
var ErrNotConverged = errors.New("surrogate: fit did not converge")

// RidgeAcc holds the exact sufficient statistics of a linear least-squares surrogate over P features; the zero value is empty.
//
// Memory is O(P²): the packed upper triangle of XᵀX plus O(P) sums. Every
// real sum is a Fixed, so Merge is exactly associative and commutative and the
// merged accumulator, and the fit from it, are bit-identical whatever order
// and sharding the rows came in.
type RidgeAcc struct {
	// P is the number of features.
	P int
	// N is the number of rows added.
	N int64
	// NonFinite counts rows refused for a non-finite or too large (> MaxAbs) feature or target; Fit fails when it is not 0.
	NonFinite int64
	// SumX is Σ_i x_i (length P).
	SumX []Fixed
	// SumY is Σ_i y_i.
	SumY Fixed
	// SumYY is Σ_i y_i².
	SumYY Fixed
	// XtX is Σ_i x_i x_iᵀ, the upper triangle packed by columns: entry (j, k), j ≤ k, at k(k+1)/2 + j.
	XtX []Fixed
	// XtY is Σ_i x_i y_i (length P).
	XtY []Fixed
}

// NewRidgeAcc returns an empty accumulator for p features.
func NewRidgeAcc(p int) RidgeAcc {
	return RidgeAcc{P: p, SumX: make([]Fixed, p), XtX: make([]Fixed, p*(p+1)/2), XtY: make([]Fixed, p)}
}

func (a *RidgeAcc) empty() bool { return a.N == 0 && a.NonFinite == 0 }

// Add adds the row x with target y; a zero-value accumulator takes its feature count from a dense row (sparse rows need NewRidgeAcc).
func (a *RidgeAcc) Add(x Row, y float64) error {
	if a.SumX == nil && a.P == 0 && x.IsDense() {
		*a = NewRidgeAcc(len(x.Value))
	}
	if len(a.SumX) != a.P || len(a.XtY) != a.P || len(a.XtX) != a.P*(a.P+1)/2 {
		return fmt.Errorf("ridge accumulator: sized for %d features but holds %d sums (use NewRidgeAcc)", a.P, len(a.SumX))
	}
	if err := x.check(a.P); err != nil {
		if errors.Is(err, errInvalidValue) {
			a.NonFinite++
			return nil
		}
		return fmt.Errorf("ridge accumulator: %w", err)
	}
	if !validValue(y) {
		a.NonFinite++
		return nil
	}
	a.N++
	a.SumY.Add(y)
	a.SumYY.Add(y * y)
	var buf scratch
	buf.load(x, false)
	idx, val := buf.idx, buf.val
	for s, k := range idx {
		vk := val[s]
		a.SumX[k].Add(vk)
		a.XtY[k].Add(vk * y)
		col := k * (k + 1) / 2
		for r := 0; r <= s; r++ {
			a.XtX[col+idx[r]].Add(val[r] * vk)
		}
	}
	return nil
}

// Merge adds the statistics of b to a (b is not modified and shares nothing with a afterwards).
func (a *RidgeAcc) Merge(b RidgeAcc) error {
	if b.empty() {
		return nil
	}
	if a.empty() {
		*a = RidgeAcc{P: b.P, N: b.N, NonFinite: b.NonFinite, SumY: b.SumY, SumYY: b.SumYY,
			SumX: clone(b.SumX), XtX: clone(b.XtX), XtY: clone(b.XtY)}
		return nil
	}
	if a.P != b.P || len(a.SumX) != len(b.SumX) || len(a.XtX) != len(b.XtX) || len(a.XtY) != len(b.XtY) {
		return fmt.Errorf("ridge accumulator: cannot merge %d features with %d", a.P, b.P)
	}
	a.N += b.N
	a.NonFinite += b.NonFinite
	a.SumY.Merge(b.SumY)
	a.SumYY.Merge(b.SumYY)
	mergeAll(a.SumX, b.SumX)
	mergeAll(a.XtX, b.XtX)
	mergeAll(a.XtY, b.XtY)
	return nil
}

// clone copies s, keeping nil as nil.
func clone[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

func mergeAll(dst, src []Fixed) {
	for i := range src {
		dst[i].Merge(src[i])
	}
}

// Linear is a fitted linear surrogate ŷ = Intercept + xᵀCoef.
type Linear struct {
	// Intercept is b.
	Intercept float64
	// Coef is w, one weight per feature.
	Coef []float64
	// InterceptSE is the standard error of b (NaN where undefined).
	InterceptSE float64
	// CoefSE are the standard errors of w (NaN where undefined).
	CoefSE []float64
	// N is the number of rows fitted.
	N int64
	// RSS is the residual sum of squares Σ(y − ŷ)² on the fitted rows.
	RSS float64
	// Sigma2 is the residual variance estimate RSS/(N − P − 1) (NaN when N ≤ P + 1).
	Sigma2 float64
}

// Predict returns Intercept + xᵀCoef.
func (l Linear) Predict(x Row) float64 { return l.Intercept + x.Dot(l.Coef) }

// centredStats returns the centred Gram C = XcᵀXc, s = Xcᵀyc, syy = ycᵀyc and the means x̄, ȳ, each entry computed exactly from the sums and rounded once.
func (a RidgeAcc) centredStats() (c *mat.SymDense, s, xbar []float64, syy, ybar float64, err error) {
	if a.NonFinite > 0 {
		return nil, nil, nil, 0, 0, fmt.Errorf("ridge fit: %d rows with a non-finite or too large value", a.NonFinite)
	}
	if a.N == 0 {
		return nil, nil, nil, 0, 0, errors.New("ridge fit: no rows")
	}
	p, n := a.P, a.N
	var e exact
	data := make([]float64, p*p)
	s, xbar = make([]float64, p), make([]float64, p)
	for k := 0; k < p; k++ {
		for j := 0; j <= k; j++ {
			data[j*p+k] = e.centred(a.XtX[packed(j, k)], a.SumX[j], a.SumX[k], n)
		}
		s[k] = e.centred(a.XtY[k], a.SumX[k], a.SumY, n)
		xbar[k] = e.mean(a.SumX[k], n)
	}
	syy = e.centred(a.SumYY, a.SumY, a.SumY, n)
	ybar = e.mean(a.SumY, n)
	if p > 0 {
		c = mat.NewSymDense(p, data)
	}
	return c, s, xbar, syy, ybar, nil
}

// Fit returns the ridge surrogate minimising Σ_i (y_i − b − x_iᵀw)² + α‖w‖², intercept unpenalised (scikit-learn Ridge(alpha, fit_intercept=True)).
//
// With the centred statistics C = XcᵀXc and s = Xcᵀyc it solves
// A·w = s, A = C + αI, by Cholesky and sets b = ȳ − x̄ᵀw. The residual sum of
// squares follows from the statistics: RSS = ycᵀyc − wᵀs − α‖w‖². Standard
// errors treat X as fixed and the noise as homoscedastic with
// σ̂² = RSS/(n − p − 1): Var(w) = σ̂²·A⁻¹CA⁻¹ = σ̂²(A⁻¹ − αA⁻²) and
// Var(b) = σ̂²/n + x̄ᵀVar(w)x̄ (b and w are uncorrelated because Xc has
// centred columns). They are NaN when n ≤ p + 1. With α = 0 this is ordinary
// least squares and fails when XcᵀXc is singular.
func (a RidgeAcc) Fit(alpha float64) (Linear, error) {
	if !(alpha >= 0) || math.IsInf(alpha, 0) {
		return Linear{}, fmt.Errorf("ridge fit: alpha %v must be finite and ≥ 0", alpha)
	}
	c, s, xbar, syy, ybar, err := a.centredStats()
	if err != nil {
		return Linear{}, err
	}
	p, n := a.P, a.N
	out := Linear{Intercept: ybar, Coef: make([]float64, p), CoefSE: make([]float64, p), N: n, Sigma2: math.NaN(), InterceptSE: math.NaN()}
	df := n - int64(p) - 1
	if p == 0 {
		out.RSS = math.Max(syy, 0)
		if df > 0 {
			out.Sigma2 = out.RSS / float64(df)
			out.InterceptSE = math.Sqrt(out.Sigma2 / float64(n))
		}
		return out, nil
	}
	amat := mat.NewSymDense(p, nil)
	amat.CopySym(c)
	for j := 0; j < p; j++ {
		amat.SetSym(j, j, amat.At(j, j)+alpha)
	}
	var chol mat.Cholesky
	if !chol.Factorize(amat) {
		return Linear{}, fmt.Errorf("ridge fit: XcᵀXc + %vI is not positive definite (collinear features with alpha 0?)", alpha)
	}
	w := mat.NewVecDense(p, out.Coef)
	if err := chol.SolveVecTo(w, mat.NewVecDense(p, s)); err != nil {
		return Linear{}, fmt.Errorf("ridge fit: solve: %w", err)
	}
	wts, ww := 0.0, 0.0
	for j, wj := range out.Coef {
		out.Intercept -= xbar[j] * wj
		wts += wj * s[j]
		ww += wj * wj
	}
	out.RSS = math.Max(syy-wts-alpha*ww, 0)
	if df <= 0 {
		for j := range out.CoefSE {
			out.CoefSE[j] = math.NaN()
		}
		return out, nil
	}
	out.Sigma2 = out.RSS / float64(df)
	var ainv mat.SymDense
	if err := chol.InverseTo(&ainv); err != nil {
		return Linear{}, fmt.Errorf("ridge fit: inverse: %w", err)
	}
	for j := 0; j < p; j++ {
		sq := 0.0
		for k := 0; k < p; k++ {
			v := ainv.At(j, k)
			sq += v * v
		}
		out.CoefSE[j] = math.Sqrt(math.Max(out.Sigma2*(ainv.At(j, j)-alpha*sq), 0))
	}
	var u mat.VecDense
	xb := mat.NewVecDense(p, xbar)
	u.MulVec(&ainv, xb)
	vb := out.Sigma2 * (1/float64(n) + mat.Dot(xb, &u) - alpha*mat.Dot(&u, &u))
	out.InterceptSE = math.Sqrt(math.Max(vb, 0))
	return out, nil
}

// FitElasticNet returns the scikit-learn ElasticNet(alpha, l1_ratio) surrogate: it minimises (1/2n)Σ_i (y_i − b − x_iᵀw)² + α·ρ‖w‖₁ + ½α(1−ρ)‖w‖², ρ = l1Ratio, intercept unpenalised.
//
// Cyclic coordinate descent on the centred Gram G = XcᵀXc/n and c = Xcᵀyc/n
// updates w_j ← S(c_j − Σ_{k≠j} G_jk w_k, αρ) / (G_jj + α(1−ρ)), S the soft
// threshold, features in index order, until a full sweep changes no weight by
// more than tol·max_j |w_j| (ErrNotConverged after maxIter sweeps); then
// b = ȳ − x̄ᵀw. Standard errors are not defined for it and are NaN; RSS is
// computed from the statistics as ycᵀyc − 2wᵀ(Xcᵀyc) + wᵀXcᵀXcw.
func (a RidgeAcc) FitElasticNet(alpha, l1Ratio float64, maxIter int, tol float64) (Linear, error) {
	if !(alpha >= 0) || math.IsInf(alpha, 0) || !(l1Ratio >= 0 && l1Ratio <= 1) {
		return Linear{}, fmt.Errorf("elastic net fit: alpha %v must be finite and ≥ 0 and l1Ratio %v in [0, 1]", alpha, l1Ratio)
	}
	c, s, xbar, syy, ybar, err := a.centredStats()
	if err != nil {
		return Linear{}, fmt.Errorf("elastic net fit: %w", err)
	}
	p, n := a.P, a.N
	out := Linear{Intercept: ybar, Coef: make([]float64, p), CoefSE: make([]float64, p), N: n,
		InterceptSE: math.NaN(), Sigma2: math.NaN(), RSS: math.Max(syy, 0)}
	for j := range out.CoefSE {
		out.CoefSE[j] = math.NaN()
	}
	if p == 0 {
		return out, nil
	}
	fn := float64(n)
	l1, l2 := alpha*l1Ratio, alpha*(1-l1Ratio)
	w := out.Coef
	q := make([]float64, p) // q = G·w
	converged := false
	for it := 0; it < maxIter && !converged; it++ {
		maxDelta, maxW := 0.0, 0.0
		for j := 0; j < p; j++ {
			gjj := c.At(j, j) / fn
			rho := s[j]/fn - q[j] + gjj*w[j]
			nw := 0.0
			if den := gjj + l2; den > 0 {
				nw = math.Copysign(math.Max(math.Abs(rho)-l1, 0), rho) / den
			}
			if d := nw - w[j]; d != 0 {
				for k := 0; k < p; k++ {
					q[k] += d * c.At(k, j) / fn
				}
				w[j] = nw
				maxDelta = math.Max(maxDelta, math.Abs(d))
			}
			maxW = math.Max(maxW, math.Abs(nw))
		}
		converged = maxDelta <= tol*maxW
	}
	rss := syy
	for j := 0; j < p; j++ {
		out.Intercept -= xbar[j] * w[j]
		rss += -2*w[j]*s[j] + w[j]*q[j]*fn
	}
	out.RSS = math.Max(rss, 0)
	if !converged {
		return out, fmt.Errorf("elastic net fit after %d sweeps: %w", maxIter, ErrNotConverged)
	}
	return out, nil
}
