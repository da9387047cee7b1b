package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/jobconfig"
	"github.com/glassbox-ai/glassbox/pipelines"
	"github.com/glassbox-ai/glassbox/runner"
)

func runExplain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("explain", "explain --config FILE.yaml [flags] [Beam flags]", stderr)
	cfgPath := fs.String("config", "", "job config (YAML; see configs/full.yaml); flags override it")
	var o jobconfig.Overrides
	strFlag := func(dst **string, name, usage string) {
		fs.Func(name, usage, func(v string) error { *dst = &v; return nil })
	}
	strFlag(&o.Model, "model", modelFlagUsage)
	strFlag(&o.Input, "input", "input path or glob, local or gs://")
	strFlag(&o.Format, "format", "input format: text, jsonl, csv or parquet (default: by extension)")
	strFlag(&o.TextField, "text-field", "field holding the text")
	strFlag(&o.IDField, "id-field", "field holding the example id")
	strFlag(&o.LabelField, "label-field", "field holding the gold label")
	strFlag(&o.Methods, "methods", "comma-separated methods: "+strings.Join(explanation.Names(), ", "))
	strFlag(&o.Surrogates, "surrogates", "comma-separated corpus-wide surrogates: ridge, logistic, tree, probe (or none); see configs/full.yaml")
	strFlag(&o.Target, "target", "what to explain: predicted, all, or a label name")
	strFlag(&o.Output, "output", "output folder, local or gs://")
	strFlag(&o.RunID, "run-id", "run id (default: derived from the config, the model and the input listing)")
	fs.Func("seed", "run seed", func(v string) error {
		var n uint64
		if _, err := fmt.Sscan(v, &n); err != nil {
			return fmt.Errorf("not an unsigned integer: %q", v)
		}
		o.Seed = &n
		return nil
	})
	fs.Func("batch-size", "rows per ONNX Runtime call", func(v string) error {
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil {
			return fmt.Errorf("not an integer: %q", v)
		}
		o.BatchSize = &n
		return nil
	})
	fs.Func("max-length", maxLengthFlagUsage, func(v string) error {
		var n int
		if _, err := fmt.Sscan(v, &n); err != nil {
			return fmt.Errorf("not an integer: %q", v)
		}
		o.MaxLength = &n
		return nil
	})
	quiet := fs.Bool("quiet", false, "no progress line")
	noReport := fs.Bool("no-report", false, "do not write report.html into the output folder at the end (a report failure is a warning, not a failed run)")
	verbose := fs.Bool("verbose", false, "show the Beam runner's own log lines")
	sharedFS := fs.Bool("shared_fs", false, "workers outside this process (portable runners) see this machine's files at the same paths: allow local --input, --model and --output with them (made absolute); without it they must be gs:// paths")
	fs.BoolVar(sharedFS, "shared-fs", false, "same as --shared_fs")
	ours := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { ours[f.Name] = true })
	// Beam's flags (--runner, --endpoint, --worker_binary, --project, ...) pass
	// through: they are registered on the global flag set by Beam's packages.
	var beamFlags []string
	flag.CommandLine.VisitAll(func(f *flag.Flag) {
		if !ours[f.Name] && !strings.HasPrefix(f.Name, "test.") {
			fs.Var(f.Value, f.Name, f.Usage)
			beamFlags = append(beamFlags, f.Name)
		}
	})
	sort.Strings(beamFlags)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: glassbox explain --config FILE.yaml [flags] [Beam flags]\n\nFlags:\n")
		fs.VisitAll(func(f *flag.Flag) {
			if ours[f.Name] {
				fmt.Fprintf(stderr, "  --%s\n    \t%s\n", f.Name, f.Usage)
			}
		})
		fmt.Fprintf(stderr, "\nBeam flags are passed through to Beam (default runner: %s, in-process), e.g. --runner, --endpoint, --worker_binary, --environment_type, --job_name.\n", runner.Default)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	cfg := jobconfig.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = jobconfig.Load(*cfgPath); err != nil {
			return usageError("%v", err)
		}
	}
	if err := cfg.ApplyOverrides(o); err != nil {
		return usageError("%v", err)
	}
	// A config value that cannot run is the caller's to fix, like a bad flag (exit 2).
	if err := cfg.Validate(); err != nil {
		return usageError("%v", err)
	}
	beam.Init()
	if !*verbose {
		// Prism logs every job transition at INFO; the progress line says what
		// matters. After beam.Init, which installs Beam's own default logger.
		slog.SetDefault(slog.New(quietAfter{ctx, slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})}))
	}
	ro := pipelines.RunOptions{Version: version, Warnings: stderr, Notes: stderr, SharedFS: *sharedFS}
	if !*quiet {
		ro.Progress = stderr
	}
	what := strings.Join(cfg.Methods.Names(), ", ")
	if what == "" {
		what = "predictions only"
	}
	if cfg.Surrogates.Enabled() {
		what += " + surrogates " + strings.Join(cfg.Surrogates.Kinds, ", ")
	}
	fmt.Fprintf(stderr, "glassbox explain: %s over %s with %s on %s\n", cfg.Model, cfg.Input.Path, what, runner.Name())
	sum, err := pipelines.RunExplain(ctx, cfg, ro)
	if err != nil {
		return err
	}
	c := sum.Counts
	fmt.Fprintf(stdout, "run %s: read %d rows, explained %d, failed %d in %s\n", sum.RunID, c.Read, c.Explained, c.Failed, sum.Wall.Round(1e7))
	keys := make([]string, 0, len(c.RowsWritten))
	for k := range c.RowsWritten {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(stdout, "  %-18s %d rows\n", k, c.RowsWritten[k])
	}
	fmt.Fprintf(stdout, "outputs in %s (manifest: %s)\n", sum.Output, sum.Manifest)
	if !*noReport {
		reportAfterExplain(ctx, sum.Output, stdout, stderr)
	}
	return nil
}

// quietAfter drops log records once ctx is done: an interrupted run's
// runner reports every bundle it abandons as an error, which would bury the
// one line saying what was done.
type quietAfter struct {
	ctx context.Context
	slog.Handler
}

func (q quietAfter) Enabled(c context.Context, l slog.Level) bool {
	return q.ctx.Err() == nil && q.Handler.Enabled(c, l)
}

func (q quietAfter) WithAttrs(a []slog.Attr) slog.Handler {
	return quietAfter{q.ctx, q.Handler.WithAttrs(a)}
}
func (q quietAfter) WithGroup(n string) slog.Handler {
	return quietAfter{q.ctx, q.Handler.WithGroup(n)}
}
