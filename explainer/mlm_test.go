package explainer

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/counterfactual"
	"github.com/glassbox-ai/glassbox/tokenizer"
)

const mlmFixture = "../testdata/models/distilbert-mlm"

// The masked-LM proposer equals the reference proposals of
// scripts/make_mlm_fixture.py (onnxruntime logits at the mask, ranked, whole
// words only), word for word.
func TestMLMProposerMatchesReference(t *testing.T) {
	var ref struct {
		Items []struct {
			Text      string   `json:"text"`
			WordIndex int      `json:"word_index"`
			Word      string   `json:"word"`
			K         int      `json:"k"`
			Proposals []string `json:"proposals"`
		} `json:"items"`
	}
	b, err := os.ReadFile(mlmFixture + "/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	p, err := openMLM(mlmFixture, 8, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	for _, it := range ref.Items {
		enc, err := p.model.Encode(it.Text)
		if err != nil {
			t.Fatal(err)
		}
		var words []counterfactual.Word
		for _, w := range tokenizer.Words(enc, it.Text) {
			words = append(words, counterfactual.Word{Text: it.Text[w.ByteStart:w.ByteEnd], Start: w.ByteStart, End: w.ByteEnd})
		}
		if words[it.WordIndex].Text != it.Word {
			t.Fatalf("%q: word %d is %q, reference %q", it.Text, it.WordIndex, words[it.WordIndex].Text, it.Word)
		}
		got, err := p.Propose(context.Background(), it.Text, words, []int{it.WordIndex}, it.K, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got[0], it.Proposals) {
			t.Errorf("%q word %q: proposals %q, reference %q", it.Text, it.Word, got[0], it.Proposals)
		}
	}
}

// Substitutions from the masked LM in the explain stage: every counterfactual
// flips when re-scored, substitutions come from the MLM's proposals, and a
// model that is not a masked LM is refused with the reason.
func TestCounterfactualWithMLM(t *testing.T) {
	cf := counterfactual.DefaultConfig()
	cf.Enabled, cf.Budget, cf.MLMModel = true, 60, mlmFixture
	ex := openSpec(t, Spec{Model: "../testdata/models/distilbert-sentiment", RunID: "r", Seed: 1, Target: "predicted", OutputKind: "probability", BatchSize: 32,
		Methods: []MethodConfig{{Name: "occlusion"}}, Counterfactuals: &Counterfactuals{Config: cf}})
	recs := sampleRecords(t, 30)
	out, err := ex.Explain(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) > 0 || len(out.Counterfactuals) < 5 {
		t.Fatalf("%d errors (%+v), %d counterfactuals", len(out.Errors), out.Errors, len(out.Counterfactuals))
	}
	checkCounterfactualRows(t, ex, out.Counterfactuals, cf.Budget)
	byID := map[string]corpus.Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	subs := 0
	for _, r := range out.Counterfactuals {
		if r.Proposer != "mlm" || !strings.Contains(r.Params, `"mlm_model":"`+mlmFixture+`"`) {
			t.Errorf("%s: proposer %q params %s", r.ExampleID, r.Proposer, r.Params)
		}
		for _, e := range r.Edits {
			if e.Op != string(counterfactual.OpSubstitute) {
				continue
			}
			subs++
			// The replacement is among the MLM's proposals for that word.
			rec := byID[r.ExampleID]
			enc, _ := ex.cf.mlm.model.Encode(rec.Text)
			var words []counterfactual.Word
			for _, w := range tokenizer.Words(enc, rec.Text) {
				words = append(words, counterfactual.Word{Text: rec.Text[w.ByteStart:w.ByteEnd], Start: w.ByteStart, End: w.ByteEnd})
			}
			props, err := ex.cf.mlm.Propose(context.Background(), rec.Text, words, []int{int(e.WordIndex)}, cf.Substitutions, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(props[0], e.Replacement) {
				t.Errorf("%s: replacement %q of %q not among the MLM's %q", r.ExampleID, e.Replacement, e.Word, props[0])
			}
		}
	}
	if subs == 0 {
		t.Error("no substitution used")
	}
	cf.MLMModel = "../testdata/models/gpt2-tiny"
	_, _, err = Open(Spec{Model: "../testdata/models/distilbert-sentiment", RunID: "r", Seed: 1, Target: "predicted", BatchSize: 8,
		Methods: []MethodConfig{{Name: "occlusion"}}, Counterfactuals: &Counterfactuals{Config: cf}})
	if err == nil || !strings.Contains(err.Error(), "is not a masked language model") {
		t.Errorf("gpt2-tiny as the MLM: %v", err)
	}
}
