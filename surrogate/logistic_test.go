package surrogate

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// classLabels draws labels from a softmax (or logistic) model linear in the rows.
func classLabels(r *rand.Rand, rows []Row, p, classes int) []int {
	w := make([][]float64, classes)
	for c := range w {
		w[c] = make([]float64, p)
		for j := range w[c] {
			w[c][j] = r.NormFloat64()
		}
	}
	y := make([]int, len(rows))
	for i, row := range rows {
		best, bestZ := 0, math.Inf(-1)
		for c := range w {
			// Gumbel-max sampling from the softmax.
			z := row.Dot(w[c]) - math.Log(-math.Log(r.Float64()))
			if z > bestZ {
				best, bestZ = c, z
			}
		}
		y[i] = best
	}
	return y
}

// directLogistic runs Newton's method on the dense design [1 X] with gonum; for C > 2 classes the last intercept is fixed at 0 (which makes the Hessian nonsingular) and the intercepts are centred at the end.
func directLogistic(t *testing.T, rows []Row, y []int, p, classes int, alpha float64) (b []float64, w [][]float64) {
	t.Helper()
	n, q := len(rows), p+1
	x := denseMatrix(rows, p)
	L := classes
	if classes == 2 {
		L = 1
	}
	free := L * q
	if L > 1 {
		free-- // θ index (L−1)·q is the fixed intercept
	}
	pos := func(l, a int) int { // position of (logit l, coordinate a) among the free parameters, −1 if fixed
		if L > 1 && l == L-1 && a == 0 {
			return -1
		}
		k := l*q + a
		if L > 1 && l == L-1 {
			k--
		}
		return k
	}
	theta := make([]float64, L*q)
	xt := func(i, a int) float64 {
		if a == 0 {
			return 1
		}
		return x.At(i, a-1)
	}
	for it := 0; it < 100; it++ {
		g := mat.NewVecDense(free, nil)
		h := mat.NewDense(free, free, nil)
		for i := 0; i < n; i++ {
			z := make([]float64, L)
			for l := range z {
				for a := 0; a < q; a++ {
					z[l] += theta[l*q+a] * xt(i, a)
				}
			}
			mu, res, wt := make([]float64, L), make([]float64, L), make([][]float64, L)
			if L == 1 {
				mu[0] = 1 / (1 + math.Exp(-z[0]))
				res[0] = mu[0] - float64(y[i])
				wt[0] = []float64{mu[0] * (1 - mu[0])}
			} else {
				mx, s := z[0], 0.0
				for _, v := range z {
					mx = math.Max(mx, v)
				}
				for l := range z {
					mu[l] = math.Exp(z[l] - mx)
					s += mu[l]
				}
				for l := range mu {
					mu[l] /= s
					res[l] = mu[l]
				}
				res[y[i]]--
				for l := range wt {
					wt[l] = make([]float64, L)
					for m := range wt[l] {
						wt[l][m] = -mu[l] * mu[m]
					}
					wt[l][l] += mu[l]
				}
			}
			for l := 0; l < L; l++ {
				for a := 0; a < q; a++ {
					k := pos(l, a)
					if k < 0 {
						continue
					}
					g.SetVec(k, g.AtVec(k)+res[l]*xt(i, a))
					for m := 0; m < L; m++ {
						for bb := 0; bb < q; bb++ {
							if kk := pos(m, bb); kk >= 0 {
								h.Set(k, kk, h.At(k, kk)+wt[l][m]*xt(i, a)*xt(i, bb))
							}
						}
					}
				}
			}
		}
		for l := 0; l < L; l++ {
			for a := 1; a < q; a++ {
				k := pos(l, a)
				g.SetVec(k, g.AtVec(k)+alpha*theta[l*q+a])
				h.Set(k, k, h.At(k, k)+alpha)
			}
		}
		var d mat.VecDense
		if err := d.SolveVec(h, g); err != nil {
			t.Fatal(err)
		}
		step := 0.0
		for l := 0; l < L; l++ {
			for a := 0; a < q; a++ {
				if k := pos(l, a); k >= 0 {
					theta[l*q+a] -= d.AtVec(k)
					step = math.Max(step, math.Abs(d.AtVec(k)))
				}
			}
		}
		if step < 1e-14 {
			break
		}
	}
	b, w = make([]float64, L), make([][]float64, L)
	mean := 0.0
	for l := range b {
		b[l] = theta[l*q]
		mean += b[l] / float64(L)
		w[l] = theta[l*q+1 : (l+1)*q]
	}
	if L > 1 {
		for l := range b {
			b[l] -= mean
		}
	}
	return b, w
}

