package perturbation

import (
	"math"
	"math/bits"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// KernelSHAP's second control variate: kernel ridge regression (the
// posterior mean of a Gaussian process) of what the link-scale surrogate g
// leaves, f − g, on the scored coalitions, with the Hamming kernel
//
//	k(S, T) = exp(−γ·|S △ T|) = Πᵢ c^[i ∈ S △ T],  c = e^{−γ}.
//
// On the hypercube this kernel is diagonal in the Walsh basis, with prior
// variance proportional to tanh(γ/2)^|A| on each interaction of order |A|: a prior
// over interactions of every order that decays with the order, where g
// holds only the main effects and pairs. The fit is
//
//	T(S) = Σⱼ αⱼ k(S, Sⱼ),  (K + λI)α = f − g,
//
// and its leave-one-out residuals are exact, αⱼ / [(K + λI)⁻¹]ⱼⱼ: the
// honest residuals the standard errors need. Each basis function is a
// product over players, so its Shapley values have a closed form
// (basisShapley) and
//
//	φ̂ = φ(g) + φ(T) + KernelSHAP(f − g − T)
//
// costs no enumeration of coalitions and keeps efficiency exactly. On the
// accuracy harness (DEVELOPERS.md) it takes the MiniLM classifier's error at
// 500 coalitions from 0.037 rel L2 with g alone to 0.018 (a random forest in
// T's place reached 0.029).

const (
	// gpGamma is the kernel's decay per differing player. In Python
	// prototypes on the harness's tables (500 coalitions, rel L2), γ = 0.3
	// gave 0.0172 on MiniLM and 0.0138 on distilbert-sentiment, 0.6 gave
	// 0.0227 on MiniLM, and choosing (γ, λ) per example by leave-one-out
	// error over {0.3, 0.6} × {1e-3, 1e-2} gave 0.018 and 0.0133 at four
	// times the CPU (a Cholesky factorisation and a triangular inverse of
	// order 500, about 28 ms, per pair).
	gpGamma = 0.3
	// gpLambda is the ridge penalty relative to the kernel's unit diagonal
	// (the fit is invariant to the targets' scale): 1e-3 and 1e-2 gave
	// 0.0173 and 0.0175 on MiniLM, 0.0142 and 0.0133 on distilbert.
	gpLambda = 3e-3
	// gpMaxRows is the most coalitions the kernel ridge is fitted on: its
	// system is rows × rows (32 MiB and 1.1 s of CPU at 2,050 rows, measured),
	// and a budget this large already makes g's residual small. Larger
	// samples keep g alone.
	gpMaxRows = 2048
)

// kernelRidge is a fitted T over coalitions of n ≤ 64 players.
type kernelRidge struct {
	n      int
	masks  []uint64
	alpha  []float64
	decay  []float64 // decay[d] = e^{−γd}
	lambda float64
	// loo holds the leave-one-out residuals of the training rows.
	loo []float64
}

// fitKernelRidge fits T to targets y on coalition masks. ok is false when
// the system cannot be factorised.
func fitKernelRidge(masks []uint64, y []float64, n int) (*kernelRidge, bool) {
	rows := len(masks)
	t := &kernelRidge{n: n, masks: masks, decay: make([]float64, n+1), lambda: gpLambda, loo: make([]float64, rows)}
	for d := range t.decay {
		t.decay[d] = math.Exp(-gpGamma * float64(d))
	}
	// A = K + λI in the lower triangle, factorised in place by LAPACK
	// (mat.Cholesky adds a condition estimate: 44% of its factorisation's
	// time at 500 rows in a CPU profile of BenchmarkKernelSHAPControlVariates).
	a := blas64.General{Rows: rows, Cols: rows, Stride: rows, Data: make([]float64, rows*rows)}
	for i := 0; i < rows; i++ {
		for j := 0; j <= i; j++ {
			a.Data[i*rows+j] = t.decay[bits.OnesCount64(masks[i]^masks[j])]
		}
		a.Data[i*rows+i] += t.lambda
	}
	l, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: rows, Stride: rows, Data: a.Data})
	if !ok {
		return nil, false
	}
	// α = L⁻ᵀL⁻¹y.
	t.alpha = append([]float64(nil), y...)
	v := blas64.Vector{N: rows, Inc: 1, Data: t.alpha}
	blas64.Trsv(blas.NoTrans, l, v)
	blas64.Trsv(blas.Trans, l, v)
	// [A⁻¹]ᵢᵢ = Σₖ (L⁻¹)ₖᵢ², from A⁻¹ = L⁻ᵀL⁻¹; L is inverted in place.
	if !lapack64.Trtri(l) {
		return nil, false
	}
	for i := 0; i < rows; i++ {
		d := 0.0
		for r := i; r < rows; r++ {
			x := a.Data[r*rows+i]
			d += x * x
		}
		t.loo[i] = t.alpha[i] / d
	}
	return t, true
}

