package perturbation

import (
	"context"
	"math"
	"reflect"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
)

// referenceLIME recomputes LIME's surrogate for a game on word coalitions
// without the package's linear algebra: it redraws the rows with the same
// generator, builds lime's weights from the binary vectors (cosine distance
// to the original ×100, kernel √exp(−d²/w²)), and solves the ridge with an
// unpenalised intercept as one augmented system
// [Σw, Σwxᵀ; Σwx, XᵀWX + αI]·[b; β] = [Σwy; XᵀWy] by Gauss–Jordan elimination.
func referenceLIME(t *testing.T, seed uint64, n, samples int, width, alpha float64, v func(m uint64) float64) (coef []float64, r2 float64) {
	rows, err := newLIMESampler(explanation.NewRand(seed, "lime"), n).extend(context.Background(), nil, samples)
	if err != nil {
		t.Fatal(err)
	}
	d := n + 1
	a := make([][]float64, d)
	for i := range a {
		a[i] = make([]float64, d+1)
	}
	xs := make([][]float64, len(rows))
	ys := make([]float64, len(rows))
	ws := make([]float64, len(rows))
	for r, c := range rows {
		x := make([]float64, d)
		x[0] = 1
		var m uint64
		dot, norm := 0.0, 0.0
		for j := 0; j < n; j++ {
			if c.has(j) {
				x[j+1] = 1
				m |= 1 << uint(j)
				dot++
				norm++
			}
		}
		cos := 0.0
		if norm > 0 {
			cos = dot / (math.Sqrt(norm) * math.Sqrt(float64(n)))
		}
		dist := (1 - cos) * 100
		w := math.Sqrt(math.Exp(-dist * dist / (width * width)))
		y := v(m)
		xs[r], ys[r], ws[r] = x, y, w
		for i := 0; i < d; i++ {
			for j := 0; j < d; j++ {
				a[i][j] += w * x[i] * x[j]
			}
			a[i][d] += w * x[i] * y
		}
	}
	for j := 1; j < d; j++ {
		a[j][j] += alpha
	}
	for col := 0; col < d; col++ {
		piv := col
		for r := col + 1; r < d; r++ {
			if math.Abs(a[r][col]) > math.Abs(a[piv][col]) {
				piv = r
			}
		}
		a[col], a[piv] = a[piv], a[col]
		for r := 0; r < d; r++ {
			if r == col {
				continue
			}
			f := a[r][col] / a[col][col]
			for k := col; k <= d; k++ {
				a[r][k] -= f * a[col][k]
			}
		}
	}
	sol := make([]float64, d)
	for i := range sol {
		sol[i] = a[i][d] / a[i][i]
	}
	sw, my := 0.0, 0.0
	for r := range ys {
		sw += ws[r]
		my += ws[r] * ys[r]
	}
	my /= sw
	var res, tot float64
	for r, x := range xs {
		pred := 0.0
		for i := range x {
			pred += sol[i] * x[i]
		}
		res += ws[r] * (ys[r] - pred) * (ys[r] - pred)
		tot += ws[r] * (ys[r] - my) * (ys[r] - my)
	}
	return sol[1:], 1 - res/tot
}

func TestLIMEMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		name    string
		words   []int
		masking explanation.Masking
		lime    LIME
		v       func(m uint64) float64
	}{
		{"additive, defaults", oneTokenWords(6), explanation.MaskAttention, LIME{}, func(m uint64) float64 {
			return 0.3 + 0.5*float64(m&1) - 0.25*float64(m>>2&1) + 0.1*float64(m>>5&1)
		}},
		{"sigmoid, multi-token words, replace", multiWords, explanation.MaskReplace, LIME{Samples: 800, KernelWidth: 40, Alpha: 0.5}, sigmoidGame(4)},
		{"interaction, 9 words", oneTokenWords(9), explanation.MaskAttention, LIME{Samples: 2000}, func(m uint64) float64 {
			return float64(m&1)*float64(m>>3&1)*2 + math.Cos(float64(m))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := example(tc.words, tc.masking, 77)
			game, n := playerGame(req, true, tc.v)
			rec := &recorder{t: t, req: req, wordLevel: true, game: game}
			res, err := tc.lime.Explain(context.Background(), rec, req)
			if err != nil {
				t.Fatal(err)
			}
			l := tc.lime.withDefaults()
			coef, r2 := referenceLIME(t, req.Seed, n, l.Samples, l.KernelWidth, l.Alpha, tc.v)
			assertClose(t, "Words", res.Words, coef, 1e-9)
			if math.Abs(*res.Quality-r2) > 1e-9 {
				t.Errorf("R² = %.12g, reference %.12g", *res.Quality, r2)
			}
			assertClose(t, "WordSums(Tokens)", explanation.WordSums(res.Tokens, req.WordIDs), res.Words, 1e-12)
			for i, sp := range req.Special {
				if sp && res.Tokens[i] != 0 {
					t.Errorf("special token %d has attribution %v", i, res.Tokens[i])
				}
			}
			if rec.calls != 1 || len(rec.inputs) != res.Params["evaluations"] || len(rec.inputs) > l.Samples+1 {
				t.Errorf("calls %d, inputs %d, params %v", rec.calls, len(rec.inputs), res.Params)
			}
			if want := tc.v(0); *res.BaselineScore != want {
				t.Errorf("BaselineScore = %v, want f(∅) = %v", *res.BaselineScore, want)
			}
			if res.TargetScore != tc.v(1<<uint(n)-1) {
				t.Errorf("TargetScore = %v", res.TargetScore)
			}
			if res.Params["samples"] != l.Samples || res.Params["kernel_width"] != l.KernelWidth || res.Params["alpha"] != l.Alpha {
				t.Errorf("Params = %v", res.Params)
			}
		})
	}
}

