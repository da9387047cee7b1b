package faithfulness_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/faithfulness"
	"github.com/glassbox-ai/glassbox/inference"
)

type refValues struct {
	Full                  float64   `json:"full"`
	Empty                 float64   `json:"empty"`
	KTokens               []int     `json:"k_tokens"`
	Comprehensiveness     []float64 `json:"comprehensiveness"`
	Sufficiency           []float64 `json:"sufficiency"`
	AOPCComprehensiveness float64   `json:"aopc_comprehensiveness"`
	AOPCSufficiency       float64   `json:"aopc_sufficiency"`
	DeletionAUC           *float64  `json:"deletion_auc"`
	InsertionAUC          *float64  `json:"insertion_auc"`
}

type refCase struct {
	Text         string     `json:"text"`
	InputIDs     []int64    `json:"input_ids"`
	Target       int        `json:"target"`
	Attributions []float64  `json:"attributions"`
	Attention    refValues  `json:"attention"`
	Replace      refValues  `json:"replace"`
	Ferret       *refValues `json:"ferret"`
}

// TestFerretGoldens compares Compute on distilbert-sentiment with ferret's
// AOPC evaluators (replace masking, configured as scripts/faithfulness_refs.py
// explains) and with the script's plain numpy computation of the definitions
// under both maskings, on the same texts and attributions.
func TestFerretGoldens(t *testing.T) {
	b, err := os.ReadFile("../testdata/faithfulness/ferret_refs.json")
	if err != nil {
		t.Fatal(err)
	}
	var refs struct {
		Model  string    `json:"model"`
		MaskID int64     `json:"mask_id"`
		Cases  []refCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &refs); err != nil {
		t.Fatal(err)
	}
	m, err := inference.Load("../testdata/models/" + refs.Model)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := m.NewSession(inference.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if m.MaskID != refs.MaskID {
		t.Fatalf("mask id %d, references %d", m.MaskID, refs.MaskID)
	}
	const tol = 1e-6
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s: %.9g, want %.9g (|diff| %.2g)", what, got, want, math.Abs(got-want))
		}
	}
	ferretCases := 0
	for _, c := range refs.Cases {
		enc, err := m.Encode(c.Text)
		if err != nil {
			t.Fatal(err)
		}
		in := m.InputFromEncoding(enc)
		if !slices.Equal(in.IDs, c.InputIDs) {
			t.Fatalf("%q: ids %v, references %v", c.Text, in.IDs, c.InputIDs)
		}
		special := make([]bool, len(in.IDs))
		for i, s := range enc.SpecialTokensMask {
			special[i] = s != 0
		}
		sc, err := sess.ClassScorer(c.Target, inference.Probability, 8)
		if err != nil {
			t.Fatal(err)
		}
		for _, mk := range []struct {
			masking explanation.Masking
			want    refValues
			ferret  *refValues
		}{{explanation.MaskAttention, c.Attention, nil}, {explanation.MaskReplace, c.Replace, c.Ferret}} {
			req := explanation.Request{Input: in, Special: special, Masking: mk.masking, ReplaceID: m.MaskID}
			got, err := faithfulness.Compute(context.Background(), sc, req, c.Attributions)
			if err != nil {
				t.Fatal(err)
			}
			name := c.Text[:min(len(c.Text), 24)] + "/" + string(mk.masking)
			for _, want := range []*refValues{&mk.want, mk.ferret} {
				if want == nil {
					continue
				}
				src := " numpy"
				if want == mk.ferret {
					src = " ferret"
					ferretCases++
				}
				for j := range faithfulness.Ks {
					if want.KTokens != nil && got.KTokens[j] != want.KTokens[j] {
						t.Errorf("%s: k=%d%%: %d tokens, want %d", name, faithfulness.Ks[j], got.KTokens[j], want.KTokens[j])
					}
					near(name+src+" comprehensiveness", got.Comprehensiveness[j], want.Comprehensiveness[j])
					near(name+src+" sufficiency", got.Sufficiency[j], want.Sufficiency[j])
				}
				near(name+src+" AOPC comprehensiveness", got.AOPCComprehensiveness, want.AOPCComprehensiveness)
				near(name+src+" AOPC sufficiency", got.AOPCSufficiency, want.AOPCSufficiency)
				if want.DeletionAUC != nil {
					near(name+src+" full", got.Full, want.Full)
					near(name+src+" empty", got.Empty, want.Empty)
					near(name+src+" deletion AUC", got.DeletionAUC, *want.DeletionAUC)
					near(name+src+" insertion AUC", got.InsertionAUC, *want.InsertionAUC)
				}
			}
		}
	}
	if ferretCases < 4 {
		t.Errorf("only %d cases compared with ferret", ferretCases)
	}
}
