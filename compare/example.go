package compare

import (
	"math"
	"sort"

	"github.com/glassbox-ai/glassbox/audit"
	"github.com/glassbox-ai/glassbox/schemas"
)

// oneSided records an example only one run explained (counted in in): as
// failed in the other run when that run's errors name the id (counted in
// failedCount), else as only in this run (counted in onlyCount).
func (res *Result) oneSided(in *RunInfo, id string, rows []schemas.ExplanationRow, only string, onlyCount *int, otherFailed map[string]string, failedStatus string, failedCount *int) {
	in.Examples++
	in.Rows += len(rows)
	e := onlyOne(id, rows, only)
	if why, ok := otherFailed[id]; ok {
		e.Status, e.Error = failedStatus, why
		*failedCount++
	} else {
		*onlyCount++
	}
	res.Examples = append(res.Examples, e)
}

// onlyOne is the examples.parquet row of an example in one run only.
func onlyOne(id string, rows []schemas.ExplanationRow, status string) ExampleRow {
	r := rows[0]
	e := ExampleRow{ExampleID: id, Status: status, Text: r.Text, GoldLabel: r.GoldLabel}
	if status == StatusOnlyA {
		e.PredictedA, e.ProbsA = ptr(r.PredictedLabel), r.Probs
	} else {
		e.PredictedB, e.ProbsB = ptr(r.PredictedLabel), r.Probs
	}
	return e
}

func (res *Result) compareExample(id string, rowsA, rowsB []schemas.ExplanationRow, acc *accum) {
	s := &res.Summary
	s.Common++
	ra, rb := rowsA[0], rowsB[0]
	e := ExampleRow{ExampleID: id, Status: StatusBoth, Text: ra.Text, TextChanged: ra.Text != rb.Text, GoldLabel: ra.GoldLabel,
		PredictedA: ptr(ra.PredictedLabel), PredictedB: ptr(rb.PredictedLabel), ProbsA: ra.Probs, ProbsB: rb.Probs}
	if e.GoldLabel == nil {
		e.GoldLabel = rb.GoldLabel
	}
	e.Flipped = ra.PredictedLabel != rb.PredictedLabel
	if e.Flipped {
		s.Flips++
	}
	if e.TextChanged {
		s.TextChanged++
	}
	if n := min(len(ra.Probs), len(rb.Probs)); n > 0 {
		m := 0.0
		for i := 0; i < n; i++ {
			m = math.Max(m, math.Abs(rb.Probs[i]-ra.Probs[i]))
		}
		e.ProbShift = ptr(m)
		acc.probN++
		acc.probSum += m
		acc.probMax = math.Max(acc.probMax, m)
	}
	res.Examples = append(res.Examples, e)

	for _, p := range pairRows(rowsA, rowsB) {
		row := AttributionRow{ExampleID: id}
		switch {
		case p.b == nil:
			s.RowsOnlyA++
			row.Status, row.Method, row.TargetA, row.ScoreA = StatusOnlyA, p.a.Method, p.a.Target, ptr(p.a.TargetScore)
			res.Attributions = append(res.Attributions, row)
			continue
		case p.a == nil:
			s.RowsOnlyB++
			row.Status, row.Method, row.TargetB, row.ScoreB = StatusOnlyB, p.b.Method, p.b.Target, ptr(p.b.TargetScore)
			res.Attributions = append(res.Attributions, row)
			continue
		}
		row.Status, row.Method, row.TargetA, row.TargetB = StatusBoth, p.a.Method, p.a.Target, p.b.Target
		row.ScoreA, row.ScoreB, row.ScoreShift = ptr(p.a.TargetScore), ptr(p.b.TargetScore), ptr(p.b.TargetScore-p.a.TargetScore)
		items, level, unmatched := alignRows(p.a, p.b)
		row.Level, row.Positions, row.Unmatched = level, int32(len(items)), int32(unmatched)
		s.AttributionPairs++
		if level == LevelToken {
			s.TokenLevel++
		} else {
			s.WordLevel++
		}
		x, y := make([]float64, len(items)), make([]float64, len(items))
		for i, it := range items {
			x[i], y[i] = it.a, it.b
		}
		if rho, ok := audit.Spearman(x, y); ok {
			row.Spearman, row.Drift = ptr(rho), ptr(1-rho)
		}
		k, overlap, topA, topB, left, entered := topKChange(items, res.Options.TopK)
		row.TopK, row.TopA, row.TopB, row.Left, row.Entered = int32(k), topA, topB, left, entered
		if k > 0 {
			row.TopKOverlap = ptr(overlap)
		}
		// Faithfulness shifts (conventions.md, Faithfulness): same target, both rows with the column.
		fa, fb := p.a.Faithfulness, p.b.Faithfulness
		if row.TargetA == row.TargetB && fa != nil && fb != nil {
			d := [4]float64{fb.AOPCComprehensiveness - fa.AOPCComprehensiveness, fb.AOPCSufficiency - fa.AOPCSufficiency,
				fb.DeletionAUC - fa.DeletionAUC, fb.InsertionAUC - fa.InsertionAUC}
			row.AOPCComprehensivenessShift, row.AOPCSufficiencyShift = ptr(d[0]), ptr(d[1])
			row.DeletionAUCShift, row.InsertionAUCShift = ptr(d[2]), ptr(d[3])
			if acc.faith == nil {
				acc.faith = map[string]*faithSum{}
			}
			f := acc.faith[row.Method]
			if f == nil {
				f = &faithSum{}
				acc.faith[row.Method] = f
			}
			f.add(d)
		} else if row.TargetA == row.TargetB && (fa == nil) != (fb == nil) {
			s.FaithfulnessOneSided++
		}
		res.Attributions = append(res.Attributions, row)
		if row.TargetA != row.TargetB {
			s.TargetChanged++
			continue
		}
		acc.scoreN++
		acc.scoreMax = math.Max(acc.scoreMax, math.Abs(*row.ScoreShift))
		if k > 0 {
			acc.overlapN++
			acc.overlapSum += overlap
		}
		if row.Drift == nil {
			s.DriftUndefined++
			continue
		}
		acc.driftN++
		acc.driftSum += *row.Drift
		acc.driftMax = math.Max(acc.driftMax, *row.Drift)
		res.keepDrift(Drift{Row: row, TextA: p.a.Text, TextB: p.b.Text, WordsA: p.a.Words, WordsB: p.b.Words})
	}
}

