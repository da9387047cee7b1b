package explainer

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/glassbox-ai/glassbox/attention"
	"github.com/glassbox-ai/glassbox/audit"
	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/faithfulness"
	"github.com/glassbox-ai/glassbox/gradient"
	"github.com/glassbox-ai/glassbox/importance"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/prototypes"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/surrogate"
	"github.com/glassbox-ai/glassbox/tokenizer"
)

// MethodSpec is one selected method with its parameters in force.
type MethodSpec struct {
	// Info is the method's registry entry.
	Info explanation.Info
	// Params are its validated parameters.
	Params explanation.Params
	// Method is the method built from Params.
	Method explanation.Method
	// MaskingRequested is what the job asked for (auto, attention or replace); "" for methods that do not mask.
	MaskingRequested string
	// Masking is how the method makes tokens absent, once resolved against the model (see explanation.MaskingAuto).
	Masking explanation.Masking
	// Faithfulness says that the method's rows get faithfulness metrics (Settings.Faithfulness and Info.Faithfulness).
	Faithfulness bool
	// FaithfulnessMasking is how faithfulness removes tokens: Masking for methods that mask, else Settings.Faithfulness's, resolved.
	FaithfulnessMasking explanation.Masking
}

// Name returns the method's registered name.
func (m MethodSpec) Name() string { return m.Info.Name }

// Settings are the job-wide choices the explainer follows.
type Settings struct {
	// RunID is written on every row.
	RunID string
	// Seed is the run seed; each example's seed is derived from it and the example id.
	Seed uint64
	// Target is "predicted", "all" or a label name (a token string for causal LMs).
	Target string
	// OutputKind is what is explained for classifiers (probability or logit).
	OutputKind inference.OutputKind
	// BatchSize bounds the rows per ONNX Runtime call.
	BatchSize int
	// Methods are the selected methods, in output order.
	Methods []MethodSpec
	// AttentionExamples selects examples (by id) whose full attention matrices are written.
	AttentionExamples map[string]bool
	// AttentionFirstN selects the first N rows of each input file for full attention matrices.
	AttentionFirstN int
	// IntraOpThreads is ONNX Runtime's intra-op thread count for the backward graphs (0 = ORT's choice).
	IntraOpThreads int
	// GradientCache keeps built backward graphs on disk (its zero value keeps none).
	GradientCache gradient.Cache
	// Surrogates makes Explain record one surrogate.Example per predicted record (Output.Surrogate).
	Surrogates bool
	// Representations makes Explain record each predicted record's pooled
	// representation (Output.Representations); it needs HiddenOutput.
	Representations bool
	// HiddenOutput is the session's last-hidden-state output ("" = none); with it each surrogate example carries the pooled probe vector.
	HiddenOutput string
	// GradientGraph is the ONNX file gradient methods differentiate ("" = the model's own; see Spec.GradientGraph).
	GradientGraph string
	// ProbePool pools the hidden state: surrogate.PoolCLS (the explained position's row) or surrogate.PoolMean (mean over non-special tokens).
	ProbePool string
	// Faithfulness, when set, measures the rows of the methods whose registry entry has Info.Faithfulness.
	Faithfulness *Faithfulness
	// Counterfactuals, when set, searches the selected examples for a minimal edit that flips the prediction.
	Counterfactuals *Counterfactuals
	// Generation, when set, continues every text and explains the generated tokens (task: generation).
	Generation *Generation
}

// Explainer explains records with one model session.
type Explainer struct {
	model     *inference.Model
	sess      *inference.Session
	attnNames []string
	s         Settings
	shards    int
	maskCheck *inference.MaskCheck
	// faithFallback: faithfulness asked for auto masking and got replace.
	faithFallback bool
	grads         *gradients // nil unless a method needs gradients
	cf            *counterfactuals
}

// Close releases what the explainer opened besides the session it was given (backward graphs).
func (e *Explainer) Close() {
	if e.grads != nil {
		e.grads.close()
	}
	e.cf.close()
}

