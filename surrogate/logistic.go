package surrogate

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Logistic is an L2-regularised logistic surrogate and the state of its Newton iteration.
//
// Binary (Classes 2): one logit z = Intercept[0] + xᵀCoef[0] for class 1,
// P(1|x) = σ(z). Multinomial (Classes C ≥ 3): C logits z_c = Intercept[c] +
// xᵀCoef[c] and P(c|x) = softmax(z)_c, parameterised like scikit-learn's
// multinomial LogisticRegression. The fit minimises
//
//	Σ_i logloss(y_i, z_i) + (λ/2)‖Coef‖²,  intercepts unpenalised,
//
// which is scikit-learn LogisticRegression(C=1/λ). With C logits the
// intercepts are determined only up to a common constant (adding it changes
// no probability); Step keeps them centred to sum to 0. Coef is identified by
// the penalty (its columns sum to 0 at the optimum).
//
// The iteration is a damped Newton method, one pass over the data per Step:
// a pass at the current coefficients gives a LogisticAcc; if they lower the
// objective enough (Armijo) over the last accepted point Base, they are
// accepted and a new Newton direction is taken from them; otherwise the step
// from Base is halved. The exported fields carry that state between passes.
type Logistic struct {
	// P is the number of features.
	P int
	// Classes is the number of classes (≥ 2).
	Classes int
	// Intercept holds one intercept per logit (1 for binary, Classes otherwise).
	Intercept []float64
	// Coef holds one weight vector of length P per logit.
	Coef [][]float64
	// Iter counts the Steps taken.
	Iter int
	// Objective is the penalised objective at Base (0 while Base is nil).
	Objective float64
	// Base holds the last accepted parameters, flattened as logit l's intercept at l(P+1) followed by its P weights; nil before the first Step.
	Base []float64
	// Dir is the Newton direction from Base, flattened like Base.
	Dir []float64
	// StepSize is the fraction of Dir the current coefficients lie at.
	StepSize float64
	// Slope is the directional derivative gᵀDir of the objective at Base.
	Slope float64
}

// NewLogistic returns the all-zero starting model for p features and the given number of classes (≥ 2).
func NewLogistic(p, classes int) (Logistic, error) {
	if p < 0 || classes < 2 {
		return Logistic{}, fmt.Errorf("logistic: need p ≥ 0 and at least 2 classes, got p=%d classes=%d", p, classes)
	}
	m := Logistic{P: p, Classes: classes}
	m.setParams(make([]float64, m.logits()*(p+1)))
	return m, nil
}

// logits returns the number of linear predictors: 1 (binary) or Classes.
func (m *Logistic) logits() int {
	if m.Classes == 2 {
		return 1
	}
	return m.Classes
}

func (m *Logistic) params() []float64 {
	th := make([]float64, 0, m.logits()*(m.P+1))
	for l, b := range m.Intercept {
		th = append(append(th, b), m.Coef[l]...)
	}
	return th
}

func (m *Logistic) setParams(th []float64) {
	L, q := m.logits(), m.P+1
	m.Intercept, m.Coef = make([]float64, L), make([][]float64, L)
	for l := range L {
		m.Intercept[l] = th[l*q]
		m.Coef[l] = append([]float64(nil), th[l*q+1:(l+1)*q]...)
	}
}

func (m *Logistic) valid() error {
	if m.Classes < 2 || m.P < 0 || len(m.Intercept) != m.logits() || len(m.Coef) != m.logits() {
		return fmt.Errorf("logistic: malformed model (classes %d, %d intercepts, %d weight vectors; use NewLogistic)", m.Classes, len(m.Intercept), len(m.Coef))
	}
	for _, w := range m.Coef {
		if len(w) != m.P {
			return fmt.Errorf("logistic: weight vector of length %d, want %d", len(w), m.P)
		}
	}
	return nil
}

// Scores returns the logits: one (class 1's log-odds) for a binary model, Classes for a multinomial one.
func (m *Logistic) Scores(x Row) []float64 {
	z := make([]float64, len(m.Intercept))
	for l := range z {
		z[l] = m.Intercept[l] + x.Dot(m.Coef[l])
	}
	return z
}

