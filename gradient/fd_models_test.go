package gradient

import (
	"math"
	"testing"
)

// fdModel checks a fixture's backward graph against central finite
// differences of its own target output (the forward graph, in float32) at a
// few coordinates of inputs_embeds. Steps ±h and ±2h are combined (Richardson,
// error O(h⁴)), so h can be large enough that float32 rounding of the target
// (about 6e-8·|target|/h) stays small next to the gradient.
func fdModel(t *testing.T, model string, target Target, sentence int, h float64) {
	ref := readGradReference(t, model)
	ids := ref.Sentences[sentence].InputIDs
	s, emb := openGradFixture(t, model, target, ids)
	in := Inputs{Embeds: emb, IDs: ids, Index: []int64{1}}
	res, err := s.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	gmax := 0.0
	for _, row := range res.Grad[0] {
		for _, v := range row {
			gmax = math.Max(gmax, math.Abs(float64(v)))
		}
	}
	if gmax == 0 {
		t.Fatal("gradient is identically zero")
	}
	f := func(k int, d float64) float64 {
		e := append([]float32(nil), emb...)
		e[k] += float32(d)
		in := in
		in.Embeds = e
		r, err := s.Run(in)
		if err != nil {
			t.Fatal(err)
		}
		return r.Target[0]
	}
	worst := 0.0
	g := s.Graph()
	hidden := g.Hidden
	coords := []int{0, hidden + 3, (len(ids)/2)*hidden + hidden/2, (len(ids)-1)*hidden + hidden - 1}
	for _, k := range coords {
		d1 := (f(k, h) - f(k, -h)) / (2 * h)
		d2 := (f(k, 2*h) - f(k, -2*h)) / (4 * h)
		fd := (4*d1 - d2) / 3
		got := float64(res.Grad[0][k/hidden][k%hidden])
		e := math.Abs(got - fd)
		worst = math.Max(worst, e/gmax)
		if e > 2e-3*gmax+1e-6 {
			t.Errorf("%s: ∂target/∂embeds[%d][%d] = %.6g, finite difference %.6g (|diff| %.3g, max |grad| %.3g)", model, k/hidden, k%hidden, got, fd, e, gmax)
		}
	}
	t.Logf("%s: target %s = %.6g, inputs fed %v, max |grad − FD| / max |grad| = %.3g over %d coordinates", model, target, res.Target[0], g.Inputs, worst, len(coords))
}

func TestBERTTinyDynamoFiniteDifferences(t *testing.T) {
	fdModel(t, "bert-tiny", Probability, 0, 1e-2)
}

func TestRoBERTaTinyFiniteDifferences(t *testing.T) {
	fdModel(t, "roberta-tiny", Sigmoid, 1, 1e-2)
}

func TestDistilBERTFiniteDifferences(t *testing.T) {
	fdModel(t, "distilbert-sentiment", Logit, 4, 4e-2)
}
