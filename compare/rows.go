package compare

// Output files, under the compare folder (OUT/compare).
const (
	// Dir is the folder under the output folder that holds the comparison.
	Dir = "compare"
	// ExamplesFile holds one ExampleRow per example of either run.
	ExamplesFile = "examples.parquet"
	// AttributionsFile holds one AttributionRow per (example, method, target) explanation of either run.
	AttributionsFile = "attributions.parquet"
	// GlobalFile holds one GlobalRow per (method, target, word) of either run's global importances.
	GlobalFile = "global.parquet"
	// SummaryFile is the comparison's figures and thresholds, as JSON (Summary).
	SummaryFile = "summary.json"
	// ReportFile is the comparison's static HTML report.
	ReportFile = "report.html"
)

// Example statuses (ExampleRow.Status, AttributionRow.Status).
const (
	StatusBoth  = "both"
	StatusOnlyA = "only_a"
	StatusOnlyB = "only_b"
	// StatusFailedA marks an example explained in B whose id is in A's errors.parquet (it failed in A);
	// StatusFailedB one explained in A that failed in B.
	StatusFailedA = "failed_a"
	StatusFailedB = "failed_b"
)

// ExampleRow is one example of either run, the row of examples.parquet.
type ExampleRow struct {
	// ExampleID is the example's id.
	ExampleID string `parquet:"example_id,zstd"`
	// Status is both, only_a (removed in B), only_b (added in B), failed_a (explained in B, failed in A)
	// or failed_b (explained in A, failed in B).
	Status string `parquet:"status,zstd"`
	// Text is the example's text in A (in B for only_b).
	Text string `parquet:"text,zstd"`
	// TextChanged reports that the two runs' texts for the id differ.
	TextChanged bool `parquet:"text_changed,zstd"`
	// GoldLabel is the gold label (A's, else B's), nil without one.
	GoldLabel *string `parquet:"gold_label,optional,zstd"`
	// PredictedA and PredictedB are the runs' predicted labels (nil where the run lacks the example).
	PredictedA *string `parquet:"predicted_a,optional,zstd"`
	PredictedB *string `parquet:"predicted_b,optional,zstd"`
	// Flipped reports PredictedA ≠ PredictedB.
	Flipped bool `parquet:"flipped,zstd"`
	// ProbsA and ProbsB are the runs' class probabilities in label-id order.
	ProbsA []float64 `parquet:"probs_a,list" parquet-element:",zstd"`
	ProbsB []float64 `parquet:"probs_b,list" parquet-element:",zstd"`
	// ProbShift is the largest |probs_b[i] − probs_a[i]| over the labels both have; nil unless both.
	ProbShift *float64 `parquet:"prob_shift,optional,zstd"`
	// Error is the failing run's error for failed_a and failed_b ("stage code: reason" of its first
	// errors.parquet row with the id); "" otherwise.
	Error string `parquet:"error,zstd"`
}

// AttributionRow compares one (example, method, target) explanation, the row of attributions.parquet.
type AttributionRow struct {
	// ExampleID is the example's id.
	ExampleID string `parquet:"example_id,zstd"`
	// Method is the attribution method.
	Method string `parquet:"method,zstd"`
	// Status is both, only_a or only_b (the explanation is in one run only).
	Status string `parquet:"status,zstd"`
	// TargetA and TargetB are the explained labels ("" where the run lacks the row); they differ
	// when the target is the predicted label and the prediction flipped.
	TargetA string `parquet:"target_a,zstd"`
	TargetB string `parquet:"target_b,zstd"`
	// ScoreA and ScoreB are the runs' target scores f(x); ScoreShift = ScoreB − ScoreA.
	ScoreA     *float64 `parquet:"score_a,optional,zstd"`
	ScoreB     *float64 `parquet:"score_b,optional,zstd"`
	ScoreShift *float64 `parquet:"score_shift,optional,zstd"`
	// Level is token (same tokenization) or word (word spans; the tokenizations differ); "" unless both.
	Level string `parquet:"level,zstd"`
	// Positions is the number of positions (non-special tokens, or word segments) compared.
	Positions int32 `parquet:"positions,zstd"`
	// Unmatched counts word segments only one run has words in (word level).
	Unmatched int32 `parquet:"unmatched,zstd"`
	// Spearman is the rank correlation of the two attributions over the positions; nil when undefined (fewer than 2 positions, or constant).
	Spearman *float64 `parquet:"spearman,optional,zstd"`
	// Drift is 1 − Spearman (0: same order, 2: reversed); nil when Spearman is.
	Drift *float64 `parquet:"drift,optional,zstd"`
	// TopK is k' = min(k, Positions), the size of each top list.
	TopK int32 `parquet:"top_k,zstd"`
	// TopKOverlap is |top_a ∩ top_b| / k' (positions ranked by |attribution|, ties by position); nil when k' = 0.
	TopKOverlap *float64 `parquet:"top_k_overlap,optional,zstd"`
	// TopA and TopB are the texts of each run's top k' positions, in rank order.
	TopA []string `parquet:"top_a,list" parquet-element:",zstd"`
	TopB []string `parquet:"top_b,list" parquet-element:",zstd"`
	// Left are the texts in A's top k' but not B's; Entered in B's but not A's.
	Left    []string `parquet:"left,list" parquet-element:",zstd"`
	Entered []string `parquet:"entered,list" parquet-element:",zstd"`
	// The faithfulness shifts are B − A of the rows' faithfulness measures (schemas.Faithfulness);
	// nil unless both rows have a faithfulness column and explain the same target.
	// AOPCComprehensivenessShift < 0: B's explanation is less faithful (removing its top tokens changes f less).
	AOPCComprehensivenessShift *float64 `parquet:"aopc_comprehensiveness_shift,optional,zstd"`
	// AOPCSufficiencyShift > 0: B's top tokens alone keep less of f (less faithful).
	AOPCSufficiencyShift *float64 `parquet:"aopc_sufficiency_shift,optional,zstd"`
	// DeletionAUCShift > 0 and InsertionAUCShift < 0 are less faithful in B.
	DeletionAUCShift  *float64 `parquet:"deletion_auc_shift,optional,zstd"`
	InsertionAUCShift *float64 `parquet:"insertion_auc_shift,optional,zstd"`
}

// GlobalRow compares one word's global importance for a method and target, the row of global.parquet.
type GlobalRow struct {
	// Method and Target name the global importance table.
	Method string `parquet:"method,zstd"`
	Target string `parquet:"target,zstd"`
	// Word is the word.
	Word string `parquet:"word,zstd"`
	// RankA and RankB are the word's 1-based ranks by mean_abs (descending, ties by word); nil where the run lacks it.
	RankA *int32 `parquet:"rank_a,optional,zstd"`
	RankB *int32 `parquet:"rank_b,optional,zstd"`
	// Shift is RankB − RankA (positive: the word fell); nil unless both.
	Shift *int32 `parquet:"shift,optional,zstd"`
	// MeanAbsA and MeanAbsB are the runs' mean |attribution| of the word.
	MeanAbsA *float64 `parquet:"mean_abs_a,optional,zstd"`
	MeanAbsB *float64 `parquet:"mean_abs_b,optional,zstd"`
	// TopA and TopB report rank ≤ N in each run.
	TopA bool `parquet:"top_a,zstd"`
	TopB bool `parquet:"top_b,zstd"`
	// Entered is TopB && !TopA; Left is TopA && !TopB.
	Entered bool `parquet:"entered,zstd"`
	Left    bool `parquet:"left,zstd"`
}
