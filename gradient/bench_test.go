package gradient

import (
	"path/filepath"
	"testing"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/glassbox-ai/glassbox/ortlib"
)

// BenchmarkDistilBERTBackwardVsForward times one backward run (target and
// gradient, Probability target) against one forward run of the original model
// at batch 50 × 32 tokens on distilbert-sentiment, and reports their ratio.
func BenchmarkDistilBERTBackwardVsForward(b *testing.B) {
	const batch, seq = 50, 32
	path := filepath.Join(gradModelsDir, "distilbert-sentiment", "model.onnx")
	g, err := BuildFile(path, Spec{Target: Probability, Batch: batch, Seq: seq})
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(g, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := ortlib.Init(); err != nil {
		b.Fatal(err)
	}
	fwd, err := ort.NewDynamicAdvancedSession(path, []string{"input_ids", "attention_mask"}, []string{"logits"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer fwd.Destroy()
	ids := make([]int64, batch*seq)
	mask := make([]int64, batch*seq)
	for k := range ids {
		ids[k] = int64(1000 + (k*7919)%20000)
		mask[k] = 1
	}
	emb, err := g.EmbeddingRows(ids)
	if err != nil {
		b.Fatal(err)
	}
	in := Inputs{Embeds: emb, Mask: mask, Index: make([]int64, batch)}
	idT, err := ort.NewTensor(ort.NewShape(batch, seq), ids)
	if err != nil {
		b.Fatal(err)
	}
	defer idT.Destroy()
	maskT, err := ort.NewTensor(ort.NewShape(batch, seq), mask)
	if err != nil {
		b.Fatal(err)
	}
	defer maskT.Destroy()
	var tf, tb time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		outs := []ort.Value{nil}
		if err := fwd.Run([]ort.Value{idT, maskT}, outs); err != nil {
			b.Fatal(err)
		}
		outs[0].Destroy()
		t1 := time.Now()
		if _, err := s.Run(in); err != nil {
			b.Fatal(err)
		}
		tf += t1.Sub(t0)
		tb += time.Since(t1)
	}
	b.ReportMetric(float64(tf.Nanoseconds())/float64(b.N), "ns/forward")
	b.ReportMetric(float64(tb.Nanoseconds())/float64(b.N), "ns/backward")
	b.ReportMetric(float64(tb)/float64(tf), "backward/forward")
}
