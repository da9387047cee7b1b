package inference

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
)

// reference is the part of a fixture's reference.json (written by
// scripts/make_test_models.py from the PyTorch module) these tests use.
type reference struct {
	Task      string   `json:"task"`
	Labels    []string `json:"labels"`
	MaxLength int      `json:"max_length"`
	Sentences []struct {
		Text          string    `json:"text"`
		InputIDs      []int64   `json:"input_ids"`
		AttentionMask []int64   `json:"attention_mask"`
		Truncated     bool      `json:"truncated"`
		Logits        []float64 `json:"logits"`
		Probabilities []float64 `json:"probabilities"`
		Predicted     string    `json:"predicted_label"`
	} `json:"sentences"`
	PaddedBatches []struct {
		InputIDs      [][]int64   `json:"input_ids"`
		AttentionMask [][]int64   `json:"attention_mask"`
		Logits        [][]float64 `json:"logits"`
	} `json:"padded_batches"`
}

func loadReference(t *testing.T, dir string) reference {
	t.Helper()
	var r reference
	readReference(t, dir, &r)
	if len(r.Sentences) == 0 {
		t.Fatalf("%s/reference.json has no sentences", dir)
	}
	return r
}

// readReference decodes a fixture's reference.json into v.
func readReference(t *testing.T, dir string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s/reference.json: %v", dir, err)
	}
}

// classifierFixtures are the committed sequence classifiers.
var classifierFixtures = []string{"../testdata/models/distilbert-sentiment", "../testdata/models/additive", "../testdata/models/bert-tiny", "../testdata/models/roberta-tiny"}

// TestClassifierLogitsMatchPyTorch checks Glassbox's logits and probabilities
// against PyTorch's, recorded by the fixture script, within 1e-4; and that
// our tokenizer gives the ids PyTorch was fed.
func TestClassifierLogitsMatchPyTorch(t *testing.T) {
	for _, dir := range classifierFixtures {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			ref := loadReference(t, dir)
			m, sess := openFixture(t, dir)
			if m.Kind != SequenceClassification {
				t.Fatalf("kind %s", m.Kind)
			}
			var inputs []explanation.Input
			for i, s := range ref.Sentences {
				enc, err := m.Encode(s.Text)
				if err != nil {
					t.Fatal(err)
				}
				in := m.InputFromEncoding(enc)
				if !equalInts(in.IDs, s.InputIDs) {
					t.Errorf("sentence %d: ids %v, PyTorch was fed %v", i, in.IDs, s.InputIDs)
				}
				if enc.Truncated != s.Truncated {
					t.Errorf("sentence %d: truncated %v, want %v", i, enc.Truncated, s.Truncated)
				}
				inputs = append(inputs, explanation.Input{IDs: s.InputIDs, Mask: s.AttentionMask})
			}
			// Batch 5 mixes lengths, so padding and length grouping are exercised too.
			preds, err := sess.Predict(context.Background(), inputs, 5, 5)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range ref.Sentences {
				p := preds[i]
				if d := maxDiff(p.Logits, s.Logits); d > 1e-4 {
					t.Errorf("sentence %d: logits %v, PyTorch %v (diff %.2g)", i, p.Logits, s.Logits, d)
				}
				if d := maxDiff(p.Probs, s.Probabilities); d > 1e-4 {
					t.Errorf("sentence %d: probs %v, PyTorch %v", i, p.Probs, s.Probabilities)
				}
				if p.Label != s.Predicted {
					t.Errorf("sentence %d: label %s, PyTorch %s", i, p.Label, s.Predicted)
				}
			}
			// PyTorch's own padded batches: the padded rows must give the same logits.
			for bi, pb := range ref.PaddedBatches {
				pad := Padded{Batch: len(pb.InputIDs), Seq: len(pb.InputIDs[0])}
				for r := range pb.InputIDs {
					pad.IDs = append(pad.IDs, pb.InputIDs[r]...)
					pad.Mask = append(pad.Mask, pb.AttentionMask[r]...)
					pad.TypeIDs = append(pad.TypeIDs, make([]int64, pad.Seq)...)
					for j := 0; j < pad.Seq; j++ {
						pad.Positions = append(pad.Positions, int64(j))
					}
				}
				o, err := sess.RunPadded(pad)
				if err != nil {
					t.Fatal(err)
				}
				lt := o[m.Output]
				for r, want := range pb.Logits {
					got := make([]float64, len(want))
					for j := range want {
						got[j] = float64(lt.Data[r*lt.Shape[1]+j])
					}
					if d := maxDiff(got, want); d > 1e-4 {
						t.Errorf("padded batch %d row %d: logits %v, PyTorch %v", bi, r, got, want)
					}
				}
			}
		})
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func maxDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// TestCausalLMMatchesPyTorch checks the GPT-2 fixture's last-position logits
// and top next tokens against PyTorch's.
func TestCausalLMMatchesPyTorch(t *testing.T) {
	const dir = "../testdata/models/gpt2-tiny"
	var ref struct {
		Sentences []struct {
			Text         string    `json:"text"`
			InputIDs     []int64   `json:"input_ids"`
			LastPosition int       `json:"last_position"`
			LastLogits   []float64 `json:"last_logits"`
			Top          []struct {
				ID          int     `json:"id"`
				Probability float64 `json:"probability"`
			} `json:"last_top10"`
		} `json:"sentences"`
	}
	readReference(t, dir, &ref)
	m, sess := openFixture(t, dir)
	if m.Kind != CausalLM || !m.IsDecoder() {
		t.Fatalf("kind %s", m.Kind)
	}
	var inputs []explanation.Input
	for i, s := range ref.Sentences {
		enc, err := m.Encode(s.Text)
		if err != nil {
			t.Fatal(err)
		}
		in := m.InputFromEncoding(enc)
		if !equalInts(in.IDs, s.InputIDs) {
			t.Errorf("sentence %d: ids %v, PyTorch %v", i, in.IDs, s.InputIDs)
		}
		inputs = append(inputs, explanation.Input{IDs: s.InputIDs, Mask: ones(len(s.InputIDs))})
	}
	preds, err := sess.Predict(context.Background(), inputs, 4, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range ref.Sentences {
		p := preds[i]
		if p.Position != s.LastPosition {
			t.Errorf("sentence %d: position %d, want %d", i, p.Position, s.LastPosition)
		}
		for k, tp := range p.NextTokens {
			if tp.ID != s.Top[k].ID || math.Abs(tp.Prob-s.Top[k].Probability) > 1e-4 {
				t.Errorf("sentence %d top %d: %d (%.6f), PyTorch %d (%.6f)", i, k, tp.ID, tp.Prob, s.Top[k].ID, s.Top[k].Probability)
			}
		}
		o, err := sess.Run(context.Background(), inputs[i:i+1])
		if err != nil {
			t.Fatal(err)
		}
		lt := o[m.Output]
		vocab := lt.Shape[2]
		last := make([]float64, vocab)
		for j := range last {
			last[j] = float64(lt.Data[s.LastPosition*vocab+j])
		}
		if d := maxDiff(last, s.LastLogits); d > 1e-4 {
			t.Errorf("sentence %d: last-position logits differ from PyTorch's by %.2g", i, d)
		}
		// The scorer's log-probability of the top token matches PyTorch's logits.
		sc, err := sess.NextTokenScorer(s.LastPosition, s.Top[0].ID, 4)
		if err != nil {
			t.Fatal(err)
		}
		got, err := sc.Score(context.Background(), inputs[i:i+1])
		if err != nil {
			t.Fatal(err)
		}
		if want := math.Log(s.Top[0].Probability); math.Abs(got[0]-want) > 1e-4 {
			t.Errorf("sentence %d: log p %v, PyTorch %v", i, got[0], want)
		}
	}
}

func ones(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = 1
	}
	return out
}

