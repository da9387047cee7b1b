package gradient

import (
	"context"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/integrate/quad"

	"github.com/glassbox-ai/glassbox/explanation"
)

// Integrated Gradients' options (conventions.md).
const (
	// BaselinePad puts the pad token's embedding at every non-special position.
	BaselinePad = "pad"
	// BaselineZeros puts zero vectors at every non-special position.
	BaselineZeros = "zeros"

	RuleGaussLegendre = "gausslegendre"
	RuleRiemannLeft   = "riemann_left"
	RuleRiemannRight  = "riemann_right"
	RuleRiemannMiddle = "riemann_middle"
	RuleTrapezoid     = "trapezoid"
	// RuleClenshawCurtis is Clenshaw–Curtis quadrature: nearly as accurate as
	// Gauss–Legendre on smooth paths, and nested under doubling, so target_gap
	// reuses every gradient already computed (and the path's ends are nodes).
	RuleClenshawCurtis = "clenshawcurtis"

	// DefaultIGSteps is Captum's default, and at 50 Gauss–Legendre points the
	// completeness gap of a smooth model is far below 1%.
	DefaultIGSteps = 50
	// DefaultIGMaxSteps caps target_gap's doubling: 400 points per example is
	// already eight times the default's cost.
	DefaultIGMaxSteps = 400

	// gapFloor is the relative size of f(x) − f(x′) below which the completeness
	// gap measures float32 rounding rather than the quadrature (ONNX Runtime
	// computes f in float32, whose ulp near 1 is 1.2e-7): target_gap stops there.
	gapFloor = 1e-5
)

// IGMethod is Integrated Gradients (Sundararajan et al. 2017) on the word
// embeddings:
//
//	ig(i) = Σ_h (e_ih − e′_ih) · Σ_k w_k ∂f/∂e_ih (e′ + α_k (e − e′))
//
// with the quadrature (α_k, w_k) of Rule on [0, 1] and baseline e′ (the pad
// token's embedding, or zeros, at non-special positions; the real embedding at
// special ones). Result.Quality is the completeness gap
// |Σ_i ig(i) − (f(e) − f(e′))| / |f(e) − f(e′)|; with TargetGap > 0 the steps
// double until the gap is under it or MaxSteps is reached, reusing the points
// of the nested rules (Riemann left/right, trapezoid); they do not double where
// f(x) − f(x′) is below float32 resolution (params.gap_resolvable false), since
// no step count makes that gap small.
type IGMethod struct {
	// Steps is the number of quadrature points.
	Steps int `yaml:"steps" json:"steps"`
	// Baseline is BaselinePad or BaselineZeros.
	Baseline string `yaml:"baseline" json:"baseline"`
	// Rule is the quadrature rule (RuleGaussLegendre, …).
	Rule string `yaml:"rule" json:"rule"`
	// TargetGap, when positive, is the completeness gap to reach by doubling the steps.
	TargetGap float64 `yaml:"target_gap" json:"target_gap"`
	// MaxSteps caps the doubling.
	MaxSteps int `yaml:"max_steps" json:"max_steps"`
}

// Validate reports every invalid value.
func (m *IGMethod) Validate() error {
	var e explanation.ParamErrors
	e.AtLeast("steps", m.Steps, 1, "must be at least 1")
	e.OneOf("baseline", m.Baseline, BaselinePad, BaselineZeros)
	e.OneOf("rule", m.Rule, RuleGaussLegendre, RuleRiemannLeft, RuleRiemannRight, RuleRiemannMiddle, RuleTrapezoid, RuleClenshawCurtis)
	e.Check((m.Rule != RuleTrapezoid && m.Rule != RuleClenshawCurtis) || m.Steps >= 2, "steps", "%d is not allowed with the %s rule (at least 2)", m.Steps, m.Rule)
	e.Check(m.TargetGap >= 0 && !math.IsInf(m.TargetGap, 0), "target_gap", "%v is not allowed (0 = off, or a positive gap such as 0.01)", m.TargetGap)
	e.AtLeast("max_steps", m.MaxSteps, m.Steps, "must be at least steps")
	return e.Err()
}

// Name returns "ig".
func (IGMethod) Name() string { return "ig" }

// nodes returns the rule's points on [0, 1] and their weights (summing to 1).
func (m IGMethod) nodes(n int) (alpha, weight []float64) {
	alpha, weight = make([]float64, n), make([]float64, n)
	switch m.Rule {
	case RuleGaussLegendre:
		quad.Legendre{}.FixedLocations(alpha, weight, 0, 1)
	case RuleTrapezoid:
		for k := range alpha {
			alpha[k], weight[k] = float64(k)/float64(n-1), 1/float64(n-1)
		}
		weight[0], weight[n-1] = weight[0]/2, weight[n-1]/2
	case RuleClenshawCurtis:
		clenshawCurtis(alpha, weight)
	default:
		shift := map[string]float64{RuleRiemannLeft: 0, RuleRiemannRight: 1, RuleRiemannMiddle: 0.5}[m.Rule]
		for k := range alpha {
			alpha[k], weight[k] = (float64(k)+shift)/float64(n), 1/float64(n)
		}
	}
	return alpha, weight
}

