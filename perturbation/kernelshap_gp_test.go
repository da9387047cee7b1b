package perturbation

import (
	"context"
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/glassbox-ai/glassbox/explanation"
)

func TestBasisShapley(t *testing.T) {
	// The closed form equals brute-force Shapley values of Πᵢ c^[i ∈ S △ M].
	for n := 1; n <= 7; n++ {
		for _, c := range []float64{0.05, 0.55, 0.9} {
			in, out := basisShapley(n, c)
			for m := uint64(0); m < 1<<uint(n); m += 3 {
				want := bruteShapley(n, func(s uint64) float64 { return math.Pow(c, float64(bits.OnesCount64(s^m))) })
				for i := 0; i < n; i++ {
					got := out[bits.OnesCount64(m)]
					if m>>uint(i)&1 != 0 {
						got = in[bits.OnesCount64(m)]
					}
					if math.Abs(got-want[i]) > 1e-13 {
						t.Errorf("n=%d c=%v M=%b player %d: %v, want %v", n, c, m, i, got, want[i])
					}
				}
			}
		}
	}
}

func TestKernelRidge(t *testing.T) {
	// T's Shapley values equal brute force over its predictions, its
	// leave-one-out residuals equal refits without the row, and its fitted
	// values equal its predictions at the training rows.
	const n = 8
	r := rand.New(rand.NewPCG(8, 1))
	rows := 90
	masks := make([]uint64, rows)
	y := make([]float64, rows)
	game := func(m uint64) float64 {
		v := 0.3 * float64(bits.OnesCount64(m&0x0f))
		if m&5 == 5 && m&0x40 == 0 {
			v += 0.8
		}
		return v
	}
	for i := range masks {
		masks[i] = r.Uint64() & (1<<n - 1)
		y[i] = game(masks[i]) + 0.05*r.NormFloat64()
	}
	tr, ok := fitKernelRidge(masks, y, n)
	if !ok {
		t.Fatal("fit failed")
	}
	assertClose(t, "φ(T)", tr.exactShapley(), bruteShapley(n, tr.at), 1e-12)
	for i := 0; i < rows; i += 11 {
		if got, want := tr.fitted(i, y[i]), tr.at(masks[i]); math.Abs(got-want) > 1e-10 {
			t.Errorf("fitted(%d) = %v, at = %v", i, got, want)
		}
		// Refit without row i at the chosen (γ, λ).
		var km []uint64
		var ky []float64
		for j := range masks {
			if j != i {
				km, ky = append(km, masks[j]), append(ky, y[j])
			}
		}
		a := mat.NewSymDense(len(km), nil)
		for p := range km {
			for q := p; q < len(km); q++ {
				v := tr.decay[bits.OnesCount64(km[p]^km[q])]
				if p == q {
					v += tr.lambda
				}
				a.SetSym(p, q, v)
			}
		}
		var alpha mat.VecDense
		var chol mat.Cholesky
		if !chol.Factorize(a) || chol.SolveVecTo(&alpha, mat.NewVecDense(len(ky), ky)) != nil {
			t.Fatal("refit failed")
		}
		pred := 0.0
		for p, m := range km {
			pred += alpha.AtVec(p) * tr.decay[bits.OnesCount64(masks[i]^m)]
		}
		if want := y[i] - pred; math.Abs(tr.loo[i]-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("loo[%d] = %v, refit without it gives %v", i, tr.loo[i], want)
		}
	}
}

func TestLeverages(t *testing.T) {
	// hᵢᵢ is the derivative of row i's fitted value in its own target, by
	// finite differences of the ridge solve.
	r := rand.New(rand.NewPCG(5, 5))
	const rows, p = 40, 6
	x := mat.NewDense(rows, p, nil)
	w := make([]float64, rows)
	tgt := make([]float64, rows)
	for i := range w {
		for j := 0; j < p; j++ {
			x.Set(i, j, r.NormFloat64())
		}
		w[i] = 0.2 + r.Float64()
		tgt[i] = r.NormFloat64()
	}
	h, ok := leverages(x, w, 2, 0.3)
	if !ok {
		t.Fatal("leverages failed")
	}
	fitted := func(i int) float64 {
		beta, ok := weightedRidgeSolve(x, w, tgt, 2, 0.3)
		if !ok {
			t.Fatal("solve failed")
		}
		return mat.Dot(x.RowView(i), beta)
	}
	for i := 0; i < rows; i += 7 {
		const d = 1e-3
		base := fitted(i)
		tgt[i] += d
		up := fitted(i)
		tgt[i] -= d
		if fd := (up - base) / d; math.Abs(fd-h[i]) > 1e-9 {
			t.Errorf("h[%d] = %v, finite difference %v", i, h[i], fd)
		}
	}
}

func TestKernelRidgeRowCap(t *testing.T) {
	// Beyond gpMaxRows coalitions the kernel ridge is skipped (its system
	// grows as rows²) and the surrogate alone remains.
	const n = 14
	for _, tc := range []struct {
		samples int
		control string
	}{{gpMaxRows, "surrogate-logit+kernel-ridge"}, {gpMaxRows + 2, "surrogate-logit"}} {
		req := example(oneTokenWords(n), explanation.MaskAttention, 1)
		req.Link = explanation.LinkLogit
		game, _ := playerGame(req, false, sigmoidPairsGame(n))
		res, err := KernelSHAP{Samples: tc.samples}.Explain(context.Background(), &recorder{t: t, req: req, game: game}, req)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Params["control_variate"]; got != tc.control {
			t.Errorf("samples %d: control_variate %v, want %s", tc.samples, got, tc.control)
		}
	}
}