// New makes an explainer over an open session; attnNames are the session's
// attention outputs in layer order (nil when no attention method is selected).
func New(sess *inference.Session, attnNames []string, s Settings) (*Explainer, error) {
	if s.BatchSize <= 0 {
		s.BatchSize = inference.DefaultBatchSize
	}
	if s.OutputKind == "" {
		s.OutputKind = inference.Probability
	}
	if s.Target == "" {
		s.Target = "predicted"
	}
	m := sess.Model()
	if m.Kind == inference.FeatureExtraction {
		return nil, fmt.Errorf("explain: %s is a feature-extraction model; explanations need a classifier or a causal LM", m.Files.Dir)
	}
	for _, spec := range s.Methods {
		if spec.Method == nil {
			return nil, fmt.Errorf("explain: method %s has no implementation", spec.Name())
		}
		if spec.Info.Needs.Attention && len(attnNames) == 0 {
			return nil, fmt.Errorf("explain: method %s needs the model's attention outputs", spec.Name())
		}
		if spec.Info.Needs.HiddenStates {
			return nil, fmt.Errorf("explain: method %s needs hidden states, which this explainer does not provide", spec.Name())
		}
	}
	if s.Representations && s.HiddenOutput == "" {
		return nil, fmt.Errorf("explain: representations need the model's last hidden state as a session output")
	}
	if err := checkTarget(m, s.Target); err != nil {
		return nil, err
	}
	if g := s.Generation; g != nil {
		if err := g.validate(m); err != nil {
			return nil, err
		}
		for _, spec := range s.Methods {
			if spec.Info.Needs.Gradients && g.Contrast != "" {
				return nil, fmt.Errorf("explain: method %s differentiates one token's log-probability; generation.contrast needs a perturbation method (occlusion, kernelshap, lime)", spec.Name())
			}
		}
	}
	if f := s.Faithfulness; f != nil && f.Masking != "" && !slices.Contains(explanation.MaskingValues, f.Masking) {
		return nil, fmt.Errorf("explain: faithfulness.masking %q is not allowed (allowed: %s)", f.Masking, strings.Join(explanation.MaskingValues, ", "))
	}
	e := &Explainer{model: m, sess: sess, attnNames: attnNames, s: s}
	if err := e.resolveMasking(context.Background()); err != nil {
		return nil, err
	}
	if err := e.openCounterfactuals(s.Counterfactuals); err != nil {
		return nil, err
	}
	for _, spec := range s.Methods {
		if spec.Info.Needs.Gradients && e.grads == nil {
			var err error
			if e.grads, err = newGradients(m, s.GradientGraph, s.OutputKind, s.BatchSize, s.IntraOpThreads, s.GradientCache); err != nil {
				return nil, err
			}
		}
	}
	return e, nil
}

// Output is what explaining a batch of records produces.
type Output struct {
	// Rows has one row per (example, method, target).
	Rows []schemas.ExplanationRow
	// Errors has one row per record that could not be explained.
	Errors []schemas.ErrorRow
	// Importance holds the records' contributions to the global importances.
	Importance map[importance.Key]importance.Acc
	// Faithfulness holds the rows' contributions to faithfulness.parquet (rows with a faithfulness column).
	Faithfulness map[faithfulness.Key]faithfulness.Acc
	// Attention holds full attention matrices of the selected examples.
	Attention []schemas.AttentionMatrixRow
	// AttentionStats holds per-head attention statistics of every example, when the attention method runs.
	AttentionStats []schemas.AttentionStatRow
	// Agreement compares every pair of methods on each explained example and
	// target, over its non-special tokens (when two or more methods run).
	Agreement []schemas.AgreementRow
	// AgreementAcc holds the records' contributions to the corpus-wide agreement
	// per method pair and target (merge with AgreementAcc.Merge, then
	// audit.AgreementSummaries for agreement_summary.parquet).
	AgreementAcc map[audit.AgreementKey]audit.AgreementAcc
	// Surrogate has one example per predicted record, when Settings.Surrogates.
	Surrogate []surrogate.Example
	// Counterfactuals has one row per searched example whose prediction an edit flipped, when Settings.Counterfactuals.
	Counterfactuals []schemas.CounterfactualRow
	// Generations has one row per continued prompt, in generation mode.
	Generations []schemas.GenerationRow
	// StepInputs counts the perturbed inputs the generation mode's step scorers
	// ran through the model (each once for all steps; benchmarks report it).
	StepInputs int
	// Representations has one example per predicted record with a finite
	// representation, when Settings.Representations (the others are Errors).
	Representations []prototypes.Example
	// Explained counts the records explained.
	Explained int
}

