package compare

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/glassbox-ai/glassbox/schemas"
)

// Options are the comparison's parameters.
type Options struct {
	// TopK is k of the per-example top-k comparison (default 5).
	TopK int
	// TopN is N of the global top-N comparison (default 20).
	TopN int
	// MaxShown bounds the flipped examples, drifts and global shifts the report lists (default 50 each).
	MaxShown int
}

func (o Options) withDefaults() Options {
	if o.TopK <= 0 {
		o.TopK = 5
	}
	if o.TopN <= 0 {
		o.TopN = 20
	}
	if o.MaxShown <= 0 {
		o.MaxShown = 50
	}
	return o
}

// RunInfo identifies one compared run.
type RunInfo struct {
	Dir         string `json:"dir"`
	RunID       string `json:"run_id"`
	Model       string `json:"model"`
	ModelSHA256 string `json:"model_sha256"`
	// Examples and Rows are the explained examples and explanation rows found in the run's shards.
	Examples int `json:"examples"`
	Rows     int `json:"rows"`
	// UnsortedShards counts shards not sorted by example id (read whole and sorted in memory).
	UnsortedShards int `json:"unsorted_shards,omitempty"`
}

// Summary is the comparison's figures, written as summary.json. Pointers are
// null where a figure is undefined (nothing to take it over).
type Summary struct {
	RunA      RunInfo `json:"run_a"`
	RunB      RunInfo `json:"run_b"`
	SameModel bool    `json:"same_model"`
	TopK      int     `json:"top_k"`
	TopN      int     `json:"top_n"`

	// Common examples are in both runs; Added only in B; Removed only in A (neither counts failed examples).
	Common  int `json:"common"`
	Added   int `json:"added"`
	Removed int `json:"removed"`
	// FailedA counts examples explained in B only whose ids are in A's errors.parquet (they failed in A);
	// FailedB those explained in A only that failed in B.
	FailedA int `json:"failed_a"`
	FailedB int `json:"failed_b"`
	// Flips counts common examples whose predicted label differs; FlipRate = Flips / Common.
	Flips       int     `json:"flips"`
	FlipRate    float64 `json:"flip_rate"`
	TextChanged int     `json:"text_changed"`
	// MaxProbShift and MeanProbShift are over common examples' ExampleRow.ProbShift.
	MaxProbShift  *float64 `json:"max_prob_shift"`
	MeanProbShift *float64 `json:"mean_prob_shift"`

	// AttributionPairs counts explanations present in both runs (TokenLevel + WordLevel).
	AttributionPairs int `json:"attribution_pairs"`
	TokenLevel       int `json:"token_level"`
	WordLevel        int `json:"word_level"`
	// TargetChanged counts pairs whose target differs (the predicted label flipped); they are left out of the drift and score figures.
	TargetChanged int `json:"target_changed"`
	// RowsOnlyA and RowsOnlyB count explanations of common examples in one run only (e.g. a method run in one of them).
	RowsOnlyA int `json:"rows_only_a"`
	RowsOnlyB int `json:"rows_only_b"`
	// DriftUndefined counts same-target pairs whose Spearman correlation is undefined.
	DriftUndefined int `json:"drift_undefined"`
	// MeanDrift and MaxDrift are over same-target pairs with a defined drift (1 − Spearman).
	MeanDrift *float64 `json:"mean_drift"`
	MaxDrift  *float64 `json:"max_drift"`
	// MeanTopKOverlap is over same-target pairs with at least one position.
	MeanTopKOverlap *float64 `json:"mean_top_k_overlap"`
	// MaxScoreShift is the largest |score_b − score_a| over same-target pairs.
	MaxScoreShift *float64 `json:"max_score_shift"`

	// Faithfulness holds the mean faithfulness shifts (B − A) over same-target pairs whose rows both have a faithfulness column.
	Faithfulness FaithfulnessShifts `json:"faithfulness"`
	// FaithfulnessByMethod are the same figures per method, by method.
	FaithfulnessByMethod []FaithfulnessShifts `json:"faithfulness_by_method"`
	// FaithfulnessOneSided counts same-target pairs with a faithfulness column in one run only (not compared).
	FaithfulnessOneSided int `json:"faithfulness_one_sided"`

	// GlobalTables counts (method, target) global importance tables in both runs; GlobalOnlyA/B name those in one.
	GlobalTables int      `json:"global_tables"`
	GlobalOnlyA  []string `json:"global_only_a"`
	GlobalOnlyB  []string `json:"global_only_b"`
	// GlobalRankShift is the largest |rank_b − rank_a| over words in the top N of either run and ranked in both.
	GlobalRankShift int `json:"global_rank_shift"`
	// EnteredTopN and LeftTopN count words entering and leaving the top N, over all tables.
	EnteredTopN int `json:"entered_top_n"`
	LeftTopN    int `json:"left_top_n"`

	// Notes say what the reader should know (different models, word-level comparisons, ...).
	Notes []string `json:"notes"`
	// FailOn are the --fail-on thresholds and their outcome.
	FailOn []Outcome `json:"fail_on"`
}

