package explainer

import (
	"encoding/json"
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

func (e *Explainer) errorRow(r corpus.Record, stage, reason string) schemas.ErrorRow {
	id := r.ID
	return schemas.ErrorRow{RunID: e.s.RunID, Source: r.Source, Line: r.Line, ExampleID: &id, Stage: stage, Reason: reason, Raw: schemas.SanitizeRaw(r.Text)}
}
