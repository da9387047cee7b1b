package audit

import (
	"cmp"
	"slices"

	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/surrogate"
)

// Attributions is one method's token attributions of one example and target.
type Attributions struct {
	// Method is the method's name.
	Method string
	// Target is the explained label.
	Target string
	// Tokens are the attributions of the example's tokens, special ones included.
	Tokens []float64
}

// Agreement compares every pair of methods that explain the same target of one
// example, over the non-special tokens (special[i] true marks the others). Pairs
// follow the order of attrs (method_a comes first there); attrs holding one
// method per target give no rows.
func Agreement(runID, exampleID string, special []bool, attrs []Attributions) []schemas.AgreementRow {
	var rows []schemas.AgreementRow
	for i, a := range attrs {
		for _, b := range attrs[i+1:] {
			if a.Target != b.Target || a.Method == b.Method || len(a.Tokens) != len(b.Tokens) {
				continue
			}
			x, y := NonSpecial(a.Tokens, special), NonSpecial(b.Tokens, special)
			row := schemas.AgreementRow{RunID: runID, ExampleID: exampleID, Target: a.Target, MethodA: a.Method, MethodB: b.Method, NTokens: int32(len(x))}
			if tau, ok := KendallTauB(x, y); ok {
				row.KendallTau = &tau
			}
			if rho, ok := Spearman(x, y); ok {
				row.Spearman = &rho
			}
			if o, k, ok := TopKOverlap(x, y); ok {
				row.TopKOverlap, row.K = o, int32(k)
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// NonSpecial returns the values at the positions special does not mark
// (all of them when special is shorter than v).
func NonSpecial(v []float64, special []bool) []float64 {
	out := make([]float64, 0, len(v))
	for i, x := range v {
		if i < len(special) && special[i] {
			continue
		}
		out = append(out, x)
	}
	return out
}

// AgreementKey identifies one corpus-wide agreement summary.
type AgreementKey struct {
	MethodA, MethodB, Target string
}

// AgreementAcc accumulates AgreementRows of one key exactly: counts are
// integers and sums 128-bit fixed point (each value rounded once to a
// multiple of 2^-64), so Merge is associative and commutative bit for bit and
// the summary is the same whatever order a runner merges partial results in.
// The zero value is empty; every field is exported so a pipeline can encode it.
type AgreementAcc struct {
	// Count is the number of rows added.
	Count int64
	// TauCount and TauSum cover the rows whose τ-b is defined.
	TauCount int64
	TauSum   surrogate.Fixed
	// SpearmanCount and SpearmanSum cover the rows whose ρ is defined.
	SpearmanCount int64
	SpearmanSum   surrogate.Fixed
	// OverlapSum is the sum of top-k overlaps over Count rows.
	OverlapSum surrogate.Fixed
}

// Add records one row (values in [−1, 1], always within Fixed's range).
func (a *AgreementAcc) Add(r schemas.AgreementRow) {
	a.Count++
	if r.KendallTau != nil && a.TauSum.Add(*r.KendallTau) {
		a.TauCount++
	}
	if r.Spearman != nil && a.SpearmanSum.Add(*r.Spearman) {
		a.SpearmanCount++
	}
	a.OverlapSum.Add(r.TopKOverlap)
}

// Merge returns the accumulator of the rows behind a and b.
func (a AgreementAcc) Merge(b AgreementAcc) AgreementAcc {
	a.Count += b.Count
	a.TauCount += b.TauCount
	a.SpearmanCount += b.SpearmanCount
	a.TauSum.Merge(b.TauSum)
	a.SpearmanSum.Merge(b.SpearmanSum)
	a.OverlapSum.Merge(b.OverlapSum)
	return a
}

// Finalize returns the summary row of key k.
func (a AgreementAcc) Finalize(runID string, k AgreementKey) schemas.AgreementSummaryRow {
	row := schemas.AgreementSummaryRow{RunID: runID, MethodA: k.MethodA, MethodB: k.MethodB, Target: k.Target,
		Count: a.Count, TauCount: a.TauCount, SpearmanCount: a.SpearmanCount}
	if a.TauCount > 0 {
		m := a.TauSum.Float64() / float64(a.TauCount)
		row.MeanKendallTau = &m
	}
	if a.SpearmanCount > 0 {
		m := a.SpearmanSum.Float64() / float64(a.SpearmanCount)
		row.MeanSpearman = &m
	}
	if a.Count > 0 {
		row.MeanTopKOverlap = a.OverlapSum.Float64() / float64(a.Count)
	}
	return row
}

// AgreementContributions returns rows' contributions to the corpus accumulators.
func AgreementContributions(rows []schemas.AgreementRow) map[AgreementKey]AgreementAcc {
	out := map[AgreementKey]AgreementAcc{}
	for _, r := range rows {
		k := AgreementKey{r.MethodA, r.MethodB, r.Target}
		acc := out[k]
		acc.Add(r)
		out[k] = acc
	}
	return out
}

// AgreementSummaries finalizes accumulators into rows sorted by (method_a, method_b, target).
func AgreementSummaries(runID string, accs map[AgreementKey]AgreementAcc) []schemas.AgreementSummaryRow {
	keys := make([]AgreementKey, 0, len(accs))
	for k := range accs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y AgreementKey) int {
		return cmp.Or(cmp.Compare(x.MethodA, y.MethodA), cmp.Compare(x.MethodB, y.MethodB), cmp.Compare(x.Target, y.Target))
	})
	rows := make([]schemas.AgreementSummaryRow, len(keys))
	for i, k := range keys {
		rows[i] = accs[k].Finalize(runID, k)
	}
	return rows
}
