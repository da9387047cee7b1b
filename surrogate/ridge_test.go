package surrogate

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// closeTo reports |got − want| ≤ tol·max(|want|, floor).
func closeTo(got, want, tol, floor float64) bool {
	return math.Abs(got-want) <= tol*math.Max(math.Abs(want), floor)
}

// bowData returns n sparse binary rows over p features (word presence) or, with counts, small counts.
func bowData(r *rand.Rand, n, p int, counts bool) []Row {
	rates := make([]float64, p)
	for j := range rates {
		rates[j] = 0.05 + 0.45*r.Float64()
	}
	rows := make([]Row, n)
	for i := range rows {
		row := Row{Index: []int{}, Value: []float64{}}
		for j := 0; j < p; j++ {
			if r.Float64() < rates[j] {
				v := 1.0
				if counts {
					v = float64(1 + r.IntN(4))
				}
				row.Index, row.Value = append(row.Index, j), append(row.Value, v)
			}
		}
		rows[i] = row
	}
	return rows
}

// probeData returns n dense rows of dimension d with an offset per dimension, like pooled hidden states.
func probeData(r *rand.Rand, n, d int) []Row {
	off := make([]float64, d)
	for j := range off {
		off[j] = 3 * r.NormFloat64()
	}
	rows := make([]Row, n)
	for i := range rows {
		x := make([]float64, d)
		for j := range x {
			x[j] = off[j] + r.NormFloat64()
		}
		rows[i] = Dense(x)
	}
	return rows
}

func linearTarget(r *rand.Rand, rows []Row, p int, noise float64) []float64 {
	w := make([]float64, p)
	for j := range w {
		w[j] = r.NormFloat64()
	}
	y := make([]float64, len(rows))
	for i, row := range rows {
		y[i] = 0.7 + row.Dot(w) + noise*r.NormFloat64()
	}
	return y
}

func denseMatrix(rows []Row, p int) *mat.Dense {
	x := mat.NewDense(len(rows), p, nil)
	for i, row := range rows {
		for j := 0; j < p; j++ {
			x.Set(i, j, row.At(j))
		}
	}
	return x
}

// directRidge solves the penalised normal equations of [1 X] with penalty diag(0, α, …, α) by LU, and the sandwich standard errors on the dense centred matrix.
func directRidge(t *testing.T, rows []Row, y []float64, p int, alpha float64) Linear {
	t.Helper()
	n := len(rows)
	x := denseMatrix(rows, p)
	xa := mat.NewDense(n, p+1, nil)
	for i := 0; i < n; i++ {
		xa.Set(i, 0, 1)
		for j := 0; j < p; j++ {
			xa.Set(i, j+1, x.At(i, j))
		}
	}
	var g mat.Dense
	g.Mul(xa.T(), xa)
	for j := 1; j <= p; j++ {
		g.Set(j, j, g.At(j, j)+alpha)
	}
	var rhs, beta mat.VecDense
	yv := mat.NewVecDense(n, y)
	rhs.MulVec(xa.T(), yv)
	if err := beta.SolveVec(&g, &rhs); err != nil {
		t.Fatal(err)
	}
	out := Linear{Intercept: beta.AtVec(0), Coef: make([]float64, p), CoefSE: make([]float64, p), N: int64(n)}
	for j := range out.Coef {
		out.Coef[j] = beta.AtVec(j + 1)
	}
	var fit mat.VecDense
	fit.MulVec(xa, &beta)
	for i := 0; i < n; i++ {
		out.RSS += (y[i] - fit.AtVec(i)) * (y[i] - fit.AtVec(i))
	}
	out.Sigma2 = out.RSS / float64(n-p-1)
	xbar := make([]float64, p)
	xc := mat.NewDense(n, p, nil)
	for j := 0; j < p; j++ {
		xbar[j] = mat.Sum(x.ColView(j)) / float64(n)
		for i := 0; i < n; i++ {
			xc.Set(i, j, x.At(i, j)-xbar[j])
		}
	}
	var c, a, ainv, v mat.Dense
	c.Mul(xc.T(), xc)
	a.CloneFrom(&c)
	for j := 0; j < p; j++ {
		a.Set(j, j, a.At(j, j)+alpha)
	}
	if err := ainv.Inverse(&a); err != nil {
		t.Fatal(err)
	}
	v.Product(&ainv, &c, &ainv)
	v.Scale(out.Sigma2, &v)
	for j := range out.CoefSE {
		out.CoefSE[j] = math.Sqrt(v.At(j, j))
	}
	xb := mat.NewVecDense(p, xbar)
	out.InterceptSE = math.Sqrt(out.Sigma2/float64(n) + mat.Inner(xb, &v, xb))
	return out
}

