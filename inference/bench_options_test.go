package inference

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

// BenchmarkSessionOptions compares ONNX Runtime settings on the workloads
// Glassbox gives a session: perturbation batches (32 rows of 32 tokens, what
// KernelSHAP and LIME send) and single rows (16 tokens, a prediction or an
// occlusion step), on the distilbert-sentiment fixture and the real MiniLM-L6
// classifier (.cache/bench/minilm-cls). It reports the session's opening time
// (open-ms), rows per second and CPU milliseconds per row (all threads: on a
// shared machine the comparable figure). Settings: graph optimisation level
// (all, extended, basic, none), the CPU arena and memory patterns off, and
// intra-op threads 1 against ONNX Runtime's choice (one per core).
func BenchmarkSessionOptions(b *testing.B) {
	tunings := []struct {
		name    string
		t       ortTuning
		threads int
	}{
		{"all", ortTuning{level: ort.GraphOptimizationLevelEnableAll}, 0},
		{"extended", ortTuning{level: ort.GraphOptimizationLevelEnableExtended}, 0},
		{"basic", ortTuning{level: ort.GraphOptimizationLevelEnableBasic}, 0},
		{"none", ortTuning{level: ort.GraphOptimizationLevelDisableAll}, 0},
		{"all-noarena-nomem", ortTuning{level: ort.GraphOptimizationLevelEnableAll, noArena: true, noMem: true}, 0},
		{"all-1thread", ortTuning{level: ort.GraphOptimizationLevelEnableAll}, 1},
	}
	for _, dir := range []string{"../testdata/models/distilbert-sentiment", "../.cache/bench/minilm-cls"} {
		if _, err := os.Stat(filepath.Join(dir, ModelFile)); err != nil {
			continue
		}
		m, err := Load(dir)
		if err != nil {
			b.Fatal(err)
		}
		for _, w := range []struct{ batch, seq int }{{32, 32}, {1, 16}} {
			rows := benchRows(m, w.batch, w.seq)
			for i := range rows {
				for j := range rows[i].IDs {
					rows[i].IDs[j] %= int64(m.Tokenizer.MaxID() + 1)
				}
			}
			for _, tu := range tunings {
				name := fmt.Sprintf("%s/batch=%d/len=%d/%s", filepath.Base(dir), w.batch, w.seq, tu.name)
				b.Run(name, func(b *testing.B) {
					t := tu.t
					start := time.Now()
					sess, err := m.NewSession(SessionOptions{IntraOpThreads: tu.threads, tuning: &t})
					if err != nil {
						b.Fatal(err)
					}
					open := time.Since(start)
					defer sess.Close()
					ctx := context.Background()
					b.ResetTimer()
					cpu0 := cpuTime()
					for b.Loop() {
						if _, err := sess.Run(ctx, rows); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(open.Milliseconds()), "open-ms")
					b.ReportMetric(float64(b.N*w.batch)/b.Elapsed().Seconds(), "rows/s")
					b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N*w.batch), "cpu-ms/row")
				})
			}
		}
	}
}

// BenchmarkThreadsVsParallelism runs perturbation batches (32 rows of 32
// tokens) from `callers` goroutines at once on one shared session, as Beam's
// concurrent bundles do in a worker, with ONNX Runtime's intra-op threads at
// its default (one per core) or 1. rows/s is the session's total throughput.
func BenchmarkThreadsVsParallelism(b *testing.B) {
	dir := "../testdata/models/distilbert-sentiment"
	if d := os.Getenv("GLASSBOX_BENCH_MODEL"); d != "" {
		dir = d
	}
	m, err := Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	rows := benchRows(m, 32, 32)
	for i := range rows {
		for j := range rows[i].IDs {
			rows[i].IDs[j] %= int64(m.Tokenizer.MaxID() + 1)
		}
	}
	for _, callers := range []int{1, 2, 4} {
		for _, threads := range []int{0, 1} {
			b.Run(fmt.Sprintf("callers=%d/intra-op=%d", callers, threads), func(b *testing.B) {
				sess, err := m.NewSession(SessionOptions{IntraOpThreads: threads})
				if err != nil {
					b.Fatal(err)
				}
				defer sess.Close()
				ctx := context.Background()
				b.SetParallelism(callers)
				cpu0 := cpuTime()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := sess.Run(ctx, rows); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N*32)/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N*32), "cpu-ms/row")
			})
		}
	}
}
