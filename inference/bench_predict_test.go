package inference

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
)

// benchTexts reads the first n texts of the sample corpus.
func benchTexts(b *testing.B, n int) []string {
	f, err := os.Open("../testdata/sample/austen-sentiment.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var texts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(texts) < n {
		var r struct{ Text string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			b.Fatal(err)
		}
		texts = append(texts, r.Text)
	}
	return texts
}

// BenchmarkPredictCausal is `glassbox predict`'s loop (tokenize, length-grouped
// batches of 32, top-5 next tokens) on 200 sample sentences with a causal LM;
// scripts/bench-predict-causal.sh sets GLASSBOX_BENCH_MODEL and runs ORT's
// Python API on the same export and sentences (scripts/bench-predict-causal.py).
func BenchmarkPredictCausal(b *testing.B) {
	dir := os.Getenv("GLASSBOX_BENCH_MODEL")
	if dir == "" {
		dir = "../testdata/models/gpt2-tiny"
	}
	if _, err := os.Stat(filepath.Join(dir, ModelFile)); err != nil {
		b.Skipf("no model at %s", dir)
	}
	m, err := Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	sess, err := m.NewSession(SessionOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	texts := benchTexts(b, 200)
	ctx := context.Background()
	for b.Loop() {
		inputs := make([]explanation.Input, len(texts))
		for i, t := range texts {
			enc, err := m.Encode(t)
			if err != nil {
				b.Fatal(err)
			}
			inputs[i] = m.InputFromEncoding(enc)
		}
		if _, err := sess.Predict(ctx, inputs, DefaultBatchSize, 5); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/200-sentences")
}