type item struct {
	rec     corpus.Record
	enc     *tokenizer.Encoding
	in      explanation.Input
	special []bool // never perturbed, attribution 0
	pred    inference.Prediction
	attn    attention.Weights
	words   []tokenizer.Word
	emb     []float32 // word embeddings, once a gradient method asked
	probe   []float64 // pooled last hidden state, when the probe runs
	// extraParams are added to (and override) the rows' params: the generation mode's step and output.
	extraParams map[string]any
}

func newOutput() *Output {
	return &Output{Importance: map[importance.Key]importance.Acc{}, Faithfulness: map[faithfulness.Key]faithfulness.Acc{}, AgreementAcc: map[audit.AgreementKey]audit.AgreementAcc{}}
}

// Explain explains a batch of records. Per-record failures become error rows;
// an error is returned only for failures of the model itself.
func (e *Explainer) Explain(ctx context.Context, recs []corpus.Record) (*Output, error) {
	if e.s.Generation != nil {
		return e.explainGeneration(ctx, recs)
	}
	out := newOutput()
	items := make([]*item, 0, len(recs))
	for _, r := range recs {
		enc, err := e.model.Encode(r.Text)
		if err != nil {
			out.Errors = append(out.Errors, e.errorRow(r, schemas.StageTokenize, schemas.CodeTokenizeError, err.Error()))
			continue
		}
		special := make([]bool, enc.Len())
		real := 0
		for i, sp := range enc.SpecialTokensMask {
			special[i] = sp != 0
			if sp == 0 {
				real++
			}
		}
		if real == 0 {
			out.Errors = append(out.Errors, e.errorRow(r, schemas.StageTokenize, schemas.CodeNoTokens, "the text has no tokens besides special tokens"))
			continue
		}
		items = append(items, &item{rec: r, enc: enc, in: e.model.InputFromEncoding(enc), special: special, words: tokenizer.Words(enc, r.Text)})
	}
	if err := e.predict(ctx, items); err != nil {
		return nil, err
	}
	if e.s.Surrogates {
		for _, it := range items {
			out.Surrogate = append(out.Surrogate, e.surrogateExample(it))
		}
	}
	if e.s.Representations {
		for _, it := range items {
			rep, err := e.representation(it)
			if err != nil {
				out.Errors = append(out.Errors, e.errorRow(it.rec, schemas.StageExplain, schemas.CodeNonFinite, err.Error()))
				continue
			}
			out.Representations = append(out.Representations, rep)
		}
	}
	if len(e.s.Methods) == 0 {
		return out, nil
	}
	// Shortest first: gradient methods open one backward graph per padded
	// length, and a sweep in length order opens each once. Rows are sorted
	// when written, so the order here changes nothing in the output.
	slices.SortStableFunc(items, func(a, b *item) int { return cmp.Compare(len(a.in.IDs), len(b.in.IDs)) })
	for _, it := range items {
		rows, errs := e.explainItem(ctx, it)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		for _, err := range errs {
			out.Errors = append(out.Errors, e.errorRow(it.rec, schemas.StageExplain, explainCode(err), err.Error()))
		}
		if len(rows) == 0 {
			continue
		}
		out.Explained++
		out.addRows(e, it, rows)
		cf, err := e.counterfactual(ctx, it, rows)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			out.Errors = append(out.Errors, e.errorRow(it.rec, schemas.StageExplain, explainCode(err), "counterfactual: "+err.Error()))
		} else if cf != nil {
			out.Counterfactuals = append(out.Counterfactuals, *cf)
		}
		if it.attn != nil && e.writesAttentionStats() {
			for _, st := range attention.Stats(it.attn, it.special) {
				out.AttentionStats = append(out.AttentionStats, schemas.AttentionStatRow{
					RunID: e.s.RunID, ExampleID: it.rec.ID, Layer: int32(st.Layer), Head: int32(st.Head), SeqLen: int32(len(it.special)),
					Entropy: st.Entropy, MaxWeight: st.MaxWeight, SpecialShare: st.SpecialShare, MeanSpan: st.MeanSpan,
				})
			}
		}
		if it.attn != nil && e.wantMatrices(it.rec) {
			out.Attention = append(out.Attention, e.matrixRows(it)...)
		}
	}
	return out, nil
}