// Explain integrates the gradient along the straight path from the baseline.
func (m IGMethod) Explain(ctx context.Context, _ explanation.Scorer, req explanation.Request) (explanation.Result, error) {
	if err := m.Validate(); err != nil {
		return explanation.Result{}, fmt.Errorf("ig: %w", err)
	}
	n, h := len(req.Input.IDs), req.Hidden
	if req.Gradients == nil || h <= 0 || len(req.Embeddings) != n*h || (m.Baseline == BaselinePad && len(req.PadEmbedding) != h) {
		return explanation.Result{}, fmt.Errorf("ig: the request carries no gradients or embeddings for its %d tokens", n)
	}
	e := req.Embeddings
	base := make([]float32, n*h)
	for i := 0; i < n; i++ {
		row := base[i*h : (i+1)*h]
		switch {
		case req.Special != nil && req.Special[i]:
			copy(row, e[i*h:(i+1)*h])
		case m.Baseline == BaselinePad:
			copy(row, req.PadEmbedding)
		}
	}
	point := func(a float64) []float32 {
		switch a { // the ends exactly, not e′ + 1·(e − e′) rounded
		case 0:
			return base
		case 1:
			return e
		}
		p := make([]float32, n*h)
		for j := range p {
			p[j] = base[j] + float32(a)*(e[j]-base[j])
		}
		return p
	}
	seen := map[uint64][]float32{} // gradients at α already computed (nested rules reuse them)
	steps := m.Steps
	var attr []float64
	var fx, fBase, gap float64
	for first := true; ; first = false {
		alpha, weight := m.nodes(steps)
		var todo []float64
		var pts [][]float32
		// The path's ends give f(e) and f(e′) for the completeness gap; rules
		// without them as nodes add them to the first batch of points.
		ends := first && !(slices.Contains(alpha, 0) && slices.Contains(alpha, 1))
		if ends {
			pts = [][]float32{e, base}
		}
		for _, a := range alpha {
			if _, ok := seen[math.Float64bits(a)]; !ok {
				todo, pts = append(todo, a), append(pts, point(a))
			}
		}
		if len(pts) > 0 {
			f, grads, err := req.Gradients(ctx, pts)
			if err != nil {
				return explanation.Result{}, fmt.Errorf("ig: %w", err)
			}
			if ends {
				fx, fBase, f, grads = f[0], f[1], f[2:], grads[2:]
			}
			for k, a := range todo {
				switch {
				case first && a == 1:
					fx = f[k]
				case first && a == 0:
					fBase = f[k]
				}
				seen[math.Float64bits(a)] = grads[k]
			}
		}
		avg := make([]float64, n*h)
		for k, a := range alpha {
			for j, g := range seen[math.Float64bits(a)] {
				avg[j] += weight[k] * float64(g)
			}
		}
		attr = make([]float64, n)
		total := 0.0
		for i := 0; i < n; i++ {
			for j := i * h; j < (i+1)*h; j++ {
				attr[i] += (float64(e[j]) - float64(base[j])) * avg[j]
			}
			total += attr[i]
		}
		gap = math.Abs(total-(fx-fBase)) / math.Abs(fx-fBase)
		if m.TargetGap <= 0 || gap < m.TargetGap || 2*steps > m.MaxSteps || !resolvable(fx, fBase) {
			break
		}
		steps *= 2
		if m.Rule == RuleTrapezoid || m.Rule == RuleClenshawCurtis {
			steps-- // 2(n−1)+1 points: the old grid is nested in the new one
		}
		if m.Rule != RuleRiemannLeft && m.Rule != RuleRiemannRight && m.Rule != RuleTrapezoid && m.Rule != RuleClenshawCurtis {
			clear(seen) // Gauss–Legendre and midpoint grids do not nest
		}
	}
	res, err := gradientResult(ctx, req, attr, map[string]any{
		"steps": steps, "rule": m.Rule, "baseline": m.Baseline, "target_gap": m.TargetGap, "max_steps": m.MaxSteps,
		"gap_resolvable": resolvable(fx, fBase),
	})
	if err != nil {
		return explanation.Result{}, err
	}
	res.BaselineScore = &fBase
	if !math.IsNaN(gap) && !math.IsInf(gap, 0) {
		res.Quality = &gap
	}
	return res, nil
}

// clenshawCurtis fills the n = len(alpha) Clenshaw–Curtis points on [0, 1] and
// their weights (Trefethen, "Is Gauss quadrature better than Clenshaw–Curtis?",
// SIAM Review 2008): with N = n − 1, α_k = (1 − cos(kπ/N))/2 and
//
//	w_k = (c_k / 2N) · (1 − Σ_{j=1}^{⌊N/2⌋} b_j / (4j² − 1) · cos(2jkπ/N)),
//
// c_0 = c_N = 1, c_k = 2 otherwise, b_j = 1 for j = N/2, 2 otherwise. The
// points of N are bit-identical to the even points of 2N (kπ/N and 2kπ/2N
// round alike), so doubled grids find earlier gradients by their α.
func clenshawCurtis(alpha, weight []float64) {
	N := len(alpha) - 1
	for k := 0; k <= N; k++ {
		alpha[k] = (1 - math.Cos(float64(k)*math.Pi/float64(N))) / 2
		s := 1.0
		for j := 1; j <= N/2; j++ {
			b := 2.0
			if 2*j == N {
				b = 1
			}
			s -= b / float64(4*j*j-1) * math.Cos(float64(2*j*k)*math.Pi/float64(N))
		}
		c := 2.0
		if k == 0 || k == N {
			c = 1
		}
		weight[k] = c / float64(2*N) * s
	}
	// Symmetric nodes computed from cos may miss the exact ends by an ulp.
	alpha[0], alpha[N] = 0, 1
}

// resolvable reports whether f(x) − f(x′) stands above float32 rounding, so
// that the completeness gap says something about the quadrature.
func resolvable(fx, fBase float64) bool {
	return math.Abs(fx-fBase) >= gapFloor*max(1, math.Abs(fx))
}
