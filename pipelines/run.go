package pipelines

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/jobconfig"
	"github.com/glassbox-ai/glassbox/runner"
	"github.com/glassbox-ai/glassbox/schemas"
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
	// Notes receives what the runner chose for the user (defaults it filled); nil discards them.
	Notes io.Writer
	// SharedFS says that workers outside this process see this machine's files
	// at the same paths, so local paths are allowed (made absolute) with them.
	SharedFS bool
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

// RunExplain runs an explain job in four steps: resolve the inputs and the
// run id (inputs.go), prepare the model (model.go), run the pipeline on the
// selected runner (runJob) and write manifest.json (manifest.go).
func RunExplain(ctx context.Context, cfg *jobconfig.Config, o RunOptions) (*Summary, error) {
	started := time.Now().UTC()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := runner.Prepare(o.Notes); err != nil {
		return nil, err
	}
	if err := checkPlacement(cfg, o.SharedFS); err != nil {
		return nil, err
	}
	in, err := resolveInputs(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := absolutePaths(cfg); err != nil {
		return nil, err
	}
	workDir, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("working directory: %w", err)
	}
	prep, err := prepareModel(cfg, in)
	if err != nil {
		return nil, err
	}
	defer prep.release()
	if o.Warnings != nil {
		for _, w := range prep.warnings {
			fmt.Fprintf(o.Warnings, "warning: %s\n", w)
		}
	}
	var quant *jobconfig.Int8
	if cfg.Int8 {
		// Measured before the pipeline, so a model the int8 graph breaks fails the run early.
		if quant, err = measureInt8(ctx, cfg, in, prep.spec, workDir); err != nil {
			return nil, err
		}
	}
	job, err := explainJob(cfg, in, prep.spec)
	if err != nil {
		return nil, err
	}
	job.Dir = workDir
	job.Surrogates = prep.surrogates
	counts, outputs, err := runJob(ctx, job, o)
	if err != nil {
		return nil, err
	}
	finished := time.Now().UTC()
	m := jobconfig.Manifest{
		RunID: in.runID, GlassboxVersion: o.Version, Config: in.config, ModelSHA256: prep.model.SHA256, Model: prep.model.manifest(), Int8: quant, Warnings: prep.warnings,
		InputFiles: in.files, Counts: counts, Outputs: outputs,
		StartedAt: started, FinishedAt: finished, WallSeconds: finished.Sub(started).Seconds(),
	}
	manifest, err := writeManifest(ctx, cfg.Output, m)
	if err != nil {
		return nil, err
	}
	return &Summary{RunID: in.runID, Output: cfg.Output, Manifest: manifest, Counts: counts, Outputs: outputs, Wall: finished.Sub(started), Warnings: prep.warnings}, nil
}

// ErrInterrupted marks a run stopped by its context (Ctrl-C, SIGTERM) before it committed.
var ErrInterrupted = errors.New("interrupted")

// interrupted removes the temporary files the stopped run left in dir and
// says what it had done: nothing is committed (no manifest), so a rerun
// starts over. The counts are this process's (in-process workers); workers
// elsewhere are stopped by the runner, which cancels the job.
func interrupted(dir string, after time.Duration, base [3]int64, cause error) error {
	// The run's own context is gone; the clean-up gets a short one of its own.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cleanErr := removeTemps(ctx, dir)
	c := snapshot()
	msg := fmt.Sprintf("%v after %s: read %d, explained %d, failed %d rows so far; nothing committed (no %s), temporary files removed",
		cause, after.Round(time.Second), c[0]-base[0], c[1]-base[1], c[2]-base[2], schemas.ManifestFile)
	if !runner.InProcess() {
		msg = fmt.Sprintf("%v after %s: job cancelled on %s; nothing committed (no %s)", cause, after.Round(time.Second), runner.Name(), schemas.ManifestFile)
	}
	if cleanErr != nil {
		msg += "; " + cleanErr.Error()
	}
	return fmt.Errorf("%w: %s", ErrInterrupted, msg)
}

// explainJob is the pipeline's view of the job.
func explainJob(cfg *jobconfig.Config, in inputs, spec []byte) (ExplainJob, error) {
	job := ExplainJob{
		Spec: spec, Files: in.files, Format: cfg.Input.Format,
		TextField: cfg.Input.TextField, IDField: cfg.Input.IDField, LabelField: cfg.Input.LabelField,
		RunID: in.runID, Output: cfg.Output, Shards: cfg.Shards, Buffer: cfg.BatchSize, PerExample: len(cfg.Methods.Names()) > 0,
		AttentionMatrices: cfg.AttentionMatrices.FirstN > 0 || len(cfg.AttentionMatrices.Examples) > 0,
		AttentionStats:    cfg.Methods.Has(func(m explanation.Info) bool { return m.AttentionStats }),
		Faithfulness:      len(cfg.FaithfulnessMethods()) > 0,
		Agreement:         len(cfg.Methods.Names()) >= 2,
		Counterfactuals:   cfg.Counterfactuals.Enabled,
		Generations:       cfg.Generating(),
		Seed:              cfg.Seed,
	}
	if cfg.Examples.Enabled {
		b, err := json.Marshal(cfg.Examples)
		if err != nil {
			return ExplainJob{}, fmt.Errorf("examples config: %w", err)
		}
		job.Examples = b
		job.Neighbours = cfg.Examples.Neighbours > 0
		job.Embeddings = cfg.Examples.Embeddings
	}
	return job, nil
}

// predictedOutput names the output with one row per predicted example that a
// predictions-only run (no per-example method) is accounted against.
func (job ExplainJob) predictedOutput() string {
	switch {
	case job.Surrogates != nil:
		return "surrogate_examples"
	case job.Neighbours:
		return "neighbours"
	default:
		return "embeddings"
	}
}

// runJob clears earlier outputs, builds and runs the pipeline with the
// progress line running, and returns the counts and the files written. The
// counts come from the written files and the driver's own count of the
// input's rows, which every row must be accounted against (accounting.go).
func runJob(ctx context.Context, job ExplainJob, o RunOptions) (jobconfig.Counts, []string, error) {
	if err := clearOutputs(ctx, job.Output); err != nil {
		return jobconfig.Counts{}, nil, err
	}
	p, err := BuildExplain(job)
	if err != nil {
		return jobconfig.Counts{}, nil, err
	}
	started, base := time.Now(), snapshot()
	watch, stop := startProgress(o)
	_, err = runner.Run(ctx, p, watch, o.ProgressEvery)
	stop()
	if ctx.Err() != nil {
		return jobconfig.Counts{}, nil, interrupted(job.Output, time.Since(started), base, context.Cause(ctx))
	}
	// The runs the writers spilled are scratch: gone whether the job ran or failed.
	if rerr := removeSpills(ctx, job.Output); rerr != nil {
		err = errors.Join(err, fmt.Errorf("remove temporary files: %w", rerr))
	}
	if err != nil {
		return jobconfig.Counts{}, nil, err
	}
	outputs, written, led, err := outputRows(ctx, job)
	if err != nil {
		return jobconfig.Counts{}, nil, err
	}
	var counts jobconfig.Counts
	if len(led.unreadable) == 0 { // else the input cannot be counted, and check says why
		read, err := countRows(ctx, job)
		if err != nil {
			return jobconfig.Counts{}, nil, err
		}
		counts = led.counts(read, written)
	}
	if err := led.check(job.Output, counts, job.PerExample, job.predictedOutput()); err != nil {
		return jobconfig.Counts{}, nil, err
	}
	return counts, outputs, nil
}
