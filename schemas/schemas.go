package schemas

import (
	"strings"
	"unicode/utf8"
)

// Version is the output schema version written on every explanation row;
// bump it when a column is added, removed, renamed or changes meaning.
const Version int32 = 4

// File-name prefixes and names of the output file sets, relative to the output directory.
const (
	// ExplanationsPrefix names the sharded explanation files (explanations-SSSSS-of-NNNNN.parquet).
	ExplanationsPrefix = "explanations"
	// AttentionPrefix names the optional sharded attention matrix files (attention-SSSSS-of-NNNNN.parquet).
	AttentionPrefix = "attention"
	// AttentionStatsPrefix names the sharded attention statistics files of the attention method (attention_stats-SSSSS-of-NNNNN.parquet).
	AttentionStatsPrefix = "attention_stats"
	// ErrorsFile is the single file of rows that could not be explained.
	ErrorsFile = "errors.parquet"
	// GlobalImportanceFile is the single file of corpus-wide word importances.
	GlobalImportanceFile = "global_importance.parquet"
	// FaithfulnessFile is the single file of faithfulness aggregated per method, target and metric.
	FaithfulnessFile = "faithfulness.parquet"
	// GenerationsFile is the single file of generated continuations (task: generation).
	GenerationsFile = "generations.parquet"
	// ManifestFile is the run manifest written beside the Parquet outputs.
	ManifestFile = "manifest.json"
	// AgreementPrefix names the sharded method-agreement files (agreement-SSSSS-of-NNNNN.parquet), written when two or more methods run.
	AgreementPrefix = "agreement"
	// AgreementSummaryFile is the single file of corpus-wide method agreement per method pair and target.
	AgreementSummaryFile = "agreement_summary.parquet"
	// SanityFile is the sanity check's per-example file (glassbox audit sanity).
	SanityFile = "sanity.parquet"
	// SanitySummaryFile is the sanity check's per-method, per-stage summary (glassbox audit sanity).
	SanitySummaryFile = "sanity_summary.parquet"
	// ReportFile is the run's HTML report (glassbox report; explain writes it unless --no-report).
	ReportFile = "report.html"
)

// Error stages, the values of ErrorRow.Stage.
const (
	StageRead     = "read"
	StageParse    = "parse"
	StageTokenize = "tokenize"
	StageInfer    = "infer"
	StageExplain  = "explain"
)

// HeadAverage is the AttentionMatrixRow.Head value of the average over all heads of a layer.
const HeadAverage int32 = -1

// MaxRawBytes bounds ErrorRow.Raw so a pathological input line cannot bloat errors.parquet.
const MaxRawBytes = 4096

// Token is one tokenizer token of an explained example, with its attribution.
type Token struct {
	// Index is the token's position in the model input (0-based, special tokens included).
	Index int32 `parquet:"index,zstd"`
	// Text is the token string as the tokenizer's vocabulary spells it.
	Text string `parquet:"text,zstd"`
	// Start is the first code point of the token's span in the text (Hugging Face offset_mapping).
	Start int32 `parquet:"start,zstd"`
	// End is one past the last code point of the span.
	End int32 `parquet:"end,zstd"`
	// ByteStart is the first UTF-8 byte of the span.
	ByteStart int32 `parquet:"byte_start,zstd"`
	// ByteEnd is one past the last UTF-8 byte of the span.
	ByteEnd int32 `parquet:"byte_end,zstd"`
	// WordIndex is the index into ExplanationRow.Words, -1 for special tokens.
	WordIndex int32 `parquet:"word_index,zstd"`
	// Special marks tokens never perturbed ([CLS], [SEP], <s>, ...); their attribution is 0.
	Special bool `parquet:"special,zstd"`
	// Attribution is the method's attribution to this token.
	Attribution float64 `parquet:"attribution,zstd"`
	// StdError is the attribution's standard error for methods that estimate by sampling (KernelSHAP), nil otherwise.
	StdError *float64 `parquet:"std_error,optional,zstd"`
}

