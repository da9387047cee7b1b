package explainer

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/generation"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/tokenizer"
)

// Attribute-over choices of the generation mode.
const (
	// OverPrompt attributes every generated token to the prompt's tokens only.
	OverPrompt = "prompt"
	// OverContext attributes generated token t_j to the prompt and t_<j.
	OverContext = "context"
)

// GenerationSpec is the serialisable generation mode of a Spec.
type GenerationSpec struct {
	// Options are how prompts are continued.
	Options generation.Options `json:"options"`
	// AttributeOver is OverPrompt ("" too) or OverContext.
	AttributeOver string `json:"attribute_over,omitempty"`
	// Contrast is Generation.Contrast.
	Contrast string `json:"contrast,omitempty"`
	// Sequence is Generation.Sequence.
	Sequence bool `json:"sequence,omitempty"`
}

// Generation turns on the explain job's generation mode (task: generation):
// every prompt is continued, and every generated token t_j is explained with
// the target log p(t_j | prompt + t_<j).
type Generation struct {
	// AttributeOver is OverPrompt (default) or OverContext.
	AttributeOver string
	// Contrast, when set, is a token (as the vocabulary spells it): each step
	// explains log p(t_j) − log p(Contrast), "why t_j rather than Contrast".
	Contrast string
	// Sequence adds one row per perturbation method explaining the whole
	// continuation's log-probability Σ_j log p(t_j | prompt + t_<j), over the prompt's tokens.
	Sequence bool
	// TopK is the number of most likely tokens kept per step in the generation rows (0: none).
	TopK int
	// Generate continues each prompt (no padding; seeds[i] seeds prompt i's sampling).
	Generate func(ctx context.Context, prompts []explanation.Input, seeds []uint64) ([]generation.Result, error)
}

// newGeneration makes the generation mode of spec, generating with sess.
func newGeneration(spec *GenerationSpec, sess *inference.Session, batchSize int) (*Generation, error) {
	if err := spec.Options.Validate(); err != nil {
		return nil, fmt.Errorf("explain: generation.%w", err)
	}
	gen, err := generation.New(sess)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	gen.BatchSize = batchSize
	o := spec.Options
	return &Generation{
		AttributeOver: spec.AttributeOver, Contrast: spec.Contrast, Sequence: spec.Sequence, TopK: o.TopAlternatives,
		Generate: func(ctx context.Context, prompts []explanation.Input, seeds []uint64) ([]generation.Result, error) {
			ids := make([][]int64, len(prompts))
			for i, p := range prompts {
				ids[i] = p.IDs
			}
			return gen.Generate(ctx, ids, seeds, o)
		},
	}, nil
}

func (g *Generation) validate(m *inference.Model) error {
	if m.Kind != inference.CausalLM {
		return fmt.Errorf("explain: task generation needs a causal LM; %s is a %s", m.Files.Dir, m.Kind)
	}
	switch g.AttributeOver {
	case "", OverPrompt, OverContext:
	default:
		return fmt.Errorf("explain: generation.attribute_over is %q; want %q or %q", g.AttributeOver, OverPrompt, OverContext)
	}
	if g.Contrast != "" {
		if _, ok := m.Tokenizer.TokenToID(g.Contrast); !ok {
			return fmt.Errorf("explain: generation.contrast %q is not a token of %s's vocabulary", g.Contrast, m.Files.Dir)
		}
	}
	if g.Generate == nil {
		return errors.New("explain: generation mode without a generator")
	}
	return nil
}

// genItem is one prompt with its continuation.
type genItem struct {
	rec    corpus.Record
	enc    *tokenizer.Encoding
	prompt explanation.Input
	cont   []int64
	stop   string   // why generation ended (generation.Stop*)
	pieces []string // each generated token decoded alone
	full   explanation.Input
	steps  []schemas.GenerationStep
	it     *item     // the prompt as the classic path holds it (attention on the full input)
	emb    []float32 // the full input's word embeddings, once a gradient method asked
}