func compareLinear(t *testing.T, name string, got, want Linear, tol float64) {
	t.Helper()
	scale := 0.0
	for _, w := range want.Coef {
		scale = math.Max(scale, math.Abs(w))
	}
	if !closeTo(got.Intercept, want.Intercept, tol, scale) {
		t.Errorf("%s: intercept %v, want %v", name, got.Intercept, want.Intercept)
	}
	for j := range want.Coef {
		if !closeTo(got.Coef[j], want.Coef[j], tol, 1e-3*scale) {
			t.Errorf("%s: coef[%d] %v, want %v", name, j, got.Coef[j], want.Coef[j])
		}
	}
	if want.CoefSE == nil {
		return
	}
	if !closeTo(got.RSS, want.RSS, tol, 0) || !closeTo(got.Sigma2, want.Sigma2, tol, 0) {
		t.Errorf("%s: RSS %v σ² %v, want %v %v", name, got.RSS, got.Sigma2, want.RSS, want.Sigma2)
	}
	if !closeTo(got.InterceptSE, want.InterceptSE, tol, 0) {
		t.Errorf("%s: intercept SE %v, want %v", name, got.InterceptSE, want.InterceptSE)
	}
	for j := range want.CoefSE {
		if !closeTo(got.CoefSE[j], want.CoefSE[j], tol, 0) {
			t.Errorf("%s: SE[%d] %v, want %v", name, j, got.CoefSE[j], want.CoefSE[j])
		}
	}
}

