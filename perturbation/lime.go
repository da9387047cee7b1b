package perturbation

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/glassbox-ai/glassbox/explanation"
)

// LIME defaults: the lime package's LimeTextExplainer's kernel width and
// ridge penalty; the sample budget and tolerance are Glassbox's (see DefaultLIMETolerance).
const (
	defaultLIMESamples     = 5000
	defaultLIMEKernelWidth = 25
	defaultLIMEAlpha       = 1
)

// DefaultLIMETolerance is the default stopping tolerance: sampling stops once
// every coefficient's standard error is under this fraction of the scale of
// the coefficients (max(|f(x) − f(∅)|, max|coefficient|)). On the accuracy
// harness (scripts/bench-accuracy.sh) it keeps the coefficients within a few
// percent of a 20,000-row fit while scoring a fraction of lime's 5,000 rows.
const DefaultLIMETolerance = 0.01

// limeFirstRound is the fewest rows the adaptive schedule fits; each later
// round draws half as many again (limeGrowth).
const (
	limeFirstRound = 256
	limeGrowth     = 1.5
)

// LIME fits a locally weighted linear surrogate on word presence (Ribeiro et
// al. 2016), as the lime package's LimeTextExplainer does with every word
// position a feature (lime's bow=False) and every feature kept in the surrogate.
type LIME struct {
	// Samples is the number of surrogate training rows, the original included; 0 means 5000.
	Samples int
	// KernelWidth is the width of the exponential kernel on cosine distance ×100; 0 means 25.
	KernelWidth float64
	// Alpha is the ridge penalty of the surrogate; 0 means 1.
	Alpha float64
	// Tolerance stops drawing rows once every coefficient's standard error is at
	// most Tolerance·max(|f(x) − f(∅)|, max|coefficient|); 0 draws all Samples.
	Tolerance float64
}

// NewLIME returns a validated LIME with zero parameters replaced by their
// defaults (5000 samples, kernel width 25, alpha 1); tolerance 0 draws every sample.
func NewLIME(samples int, kernelWidth, alpha, tolerance float64) (LIME, error) {
	l := LIME{Samples: samples, KernelWidth: kernelWidth, Alpha: alpha, Tolerance: tolerance}.withDefaults()
	if err := l.Validate(); err != nil {
		return LIME{}, err
	}
	return l, nil
}

func (l LIME) withDefaults() LIME {
	if l.Samples == 0 {
		l.Samples = defaultLIMESamples
	}
	if l.KernelWidth == 0 {
		l.KernelWidth = defaultLIMEKernelWidth
	}
	if l.Alpha == 0 {
		l.Alpha = defaultLIMEAlpha
	}
	return l
}

// Validate reports a configuration error, naming the parameter; zero values
// are accepted and mean the defaults.
func (l LIME) Validate() error {
	if l.Samples < 0 || l.Samples == 1 {
		return fmt.Errorf("lime: samples must be 0 (default %d) or at least 2 (the original and one perturbation), got %d",
			defaultLIMESamples, l.Samples)
	}
	if l.Samples > MaxKernelSHAPSamples {
		return fmt.Errorf("lime: samples must be at most %d, got %d", MaxKernelSHAPSamples, l.Samples)
	}
	if !finite(l.KernelWidth) || l.KernelWidth < 0 {
		return fmt.Errorf("lime: kernel_width must be > 0 (0 = default %d), got %v", defaultLIMEKernelWidth, l.KernelWidth)
	}
	if !finite(l.Alpha) || l.Alpha < 0 {
		return fmt.Errorf("lime: alpha must be > 0 (0 = default %d), got %v", defaultLIMEAlpha, l.Alpha)
	}
	if !(l.Tolerance >= 0 && l.Tolerance < 1) {
		return fmt.Errorf("lime: tolerance must be in [0, 1) (0 = draw every sample), got %v", l.Tolerance)
	}
	return nil
}

// Name returns "lime".
func (LIME) Name() string { return "lime" }

