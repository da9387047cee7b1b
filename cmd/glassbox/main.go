// Command glassbox explains transformer language models at corpus scale.
//
//	glassbox explain  --config job.yaml [flags]   explain a corpus (Beam; Prism by default)
//	glassbox predict  --model DIR [--input FILE]  predictions, one JSON line per input
//	glassbox generate --model DIR [--input FILE]  continuations of a causal LM, one JSON line per input
//	glassbox tokenize --tokenizer FILE [--input FILE]  tokens and offsets, one JSON line per input
//	glassbox report   --run DIR [--output FILE] [--png DIR]  the run's HTML report
//	glassbox compare  RUN_A RUN_B [--fail-on LIST]  what changed between two runs
//	glassbox audit sanity --model DIR --input FILE --methods a,b --output DIR  sanity check of the methods
//	glassbox worker-pool [--port PORT]            Beam worker pool for EXTERNAL environments
//	glassbox version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/glassbox-ai/glassbox/pipelines"
)

// version is Glassbox's version, written in manifests; set with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

const usage = `glassbox explains transformer language models exported to ONNX.

Usage:
  glassbox explain  --config FILE [flags]        explain a corpus into Parquet (Beam; embedded Prism runner by default)
  glassbox predict  --model DIR [--input FILE]   one JSON prediction per input line
  glassbox generate --model DIR [--input FILE] [--max-new-tokens N --sample --temperature T --top-k K --top-p P --seed S --stop STR]
                                                 one JSON continuation (tokens, probabilities, alternatives) per input line
  glassbox tokenize --tokenizer FILE [--input FILE]  tokens, ids and offsets per input line
  glassbox report   --run DIR [--output FILE] [--png DIR]  one self-contained HTML report of a run
  glassbox compare  RUN_A RUN_B [--output DIR] [--fail-on LIST]  what changed between two runs: flips, drifts, global shifts (exit 1 when a --fail-on threshold is crossed)
  glassbox audit sanity --model DIR --input FILE --methods a,b --output DIR  sanity check (Adebayo et al. 2018):
                                                 re-explain a sample as the model's weights are randomised layer by layer
  glassbox worker-pool [--port PORT]             serve Beam's worker pool API: workers for portable runners (EXTERNAL)
  glassbox version                               print the version

Run "glassbox COMMAND --help" for a command's flags.
`

// errUsage marks errors caused by how the command was called (exit status 2).
var errUsage = errors.New("usage")

func main() {
	// A remote runner starts this binary as a Beam worker (--worker_binary):
	// Beam's Init takes over then and never returns.
	if isBeamWorker(os.Args[1:]) {
		flag.Parse()
		beam.Init()
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// isBeamWorker reports whether args are a Beam worker's command line. Go's
// flag package parses them against a scratch copy of every flag registered on
// the command line (Beam's included), so Beam's own boolean --worker flag
// decides in every spelling flag.Parse accepts (--worker, -worker=1,
// --worker=True, ...), without setting any real flag. A subcommand comes
// first on a CLI command line, which stops the parse at once: not a worker.
func isBeamWorker(args []string) bool {
	if flag.Lookup(workerFlag) == nil {
		return false
	}
	fs := flag.NewFlagSet("beam worker", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var worker bool
	flag.CommandLine.VisitAll(func(f *flag.Flag) {
		if f.Name == workerFlag {
			fs.BoolVar(&worker, workerFlag, false, f.Usage)
			return
		}
		fs.Var(scratchValue{bool: isBoolFlag(f.Value)}, f.Name, f.Usage)
	})
	// A parse error stops at the bad argument; a --worker before it still
	// counts, and the worker's own flag.Parse then reports the error.
	_ = fs.Parse(args)
	return worker
}

// workerFlag is the flag Beam's harness registers to start a binary as a worker.
const workerFlag = "worker"

// isBoolFlag reports whether a flag takes no value (as "--flag"), as flag.Parse decides it.
func isBoolFlag(v flag.Value) bool {
	b, ok := v.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// scratchValue accepts any value and keeps none: it stands in for a real flag
// while isBeamWorker parses, so the parse moves past that flag (and its value,
// unless it is boolean) exactly as flag.Parse would.
type scratchValue struct{ bool bool }

func (scratchValue) String() string     { return "" }
func (scratchValue) Set(string) error   { return nil }
func (v scratchValue) IsBoolFlag() bool { return v.bool }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "explain":
		err = runExplain(ctx, args[1:], stdout, stderr)
	case "predict":
		err = runPredict(ctx, args[1:], stdin, stdout, stderr)
	case "generate":
		err = runGenerate(ctx, args[1:], stdin, stdout, stderr)
	case "tokenize":
		err = runTokenize(ctx, args[1:], stdin, stdout, stderr)
	case "report":
		err = runReport(ctx, args[1:], stdout, stderr)
	case "compare":
		err = runCompare(ctx, args[1:], stdout, stderr)
	case "audit":
		err = runAudit(ctx, args[1:], stdout, stderr)
	case "worker-pool":
		err = runWorkerPool(ctx, args[1:], stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "glassbox %s\n", version)
		return 0
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "glassbox: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "glassbox %s: %v\n", args[0], err)
		return 2
	case errors.Is(err, pipelines.ErrInterrupted):
		// The shell's convention for a command stopped by Ctrl-C.
		fmt.Fprintf(stderr, "\nglassbox %s: %v\n", args[0], err)
		return 130
	default:
		fmt.Fprintf(stderr, "glassbox %s: %v\n", args[0], err)
		return 1
	}
}

// usageError wraps a message as a usage error.
func usageError(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

// newFlagSet makes a subcommand's flag set whose --help prints the synopsis and flags.
func newFlagSet(name, synopsis string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: glassbox %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses a subcommand's flags; a bad flag is a usage error (exit 2), --help is not an error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError("%v", err)
	}
	return nil
}

// Usage lines shared by the subcommands that load a model.
const (
	modelFlagUsage     = "the model: a folder in Hugging Face layout (model.onnx or onnx/model.onnx or one other .onnx file, tokenizer.json, config.json) or the .onnx file, with tokenizer.json and config.json beside it or in its parent folder; local or gs://"
	maxLengthFlagUsage = "truncation length in tokens (default 0: tokenizer_config.json's model_max_length, else tokenizer.json's truncation, capped by the model's positions)"
)
