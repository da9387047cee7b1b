package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/glassbox-ai/glassbox/schemas"
)

// Manifest is the part of manifest.json (jobconfig.Manifest) the report shows;
// unknown keys are ignored so newer manifests still load.
type Manifest struct {
	// RunID is the run's id.
	RunID string `json:"run_id"`
	// GlassboxVersion is the version of the binary that ran.
	GlassboxVersion string `json:"glassbox_version"`
	// Config is the config in force, as JSON.
	Config json.RawMessage `json:"config"`
	// ModelSHA256 is the sha256 of the ONNX file used.
	ModelSHA256 string `json:"model_sha256"`
	// Model describes the model files and decisions.
	Model struct {
		Path          string `json:"path"`
		ONNX          string `json:"onnx"`
		MaxLength     int    `json:"max_length"`
		MaxLengthRule string `json:"max_length_rule"`
		AttentionMask *struct {
			Honoured bool   `json:"honoured"`
			Evidence string `json:"evidence"`
		} `json:"attention_mask"`
	} `json:"model"`
	// Warnings are the run's warnings.
	Warnings []string `json:"warnings"`
	// InputFiles are the input files read.
	InputFiles []string `json:"input_files"`
	// Counts are the run's row counts.
	Counts struct {
		Read        int64            `json:"read"`
		Explained   int64            `json:"explained"`
		Failed      int64            `json:"failed"`
		RowsWritten map[string]int64 `json:"rows_written"`
	} `json:"counts"`
	// StartedAt is when the run started.
	StartedAt time.Time `json:"started_at"`
	// WallSeconds is the run's wall-clock time.
	WallSeconds float64 `json:"wall_seconds"`
}

// Options bound what the page holds.
type Options struct {
	// MaxExamples is the most examples the page holds (default 200).
	MaxExamples int
	// MaxAttentionExamples is the most examples whose attention matrices are drawn (default 4).
	MaxAttentionExamples int
	// MaxErrors is the most error rows listed (default 1000).
	MaxErrors int
	// TopWords is the number of words per sign in each global chart (default 12).
	TopWords int
	// MaxCounterfactuals is the most counterfactual pairs the page shows (default 100).
	MaxCounterfactuals int
}

func (o Options) withDefaults() Options {
	if o.MaxExamples <= 0 {
		o.MaxExamples = 200
	}
	if o.MaxAttentionExamples <= 0 {
		o.MaxAttentionExamples = 4
	}
	if o.MaxErrors <= 0 {
		o.MaxErrors = 1000
	}
	if o.TopWords <= 0 {
		o.TopWords = 12
	}
	if o.MaxCounterfactuals <= 0 {
		o.MaxCounterfactuals = 100
	}
	return o
}

// Run is everything the report shows, read from one run folder.
type Run struct {
	// Dir is the run folder.
	Dir string
	// Manifest is the run's manifest.
	Manifest Manifest
	// Labels are the model's labels in label-id order, as far as the rows reveal them.
	Labels []string
	// Methods are the methods with explanation rows, sorted.
	Methods []string
	// Targets are the explained labels, sorted.
	Targets []string
	// Rows is the number of explanation rows.
	Rows int64
	// Summaries are every explained example's prediction, in example-id order.
	Summaries []Summary
	// Quality holds each method's non-null quality values.
	Quality map[string][]float64
	// Examples are the selected examples with their rows.
	Examples []Example
	// Selection says how Examples were chosen.
	Selection Selection
	// Global are the global importance rows.
	Global []schemas.GlobalImportanceRow
	// Errors are the first MaxErrors error rows, by source and line.
	Errors []schemas.ErrorRow
	// ErrorsTotal is the number of error rows.
	ErrorsTotal int
	// ErrorClasses counts the errors by reason code, stage and reason with names and numbers elided.
	ErrorClasses []ErrorClass
	// Attention are the examples with attention matrices drawn (at most MaxAttentionExamples).
	Attention []AttentionExample
	// AttentionLeftOut is the number of examples with matrices not drawn.
	AttentionLeftOut int
	// AttentionStats are the per-layer/head means of attention_stats over all examples.
	AttentionStats []HeadStat
	// Surrogates is surrogates.json's content, nil when the run has none.
	Surrogates *Surrogates
	// Sanity is sanity_summary.parquet's content (glassbox audit sanity), nil when the run has none.
	Sanity *Sanity
	// Faithfulness are faithfulness.parquet's rows (method × target × metric), none when the run has none.
	Faithfulness []schemas.FaithfulnessRow
	// Agreement are agreement_summary.parquet's rows (method pair × target), none when the run has none.
	Agreement []schemas.AgreementSummaryRow
	// Counterfactuals summarises counterfactuals-*.parquet, nil when the run has none.
	Counterfactuals *Counterfactuals
	// Prototypes are prototypes.parquet's rows (the examples section), none when the run has none.
	Prototypes []schemas.PrototypeRow
	// Options are the bounds in force.
	Options Options
}

