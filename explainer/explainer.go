package explainer

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/glassbox-ai/glassbox/attention"
	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/importance"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/tokenizer"
)

// Method kinds: how a method gets its numbers.
const (
	KindPerturbation = "perturbation"
	KindAttention    = "attention"
)

// MethodSpec is one selected method with its parameters in force.
type MethodSpec struct {
	// Name is the method's user-facing name (occlusion, kernelshap, lime, attention, rollout, flow).
	Name string
	// Perturb is the method for perturbation kinds.
	Perturb explanation.Method
	// MaskingRequested is what the job asked for: auto, attention or replace (perturbation methods).
	MaskingRequested string
	// Masking is how perturbation methods make tokens absent, once resolved (see MaskingAuto).
	Masking explanation.Masking
	// Layer is the attention method's layer (-1 = last).
	Layer int
	// Head is the attention method's head (-1 = average over heads).
	Head int
	// FlowMaxLength bounds attention flow's sequence length.
	FlowMaxLength int
	// Params are the parameters written on every row (JSON).
	Params map[string]any
}

// Kind returns whether the method perturbs inputs or reads attention.
func (m MethodSpec) Kind() string {
	switch m.Name {
	case "attention", "rollout", "flow":
		return KindAttention
	}
	return KindPerturbation
}

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
}

// Explainer explains records with one model session.
type Explainer struct {
	model     *inference.Model
	sess      *inference.Session
	attnNames []string
	s         Settings
	shards    int
	maskCheck *inference.MaskCheck
}

// New makes an explainer over an open session; attnNames are the session's
// attention outputs in layer order (nil when no attention method is selected).
func New(sess *inference.Session, attnNames []string, s Settings) (*Explainer, error) {
	if s.BatchSize <= 0 {
		s.BatchSize = 32
	}
	if s.OutputKind == "" {
		s.OutputKind = inference.Probability
	}
	if s.Target == "" {
		s.Target = "predicted"
	}
	m := sess.Model()
	if m.Kind == inference.FeatureExtraction {
		return nil, fmt.Errorf("explain: %s is a feature-extraction model; explanations need a classifier or a causal LM", m.Dir)
	}
	for _, spec := range s.Methods {
		if spec.Kind() == KindAttention && len(attnNames) == 0 {
			return nil, fmt.Errorf("explain: method %s needs the model's attention outputs", spec.Name)
		}
		if spec.Kind() == KindPerturbation && spec.Perturb == nil {
			return nil, fmt.Errorf("explain: method %s has no implementation", spec.Name)
		}
	}
	if err := checkTarget(m, s.Target); err != nil {
		return nil, err
	}
	e := &Explainer{model: m, sess: sess, attnNames: attnNames, s: s}
	if err := e.resolveMasking(context.Background()); err != nil {
		return nil, err
	}
	return e, nil
}

// resolveMasking checks, once, whether the model honours holes in the
// attention mask when a method would rely on it, and settles each method's
// masking: auto becomes attention or replace; an explicit attention on a model
// that does not honour it is refused, since its numbers would be wrong.
func (e *Explainer) resolveMasking(ctx context.Context) error {
	methods := make([]MethodSpec, len(e.s.Methods))
	copy(methods, e.s.Methods)
	for i, spec := range methods {
		if spec.Kind() != KindPerturbation {
			continue
		}
		// Specs built in code may set Masking alone: that is an explicit request.
		req := spec.MaskingRequested
		if req == "" {
			req = string(spec.Masking)
		}
		if req == "" {
			req = MaskingAuto
		}
		methods[i].MaskingRequested = req
		if req == string(explanation.MaskReplace) {
			methods[i].Masking = explanation.MaskReplace
			continue
		}
		if e.maskCheck == nil {
			c, err := e.sess.CheckAttentionMask(ctx)
			if err != nil {
				return fmt.Errorf("explain: %w", err)
			}
			e.maskCheck = &c
		}
		switch {
		case e.maskCheck.Honoured:
			methods[i].Masking = explanation.MaskAttention
		case req == MaskingAuto:
			methods[i].Masking = explanation.MaskReplace
		default:
			return fmt.Errorf("explain: methods.%s.masking is %q, but %s does not honour holes in the attention mask, so its numbers would be wrong (%s): use masking %q or %q (replace masking where needed)",
				spec.Name, req, e.model.Files.ONNX, e.maskCheck.Evidence, explanation.MaskReplace, MaskingAuto)
		}
	}
	e.s.Methods = methods
	return nil
}