// FaithfulnessShifts are mean shifts B − A of the faithfulness measures
// (schemas.Faithfulness) over Count explanation pairs; the means are null when
// Count is 0. Higher comprehensiveness and insertion AUC, lower sufficiency and
// deletion AUC are more faithful.
type FaithfulnessShifts struct {
	// Method is the method ("" for all methods together).
	Method string `json:"method,omitempty"`
	Count  int    `json:"count"`
	// MeanAOPCComprehensiveness is the mean of aopc_comprehensiveness_shift (negative: B less faithful).
	MeanAOPCComprehensiveness *float64 `json:"mean_aopc_comprehensiveness_shift"`
	// MeanAOPCSufficiency is the mean of aopc_sufficiency_shift (positive: B less faithful).
	MeanAOPCSufficiency *float64 `json:"mean_aopc_sufficiency_shift"`
	MeanDeletionAUC     *float64 `json:"mean_deletion_auc_shift"`
	MeanInsertionAUC    *float64 `json:"mean_insertion_auc_shift"`
}

// Result is a whole comparison: the summary and the rows of the output files.
type Result struct {
	Summary      Summary
	Examples     []ExampleRow
	Attributions []AttributionRow
	Global       []GlobalRow
	// Drifts are the largest drifts (at most MaxShown), with the words the report colours.
	Drifts []Drift
	// Options are the options in force.
	Options Options
}

// Drift is one compared explanation with both runs' words, for the report.
type Drift struct {
	Row          AttributionRow
	TextA, TextB string
	WordsA       []schemas.Word
	WordsB       []schemas.Word
}

// Compare joins runs a and b by example id, method and target and computes every figure.
func Compare(ctx context.Context, a, b *Run, o Options) (*Result, error) {
	o = o.withDefaults()
	res := &Result{Options: o}
	s := &res.Summary
	s.GlobalOnlyA, s.GlobalOnlyB, s.Notes, s.FailOn = []string{}, []string{}, []string{}, []Outcome{}
	s.RunA, s.RunB = runInfo(a), runInfo(b)
	s.SameModel = a.Manifest.ModelSHA256 == b.Manifest.ModelSHA256
	s.TopK, s.TopN = o.TopK, o.TopN
	sa, err := openStream(ctx, a)
	if err != nil {
		return nil, err
	}
	defer sa.close()
	sb, err := openStream(ctx, b)
	if err != nil {
		return nil, err
	}
	defer sb.close()
	s.RunA.UnsortedShards, s.RunB.UnsortedShards = sa.unsorted, sb.unsorted
	var acc accum
	idA, rowsA, okA, err := sa.next()
	if err != nil {
		return nil, err
	}
	idB, rowsB, okB, err := sb.next()
	if err != nil {
		return nil, err
	}
	for okA || okB {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("compare: %w", err)
		}
		switch {
		case okA && (!okB || idA < idB):
			s.RunA.Examples++
			s.RunA.Rows += len(rowsA)
			e := onlyOne(idA, rowsA, StatusOnlyA)
			if why, ok := b.Failed[idA]; ok {
				e.Status, e.Error = StatusFailedB, why
				s.FailedB++
			} else {
				s.Removed++
			}
			res.Examples = append(res.Examples, e)
			idA, rowsA, okA, err = sa.next()
		case okB && (!okA || idB < idA):
			s.RunB.Examples++
			s.RunB.Rows += len(rowsB)
			e := onlyOne(idB, rowsB, StatusOnlyB)
			if why, ok := a.Failed[idB]; ok {
				e.Status, e.Error = StatusFailedA, why
				s.FailedA++
			} else {
				s.Added++
			}
			res.Examples = append(res.Examples, e)
			idB, rowsB, okB, err = sb.next()
		default:
			s.RunA.Examples++
			s.RunB.Examples++
			s.RunA.Rows += len(rowsA)
			s.RunB.Rows += len(rowsB)
			res.compareExample(idA, rowsA, rowsB, &acc)
			if idA, rowsA, okA, err = sa.next(); err != nil {
				return nil, err
			}
			idB, rowsB, okB, err = sb.next()
		}
		if err != nil {
			return nil, err
		}
	}
	acc.finish(s)
	res.compareGlobal(a, b)
	sort.SliceStable(res.Drifts, func(i, j int) bool { return *res.Drifts[i].Row.Drift > *res.Drifts[j].Row.Drift })
	if len(res.Drifts) > o.MaxShown {
		res.Drifts = res.Drifts[:o.MaxShown]
	}
	res.notes(a, b)
	return res, nil
}