func compareLogistic(t *testing.T, name string, m Logistic, b []float64, w [][]float64, tol float64) {
	t.Helper()
	scale := 0.0
	for _, row := range w {
		for _, v := range row {
			scale = math.Max(scale, math.Abs(v))
		}
	}
	for l := range b {
		if !closeTo(m.Intercept[l], b[l], tol, scale) {
			t.Errorf("%s: intercept[%d] %v, want %v", name, l, m.Intercept[l], b[l])
		}
		for j := range w[l] {
			if !closeTo(m.Coef[l][j], w[l][j], tol, 1e-3*scale) {
				t.Errorf("%s: coef[%d][%d] %v, want %v", name, l, j, m.Coef[l][j], w[l][j])
			}
		}
	}
}

// shardedLogistic fits like FitLogisticInMemory but accumulates every pass in k shuffled shards, checking each pass's accumulator against the unsharded one.
func shardedLogistic(t *testing.T, r *rand.Rand, rows []Row, y []int, p, classes, k int, alpha float64) Logistic {
	t.Helper()
	m, _ := NewLogistic(p, classes)
	for pass := 0; pass < 100; pass++ {
		var whole LogisticAcc
		for i, row := range rows {
			whole.Add(&m, row, y[i])
		}
		shards := make([]LogisticAcc, k)
		for _, i := range r.Perm(len(rows)) {
			if err := shards[r.IntN(k)].Add(&m, rows[i], y[i]); err != nil {
				t.Fatal(err)
			}
		}
		var acc LogisticAcc
		for _, s := range r.Perm(k) {
			if err := acc.Merge(shards[s]); err != nil {
				t.Fatal(err)
			}
		}
		if !reflect.DeepEqual(acc, whole) {
			t.Fatalf("pass %d: %d shards give a different accumulator", pass, k)
		}
		next, done, err := m.Step(acc, alpha, 1e-12)
		if err != nil {
			t.Fatal(err)
		}
		m = next
		if done {
			return m
		}
	}
	t.Fatal("sharded fit did not converge")
	return m
}

func TestLogisticMatchesDirectNewton(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 21))
	tests := []struct {
		name    string
		rows    []Row
		p       int
		classes int
		alpha   float64
	}{
		{"binary words", bowData(r, 300, 15, false), 15, 2, 1},
		{"binary probe", probeData(r, 200, 6), 6, 2, 0.1},
		{"multinomial words", bowData(r, 300, 10, false), 10, 3, 1},
		{"multinomial counts", bowData(r, 250, 8, true), 8, 4, 0.5},
	}
	for _, tc := range tests {
		y := classLabels(r, tc.rows, tc.p, tc.classes)
		got, err := FitLogisticInMemory(tc.rows, y, tc.p, tc.classes, tc.alpha, 100, 1e-12)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		b, w := directLogistic(t, tc.rows, y, tc.p, tc.classes, tc.alpha)
		compareLogistic(t, tc.name, got, b, w, 1e-8)
		if tc.classes > 2 {
			s := 0.0
			for _, v := range got.Intercept {
				s += v
			}
			if math.Abs(s) > 1e-12 {
				t.Errorf("%s: intercepts sum to %v", tc.name, s)
			}
		}
		for _, k := range []int{1, 3, 7} {
			if m := shardedLogistic(t, r, tc.rows, y, tc.p, tc.classes, k, tc.alpha); !reflect.DeepEqual(m, got) {
				t.Fatalf("%s: %d shards give a different model", tc.name, k)
			}
		}
	}
}

