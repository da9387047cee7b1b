package schemas

// GenerationRow is one prompt and the continuation the model generated for it
// (task: generation), the row of generations.parquet.
type GenerationRow struct {
	// RunID identifies the run.
	RunID string `parquet:"run_id,zstd"`
	// ExampleID is the input row's id.
	ExampleID string `parquet:"example_id,zstd"`
	// Prompt is the input text.
	Prompt string `parquet:"prompt,zstd"`
	// PromptIDs are the prompt's token ids as fed to the model.
	PromptIDs []int64 `parquet:"prompt_ids,list" parquet-element:",zstd"`
	// Continuation is the generated text: the steps' texts concatenated.
	Continuation string `parquet:"continuation,zstd"`
	// Steps are the generated tokens in order.
	Steps []GenerationStep `parquet:"steps,list"`
	// LogProb is the continuation's log-probability, the sum of the steps' LogProb.
	LogProb float64 `parquet:"log_prob,zstd"`
	// StopReason is why generation ended: stop_token, stop_string, max_new_tokens or max_length.
	StopReason string `parquet:"stop_reason,zstd"`
	// Truncated reports that the prompt was cut to the model's maximum length.
	Truncated bool `parquet:"truncated,zstd"`
	// Source is the input file the row came from.
	Source string `parquet:"source,zstd"`
	// SourceLine is the 1-based line (or row) of the input in Source.
	SourceLine int64 `parquet:"source_line,zstd"`
	// SchemaVersion is Version at the time of writing.
	SchemaVersion int32 `parquet:"schema_version,zstd"`
}

// GenerationStep is one generated token with the model's distribution at its step.
type GenerationStep struct {
	// Step is the token's index in the continuation (0-based).
	Step int32 `parquet:"step,zstd"`
	// TokenID is the generated token's id.
	TokenID int64 `parquet:"token_id,zstd"`
	// Token is the token as the vocabulary spells it.
	Token string `parquet:"token,zstd"`
	// Text is the token decoded alone.
	Text string `parquet:"text,zstd"`
	// LogProb is log p(token | prompt + earlier generated tokens), under teacher forcing.
	LogProb float64 `parquet:"log_prob,zstd"`
	// Prob is exp(LogProb).
	Prob float64 `parquet:"prob,zstd"`
	// Top are the most probable tokens at the step, most probable first (ties: lower id).
	Top []TokenAlternative `parquet:"top,list"`
}

// TokenAlternative is one candidate token at a generation step.
type TokenAlternative struct {
	// TokenID is the token's id.
	TokenID int64 `parquet:"token_id,zstd"`
	// Token is the token as the vocabulary spells it.
	Token string `parquet:"token,zstd"`
	// Prob is its probability at the step.
	Prob float64 `parquet:"prob,zstd"`
}