func runInfo(r *Run) RunInfo {
	return RunInfo{Dir: r.Dir, RunID: r.Manifest.RunID, Model: r.Manifest.Model.Path, ModelSHA256: r.Manifest.ModelSHA256}
}

// accum sums the per-example figures.
type accum struct {
	probN              int
	probSum, probMax   float64
	driftN             int
	driftSum, driftMax float64
	overlapN           int
	overlapSum         float64
	scoreN             int
	scoreMax           float64
	// faith sums the faithfulness shifts per method.
	faith map[string]*faithSum
}

// faithSum sums faithfulness shifts: comprehensiveness, sufficiency, deletion AUC, insertion AUC.
type faithSum struct {
	n   int
	sum [4]float64
}

func (f *faithSum) add(d [4]float64) {
	f.n++
	for i := range d {
		f.sum[i] += d[i]
	}
}

func (f *faithSum) shifts(method string) FaithfulnessShifts {
	out := FaithfulnessShifts{Method: method, Count: f.n}
	if f.n > 0 {
		n := float64(f.n)
		out.MeanAOPCComprehensiveness, out.MeanAOPCSufficiency = ptr(f.sum[0]/n), ptr(f.sum[1]/n)
		out.MeanDeletionAUC, out.MeanInsertionAUC = ptr(f.sum[2]/n), ptr(f.sum[3]/n)
	}
	return out
}

func (acc *accum) finish(s *Summary) {
	if s.Common > 0 {
		s.FlipRate = float64(s.Flips) / float64(s.Common)
	}
	if acc.probN > 0 {
		s.MaxProbShift, s.MeanProbShift = ptr(acc.probMax), ptr(acc.probSum/float64(acc.probN))
	}
	if acc.driftN > 0 {
		s.MaxDrift, s.MeanDrift = ptr(acc.driftMax), ptr(acc.driftSum/float64(acc.driftN))
	}
	if acc.overlapN > 0 {
		s.MeanTopKOverlap = ptr(acc.overlapSum / float64(acc.overlapN))
	}
	if acc.scoreN > 0 {
		s.MaxScoreShift = ptr(acc.scoreMax)
	}
	var all faithSum
	s.FaithfulnessByMethod = []FaithfulnessShifts{}
	for _, m := range sortedKeys(acc.faith) {
		f := acc.faith[m]
		s.FaithfulnessByMethod = append(s.FaithfulnessByMethod, f.shifts(m))
		all.n += f.n
		for i := range all.sum {
			all.sum[i] += f.sum[i]
		}
	}
	s.Faithfulness = all.shifts("")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func ptr[T any](v T) *T { return &v }

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
		if rho, ok := Spearman(x, y); ok {
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

func (res *Result) notes(a, b *Run) {
	s := &res.Summary
	if !s.SameModel {
		s.Notes = append(s.Notes, fmt.Sprintf("The runs used different models: A %s (sha256 %s), B %s (sha256 %s).",
			a.Manifest.Model.Path, a.Manifest.ModelSHA256, b.Manifest.Model.Path, b.Manifest.ModelSHA256))
	}
	if s.WordLevel > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d of %d explanation pairs are compared at word level: their tokenizations differ (token texts or offsets), so positions are word spans merged where they overlap.", s.WordLevel, s.AttributionPairs))
	}
	if s.TargetChanged > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d explanation pairs explain different targets (the predicted label flipped); they are in attributions.parquet but not in the drift and score figures.", s.TargetChanged))
	}
	if s.Added+s.Removed > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d examples are only in A (removed) and %d only in B (added); they are counted, listed in examples.parquet, and not compared.", s.Removed, s.Added))
	}
	if s.FailedA+s.FailedB > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d examples explained in B failed in A and %d explained in A failed in B (their ids are in the other run's %s); they are listed in examples.parquet as failed_a and failed_b, not as added or removed.", s.FailedA, s.FailedB, schemas.ErrorsFile))
	}
	if s.FaithfulnessOneSided > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d same-target explanation pairs have faithfulness measures in one run only (an older run, or faithfulness off in one); their faithfulness is not compared.", s.FaithfulnessOneSided))
	}
	if s.RowsOnlyA+s.RowsOnlyB > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d explanations of common examples are only in A and %d only in B (a method or target in one run only).", s.RowsOnlyA, s.RowsOnlyB))
	}
	if s.TextChanged > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d common examples have different texts in the two runs.", s.TextChanged))
	}
	for _, r := range []*Run{a, b} {
		if len(r.Global) == 0 {
			s.Notes = append(s.Notes, fmt.Sprintf("Run %s has no global importances (%s); they are not compared.", r.Dir, schemas.GlobalImportanceFile))
		}
	}
}