// Word is one word of an explained example (a group of tokens sharing a word id).
type Word struct {
	// Text is the word's substring of the example text.
	Text string `parquet:"text,zstd"`
	// Start is the first code point of the word's span.
	Start int32 `parquet:"start,zstd"`
	// End is one past the last code point of the word's span.
	End int32 `parquet:"end,zstd"`
	// Attribution is the sum of the word's token attributions (or the method's own word attribution for LIME).
	Attribution float64 `parquet:"attribution,zstd"`
	// StdError is the word attribution's standard error where the method estimates one for words, nil otherwise.
	StdError *float64 `parquet:"std_error,optional,zstd"`
}

// ExplanationRow is one (example, method, target) explanation, the row of explanations-SSSSS-of-NNNNN.parquet.
type ExplanationRow struct {
	// RunID identifies the run (see jobconfig.RunID).
	RunID string `parquet:"run_id,zstd"`
	// ExampleID is the input row's id, or <source base name>:<line> when it has none.
	ExampleID string `parquet:"example_id,zstd"`
	// Text is the explained input text.
	Text string `parquet:"text,zstd"`
	// GoldLabel is the input's label column, nil when it has none.
	GoldLabel *string `parquet:"gold_label,optional,zstd"`
	// PredictedLabel is the model's arg-max label.
	PredictedLabel string `parquet:"predicted_label,zstd"`
	// Probs are the model's class probabilities in label-id order.
	Probs []float64 `parquet:"probs,list" parquet-element:",zstd"`
	// Method is the attribution method's name (occlusion, kernelshap, ...).
	Method string `parquet:"method,zstd"`
	// Params is the JSON object of the method's parameters in force.
	Params string `parquet:"params,zstd"`
	// Target is the label whose score is explained (in generation mode: the generated token, or the continuation for the sequence target).
	Target string `parquet:"target,zstd"`
	// Position is the generation step explained (0-based index of Target in the continuation), nil outside generation mode and for the sequence target.
	Position *int32 `parquet:"position,optional,zstd"`
	// TargetScore is f(x), the explained quantity on the unperturbed input.
	TargetScore float64 `parquet:"target_score,zstd"`
	// BaselineScore is f of the method's baseline or empty coalition, nil where the method has none.
	BaselineScore *float64 `parquet:"baseline_score,optional,zstd"`
	// Tokens are the input tokens with their attributions, special tokens included.
	Tokens []Token `parquet:"tokens,list"`
	// Words are the words with their attributions.
	Words []Word `parquet:"words,list"`
	// Quality is the method's own quality check, nil where it has none.
	Quality *float64 `parquet:"quality,optional,zstd"`
	// Faithfulness holds the explanation's faithfulness measures, nil when they were not computed.
	Faithfulness *Faithfulness `parquet:"faithfulness,optional"`
	// Truncated reports that the text was cut to the model's maximum length.
	Truncated bool `parquet:"truncated,zstd"`
	// Source is the input file the row came from.
	Source string `parquet:"source,zstd"`
	// SourceLine is the 1-based line (or row) of the input in Source.
	SourceLine int64 `parquet:"source_line,zstd"`
	// SchemaVersion is Version at the time of writing.
	SchemaVersion int32 `parquet:"schema_version,zstd"`
}

// Faithfulness is one explanation's faithfulness measures (ExplanationRow.Faithfulness;
// definitions in README.md and the faithfulness package).
type Faithfulness struct {
	// Masking is how tokens were removed: attention or replace.
	Masking string `parquet:"masking,zstd"`
	// Tokens is n, the number of non-special tokens (the units ranked and removed).
	Tokens int32 `parquet:"tokens,zstd"`
	// FullScore is f(x), scored with the perturbed inputs.
	FullScore float64 `parquet:"full_score,zstd"`
	// EmptyScore is f with every non-special token removed.
	EmptyScore float64 `parquet:"empty_score,zstd"`
	// KPercent are the k values in percent (1, 5, 10, 20, 50).
	KPercent []int32 `parquet:"k_percent,list" parquet-element:",zstd"`
	// KTokens are the token counts ceil(k·n/100) of KPercent.
	KTokens []int32 `parquet:"k_tokens,list" parquet-element:",zstd"`
	// Comprehensiveness holds f(x) − f(x without the top KTokens[i] tokens), per k.
	Comprehensiveness []float64 `parquet:"comprehensiveness,list" parquet-element:",zstd"`
	// Sufficiency holds f(x) − f(x with only the top KTokens[i] tokens), per k.
	Sufficiency []float64 `parquet:"sufficiency,list" parquet-element:",zstd"`
	// AOPCComprehensiveness is the mean of Comprehensiveness.
	AOPCComprehensiveness float64 `parquet:"aopc_comprehensiveness,zstd"`
	// AOPCSufficiency is the mean of Sufficiency.
	AOPCSufficiency float64 `parquet:"aopc_sufficiency,zstd"`
	// DeletionAUC is the trapezoid area under f against the fraction of top tokens removed.
	DeletionAUC float64 `parquet:"deletion_auc,zstd"`
	// InsertionAUC is the trapezoid area under f against the fraction of top tokens present.
	InsertionAUC float64 `parquet:"insertion_auc,zstd"`
}

