package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/transforms"
)

// predictLine is one output line of `glassbox predict`.
type predictLine struct {
	Label      string                `json:"label,omitempty"`
	Probs      []float64             `json:"probs,omitempty"`
	Logits     []float64             `json:"logits,omitempty"`
	NextTokens []inference.TokenProb `json:"next_tokens,omitempty"`
	Embedding  []float64             `json:"embedding,omitempty"`
	Truncated  bool                  `json:"truncated,omitempty"`
	Error      string                `json:"error,omitempty"`
	Code       string                `json:"code,omitempty"`
	Line       int64                 `json:"line,omitempty"`
}

func runPredict(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("predict", "predict --model DIR|FILE.onnx [--input FILE] [flags]", stderr)
	model := fs.String("model", "", modelFlagUsage)
	input := fs.String("input", "", "input file: text lines or JSONL with a text field (default: standard input)")
	format := fs.String("format", "", "input format: text or jsonl (default: from the file's extension; text for standard input)")
	textField := fs.String("text-field", "text", "JSONL field holding the text")
	batch := fs.Int("batch-size", inference.DefaultBatchSize, "rows per ONNX Runtime call")
	topK := fs.Int("top-k", 5, "next tokens reported for a causal LM")
	threads := fs.Int("intra-op-threads", 0, "ONNX Runtime intra-op threads (0: ONNX Runtime's choice)")
	maxLength := fs.Int("max-length", 0, maxLengthFlagUsage)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	if *model == "" {
		return usageError("--model is required")
	}
	if *batch <= 0 || *topK <= 0 {
		return usageError("--batch-size and --top-k must be positive")
	}
	if *maxLength < 0 {
		return usageError("--max-length must be positive (0: the model's own length)")
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

	lines := make([]predictLine, len(rows))
	var inputs []explanation.Input
	var at []int
	bad := 0
	for i, r := range rows {
		if r.bad != nil {
			lines[i] = predictLine{Error: r.bad.Reason, Code: r.bad.Code, Line: r.bad.Line}
			fmt.Fprintf(stderr, "glassbox predict: %s line %d: %s (%s)\n", r.bad.Source, r.bad.Line, r.bad.Reason, r.bad.Code)
			bad++
			continue
		}
		enc, err := m.Encode(r.rec.Text)
		if err != nil {
			lines[i] = predictLine{Error: err.Error(), Code: schemas.CodeTokenizeError, Line: r.rec.Line}
			fmt.Fprintf(stderr, "glassbox predict: %s line %d: %v\n", r.rec.Source, r.rec.Line, err)
			bad++
			continue
		}
		lines[i].Truncated = enc.Truncated
		inputs = append(inputs, m.InputFromEncoding(enc))
		at = append(at, i)
	}
	preds, err := sess.Predict(ctx, inputs, *batch, *topK)
	if err != nil {
		return err
	}
	for j, p := range preds {
		l := &lines[at[j]]
		l.Label, l.Probs, l.Logits, l.NextTokens, l.Embedding = p.Label, p.Probs, p.Logits, p.NextTokens, p.Embedding
		if m.Kind == inference.CausalLM {
			l.Label = ""
		}
	}
	if err := writeJSONLines(stdout, lines); err != nil {
		return err
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d input lines could not be predicted (see the messages above)", bad, len(rows))
	}
	return nil
}

// openSession loads a model folder or .onnx file for the CLI's one-process
// commands (a gs:// model is fetched into the verified local cache first, as
// workers fetch it) and opens an ONNX Runtime session on it.
func openSession(ctx context.Context, model string, maxLength, threads int) (*inference.Session, error) {
	local := model
	if transforms.IsRemote(local) {
		var err error
		if local, _, err = transforms.FetchModel(ctx, local); err != nil {
			return nil, err
		}
	}
	m, err := inference.LoadWith(local, inference.LoadOptions{MaxLength: maxLength})
	if err != nil {
		return nil, err
	}
	return m.NewSession(inference.SessionOptions{IntraOpThreads: threads})
}

// writeJSONLines writes one JSON object per line, the output of predict and generate.
func writeJSONLines[T any](stdout io.Writer, lines []T) error {
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