// addRows adds one example's rows with their contributions to the global
// importances, faithfulness and method agreement. Rows of a generation step
// (Position set) are compared with the same step's rows only; rows of the
// sequence target add nothing to the global importances and faithfulness
// aggregates (their target is a whole continuation).
func (out *Output) addRows(e *Explainer, it *item, rows []schemas.ExplanationRow) {
	for _, row := range rows {
		out.Rows = append(out.Rows, row)
		if e.s.Generation != nil && row.Position == nil {
			continue // a sequence row's target is a whole continuation: no class to aggregate by
		}
		if k, acc, ok := faithfulness.RowContribution(row); ok {
			out.Faithfulness[k] = out.Faithfulness[k].Merge(acc)
		}
		words := make([]string, len(row.Words))
		attrs := make([]float64, len(row.Words))
		for i, w := range row.Words {
			words[i], attrs[i] = w.Text, w.Attribution
		}
		for k, acc := range importance.ExampleContributions(row.Method, row.Target, words, attrs) {
			if prev, ok := out.Importance[k]; ok {
				acc = prev.Merge(acc)
			}
			out.Importance[k] = acc
		}
	}
	if len(e.s.Methods) < 2 {
		return
	}
	for _, group := range sameStep(rows) {
		agree := agreementRows(e.s.RunID, it, group)
		out.Agreement = append(out.Agreement, agree...)
		for k, acc := range audit.AgreementContributions(agree) {
			if prev, ok := out.AgreementAcc[k]; ok {
				acc = prev.Merge(acc)
			}
			out.AgreementAcc[k] = acc
		}
	}
}

// sameStep splits rows into runs of equal Position (rows come step by step).
func sameStep(rows []schemas.ExplanationRow) [][]schemas.ExplanationRow {
	var out [][]schemas.ExplanationRow
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && samePosition(rows[i].Position, rows[j].Position) {
			j++
		}
		out = append(out, rows[i:j])
		i = j
	}
	return out
}