// Explain fits the surrogate for req. Result.Words holds the surrogate's
// coefficient of each word and each token gets its word's coefficient divided
// by the word's token count; Quality is the surrogate's weighted R² on its
// training rows; BaselineScore is f(empty coalition).
func (l LIME) Explain(ctx context.Context, s explanation.Scorer, req explanation.Request) (res explanation.Result, err error) {
	defer guard("lime", &err)
	if err := l.Validate(); err != nil {
		return explanation.Result{}, err
	}
	l = l.withDefaults()
	st, err := newSetup(req, explanation.PlayersWords)
	if err != nil {
		return explanation.Result{}, fmt.Errorf("lime: %w", err)
	}
	n := st.n()
	ev := newEvaluator()
	iFull, _ := ev.add(fullCoalition(n))
	iEmpty, _ := ev.add(newCoalition(n))
	var vals []float64
	// score evaluates the coalitions added since the last call, in one Score call.
	score := func() error {
		more, err := st.score(ctx, s, ev.sets[len(vals):])
		if err != nil {
			return fmt.Errorf("lime: %w", err)
		}
		vals = append(vals, more...)
		return nil
	}
	coef := make([]float64, n)
	var se []float64
	var quality *float64
	rounds := 0
	var rows []coalition
	var rowIdx []int
	if n == 0 {
		if err := score(); err != nil {
			return explanation.Result{}, err
		}
		rounds = 1
	} else {
		draw := newLIMESampler(explanation.NewRand(req.Seed, "lime"), n)
		for target := min(l.Samples, limeFirstRound); ; target = min(l.Samples, int(math.Ceil(float64(target)*limeGrowth))) {
			if l.Tolerance == 0 {
				target = l.Samples
			}
			if rows, err = draw.extend(ctx, rows, target); err != nil {
				return explanation.Result{}, fmt.Errorf("lime: sampling: %w", err)
			}
			for _, c := range rows[len(rowIdx):] {
				i, _ := ev.add(c)
				rowIdx = append(rowIdx, i)
			}
			if err := score(); err != nil {
				return explanation.Result{}, err
			}
			rounds++
			y := make([]float64, len(rows))
			w := make([]float64, len(rows))
			for r, c := range rows {
				y[r] = vals[rowIdx[r]]
				w[r] = limeKernel(limeDistance(c.size(), n), l.KernelWidth)
			}
			fit, err := weightedRidge(rows, y, w, n, l.Alpha)
			if err != nil {
				return explanation.Result{}, fmt.Errorf("lime: surrogate: %w", err)
			}
			coef, se, quality = fit.coef, fit.se, &fit.r2
			if target >= l.Samples || limeConverged(l.Tolerance, coef, se, vals[iFull]-vals[iEmpty]) {
				break
			}
		}
	}
	fx, f0 := vals[iFull], vals[iEmpty]

	params := st.commonParams()
	params["features"] = string(explanation.PlayersWords)
	params["samples"] = l.Samples
	params["rows"] = max(len(rows), 1)
	params["tolerance"] = l.Tolerance
	params["rounds"] = rounds
	params["kernel_width"] = l.KernelWidth
	params["alpha"] = l.Alpha
	params["removed_per_sample"] = "uniform 1..n_features"
	params["evaluations"] = len(ev.sets)
	params["seed"] = req.Seed
	params["seeded"] = n > 0
	res = explanation.Result{
		Tokens:        st.tokenValues(coef),
		Words:         st.wordValues(coef),
		TargetScore:   fx,
		BaselineScore: &f0,
		Quality:       quality,
		Params:        params,
	}
	if se != nil {
		params["max_std_error"] = slices.Max(append([]float64{0}, se...))
		res.TokenStdErrors = st.tokenValues(se)
		res.WordStdErrors = st.wordValues(se)
	}
	return res, nil
}

// limeConverged reports whether every coefficient's standard error is at most
// tol times the scale max(|f(x) − f(∅)|, max|coefficient|); tol 0 or missing
// errors never converge.
func limeConverged(tol float64, coef, se []float64, total float64) bool {
	if tol == 0 || se == nil {
		return false
	}
	scale := math.Abs(total)
	for _, c := range coef {
		scale = math.Max(scale, math.Abs(c))
	}
	for _, e := range se {
		if e > tol*scale {
			return false
		}
	}
	return true
}

// limeSampler draws the surrogate's rows over n ≥ 1 features: row 0 is the
// original; every other row removes k distinct uniformly chosen features,
// with k uniform on 1..n as lime's randint(1, doc_size + 1) draws it. Rows
// come from one random stream, so the first N rows are the same however many
// rounds drew them.
type limeSampler struct {
	rng     *rand.Rand
	n       int
	subsets *subsetSampler
}

func newLIMESampler(rng *rand.Rand, n int) *limeSampler {
	return &limeSampler{rng: rng, n: n, subsets: newSubsetSampler(rng, n)}
}

// extend appends rows until there are samples of them.
func (l *limeSampler) extend(ctx context.Context, rows []coalition, samples int) ([]coalition, error) {
	if len(rows) == 0 && samples > 0 {
		rows = append(rows, fullCoalition(l.n))
	}
	for r := len(rows); r < samples; r++ {
		if r%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		k := 1 + l.rng.IntN(l.n)
		c := fullCoalition(l.n)
		for _, p := range l.subsets.draw(k) {
			c.clear(p)
		}
		rows = append(rows, c)
	}
	return rows, nil
}

// limeDistance is the cosine distance ×100 between a binary row with
// `active` ones and the all-ones original over n features: 1 − √(active/n).
// An all-zero row has cosine similarity 0 (scikit-learn normalises it to the
// zero vector), so its distance is 100.
func limeDistance(active, n int) float64 {
	return 100 * (1 - math.Sqrt(float64(active)/float64(n)))
}

// limeKernel is lime's default kernel √exp(−d²/width²).
func limeKernel(d, width float64) float64 {
	return math.Sqrt(math.Exp(-d * d / (width * width)))
}
