package explainer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/onnxgraph"
)

// BenchmarkMethods reports rows/s of each method on the DistilBERT-base-sized
// model (`make bench-models`) at 64 tokens; it falls back to the small fixture.
func BenchmarkMethods(b *testing.B) {
	dir := "../.cache/models/distilbert-base-random"
	if _, err := os.Stat(filepath.Join(dir, "model.onnx")); err != nil {
		dir = "../testdata/models/distilbert-sentiment"
	}
	// 62 words of one token each + [CLS] and [SEP] = 64 tokens.
	text := strings.TrimSpace(strings.Repeat("the good man was not bad ", 11))
	words := strings.Fields(text)[:62]
	text = strings.Join(words, " ")
	for _, name := range []string{"occlusion", "kernelshap", "lime", "attention", "rollout", "flow"} {
		b.Run(name, func(b *testing.B) {
			spec := Spec{Model: dir, RunID: "bench", Seed: 1, Target: "predicted", OutputKind: "probability", BatchSize: 64, Methods: []MethodConfig{{Name: name}}}
			if spec.NeedsAttention() {
				var err error
				spec.GraphPath, spec.AttentionOutputs, err = onnxgraph.ExposeAttentionFile(filepath.Join(dir, "model.onnx"), b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
			}
			ex, closeFn, err := Open(spec)
			if err != nil {
				b.Fatal(err)
			}
			defer closeFn()
			rec := corpus.Record{ID: "x", Text: text, Source: "bench", Line: 1}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rec.ID = fmt.Sprint(i)
				out, err := ex.Explain(context.Background(), []corpus.Record{rec})
				if err != nil || len(out.Rows) != 1 || len(out.Rows[0].Tokens) != 64 {
					b.Fatalf("explain: %v, %d rows", err, len(out.Rows))
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
