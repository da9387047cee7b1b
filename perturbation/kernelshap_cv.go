package perturbation

import (
	"cmp"
	"math"
	"math/bits"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/glassbox-ai/glassbox/explanation"
)

// KernelSHAP's control variate. A transformer's class probability is close to
// a sigmoid of a function with small interactions, so a surrogate
//
//	g(S) = h⁻¹(b₀ + Σ_{i∈S} aᵢ + Σ_{i<j∈S, i,j∈T} bᵢⱼ)
//
// (h the link: log-odds of a probability; T the m players with the largest
// first-pass values) fitted by Shapley-kernel-weighted ridge regression on the
// scored coalitions, then refitted on f's own scale, follows f far better than
// the linear model KernelSHAP regresses on. Its Shapley values φ(g) cost no
// model call (g is evaluated on all 2ⁿ coalitions, n ≤ cvMaxPlayers), and
//
//	φ̂ = φ(g) + KernelSHAP(f − g)
//
// needs the sample only for the residual f − g, which is small: the
// regression-adjusted estimator of Witter et al. (2025, "Regression-adjusted
// Monte Carlo estimators for Shapley values"). Efficiency holds exactly (φ(g)
// sums to g(N) − g(∅), the residual's values to the rest of f(N) − f(∅)).
// Any g keeps the estimator consistent: a poor fit costs variance, not bias
// as the sample grows; when the sample is complete the method skips g.

const (
	// cvRidge is the ridge penalty on the pair coefficients, relative to kernel
	// weights normalised to sum 1: it keeps the fit well-posed when few coalitions
	// hold both players of a pair, and is small against the terms it shrinks
	// (on the accuracy harness, 1e-4 and 0 give the same error where both are defined).
	cvRidge = 1e-4
	// cvRowsPerParam is the fewest coalitions per surrogate coefficient: pairs
	// are added among the top players only while this many rows back each term.
	cvRowsPerParam = 3
	// cvMaxPlayers is the largest n with a control variate: φ(g) is computed
	// exactly over all 2ⁿ coalitions (about 2 ms at 16). Beyond it an estimate
	// of φ(g) precise enough to help (by permutations) costs more CPU than
	// the model calls it saves on small models, so longer inputs use the plain
	// estimator (measured on the sample job, DEVELOPERS.md).
	cvMaxPlayers = 16
	// cvRefits is the number of Gauss–Newton steps that refit g on f's own
	// scale after the log-odds least squares: the residual f − g is what the
	// sample must estimate, so g is fitted to make it small (on the accuracy
	// harness two steps halve the error at 512 coalitions; more change little).
	cvRefits = 2
	// cvProbFloor keeps log-odds finite for saturated probabilities.
	cvProbFloor = 1e-12
)

// linkFuncs returns the link h and its inverse for f, or ok = false when f's
// scale gives no better surrogate than KernelSHAP's own linear one. dinv is
// the derivative of inv.
func linkFuncs(l explanation.Link) (h, inv, dinv func(float64) float64, ok bool) {
	clamp := func(p float64) float64 { return math.Min(math.Max(p, cvProbFloor), 1-cvProbFloor) }
	logit := func(p float64) float64 { p = clamp(p); return math.Log(p / (1 - p)) }
	sigmoid := func(z float64) float64 {
		if z >= 0 {
			return 1 / (1 + math.Exp(-z))
		}
		e := math.Exp(z)
		return e / (1 + e)
	}
	switch l {
	case explanation.LinkLogit:
		return logit, sigmoid, func(z float64) float64 { p := sigmoid(z); return p * (1 - p) }, true
	case explanation.LinkLogProb:
		return func(f float64) float64 { return logit(math.Exp(f)) },
			func(z float64) float64 { return -math.Log1p(math.Exp(-z)) },
			func(z float64) float64 { return sigmoid(-z) }, true
	}
	return nil, nil, nil, false
}

// surrogate is a fitted g: intercept, one coefficient per player, and pair
// coefficients among the players listed in top.
type surrogate struct {
	n     int
	inv   func(float64) float64
	b0    float64
	a     []float64
	top   []int
	pairs [][]float64 // pairs[u][v], u < v, indices into top
	// pairOf[i] is player i's index in top, −1 if it has no pairs.
	pairOf []int
	// leverage holds the fit's leverage of each row (the sets, then ∅ and
	// N), nil when it could not be computed.
	leverage []float64
}

