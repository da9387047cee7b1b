package tokenizer

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time: on a shared machine it
// measures the cost per core, which wall-clock MB/s cannot.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEncode encodes the English corpus (testdata/tokenizers/english.txt.gz,
// about 170 KB of license texts) line by line, reporting MB/s, MB per CPU
// second (one core's throughput, independent of machine load), tokens/s and
// allocations per token.
func BenchmarkEncode(b *testing.B) {
	corpus := string(readGz(b, "english.txt.gz"))
	lines := strings.Split(corpus, "\n")
	for _, fam := range []struct{ name, file string }{
		{"WordPiece", "bert-base-uncased.json.gz"},
		{"ByteLevelBPE", "gpt2.json.gz"},
		{"Unigram", "unigram.json.gz"},
	} {
		b.Run(fam.name, func(b *testing.B) {
			tk := loadPatched(b, fam.file, nil)
			b.SetBytes(int64(len(corpus)))
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			tokens := 0
			for i := 0; i < b.N; i++ {
				for _, l := range lines {
					enc, err := tk.Encode(l, true)
					if err != nil {
						b.Fatal(err)
					}
					tokens += enc.Len()
				}
			}
			b.StopTimer()
			if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
				b.ReportMetric(float64(len(corpus))*float64(b.N)/1e6/cpu, "MB/cpu-s")
			}
			sec := b.Elapsed().Seconds()
			if sec > 0 {
				b.ReportMetric(float64(tokens)/sec, "tokens/s")
			}
			if tokens > 0 {
				b.ReportMetric(float64(testing.AllocsPerRun(1, func() {
					for _, l := range lines[:200] {
						if _, err := tk.Encode(l, true); err != nil {
							b.Fatal(err)
						}
					}
				}))/float64(tokens/b.N)*float64(len(lines))/200, "allocs/token")
			}
		})
	}
}
