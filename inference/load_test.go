package inference

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
)

const distilbert = "../testdata/models/distilbert-sentiment"

// copyModel copies a fixture folder so a test can break one file.
func copyModel(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	for _, f := range []string{ModelFile, TokenizerFile, ConfigFile} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func editConfig(t *testing.T, dir string, edit func(map[string]any)) {
	t.Helper()
	p := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, _ = json.Marshal(m)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLoadErrorsNameFileAndField checks that a folder that does not fit gets
// an error naming the file and the field.
func TestLoadErrorsNameFileAndField(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  []string
	}{
		{"missing config", func(t *testing.T, d string) { os.Remove(filepath.Join(d, ConfigFile)) }, []string{"config.json", "missing"}},
		{"missing tokenizer", func(t *testing.T, d string) { os.Remove(filepath.Join(d, TokenizerFile)) }, []string{"tokenizer.json", "missing"}},
		{"missing model", func(t *testing.T, d string) { os.Remove(filepath.Join(d, ModelFile)) }, []string{"model.onnx", "missing"}},
		{"no model_type", func(t *testing.T, d string) { editConfig(t, d, func(m map[string]any) { delete(m, "model_type") }) }, []string{"config.json", "model_type"}},
		{"bad id2label", func(t *testing.T, d string) {
			editConfig(t, d, func(m map[string]any) { m["id2label"] = map[string]any{"0": "A", "2": "B"} })
		}, []string{"config.json", "id2label"}},
		{"label count", func(t *testing.T, d string) {
			editConfig(t, d, func(m map[string]any) {
				m["id2label"] = map[string]any{"0": "A", "1": "B", "2": "C"}
				delete(m, "label2id")
			})
		}, []string{"config.json", "id2label", "3 labels"}},
		{"no max length", func(t *testing.T, d string) {
			editConfig(t, d, func(m map[string]any) { delete(m, "max_position_embeddings") })
		}, []string{"config.json", "max_position_embeddings"}},
		{"bad problem type", func(t *testing.T, d string) {
			editConfig(t, d, func(m map[string]any) { m["problem_type"] = "ranking" })
		}, []string{"config.json", "problem_type"}},
		{"config not json", func(t *testing.T, d string) { os.WriteFile(filepath.Join(d, ConfigFile), []byte("{"), 0o644) }, []string{"config.json"}},
		{"tokenizer not json", func(t *testing.T, d string) { os.WriteFile(filepath.Join(d, TokenizerFile), []byte("nope"), 0o644) }, []string{"tokenizer.json"}},
		{"model not onnx", func(t *testing.T, d string) { os.WriteFile(filepath.Join(d, ModelFile), []byte("nope"), 0o644) }, []string{"model.onnx"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyModel(t, distilbert)
			tc.setup(t, dir)
			_, err := Load(dir)
			if err == nil {
				t.Fatal("loaded a broken model folder")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := Load(filepath.Join(distilbert, ConfigFile)); err == nil || !strings.Contains(err.Error(), "neither a folder nor an .onnx file") {
		t.Errorf("a file as model folder: %v", err)
	}
}

func TestLoadDiscoversGraph(t *testing.T) {
	m, err := Load(distilbert)
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != SequenceClassification || m.Output != "logits" {
		t.Errorf("kind %s output %s", m.Kind, m.Output)
	}
	if strings.Join(m.Inputs, ",") != "input_ids,attention_mask" {
		t.Errorf("inputs %v", m.Inputs)
	}
	if strings.Join(m.Labels, ",") != "NEGATIVE,POSITIVE" || m.MaxLength != 128 {
		t.Errorf("labels %v max %d", m.Labels, m.MaxLength)
	}
	if !m.HasMaskToken || m.MaskID != 103 || m.PadID != 0 {
		t.Errorf("mask %v %d pad %d", m.HasMaskToken, m.MaskID, m.PadID)
	}
}

func TestProbabilities(t *testing.T) {
	logits := []float64{1, -2, 0.5}
	soft := Probabilities(logits, SingleLabel)
	var sum float64
	for _, p := range soft {
		sum += p
	}
	if math.Abs(sum-1) > 1e-15 || math.Abs(soft[0]-math.Exp(1)/(math.Exp(1)+math.Exp(-2)+math.Exp(0.5))) > 1e-15 {
		t.Errorf("softmax %v", soft)
	}
	sig := Probabilities(logits, MultiLabel)
	if math.Abs(sig[1]-1/(1+math.Exp(2))) > 1e-15 {
		t.Errorf("sigmoid %v", sig)
	}
	if reg := Probabilities(logits, Regression); reg[1] != -2 {
		t.Errorf("regression %v", reg)
	}
	if got := LogSoftmaxAt([]float32{1, 2, 3}, 2); math.Abs(got-(3-math.Log(math.Exp(1)+math.Exp(2)+math.Exp(3)))) > 1e-12 {
		t.Errorf("log softmax %v", got)
	}
}

// TestScorersAgreeWithPredict checks the class scorer's probability and logit against Predict.
func TestScorersAgreeWithPredict(t *testing.T) {
	m, sess := openFixture(t, distilbert)
	var inputs []explanation.Input
	for _, s := range []string{"A wonderful day.", "It was dreadful and sad, truly awful.", "Fine."} {
		enc, err := m.Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, m.InputFromEncoding(enc))
	}
	preds, err := sess.Predict(context.Background(), inputs, 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	for class := range m.Labels {
		for _, kind := range []OutputKind{Probability, Logit} {
			sc, err := sess.ClassScorer(class, kind, 2)
			if err != nil {
				t.Fatal(err)
			}
			got, err := sc.Score(context.Background(), inputs)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range preds {
				want := p.Probs[class]
				if kind == Logit {
					want = p.Logits[class]
				}
				if math.Abs(got[i]-want) > 1e-6 {
					t.Errorf("class %d %s row %d: %v, Predict %v", class, kind, i, got[i], want)
				}
			}
		}
	}
	if _, err := sess.ClassScorer(5, Probability, 2); err == nil {
		t.Error("class out of range accepted")
	}
	if _, err := sess.NextTokenScorer(0, 0, 2); err == nil {
		t.Error("next-token scorer on a classifier accepted")
	}
}

// TestLengthGroupingWaste checks that grouping a mixed-length corpus by length
// keeps padding waste under 10% at the usual batch sizes.
func TestLengthGroupingWaste(t *testing.T) {
	m, err := Load(distilbert)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../testdata/sample/austen-sentiment.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lengths []int
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var row struct{ Text string }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		enc, err := m.Encode(row.Text)
		if err != nil {
			t.Fatal(err)
		}
		lengths = append(lengths, enc.Len())
	}
	if len(lengths) < 500 {
		t.Fatalf("only %d rows", len(lengths))
	}
	for _, bs := range []int{8, 32} {
		naive := make([][]int, 0)
		for s := 0; s < len(lengths); s += bs {
			var b []int
			for i := s; i < min(s+bs, len(lengths)); i++ {
				b = append(b, i)
			}
			naive = append(naive, b)
		}
		grouped := GroupByLength(lengths, bs, SimilarLength)
		w, wn := PaddingWaste(lengths, grouped), PaddingWaste(lengths, naive)
		if w >= 0.10 {
			t.Errorf("batch %d: padding waste %.3f (unsorted %.3f)", bs, w, wn)
		}
		seen := map[int]bool{}
		for _, b := range grouped {
			if len(b) > bs {
				t.Errorf("batch of %d > %d", len(b), bs)
			}
			for _, i := range b {
				seen[i] = true
			}
		}
		if len(seen) != len(lengths) {
			t.Errorf("grouping lost rows: %d of %d", len(seen), len(lengths))
		}
		t.Logf("batch %d: padding waste %.4f grouped, %.4f in input order", bs, w, wn)
	}
}

// TestTopTokens checks the one-pass top-k against a full sort, ties included.
func TestTopTokens(t *testing.T) {
	m, err := Load("../testdata/models/gpt2-tiny")
	if err != nil {
		t.Fatal(err)
	}
	logits := []float32{0.5, 2, -1, 2, 3, 0.5, 2, -4}
	got := topTokens(m, logits, 5)
	wantIDs := []int{4, 1, 3, 6, 0} // 3, then the three 2s by id, then the first 0.5
	var sum float64
	for _, z := range logits {
		sum += math.Exp(float64(z))
	}
	if len(got) != len(wantIDs) {
		t.Fatalf("%d tokens", len(got))
	}
	for i, tp := range got {
		if tp.ID != wantIDs[i] || math.Abs(tp.Prob-math.Exp(float64(logits[tp.ID]))/sum) > 1e-12 {
			t.Errorf("rank %d: %+v, want id %d", i, tp, wantIDs[i])
		}
	}
	if n := len(topTokens(m, logits[:3], 5)); n != 3 {
		t.Errorf("k beyond the vocabulary: %d tokens", n)
	}
}

func TestGroupByEqualLength(t *testing.T) {
	lengths := []int{5, 3, 5, 3, 5, 7, 3}
	got := GroupByLength(lengths, 2, EqualLength)
	want := [][]int{{1, 3}, {6}, {0, 2}, {4}, {5}}
	if len(got) != len(want) {
		t.Fatalf("batches %v, want %v", got, want)
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("batches %v, want %v", got, want)
		}
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("batches %v, want %v", got, want)
			}
		}
	}
}
