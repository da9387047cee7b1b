package explainer

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/tokenizer"
)

// explainContinuation explains every generated token of gi (and, with
// Generation.Sequence, the whole continuation) with every method. All
// requests carry the full prompt + continuation; the positions a step may not
// attribute to (the continuation in prompt mode, t_≥j in context mode) are
// flagged special, so methods never perturb them and give them 0. A method's
// failure on one step costs that step's row only.
func (e *Explainer) explainContinuation(ctx context.Context, gi *genItem) (_ []schemas.ExplanationRow, _ []error, inputs int) {
	g := e.s.Generation
	P, N := len(gi.prompt.IDs), len(gi.cont)
	what := targetToken
	contrast := -1
	if g.Contrast != "" {
		what = targetContrast
		contrast, _ = e.model.Tokenizer.TokenToID(g.Contrast)
	}
	memo := newStepScores(e.sess, e.s.BatchSize, P, gi.cont, contrast)
	defer func() { inputs = memo.runs }()
	seed := explanation.Seed(e.s.Seed, gi.rec.ID)
	promptWords := 0
	for _, w := range gi.enc.WordIDs {
		promptWords = max(promptWords, w+1)
	}
	var rows []schemas.ExplanationRow
	var errs []error
	type stepJob struct {
		step int // −1 for the sequence target
		what stepTarget
	}
	var jobs []stepJob
	for j := 0; j < N; j++ {
		jobs = append(jobs, stepJob{j, what})
	}
	if g.Sequence {
		jobs = append(jobs, stepJob{-1, targetSequence})
	}
	for _, job := range jobs {
		over := g.AttributeOver
		if job.what == targetSequence {
			over = OverPrompt
		}
		special, wordIDs := stepPlayers(gi, job.step, over, promptWords)
		sc := explanation.Scorer(modelScorer{memo.scorer(job.what, job.step)})
		view := e.stepView(gi, job.step, over)
		label := view.target
		for _, spec := range e.s.Methods {
			if err := ctx.Err(); err != nil {
				return nil, []error{err}, 0
			}
			if job.what == targetSequence && (spec.Info.Needs.Attention || spec.Info.Needs.Gradients) {
				continue // one position and one token: neither applies to a sum over steps
			}
			req := explanation.Request{
				Input: gi.full, Special: special, WordIDs: wordIDs, Masking: spec.Masking, ReplaceID: e.model.MaskID, Seed: seed,
				Position: P + N - 1, Score: func(ctx context.Context) (float64, error) {
					f, err := sc.Score(ctx, []explanation.Input{gi.full})
					if err != nil {
						return 0, err
					}
					return f[0], nil
				},
			}
			if job.step >= 0 {
				req.Position = P + job.step - 1
			}
			if job.what != targetContrast {
				req.Link = explanation.LinkLogProb // a token's or the continuation's log-probability
			}
			if spec.Info.Needs.Attention {
				req.Attention = gi.it.attn
			}
			if spec.Info.Needs.Gradients {
				it := &item{rec: gi.rec, in: gi.full, emb: gi.emb}
				if err := e.withGradients(&req, it, target{label: label, class: int(gi.cont[job.step])}); err != nil {
					errs = append(errs, fmt.Errorf("%s for %s: %w", spec.Name(), view.name, err))
					continue
				}
				gi.emb = it.emb // the full input's embeddings, shared by the steps
			}
			res, err := spec.Method.Explain(ctx, sc, req)
			if err == nil {
				err = checkFinite(res)
			}
			var row schemas.ExplanationRow
			if err == nil {
				row, err = e.row(view.it, spec, target{label: label}, res, view.special(special))
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s for %s: %w", spec.Name(), view.name, err))
				continue
			}
			if job.step >= 0 {
				pos := int32(job.step)
				row.Position = &pos
			}
			if spec.Faithfulness {
				if err := e.faithfulness(ctx, sc, req, spec, &row); err != nil {
					errs = append(errs, fmt.Errorf("faithfulness of %s for %s: %w", spec.Name(), view.name, err))
				}
			}
			rows = append(rows, row)
		}
	}
	return rows, errs, 0
}

