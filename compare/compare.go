package compare

import (
	"context"
	"fmt"
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
			res.oneSided(&s.RunA, idA, rowsA, StatusOnlyA, &s.Removed, b.Failed, StatusFailedB, &s.FailedB)
			idA, rowsA, okA, err = sa.next()
		case okB && (!okA || idB < idA):
			res.oneSided(&s.RunB, idB, rowsB, StatusOnlyB, &s.Added, a.Failed, StatusFailedA, &s.FailedA)
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
