package explainer

import (
	"github.com/glassbox-ai/glassbox/audit"
	"github.com/glassbox-ai/glassbox/schemas"
)

// Agreement is how far rows explained with a model's int8 graph agree with
// the rows of the same examples explained with its float graph.
type Agreement struct {
	// Examples is the number of examples with a row in both.
	Examples int
	// SameLabel is the share of those whose predicted label is the same.
	SameLabel float64
	// Spearman maps each method to the mean Spearman correlation
	// (audit.Spearman) of the paired rows' token attributions, over the pairs
	// where it is defined (0 when it is defined for none).
	Spearman map[string]float64
}

// CompareRows measures the agreement of rows explained with the float graph
// and with the int8 graph: predicted labels are compared per example present
// in both, attributions per (example, method, target) present in both (an
// example whose predicted label changed has no pair under target predicted).
func CompareRows(float, quant []schemas.ExplanationRow) Agreement {
	type key struct{ example, method, target string }
	byKey := map[key]schemas.ExplanationRow{}
	label := map[string]string{}
	for _, r := range float {
		byKey[key{r.ExampleID, r.Method, r.Target}] = r
		label[r.ExampleID] = r.PredictedLabel
	}
	sum, n := map[string]float64{}, map[string]int{}
	same := map[string]bool{}
	for _, q := range quant {
		if l, ok := label[q.ExampleID]; ok {
			same[q.ExampleID] = l == q.PredictedLabel
		}
		if _, seen := n[q.Method]; !seen {
			n[q.Method] = 0
		}
		f, ok := byKey[key{q.ExampleID, q.Method, q.Target}]
		if !ok {
			continue
		}
		if rho, ok := audit.Spearman(attributions(f), attributions(q)); ok {
			sum[q.Method] += rho
			n[q.Method]++
		}
	}
	a := Agreement{Examples: len(same), Spearman: map[string]float64{}}
	for m, c := range n {
		a.Spearman[m] = sum[m] / float64(max(c, 1))
	}
	for _, s := range same {
		if s {
			a.SameLabel++
		}
	}
	if a.Examples > 0 {
		a.SameLabel /= float64(a.Examples)
	}
	return a
}

func attributions(r schemas.ExplanationRow) []float64 {
	out := make([]float64, len(r.Tokens))
	for i, t := range r.Tokens {
		out[i] = t.Attribution
	}
	return out
}
