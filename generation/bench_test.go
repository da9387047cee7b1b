package generation

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/glassbox-ai/glassbox/inference"
)

// benchDir holds the GPT-2-small-sized random exports made by
// `.cache/pyenv-optimum/bin/python scripts/make_generation_fixtures.py --bench`.
const benchDir = "../.cache/bench/gpt2-small-random"

// benchPrompt is 35 tokens under the gpt2-tiny tokenizer the bench models use.
const benchPrompt = "Emma Woodhouse, handsome, clever, and rich, with a comfortable home and happy disposition, seemed to"

// BenchmarkGenerate32 generates 32 tokens (greedy, no stop tokens) for one
// prompt on a GPT-2-small-sized model (12 layers, 768 hidden, vocab 50257):
// through the with-past export's cache, the same export by full passes, and
// the no-past export by full passes.
//
//	go test -run '^$' -bench Generate32 -benchtime 3x ./generation
func BenchmarkGenerate32(b *testing.B) {
	if _, err := os.Stat(filepath.Join(benchDir, "with-past", "model.onnx")); err != nil {
		b.Skipf("no bench models (%v): run .cache/pyenv-optimum/bin/python scripts/make_generation_fixtures.py --bench", err)
	}
	o := DefaultOptions()
	o.MaxNewTokens, o.StopTokens = 32, []int64{}
	for _, c := range []struct {
		name    string
		path    string
		noCache bool
	}{
		{"with-past/cache", filepath.Join(benchDir, "with-past", "model.onnx"), false},
		{"with-past/full-passes", filepath.Join(benchDir, "with-past", "model.onnx"), true},
		{"no-past/full-passes", benchDir, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			m, err := inference.Load(c.path)
			if err != nil {
				b.Fatal(err)
			}
			sess, err := m.NewSession(inference.SessionOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer sess.Close()
			g, err := New(sess)
			if err != nil {
				b.Fatal(err)
			}
			g.NoCache = c.noCache
			enc, err := m.Encode(benchPrompt)
			if err != nil {
				b.Fatal(err)
			}
			prompt := m.InputFromEncoding(enc).IDs
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := g.Generate(context.Background(), [][]int64{prompt}, nil, o)
				if err != nil {
					b.Fatal(err)
				}
				if len(res[0].Steps) != 32 {
					b.Fatalf("%d tokens generated", len(res[0].Steps))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/32, "ms/token")
		})
	}
}
