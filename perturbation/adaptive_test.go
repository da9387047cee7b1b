package perturbation

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/glassbox-ai/glassbox/explanation"
)

func TestKernelStrataWeights(t *testing.T) {
	// Whatever the budget, every size's weights add up to its exact Shapley-kernel
	// mass, no coalition is held twice, every stratum holds whole pairs, and the
	// budget is not exceeded.
	for _, n := range []int{5, 8, 11, 14} {
		for _, budget := range []int{20, 100, 333, 1000} {
			ev := newEvaluator()
			ev.add(fullCoalition(n))
			ev.add(newCoalition(n))
			k := newKernelStrata(n, ev, rand.New(rand.NewPCG(uint64(n), uint64(budget))))
			for _, b := range []int{budget / 3, budget} { // grown in two rounds
				if _, err := k.grow(context.Background(), b); err != nil {
					t.Fatal(err)
				}
			}
			if got := len(ev.sets) - 2; got > budget && got > (1<<uint(n))-2 {
				t.Errorf("n=%d budget %d: %d coalitions", n, budget, got)
			}
			bySize := make([]float64, n+1)
			for i, w := range k.weights() {
				bySize[ev.sets[i+2].size()] += w
			}
			for z := 1; z < n; z++ {
				s := min(z, n-z)
				if k.held[s-1] > 0 && math.Abs(bySize[z]-sizeMass(n, z)) > 1e-12*sizeMass(n, z) {
					t.Errorf("n=%d budget %d: size %d weighs %v, want %v", n, budget, z, bySize[z], sizeMass(n, z))
				}
			}
			if len(ev.index) != len(ev.sets) {
				t.Errorf("n=%d budget %d: duplicate coalitions", n, budget)
			}
		}
	}
}

func TestKernelSHAPStdErrorsTrackErrors(t *testing.T) {
	// On a game outside the surrogate's form (third-order terms inside the
	// sigmoid), the leave-one-out standard errors must be of the size of the actual
	// errors: over 30 seeded runs the mean squared z-score is within a factor 3 of 1.
	const n = 12
	game := func(m uint64) float64 {
		s := -0.2
		for i := 0; i < n; i++ {
			if m>>uint(i)&1 == 1 {
				s += 1.1 * math.Sin(float64(2*i+1))
				for j := i + 1; j < n; j++ {
					for l := j + 1; l < n; l++ {
						if m>>uint(j)&1 == 1 && m>>uint(l)&1 == 1 {
							s += 0.08 * math.Cos(float64(3*i+5*j+7*l))
						}
					}
				}
			}
		}
		return 1 / (1 + math.Exp(-s))
	}
	want := bruteShapley(n, game)
	z2, count := 0.0, 0
	for seed := uint64(1); seed <= 30; seed++ {
		req := example(oneTokenWords(n), explanation.MaskAttention, seed)
		req.Link = explanation.LinkLogit
		g, _ := playerGame(req, false, game)
		res, err := KernelSHAP{Samples: 300}.Explain(context.Background(), &recorder{t: t, req: req, game: g}, req)
		if err != nil {
			t.Fatal(err)
		}
		for p := 0; p < n; p++ {
			e, se := res.Tokens[p+1]-want[p], res.TokenStdErrors[p+1]
			if se > 0 {
				z2 += e * e / (se * se)
				count++
			}
		}
	}
	if m := z2 / float64(count); m < 1.0/3 || m > 3 {
		t.Errorf("mean squared z-score %.3g over %d values, want ≈ 1", m, count)
	} else {
		t.Logf("mean squared z-score %.3g over %d values", m, count)
	}
}

func TestLIMEAdaptiveIsAPrefixOfTheFixedBudget(t *testing.T) {
	// Rows come from one stream: stopping early gives exactly the fit of a fixed
	// budget of the rows used, and an easy (additive) game stops early.
	req := example(oneTokenWords(10), explanation.MaskAttention, 3)
	w := terms(req)
	rec := &recorder{t: t, req: req, wordLevel: true, game: additive(w, 0.2)}
	adaptive, err := LIME{Tolerance: 0.01}.Explain(context.Background(), rec, req)
	if err != nil {
		t.Fatal(err)
	}
	rows := adaptive.Params["rows"].(int)
	if rows >= defaultLIMESamples || adaptive.Params["rounds"].(int) < 1 {
		t.Fatalf("adaptive LIME used %d rows in %v rounds", rows, adaptive.Params["rounds"])
	}
	fixed, err := LIME{Samples: rows}.Explain(context.Background(), &recorder{t: t, req: req, wordLevel: true, game: additive(w, 0.2)}, req)
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "Words", adaptive.Words, fixed.Words, 0)
	if adaptive.Params["max_std_error"].(float64) > 0.01*math.Abs(adaptive.TargetScore-*adaptive.BaselineScore)+1e-300 &&
		adaptive.Params["max_std_error"].(float64) > 0.01*maxAbs(adaptive.Words) {
		t.Errorf("stopped with max std error %v", adaptive.Params["max_std_error"])
	}
}

