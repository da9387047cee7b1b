package pipelines

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/explainer"
	"github.com/glassbox-ai/glassbox/jobconfig"
	"github.com/glassbox-ai/glassbox/runner"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/transforms"
	"github.com/parquet-go/parquet-go"
)

// RunOptions are the driver's choices that are not part of the job's config.
type RunOptions struct {
	// Version is Glassbox's version, written in the manifest.
	Version string
	// Progress receives a progress line every ProgressEvery; nil disables it.
	Progress io.Writer
	// ProgressEvery is the progress interval (default 2s).
	ProgressEvery time.Duration
	// Warnings receives each warning as a "warning: ..." line when the run finds it; nil discards them (they stay in the manifest).
	Warnings io.Writer
}

// Summary is what a finished explain run reports.
type Summary struct {
	// RunID is the run's id.
	RunID string
	// Output is the output directory.
	Output string
	// Manifest is the manifest's path.
	Manifest string
	// Counts are the run's counts, as in the manifest.
	Counts jobconfig.Counts
	// Outputs are the files written.
	Outputs []string
	// Wall is the run's wall-clock time.
	Wall time.Duration
	// Warnings are the run's warnings, as in the manifest.
	Warnings []string
}

// RunExplain validates the config, lists the inputs, derives the run id,
// prepares the model (exposing attention when a method needs it), runs the
// explain pipeline on the selected runner and writes manifest.json.
func RunExplain(ctx context.Context, cfg *jobconfig.Config, o RunOptions) (*Summary, error) {
	started := time.Now().UTC()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := runner.Check(); err != nil {
		return nil, err
	}
	files, err := listInputs(ctx, cfg.Input.Path)
	if err != nil {
		return nil, err
	}
	model, err := describeModel(cfg.Model)
	if err != nil {
		return nil, err
	}
	modelPath, modelSHA := model.ONNX, model.identity()
	canon, err := cfg.Canonical()
	if err != nil {
		return nil, err
	}
	runID := cfg.RunID
	if runID == "" {
		// Where the outputs go does not change what is computed: the same job
		// written to another folder keeps its run id, so its files stay byte-identical.
		ident := *cfg
		ident.Output, ident.RunID = "", ""
		identJSON, err := ident.Canonical()
		if err != nil {
			return nil, err
		}
		runID = jobconfig.RunID(identJSON, modelSHA, files)
	}
	spec, err := specFromConfig(cfg, runID)
	if err != nil {
		return nil, err
	}
	if spec.NeedsAttention() {
		if spec.GraphPath, spec.AttentionOutputs, err = exposeAttention(modelPath, cfg.Output, modelSHA, attentionUsers(spec)); err != nil {
			return nil, err
		}
	}
	specJSON, err := spec.Encode()
	if err != nil {
		return nil, err
	}
	// Fail here, once, with the model's own error, rather than in every worker;
	// in-process workers reuse this session.
	ex, release, err := transforms.Preload(specJSON)
	if err != nil {
		return nil, err
	}
	defer release()
	model.MaxLength, model.MaxLengthRule = ex.Model().MaxLength, ex.Model().MaxLengthRule
	model.AttentionMask = ex.MaskCheck()
	var warnings []string
	if ex.MaskingFallback() {
		warnings = append(warnings, fmt.Sprintf("masking: %s does not honour holes in the attention mask, so perturbation methods asked for masking %q use replace masking (token id %d) instead: %s",
			model.ONNX, explainer.MaskingAuto, ex.Model().MaskID, model.AttentionMask.Evidence))
	}
	if o.Warnings != nil {
		for _, w := range warnings {
			fmt.Fprintf(o.Warnings, "warning: %s\n", w)
		}
	}
	if err := clearOutputs(ctx, cfg.Output); err != nil {
		return nil, err
	}
	job := ExplainJob{
		Spec: specJSON, Files: files, Format: cfg.Input.Format,
		TextField: cfg.Input.TextField, IDField: cfg.Input.IDField, LabelField: cfg.Input.LabelField,
		RunID: runID, Output: cfg.Output, Shards: cfg.Shards, Buffer: cfg.BatchSize,
		AttentionMatrices: cfg.AttentionMatrices.FirstN > 0 || len(cfg.AttentionMatrices.Examples) > 0,
		AttentionStats:    cfg.Methods.Attention != nil,
	}
	p, err := BuildExplain(job)
	if err != nil {
		return nil, err
	}
	base := snapshot()
	stop := startProgress(o)
	res, err := runner.Run(ctx, p)
	stop()
	if err != nil {
		return nil, err
	}
	counts := countsFrom(res, base)
	outputs, written, err := outputRows(ctx, cfg.Output, job.AttentionMatrices, job.AttentionStats)
	if err != nil {
		return nil, err
	}
	counts.RowsWritten = written
	finished := time.Now().UTC()
	m := jobconfig.Manifest{
		RunID: runID, GlassboxVersion: o.Version, Config: canon, ModelSHA256: model.SHA256, Model: model.ModelInfo, Warnings: warnings,
		InputFiles: files, Counts: counts, Outputs: outputs,
		StartedAt: started, FinishedAt: finished, WallSeconds: finished.Sub(started).Seconds(),
	}
	manifestPath := transforms.JoinPath(cfg.Output, schemas.ManifestFile)
	if err := writeManifest(ctx, manifestPath, m); err != nil {
		return nil, err
	}
	return &Summary{RunID: runID, Output: cfg.Output, Manifest: manifestPath, Counts: counts, Outputs: outputs, Wall: finished.Sub(started), Warnings: warnings}, nil
}