func TestLogisticPredict(t *testing.T) {
	m := Logistic{P: 2, Classes: 3, Intercept: []float64{0.5, -0.25, -0.25}, Coef: [][]float64{{1, 0}, {0, 2}, {-1, -2}}}
	x := Row{Index: []int{1}, Value: []float64{0.5}} // logits 0.5, 0.75, −1.25
	pr := m.Prob(x)
	z := []float64{0.5, 0.75, -1.25}
	den := math.Exp(z[0]) + math.Exp(z[1]) + math.Exp(z[2])
	for c := range z {
		if !closeTo(pr[c], math.Exp(z[c])/den, 1e-15, 0) {
			t.Errorf("P(%d) = %v, want %v", c, pr[c], math.Exp(z[c])/den)
		}
		if lo := m.LogOdds(x, c); !closeTo(lo, math.Log(pr[c]/(1-pr[c])), 1e-13, 1) {
			t.Errorf("log-odds(%d) = %v, want %v", c, lo, math.Log(pr[c]/(1-pr[c])))
		}
	}
	if m.Predict(x) != 1 {
		t.Errorf("Predict = %d, want 1", m.Predict(x))
	}
	bin := Logistic{P: 1, Classes: 2, Intercept: []float64{-1}, Coef: [][]float64{{3}}}
	x1 := Dense([]float64{1})
	if pr := bin.Prob(x1); !closeTo(pr[1], 1/(1+math.Exp(-2)), 1e-15, 0) || pr[0]+pr[1] != 1 {
		t.Errorf("binary Prob = %v", pr)
	}
	if bin.LogOdds(x1, 1) != 2 || bin.LogOdds(x1, 0) != -2 || bin.Predict(x1) != 1 {
		t.Errorf("binary log-odds %v / predict %d", bin.LogOdds(x1, 1), bin.Predict(x1))
	}
}

func TestLogisticStepHalvesWhenObjectiveRises(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 23))
	rows := bowData(r, 100, 4, false)
	y := classLabels(r, rows, 4, 2)
	m, _ := NewLogistic(4, 2)
	var acc LogisticAcc
	for i, row := range rows {
		acc.Add(&m, row, y[i])
	}
	m1, _, err := m.Step(acc, 1, 1e-12)
	if err != nil {
		t.Fatal(err)
	}
	// Pretend the base was far better than the trial point: the step must halve.
	m1.Objective = -1e9
	var acc1 LogisticAcc
	for i, row := range rows {
		acc1.Add(&m1, row, y[i])
	}
	m2, done, err := m1.Step(acc1, 1, 1e-12)
	if err != nil || done {
		t.Fatalf("step: %v, done %v", err, done)
	}
	if m2.StepSize != 0.5 || m2.Iter != 2 {
		t.Errorf("StepSize %v Iter %d, want 0.5, 2", m2.StepSize, m2.Iter)
	}
	for j := 0; j < 4; j++ {
		if want := m1.Base[1+j] + 0.5*m1.Dir[1+j]; m2.Coef[0][j] != want {
			t.Errorf("coef[%d] = %v, want %v", j, m2.Coef[0][j], want)
		}
	}
}

func TestLogisticErrors(t *testing.T) {
	if _, err := NewLogistic(3, 1); err == nil {
		t.Error("one class accepted")
	}
	m, _ := NewLogistic(2, 3)
	var acc LogisticAcc
	if err := acc.Add(&m, Row{}, 3); err == nil {
		t.Error("class 3 of 3 accepted")
	}
	if _, _, err := m.Step(acc, 1, 1e-8); err == nil {
		t.Error("step without rows succeeded")
	}
	acc.Add(&m, Dense([]float64{math.NaN(), 0}), 0)
	acc.Add(&m, Dense([]float64{1, 0}), 0)
	if acc.NonFinite != 1 || acc.N != 1 {
		t.Errorf("NonFinite %d N %d", acc.NonFinite, acc.N)
	}
	if _, _, err := m.Step(acc, 1, 1e-8); err == nil {
		t.Error("step with a non-finite row succeeded")
	}
	other, _ := NewLogistic(2, 2)
	if err := acc.Add(&other, Row{}, 0); err == nil {
		t.Error("accumulator mixed models of different shapes")
	}
}
