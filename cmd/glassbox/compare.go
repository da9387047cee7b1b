package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/glassbox-ai/glassbox/compare"
	"github.com/glassbox-ai/glassbox/pipelines"
	"github.com/glassbox-ai/glassbox/transforms"
)

const compareSynopsis = "compare RUN_A RUN_B [--output DIR] [--fail-on LIST] [--top-k K] [--top-n N]"

// runCompare compares two finished runs and writes OUT/compare/. It returns
// an error (exit status 1) when a --fail-on threshold is crossed.
func runCompare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare", compareSynopsis, stderr)
	output := fs.String("output", "", "output folder, local or gs://; the comparison goes into its compare/ folder (default: compare-RUNA_ID-RUNB_ID)")
	failOn := fs.String("fail-on", "", "comma-separated thresholds METRIC OP VALUE (OP one of > >= < <=; N% for counts), e.g. flips>1%,global_rank_shift>10,mean_drift>0.2,faithfulness_drop>0.05: exit status 1 when any is crossed. Metrics:\n"+compare.MetricHelp())
	topK := fs.Int("top-k", 5, "k of the per-example top-k words comparison")
	topN := fs.Int("top-n", 20, "N of the global top-N words comparison")
	// Flags may come before, between or after the two run folders.
	var runs []string
	rest := args
	for {
		if err := parseFlags(fs, rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		runs = append(runs, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(runs) != 2 {
		return usageError("want two run folders (RUN_A RUN_B), got %d: glassbox %s", len(runs), compareSynopsis)
	}
	thresholds, err := compare.ParseThresholds(*failOn)
	if err != nil {
		return usageError("--fail-on: %v", err)
	}
	if *topK < 1 || *topN < 1 {
		return usageError("--top-k and --top-n must be at least 1")
	}
	a, err := compare.Open(ctx, readFSFor(runs[0]), runs[0])
	if err != nil {
		return fmt.Errorf("run A: %w", err)
	}
	b, err := compare.Open(ctx, readFSFor(runs[1]), runs[1])
	if err != nil {
		return fmt.Errorf("run B: %w", err)
	}
	res, err := compare.Compare(ctx, a, b, compare.Options{TopK: *topK, TopN: *topN})
	if err != nil {
		if ctx.Err() != nil {
			// Ctrl-C: the shell's exit status 130, as for explain.
			return fmt.Errorf("%w: %v", pipelines.ErrInterrupted, err)
		}
		return err
	}
	res.Summary.FailOn = compare.Evaluate(&res.Summary, thresholds)
	out := *output
	if out == "" {
		out = "compare-" + safeID(a.Manifest.RunID) + "-" + safeID(b.Manifest.RunID)
	}
	dir := transforms.JoinPath(out, compare.Dir)
	if err := compare.Write(ctx, transforms.FileSystemFor(dir), dir, res); err != nil {
		return err
	}
	s := res.Summary
	fmt.Fprintf(stdout, "compared %s (A) and %s (B): %d common examples, %d removed, %d added, %d failed in A, %d failed in B\n", runs[0], runs[1], s.Common, s.Removed, s.Added, s.FailedA, s.FailedB)
	fmt.Fprintf(stdout, "flips: %d (%.2f%%); explanation pairs: %d (%d token level, %d word level); mean drift: %s; global rank shift: %d; top-%d entered/left: %d/%d\n",
		s.Flips, 100*s.FlipRate, s.AttributionPairs, s.TokenLevel, s.WordLevel, fmtOpt(s.MeanDrift), s.GlobalRankShift, s.TopN, s.EnteredTopN, s.LeftTopN)
	if f := s.Faithfulness; f.Count > 0 {
		fmt.Fprintf(stdout, "faithfulness shifts (B − A) over %d pairs: AOPC comprehensiveness %s, sufficiency %s, deletion AUC %s, insertion AUC %s\n",
			f.Count, fmtOpt(f.MeanAOPCComprehensiveness), fmtOpt(f.MeanAOPCSufficiency), fmtOpt(f.MeanDeletionAUC), fmtOpt(f.MeanInsertionAUC))
	}
	for _, n := range s.Notes {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	fmt.Fprintf(stdout, "compare: %s (report: %s)\n", dir, transforms.JoinPath(dir, compare.ReportFile))
	var crossed []string
	for _, o := range s.FailOn {
		if o.Crossed {
			crossed = append(crossed, o.Describe())
		}
	}
	if len(crossed) > 0 {
		return fmt.Errorf("%d of %d --fail-on thresholds crossed: %s", len(crossed), len(s.FailOn), strings.Join(crossed, "; "))
	}
	if len(s.FailOn) > 0 {
		fmt.Fprintf(stdout, "--fail-on: no threshold crossed\n")
	}
	return nil
}

// safeID keeps a run id usable as a folder name.
func safeID(id string) string {
	if id == "" {
		return "unknown"
	}
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r < ' ' {
			return '_'
		}
		return r
	}, id)
}

func fmtOpt(p *float64) string {
	if p == nil {
		return "undefined"
	}
	return fmt.Sprintf("%.4g", *p)
}