// fitted returns T at training row i: (K + λI)α = y gives Kα = y − λα.
func (t *kernelRidge) fitted(i int, y float64) float64 { return y - t.lambda*t.alpha[i] }

// at returns T on a coalition mask.
func (t *kernelRidge) at(mask uint64) float64 {
	s := 0.0
	for j, m := range t.masks {
		s += t.alpha[j] * t.decay[bits.OnesCount64(mask^m)]
	}
	return s
}

// exactShapley returns T's Shapley values: each basis function's, from
// basisShapley, weighted by its coefficient.
func (t *kernelRidge) exactShapley() []float64 {
	in, out := basisShapley(t.n, t.decay[1])
	phi := make([]float64, t.n)
	for j, m := range t.masks {
		p := bits.OnesCount64(m)
		for i := range phi {
			if m>>uint(i)&1 != 0 {
				phi[i] += t.alpha[j] * in[p]
			} else {
				phi[i] += t.alpha[j] * out[p]
			}
		}
	}
	return phi
}

// basisShapley returns the Shapley values of the game v(S) = Πᵢ c^[i ∈ S △ M]
// for a coalition M of p players, p = 0..n: in[p] for a player of M, out[p]
// for one outside it. A player i of M adds (1 − c) times the other players'
// product, whose sum over the coalitions of size s is the coefficient of tˢ
// in (c + t)^(p−1)(1 + ct)^(n−p); so
//
//	in[p]  = (1 − c) Σₛ s!(n−s−1)!/n! [tˢ] (c + t)^(p−1) (1 + ct)^(n−p),
//	out[p] = (c − 1) Σₛ s!(n−s−1)!/n! [tˢ] (c + t)^p (1 + ct)^(n−p−1).
func basisShapley(n int, c float64) (in, out []float64) {
	// w[s] = s!(n−s−1)!/n!, by w[s+1] = w[s]·(s+1)/(n−s−1).
	w := make([]float64, n)
	w[0] = 1 / float64(n)
	for s := 0; s+1 < n; s++ {
		w[s+1] = w[s] * float64(s+1) / float64(n-s-1)
	}
	// value is Σₛ w[s]·[tˢ] (c + t)^a (1 + ct)^b, a + b = n − 1.
	value := func(a, b int) float64 {
		poly := []float64{1}
		mul := func(c0, c1 float64) {
			next := make([]float64, len(poly)+1)
			for s, v := range poly {
				next[s] += c0 * v
				next[s+1] += c1 * v
			}
			poly = next
		}
		for range a {
			mul(c, 1)
		}
		for range b {
			mul(1, c)
		}
		sum := 0.0
		for s, v := range poly {
			sum += w[s] * v
		}
		return sum
	}
	in, out = make([]float64, n+1), make([]float64, n+1)
	for p := 0; p <= n; p++ {
		if p > 0 {
			in[p] = (1 - c) * value(p-1, n-p)
		}
		if p < n {
			out[p] = (c - 1) * value(p, n-p-1)
		}
	}
	return in, out
}

// coalitionMask packs a coalition of at most 64 players into one word.
func coalitionMask(c coalition) uint64 {
	if len(c) == 0 {
		return 0
	}
	return c[0]
}