// Summary is one explained example's prediction, the input of the selection.
type Summary struct {
	ID         string
	Gold       string
	HasGold    bool
	Predicted  string
	Confidence float64
	Truncated  bool
}

// Wrong reports whether the example has a gold label that differs from the prediction.
func (s Summary) Wrong() bool { return s.HasGold && s.Gold != s.Predicted }

// Example is one selected example with its explanation rows (by method, then target).
type Example struct {
	Summary
	// Why is the selection group the example came from.
	Why  string
	Text string
	// Probs are the class probabilities in label-id order.
	Probs      []float64
	Source     string
	SourceLine int64
	Rows       []schemas.ExplanationRow
}

// AttentionExample is one example's attention matrices, by layer then head (head −1, the average, first).
type AttentionExample struct {
	ID       string
	Matrices []schemas.AttentionMatrixRow
	// Rows are the example's rollout and flow explanation rows, when the run has them.
	Rows []schemas.ExplanationRow
}

// HeadStat is the mean of attention_stats over examples for one layer and head.
type HeadStat struct {
	Layer, Head                                int32
	N                                          int64
	Entropy, MaxWeight, SpecialShare, MeanSpan float64
}

// Count is a named count.
type Count struct {
	Name string
	N    int
}

// ErrorClass is a count of error rows with the same reason code, stage and
// reason class; Code is empty for runs written before errors.parquet had codes.
type ErrorClass struct {
	Code string
	Name string
	N    int
}

// Load reads the run in dir through fsys. Missing optional files
// (errors.parquet, attention files, surrogates.json) leave their part empty;
// a missing manifest.json is an error, since without it the run is not complete.
func Load(ctx context.Context, fsys FS, dir string, opts Options) (*Run, error) {
	opts = opts.withDefaults()
	r := &Run{Dir: dir, Options: opts, Quality: map[string][]float64{}}
	m, err := ReadManifest(ctx, fsys, dir)
	if err != nil {
		return nil, err
	}
	r.Manifest = *m
	if r.Global, err = readOptional[schemas.GlobalImportanceRow](ctx, fsys, join(dir, schemas.GlobalImportanceFile)); err != nil {
		return nil, err
	}
	if err := r.loadErrors(ctx, fsys); err != nil {
		return nil, err
	}
	shards, err := Shards(ctx, fsys, dir)
	if err != nil {
		return nil, err
	}
	if err := r.loadExplanations(ctx, fsys, shards); err != nil {
		return nil, err
	}
	if err := r.loadAttention(ctx, fsys, shards); err != nil {
		return nil, err
	}
	if r.Surrogates, err = loadSurrogates(ctx, fsys, join(dir, SurrogatesFile)); err != nil {
		return nil, err
	}
	if r.Sanity, err = LoadSanity(ctx, fsys, dir); err != nil {
		return nil, err
	}
	if r.Faithfulness, err = readOptional[schemas.FaithfulnessRow](ctx, fsys, join(dir, schemas.FaithfulnessFile)); err != nil {
		return nil, err
	}
	if r.Agreement, err = readOptional[schemas.AgreementSummaryRow](ctx, fsys, join(dir, schemas.AgreementSummaryFile)); err != nil {
		return nil, err
	}
	if r.Counterfactuals, err = loadCounterfactuals(ctx, fsys, dir, opts.MaxCounterfactuals); err != nil {
		return nil, err
	}
	if r.Prototypes, err = readOptional[schemas.PrototypeRow](ctx, fsys, join(dir, schemas.PrototypesFile)); err != nil {
		return nil, err
	}
	return r, nil
}

