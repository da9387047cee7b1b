package gradient

import (
	"context"
	"math"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
)

// polyRequest is a request whose f is Σ_j a_j e_j^p over 3 tokens of hidden 2
// (token 0 special), with exact gradients, counting the points evaluated.
func polyRequest(p float64, evaluated *int) explanation.Request {
	a := []float64{0, 0, 1.5, -0.5, 2, 0.25}
	f := func(e []float32) (float64, []float32) {
		v, g := 0.0, make([]float32, len(e))
		for j, x := range e {
			v += a[j] * math.Pow(float64(x), p)
			g[j] = float32(a[j] * p * math.Pow(float64(x), p-1))
		}
		return v, g
	}
	emb := []float32{0.3, -0.2, 0.8, 0.5, -0.6, 0.9}
	return explanation.Request{
		Input:        explanation.Input{IDs: []int64{101, 7, 8}},
		Special:      []bool{true, false, false},
		Embeddings:   emb,
		Hidden:       2,
		PadEmbedding: []float32{0.1, -0.1},
		Score:        func(context.Context) (float64, error) { v, _ := f(emb); return v, nil },
		Gradients: func(_ context.Context, pts [][]float32) ([]float64, [][]float32, error) {
			*evaluated += len(pts)
			vs, gs := make([]float64, len(pts)), make([][]float32, len(pts))
			for k, pt := range pts {
				vs[k], gs[k] = f(pt)
			}
			return vs, gs, nil
		},
	}
}

// TestIGClosedForm checks IG on f = Σ a_j e_j²: the exact attribution of token
// i is Σ_h a (e² − e′²), which Gauss–Legendre integrates exactly (the gradient
// is linear on the path); the special token gets 0 and the gap is ~0.
func TestIGClosedForm(t *testing.T) {
	a := []float64{0, 0, 1.5, -0.5, 2, 0.25}
	for _, tc := range []struct {
		baseline string
		base     []float64
	}{{BaselinePad, []float64{0.3, -0.2, 0.1, -0.1, 0.1, -0.1}}, {BaselineZeros, []float64{0.3, -0.2, 0, 0, 0, 0}}} {
		var n int
		req := polyRequest(2, &n)
		m := IGMethod{Steps: 4, Baseline: tc.baseline, Rule: RuleGaussLegendre, MaxSteps: 4}
		res, err := m.Explain(context.Background(), nil, req)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			want := 0.0
			for h := 0; h < 2; h++ {
				j := 2*i + h
				e := float64(req.Embeddings[j])
				want += a[j] * (e*e - tc.base[j]*tc.base[j])
			}
			if i == 0 {
				want = 0
			}
			if math.Abs(res.Tokens[i]-want) > 1e-6 {
				t.Errorf("%s token %d: %v, want %v", tc.baseline, i, res.Tokens[i], want)
			}
		}
		if res.Quality == nil || *res.Quality > 1e-6 || n != 6 {
			t.Errorf("%s: gap %v, %d points evaluated (want ~0 and 4 + 2 ends)", tc.baseline, res.Quality, n)
		}
	}
}

// TestIGTargetGap checks the doubling: a quartic needs more than 4 left-Riemann
// steps for a 1% gap; nested grids reuse their points, so the points evaluated
// are the final grid's plus the two ends, and the row records the steps used.
func TestIGTargetGap(t *testing.T) {
	var n int
	req := polyRequest(4, &n)
	m := IGMethod{Steps: 4, Baseline: BaselinePad, Rule: RuleRiemannLeft, TargetGap: 0.01, MaxSteps: 1024}
	res, err := m.Explain(context.Background(), nil, req)
	if err != nil {
		t.Fatal(err)
	}
	steps := res.Params["steps"].(int)
	if *res.Quality >= 0.01 || steps <= 4 || n != steps+2 {
		t.Errorf("gap %v after %d steps, %d points evaluated (want < 0.01, > 4, steps + 2)", *res.Quality, steps, n)
	}
	// Each rule's weights sum to 1 and its points lie in [0, 1].
	for _, rule := range []string{RuleGaussLegendre, RuleRiemannLeft, RuleRiemannRight, RuleRiemannMiddle, RuleTrapezoid, RuleClenshawCurtis} {
		alpha, w := IGMethod{Rule: rule}.nodes(7)
		sum := 0.0
		for k := range w {
			sum += w[k]
			if alpha[k] < 0 || alpha[k] > 1 {
				t.Errorf("%s: point %v outside [0, 1]", rule, alpha[k])
			}
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("%s: weights sum to %v", rule, sum)
		}
	}
}

// TestClenshawCurtis checks the rule against closed forms: N+1 points
// integrate every polynomial of degree ≤ N exactly on [0, 1] (∫ α^d = 1/(d+1));
// the grid of N is bit-identical to every other point of the grid of 2N; and
// target_gap doubling evaluates each point once, the path's ends being nodes
// (no extra rows: points evaluated = the final grid).
func TestClenshawCurtis(t *testing.T) {
	for _, n := range []int{2, 3, 5, 9, 17, 33} {
		alpha, w := IGMethod{Rule: RuleClenshawCurtis}.nodes(n)
		for d := 0; d <= n-1; d++ {
			got := 0.0
			for k := range alpha {
				got += w[k] * math.Pow(alpha[k], float64(d))
			}
			if want := 1 / float64(d+1); math.Abs(got-want) > 1e-13 {
				t.Errorf("%d points: ∫ α^%d = %.16g, want %.16g", n, d, got, want)
			}
		}
		if n > 2 {
			fine, _ := IGMethod{Rule: RuleClenshawCurtis}.nodes(2*n - 1)
			for k := range alpha {
				if math.Float64bits(fine[2*k]) != math.Float64bits(alpha[k]) {
					t.Errorf("%d points: node %d = %v, the doubled grid's node %d = %v", n, k, alpha[k], 2*k, fine[2*k])
				}
			}
		}
	}
	var evaluated int
	req := polyRequest(7, &evaluated)
	m := IGMethod{Steps: 3, Baseline: BaselinePad, Rule: RuleClenshawCurtis, TargetGap: 1e-6, MaxSteps: 1024}
	res, err := m.Explain(context.Background(), nil, req)
	if err != nil {
		t.Fatal(err)
	}
	steps := res.Params["steps"].(int)
	if *res.Quality >= 1e-6 || steps <= 3 || evaluated != steps {
		t.Errorf("gap %v after %d steps, %d points evaluated (want < 1e-6, > 3, = steps)", *res.Quality, steps, evaluated)
	}
}
