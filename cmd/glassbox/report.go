package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/report"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/transforms"
)

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", "report --run DIR [--output FILE] [--png DIR]", stderr)
	run := fs.String("run", "", "the run folder (local or gs://) holding manifest.json and the Parquet outputs")
	output := fs.String("output", "", "the HTML file to write, local or gs:// (default: DIR/report.html)")
	pngDir := fs.String("png", "", "also write the global charts as PNG files into this local folder, for slides (screenshots by headless Chromium: Debian's chromium package, or $"+report.ChromiumEnv+")")
	maxExamples := fs.Int("max-examples", 200, "the most examples the page holds (a stated selection: most confident mispredictions, least confident, a seeded random sample)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	if *run == "" {
		return usageError("--run is required")
	}
	out := *output
	if out == "" {
		out = transforms.JoinPath(*run, schemas.ReportFile)
	}
	r, err := writeReport(ctx, *run, out, report.Options{MaxExamples: *maxExamples})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report: %s\n", out)
	if *pngDir != "" {
		browser, err := report.FindChromium()
		if err != nil {
			return fmt.Errorf("--png: %w", err)
		}
		files, err := report.WritePNGs(ctx, browser, append(report.GlobalCharts(r), report.CorrelationCharts(r)...), *pngDir)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "charts: %d PNG files in %s\n", len(files), *pngDir)
	}
	return nil
}

// writeReport reads the run in dir and writes its report to out, atomically.
func writeReport(ctx context.Context, dir, out string, o report.Options) (*report.Run, error) {
	r, err := report.Load(ctx, readFSFor(dir), dir, o)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := report.Write(&b, r); err != nil {
		return nil, err
	}
	if err := parquetsink.WriteFile(ctx, transforms.FileSystemFor(out), out, b.Bytes()); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return r, nil
}

// reportAfterExplain writes DIR/report.html at the end of an explain run. A
// failure does not fail the run, whose outputs and manifest are complete by
// then: it is printed as a warning naming the command that retries it.
func reportAfterExplain(ctx context.Context, dir string, stdout, stderr io.Writer) {
	out := transforms.JoinPath(dir, schemas.ReportFile)
	if _, err := writeReport(ctx, dir, out, report.Options{}); err != nil {
		fmt.Fprintf(stderr, "warning: report not written (the run's outputs are complete; retry with: glassbox report --run %s): %v\n", dir, err)
		return
	}
	fmt.Fprintf(stdout, "report: %s\n", out)
}

// readFSFor returns the report's file system for a run folder: local disk, or Beam's file systems for URLs.
func readFSFor(path string) report.FS {
	if transforms.IsRemote(path) {
		return beamReadFS{}
	}
	return report.Local()
}

// beamReadFS reads through Beam's file systems (gs://, ...).
type beamReadFS struct{}

func (beamReadFS) Open(ctx context.Context, path string) (io.ReadCloser, error) {
	fsys, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r, err := fsys.OpenRead(ctx, path)
	if err != nil {
		fsys.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return readCloseBoth{r, fsys}, nil
}

func (beamReadFS) Glob(ctx context.Context, pattern string) ([]string, error) {
	fsys, err := filesystem.New(ctx, pattern)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", pattern, err)
	}
	defer fsys.Close()
	m, err := fsys.List(ctx, pattern)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", pattern, err)
	}
	// Beam's listings may hold temp files of writes in progress; the report reads complete files only.
	out := m[:0]
	for _, p := range m {
		if !strings.Contains(p, ".tmp-") {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, nil
}

type readCloseBoth struct {
	io.ReadCloser
	fs filesystem.Interface
}

func (c readCloseBoth) Close() error {
	err := c.ReadCloser.Close()
	if cerr := c.fs.Close(); err == nil {
		err = cerr
	}
	return err
}