// shardedRidge accumulates rows shuffled into k shards and merges the shards in a shuffled order.
func shardedRidge(t *testing.T, r *rand.Rand, rows []Row, y []float64, p, k int) RidgeAcc {
	t.Helper()
	shards := make([]RidgeAcc, k)
	for s := range shards {
		shards[s] = NewRidgeAcc(p)
	}
	for _, i := range r.Perm(len(rows)) {
		if err := shards[r.IntN(k)].Add(rows[i], y[i]); err != nil {
			t.Fatal(err)
		}
	}
	var out RidgeAcc
	for _, s := range r.Perm(k) {
		if err := out.Merge(shards[s]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestRidgeMatchesDirectSolve(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	tests := []struct {
		name  string
		rows  []Row
		p     int
		alpha float64
	}{
		{"binary words", bowData(r, 400, 30, false), 30, 1},
		{"counts", bowData(r, 300, 20, true), 20, 0.5},
		{"probe", probeData(r, 250, 16), 16, 2},
		{"ols probe", probeData(r, 120, 8), 8, 0},
	}
	for _, tc := range tests {
		y := linearTarget(r, tc.rows, tc.p, 0.5)
		var ref RidgeAcc
		if tc.rows[0].IsDense() {
			ref = RidgeAcc{} // the zero value sizes itself from a dense row
		} else {
			ref = NewRidgeAcc(tc.p)
		}
		for i, row := range tc.rows {
			if err := ref.Add(row, y[i]); err != nil {
				t.Fatal(err)
			}
		}
		got, err := ref.Fit(tc.alpha)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		compareLinear(t, tc.name, got, directRidge(t, tc.rows, y, tc.p, tc.alpha), 1e-8)
		if pred := got.Predict(tc.rows[0]); !closeTo(pred, got.Intercept+tc.rows[0].Dot(got.Coef), 1e-15, 1) {
			t.Errorf("%s: Predict %v", tc.name, pred)
		}
		for _, k := range []int{1, 3, 7} {
			acc := shardedRidge(t, r, tc.rows, y, tc.p, k)
			if !reflect.DeepEqual(acc, ref) {
				t.Fatalf("%s: %d shards give a different accumulator", tc.name, k)
			}
			fit, err := acc.Fit(tc.alpha)
			if err != nil || !reflect.DeepEqual(fit, got) {
				t.Fatalf("%s: %d shards give a different fit (%v)", tc.name, k, err)
			}
		}
	}
}

func TestRidgeEdgeCases(t *testing.T) {
	acc := NewRidgeAcc(3)
	if _, err := acc.Fit(1); err == nil {
		t.Error("Fit of an empty accumulator succeeded")
	}
	// Too few rows for standard errors: NaN, coefficients still defined.
	acc.Add(Row{Index: []int{0}, Value: []float64{1}}, 2)
	acc.Add(Row{Index: []int{1, 2}, Value: []float64{1, 1}}, -1)
	fit, err := acc.Fit(1)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(fit.CoefSE[0]) || !math.IsNaN(fit.InterceptSE) || !math.IsNaN(fit.Sigma2) {
		t.Errorf("SEs with n ≤ p+1: %+v", fit)
	}
	// Two rows, one feature (0 then 1), α=1: centred C = 0.5, s = −1.5, w = −1, b = ȳ − x̄w = 1, RSS = 1² + 1².
	one := NewRidgeAcc(1)
	one.Add(Row{}, 2)
	one.Add(Row{Index: []int{0}, Value: []float64{1}}, -1)
	fit, _ = one.Fit(1)
	if !closeTo(fit.Coef[0], -1, 1e-14, 0) || !closeTo(fit.Intercept, 1, 1e-14, 0) || !closeTo(fit.RSS, 2, 1e-14, 0) {
		t.Errorf("hand fit: w %v b %v RSS %v, want -1, 1, 2", fit.Coef[0], fit.Intercept, fit.RSS)
	}
	// A non-finite target is counted, and Fit refuses.
	one.Add(Row{}, math.Inf(1))
	if one.NonFinite != 1 || one.N != 2 {
		t.Errorf("NonFinite %d N %d", one.NonFinite, one.N)
	}
	if _, err := one.Fit(1); err == nil {
		t.Error("Fit with a non-finite row succeeded")
	}
	if err := one.Add(Row{Index: []int{5}, Value: []float64{1}}, 0); err == nil {
		t.Error("out-of-range index accepted")
	}
	if err := one.Merge(NewRidgeAcc(2)); err != nil {
		t.Errorf("merging an empty accumulator: %v", err)
	}
	two := NewRidgeAcc(2)
	two.Add(Row{}, 1)
	if err := one.Merge(two); err == nil {
		t.Error("merged accumulators of different sizes")
	}
	// Collinear features without penalty: OLS fails cleanly.
	col := NewRidgeAcc(2)
	for i := 0; i < 5; i++ {
		v := float64(i % 2)
		col.Add(Dense([]float64{v, v}), float64(i))
	}
	if _, err := col.Fit(0); err == nil {
		t.Error("OLS on collinear features succeeded")
	}
}

func TestElasticNetRidgeLimit(t *testing.T) {
	// With l1Ratio 0 the elastic net objective is ridge with λ = n·α.
	r := rand.New(rand.NewPCG(12, 13))
	rows := bowData(r, 200, 12, false)
	y := linearTarget(r, rows, 12, 0.3)
	acc := NewRidgeAcc(12)
	for i, row := range rows {
		acc.Add(row, y[i])
	}
	en, err := acc.FitElasticNet(0.01, 0, 100000, 1e-14)
	if err != nil {
		t.Fatal(err)
	}
	ridge, _ := acc.Fit(0.01 * 200)
	compareLinear(t, "elastic net l1Ratio 0", en, Linear{Intercept: ridge.Intercept, Coef: ridge.Coef}, 1e-9)
	if !closeTo(en.RSS, ridge.RSS, 1e-9, 0) {
		t.Errorf("RSS %v, want %v", en.RSS, ridge.RSS)
	}
}
