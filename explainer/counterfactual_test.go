package explainer

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/counterfactual"
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/tokenizer"
)

// sampleRecords returns the first n rows of the bundled sample corpus.
func sampleRecords(t *testing.T, n int) []corpus.Record {
	t.Helper()
	f, err := os.Open("../testdata/sample/austen-sentiment.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var out []corpus.Record
	for line := int64(1); sc.Scan() && len(out) < n; line++ {
		var r struct{ ID, Text, Label string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		label := r.Label
		out = append(out, corpus.Record{ID: r.ID, Text: r.Text, Label: &label, Source: "austen-sentiment.jsonl", Line: line})
	}
	return out
}

// checkCounterfactualRows re-scores every row's counterfactual text through
// an independent prediction (a fresh tokenization, inference.Session.Predict)
// and checks the flip, the recorded probabilities, the budget and that the
// edits, applied to the text at their recorded spans, give the edited text.
func checkCounterfactualRows(t *testing.T, ex *Explainer, rows []schemas.CounterfactualRow, budget int) {
	t.Helper()
	m := ex.model
	for _, r := range rows {
		enc, err := m.Encode(r.CounterfactualText)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ex.sess.Predict(context.Background(), []explanation.Input{m.InputFromEncoding(enc)}, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		if p[0].Label == r.PredictedLabel || p[0].Label != r.CounterfactualLabel || math.Abs(p[0].Probs[p[0].LabelIndex]-r.CounterfactualProb) > 1e-9 {
			t.Errorf("%s: %q → %q re-scored %s %v; row says %s → %s %v", r.ExampleID, r.Text, r.CounterfactualText, p[0].Label, p[0].Probs, r.PredictedLabel, r.CounterfactualLabel, r.CounterfactualProb)
		}
		if int(r.ModelCalls) > budget || r.Budget != int32(budget) || r.ModelCalls < 1 {
			t.Errorf("%s: %d model calls, budget %d (row: %d)", r.ExampleID, r.ModelCalls, budget, r.Budget)
		}
		if int(r.EditDistance) != len(r.Edits) || len(r.Edits) == 0 {
			t.Errorf("%s: edit distance %d with %d edits", r.ExampleID, r.EditDistance, len(r.Edits))
		}
		orig, edited := []rune(r.Text), []rune(r.CounterfactualText)
		for _, e := range r.Edits {
			if string(orig[e.Start:e.End]) != e.Word {
				t.Errorf("%s: edit span [%d,%d) of the text is %q, not %q", r.ExampleID, e.Start, e.End, string(orig[e.Start:e.End]), e.Word)
			}
			want := e.Replacement
			if e.Op == string(counterfactual.OpDelete) {
				want = ""
			}
			if string(edited[e.NewStart:e.NewEnd]) != want {
				t.Errorf("%s: new span [%d,%d) is %q, want %q", r.ExampleID, e.NewStart, e.NewEnd, string(edited[e.NewStart:e.NewEnd]), want)
			}
		}
	}
}

// On the additive fixture the logit difference is a sum over tokens, so the
// fewest word deletions that flip the prediction are the words with the
// largest terms towards it, taken until the margin changes sign: computed
// here from the ONNX initializers (token_weights, bias) and compared with the
// search's answer, which must also be marked minimal.
func TestCounterfactualAdditiveClosedForm(t *testing.T) {
	const dir = "../testdata/models/additive"
	g, err := onnxgraph.Load(dir + "/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	var weights, bias []float64
	for _, in := range g.GetGraph().GetInitializer() {
		_, f, err := onnxgraph.TensorValues(in)
		if err != nil {
			t.Fatal(err)
		}
		switch in.GetName() {
		case "token_weights":
			weights = f
		case "bias":
			bias = f
		}
	}
	if len(bias) != 2 || len(weights)%2 != 0 {
		t.Fatalf("initializers: bias %d, token_weights %d values", len(bias), len(weights))
	}
	cf := counterfactual.Config{Enabled: true, Examples: counterfactual.ExamplesAll, MaxConfidence: 1, Budget: 1 << 20, BeamWidth: 1 << 20, MaxEdits: 5, Delete: true}
	ex := openSpec(t, Spec{Model: dir, RunID: "r", Seed: 1, Target: "predicted", OutputKind: "logit", BatchSize: 64,
		Methods: []MethodConfig{{Name: "occlusion"}}, Counterfactuals: &Counterfactuals{Config: cf}})
	var recs []corpus.Record
	for _, r := range sampleRecords(t, 400) {
		if len(wordsOf(ex, r.Text)) <= 10 { // short texts: the exhaustive search stays cheap
			recs = append(recs, r)
		}
	}
	out, err := ex.Explain(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) > 0 {
		t.Fatalf("errors: %+v", out.Errors[0])
	}
	got := map[string]schemas.CounterfactualRow{}
	for _, r := range out.Counterfactuals {
		got[r.ExampleID] = r
	}
	found, none := 0, 0
	for _, rec := range recs {
		enc, err := ex.model.Encode(rec.Text)
		if err != nil {
			t.Fatal(err)
		}
		// term(i, c): token i's weight for class c; the margin of the predicted class over the other.
		term := func(i, c int) float64 { return weights[enc.IDs[i]*2+c] }
		l0, l1 := bias[0], bias[1]
		for i := range enc.IDs {
			l0 += term(i, 0)
			l1 += term(i, 1)
		}
		pred := 0
		if l1 > l0 {
			pred = 1
		}
		margin := math.Abs(l1 - l0)
		type wordTerm struct {
			word int
			d    float64
		}
		var terms []wordTerm
		for wi, w := range wordsOf(ex, rec.Text) {
			d := 0.0
			for _, ti := range w {
				d += term(ti, pred) - term(ti, 1-pred)
			}
			terms = append(terms, wordTerm{wi, d})
		}
		slices.SortStableFunc(terms, func(a, b wordTerm) int { return cmpFloat(b.d, a.d) })
		var want []int32
		sum := 0.0
		for _, tm := range terms {
			if sum > margin || tm.d <= 0 || len(want) == len(terms)-1 || len(want) == cf.MaxEdits {
				break
			}
			sum += tm.d
			want = append(want, int32(tm.word))
		}
		row, ok := got[rec.ID]
		if sum <= margin {
			if ok {
				t.Errorf("%s: no deletion set of at most %d words flips %q, got %q", rec.ID, cf.MaxEdits, rec.Text, row.CounterfactualText)
			}
			none++
			continue
		}
		// Words with equal terms (the same token twice) are interchangeable:
		// compare the removed terms, largest first.
		dOf := map[int32]float64{}
		for _, tm := range terms {
			dOf[int32(tm.word)] = tm.d
		}
		removed := func(words []int32) []float64 {
			var ds []float64
			for _, w := range words {
				ds = append(ds, dOf[w])
			}
			slices.Sort(ds)
			return ds
		}
		slices.Sort(want)
		var edits []int32
		for _, e := range row.Edits {
			edits = append(edits, e.WordIndex)
		}
		if !ok || !slices.Equal(removed(edits), removed(want)) || !row.Minimal {
			t.Errorf("%s %q (margin %.4f): deleted words %v (minimal %v), closed form %v", rec.ID, rec.Text, margin, edits, row.Minimal, want)
			continue
		}
		// The edited text's logit margin is the original's less the removed terms.
		newMargin := margin - sum
		gotMargin := math.Log(row.CounterfactualProbs[1-pred]) - math.Log(row.CounterfactualProbs[pred])
		if math.Abs(-newMargin-gotMargin) > 1e-4 {
			t.Errorf("%s: edited margin %v, closed form %v", rec.ID, gotMargin, -newMargin)
		}
		found++
	}
	if found < 10 {
		t.Fatalf("only %d counterfactuals to compare (%d without one)", found, none)
	}
	checkCounterfactualRows(t, ex, out.Counterfactuals, cf.Budget)
	t.Logf("%d counterfactuals equal the closed form, %d examples have none within %d deletions", found, none, cf.MaxEdits)
}

// wordsOf returns, per word of text, its token positions.
func wordsOf(ex *Explainer, text string) [][]int {
	enc, _ := ex.model.Encode(text)
	var out [][]int
	last := -1
	for i, w := range enc.WordIDs {
		if w < 0 {
			continue
		}
		if w != last {
			out = append(out, nil)
			last = w
		}
		out[len(out)-1] = append(out[len(out)-1], i)
	}
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// On the trained sentiment fixture, with deletions and substitutions from
// the default word list: every counterfactual flips when re-scored alone, the
// budget holds, the rows are deterministic, and only the selected examples
// are searched.
func TestCounterfactualDistilBERT(t *testing.T) {
	const dir = "../testdata/models/distilbert-sentiment"
	cf := counterfactual.DefaultConfig()
	cf.Enabled = true
	cf.Budget = 60
	spec := Spec{Model: dir, RunID: "r", Seed: 3, Target: "predicted", OutputKind: "probability", BatchSize: 32,
		Methods: []MethodConfig{{Name: "occlusion"}}, Counterfactuals: &Counterfactuals{Config: cf}}
	ex := openSpec(t, spec)
	recs := sampleRecords(t, 40)
	out, err := ex.Explain(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) > 0 {
		t.Fatalf("errors: %+v", out.Errors[0])
	}
	if len(out.Counterfactuals) < 10 {
		t.Fatalf("%d counterfactuals for %d examples", len(out.Counterfactuals), len(recs))
	}
	subs := 0
	for _, r := range out.Counterfactuals {
		if r.Guide != "occlusion" || r.Proposer != "vocabulary" {
			t.Errorf("%s: guide %q proposer %q", r.ExampleID, r.Guide, r.Proposer)
		}
		for _, e := range r.Edits {
			if e.Op == string(counterfactual.OpSubstitute) {
				subs++
				if !slices.Contains(counterfactual.DefaultVocabulary, e.Replacement) {
					t.Errorf("%s: replacement %q not in the word list", r.ExampleID, e.Replacement)
				}
			}
		}
	}
	checkCounterfactualRows(t, ex, out.Counterfactuals, cf.Budget)
	again, err := openSpec(t, spec).Explain(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(out.Counterfactuals)
	b, _ := json.Marshal(again.Counterfactuals)
	if string(a) != string(b) {
		t.Error("a second run gives other counterfactuals")
	}
	t.Logf("%d counterfactuals of %d examples, %d substitutions", len(out.Counterfactuals), len(recs), subs)

	// Mispredicted only: exactly the examples whose gold label differs.
	cf.Examples = counterfactual.ExamplesMispredicted
	spec.Counterfactuals = &Counterfactuals{Config: cf}
	mis, err := openSpec(t, spec).Explain(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	wrong := map[string]bool{}
	for _, r := range out.Rows {
		if r.GoldLabel != nil && *r.GoldLabel != r.PredictedLabel {
			wrong[r.ExampleID] = true
		}
	}
	for _, r := range mis.Counterfactuals {
		if !wrong[r.ExampleID] {
			t.Errorf("%s is predicted right but was searched", r.ExampleID)
		}
	}
	if len(wrong) == 0 {
		t.Log("no mispredicted example among the first 40")
	}
}

// Counterfactuals need a single-label classifier.
func TestCounterfactualRefusesCausalLM(t *testing.T) {
	cf := counterfactual.DefaultConfig()
	_, _, err := Open(Spec{Model: "../testdata/models/gpt2-tiny", RunID: "r", Seed: 1, Target: "predicted", BatchSize: 8,
		Methods: []MethodConfig{{Name: "occlusion"}}, Counterfactuals: &Counterfactuals{Config: cf}})
	if err == nil {
		t.Fatal("no error")
	}
}

// Minimality on the trained sentiment model, against brute force: for short
// sentences every deletion subset (all but deleting every word) is scored,
// and the search, with a beam wide enough to be exhaustive, deletes exactly
// as few words as the fewest that flip.
func TestCounterfactualMinimalBruteForce(t *testing.T) {
	cf := counterfactual.Config{Enabled: true, Examples: counterfactual.ExamplesAll, MaxConfidence: 1, Budget: 1 << 20, BeamWidth: 1 << 20, MaxEdits: 8, Delete: true}
	ex := openSpec(t, Spec{Model: "../testdata/models/distilbert-sentiment", RunID: "r", Seed: 1, Target: "predicted", OutputKind: "probability", BatchSize: 64,
		Methods: []MethodConfig{{Name: "occlusion"}}, Counterfactuals: &Counterfactuals{Config: cf}})
	var recs []corpus.Record
	for _, r := range sampleRecords(t, 600) {
		if n := len(wordsOf(ex, r.Text)); n >= 2 && n <= 8 {
			recs = append(recs, r)
		}
	}
	out, err := ex.Explain(context.Background(), recs)
	if err != nil || len(out.Errors) > 0 {
		t.Fatalf("%v %+v", err, out.Errors)
	}
	got := map[string]schemas.CounterfactualRow{}
	for _, r := range out.Counterfactuals {
		got[r.ExampleID] = r
	}
	compared := 0
	for _, rec := range recs {
		enc, _ := ex.model.Encode(rec.Text)
		var words []counterfactual.Word
		for _, w := range tokenizer.Words(enc, rec.Text) {
			words = append(words, counterfactual.Word{Text: rec.Text[w.ByteStart:w.ByteEnd], Start: w.ByteStart, End: w.ByteEnd})
		}
		orig, err := ex.classifyTexts(context.Background(), []string{rec.Text})
		if err != nil {
			t.Fatal(err)
		}
		class := argmaxOf(orig[0])
		n := len(words)
		var texts []string
		var sizes []int
		for mask := 1; mask < 1<<n-1; mask++ {
			var edits []counterfactual.Edit
			for i := range n {
				if mask&(1<<i) != 0 {
					edits = append(edits, counterfactual.Edit{Word: i, Op: counterfactual.OpDelete})
				}
			}
			text, _, err := counterfactual.Apply(rec.Text, words, edits)
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, text)
			sizes = append(sizes, len(edits))
		}
		probs, err := ex.classifyTexts(context.Background(), texts)
		if err != nil {
			t.Fatal(err)
		}
		best := 0
		for i, p := range probs {
			if argmaxOf(p) != class && (best == 0 || sizes[i] < best) {
				best = sizes[i]
			}
		}
		row, ok := got[rec.ID]
		switch {
		case best == 0 && ok:
			t.Errorf("%s: no deletion flips %q, the search found %q", rec.ID, rec.Text, row.CounterfactualText)
		case best > 0 && (!ok || int(row.EditDistance) != best || !row.Minimal):
			t.Errorf("%s %q: brute force needs %d deletions, the search found %v (%d, minimal %v)", rec.ID, rec.Text, best, ok, row.EditDistance, row.Minimal)
		case best > 0:
			compared++
		}
	}
	if compared < 5 {
		t.Fatalf("only %d examples compared", compared)
	}
	t.Logf("%d of %d short examples: the search's deletions are as few as brute force's", compared, len(recs))
}

func argmaxOf(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