func samePosition(a, b *int32) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// predict runs the unperturbed inputs in groups of equal length, so no row is
// padded and each row's numbers do not depend on which rows share its batch.
func (e *Explainer) predict(ctx context.Context, items []*item) error {
	lengths := make([]int, len(items))
	for i, it := range items {
		lengths[i] = len(it.in.IDs)
	}
	for _, idx := range inference.GroupByLength(lengths, e.s.BatchSize, inference.EqualLength) {
		rows := make([]explanation.Input, len(idx))
		for j, i := range idx {
			rows[j] = items[i].in
		}
		o, err := e.sess.Run(ctx, rows)
		if err != nil {
			return fmt.Errorf("predict: %w", err)
		}
		for b, i := range idx {
			it := items[i]
			if it.pred, err = e.model.PredictionAt(o, b, it.in, 5); err != nil {
				return err
			}
			if len(e.attnNames) > 0 {
				if it.attn, err = sliceAttention(o, e.attnNames, b, len(it.in.IDs)); err != nil {
					return err
				}
			}
			if e.s.HiddenOutput != "" {
				if it.probe, err = e.poolHidden(o, b, it); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// explainItem explains one example with every method and target. A method
// that fails on the example (e.g. flow over its length limit) costs only its
// own rows: the failure is returned with the rows of the methods that worked.
func (e *Explainer) explainItem(ctx context.Context, it *item) ([]schemas.ExplanationRow, []error) {
	n := len(it.in.IDs)
	special := it.special
	seed := explanation.Seed(e.s.Seed, it.rec.ID)
	var rows []schemas.ExplanationRow
	var errs []error
	targets := e.targets(it.pred)
	// Inputs are scored once per example (see logitCache).
	var cache *logitCache
	if e.model.Kind == inference.SequenceClassification {
		cache = newLogitCache(e.sess, e.s.BatchSize)
	}
	for _, t := range targets {
		var sc explanation.Scorer
		var err error
		if cache != nil {
			sc = cache.scorer(t.class, e.s.OutputKind)
		} else if sc, err = e.scorer(t, n-1); err != nil {
			return nil, []error{modelError{err}}
		} else {
			sc = newScoreCache(sc)
		}
		sc = modelScorer{sc}
		for _, spec := range e.s.Methods {
			if err := ctx.Err(); err != nil {
				return nil, []error{err}
			}
			req := explanation.Request{
				Input: it.in, Special: special, WordIDs: it.enc.WordIDs, Masking: spec.Masking, ReplaceID: e.model.MaskID, Seed: seed,
				Position: e.model.ExplainedPosition(n), Score: e.targetScore(it, t, sc), Link: e.model.ScoreLink(e.s.OutputKind),
			}
			if spec.Info.Needs.Attention {
				req.Attention = it.attn
			}
			if spec.Info.Needs.Gradients {
				if err := e.withGradients(&req, it, t); err != nil {
					errs = append(errs, fmt.Errorf("%s for target %s: %w", spec.Name(), t.label, err))
					continue
				}
			}
			res, err := spec.Method.Explain(ctx, sc, req)
			if err == nil {
				err = checkFinite(res)
			}
			var row schemas.ExplanationRow
			if err == nil {
				row, err = e.row(it, spec, t, res, special)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s for target %s: %w", spec.Name(), t.label, err))
				continue
			}
			if spec.Faithfulness {
				// A failure costs the row its faithfulness, not the row.
				if err := e.faithfulness(ctx, sc, req, spec, &row); err != nil {
					errs = append(errs, fmt.Errorf("faithfulness of %s for target %s: %w", spec.Name(), t.label, err))
				}
			}
			rows = append(rows, row)
		}
	}
	return rows, errs
}

// faithfulness measures row's attributions (its tokens' attribution column, as
// written) under the row's scorer and the method's faithfulness masking.
func (e *Explainer) faithfulness(ctx context.Context, sc explanation.Scorer, req explanation.Request, spec MethodSpec, row *schemas.ExplanationRow) error {
	// A generation step's row shows a prefix of the input it explains.
	attr := make([]float64, len(req.Input.IDs))
	for i, tok := range row.Tokens {
		attr[i] = tok.Attribution
	}
	req.Masking = spec.FaithfulnessMasking
	m, err := faithfulness.Compute(ctx, sc, req, attr)
	if err != nil {
		return err
	}
	row.Faithfulness = m.Column()
	return nil
}

// agreementRows compares the methods' token attributions of one example, per target.
func agreementRows(runID string, it *item, rows []schemas.ExplanationRow) []schemas.AgreementRow {
	attrs := make([]audit.Attributions, len(rows))
	for i, r := range rows {
		a := audit.Attributions{Method: r.Method, Target: r.Target, Tokens: make([]float64, len(r.Tokens))}
		for j, tok := range r.Tokens {
			a.Tokens[j] = tok.Attribution
		}
		attrs[i] = a
	}
	// The rows' own flags: a generation step's row shows a prefix of its input.
	special := make([]bool, len(rows[0].Tokens))
	for i, tok := range rows[0].Tokens {
		special[i] = tok.Special
	}
	return audit.Agreement(runID, it.rec.ID, special, attrs)
}