func TestLIMEAdditiveRecovery(t *testing.T) {
	// The surrogate is linear in the same binary features as an additive game,
	// so the only error is ridge shrinkage: β − w = −α(X_cᵀWX_c + αI)⁻¹w. With
	// 4 words, 5000 rows have total kernel weight ≈ 1900 and each feature a
	// weighted variance ≈ 0.2, so the eigenvalues of X_cᵀWX_c are in the
	// hundreds and coefficients shrink by well under 1% (≈ 0.3% here); 0.01
	// (1.25% of the largest word value) bounds it. The fit is otherwise exact,
	// so R² is ≈ 1.
	for _, masking := range []explanation.Masking{explanation.MaskAttention, explanation.MaskReplace} {
		req := example(multiWords, masking, 5)
		w := terms(req)
		rec := &recorder{t: t, req: req, wordLevel: true, game: additive(w, 0.1)}
		res, err := LIME{}.Explain(context.Background(), rec, req)
		if err != nil {
			t.Fatal(err)
		}
		want := explanation.WordSums(w, req.WordIDs)
		assertClose(t, string(masking)+" Words", res.Words, want, 0.01)
		if *res.Quality < 0.999 {
			t.Errorf("%s: R² = %v", masking, *res.Quality)
		}
	}
}

func TestLIMESamplingAndDeterminism(t *testing.T) {
	rows, err := newLIMESampler(explanation.NewRand(1, "lime"), 5).extend(context.Background(), nil, 4000)
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].size() != 5 {
		t.Fatal("first row is not the original")
	}
	// Removed counts are uniform on 1..5, as lime's randint(1, n+1).
	hist := make([]int, 6)
	for _, c := range rows[1:] {
		hist[5-c.size()]++
	}
	if hist[0] != 0 {
		t.Errorf("%d perturbed rows removed nothing", hist[0])
	}
	for k := 1; k <= 5; k++ {
		// 3999/5 ≈ 800 each; 5 standard deviations ≈ 126.
		if math.Abs(float64(hist[k])-3999.0/5) > 126 {
			t.Errorf("removed %d words in %d rows, want ≈ 800", k, hist[k])
		}
	}

	run := func(seed uint64) explanation.Result {
		req := example(multiWords, explanation.MaskAttention, seed)
		game, _ := playerGame(req, true, sigmoidGame(4))
		res, err := LIME{Samples: 300}.Explain(context.Background(), &recorder{t: t, req: req, wordLevel: true, game: game}, req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b, c := run(8), run(8), run(9)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed gave different results")
	}
	if reflect.DeepEqual(a.Words, c.Words) {
		t.Error("different seeds gave identical coefficients")
	}
}

func TestLIMESmall(t *testing.T) {
	// No words: nothing to fit. One word: the surrogate has one feature.
	req := example([]int{-1, -1}, explanation.MaskAttention, 0)
	rec := &recorder{t: t, req: req, wordLevel: true, game: additive([]float64{1, 1}, 0)}
	res, err := LIME{}.Explain(context.Background(), rec, req)
	if err != nil || res.Quality != nil || len(res.Words) != 0 || rec.calls != 1 || len(rec.inputs) != 1 {
		t.Errorf("no words: %+v, %v, calls %d", res, err, rec.calls)
	}
	req = example([]int{-1, 0, 0, -1}, explanation.MaskAttention, 0)
	game, _ := playerGame(req, true, func(m uint64) float64 { return 0.8 * float64(m) })
	rec = &recorder{t: t, req: req, wordLevel: true, game: game}
	res, err = LIME{Samples: 100}.Explain(context.Background(), rec, req)
	if err != nil {
		t.Fatal(err)
	}
	coef, _ := referenceLIME(t, 0, 1, 100, 25, 1, func(m uint64) float64 { return 0.8 * float64(m) })
	assertClose(t, "Words", res.Words, coef, 1e-9)
	assertClose(t, "Tokens", res.Tokens, []float64{0, coef[0] / 2, coef[0] / 2, 0}, 1e-12)
	if len(rec.inputs) != 2 {
		t.Errorf("one word has 2 coalitions, scored %d", len(rec.inputs))
	}
}