// Model returns the explained model.
func (e *Explainer) Model() *inference.Model { return e.model }

// MaskCheck returns what the attention-mask check found, or nil when no method needed it.
func (e *Explainer) MaskCheck() *inference.MaskCheck { return e.maskCheck }

// MaskingFallback reports whether a method asked for auto masking got replace masking because the model does not honour attention masking.
func (e *Explainer) MaskingFallback() bool {
	for _, spec := range e.s.Methods {
		if spec.MaskingRequested == MaskingAuto && spec.Masking == explanation.MaskReplace {
			return true
		}
	}
	return false
}

func checkTarget(m *inference.Model, target string) error {
	switch target {
	case "predicted":
		return nil
	case "all":
		if m.Kind != inference.SequenceClassification {
			return fmt.Errorf("explain: target \"all\" is for classifiers; %s is a %s", m.Dir, m.Kind)
		}
		return nil
	}
	if m.Kind == inference.SequenceClassification {
		for _, l := range m.Labels {
			if l == target {
				return nil
			}
		}
		return fmt.Errorf("explain: target %q is not a label of %s (labels: %s)", target, m.Dir, strings.Join(m.Labels, ", "))
	}
	if _, ok := m.Tokenizer.TokenToID(target); !ok {
		return fmt.Errorf("explain: target %q is not a token of %s's vocabulary", target, m.Dir)
	}
	return nil
}

// Output is what explaining a batch of records produces.
type Output struct {
	// Rows has one row per (example, method, target).
	Rows []schemas.ExplanationRow
	// Errors has one row per record that could not be explained.
	Errors []schemas.ErrorRow
	// Importance holds the records' contributions to the global importances.
	Importance map[importance.Key]importance.Acc
	// Attention holds full attention matrices of the selected examples.
	Attention []schemas.AttentionMatrixRow
	// AttentionStats holds per-head attention statistics of every example, when the attention method runs.
	AttentionStats []schemas.AttentionStatRow
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
}

