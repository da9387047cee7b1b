package faithfulness

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/glassbox-ai/glassbox/audit"
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/perturbation"
)

// Ks are the percentages of tokens at which comprehensiveness and sufficiency are measured.
var Ks = [NK]int{1, 5, 10, 20, 50}

// NK is the number of k values.
const NK = 5

// CurveSteps bounds the points of each deletion/insertion curve: every token
// count 0…n when n ≤ CurveSteps, else CurveSteps+1 evenly spaced counts.
const CurveSteps = 50

// Metrics are one example's faithfulness measures (see the package doc).
type Metrics struct {
	// Masking is how tokens were removed (attention or replace).
	Masking explanation.Masking
	// Tokens is n, the number of non-special tokens.
	Tokens int
	// Full is f(x), scored with the perturbed inputs.
	Full float64
	// Empty is f of the input with every non-special token removed.
	Empty float64
	// KTokens are the token counts c(k) = ceil(k·n/100) of Ks.
	KTokens [NK]int
	// Comprehensiveness holds f(x) − f(x without the top c(k) tokens), per k of Ks.
	Comprehensiveness [NK]float64
	// Sufficiency holds f(x) − f(x with only the top c(k) tokens), per k of Ks.
	Sufficiency [NK]float64
	// AOPCComprehensiveness is the mean of Comprehensiveness.
	AOPCComprehensiveness float64
	// AOPCSufficiency is the mean of Sufficiency.
	AOPCSufficiency float64
	// DeletionAUC is the trapezoid area under f against the fraction of top tokens removed.
	DeletionAUC float64
	// InsertionAUC is the trapezoid area under f against the fraction of top tokens present.
	InsertionAUC float64
	// Evaluations is the number of distinct inputs scored.
	Evaluations int
}

// KCount returns c(k) = ceil(k·n/100), the number of tokens k percent of n rounds up to.
func KCount(k, n int) int { return (k*n + 99) / 100 }

// Schedule returns the token counts of the deletion and insertion curves for n tokens.
func Schedule(n int) []int {
	if n <= CurveSteps {
		out := make([]int, n+1)
		for m := range out {
			out[m] = m
		}
		return out
	}
	out := make([]int, CurveSteps+1)
	for j := range out {
		out[j] = (j*n + CurveSteps - 1) / CurveSteps
	}
	return out
}

// Compute measures the faithfulness of attributions (one per token of
// req.Input; special tokens' values are ignored) under scorer s, removing
// tokens by req.Masking with req.ReplaceID. All inputs go through one
// s.Score call.
func Compute(ctx context.Context, s explanation.Scorer, req explanation.Request, attributions []float64) (Metrics, error) {
	if s == nil {
		return Metrics{}, errors.New("faithfulness: scorer is nil")
	}
	l := len(req.Input.IDs)
	if len(attributions) != l {
		return Metrics{}, fmt.Errorf("faithfulness: %d attributions for %d tokens", len(attributions), l)
	}
	if req.Special != nil && len(req.Special) != l {
		return Metrics{}, fmt.Errorf("faithfulness: %d special flags for %d tokens", len(req.Special), l)
	}
	// The units are the non-special tokens, in position order.
	var attr []float64
	for i, a := range attributions {
		if req.Special != nil && req.Special[i] {
			continue
		}
		if math.IsNaN(a) || math.IsInf(a, 0) {
			return Metrics{}, fmt.Errorf("faithfulness: attribution of token %d is %w", i, explanation.ErrNonFinite)
		}
		attr = append(attr, a)
	}
	n := len(attr)
	if n == 0 {
		return Metrics{}, errors.New("faithfulness: the input has no non-special token")
	}
	masking := req.Masking
	if masking == "" {
		masking = explanation.MaskAttention
	}
	rank := audit.TopK(attr, len(attr)) // signed, largest first, ties by position

	// Each input is a removal set: the top m tokens removed (deletion) or
	// all but the top m removed (insertion); they are keyed so each distinct
	// set is scored once. Deletion of all n is insertion of none, and the
	// other way round.
	type key struct {
		insert bool
		m      int
	}
	canon := func(k key) key {
		if k.insert {
			if k.m == n {
				return key{false, 0}
			}
			if k.m == 0 {
				return key{false, n}
			}
		}
		return k
	}
	index := map[key]int{}
	var present [][]bool
	add := func(k key) int {
		k = canon(k)
		if i, ok := index[k]; ok {
			return i
		}
		pr := make([]bool, n)
		for r, p := range rank {
			top := r < k.m
			pr[p] = top == k.insert // deletion: top absent; insertion: only top present
		}
		index[k] = len(present)
		present = append(present, pr)
		return len(present) - 1
	}
	iFull := add(key{false, 0})
	iEmpty := add(key{false, n})
	var kc [NK]int
	var iComp, iSuff [NK]int
	for j, k := range Ks {
		kc[j] = KCount(k, n)
		iComp[j] = add(key{false, kc[j]})
		iSuff[j] = add(key{true, kc[j]})
	}
	sched := Schedule(n)
	iDel := make([]int, len(sched))
	iIns := make([]int, len(sched))
	for j, m := range sched {
		iDel[j] = add(key{false, m})
		iIns[j] = add(key{true, m})
	}

	r := req
	r.Masking = masking
	inputs, err := perturbation.TokenInputs(r, present)
	if err != nil {
		return Metrics{}, fmt.Errorf("faithfulness: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return Metrics{}, err
	}
	f, err := s.Score(ctx, inputs)
	if err != nil {
		return Metrics{}, fmt.Errorf("faithfulness: scoring %d inputs: %w", len(inputs), err)
	}
	if len(f) != len(inputs) {
		return Metrics{}, fmt.Errorf("faithfulness: scorer returned %d scores for %d inputs", len(f), len(inputs))
	}
	for i, v := range f {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Metrics{}, fmt.Errorf("faithfulness: scorer returned %w score %v for input %d", explanation.ErrNonFinite, v, i)
		}
	}

	m := Metrics{Masking: masking, Tokens: n, Full: f[iFull], Empty: f[iEmpty], KTokens: kc, Evaluations: len(inputs)}
	var sc, ss float64
	for j := range Ks {
		m.Comprehensiveness[j] = m.Full - f[iComp[j]]
		m.Sufficiency[j] = m.Full - f[iSuff[j]]
		sc += m.Comprehensiveness[j]
		ss += m.Sufficiency[j]
	}
	m.AOPCComprehensiveness = sc / NK
	m.AOPCSufficiency = ss / NK
	for j := 1; j < len(sched); j++ {
		w := float64(sched[j]-sched[j-1]) / float64(n)
		m.DeletionAUC += w * (f[iDel[j-1]] + f[iDel[j]]) / 2
		m.InsertionAUC += w * (f[iIns[j-1]] + f[iIns[j]]) / 2
	}
	return m, nil
}