// FaithfulnessRow is one faithfulness metric aggregated over a method's and
// target's explanations, the row of faithfulness.parquet.
type FaithfulnessRow struct {
	// RunID identifies the run.
	RunID string `parquet:"run_id,zstd"`
	// Method is the attribution method.
	Method string `parquet:"method,zstd"`
	// Target is the explained label.
	Target string `parquet:"target,zstd"`
	// Metric is the metric's name (comprehensiveness_1 … insertion_auc).
	Metric string `parquet:"metric,zstd"`
	// Count is the number of explanations aggregated.
	Count int64 `parquet:"count,zstd"`
	// Mean is the exact mean, correctly rounded.
	Mean float64 `parquet:"mean,zstd"`
	// P10 … P90 are quantiles (lower nearest rank, to a relative 2^-9).
	P10 float64 `parquet:"p10,zstd"`
	P25 float64 `parquet:"p25,zstd"`
	P50 float64 `parquet:"p50,zstd"`
	P75 float64 `parquet:"p75,zstd"`
	P90 float64 `parquet:"p90,zstd"`
}

// ErrorRow is one input row that could not be explained, the row of errors.parquet.
type ErrorRow struct {
	// RunID identifies the run.
	RunID string `parquet:"run_id,zstd"`
	// Source is the input file.
	Source string `parquet:"source,zstd"`
	// Line is the 1-based line or row number in Source.
	Line int64 `parquet:"line,zstd"`
	// ExampleID is the row's id when it could be determined, else nil.
	ExampleID *string `parquet:"example_id,optional,zstd"`
	// Stage is where the row failed: read, parse, tokenize, infer or explain.
	Stage string `parquet:"stage,zstd"`
	// Code is the machine-readable kind of failure, one of ReasonCodes (see codes.go).
	Code string `parquet:"code,zstd"`
	// Reason says why, in words.
	Reason string `parquet:"reason,zstd"`
	// Raw is the offending input (SanitizeRaw: valid UTF-8, at most MaxRawBytes bytes).
	Raw string `parquet:"raw,zstd"`
}

// GlobalImportanceRow is one word's corpus-wide importance for a method and target, the row of global_importance.parquet.
type GlobalImportanceRow struct {
	// RunID identifies the run.
	RunID string `parquet:"run_id,zstd"`
	// Method is the attribution method.
	Method string `parquet:"method,zstd"`
	// Target is the explained label.
	Target string `parquet:"target,zstd"`
	// Word is the word's text.
	Word string `parquet:"word,zstd"`
	// Count is the number of occurrences of the word.
	Count int64 `parquet:"count,zstd"`
	// Examples is the number of distinct examples containing the word.
	Examples int64 `parquet:"examples,zstd"`
	// Sum is the sum of the word's attributions over its occurrences.
	Sum float64 `parquet:"sum,zstd"`
	// Mean is Sum / Count.
	Mean float64 `parquet:"mean,zstd"`
	// MeanAbs is the mean of the absolute attributions.
	MeanAbs float64 `parquet:"mean_abs,zstd"`
	// Std is the sample standard deviation (n−1) of the attributions, 0 for a single occurrence.
	Std float64 `parquet:"std,zstd"`
	// TopShare is the share of Examples in which the word had the largest absolute attribution.
	TopShare float64 `parquet:"top_share,zstd"`
}