// Explain explains a batch of records. Per-record failures become error rows;
// an error is returned only for failures of the model itself.
func (e *Explainer) Explain(ctx context.Context, recs []corpus.Record) (*Output, error) {
	out := &Output{Importance: map[importance.Key]importance.Acc{}}
	items := make([]*item, 0, len(recs))
	for _, r := range recs {
		enc, err := e.model.Encode(r.Text)
		if err != nil {
			out.Errors = append(out.Errors, e.errorRow(r, schemas.StageTokenize, err.Error()))
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
			out.Errors = append(out.Errors, e.errorRow(r, schemas.StageTokenize, "the text has no tokens besides special tokens"))
			continue
		}
		items = append(items, &item{rec: r, enc: enc, in: e.model.InputFromEncoding(enc), special: special, words: tokenizer.Words(enc, r.Text)})
	}
	if err := e.predict(ctx, items); err != nil {
		return nil, err
	}
	for _, it := range items {
		rows, errs := e.explainItem(ctx, it)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		for _, err := range errs {
			out.Errors = append(out.Errors, e.errorRow(it.rec, schemas.StageExplain, err.Error()))
		}
		if len(rows) == 0 {
			continue
		}
		out.Explained++
		for _, row := range rows {
			out.Rows = append(out.Rows, row)
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
		if it.attn != nil && e.hasMethod("attention") {
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

// predict runs the unperturbed inputs in groups of equal length, so no row is
// padded and each row's numbers do not depend on which rows share its batch.
func (e *Explainer) predict(ctx context.Context, items []*item) error {
	byLen := map[int][]*item{}
	var lengths []int
	for _, it := range items {
		n := len(it.in.IDs)
		if _, ok := byLen[n]; !ok {
			lengths = append(lengths, n)
		}
		byLen[n] = append(byLen[n], it)
	}
	sort.Ints(lengths)
	for _, n := range lengths {
		group := byLen[n]
		for start := 0; start < len(group); start += e.s.BatchSize {
			chunk := group[start:min(start+e.s.BatchSize, len(group))]
			rows := make([]explanation.Input, len(chunk))
			for i, it := range chunk {
				rows[i] = it.in
			}
			o, err := e.sess.Run(ctx, rows)
			if err != nil {
				return fmt.Errorf("predict: %w", err)
			}
			for b, it := range chunk {
				p, err := e.model.PredictionAt(o, b, it.in, 5)
				if err != nil {
					return err
				}
				it.pred = p
				if len(e.attnNames) > 0 {
					it.attn, err = sliceAttention(o, e.attnNames, b, n)
					if err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func sliceAttention(o inference.Outputs, names []string, b, n int) (attention.Weights, error) {
	w := make(attention.Weights, len(names))
	for l, name := range names {
		t, ok := o[name]
		if !ok || len(t.Shape) != 4 || t.Shape[2] != n || t.Shape[3] != n {
			return nil, fmt.Errorf("attention output %s: want shape [batch, heads, %d, %d], got %v", name, n, n, t.Shape)
		}
		heads := t.Shape[1]
		w[l] = make([][][]float32, heads)
		for h := 0; h < heads; h++ {
			w[l][h] = make([][]float32, n)
			base := (b*heads + h) * n * n
			for q := 0; q < n; q++ {
				w[l][h][q] = t.Data[base+q*n : base+(q+1)*n : base+(q+1)*n]
			}
		}
	}
	return w, nil
}

type target struct {
	label string
	class int // class index, or token id for causal LMs
}

func (e *Explainer) targets(p inference.Prediction) []target {
	m := e.model
	switch e.s.Target {
	case "predicted":
		return []target{{label: p.Label, class: p.LabelIndex}}
	case "all":
		ts := make([]target, len(m.Labels))
		for i, l := range m.Labels {
			ts[i] = target{label: l, class: i}
		}
		return ts
	}
	if m.Kind == inference.SequenceClassification {
		for i, l := range m.Labels {
			if l == e.s.Target {
				return []target{{label: l, class: i}}
			}
		}
	}
	id, _ := m.Tokenizer.TokenToID(e.s.Target)
	return []target{{label: e.s.Target, class: id}}
}

func (e *Explainer) scorer(t target, position int) (explanation.Scorer, error) {
	if e.model.Kind == inference.CausalLM {
		return e.sess.NextTokenScorer(position, t.class, e.s.BatchSize)
	}
	return e.sess.ClassScorer(t.class, e.s.OutputKind, e.s.BatchSize)
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
	var cache *logitCache
	if len(targets) > 1 && e.model.Kind == inference.SequenceClassification {
		cache = newLogitCache(e.sess, e.s.BatchSize)
	}
	for _, t := range targets {
		var sc explanation.Scorer
		var err error
		if cache != nil {
			sc = cache.scorer(t.class, e.s.OutputKind)
		} else if sc, err = e.scorer(t, n-1); err != nil {
			return nil, []error{err}
		}
		for _, spec := range e.s.Methods {
			if err := ctx.Err(); err != nil {
				return nil, []error{err}
			}
			var res explanation.Result
			switch spec.Kind() {
			case KindPerturbation:
				req := explanation.Request{Input: it.in, Special: special, WordIDs: it.enc.WordIDs, Masking: spec.Masking, ReplaceID: e.model.MaskID, Seed: seed}
				res, err = spec.Perturb.Explain(ctx, sc, req)
			case KindAttention:
				res, err = e.attentionResult(ctx, spec, it, t, special, sc)
			}
			if err == nil {
				err = checkFinite(res)
			}
			var row schemas.ExplanationRow
			if err == nil {
				row, err = e.row(it, spec, t, res, special)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s for target %s: %w", spec.Name, t.label, err))
				continue
			}
			rows = append(rows, row)
		}
	}
	return rows, errs
}

func (e *Explainer) attentionResult(ctx context.Context, spec MethodSpec, it *item, t target, special []bool, sc explanation.Scorer) (explanation.Result, error) {
	n := len(it.in.IDs)
	q := attention.QueryPosition(n, e.model.IsDecoder())
	var attr []float64
	var err error
	params := map[string]any{"query_position": q}
	for k, v := range spec.Params {
		params[k] = v
	}
	switch spec.Name {
	case "attention":
		layer := spec.Layer
		if layer < 0 {
			layer += len(it.attn)
		}
		if layer < 0 || layer >= len(it.attn) {
			return explanation.Result{}, fmt.Errorf("layer %d out of range: the model has %d layers", spec.Layer, len(it.attn))
		}
		params["layer"] = layer
		if spec.Head >= 0 {
			if spec.Head >= len(it.attn[layer]) {
				return explanation.Result{}, fmt.Errorf("head %d out of range: layer %d has %d heads", spec.Head, layer, len(it.attn[layer]))
			}
			attr = make([]float64, n)
			for j, v := range it.attn[layer][spec.Head][q] {
				attr[j] = float64(v)
			}
		} else {
			attr = attention.Raw(it.attn, q, layer)
		}
	case "rollout":
		attr, _, err = attention.Rollout(it.attn, q)
	case "flow":
		attr, err = attention.Flow(it.attn, q, spec.FlowMaxLength)
	default:
		return explanation.Result{}, fmt.Errorf("unknown attention method %q", spec.Name)
	}
	if err != nil {
		return explanation.Result{}, err
	}
	// Conventions: special tokens get attribution 0 whatever the method.
	tokens := make([]float64, n)
	for i := range tokens {
		if !special[i] && i < len(attr) {
			tokens[i] = attr[i]
		}
	}
	// A classifier's f(x) is already in the prediction; only a causal LM's
	// target token may lie outside the top tokens kept there.
	var fx float64
	if e.model.Kind == inference.SequenceClassification {
		fx = it.pred.Probs[t.class]
		if e.s.OutputKind == inference.Logit {
			fx = it.pred.Logits[t.class]
		}
	} else {
		f, err := sc.Score(ctx, []explanation.Input{it.in})
		if err != nil {
			return explanation.Result{}, err
		}
		fx = f[0]
	}
	return explanation.Result{Tokens: tokens, TargetScore: fx, Params: params}, nil
}

func (e *Explainer) row(it *item, spec MethodSpec, t target, res explanation.Result, special []bool) (schemas.ExplanationRow, error) {
	params := map[string]any{}
	for k, v := range spec.Params {
		params[k] = v
	}
	for k, v := range res.Params {
		params[k] = v
	}
	if spec.Kind() == KindPerturbation {
		params["masking"] = string(spec.Masking)
		params["masking_requested"] = spec.MaskingRequested
	}
	if e.model.Kind == inference.SequenceClassification {
		params["output"] = string(e.s.OutputKind)
	} else {
		params["output"] = "next_token_logprob"
		params["position"] = len(it.in.IDs) - 1
	}
	pj, err := json.Marshal(params) // map keys are sorted: deterministic
	if err != nil {
		return schemas.ExplanationRow{}, fmt.Errorf("params of %s: %w", spec.Name, err)
	}
	enc := it.enc
	row := schemas.ExplanationRow{
		RunID:          e.s.RunID,
		ExampleID:      it.rec.ID,
		Text:           it.rec.Text,
		GoldLabel:      it.rec.Label,
		PredictedLabel: it.pred.Label,
		Probs:          it.pred.Probs,
		Method:         spec.Name,
		Params:         string(pj),
		Target:         t.label,
		TargetScore:    res.TargetScore,
		BaselineScore:  res.BaselineScore,
		Quality:        res.Quality,
		Truncated:      enc.Truncated,
		Source:         it.rec.Source,
		SourceLine:     it.rec.Line,
		SchemaVersion:  schemas.Version,
	}
	if row.Probs == nil {
		for _, tp := range it.pred.NextTokens {
			row.Probs = append(row.Probs, tp.Prob)
		}
	}
	row.Tokens = make([]schemas.Token, len(enc.IDs))
	for i := range enc.IDs {
		a := 0.0
		if !special[i] && i < len(res.Tokens) {
			a = res.Tokens[i]
		}
		row.Tokens[i] = schemas.Token{
			Index: int32(i), Text: enc.Tokens[i],
			Start: int32(enc.Offsets[i][0]), End: int32(enc.Offsets[i][1]),
			ByteStart: int32(enc.ByteOffsets[i][0]), ByteEnd: int32(enc.ByteOffsets[i][1]),
			WordIndex: int32(enc.WordIDs[i]), Special: special[i], Attribution: clean(a),
		}
	}
	wordAttr := res.Words
	if wordAttr == nil {
		wordAttr = explanation.WordSums(res.Tokens, enc.WordIDs)
	}
	row.Words = make([]schemas.Word, len(it.words))
	for i, w := range it.words {
		a := 0.0
		if w.Index >= 0 && w.Index < len(wordAttr) {
			a = wordAttr[w.Index]
		}
		row.Words[i] = schemas.Word{Text: w.Text, Start: int32(w.Start), End: int32(w.End), Attribution: clean(a)}
	}
	return row, nil
}

// checkFinite refuses results with NaN or infinite values: a wrong number
// must never reach the output as if it were an explanation.
func checkFinite(r explanation.Result) error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	if bad(r.TargetScore) || r.BaselineScore != nil && bad(*r.BaselineScore) || r.Quality != nil && bad(*r.Quality) {
		return fmt.Errorf("the model's score is not finite")
	}
	for _, v := range r.Tokens {
		if bad(v) {
			return fmt.Errorf("a token attribution is not finite")
		}
	}
	for _, v := range r.Words {
		if bad(v) {
			return fmt.Errorf("a word attribution is not finite")
		}
	}
	return nil
}

// clean maps -0 to 0 so equal results encode to equal bytes.
func clean(v float64) float64 {
	if v == 0 {
		return 0
	}
	return v
}

func (e *Explainer) hasMethod(name string) bool {
	for _, m := range e.s.Methods {
		if m.Name == name {
			return true
		}
	}
	return false
}

func (e *Explainer) wantMatrices(r corpus.Record) bool {
	if e.s.AttentionExamples[r.ID] {
		return true
	}
	return e.s.AttentionFirstN > 0 && r.Line <= int64(e.s.AttentionFirstN)
}

func (e *Explainer) matrixRows(it *item) []schemas.AttentionMatrixRow {
	n := len(it.in.IDs)
	var rows []schemas.AttentionMatrixRow
	avg := attention.HeadAverage(it.attn)
	for l, layer := range it.attn {
		for h := -1; h < len(layer); h++ {
			w := make([]float32, 0, n*n)
			for q := 0; q < n; q++ {
				for k := 0; k < n; k++ {
					if h < 0 {
						w = append(w, float32(avg[l][q][k]))
					} else {
						w = append(w, layer[h][q][k])
					}
				}
			}
			rows = append(rows, schemas.AttentionMatrixRow{RunID: e.s.RunID, ExampleID: it.rec.ID, Layer: int32(l), Head: int32(h), Tokens: it.enc.Tokens, SeqLen: int32(n), Weights: w})
		}
	}
	return rows
}

func (e *Explainer) errorRow(r corpus.Record, stage, reason string) schemas.ErrorRow {
	id := r.ID
	return schemas.ErrorRow{RunID: e.s.RunID, Source: r.Source, Line: r.Line, ExampleID: &id, Stage: stage, Reason: reason, Raw: schemas.SanitizeRaw(r.Text)}
}
