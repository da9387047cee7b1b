package jobconfig

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/glassbox-ai/glassbox/inference"
)

// Manifest describes one run; it is written as manifest.json beside the outputs.
type Manifest struct {
	// RunID is the run's id.
	RunID string `json:"run_id"`
	// GlassboxVersion is the version of the binary that ran.
	GlassboxVersion string `json:"glassbox_version"`
	// Config is the config in force (Config.Canonical), embedded as JSON.
	Config json.RawMessage `json:"config"`
	// ModelSHA256 is the sha256 of the model's ONNX file (Model.ONNX).
	ModelSHA256 string `json:"model_sha256"`
	// Model says which files the run used and what it decided about the model.
	Model ModelInfo `json:"model"`
	// Int8 is the int8 graph's account when the job set int8; absent otherwise.
	Int8 *Int8 `json:"int8,omitempty"`
	// Warnings are the run's warnings (also printed when it starts), e.g. a masking fallback.
	Warnings []string `json:"warnings"`
	// InputFiles are the input files read, sorted.
	InputFiles []string `json:"input_files"`
	// Counts are the run's row counts.
	Counts Counts `json:"counts"`
	// Outputs are the paths of the files written.
	Outputs []string `json:"outputs"`
	// StartedAt is when the run started (UTC).
	StartedAt time.Time `json:"started_at"`
	// FinishedAt is when the run finished (UTC).
	FinishedAt time.Time `json:"finished_at"`
	// WallSeconds is FinishedAt − StartedAt in seconds.
	WallSeconds float64 `json:"wall_seconds"`
}

// ModelInfo describes the model a run used.
type ModelInfo struct {
	// Path is the model as the job named it (a folder or an .onnx file).
	Path string `json:"path"`
	// ONNX is the ONNX file used (see inference.Locate).
	ONNX string `json:"onnx"`
	// SHA256 is the ONNX file's sha256.
	SHA256 string `json:"sha256"`
	// ExternalData lists the files the graph's weights live in, with their sha256.
	ExternalData []FileDigest `json:"external_data,omitempty"`
	// MaxLength is the truncation length in force, in tokens.
	MaxLength int `json:"max_length"`
	// MaxLengthRule says where MaxLength came from.
	MaxLengthRule string `json:"max_length_rule"`
	// AttentionMask is the check of whether the model honours holes in the attention mask; nil when no method needed it.
	AttentionMask *inference.MaskCheck `json:"attention_mask,omitempty"`
}

// Int8 is the manifest's account of a run with int8 set: the graph every
// forward pass ran through and its measured effect on a seeded sample.
type Int8 struct {
	// Graph is the int8 graph (onnxgraph.QuantizeFile). Gradient methods
	// differentiate the float graph (Model.ONNX): the int8 operators have no backward rule.
	Graph string `json:"graph"`
	// Examples is the sample's size: the run's first examples in the order of
	// explanation.Seed(seed, id), explained with the float and the int8 graph.
	Examples int `json:"examples"`
	// SameLabel is the share of the sample whose predicted label the int8 graph keeps.
	SameLabel float64 `json:"same_label"`
	// Spearman maps each perturbation method measured (those selected, or
	// occlusion when none is) to the mean Spearman correlation (audit.Spearman)
	// of its float and int8 rows' token attributions, over the rows with the
	// same target in both (under target predicted, the examples whose label held).
	Spearman map[string]float64 `json:"spearman"`
}

// FileDigest is a file and its sha256.
type FileDigest struct {
	// Path is the file's path.
	Path string `json:"path"`
	// SHA256 is its sha256.
	SHA256 string `json:"sha256"`
}

// Counts are a run's row counts.
type Counts struct {
	// Read is the number of input rows read (records and bad records).
	Read int64 `json:"read"`
	// Explained is the number of input rows with at least one explanation row.
	Explained int64 `json:"explained"`
	// Failed is the number of input rows in errors.parquet with no explanation row.
	Failed int64 `json:"failed"`
	// RowsWritten maps each output (explanations, errors, global_importance, attention) to its row count.
	RowsWritten map[string]int64 `json:"rows_written"`
	// ErrorCodes maps each reason code (schemas.ReasonCodes) to its rows in errors.parquet; absent when there are none.
	ErrorCodes map[string]int64 `json:"error_codes,omitempty"`
}

// EncodeManifest returns the manifest's indented JSON (map keys sorted, trailing newline); the pipeline commits it with the same temp-then-rename write as its Parquet files.
func EncodeManifest(m Manifest) ([]byte, error) {
	if m.Config == nil {
		m.Config = json.RawMessage("null")
	}
	if m.InputFiles == nil {
		m.InputFiles = []string{}
	}
	if m.Outputs == nil {
		m.Outputs = []string{}
	}
	if m.Warnings == nil {
		m.Warnings = []string{}
	}
	if m.Counts.RowsWritten == nil {
		m.Counts.RowsWritten = map[string]int64{}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return append(b, '\n'), nil
}