// AttentionMatrixRow is one layer/head attention matrix of one example, the row of attention-SSSSS-of-NNNNN.parquet.
type AttentionMatrixRow struct {
	// RunID identifies the run.
	RunID string `parquet:"run_id,zstd"`
	// ExampleID is the example's id.
	ExampleID string `parquet:"example_id,zstd"`
	// Layer is the 0-based layer.
	Layer int32 `parquet:"layer,zstd"`
	// Head is the 0-based head, or HeadAverage (-1) for the average over heads.
	Head int32 `parquet:"head,zstd"`
	// Tokens are the token strings labelling the matrix's rows and columns.
	Tokens []string `parquet:"tokens,list" parquet-element:",zstd"`
	// SeqLen is the number of (unpadded) positions, len(Tokens).
	SeqLen int32 `parquet:"seq_len,zstd"`
	// Weights is the SeqLen×SeqLen matrix in row-major order: Weights[i*SeqLen+j] is query i attending to key j.
	Weights []float32 `parquet:"weights,list" parquet-element:",zstd"`
}

// AttentionStatRow is one head's attention statistics for one example, the row of attention_stats-SSSSS-of-NNNNN.parquet (written with the attention method).
type AttentionStatRow struct {
	// RunID identifies the run.
	RunID string `parquet:"run_id,zstd"`
	// ExampleID is the example's id.
	ExampleID string `parquet:"example_id,zstd"`
	// Layer is the 0-based layer.
	Layer int32 `parquet:"layer,zstd"`
	// Head is the 0-based head.
	Head int32 `parquet:"head,zstd"`
	// SeqLen is the number of (unpadded) positions.
	SeqLen int32 `parquet:"seq_len,zstd"`
	// Entropy is the mean over query positions of the attention row's entropy, in nats.
	Entropy float64 `parquet:"entropy,zstd"`
	// MaxWeight is the mean over query positions of the row's largest weight.
	MaxWeight float64 `parquet:"max_weight,zstd"`
	// SpecialShare is the mean over query positions of the attention mass on special tokens.
	SpecialShare float64 `parquet:"special_share,zstd"`
	// MeanSpan is the mean over query positions of the distance-weighted span Σ_j a_ij·|i−j|.
	MeanSpan float64 `parquet:"mean_span,zstd"`
}

// AgreementRow compares two methods' token attributions of one example and
// target, the row of agreement-SSSSS-of-NNNNN.parquet: over the example's
// non-special tokens, Kendall's τ-b, Spearman's ρ (average ranks) and the
// overlap of the top-k tokens by signed attribution (ties by position).
type AgreementRow struct {
	// RunID identifies the run.
	RunID string `parquet:"run_id,zstd"`
	// ExampleID is the example's id.
	ExampleID string `parquet:"example_id,zstd"`
	// Target is the explained label both methods explain.
	Target string `parquet:"target,zstd"`
	// MethodA is the first method, in the run's method order.
	MethodA string `parquet:"method_a,zstd"`
	// MethodB is the second method.
	MethodB string `parquet:"method_b,zstd"`
	// KendallTau is τ-b of the two attribution vectors, nil when undefined (a constant vector, or under two tokens).
	KendallTau *float64 `parquet:"kendall_tau,optional,zstd"`
	// Spearman is Spearman's ρ, nil when undefined.
	Spearman *float64 `parquet:"spearman,optional,zstd"`
	// TopKOverlap is |top-k(a) ∩ top-k(b)| / k.
	TopKOverlap float64 `parquet:"topk_overlap,zstd"`
	// K is min(5, NTokens).
	K int32 `parquet:"k,zstd"`
	// NTokens is the number of non-special tokens compared.
	NTokens int32 `parquet:"n_tokens,zstd"`
}