// attentionUsers names what in the job needs the attention probabilities, for error messages.
func attentionUsers(s explainer.Spec) string {
	var users []string
	for _, m := range s.Methods {
		if (explainer.MethodSpec{Name: m.Name}).Kind() == explainer.KindAttention {
			users = append(users, "method "+m.Name)
		}
	}
	if s.AttentionFirstN > 0 || len(s.AttentionExamples) > 0 {
		users = append(users, "attention_matrices")
	}
	return strings.Join(users, ", ")
}

// specFromConfig maps the job config onto the workers' explainer spec.
func specFromConfig(cfg *jobconfig.Config, runID string) (explainer.Spec, error) {
	s := explainer.Spec{
		Model: cfg.Model, MaxLength: cfg.MaxLength, IntraOpThreads: cfg.IntraOpThreads, RunID: runID, Seed: cfg.Seed,
		Target: cfg.Target, OutputKind: cfg.OutputKind, BatchSize: cfg.BatchSize, Shards: cfg.Shards,
		AttentionExamples: cfg.AttentionMatrices.Examples, AttentionFirstN: cfg.AttentionMatrices.FirstN,
	}
	for _, name := range cfg.Methods.Names() {
		mc := explainer.MethodConfig{Name: name}
		switch p := cfg.Methods.Params(name).(type) {
		case *jobconfig.OcclusionParams:
			mc.Level, mc.Masking = p.Level, p.Masking
		case *jobconfig.KernelSHAPParams:
			mc.Samples, mc.Players, mc.Masking = p.Samples, p.Players, p.Masking
		case *jobconfig.LIMEParams:
			mc.Samples, mc.KernelWidth, mc.Alpha, mc.Masking = p.Samples, p.KernelWidth, p.Alpha, p.Masking
		case *jobconfig.AttentionParams:
			mc.Layer, mc.Head = p.Layer, p.Head
		case *jobconfig.RolloutParams:
		case *jobconfig.FlowParams:
			mc.MaxLength = p.MaxLength
		default:
			return explainer.Spec{}, fmt.Errorf("methods.%s: not available in this version", name)
		}
		s.Methods = append(s.Methods, mc)
	}
	if len(s.Methods) == 0 {
		return explainer.Spec{}, fmt.Errorf("methods: no method selected")
	}
	if _, err := explainer.BuildMethods(s.Methods); err != nil {
		return explainer.Spec{}, err
	}
	return s, nil
}

// listInputs expands the input pattern: local paths through corpus.ListInputs,
// URLs (gs://...) through Beam's file systems. The sorted listing feeds the run id.
func listInputs(ctx context.Context, pattern string) ([]string, error) {
	if !strings.Contains(pattern, "://") {
		files, err := corpus.ListInputs(pattern)
		if err != nil {
			return nil, fmt.Errorf("input: %w", err)
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("input: %s matches no files", pattern)
		}
		return files, nil
	}
	fs, err := filesystem.New(ctx, pattern)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", pattern, err)
	}
	defer fs.Close()
	files, err := fs.List(ctx, pattern)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", pattern, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("input: %s matches no files", pattern)
	}
	sort.Strings(files)
	return files, nil
}

// outputPatterns are the names a run writes; a new run removes earlier ones
// first so a changed shard count cannot leave stale shards beside new ones.
var outputPatterns = []string{schemas.ExplanationsPrefix + "-*-of-*.parquet", schemas.AttentionPrefix + "-*-of-*.parquet", schemas.AttentionStatsPrefix + "-*-of-*.parquet", schemas.ErrorsFile, schemas.GlobalImportanceFile, schemas.ManifestFile}