// Prob returns the class probabilities P(c|x), c = 0 … Classes−1.
func (m *Logistic) Prob(x Row) []float64 {
	z := m.Scores(x)
	if m.Classes == 2 {
		p1 := sigmoid(z[0])
		return []float64{1 - p1, p1}
	}
	lse := logSumExp(z, -1)
	for c := range z {
		z[c] = math.Exp(z[c] - lse)
	}
	return z
}

// LogOdds returns log(P(c|x)/(1 − P(c|x))), computed stably: the logit (negated for class 0) for a binary model, z_c − log Σ_{k≠c} exp z_k for a multinomial one.
func (m *Logistic) LogOdds(x Row, class int) float64 {
	z := m.Scores(x)
	if m.Classes == 2 {
		if class == 0 {
			return -z[0]
		}
		return z[0]
	}
	return z[class] - logSumExp(z, class)
}

// Predict returns the most probable class (the lowest index on ties).
func (m *Logistic) Predict(x Row) int {
	z := m.Scores(x)
	if m.Classes == 2 {
		if z[0] > 0 {
			return 1
		}
		return 0
	}
	best := 0
	for c := range z {
		if z[c] > z[best] {
			best = c
		}
	}
	return best
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// logSumExp returns log Σ_{k≠skip} exp z_k.
func logSumExp(z []float64, skip int) float64 {
	mx := math.Inf(-1)
	for k, v := range z {
		if k != skip {
			mx = math.Max(mx, v)
		}
	}
	if math.IsInf(mx, -1) {
		return mx
	}
	s := 0.0
	for k, v := range z {
		if k != skip {
			s += math.Exp(v - mx)
		}
	}
	return mx + math.Log(s)
}

// LogisticAcc accumulates, at a model's current coefficients, the log-loss of the rows and its gradient and Hessian; the zero value is empty.
//
// With x̃ = (1, x), residuals r_il = μ_il − y_il (μ the predicted
// probabilities, y the one-hot label; binary: the single logit of class 1)
// and weights W_i,lm = μ_il(δ_lm − μ_im):
//
//	Loss = Σ_i logloss_i,  Grad[l] = Σ_i r_il x̃_i,  Hess[l,m] = Σ_i W_i,lm x̃_i x̃_iᵀ.
//
// Hess holds the blocks l ≤ m (L(L+1)/2 of them, L the number of logits),
// block (l, m) at position m(m+1)/2 + l, each the packed upper triangle of a
// (P+1)×(P+1) symmetric matrix (entry (a, b), a ≤ b, at b(b+1)/2 + a); index 0
// is the intercept. Memory is O(L²P²). All rows of one pass must be added with
// the same model.
type LogisticAcc struct {
	// P is the number of features.
	P int
	// Classes is the number of classes.
	Classes int
	// N is the number of rows added.
	N int64
	// NonFinite counts rows refused for a non-finite or too large feature; Step fails when it is not 0.
	NonFinite int64
	// Loss is Σ_i logloss_i at the model's coefficients.
	Loss Fixed
	// Grad is the gradient, logit l's entries at l(P+1) (intercept first).
	Grad []Fixed
	// Hess holds the Hessian blocks described above.
	Hess []Fixed
}

func (a *LogisticAcc) empty() bool { return a.N == 0 && a.NonFinite == 0 }

// Add adds the row x with label class (0 … Classes−1) at the coefficients of m.
func (a *LogisticAcc) Add(m *Logistic, x Row, class int) error {
	if err := m.valid(); err != nil {
		return err
	}
	L, q := m.logits(), m.P+1
	if a.empty() && a.Grad == nil {
		a.P, a.Classes = m.P, m.Classes
		a.Grad = make([]Fixed, L*q)
		a.Hess = make([]Fixed, L*(L+1)/2*q*(q+1)/2)
	}
	if a.P != m.P || a.Classes != m.Classes || len(a.Grad) != L*q || len(a.Hess) != L*(L+1)/2*q*(q+1)/2 {
		return fmt.Errorf("logistic accumulator for %d features and %d classes used with a model of %d and %d", a.P, a.Classes, m.P, m.Classes)
	}
	if class < 0 || class >= m.Classes {
		return fmt.Errorf("logistic accumulator: class %d outside [0, %d)", class, m.Classes)
	}
	if err := x.check(m.P); err != nil {
		if errors.Is(err, errInvalidValue) {
			a.NonFinite++
			return nil
		}
		return fmt.Errorf("logistic accumulator: %w", err)
	}
	z := m.Scores(x)
	r := make([]float64, L)
	w := make([]float64, L*(L+1)/2)
	var loss float64
	if L == 1 {
		mu, y := sigmoid(z[0]), float64(class)
		// log(1 + e^z) − y·z, stable for either sign of z.
		loss = math.Max(z[0], 0) + math.Log1p(math.Exp(-math.Abs(z[0]))) - y*z[0]
		r[0], w[0] = mu-y, mu*(1-mu)
	} else {
		lse := logSumExp(z, -1)
		loss = lse - z[class]
		mu := make([]float64, L)
		for l := range mu {
			mu[l] = math.Exp(z[l] - lse)
			r[l] = mu[l]
		}
		r[class]--
		for mm := range L {
			for l := 0; l <= mm; l++ {
				w[mm*(mm+1)/2+l] = -mu[l] * mu[mm]
			}
			w[mm*(mm+1)/2+mm] += mu[mm]
		}
	}
	if !a.Loss.Add(loss) {
		a.NonFinite++
		return nil
	}
	a.N++
	var buf scratch
	buf.load(x, true)
	idx, val := buf.idx, buf.val
	bs := q * (q + 1) / 2
	for s, k := range idx {
		vk := val[s]
		for l := range L {
			a.Grad[l*q+k].Add(r[l] * vk)
		}
		col := k * (k + 1) / 2
		for t := 0; t <= s; t++ {
			prod, pos := val[t]*vk, col+idx[t]
			for b, wb := range w {
				a.Hess[b*bs+pos].Add(wb * prod)
			}
		}
	}
	return nil
}

// Merge adds the sums of b to a (b is not modified and shares nothing with a afterwards).
func (a *LogisticAcc) Merge(b LogisticAcc) error {
	if b.empty() {
		return nil
	}
	if a.empty() {
		*a = LogisticAcc{P: b.P, Classes: b.Classes, N: b.N, NonFinite: b.NonFinite, Loss: b.Loss,
			Grad: clone(b.Grad), Hess: clone(b.Hess)}
		return nil
	}
	if a.P != b.P || a.Classes != b.Classes || len(a.Grad) != len(b.Grad) || len(a.Hess) != len(b.Hess) {
		return fmt.Errorf("logistic accumulator: cannot merge %d features/%d classes with %d/%d", a.P, a.Classes, b.P, b.Classes)
	}
	a.N += b.N
	a.NonFinite += b.NonFinite
	a.Loss.Merge(b.Loss)
	mergeAll(a.Grad, b.Grad)
	mergeAll(a.Hess, b.Hess)
	return nil
}

// Step takes one iteration from the pass acc at m's coefficients with penalty λ = alpha and returns the model for the next pass; converged is true when the Newton step just taken moved no parameter by more than tol·max(1, max|θ|).
//
// The objective F = Loss + (λ/2)‖Coef‖² at m is compared with F at Base; if
// F > F(Base) + 10⁻⁴·StepSize·Slope (+10⁻¹² relative slack for rounding) the
// step from Base is halved (after 40 halvings Base is returned as converged:
// nothing lowers F further). Otherwise the Newton system (H + λI_w)d = −g is
// solved by Cholesky (for C logits, the unpenalised intercept direction
// (1, …, 1) is fixed by adding its outer product to H, which leaves the step
// orthogonal to it, so the intercepts stay centred) and the next coefficients
// are m + d.
func (m *Logistic) Step(acc LogisticAcc, alpha, tol float64) (next Logistic, converged bool, err error) {
	if err := m.valid(); err != nil {
		return Logistic{}, false, err
	}
	if !(alpha >= 0) || math.IsInf(alpha, 0) {
		return Logistic{}, false, fmt.Errorf("logistic step: alpha %v must be finite and ≥ 0", alpha)
	}
	L, q := m.logits(), m.P+1
	switch {
	case acc.NonFinite > 0:
		return Logistic{}, false, fmt.Errorf("logistic step: %d rows with a non-finite or too large value", acc.NonFinite)
	case acc.N == 0:
		return Logistic{}, false, errors.New("logistic step: no rows")
	case acc.P != m.P || acc.Classes != m.Classes || len(acc.Grad) != L*q:
		return Logistic{}, false, fmt.Errorf("logistic step: accumulator for %d features/%d classes, model %d/%d", acc.P, acc.Classes, m.P, m.Classes)
	}
	theta := m.params()
	f := acc.Loss.Float64()
	for _, w := range m.Coef {
		for _, v := range w {
			f += alpha / 2 * v * v
		}
	}
	next = *m
	next.Iter++
	if m.Base != nil && !(f <= m.Objective+1e-4*m.StepSize*m.Slope+1e-12*math.Abs(m.Objective)) {
		next.StepSize = m.StepSize / 2
		if next.StepSize < 0x1p-40 {
			next.setParams(m.Base)
			return next, true, nil
		}
		th := make([]float64, len(m.Base))
		for i := range th {
			th[i] = m.Base[i] + next.StepSize*m.Dir[i]
		}
		next.setParams(th)
		return next, false, nil
	}
	// Accept the current coefficients; gradient and Hessian of F there.
	D := L * q
	g := make([]float64, D)
	h := mat.NewSymDense(D, nil)
	bs := q * (q + 1) / 2
	for l := range L {
		for a := range q {
			i := l*q + a
			g[i] = acc.Grad[i].Float64()
			if a > 0 {
				g[i] += alpha * theta[i]
			}
		}
		for mm := l; mm < L; mm++ {
			blk := acc.Hess[(mm*(mm+1)/2+l)*bs:]
			for a := range q {
				for b := range q {
					i, j := l*q+a, mm*q+b
					if i > j {
						continue
					}
					v := blk[packed(min(a, b), max(a, b))].Float64()
					if i == j && a > 0 {
						v += alpha
					}
					if L > 1 && a == 0 && b == 0 {
						v++ // fixes the free common shift of the intercepts
					}
					h.SetSym(i, j, v)
				}
			}
		}
	}
	var chol mat.Cholesky
	if !chol.Factorize(h) {
		return Logistic{}, false, fmt.Errorf("logistic step: Hessian not positive definite (alpha %v; separable data needs alpha > 0)", alpha)
	}
	dv := mat.NewVecDense(D, nil)
	if err := chol.SolveVecTo(dv, mat.NewVecDense(D, g)); err != nil {
		return Logistic{}, false, fmt.Errorf("logistic step: solve: %w", err)
	}
	d := dv.RawVector().Data
	if L > 1 {
		mean := 0.0
		for l := range L {
			mean += d[l*q]
		}
		for l := range L {
			d[l*q] -= mean / float64(L)
		}
	}
	slope, maxD, maxT := 0.0, 0.0, 1.0
	for i := range d {
		d[i] = -d[i]
		slope += g[i] * d[i]
		maxD = math.Max(maxD, math.Abs(d[i]))
		maxT = math.Max(maxT, math.Abs(theta[i]))
	}
	next.Objective, next.Base, next.Dir, next.StepSize, next.Slope = f, theta, d, 1, slope
	th := make([]float64, D)
	for i := range th {
		th[i] = theta[i] + d[i]
	}
	next.setParams(th)
	return next, maxD <= tol*maxT, nil
}

// FitLogisticInMemory fits the logistic surrogate on in-memory rows (p features, labels y in [0, classes)) by at most maxIter passes of Add and Step; it returns the model with ErrNotConverged (wrapped) when the limit is reached first.
func FitLogisticInMemory(rows []Row, y []int, p, classes int, alpha float64, maxIter int, tol float64) (Logistic, error) {
	if len(rows) != len(y) {
		return Logistic{}, fmt.Errorf("logistic fit: %d rows and %d labels", len(rows), len(y))
	}
	m, err := NewLogistic(p, classes)
	if err != nil {
		return Logistic{}, err
	}
	for range maxIter {
		var acc LogisticAcc
		for i, r := range rows {
			if err := acc.Add(&m, r, y[i]); err != nil {
				return Logistic{}, fmt.Errorf("logistic fit: row %d: %w", i, err)
			}
		}
		next, done, err := m.Step(acc, alpha, tol)
		if err != nil {
			return Logistic{}, fmt.Errorf("logistic fit: %w", err)
		}
		m = next
		if done {
			return m, nil
		}
	}
	return m, fmt.Errorf("logistic fit after %d passes: %w", maxIter, ErrNotConverged)
}
