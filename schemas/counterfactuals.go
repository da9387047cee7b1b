package schemas

// CounterfactualsPrefix names the sharded counterfactual files
// (counterfactuals-SSSSS-of-NNNNN.parquet), written with the counterfactuals section on.
const CounterfactualsPrefix = "counterfactuals"

// CounterfactualEdit is one edited word of a counterfactual.
type CounterfactualEdit struct {
	// Op is delete or substitute.
	Op string `parquet:"op,zstd"`
	// WordIndex is the word's index among the example's words (as ExplanationRow.Words).
	WordIndex int32 `parquet:"word_index,zstd"`
	// Word is the original word.
	Word string `parquet:"word,zstd"`
	// Replacement is the new word of a substitution, "" for a deletion.
	Replacement string `parquet:"replacement,zstd"`
	// Start and End are the word's span in Text, in code points.
	Start int32 `parquet:"start,zstd"`
	End   int32 `parquet:"end,zstd"`
	// NewStart and NewEnd are the edit's span in CounterfactualText, in code points (empty for a deletion, where the word was).
	NewStart int32 `parquet:"new_start,zstd"`
	NewEnd   int32 `parquet:"new_end,zstd"`
}

// CounterfactualRow is one example's counterfactual: the smallest edit found
// that changes the model's prediction, re-scored on its own before it is
// written. The row of counterfactuals-SSSSS-of-NNNNN.parquet.
type CounterfactualRow struct {
	// RunID identifies the run.
	RunID string `parquet:"run_id,zstd"`
	// ExampleID is the example's id.
	ExampleID string `parquet:"example_id,zstd"`
	// Text is the original text.
	Text string `parquet:"text,zstd"`
	// GoldLabel is the input's label, nil when it has none.
	GoldLabel *string `parquet:"gold_label,optional,zstd"`
	// PredictedLabel is the model's prediction on Text.
	PredictedLabel string `parquet:"predicted_label,zstd"`
	// PredictedProb is its probability.
	PredictedProb float64 `parquet:"predicted_prob,zstd"`
	// Probs are the class probabilities on Text, in label-id order.
	Probs []float64 `parquet:"probs,list" parquet-element:",zstd"`
	// CounterfactualText is the edited text.
	CounterfactualText string `parquet:"counterfactual_text,zstd"`
	// CounterfactualLabel is the model's prediction on CounterfactualText (never PredictedLabel).
	CounterfactualLabel string `parquet:"counterfactual_label,zstd"`
	// CounterfactualProb is its probability.
	CounterfactualProb float64 `parquet:"counterfactual_prob,zstd"`
	// CounterfactualProbs are the class probabilities on CounterfactualText.
	CounterfactualProbs []float64 `parquet:"counterfactual_probs,list" parquet-element:",zstd"`
	// EditDistance is the number of words deleted or substituted.
	EditDistance int32 `parquet:"edit_distance,zstd"`
	// Edits are the edits in word order.
	Edits []CounterfactualEdit `parquet:"edits,list"`
	// Minimal reports that every smaller edit set over the candidate words and replacements was scored and none flips.
	Minimal bool `parquet:"minimal,zstd"`
	// ModelCalls is the number of edited texts the search scored.
	ModelCalls int32 `parquet:"model_calls,zstd"`
	// Budget is the search's budget in model evaluations.
	Budget int32 `parquet:"budget,zstd"`
	// Guide is the method whose attributions ordered the words ("" when none was available: word order).
	Guide string `parquet:"guide,zstd"`
	// Proposer is where replacement words came from: mlm, vocabulary or none.
	Proposer string `parquet:"proposer,zstd"`
	// Params is the JSON object of the search options in force.
	Params string `parquet:"params,zstd"`
	// Truncated reports that Text was cut to the model's maximum length (words past it are never edited).
	Truncated bool `parquet:"truncated,zstd"`
	// Source is the input file.
	Source string `parquet:"source,zstd"`
	// SourceLine is the 1-based line (or row) in Source.
	SourceLine int64 `parquet:"source_line,zstd"`
}
