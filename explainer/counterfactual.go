package explainer

import (
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/glassbox-ai/glassbox/counterfactual"
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/schemas"
)

// Counterfactuals turns on the counterfactual search (package counterfactual)
// for the examples Config selects.
type Counterfactuals struct {
	// Config is the job's counterfactuals section, validated.
	Config counterfactual.Config `json:"config"`
	// Vocabulary are the words of Config.Vocabulary, read by the launcher (nil = counterfactual.DefaultVocabulary).
	Vocabulary []string `json:"vocabulary,omitempty"`
}

// Proposer names of CounterfactualRow.Proposer.
const (
	proposerMLM        = "mlm"
	proposerVocabulary = "vocabulary"
	proposerNone       = "none"
)

// counterfactuals is the explainer's search state, made once in New.
type counterfactuals struct {
	cfg      counterfactual.Config
	proposer counterfactual.Proposer
	name     string // proposerMLM, proposerVocabulary or proposerNone
	mlm      *mlmProposer
	params   string
}

func (e *Explainer) openCounterfactuals(c *Counterfactuals) error {
	if c == nil {
		return nil
	}
	if errs := c.Config.Validate("counterfactuals"); len(errs) > 0 {
		return fmt.Errorf("explain: %w", errs[0])
	}
	if e.model.Kind != inference.SequenceClassification || e.model.Config.ProblemType == inference.MultiLabel || e.model.Config.ProblemType == inference.Regression {
		return fmt.Errorf("explain: counterfactuals need a single-label sequence classifier; %s is a %s (problem type %q)", e.model.Files.Dir, e.model.Kind, e.model.Config.ProblemType)
	}
	cf := &counterfactuals{cfg: c.Config, name: proposerNone}
	switch {
	case c.Config.Substitutions == 0:
	case c.Config.MLMModel != "":
		m, err := openMLM(c.Config.MLMModel, e.s.BatchSize, e.s.IntraOpThreads)
		if err != nil {
			return fmt.Errorf("explain: counterfactuals.mlm_model: %w", err)
		}
		cf.mlm, cf.proposer, cf.name = m, m, proposerMLM
	default:
		cf.proposer, cf.name = counterfactual.Vocabulary{Words: c.Vocabulary}, proposerVocabulary
	}
	p, err := json.Marshal(map[string]any{
		"examples": c.Config.Examples, "max_confidence": c.Config.MaxConfidence, "budget": c.Config.Budget,
		"beam_width": c.Config.BeamWidth, "max_edits": c.Config.MaxEdits, "positions": c.Config.Positions,
		"delete": c.Config.Delete, "substitutions": c.Config.Substitutions, "mlm_model": c.Config.MLMModel,
		"vocabulary": c.Config.Vocabulary,
	})
	if err != nil {
		return fmt.Errorf("explain: counterfactual params: %w", err)
	}
	cf.params = string(p)
	e.cf = cf
	return nil
}

func (c *counterfactuals) close() {
	if c != nil && c.mlm != nil {
		c.mlm.close()
	}
}