func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

func TestRidgeSandwichStdErrors(t *testing.T) {
	// The HC0 standard errors equal a direct evaluation of
	// (X̃ᵀWX̃ + αI)⁻¹ (Σ w² r² x̃x̃ᵀ) (X̃ᵀWX̃ + αI)⁻¹ with explicit inverses.
	r := rand.New(rand.NewPCG(4, 2))
	const nf, k, alpha = 4, 60, 0.7
	x := make([]coalition, k)
	y := make([]float64, k)
	w := make([]float64, k)
	for i := range x {
		x[i] = newCoalition(nf)
		for j := 0; j < nf; j++ {
			if r.IntN(2) == 1 {
				x[i].set(j)
			}
		}
		y[i] = r.NormFloat64()
		w[i] = 0.1 + r.Float64()
	}
	fit, err := weightedRidge(x, y, w, nf, alpha)
	if err != nil {
		t.Fatal(err)
	}
	sumW, mean := 0.0, make([]float64, nf)
	for i, c := range x {
		sumW += w[i]
		for j := 0; j < nf; j++ {
			if c.has(j) {
				mean[j] += w[i]
			}
		}
	}
	for j := range mean {
		mean[j] /= sumW
	}
	g := mat.NewDense(nf, nf, nil)
	meat := mat.NewDense(nf, nf, nil)
	for i, c := range x {
		xc := make([]float64, nf)
		pred := fit.intercept
		for j := 0; j < nf; j++ {
			if c.has(j) {
				xc[j] = 1
				pred += fit.coef[j]
			}
			xc[j] -= mean[j]
		}
		res := y[i] - pred
		for a := 0; a < nf; a++ {
			for b := 0; b < nf; b++ {
				g.Set(a, b, g.At(a, b)+w[i]*xc[a]*xc[b])
				meat.Set(a, b, meat.At(a, b)+w[i]*w[i]*res*res*xc[a]*xc[b])
			}
		}
	}
	for a := 0; a < nf; a++ {
		g.Set(a, a, g.At(a, a)+alpha)
	}
	var gi, cov mat.Dense
	if err := gi.Inverse(g); err != nil {
		t.Fatal(err)
	}
	cov.Product(&gi, meat, &gi)
	for j := 0; j < nf; j++ {
		if want := math.Sqrt(cov.At(j, j)); math.Abs(fit.se[j]-want) > 1e-12*want {
			t.Errorf("se[%d] = %v, want %v", j, fit.se[j], want)
		}
	}
}

func TestSurrogateShapley(t *testing.T) {
	// φ(g) by the table recurrence equals brute-force Shapley values of g.at.
	r := rand.New(rand.NewPCG(9, 9))
	const n = 9
	g := &surrogate{n: n, b0: 0.3, a: make([]float64, n), pairOf: make([]int, n)}
	_, g.inv, _, _ = linkFuncs(explanation.LinkLogit)
	for i := range g.a {
		g.a[i] = r.NormFloat64()
		g.pairOf[i] = -1
	}
	g.top = []int{1, 3, 4, 6}
	g.pairs = make([][]float64, len(g.top))
	for u, p := range g.top {
		g.pairOf[p] = u
		g.pairs[u] = make([]float64, len(g.top))
		for v := u + 1; v < len(g.top); v++ {
			g.pairs[u][v] = 0.5 * r.NormFloat64()
		}
	}
	want := bruteShapley(n, func(m uint64) float64 {
		c := newCoalition(n)
		for i := 0; i < n; i++ {
			if m>>uint(i)&1 == 1 {
				c.set(i)
			}
		}
		return g.at(c)
	})
	assertClose(t, "exact φ(g)", g.exactShapley(), want, 1e-12)
}

func TestLinkDerivatives(t *testing.T) {
	// dinv is the derivative of inv (central differences), and h inverts inv.
	for _, l := range []explanation.Link{explanation.LinkLogit, explanation.LinkLogProb} {
		h, inv, dinv, ok := linkFuncs(l)
		if !ok {
			t.Fatal(l)
		}
		for _, z := range []float64{-30, -3, -0.5, 0, 0.7, 4, 25} {
			const e = 1e-6
			if fd := (inv(z+e) - inv(z-e)) / (2 * e); math.Abs(fd-dinv(z)) > 1e-7 {
				t.Errorf("%s: dinv(%v) = %v, central difference %v", l, z, dinv(z), fd)
			}
			if math.Abs(z) < 20 && math.Abs(h(inv(z))-z) > 1e-8 {
				t.Errorf("%s: h(inv(%v)) = %v", l, z, h(inv(z)))
			}
		}
	}
}