// fitSurrogate fits g by weighted ridge regression of h(f) on the coalitions
// sets (values y, kernel weights w), the full and empty coalitions weighted
// heavily, then refits it on f's scale by cvRefits Gauss–Newton steps; pilot
// ranks the players for pair terms. ok is false for n > cvMaxPlayers, when the
// values are outside the link's domain, or when the system cannot be solved.
func fitSurrogate(l explanation.Link, sets []coalition, y, w []float64, full, empty float64, pilot []float64, n int) (*surrogate, bool) {
	h, inv, dinv, ok := linkFuncs(l)
	if !ok || n > cvMaxPlayers {
		return nil, false
	}
	for _, v := range append([]float64{full, empty}, y...) {
		if l == explanation.LinkLogit && (v < 0 || v > 1) || l == explanation.LinkLogProb && v > 0 || math.IsNaN(v) {
			return nil, false
		}
	}
	rows := len(sets) + 2
	if 1+n > rows/cvRowsPerParam {
		return nil, false // too few coalitions for even the linear part: it would interpolate noise
	}
	m := 0
	for m < n && 1+n+(m+1)*m/2 <= rows/cvRowsPerParam {
		m++
	}
	if m < 2 {
		m = 0
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, z int) int { return cmp.Compare(math.Abs(pilot[z]), math.Abs(pilot[x])) })
	top := append([]int(nil), order[:m]...)
	slices.Sort(top)
	g := &surrogate{n: n, inv: inv, a: make([]float64, n), top: top, pairOf: make([]int, n)}
	for i := range g.pairOf {
		g.pairOf[i] = -1
	}
	for u, p := range top {
		g.pairOf[p] = u
	}
	p := 1 + n + m*(m-1)/2

	// x holds each row's features [1, players present, pairs present]; the
	// weights are normalised to sum 1, ∅ and N weighted 1000 times the heaviest row.
	x := mat.NewDense(rows, p, nil)
	wn := make([]float64, rows)
	fv := make([]float64, rows)
	setRow := func(r int, c coalition, value, weight float64) {
		row := x.RawRowView(r)
		row[0] = 1
		for i := 0; i < n; i++ {
			if c.has(i) {
				row[1+i] = 1
			}
		}
		k := 1 + n
		for u := 0; u < m; u++ {
			for v := u + 1; v < m; v++ {
				if c.has(top[u]) && c.has(top[v]) {
					row[k] = 1
				}
				k++
			}
		}
		wn[r], fv[r] = weight, value
	}
	wmax := 0.0
	for r, c := range sets {
		setRow(r, c, y[r], w[r])
		wmax = math.Max(wmax, w[r])
	}
	setRow(len(sets), newCoalition(n), empty, 1e3*wmax)
	setRow(len(sets)+1, fullCoalition(n), full, 1e3*wmax)
	wsum := 0.0
	for _, v := range wn {
		wsum += v
	}
	if !(wsum > 0) {
		return nil, false
	}
	for r := range wn {
		wn[r] /= wsum
	}

	// Log-odds least squares: (XᵀWX + R)β = XᵀW h(f).
	z := make([]float64, rows)
	for r, v := range fv {
		z[r] = h(v)
	}
	beta, ok := weightedRidgeSolve(x, wn, z, 1+n, cvRidge)
	if !ok {
		return nil, false
	}
	// Gauss–Newton on Σ w (f − h⁻¹(Xβ))²: J = diag(h⁻¹′(Xβ))·X, (JᵀWJ + R)Δ = JᵀW(f − h⁻¹(Xβ)).
	jac := mat.NewDense(rows, p, nil)
	res := make([]float64, rows)
	for it := 0; it < cvRefits; it++ {
		for r := 0; r < rows; r++ {
			eta := mat.Dot(x.RowView(r), beta)
			d := dinv(eta)
			src, dst := x.RawRowView(r), jac.RawRowView(r)
			for j := range dst {
				dst[j] = d * src[j]
			}
			res[r] = fv[r] - inv(eta)
		}
		step, ok := weightedRidgeSolve(jac, wn, res, 1+n, cvRidge*1e-2)
		if !ok {
			break
		}
		beta.AddVec(beta, step)
	}
	for _, v := range beta.RawVector().Data {
		if !finite(v) {
			return nil, false
		}
	}
	// Leverages of the final fit, linearised at its coefficients (the
	// Gauss–Newton Jacobian), for the leave-one-out residuals of kernelCV.honest.
	for r := 0; r < rows; r++ {
		eta := mat.Dot(x.RowView(r), beta)
		d := dinv(eta)
		src, dst := x.RawRowView(r), jac.RawRowView(r)
		for j := range dst {
			dst[j] = d * src[j]
		}
	}
	if lev, ok := leverages(jac, wn, 1+n, cvRidge*1e-2); ok {
		g.leverage = lev
	}
	g.b0 = beta.AtVec(0)
	for i := 0; i < n; i++ {
		g.a[i] = beta.AtVec(1 + i)
	}
	g.pairs = make([][]float64, m)
	k := 1 + n
	for u := 0; u < m; u++ {
		g.pairs[u] = make([]float64, m)
		for v := u + 1; v < m; v++ {
			g.pairs[u][v] = beta.AtVec(k)
			k++
		}
	}
	return g, true
}