// compareGlobal ranks each run's words per (method, target) by mean_abs
// (descending, ties by word) and joins the ranks by word.
func (res *Result) compareGlobal(a, b *Run) {
	s := &res.Summary
	type key struct{ method, target string }
	group := func(rows []schemas.GlobalImportanceRow) map[key][]schemas.GlobalImportanceRow {
		m := map[key][]schemas.GlobalImportanceRow{}
		for _, r := range rows {
			k := key{r.Method, r.Target}
			m[k] = append(m[k], r)
		}
		return m
	}
	ga, gb := group(a.Global), group(b.Global)
	keys := map[key]bool{}
	for k := range ga {
		keys[k] = true
	}
	for k := range gb {
		keys[k] = true
	}
	sorted := make([]key, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].method != sorted[j].method {
			return sorted[i].method < sorted[j].method
		}
		return sorted[i].target < sorted[j].target
	})
	n := int32(res.Options.TopN)
	for _, k := range sorted {
		name := k.method + "/" + k.target
		ra, rb := rankWords(ga[k]), rankWords(gb[k])
		switch {
		case ga[k] == nil:
			s.GlobalOnlyB = append(s.GlobalOnlyB, name)
		case gb[k] == nil:
			s.GlobalOnlyA = append(s.GlobalOnlyA, name)
		default:
			s.GlobalTables++
		}
		words := make([]string, 0, len(ra)+len(rb))
		for w := range ra {
			words = append(words, w)
		}
		for w := range rb {
			if _, ok := ra[w]; !ok {
				words = append(words, w)
			}
		}
		sort.Strings(words)
		var rows []GlobalRow
		for _, w := range words {
			row := GlobalRow{Method: k.method, Target: k.target, Word: w}
			wa, okA := ra[w]
			wb, okB := rb[w]
			if okA {
				row.RankA, row.MeanAbsA, row.TopA = ptr(wa.rank), ptr(wa.meanAbs), wa.rank <= n
			}
			if okB {
				row.RankB, row.MeanAbsB, row.TopB = ptr(wb.rank), ptr(wb.meanAbs), wb.rank <= n
			}
			if okA && okB {
				row.Shift = ptr(wb.rank - wa.rank)
				if row.TopA || row.TopB {
					d := wb.rank - wa.rank
					if d < 0 {
						d = -d
					}
					s.GlobalRankShift = max(s.GlobalRankShift, int(d))
				}
			}
			// Entering and leaving count only in tables both runs have.
			if ga[k] != nil && gb[k] != nil {
				row.Entered, row.Left = row.TopB && !row.TopA, row.TopA && !row.TopB
				if row.Entered {
					s.EnteredTopN++
				}
				if row.Left {
					s.LeftTopN++
				}
			}
			rows = append(rows, row)
		}
		res.Global = append(res.Global, rows...)
	}
}

type ranked struct {
	rank    int32
	meanAbs float64
}

// rankWords gives each word its 1-based rank by mean_abs, descending, ties by word.
func rankWords(rows []schemas.GlobalImportanceRow) map[string]ranked {
	rows = append([]schemas.GlobalImportanceRow(nil), rows...)
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].MeanAbs != rows[j].MeanAbs {
			return rows[i].MeanAbs > rows[j].MeanAbs
		}
		return rows[i].Word < rows[j].Word
	})
	out := make(map[string]ranked, len(rows))
	for i, r := range rows {
		if _, dup := out[r.Word]; !dup {
			out[r.Word] = ranked{rank: int32(i + 1), meanAbs: r.MeanAbs}
		}
	}
	return out
}
