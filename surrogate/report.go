package surrogate

import (
	"fmt"
	"math"

	"github.com/glassbox-ai/glassbox/schemas"
)

// FidelityAcc accumulates one fitted surrogate's agreement on the held-out examples; the zero value is empty.
type FidelityAcc struct {
	// N counts held-out examples with a target.
	N int64
	// R2 compares a regression surrogate with its target.
	R2 R2Acc
	// Accuracy compares a classification surrogate's label with its target.
	Accuracy AccuracyAcc
	// AUC scores a binary classification surrogate's P(class 1) against its target.
	AUC AUCAcc
	// Gold compares a classification surrogate's label with the gold label.
	Gold AccuracyAcc
}

// Merge adds b's counts and sums to a.
func (a *FidelityAcc) Merge(b FidelityAcc) {
	a.N += b.N
	a.R2.Merge(b.R2)
	a.Accuracy.Merge(b.Accuracy)
	a.AUC.Merge(b.AUC)
	a.Gold.Merge(b.Gold)
}

// AddFidelity adds a held-out example to acc (training examples and failed fits are skipped).
func (f *Fit) AddFidelity(acc *FidelityAcc, d Design) {
	if !d.Holdout || f.Err != "" || !f.Done {
		return
	}
	y, ok := d.Target(f.Spec)
	if !ok {
		return
	}
	x := d.Row(f.Spec.Features)
	acc.N++
	if f.Spec.Regression() {
		var yhat float64
		if f.Linear != nil {
			yhat = f.Linear.Predict(x)
		} else if f.Tree != nil {
			yhat = f.Tree.Predict(x)[0]
		}
		acc.R2.Add(y, yhat)
		return
	}
	var probs []float64
	if f.Logistic != nil {
		probs = f.Logistic.Prob(x)
	} else if f.Tree != nil {
		probs = f.Tree.Predict(x)
	}
	pred := argmax(probs)
	acc.Accuracy.Add(int(y), pred)
	if len(probs) == 2 {
		acc.AUC.Add(probs[1], int(y) == 1)
	}
	if d.Gold >= 0 {
		acc.Gold.Add(d.Gold, pred)
	}
}

// argmax returns the index of the largest value, the lowest on ties.
func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// finite returns &v, or nil when v is NaN or infinite.
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// Rows renders every fit of st, in plan order, as an output row with its
// fidelity (fid by spec key) and the vocabulary.
func Rows(runID string, plan Plan, st State, fid map[string]FidelityAcc, vocab []string) []schemas.SurrogateRow {
	cfg := plan.Config
	out := make([]schemas.SurrogateRow, 0, len(st.Fits))
	for _, f := range st.Fits {
		s := f.Spec
		r := schemas.SurrogateRow{
			RunID: runID, Key: s.Key, Kind: s.Kind, Features: s.Features, Target: s.Target, Class: int32(s.Class),
			Labels: plan.Labels, Alpha: cfg.Alpha, VocabSize: int32(cfg.VocabSize), Counts: cfg.Counts, Bigrams: cfg.Bigrams,
			Passes: int32(f.Passes), Converged: f.Converged, Error: f.Err, NTrain: f.NTrain,
			Intercepts: []schemas.SurrogateCoefficient{}, Coefficients: []schemas.SurrogateCoefficient{},
			Nodes: []schemas.SurrogateNode{}, Rules: []string{}, Vocabulary: []string{},
		}
		if s.Class >= 0 && s.Class < len(plan.Labels) {
			r.ClassLabel = plan.Labels[s.Class]
		}
		switch s.Kind {
		case KindLogistic:
			r.MaxIter, r.Tol = int32(cfg.Logistic.MaxIter), cfg.Logistic.Tol
		case KindTree:
			r.Alpha = 0
			r.MaxDepth, r.MinSamplesLeaf = int32(cfg.Tree.MaxDepth), int32(cfg.Tree.MinSamplesLeaf)
		}
		names := vocab
		if s.Features == FeaturesProbe {
			r.Pool, r.Counts, r.Bigrams, r.VocabSize = cfg.Probe.Pool, false, false, 0
			names = make([]string, f.P)
			for j := range names {
				names[j] = fmt.Sprintf("h%d", j)
			}
		} else if vocab != nil {
			r.Vocabulary = vocab
		}
		a := fid[s.Key]
		r.NHoldout = a.N
		if s.Regression() {
			r.R2, r.MSE = finite(a.R2.R2()), finite(a.R2.MSE())
		} else {
			r.Accuracy, r.AUC = finite(a.Accuracy.Accuracy()), finite(a.AUC.AUC())
			r.GoldAccuracy, r.GoldN = finite(a.Gold.Accuracy()), a.Gold.N
		}
		if f.Err == "" {
			fillModel(&r, f, names, plan.Labels)
		}
		out = append(out, r)
	}
	return out
}

// fillModel writes the fitted model's coefficients or nodes and rules.
func fillModel(r *schemas.SurrogateRow, f Fit, names, labels []string) {
	coef := func(class, j int, w, se float64) schemas.SurrogateCoefficient {
		c := schemas.SurrogateCoefficient{Class: int32(class), Index: int32(j), Weight: w, StdError: finite(se)}
		if j >= 0 && j < len(names) {
			c.Feature = names[j]
		}
		return c
	}
	switch {
	case f.Linear != nil:
		l := f.Linear
		r.Intercepts = append(r.Intercepts, coef(f.Spec.Class, -1, l.Intercept, l.InterceptSE))
		for j, w := range l.Coef {
			se := math.NaN()
			if j < len(l.CoefSE) {
				se = l.CoefSE[j]
			}
			r.Coefficients = append(r.Coefficients, coef(f.Spec.Class, j, w, se))
		}
	case f.Logistic != nil:
		m := f.Logistic
		for l := range m.Intercept {
			class := l
			if m.Classes == 2 {
				class = 1
			}
			r.Intercepts = append(r.Intercepts, coef(class, -1, m.Intercept[l], math.NaN()))
			for j, w := range m.Coef[l] {
				r.Coefficients = append(r.Coefficients, coef(class, j, w, math.NaN()))
			}
		}
	case f.Tree != nil:
		for i, n := range f.Tree.Nodes {
			node := schemas.SurrogateNode{Node: int32(i), Depth: int32(n.Depth), Feature: int32(n.Feature), Threshold: n.Threshold,
				Left: int32(n.Left), Right: int32(n.Right), Support: n.Stat.N, Counts: n.Stat.Counts, Value: n.Value, Impurity: n.Impurity}
			if node.Counts == nil {
				node.Counts = []int64{}
			}
			if node.Value == nil {
				node.Value = []float64{}
			}
			if n.Feature >= 0 && n.Feature < len(names) {
				node.FeatureName = names[n.Feature]
			}
			r.Nodes = append(r.Nodes, node)
		}
		r.Rules = f.Tree.Rules(names, labels)
	}
}
