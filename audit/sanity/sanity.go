// Package sanity runs the model-parameter randomisation test of Adebayo et
// al. (2018), "Sanity Checks for Saliency Maps", on an ONNX model in process
// (no Beam): the model's weights are randomised cascading from the top
// (onnxgraph.LayerGroups: head, layers from the top down, embeddings; stage s
// redraws the first s groups with onnxgraph.RandomizeFile), a seeded sample of
// the input is explained on the original and on every stage's model for the
// label the original predicts, and each method's token attributions are
// compared by Spearman's ρ (signed and absolute). A method whose median ρ with
// every group randomised stays above the threshold is flagged: its
// explanations barely depend on what the model learned.
package sanity

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/glassbox-ai/glassbox/audit"
	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/explainer"
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/schemas"
)

// Defaults of Options.
const (
	DefaultSample = 50
	// DefaultThreshold flags a method whose median ρ with every layer group
	// randomised is above 0.5. Adebayo et al. find that methods sensitive to
	// the weights fall to rank correlations near 0 once the network is
	// randomised, while those that are not (guided backprop, and gradient ×
	// input on inputs whose own values dominate) stay high; above 0.5 more
	// than half of the rank structure survives the loss of everything learned,
	// so the explanation mostly reflects the input, not the model.
	DefaultThreshold = 0.5
)

// Options configure a sanity run.
type Options struct {
	// Model is the model folder or .onnx file (as inference.Locate takes it).
	Model string
	// Methods are the methods to check, with their parameters.
	Methods []explainer.MethodConfig
	// Sample is how many examples are explained (default DefaultSample).
	Sample int
	// Seed seeds the sample, the methods and the redrawn weights.
	Seed uint64
	// Threshold flags a method whose median ρ at the final stage is above it
	// (callers pass DefaultThreshold unless told otherwise; 0 is a threshold).
	Threshold float64
	// OutputKind is probability (default) or logit.
	OutputKind string
	// MaxLength is the truncation length (0: the model's).
	MaxLength int
	// BatchSize bounds rows per ONNX Runtime call (0: the default).
	BatchSize int
	// IntraOpThreads is ONNX Runtime's intra-op thread count (0: its choice).
	IntraOpThreads int
	// Progress, when set, is told each stage as it starts.
	Progress func(stage int, group string)
}

// Result is what a sanity run produces.
type Result struct {
	// RunID identifies the run: a digest of the model's bytes, the options and the sample.
	RunID string
	// Groups are the layer groups in randomisation order.
	Groups []onnxgraph.LayerGroup
	// Sample are the explained records' ids, in input order.
	Sample []string
	// Rows are the per-example comparisons, sorted by method (in Options order), stage, example id.
	Rows []schemas.SanityRow
	// Summary has one row per method and stage.
	Summary []schemas.SanitySummaryRow
	// Flagged names the flagged methods.
	Flagged []string
	// Skipped counts (method, stage, example) comparisons left out because a method failed on the example.
	Skipped int
	// Errors say why examples or methods failed: "original" or "stage N (group)", the example and the reason.
	Errors []string
}

// Sample picks n records deterministically: those with the smallest
// explanation.Seed(seed, id), returned in input order.
func Sample(recs []corpus.Record, n int, seed uint64) []corpus.Record {
	if n >= len(recs) {
		return slices.Clone(recs)
	}
	idx := make([]int, len(recs))
	keys := make([]uint64, len(recs))
	for i, r := range recs {
		idx[i], keys[i] = i, explanation.Seed(seed, r.ID)
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Or(cmp.Compare(keys[a], keys[b]), cmp.Compare(a, b)) })
	idx = idx[:n]
	slices.Sort(idx)
	out := make([]corpus.Record, n)
	for i, j := range idx {
		out[i] = recs[j]
	}
	return out
}

