package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/glassbox-ai/glassbox/audit/sanity"
	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/explainer"
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/jobconfig"
	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/report"
	"github.com/glassbox-ai/glassbox/schemas"
)

const auditUsage = `Usage: glassbox audit CHECK [flags]

Checks:
  sanity   model-parameter randomisation test (Adebayo et al. 2018): re-explain a sample with the
           model's weights randomised cascading from the top; Spearman's rho per method and stage

Run "glassbox audit CHECK --help" for a check's flags.
`

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, auditUsage)
		return usageError("no check named (want: sanity)")
	}
	switch args[0] {
	case "sanity":
		return runSanity(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, auditUsage)
		return nil
	}
	return usageError("unknown check %q (want: sanity)", args[0])
}

func runSanity(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit sanity", "audit sanity --model DIR --input FILE --methods a,b --output DIR [flags]", stderr)
	cfgPath := fs.String("config", "", "job config (YAML): its model, methods with their parameters, seed and output_kind are used unless the flags say otherwise")
	model := fs.String("model", "", modelFlagUsage+" (local)")
	input := fs.String("input", "", "input file: text lines or JSONL with a text field (and an id field)")
	format := fs.String("format", "", "input format: text or jsonl (default: from the file's extension)")
	textField := fs.String("text-field", "text", "JSONL field holding the text")
	methods := fs.String("methods", "", "comma-separated methods to check, with their default parameters: "+strings.Join(explanation.Names(), ", "))
	output := fs.String("output", "", "output folder: sanity.parquet, sanity_summary.parquet and report.html (the run's whole report when it is an explain run's folder)")
	sample := fs.Int("sample", sanity.DefaultSample, "examples explained, chosen by a seeded hash of their ids")
	var seed *uint64
	fs.Func("seed", "seed of the sample, the methods and the randomised weights (default: the config's, else 0)", func(v string) error {
		var n uint64
		if _, err := fmt.Sscan(v, &n); err != nil {
			return fmt.Errorf("not an unsigned integer: %q", v)
		}
		seed = &n
		return nil
	})
	threshold := fs.Float64("threshold", sanity.DefaultThreshold, "flag a method whose median Spearman rho with every layer randomised is above this")
	outputKind := fs.String("output-kind", "", "what is explained: probability or logit (default: the config's, else probability)")
	batch := fs.Int("batch-size", inference.DefaultBatchSize, "rows per ONNX Runtime call")
	maxLength := fs.Int("max-length", 0, maxLengthFlagUsage)
	threads := fs.Int("intra-op-threads", 0, "ONNX Runtime intra-op threads (0: ONNX Runtime's choice)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	o := sanity.Options{Model: *model, Sample: *sample, Threshold: *threshold, OutputKind: *outputKind, MaxLength: *maxLength, BatchSize: *batch, IntraOpThreads: *threads}
	if *cfgPath != "" {
		cfg, err := jobconfig.Load(*cfgPath)
		if err != nil {
			return usageError("--config: %v", err)
		}
		if o.Model == "" {
			o.Model = cfg.Model
		}
		if seed == nil {
			seed = &cfg.Seed
		}
		if o.OutputKind == "" {
			o.OutputKind = cfg.OutputKind
		}
		if *methods == "" {
			for _, name := range cfg.Methods.Names() {
				p, err := json.Marshal(cfg.Methods.Params(name))
				if err != nil {
					return fmt.Errorf("methods.%s: %w", name, err)
				}
				o.Methods = append(o.Methods, explainer.MethodConfig{Name: name, Params: p})
			}
		}
	}
	if *methods != "" {
		for _, name := range strings.Split(*methods, ",") {
			if name = strings.TrimSpace(name); name != "" {
				o.Methods = append(o.Methods, explainer.MethodConfig{Name: name})
			}
		}
	}
	if seed != nil {
		o.Seed = *seed
	}
	switch {
	case o.Model == "":
		return usageError("--model is required")
	case *input == "":
		return usageError("--input is required")
	case *output == "":
		return usageError("--output is required")
	case len(o.Methods) == 0:
		return usageError("--methods is required (or a --config with methods)")
	case *sample <= 0:
		return usageError("--sample must be positive")
	case math.IsNaN(*threshold) || *threshold <= -1 || *threshold >= 1:
		return usageError("--threshold %v: want a Spearman correlation strictly between -1 and 1", *threshold)
	case *batch <= 0:
		return usageError("--batch-size must be positive")
	case *maxLength < 0:
		return usageError("--max-length must be positive (0: the model's own length)")
	}
	switch o.OutputKind {
	case "", jobconfig.OutputProbability, jobconfig.OutputLogit:
	default:
		return usageError("--output-kind %q: want probability or logit", o.OutputKind)
	}
	seen := map[string]bool{}
	for _, m := range o.Methods {
		if seen[m.Name] {
			return usageError("--methods: %s named twice", m.Name)
		}
		seen[m.Name] = true
	}
	if _, err := explainer.BuildMethods(o.Methods); err != nil {
		return usageError("--methods: %v", err)
	}
	// A model or input that is not there is the run's failure (exit 1), as for explain; flags are usage.
	if _, err := inference.Locate(o.Model); err != nil {
		return fmt.Errorf("--model: %w", err)
	}
	if st, err := os.Stat(*input); err != nil || st.IsDir() {
		if err == nil {
			err = errors.New("is a folder")
		}
		return fmt.Errorf("--input %s: %w", *input, err)
	}
	rows, err := readInput(ctx, *input, *format, *textField, nil)
	if err != nil {
		if errors.Is(err, errUsage) {
			return err
		}
		return fmt.Errorf("--input: %w", err)
	}
	var recs []corpus.Record
	bad := 0
	for _, r := range rows {
		if r.bad != nil {
			bad++
			continue
		}
		recs = append(recs, r.rec)
	}
	if len(recs) == 0 {
		return fmt.Errorf("--input %s has no usable records (%d bad rows)", *input, bad)
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "warning: %d bad input rows skipped\n", bad)
	}
	o.Progress = func(stage int, group string) {
		if stage < 0 {
			fmt.Fprintf(stderr, "sanity: explaining %d examples on the original model\n", min(len(recs), *sample))
			return
		}
		fmt.Fprintf(stderr, "sanity: stage %d: randomised through %s\n", stage, group)
	}
	res, err := sanity.Run(ctx, o, recs)
	if err != nil {
		return err
	}
	if err := sanity.Write(ctx, *output, res); err != nil {
		return err
	}
	for i, e := range res.Errors {
		if i == 5 {
			fmt.Fprintf(stderr, "warning: … and %d more\n", len(res.Errors)-5)
			break
		}
		fmt.Fprintf(stderr, "warning: not explained: %s\n", e)
	}
	if res.Skipped > 0 {
		fmt.Fprintf(stderr, "warning: %d (method, stage, example) comparisons left out: the method failed on the example at that stage\n", res.Skipped)
	}
	for _, s := range res.Summary {
		if int(s.Stage) != len(res.Groups) {
			continue
		}
		med := "undefined"
		if s.MedianSpearman != nil {
			med = fmt.Sprintf("%.3f", *s.MedianSpearman)
		}
		verdict := "passes"
		if s.Flagged {
			verdict = "FLAGGED"
		}
		fmt.Fprintf(stdout, "%-12s median rho with every layer randomised: %s (threshold %v): %s\n", s.Method, med, s.Threshold, verdict)
	}
	fmt.Fprintf(stdout, "sanity: %s, %s\n", filepath.Join(*output, schemas.SanityFile), filepath.Join(*output, schemas.SanitySummaryFile))
	out := filepath.Join(*output, schemas.ReportFile)
	if _, err := os.Stat(filepath.Join(*output, schemas.ManifestFile)); err == nil {
		// An explain run's folder: its whole report, now with the sanity section.
		if _, err := writeReport(ctx, *output, out, report.Options{}); err != nil {
			return err
		}
	} else {
		var b bytes.Buffer
		if err := report.WriteSanity(&b, &report.Sanity{Summary: res.Summary}, filepath.Base(filepath.Clean(o.Model))); err != nil {
			return err
		}
		if err := parquetsink.WriteFile(ctx, parquetsink.Local(), out, b.Bytes()); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	fmt.Fprintf(stdout, "report: %s\n", out)
	return nil
}
