package onnxgraph

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/glassbox-ai/glassbox/ortlib"
)

// benchModelPath is the DistilBERT-base-sized model made by scripts/ (git-ignored);
// ONNXGRAPH_BENCH_MODEL points the benchmark at another model.
func benchModelPath() string {
	if p := os.Getenv("ONNXGRAPH_BENCH_MODEL"); p != "" {
		return p
	}
	return filepath.Join("..", ".cache", "models", "distilbert-base-random", "model.onnx")
}

const benchSeq = 128

// benchSession is one ONNX Runtime session with its inputs ready.
type benchSession struct {
	sess    *ort.DynamicAdvancedSession
	inputs  []ort.Value
	outputs int
}

func newBenchSession(b *testing.B, model []byte, outputs []string) *benchSession {
	b.Helper()
	m, err := Parse(model)
	if err != nil {
		b.Fatal(err)
	}
	g, err := NewGraph(m)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var names []string
	var values []ort.Value
	for _, vi := range g.RealInputs() {
		data := make([]int64, benchSeq)
		for i := range data {
			switch vi.GetName() {
			case "input_ids":
				data[i] = 1 + rng.Int64N(999) // below every fixture's vocabulary size
			case "attention_mask":
				data[i] = 1
			case "position_ids":
				data[i] = int64(i)
			}
		}
		tensor, err := ort.NewTensor(ort.NewShape(1, benchSeq), data)
		if err != nil {
			b.Fatal(err)
		}
		names = append(names, vi.GetName())
		values = append(values, tensor)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		b.Fatal(err)
	}
	defer opts.Destroy()
	// One thread keeps the comparison stable on a shared 2-core machine.
	if err := opts.SetIntraOpNumThreads(1); err != nil {
		b.Fatal(err)
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		b.Fatal(err)
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(model, names, outputs, opts)
	if err != nil {
		b.Fatal(err)
	}
	bs := &benchSession{sess: sess, inputs: values, outputs: len(outputs)}
	b.Cleanup(func() {
		sess.Destroy()
		for _, v := range values {
			v.Destroy()
		}
	})
	return bs
}

func (s *benchSession) run(b *testing.B) {
	outs := make([]ort.Value, s.outputs)
	if err := s.sess.Run(s.inputs, outs); err != nil {
		b.Fatal(err)
	}
	for _, o := range outs {
		o.Destroy()
	}
}

// BenchmarkAttentionOverhead times a forward pass at 128 tokens without and with the
// exposed attention outputs, alternating the two so machine noise hits both alike,
// and reports their ratio (target < 1.3).
func BenchmarkAttentionOverhead(b *testing.B) {
	path := benchModelPath()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("benchmark model %s not available: %v", path, err)
	}
	if err := ortlib.Init(); err != nil {
		b.Fatal(err)
	}
	m, err := Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	edited, names, err := ExposeAttention(m)
	if err != nil {
		b.Fatal(err)
	}
	editedData, err := Marshal(edited)
	if err != nil {
		b.Fatal(err)
	}
	plain := newBenchSession(b, data, outputNames(m))
	withAttn := newBenchSession(b, editedData, append(outputNames(m), names...))
	plain.run(b) // warm up both sessions
	withAttn.run(b)
	var tPlain, tAttn time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		plain.run(b)
		t1 := time.Now()
		withAttn.run(b)
		tAttn += time.Since(t1)
		tPlain += t1.Sub(t0)
	}
	b.ReportMetric(float64(tPlain.Nanoseconds())/float64(b.N)/1e6, "ms-plain/op")
	b.ReportMetric(float64(tAttn.Nanoseconds())/float64(b.N)/1e6, "ms-attention/op")
	b.ReportMetric(float64(tAttn)/float64(tPlain), "ratio")
}
