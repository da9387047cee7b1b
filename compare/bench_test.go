package compare

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/schemas"
)

// BenchmarkCompare100k compares two synthetic runs of 100,000 examples (two
// methods, 24 words each; 4 shards against 7) and reports the peak Go heap
// (sampled) and the written files' size:
//
//	go test -run '^$' -bench Compare100k -benchtime 1x ./compare
//
// GLASSBOX_COMPARE_N changes the number of examples.
func BenchmarkCompare100k(b *testing.B) {
	n := 100000
	if s := os.Getenv("GLASSBOX_COMPARE_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	root := b.TempDir()
	words := make([]string, 24)
	for i := range words {
		words[i] = fmt.Sprintf("w%02d", i)
	}
	text := strings.Join(words, " ")
	write := func(dir string, shards int, shift float64) {
		by := make([][]schemas.ExplanationRow, shards)
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("ex-%07d", i)
			attr := make([]float64, len(words))
			for j := range attr {
				attr[j] = float64((i*7+j*13)%29) + shift*float64(j%3)
			}
			s := i % shards
			for _, m := range []string{"kernelshap", "occlusion"} {
				by[s] = append(by[s], exRow(id, text, "POSITIVE", []float64{0.3, 0.7}, m, "POSITIVE", 0.7, attr))
			}
		}
		for s, rows := range by {
			if err := parquetsink.WriteRows(context.Background(), parquetsink.Local(), parquetsink.ShardName(dir, schemas.ExplanationsPrefix, s, shards), rows); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, schemas.ManifestFile), []byte(`{"run_id":"`+filepath.Base(dir)+`"}`), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	write(filepath.Join(root, "a"), 4, 0)
	write(filepath.Join(root, "b"), 7, 5)
	runtime.GC()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		stop := make(chan struct{})
		peak := make(chan uint64)
		go func() {
			var m runtime.MemStats
			var p uint64
			for {
				runtime.ReadMemStats(&m)
				p = max(p, m.HeapAlloc)
				select {
				case <-stop:
					peak <- p
					return
				default:
					runtime.Gosched()
				}
			}
		}()
		res := runCompare(b, filepath.Join(root, "a"), filepath.Join(root, "b"), Options{})
		out := filepath.Join(root, "out")
		if err := Write(context.Background(), parquetsink.Local(), out, res); err != nil {
			b.Fatal(err)
		}
		close(stop)
		b.ReportMetric(float64(<-peak)/(1<<20), "peak-heap-MiB")
		if res.Summary.Common != n || res.Summary.AttributionPairs != 2*n {
			b.Fatalf("%+v", res.Summary)
		}
	}
}