// Run runs the sanity check over a sample of recs.
func Run(ctx context.Context, o Options, recs []corpus.Record) (*Result, error) {
	if o.Sample <= 0 {
		o.Sample = DefaultSample
	}
	if o.OutputKind == "" {
		o.OutputKind = string(inference.Probability)
	}
	if len(o.Methods) == 0 {
		return nil, errors.New("sanity: no methods")
	}
	seen := map[string]bool{}
	for _, m := range o.Methods {
		if seen[m.Name] {
			return nil, fmt.Errorf("sanity: method %s named twice", m.Name)
		}
		seen[m.Name] = true
	}
	if len(recs) == 0 {
		return nil, errors.New("sanity: the input has no records")
	}
	files, err := inference.Locate(o.Model)
	if err != nil {
		return nil, err
	}
	proto, err := onnxgraph.Load(files.ONNX)
	if err != nil {
		return nil, err
	}
	groups, err := onnxgraph.LayerGroups(proto)
	if err != nil {
		return nil, fmt.Errorf("sanity: %s: %w", files.ONNX, err)
	}
	sample := Sample(recs, o.Sample, o.Seed)
	res := &Result{Groups: groups}
	for _, r := range sample {
		res.Sample = append(res.Sample, r.ID)
	}
	if res.RunID, err = runID(files.ONNX, o, res.Sample); err != nil {
		return nil, err
	}
	spec := explainer.Spec{
		Model: o.Model, MaxLength: o.MaxLength, IntraOpThreads: o.IntraOpThreads, RunID: res.RunID, Seed: o.Seed,
		Target: "predicted", OutputKind: o.OutputKind, BatchSize: o.BatchSize, Methods: o.Methods,
	}
	tmp, err := os.MkdirTemp("", "glassbox-sanity-*")
	if err != nil {
		return nil, fmt.Errorf("sanity: %w", err)
	}
	defer os.RemoveAll(tmp)
	if o.Progress != nil {
		o.Progress(-1, "original")
	}
	if spec.NeedsAttention() {
		if spec.GraphPath, spec.AttentionOutputs, err = exposeAttention(files.ONNX, filepath.Dir(files.ONNX), filepath.Join(tmp, "original-attention.onnx")); err != nil {
			return nil, err
		}
	}
	orig, errs, err := explain(ctx, spec, sample, nil)
	if err != nil {
		return nil, err
	}
	res.addErrors("original", errs)
	// The label each example is explained for at every stage: the original's prediction.
	targets := map[string]string{}
	for _, a := range orig {
		targets[a.id] = a.target
	}
	var names []string
	for stage := 0; stage <= len(groups); stage++ {
		group := "none"
		if stage > 0 {
			group = groups[stage-1].Name
			names = append(names, groups[stage-1].Initializers...)
		}
		if o.Progress != nil {
			o.Progress(stage, group)
		}
		path := filepath.Join(tmp, "stage-"+strconv.Itoa(stage)+".onnx")
		if _, err := onnxgraph.RandomizeFile(files.ONNX, path, names, o.Seed); err != nil {
			return nil, fmt.Errorf("sanity: stage %d: %w", stage, err)
		}
		s := spec
		s.GraphPath, s.GradientGraph = path, path
		if spec.NeedsAttention() {
			if s.GraphPath, s.AttentionOutputs, err = exposeAttention(path, filepath.Dir(files.ONNX), filepath.Join(tmp, "stage-attention.onnx")); err != nil {
				return nil, fmt.Errorf("sanity: stage %d: %w", stage, err)
			}
		}
		got, errs, err := explain(ctx, s, sample, targets)
		if err != nil {
			return nil, fmt.Errorf("sanity: stage %d (%s randomised): %w", stage, group, err)
		}
		res.addErrors("stage "+strconv.Itoa(stage)+" ("+group+")", errs)
		os.Remove(path)
		res.Skipped += compare(res, orig, got, int32(stage), group)
	}
	order := map[string]int{}
	for i, m := range o.Methods {
		if _, ok := order[m.Name]; !ok {
			order[m.Name] = i
		}
	}
	slices.SortFunc(res.Rows, func(a, b schemas.SanityRow) int {
		return cmp.Or(cmp.Compare(order[a.Method], order[b.Method]), cmp.Compare(a.Stage, b.Stage), cmp.Compare(a.ExampleID, b.ExampleID))
	})
	res.Summary, res.Flagged = Summarize(res.Rows, o.Threshold, len(groups))
	return res, nil
}

// exposeAttention writes to out the model at path, whose external data (if
// any) lies in dataDir, with each layer's attention probabilities as outputs
// (onnxgraph.ExposeAttention), for the attention methods.
func exposeAttention(path, dataDir, out string) (string, []string, error) {
	m, err := onnxgraph.LoadFrom(path, dataDir)
	if err != nil {
		return "", nil, err
	}
	edited, names, err := onnxgraph.ExposeAttention(m)
	if err != nil {
		return "", nil, fmt.Errorf("sanity: %s: %w", path, err)
	}
	if err := onnxgraph.Save(edited, out); err != nil {
		return "", nil, err
	}
	return out, names, nil
}

// attr is one method's attributions of one example.
type attr struct {
	id, method, target string
	special            []bool
	tokens             []float64
}

func key(a attr) string { return a.method + "\x00" + a.id }

// explain explains recs with spec; with targets, each record is explained for
// its entry there (records without one are left out).
func explain(ctx context.Context, spec explainer.Spec, recs []corpus.Record, targets map[string]string) (map[string]attr, []schemas.ErrorRow, error) {
	ex, closeFn, err := explainer.Open(spec)
	if err != nil {
		return nil, nil, err
	}
	defer closeFn()
	groups := map[string][]corpus.Record{}
	var labels []string
	for _, r := range recs {
		t := "predicted"
		if targets != nil {
			var ok bool
			if t, ok = targets[r.ID]; !ok {
				continue
			}
		}
		if _, ok := groups[t]; !ok {
			labels = append(labels, t)
		}
		groups[t] = append(groups[t], r)
	}
	out := map[string]attr{}
	var errs []schemas.ErrorRow
	for _, t := range labels {
		e := ex
		if t != "predicted" {
			if e, err = ex.WithTarget(t); err != nil {
				return nil, nil, err
			}
		}
		o, err := e.Explain(ctx, groups[t])
		if err != nil {
			return nil, nil, err
		}
		errs = append(errs, o.Errors...)
		for _, row := range o.Rows {
			a := attr{id: row.ExampleID, method: row.Method, target: row.Target}
			for _, tok := range row.Tokens {
				a.special = append(a.special, tok.Special)
				a.tokens = append(a.tokens, tok.Attribution)
			}
			out[key(a)] = a
		}
	}
	return out, errs, nil
}

