package explainer

import (
	"math"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/inference"
)

// TestRepresentation: the representation is the pooled probe vector in
// float32 with the prediction and gold label; a non-finite value is an error
// (the example then goes to errors.parquet as non_finite).
func TestRepresentation(t *testing.T) {
	gold := "POS"
	it := &item{rec: corpus.Record{ID: "a", Text: "good", Label: &gold},
		pred:  inference.Prediction{Label: "NEG", LabelIndex: 0, Probs: []float64{0.75, 0.25}},
		probe: []float64{1.5, -0.1, 3}}
	var e Explainer
	rep, err := e.representation(it)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ID != "a" || rep.Text != "good" || rep.Predicted != "NEG" || rep.Confidence != 0.75 || rep.Gold != "POS" ||
		len(rep.Vector) != 3 || rep.Vector[0] != 1.5 || rep.Vector[1] != float32(-0.1) || rep.Vector[2] != 3 {
		t.Errorf("representation %+v", rep)
	}
	it.rec.Label = nil
	if rep, _ := e.representation(it); rep.Gold != "" {
		t.Errorf("gold %q without a label", rep.Gold)
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), 1e300} {
		it.probe = []float64{0, bad}
		if _, err := e.representation(it); err == nil || !strings.Contains(err.Error(), "non-finite value") {
			t.Errorf("probe value %g: error %v", bad, err)
		}
	}
}
