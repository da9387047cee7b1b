package tokenizer

import (
	"os"
	"testing"
)

// BenchmarkParse parses GPT-2's tokenizer.json (50,257 tokens, 50,000 merges as
// "a b" strings) and, when scripts/make-bench-gpt2.py has made it, a byte-level
// BPE of the same size whose merges are [a, b] pairs: the start-up cost of a
// RoBERTa/GPT-2-sized tokenizer. cpu-ms/op is CPU time per parse, which a
// loaded machine's wall clock does not give.
func BenchmarkParse(b *testing.B) {
	files := map[string][]byte{"gpt2-string-merges": readGz(b, "gpt2.json.gz")}
	if data, err := os.ReadFile("../.cache/bench/bpe50k-tokenizer.json"); err == nil {
		files["bpe50k-pair-merges"] = data
	}
	for _, name := range []string{"gpt2-string-merges", "bpe50k-pair-merges"} {
		data, ok := files[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := Parse(data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}