// TestFeatureExtractionMatchesPyTorch checks the feature-extraction kind: the
// last hidden states and their mean over real tokens against PyTorch's.
func TestFeatureExtractionMatchesPyTorch(t *testing.T) {
	const dir = "../testdata/models/gpt2-features"
	var ref struct {
		Sentences []struct {
			Text       string      `json:"text"`
			InputIDs   []int64     `json:"input_ids"`
			MeanPooled []float64   `json:"mean_pooled"`
			Hidden     [][]float64 `json:"last_hidden_state"`
		} `json:"sentences"`
	}
	readReference(t, dir, &ref)
	m, sess := openFixture(t, dir)
	if m.Kind != FeatureExtraction || m.Output != "last_hidden_state" {
		t.Fatalf("kind %s output %s", m.Kind, m.Output)
	}
	var inputs []explanation.Input
	for i, s := range ref.Sentences {
		enc, err := m.Encode(s.Text)
		if err != nil {
			t.Fatal(err)
		}
		in := m.InputFromEncoding(enc)
		if !equalInts(in.IDs, s.InputIDs) {
			t.Errorf("sentence %d: ids differ from PyTorch's", i)
		}
		inputs = append(inputs, in)
	}
	// Batched with padding: the mean must cover real tokens only.
	preds, err := sess.Predict(context.Background(), inputs, 3, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range ref.Sentences {
		if d := maxDiff(preds[i].Embedding, s.MeanPooled); d > 1e-4 {
			t.Errorf("sentence %d: mean-pooled embedding differs from PyTorch's by %.2g", i, d)
		}
		o, err := sess.Run(context.Background(), inputs[i:i+1])
		if err != nil {
			t.Fatal(err)
		}
		h := o[m.Output]
		for p, row := range s.Hidden {
			got := make([]float64, len(row))
			for j := range row {
				got[j] = float64(h.Data[p*h.Shape[2]+j])
			}
			if d := maxDiff(got, row); d > 1e-4 {
				t.Errorf("sentence %d position %d: hidden state differs by %.2g", i, p, d)
			}
		}
	}
}

// openFixture loads a fixture model and opens a session closed at the test's end.
func openFixture(t *testing.T, dir string) (*Model, *Session) {
	t.Helper()
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := m.NewSession(SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return m, sess
}