// stepPlayers returns the special flags and word ids of the full input for
// step (−1: the sequence target): the prompt's own special tokens stay
// special; continuation tokens are players only in context mode, and only
// before the step; each is a word of its own, numbered after the prompt's.
func stepPlayers(gi *genItem, step int, over string, promptWords int) ([]bool, []int) {
	P := len(gi.prompt.IDs)
	n := len(gi.full.IDs)
	special := make([]bool, n)
	wordIDs := make([]int, n)
	for i := 0; i < n; i++ {
		switch {
		case i < P:
			special[i] = gi.enc.SpecialTokensMask[i] != 0
			wordIDs[i] = gi.enc.WordIDs[i]
		case over == OverContext && i < P+step:
			wordIDs[i] = promptWords + i - P
		default:
			special[i], wordIDs[i] = true, -1
		}
	}
	return special, wordIDs
}

// stepRowView is what one step's rows show: the explained context's text and
// tokens (the prompt, plus t_<j in context mode) and the step's prediction.
type stepRowView struct {
	it     *item
	target string // the row's target: the generated token, or the continuation for the sequence target
	name   string // the step in error messages
	n      int    // tokens shown
}

// special trims the full input's flags to the tokens the row shows.
func (v stepRowView) special(full []bool) []bool { return full[:v.n] }

func (e *Explainer) stepView(gi *genItem, step int, over string) stepRowView {
	P := len(gi.prompt.IDs)
	it := &item{rec: gi.rec, enc: gi.enc, in: gi.prompt, words: gi.it.words}
	v := stepRowView{it: it, n: P}
	params := map[string]any{"attribute_over": over}
	if step < 0 {
		for _, p := range gi.pieces {
			v.target += p
		}
		v.name = "the sequence target"
		params["output"] = targetSequence.String()
		params["steps"] = len(gi.cont)
		params["position"] = nil // every step's position
		it.extraParams = params
		return v
	}
	st := gi.steps[step]
	v.target, v.name = st.Token, fmt.Sprintf("step %d (%s)", step, st.Token)
	what := targetToken
	if g := e.s.Generation; g.Contrast != "" {
		what = targetContrast
		params["contrast"] = g.Contrast
	}
	params["output"] = what.String()
	params["position"] = P + step - 1
	params["step"] = step
	it.extraParams = params
	it.pred = inference.Prediction{LabelIndex: -1}
	for k, alt := range st.Top {
		if k == 0 {
			it.pred.Label, it.pred.LabelIndex = alt.Token, int(alt.TokenID)
		}
		it.pred.Probs = append(it.pred.Probs, alt.Prob)
	}
	if over == OverContext && step > 0 {
		it.enc, it.rec.Text = contextEncoding(gi, step)
		it.words = tokenizer.Words(it.enc, it.rec.Text)
		v.n = P + step
	}
	return v
}

// contextEncoding extends the prompt's encoding by t_<step, each generated
// token a word of its own whose span is its decoded text appended to the
// prompt's (a token that splits a character decodes to U+FFFD).
func contextEncoding(gi *genItem, step int) (*tokenizer.Encoding, string) {
	src := gi.enc
	enc := &tokenizer.Encoding{
		IDs: append([]int(nil), src.IDs...), Tokens: append([]string(nil), src.Tokens...),
		Offsets: append([][2]int(nil), src.Offsets...), ByteOffsets: append([][2]int(nil), src.ByteOffsets...),
		WordIDs: append([]int(nil), src.WordIDs...), Truncated: src.Truncated,
	}
	words := 0
	for _, w := range src.WordIDs {
		words = max(words, w+1)
	}
	text := gi.rec.Text
	for k := 0; k < step; k++ {
		b0, c0 := len(text), utf8.RuneCountInString(text)
		text += gi.pieces[k]
		enc.IDs = append(enc.IDs, int(gi.cont[k]))
		enc.Tokens = append(enc.Tokens, gi.steps[k].Token)
		enc.Offsets = append(enc.Offsets, [2]int{c0, utf8.RuneCountInString(text)})
		enc.ByteOffsets = append(enc.ByteOffsets, [2]int{b0, len(text)})
		enc.WordIDs = append(enc.WordIDs, words+k)
	}
	return enc, text
}