// counterfactual searches one explained example (rows are its explanation
// rows) when the config selects it. It returns nil without error when the
// example is not selected or no flip was found within the budget; a found
// counterfactual is scored again on its own and an error with
// notFlippedError returned if its prediction is the original one.
func (e *Explainer) counterfactual(ctx context.Context, it *item, rows []schemas.ExplanationRow) (*schemas.CounterfactualRow, error) {
	cf := e.cf
	class := it.pred.LabelIndex
	if cf == nil || !cf.cfg.Selects(it.pred.Label, it.pred.Probs[class], it.rec.Label) || len(it.words) == 0 {
		return nil, nil
	}
	words := make([]counterfactual.Word, len(it.words))
	for i, w := range it.words {
		words[i] = counterfactual.Word{Text: it.rec.Text[w.ByteStart:w.ByteEnd], Start: w.ByteStart, End: w.ByteEnd}
	}
	guide := cf.cfg.Guide
	if guide == "" && len(e.s.Methods) > 0 {
		guide = e.s.Methods[0].Name()
	}
	found := false
	for _, r := range rows {
		if r.Method == guide && r.Target == it.pred.Label && len(r.Words) == len(words) {
			for i, w := range r.Words {
				words[i].Attribution = w.Attribution
			}
			found = true
			break
		}
	}
	if !found {
		guide = ""
	}
	ex := counterfactual.Example{Text: it.rec.Text, Words: words, Class: class}
	res, err := counterfactual.Search(ctx, counterfactual.ClassifierFunc(e.classifyTexts), cf.proposer, ex, cf.cfg.Options(explanation.Seed(e.s.Seed, it.rec.ID)))
	if err != nil {
		return nil, err
	}
	if !res.Found {
		return nil, nil
	}
	// Validity: the edited text, tokenized afresh and scored alone, must change the prediction.
	pred, err := e.predictText(ctx, res.Text)
	if err != nil {
		return nil, modelError{fmt.Errorf("counterfactual re-score: %w", err)}
	}
	if pred.LabelIndex == class {
		return nil, notFlippedError{fmt.Errorf("counterfactual %q scored alone predicts %s (%.6f) like the original; the search scored %v", res.Text, pred.Label, pred.Probs[class], res.Probs)}
	}
	row := &schemas.CounterfactualRow{
		RunID: e.s.RunID, ExampleID: it.rec.ID, Text: it.rec.Text, GoldLabel: it.rec.Label,
		PredictedLabel: it.pred.Label, PredictedProb: it.pred.Probs[class], Probs: it.pred.Probs,
		CounterfactualText: res.Text, CounterfactualLabel: pred.Label, CounterfactualProb: pred.Probs[pred.LabelIndex], CounterfactualProbs: pred.Probs,
		EditDistance: int32(len(res.Edits)), Minimal: res.Complete, ModelCalls: int32(res.Calls), Budget: int32(cf.cfg.Budget),
		Guide: guide, Proposer: cf.name, Params: cf.params, Truncated: it.enc.Truncated, Source: it.rec.Source, SourceLine: it.rec.Line,
	}
	for k, ed := range res.Edits {
		sp := res.Spans[k]
		row.Edits = append(row.Edits, schemas.CounterfactualEdit{
			Op: string(ed.Op), WordIndex: int32(ed.Word), Word: words[ed.Word].Text, Replacement: ed.Replacement,
			Start: codePoints(it.rec.Text, sp.Start), End: codePoints(it.rec.Text, sp.End),
			NewStart: codePoints(res.Text, sp.NewStart), NewEnd: codePoints(res.Text, sp.NewEnd),
		})
	}
	return row, nil
}

// notFlippedError marks a counterfactual whose flip did not hold when re-scored.
type notFlippedError struct{ err error }

func (e notFlippedError) Error() string { return e.err.Error() }
func (e notFlippedError) Unwrap() error { return e.err }

// classifyTexts tokenizes texts and returns their class probabilities, run in
// groups of equal length as predictions are (no padding, so a text scores
// the same whichever texts share its batch).
func (e *Explainer) classifyTexts(ctx context.Context, texts []string) ([][]float64, error) {
	inputs := make([]explanation.Input, len(texts))
	lengths := make([]int, len(texts))
	for i, t := range texts {
		enc, err := e.model.Encode(t)
		if err != nil {
			return nil, fmt.Errorf("tokenize %q: %w", t, err)
		}
		inputs[i] = e.model.InputFromEncoding(enc)
		lengths[i] = len(inputs[i].IDs)
	}
	out := make([][]float64, len(texts))
	for _, idx := range inference.GroupByLength(lengths, e.s.BatchSize, inference.EqualLength) {
		rows := make([]explanation.Input, len(idx))
		for j, i := range idx {
			rows[j] = inputs[i]
		}
		o, err := e.sess.Run(ctx, rows)
		if err != nil {
			return nil, modelError{err}
		}
		for b, i := range idx {
			p, err := e.model.PredictionAt(o, b, inputs[i], 0)
			if err != nil {
				return nil, err
			}
			out[i] = p.Probs
		}
	}
	return out, nil
}

// predictText predicts one text alone, from a fresh tokenization.
func (e *Explainer) predictText(ctx context.Context, text string) (inference.Prediction, error) {
	enc, err := e.model.Encode(text)
	if err != nil {
		return inference.Prediction{}, err
	}
	in := e.model.InputFromEncoding(enc)
	o, err := e.sess.Run(ctx, []explanation.Input{in})
	if err != nil {
		return inference.Prediction{}, err
	}
	return e.model.PredictionAt(o, 0, in, 0)
}

// codePoints converts a byte offset of s into code points.
func codePoints(s string, b int) int32 {
	return int32(utf8.RuneCountInString(s[:b]))
}