func clearOutputs(ctx context.Context, dir string) error {
	for _, pat := range outputPatterns {
		matches, err := listOutput(ctx, dir, pat)
		if err != nil {
			return err
		}
		for _, m := range matches {
			if err := transforms.FileSystemFor(m).Remove(ctx, m); err != nil {
				return fmt.Errorf("clear earlier output: %w", err)
			}
		}
	}
	return nil
}

func listOutput(ctx context.Context, dir, pattern string) ([]string, error) {
	if !strings.Contains(dir, "://") {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", dir, err)
		}
		sort.Strings(m)
		return m, nil
	}
	glob := transforms.JoinPath(dir, pattern)
	fs, err := filesystem.New(ctx, glob)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	defer fs.Close()
	m, err := fs.List(ctx, glob)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	sort.Strings(m)
	return m, nil
}

// outputRows lists the files written and counts their rows from the Parquet footers.
func outputRows(ctx context.Context, dir string, attention, stats bool) ([]string, map[string]int64, error) {
	written := map[string]int64{}
	var outputs []string
	kinds := []struct{ key, pattern string }{
		{"explanations", schemas.ExplanationsPrefix + "-*-of-*.parquet"},
		{"errors", schemas.ErrorsFile},
		{"global_importance", schemas.GlobalImportanceFile},
	}
	if attention {
		kinds = append(kinds, struct{ key, pattern string }{"attention", schemas.AttentionPrefix + "-*-of-*.parquet"})
	}
	if stats {
		kinds = append(kinds, struct{ key, pattern string }{"attention_stats", schemas.AttentionStatsPrefix + "-*-of-*.parquet"})
	}
	for _, k := range kinds {
		files, err := listOutput(ctx, dir, k.pattern)
		if err != nil {
			return nil, nil, err
		}
		written[k.key] = 0
		for _, f := range files {
			n, err := parquetRows(ctx, f)
			if err != nil {
				return nil, nil, err
			}
			written[k.key] += n
			outputs = append(outputs, f)
		}
	}
	return outputs, written, nil
}

func parquetRows(ctx context.Context, path string) (int64, error) {
	var data []byte
	var err error
	if !strings.Contains(path, "://") {
		data, err = os.ReadFile(path)
	} else {
		var fs filesystem.Interface
		if fs, err = filesystem.New(ctx, path); err == nil {
			defer fs.Close()
			var rc io.ReadCloser
			if rc, err = fs.OpenRead(ctx, path); err == nil {
				defer rc.Close()
				data, err = io.ReadAll(rc)
			}
		}
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	return f.NumRows(), nil
}

func writeManifest(ctx context.Context, path string, m jobconfig.Manifest) error {
	if !strings.Contains(path, "://") {
		return jobconfig.WriteManifest(path, m)
	}
	b, err := jobconfig.EncodeManifest(m)
	if err != nil {
		return err
	}
	fs := transforms.FileSystemFor(path)
	tmp := path + ".tmp"
	w, err := fs.Create(ctx, tmp)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		w.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	return fs.Rename(ctx, tmp, path)
}

// countsFrom reads the job's Beam counters; runners that report none leave
// this process's own counts (complete for in-process runners).
func countsFrom(res beam.PipelineResult, base [3]int64) jobconfig.Counts {
	now := snapshot()
	c := jobconfig.Counts{Read: now[0] - base[0], Explained: now[1] - base[1], Failed: now[2] - base[2]}
	if res == nil {
		return c
	}
	byName := map[string]int64{}
	found := false
	for _, r := range res.Metrics().AllMetrics().Counters() {
		if r.Namespace() == "glassbox" {
			byName[r.Name()] += r.Result()
			found = true
		}
	}
	if found {
		c.Read, c.Explained = byName["rows_read"], byName["rows_explained"]
		c.Failed = byName["rows_failed"] + byName["rows_bad_input"]
	}
	return c
}

// snapshot reads this process's progress counters (read, explained, failed).
func snapshot() [3]int64 {
	p := &transforms.LocalProgress
	return [3]int64{p.Read.Load(), p.Explained.Load(), p.Failed.Load()}
}

func startProgress(o RunOptions) func() {
	if o.Progress == nil {
		return func() {}
	}
	every := o.ProgressEvery
	if every <= 0 {
		every = 2 * time.Second
	}
	p := &transforms.LocalProgress
	start := time.Now()
	base := snapshot()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read, ex, failed := p.Read.Load()-base[0], p.Explained.Load()-base[1], p.Failed.Load()-base[2]
				secs := time.Since(start).Seconds()
				fmt.Fprintf(o.Progress, "\rread %d  explained %d  failed %d  %.1f rows/s  %s ", read, ex, failed, float64(ex+failed)/secs, time.Since(start).Round(time.Second))
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		fmt.Fprintln(o.Progress)
	}
}