// AgreementSummaryRow is the corpus-wide agreement of one method pair on one
// target, the row of agreement_summary.parquet.
type AgreementSummaryRow struct {
	// RunID identifies the run.
	RunID string `parquet:"run_id,zstd"`
	// MethodA and MethodB are the pair, as in AgreementRow.
	MethodA string `parquet:"method_a,zstd"`
	MethodB string `parquet:"method_b,zstd"`
	// Target is the explained label.
	Target string `parquet:"target,zstd"`
	// Count is the number of examples compared.
	Count int64 `parquet:"count,zstd"`
	// TauCount is the number of those whose τ-b is defined.
	TauCount int64 `parquet:"tau_count,zstd"`
	// MeanKendallTau is the mean τ-b over TauCount examples, nil when none.
	MeanKendallTau *float64 `parquet:"mean_kendall_tau,optional,zstd"`
	// SpearmanCount is the number of examples whose ρ is defined.
	SpearmanCount int64 `parquet:"spearman_count,zstd"`
	// MeanSpearman is the mean ρ over SpearmanCount examples, nil when none.
	MeanSpearman *float64 `parquet:"mean_spearman,optional,zstd"`
	// MeanTopKOverlap is the mean top-k overlap over Count examples.
	MeanTopKOverlap float64 `parquet:"mean_topk_overlap,zstd"`
}

// SanityRow is one example's sanity-check comparison (Adebayo et al. 2018)
// for one method at one stage of cascading randomisation, the row of
// sanity.parquet: Spearman's ρ between the token attributions of the original
// model and of the model whose top Stage layer groups are redrawn.
type SanityRow struct {
	// RunID identifies the sanity run.
	RunID string `parquet:"run_id,zstd"`
	// Method is the attribution method.
	Method string `parquet:"method,zstd"`
	// Stage is the number of layer groups randomised, 0 (none) to all.
	Stage int32 `parquet:"stage,zstd"`
	// LayerGroup is the group randomised last at this stage (head, layer.<k>, embeddings; none at stage 0).
	LayerGroup string `parquet:"layer_group,zstd"`
	// ExampleID is the example's id.
	ExampleID string `parquet:"example_id,zstd"`
	// Target is the label explained on every stage: the original model's prediction.
	Target string `parquet:"target,zstd"`
	// NTokens is the number of non-special tokens compared.
	NTokens int32 `parquet:"n_tokens,zstd"`
	// Spearman is ρ of the signed attributions, nil when undefined (a constant vector).
	Spearman *float64 `parquet:"spearman,optional,zstd"`
	// SpearmanAbs is ρ of the absolute attributions, nil when undefined.
	SpearmanAbs *float64 `parquet:"spearman_abs,optional,zstd"`
}

// SanitySummaryRow aggregates SanityRow per method and stage, the row of sanity_summary.parquet.
type SanitySummaryRow struct {
	// RunID identifies the sanity run.
	RunID string `parquet:"run_id,zstd"`
	// Method is the attribution method.
	Method string `parquet:"method,zstd"`
	// Stage is the number of layer groups randomised.
	Stage int32 `parquet:"stage,zstd"`
	// LayerGroup is the group randomised last at this stage.
	LayerGroup string `parquet:"layer_group,zstd"`
	// Count is the number of examples with a defined ρ.
	Count int64 `parquet:"count,zstd"`
	// MeanSpearman and MedianSpearman summarise ρ, nil when Count is 0.
	MeanSpearman   *float64 `parquet:"mean_spearman,optional,zstd"`
	MedianSpearman *float64 `parquet:"median_spearman,optional,zstd"`
	// CountAbs, MeanSpearmanAbs and MedianSpearmanAbs summarise ρ of |attribution|.
	CountAbs          int64    `parquet:"count_abs,zstd"`
	MeanSpearmanAbs   *float64 `parquet:"mean_spearman_abs,optional,zstd"`
	MedianSpearmanAbs *float64 `parquet:"median_spearman_abs,optional,zstd"`
	// Threshold is the flagging threshold in force.
	Threshold float64 `parquet:"threshold,zstd"`
	// Flagged marks (on every row of the method) a method whose median ρ at the final stage, every layer group randomised, is above Threshold: its attributions barely depend on the weights.
	Flagged bool `parquet:"flagged,zstd"`
}

// SanitizeRaw makes s fit ErrorRow.Raw: invalid UTF-8 bytes become U+FFFD and
// the result is cut to at most MaxRawBytes bytes on a rune boundary, so the
// column stays valid UTF-8 whatever the input held.
func SanitizeRaw(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= MaxRawBytes {
		return s
	}
	cut := MaxRawBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