// weightedRidgeSolve solves (XᵀWX + R)β = XᵀWt by Cholesky, R = ridge on the
// coefficients from index free on (the pair terms), 0 on the others.
func weightedRidgeSolve(x *mat.Dense, w, t []float64, free int, ridge float64) (*mat.VecDense, bool) {
	sx, chol, ok := weightedRidgeFactor(x, w, free, ridge)
	if !ok {
		return nil, false
	}
	rows, _ := x.Dims()
	st := mat.NewVecDense(rows, nil)
	for r := 0; r < rows; r++ {
		st.SetVec(r, math.Sqrt(w[r])*t[r])
	}
	var rhs, beta mat.VecDense
	rhs.MulVec(sx.T(), st)
	if err := chol.SolveVecTo(&beta, &rhs); err != nil {
		return nil, false
	}
	return &beta, true
}

// weightedRidgeFactor returns W^½X and the Cholesky factor of XᵀWX + R.
func weightedRidgeFactor(x *mat.Dense, w []float64, free int, ridge float64) (*mat.Dense, *mat.Cholesky, bool) {
	rows, p := x.Dims()
	sx := mat.NewDense(rows, p, nil)
	for r := 0; r < rows; r++ {
		sw := math.Sqrt(w[r])
		src, dst := x.RawRowView(r), sx.RawRowView(r)
		for j := range dst {
			dst[j] = sw * src[j]
		}
	}
	var gram mat.SymDense
	gram.SymOuterK(1, sx.T())
	for j := free; j < p; j++ {
		gram.SetSym(j, j, gram.At(j, j)+ridge)
	}
	var chol mat.Cholesky
	if !chol.Factorize(&gram) {
		return nil, nil, false
	}
	return sx, &chol, true
}

// leverages returns the diagonal of the ridge hat matrix,
// hᵢᵢ = wᵢ xᵢᵀ(XᵀWX + R)⁻¹xᵢ: row i's fitted value moves by hᵢᵢ per unit of
// its own target, so rᵢ/(1 − hᵢᵢ) is its leave-one-out residual.
func leverages(x *mat.Dense, w []float64, free int, ridge float64) ([]float64, bool) {
	sx, chol, ok := weightedRidgeFactor(x, w, free, ridge)
	if !ok {
		return nil, false
	}
	var inv mat.SymDense
	if err := chol.InverseTo(&inv); err != nil {
		return nil, false
	}
	rows, _ := sx.Dims()
	h := make([]float64, rows)
	for r := 0; r < rows; r++ {
		v := sx.RowView(r)
		h[r] = mat.Inner(v, &inv, v)
	}
	return h, true
}

// pair returns the pair coefficient of players i and j (0 when either has none).
func (g *surrogate) pair(i, j int) float64 {
	u, v := g.pairOf[i], g.pairOf[j]
	if u < 0 || v < 0 {
		return 0
	}
	if u > v {
		u, v = v, u
	}
	return g.pairs[u][v]
}

// at evaluates g on a coalition.
func (g *surrogate) at(c coalition) float64 {
	z := g.b0
	for i := 0; i < g.n; i++ {
		if !c.has(i) {
			continue
		}
		z += g.a[i]
		if g.pairOf[i] < 0 {
			continue
		}
		for j := i + 1; j < g.n; j++ {
			if c.has(j) {
				z += g.pair(i, j)
			}
		}
	}
	return g.inv(z)
}

// exactShapley computes φᵢ(g) = Σ_{S∌i} |S|!(n−|S|−1)!/n! · (g(S∪{i}) − g(S))
// from g on all 2ⁿ coalitions (bit i of the table index = player i present);
// the linear predictor of each coalition adds its highest player to the
// coalition without it.
func (g *surrogate) exactShapley() []float64 {
	n := g.n
	size := 1 << uint(n)
	zs := make([]float64, size)
	vals := make([]float64, size)
	zs[0] = g.b0
	vals[0] = g.inv(g.b0)
	for s := 1; s < size; s++ {
		hi := bits.Len(uint(s)) - 1
		rest := s &^ (1 << uint(hi))
		z := zs[rest] + g.a[hi]
		if g.pairOf[hi] >= 0 {
			for r := rest; r != 0; r &= r - 1 {
				z += g.pair(hi, bits.TrailingZeros(uint(r)))
			}
		}
		zs[s] = z
		vals[s] = g.inv(z)
	}
	// w[k] = k!(n−k−1)!/n!, by the recurrence w[k+1] = w[k]·(k+1)/(n−k−1).
	w := make([]float64, n)
	w[0] = 1 / float64(n)
	for k := 0; k+1 < n; k++ {
		w[k+1] = w[k] * float64(k+1) / float64(n-k-1)
	}
	pop := make([]uint8, size)
	for s := 1; s < size; s++ {
		pop[s] = pop[s>>1] + uint8(s&1)
	}
	phi := make([]float64, n)
	for i := 0; i < n; i++ {
		bit := 1 << uint(i)
		sum := 0.0
		for s := 0; s < size; s++ {
			if s&bit == 0 {
				sum += w[pop[s]] * (vals[s|bit] - vals[s])
			}
		}
		phi[i] = sum
	}
	return phi
}