// ReadManifest reads dir's manifest.json, the marker of a complete run: a
// missing one is an error that says so.
func ReadManifest(ctx context.Context, fsys FS, dir string) (*Manifest, error) {
	b, err := readAll(ctx, fsys, Join(dir, schemas.ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("report: %w (is %s a finished run?)", err, dir)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("report: %s: %w", Join(dir, schemas.ManifestFile), err)
	}
	return &m, nil
}

// ReadOptional reads every row of a Parquet file, none when it does not exist.
func ReadOptional[T any](ctx context.Context, fsys FS, path string) ([]T, error) {
	return readOptional[T](ctx, fsys, path)
}

// Shards returns the explanation shards of the run in dir, sorted.
func Shards(ctx context.Context, fsys FS, dir string) ([]string, error) {
	shards, err := fsys.Glob(ctx, Join(dir, schemas.ExplanationsPrefix+"-*-of-*.parquet"))
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return shards, nil
}

// readOptional reads every row of a Parquet file, none when it does not exist.
func readOptional[T any](ctx context.Context, fsys FS, path string) ([]T, error) {
	ok, err := exists(ctx, fsys, path)
	if err != nil || !ok {
		return nil, err
	}
	return readRows[T](ctx, fsys, path)
}

// readRows reads every row of a Parquet file.
func readRows[T any](ctx context.Context, fsys FS, path string) ([]T, error) {
	var rows []T
	err := eachRow(ctx, fsys, path, func(batch []T) error {
		rows = append(rows, batch...)
		return nil
	})
	return rows, err
}

// eachRow streams the rows of a Parquet file to fn in batches of 256 (fn may keep them).
func eachRow[T any](ctx context.Context, fsys FS, path string, fn func([]T) error) (err error) {
	return EachRow(ctx, fsys, path, fn)
}

// EachRow streams the rows of a Parquet file to fn in batches of 256 (fn may
// keep them; an error from fn stops the read and is returned as is). A file
// that FS opens as a local file is read in place; others are read into memory
// first. T may name a subset of the file's columns.
func EachRow[T any](ctx context.Context, fsys FS, path string, fn func([]T) error) (err error) {
	rc, err := fsys.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer rc.Close()
	var ra io.ReaderAt
	var size int64
	if f, ok := rc.(*os.File); ok {
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("report: read %s: %w", path, err)
		}
		ra, size = f, st.Size()
	} else {
		b, err := io.ReadAll(rc)
		if err != nil {
			return fmt.Errorf("report: read %s: %w", path, err)
		}
		ra, size = bytes.NewReader(b), int64(len(b))
	}
	// parquet-go panics on files that do not match T; make that an error.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("report: read %s: %v", path, p)
		}
	}()
	if _, err := parquet.OpenFile(ra, size); err != nil {
		return fmt.Errorf("report: read %s: %w", path, err)
	}
	pr := parquet.NewGenericReader[T](io.NewSectionReader(ra, 0, size))
	defer pr.Close()
	for {
		// A fresh batch each time: parquet-go reuses the slices of the values it decodes into, and callers keep rows.
		batch := make([]T, 256)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("report: read %s: %w", path, err)
		}
		n, rerr := pr.Read(batch)
		if n > 0 {
			if err := fn(batch[:n]); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("report: read %s: %w", path, rerr)
		}
	}
}

func (r *Run) loadErrors(ctx context.Context, fsys FS) error {
	rows, err := readOptional[schemas.ErrorRow](ctx, fsys, join(r.Dir, schemas.ErrorsFile))
	if err != nil {
		return err
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Source != rows[j].Source {
			return rows[i].Source < rows[j].Source
		}
		return rows[i].Line < rows[j].Line
	})
	classes := map[ErrorClass]int{}
	for _, e := range rows {
		classes[ErrorClass{Code: e.Code, Name: e.Stage + ": " + reasonClass(e.Reason)}]++
	}
	r.ErrorClasses = make([]ErrorClass, 0, len(classes))
	for c, n := range classes {
		c.N = n
		r.ErrorClasses = append(r.ErrorClasses, c)
	}
	sort.Slice(r.ErrorClasses, func(i, j int) bool {
		a, b := r.ErrorClasses[i], r.ErrorClasses[j]
		if a.N != b.N {
			return a.N > b.N
		}
		if a.Code != b.Code {
			return a.Code < b.Code
		}
		return a.Name < b.Name
	})
	r.ErrorsTotal = len(rows)
	if len(rows) > r.Options.MaxErrors {
		rows = rows[:r.Options.MaxErrors]
	}
	r.Errors = rows
	return nil
}

// reasonClass elides quoted strings and numbers from an error reason, so
// `duplicate id "a" (first on line 1)` and `duplicate id "b" (first on line 9)` count together.
func reasonClass(s string) string {
	var out []rune
	inQuote := false
	lastDigit := false
	for _, c := range s {
		switch {
		case c == '"':
			if !inQuote {
				out = append(out, '"', '…', '"')
			}
			inQuote = !inQuote
			lastDigit = false
		case inQuote:
		case c >= '0' && c <= '9':
			if !lastDigit {
				out = append(out, 'N')
			}
			lastDigit = true
		default:
			if lastDigit && c == '.' {
				continue // a decimal point inside a number
			}
			out = append(out, c)
			lastDigit = false
		}
	}
	return string(out)
}

// argmax returns the index of the largest value, -1 for none.
func argmax(v []float64) int {
	best := -1
	for i, x := range v {
		if best < 0 || x > v[best] || (math.IsNaN(v[best]) && !math.IsNaN(x)) {
			best = i
		}
	}
	return best
}
