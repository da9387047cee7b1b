package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/generation"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/schemas"
)

// generateLine is one output line of `glassbox generate`.
type generateLine struct {
	ID           string            `json:"id"`
	Prompt       string            `json:"prompt"`
	PromptIDs    []int64           `json:"prompt_ids,omitempty"`
	Continuation string            `json:"continuation"`
	IDs          []int64           `json:"ids,omitempty"`
	Steps        []generation.Step `json:"steps,omitempty"`
	StopReason   string            `json:"stop_reason,omitempty"`
	Truncated    bool              `json:"truncated,omitempty"`
	Error        string            `json:"error,omitempty"`
	Code         string            `json:"code,omitempty"`
	Line         int64             `json:"line,omitempty"`
}

// samplingFlags are the flags that only sampling reads.
var samplingFlags = []string{"temperature", "top-k", "top-p"}

func runGenerate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("generate", "generate --model DIR|FILE.onnx [--input FILE] [flags]", stderr)
	def := generation.DefaultOptions()
	model := fs.String("model", "", modelFlagUsage+"; a causal LM (an optimum text-generation-with-past export runs through its key/value cache)")
	input := fs.String("input", "", "input file: text lines or JSONL with a text field, one prompt per row (default: standard input)")
	format := fs.String("format", "", "input format: text or jsonl (default: from the file's extension; text for standard input)")
	textField := fs.String("text-field", "text", "JSONL field holding the prompt")
	o := def
	fs.IntVar(&o.MaxNewTokens, "max-new-tokens", def.MaxNewTokens, "most tokens generated per prompt")
	fs.BoolVar(&o.Sample, "sample", false, "sample each token (default: greedy, the most likely token)")
	fs.Float64Var(&o.Temperature, "temperature", def.Temperature, "sampling temperature (> 0; with --sample)")
	fs.IntVar(&o.TopK, "top-k", def.TopK, "sample among the K most likely tokens, 0 for all (with --sample)")
	fs.Float64Var(&o.TopP, "top-p", def.TopP, "sample among the most likely tokens holding this probability, in (0, 1] (with --sample)")
	fs.IntVar(&o.TopAlternatives, "top-alternatives", def.TopAlternatives, "most likely tokens reported per step")
	fs.Func("stop", "stop a prompt's generation once its continuation contains this string (repeatable)", func(v string) error {
		o.StopStrings = append(o.StopStrings, v)
		return nil
	})
	fs.Func("stop-tokens", "comma-separated token ids that end a generation, or \"none\" (default: the model's EOS from generation_config.json or config.json)", func(v string) error {
		o.StopTokens = []int64{}
		if strings.TrimSpace(v) == "none" {
			return nil
		}
		for _, f := range strings.Split(v, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil {
				return fmt.Errorf("%q is not a token id", f)
			}
			o.StopTokens = append(o.StopTokens, id)
		}
		return nil
	})
	seed := fs.Uint64("seed", 0, "run seed: each prompt samples from explanation.Seed(seed, its id)")
	batch := fs.Int("batch-size", inference.DefaultBatchSize, "prompts generated together (of one token length)")
	threads := fs.Int("intra-op-threads", 0, "ONNX Runtime intra-op threads (0: ONNX Runtime's choice)")
	maxLength := fs.Int("max-length", 0, maxLengthFlagUsage+"; prompt and continuation together")
	noCache := fs.Bool("no-cache", false, "run a with-past export by full passes, as a no-past one (for comparisons)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	if *model == "" {
		return usageError("--model is required")
	}
	if *batch <= 0 {
		return usageError("--batch-size must be positive")
	}
	if *maxLength < 0 {
		return usageError("--max-length must be positive (0: the model's own length)")
	}
	if !o.Sample {
		var set []string
		fs.Visit(func(f *flag.Flag) {
			for _, name := range samplingFlags {
				if f.Name == name {
					set = append(set, "--"+name)
				}
			}
		})
		if len(set) > 0 {
			return usageError("%s: sampling settings; add --sample (greedy decoding takes the most likely token)", strings.Join(set, ", "))
		}
	}
	if err := o.Validate(); err != nil {
		return usageError("%s", flagNames(err.Error()))
	}
	rows, err := readInput(ctx, *input, *format, *textField, stdin)
	if err != nil {
		return err
	}
	sess, err := openSession(ctx, *model, *maxLength, *threads)
	if err != nil {
		return err
	}
	defer sess.Close()
	m := sess.Model()
	gen, err := generation.New(sess)
	if err != nil {
		return err
	}
	gen.BatchSize, gen.NoCache = *batch, *noCache

	lines := make([]generateLine, len(rows))
	var prompts [][]int64
	var seeds []uint64
	var at []int
	bad := 0
	fail := func(i int, id, source string, line int64, reason, code string) {
		lines[i] = generateLine{ID: id, Error: reason, Code: code, Line: line}
		fmt.Fprintf(stderr, "glassbox generate: %s line %d: %s (%s)\n", source, line, reason, code)
		bad++
	}
	for i, r := range rows {
		if r.bad != nil {
			id := ""
			if r.bad.ID != nil {
				id = *r.bad.ID
			}
			fail(i, id, r.bad.Source, r.bad.Line, r.bad.Reason, r.bad.Code)
			continue
		}
		enc, err := m.Encode(r.rec.Text)
		if err != nil {
			fail(i, r.rec.ID, r.rec.Source, r.rec.Line, err.Error(), schemas.CodeTokenizeError)
			continue
		}
		in := m.InputFromEncoding(enc)
		if len(in.IDs) == 0 {
			fail(i, r.rec.ID, r.rec.Source, r.rec.Line, "the prompt has no tokens", schemas.CodeNoTokens)
			continue
		}
		lines[i] = generateLine{ID: r.rec.ID, Prompt: r.rec.Text, Truncated: enc.Truncated}
		prompts = append(prompts, in.IDs)
		seeds = append(seeds, explanation.Seed(*seed, r.rec.ID))
		at = append(at, i)
	}
	res, err := gen.Generate(ctx, prompts, seeds, o)
	if err != nil {
		return err
	}
	for j, r := range res {
		l := &lines[at[j]]
		l.PromptIDs, l.Continuation, l.IDs, l.Steps, l.StopReason = r.PromptIDs, r.Text, r.IDs(), r.Steps, r.StopReason
	}
	if err := writeJSONLines(stdout, lines); err != nil {
		return err
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d input lines could not be generated from (see the messages above)", bad, len(rows))
	}
	return nil
}

// flagNames rewrites the option names of a generation.Options error
// (max_new_tokens, top_p, ...) as this command's flags.
func flagNames(msg string) string {
	for _, n := range []string{"max_new_tokens", "temperature", "top_k", "top_p", "top_alternatives", "stop_strings", "stop_tokens"} {
		flagName := "--" + strings.ReplaceAll(n, "_", "-")
		switch n {
		case "stop_strings":
			flagName = "--stop"
		}
		msg = strings.ReplaceAll(msg, n, flagName)
	}
	return msg
}
