package explainer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/schemas"
)

func (e *Explainer) row(it *item, spec MethodSpec, t target, res explanation.Result, special []bool) (schemas.ExplanationRow, error) {
	params := map[string]any{}
	for k, v := range res.Params {
		params[k] = v
	}
	if spec.MaskingRequested != "" {
		params["masking"] = string(spec.Masking)
		params["masking_requested"] = spec.MaskingRequested
	}
	if e.model.Kind == inference.SequenceClassification {
		params["output"] = string(e.s.OutputKind)
	} else {
		params["output"] = "next_token_logprob"
		params["position"] = len(it.in.IDs) - 1
	}
	for k, v := range it.extraParams {
		if v == nil {
			delete(params, k) // the key does not apply to the row
			continue
		}
		params[k] = v
	}
	pj, err := json.Marshal(params) // map keys are sorted: deterministic
	if err != nil {
		return schemas.ExplanationRow{}, fmt.Errorf("params of %s: %w", spec.Name(), err)
	}
	enc := it.enc
	row := schemas.ExplanationRow{
		RunID:          e.s.RunID,
		ExampleID:      it.rec.ID,
		Text:           it.rec.Text,
		GoldLabel:      it.rec.Label,
		PredictedLabel: it.pred.Label,
		Probs:          it.pred.Probs,
		Method:         spec.Name(),
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
		if res.TokenStdErrors != nil {
			se := 0.0
			if !special[i] && i < len(res.TokenStdErrors) {
				se = res.TokenStdErrors[i]
			}
			row.Tokens[i].StdError = ptr(clean(se))
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
		if res.WordStdErrors != nil && w.Index >= 0 && w.Index < len(res.WordStdErrors) {
			row.Words[i].StdError = ptr(clean(res.WordStdErrors[w.Index]))
		}
	}
	return row, nil
}

// checkFinite refuses results with NaN or infinite values: a wrong number
// must never reach the output as if it were an explanation.
func checkFinite(r explanation.Result) error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	if bad(r.TargetScore) || r.BaselineScore != nil && bad(*r.BaselineScore) || r.Quality != nil && bad(*r.Quality) {
		return fmt.Errorf("the model's score is %w", explanation.ErrNonFinite)
	}
	for _, v := range r.Tokens {
		if bad(v) {
			return fmt.Errorf("a token attribution is %w", explanation.ErrNonFinite)
		}
	}
	for _, v := range r.Words {
		if bad(v) {
			return fmt.Errorf("a word attribution is %w", explanation.ErrNonFinite)
		}
	}
	for _, v := range append(append([]float64(nil), r.TokenStdErrors...), r.WordStdErrors...) {
		if bad(v) {
			return fmt.Errorf("a standard error is %w", explanation.ErrNonFinite)
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

// errorRow makes the error row of a record that failed at stage; code is
// required so that no row leaves without one.
func (e *Explainer) errorRow(r corpus.Record, stage, code, reason string) schemas.ErrorRow {
	id := r.ID
	return schemas.ErrorRow{RunID: e.s.RunID, Source: r.Source, Line: r.Line, ExampleID: &id, Stage: stage, Code: code, Reason: reason, Raw: schemas.SanitizeRaw(r.Text)}
}

// modelError marks a failure of ONNX Runtime while a method scored or
// differentiated an example, so its error row says model_error rather than
// method_error.
type modelError struct{ err error }

func (e modelError) Error() string { return e.err.Error() }
func (e modelError) Unwrap() error { return e.err }

// modelScorer marks its scorer's failures as modelErrors.
type modelScorer struct{ sc explanation.Scorer }

func (m modelScorer) Score(ctx context.Context, inputs []explanation.Input) ([]float64, error) {
	f, err := m.sc.Score(ctx, inputs)
	if err != nil {
		return nil, modelError{err}
	}
	return f, nil
}

// explainCode is the reason code of a method's failure on an example.
func explainCode(err error) string {
	var me modelError
	var nf notFlippedError
	switch {
	case errors.As(err, &nf):
		return schemas.CodeCounterfactualNotFlipped
	case errors.Is(err, explanation.ErrTooLong):
		return schemas.CodeTooLong
	case errors.Is(err, explanation.ErrNonFinite):
		return schemas.CodeNonFinite
	case errors.As(err, &me):
		return schemas.CodeModelError
	default:
		return schemas.CodeMethodError
	}
}

// ptr returns a pointer to a copy of v, for optional columns.
func ptr(v float64) *float64 { return &v }