// keepDrift keeps the MaxShown largest drifts (ties: the first seen, in example-id order).
func (res *Result) keepDrift(d Drift) {
	res.Drifts = append(res.Drifts, d)
	if n := res.Options.MaxShown; len(res.Drifts) > 2*n {
		sort.SliceStable(res.Drifts, func(i, j int) bool { return *res.Drifts[i].Row.Drift > *res.Drifts[j].Row.Drift })
		res.Drifts = res.Drifts[:n]
	}
}

type rowPair struct{ a, b *schemas.ExplanationRow }

// pairRows pairs one example's rows of both runs: by (method, target), then,
// per method, the one row left in each run when there is exactly one each
// (the target is the predicted label and the prediction flipped); the rest
// stay unpaired. Pairs come in method order, then target order.
func pairRows(rowsA, rowsB []schemas.ExplanationRow) []rowPair {
	byMethod := func(rows []schemas.ExplanationRow) map[string][]*schemas.ExplanationRow {
		m := map[string][]*schemas.ExplanationRow{}
		for i := range rows {
			m[rows[i].Method] = append(m[rows[i].Method], &rows[i])
		}
		for _, l := range m {
			sort.SliceStable(l, func(i, j int) bool { return l[i].Target < l[j].Target })
		}
		return m
	}
	ma, mb := byMethod(rowsA), byMethod(rowsB)
	methods := map[string]bool{}
	for k := range ma {
		methods[k] = true
	}
	for k := range mb {
		methods[k] = true
	}
	names := make([]string, 0, len(methods))
	for k := range methods {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []rowPair
	for _, m := range names {
		la, lb := ma[m], mb[m]
		usedB := make([]bool, len(lb))
		var restA []*schemas.ExplanationRow
		for _, ra := range la {
			found := false
			for j, rb := range lb {
				if !usedB[j] && rb.Target == ra.Target {
					usedB[j], found = true, true
					out = append(out, rowPair{ra, rb})
					break
				}
			}
			if !found {
				restA = append(restA, ra)
			}
		}
		var restB []*schemas.ExplanationRow
		for j, rb := range lb {
			if !usedB[j] {
				restB = append(restB, rb)
			}
		}
		if len(restA) == 1 && len(restB) == 1 {
			out = append(out, rowPair{restA[0], restB[0]})
			continue
		}
		for _, ra := range restA {
			out = append(out, rowPair{ra, nil})
		}
		for _, rb := range restB {
			out = append(out, rowPair{nil, rb})
		}
	}
	return out
}
