package perturbation

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/glassbox-ai/glassbox/explanation"
)

// LIME defaults, those of the lime package's LimeTextExplainer.
const (
	defaultLIMESamples     = 5000
	defaultLIMEKernelWidth = 25
	defaultLIMEAlpha       = 1
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
}

// NewLIME returns a validated LIME with zero parameters replaced by their
// defaults (5000 samples, kernel width 25, alpha 1).
func NewLIME(samples int, kernelWidth, alpha float64) (LIME, error) {
	l := LIME{Samples: samples, KernelWidth: kernelWidth, Alpha: alpha}.withDefaults()
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
	var rows []coalition
	if n > 0 {
		rows, err = limeCoalitions(ctx, explanation.NewRand(req.Seed, "lime"), n, l.Samples)
		if err != nil {
			return explanation.Result{}, fmt.Errorf("lime: sampling: %w", err)
		}
	}
	rowIdx := make([]int, len(rows))
	for r, c := range rows {
		rowIdx[r], _ = ev.add(c)
	}
	vals, err := st.score(ctx, s, ev.sets)
	if err != nil {
		return explanation.Result{}, fmt.Errorf("lime: %w", err)
	}
	fx, f0 := vals[iFull], vals[iEmpty]

	coef := make([]float64, n)
	var quality *float64
	if n > 0 {
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
		coef = fit.coef
		quality = &fit.r2
	}

	params := st.commonParams()
	params["features"] = string(explanation.PlayersWords)
	params["samples"] = l.Samples
	params["kernel_width"] = l.KernelWidth
	params["alpha"] = l.Alpha
	params["removed_per_sample"] = "uniform 1..n_features"
	params["evaluations"] = len(ev.sets)
	params["seed"] = req.Seed
	params["seeded"] = n > 0
	return explanation.Result{
		Tokens:        st.tokenValues(coef),
		Words:         st.wordValues(coef),
		TargetScore:   fx,
		BaselineScore: &f0,
		Quality:       quality,
		Params:        params,
	}, nil
}

// limeCoalitions draws the surrogate's rows over n ≥ 1 features: row 0 is the
// original; every other row removes k distinct uniformly chosen features,
// with k uniform on 1..n as lime's randint(1, doc_size + 1) draws it.
func limeCoalitions(ctx context.Context, rng *rand.Rand, n, samples int) ([]coalition, error) {
	rows := make([]coalition, samples)
	rows[0] = fullCoalition(n)
	subsets := newSubsetSampler(rng, n)
	for r := 1; r < samples; r++ {
		if r%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		k := 1 + rng.IntN(n)
		c := fullCoalition(n)
		for _, p := range subsets.draw(k) {
			c.clear(p)
		}
		rows[r] = c
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
