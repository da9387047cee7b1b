package explainer

import (
	"math"
	"testing"

	"github.com/glassbox-ai/glassbox/schemas"
)

// CompareRows pairs rows by (example, method, target): Spearman of
// [1 2 3] with itself is 1 and with its reverse −1 (mean 0 over two
// examples), a constant row is left out, labels count once per example in
// both, also when the changed label leaves a row without its pair.
func TestCompareRows(t *testing.T) {
	row := func(id, method, label string, attr ...float64) schemas.ExplanationRow {
		r := schemas.ExplanationRow{ExampleID: id, Method: method, Target: "pos", PredictedLabel: label}
		for _, a := range attr {
			r.Tokens = append(r.Tokens, schemas.Token{Attribution: a})
		}
		return r
	}
	float := []schemas.ExplanationRow{
		row("a", "occlusion", "pos", 1, 2, 3), row("b", "occlusion", "neg", 1, 2, 3),
		row("a", "lime", "pos", 1, 2, 3), row("b", "lime", "neg", 1, 1, 1), row("c", "lime", "neg", 1, 2),
	}
	quant := []schemas.ExplanationRow{
		row("a", "occlusion", "pos", 10, 20, 30), row("b", "occlusion", "pos", 3, 2, 1),
		row("a", "lime", "pos", 2, 1, 3), row("b", "lime", "pos", 1, 2, 3),
	}
	flipped := row("d", "lime", "pos", 1, 2, 3)
	flipped.Target = "neg"
	float = append(float, flipped)
	quant = append(quant, row("d", "lime", "neg", 1, 2, 3)) // target pos, no pair
	got := CompareRows(float, quant)
	if got.Examples != 3 || math.Abs(got.SameLabel-1.0/3) > 1e-12 {
		t.Errorf("examples %d, same label %v; want 3, 1/3", got.Examples, got.SameLabel)
	}
	if math.Abs(got.Spearman["occlusion"]) > 1e-12 || math.Abs(got.Spearman["lime"]-0.5) > 1e-12 || len(got.Spearman) != 2 {
		t.Errorf("spearman %v; want occlusion 0, lime 0.5 (the constant row left out)", got.Spearman)
	}
}
