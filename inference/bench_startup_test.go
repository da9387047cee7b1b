package inference

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/glassbox-ai/glassbox/explanation"
)

// BenchmarkStartup is a one-sentence `glassbox predict` without the CLI: load
// the model folder (config, tokenizer, checks, input/output discovery), open a
// session, tokenize and predict one sentence, close. The BPE-50k cases are the
// models of scripts/make-bench-gpt2.py (GPT-2-sized byte-level BPE tokenizer).
// cpu-ms/op is the CPU time per start-up, all threads.
func BenchmarkStartup(b *testing.B) {
	for _, c := range []struct{ name, dir string }{
		{"roberta-tiny", "../testdata/models/roberta-tiny"},
		{"gpt2-tiny", "../testdata/models/gpt2-tiny"},
		{"distilbert-sentiment", "../testdata/models/distilbert-sentiment"},
		{"gpt2-bpe50k", "../.cache/bench/gpt2-bpe50k"},
		{"minilm-cls", "../.cache/bench/minilm-cls"},
	} {
		if _, err := os.Stat(filepath.Join(c.dir, ModelFile)); err != nil {
			continue
		}
		b.Run(c.name, func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				m, err := Load(c.dir)
				if err != nil {
					b.Fatal(err)
				}
				sess, err := m.NewSession(SessionOptions{})
				if err != nil {
					b.Fatal(err)
				}
				enc, err := m.Encode("A one-sentence test of start-up time, with some words.")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := sess.Predict(context.Background(), []explanation.Input{m.InputFromEncoding(enc)}, 1, 5); err != nil {
					b.Fatal(err)
				}
				sess.Close()
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the process's user+system CPU time (all threads, ONNX Runtime's
// included): on a shared machine it gives the cost that wall-clock time,
// stretched by other processes, does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