// explainGeneration is Explain in generation mode.
func (e *Explainer) explainGeneration(ctx context.Context, recs []corpus.Record) (*Output, error) {
	out := newOutput()
	g := e.s.Generation
	var items []*genItem
	for _, r := range recs {
		enc, err := e.model.Encode(r.Text)
		if err != nil {
			out.Errors = append(out.Errors, e.errorRow(r, schemas.StageTokenize, schemas.CodeTokenizeError, err.Error()))
			continue
		}
		if enc.Len() == 0 {
			out.Errors = append(out.Errors, e.errorRow(r, schemas.StageTokenize, schemas.CodeNoTokens, "the prompt has no tokens"))
			continue
		}
		items = append(items, &genItem{rec: r, enc: enc, prompt: e.model.InputFromEncoding(enc)})
	}
	if len(items) == 0 {
		return out, nil
	}
	prompts := make([]explanation.Input, len(items))
	seeds := make([]uint64, len(items))
	for i, gi := range items {
		prompts[i], seeds[i] = gi.prompt, explanation.Seed(e.s.Seed, gi.rec.ID)
	}
	res, err := g.Generate(ctx, prompts, seeds)
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	if len(res) != len(items) {
		return nil, fmt.Errorf("generate: %d continuations for %d prompts", len(res), len(items))
	}
	kept := items[:0]
	for i, gi := range items {
		if len(res[i].Steps) == 0 {
			out.Errors = append(out.Errors, e.errorRow(gi.rec, schemas.StageExplain, schemas.CodeEmptyContinuation,
				fmt.Sprintf("the model generated no token (stop reason %s)", res[i].StopReason)))
			continue
		}
		gi.cont, gi.stop = res[i].IDs(), res[i].StopReason
		kept = append(kept, gi)
	}
	if err := e.predictGenerations(ctx, kept); err != nil {
		return nil, err
	}
	for _, gi := range kept {
		out.Generations = append(out.Generations, e.generationRow(gi))
		rows, errs, inputs := e.explainContinuation(ctx, gi)
		out.StepInputs += inputs
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		for _, err := range errs {
			out.Errors = append(out.Errors, e.errorRow(gi.rec, schemas.StageExplain, explainCode(err), err.Error()))
		}
		if len(rows) == 0 && len(e.s.Methods) > 0 {
			continue
		}
		out.Explained++
		out.addRows(e, gi.it, rows)
	}
	return out, nil
}

// predictGenerations runs each prompt + continuation once (unpadded): the
// generation rows' per-step probabilities and alternatives, and the attention
// the attention methods read.
func (e *Explainer) predictGenerations(ctx context.Context, items []*genItem) error {
	topK := e.s.Generation.TopK
	for _, gi := range items {
		full := gi.prompt.Clone()
		for _, t := range gi.cont {
			full.IDs = append(full.IDs, t)
			full.Mask = append(full.Mask, 1)
			if full.TypeIDs != nil {
				full.TypeIDs = append(full.TypeIDs, 0)
			}
		}
		gi.full = full
		gi.pieces = make([]string, len(gi.cont))
		for j, t := range gi.cont {
			s, err := e.model.Tokenizer.Decode([]int{int(t)}, false)
			if err != nil {
				return fmt.Errorf("decode generated token %d: %w", t, err)
			}
			gi.pieces[j] = s
		}
		o, err := e.sess.Run(ctx, []explanation.Input{full})
		if err != nil {
			return fmt.Errorf("predict: %w", err)
		}
		t := o[e.model.Output]
		seq, vocab := t.Shape[1], t.Shape[2]
		P := len(gi.prompt.IDs)
		gi.steps = make([]schemas.GenerationStep, len(gi.cont))
		for j, tok := range gi.cont {
			row := t.Data[(P+j-1)*vocab : (P+j)*vocab]
			if seq < len(full.IDs) || int(tok) >= vocab {
				return fmt.Errorf("predict: logits [%d, %d] do not cover the continuation", seq, vocab)
			}
			lp := inference.LogSoftmaxAt(row, int(tok))
			st := schemas.GenerationStep{Step: int32(j), TokenID: tok, Token: tokenText(e.model, int(tok)), Text: gi.pieces[j], LogProb: lp, Prob: math.Exp(lp)}
			if topK > 0 {
				for _, alt := range e.model.TopTokens(row, topK) {
					st.Top = append(st.Top, schemas.TokenAlternative{TokenID: int64(alt.ID), Token: alt.Token, Prob: alt.Prob})
				}
			}
			gi.steps[j] = st
		}
		it := &item{rec: gi.rec, enc: gi.enc, in: gi.prompt, words: tokenizer.Words(gi.enc, gi.rec.Text)}
		if len(e.attnNames) > 0 {
			if it.attn, err = sliceAttention(o, e.attnNames, 0, len(full.IDs)); err != nil {
				return err
			}
		}
		gi.it = it
	}
	return nil
}

func tokenText(m *inference.Model, id int) string {
	s, _ := m.Tokenizer.IDToToken(id)
	return s
}

func (e *Explainer) generationRow(gi *genItem) schemas.GenerationRow {
	cont := ""
	for _, p := range gi.pieces {
		cont += p
	}
	ids := make([]int64, len(gi.prompt.IDs))
	copy(ids, gi.prompt.IDs)
	var lp float64
	for _, s := range gi.steps {
		lp += s.LogProb
	}
	return schemas.GenerationRow{
		RunID: e.s.RunID, ExampleID: gi.rec.ID, Prompt: gi.rec.Text, PromptIDs: ids, Continuation: cont,
		Steps: gi.steps, LogProb: lp, StopReason: gi.stop, Truncated: gi.enc.Truncated, Source: gi.rec.Source, SourceLine: gi.rec.Line, SchemaVersion: schemas.Version,
	}
}