// addErrors records why examples failed at one stage.
func (r *Result) addErrors(where string, errs []schemas.ErrorRow) {
	for _, e := range errs {
		id := ""
		if e.ExampleID != nil {
			id = *e.ExampleID
		}
		r.Errors = append(r.Errors, fmt.Sprintf("%s: example %s: %s (%s)", where, id, e.Reason, e.Code))
	}
}

// compare appends a row per (method, example) present in both; it returns
// how many of orig's had no counterpart.
func compare(res *Result, orig, got map[string]attr, stage int32, group string) (skipped int) {
	for k, a := range orig {
		b, ok := got[k]
		if !ok || len(a.tokens) != len(b.tokens) {
			skipped++
			continue
		}
		x, y := audit.NonSpecial(a.tokens, a.special), audit.NonSpecial(b.tokens, a.special)
		row := schemas.SanityRow{RunID: res.RunID, Method: a.method, Stage: stage, LayerGroup: group, ExampleID: a.id, Target: a.target, NTokens: int32(len(x))}
		if r, ok := audit.Spearman(x, y); ok {
			row.Spearman = &r
		}
		if r, ok := audit.Spearman(audit.Abs(x), audit.Abs(y)); ok {
			row.SpearmanAbs = &r
		}
		res.Rows = append(res.Rows, row)
	}
	return skipped
}

// Summarize aggregates rows (sorted by method, stage) per method and stage and
// flags the methods whose median ρ at the final stage (finalStage: every group
// randomised) is above threshold. Flagged methods are returned in row order.
func Summarize(rows []schemas.SanityRow, threshold float64, finalStage int) ([]schemas.SanitySummaryRow, []string) {
	var out []schemas.SanitySummaryRow
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && rows[j].Method == rows[i].Method && rows[j].Stage == rows[i].Stage {
			j++
		}
		var v, va []float64
		for _, r := range rows[i:j] {
			if r.Spearman != nil {
				v = append(v, *r.Spearman)
			}
			if r.SpearmanAbs != nil {
				va = append(va, *r.SpearmanAbs)
			}
		}
		s := schemas.SanitySummaryRow{RunID: rows[i].RunID, Method: rows[i].Method, Stage: rows[i].Stage, LayerGroup: rows[i].LayerGroup,
			Count: int64(len(v)), CountAbs: int64(len(va)), Threshold: threshold}
		s.MeanSpearman, s.MedianSpearman = meanMedian(v)
		s.MeanSpearmanAbs, s.MedianSpearmanAbs = meanMedian(va)
		out = append(out, s)
		i = j
	}
	flagged := map[string]bool{}
	var names []string
	for _, s := range out {
		if int(s.Stage) == finalStage && s.MedianSpearman != nil && *s.MedianSpearman > threshold && !flagged[s.Method] {
			flagged[s.Method] = true
			names = append(names, s.Method)
		}
	}
	for i := range out {
		out[i].Flagged = flagged[out[i].Method]
	}
	return out, names
}

// meanMedian returns the mean (summed in sorted order, so the same values give
// the same bits) and the median of v; nil for an empty v.
func meanMedian(v []float64) (mean, median *float64) {
	if len(v) == 0 {
		return nil, nil
	}
	s := slices.Clone(v)
	slices.Sort(s)
	var sum float64
	for _, x := range s {
		sum += x
	}
	m := sum / float64(len(s))
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	m = max(-1, min(1, m))
	if math.IsNaN(m) {
		return nil, nil
	}
	return &m, &med
}

// runID digests the model's bytes (its graph file), the options that change
// results and the sample.
func runID(onnxPath string, o Options, sample []string) (string, error) {
	data, err := os.ReadFile(onnxPath)
	if err != nil {
		return "", fmt.Errorf("sanity: %w", err)
	}
	h := sha256.New()
	sum := sha256.Sum256(data)
	h.Write(sum[:])
	cfg, err := json.Marshal(struct {
		Methods    []explainer.MethodConfig
		Seed       uint64
		Threshold  float64
		OutputKind string
		MaxLength  int
		Sample     []string
	}{o.Methods, o.Seed, o.Threshold, o.OutputKind, o.MaxLength, sample})
	if err != nil {
		return "", fmt.Errorf("sanity: %w", err)
	}
	h.Write(cfg)
	return "sanity-" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

// Write writes sanity.parquet and sanity_summary.parquet into dir, each atomically.
func Write(ctx context.Context, dir string, res *Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sanity: %w", err)
	}
	if err := parquetsink.WriteRows(ctx, parquetsink.Local(), filepath.Join(dir, schemas.SanityFile), res.Rows); err != nil {
		return err
	}
	return parquetsink.WriteRows(ctx, parquetsink.Local(), filepath.Join(dir, schemas.SanitySummaryFile), res.Summary)
}
