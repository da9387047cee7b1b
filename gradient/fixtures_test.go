package gradient

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

const gradModelsDir = "../testdata/models"

// gradReference is the part of a fixture's reference.json these tests read.
type gradReference struct {
	Sentences []struct {
		InputIDs      []int64 `json:"input_ids"`
		AttentionMask []int64 `json:"attention_mask"`
	} `json:"sentences"`
	Gradients struct {
		Items []struct {
			Sentence int         `json:"sentence"`
			Label    string      `json:"label"`
			TokenID  int64       `json:"token_id"`
			Position int         `json:"position"`
			Value    float64     `json:"value"`
			Grad     [][]float64 `json:"grad"`
		} `json:"items"`
	} `json:"gradients"`
}

func readGradReference(t *testing.T, model string) gradReference {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(gradModelsDir, model, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref gradReference
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatalf("%s reference.json: %v", model, err)
	}
	return ref
}

// compareGrad checks got against want row by row with the tolerance of the
// brief: 1e-5 absolute or 1e-4 relative to the row's largest |want|; it
// returns the largest absolute difference.
func compareGrad(t *testing.T, label string, got [][]float32, want [][]float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", label, len(got), len(want))
	}
	worst := 0.0
	for i := range want {
		rowMax := 0.0
		for _, v := range want[i] {
			rowMax = math.Max(rowMax, math.Abs(v))
		}
		tol := math.Max(1e-5, 1e-4*rowMax)
		for h := range want[i] {
			d := math.Abs(float64(got[i][h]) - want[i][h])
			worst = math.Max(worst, d)
			if d > tol {
				t.Errorf("%s: grad[%d][%d] = %g, PyTorch %g (diff %.3g > tol %.3g)", label, i, h, got[i][h], want[i][h], d, tol)
			}
		}
	}
	return worst
}

// openGradFixture builds and opens the backward graph of a fixture for one
// sentence's ids; it returns the session (closed with the test) and the ids' embeddings.
func openGradFixture(t *testing.T, model string, target Target, ids []int64) (*Session, []float32) {
	t.Helper()
	g, err := BuildFile(filepath.Join(gradModelsDir, model, "model.onnx"), Spec{Target: target, Batch: 1, Seq: len(ids)})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	emb, err := g.EmbeddingRows(ids)
	if err != nil {
		t.Fatal(err)
	}
	return s, emb
}

// runGradFixture builds the backward graph of a fixture for one sentence and runs it.
func runGradFixture(t *testing.T, model string, target Target, ids []int64, index, position int64) (*Result, *Graph) {
	t.Helper()
	s, emb := openGradFixture(t, model, target, ids)
	in := Inputs{Embeds: emb, IDs: ids, Index: []int64{index}}
	if target == TokenLogProb {
		in.Position = []int64{position}
	}
	res, err := s.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	return res, s.Graph()
}

func TestDistilBERTMatchesPyTorch(t *testing.T) {
	ref := readGradReference(t, "distilbert-sentiment")
	if len(ref.Gradients.Items) == 0 {
		t.Fatal("no gradients in reference.json")
	}
	worst := 0.0
	for _, it := range ref.Gradients.Items {
		ids := ref.Sentences[it.Sentence].InputIDs
		res, _ := runGradFixture(t, "distilbert-sentiment", Probability, ids, 1, 0)
		if d := math.Abs(res.Target[0] - it.Value); d > 1e-5 {
			t.Errorf("sentence %d: P(POSITIVE) = %g, PyTorch %g", it.Sentence, res.Target[0], it.Value)
		}
		worst = math.Max(worst, compareGrad(t, "distilbert sentence "+strconv.Itoa(it.Sentence), res.Grad[0], it.Grad))
	}
	t.Logf("distilbert-sentiment: max |grad − PyTorch| = %.3g", worst)
}

func TestGPT2MatchesPyTorch(t *testing.T) {
	ref := readGradReference(t, "gpt2-tiny")
	if len(ref.Gradients.Items) == 0 {
		t.Fatal("no gradients in reference.json")
	}
	worst := 0.0
	for _, it := range ref.Gradients.Items {
		ids := ref.Sentences[it.Sentence].InputIDs
		res, _ := runGradFixture(t, "gpt2-tiny", TokenLogProb, ids, it.TokenID, int64(it.Position))
		if d := math.Abs(res.Target[0] - it.Value); d > 1e-4 {
			t.Errorf("sentence %d: log p = %g, PyTorch %g", it.Sentence, res.Target[0], it.Value)
		}
		worst = math.Max(worst, compareGrad(t, "gpt2 sentence "+strconv.Itoa(it.Sentence), res.Grad[0], it.Grad))
	}
	t.Logf("gpt2-tiny: max |grad − PyTorch| = %.3g", worst)
}
